"""Beds engine: hand-worked occupancy formula, range rule, Erlang loss and delay views, escalation
percentiles and Little's law, plus input errors."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from flowplan.capacity.beds import (
    DEFAULT_TARGET_OCCUPANCY,
    DEFAULT_Z,
    BedsEstimate,
    EscalationEstimate,
    NoBedEstimate,
    beds_at_occupancy,
    beds_for_no_bed_probability,
    escalation_beds,
    implied_los_days,
    occupancy_delay_curve,
)
from flowplan.capacity.queueing import erlang_b, littles_law, mmc
from flowplan.errors import CapacityInputError


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


# --- beds at a target occupancy -------------------------------------------------------------


def test_beds_at_occupancy_hand_worked() -> None:
    # 40 admissions/day × 5 days LOS = 200 bed-days per day (= 200 beds occupied on average);
    # at 85% occupancy: 200 / 0.85 = 235.294... beds exactly, 236 whole beds (rounded up).
    est = beds_at_occupancy(40.0, 5.0)
    assert isinstance(est, BedsEstimate)
    assert est.bed_days_per_day == pytest.approx(200.0)
    assert est.mean == pytest.approx(235.2941176, abs=1e-6)
    assert est.beds == 236
    assert est.target_occupancy == DEFAULT_TARGET_OCCUPANCY == 0.85
    # No spread given: the range collapses onto the mean.
    assert est.low == est.mean == est.high
    assert est.beds_low == est.beds == est.beds_high == 236
    assert "÷ 0.85 occupancy = 235.294" in est.method_note
    assert "low = mean = high" in est.method_note


def test_rounding_ignores_float_noise() -> None:
    # 17 × 5 / 0.85 = 100 exactly, though the float is 100.00000000000001: still 100 beds.
    est = beds_at_occupancy(17.0, 5.0)
    assert est.mean == pytest.approx(100.0)
    assert est.beds == 100


def test_other_occupancy_and_zero_demand() -> None:
    # 30/day × 4 days = 120 beds occupied; at 92%: 130.43 → 131 beds.
    assert beds_at_occupancy(30.0, 4.0, 0.92).beds == 131
    assert beds_at_occupancy(0.0, 4.0).beds == 0


def test_spread_from_los_standard_deviation() -> None:
    # LOS sd 0.5 day: sd of bed-days/day = 40 × 0.5 = 20; with z = 1.645:
    # low = (200 − 32.9)/0.85 = 196.588, high = (200 + 32.9)/0.85 = 274.0 — the same formula at
    # LOS 5 ∓ 1.645 × 0.5 days.
    est = beds_at_occupancy(40.0, 5.0, los_sd_days=0.5)
    assert DEFAULT_Z == 1.645
    assert est.low == pytest.approx(196.5882353, abs=1e-6)
    assert est.high == pytest.approx(274.0, abs=1e-9)
    assert est.low == pytest.approx(beds_at_occupancy(40.0, 5.0 - 1.645 * 0.5).mean)
    assert est.high == pytest.approx(beds_at_occupancy(40.0, 5.0 + 1.645 * 0.5).mean)
    assert (est.beds_low, est.beds, est.beds_high) == (197, 236, 274)
    assert "LOS sd 0.5 days" in est.method_note


def test_spread_from_admissions_standard_deviation() -> None:
    # Admissions sd 4/day: sd of bed-days/day = 5 × 4 = 20, the same range as above.
    est = beds_at_occupancy(40.0, 5.0, admissions_sd_per_day=4.0)
    assert est.low == pytest.approx(196.5882353, abs=1e-6)
    assert est.high == pytest.approx(274.0, abs=1e-9)
    assert est.high == pytest.approx(beds_at_occupancy(40.0 + 1.645 * 4.0, 5.0).mean)


def test_spread_from_both_combines_as_independent_product() -> None:
    # sd = √((5·4)² + (40·0.5)² + (4·0.5)²) = √804 = 28.3549; z = 2:
    # high = (200 + 56.7098)/0.85 = 302.0115, low = (200 − 56.7098)/0.85 = 168.5767.
    est = beds_at_occupancy(40.0, 5.0, los_sd_days=0.5, admissions_sd_per_day=4.0, z=2.0)
    sd = math.sqrt(804.0)
    assert est.high == pytest.approx((200 + 2 * sd) / 0.85)
    assert est.low == pytest.approx((200 - 2 * sd) / 0.85)
    assert est.high == pytest.approx(302.0115, abs=1e-4)
    assert est.low == pytest.approx(168.5767, abs=1e-4)


def test_spread_low_end_floored_at_zero_and_z_zero_collapses() -> None:
    est = beds_at_occupancy(1.0, 1.0, los_sd_days=10.0)
    assert est.low == 0.0
    assert est.beds_low == 0
    flat = beds_at_occupancy(40.0, 5.0, los_sd_days=0.5, z=0.0)
    assert flat.low == flat.mean == flat.high


@given(
    demand=st.floats(min_value=0.0, max_value=5000.0),
    los=st.floats(min_value=0.01, max_value=100.0),
    occ=st.floats(min_value=0.05, max_value=0.99),
    sd=st.floats(min_value=0.0, max_value=10.0),
)
def test_beds_range_ordered(demand: float, los: float, occ: float, sd: float) -> None:
    est = beds_at_occupancy(demand, los, occ, los_sd_days=sd)
    assert 0.0 <= est.low <= est.mean <= est.high
    assert est.beds_low <= est.beds <= est.beds_high
    assert est.beds >= est.mean - 1e-9
    assert est.beds < est.mean + 1


# --- Erlang loss view -----------------------------------------------------------------------


def test_no_bed_probability_matches_erlang_b_table() -> None:
    # 5 admissions/day × 1 day = 5 Erlangs. Erlang B table: B(10, 5) = 0.01838 ≤ 2% and
    # B(9, 5) = 0.0375 > 2%, so 10 beds; occupancy = 5 × (1 − 0.01838)/10 = 0.4908.
    est = beds_for_no_bed_probability(5.0, 1.0, 0.02)
    assert isinstance(est, NoBedEstimate)
    assert est.beds == 10
    assert est.offered_load == pytest.approx(5.0)
    assert est.p_no_bed == pytest.approx(0.01838, abs=5e-6)
    assert est.occupancy == pytest.approx(0.4908, abs=1e-4)
    # Only the load matters (insensitivity): 2.5/day staying 2 days gives the same beds.
    assert beds_for_no_bed_probability(2.5, 2.0, 0.02).beds == 10


def test_no_bed_probability_large_table_value() -> None:
    # Erlang B table, 1% column: 100 servers carry 84.06 Erlangs. 16.812/day × 5 days = 84.06.
    est = beds_for_no_bed_probability(16.812, 5.0, 0.01)
    assert est.beds == 100
    assert est.p_no_bed <= 0.01 < erlang_b(99, 84.06)
    assert est.occupancy == pytest.approx(84.06 * (1 - est.p_no_bed) / 100)


# --- occupancy–delay curve ------------------------------------------------------------------


def test_curve_default_range_and_columns() -> None:
    # Load 200 beds: rows from 201 beds (occupancy 99.5%) to 334 beds (first at or below 60%).
    curve = occupancy_delay_curve(40.0, 5.0)
    assert list(curve.columns) == ["beds", "occupancy", "p_no_bed", "p_wait", "mean_wait_hours"]
    assert curve["beds"].dtype == np.int64
    assert curve["beds"].iloc[0] == 201
    assert curve["beds"].iloc[-1] == 334
    assert curve["occupancy"].iloc[-1] <= 0.6 < curve["occupancy"].iloc[-2]
    assert np.allclose(curve["occupancy"], 200.0 / curve["beds"])


def test_curve_delay_falls_as_beds_rise_and_explodes_near_full() -> None:
    curve = occupancy_delay_curve(40.0, 5.0)
    for column in ("occupancy", "p_no_bed", "p_wait", "mean_wait_hours"):
        assert (curve[column].diff().iloc[1:] < 0).all(), column
    assert ((curve["p_no_bed"] <= curve["p_wait"]) & (curve["p_wait"] <= 1)).all()
    # Waits in hours are the M/M/c wait in days × 24.
    for c in (201, 210, 236):
        row = curve.loc[curve["beds"] == c].iloc[0]
        assert row["mean_wait_hours"] == pytest.approx(mmc(40.0, 5.0, c).mean_wait * 24)
    # At 99.5% occupancy the mean wait is days (≈ 110 hours); at 85% (236 beds) it is negligible.
    near_full = curve["mean_wait_hours"].iloc[0]
    at_85 = curve.loc[curve["beds"] == 236, "mean_wait_hours"].iloc[0]
    assert near_full > 100.0
    assert at_85 < 0.01 * near_full


def test_curve_given_beds_including_overloaded() -> None:
    # 10/day × 1 day = 10 Erlangs; 5 and 10 beds cannot keep up: p_wait 1, wait infinite.
    curve = occupancy_delay_curve(10.0, 1.0, [5, 10, 11, 20])
    assert curve["beds"].tolist() == [5, 10, 11, 20]
    assert curve["occupancy"].tolist() == pytest.approx([2.0, 1.0, 10 / 11, 0.5])
    assert curve["p_wait"].iloc[:2].tolist() == [1.0, 1.0]
    assert np.isinf(curve["mean_wait_hours"].iloc[:2]).all()
    assert curve["p_no_bed"].iloc[1] == pytest.approx(erlang_b(10, 10.0))
    assert np.isfinite(curve["mean_wait_hours"].iloc[2:]).all()
    assert isinstance(curve, pd.DataFrame)


# --- escalation beds ------------------------------------------------------------------------


def test_escalation_poisson_percentile_hand_checked() -> None:
    # Occupancy Poisson with mean 100: scipy.stats.poisson.cdf(116, 100) = 0.9478 < 0.95 ≤
    # poisson.cdf(117, 100) = 0.9572, so the 95th percentile day has 117 beds occupied.
    assert stats.poisson.cdf(116, 100) < 0.95 <= stats.poisson.cdf(117, 100)
    est = escalation_beds(110, 100.0)
    assert isinstance(est, EscalationEstimate)
    assert est.method == "poisson"
    assert est.percentile == 0.95
    assert est.percentile_occupied == 117.0
    assert est.escalation_beds == 7
    assert escalation_beds(120, 100.0).escalation_beds == 0
    # Median of Poisson(100) is 100.
    assert escalation_beds(0, 100.0, 0.5).percentile_occupied == 100.0


def test_escalation_empirical_percentile() -> None:
    # Days occupying 1..20 beds: the smallest count with ≥ 95% of days at or below it is 19
    # (19 of 20 days = 95%); 90% gives 18. The mean given is not used on this path.
    days = list(range(20, 0, -1))
    est = escalation_beds(15, 999.0, 0.95, daily_occupied=days)
    assert est.method == "empirical"
    assert est.percentile_occupied == 19.0
    assert est.escalation_beds == 4
    assert escalation_beds(15, 10.5, 0.90, daily_occupied=days).percentile_occupied == 18.0


def test_escalation_empirical_fractional_counts_round_up() -> None:
    # Daily averages may be fractional: the 95th percentile of 4 days is the largest, 102.6,
    # which needs 103 beds, 3 above a core of 100.
    est = escalation_beds(100, 101.0, daily_occupied=np.array([100.4, 101.2, 99.0, 102.6]))
    assert est.percentile_occupied == pytest.approx(102.6)
    assert est.escalation_beds == 3


# --- implied LOS ----------------------------------------------------------------------------


def test_implied_los_from_littles_law() -> None:
    # 3,100 emergency admissions in a 31-day month = 100/day; 500 beds occupied on average:
    # LOS = 500 / 100 = 5 days.
    assert implied_los_days(500.0, 3100 / 31) == pytest.approx(5.0)
    assert implied_los_days(500.0, 100.0) == littles_law(items=500.0, rate=100.0)
    # Round trip: the implied LOS reproduces the bed-days of the occupancy formula.
    los = implied_los_days(200.0, 40.0)
    assert beds_at_occupancy(40.0, los).bed_days_per_day == pytest.approx(200.0)


# --- bad inputs -----------------------------------------------------------------------------

Call = Callable[[], object]


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda: beds_at_occupancy(-1.0, 5.0),
            "admissions per day must be zero or more (got -1.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 0.0),
            "mean length of stay in days must be positive (got 0.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, -2.0),
            "mean length of stay in days must be positive (got -2.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, 1.0),
            "target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 (got 1.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, 1.2),
            "target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 (got 1.2)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, 85),
            "target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 (got 85)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, 0.0),
            "target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 (got 0.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, -0.5),
            "target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 (got -0.5)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, los_sd_days=-1.0),
            "LOS standard deviation must be zero or more (got -1.0)",
        ),
        (
            lambda: beds_at_occupancy(40.0, 5.0, admissions_sd_per_day=math.nan),
            "admissions standard deviation must be a finite number (got nan)",
        ),
        (lambda: beds_at_occupancy(40.0, 5.0, z=-1.0), "z must be zero or more (got -1.0)"),
        (
            lambda: beds_for_no_bed_probability(-5.0, 1.0, 0.01),
            "admissions per day must be zero or more (got -5.0)",
        ),
        (
            lambda: beds_for_no_bed_probability(5.0, 0.0, 0.01),
            "mean length of stay in days must be positive (got 0.0)",
        ),
        (
            lambda: beds_for_no_bed_probability(5.0, 1.0, 1.5),
            "maximum probability of no bed must be between 0 and 1 exclusive (got 1.5)",
        ),
        (
            lambda: occupancy_delay_curve(-1.0, 5.0),
            "admissions per day must be zero or more (got -1.0)",
        ),
        (
            lambda: occupancy_delay_curve(40.0, -5.0),
            "mean length of stay in days must be positive (got -5.0)",
        ),
        (
            lambda: occupancy_delay_curve(40.0, 5.0, []),
            "give at least one bed count for the occupancy–delay curve",
        ),
        (lambda: occupancy_delay_curve(40.0, 5.0, [200, 0]), "beds must be positive (got 0)"),
        (
            lambda: occupancy_delay_curve(40.0, 5.0, lowest_occupancy=1.0),
            "lowest occupancy must be between 0 and 1 exclusive (got 1.0)",
        ),
        (lambda: escalation_beds(-1, 100.0), "core beds must be at least 0 (got -1)"),
        (lambda: escalation_beds(100, -1.0), "mean beds occupied must be zero or more (got -1.0)"),
        (
            lambda: escalation_beds(100, 100.0, 95),
            "percentile must be between 0 and 1 exclusive (got 95)",
        ),
        (
            lambda: escalation_beds(100, 100.0, daily_occupied=[]),
            "give at least one day of occupied beds, as a flat list",
        ),
        (
            lambda: escalation_beds(100, 100.0, daily_occupied=[90.0, -3.0]),
            "daily occupied beds must be finite and zero or more (got -3.0 on day 2)",
        ),
        (
            lambda: escalation_beds(100, 100.0, daily_occupied=[90.0, math.nan]),
            "daily occupied beds must be finite and zero or more (got nan on day 2)",
        ),
        (
            lambda: escalation_beds(100, 100.0, daily_occupied=["ninety"]),
            "daily occupied beds must be numbers, one per day (got a non-number)",
        ),
        (lambda: implied_los_days(0.0, 100.0), "mean beds occupied must be positive (got 0.0)"),
        (lambda: implied_los_days(500.0, 0.0), "admissions per day must be positive (got 0.0)"),
        (lambda: implied_los_days(500.0, -10.0), "admissions per day must be positive (got -10.0)"),
    ],
)
def test_bad_inputs_raise_one_line_errors(call: Call, text: str) -> None:
    with pytest.raises(CapacityInputError, match=message(text)) as caught:
        call()
    assert "\n" not in str(caught.value)
