"""Forecasting benchmarks: flowplan's default model against the statsforecast baselines.

Run from the repository root with ``python -m bench.forecast`` (``--quick`` for a small smoke
run that writes nothing). Three measurements, on the shipped public data:

daily
    Trust daily discharges (breakdown "all", ``england_trust_discharged_patients.csv``). Series
    selected by a fixed rule, decided before any result was seen: every trust with all 1,249
    days from 2022-04-01 to 2025-08-31, at most 3 zero days (a zero is a day the trust did not
    report) and a median of at least 20 discharges a day. Rolling origin: 28-day horizon, 12
    origins 28 days apart (the last window ends on the last day). Models: default and the four
    statsforecast baselines (SeasonalNaive, AutoETS, AutoARIMA, MSTL). Targets: mean MASE of
    the default model at most 0.90 × that of the best baseline; 80 % and 95 % interval coverage
    within ±0.03 of nominal.
monthly
    Trust monthly A&E attendances, all types (``england_trust_accidents_emergency.csv``): every
    trust with all 52 months from 2021-04 to 2025-07 and a median of at least 1,000 attendances
    a month (which leaves out trusts whose A&E closed or never opened). 6-month horizon, 12
    origins one month apart. Same models and targets.
timing
    Every trust's monthly A&E attendances (all types summed) in the NHS-R ``ae_attendances``
    file (2016-04 to 2019-03), the ≈ 270 trust series the issue refers to: a 6-month horizon, 6
    origins one month apart, default model only, one process. Series shorter than one window
    after 13 months of training are left out and counted. Target: at most 60 s in all.

The daily and monthly comparisons run series in parallel over the machine's cores (each fit
single-threaded, as statsforecast's ``n_jobs=1``); per-fit seconds are measured inside the
workers. Results go to ``bench/results/forecast.json`` with per-series rows.

None of these series were used while designing the default model: it was developed on the
other complete daily discharge series (those with more zero days, or smaller) and their monthly
totals, on the first 35 months of the trust A&E series (before the first monthly test window)
and on the NHS-R file. Each series is fitted on its own: the default model pools nothing across
series (pooling month-of-year effects across trusts was tried on the development sets and did
not help; see docs/performance.md).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.run import RESULTS, machine_info, write_json
from flowplan.data.readers import read
from flowplan.demand.backtest import DEFAULT_MODELS, backtest
from flowplan.demo import repo_data_dir

MASE_RATIO_TARGET = 0.90
COVERAGE_TOLERANCE = 0.03
TIMING_TARGET_S = 60.0
BASELINES = ("seasonal_naive", "ets", "arima", "mstl")
DAILY_DAYS = 1249
MONTHLY_MONTHS = 52
LIBRARIES = ("statsforecast", "coreforecast", "holidays", "numpy", "pandas", "scipy")


def _nhs(name: str) -> Path:
    return repo_data_dir() / "public" / "nhs_england_operational" / name


def daily_series() -> dict[str, pd.DataFrame]:
    """Trust daily discharges meeting the selection rule (see the module docstring)."""
    obs = read("discharges", _nhs("england_trust_discharged_patients.csv")).observations
    obs = obs[obs["breakdown"] == "all"]
    out = {}
    for org, group in obs.groupby("org_code", sort=True):
        values = group["value"].to_numpy(float)
        if len(values) == DAILY_DAYS and (values == 0).sum() <= 3 and np.median(values) >= 20:
            out[str(org)] = group[["period_start", "value"]].reset_index(drop=True)
    return out


def monthly_series() -> dict[str, pd.DataFrame]:
    """Trust monthly A&E attendances meeting the selection rule."""
    obs = read("trust_ae", _nhs("england_trust_accidents_emergency.csv")).observations
    obs = obs[obs["measure"] == "ae_attendances"]
    out = {}
    for org, group in obs.groupby("org_code", sort=True):
        values = group["value"].to_numpy(float)
        if len(values) == MONTHLY_MONTHS and np.median(values) >= 1000:
            out[str(org)] = group[["period_start", "value"]].reset_index(drop=True)
    return out


def nhsr_series() -> dict[str, pd.DataFrame]:
    """Every trust in the NHS-R A&E file, attendances of all types summed by month."""
    path = repo_data_dir() / "public" / "nhsr_ae_attendances" / "ae_attendances.csv"
    obs = read("nhsr_ae_attendances", path).observations
    obs = obs[obs["measure"] == "ae_attendances"]
    summed = obs.groupby(["org_code", "period_start"], as_index=False)["value"].sum()
    out: dict[str, pd.DataFrame] = {}
    for org, group in summed.groupby("org_code", sort=True):
        out[str(org)] = pd.DataFrame(group[["period_start", "value"]]).reset_index(drop=True)
    return out


def _one(job: tuple[str, pd.DataFrame, str, int, int, int, tuple[str, ...]]) -> pd.DataFrame:
    uid, frame, grain, horizon, windows, step, models = job
    return backtest({uid: frame}, grain, horizon, windows, step, models=models).per_series


def compare(
    series: dict[str, pd.DataFrame],
    grain: str,
    horizon: int,
    windows: int,
    step: int,
    models: Sequence[str],
    workers: int,
) -> tuple[pd.DataFrame, float]:
    """Per-series backtest rows for every model, and the wall seconds taken."""
    jobs = [(u, f, grain, horizon, windows, step, tuple(models)) for u, f in series.items()]
    started = time.perf_counter()
    if workers > 1:
        # Fresh (spawned) workers with one BLAS thread each: one process per core already
        # fills the machine, and several linear-algebra threads per process would only contend.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_one, jobs))
    else:
        parts = [_one(j) for j in jobs]
    return pd.concat(parts, ignore_index=True), time.perf_counter() - started


def summarise(per_series: pd.DataFrame, models: Sequence[str]) -> dict[str, Any]:
    """Means by model, the ratio of the default's MASE to the best baseline's, pass/fail."""
    by_model: dict[str, dict[str, float]] = {}
    for name in models:
        part = per_series[per_series["model"] == name]
        points = part["points"].to_numpy(float)
        by_model[name] = {
            "series": len(part),
            "mase": round(float(part["mase"].mean()), 4),
            "mase_median": round(float(part["mase"].median()), 4),
            "rmsse": round(float(part["rmsse"].mean()), 4),
            "coverage_80": round(float((part["coverage_80"] * points).sum() / points.sum()), 4),
            "coverage_95": round(float((part["coverage_95"] * points).sum() / points.sum()), 4),
            "pinball": round(float(part["pinball"].mean()), 4),
            "fit_seconds_mean": round(float(part["fit_seconds"].mean()), 4),
        }
    out: dict[str, Any] = {"by_model": by_model}
    baselines = [b for b in BASELINES if b in by_model]
    if "default" in by_model and baselines:
        best = min(baselines, key=lambda b: by_model[b]["mase"])
        ratio = by_model["default"]["mase"] / by_model[best]["mase"]
        pivot = per_series.pivot(index="unique_id", columns="model", values="mase")
        wins = int((pivot["default"] < pivot[baselines].min(axis=1)).sum())
        cov80 = by_model["default"]["coverage_80"]
        cov95 = by_model["default"]["coverage_95"]
        out.update(
            {
                "best_baseline": best,
                "mase_ratio_default_over_best": round(ratio, 4),
                "mase_ratio_target_max": MASE_RATIO_TARGET,
                "series_where_default_beats_every_baseline": wins,
                "accuracy_pass": ratio <= MASE_RATIO_TARGET,
                "coverage_tolerance": COVERAGE_TOLERANCE,
                "coverage_pass": abs(cov80 - 0.80) <= COVERAGE_TOLERANCE
                and abs(cov95 - 0.95) <= COVERAGE_TOLERANCE,
            }
        )
        out["pass"] = out["accuracy_pass"] and out["coverage_pass"]
    return out


def _rows(per_series: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [
        "unique_id",
        "model",
        "windows",
        "mase",
        "rmsse",
        "coverage_80",
        "coverage_95",
        "pinball",
        "fit_seconds",
    ]
    table = per_series[cols].copy()
    for c in cols[3:]:
        table[c] = table[c].astype(float).round(4)
    return [{str(k): v for k, v in row.items()} for row in table.to_dict(orient="records")]


def bench_comparison(
    label: str,
    series: dict[str, pd.DataFrame],
    grain: str,
    horizon: int,
    windows: int,
    step: int,
    models: Sequence[str],
    workers: int,
) -> dict[str, Any]:
    print(
        f"{label}: {len(series)} series × {windows} origins × {len(models)} models "
        f"({grain}, horizon {horizon}) ..."
    )
    per_series, wall = compare(series, grain, horizon, windows, step, models, workers)
    result = {
        "series": len(series),
        "grain": grain,
        "horizon": horizon,
        "windows": windows,
        "step": step,
        "models": list(models),
        "workers": workers,
        "wall_seconds": round(wall, 2),
        **summarise(per_series, models),
        "per_series": _rows(per_series),
    }
    _print_summary(label, result)
    return result


def bench_timing(series: dict[str, pd.DataFrame], horizon: int, windows: int) -> dict[str, Any]:
    print(f"timing: {len(series)} monthly series × {windows} origins, default model only ...")
    started = time.perf_counter()
    result = backtest(series, "month", horizon, windows, 1, models=["default"], min_train=13)
    seconds = time.perf_counter() - started
    per = result.per_series
    fits = int(per["windows"].sum()) if len(per) else 0
    left_out = [n for n in result.notes if "left out" in n]
    out = {
        "series_in_file": len(series),
        "series_backtested": len(per),
        "series_left_out": len(left_out),
        "series_with_fewer_windows": len(result.notes) - len(left_out),
        "fits": fits,
        "horizon": horizon,
        "windows": windows,
        "total_seconds": round(seconds, 2),
        "ms_per_fit": round(1000.0 * seconds / max(fits, 1), 2),
        "mase_mean": round(float(per["mase"].mean()), 4),
        "coverage_80": round(
            float((per["coverage_80"] * per["points"]).sum() / per["points"].sum()), 4
        ),
        "coverage_95": round(
            float((per["coverage_95"] * per["points"]).sum() / per["points"].sum()), 4
        ),
        "target_s_max": TIMING_TARGET_S,
        "pass": seconds <= TIMING_TARGET_S,
    }
    print(
        f"timing: {out['series_backtested']} of {out['series_in_file']} series, {fits} fits in "
        f"{seconds:.1f} s ({out['ms_per_fit']:.1f} ms per fit) — target ≤ {TIMING_TARGET_S:g} s: "
        f"{'PASS' if out['pass'] else 'FAIL'}"
    )
    return out


def _print_summary(label: str, result: dict[str, Any]) -> None:
    head = ("model", "MASE", "RMSSE", "cov80", "cov95", "pinball", "s/fit")
    print("  {:<15} {:>7} {:>7} {:>6} {:>6} {:>8} {:>7}".format(*head))
    for name, row in result["by_model"].items():
        print(
            f"  {name:<15} {row['mase']:7.3f} {row['rmsse']:7.3f} {row['coverage_80']:6.3f} "
            f"{row['coverage_95']:6.3f} {row['pinball']:8.4f} {row['fit_seconds_mean']:7.3f}"
        )
    if "mase_ratio_default_over_best" in result:
        print(
            f"  default ÷ best baseline ({result['best_baseline']}) MASE = "
            f"{result['mase_ratio_default_over_best']:.3f} (target ≤ {MASE_RATIO_TARGET}): "
            f"{'PASS' if result['accuracy_pass'] else 'FAIL'}; coverage within "
            f"±{COVERAGE_TOLERANCE}: {'PASS' if result['coverage_pass'] else 'FAIL'}; "
            f"{result['wall_seconds']:.0f} s"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.forecast", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few series and origins; prints, writes nothing"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes for the comparisons (default: CPUs)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(1, args.workers or usable or 1)
    started = time.perf_counter()

    daily = daily_series()
    monthly = monthly_series()
    nhsr = nhsr_series()
    d_windows, m_windows, t_windows = 12, 12, 6
    if args.quick:
        daily = dict(list(daily.items())[:4])
        monthly = dict(list(monthly.items())[:12])
        nhsr = dict(list(nhsr.items())[:40])
        d_windows, m_windows, t_windows = 3, 4, 3
    models = DEFAULT_MODELS
    doc: dict[str, Any] = {
        "benchmark": "demand forecasting: default model vs statsforecast baselines",
        "machine": machine_info(),
        "forecast_libraries": {name: _version(name) for name in LIBRARIES},
        "quick": args.quick,
    }
    doc["daily"] = bench_comparison("daily", daily, "day", 28, d_windows, 28, models, workers)
    doc["monthly"] = bench_comparison("monthly", monthly, "month", 6, m_windows, 1, models, workers)
    doc["timing"] = bench_timing(nhsr, 6, t_windows)
    doc["total_seconds"] = round(time.perf_counter() - started, 1)
    doc["pass"] = bool(
        doc["daily"].get("pass") and doc["monthly"].get("pass") and doc["timing"]["pass"]
    )
    print(f"whole run {doc['total_seconds']:.0f} s")
    if not args.quick:
        write_json(RESULTS / "forecast.json", doc)
        print(f"results in {Path('bench/results/forecast.json')}")
    return 1 if args.check and not doc["pass"] else 0


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
