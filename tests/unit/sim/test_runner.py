"""The replication runner: CI maths, stream independence of N and executor, auto stop, CRN."""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from flowplan.errors import UsageError
from flowplan.sim import (
    CompiledScenario,
    compile_scenario,
    generate_arrivals,
    queue_scenario,
    replication_generators,
)
from flowplan.sim.output import ReplicationOutput
from flowplan.sim.runner import (
    compare_runs,
    compare_scenarios,
    replication_streams,
    run_scenario,
    summarise,
    t_interval,
)


def toy_engine(
    compiled: CompiledScenario, rngs: Sequence[np.random.Generator]
) -> ReplicationOutput:
    """A stand-in engine: queue arrivals per day from the queue's stream, plus noise per KPI.

    Deterministic given the generators; depends on the scenario through the rates and servers.
    """
    keys = tuple(compiled.kpi_names())
    q = 5  # first queue row of ``rate``
    arrivals = generate_arrivals(compiled.rate[q], rngs[16])
    day = np.floor(arrivals / 24.0).astype(np.int64) - compiled.warmup_days
    counts = np.bincount(day[day >= 0], minlength=compiled.days)[: compiled.days]
    daily = rngs[17].random((compiled.days, len(keys))) + compiled.capacity[9, 0]
    daily[:, keys.index("queue.arrivals")] = counts
    undefined = [k for k, name in enumerate(keys) if not name.startswith("queue.")]
    daily[:, undefined] = np.nan  # no ED, wards... in a queue scenario
    overall = daily.mean(axis=0)
    overall[keys.index("queue.arrivals")] = float(counts.sum())
    return ReplicationOutput(keys, overall.astype(np.float64), daily, events=int(arrivals.size))


SCENARIO = queue_scenario(arrival_rate=2.0, service_mean=0.4, servers=1)


def test_t_interval_matches_scipy() -> None:
    x = np.array([3.1, 2.7, 3.9, 4.4, 2.2, 3.3, np.nan])
    mean, low, high, n = t_interval(x)
    finite = x[np.isfinite(x)]
    ref_low, ref_high = stats.t.interval(
        0.95, len(finite) - 1, loc=finite.mean(), scale=stats.sem(finite)
    )
    assert n == 6
    assert mean == pytest.approx(19.6 / 6)
    assert low == pytest.approx(ref_low, rel=1e-12)
    assert high == pytest.approx(ref_high, rel=1e-12)
    # half-width by hand: t(0.975, 5) = 2.5706 × sd / √6
    assert (high - low) / 2 == pytest.approx(2.570582 * finite.std(ddof=1) / math.sqrt(6), 1e-6)


def test_t_interval_edge_cases() -> None:
    assert t_interval([5.0])[0] == 5.0 and math.isnan(t_interval([5.0])[1])
    assert t_interval([np.nan, np.nan])[3] == 0
    assert t_interval([2.0, 2.0, 2.0])[1:3] == (2.0, 2.0)


def test_summarise_columns_and_values() -> None:
    frame = pd.DataFrame({"replication": [0, 1, 2], "a": [1.0, 2.0, 3.0], "b": [np.nan] * 3})
    s = summarise(frame)
    assert list(s.columns) == ["mean", "ci_low", "ci_high", "n"]
    assert list(s.index) == ["a", "b"]
    assert s.loc["a", "mean"] == 2.0
    assert s.loc["a", "ci_high"] == pytest.approx(2.0 + stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))
    assert s.loc["b", "n"] == 0


@pytest.mark.parametrize("n", [1, 3, 7])
def test_replication_streams_equal_replication_generators(n: int) -> None:
    for i in range(n):
        ours = replication_streams(1234, i, n_queues=2)
        ref = replication_generators(1234, n, n_queues=2)[i]
        assert len(ours) == len(ref) == 20
        for a, b in zip(ours, ref, strict=True):
            assert a.random(3).tolist() == b.random(3).tolist()


