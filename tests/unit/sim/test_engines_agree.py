"""The fast engine and the SimPy reference implement the same model (docs/simulation.md).

Both engines run the example scenario (a 150,000 population, 56 measured days after 21 days of
warm-up) for 10 replications each on independent seeds; for every KPI that both define, their
95 % confidence intervals across replications must overlap. The fast engine also gives the same
results on a process pool as run sequentially.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from flowplan.sim import compile_scenario, example_scenario
from flowplan.sim.runner import run_scenario

REPLICATIONS = 10


@pytest.fixture(scope="module")
def both() -> tuple[pd.DataFrame, pd.DataFrame]:
    compiled = compile_scenario(example_scenario(150_000), days=56, warmup_days=21)
    fast = run_scenario(
        compiled, replications=REPLICATIONS, seed=11, engine="fast", executor="sequential"
    )
    reference = run_scenario(
        compiled, replications=REPLICATIONS, seed=12, engine="simpy", executor="sequential"
    )
    return fast.summary, reference.summary


def test_every_kpi_agrees_within_the_95pct_intervals(
    both: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    fast, reference = both
    assert list(fast.index) == list(reference.index)
    compared, disagree = 0, []
    for kpi in fast.index:
        a, b = fast.loc[kpi], reference.loc[kpi]
        if any(math.isnan(float(x)) for x in (a["mean"], b["mean"])):
            assert math.isnan(float(a["mean"])) == math.isnan(float(b["mean"])), kpi
            continue
        compared += 1
        if a["ci_high"] < b["ci_low"] or b["ci_high"] < a["ci_low"]:
            disagree.append(f"{kpi}: fast {a['mean']:.4g} vs SimPy {b['mean']:.4g}")
    assert disagree == []
    assert compared >= 80  # the whole-system KPIs, not just a few


def test_key_kpis_are_in_a_plausible_range(both: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    fast, _ = both
    assert 80 <= fast.loc["ward.occupancy_mean_pct", "mean"] <= 99
    assert 85 <= fast.loc["ed.four_hour_pct", "mean"] <= 100
    assert fast.loc["nhs111.abandon_pct", "mean"] < 20


def test_process_pool_equals_sequential_with_the_fast_engine() -> None:
    compiled = compile_scenario(example_scenario(60_000), days=14, warmup_days=7)
    sequential = run_scenario(
        compiled, replications=4, seed=5, engine="fast", executor="sequential"
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = run_scenario(compiled, replications=4, seed=5, engine="fast", executor=pool)
    pd.testing.assert_frame_equal(sequential.replications, pooled.replications)
    pd.testing.assert_frame_equal(sequential.daily, pooled.daily)
