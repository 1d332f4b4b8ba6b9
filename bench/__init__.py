"""Benchmarks that print figures; run each as ``python -m bench.<name>``. Not part of pytest."""
