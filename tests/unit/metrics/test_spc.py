"""SPC (XmR, Making Data Count) engine: published NHSRplotthedots references, each rule in
isolation, baseline / rebase / outlier screening, assurance, charts and input errors.

Provenance of the reference numbers (repository nhs-r-community/NHSRplotthedots):

* ``vignettes/NHSRplotthedots.Rmd`` at commit 4ffc27f6ee2150c31b693497709d0822c06dccc5, section
  "Stable period": trust RRK, A&E type 1, ``period < 2018-04-01``, value ``breaches``,
  improvement "decrease"; the text reports 8 sequential points in blue (improvement) from the
  ">= 7 points on one side of the mean" rule. The vignette prints no numbers, so the mean and
  limits are worked by hand below from the shipped data.
* ``tests/testthat/test-integration_tests.R`` and its snapshot
  ``tests/testthat/_snaps/integration_tests.md`` at commit
  0c096d813e16e4fe606c37eb70020e74a5dcbbe8: the snapshot stores each result as a serialised R
  data frame (XDR, base64). The doubles below were decoded from it (their IEEE-754 bits are quoted
  in hex) and the point types read from its ``point_type`` column. The package default
  ``screen_outliers = TRUE`` applied there, so those tests pass ``screen_outliers=True``.
* ``vignettes/deviations.Rmd`` (same repository, commit 0718bb7c33a709075973ae8c7b9d5b8fb5aa53b2):
  the series used to show outlier screening, worked by hand below.
"""

from __future__ import annotations

