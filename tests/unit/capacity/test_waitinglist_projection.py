"""Stock-and-flow projection by weeks waited, starting lists, and capacity solving.

Hand-worked cases are small enough to follow on paper; the order within each week is: age one
week, clock starts into bucket 0, removals, clock stops (priority share in proportion, the rest
longest wait first).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowplan.capacity.waitinglist import (
    COLUMNS,
    N_BUCKETS,
    TOP,
    WEEK_LABELS,
    Target,
    project,
    project_many,
    solve_capacity,
    solve_capacity_many,
    spread_total,
)
from flowplan.errors import CapacityInputError


def bucketed(counts: dict[int, float]) -> np.ndarray:
    """A 105-bucket list with the given patients at the given weeks waited."""
    out = np.zeros(N_BUCKETS)
    for week, count in counts.items():
        out[week] = count
    return out


def assert_conserved(
    list_size: np.ndarray, starts: np.ndarray, stops: np.ndarray, removals: np.ndarray
) -> None:
    """list(t) = list(t − 1) + starts − stops − removals, to 1e-9 relative, every week."""
    expected = list_size[..., :-1] + starts[..., 1:] - stops[..., 1:] - removals[..., 1:]
    scale = np.maximum(np.maximum(list_size[..., :-1], starts[..., 1:]), 1.0)
    assert np.all(np.abs(list_size[..., 1:] - expected) <= 1e-9 * scale)


# --- layout ----------------------------------------------------------------------------------


def test_105_buckets_with_open_top() -> None:
    assert N_BUCKETS == 105
    assert TOP == 104
    assert WEEK_LABELS[0] == "0"
    assert WEEK_LABELS[103] == "103"
    assert WEEK_LABELS[-1] == "104+"
    assert len(WEEK_LABELS) == N_BUCKETS


def test_frame_columns_and_week_zero() -> None:
    result = project(bucketed({0: 5.0}), 1.0, 1.0, 3, priority_share=0.0)
    assert tuple(result.frame.columns) == COLUMNS
    assert list(result.frame["week"]) == [0, 1, 2, 3]
    first = result.frame.iloc[0]
    assert first["list_size"] == 5.0
    assert np.isnan(first["clock_starts"])
    assert np.isnan(first["clock_stops"])
    assert np.isnan(first["removals"])
    assert result.final_distribution.shape == (N_BUCKETS,)


def test_start_date_adds_weekly_dates() -> None:
    result = project(bucketed({0: 5.0}), 1.0, 1.0, 2, start_date=date(2024, 3, 31))
    assert list(result.frame.columns[:2]) == ["week", "date"]
    assert list(result.frame["date"]) == [
        pd.Timestamp("2024-03-31"),
        pd.Timestamp("2024-04-07"),
        pd.Timestamp("2024-04-14"),
    ]


# --- hand-worked weeks -----------------------------------------------------------------------


def test_longest_wait_first_takes_the_oldest() -> None:
    # Start: 5 at week 0, 3 at week 1, 2 at week 2. Age → [_, 5, 3, 2]; 4 referrals → [4, 5, 3, 2]
    # (14 patients). Capacity 6, all by longest wait: the 2 at week 3, the 3 at week 2, then 1 of
    # the 5 at week 1 → [4, 4, 0, 0], 8 patients.
    result = project(bucketed({0: 5, 1: 3, 2: 2}), 4.0, 6.0, 1, priority_share=0.0)
    np.testing.assert_allclose(result.final_distribution[:5], [4, 4, 0, 0, 0], atol=1e-12)
    week1 = result.frame.iloc[1]
    assert (week1["list_size"], week1["clock_starts"], week1["clock_stops"]) == (8.0, 4.0, 6.0)
    assert week1["removals"] == 0.0


def test_priority_share_spreads_in_proportion() -> None:
    # As above with priority_share 0.5: 3 of the 6 stops come 3/14 from every bucket, leaving
    # [44, 55, 33, 22]/14; the other 3 go longest wait first: all 22/14 at week 3, then 20/14 of
    # the 33/14 at week 2 → [44, 55, 13, 0]/14 = 8 patients.
    result = project(bucketed({0: 5, 1: 3, 2: 2}), 4.0, 6.0, 1, priority_share=0.5)
    np.testing.assert_allclose(result.final_distribution[:5] * 14, [44, 55, 13, 0, 0], atol=1e-12)
    assert result.frame["clock_stops"].iloc[1] == pytest.approx(6.0)


def test_removals_come_before_clock_stops() -> None:
    # As the first case with removal_rate 0.1: [4, 5, 3, 2] loses [0.4, 0.5, 0.3, 0.2] = 1.4,
    # leaving [3.6, 4.5, 2.7, 1.8]; 6 stops longest first: 1.8, 2.7 and 1.5 of week 1
    # → [3.6, 3.0, 0, 0] = 6.6 = 10 + 4 − 1.4 − 6.
    result = project(
        bucketed({0: 5, 1: 3, 2: 2}), 4.0, 6.0, 1, priority_share=0.0, removal_rate=0.1
    )
    np.testing.assert_allclose(result.final_distribution[:4], [3.6, 3.0, 0, 0], atol=1e-12)
    assert result.frame["removals"].iloc[1] == pytest.approx(1.4)
    assert result.frame["list_size"].iloc[1] == pytest.approx(6.6)


def test_capacity_above_list_empties_it() -> None:
    result = project(bucketed({3: 2.0, 60: 1.0}), 4.0, 50.0, 2, priority_share=0.3)
    assert result.frame["list_size"].iloc[1:].tolist() == [0.0, 0.0]
    assert result.frame["clock_stops"].iloc[1:].tolist() == [7.0, 4.0]
    assert result.frame["within_18_pct"].iloc[1] == 100.0
    assert result.frame["mean_wait_weeks"].iloc[1] == 0.0
    assert np.all(result.final_distribution == 0.0)


def test_long_wait_counts() -> None:
    # Week 0: 10@51, 20@52, 30@64, 40@65, 50@77, 60@78, 70@103, 80@104+, and 5@17, 7@18.
    start = bucketed(
        {17: 5, 18: 7, 51: 10, 52: 20, 64: 30, 65: 40, 77: 50, 78: 60, 103: 70, TOP: 80}
    )
    result = project(start, 0.0, 0.0, 1)
    week0, week1 = result.frame.iloc[0], result.frame.iloc[1]
    assert week0["list_size"] == 372
    assert week0["over_52"] == 20 + 30 + 40 + 50 + 60 + 70 + 80
    assert week0["over_65"] == 40 + 50 + 60 + 70 + 80
    assert week0["over_78"] == 60 + 70 + 80
    assert week0["over_104"] == 80
    assert week0["within_18_pct"] == pytest.approx(100 * 5 / 372)
    # A week later everyone has aged one week; 103 joins 104+.
    assert week1["over_52"] == 10 + 20 + 30 + 40 + 50 + 60 + 70 + 80
    assert week1["over_65"] == 30 + 40 + 50 + 60 + 70 + 80
    assert week1["over_78"] == 50 + 60 + 70 + 80
    assert week1["over_104"] == 150
    assert week1["within_18_pct"] == 0.0
    assert result.final_distribution[TOP] == 150
    assert result.final_distribution[18] == 5


def test_mean_wait_counts_bucket_midpoints() -> None:
    result = project(bucketed({0: 1.0, 10: 3.0}), 0.0, 0.0, 1)
    assert result.frame["mean_wait_weeks"].iloc[0] == pytest.approx((0.5 + 3 * 10.5) / 4)
    assert result.frame["mean_wait_weeks"].iloc[1] == pytest.approx((1.5 + 3 * 11.5) / 4)


def test_long_input_rows_fold_into_104_plus_and_short_rows_pad() -> None:
    long = np.zeros(130)
    long[100], long[104], long[120] = 1.0, 2.0, 3.0
    result = project(long, 0.0, 0.0, 4)
    assert result.frame["over_104"].iloc[0] == 5.0
    assert result.frame["over_104"].iloc[4] == 6.0
    short = project([2.0, 1.0], 0.0, 0.0, 1)
    np.testing.assert_array_equal(short.final_distribution[:3], [0.0, 2.0, 1.0])


def test_weekly_series_inputs() -> None:
    result = project(bucketed({}), [1.0, 2.0, 3.0], [0.0, 0.0, 10.0], 3, priority_share=0.0)
    assert result.frame["clock_starts"].iloc[1:].tolist() == [1.0, 2.0, 3.0]
    assert result.frame["list_size"].tolist() == [0.0, 1.0, 3.0, 0.0]


# --- conservation and steady state -----------------------------------------------------------


def test_conservation_random_lists_104_weeks() -> None:
    rng = np.random.default_rng(20240601)
    n, weeks = 60, 104
    start = rng.gamma(2.0, 40.0, size=(n, N_BUCKETS)) * rng.uniform(0, 1, (n, 1))
    referrals = rng.uniform(0, 400, size=(n, weeks))
    capacity = rng.uniform(0, 500, size=(n, weeks))
    capacity[:5] = 1e6  # some lists emptied every week
    capacity[5:10, ::7] = 0.0  # some weeks with no clock stops
    batch = project_many(
        start,
        referrals,
        capacity,
        weeks,
        removal_rate=rng.uniform(0, 0.05, n),
        priority_share=rng.uniform(0, 1, n),
    )
    assert_conserved(batch.list_size, batch.clock_starts, batch.clock_stops, batch.removals)
    total = (
        start.sum(axis=1)
        + batch.clock_starts[:, 1:].sum(axis=1)
        - batch.clock_stops[:, 1:].sum(axis=1)
        - batch.removals[:, 1:].sum(axis=1)
    )
    np.testing.assert_allclose(batch.list_size[:, -1], total, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        batch.final_distribution.sum(axis=1), batch.list_size[:, -1], rtol=1e-12
    )
    assert np.all(batch.final_distribution >= 0)
    # Clock stops never exceed capacity.
    assert np.all(batch.clock_stops[:, 1:] <= capacity * (1 + 1e-12) + 1e-9)
    assert np.all(batch.list_size[:5, 1:] == 0.0)


def test_project_matches_project_many_rows() -> None:
    rng = np.random.default_rng(7)
    start = rng.uniform(0, 50, size=(3, N_BUCKETS))
    referrals = rng.uniform(50, 150, size=(3, 20))
    capacity = rng.uniform(80, 160, size=(3, 20))
    batch = project_many(start, referrals, capacity, 20, removal_rate=0.01, priority_share=0.4)
    for i in range(3):
        single = project(
            start[i], referrals[i], capacity[i], 20, removal_rate=0.01, priority_share=0.4
        )
        pd.testing.assert_frame_equal(single.frame, batch.projection(i).frame)
        np.testing.assert_array_equal(single.final_distribution, batch.final_distribution[i])


def test_steady_state_longest_wait_first_is_exactly_stable() -> None:
    # 10 a week for 10 weeks: each week the oldest 10 are treated and 10 join.
    start = bucketed(dict.fromkeys(range(10), 10.0))
    result = project(start, 10.0, 10.0, 104, priority_share=0.0)
    assert np.all(result.frame["list_size"] == 100.0)
    np.testing.assert_array_equal(result.final_distribution, start)
    assert np.all(result.frame["mean_wait_weeks"] == 5.0)


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_demand_equals_capacity_keeps_list_size(share: float) -> None:
    start = spread_total(4000.0, over_18=1200.0, over_52=150.0)
    result = project(start, 250.0, 250.0, 104, priority_share=share)
    sizes = result.frame["list_size"].to_numpy()
    np.testing.assert_allclose(sizes, 4000.0, rtol=1e-9)


# --- load -----------------------------------------------------------------------------------


def test_load_above_one_is_unsustainable() -> None:
    result = project(bucketed({0: 100.0}), 108.0, 100.0, 10)
    assert result.load == pytest.approx(1.08)
    assert result.unsustainable
    assert result.message == (
        "queue load 1.08 > 1: capacity 100 per week is below demand 108 per week, "
        "so the list grows without limit; raise capacity"
    )
    assert result.frame["list_size"].iloc[-1] > 100.0


def test_load_at_or_below_one_is_sustainable() -> None:
    for referrals in (100.0, 90.0):
        result = project(bucketed({0: 100.0}), referrals, 100.0, 10)
        assert not result.unsustainable
        assert result.message == ""


def test_load_uses_mean_weekly_rates_and_no_capacity_is_infinite() -> None:
    result = project(bucketed({0: 10.0}), [50.0, 150.0], [100.0, 50.0], 2)
    assert result.load == pytest.approx(100 / 75)
    blocked = project(bucketed({0: 10.0}), 1.0, 0.0, 2)
    assert blocked.load == np.inf
    assert blocked.unsustainable
    assert blocked.clearance_time_weeks == np.inf


def test_clearance_time_is_list_over_capacity() -> None:
    result = project(spread_total(1300.0, mean_wait_weeks=12.0), 90.0, 100.0, 5)
    assert result.clearance_time_weeks == pytest.approx(13.0)
    empty = project(bucketed({}), 0.0, 0.0, 1)
    assert empty.clearance_time_weeks == 0.0
    assert empty.load == 0.0


# --- batches --------------------------------------------------------------------------------


def test_a_batch_equals_its_lists_projected_one_by_one() -> None:
    # speed (850 lists × 104 weeks) is measured by `make bench`, not here
    rng = np.random.default_rng(850)
    n, weeks = 12, 104
    start = rng.gamma(1.5, 30.0, size=(n, N_BUCKETS))
    referrals = rng.uniform(10, 500, size=(n, weeks))
    capacity = referrals * rng.uniform(0.9, 1.2, size=(n, 1))
    batch = project_many(start, referrals, capacity, weeks, removal_rate=0.01)
    assert batch.list_size.shape == (n, weeks + 1)
    for i in (0, 5, 11):
        one = project(start[i], referrals[i], capacity[i], weeks, removal_rate=0.01)
        assert one.frame["list_size"].to_numpy() == pytest.approx(batch.list_size[i], rel=1e-12)


# --- spread_total ----------------------------------------------------------------------------


def test_spread_with_mean_wait_reproduces_total_and_mean() -> None:
    spread = spread_total(10_000.0, mean_wait_weeks=13.0)
    assert spread.sum() == pytest.approx(10_000.0, rel=1e-12)
    mean = project(spread, 0.0, 0.0, 1).frame["mean_wait_weeks"].iloc[0]
    assert mean == pytest.approx(13.0, rel=1e-9)
    assert np.all(np.diff(spread[:TOP]) < 0)  # geometric: fewer at each longer wait


@pytest.mark.parametrize(
    "counts",
    [
        {"over_18": 3000.0, "over_52": 400.0},
        {"over_18": 3000.0},
        {"over_52": 100.0},
        {"over_18": 3000.0, "over_52": 0.0},
        {"over_18": 3000.0, "over_52": 3000.0},
        {"over_18": 0.0, "over_52": 0.0},
        {"over_18": 0.0},
        {"over_52": 0.0},
        {"over_18": 10_000.0},
        {"over_18": 10_000.0, "over_52": 400.0},
        {"over_18": 9_000.0, "over_52": 8_999.0},
    ],
)
def test_spread_reproduces_published_counts(counts: dict[str, float]) -> None:
    spread = spread_total(10_000.0, **counts)
    assert spread.shape == (N_BUCKETS,)
    assert np.all(spread >= 0)
    assert spread.sum() == pytest.approx(10_000.0, rel=1e-9)
    if "over_18" in counts:
        assert spread[18:].sum() == pytest.approx(counts["over_18"], rel=1e-9, abs=1e-9)
    if "over_52" in counts:
        assert spread[52:].sum() == pytest.approx(counts["over_52"], rel=1e-9, abs=1e-9)


def test_two_segment_spread_joins_at_18_weeks() -> None:
    spread = spread_total(10_000.0, over_18=3000.0, over_52=400.0)
    # From 18 weeks on a single decay rate: the ratio of neighbours is constant.
    ratios = spread[19:TOP] / spread[18 : TOP - 1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert ratios[0] == pytest.approx((400 / 3000) ** (1 / 34), rel=1e-12)
    # Before 18 weeks another constant ratio, continuing into bucket 18.
    lead = spread[1:19] / spread[0:18]
    np.testing.assert_allclose(lead, lead[0], rtol=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    total=st.floats(1.0, 1e6),
    share_18=st.floats(0.0, 1.0),
    share_52=st.floats(0.0, 1.0),
)
def test_spread_counts_property(total: float, share_18: float, share_52: float) -> None:
    over_18 = total * share_18
    over_52 = over_18 * share_52
    spread = spread_total(total, over_18=over_18, over_52=over_52)
    assert np.all(spread >= 0)
    assert spread.sum() == pytest.approx(total, rel=1e-9)
    assert spread[18:].sum() == pytest.approx(over_18, rel=1e-9, abs=1e-6)
    assert spread[52:].sum() == pytest.approx(over_52, rel=1e-9, abs=1e-6)


def test_spread_zero_counts_spread_evenly() -> None:
    np.testing.assert_allclose(spread_total(180.0, over_18=0.0)[:18], 10.0)
    np.testing.assert_allclose(spread_total(520.0, over_52=0.0)[:52], 10.0)
    middle = spread_total(1000.0, over_18=340.0, over_52=0.0)
    np.testing.assert_allclose(middle[18:52], 10.0)
    assert middle[52:].sum() == 0.0


def test_spread_given_weights() -> None:
    spread = spread_total(60.0, weights=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(spread[:3], [10.0, 20.0, 30.0])
    assert spread[3:].sum() == 0.0


def test_spread_zero_total() -> None:
    assert np.all(spread_total(0.0, over_18=0.0, over_52=0.0) == 0.0)
    assert np.all(spread_total(0.0, mean_wait_weeks=10.0) == 0.0)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"total": 100.0}, "give one shape for the list"),
        ({"total": 100.0, "mean_wait_weeks": 5.0, "over_18": 10.0}, "give one shape"),
        ({"total": -1.0, "mean_wait_weeks": 5.0}, "total must not be negative"),
        ({"total": 100.0, "over_18": 120.0}, "over_18 must not exceed total"),
        ({"total": 100.0, "over_18": 10.0, "over_52": 20.0}, "over_52 must not exceed over_18"),
        ({"total": 100.0, "over_52": -1.0}, "over_52 must not be negative"),
        ({"total": 100.0, "mean_wait_weeks": 0.2}, "mean wait must be between 0.5 and 104.5"),
        ({"total": 100.0, "weights": [0.0, 0.0]}, "weights must not all be zero"),
        ({"total": 100.0, "weights": [1.0, -1.0]}, "weights must not hold negative counts"),
        ({"total": 0.0, "over_18": 3.0}, "over_18 must not exceed total"),
    ],
)
def test_spread_bad_inputs(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(CapacityInputError) as info:
        spread_total(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


# --- projection bad inputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"referrals": -3.0}, "referrals must not be negative (got -3 per week)"),
        ({"capacity": np.nan}, "capacity must be finite numbers per week"),
        ({"referrals": [1.0, 2.0]}, "referrals must be one number or one per week (4)"),
        ({"weeks": 0}, "weeks must be at least 1 (got 0 weeks)"),
        ({"weeks": 2.5}, "weeks must be a whole number of weeks"),
        ({"removal_rate": 1.0}, "removal rate must be from 0 to below 1 (got 1)"),
        ({"priority_share": 1.5}, "priority share must be from 0 to at most 1 (got 1.5)"),
        ({"priority_share": -0.1}, "priority share must be from 0 to at most 1 (got -0.1)"),
        ({"initial": [-1.0, 2.0]}, "initial list must not hold negative counts"),
        ({"initial": np.ones((2, 3))}, "initial list must be one row of counts"),
        ({"initial": []}, "initial list must list patients by completed weeks waited"),
    ],
)
def test_project_bad_inputs(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {
        "initial": bucketed({0: 1.0}),
        "referrals": 1.0,
        "capacity": 1.0,
        "weeks": 4,
    }
    args.update(kwargs)
    with pytest.raises(CapacityInputError) as info:
        project(**args)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_project_many_bad_shapes() -> None:
    start = np.ones((3, N_BUCKETS))
    with pytest.raises(CapacityInputError, match="one value per list"):
        project_many(start, [1.0, 2.0], 1.0, 5)
    with pytest.raises(CapacityInputError, match="must give 5 weeks for each of 3"):
        project_many(start, np.ones((3, 4)), 1.0, 5)
    with pytest.raises(CapacityInputError, match="one share or one per list"):
        project_many(start, 1.0, 1.0, 5, removal_rate=[0.1, 0.2])
    per_list = project_many(start, [1.0, 2.0, 3.0], 0.0, 2)
    assert per_list.clock_starts[:, 1].tolist() == [1.0, 2.0, 3.0]


# --- solving for capacity --------------------------------------------------------------------


def test_solve_zero_52_hand_worked() -> None:
    # 100 patients at 60 weeks, 10 referrals a week, longest wait first, standard by week 10:
    # the 100 long waiters must all be treated in 10 weeks (new patients never reach 52), so
    # 100 − 10c < 0.5 → c > 9.95: 10.0 on a 0.1 grid, and 9.9 leaves 1 patient.
    solved = solve_capacity(bucketed({60: 100.0}), 10.0, 10, target="zero_52", priority_share=0.0)
    assert solved.capacity == pytest.approx(10.0)
    assert solved.achieved < 0.5
    assert solved.below_capacity == pytest.approx(9.9)
    assert not solved.below_meets
    below = project(bucketed({60: 100.0}), 10.0, 9.9, 10, priority_share=0.0)
    assert below.frame["over_52"].iloc[10] == pytest.approx(1.0)


def test_solve_within_18_hand_worked() -> None:
    # 50 at 5 weeks and 50 at 30 weeks, no referrals, standard 92% by week 1. After a week:
    # 50 at 6 and 50 − c at 31, so 50 / (100 − c) ≥ 0.92 → c ≥ 45.652…: 45.7 on a 0.1 grid.
    solved = solve_capacity(bucketed({5: 50.0, 30: 50.0}), 0.0, 1, level=0.92, priority_share=0.0)
    assert solved.capacity == pytest.approx(45.7)
    assert solved.achieved >= 92.0
    assert not solved.below_meets
    assert solved.by_week == 1
    assert solved.projection.frame["clock_stops"].iloc[1] == pytest.approx(45.7)


def test_solve_returns_zero_when_already_met() -> None:
    solved = solve_capacity(bucketed({0: 10.0}), 5.0, 8, level=0.92)
    assert solved.capacity == 0.0
    assert solved.below_meets  # nothing lower to test: zero meets it


@pytest.mark.parametrize("target", ["within_18", "zero_52"])
@pytest.mark.parametrize("share", [0.0, 0.3, 0.8])
def test_solve_meets_and_one_tolerance_less_does_not(target: Target, share: float) -> None:
    rng = np.random.default_rng(18)
    start = spread_total(6000.0, over_18=2400.0, over_52=350.0)
    referrals = rng.uniform(120, 180, size=52)
    solved = solve_capacity(
        start,
        referrals,
        52,
        target=target,
        level=0.92,
        by_week=40,
        removal_rate=0.004,
        priority_share=share,
        tolerance=0.1,
    )
    column = "within_18_pct" if target == "within_18" else "over_52"
    at = project(start, referrals, solved.capacity, 52, removal_rate=0.004, priority_share=share)
    below = project(
        start, referrals, solved.capacity - 0.1, 52, removal_rate=0.004, priority_share=share
    )
    if target == "within_18":
        assert at.frame[column].iloc[40] >= 92.0 - 1e-7
        assert below.frame[column].iloc[40] < 92.0
    else:
        assert at.frame[column].iloc[40] < 0.5
        assert below.frame[column].iloc[40] >= 0.5
    assert not solved.below_meets
    pd.testing.assert_frame_equal(at.frame, solved.projection.frame)


def test_more_capacity_never_worsens_the_standard() -> None:
    # The bisection relies on this: sweep capacity for a few seeded lists.
    rng = np.random.default_rng(52)
    start = np.stack(
        [spread_total(5000.0, over_18=2500.0, over_52=300.0 + 100 * k) for k in range(4)]
    )
    grid = np.linspace(0.0, 400.0, 401)
    for i in range(4):
        referrals = rng.uniform(80, 120, size=40)
        batch = project_many(
            np.repeat(start[i][None, :], grid.size, axis=0),
            np.repeat(referrals[None, :], grid.size, axis=0),
            grid,
            40,
            removal_rate=0.003 * i,
            priority_share=0.25 * i,
        )
        assert np.all(np.diff(batch.within_18_pct[:, -1]) >= -1e-9)
        assert np.all(np.diff(batch.over_52[:, -1]) <= 1e-9)


def test_solve_many_agrees_with_single() -> None:
    rng = np.random.default_rng(3)
    starts = np.stack([spread_total(t, mean_wait_weeks=m) for t, m in ((900, 10), (3000, 25))])
    referrals = rng.uniform(40, 60, size=(2, 30))
    many = solve_capacity_many(starts, referrals, 30, target="within_18", level=0.9)
    for i in range(2):
        one = solve_capacity(starts[i], referrals[i], 30, target="within_18", level=0.9)
        assert many.capacity[i] == pytest.approx(one.capacity)
    assert not many.below_meets.any()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"target": "within_52"}, "target must be one of within_18, zero_52"),
        ({"level": 1.2}, "level must be a share above 0 and at most 1"),
        ({"level": 0.0}, "level must be a share above 0 and at most 1"),
        ({"by_week": 9}, "by_week must be within the projection (got week 9 of 8)"),
        ({"by_week": 0}, "by_week must be at least 1"),
        ({"tolerance": 0.0}, "tolerance must be positive"),
        ({"priority_share": 2.0}, "priority share must be from 0 to at most 1"),
    ],
)
def test_solve_bad_inputs(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(CapacityInputError) as info:
        solve_capacity(bucketed({30: 10.0}), 1.0, 8, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
