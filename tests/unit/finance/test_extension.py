"""The ``finance`` plan extension: located validation problems, findings in the full check and an
exact Excel round trip of the finance sheets."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from flowplan.finance.examples import example_finance
from flowplan.finance.extension import SHEETS, validate
from flowplan.plans.checks import check_plan
from flowplan.plans.document import load_plan
from flowplan.plans.excel import export_workbook, import_workbook
from flowplan.plans.extensions import registered
from flowplan.plans.model import PlanValidationError

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


def write(tmp_path: Path, finance: Any) -> Path:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["extensions"] = {"finance": finance}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_registered_and_demo_holds_the_example() -> None:
    assert registered()["finance"].workbook is not None
    plan = load_plan(DEMO)
    assert plan.extensions["finance"] == example_finance()
    report = check_plan(plan, today=date(2015, 6, 1))
    assert report.passed
    assert [f.rule for f in report.findings if f.rule.startswith("FIN-")] == []


def test_validation_problems_name_the_path(tmp_path: Path) -> None:
    finance = example_finance()
    finance["financial_plans"][0]["years"][0]["contingency_gbp"] = "£12.5m"
    finance["qipp"][2]["rag"] = "purple"
    with pytest.raises(PlanValidationError) as caught:
        load_plan(write(tmp_path, finance))
    assert caught.value.lines() == [
        "plan.yaml:0:extensions.finance.financial_plans[0].years[0].contingency_gbp: "
        "amount must be a number in pounds, not text — £12.5m",
        "plan.yaml:0:extensions.finance.qipp[2].rag: Input should be 'red', 'amber' or 'green'"
        " — purple",
    ]
    assert [p.path for p in validate({"budget": 1})] == ["budget"]
    assert validate("nonsense")[0].path == ""


def test_cross_field_rules_in_one_object() -> None:
    finance = example_finance()
    finance["financial_plans"][0]["years"][0]["transformation_gbp"] = 25_000_000
    (problem,) = validate(finance)
    assert problem.path == "financial_plans[0].years[0]"
    assert "transformation_gbp is part of non_recurrent_spend_gbp" in problem.rule


def test_findings_join_the_plan_check(tmp_path: Path) -> None:
    finance = example_finance()
    year = finance["financial_plans"][0]["years"][1]  # QE1 2016/17, RL £2,460m
    year["contingency_gbp"] = 12_000_000  # 0.49%: below 0.5% (seed 001 L842)
    year["spend_gbp"]["other"] += 500_000  # keep the balance
    finance["activity"][0]["plan"] = 42_300
    finance["marginal_tariff"][0]["org"] = "00X"
    plan = load_plan(write(tmp_path, finance))
    report = check_plan(plan, today=date(2015, 6, 1))
    assert not report.passed
    assert [(f.rule, f.location) for f in report.findings if f.rule.startswith("FIN-")] == [
        ("FIN-MEMBER", "extensions.finance.marginal_tariff[00X RXN 2015/16].org"),
        (
            "FIN-CONTINGENCY",
            "extensions.finance.financial_plans[QE1].years[2016/17].contingency_gbp",
        ),
        ("FIN-ACTIVITY", "extensions.finance.activity[QE1 2015/16 elective_ordinary].plan"),
    ]


def test_excel_round_trip_is_exact(tmp_path: Path) -> None:
    plan = load_plan(DEMO)
    book = export_workbook(plan, tmp_path / "demo.xlsx")
    wb = openpyxl.load_workbook(book)
    assert [s for s in wb.sheetnames if s in SHEETS] == list(SHEETS)
    finance = wb["Finance"]
    headers = [c.value for c in finance[1]]
    row = dict(zip(headers, [c.value for c in finance[2]], strict=True))
    assert row["org"] == "QE1"
    assert row["contingency_gbp"] == 12_500_000
    assert row["surplus_gbp (calculated)"] == 24_000_000
    marginal = wb["Marginal tariff"]
    mrow = dict(zip([c.value for c in marginal[1]], [c.value for c in marginal[2]], strict=True))
    assert mrow["retained_gbp (calculated)"] == 2_450_000
    assert import_workbook(book) == plan


def test_excel_problems_name_sheet_row_and_column(tmp_path: Path) -> None:
    book = export_workbook(load_plan(DEMO), tmp_path / "demo.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["Finance"]
    col = [c.value for c in ws[1]].index("contingency_gbp") + 1
    ws.cell(row=3, column=col, value="lots")
    qipp = wb["QIPP"]
    qipp.cell(row=4, column=[c.value for c in qipp[1]].index("rag") + 1, value="blue")
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    assert caught.value.lines() == [
        "demo.xlsx:3:Finance!contingency_gbp: amount must be a number in pounds, not text — lots",
        "demo.xlsx:4:QIPP!rag: Input should be 'red', 'amber' or 'green' — blue",
    ]


def test_excel_contract_for_a_missing_year(tmp_path: Path) -> None:
    book = export_workbook(load_plan(DEMO), tmp_path / "demo.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["Contracts"]["B2"] = "2030/31"
    wb.save(book)
    with pytest.raises(PlanValidationError) as caught:
        import_workbook(book)
    assert caught.value.lines() == [
        "demo.xlsx:2:Contracts!year: no Finance row for this org and year — QE1 2030/31"
    ]
