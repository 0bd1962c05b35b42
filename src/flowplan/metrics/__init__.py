"""Metrics: definitions as data (registry), value = numerator ÷ denominator × scale (compute), the
consistency check of published tables (check), trajectories, benchmarking and SPC.

Engines here take plain numbers and frames and return typed results; the only file they read is
the packaged metric definitions (``metrics/definitions/*.toml``).
"""
