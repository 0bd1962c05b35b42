"""Metric values: value = numerator ÷ denominator × scale with the complement, average-per-month
and annual rules, worked examples with their provenance, series alignment and input errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowplan.errors import UsageError
from flowplan.metrics.compute import compute, compute_custom, compute_series
from flowplan.metrics.registry import get


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


def series(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"period_start": pd.to_datetime(list(values)), "value": list(values.values())}
    )


# --- reference values -------------------------------------------------------------------------


def test_ae_4h_complement_rf4_march_2017_type1() -> None:
    # NHSRdatasets ae_attendances (shipped as data/public/nhsr_ae_attendances/ae_attendances.csv,
    # line 2): 2017-03-01, RF4, type 1, 21,289 attendances, 2,879 breaches.
    # 100 × (1 − 2879 ÷ 21289) = 100 × 18410 ÷ 21289 = 86.4766...% → published as 86.48%.
    value = compute(get("uec.ae_4h_type1"), 2879, 21289)
    assert value == pytest.approx(100 * 18410 / 21289, rel=1e-12)
    assert round(value, 2) == 86.48


def test_ae_4h_all_types_rf4_march_2017() -> None:
    # Same file, lines 2-4: types 1, 2, other = 21,289 + 813 + 2,850 = 24,952 attendances and
    # 2,879 + 22 + 6 = 2,907 breaches; 100 × (1 − 2907 ÷ 24952) = 88.3496...%.
    value = compute(get("constitution.ae_4h"), 2907, 24952)
    assert value == pytest.approx(100 * (24952 - 2907) / 24952, rel=1e-12)
    assert round(value, 2) == 88.35
    assert compute(get("uec.ae_4h_all"), 2907, 24952) == value


def test_shipped_row_is_what_the_reference_says(public_data: Path) -> None:
    frame = pd.read_csv(public_data / "nhsr_ae_attendances" / "ae_attendances.csv", nrows=3)
    row = frame.iloc[0]
    assert (row["period"], row["org_code"], str(row["type"])) == ("2017-03-01", "RF4", "1")
    assert (row["attendances"], row["breaches"]) == (21289, 2879)


def test_bcf_delayed_transfers_average_per_month_worked_example() -> None:
    # DOMAIN §2.4: delayed transfers of care per 100,000 population 18+, average per month
    # = delayed days ÷ population × 100,000 ÷ months. Annex I ¶39 of Everyone Counts 2014/15–
    # 2018/19 sets the payment periods Apr–Dec 2014 (9 months) and Jan–Jun 2015 (6 months).
    # Jan–Jun 2015: 1,200 delayed days, 150,000 adults → 1200 ÷ 150000 × 100000 ÷ 6 = 133.33.
    defn = get("bcf.delayed_transfers")
    assert compute(defn, 1200, 150000, months=6) == pytest.approx(400 / 3, rel=1e-12)
    # Apr–Dec 2014: the same monthly rate over 9 months needs 1,800 delayed days.
    assert compute(defn, 1800, 150000, months=9) == pytest.approx(400 / 3, rel=1e-12)
    # One month of 200 delayed days is the same average too.
    assert compute(defn, 200, 150000, months=1) == pytest.approx(400 / 3, rel=1e-12)


def test_bcf_delayed_transfers_needs_months() -> None:
    with pytest.raises(
        UsageError,
        match=message(
            "'bcf.delayed_transfers' is an average per month: give the months the numerator covers "
            "(e.g. months=6)"
        ),
    ):
        compute(get("bcf.delayed_transfers"), 1200, 150000)


def test_bcf_permanent_admissions_per_100000_65plus() -> None:
    # ASCOF 2A(2) form, DOMAIN §2.4: 450 permanent admissions of people 65+ in a year, population
    # 65+ of 90,000 → 450 ÷ 90000 × 100000 = 500 per 100,000 (default months 12: no change).
    defn = get("bcf.permanent_admissions_65plus")
    assert compute(defn, 450, 90000) == pytest.approx(500.0)
    assert compute(defn, 450, 90000, months=12) == pytest.approx(500.0)
    # Half a year's 225 admissions annualise (× 12 ÷ 6) to the same 500 per 100,000.
    assert compute(defn, 225, 90000, months=6) == pytest.approx(500.0)


def test_bcf_reablement_percentage() -> None:
    # 680 of 800 people 65+ discharged into reablement still at home after 91 days → 85.0%.
    assert compute(get("bcf.reablement_91_days"), 680, 800) == pytest.approx(85.0)


def test_criteria_to_reside_and_occupancy() -> None:
    # 120 patients not meeting the criteria to reside in 800 occupied adult beds → 15%;
    # 736 of 800 G&A beds occupied → 92% occupancy.
    assert compute(get("uec.ctr"), 120, 800) == pytest.approx(15.0)
    assert compute(get("uec.ga_bed_occupancy"), 736, 800) == pytest.approx(92.0)


def test_handover_minutes_lost_uses_scale_60() -> None:
    # 150 hours lost over 3,000 handovers → 150 ÷ 3000 × 60 = 3 minutes lost per handover.
    assert compute(get("uec.handover_minutes_lost"), 150, 3000) == pytest.approx(3.0)


def test_count_metric_with_denominator_one() -> None:
    assert compute(get("constitution.rtt_52w"), 37, 1) == 37.0


def test_scale_override() -> None:
    # 450 ÷ 90000 per 1,000 instead of per 100,000 → 5.0.
    assert compute(get("bcf.permanent_admissions_65plus"), 450, 90000, scale=1000) == 5.0
    # A complement with scale 1 gives a fraction: 1 − 2879 ÷ 21289.
    assert compute(get("uec.ae_4h_type1"), 2879, 21289, scale=1) == pytest.approx(18410 / 21289)


def test_months_not_used_by_same_period_ratios() -> None:
    defn = get("uec.ctr")
    assert compute(defn, 120, 800, months=3) == compute(defn, 120, 800)


def test_custom_ratio() -> None:
    # £2,500,000 over 2,000 beds → £1,250 per bed; per month over 12 months → £104.17.
    assert compute_custom(2_500_000, 2000, 1) == 1250.0
    assert compute_custom(2_500_000, 2000, 1, months=12) == pytest.approx(1250 / 12)
    assert compute_custom(1, 8, 100) == 12.5


# --- properties ------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10**7)
positive = st.integers(min_value=1, max_value=10**7)


@given(breaches=counts, extra=counts)
def test_complement_plus_share_is_the_scale(breaches: int, extra: int) -> None:
    attendances = breaches + extra + 1
    within = compute(get("constitution.ae_4h"), breaches, attendances)
    assert within + 100 * breaches / attendances == pytest.approx(100.0, abs=1e-9)
    assert 0.0 <= within <= 100.0


@given(days=counts, population=positive, months=st.integers(min_value=1, max_value=24))
def test_average_per_month_times_months_is_the_whole_period_rate(
    days: int, population: int, months: int
) -> None:
    defn = get("bcf.delayed_transfers")
    per_month = compute(defn, days, population, months=months)
    assert per_month * months == pytest.approx(days / population * 100000, rel=1e-9, abs=1e-9)


@given(admissions=counts, population=positive, months=st.integers(min_value=1, max_value=12))
def test_annual_rule_annualises(admissions: int, population: int, months: int) -> None:
    defn = get("bcf.avoidable_emergency_admissions")
    value = compute(defn, admissions, population, months=months)
    expected = admissions / population * 100000 * 12 / months
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)


# --- input errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda: compute(get("uec.ctr"), 1, 0),
            "denominator is 0 for 'uec.ctr': the ratio is undefined",
        ),
        (
            lambda: compute(get("uec.ctr"), math.nan, 10),
            "numerator must be a finite number (got nan)",
        ),
        (
            lambda: compute(get("uec.ctr"), 1, math.inf),
            "denominator must be a finite number (got inf)",
        ),
        (
            lambda: compute(get("uec.ctr"), "12", 10),  # type: ignore[arg-type]
            "numerator must be a finite number (got '12')",
        ),
        (
            lambda: compute(get("uec.ctr"), True, 10),
            "numerator must be a finite number (got True)",
        ),
        (
            lambda: compute(get("uec.ctr"), 1, 10, scale=0),
            "scale must be a positive number (got 0)",
        ),
        (
            lambda: compute(get("uec.ctr"), 1, 10, scale=-100),
            "scale must be a positive number (got -100)",
        ),
        (
            lambda: compute(get("bcf.delayed_transfers"), 1, 10, months=0),
            "months must be a positive whole number (got 0)",
        ),
        (
            lambda: compute(get("bcf.delayed_transfers"), 1, 10, months=2.5),  # type: ignore[arg-type]
            "months must be a positive whole number (got 2.5)",
        ),
        (
            lambda: compute(get("uec.ctr"), 1, 10, months=-1),
            "months must be a positive whole number (got -1)",
        ),
        (
            lambda: compute_custom(1, 0, 100),
            "denominator is 0 for 'custom': the ratio is undefined",
        ),
        (
            lambda: compute_custom(1, 2, 0),
            "scale must be a positive number (got 0)",
        ),
        (
            lambda: compute_custom(1, 2, 100, months=0),
            "months must be a positive whole number (got 0)",
        ),
    ],
)
def test_bad_inputs(call: object, text: str) -> None:
    assert callable(call)
    with pytest.raises(UsageError, match=message(text)):
        call()


def test_zero_numerator_is_fine() -> None:
    assert compute(get("uec.ctr"), 0, 10) == 0.0
    assert compute(get("constitution.ae_4h"), 0, 10) == 100.0


# --- series ----------------------------------------------------------------------------------


def test_series_inner_join_sorted() -> None:
    breaches = series({"2017-03-01": 2879, "2017-01-01": 3000, "2016-12-01": 100})
    attendances = series({"2017-01-01": 20000, "2017-03-01": 21289, "2017-04-01": 5})
    out = compute_series(get("uec.ae_4h_type1"), breaches, attendances)
    assert list(out.columns) == ["period_start", "numerator", "denominator", "value"]
    assert list(out["period_start"]) == list(pd.to_datetime(["2017-01-01", "2017-03-01"]))
    assert list(out["numerator"]) == [3000.0, 2879.0]
    assert list(out["denominator"]) == [20000.0, 21289.0]
    assert out["value"].tolist() == pytest.approx([85.0, 100 * 18410 / 21289])


def test_series_from_the_shipped_file(public_data: Path) -> None:
    # RF4 type 1 in the shipped NHSRdatasets extract: every month's value equals the complement
    # of its own row, and March 2017 is the 86.48% reference.
    frame = pd.read_csv(public_data / "nhsr_ae_attendances" / "ae_attendances.csv")
    rf4 = frame[(frame["org_code"] == "RF4") & (frame["type"].astype(str) == "1")]
    rf4 = rf4.assign(period_start=pd.to_datetime(rf4["period"]))
    breaches = rf4[["period_start", "breaches"]].rename(columns={"breaches": "value"})
    attendances = rf4[["period_start", "attendances"]].rename(columns={"attendances": "value"})
    out = compute_series(get("uec.ae_4h_type1"), breaches, attendances)
    assert len(out) == len(rf4) >= 12
    expected = 100 * (1 - out["numerator"] / out["denominator"])
    assert out["value"].tolist() == pytest.approx(expected.tolist())
    march = out.loc[out["period_start"] == pd.Timestamp("2017-03-01"), "value"].tolist()
    assert [round(v, 2) for v in march] == [86.48]


def test_series_average_per_month_uses_one_month_per_period() -> None:
    days = series({"2015-01-01": 200, "2015-02-01": 250})
    population = series({"2015-01-01": 150000, "2015-02-01": 150000})
    out = compute_series(get("bcf.delayed_transfers"), days, population)
    assert out["value"].tolist() == pytest.approx([400 / 3, 500 / 3])
    quarterly = compute_series(get("bcf.delayed_transfers"), days, population, months=3)
    assert quarterly["value"].tolist() == pytest.approx([400 / 9, 500 / 9])


def test_series_annual_rule_defaults_to_whole_years_and_can_annualise_months() -> None:
    admissions = series({"2014-04-01": 450})
    population = series({"2014-04-01": 90000})
    defn = get("bcf.permanent_admissions_65plus")
    assert compute_series(defn, admissions, population)["value"].tolist() == [500.0]
    monthly = compute_series(defn, admissions, population, months=1)
    assert monthly["value"].tolist() == [6000.0]


def test_series_scale_override_and_missing_values_dropped() -> None:
    occupied = series({"2024-01-01": 736, "2024-02-01": math.nan})
    available = series({"2024-01-01": 800, "2024-02-01": 800})
    out = compute_series(get("uec.ga_bed_occupancy"), occupied, available, scale=1)
    assert out["value"].tolist() == pytest.approx([0.92])


def test_series_empty_overlap_gives_an_empty_frame() -> None:
    out = compute_series(get("uec.ctr"), series({"2024-01-01": 1}), series({"2024-02-01": 10}))
    assert out.empty
    assert list(out.columns) == ["period_start", "numerator", "denominator", "value"]


@pytest.mark.parametrize(
    ("numerator", "denominator", "text"),
    [
        (
            series({"2024-01-01": 1, "2024-02-01": 2}),
            series({"2024-01-01": 0, "2024-02-01": 0}),
            "denominator is 0 for 'uec.ctr' in 2 period(s): 2024-01-01, 2024-02-01",
        ),
        (
            pd.DataFrame({"period_start": pd.to_datetime(["2024-01-01"]), "count": [1]}),
            series({"2024-01-01": 10}),
            "numerator frame needs columns period_start and value (missing: value)",
        ),
        (
            series({"2024-01-01": 1}),
            pd.DataFrame({"value": [1]}),
            "denominator frame needs columns period_start and value (missing: period_start)",
        ),
        (
            series({"2024-01-01": 1}),
            pd.DataFrame({"period_start": ["2024-01-01"], "value": ["ten"]}),
            "denominator frame: value must be a finite number (got 'ten')",
        ),
        (
            series({"2024-01-01": math.inf}),
            series({"2024-01-01": 10}),
            "numerator frame: value must be a finite number (got inf)",
        ),
        (
            pd.concat([series({"2024-01-01": 1}), series({"2024-01-01": 2})]),
            series({"2024-01-01": 10}),
            "numerator frame has more than one row for period 2024-01-01",
        ),
        (
            pd.DataFrame({"period_start": ["not a date"], "value": [1]}),
            series({"2024-01-01": 10}),
            "numerator frame: period_start must hold dates",
        ),
    ],
)
def test_series_errors(numerator: pd.DataFrame, denominator: pd.DataFrame, text: str) -> None:
    with pytest.raises(UsageError, match=message(text)):
        compute_series(get("uec.ctr"), numerator, denominator)


def test_series_zero_denominators_listed_up_to_five() -> None:
    months = [f"2024-{m:02d}-01" for m in range(1, 8)]
    numerator = series(dict.fromkeys(months, 1.0))
    denominator = series(dict.fromkeys(months, 0.0))
    with pytest.raises(
        UsageError,
        match=message(
            "denominator is 0 for 'uec.ctr' in 7 period(s): 2024-01-01, 2024-02-01, 2024-03-01, "
            "2024-04-01, 2024-05-01 and 2 more"
        ),
    ):
        compute_series(get("uec.ctr"), numerator, denominator)


def test_series_bad_months() -> None:
    with pytest.raises(UsageError, match=message("months must be a positive whole number (got 0)")):
        compute_series(
            get("bcf.delayed_transfers"), series({"2024-01-01": 1}), series({"2024-01-01": 2}), 0
        )
