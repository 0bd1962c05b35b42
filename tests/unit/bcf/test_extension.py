"""The ``bcf`` extension: registered, validated with field paths, round-tripped through Excel."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from flowplan.bcf.extension import SHEETS
from flowplan.plans.checks import check_plan
from flowplan.plans.document import load_plan, parse_plan
from flowplan.plans.excel import export_workbook, import_workbook
from flowplan.plans.extensions import registered
from flowplan.plans.model import PlanType, PlanValidationError
from tests.unit.bcf import DEMO, bcf, demo_data, demo_plan, metric


def _refused(change: Any) -> list[str]:
    data = demo_data()
    change(data)
    with pytest.raises(PlanValidationError) as caught:
        parse_plan(yaml.safe_dump(data, sort_keys=False), "yaml", "plan.yaml")
    return caught.value.lines()


def test_extension_is_registered_with_sheets() -> None:
    extension = registered()["bcf"]
    assert extension.workbook is not None
    assert extension.workbook.sheets == SHEETS
    assert SHEETS[0] == "BCF pooled budget"


def test_demo_plan_loads_and_passes() -> None:
    plan = load_plan(DEMO)
    assert plan.type is PlanType.bcf
    assert plan.footprint == "E10000017"
    report = check_plan(plan, today=date(2015, 6, 1))
    assert report.passed
    assert [f for f in report.findings if f.severity != "info"] == []


def test_validation_names_the_path() -> None:
    def change(d: dict[str, Any]) -> None:
        bcf(d)["pooled_budget"][2]["proposed_gbp"] = "£11m"
        metric(d, "bcf.delayed_transfers")["ambitions"][0]["period"] = "jan-2015"
        bcf(d)["metrics"][0]["metric"] = "bcf.permanent_admissions"

    lines = _refused(change)
    assert lines[0] == (
        "plan.yaml:0:extensions.bcf.pooled_budget[2].proposed_gbp: amount must be a number in"
        " pounds, not text — £11m"
    )
    assert len(lines) == 1  # the model refuses first; ids are checked once the shape is right

    def ids(d: dict[str, Any]) -> None:
        metric(d, "bcf.delayed_transfers")["ambitions"][0]["period"] = "jan-2015"
        bcf(d)["metrics"][0]["metric"] = "bcf.permanent_admissions"

    lines = _refused(ids)
    assert lines[0].startswith(
        "plan.yaml:0:extensions.bcf.metrics[0].metric: unknown metric 'bcf.permanent_admissions'"
    )
    assert lines[1] == (
        "plan.yaml:0:extensions.bcf.metrics[2].ambitions[0].period: unknown payment period"
        " (one of apr-2015, oct-2015) — jan-2015"
    )
    assert _refused(lambda d: bcf(d).pop("payment_for_performance")) == [
        "plan.yaml:0:extensions.bcf.payment_for_performance: required field missing"
    ]


def test_excel_round_trip_of_the_bcf_sheets(tmp_path: Path) -> None:
    plan = load_plan(DEMO)
    book = export_workbook(plan, tmp_path / "bcf.xlsx")
    wb = openpyxl.load_workbook(book)
    assert all(name in wb.sheetnames for name in SHEETS)
    assert "pooled_budget" not in str(list(wb["Header"].values))  # not duplicated as JSON
    budget = list(wb["BCF pooled budget"].values)
    assert budget[0][:6] == (
        "scheme",
        "organisation",
        "year",
        "minimum_gbp",
        "proposed_gbp",
        "maximum_gbp",
    )
    assert budget[1][:6] == ("S01", "QE1", "2015/16", 400000, 500000, 600000)
    metrics = list(wb["BCF metrics"].values)
    assert metrics[5][:6] == ("bcf.delayed_transfers", "baseline", 27495, 940000, 325, 9)
    assert import_workbook(book) == plan


def test_a_bad_bcf_cell_is_located_on_its_sheet(tmp_path: Path) -> None:
    book = export_workbook(load_plan(DEMO), tmp_path / "bcf.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["BCF pooled budget"]["E3"] = "lots"  # proposed_gbp of the second line
    wb["BCF conditions"]["B4"] = "maybe"  # status of BCF-NC3
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    assert caught.value.lines() == [
        "bcf.xlsx:3:BCF pooled budget!proposed_gbp: amount must be a number in pounds — lots"
    ]
    wb["BCF pooled budget"]["E3"] = 25000000
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    (line,) = caught.value.lines()
    assert line.startswith("bcf.xlsx:4:BCF conditions!status: ")
    assert line.endswith("— maybe")


def test_a_missing_bcf_sheet_is_reported(tmp_path: Path) -> None:
    book = export_workbook(demo_plan(), tmp_path / "bcf.xlsx")
    wb = openpyxl.load_workbook(book)
    del wb["BCF metrics"]
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    assert caught.value.lines() == ["bcf.xlsx:0:BCF metrics: required sheet missing"]