import base64
import itertools
import re
import struct
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowplan.errors import UsageError
from flowplan.metrics.spc import (
    ASSURANCE_MEANINGS,
    FRAME_COLUMNS,
    LIMIT_FACTOR,
    MIN_POINTS,
    TWO_SIGMA_FACTOR,
    VARIATION_MEANINGS,
    SpcResult,
    spc,
    spc_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CORE_COLUMNS = ["date", "value", "mean", "lpl", "upl", "point_type", "special_cause"]


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


def months(n: int, start: str = "2020-01-01") -> pd.DatetimeIndex:
    """``n`` month starts from ``start``."""
    return pd.date_range(start, periods=n, freq="MS")


def chart(values: list[float], **options: object) -> SpcResult:
    """``spc`` over monthly dates."""
    return spc(months(len(values)), values, **options)  # type: ignore[arg-type]


def types(result: SpcResult) -> list[str]:
    return [str(x) for x in result.frame["point_type"]]


def first(result: SpcResult, column: str) -> float:
    """The first value of a numeric frame column."""
    return float(result.frame[column].to_numpy()[0])


def flagged(result: SpcResult, column: str) -> list[int]:
    """Positions where a boolean frame column is true."""
    return [int(i) for i in np.flatnonzero(result.frame[column].to_numpy(dtype=bool))]


def from_bits(hex_bits: str) -> float:
    """A double from its big-endian IEEE-754 bits (as stored in R's XDR serialisation)."""
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.fixture(scope="module")
def ae(public_data: Path) -> pd.DataFrame:
    """NHSRdatasets ``ae_attendances`` as shipped in this repository."""
    frame = pd.read_csv(
        public_data / "nhsr_ae_attendances" / "ae_attendances.csv",
        parse_dates=["period"],
        dtype={"type": str, "org_code": str},
    )
    return frame.sort_values("period").reset_index(drop=True)


# --- (a) published references ----------------------------------------------------------------


def test_vignette_rrk_stable_period_worked_by_hand(ae: pd.DataFrame) -> None:
    """RRK type-1 breaches Apr 2016 - Mar 2018, decrease is better (vignette "Stable period")."""
    rows = ae[(ae["org_code"] == "RRK") & (ae["type"] == "1") & (ae["period"] < "2018-04-01")]
    values = rows["breaches"].tolist()
    assert len(values) == 24
    result = spc(rows["period"], values, improvement="decrease")

    # First principles: mean of the 24 values, mean of the 23 moving ranges, mean ± 2.66 MR.
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    mr = sum(ranges) / len(ranges)
    assert mean == pytest.approx(41085 / 24, rel=1e-15)  # 1711.875 breaches a month
    assert mr == pytest.approx(8325 / 23, rel=1e-15)  # 361.956...
    frame = result.frame
    assert frame["mean"].tolist() == pytest.approx([mean] * 24, rel=1e-12)
    assert frame["lpl"].tolist() == pytest.approx([mean - 2.66 * mr] * 24, rel=1e-12)
    assert frame["upl"].tolist() == pytest.approx([mean + 2.66 * mr] * 24, rel=1e-12)
    assert frame["lpl"].iat[0] == pytest.approx(749.0706521739, rel=1e-12)
    assert frame["upl"].iat[0] == pytest.approx(2674.6793478261, rel=1e-12)

    # "8 sequential points coloured in blue": Feb-Sep 2017, all below the mean; nothing else.
    blue = [str(d.date()) for d in frame.loc[frame["special_cause"] == 1, "date"]]
    assert blue == [f"2017-{m:02d}-01" for m in range(2, 10)]
    assert set(frame.loc[frame["special_cause"] == 1, "point_type"]) == {
        "special_cause_improvement"
    }
    assert flagged(result, "rule_run") == list(range(10, 18))
    assert not frame["rule_outside"].any() and not frame["rule_trend"].any()
    assert not frame["rule_two_of_three"].any()
    assert result.variation == "common_cause"


def test_vignette_rrk_with_the_package_default_outlier_screening(ae: pd.DataFrame) -> None:
    """Same data with NHSRplotthedots' default screening: the 8-month mean-side run still shows
    and the Jan 2017 peak (2,585), inside the unscreened limits, is now above the upper limit."""
    rows = ae[(ae["org_code"] == "RRK") & (ae["type"] == "1") & (ae["period"] < "2018-04-01")]
    values = rows["breaches"].tolist()
    result = spc(rows["period"], values, improvement="decrease", screen_outliers=True)
    ranges = np.abs(np.diff(values))
    kept = ranges[ranges < 3.267 * ranges.mean()]
    assert len(kept) == 22  # only the 931-breach fall Jan→Feb 2017 is screened out
    assert result.frame["mean_moving_range"].iat[0] == pytest.approx(7130 / 22, rel=1e-12)
    jan = result.frame[result.frame["date"] == "2017-01-01"].iloc[0]
    assert bool(jan["rule_outside"]) and jan["point_type"] == "special_cause_concern"
    assert flagged(result, "rule_run") == list(range(10, 18))


def test_package_snapshot_rl4_performance_by_type(ae: pd.DataFrame) -> None:
    """Integration snapshot "ae_rl4_by_type performance": trust RL4, 1 − breaches/attendances,
    one chart per A&E type, improvement "increase", outliers screened (package default)."""
    expected = {
        "1": (
            ("3feb16bbdd7d8d9b", "3fe856cc394766cc", "3fedd6ab81b3b46a"),
            ["common_cause"] * 11
            + ["special_cause_improvement"] * 8
            + ["common_cause"]
            + ["special_cause_concern"] * 4
            + ["common_cause"] * 12,
        ),
        "other": (
            ("3fef9aa3023ac158", "3fef4d04ed31f11e", "3fefe84117439192"),
            ["special_cause_improvement"] * 10
            + ["common_cause"] * 5
            + ["special_cause_concern"] * 9
            + ["special_cause_improvement"] * 7
            + ["common_cause"] * 3
            + ["special_cause_concern", "common_cause"],
        ),
    }
    for kind, (bits, point_types) in expected.items():
        rows = ae[(ae["org_code"] == "RL4") & (ae["type"] == kind)]
        performance = (1 - rows["breaches"] / rows["attendances"]).tolist()
        result = spc(rows["period"], performance, improvement="increase", screen_outliers=True)
        mean, lpl, upl = (from_bits(b) for b in bits)
        assert result.frame["mean"].iat[0] == pytest.approx(mean, rel=1e-12)
        assert result.frame["lpl"].iat[0] == pytest.approx(lpl, rel=1e-12)
        assert result.frame["upl"].iat[0] == pytest.approx(upl, rel=1e-12)
        assert types(result) == point_types
    assert from_bits("3feb16bbdd7d8d9b") == pytest.approx(0.84652512798168, rel=1e-13)


def test_package_snapshot_all_england_performance_fixed_after_12(ae: pd.DataFrame) -> None:
    """Integration snapshot "ae_all performance": every provider summed by month,
    1 − breaches/attendances, ``fix_after_n_points = 12`` (our ``baseline=12``)."""
    totals = ae.groupby("period")[["attendances", "breaches"]].sum().reset_index()
    performance = (1 - totals["breaches"] / totals["attendances"]).tolist()
    result = spc(
        totals["period"], performance, improvement="increase", baseline=12, screen_outliers=True
    )
    frame = result.frame
    assert frame["mean"].tolist() == pytest.approx([from_bits("3fec822f02657506")] * 36, rel=1e-12)
    assert frame["lpl"].tolist() == pytest.approx([from_bits("3feb90a12ca09b5a")] * 36, rel=1e-12)
    assert frame["upl"].tolist() == pytest.approx([from_bits("3fed73bcd82a4eb2")] * 36, rel=1e-12)
    assert frame["mean"].iat[0] == pytest.approx(0.89089155643492, rel=1e-12)
    assert types(result) == (
        ["common_cause"] * 9
        + ["special_cause_concern", "common_cause"]
        + ["special_cause_improvement"] * 8
        + ["common_cause"]
        + ["special_cause_concern"] * 4
        + ["common_cause"] * 5
        + ["special_cause_concern"] * 7
    )
    assert result.variation == "concern_low"


# --- (b) each rule in isolation -------------------------------------------------------------

PAD_UP = [-1.0, 1.0] * 5  # alternating padding ending above the mean
PAD_DOWN = [1.0, -1.0] * 5  # alternating padding ending below the mean


@pytest.mark.parametrize(("length", "fires"), [(6, False), (7, True), (8, True)])
def test_run_above_the_mean(length: int, fires: bool) -> None:
    values = PAD_DOWN + [0.5] * length + PAD_UP
    result = chart(values)
    block = list(range(10, 10 + length))
    assert flagged(result, "rule_run") == (block if fires else [])
    assert flagged(result, "special_cause") == flagged(result, "rule_run")
    assert not result.frame["rule_trend"].any() and not result.frame["rule_outside"].any()
    assert not result.frame["rule_two_of_three"].any()


def test_run_length_is_configurable() -> None:
    values = PAD_DOWN + [0.5] * 6 + PAD_UP
    assert flagged(chart(values, run_length=6), "rule_run") == list(range(10, 16))


@pytest.mark.parametrize(("on_mean", "runs"), [(0.0, []), (0.5, [8, 9, 10, 11, 12, 13, 14, 15])])
def test_a_point_on_the_mean_breaks_a_run(on_mean: float, runs: list[int]) -> None:
    # Mirror-image blocks keep the mean exactly 0, so ``on_mean = 0.0`` sits on the mean.
    up = [0.5] * 3 + [on_mean] + [0.5] * 4
    down = [-x for x in up]
    values = [1.0, -1.0] * 4 + up + [-1.0, 1.0] * 4 + down + [1.0, -1.0] * 4
    result = chart(values)
    assert result.frame["mean"].iat[0] == 0.0
    expected = runs + [r + 16 for r in runs]
    assert flagged(result, "rule_run") == expected
    assert flagged(result, "special_cause") == expected


RISE_6 = [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5]
RISE_7 = [-0.6, -0.4, -0.2, 0.05, 0.2, 0.4, 0.6]


@pytest.mark.parametrize(("trend", "fires"), [(RISE_6, False), (RISE_7, True)])
def test_trend_of_seven_points_six_increases(trend: list[float], fires: bool) -> None:
    values = PAD_UP + trend + PAD_UP
    result = chart(values, improvement="increase")
    block = list(range(10, 10 + len(trend)))
    assert flagged(result, "rule_trend") == (block if fires else [])
    assert flagged(result, "special_cause") == flagged(result, "rule_trend")
    if fires:
        # Coloured by the trend's direction, including the three points below the mean.
        assert {types(result)[i] for i in block} == {"special_cause_improvement"}
        assert (result.frame["value"].iloc[block] < result.frame["mean"].iloc[block]).sum() == 3


def test_falling_trend_and_direction_mapping() -> None:
    values = PAD_DOWN + RISE_7[::-1] + PAD_DOWN
    block = list(range(10, 17))
    assert flagged(chart(values), "rule_trend") == block
    assert {types(chart(values, improvement="increase"))[i] for i in block} == {
        "special_cause_concern"
    }
    assert {types(chart(values, improvement="decrease"))[i] for i in block} == {
        "special_cause_improvement"
    }
    assert {types(chart(values))[i] for i in block} == {"special_cause_neutral"}
    assert set(chart(values).frame["signal_direction"].iloc[block]) == {-1}


def test_an_equal_value_breaks_a_trend() -> None:
    # NHSRplotthedots' own test: c(1:3, 3:6) is not a trend; 7 points but one step is flat.
    values = PAD_UP + [-0.6, -0.4, -0.2, -0.2, 0.2, 0.4, 0.6] + PAD_UP
    assert flagged(chart(values), "rule_trend") == []


def test_a_peak_between_a_rise_and_a_fall_takes_the_fall() -> None:
    rise = [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7]
    fall = [0.5, 0.3, 0.1, -0.1, -0.3, -0.5]
    values = PAD_UP + rise + fall + PAD_DOWN
    result = chart(values, improvement="increase")
    assert flagged(result, "rule_trend") == list(range(10, 23))
    point_types = types(result)
    assert set(point_types[10:16]) == {"special_cause_improvement"}
    assert set(point_types[16:23]) == {"special_cause_concern"}  # the peak (16) and the fall


BASE = [0.0, 1.0] * 10  # mean 0.5, every moving range 1: limits 0.5 ± 2.66


@pytest.mark.parametrize("side", ["upper", "lower"])
def test_a_point_on_a_limit_is_inside_and_just_beyond_it_is_outside(side: str) -> None:
    limit = 0.5 + LIMIT_FACTOR if side == "upper" else 0.5 - LIMIT_FACTOR
    beyond = float(np.nextafter(limit, np.inf if side == "upper" else -np.inf))
    on = chart([*BASE, limit], baseline=20)
    out = chart([*BASE, beyond], baseline=20)
    column = "upl" if side == "upper" else "lpl"
    assert on.frame[column].iat[-1] == limit
    assert flagged(on, "special_cause") == []
    assert flagged(out, "rule_outside") == [20]
    assert flagged(out, "special_cause") == [20]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ([2.5, 0.6, 2.5], [20, 22]),  # two beyond the upper 2σ line, all three above the mean
        ([-1.5, 0.4, -1.5], [20, 22]),  # the same below
        ([2.5, 2.5, 0.6], [20, 21]),
        ([2.5, 0.6, -1.5], []),  # beyond the two lines on opposite sides
        ([2.5, 0.4, 2.5], []),  # the middle point is below the mean (NHSRplotthedots)
        ([2.5, 0.6, 0.6], []),  # only one beyond the line
        ([3.5, 2.5, 0.6], [20]),  # a point outside the limits counts for rule 1 only
    ],
)
def test_two_of_three_beyond_two_sigma(tail: list[float], expected: list[int]) -> None:
    result = chart([*BASE, *tail], baseline=20)
    assert result.frame["upper_two_sigma"].iat[0] == pytest.approx(0.5 + TWO_SIGMA_FACTOR)
    assert result.frame["lower_two_sigma"].iat[0] == pytest.approx(0.5 - TWO_SIGMA_FACTOR)
    if tail[0] == 3.5:
        assert flagged(result, "rule_outside") == expected
        assert flagged(result, "rule_two_of_three") == []
    else:
        assert flagged(result, "rule_two_of_three") == expected
    assert flagged(result, "special_cause") == expected


