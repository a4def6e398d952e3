"""What a planner publishes from a run: maps, the woonvisie report, the QGIS style of the result."""
