"""Trajectory engine: hand-worked linear, stepped and seasonal paths at month, quarter and year
grain; RAG against plan at the tolerance boundaries for each direction; the summary; bad inputs.

Every expected number is worked by hand in the comment beside it (the rule is in the module
docstring of ``flowplan.metrics.trajectory``)."""

from __future__ import annotations

import itertools
import math
import re
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowplan.errors import UsageError
from flowplan.metrics.trajectory import (
    CHECK_COLUMNS,
    DEFAULT_AMBER_TOLERANCE,
    DEFAULT_GREEN_TOLERANCE,
    TRAJECTORY_COLUMNS,
    build,
    check,
    period_start,
    seasonal_index,
    summary,
)


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


def starts(frame: pd.DataFrame) -> list[str]:
    return [f"{t:%Y-%m-%d}" for t in frame["period_start"]]


# A synthetic month-of-year profile (January first) that averages exactly 1: winter high,
# summer low. Sum = 1.2+1.1+1.0+0.95+0.9+0.85+0.85+0.9+0.95+1.0+1.1+1.2 = 12.
PROFILE = [1.2, 1.1, 1.0, 0.95, 0.9, 0.85, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2]


def history(months: int = 24, first: str = "2022-04-01", level: float = 100.0) -> pd.DataFrame:
    """``months`` monthly values equal to level × PROFILE[month], from ``first``."""
    stamps = pd.date_range(first, periods=months, freq="MS")
    return pd.DataFrame(
        {"period_start": stamps, "value": [level * PROFILE[t.month - 1] for t in stamps]}
    )


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "grain", "expected"),
    [
        (date(2025, 2, 14), "month", date(2025, 2, 1)),
        (date(2025, 2, 14), "quarter", date(2025, 1, 1)),
        (date(2025, 2, 14), "year", date(2024, 4, 1)),  # Feb 2025 is in 2024/25
        (date(2025, 3, 31), "year", date(2024, 4, 1)),
        (date(2025, 4, 1), "year", date(2025, 4, 1)),  # 1 April starts 2025/26
        (date(2024, 12, 31), "quarter", date(2024, 10, 1)),
        (datetime(2024, 7, 1, 23, 59), "quarter", date(2024, 7, 1)),
    ],
)
def test_period_start(day: date, grain: str, expected: date) -> None:
    assert period_start(day, grain) == expected  # type: ignore[arg-type]


# --- build: linear --------------------------------------------------------------------------


def test_linear_monthly_hand_worked() -> None:
    # Baseline 90 in March 2024, target 95 in March 2025: 12 monthly steps of 5/12 = 0.41667,
    # April 2024 = 90.41667 ... February 2025 = 94.58333, March 2025 = 95 exactly.
    frame = build(90.0, date(2024, 3, 31), [(date(2025, 3, 31), 95.0)])
    assert list(frame.columns) == list(TRAJECTORY_COLUMNS)
    assert str(frame["period_start"].dtype) == "datetime64[ns]"
    assert starts(frame) == [f"{y}-{m:02d}-01" for y, m in [(2024, m) for m in range(4, 13)]] + [
        "2025-01-01",
        "2025-02-01",
        "2025-03-01",
    ]
    expected = [90.0 + 5.0 * k / 12.0 for k in range(1, 13)]
    assert frame["planned"].tolist() == pytest.approx(expected, abs=1e-12)
    assert np.diff(frame["planned"]).tolist() == pytest.approx([5.0 / 12.0] * 11)
    assert frame["planned"].iloc[0] == pytest.approx(90.416667, abs=1e-6)
    assert frame["planned"].iloc[-1] == 95.0
    assert frame["is_target"].tolist() == [False] * 11 + [True]
    assert frame["target_date"].iloc[-1] == pd.Timestamp("2025-03-31")
    assert frame["target_date"].iloc[:-1].isna().all()


