"""Benchmarks against baselines measured in the same run (`locatietoets benchmark`, ...)."""
