"""Reading, validating and writing layers and run files: the config, the input layers, the road
network, the rule-set files, and the staged outputs of a run (EPSG:28992 throughout)."""