def test_any_date_in_the_period_names_it() -> None:
    # 1 March and 31 March 2024 are both the March 2024 baseline; 15 March 2025 the March target.
    a = build(90.0, date(2024, 3, 1), [(date(2025, 3, 15), 95.0)])
    b = build(90.0, date(2024, 3, 31), [(date(2025, 3, 31), 95.0)])
    pd.testing.assert_series_equal(a["planned"], b["planned"])
    assert a["target_date"].iloc[-1] == pd.Timestamp("2025-03-15")
    # Datetimes and pandas Timestamps are read as their calendar date.
    c = build(90.0, datetime(2024, 3, 31, 12), [(pd.Timestamp("2025-03-31 08:00"), 95.0)])
    pd.testing.assert_frame_equal(b, c)


def test_linear_through_several_targets() -> None:
    # Baseline 100 (Mar 2024) → 110 (Jun 2024): +10/3 a month; → 104 (Dec 2024): −1 a month.
    frame = build(100.0, date(2024, 3, 1), [(date(2024, 6, 1), 110.0), (date(2024, 12, 1), 104.0)])
    assert starts(frame)[0] == "2024-04-01" and starts(frame)[-1] == "2024-12-01"
    assert frame["planned"].tolist() == pytest.approx(
        [103.333333, 106.666667, 110.0, 109.0, 108.0, 107.0, 106.0, 105.0, 104.0], abs=1e-6
    )
    assert frame["is_target"].tolist() == [False, False, True] + [False] * 5 + [True]


def test_linear_quarterly_hand_worked() -> None:
    # Baseline 90 in Jan–Mar 2024 (the quarter holding 31 March), target 95 in Jan–Mar 2025:
    # 4 quarterly steps of 5/4 = 1.25 → 91.25 (Apr), 92.5 (Jul), 93.75 (Oct), 95 (Jan).
    frame = build(90.0, date(2024, 3, 31), [(date(2025, 3, 31), 95.0)], grain="quarter")
    assert starts(frame) == ["2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"]
    assert frame["planned"].tolist() == pytest.approx([91.25, 92.5, 93.75, 95.0])


def test_linear_financial_years_hand_worked() -> None:
    # Baseline 90 in 2023/24 (31 March 2024), target 95 in 2026/27 (31 March 2027): three years,
    # steps of 5/3 → 91.667 (2024/25 from 1 April 2024), 93.333 (2025/26), 95 (2026/27).
    frame = build(90.0, date(2024, 3, 31), [(date(2027, 3, 31), 95.0)], grain="year")
    assert starts(frame) == ["2024-04-01", "2025-04-01", "2026-04-01"]
    assert frame["planned"].tolist() == pytest.approx([91.666667, 93.333333, 95.0], abs=1e-6)
    # 1 April 2024 is already 2024/25, so a baseline dated then moves the start a year on.
    later = build(90.0, date(2024, 4, 1), [(date(2027, 3, 31), 95.0)], grain="year")
    assert starts(later) == ["2025-04-01", "2026-04-01"]


# --- build: stepped -------------------------------------------------------------------------


def test_stepped_holds_until_the_target_period_which_takes_the_new_value() -> None:
    # Baseline 90 (Mar 2024); 92 due Sep 2024; 95 due Mar 2025. Apr–Aug hold 90, Sep takes 92
    # and holds to Feb, Mar takes 95.
    frame = build(
        90.0,
        date(2024, 3, 31),
        [(date(2024, 9, 30), 92.0), (date(2025, 3, 31), 95.0)],
        shape="stepped",
    )
    assert frame["planned"].tolist() == [90.0] * 5 + [92.0] * 6 + [95.0]
    assert starts(frame)[5] == "2024-09-01"
    assert frame["is_target"].tolist() == [False] * 5 + [True] + [False] * 5 + [True]


def test_stepped_quarterly() -> None:
    frame = build(
        10.0, date(2024, 1, 15), [(date(2024, 12, 1), 7.0)], grain="quarter", shape="stepped"
    )
    assert starts(frame) == ["2024-04-01", "2024-07-01", "2024-10-01"]
    assert frame["planned"].tolist() == [10.0, 10.0, 7.0]


# --- build: seasonal ------------------------------------------------------------------------


def test_seasonal_index_is_the_profile() -> None:
    # History = 100 × PROFILE for two years: each month's mean is 100 × its index and the mean
    # of monthly means is 100, so the multiplicative index is PROFILE and additive 100×(P − 1).
    assert seasonal_index(history()).tolist() == pytest.approx(PROFILE)
    assert seasonal_index(history(), "additive").tolist() == pytest.approx(
        [100.0 * (p - 1.0) for p in PROFILE]
    )


