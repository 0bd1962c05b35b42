"""``flowplan bcf show|payment`` end to end on the demo BCF plan (data/demo/plans).

Demo payment (docs/bcf.md): pool £20,000,000; April conditions £5,000,000 paid in full; April
metrics 86.67% → £4,333,333.33 paid, £666,666.67 to the contingency plan; October 82.50% →
£8,250,000 paid, £1,750,000 to the contingency plan; total paid £17,583,333.33.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import flowplan.cli.bcf  # noqa: F401  (registers the bcf commands)
from flowplan.plans.document import load_plan
from flowplan.plans.excel import export_workbook
from tests.e2e.conftest import run, run_json

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "data" / "demo" / "plans"
DEMO = PLANS / "lancashire_bcf_2015.yaml"
ACTUALS = PLANS / "lancashire_bcf_2015_actuals.csv"

pytestmark = pytest.mark.usefixtures("home")


def test_show_pooled_budget_conditions_metrics() -> None:
    code, out, err = run("bcf", "show", str(DEMO))
    assert code == 0, err
    assert "Pooled budget 2015/16" in out
    assert "£79,000,000" in out and "£70,000,000" in out and "£9,000,000" in out
    assert "BCF-NC6" in out and "bcf.delayed_transfers" in out
    shown = run_json("bcf", "show", str(DEMO))
    year = shown["pooled_budget"]["2015/16"]
    assert year["by_organisation"] == {"QE1": 70000000, "E10000017": 9000000}
    assert (year["minimum"], year["proposed"], year["maximum"]) == (74700000, 79000000, 83600000)
    assert year["national_minimum_allocation"] == 76000000
    assert shown["metrics"][2]["ambitions"] == {"apr-2015": 310.0, "oct-2015": 300.0}


def test_payment_step_by_step_and_json(tmp_path: Path) -> None:
    code, out, err = run("bcf", "payment", str(DEMO), "--actuals", str(ACTUALS))
    assert code == 0, err
    assert "£17,583,333.33" in out
    assert "86.67% ≥ 70.00%" in out
    assert "improvement delivered 7.5 of 25 planned → 30.00% achieved" in out
    got = run_json("bcf", "payment", str(DEMO), "--actuals", str(ACTUALS))
    assert [
        (t["name"], t["amount"], t["paid"], t["withheld"], round(t["share_achieved"], 4))
        for t in got["tranches"]
    ] == [
        ("April 2015: national conditions", 5000000, 5000000, 0, 1.0),
        (
            "April 2015: local metric, delayed transfers, avoidable emergency admissions",
            5000000,
            4333333.33,
            666666.67,
            0.8667,
        ),
        ("October 2015: all national and local metrics", 10000000, 8250000, 1750000, 0.825),
    ]
    assert got["released_to_contingency"] == 2416666.67
    # the same from the plan's Excel workbook
    book = export_workbook(load_plan(DEMO), tmp_path / "bcf.xlsx")
    assert run_json("bcf", "payment", str(book), "--actuals", str(ACTUALS)) == got


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = run("bcf", "payment", str(DEMO))
    assert (code, err.strip()) == (
        2,
        "--actuals FILE.csv is required (metric,period,numerator,denominator)",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "metric,period,numerator,denominator\nbcf.delayed_transfers,apr-2015,x,940000\n",
        encoding="utf-8",
    )
    code, _, err = run("bcf", "payment", str(DEMO), "--actuals", str(bad))
    assert (code, err.strip()) == (
        2,
        "bad.csv:2:numerator: must be a number ≥ 0 (plain digits) — x",
    )
    code, _, err = run("bcf", "show", str(PLANS / "lsc_resilience_2015.yaml"))
    assert (code, err.strip()) == (
        2,
        "plan 'lsc-resilience-2015' has no Better Care Fund data (extensions.bcf)",
    )
    code, _, err = run("bcf", "show", str(tmp_path / "missing.yaml"))
    assert code == 2 and len(err.strip().splitlines()) == 1
