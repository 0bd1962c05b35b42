"""Plan extensions: unknown names refused, an extension's problems and findings reach the user."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowplan.plans.checks import check_plan
from flowplan.plans.document import load_plan
from flowplan.plans.extensions import Extension, ExtensionProblem, register, registered
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
