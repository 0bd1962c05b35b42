"""Simulation benchmarks: replications of the example scenario, and the engines' speed ratio.

Run from the repository root with ``python -m bench.sim`` (``make bench`` runs it after the
others). In one process:

fast
    The example scenario (750,000 people), 100 replications × 365 measured days (after its 35
    warm-up days) with the numba engine on a process pool over every core. Target: at most
    30 s wall time (the first replication, timed in-process for the estimate, includes any JIT
    compilation).

ratio
    Seconds per replication-year of the SimPy reference engine (``--simpy-replications``
    replications of the same 365 days, in this process) ÷ the fast engine's in-process seconds
    per replication-year (median of replications after warm-up). Target: at least 50×.

memory
    Peak resident memory of this process (``resource.getrusage``; the pool's workers are
    separate processes, reported as the largest child) and tracemalloc's peak of Python
    allocations while the fast run's replications are summarised (outside the timed run:
    tracing slows every allocation).

Results go to ``bench/results/sim.json``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

from bench.run import RESULTS, machine_info, median, write_json
from flowplan.sim import compile_scenario, example_scenario
from flowplan.sim.runner import replication_streams, resolve_engine, run_scenario, summarise

FAST_TARGET_S = 30.0
RATIO_TARGET = 50.0
DAYS = 365


def _rss_mib(who: int) -> float:
    # ru_maxrss is KiB on Linux
    return round(resource.getrusage(who).ru_maxrss / 1024.0, 1)


def bench_fast(replications: int, workers: int | None) -> dict[str, Any]:
    scenario = example_scenario()
    started = time.perf_counter()
    result = run_scenario(
        scenario,
        replications=replications,
        seed=20250407,
        days=DAYS,
        engine="fast",
        executor="process",
        workers=workers,
    )
    wall = time.perf_counter() - started
    tracemalloc.start()  # Python allocations while the results are summarised (not timed)
    s = summarise(result.replications)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "scenario": scenario.name,
        "replications": result.n,
        "days": result.days,
        "warmup_days": result.warmup_days,
        "workers": result.timings.workers,
        "wall_s": round(wall, 3),
        "estimate_s": round(result.timings.estimate_s, 3),
        "first_replication_s": round(result.timings.replication_s[0], 3),
        "replication_s_median": round(median(result.timings.replication_s[1:]), 4),
        "events_per_replication": round(result.timings.events / max(1, result.n)),
        "target_s_max": FAST_TARGET_S,
        "pass": wall <= FAST_TARGET_S,
        "kpis": {
            k: [round(float(s.loc[k, c]), 3) for c in ("mean", "ci_low", "ci_high")]
            for k in (
                "ed.four_hour_pct",
                "ward.occupancy_mean_pct",
                "ward.nctr_mean",
                "ambulance.handover_over_30_pct",
            )
        },
        "tracemalloc_peak_mib": round(traced_peak / 2**20, 1),
    }


def bench_ratio(simpy_replications: int, fast_replications: int) -> dict[str, Any]:
    compiled = compile_scenario(example_scenario(), DAYS)
    years = (compiled.days + compiled.warmup_days) / 365.0
    fast = resolve_engine("fast")
    fast(compiled, replication_streams(1, 0, compiled.n_queues))  # JIT warm-up
    fast_times = []
    for i in range(fast_replications):
        rngs = replication_streams(1, i, compiled.n_queues)
        t0 = time.perf_counter()
        fast(compiled, rngs)
        fast_times.append(time.perf_counter() - t0)
    ref = resolve_engine("simpy")
    simpy_times = []
    for i in range(simpy_replications):
        rngs = replication_streams(1, i, compiled.n_queues)
        t0 = time.perf_counter()
        ref(compiled, rngs)
        simpy_times.append(time.perf_counter() - t0)
    fast_per_year = median(fast_times) / years
    simpy_per_year = median(simpy_times) / years
    ratio = simpy_per_year / fast_per_year
    return {
        "simulated_years_per_replication": round(years, 3),
        "fast_replications": fast_replications,
        "fast_s_per_replication_year_median": round(fast_per_year, 4),
        "simpy_replications": simpy_replications,
        "simpy_s_per_replication_year_median": round(simpy_per_year, 3),
        "ratio_simpy_over_fast": round(ratio, 1),
        "target_ratio_min": RATIO_TARGET,
        "pass": ratio >= RATIO_TARGET,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--simpy-replications", type=int, default=2)
    parser.add_argument("--fast-replications", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    fast = bench_fast(args.replications, args.workers)
    print(
        f"fast: {fast['replications']} × {DAYS} days on {fast['workers']} workers in "
        f"{fast['wall_s']:.1f} s (target ≤ {FAST_TARGET_S:g} s: "
        f"{'PASS' if fast['pass'] else 'FAIL'})"
    )
    ratio = bench_ratio(args.simpy_replications, args.fast_replications)
    print(
        f"ratio: SimPy {ratio['simpy_s_per_replication_year_median']:.2f} s vs fast "
        f"{ratio['fast_s_per_replication_year_median']:.3f} s per replication-year = "
        f"{ratio['ratio_simpy_over_fast']:.0f}× (target ≥ {RATIO_TARGET:g}×: "
        f"{'PASS' if ratio['pass'] else 'FAIL'})"
    )
    memory = {
        "peak_rss_mib_self": _rss_mib(resource.RUSAGE_SELF),
        "peak_rss_mib_largest_child": _rss_mib(resource.RUSAGE_CHILDREN),
        "tracemalloc_peak_mib_fast_run": fast.pop("tracemalloc_peak_mib"),
    }
    print(f"memory: {memory}")
    doc = {
        "machine": machine_info(),
        "cpus": os.cpu_count(),
        "fast": fast,
        "ratio": ratio,
        "memory": memory,
        "total_s": round(time.perf_counter() - started, 1),
    }
    write_json(RESULTS / "sim.json", doc)
    print(f"results: {RESULTS / 'sim.json'}")
    return 0 if fast["pass"] and ratio["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
