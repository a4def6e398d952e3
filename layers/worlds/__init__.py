"""Synthetic worlds: the fictional demo region, shared by the demo, the benchmarks and the tests."""
