"""Locatietoets analysis engine: pure functions on GeoDataFrames (no file I/O, no QGIS)."""
