"""Equality cuts: the breakdown label convention, per-cut sums and the deprivation gap.

Every expected number is worked by hand in the comment beside it. ``constitution.ae_4h`` is
100 × (1 − breaches ÷ attendances) (higher is better); ``constitution.rtt_52w`` is a count
(lower is better).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flowplan.errors import UsageError
from flowplan.metrics.registry import get
from flowplan.monitor.equality import (
    CUT_COLUMNS,
    ETHNIC_GROUPS,
    Cut,
    Dimension,
    all_cuts,
    deprivation_gap,
    enable_hint,
    is_count,
    ordered,
    parse_label,
    sum_by_cut,
)

AE_4H = get("constitution.ae_4h")
RTT_52W = get("constitution.rtt_52w")

# --- labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize("decile", range(1, 11))
def test_every_imd_decile_parses(decile: int) -> None:
    cut = parse_label(f"imd_decile_{decile}")
    assert cut == Cut(Dimension.DEPRIVATION, str(decile), "all")
    assert cut is not None and cut.stored == f"imd_decile_{decile}"


@pytest.mark.parametrize("group", list(ETHNIC_GROUPS))
def test_every_ethnic_group_parses(group: str) -> None:
    cut = parse_label(f"ethnicity_{group}")
    assert cut == Cut(Dimension.ETHNICITY, group)
    assert cut is not None and cut.label == f"ethnicity_{group}"


def test_the_ethnic_groups_are_the_ons_2021_high_level_groups_then_unrecorded() -> None:
    assert list(ETHNIC_GROUPS) == [
        "asian",
        "black",
        "mixed",
        "white",
        "other",
        "not_stated",
        "not_known",
    ]
    assert ETHNIC_GROUPS["asian"] == "Asian, Asian British or Asian Welsh"
    assert ETHNIC_GROUPS["black"] == "Black, Black British, Black Welsh, Caribbean or African"


def test_a_qualified_label_cuts_another_breakdown() -> None:
    cut = parse_label("by_1700:imd_decile_1")
    assert cut == Cut(Dimension.DEPRIVATION, "1", "by_1700")
    assert cut is not None
    assert (cut.label, cut.stored) == ("imd_decile_1", "by_1700:imd_decile_1")
    assert parse_label("C_100:ethnicity_white") == Cut(Dimension.ETHNICITY, "white", "C_100")


@pytest.mark.parametrize(
    "label",
    ["all", "1", "other", "by_1700", "C_100", "adult", "Awaiting: care home place", "imd", ""],
)
def test_labels_of_no_equality_dimension_are_none(label: str) -> None:
    assert parse_label(label) is None


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ("imd_decile_0", "must be 1 to 10"),
        ("imd_decile_11", "must be 1 to 10"),
        ("imd_decile_01", "must be 1 to 10"),
        ("imd_decile_", "must be 1 to 10"),
        ("imd_decile_x", "must be 1 to 10"),
        ("ethnicity_chinese", "must be one of asian, black"),
        ("ethnicity_", "must be one of"),
        ("IMD_Decile_1", "must be lower case"),
        ("by_1700:Ethnicity_White", "must be lower case"),
        ("all:imd_decile_1", "write 'imd_decile_1' for a cut of the whole"),
        (":imd_decile_1", "write 'imd_decile_1'"),
    ],
)
def test_labels_breaking_the_convention_are_refused(label: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse_label(label)


def test_cuts_are_titled_and_ordered() -> None:
    cuts = all_cuts()
    assert len(cuts) == 10 + 7
    assert [c.label for c in all_cuts(Dimension.DEPRIVATION)][:2] == [
        "imd_decile_1",
        "imd_decile_2",
    ]
    assert Cut(Dimension.DEPRIVATION, "1").title == "Decile 1 (most deprived)"
    assert Cut(Dimension.DEPRIVATION, "10").title == "Decile 10 (least deprived)"
    assert Cut(Dimension.DEPRIVATION, "4").title == "Decile 4"
    assert Cut(Dimension.ETHNICITY, "not_stated").title == "Not stated"
    # numeric, not string, order: 10 after 9; ethnicity after deprivation
    labels = ["ethnicity_white", "imd_decile_10", "ethnicity_asian", "imd_decile_9", "imd_decile_2"]
    assert ordered(labels) == [
        "imd_decile_2",
        "imd_decile_9",
        "imd_decile_10",
        "ethnicity_asian",
        "ethnicity_white",
    ]
    assert all_cuts(base="by_1700")[0].stored == "by_1700:imd_decile_1"


def test_count_metrics_are_recognised() -> None:
    assert is_count(RTT_52W)
    assert not is_count(AE_4H)


# --- per-cut sums --------------------------------------------------------------------------------


def _values(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["org", "period_start", "breakdown", "numerator", "denominator"]
    )


def test_ratio_cuts_sum_numerators_and_denominators_before_dividing() -> None:
    values = _values(
        [
            # decile 1: A 30 breaches of 300 (90 %), B 90 of 2,700 (96.67 %)
            ("A", "2024-01-01", "imd_decile_1", 30, 300),
            ("B", "2024-01-01", "imd_decile_1", 90, 2700),
            # decile 10: only A stores it, 10 of 500 → 98 %
            ("A", "2024-01-01", "imd_decile_10", 10, 500),
            # white: A 40 of 400 (90 %) and B 10 of 1,000 (99 %)
            ("A", "2024-01-01", "ethnicity_white", 40, 400),
            ("B", "2024-01-01", "ethnicity_white", 10, 1000),
        ]
    )
    got = sum_by_cut(values, code="FP", defn=AE_4H)
    assert list(got.columns) == list(CUT_COLUMNS)
    assert got["breakdown"].tolist() == ["imd_decile_1", "imd_decile_10", "ethnicity_white"]
    assert got["dimension"].tolist() == ["deprivation", "deprivation", "ethnicity"]
    one = got.iloc[0]
    # (30 + 90) ÷ (300 + 2,700) = 120 ÷ 3,000 = 4 % breaches → 96 % within 4 hours, not the
    # 93.33 % mean of 90 % and 96.67 %
    assert (one["numerator"], one["denominator"]) == (120.0, 3000.0)
    assert one["value"] == pytest.approx(96.0, abs=1e-12)
    assert (one["orgs_reporting"], one["orgs"]) == (2, "A, B")
    # decile 10 from A alone: 100 × (1 − 10 ÷ 500) = 98 %
    assert got.iloc[1]["value"] == pytest.approx(98.0, abs=1e-12)
    assert got.iloc[1]["orgs"] == "A"
    # white: (40 + 10) ÷ (400 + 1,000) = 50 ÷ 1,400 = 3.5714 % → 96.4286 %, not the 94.5 % mean
    # of 90 % and 99 %
    assert got.iloc[2]["value"] == pytest.approx(100 * (1 - 50 / 1400), abs=1e-12)
    assert got.iloc[2]["value"] == pytest.approx(96.4286, abs=1e-4)


def test_a_month_missing_a_member_that_stores_the_cut_is_left_out() -> None:
    values = _values(
        [
            ("A", "2024-01-01", "imd_decile_1", 10, 100),
            ("B", "2024-01-01", "imd_decile_1", 30, 100),
            ("A", "2024-02-01", "imd_decile_1", 10, 100),  # B does not report February
        ]
    )
    got = sum_by_cut(values, code="FP", defn=AE_4H)
    # January only: 100 × (1 − 40 ÷ 200) = 80 %; February would dip to A's 90 % alone
    assert got["period_start"].tolist() == [pd.Timestamp("2024-01-01")]
    assert got["value"].tolist() == pytest.approx([80.0])


def test_count_cuts_are_summed_counts() -> None:
    values = _values(
        [
            ("A", "2024-03-01", "imd_decile_1", 30, 1),
            ("B", "2024-03-01", "imd_decile_1", 20, 1),
        ]
    )
    got = sum_by_cut(values, code="FP", defn=RTT_52W)
    # 30 + 20 = 50 waiters (not 50 ÷ 2 members = 25)
    assert got["value"].tolist() == [50.0]
    assert got["denominator"].tolist() == [1.0]


def test_a_zero_denominator_gives_no_value() -> None:
    values = _values([("A", "2024-01-01", "imd_decile_3", 0, 0)])
    assert math.isnan(float(sum_by_cut(values, code="A", defn=AE_4H)["value"].iloc[0]))


def test_sum_by_cut_refuses_what_it_cannot_read() -> None:
    with pytest.raises(UsageError, match="missing breakdown"):
        sum_by_cut(pd.DataFrame({"org": [], "period_start": []}), code="A", defn=AE_4H)
    with pytest.raises(UsageError, match="not an equality label"):
        sum_by_cut(_values([("A", "2024-01-01", "all", 1, 2)]), code="A", defn=AE_4H)
    with pytest.raises(UsageError, match="unqualified label 'imd_decile_1'"):
        sum_by_cut(_values([("A", "2024-01-01", "x:imd_decile_1", 1, 2)]), code="A", defn=AE_4H)
    empty = sum_by_cut(_values([]), code="A", defn=AE_4H)
    assert empty.empty and list(empty.columns) == list(CUT_COLUMNS)


# --- the deprivation gap -------------------------------------------------------------------------


def _gap_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period_start", "breakdown", "value"])


def test_gap_between_decile_1_and_decile_10_in_words() -> None:
    frame = _gap_frame(
        [
            ("2024-02-01", "imd_decile_1", 70.0),
            ("2024-02-01", "imd_decile_10", 99.0),
            ("2024-03-01", "imd_decile_1", 83.3),
            ("2024-03-01", "imd_decile_5", 90.0),
            ("2024-03-01", "imd_decile_10", 97.0),
            ("2024-03-01", "ethnicity_white", 50.0),  # another dimension: ignored
        ]
    )
    got = deprivation_gap(frame, direction="higher_is_better", unit="%")
    assert got is not None
    # March is the latest month; 83.3 − 97.0 = −13.7 percentage points
    assert (got.period, got.most, got.least) == (pd.Timestamp("2024-03-01"), 1, 10)
    assert got.gap == pytest.approx(-13.7, abs=1e-9)
    assert got.text == (
        "In Mar 2024 the most deprived decile (1) stood at 83.3 % and the least deprived (10) at "
        "97.0 %: a gap of 13.7 percentage points (decile 1 − decile 10 = -13.7), worse for the "
        "most deprived (higher is better)."
    )


def test_gap_uses_the_extreme_deciles_with_data_and_the_direction() -> None:
    frame = _gap_frame([("2024-03-01", "imd_decile_2", 12.0), ("2024-03-01", "imd_decile_9", 9.0)])
    # lower is better: 12 − 9 = +3 minutes, worse for the most deprived
    got = deprivation_gap(frame, direction="lower_is_better", unit="minutes")
    assert got is not None and (got.most, got.least, got.gap) == (2, 9, 3.0)
    assert got.text == (
        "In Mar 2024 the most deprived decile with data (2) stood at 12.0 minutes and the least "
        "deprived with data (9) at 9.0 minutes: a gap of 3.0 minutes (decile 2 − decile 9 = "
        "+3.0), worse for the most deprived (lower is better)."
    )
    # higher is better with the most deprived ahead: worse for the least deprived
    better = deprivation_gap(frame, direction="higher_is_better", unit="minutes")
    assert better is not None and better.text.endswith(
        "worse for the least deprived (higher is better)."
    )
    neutral = deprivation_gap(frame, direction="neutral", unit="count")
    assert neutral is not None and "a gap of 3.0 (decile 2 − decile 9 = +3.0; neither" in (
        neutral.text
    )


def test_no_gap_with_one_decile_and_no_gap_when_equal() -> None:
    one = _gap_frame([("2024-03-01", "imd_decile_1", 80.0), ("2024-02-01", "imd_decile_10", 9)])
    assert deprivation_gap(one, direction="higher_is_better", unit="%") is None
    level = _gap_frame([("2024-03-01", "imd_decile_1", 80.0), ("2024-03-01", "imd_decile_10", 80)])
    got = deprivation_gap(level, direction="higher_is_better", unit="%")
    assert got is not None and got.text.endswith(": no gap.")


# --- what would enable cuts ----------------------------------------------------------------------


def test_enable_hint_names_the_series_and_labels() -> None:
    hint = enable_hint("constitution.ae_4h", AE_4H, "RXN")
    assert hint.startswith(
        "constitution.ae_4h: no equality cuts stored for RXN — load ae_breaches_4h [all] and "
        "ae_attendances [all] as local extracts, one per cut, with breakdown labels imd_decile_1 "
        "… imd_decile_10 (1 = most deprived) and/or ethnicity_asian, ethnicity_black"
    )
    assert "--measure ae_breaches_4h --breakdown imd_decile_1" in hint
    by_1700 = enable_hint("uec.discharges_before_1700", get("uec.discharges_before_1700"), "X")
    assert "by_1700:imd_decile_1 … by_1700:imd_decile_10" in by_1700
    assert "for discharges [by_1700], imd_decile_1 … imd_decile_10" in by_1700
    assert "--breakdown by_1700:imd_decile_1" in by_1700
    count = enable_hint("constitution.rtt_52w", RTT_52W, "QE1")
    assert "load rtt_waiting_over_52w [all] as local extracts" in count
    assert "cannot be cut" in enable_hint("custom", None, "RXN")
    assert "no stored measure for its numerator" in enable_hint(
        "uec.weekend_discharges", get("uec.weekend_discharges"), "RXN"
    )
