"""What a planner publishes from a run: maps, the woonvisie report, the planning pages, the
capacity map, rasters and the QGIS style of the result."""
