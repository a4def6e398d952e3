"""Reading, validating and writing layers (EPSG:28992); the only place that touches files."""