def test_seasonal_index_divides_by_the_mean_of_monthly_means() -> None:
    # 13 months Apr 2023–Apr 2024, all 100 except the second April 120: April's mean is 110,
    # the mean of the twelve monthly means is (11 × 100 + 110) / 12 = 100.8333 (the mean of all
    # 13 values, 101.538, would not make the indices average 1). April = 110 / 100.8333 = 1.0909.
    frame = pd.DataFrame(
        {
            "period_start": pd.date_range("2023-04-01", periods=13, freq="MS"),
            "value": [100.0] * 12 + [120.0],
        }
    )
    index = seasonal_index(frame)
    assert index[3] == pytest.approx(110.0 / (1210.0 / 12.0))
    assert index[0] == pytest.approx(100.0 / (1210.0 / 12.0))
    assert index.mean() == pytest.approx(1.0)


def test_seasonal_multiplicative_hand_worked() -> None:
    # March's index is 1.0, so deseasonalised anchors are 90 and 95 and the level is the linear
    # path 90 + 5k/12; planned = level × the month's index. April 2024 = 90.41667 × 0.95 =
    # 85.8958; December 2024 = 93.75 × 1.2 = 112.5; January 2025 = 94.16667 × 1.2 = 113.0.
    frame = build(
        90.0,
        date(2024, 3, 31),
        [(date(2025, 3, 31), 95.0)],
        shape="seasonal",
        seasonal_history=history(),
    )
    months = [t.month for t in frame["period_start"]]
    expected = [(90.0 + 5.0 * k / 12.0) * PROFILE[m - 1] for k, m in enumerate(months, start=1)]
    assert frame["planned"].tolist() == pytest.approx(expected, abs=1e-9)
    assert frame["planned"].iloc[0] == pytest.approx(85.895833, abs=1e-6)
    assert frame["planned"].iloc[8] == pytest.approx(112.5)
    assert frame["planned"].iloc[-1] == 95.0


def test_seasonal_keeps_the_monthly_shape_and_hits_anchors_exactly() -> None:
    # Flat plan from January 2024 (index 1.2) at 120 to January 2025 at 120: the deseasonalised
    # level is 120 / 1.2 = 100 throughout, so planned = 100 × index: the history's exact shape.
    frame = build(
        120.0,
        date(2024, 1, 10),
        [(date(2025, 1, 10), 120.0)],
        shape="seasonal",
        seasonal_history=history(),
    )
    months = [t.month for t in frame["period_start"]]
    assert frame["planned"].tolist() == pytest.approx([100.0 * PROFILE[m - 1] for m in months])
    ratios = frame["planned"].to_numpy()[1:] / frame["planned"].to_numpy()[:-1]
    assert ratios.tolist() == pytest.approx(
        [PROFILE[b - 1] / PROFILE[a - 1] for a, b in itertools.pairwise(months)]
    )
    assert frame["planned"].iloc[-1] == 120.0


def test_seasonal_anchors_in_off_peak_months_are_exact() -> None:
    # Anchors in months whose index is not 1 (Feb 1.1, Jul 0.85, Nov 1.1): each anchor's period
    # reproduces its value exactly (==, not approximately).
    frame = build(
        73.3,
        date(2024, 2, 29),
        [(date(2024, 7, 1), 81.7), (date(2024, 11, 30), 77.9)],
        shape="seasonal",
        seasonal_history=history(),
    )
    targets = frame[frame["is_target"]]
    assert starts(targets) == ["2024-07-01", "2024-11-01"]
    assert targets["planned"].tolist() == [81.7, 77.9]
    # Between anchors: deseasonalised level from 73.3/1.1 (Feb) to 81.7/0.85 (Jul) over 5 months;
    # April (k = 2) = (66.6364 + 2/5 × (96.1176 − 66.6364)) × 0.95 = 74.5325.
    lo, hi = 73.3 / 1.1, 81.7 / 0.85
    assert frame["planned"].iloc[1] == pytest.approx((lo + 0.4 * (hi - lo)) * 0.95)


