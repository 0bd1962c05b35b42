"""Capacity-engine benchmarks: waiting-list projection at scale, and Erlang C for large c.

Run from the repository root with ``python -m bench.capacity`` (``make bench`` runs it after
``bench.run``). Each measurement has a baseline taken in the same process:

projection
    Every STP × specialty waiting list in the shipped RTT data (the latest month of the
    over-18/over-52-week waits by treatment function, with the STP's list and flows apportioned
    by each specialty's share of over-18-week waiters, as ``flowplan waitinglist --stp
    --specialty`` does) is spread by weeks waited and projected 104 weeks ahead in one batch
    (``project_many``). Target: at most 5 s. Baseline: the same lists projected one at a time
    with ``project`` (ratio batch / loop).

erlang
    ``erlang_c(c, 0.95 c)`` for c from 1 to 2,000: median microseconds per call, no overflow
    (finite, within [0, 1]). Target: at most 1 ms per call. Baseline: the textbook O(c) Erlang B
    recursion in pure Python for the same (c, a) (ratio).

Results go to ``bench/results/capacity.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.run import RESULTS, machine_info, median, write_json
from flowplan.capacity.queueing import erlang_c
from flowplan.capacity.waitinglist import N_BUCKETS, project, project_many, spread_total
from flowplan.data.readers import read
from flowplan.demo import repo_data_dir

PROJECTION_TARGET_S = 5.0
ERLANG_TARGET_US = 1000.0
WEEKS = 104
SERVERS = (1, 10, 100, 500, 1000, 2000)


def stp_specialty_lists() -> dict[str, Any]:
    """Starting lists and weekly flows of every STP × specialty in the shipped RTT data."""
    nhs = repo_data_dir() / "public" / "nhs_england_operational"
    flows = read("rtt_flow_stp", nhs / "england_rtt_flow_stp.csv").observations
    waits = read("rtt_waits_stp", nhs / "england_rtt_stp.csv").observations
    wide = flows.pivot_table(
        index=["org_code", "period_start"], columns="measure", values="value"
    ).reset_index()
    wide["weeks"] = wide["period_start"].dt.days_in_month / 7.0
    recent = wide.sort_values("period_start").groupby("org_code").tail(12)
    per_week = recent.groupby("org_code").apply(
        lambda g: pd.Series(
            {
                "referrals": g["rtt_clock_starts"].sum() / g["weeks"].sum(),
                "capacity": g["rtt_completed"].sum() / g["weeks"].sum(),
            }
        ),
        include_groups=False,
    )
    latest_list = wide.sort_values("period_start").groupby("org_code").tail(1)
    latest_list = latest_list.set_index("org_code")
    waits = waits[waits["period_start"] == waits["period_start"].max()]
    w = waits.pivot_table(
        index=["org_code", "breakdown"], columns="measure", values="value"
    ).reset_index()
    totals = w[w["breakdown"] == "Total"].set_index("org_code")["rtt_waiting_over_18w"]
    specs = w[(w["breakdown"] != "Total") & w["org_code"].isin(latest_list.index)].copy()
    specs = specs[specs["org_code"].map(totals).fillna(0) > 0]
    share = specs["rtt_waiting_over_18w"] / specs["org_code"].map(totals)
    specs["total"] = share * specs["org_code"].map(latest_list["rtt_waiting_list"])
    specs["referrals"] = share * specs["org_code"].map(per_week["referrals"])
    specs["capacity"] = share * specs["org_code"].map(per_week["capacity"])
    return {
        "labels": list(zip(specs["org_code"], specs["breakdown"], strict=True)),
        "total": specs["total"].to_numpy(float),
        "over_18": specs["rtt_waiting_over_18w"].to_numpy(float),
        "over_52": specs["rtt_waiting_over_52w"].fillna(0).to_numpy(float),
        "referrals": specs["referrals"].to_numpy(float),
        "capacity": specs["capacity"].to_numpy(float),
        "month": str(waits["period_start"].max().date()),
    }


def bench_projection(repeats: int) -> dict[str, Any]:
    lists = stp_specialty_lists()
    n = len(lists["labels"])
    spread_times, batch_times, loop_times = [], [], []
    final = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        initial = np.vstack(
            [
                spread_total(t, over_18=min(o18, t), over_52=min(o52, o18, t))
                for t, o18, o52 in zip(
                    lists["total"], lists["over_18"], lists["over_52"], strict=True
                )
            ]
        )
        t1 = time.perf_counter()
        referrals = np.repeat(lists["referrals"][:, None], WEEKS, axis=1)
        capacity = np.repeat(lists["capacity"][:, None], WEEKS, axis=1)
        batch = project_many(initial, referrals, capacity, WEEKS, removal_rate=0.01)
        t2 = time.perf_counter()
        for i in range(n):
            project(initial[i], referrals[i], capacity[i], WEEKS, removal_rate=0.01)
        t3 = time.perf_counter()
        spread_times.append(t1 - t0)
        batch_times.append(t2 - t1)
        loop_times.append(t3 - t2)
        final = batch
    assert final is not None
    batch_s, loop_s, spread_s = median(batch_times), median(loop_times), median(spread_times)
    total_s = spread_s + batch_s
    return {
        "lists": n,
        "stps": len({s for s, _ in lists["labels"]}),
        "as_at": lists["month"],
        "weeks": WEEKS,
        "buckets": N_BUCKETS,
        "spread_s_median": round(spread_s, 4),
        "project_many_s_median": round(batch_s, 4),
        "total_s_median": round(total_s, 4),
        "baseline_project_one_by_one_s_median": round(loop_s, 4),
        "ratio_batch_over_loop": round(batch_s / loop_s, 4),
        "patients_projected": round(float(final.list_size[:, 0].sum())),
        "target_s_max": PROJECTION_TARGET_S,
        "pass": total_s <= PROJECTION_TARGET_S,
    }


def _erlang_b_textbook(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def _erlang_c_textbook(c: int, a: float) -> float:
    b = _erlang_b_textbook(c, a)
    return c * b / (c - a * (1.0 - b))


def _per_call_us(fn: Callable[[], float], calls: int) -> float:
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(samples)


def bench_erlang() -> dict[str, Any]:
    rows = []
    for c in SERVERS:
        a = 0.95 * c
        value = erlang_c(c, a)
        reference = _erlang_c_textbook(c, a)
        ours = _per_call_us(lambda c=c, a=a: erlang_c(c, a), 2000)
        textbook = _per_call_us(lambda c=c, a=a: _erlang_c_textbook(c, a), 50)
        rows.append(
            {
                "servers": c,
                "offered_load": a,
                "erlang_c": value,
                "finite_in_0_1": bool(np.isfinite(value) and 0.0 <= value <= 1.0),
                "abs_diff_vs_textbook": abs(value - reference),
                "us_per_call_median": round(ours, 2),
                "baseline_textbook_us_per_call": round(textbook, 2),
                "ratio_over_textbook": round(ours / textbook, 4),
            }
        )
    worst = max(r["us_per_call_median"] for r in rows)
    return {
        "cases": rows,
        "worst_us_per_call": worst,
        "target_us_max": ERLANG_TARGET_US,
        "pass": worst <= ERLANG_TARGET_US and all(r["finite_in_0_1"] for r in rows),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=3, help="projection runs (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    projection = bench_projection(max(1, args.repeats))
    erlang = bench_erlang()
    doc = {
        "benchmark": "capacity engine: waiting-list projection and Erlang C",
        "machine": machine_info(),
        "projection": projection,
        "erlang": erlang,
        "pass": projection["pass"] and erlang["pass"],
    }
    write_json(RESULTS / "capacity.json", doc)
    print(
        f"projection: {projection['lists']} STP × specialty lists × {WEEKS} weeks in "
        f"{projection['total_s_median']:.3f} s (spread {projection['spread_s_median']:.3f} s + "
        f"project {projection['project_many_s_median']:.3f} s; one by one "
        f"{projection['baseline_project_one_by_one_s_median']:.2f} s) — target ≤ "
        f"{PROJECTION_TARGET_S:g} s: {'PASS' if projection['pass'] else 'FAIL'}"
    )
    print(
        f"erlang C: worst {erlang['worst_us_per_call']:.1f} µs per call for c ≤ 2,000 "
        f"(textbook recursion at c = 2,000: "
        f"{erlang['cases'][-1]['baseline_textbook_us_per_call']:.0f} µs) — target ≤ 1 ms: "
        f"{'PASS' if erlang['pass'] else 'FAIL'}"
    )
    print(f"results in {Path('bench/results/capacity.json')}")
    return 1 if args.check and not doc["pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