@pytest.mark.parametrize(
    ("improvement", "point_type", "variation"),
    [
        ("increase", "special_cause_improvement", "improvement_high"),
        ("decrease", "special_cause_concern", "concern_high"),
        ("neutral", "special_cause_neutral", "neutral_high"),
    ],
)
def test_improvement_direction_maps_a_high_signal(
    improvement: str, point_type: str, variation: str
) -> None:
    result = chart([*BASE, 4.0], baseline=20, improvement=improvement)
    assert types(result)[-1] == point_type
    assert result.variation == variation
    assert result.frame["signal_direction"].iat[-1] == 1


@pytest.mark.parametrize(
    ("improvement", "point_type", "variation"),
    [
        ("increase", "special_cause_concern", "concern_low"),
        ("decrease", "special_cause_improvement", "improvement_low"),
        ("neutral", "special_cause_neutral", "neutral_low"),
    ],
)
def test_improvement_direction_maps_a_low_signal(
    improvement: str, point_type: str, variation: str
) -> None:
    result = chart([*BASE, -3.0], baseline=20, improvement=improvement)
    assert types(result)[-1] == point_type
    assert result.variation == variation
    assert result.frame["signal_direction"].iat[-1] == -1


def test_common_cause_series() -> None:
    result = chart(BASE)
    assert set(types(result)) == {"common_cause"}
    assert result.frame["special_cause"].sum() == 0
    assert set(result.frame["signal_direction"]) == {0}
    assert result.variation == "common_cause"


