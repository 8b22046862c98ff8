"""Evaluation harness and benchmarks: `python -m eval`, `python -m eval.bench`."""
