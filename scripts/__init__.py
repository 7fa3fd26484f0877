"""Benchmarks, run from the repository root as modules: `python -m scripts.bench_pipeline`."""