# --- (c) baseline, rebase, outlier screening ------------------------------------------------


def test_baseline_fixes_the_limits() -> None:
    rng = np.random.default_rng(7)
    first = rng.normal(100, 5, 12).round(1).tolist()
    later_a = rng.normal(100, 5, 18).round(1).tolist()
    later_b = (np.asarray(later_a) * 3 + 40).tolist()
    a = chart(first + later_a, baseline=12)
    b = chart(first + later_b, baseline=12)
    mean = float(np.mean(first))
    mr = float(np.mean(np.abs(np.diff(first))))
    for result in (a, b):
        assert result.frame["mean"].tolist() == pytest.approx([mean] * 30, rel=1e-12)
        assert result.frame["upl"].tolist() == pytest.approx([mean + 2.66 * mr] * 30, rel=1e-12)
        assert result.frame["lpl"].tolist() == pytest.approx([mean - 2.66 * mr] * 30, rel=1e-12)
        assert result.frame["mean_moving_range"].iat[-1] == pytest.approx(mr, rel=1e-12)
    # Later points are still judged against the fixed limits, and keep their moving ranges.
    assert b.frame["rule_outside"].iloc[12:].all()
    assert not np.isnan(b.frame["moving_range"].to_numpy()[20])
    unfixed = chart(first + later_b)
    assert unfixed.frame["mean"].iat[0] != pytest.approx(mean)


