"""Stored series shaped into the inputs of the review of drivers of pressure, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flowplan.data.orgfiles import OrganisationRecord
from flowplan.data.readers import read
from flowplan.demand.review import review
from flowplan.errors import UsageError
from flowplan.store.review_inputs import review_inputs
from flowplan.store.store import Store
from tests.integration.store.crafted import BEDS_COLS, beds_row, write

AE = (
    "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
    "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
    "pct_emergency_admissions_over_4hours,date\n"
    "RXN,1000,100,300,30,,,January 2024\n"
    "RXN,1100,110,330,33,,,February 2024\n"
    "RXN,1200,120,360,36,,,March 2024\n"
    "RXL,3000,300,700,70,,,January 2024\n"
    "RXL,2900,290,690,69,,,February 2024\n"
    "RXL,2800,280,680,68,,,March 2024\n"
    "RTX,500,50,100,10,,,January 2024\n"
)
BY_TYPE = (
    "period,org_code,type,attendances,breaches,admissions\n"
    "2024-01-01,RXN,1,700,90,280\n"
    "2024-01-01,RXN,other,300,10,0\n"
    "2024-02-01,RXN,1,660,100,300\n"
    "2024-02-01,RXN,other,440,10,0\n"
    "2017-01-01,RAE,1,800,80,200\n"
    "2017-01-01,RAE,other,200,5,0\n"
)
DISCHARGES = (
    "nhs_trust22_code,date,discharged_by_1700,discharged_between_1701_2359,discharged_total\n"
    "RXN,2024-01-31,40,60,100\n"
    "RXN,2024-02-01,,,90\n"
    "RXN,2024-02-02,30,50,80\n"
)
CTR = (
    "nhs_trust22_code,date,do_not_meet_criteria_to_reside\n"
    "RXN,2024-01-31,50\n"
    "RXN,2024-02-01,55\n"
    "RXN,2024-02-02,60\n"
)
DELAYS = (
    "nhs_trust22_name,nhs_trust22_code,date,delay_reason,delay_count\n"
    "Lancashire Teaching,RXN,2024-01-01,Capacity – X,5\n"
    "Lancashire Teaching,RXN,2024-01-01,Hospital process – Y,3\n"
    "Lancashire Teaching,RXN,2024-02-01,Capacity – X,7\n"
)


def loaded(store_url: str, tmp_path: Path) -> Store:
    """A store holding every series the review reads for RXN, and a footprint FP."""
    store = Store(store_url)
    beds = (
        BEDS_COLS
        + beds_row("January 2024", 600, 550)
        + beds_row("February 2024", 600, 560)
        + beds_row("March 2024", 610, 580)
    )
    store.ingest(
        [
            read("trust_ae", write(tmp_path, "ae.csv", AE)),
            read("nhsr_ae_attendances", write(tmp_path, "types.csv", BY_TYPE)),
            read("ga_beds", write(tmp_path, "beds.csv", beds)),
            read("discharges", write(tmp_path, "dis.csv", DISCHARGES)),
            read("criteria_to_reside", write(tmp_path, "ctr.csv", CTR)),
            read("delayed_discharge_reasons", write(tmp_path, "delays.csv", DELAYS)),
        ]
    )
    store.create_footprint("FP", "srg", ["RXN", "RXL", "QE1"])
    store.load_organisations([OrganisationRecord("QE1", None, "icb", None, None, None)])
    return store


def values(frame: pd.DataFrame) -> list[tuple[str, float]]:
    return [
        (f"{p:%Y-%m-%d}", v) for p, v in zip(frame["period_start"], frame["value"], strict=True)
    ]


def test_review_inputs_read_every_series(store_url: str, tmp_path: Path) -> None:
    store = loaded(store_url, tmp_path)
    got = review_inputs(store, "RXN", footprint="FP")
    assert got.org_name == "Lancashire Teaching"
    assert got.missing == []
    assert values(got.attendances) == [
        ("2024-01-01", 1000.0),
        ("2024-02-01", 1100.0),
        ("2024-03-01", 1200.0),
    ]
    assert values(got.admissions)[0] == ("2024-01-01", 300.0)
    assert values(got.dta_over_4h)[-1] == ("2024-03-01", 36.0)
    assert values(got.breaches)[1] == ("2024-02-01", 110.0)
    assert values(got.beds_available) == [
        ("2024-01-01", 600.0),
        ("2024-02-01", 600.0),
        ("2024-03-01", 610.0),
    ]
    assert values(got.beds_occupied)[-1] == ("2024-03-01", 580.0)
    by_type = got.attendances_by_type
    assert by_type.columns.tolist() == ["period_start", "type", "value"]
    assert sorted(zip(by_type["type"], by_type["value"], strict=True)) == [
        ("1", 660.0),
        ("1", 700.0),
        ("other", 300.0),
        ("other", 440.0),
    ]
    assert values(got.discharges) == [
        ("2024-01-31", 100.0),
        ("2024-02-01", 90.0),
        ("2024-02-02", 80.0),
    ]
    # the split by 17:00 is blank on 1 February: not stored, not zero
    assert values(got.discharges_by_1700) == [("2024-01-31", 40.0), ("2024-02-02", 30.0)]
    assert values(got.criteria_to_reside)[1] == ("2024-02-01", 55.0)
    assert got.daily_attendances.empty  # published A&E is monthly
    delays = got.delayed_discharges
    assert sorted(zip(delays["reason"], delays["value"], strict=True)) == [
        ("Capacity – X", 5.0),
        ("Capacity – X", 7.0),
        ("Hospital process – Y", 3.0),
    ]
    # QE1 is an ICB: an area whose A&E would count its trusts again, so it is left out
    assert got.footprint_members == ["RXL", "RXN"]
    assert any("QE1 (icb) left out" in line for line in got.basis)
    att = got.footprint_attendances
    assert att.columns.tolist() == ["period_start", "org", "value"]
    totals = att.groupby("org")["value"].sum().to_dict()
    assert totals == {"RXL": 8700.0, "RXN": 3300.0}
    assert got.footprint_admissions.groupby("org")["value"].sum().to_dict() == {
        "RXL": 2070.0,
        "RXN": 990.0,
    }
    assert "RXN ae_attendances [all] by month: Jan 2024–Mar 2024 (3 months)" in got.basis
    assert any(line.startswith("source: trust_ae (") for line in got.basis)
    assert any(line.startswith("source: delayed_discharge_reasons (") for line in got.basis)

    result = review(got)
    assert all(s.answered for s in result.sections)
    share = next(f for f in result.findings if f.title == "RXN's share of A&E attendances in FP")
    # Jan 1,000 of 4,000 = 25%; Mar 1,200 of 4,000 = 30%
    assert share.value == pytest.approx(5.0)


def test_review_inputs_keep_the_month_a_window_starts_in(store_url: str, tmp_path: Path) -> None:
    store = loaded(store_url, tmp_path)
    got = review_inputs(store, "RXN", start=date(2024, 2, 2), end=date(2024, 3, 31))
    assert [v for _, v in values(got.attendances)] == [1100.0, 1200.0]
    assert values(got.discharges) == [("2024-02-02", 80.0)]
    assert sorted(got.delayed_discharges["value"].tolist()) == [7.0]
    assert got.footprint_members == []
    assert got.footprint_attendances.empty
    assert got.basis[0] == "window: 2024-02-02 to 2024-03-31"
    # the types are stored only to February
    assert values(got.attendances_by_type.query("type == '1'")) == [("2024-02-01", 660.0)]


def test_missing_series_are_named_and_the_review_still_runs(store_url: str, tmp_path: Path) -> None:
    store = loaded(store_url, tmp_path)
    got = review_inputs(store, "RTX")
    assert "RTX ga_beds_available [all]: not stored" in got.missing
    assert "RTX discharges [all]: not stored" in got.missing
    assert "RTX not_meeting_criteria_to_reside [all]: not stored" in got.missing
    assert "RTX ae_attendances by A&E type: not stored in the window" in got.missing
    assert "RTX delayed_discharges by reason: not stored in the window" in got.missing
    assert got.beds_occupied.empty
    result = review(got)
    assert result.missing == got.missing
    assert not result.section("capacity").answered
    assert result.section("demand").answered
    stale = review_inputs(store, "RXN", start=date(2025, 1, 1))
    assert "RXN ae_attendances [all]: nothing stored in the window" in stale.missing
    assert "RXN emergency_admissions [all]: nothing stored in the window" in stale.missing
    with pytest.raises(UsageError, match="none of the series the review reads is stored"):
        review(stale)


def test_attendances_fall_back_to_the_sum_of_types(store_url: str, tmp_path: Path) -> None:
    store = loaded(store_url, tmp_path)
    got = review_inputs(store, "RAE")
    # no total stored for RAE: type 1 800 + other 200
    assert values(got.attendances) == [("2017-01-01", 1000.0)]
    assert any("the sum of the A&E types stored (1, other)" in line for line in got.basis)
    assert "RAE ae_attendances [all]: not stored" not in got.missing


def test_review_inputs_refuse_unusable_requests(store_url: str, tmp_path: Path) -> None:
    store = loaded(store_url, tmp_path)
    with pytest.raises(UsageError, match="unknown organisation 'XXX'"):
        review_inputs(store, "XXX")
    with pytest.raises(UsageError, match="unknown footprint 'NOPE'"):
        review_inputs(store, "RXN", footprint="NOPE")
    with pytest.raises(UsageError, match="RTX is not a member of footprint FP"):
        review_inputs(store, "RTX", footprint="FP")
    with pytest.raises(UsageError, match=r"starts \(2024-03-01\) after it ends \(2024-01-01\)"):
        review_inputs(store, "RXN", start=date(2024, 3, 1), end=date(2024, 1, 1))
