"""Analytic capacity engine: queueing, beds, staffing to demand and elective waiting lists.

Engines here take plain numbers, arrays and frames and return typed results; they never open files
or the store (the CLI and the store adapters do that).
"""