def test_rebase_starts_segments_with_their_own_limits() -> None:
    low = [10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0]
    high = [30.0, 34.0, 31.0, 33.0, 30.0, 34.0, 31.0, 33.0, 30.0, 34.0]
    dates = months(22)
    result = spc(dates, low + high, rebase=[dates[12].date()])
    frame = result.frame
    assert frame["segment"].tolist() == [0] * 12 + [1] * 10
    for segment, part in ((0, low), (1, high)):
        rows = frame[frame["segment"] == segment]
        mr = float(np.mean(np.abs(np.diff(part))))
        assert rows["mean"].tolist() == pytest.approx([float(np.mean(part))] * len(part))
        assert rows["mean_moving_range"].iat[0] == pytest.approx(mr)
        assert rows["upl"].iat[0] == pytest.approx(np.mean(part) + 2.66 * mr)
    # No moving range across the boundary, so the jump does not widen either segment's limits.
    gaps = frame["moving_range"].to_numpy()
    assert np.isnan(gaps[0]) and np.isnan(gaps[12])
    assert frame["special_cause"].sum() == 0
    whole = spc(dates, low + high)
    assert whole.frame["special_cause"].sum() > 0
    summary = result.segments()
    assert summary["points"].tolist() == [12, 10]
    assert summary["trial_limits"].tolist() == [False, True]
    assert summary["start"].tolist()[1] == pd.Timestamp("2021-01-01")


