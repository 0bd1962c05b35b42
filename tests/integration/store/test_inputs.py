"""Stored series shaped into capacity-engine inputs, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowplan.data.readers import read
from flowplan.errors import UsageError
from flowplan.store.inputs import bed_inputs, rtt_inputs
from flowplan.store.store import Store
from tests.integration.store.crafted import BEDS_COLS, beds_row, write

AE = (
    "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
    "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
    "pct_emergency_admissions_over_4hours,date\n"
    "RXN,1000,100,3100,10,,,January 2024\n"
    "RXN,1000,100,2900,10,,,February 2024\n"
    "RXN,1000,100,3100,10,,,March 2024\n"
)


def test_bed_inputs_use_littles_law(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    beds = (
        BEDS_COLS
        + beds_row("January 2024", 600, 500)
        + beds_row("February 2024", 600, 500)
        + beds_row("March 2024", 600, 500)
        + beds_row("April 2024", 600, 550)  # no admissions that month: not used
    )
    store.ingest(
        [
            read("trust_ae", write(tmp_path, "ae.csv", AE)),
            read("ga_beds", write(tmp_path, "beds.csv", beds)),
        ]
    )
    got = bed_inputs(store, "RXN")
    # 2024 is a leap year: 31 + 29 + 31 = 91 days, 9,100 admissions → 100 a day
    assert got.admissions_per_day == pytest.approx(100.0, rel=1e-12)
    assert got.beds_occupied == pytest.approx(500.0, rel=1e-12)
    assert got.beds_available == pytest.approx(600.0, rel=1e-12)
    assert got.implied_los_days == pytest.approx(5.0, rel=1e-12)  # L = λW: 500 = 100 × 5
    assert got.monthly_admissions_per_day == pytest.approx([100.0, 100.0, 100.0], rel=1e-12)
    assert [f"{m:%Y-%m}" for m in got.months] == ["2024-01", "2024-03"]
    with pytest.raises(UsageError, match="no series 'emergency_admissions' for organisation"):
        bed_inputs(store, "RXL")


def test_rtt_inputs_for_an_stp_and_a_specialty(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    flows = (
        "stp20_nhs_code,date,year,month,completed,incomplete,new\n"
        "QE1,2024-01-01,2024,Jan,3100,50000,4650\n"
        "QE1,2024-02-01,2024,Feb,2900,51000,4350\n"
    )
    waits = (
        "stp20_nhs_code,stp20_name,date,year,month,treatment,waits_over_18_weeks,"
        "waits_over_52_weeks\n"
        "QE1,LSC,2024-02-01,2024,Feb,Total,20000,2000\n"
        "QE1,LSC,2024-02-01,2024,Feb,Urology Service,5000,100\n"
    )
    store.ingest(
        [
            read("rtt_flow_stp", write(tmp_path, "f.csv", flows)),
            read("rtt_waits_stp", write(tmp_path, "w.csv", waits)),
        ]
    )
    got = rtt_inputs(store, "QE1")
    # 6,000 clock stops and 9,000 starts over 60 days → per week × 7
    assert got.capacity_per_week == pytest.approx(6000 / 60 * 7, rel=1e-12)
    assert got.referrals_per_week == pytest.approx(9000 / 60 * 7, rel=1e-12)
    assert (got.waiting_list, got.over_18, got.over_52) == (51000.0, 20000.0, 2000.0)
    uro = rtt_inputs(store, "QE1", "Urology Service")
    assert uro.waiting_list == pytest.approx(51000 * 0.25, rel=1e-12)
    assert uro.capacity_per_week == pytest.approx(6000 / 60 * 7 * 0.25, rel=1e-12)
    assert (uro.over_18, uro.over_52) == (5000.0, 100.0)
    assert "25.0%" in uro.basis[-1]
    with pytest.raises(UsageError, match="no over-18-week waits for specialty 'Cardiology'"):
        rtt_inputs(store, "QE1", "Cardiology")
