"""check-table on crafted budget and activity-plan tables (£, K, M, commas and blanks).

The tables imitate the scheme tables of real plan drafts (DOMAIN.md §2), with totals that do
and do not add up; every expected figure below is worked by hand in the comment beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowplan.errors import DataValidationError
from flowplan.plans.findings import Severity
from flowplan.plans.tables import TableKind, check_table


def write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_budget_that_adds_up_passes(tmp_path: Path) -> None:
    # 1.2M + 507K + 1,993,000 = 3,700,000 = £3.700M
    path = write(
        tmp_path,
        "line,proposed\nEscalation beds,£1.2M\nDischarge to assess,£507K\n"
        'Streaming,"£1,993,000"\nTotal,£3.700M\n',
    )
    assert check_table(path, TableKind.budget) == []


def test_budget_total_that_does_not_add_up_names_its_column(tmp_path: Path) -> None:
    # proposed rows: 1,200,000 + 507,000 + 0 (blank) = 1,707,000 against a stated £1.800M;
    # minimum rows: 1,000,000 + 400,000 + 0 = 1,400,000 = stated £1.4M, so only 'proposed' fails.
    path = write(
        tmp_path,
        "line,minimum,proposed\nEscalation beds,£1.0M,£1.2M\nDischarge to assess,£400K,£507K\n"
        "Streaming,,\nTOTAL,£1.4M,£1.800M\n",
    )
    (finding,) = check_table(path, TableKind.budget)
    assert finding.rule == "TABLE-TOTAL"
    assert finding.severity is Severity.error
    assert finding.row == 5
    assert finding.line() == (
        "5: total of 'proposed' does not equal the sum of its rows (tolerance £500) "
        "— stated £1,800,000, expected £1,707,000"
    )


def test_budget_total_tolerance_is_half_the_last_digit(tmp_path: Path) -> None:
    # £3.7M has resolution £100,000 → tolerance £50,000: rows summing to 3,749,000 pass,
    # 3,751,000 fail. Pence-precision totals still get the £1 floor.
    ok = write(tmp_path, "line,cost\na,£3.749M\nTotal,£3.7M\n", "ok.csv")
    bad = write(tmp_path, "line,cost\na,£3.751M\nTotal,£3.7M\n", "bad.csv")
    pence_ok = write(tmp_path, 'line,cost\na,"£ 100.40"\nb,£200.00\nTotals,£ 301.16\n', "p.csv")
    pence_bad = write(tmp_path, "line,cost\na,£100.40\nb,£200.00\nTotals,£302.41\n", "q.csv")
    assert check_table(ok, TableKind.budget) == []
    assert [f.rule for f in check_table(bad, TableKind.budget)] == ["TABLE-TOTAL"]
    assert check_table(pence_ok, TableKind.budget) == []  # 300.40 vs 301.16: within £1
    (f,) = check_table(pence_bad, TableKind.budget)  # 300.40 vs 302.41: £2.01 out
    assert (f.stated, f.expected) == ("£302.41", "£300.40")


def test_budget_minimum_above_maximum(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "line,minimum,maximum,notes\nBeds,£600K,£500K,winter only\nP1,£100K,£150K,\n"
        "Total,£700K,£650K,\n",
    )
    findings = check_table(path, TableKind.budget)
    assert [(f.rule, f.row) for f in findings] == [("TABLE-MIN-MAX", 2), ("TABLE-MIN-MAX", 4)]
    assert findings[0].line() == (
        "2: minimum exceeds maximum on line 'Beds' — stated minimum £600,000, "
        "expected at most the maximum £500,000"
    )


def test_budget_text_in_amount_column_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "line,cost\nBeds,£1.2M\nP1,tbc\nTotal,£1.2M\n")
    with pytest.raises(DataValidationError) as caught:
        check_table(path, TableKind.budget, display="budget.csv")
    assert caught.value.lines() == ["budget.csv:3:cost: not an amount of money — tbc"]


def test_budget_ignore_extra_text_column(tmp_path: Path) -> None:
    path = write(tmp_path, "line,cost,rag\nBeds,£1.2M,green\nTotal,£1.2M,\n")
    with pytest.raises(DataValidationError, match="rag: not an amount"):
        check_table(path, TableKind.budget)
    assert check_table(path, TableKind.budget, ignore=["RAG"]) == []


def test_budget_needs_a_line_column(tmp_path: Path) -> None:
    path = write(tmp_path, "scheme,cost\nBeds,£1M\n")
    with pytest.raises(DataValidationError, match=r"table\.csv:1:line: required column is missing"):
        check_table(path, TableKind.budget, display="table.csv")


def test_budget_two_total_rows_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "line,cost\na,£1\nTotal,£1\nTotal,£1\n")
    with pytest.raises(DataValidationError, match=r":4:line: only one Total row"):
        check_table(path, TableKind.budget)


ACTIVITY = """activity,baseline,growth_pct,growth_value,savings,plan
Non-elective FFCEs,"42,000",2.5%,"43,050",500,"42,550"
First outpatients,"120,000",3,"123,000",,"123,000"
A&E type 1,"98,000",1.5,"99,800","1,000","98,800"
Elective day case,"30,000",2,"30,600",600,"30,100"
"""


def test_activity_plan_flags_growth_and_plan_arithmetic(tmp_path: Path) -> None:
    # Row 2: 42,000 × 1.025 = 43,050 ✓; 43,050 − 500 = 42,550 ✓.
    # Row 3: 120,000 × 1.03 = 123,600 ≠ stated 123,000 ✗; blank savings → plan 123,000 ✓.
    # Row 4: 98,000 × 1.015 = 99,470 ≠ 99,800 ✗; 99,800 − 1,000 = 98,800 ✓.
    # Row 5: 30,000 × 1.02 = 30,600 ✓; 30,600 − 600 = 30,000 ≠ stated 30,100 ✗.
    path = write(tmp_path, ACTIVITY)
    findings = check_table(path, TableKind.activity_plan)
    assert [(f.row, f.rule) for f in findings] == [
        (3, "ACTIVITY-GROWTH"),
        (4, "ACTIVITY-GROWTH"),
        (5, "ACTIVITY-PLAN"),
    ]
    assert [(f.stated, f.expected) for f in findings] == [
        ("123,000", "123,600"),
        ("99,800", "99,470"),
        ("30,100", "30,000"),
    ]


def test_activity_plan_rounding_within_one_unit_passes(tmp_path: Path) -> None:
    # 12,345 × 1.017 = 12,554.865: published as 12,555 (0.135 off) or 12,554 (0.865 off).
    path = write(
        tmp_path,
        "activity,baseline,growth_pct,growth_value\nA,12345,1.7,12555\nB,12345,1.7,12554\n"
        "C,12345,1.7,12556\n",
    )
    (f,) = check_table(path, TableKind.activity_plan)  # 12,556 is 1.135 off
    assert (f.row, f.expected) == (4, "12,554.87")


def test_activity_plan_bad_number_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "activity,baseline,growth_pct,growth_value\nA,12k,2,12240\n")
    with pytest.raises(DataValidationError) as caught:
        check_table(path, TableKind.activity_plan, display="act.csv")
    assert caught.value.lines() == ["act.csv:2:baseline: not a number — 12k"]
