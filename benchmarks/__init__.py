"""Reproducible benchmarks; each one records its command and figures in RESULTS.md."""