def test_seasonal_additive_hand_worked() -> None:
    # Additive offsets are 100 × (PROFILE − 1) (March 0): planned = 90 + 5k/12 + offset, e.g.
    # December 2024 = 93.75 + 20 = 113.75, June 2024 = 91.25 − 15 = 76.25.
    frame = build(
        90.0,
        date(2024, 3, 31),
        [(date(2025, 3, 31), 95.0)],
        shape="seasonal",
        seasonal_history=history(),
        seasonal_kind="additive",
    )
    months = [t.month for t in frame["period_start"]]
    expected = [
        90.0 + 5.0 * k / 12.0 + 100.0 * (PROFILE[m - 1] - 1.0)
        for k, m in enumerate(months, start=1)
    ]
    assert frame["planned"].tolist() == pytest.approx(expected)
    assert frame["planned"].iloc[8] == pytest.approx(113.75)
    assert frame["planned"].iloc[2] == pytest.approx(76.25)


def test_seasonal_quarterly_uses_the_mean_of_the_quarters_months() -> None:
    # Quarter indices: Jan–Mar (1.2+1.1+1.0)/3 = 1.1, Apr–Jun 0.9, Jul–Sep 0.9, Oct–Dec 1.1.
    # Baseline 90 in Q Jan–Mar 2024 and 99 in Q Jan–Mar 2025 deseasonalise to 81.818 and 90:
    # level (90 + 9k/4) / 1.1; Apr = 92.25/1.1 × 0.9 = 75.4773, Oct = 96.75, Jan = 99.
    frame = build(
        90.0,
        date(2024, 3, 31),
        [(date(2025, 3, 31), 99.0)],
        grain="quarter",
        shape="seasonal",
        seasonal_history=history(),
    )
    assert starts(frame) == ["2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"]
    assert frame["planned"].tolist() == pytest.approx(
        [92.25 / 1.1 * 0.9, 94.5 / 1.1 * 0.9, 96.75, 99.0]
    )
    assert frame["planned"].iloc[1] == pytest.approx(77.318182, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    baseline=st.floats(1.0, 1e4),
    steps=st.lists(st.tuples(st.integers(1, 7), st.floats(1.0, 1e4)), min_size=1, max_size=4),
    shape=st.sampled_from(["linear", "stepped", "seasonal"]),
    grain=st.sampled_from(["month", "quarter"]),
)
def test_every_anchor_is_hit_exactly(
    baseline: float, steps: list[tuple[int, float]], shape: str, grain: str
) -> None:
    months_per = 1 if grain == "month" else 3
    day, targets = date(2024, 3, 15), []
    for gap, value in steps:
        month = day.month - 1 + gap * months_per
        day = date(day.year + month // 12, month % 12 + 1, 15)
        targets.append((day, value))
    frame = build(
        baseline,
        date(2024, 3, 15),
        targets,
        grain=grain,  # type: ignore[arg-type]
        shape=shape,  # type: ignore[arg-type]
        seasonal_history=history() if shape == "seasonal" else None,
    )
    assert frame["planned"][frame["is_target"]].tolist() == [v for _d, v in targets]
    assert len(frame) == sum(gap for gap, _v in steps)
    assert frame["period_start"].is_monotonic_increasing


# --- build: bad inputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"targets": [(date(2024, 2, 1), 95.0)]},
            "target dates must be after the baseline date 2024-03-31 (got 2024-02-01)",
        ),
        (
            {"targets": [(date(2024, 9, 1), 95.0), (date(2024, 6, 1), 96.0)]},
            "target dates must be in increasing order (2024-06-01 comes after 2024-09-01)",
        ),
        (
            {"targets": [(date(2024, 6, 1), 95.0), (date(2024, 6, 20), 96.0)]},
            "targets dated 2024-06-01 and 2024-06-20 are in the same month (starting "
            "2024-06-01); give one target per month",
        ),
        (
            {
                "baseline_date": date(2024, 4, 2),
                "targets": [(date(2024, 5, 1), 95.0)],
                "grain": "quarter",
            },
            "target date 2024-05-01 is in the baseline's quarter (starting 2024-04-01); give "
            "targets in later quarters",
        ),
        ({"targets": []}, "targets must hold at least one (date, value) pair (got none)"),
        (
            {"targets": pd.DataFrame({"date": [date(2025, 3, 1)], "value": [95.0]})},
            "targets must be a list of (date, value) pairs (got a DataFrame)",
        ),
        (
            {"targets": [(date(2024, 6, 1),)]},
            "target 1 must be a (date, value) pair (got (datetime.date(2024, 6, 1),))",
        ),
        ({"targets": [("2024-06-01", 95.0)]}, "target 1 date must be a date (got '2024-06-01')"),
        (
            {"targets": [(date(2024, 6, 1), math.nan)]},
            "target 1 value must be a finite number (got nan)",
        ),
        ({"baseline_value": "90"}, "baseline_value must be a number (got '90')"),
        ({"grain": "week"}, "grain must be one of 'month', 'quarter', 'year' (got 'week')"),
        ({"shape": "curve"}, "shape must be one of 'linear', 'stepped', 'seasonal' (got 'curve')"),
        (
            {"shape": "seasonal"},
            "shape 'seasonal' needs seasonal_history (monthly period_start, value; at least 12 "
            "months)",
        ),
        (
            {"seasonal_history": history()},
            "seasonal_history is only used with shape 'seasonal' (got shape 'linear'); drop it "
            "or choose shape 'seasonal'",
        ),
        (
            {
                "shape": "seasonal",
                "seasonal_history": history(),
                "grain": "year",
                "targets": [(date(2026, 3, 1), 95.0)],
            },
            "shape 'seasonal' needs grain 'month' or 'quarter' (a year holds every season)",
        ),
        (
            {"shape": "seasonal", "seasonal_history": history(11)},
            "seasonal_history needs at least 12 monthly values covering every calendar month "
            "(got 11; missing Mar)",
        ),
        (
            {"shape": "seasonal", "seasonal_history": history()[["period_start"]]},
            "seasonal_history needs columns period_start and value (missing value)",
        ),
        (
            {"shape": "seasonal", "seasonal_kind": "log", "seasonal_history": history()},
            "seasonal_kind must be one of 'multiplicative', 'additive' (got 'log')",
        ),
    ],
)
def test_build_bad_inputs(kwargs: dict[str, object], text: str) -> None:
    args: dict[str, object] = {
        "baseline_value": 90.0,
        "baseline_date": date(2024, 3, 31),
        "targets": [(date(2025, 3, 31), 95.0)],
    }
    args.update(kwargs)
    with pytest.raises(UsageError, match=message(text)):
        build(**args)  # type: ignore[arg-type]


