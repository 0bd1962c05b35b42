"""Plan extensions: unknown names refused, an extension's problems and findings reach the user."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from flowplan.errors import Problem
from flowplan.plans.checks import check_plan
from flowplan.plans.document import load_plan
from flowplan.plans.excel import export_workbook, import_workbook
from flowplan.plans.extensions import (
    Extension,
    ExtensionProblem,
    SheetCodec,
    register,
    registered,
)
from flowplan.plans.findings import Finding, Severity
from flowplan.plans.model import Plan, PlanValidationError

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
NAME = "test_budget"


def _validate(data: Any) -> list[ExtensionProblem]:
    if not isinstance(data, dict) or not isinstance(data.get("amount"), int):
        return [ExtensionProblem("amount", "amount must be a whole number", str(data))]
    return []


def _check(plan: Plan, today: date) -> list[Finding]:
    amount = plan.extensions[NAME]["amount"]
    if amount > 100:
        return [Finding("TEST-OVER", Severity.error, f"extensions.{NAME}.amount", "too much")]
    return []


register(Extension(NAME, "a test budget", _validate, _check))


def write(tmp_path: Path, extensions: dict[str, Any]) -> Path:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["extensions"] = extensions
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_registry_holds_the_test_extension() -> None:
    assert registered()[NAME].title == "a test budget"
    with pytest.raises(ValueError, match="registered twice"):
        register(Extension(NAME, "again", _validate, _check))


def test_unknown_extension_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PlanValidationError) as caught:
        load_plan(write(tmp_path, {"financ": {}}))
    (line,) = caught.value.lines()
    assert line.startswith("plan.yaml:0:extensions.financ: unknown plan extension (known: ")


def test_extension_problems_are_located(tmp_path: Path) -> None:
    with pytest.raises(PlanValidationError) as caught:
        load_plan(write(tmp_path, {NAME: {"amount": "lots"}}))
    assert caught.value.lines() == [
        "plan.yaml:0:extensions.test_budget.amount: amount must be a whole number — "
        "{'amount': 'lots'}"
    ]


def test_extension_findings_join_the_full_check(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, {NAME: {"amount": 500}}))
    report = check_plan(plan, today=date(2015, 6, 1))
    assert [f.rule for f in report.findings if f.severity is Severity.error] == ["TEST-OVER"]
    assert not report.passed
    # a check of chosen rules leaves extensions out
    assert check_plan(plan, rules=["PLAN-TOTALS"]).findings == []
    fine = load_plan(write(tmp_path, {NAME: {"amount": 50}}))
    assert check_plan(fine).passed


SHEET = "Test sheet"


def _write_sheet(data: Any, wb: Any) -> None:
    ws = wb.create_sheet(SHEET)
    ws.append(["amount"])
    ws.append([data["amount"]])


def _read_sheet(wb: Any, file: str) -> tuple[Any, list[Problem]]:
    value = wb[SHEET].cell(row=2, column=1).value
    if not isinstance(value, int):
        return None, [Problem(file, 2, f"{SHEET}!amount", "amount must be a whole number", value)]
    return {"amount": value}, []


register(
    Extension(
        "test_sheet",
        "a budget on its own sheet",
        _validate,
        _check,
        SheetCodec((SHEET,), _write_sheet, _read_sheet),
    )
)


def test_extension_with_sheets_round_trips_through_the_workbook(tmp_path: Path) -> None:
    plan = load_plan(DEMO).model_copy(update={"extensions": {"test_sheet": {"amount": 42}}})
    book = export_workbook(plan, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb[SHEET]["A2"].value == 42
    assert "test_sheet" not in str(wb["Header"].values)  # not duplicated as Header JSON
    assert import_workbook(book) == plan
    wb[SHEET]["A2"] = "forty-two"
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    assert caught.value.lines() == [
        "plan.xlsx:2:Test sheet!amount: amount must be a whole number — forty-two"
    ]
