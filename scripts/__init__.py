"""Command line of the Locatietoets engine."""
