"""The Locatietoets Processing algorithms, one per module."""
