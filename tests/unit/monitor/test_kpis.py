"""Actual vs plan for plan KPIs: planned value on the linear path, RAG at its tolerance edges,
SPC icon codes and scheme benefits.

The KPI is the demo plan's S01 (data/demo/plans/lsc_resilience_2015.yaml): G&A bed occupancy
(uec.ga_bed_occupancy, lower is better) from 95.1% in March 2015 through 94.5 (June), 93.6
(September), 92.8 (December) to the 92% target in March 2016 (the UEC recovery plan's ambition).
RAG tolerances are kpis.toml 2025-26.1: green on plan or better, amber up to 5% of plan worse.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from flowplan.monitor.kpis import (
    KPI_COLUMNS,
    KpiActuals,
    kpi_by_breakdown,
    kpi_status,
    load_config,
    plan_kpis,
    planned_path,
    scheme_benefits,
)
from flowplan.plans.model import Kpi, Plan

START = date(2015, 4, 1)

OCCUPANCY = Kpi.model_validate(
    {
        "metric": "uec.ga_bed_occupancy",
        "baseline": 95.1,
        "baseline_date": "2015-03-31",
        "target": 92.0,
        "target_date": "2016-03-31",
        "trajectory": [
            {"date": "2015-06-30", "value": 94.5},
            {"date": "2015-09-30", "value": 93.6},
            {"date": "2015-12-31", "value": 92.8},
            {"date": "2016-03-31", "value": 92.0},
        ],
    }
)


def _actuals(values: dict[str, float]) -> KpiActuals:
    frame = pd.DataFrame(
        {"period_start": pd.to_datetime(list(values)), "value": list(values.values())}
    )
    return KpiActuals(frame, source="test")


def _status(values: dict[str, float], kpi: Kpi = OCCUPANCY) -> dict[str, object]:
    return kpi_status(kpi, _actuals(values), default_baseline_date=START)


def test_config_is_versioned() -> None:
    cfg = load_config()
    assert (cfg.version, cfg.rag.green_tolerance, cfg.rag.amber_tolerance) == (
        "2025-26.1",
        0.0,
        0.05,
    )
    assert cfg.rag.relative is True
    assert cfg.spc.min_points == 5


def test_planned_path_is_linear_between_points_and_holds_the_target() -> None:
    path = planned_path(OCCUPANCY, default_baseline_date=START, through=date(2016, 6, 1))
    by_month = dict(zip(path["period_start"].dt.strftime("%Y-%m"), path["planned"], strict=True))
    assert by_month["2015-03"] == 95.1
    # March (k=0) 95.1 → June (k=3) 94.5: 0.2 a month
    assert by_month["2015-04"] == pytest.approx(94.9, abs=1e-12)
    assert by_month["2015-05"] == pytest.approx(94.7, abs=1e-12)
    assert by_month["2015-06"] == 94.5
    assert by_month["2015-10"] == pytest.approx(93.6 - 0.8 / 3, abs=1e-12)
    assert by_month["2016-03"] == 92.0
    assert [by_month[m] for m in ("2016-04", "2016-05", "2016-06")] == [92.0, 92.0, 92.0]


@pytest.mark.parametrize(
    ("actual", "rag"),
    [
        (94.69, "green"),  # better than plan (lower is better)
        (94.7, "green"),  # on plan: green edge
        (94.71, "amber"),  # just worse than plan
        (94.7 * 1.05, "amber"),  # exactly 5% worse: amber edge, inclusive
        (99.44, "red"),  # just over 5% worse
    ],
)
def test_rag_at_below_and_above_each_tolerance_edge(actual: float, rag: str) -> None:
    row = _status({"2015-05-01": actual})
    assert row["status"] == "ok"
    assert row["planned"] == pytest.approx(94.7, abs=1e-12)
    assert row["rag"] == rag
    assert row["variance"] == pytest.approx(actual - 94.7, abs=1e-9)
    assert row["variance_pct"] == pytest.approx((actual - 94.7) / 94.7 * 100, abs=1e-9)


def test_after_the_target_the_plan_holds_it_and_benefit_is_measured() -> None:
    row = _status({"2016-05-01": 93.0, "2016-06-01": 91.0})
    assert row["latest_period"] == date(2016, 6, 1)
    assert (row["actual"], row["planned"], row["rag"]) == (91.0, 92.0, "green")
    assert row["target_gap"] == pytest.approx(-1.0)
    assert row["planned_change"] == pytest.approx(92.0 - 95.1)
    assert row["actual_change"] == pytest.approx(91.0 - 95.1)
    # (91 − 95.1) ÷ (92 − 95.1) = 132.26% of the planned improvement delivered
    assert row["delivery_pct"] == pytest.approx(4.1 / 3.1 * 100)
    assert (row["periods_compared"], row["green"], row["amber"]) == (2, 1, 1)
    assert row["spc_points"] == 2
    assert "no SPC: 2 month(s)" in str(row["note"])


def test_spc_icon_codes_on_a_shift_down() -> None:
    # 13 months: six around 97, then seven around 95 (a run below the mean: improvement, as
    # lower is better); the 92 target lies below the lower process limit → consistently fails.
    values = [97, 97.2, 96.8, 97.1, 96.9, 97, 95, 95.1, 94.9, 95, 95.2, 94.8, 95]
    months = pd.date_range("2015-03-01", periods=13, freq="MS").strftime("%Y-%m-%d")
    row = _status(dict(zip(months, values, strict=True)))
    assert row["spc_points"] == 13
    assert row["spc_variation"] == "improvement_low"
    assert row["spc_point_type"] == "special_cause_improvement"
    assert row["spc_assurance"] == "consistently_fails"
    assert row["spc_trial_limits"] is False
    assert (row["planned"], row["actual"], row["rag"]) == (92.0, 95.0, "amber")  # 3.26% worse


def test_statuses_and_custom_direction() -> None:
    assert _status({})["status"] == "no_actuals"
    before = _status({"2014-12-01": 96.0})
    assert before["status"] == "before_plan"
    assert "before the baseline month 2015-03" in str(before["note"])
    clash = OCCUPANCY.model_copy(
        update={
            "trajectory": [
                OCCUPANCY.trajectory[0],
                OCCUPANCY.trajectory[0].model_copy(update={"date": date(2015, 6, 1)}),
            ]
        }
    )
    assert _status({"2015-05-01": 94.0}, clash)["status"] == "plan_error"
    custom = Kpi.model_validate(
        {
            "metric": "custom",
            "description": "COPD admissions",
            "unit": "admissions",
            "baseline": 410,
            "target": 328,
            "target_date": "2016-03-31",
        }
    )
    row = kpi_status(
        custom, _actuals({"2015-04-01": 400.0}), default_baseline_date=date(2015, 3, 31)
    )
    assert row["direction"] == "lower_is_better"
    assert "inferred from baseline → target" in str(row["note"])
    # March 410 → March 328 over 12 months: April plans 410 − 82/12 = 403.17; 400 beats it
    assert row["planned"] == pytest.approx(410 - 82 / 12)
    assert row["rag"] == "green"


def test_plan_table_and_scheme_benefits() -> None:
    officer = {
        "name": "A Lead",
        "email": "lead@example.nhs.uk",
        "job_title": "COO",
        "organisation": "RXN",
    }
    plan = Plan.model_validate(
        {
            "id": "test-plan",
            "type": "resilience_capacity",
            "title": "Test",
            "footprint": "LSC-SRG",
            "period_start": "2015-04-01",
            "period_end": "2016-03-31",
            "requirements_version": "2014-15",
            "schemes": [
                {
                    "id": "S01",
                    "title": "Beds",
                    "summary": "s",
                    "section": "minimum",
                    "category": "non_elective",
                    "lead": officer,
                    "kpis": [OCCUPANCY.model_dump(), OCCUPANCY.model_dump()],
                },
                {
                    "id": "S02",
                    "title": "Other",
                    "summary": "s",
                    "section": "minimum",
                    "category": "elective",
                    "lead": officer,
                    "kpis": [OCCUPANCY.model_dump()],
                },
            ],
        }
    )
    table = plan_kpis(
        plan,
        {
            ("S01", 0): _actuals({"2015-05-01": 94.7}),
            ("S01", 1): _actuals({"2015-05-01": 99.44}),
        },
    )
    assert tuple(table.columns) == KPI_COLUMNS
    assert table["rag"].tolist() == ["green", "red", ""]
    assert table["status"].tolist() == ["ok", "ok", "no_actuals"]
    benefits = scheme_benefits(table)
    assert benefits["rag"].tolist() == ["red", ""]
    assert benefits[["kpis", "with_actuals", "green", "red"]].values.tolist() == [
        [2, 2, 1, 1],
        [1, 0, 0, 0],
    ]
    # delivery: (94.7 − 95.1) ÷ (94.7 − 95.1) = 100%; (99.44 − 95.1) ÷ −0.4 = −1085%
    assert benefits["mean_delivery_pct"].iloc[0] == pytest.approx((100 - 4.34 / 0.4 * 100) / 2)
    assert math.isnan(benefits["mean_delivery_pct"].iloc[1])


def test_by_breakdown_rates_each_group_against_the_same_plan() -> None:
    actuals = pd.DataFrame(
        {
            "period_start": pd.to_datetime(["2015-05-01", "2015-05-01"]),
            "breakdown": ["IMD decile 1", "IMD decile 10"],
            "value": [99.44, 94.0],
        }
    )
    got = kpi_by_breakdown(OCCUPANCY, actuals, default_baseline_date=START)
    assert got["breakdown"].tolist() == ["IMD decile 1", "IMD decile 10"]
    assert got["rag"].tolist() == ["red", "green"]