def test_seasonal_history_bad_rows() -> None:
    shifted = history().assign(period_start=lambda f: f["period_start"] + pd.Timedelta(days=14))
    with pytest.raises(
        UsageError,
        match=message(
            "seasonal_history period_start must be the first day of a month (got 2022-04-15 "
            "00:00:00); aggregate the history to months first"
        ),
    ):
        seasonal_index(shifted)
    repeated = pd.concat([history(), history().iloc[[3]]])
    with pytest.raises(
        UsageError,
        match=message(
            "seasonal_history has more than one value for 2022-07; give one value per month"
        ),
    ):
        seasonal_index(repeated)
    gappy = history(24).drop(index=[5, 17])  # both Septembers gone: 22 months, no September
    with pytest.raises(UsageError, match=r"\(got 22; missing Sep\)$"):
        seasonal_index(gappy)
    blank = history().assign(value=lambda f: f["value"].where(f.index != 2))
    with pytest.raises(
        UsageError,
        match=message("seasonal_history value must be a finite number (got nan for 2022-06-01)"),
    ):
        seasonal_index(blank)
    zero_june = history().assign(
        value=lambda f: f["value"].where(f["period_start"].dt.month != 6, 0.0)
    )
    with pytest.raises(
        UsageError,
        match=message(
            "multiplicative seasonality needs every month's mean to be positive (Jun is 0); "
            "use seasonal_kind='additive'"
        ),
    ):
        seasonal_index(zero_june)
    # Additive seasonality has no such limit.
    assert seasonal_index(zero_june, "additive")[5] < 0


# --- check: RAG -----------------------------------------------------------------------------


