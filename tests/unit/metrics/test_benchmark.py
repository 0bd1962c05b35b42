"""Benchmark engine: spine statistics on small hand-computed peer sets (quartiles by Hyndman &
Fan type 7, checked against numpy and R's default), direction-aware ranks with ties, the ambition
rule in every region for both directions, and bad inputs."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from flowplan.errors import UsageError
from flowplan.metrics.benchmark import QUARTILE_METHOD, SpineRow, ambition, spine


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


# Six peers, sorted 2, 4, 7, 10, 12, 20. Type 7 puts the p-th percentile at 0-based position
# (n − 1) p = 5p: q25 at 1.25 → 4 + 0.25 × (7 − 4) = 4.75; median at 2.5 → 7 + 0.5 × 3 = 8.5;
# q75 at 3.75 → 10 + 0.75 × (12 − 10) = 11.5. R: quantile(c(2, 4, 7, 10, 12, 20), c(.25, .5,
# .75)) gives 4.75 8.5 11.5 (type 7 is R's default). Type 6 (Minitab/SPSS) would give 3.5 and
# 14 for the quartiles, so these numbers pin the method.
PEERS = {"RA1": 10.0, "RB2": 4.0, "RC3": 20.0, "RD4": 7.0, "RE5": 12.0, "RF6": 2.0}


def test_spine_statistics_hand_computed() -> None:
    row = spine(PEERS, "RA1", direction="higher_is_better", national=8.0)
    assert isinstance(row, SpineRow)
    assert (row.q25, row.median, row.q75) == pytest.approx((4.75, 8.5, 11.5))
    assert (row.minimum, row.maximum, row.n) == (2.0, 20.0, 6)
    assert row.value == 10.0
    assert row.national == 8.0 and row.national_source == "given"
    assert row.variance_pct == pytest.approx(25.0)  # (10 − 8) / 8 × 100
    assert row.rank == 3  # 20 and 12 are better
    assert row.percentile == pytest.approx(60.0)  # (6 − 3) / (6 − 1) × 100
    assert row.direction == "higher_is_better"
    # Same quartiles as numpy's linear method, and different from type 6 (weibull).
    values = list(PEERS.values())
    assert QUARTILE_METHOD == "linear"
    assert [row.q25, row.median, row.q75] == pytest.approx(
        np.percentile(values, [25, 50, 75], method="linear").tolist()
    )
    assert np.percentile(values, 25, method="weibull") == pytest.approx(3.5)


def test_spine_without_national_uses_the_median_and_says_so() -> None:
    row = spine(PEERS, "RB2", direction="lower_is_better")
    assert row.national == 8.5 and row.national_source == "median"
    assert row.variance_pct == pytest.approx((4.0 - 8.5) / 8.5 * 100)
    assert row.ambition_reason.endswith("(no national value given: the peer median stands in)")


def test_spine_accepts_a_series_and_drops_blank_peers() -> None:
    series = pd.Series({**PEERS, "RX9": math.nan, "RY0": None})
    row = spine(series, "RE5", direction="higher_is_better", national=8.0)
    assert row.n == 6
    assert row == spine(PEERS, "RE5", direction="higher_is_better", national=8.0)


@pytest.mark.parametrize(
    ("direction", "ranks"),
    [
        # 15 best; 12 and 12 tie and share rank 2; then 10 is 4th and 7 5th ("1224" ranking).
        ("higher_is_better", {"E": 1, "B": 2, "C": 2, "A": 4, "D": 5}),
        # Lower is better: 7 best, 10 2nd, the 12s share 3rd, 15 5th.
        ("lower_is_better", {"D": 1, "A": 2, "B": 3, "C": 3, "E": 5}),
    ],
)
def test_rank_with_ties_and_direction(direction: str, ranks: dict[str, int]) -> None:
    values = {"A": 10.0, "B": 12.0, "C": 12.0, "D": 7.0, "E": 15.0}
    got = {org: spine(values, org, direction=direction, national=11.0).rank for org in values}
    assert got == ranks
    # Percentile: share of the 4 other peers each is at least as good as.
    best = min(ranks, key=lambda o: ranks[o])
    worst = max(ranks, key=lambda o: ranks[o])
    assert spine(values, best, direction=direction).percentile == 100.0
    assert spine(values, worst, direction=direction).percentile == 0.0
    tied = spine(values, "B", direction=direction).percentile
    assert tied == pytest.approx((5 - ranks["B"]) / 4 * 100)


@given(
    values=st.lists(st.integers(-20, 20), min_size=2, max_size=30),
    higher=st.booleans(),
)
def test_rank_matches_scipy_min_ranking(values: list[int], higher: bool) -> None:
    # scipy.stats.rankdata(method="min") is competition ranking; rank the "goodness" ascending
    # from the best, i.e. rank −value for higher-is-better and value for lower-is-better.
    peers = {f"O{i}": float(v) for i, v in enumerate(values)}
    direction = "higher_is_better" if higher else "lower_is_better"
    key = [-v if higher else v for v in values]
    expected = stats.rankdata(key, method="min")
    for i, org in enumerate(peers):
        assert spine(peers, org, direction=direction).rank == int(expected[i])


def test_neutral_spine_has_no_rank_or_rule_ambition() -> None:
    row = spine(PEERS, "RA1", direction="neutral", national=8.0)
    assert row.rank is None and row.percentile is None
    assert row.ambition is None
    assert row.ambition_reason == "none: a neutral metric has no better side"
    assert row.q25 == pytest.approx(4.75)
    given_row = spine(PEERS, "RA1", direction="neutral", ambition=9.0)
    assert given_row.ambition == 9.0 and given_row.ambition_reason == "given"


def test_spine_ambition_by_the_rule() -> None:
    # RA1 = 10, national 8 (higher better): at or above national, below q75 11.5 and above the
    # median 8.5 → the next edge up is q75 = 11.5.
    row = spine(PEERS, "RA1", direction="higher_is_better", national=8.0)
    assert row.ambition == pytest.approx(11.5)
    assert row.ambition_reason == (
        "at or above the national value 8: reach the next quartile edge up, "
        "the 75th percentile 11.5"
    )
    # RD4 = 7 below national 8 → 8.
    assert spine(PEERS, "RD4", direction="higher_is_better", national=8.0).ambition == 8.0
    # National 6: RD4 = 7 is above it and below the median 8.5 → the median.
    row = spine(PEERS, "RD4", direction="higher_is_better", national=6.0)
    assert row.ambition == pytest.approx(8.5)
    assert row.ambition_reason.endswith("the median 8.5")


def test_variance_pct_with_zero_national() -> None:
    assert math.isnan(spine(PEERS, "RA1", direction="neutral", national=0.0).variance_pct)


# --- ambition rule --------------------------------------------------------------------------

# Quartiles used below: q25 80, median 85, q75 90.
EDGES = (80.0, 85.0, 90.0)


@pytest.mark.parametrize(
    ("value", "national", "expected", "reason"),
    [
        # Worse than national → national.
        (
            78.0,
            83.0,
            83.0,
            "below the national value 83 (higher is better): reach the national value",
        ),
        # At the national value → the next edge above (the median 85).
        (
            83.0,
            83.0,
            85.0,
            "at or above the national value 83: reach the next quartile edge up, the median 85",
        ),
        # Between national and q75, on the median → q75.
        (
            85.0,
            83.0,
            90.0,
            "at or above the national value 83: reach the next quartile edge up, "
            "the 75th percentile 90",
        ),
        # Above national but under q25 (national below the quartiles) → q25.
        (
            79.0,
            70.0,
            80.0,
            "at or above the national value 70: reach the next quartile edge up, "
            "the 25th percentile 80",
        ),
        # Top quartile (at or above q75) → hold.
        (
            90.0,
            83.0,
            90.0,
            "in the top quartile (at or above the 75th percentile 90): hold the current value 90",
        ),
        (95.5, 83.0, 95.5, None),
        # In the top quartile but worse than a national value beyond it → national first.
        (92.0, 94.0, 94.0, None),
    ],
)
def test_ambition_higher_is_better(
    value: float, national: float, expected: float, reason: str | None
) -> None:
    goal, why = ambition(value, national, 80.0, 90.0, "higher_is_better", EDGES)
    assert goal == expected
    if reason is not None:
        assert why == reason


@pytest.mark.parametrize(
    ("value", "national", "expected", "reason"),
    [
        (
            92.0,
            87.0,
            87.0,
            "above the national value 87 (lower is better): reach the national value",
        ),
        (
            87.0,
            87.0,
            85.0,
            "at or below the national value 87: reach the next quartile edge down, the median 85",
        ),
        (
            85.0,
            87.0,
            80.0,
            "at or below the national value 87: reach the next quartile edge down, "
            "the 25th percentile 80",
        ),
        (
            80.0,
            87.0,
            80.0,
            "in the best quartile (at or below the 25th percentile 80): hold the current value 80",
        ),
        (91.0, 95.0, 90.0, None),  # better than national 95 but above q75 → q75
    ],
)
def test_ambition_lower_is_better(
    value: float, national: float, expected: float, reason: str | None
) -> None:
    goal, why = ambition(value, national, 80.0, 90.0, "lower_is_better", EDGES)
    assert goal == expected
    if reason is not None:
        assert why == reason


def test_ambition_without_median_steps_between_q25_and_q75() -> None:
    # Default edges are q25 and q75 only: 83 (≥ national 83) goes straight to q75.
    assert ambition(83.0, 83.0, 80.0, 90.0, "higher_is_better") == (
        90.0,
        "at or above the national value 83: reach the next quartile edge up, "
        "the 75th percentile 90",
    )


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(value=finite, national=finite, a=finite, b=finite, m=st.floats(0, 1))
def test_ambition_never_asks_for_worse_and_mirrors(
    value: float, national: float, a: float, b: float, m: float
) -> None:
    q25, q75 = min(a, b), max(a, b)
    median = min(max(q25 + m * (q75 - q25), q25), q75)  # clamp float rounding
    up, _ = ambition(value, national, q25, q75, "higher_is_better", (q25, median, q75))
    down, _ = ambition(-value, -national, -q75, -q25, "lower_is_better", (-q75, -median, -q25))
    assert up >= value
    assert down == -up  # lower-is-better is the mirror image


def test_ambition_bad_inputs() -> None:
    cases: list[tuple[tuple[object, ...], str]] = [
        (
            (85.0, 83.0, 80.0, 90.0, "neutral"),
            "ambition needs direction 'higher_is_better' or 'lower_is_better' (a neutral "
            "metric has no better side)",
        ),
        (
            (85.0, 83.0, 80.0, 90.0, "better"),
            "direction must be one of 'higher_is_better', 'lower_is_better', 'neutral' "
            "(got 'better')",
        ),
        (
            (85.0, 83.0, 91.0, 90.0, "higher_is_better"),
            "q25 must not exceed q75 (got q25 91 > q75 90)",
        ),
        (
            (math.nan, 83.0, 80.0, 90.0, "higher_is_better"),
            "value must be a finite number (got nan)",
        ),
        ((85.0, None, 80.0, 90.0, "higher_is_better"), "national must be a number (got None)"),
        (
            (85.0, 83.0, 80.0, 90.0, "higher_is_better", (80.0, 95.0)),
            "quartile edges must lie between q25 80 and q75 90 (got 95)",
        ),
        (
            (85.0, 83.0, 80.0, 90.0, "higher_is_better", "80,85"),
            "quartile_edges must be a list of numbers such as (q25, median, q75) (got '80,85')",
        ),
    ]
    for args, text in cases:
        with pytest.raises(UsageError, match=message(text)):
            ambition(*args)  # type: ignore[arg-type]


def test_spine_bad_inputs() -> None:
    numeric_code: dict[object, float] = {k: v for k, v in PEERS.items()}
    numeric_code[123] = 1.0
    cases: list[tuple[object, str, dict[str, object], str]] = [
        (PEERS, "ZZ9", {}, "org 'ZZ9' is not among the values; add its value"),
        (
            {**PEERS, "RX9": math.nan},
            "RX9",
            {},
            "org 'RX9' has no value; give it a value to place it on the spine",
        ),
        ({"RA1": 1.0}, "RA1", {}, "a spine needs values for at least 2 organisations (got 1)"),
        (
            {"RA1": 1.0, "RB2": math.nan},
            "RA1",
            {},
            "a spine needs values for at least 2 organisations (got 1)",
        ),
        ({**PEERS, "RX9": "high"}, "RA1", {}, "value for org 'RX9' must be a number (got 'high')"),
        (
            {**PEERS, "RX9": math.inf},
            "RA1",
            {},
            "value for org 'RX9' must be a finite number (got inf)",
        ),
        (numeric_code, "RA1", {}, "org codes in values must be non-empty text (got 123)"),
        (
            pd.Series([1.0, 2.0, 3.0], index=["RA1", "RB2", "RA1"]),
            "RA1",
            {},
            "values has more than one value for org 'RA1'; give one per organisation",
        ),
        (
            [("RA1", 1.0)],
            "RA1",
            {},
            "values must be a mapping or Series of org code → value (got list)",
        ),
        (
            PEERS,
            "RA1",
            {"direction": "up"},
            "direction must be one of 'higher_is_better', 'lower_is_better', 'neutral' (got 'up')",
        ),
        (PEERS, "RA1", {"national": math.nan}, "national must be a finite number (got nan)"),
        (PEERS, "RA1", {"ambition": "more"}, "ambition must be a number (got 'more')"),
    ]
    for values, org, kwargs, text in cases:
        args: dict[str, object] = {"direction": "higher_is_better"}
        args.update(kwargs)
        with pytest.raises(UsageError, match=message(text)):
            spine(values, org, **args)  # type: ignore[arg-type]
