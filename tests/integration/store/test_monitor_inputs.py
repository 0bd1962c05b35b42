"""Stored series shaped for monitoring: daily escalation indicators and plan KPI actuals, for an
organisation and a footprint (numerators and denominators summed), on both backends.

Thresholds are those of src/flowplan/monitor/opel.toml 2025-26.1 (sources in that file).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flowplan.data.readers import read
from flowplan.errors import UsageError
from flowplan.metrics.registry import get
from flowplan.monitor.opel import opel_levels
from flowplan.plans.model import Plan
from flowplan.store.monitor_inputs import escalation_indicators, metric_actuals, plan_actuals
from flowplan.store.store import Store
from tests.integration.store.crafted import BEDS_COLS, write

AE = (
    "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
    "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
    "pct_emergency_admissions_over_4hours,date\n"
    "RXN,1000,100,3100,310,,,January 2024\n"
)
CTR = (
    "nhs_trust22_code,date,do_not_meet_criteria_to_reside\n"
    "RXN,2024-01-01,50\n"
    "RXN,2024-01-02,49\n"
    "RXL,2024-01-01,30\n"
    "RXL,2024-01-02,31\n"
)


def _beds(org: str, month: str, available: int, occupied: int, adult_occupied: int) -> str:
    """A ga_beds row with the G&A totals and adult occupied beds filled in."""
    return f"{org},{month},{available},{occupied},,{available},{adult_occupied}," + "," * 12 + "\n"


@pytest.fixture()
def store(store_url: str, tmp_path: Path) -> Store:
    opened = Store(store_url)
    beds = (
        BEDS_COLS
        + _beds("RXN", "January 2024", 600, 552, 500)
        + _beds("RXL", "January 2024", 400, 300, 300)
    )
    opened.ingest(
        [
            read("ga_beds", write(tmp_path, "beds.csv", beds)),
            read("criteria_to_reside", write(tmp_path, "ctr.csv", CTR)),
            read("trust_ae", write(tmp_path, "ae.csv", AE)),
        ]
    )
    opened.create_footprint("FP", "srg", ["RXN", "RXL"], "Test footprint")
    return opened


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot(index="date", columns="indicator", values="value")


def test_daily_indicators_of_one_trust(store: Store) -> None:
    got = escalation_indicators(store, "RXN")
    wide = _wide(got.frame)
    jan1, jan2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")
    # monthly occupancy 552 ÷ 600 = 92% on every day of January (a stock, spread as is)
    assert len(wide) == 31
    assert wide["ga_occupancy"].eq(wide["ga_occupancy"].iloc[0]).all()
    assert wide.loc[jan1, "ga_occupancy"] == pytest.approx(92.0, abs=1e-9)
    # daily criteria to reside ÷ monthly adult occupied beds: 50 ÷ 500 = 10%, 49 ÷ 500 = 9.8%
    assert wide.loc[jan1, "nctr_share"] == pytest.approx(10.0, abs=1e-9)
    assert wide.loc[jan2, "nctr_share"] == pytest.approx(9.8, abs=1e-9)
    assert wide["nctr_share"].notna().sum() == 2
    # trolley waits 310 of 3,100 admissions (flows as daily averages: the ratio is unchanged)
    assert wide.loc[jan1, "trolley_waits"] == pytest.approx(10.0, abs=1e-9)
    assert "handover_delay: no data" in got.basis[-1]
    assert got.orgs == ["RXN"]

    levels = opel_levels(got.frame).set_index("date")
    # 1 Jan: occupancy 92 (edge → band 3: 2 × 3 = 6), NCTR 10 (edge → band 2: 1 × 2 = 2),
    # trolley waits 10 (edge → band 2: 1 × 2 = 2): 10 of 21 points = 47.6% → OPEL 2
    assert levels.loc[jan1, "score"] == 10.0
    assert levels.loc[jan1, "max_score"] == 21.0
    assert levels.loc[jan1, "level"] == 2
    # 2 Jan: NCTR 9.8 → band 1 (0 points): 8 of 21 = 38.1% → OPEL 2
    assert (levels.loc[jan2, "score"], levels.loc[jan2, "level"]) == (8.0, 2)
    # 3 Jan: no NCTR value: 8 of the 15 points possible = 53.3% → OPEL 3
    jan3 = pd.Timestamp("2024-01-03")
    assert (levels.loc[jan3, "score"], levels.loc[jan3, "max_score"]) == (8.0, 15.0)
    assert levels.loc[jan3, "level"] == 3

    window = escalation_indicators(store, "RXN", start=date(2024, 1, 2), end=date(2024, 1, 3))
    assert sorted(set(window.frame["date"])) == [jan2, jan3]


def test_footprint_sums_numerators_and_denominators(store: Store) -> None:
    got = escalation_indicators(store, "FP")
    wide = _wide(got.frame)
    jan1 = pd.Timestamp("2024-01-01")
    # (552 + 300) ÷ (600 + 400) = 85.2%, not the mean of 92% and 75% (83.5%)
    assert wide.loc[jan1, "ga_occupancy"] == pytest.approx(85.2, abs=1e-9)
    # (50 + 30) ÷ (500 + 300) = 10%
    assert wide.loc[jan1, "nctr_share"] == pytest.approx(10.0, abs=1e-9)
    # only RXN stores A&E: its own rate
    assert wide.loc[jan1, "trolley_waits"] == pytest.approx(10.0, abs=1e-9)
    assert got.orgs == ["RXL", "RXN"]
    assert "FP (sum of RXL, RXN)" in got.basis[0]
    with pytest.raises(UsageError, match="no stored series for 'NOPE'"):
        escalation_indicators(store, "NOPE")


def test_kpi_actuals_for_an_org_and_the_plan_footprint(store: Store) -> None:
    occupancy = get("uec.ga_bed_occupancy")
    own = metric_actuals(store, "RXN", occupancy)
    assert own.frame is not None
    assert own.frame["value"].tolist() == pytest.approx([92.0])
    plan = Plan.model_validate(
        {
            "id": "fp-plan",
            "type": "resilience_capacity",
            "title": "FP plan",
            "footprint": "FP",
            "period_start": "2023-04-01",
            "period_end": "2024-03-31",
            "requirements_version": "2014-15",
            "schemes": [
                {
                    "id": "S01",
                    "title": "Beds",
                    "summary": "s",
                    "section": "minimum",
                    "category": "non_elective",
                    "lead": {
                        "name": "A Lead",
                        "email": "lead@example.nhs.uk",
                        "job_title": "COO",
                        "organisation": "RXN",
                    },
                    "kpis": [
                        {
                            "metric": "uec.ga_bed_occupancy",
                            "baseline": 90.0,
                            "baseline_date": "2023-03-31",
                            "target": 85.0,
                            "target_date": "2024-03-31",
                        },
                        {
                            "metric": "custom",
                            "description": "x",
                            "unit": "y",
                            "baseline": 1.0,
                            "target": 2.0,
                            "target_date": "2024-03-31",
                        },
                    ],
                }
            ],
        }
    )
    got = plan_actuals(store, plan)
    summed = got[("S01", 0)]
    assert summed.frame is not None
    assert summed.frame["value"].tolist() == pytest.approx([85.2])  # 852 ÷ 1,000
    assert "FP: sum of 2 member(s) (RXL, RXN)" in summed.source
    assert got[("S01", 1)].frame is None
    assert "not a registry metric" in got[("S01", 1)].note
    alone = plan_actuals(store, plan, code="RXL")[("S01", 0)]
    assert alone.frame is not None
    assert alone.frame["value"].tolist() == pytest.approx([75.0])