def one_period(planned: float, actual: float | None, **kwargs: object) -> pd.Series:
    """``check`` on a single period; the result row."""
    plan = pd.DataFrame({"period_start": [pd.Timestamp("2024-04-01")], "planned": [planned]})
    acts = pd.DataFrame(
        {
            "period_start": [pd.Timestamp("2024-04-01")],
            "value": [math.nan if actual is None else actual],
        }
    )
    return check(plan, acts, **kwargs).iloc[0]  # type: ignore[arg-type]


def test_default_tolerances() -> None:
    assert DEFAULT_GREEN_TOLERANCE == 0.0
    assert DEFAULT_AMBER_TOLERANCE == 0.05


@pytest.mark.parametrize(
    ("actual", "rag"),
    [
        (100.0, "green"),  # on plan
        (101.0, "green"),  # better than plan
        (99.99, "amber"),  # 0.01% short: outside the 0% green tolerance
        (95.0, "amber"),  # exactly 5% short: amber boundary is inclusive
        (94.99, "red"),  # 5.01% short
        (None, ""),  # no actual yet
    ],
)
def test_rag_higher_is_better(actual: float | None, rag: str) -> None:
    assert one_period(100.0, actual, direction="higher_is_better")["rag"] == rag


@pytest.mark.parametrize(
    ("actual", "rag"),
    [(100.0, "green"), (90.0, "green"), (100.01, "amber"), (105.0, "amber"), (105.01, "red")],
)
def test_rag_lower_is_better(actual: float, rag: str) -> None:
    assert one_period(100.0, actual, direction="lower_is_better")["rag"] == rag


@pytest.mark.parametrize(
    ("actual", "rag"),
    [
        (100.0, "green"),
        (102.0, "green"),  # 2% either side inside green 0.02
        (98.0, "green"),
        (102.01, "amber"),
        (95.0, "amber"),  # 5% under: off plan on the low side counts too
        (105.0, "amber"),
        (94.99, "red"),
        (105.01, "red"),
    ],
)
def test_rag_neutral_uses_distance(actual: float, rag: str) -> None:
    row = one_period(100.0, actual, direction="neutral", green_tolerance=0.02)
    assert row["rag"] == rag


def test_rag_boundary_ignores_float_noise() -> None:
    # (0.3 − 0.285) / 0.3 evaluates to 0.05000000000000004 in floats; it is exactly 5% short.
    assert (0.3 - 0.285) / 0.3 > 0.05
    assert one_period(0.3, 0.285, direction="higher_is_better")["rag"] == "amber"
    assert one_period(0.3, 0.2849, direction="higher_is_better")["rag"] == "red"


def test_rag_absolute_tolerances() -> None:
    # Tolerances in metric units: green within 1, amber within 3 of a plan of 50 (lower better).
    kwargs: dict[str, object] = {
        "direction": "lower_is_better",
        "green_tolerance": 1.0,
        "amber_tolerance": 3.0,
        "relative": False,
    }
    assert one_period(50.0, 51.0, **kwargs)["rag"] == "green"
    assert one_period(50.0, 53.0, **kwargs)["rag"] == "amber"
    assert one_period(50.0, 53.1, **kwargs)["rag"] == "red"
    assert one_period(50.0, 10.0, **kwargs)["rag"] == "green"


def test_variance_and_zero_plan() -> None:
    row = one_period(80.0, 76.0, direction="higher_is_better")
    assert row["variance"] == pytest.approx(-4.0)
    assert row["variance_pct"] == pytest.approx(-5.0)  # −4 / 80 × 100
    # variance_pct divides by |planned|: a negative plan beaten upward shows a positive %.
    assert one_period(-10.0, -9.0, direction="higher_is_better")["variance_pct"] == pytest.approx(
        10.0
    )
    # A zero plan: no percentage; any shortfall is red, on plan or better is green.
    zero = one_period(0.0, 1.0, direction="lower_is_better")
    assert math.isnan(zero["variance_pct"]) and zero["rag"] == "red"
    assert one_period(0.0, 0.0, direction="lower_is_better")["rag"] == "green"
    assert one_period(0.0, -1.0, direction="lower_is_better")["rag"] == "green"