def test_run_result_frames() -> None:
    result = run_scenario(
        SCENARIO, replications=3, seed=7, days=5, warmup=1, engine=toy_engine, executor="sequential"
    )
    keys = compile_scenario(SCENARIO, 5, 1).kpi_names()
    assert list(result.replications.columns) == ["replication", *keys]
    assert result.replications["replication"].tolist() == [0, 1, 2]
    assert list(result.daily.columns[:3]) == ["replication", "day", "date"]
    assert len(result.daily) == 15
    # day 0 of the measured period is start_date + 1 warm-up day (2025-01-06 + 1)
    assert str(result.daily["date"].iloc[0].date()) == "2025-01-07"
    assert result.daily["day"].tolist()[:6] == [0, 1, 2, 3, 4, 0]
    assert result.summary.loc["queue.arrivals", "n"] == 3
    # ~2 arrivals an hour × 24 × 5 days = 240 a replication
    assert 180 < result.summary.loc["queue.arrivals", "mean"] < 300
    assert result.summary.loc["ed.four_hour_pct", "n"] == 0
    assert result.timings.events == int(result.replications["queue.arrivals"].sum()) or (
        result.timings.events > 0
    )
    assert len(result.timings.replication_s) == 3


def test_replication_i_is_independent_of_n_and_executor() -> None:
    kwargs = {"seed": 99, "days": 4, "warmup": 1, "engine": toy_engine}
    seq2 = run_scenario(SCENARIO, replications=2, executor="sequential", **kwargs)
    seq5 = run_scenario(SCENARIO, replications=5, executor="sequential", **kwargs)
    proc = run_scenario(SCENARIO, replications=5, executor="process", workers=2, **kwargs)
    with ProcessPoolExecutor(max_workers=2) as pool:
        given = run_scenario(SCENARIO, replications=5, executor=pool, **kwargs)
    pd.testing.assert_frame_equal(seq2.replications, seq5.replications.iloc[:2])
    pd.testing.assert_frame_equal(seq5.replications, proc.replications)
    pd.testing.assert_frame_equal(seq5.replications, given.replications)
    pd.testing.assert_frame_equal(seq5.daily, proc.daily)
    assert proc.timings.executor == "process" and proc.timings.workers == 2
    # a different seed gives different replications
    other = run_scenario(SCENARIO, replications=2, executor="sequential", **{**kwargs, "seed": 98})
    assert not np.array_equal(
        other.replications["queue.arrivals"], seq2.replications["queue.arrivals"]
    )


def test_dask_executor_equals_sequential() -> None:
    distributed = pytest.importorskip("distributed")
    kwargs = {"seed": 5, "days": 3, "warmup": 1, "engine": toy_engine}
    seq = run_scenario(SCENARIO, replications=4, executor="sequential", **kwargs)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = run_scenario(
            SCENARIO, replications=4, executor="dask", scheduler=cluster.scheduler_address, **kwargs
        )
    assert result.timings.executor == "dask"
    pd.testing.assert_frame_equal(seq.replications, result.replications)
    pd.testing.assert_frame_equal(seq.daily, result.daily)


