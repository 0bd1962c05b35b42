"""Plans as Excel workbooks: the template layout, exact round trips and located cell problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from flowplan.errors import Problem
from flowplan.finance.extension import SHEETS as FINANCE_SHEETS
from flowplan.metrics.registry import unknown_metric_message
from flowplan.plans import Plan, PlanValidationError, load_plan
from flowplan.plans.excel import SHEETS, export_workbook, import_workbook
from flowplan.plans.extensions import Extension, register

# A permissive extension, registered for these tests: the workbook carries any extension's data
# as JSON, whatever its shape.
NOTES = "test_notes"
register(Extension(NOTES, "free-form notes (tests)", lambda data: [], lambda plan, today: []))

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
BOOK = "demo.xlsx"


@pytest.fixture(scope="module")
def demo() -> Plan:
    return load_plan(DEMO)


def minimal_plan() -> Plan:
    return Plan.model_validate(
        {
            "id": "tiny-plan",
            "type": "resilience_capacity",
            "title": "Tiny plan",
            "footprint": "TINY",
            "period_start": "2015-04-01",
            "period_end": "2016-03-31",
            "requirements_version": "2014-15.1",
        }
    )


def _lead(org: str) -> dict[str, str]:
    return {
        "name": "Pat Lead",
        "email": "pat@example.org",
        "job_title": "Director",
        "organisation": org,
    }


def stp_plan() -> Plan:
    """An STP plan that exercises every sheet, in orders the sheets alone would not keep."""
    return Plan.model_validate(
        {
            "id": "stp-demo-2016",
            "type": "stp_on_a_page",
            "title": "STP plan on a page",
            "footprint": "STP-X",
            "period_start": "2016-04-01",
            "period_end": "2021-03-31",
            "version": 3,
            "status": "submitted",
            "lock_deadline": "2017-03-31",
            "locked_years": ["2016/17", "2017/18"],
            "requirements_version": "2016-09.1",
            "lead_commissioner": "00X",
            "lead_provider": "RXA",
            "population": 1200000,
            "members": [
                {"code": "00X", "name": "Some CCG", "roles": ["produces"], "org_type": "ccg"},
                {
                    "code": "RXA",
                    "name": "Some Trust",
                    "roles": ["engaged", "triangulation"],
                    "signatory": False,
                },
            ],
            "signoffs": [
                {"org": "00X", "user": "ann", "at": "2016-10-21T09:30:00", "note": "=agreed"},
                {
                    "org": "RXA",
                    "user": "bob",
                    "at": datetime(2016, 10, 22, 8, 0, 0, 123456, tzinfo=UTC),
                },
            ],
            "funding": [
                {
                    "kind": "stf",
                    "description": "Sustainability and Transformation Fund",
                    "amount_gbp": Decimal("11541476.16"),
                    "year": "2016/17",
                    "recurrent": True,
                }
            ],
            "stated_totals": {"total_funding_gbp": Decimal("11541476.16")},
            "schemes": [
                {
                    "id": "I1",
                    "title": "Innovation first",
                    "summary": "Listed before the minimum schemes.",
                    "section": "innovation",
                    "category": "digital",
                    "lead": _lead("00X"),
                    "wte": [
                        {"staff_group": "other", "wte": 1.5},
                        {"staff_group": "doctor", "wte": 0.25},
                    ],
                    "additional_procedures": 120,
                    "costs": [
                        {"year": "2017/18", "amount_gbp": 250000.5, "recurrent": True},
                        {"year": "2016/17", "amount_gbp": -1000, "description": "savings"},
                    ],
                },
                {
                    "id": "M1",
                    "title": "Priorities",
                    "summary": "Meets STP01.",
                    "section": "minimum",
                    "category": "elective",
                    "requirements": ["STP01", "STP02"],
                    "lead": _lead("RXA"),
                    "organisations": ["RXA", "00X"],
                    "kpis": [
                        {
                            "metric": "custom",
                            "description": "Ratio",
                            "unit": "%",
                            "baseline": 1.0,
                            "target": 2.5,
                            "target_date": "2018-03-31",
                            "numerator": 5.0,
                            "denominator": 200.0,
                            "trajectory": [
                                {"date": "2017-03-31", "value": 1.75},
                                {"date": "2018-03-31", "value": 2.5},
                            ],
                        }
                    ],
                    "activity_effects": [
                        {
                            "target": "streams.ed_walk_in.volume",
                            "change_pct": -2.5,
                            "end": "2019-03-31",
                        }
                    ],
                    "minimum_gbp": 1000,
                    "maximum_gbp": 2000,
                    "workstream": "Acute",
                    "resources": "Two analysts",
                    "governance": "STP board",
                },
            ],
            "milestones": [
                {"id": "A", "title": "Start", "duration_days": 0},
                {
                    "id": "B",
                    "title": "Next",
                    "scheme": "M1",
                    "duration_days": 9,
                    "depends_on": ["A"],
                },
            ],
            "risks": [
                {
                    "id": "R1",
                    "description": "Money",
                    "likelihood": 2,
                    "impact": 5,
                    "owner": "ann",
                    "contingency_gbp": 50000,
                }
            ],
            "workstreams": ["Acute", "Community", "Digital"],
            "interdependencies": [
                {"from_workstream": "Digital", "to_workstream": "Acute", "text": "Bed data"},
                {"from_workstream": "Acute", "to_workstream": "Community", "text": "Step-down"},
                {"from_workstream": "Community", "to_workstream": "Digital", "text": "Records"},
            ],
            "priorities": [{"id": "P1", "title": "Acute", "initiatives": ["M1"]}],
            "enablers": [
                {"id": "E1", "title": "Digital", "description": "IT", "initiatives": ["I1"]}
            ],
            "sections": [{"id": "1", "title": "Vision", "text": "One line\nand another"}],
            "financial_summary": [
                {
                    "row": "commissioner",
                    "do_nothing": -12000,
                    "solutions": 15000,
                    "do_something": 3000,
                    "year": "2020/21",
                },
                {"row": "total", "do_nothing": -30500.5, "solutions": 30500.5, "do_something": 0},
            ],
            "extensions": {NOTES: {"notes": ["a", "b"], "rate": 0.5}},
        }
    )


def _column(ws: Any, header: str) -> int:
    for cell in ws[1]:
        if cell.value == header:
            return int(cell.column)
    raise AssertionError(f"no column {header}")


def _set(ws: Any, row: int, header: str, value: Any) -> None:
    ws.cell(row=row, column=_column(ws, header)).value = value


def _edited(demo: Plan, tmp_path: Path, edit: Callable[[Any], None]) -> Path:
    path = export_workbook(demo, tmp_path / BOOK)
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(PlanValidationError) as info:
        import_workbook(path)
    return info.value.problems


# --- Round trips -------------------------------------------------------------------------------


def test_demo_round_trip(demo: Plan, tmp_path: Path) -> None:
    back = import_workbook(export_workbook(demo, tmp_path / BOOK))
    assert back == demo
    assert back.funding_gap() == Decimal(439000)


def test_minimal_round_trip(tmp_path: Path) -> None:
    plan = minimal_plan()
    back = import_workbook(export_workbook(plan, tmp_path / "tiny.xlsx"))
    assert back == plan
    assert back.stated_totals is None and back.financial_summary is None


def test_stp_round_trip_keeps_orders_money_and_times(tmp_path: Path) -> None:
    plan = stp_plan()
    back = import_workbook(export_workbook(plan, tmp_path / "stp.xlsx"))
    assert back == plan
    assert [s.id for s in back.schemes] == ["I1", "M1"]
    assert [w.staff_group.value for w in back.schemes[0].wte] == ["other", "doctor"]
    assert [(d.from_workstream, d.to_workstream) for d in back.interdependencies] == [
        ("Digital", "Acute"),
        ("Acute", "Community"),
        ("Community", "Digital"),
    ]
    assert back.funding[0].amount_gbp == Decimal("11541476.16")
    assert back.signoffs[1].at == datetime(2016, 10, 22, 8, 0, 0, 123456, tzinfo=UTC)
    assert back.signoffs[0].note == "=agreed"
    assert back.financial_summary is not None
    assert back.financial_summary[1].do_nothing == Decimal("-30500.5")


def test_stp_workbook_layout(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(export_workbook(stp_plan(), tmp_path / "stp.xlsx"))
    fin = wb["Financial summary"]
    assert [c.value for c in fin[1]] == ["row", "do_nothing", "solutions", "do_something", "year"]
    assert [c.value for c in fin[2]] == ["commissioner", -12000, 15000, 3000, "2020/21"]
    matrix = wb["Interdependencies"]
    assert [c.value for c in matrix[1]] == ["from \\ to", "Acute", "Community", "Digital"]
    assert matrix["C2"].value == "Step-down"  # Acute needs from Community
    assert matrix["B4"].value == "Bed data"  # Digital needs from Acute
    # the minimum scheme meets STP requirements only (not elective ones): Non-elective sheet
    assert wb["Non-elective"]["A2"].value == "M1"
    assert wb["Innovation"]["A2"].value == "I1"
    inno = wb["Innovation"]
    assert inno.cell(row=2, column=_column(inno, "wte_doctor")).value == 0.25
    assert inno.cell(row=2, column=_column(inno, "additional_procedures")).value == 120
    signoff = wb["Sign-off"]
    assert signoff["C2"].value == datetime(2016, 10, 21, 9, 30)
    assert signoff["C3"].value == "2016-10-22T08:00:00.123456+00:00"


# --- Layout ------------------------------------------------------------------------------------


def test_demo_workbook_sheets_and_header(demo: Plan, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(export_workbook(demo, tmp_path / BOOK))
    # the core sheets, the hidden order sheet, then the sheets of the plan's finance extension
    assert wb.sheetnames == [*SHEETS, "_order", *FINANCE_SHEETS]
    assert wb["_order"].sheet_state == "hidden"
    header = wb["Header"]
    values = {row[0]: row[1] for row in header.iter_rows(values_only=True) if row[0] is not None}
    assert values["lead_commissioner"] == "QE1"
    assert values["lead_provider"] == "RXN"
    assert values["period_start"] == datetime(2015, 4, 1)
    # the last block (calculated) wins in the dict: computed totals as values, not formulas
    assert values["total_funding_gbp"] == 6600000
    assert values["total_scheme_cost_gbp"] == 7039000
    assert values["funding_gap_gbp"] == 439000
    gap = [r for r in header.iter_rows() if r[0].value == "funding_gap_gbp"][-1][1]
    assert gap.number_format == "£#,##0"
    assert gap.data_type == "n"
    total = next(r for r in header.iter_rows() if r[0].value == "TOTAL (calculated)")
    assert total[2].value == 6600000
    assert header.freeze_panes == "A2"
    assert header["A1"].font.bold


def test_demo_scheme_sheets_follow_the_template(demo: Plan, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(export_workbook(demo, tmp_path / BOOK))
    ids = {
        name: [r[0] for r in wb[name].iter_rows(min_row=2, values_only=True)]
        for name in ("Non-elective", "Elective", "Innovation")
    }
    assert ids["Non-elective"] == [f"S{i:02d}" for i in range(1, 11)] + ["TOTAL (calculated)"]
    assert ids["Elective"] == [f"S{i:02d}" for i in range(11, 17)] + ["TOTAL (calculated)"]
    assert ids["Innovation"] == ["S17", "S18", "S19", "TOTAL (calculated)"]
    ne = wb["Non-elective"]
    assert ne.freeze_panes == "B2"
    assert ne["A1"].font.bold
    assert ne.cell(row=2, column=_column(ne, "requirements")).value == "NE01, EL03"
    start = ne.cell(row=2, column=_column(ne, "start"))
    assert start.value == datetime(2015, 4, 15) and start.is_date
    assert ne.cell(row=12, column=_column(ne, "estimated_cost_gbp (calculated)")).value == 5900000
    inno = wb["Innovation"]
    assert inno.cell(row=4, column=_column(inno, "wte_nurse")).value == 4
    assert inno.cell(row=4, column=_column(inno, "estimated_cost_gbp (calculated)")).value == 410000
    costs = wb["Costs"]
    assert [c.value for c in costs[1]] == [
        "scheme_id",
        "year",
        "amount_gbp",
        "recurrent",
        "description",
    ]
    assert costs["C2"].value == 180000 and costs["C2"].number_format == "£#,##0"
    last = costs.max_row
    assert (costs.cell(row=last, column=1).value, costs.cell(row=last, column=3).value) == (
        "TOTAL (calculated)",
        7039000,
    )
    risks = wb["Risks"]
    assert [c.value for c in risks[2]][:6] == ["R01", risks["B2"].value, 4, 4, 16, "extreme (red)"]
    assert wb["KPI trajectories"]["C2"].value == datetime(2015, 6, 30)


# --- Edits that import -------------------------------------------------------------------------


def test_edited_cells_import(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Costs"], 2, "amount_gbp", 200000)
        _set(wb["Non-elective"], 2, "start", "2015-05-01")  # ISO text is accepted
        _set(wb["Milestones"], 2, "due", date(2015, 4, 20))
        wb["Interdependencies"]["C2"] = "Elective beds in winter"  # new cell: UEC → Elective
        wb.remove(wb["_order"])  # orders then follow the sheets

    plan = import_workbook(_edited(demo, tmp_path, edit))
    s01 = plan.scheme("S01")
    assert s01 is not None
    assert s01.costs[0].amount_gbp == Decimal(200000)
    assert s01.start == date(2015, 5, 1)
    assert plan.milestones[0].due == date(2015, 4, 20)
    assert plan.funding_gap() == Decimal(459000)
    assert len(plan.interdependencies) == 7
    assert (plan.interdependencies[0].to_workstream, plan.interdependencies[0].text) == (
        "Elective care",
        "Elective beds in winter",
    )
    assert [w.staff_group.value for w in plan.schemes[2].wte] == ["nurse", "doctor"]


# --- Bad input ---------------------------------------------------------------------------------


def test_missing_sheet(demo: Plan, tmp_path: Path) -> None:
    path = _edited(demo, tmp_path, lambda wb: wb.remove(wb["Risks"]))
    assert _problems(path) == [Problem(BOOK, 0, "Risks", "required sheet missing", "")]


def test_cost_typed_as_text(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Costs"], 3, "amount_gbp", "£1.2m")
        _set(wb["Costs"], 5, "amount_gbp", "1200000")  # text, even when it looks like a number

    problems = _problems(_edited(demo, tmp_path, edit))
    assert problems == [
        Problem(BOOK, 3, "Costs!amount_gbp", "amount must be a number in pounds", "£1.2m"),
        Problem(BOOK, 5, "Costs!amount_gbp", "amount must be a number in pounds", "1200000"),
    ]
    assert str(problems[0]) == (
        "demo.xlsx:3:Costs!amount_gbp: amount must be a number in pounds — £1.2m"
    )


def test_date_typed_as_text(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Non-elective"], 2, "start", "7 March 20014")

    problems = _problems(_edited(demo, tmp_path, edit))
    assert problems == [
        Problem(
            BOOK,
            2,
            "Non-elective!start",
            "not a valid date: enter an Excel date (e.g. 2015-03-07)",
            "7 March 20014",
        )
    ]
    assert str(problems[0]) == (
        "demo.xlsx:2:Non-elective!start: not a valid date: enter an Excel date (e.g. 2015-03-07)"
        " — 7 March 20014"
    )


def test_impossible_iso_date_is_located(demo: Plan, tmp_path: Path) -> None:
    path = _edited(demo, tmp_path, lambda wb: _set(wb["Milestones"], 10, "due", "2015-02-30"))
    assert _problems(path) == [
        Problem(BOOK, 10, "Milestones!due", "impossible date (no such day)", "2015-02-30")
    ]


def test_unknown_requirement_and_metric(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Elective"], 3, "requirements", "EL04, EL99")
        _set(wb["KPIs"], 2, "metric", "uec.ga_bed_ocupancy")

    problems = _problems(_edited(demo, tmp_path, edit))
    assert problems == [
        Problem(
            BOOK,
            2,
            "KPIs!metric",
            unknown_metric_message("uec.ga_bed_ocupancy"),
            "uec.ga_bed_ocupancy",
        ),
        Problem(
            BOOK,
            3,
            "Elective!requirements",
            "unknown requirement id for a resilience_capacity plan (requirements 2014-15.1)",
            "EL99",
        ),
    ]


def test_model_rules_are_located(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Risks"], 3, "likelihood", 7)
        _set(wb["Innovation"], 2, "lead_email", "not-an-email")
        _set(wb["Members"], 4, "roles", None)

    problems = _problems(_edited(demo, tmp_path, edit))
    assert sorted(problems, key=lambda p: p.column) == [
        Problem(
            BOOK,
            2,
            "Innovation!lead_email",
            "not an email address (expected name@domain.tld)",
            "not-an-email",
        ),
        Problem(BOOK, 4, "Members!roles", "required field missing", ""),
        Problem(BOOK, 3, "Risks!likelihood", "Input should be less than or equal to 5", "7"),
    ]


def test_missing_required_cell_and_column(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Section 1"], 2, "title", None)
        wb["Activity effects"].delete_cols(_column(wb["Activity effects"], "change_pct"))

    assert _problems(_edited(demo, tmp_path, edit)) == [
        Problem(BOOK, 1, "Activity effects!change_pct", "required column missing", "")
    ]
    path = _edited(demo, tmp_path, lambda wb: _set(wb["Section 1"], 2, "title", None))
    assert _problems(path) == [Problem(BOOK, 2, "Section 1!title", "required field missing", "")]


def test_unknown_scheme_and_workstream(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        _set(wb["Costs"], 4, "scheme_id", "S99")
        wb["Interdependencies"]["H1"] = "Estates"
        wb["Interdependencies"]["H2"] = "New buildings"

    problems = _problems(_edited(demo, tmp_path, edit))
    assert problems == [
        Problem(
            BOOK,
            4,
            "Costs!scheme_id",
            "unknown scheme (not on the Non-elective, Elective or Innovation sheet)",
            "S99",
        )
    ]

    def matrix_only(wb: Any) -> None:
        wb["Interdependencies"]["H1"] = "Estates"
        wb["Interdependencies"]["H2"] = "New buildings"

    path = _edited(demo, tmp_path, matrix_only)
    assert _problems(path) == [
        Problem(
            BOOK,
            2,
            "Interdependencies!Estates",
            "workstream is not in the plan's workstreams",
            "Estates",
        )
    ]


def test_header_problems(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["Header"]
        ws["B6"] = "1st April 2015"  # period_start
        ws["B10"] = "XXX"  # lead_commissioner not a member
        ws["C20"] = "£3.6M"  # first funding line amount

    problems = _problems(_edited(demo, tmp_path, edit))
    assert problems == [
        Problem(
            BOOK,
            6,
            "Header!period_start",
            "not a valid date: enter an Excel date (e.g. 2015-03-07)",
            "1st April 2015",
        ),
        Problem(BOOK, 20, "Header!amount_gbp", "amount must be a number in pounds", "£3.6M"),
    ]
    path = _edited(demo, tmp_path, lambda wb: wb["Header"].__setitem__("B10", "XXX"))
    assert _problems(path) == [
        Problem(BOOK, 10, "Header!lead_commissioner", "organisation is not a plan member", "XXX")
    ]


def test_many_problems_no_plan(demo: Plan, tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        for row in range(2, 8):
            _set(wb["Costs"], row, "amount_gbp", f"£{row}k")

    problems = _problems(_edited(demo, tmp_path, edit))
    assert [(p.row, p.value) for p in problems] == [(r, f"£{r}k") for r in range(2, 8)]


def test_not_a_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "plan.xlsx"
    bad.write_text("not a zip", encoding="utf-8")
    assert _problems(bad) == [
        Problem("plan.xlsx", 0, "", "not an Excel workbook (.xlsx)", "BadZipFile")
    ]
    assert _problems(tmp_path / "none.xlsx") == [Problem("none.xlsx", 0, "", "file not found", "")]
