"""Benchmarks of the Pacific Assets pipelines: `make bench` (python -m bench.run). See docs/benchmarks.md."""