def test_auto_replications_stop_rule() -> None:
    kwargs = {"seed": 3, "days": 3, "warmup": 0, "engine": toy_engine, "executor": "sequential"}
    # loose relative tolerance: the first batch (auto_min) is enough
    loose = run_scenario(
        SCENARIO,
        replications="auto",
        auto_kpis=["queue.arrivals"],
        auto_tolerance=0.5,
        auto_min=4,
        **kwargs,
    )
    assert loose.n == 4 and loose.auto is not None and loose.auto.reached
    hw = loose.auto.half_widths["queue.arrivals"]
    s = loose.summary.loc["queue.arrivals"]
    assert hw == pytest.approx((s["ci_high"] - s["ci_low"]) / 2)
    assert hw <= 0.5 * s["mean"]
    # tight tolerance: more batches until the half-width is within 2 % of the mean
    tight = run_scenario(
        SCENARIO,
        replications="auto",
        auto_kpis=["queue.arrivals"],
        auto_tolerance=0.02,
        auto_min=4,
        max_replications=400,
        **kwargs,
    )
    assert tight.auto is not None and tight.auto.reached
    assert tight.n > 4
    t = tight.summary.loc["queue.arrivals"]
    assert (t["ci_high"] - t["ci_low"]) / 2 <= 0.02 * t["mean"]
    # the first replications are the same as in the loose run
    pd.testing.assert_frame_equal(tight.replications.iloc[:4], loose.replications)
    # absolute tolerance unreachable: stops at the maximum
    capped = run_scenario(
        SCENARIO,
        replications="auto",
        auto_kpis=["queue.arrivals"],
        auto_tolerance=1e-6,
        auto_relative=False,
        auto_min=3,
        max_replications=6,
        **kwargs,
    )
    assert capped.n == 6 and capped.auto is not None and not capped.auto.reached


def test_auto_default_kpis_for_a_queue() -> None:
    result = run_scenario(
        SCENARIO,
        replications="auto",
        seed=1,
        days=2,
        warmup=0,
        engine=toy_engine,
        executor="sequential",
        auto_tolerance=0.5,
        auto_min=3,
    )
    assert result.auto is not None
    assert "queue.utilisation" in result.auto.kpis
    assert "ed.four_hour_pct" not in result.auto.kpis


def test_compare_identical_scenarios_gives_zero_difference() -> None:
    table = compare_scenarios(
        SCENARIO,
        [SCENARIO],
        replications=4,
        seed=11,
        days=3,
        warmup=1,
        engine=toy_engine,
        executor="sequential",
    )
    assert set(table["scenario"]) == {"queue_2"}
    defined = table[table["n"] > 0]
    assert sorted(defined["kpi"]) == sorted(k for k in table["kpi"] if k.startswith("queue."))
    assert len(defined) == 7
    assert (defined["diff_mean"] == 0.0).all()
    assert (defined["ci_low"] == 0.0).all() and (defined["ci_high"] == 0.0).all()


def test_compare_paired_difference_of_a_scheme() -> None:
    more = queue_scenario(arrival_rate=2.0, service_mean=0.4, servers=3)
    opts = {"seed": 11, "days": 3, "warmup": 1, "engine": toy_engine, "executor": "sequential"}
    base = run_scenario(SCENARIO, replications=4, **opts)
    other = run_scenario(more, replications=4, **opts)
    table = compare_runs(base, {"three_servers": other}).set_index("kpi")
    # the toy adds servers (capacity row 9) to every noise KPI: +2 in every replication
    row = table.loc["queue.utilisation"]
    assert row["diff_mean"] == pytest.approx(2.0)
    assert row["ci_low"] == pytest.approx(2.0) and row["ci_high"] == pytest.approx(2.0)
    assert row["pct_change"] == pytest.approx(100 * 2.0 / row["base_mean"])
    # same arrivals (common random numbers): zero difference
    assert table.loc["queue.arrivals", "diff_mean"] == 0.0
    with pytest.raises(UsageError, match="seed"):
        compare_runs(base, {"x": run_scenario(more, replications=4, **{**opts, "seed": 12})})


def test_bad_arguments() -> None:
    with pytest.raises(UsageError, match="replications"):
        run_scenario(SCENARIO, replications=0, engine=toy_engine, executor="sequential")
    with pytest.raises(UsageError, match="engine"):
        run_scenario(SCENARIO, replications=1, engine="nope", days=1)
    with pytest.raises(UsageError, match="executor"):
        run_scenario(SCENARIO, replications=2, days=1, engine=toy_engine, executor="threads")  # type: ignore[arg-type]
    compiled = compile_scenario(SCENARIO, 2, 0)
    with pytest.raises(UsageError, match="compiled"):
        run_scenario(compiled, replications=1, days=3, engine=toy_engine)