def test_rules_do_not_look_across_a_rebase() -> None:
    # Four points above the mean end segment 0 and four start segment 1: no run of 7.
    first = [1.0, -1.0] * 4 + [0.5] * 4
    second = [0.5] * 4 + [-1.0, 1.0] * 4
    dates = months(len(first) + len(second))
    result = spc(dates, first + second, rebase=[dates[len(first)]])
    assert result.frame["rule_run"].sum() == 0
    assert chart(first + second).frame["rule_run"].sum() == 8


def test_baseline_applies_within_each_segment_as_in_nhsrplotthedots() -> None:
    low = [10.0, 12.0, 11.0, 13.0, 10.0, 12.0, 11.0, 13.0]
    high = [30.0, 34.0, 31.0, 33.0, 30.0, 90.0, 91.0, 92.0]
    dates = months(16)
    result = spc(dates, low + high, rebase=[dates[8]], baseline=5)
    second = result.frame[result.frame["segment"] == 1]
    assert second["mean"].iat[0] == pytest.approx(np.mean(high[:5]))


def test_rebase_on_the_first_date_changes_nothing_and_short_segments_use_all_points() -> None:
    dates = months(20)
    assert spc(dates, BASE, rebase=[dates[0]]).frame.equals(spc(dates, BASE).frame)
    values = BASE[:14] + [5.0, 6.0, 5.0, 6.0, 5.0, 6.0]
    result = spc(dates, values, rebase=["2021-03-01"], baseline=10)
    tail = result.frame[result.frame["segment"] == 1]
    assert len(tail) == 6
    assert set(tail["mean"]) == {5.5}
    assert set(tail["trial_limits"]) == {True}


