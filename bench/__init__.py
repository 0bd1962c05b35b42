"""flowplan's benchmarks: run them with ``python -m bench.run`` (or ``make bench``)."""
