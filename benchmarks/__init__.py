"""Benchmarks: each ``bench_*.py`` measures ours against a baseline in the same run."""