def test_check_joins_actuals_to_the_trajectory() -> None:
    plan = build(90.0, date(2024, 3, 31), [(date(2025, 3, 31), 95.0)])
    actuals = pd.DataFrame(
        {
            # Out of order, as text, one period before the plan starts (ignored), one blank.
            "period_start": ["2024-06-01", "2024-03-01", "2024-04-01", "2024-05-01"],
            "value": [90.0, 88.0, 91.0, None],
        }
    )
    out = check(plan, actuals, direction="higher_is_better")
    assert list(out.columns) == list(CHECK_COLUMNS)
    assert len(out) == 12 and starts(out)[0] == "2024-04-01"
    # April: plan 90.41667, actual 91 → green; May: no actual; June: plan 91.25, actual 90 →
    # 1.25 / 91.25 = 1.37% short → amber; July onwards: no actual.
    assert out["rag"].tolist() == ["green", "", "amber"] + [""] * 9
    assert out["variance"].iloc[2] == pytest.approx(-1.25)
    assert out["variance_pct"].iloc[2] == pytest.approx(-1.25 / 91.25 * 100)
    assert out["actual"].iloc[3:].isna().all()

    s = summary(out)
    assert s == {
        "periods": 12,
        "periods_compared": 2,
        "green": 1,
        "amber": 1,
        "red": 0,
        "latest_period": date(2024, 6, 1),
        "latest_rag": "amber",
    }


def test_summary_without_actuals() -> None:
    plan = build(90.0, date(2024, 3, 31), [(date(2024, 6, 30), 95.0)])
    empty = pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[ns]"), "value": []})
    s = summary(check(plan, empty, direction="neutral"))
    assert s["periods"] == 3 and s["periods_compared"] == 0
    assert s["latest_period"] is None and s["latest_rag"] == ""


def test_check_bad_inputs() -> None:
    plan = build(90.0, date(2024, 3, 31), [(date(2024, 6, 30), 95.0)])
    acts = pd.DataFrame({"period_start": ["2024-04-01"], "value": [91.0]})
    cases: list[tuple[dict[str, object], str]] = [
        (
            {"direction": "up"},
            "direction must be one of 'higher_is_better', 'lower_is_better', 'neutral' (got 'up')",
        ),
        (
            {"green_tolerance": -0.01},
            "green_tolerance must be zero or more (got -0.01)",
        ),
        (
            {"green_tolerance": 0.1, "amber_tolerance": 0.05},
            "amber_tolerance must be at least green_tolerance (got amber 0.05 < green 0.1)",
        ),
        ({"amber_tolerance": math.inf}, "amber_tolerance must be a finite number (got inf)"),
    ]
    for kwargs, text in cases:
        args: dict[str, object] = {"direction": "higher_is_better"}
        args.update(kwargs)
        with pytest.raises(UsageError, match=message(text)):
            check(plan, acts, **args)  # type: ignore[arg-type]

    with pytest.raises(
        UsageError,
        match=message("trajectory needs columns period_start and planned (missing planned)"),
    ):
        check(plan.drop(columns="planned"), acts, direction="neutral")
    with pytest.raises(
        UsageError,
        match=message("actuals has more than one row for period 2024-04-01; give one per period"),
    ):
        check(plan, pd.concat([acts, acts]), direction="neutral")
    with pytest.raises(
        UsageError,
        match=message("trajectory planned must be a finite number (got nan for 2024-05-01)"),
    ):
        check(plan.assign(planned=[1.0, math.nan, 2.0]), acts, direction="neutral")
    with pytest.raises(
        UsageError,
        match=message("actuals value must be a finite number (got inf for 2024-04-01)"),
    ):
        check(plan, acts.assign(value=[math.inf]), direction="neutral")
    with pytest.raises(
        UsageError, match=message("actuals value must be a number (got 'n/a' for 2024-04-01)")
    ):
        check(plan, acts.assign(value=["n/a"]), direction="neutral")
    with pytest.raises(
        UsageError,
        match=message("trajectory has no periods; build one with trajectory.build first"),
    ):
        check(plan.iloc[0:0], acts, direction="neutral")
    with pytest.raises(
        UsageError, match=message("summary needs the frame check() returns (missing rag)")
    ):
        summary(plan)
