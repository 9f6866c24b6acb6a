"""Benchmarks of the exporter: `python -m bench` runs them all and writes BENCHMARKS.md."""