def test_outlier_screening_changes_the_mean_moving_range_only_when_on() -> None:
    # The series of the "Deviations from Excel defaults" vignette (treatment of outlying points).
    values = [1.0, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    off = chart(values)
    on = chart(values, screen_outliers=True)
    mean = 35 / 18
    # Moving ranges: fifteen of 1, plus 8 and 9 either side of the 10: 32 / 17 ≈ 1.88. Both 8 and
    # 9 are at least 3.267 × 1.88 ≈ 6.15, so screening leaves fifteen ranges of 1.
    assert off.frame["mean_moving_range"].iat[0] == pytest.approx(32 / 17)
    assert on.frame["mean_moving_range"].iat[0] == pytest.approx(1.0)
    assert off.frame["mean"].iat[0] == pytest.approx(mean)
    assert on.frame["mean"].iat[0] == pytest.approx(mean)
    assert off.frame["upl"].iat[0] == pytest.approx(mean + 2.66 * 32 / 17)
    assert on.frame["upl"].iat[0] == pytest.approx(mean + 2.66)
    assert on.frame["lpl"].iat[0] == pytest.approx(mean - 2.66)
    assert flagged(off, "rule_outside") == [4] and flagged(on, "rule_outside") == [4]
    assert off.frame["moving_range"].iat[4] == 8.0
    steady = chart(BASE, screen_outliers=True)
    assert first(steady, "mean_moving_range") == first(chart(BASE), "mean_moving_range")


def test_constant_series_has_zero_width_limits() -> None:
    result = chart([5.0] * 10, screen_outliers=True)
    assert result.frame["mean_moving_range"].iat[0] == 0.0
    assert first(result, "lpl") == first(result, "upl") == 5.0
    assert result.frame["special_cause"].sum() == 0


# --- (d) assurance --------------------------------------------------------------------------

# BASE: limits 0.5 ± 2.66 = -2.16 to 3.16.


@pytest.mark.parametrize(
    ("improvement", "target", "assurance"),
    [
        ("increase", -3.0, "consistently_passes"),
        ("increase", 4.0, "consistently_fails"),
        ("increase", 1.0, "hit_or_miss"),
        ("decrease", 4.0, "consistently_passes"),
        ("decrease", -3.0, "consistently_fails"),
        ("decrease", 0.0, "hit_or_miss"),
        ("increase", 0.5 + LIMIT_FACTOR, "hit_or_miss"),  # on a limit: within
        ("neutral", 4.0, None),
    ],
)
def test_assurance(improvement: str, target: float, assurance: str | None) -> None:
    result = chart(BASE, improvement=improvement, target=target)
    assert result.assurance == assurance
    assert result.target == target


def test_no_target_no_assurance() -> None:
    result = chart(BASE, improvement="increase")
    assert result.assurance is None and result.target is None
    assert "no target was given" in result.icon_meanings()


def test_assurance_uses_the_latest_segment() -> None:
    values = BASE + [x + 100 for x in BASE]
    dates = months(40)
    result = spc(dates, values, improvement="increase", target=50.0, rebase=[dates[20]])
    assert result.assurance == "consistently_passes"
    assert chart(values, improvement="increase", target=50.0).assurance == "hit_or_miss"


def test_icon_meanings_are_plain_language() -> None:
    result = chart([*BASE, 4.0], baseline=20, improvement="decrease", target=-3.0)
    text = result.icon_meanings()
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Variation (2021-09-01): concern high: ")
    assert VARIATION_MEANINGS["concern_high"] in lines[0]
    assert lines[1].startswith("Assurance (target -3 against process limits -2.16 to 3.16): ")
    assert ASSURANCE_MEANINGS["consistently_fails"] in lines[1]
    neutral = chart(BASE, target=1.0).icon_meanings()
    assert "improvement direction is neutral" in neutral


# --- frame shape and inputs accepted --------------------------------------------------------


def test_frame_columns() -> None:
    result = chart(BASE)
    assert list(result.frame.columns) == list(FRAME_COLUMNS)
    assert list(result.frame.columns[:7]) == CORE_COLUMNS
    assert result.frame["special_cause"].dtype == np.int64
    assert result.improvement == "neutral"


def test_dates_in_any_order_and_form_are_sorted() -> None:
    values = [*BASE, 4.0]
    dates = list(months(len(values)))
    shuffled = np.random.default_rng(3).permutation(len(values))
    as_strings = [str(dates[i].date()) for i in shuffled]
    as_dates = [dates[i].date() for i in shuffled]
    reordered = [values[i] for i in shuffled]
    expected = chart(values).frame
    for given_dates in (as_strings, as_dates, pd.Series([dates[i] for i in shuffled])):
        result = spc(given_dates, reordered)
        pd.testing.assert_frame_equal(result.frame, expected, check_dtype=False)
    assert spc(as_strings, pd.Series(reordered)).frame["value"].tolist() == values
    assert spc(as_strings, np.asarray(reordered)).frame["value"].tolist() == values


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=MIN_POINTS, max_size=60))
def test_properties(raw: list[int]) -> None:
    values = [float(v) for v in raw]
    result = chart(values)
    frame = result.frame
    assert (frame["lpl"] <= frame["mean"]).all() and (frame["mean"] <= frame["upl"]).all()
    rules = frame[["rule_outside", "rule_run", "rule_trend", "rule_two_of_three"]].any(axis=1)
    assert (frame["special_cause"] == rules.astype(int)).all()
    assert ((frame["signal_direction"] != 0) == rules).all()
    assert ((frame["point_type"] == "common_cause") == ~rules).all()
    # Negating the series mirrors every signal exactly (rounding is symmetric).
    mirror = chart([-v for v in values]).frame
    for column in ("rule_outside", "rule_run", "rule_trend", "rule_two_of_three"):
        assert (mirror[column] == frame[column]).all()
    assert (mirror["signal_direction"] == -frame["signal_direction"]).all()
    # Scaling by a power of two is exact: same signals, limits scaled.
    scaled = chart([4 * v for v in values]).frame
    assert (scaled["point_type"] == frame["point_type"]).all()
    assert scaled["upl"].tolist() == (4 * frame["upl"]).tolist()


# --- (e) charts ------------------------------------------------------------------------------


def test_png_chart(tmp_path: Path) -> None:
    result = chart([*BASE, 4.0, 3.0], baseline=20, improvement="increase", target=2.0)
    out = spc_chart(result, tmp_path / "spc.png", "Test chart")
    assert out == tmp_path / "spc.png"
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 550)


