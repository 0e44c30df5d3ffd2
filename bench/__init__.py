"""Benchmarks: each prints one JSON line of measured figures; run with `python -m bench.<name>`."""
