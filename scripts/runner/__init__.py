"""The runner: a config turned into inputs, scored by the pipeline and written as a run.

``prepare`` reads the rule set, the layers and the road network once; ``score`` runs the
pipeline (all at once or in blocks) and writes a run folder; ``distributed`` does the same on a
dask cluster; ``partitions`` holds what the block and dask engines share. The planning analyses
(``capacity``, ``comparison``, ``raster``, ``business``) and the sensitivity analysis
(``sensitivity``) are runners too: the command line (``scripts.cli``, ``scripts.planning``) only
parses options and prints.
"""