def test_svg_and_html_charts(tmp_path: Path) -> None:
    dates = months(22)
    result = spc(dates, BASE + [4.0, -3.0], rebase=[dates[10]], target=1.0)
    svg = spc_chart(result, tmp_path / "spc.svg", "SVG").read_text(encoding="utf-8")
    assert "<svg" in svg
    page = spc_chart(result, tmp_path / "spc.html", "A&E <type 1>").read_text(encoding="utf-8")
    assert "<title>A&amp;E &lt;type 1&gt;</title>" in page
    (encoded,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert base64.b64decode(encoded).startswith(PNG_SIGNATURE)
    assert "Variation (2021-10-01)" in page


def test_chart_bad_paths(tmp_path: Path) -> None:
    result = chart(BASE)
    with pytest.raises(
        UsageError,
        match=message(
            "chart file must end in .png, .svg or .html (got 'spc.jpg'): change its name"
        ),
    ):
        spc_chart(result, tmp_path / "spc.jpg", "x")
    missing = tmp_path / "nowhere" / "spc.png"
    with pytest.raises(
        UsageError,
        match=message(
            f"folder {missing.parent} does not exist: "
            "create it or choose another path for the chart"
        ),
    ):
        spc_chart(result, missing, "x")


WITH_GAP: list[Any] = [None, *months(5, "2020-02-01")]

# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda: chart([1.0, 2.0, 3.0, 4.0]),
            "an SPC chart needs at least 5 points (got 4): supply a longer series",
        ),
        (
            lambda: chart([1.0, 2.0, float("nan"), 4.0, 5.0]),
            "values must be finite numbers (value 3 is nan): remove or fill it",
        ),
        (
            lambda: chart([1.0, 2.0, 3.0, 4.0, float("inf")]),
            "values must be finite numbers (value 5 is inf): remove or fill it",
        ),
        (
            lambda: chart([1.0, 2.0, "3", 4.0, 5.0]),  # type: ignore[list-item]
            "values must be numbers (value 3 is '3')",
        ),
        (
            lambda: spc(months(6), [1.0] * 5),
            "dates and values must be the same length (got 6 dates, 5 values)",
        ),
        (
            lambda: spc(
                ["2020-01-01"] * 2 + [str(d.date()) for d in months(3, "2020-02-01")], [1.0] * 5
            ),
            "dates must all differ (2020-01-01 appears more than once)",
        ),
        (
            lambda: chart(BASE, baseline=21),
            "baseline of 21 points is longer than the series (20 points): use a shorter baseline",
        ),
        (lambda: chart(BASE, baseline=4), "baseline must be at least 5 points (got 4)"),
        (
            lambda: chart(BASE, rebase=["2020-01-15"]),
            "rebase date 2020-01-15 is not one of the dates in the series: "
            "choose a date that has a value",
        ),
        (
            lambda: chart(BASE, rebase=[date(2021, 6, 1)]),
            "the segment 2021-06-01 to 2021-08-01 has 3 point(s) but each segment needs at "
            "least 5: move or drop the rebase date 2021-06-01",
        ),
        (
            lambda: chart(BASE, rebase=["2020-03-01"]),
            "the segment 2020-01-01 to 2020-02-01 has 2 point(s) but each segment needs at "
            "least 5: move or drop the rebase date 2020-03-01",
        ),
        (
            lambda: chart(BASE, improvement="up"),
            "improvement must be one of 'increase', 'decrease', 'neutral' (got 'up')",
        ),
        (lambda: chart(BASE, target=float("nan")), "target must be a finite number (got nan)"),
        (lambda: chart(BASE, target="90%"), "target must be a number or None (got '90%')"),
        (
            lambda: chart(BASE, run_length=1),
            "run_length must be a whole number of 2 or more (got 1)",
        ),
        (
            lambda: chart(BASE, trend_length=True),
            "trend_length must be a whole number of 2 or more (got True)",
        ),
        (
            lambda: spc(WITH_GAP, [1.0] * 6),
            "dates must not be missing (date 1 is empty)",
        ),
    ],
)
def test_bad_inputs(call: object, text: str) -> None:
    with pytest.raises(UsageError, match=message(text)) as caught:
        call()  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_unparseable_dates() -> None:
    with pytest.raises(UsageError, match=r"^dates must all be dates such as 2024-04-01 \(") as e:
        spc(["not a date"] * 5, [1.0] * 5)
    assert "\n" not in str(e.value)
