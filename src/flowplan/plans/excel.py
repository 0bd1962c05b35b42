"""Plans as Excel workbooks in the layout of the resilience plan template (seed 000, Annex A).

``export_workbook(plan, path)`` writes a workbook a planner can read and edit in Excel;
``import_workbook(path)`` reads it back so that ``import_workbook(export_workbook(p, f)) == p``.

Sheets (row 1 of every table is its header; columns are matched by header, in any order):

* ``Header`` — ``field | value | meaning`` rows for the plan's own fields (id, type, title,
  footprint, period, version, status, lead CCG/commissioner, lead acute trust/provider,
  requirements version, population, lock deadline, locked years, extensions as JSON); then the
  ``Funding lines`` table (kind, description, amount_gbp, year, recurrent) with a calculated
  total; the ``Stated totals`` block (values as the plan states them, blank = not stated); and a
  ``Calculated (not imported)`` block with the computed totals and the funding gap.
* ``Members``, ``Section 1`` (narrative sections).
* ``Non-elective`` and ``Elective`` (section 2, minimum requirement schemes) and ``Innovation``
  (section 3): one row per scheme, requirement ids comma-separated, target outcomes one per
  line, the lead accountable officer in four columns, WTE by staff group, beds, outpatient
  appointments and procedures. A minimum scheme goes on ``Elective`` when every requirement it
  meets is an elective one (or it meets none and its category is elective), else on
  ``Non-elective``.
* ``Costs`` (scheme × year), ``KPIs`` (numbered within their scheme), ``KPI trajectories``,
  ``Activity effects`` — rows keyed by ``scheme_id``.
* ``Milestones``, ``Risks``, ``Interdependencies`` (a workstream × workstream matrix: rows are the
  plan's workstreams; a cell is what the row workstream needs from the column one),
  ``Priorities & enablers``, ``Financial summary`` (STP, £000s), ``Sign-off``.
* ``_order`` (hidden) — the plan's order of schemes, of WTE lines and of interdependency cells,
  so an unedited workbook imports exactly; rows added in Excel go after the remembered ones.

Every total, the funding gap and every column headed ``... (calculated)`` is written as a *value*
(no formulas) and never imported; a row whose first cell is ``TOTAL (calculated)`` is a totals
row and is skipped.

The import is strict like the YAML loader: a money cell must hold a number (``£1.2m`` typed as
text is refused), a date cell an Excel date (ISO text ``2015-03-07`` is also accepted). Every
problem — a missing sheet or column, a bad cell, a model rule, an integrity rule — raises
:class:`~flowplan.plans.model.PlanValidationError` with one
:class:`~flowplan.errors.Problem` per cell: ``file`` = workbook name, ``row`` = sheet row,
``column`` = ``SHEET!HEADER`` (``Costs!amount_gbp``); nothing is half-imported.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from flowplan.errors import Problem, UsageError
from flowplan.plans import requirements as reqs
from flowplan.plans.document import field_path, integrity_problems, problems_from_validation
from flowplan.plans.extensions import SheetCodec, registered
from flowplan.plans.model import (
    Plan,
    PlanValidationError,
    Scheme,
    SchemeCategory,
    SchemeSection,
    StaffGroup,
)
from flowplan.plans.money import decimal_number

# --- Layout ------------------------------------------------------------------------------------

HEADER = "Header"
MEMBERS = "Members"
SECTION_1 = "Section 1"
NON_ELECTIVE = "Non-elective"
ELECTIVE = "Elective"
INNOVATION = "Innovation"
COSTS = "Costs"
KPIS = "KPIs"
TRAJECTORIES = "KPI trajectories"
EFFECTS = "Activity effects"
MILESTONES = "Milestones"
RISKS = "Risks"
INTERDEPENDENCIES = "Interdependencies"
PRIORITIES = "Priorities & enablers"
FINANCIAL = "Financial summary"
SIGNOFF = "Sign-off"
ORDER = "_order"

SCHEME_SHEETS = (NON_ELECTIVE, ELECTIVE, INNOVATION)
SHEETS = (
    HEADER,
    MEMBERS,
    SECTION_1,
    NON_ELECTIVE,
    ELECTIVE,
    INNOVATION,
    COSTS,
    KPIS,
    TRAJECTORIES,
    EFFECTS,
    MILESTONES,
    RISKS,
    INTERDEPENDENCIES,
    PRIORITIES,
    FINANCIAL,
    SIGNOFF,
)
"""The sheets an export writes, in order; all are required on import (``_order`` is optional)."""

CALCULATED = " (calculated)"
ESTIMATED = "estimated_cost_gbp" + CALCULATED
TOTAL_LABEL = "TOTAL (calculated)"
FUNDING_MARK = "Funding lines"
STATED_MARK = "Stated totals"
COMPUTED_MARK = "Calculated (not imported)"
MATRIX_CORNER = "from \\ to"

MONEY_FORMAT = "£#,##0"
THOUSANDS_FORMAT = '£#,##0"k"'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

RULE_MONEY = "amount must be a number in pounds"
RULE_DATE = "not a valid date: enter an Excel date (e.g. 2015-03-07)"
RULE_SHEET = "required sheet missing"
RULE_COLUMN = "required column missing"

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_GREY = PatternFill("solid", fgColor="D9D9D9")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


class Kind(Enum):
    """How a column's cells are written and read."""

    TEXT = "text"
    IDS = "ids"  # comma-separated list
    LINES = "lines"  # one item per line
    MONEY = "money"
    THOUSANDS = "thousands"  # money in £000s
    NUMBER = "number"
    COUNT = "count"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    JSON = "json"


@dataclass(frozen=True)
class Col:
    """A column (or a Header field row): header text, kind, width and the model field it fills."""

    header: str
    kind: Kind = Kind.TEXT
    width: int = 14
    wrap: bool = False
    field: str = ""

    @property
    def name(self) -> str:
        """The model field the column fills (its header unless told otherwise)."""
        return self.field or self.header


def _c(header: str, kind: Kind = Kind.TEXT, width: int = 14, wrap: bool = False) -> Col:
    return Col(header, kind, width, wrap)


PLAN_FIELDS: tuple[tuple[Col, str], ...] = (
    (_c("id"), "Plan id (slug)"),
    (_c("type"), "Plan type"),
    (_c("title"), "Title"),
    (_c("footprint"), "Footprint code"),
    (_c("period_start", Kind.DATE), "First day covered"),
    (_c("period_end", Kind.DATE), "Last day covered"),
    (_c("version", Kind.COUNT), "Document version"),
    (_c("status"), "Workflow status"),
    (_c("lead_commissioner"), "Lead CCG (lead commissioner), member code"),
    (_c("lead_provider"), "Lead acute trust (lead provider), member code"),
    (_c("requirements_version"), "Version of the minimum plan requirements answered"),
    (_c("population", Kind.COUNT), "Population of the footprint"),
    (_c("lock_deadline", Kind.DATE), "Locked years are immutable after this date"),
    (_c("locked_years", Kind.IDS), "Financial years that no longer change (comma-separated)"),
    (_c("extensions", Kind.JSON), "Extension data (JSON)"),
)
FUNDING_COLS = (
    _c("kind", width=20),
    _c("description", width=60, wrap=True),
    _c("amount_gbp", Kind.MONEY, 16),
    _c("year", width=10),
    _c("recurrent", Kind.BOOL, 11),
)
STATED_FIELDS: tuple[tuple[str, str], ...] = (
    ("total_funding_gbp", "Total funding"),
    ("minimum_requirement_cost_gbp", "Total costs of all minimum requirement schemes"),
    ("innovation_cost_gbp", "Total costs of local plans for innovation"),
    ("total_scheme_cost_gbp", "Total scheme costs"),
    ("funding_gap_gbp", "Funding gap (scheme costs − funding)"),
)
MEMBER_COLS = (
    _c("code", width=12),
    _c("name", width=50),
    _c("roles", Kind.IDS, 26),
    _c("signatory", Kind.BOOL, 11),
    _c("org_type", width=20),
)
SECTION_COLS = (_c("id", width=8), _c("title", width=30), _c("text", width=100, wrap=True))
WTE_GROUPS = tuple(StaffGroup)
SCHEME_COLS = (
    _c("id", width=8),
    _c("title", width=30, wrap=True),
    _c("requirements", Kind.IDS, 16),
    _c("summary", width=60, wrap=True),
    _c("category", width=14),
    Col("kpis" + CALCULATED, Kind.TEXT, 40, True),
    _c("target_outcomes", Kind.LINES, 45, True),
    _c("start", Kind.DATE, 12),
    _c("end", Kind.DATE, 12),
    Col("lead_name", width=22, field="name"),
    Col("lead_email", width=30, field="email"),
    Col("lead_job_title", width=30, field="job_title"),
    Col("lead_organisation", width=12, field="organisation"),
    Col(ESTIMATED, Kind.MONEY, 16),
    *(Col(f"wte_{g.value}", Kind.NUMBER, 10) for g in WTE_GROUPS),
    _c("additional_beds", Kind.COUNT, 10),
    _c("additional_outpatient_appointments", Kind.COUNT, 12),
    _c("additional_procedures", Kind.COUNT, 12),
    _c("organisations", Kind.IDS, 24),
    _c("funding_source", width=18),
    _c("workstream", width=24),
    _c("minimum_gbp", Kind.MONEY, 14),
    _c("maximum_gbp", Kind.MONEY, 14),
    _c("resources", width=30, wrap=True),
    _c("governance", width=30, wrap=True),
)
_LEAD = ("lead_name", "lead_email", "lead_job_title", "lead_organisation")
COST_COLS = (
    _c("scheme_id", width=10),
    _c("year", width=10),
    _c("amount_gbp", Kind.MONEY, 16),
    _c("recurrent", Kind.BOOL, 11),
    _c("description", width=70, wrap=True),
)
KPI_COLS = (
    _c("scheme_id", width=10),
    _c("kpi", Kind.COUNT, 6),
    _c("metric", width=32),
    _c("description", width=40, wrap=True),
    _c("unit", width=16),
    _c("baseline", Kind.NUMBER, 11),
    _c("baseline_date", Kind.DATE, 13),
    _c("target", Kind.NUMBER, 11),
    _c("target_date", Kind.DATE, 13),
    _c("numerator", Kind.NUMBER, 11),
    _c("denominator", Kind.NUMBER, 11),
)
TRAJECTORY_COLS = (
    _c("scheme_id", width=10),
    _c("kpi", Kind.COUNT, 6),
    _c("date", Kind.DATE, 12),
    _c("value", Kind.NUMBER, 11),
)
EFFECT_COLS = (
    _c("scheme_id", width=10),
    _c("target", width=30),
    _c("description", width=40, wrap=True),
    _c("cohort", width=30, wrap=True),
    _c("change_pct", Kind.NUMBER, 11),
    _c("start", Kind.DATE, 12),
    _c("end", Kind.DATE, 12),
)
MILESTONE_COLS = (
    _c("id", width=8),
    _c("title", width=40, wrap=True),
    _c("scheme", width=10),
    _c("duration_days", Kind.COUNT, 12),
    _c("depends_on", Kind.IDS, 16),
    _c("due", Kind.DATE, 12),
    _c("owner", width=22),
)
RISK_COLS = (
    _c("id", width=8),
    _c("description", width=50, wrap=True),
    _c("likelihood", Kind.COUNT, 10),
    _c("impact", Kind.COUNT, 10),
    Col("score" + CALCULATED, Kind.COUNT, 10),
    Col("rating" + CALCULATED, Kind.TEXT, 18),
    _c("owner", width=22),
    _c("mitigation", width=50, wrap=True),
    _c("scheme", width=10),
    _c("contingency_gbp", Kind.MONEY, 16),
)
PRIORITY_COLS = (
    _c("kind", width=10),
    _c("id", width=8),
    _c("title", width=30),
    _c("description", width=60, wrap=True),
    _c("initiatives", Kind.IDS, 30),
)
FINANCIAL_COLS = (
    _c("row", width=16),
    _c("do_nothing", Kind.THOUSANDS, 14),
    _c("solutions", Kind.THOUSANDS, 14),
    _c("do_something", Kind.THOUSANDS, 14),
    _c("year", width=10),
)
SIGNOFF_COLS = (
    _c("org", width=12),
    _c("user", width=24),
    _c("at", Kind.DATETIME, 20),
    _c("note", width=50, wrap=True),
)
ORDER_COLS = (_c("what", width=18), _c("owner", width=12), _c("keys", width=40, wrap=True))

_NUMBER_FORMATS = {
    Kind.MONEY: MONEY_FORMAT,
    Kind.THOUSANDS: THOUSANDS_FORMAT,
    Kind.DATE: DATE_FORMAT,
    Kind.DATETIME: DATETIME_FORMAT,
}

# --- Export ------------------------------------------------------------------------------------


def _money_cell(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return decimal_number(value)


def _cell_value(col: Col, value: Any) -> Any:
    """A model value as an Excel cell value (None for empty)."""
    if value is None:
        return None
    if col.kind in (Kind.MONEY, Kind.THOUSANDS) and isinstance(value, Decimal):
        return _money_cell(value)
    if col.kind is Kind.IDS:
        return ", ".join(str(v) for v in value) or None
    if col.kind is Kind.LINES:
        return "\n".join(value) or None
    if col.kind is Kind.JSON:
        return json.dumps(value, ensure_ascii=False, default=str) if value else None
    if col.kind is Kind.DATETIME and isinstance(value, datetime):
        # Excel keeps no zone and only milliseconds: a whole-second UTC time is written as a
        # date-time cell (read back as UTC), anything else as ISO 8601 text.
        utc = value.tzinfo is None or value.utcoffset() == timedelta(0)
        if utc and value.microsecond == 0:
            return value.replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if value == "":
        return None
    return value


def _put(ws: Any, row: int, column: int, col: Col, value: Any) -> None:
    """Write one value with the column's number format and alignment."""
    cell = ws.cell(row=row, column=column)
    cell.value = _cell_value(col, value)
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    if isinstance(cell.value, datetime | date | int | float) and col.kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[col.kind]
    cell.alignment = _WRAP if col.wrap else _TOP


def _head(ws: Any, row: int, headers: Sequence[str]) -> None:
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=j, value=text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL


def _widths(ws: Any, cols: Sequence[Col]) -> None:
    for j, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(j)].width = col.width


def _table(
    ws: Any,
    cols: Sequence[Col],
    rows: Iterable[Sequence[Any]],
    totals: dict[str, Decimal] | None = None,
    freeze: str = "B2",
) -> None:
    """A table: bold header in row 1, one row per item, an optional totals row (values)."""
    _head(ws, 1, [c.header for c in cols])
    r = 1
    for r, values in enumerate(rows, start=2):
        for j, (col, value) in enumerate(zip(cols, values, strict=True), start=1):
            _put(ws, r, j, col, value)
    if totals is not None:
        r += 1
        ws.cell(row=r, column=1, value=TOTAL_LABEL).font = _BOLD
        for j, col in enumerate(cols, start=1):
            if col.header in totals:
                _put(ws, r, j, col, totals[col.header])
                ws.cell(row=r, column=j).font = _BOLD
    _widths(ws, cols)
    ws.freeze_panes = freeze


def _elective_ids(plan: Plan) -> set[str]:
    try:
        found = reqs.requirement_set(plan.type, plan.requirements_version)
    except UsageError:
        return set()
    return {r.id for r in found.requirements if r.section == "elective"}


def scheme_sheet(scheme: Scheme, elective_ids: set[str]) -> str:
    """The sheet a scheme is written on (``Non-elective``, ``Elective`` or ``Innovation``)."""
    if scheme.section is SchemeSection.innovation:
        return INNOVATION
    if scheme.requirements:
        elective = all(r in elective_ids for r in scheme.requirements)
    else:
        elective = scheme.category is SchemeCategory.elective
    return ELECTIVE if elective else NON_ELECTIVE


def _kpi_text(scheme: Scheme) -> str:
    return "\n".join(
        f"{k.metric}: {k.baseline:g} → {k.target:g} by {k.target_date.isoformat()}"
        for k in scheme.kpis
    )


def _scheme_row(scheme: Scheme) -> list[Any]:
    wte: dict[StaffGroup, float] = {}
    for line in scheme.wte:
        wte[line.staff_group] = wte.get(line.staff_group, 0.0) + line.wte
    lead = scheme.lead
    return [
        scheme.id,
        scheme.title,
        scheme.requirements,
        scheme.summary,
        scheme.category,
        _kpi_text(scheme),
        scheme.target_outcomes,
        scheme.start,
        scheme.end,
        lead.name,
        lead.email,
        lead.job_title,
        lead.organisation,
        scheme.total_cost(),
        *(wte.get(g) for g in WTE_GROUPS),
        scheme.additional_beds,
        scheme.additional_outpatient_appointments,
        scheme.additional_procedures,
        scheme.organisations,
        scheme.funding_source,
        scheme.workstream,
        scheme.minimum_gbp,
        scheme.maximum_gbp,
        scheme.resources,
        scheme.governance,
    ]


def _write_header(ws: Any, plan: Plan) -> None:
    _head(ws, 1, ["field", "value", "meaning"])
    r = 1
    for r, (col, meaning) in enumerate(PLAN_FIELDS, start=2):
        ws.cell(row=r, column=1, value=col.header).font = _BOLD
        _put(ws, r, 2, col, getattr(plan, col.name))
        ws.cell(row=r, column=3, value=meaning)
    r += 2
    ws.cell(row=r, column=1, value=FUNDING_MARK).font = Font(bold=True, size=12)
    r += 1
    _head(ws, r, [c.header for c in FUNDING_COLS])
    for line in plan.funding:
        r += 1
        for j, col in enumerate(FUNDING_COLS, start=1):
            _put(ws, r, j, col, getattr(line, col.name))
    r += 1
    ws.cell(row=r, column=1, value=TOTAL_LABEL).font = _BOLD
    _put(ws, r, 3, FUNDING_COLS[2], plan.total_funding())
    ws.cell(row=r, column=3).font = _BOLD

    money = _c("value", Kind.MONEY)
    r += 2
    ws.cell(row=r, column=1, value=STATED_MARK).font = Font(bold=True, size=12)
    stated = plan.stated_totals
    for key, meaning in STATED_FIELDS:
        r += 1
        ws.cell(row=r, column=1, value=key).font = _BOLD
        _put(ws, r, 2, money, None if stated is None else getattr(stated, key))
        ws.cell(row=r, column=3, value=meaning + " (as the plan states it)")

    r += 2
    ws.cell(row=r, column=1, value=COMPUTED_MARK).font = Font(bold=True, size=12)
    computed = (
        ("total_funding_gbp", plan.total_funding()),
        ("minimum_requirement_cost_gbp", plan.total_scheme_cost(section=SchemeSection.minimum)),
        ("innovation_cost_gbp", plan.total_scheme_cost(section=SchemeSection.innovation)),
        ("total_scheme_cost_gbp", plan.total_scheme_cost()),
        ("funding_gap_gbp", plan.funding_gap()),
    )
    meanings = dict(STATED_FIELDS)
    for key, value in computed:
        r += 1
        ws.cell(row=r, column=1, value=key).font = _BOLD
        _put(ws, r, 2, money, value)
        ws.cell(row=r, column=2).font = _BOLD
        ws.cell(row=r, column=3, value=meanings[key] + " (calculated)")
    for letter, width in (("A", 30), ("B", 60), ("C", 55), ("D", 10), ("E", 11)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def _write_matrix(ws: Any, plan: Plan) -> None:
    names = plan.workstreams
    _head(ws, 1, [MATRIX_CORNER, *names])
    cells: dict[tuple[str, str], list[str]] = {}
    for dep in plan.interdependencies:
        cells.setdefault((dep.from_workstream, dep.to_workstream), []).append(dep.text)
    for i, row_name in enumerate(names, start=2):
        head = ws.cell(row=i, column=1, value=row_name)
        head.font = _BOLD
        head.fill = _HEAD_FILL
        for j, col_name in enumerate(names, start=2):
            cell = ws.cell(row=i, column=j, value="\n".join(cells.get((row_name, col_name), [])))
            if cell.value == "":
                cell.value = None
            cell.alignment = _WRAP
            if row_name == col_name:
                cell.fill = _GREY
    ws.column_dimensions["A"].width = 28
    for j in range(2, len(names) + 2):
        ws.column_dimensions[get_column_letter(j)].width = 28
    ws.freeze_panes = "B2"


def export_workbook(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as an Excel workbook in the resilience plan template layout.

    Args:
        plan: the plan.
        path: the ``.xlsx`` file to write (replaced if it exists).

    Returns:
        The path written.
    """
    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in SHEETS}

    codecs = _codecs()
    own = {name: data for name, data in plan.extensions.items() if name in codecs}
    _write_header(
        sheets[HEADER],
        plan.model_copy(
            update={"extensions": {k: v for k, v in plan.extensions.items() if k not in own}}
        ),
    )
    _table(
        sheets[MEMBERS],
        MEMBER_COLS,
        ([m.code, m.name, m.roles, m.signatory, m.org_type] for m in plan.members),
    )
    _table(sheets[SECTION_1], SECTION_COLS, ([s.id, s.title, s.text] for s in plan.sections))

    elective_ids = _elective_ids(plan)
    by_sheet: dict[str, list[Scheme]] = {name: [] for name in SCHEME_SHEETS}
    for scheme in plan.schemes:
        by_sheet[scheme_sheet(scheme, elective_ids)].append(scheme)
    for name, schemes in by_sheet.items():
        total = sum((s.total_cost() for s in schemes), Decimal(0))
        _table(sheets[name], SCHEME_COLS, (_scheme_row(s) for s in schemes), {ESTIMATED: total})

    _table(
        sheets[COSTS],
        COST_COLS,
        (
            [s.id, c.year, c.amount_gbp, c.recurrent, c.description]
            for s in plan.schemes
            for c in s.costs
        ),
        {"amount_gbp": plan.total_scheme_cost()},
    )
    _table(
        sheets[KPIS],
        KPI_COLS,
        (
            [
                s.id,
                n,
                k.metric,
                k.description,
                k.unit,
                k.baseline,
                k.baseline_date,
                k.target,
                k.target_date,
                k.numerator,
                k.denominator,
            ]
            for s in plan.schemes
            for n, k in enumerate(s.kpis, start=1)
        ),
    )
    _table(
        sheets[TRAJECTORIES],
        TRAJECTORY_COLS,
        (
            [s.id, n, t.date, t.value]
            for s in plan.schemes
            for n, k in enumerate(s.kpis, start=1)
            for t in k.trajectory
        ),
    )
    _table(
        sheets[EFFECTS],
        EFFECT_COLS,
        (
            [s.id, e.target, e.description, e.cohort, e.change_pct, e.start, e.end]
            for s in plan.schemes
            for e in s.activity_effects
        ),
    )
    _table(
        sheets[MILESTONES],
        MILESTONE_COLS,
        (
            [m.id, m.title, m.scheme, m.duration_days, m.depends_on, m.due, m.owner]
            for m in plan.milestones
        ),
    )
    _table(
        sheets[RISKS],
        RISK_COLS,
        (
            [
                r.id,
                r.description,
                r.likelihood,
                r.impact,
                r.score,
                f"{r.grading} ({r.rag})",
                r.owner,
                r.mitigation,
                r.scheme,
                r.contingency_gbp,
            ]
            for r in plan.risks
        ),
    )
    _write_matrix(sheets[INTERDEPENDENCIES], plan)
    _table(
        sheets[PRIORITIES],
        PRIORITY_COLS,
        [
            *(["priority", p.id, p.title, p.description, p.initiatives] for p in plan.priorities),
            *(["enabler", e.id, e.title, e.description, e.initiatives] for e in plan.enablers),
        ],
    )
    _table(
        sheets[FINANCIAL],
        FINANCIAL_COLS,
        (
            [f.row, f.do_nothing, f.solutions, f.do_something, f.year]
            for f in plan.financial_summary or []
        ),
    )
    _table(sheets[SIGNOFF], SIGNOFF_COLS, ([s.org, s.user, s.at, s.note] for s in plan.signoffs))

    order = wb.create_sheet(ORDER)
    order_rows: list[list[Any]] = [["schemes", None, [s.id for s in plan.schemes]]]
    order_rows += [
        ["wte", s.id, [w.staff_group.value for w in s.wte]] for s in plan.schemes if s.wte
    ]
    order_rows.append(
        [
            "interdependencies",
            None,
            [f"{d.from_workstream}\t{d.to_workstream}" for d in plan.interdependencies],
        ]
    )
    _table(order, (ORDER_COLS[0], ORDER_COLS[1], _c("keys", Kind.LINES, 40)), order_rows)
    order.sheet_state = "hidden"
    for name, data in own.items():
        codecs[name].write(data, wb)

    wb.active = 0
    wb.save(path)
    return path


# --- Import ------------------------------------------------------------------------------------

_MISSING: Any = object()
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")
_TRUE = {"true", "yes", "y"}
_FALSE = {"false", "no", "n"}


def _is_total(label: str) -> bool:
    """A totals row's first cell (``TOTAL (calculated)``): the row is never imported."""
    return label.strip().casefold() == TOTAL_LABEL.casefold()


def _shown(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _convert(kind: Kind, value: Any) -> tuple[Any, str | None]:
    """A cell value as model input: (value, None), or (_MISSING, rule) when the cell is bad."""
    if kind in (Kind.TEXT, Kind.IDS, Kind.LINES, Kind.JSON):
        if isinstance(value, datetime | date | time):
            return _MISSING, "must be text, not a date"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = value if isinstance(value, str) else str(value)
        if kind is Kind.IDS:
            return [p.strip() for p in text.split(",") if p.strip()], None
        if kind is Kind.LINES:
            lines = text.replace("\r\n", "\n").split("\n")
            return [line for line in lines if line.strip()], None
        if kind is Kind.JSON:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                return _MISSING, "must be JSON text (an object)"
            return (data, None) if isinstance(data, dict) else (_MISSING, "must be a JSON object")
        return text, None
    is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind in (Kind.MONEY, Kind.THOUSANDS):
        return (value, None) if is_number else (_MISSING, RULE_MONEY)
    if kind is Kind.NUMBER:
        return (float(value), None) if is_number else (_MISSING, "must be a number")
    if kind is Kind.COUNT:
        if is_number and float(value).is_integer():
            return int(value), None
        return _MISSING, "must be a whole number"
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE, None
        return _MISSING, "must be TRUE or FALSE"
    if kind is Kind.DATE:
        if isinstance(value, datetime):
            if value.time() != time(0):
                return _MISSING, "must be a date without a time"
            return value.date(), None
        if isinstance(value, date):
            return value, None
        if isinstance(value, str) and _ISO.match(value.strip()):
            return value.strip(), None  # the model checks the day exists
        return _MISSING, RULE_DATE
    # Kind.DATETIME
    if isinstance(value, datetime):
        return value, None
    if isinstance(value, date):
        return datetime.combine(value, time(0)), None
    if isinstance(value, str):
        return value.strip(), None  # the model parses ISO 8601 text
    return _MISSING, "not a valid date-time: enter an Excel date and time"


@dataclass
class _Row:
    """One data row of a sheet: its number and its converted, non-blank cells by header."""

    sheet: str
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def where(self, header: str) -> str:
        """The problem column of a cell in this row: ``SHEET!HEADER``."""
        return f"{self.sheet}!{header}"


class _Reader:
    """Reads a workbook into plan data, remembering which cell each field came from."""

    def __init__(self, file: str, wb: Any) -> None:
        self.file = file
        self.wb = wb
        self.problems: list[Problem] = []
        self.cells: dict[str, tuple[int, str]] = {}

    # -- problems and locations --

    def problem(self, row: int, column: str, rule: str, value: Any = "") -> None:
        """Record one problem at a sheet cell."""
        self.problems.append(Problem(self.file, row, column, rule, _shown(value)))

    def mark(self, loc: tuple[str | int, ...], row: int, column: str) -> None:
        """Remember that the field at ``loc`` came from ``row`` and ``column``."""
        self.cells[field_path(loc)] = (row, column)

    def locate(self, found: Iterable[Problem]) -> list[Problem]:
        """Problems whose column is a field path, moved to the sheet cell the field came from."""
        out: list[Problem] = []
        for p in found:
            path = p.column
            while path not in self.cells and path:
                shorter = _LAST_PART.sub("", path)
                path = "" if shorter == path else shorter
            if path in self.cells:
                row, column = self.cells[path]
                out.append(Problem(p.file, row, column, p.rule, p.value))
            else:
                out.append(p)
        return out

    def fill(
        self, out: dict[str, Any], row: _Row, loc: tuple[str | int, ...], cols: Sequence[Col]
    ) -> dict[str, Any]:
        """Copy a row's cells for ``cols`` into ``out`` and remember where each field came from."""
        self.mark(loc, row.number, row.sheet)
        for col in cols:
            self.mark((*loc, col.name), row.number, row.where(col.header))
            if col.header in row.values:
                out[col.name] = row.values[col.header]
        return out

    # -- sheets --

    def sheet(self, name: str) -> Any:
        """The worksheet ``name``, or None (and a problem) when it is missing."""
        if name not in self.wb.sheetnames:
            self.problem(0, name, RULE_SHEET)
            return None
        return self.wb[name]

    def cell(self, sheet: str, number: int, header: str, kind: Kind, value: Any) -> Any:
        """A cell converted for the model; ``_MISSING`` when blank or bad (a problem recorded)."""
        if _blank(value):
            return _MISSING
        converted, rule = _convert(kind, value)
        if rule is not None:
            self.problem(number, f"{sheet}!{header}", rule, value)
        return converted

    def table(self, name: str, cols: Sequence[Col]) -> list[_Row]:
        """The data rows of a table sheet (header in row 1; blank and totals rows skipped)."""
        ws = self.sheet(name)
        if ws is None:
            return []
        kinds = {c.header: c.kind for c in cols}
        headers: dict[int, str] = {}
        for j, cell in enumerate(next(ws.iter_rows(min_row=1, max_row=1), ()), start=1):
            if _blank(cell.value):
                continue
            text = str(cell.value).strip()
            if text.endswith(CALCULATED):
                continue
            if text not in kinds:
                self.problem(1, f"{name}!{text}", "unknown column")
            elif text in headers.values():
                self.problem(1, f"{name}!{text}", "column appears more than once")
            else:
                headers[j] = text
        for col in cols:
            if col.header not in headers.values() and not col.header.endswith(CALCULATED):
                self.problem(1, f"{name}!{col.header}", RULE_COLUMN)
        rows: list[_Row] = []
        for number, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            first = cells[0] if cells else None
            if isinstance(first, str) and _is_total(first):
                continue
            row = _Row(name, number)
            for j, header in headers.items():
                value = cells[j - 1] if j - 1 < len(cells) else None
                converted = self.cell(name, number, header, kinds[header], value)
                if converted is not _MISSING:
                    row.values[header] = converted
                    row.raw[header] = value
            if any(not _blank(v) for v in cells):
                rows.append(row)
        return rows

    # -- the plan --

    def header(self, data: dict[str, Any]) -> None:
        """Read the Header sheet: plan fields, funding lines and stated totals into ``data``."""
        ws = self.sheet(HEADER)
        if ws is None:
            return
        plan_cols = {c.header: c for c, _ in PLAN_FIELDS}
        money = Kind.MONEY
        section = "plan"
        seen: set[str] = set()
        funding_headers: dict[int, str] = {}
        funding: list[dict[str, Any]] = []
        stated: dict[str, Any] = {}
        stated_keys = {k for k, _ in STATED_FIELDS}
        for number, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            if not cells or all(_blank(v) for v in cells):
                continue
            label = "" if _blank(cells[0]) else str(cells[0]).strip()
            value = cells[1] if len(cells) > 1 else None
            if label == FUNDING_MARK:
                section = "funding-head"
                continue
            if label == STATED_MARK:
                section = "stated"
                continue
            if label == COMPUTED_MARK:
                section = "computed"
                continue
            if section == "computed" or _is_total(label):
                continue
            if section == "funding-head":
                funding_headers = self._funding_headers(number, cells)
                section = "funding"
                continue
            if section == "funding":
                row = _Row(HEADER, number)
                kinds = {c.header: c.kind for c in FUNDING_COLS}
                for j, head in funding_headers.items():
                    cell = cells[j - 1] if j - 1 < len(cells) else None
                    converted = self.cell(HEADER, number, head, kinds[head], cell)
                    if converted is not _MISSING:
                        row.values[head] = converted
                loc: tuple[str | int, ...] = ("funding", len(funding))
                funding.append(self.fill({}, row, loc, FUNDING_COLS))
                continue
            where = f"{HEADER}!{label}"
            keys = plan_cols if section == "plan" else stated_keys
            if label not in keys:
                self.problem(number, where, "unknown field", label)
                continue
            if label in seen:
                self.problem(number, where, "field appears more than once", label)
                continue
            seen.add(label)
            if section == "plan":
                self.mark((label,), number, where)
                converted = self.cell(HEADER, number, label, plan_cols[label].kind, value)
                if converted is not _MISSING:
                    data[label] = converted
            else:
                self.mark(("stated_totals", label), number, where)
                converted = self.cell(HEADER, number, label, money, value)
                if converted is not _MISSING:
                    stated[label] = converted
        for label in plan_cols:
            if label not in seen:
                self.mark((label,), 0, f"{HEADER}!{label}")
        self.mark(("funding",), 0, HEADER)
        self.mark(("stated_totals",), 0, HEADER)
        self.mark((), 0, HEADER)
        data["funding"] = funding
        if stated:
            data["stated_totals"] = stated

    def _funding_headers(self, number: int, cells: Sequence[Any]) -> dict[int, str]:
        """The funding table's columns (1-based position → header) from its header row."""
        known = {c.header for c in FUNDING_COLS}
        headers: dict[int, str] = {}
        for j, value in enumerate(cells, start=1):
            if _blank(value):
                continue
            text = str(value).strip()
            if text in known:
                headers[j] = text
            else:
                self.problem(number, f"{HEADER}!{text}", "unknown column")
        for head in sorted(known - set(headers.values())):
            self.problem(number, f"{HEADER}!{head}", RULE_COLUMN)
        return headers

    def order(self) -> dict[tuple[str, str], list[str]]:
        """The remembered orders from the hidden ``_order`` sheet (empty when absent)."""
        if ORDER not in self.wb.sheetnames:
            return {}
        out: dict[tuple[str, str], list[str]] = {}
        for cells in self.wb[ORDER].iter_rows(min_row=2, values_only=True):
            if len(cells) < 3 or _blank(cells[0]):
                continue
            owner = "" if _blank(cells[1]) else str(cells[1])
            keys = "" if _blank(cells[2]) else str(cells[2])
            out[(str(cells[0]), owner)] = [k for k in keys.split("\n") if k]
        return out

    def plan_data(self) -> dict[str, Any]:
        """The whole workbook as plan data (problems recorded on the reader)."""
        missing = [name for name in SHEETS if name not in self.wb.sheetnames]
        for name in missing:
            self.problem(0, name, RULE_SHEET)
        if missing:
            return {}
        data: dict[str, Any] = {}
        order = self.order()
        self.header(data)

        data["members"] = [
            self.fill({}, row, ("members", i), MEMBER_COLS)
            for i, row in enumerate(self.table(MEMBERS, MEMBER_COLS))
        ]
        self.mark(("members",), 0, MEMBERS)
        data["sections"] = [
            self.fill({}, row, ("sections", i), SECTION_COLS)
            for i, row in enumerate(self.table(SECTION_1, SECTION_COLS))
        ]
        self.mark(("sections",), 0, SECTION_1)
        data["schemes"] = self.schemes(order)
        self.matrix(data, order)
        self.milestones_risks(data)
        self.priorities(data)
        self.financial(data)
        data["signoffs"] = [
            self.fill({}, row, ("signoffs", i), SIGNOFF_COLS)
            for i, row in enumerate(self.table(SIGNOFF, SIGNOFF_COLS))
        ]
        self.mark(("signoffs",), 0, SIGNOFF)
        return data

    def schemes(self, order: dict[tuple[str, str], list[str]]) -> list[dict[str, Any]]:
        """Schemes from the three scheme sheets with their costs, KPIs and activity effects."""
        rows: list[tuple[_Row, SchemeSection]] = []
        for name in SCHEME_SHEETS:
            section = SchemeSection.innovation if name == INNOVATION else SchemeSection.minimum
            rows += [(row, section) for row in self.table(name, SCHEME_COLS)]
        known = order.get(("schemes", ""), [])
        rank = {sid: i for i, sid in reversed(list(enumerate(known)))}
        rows.sort(key=lambda item: rank.get(str(item[0].values.get("id")), len(known)))

        plain = [
            c
            for c in SCHEME_COLS
            if c.header not in _LEAD
            and not c.header.startswith("wte_")
            and not c.header.endswith(CALCULATED)
        ]
        lead_cols = [c for c in SCHEME_COLS if c.header in _LEAD]
        wte_cols = [c for c in SCHEME_COLS if c.header.startswith("wte_")]
        schemes: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        for i, (row, section) in enumerate(rows):
            loc: tuple[str | int, ...] = ("schemes", i)
            scheme = self.fill({"section": section.value}, row, loc, plain)
            self.mark((*loc, "section"), row.number, row.sheet)
            scheme["lead"] = self.fill({}, row, (*loc, "lead"), lead_cols)
            self.mark((*loc, "lead"), row.number, row.where("lead_name"))
            wte: list[dict[str, Any]] = []
            remembered = order.get(("wte", str(row.values.get("id", ""))), [])
            wanted = sorted(
                wte_cols,
                key=lambda c: remembered.index(c.header[4:]) if c.header[4:] in remembered else 99,
            )
            for col in wanted:
                if col.header in row.values:
                    self.mark((*loc, "wte", len(wte)), row.number, row.where(col.header))
                    wte.append({"staff_group": col.header[4:], "wte": row.values[col.header]})
            scheme["wte"] = wte
            for child in ("costs", "kpis", "activity_effects"):
                scheme[child] = []
            schemes.append(scheme)
            index.setdefault(str(row.values.get("id", "")), i)
        self.mark(("schemes",), 0, NON_ELECTIVE)

        def owner(row: _Row) -> dict[str, Any] | None:
            sid = row.values.get("scheme_id")
            if sid is None:
                self.problem(row.number, row.where("scheme_id"), "required field missing")
                return None
            if str(sid) not in index:
                self.problem(
                    row.number,
                    row.where("scheme_id"),
                    "unknown scheme (not on the Non-elective, Elective or Innovation sheet)",
                    sid,
                )
                return None
            return schemes[index[str(sid)]]

        def children(sheet: str, cols: Sequence[Col], key: str) -> None:
            for row in self.table(sheet, cols):
                scheme = owner(row)
                if scheme is None:
                    continue
                i = index[str(row.values["scheme_id"])]
                items: list[dict[str, Any]] = scheme[key]
                wanted = [c for c in cols if c.header not in ("scheme_id", "kpi")]
                items.append(self.fill({}, row, ("schemes", i, key, len(items)), wanted))
                if key == "kpis":
                    kpi_rows.append((row, i, len(items) - 1))

        kpi_rows: list[tuple[_Row, int, int]] = []
        children(COSTS, COST_COLS, "costs")
        children(KPIS, KPI_COLS, "kpis")
        children(EFFECTS, EFFECT_COLS, "activity_effects")

        numbered: dict[tuple[int, int], int] = {}
        for row, i, k in kpi_rows:
            kpi_no: int | None = row.values.get("kpi")
            if kpi_no is None:
                continue
            if (i, kpi_no) in numbered:
                self.problem(
                    row.number, row.where("kpi"), "KPI number repeated for the scheme", kpi_no
                )
            numbered[(i, kpi_no)] = k
            schemes[i]["kpis"][k]["trajectory"] = []
        for row in self.table(TRAJECTORIES, TRAJECTORY_COLS):
            if owner(row) is None:
                continue
            i = index[str(row.values["scheme_id"])]
            number: int = row.values.get("kpi", 0)
            if (i, number) not in numbered:
                self.problem(
                    row.number,
                    row.where("kpi"),
                    "no KPI with this number for the scheme on the KPIs sheet",
                    row.values.get("kpi", ""),
                )
                continue
            k = numbered[(i, number)]
            points: list[dict[str, Any]] = schemes[i]["kpis"][k]["trajectory"]
            loc = ("schemes", i, "kpis", k, "trajectory", len(points))
            points.append(self.fill({}, row, loc, TRAJECTORY_COLS[2:]))
        return schemes

    def matrix(self, data: dict[str, Any], order: dict[tuple[str, str], list[str]]) -> None:
        """Workstreams (row labels) and interdependencies (non-blank cells) from the matrix."""
        ws = self.sheet(INTERDEPENDENCIES)
        if ws is None:
            return
        grid = [list(cells) for cells in ws.iter_rows(values_only=True)]
        top = grid[0] if grid else []
        columns = {j: str(v).strip() for j, v in enumerate(top) if j > 0 and not _blank(v)}
        names: list[str] = []
        cells: list[tuple[str, str, str, int, str]] = []
        for number, row in enumerate(grid[1:], start=2):
            if not row or _blank(row[0]):
                if any(not _blank(v) for v in row):
                    self.problem(
                        number, f"{INTERDEPENDENCIES}!{MATRIX_CORNER}", "workstream missing"
                    )
                continue
            name = str(row[0]).strip()
            self.mark(("workstreams", len(names)), number, f"{INTERDEPENDENCIES}!{MATRIX_CORNER}")
            names.append(name)
            for j, value in enumerate(row):
                if j == 0 or _blank(value):
                    continue
                if j not in columns:
                    where = f"{INTERDEPENDENCIES}!{get_column_letter(j + 1)}"
                    self.problem(number, where, "workstream missing from the header row", value)
                    continue
                where = f"{INTERDEPENDENCIES}!{columns[j]}"
                cells.append((name, columns[j], _shown(value), number, where))
        remembered = order.get(("interdependencies", ""), [])
        rank = {key: i for i, key in reversed(list(enumerate(remembered)))}
        cells.sort(key=lambda c: rank.get(f"{c[0]}\t{c[1]}", len(remembered)))
        deps: list[dict[str, Any]] = []
        for i, (source, target, text, number, where) in enumerate(cells):
            self.mark(("interdependencies", i), number, where)
            self.mark(("interdependencies", i, "from_workstream"), number, where)
            self.mark(("interdependencies", i, "to_workstream"), number, where)
            deps.append({"from_workstream": source, "to_workstream": target, "text": text})
        self.mark(("workstreams",), 0, INTERDEPENDENCIES)
        self.mark(("interdependencies",), 0, INTERDEPENDENCIES)
        data["workstreams"] = names
        data["interdependencies"] = deps

    def milestones_risks(self, data: dict[str, Any]) -> None:
        """The Milestones and Risks sheets into ``data``."""
        data["milestones"] = [
            self.fill({}, row, ("milestones", i), MILESTONE_COLS)
            for i, row in enumerate(self.table(MILESTONES, MILESTONE_COLS))
        ]
        self.mark(("milestones",), 0, MILESTONES)
        risk_cols = [c for c in RISK_COLS if not c.header.endswith(CALCULATED)]
        data["risks"] = [
            self.fill({}, row, ("risks", i), risk_cols)
            for i, row in enumerate(self.table(RISKS, RISK_COLS))
        ]
        self.mark(("risks",), 0, RISKS)

    def priorities(self, data: dict[str, Any]) -> None:
        """The Priorities & enablers sheet (``kind`` says which list a row is in)."""
        groups: dict[str, list[dict[str, Any]]] = {"priority": [], "enabler": []}
        fields = {"priority": "priorities", "enabler": "enablers"}
        for row in self.table(PRIORITIES, PRIORITY_COLS):
            kind = str(row.values.get("kind", "")).strip().lower()
            if kind not in groups:
                self.problem(
                    row.number,
                    row.where("kind"),
                    "must be priority or enabler",
                    row.raw.get("kind", ""),
                )
                continue
            items = groups[kind]
            loc = (fields[kind], len(items))
            items.append(self.fill({}, row, loc, PRIORITY_COLS[1:]))
        for kind, items in groups.items():
            data[fields[kind]] = items
            self.mark((fields[kind],), 0, PRIORITIES)

    def financial(self, data: dict[str, Any]) -> None:
        """The Financial summary sheet; no rows means no summary (None)."""
        rows = self.table(FINANCIAL, FINANCIAL_COLS)
        self.mark(("financial_summary",), 0, FINANCIAL)
        if rows:
            data["financial_summary"] = [
                self.fill({}, row, ("financial_summary", i), FINANCIAL_COLS)
                for i, row in enumerate(rows)
            ]


def _open(path: Path, file: str) -> Any:
    """The workbook at ``path`` (cached values, not formulas), or a one-problem error."""

    def fail(rule: str, value: str = "") -> PlanValidationError:
        return PlanValidationError([Problem(file, 0, "", rule, value)])

    if not path.is_file():
        raise fail("file not found")
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise fail("not an Excel workbook (.xlsx)", type(exc).__name__) from None
    except Exception as exc:  # openpyxl's InvalidFileException and other read failures
        raise fail("not an Excel workbook (.xlsx)", type(exc).__name__) from None


def _codecs() -> dict[str, SheetCodec]:
    """Extensions that own sheets in the workbook, by name."""
    return {n: e.workbook for n, e in registered().items() if e.workbook is not None}


def import_workbook(path: str | Path) -> Plan:
    """Read a plan back from a workbook written by :func:`export_workbook` (and edited).

    Args:
        path: the ``.xlsx`` file.

    Returns:
        The plan, validated and integrity-checked like ``load_plan``.

    Raises:
        PlanValidationError: the workbook is missing or unreadable, a required sheet or column
            is missing, a cell is bad, or the plan breaks a model or integrity rule; one problem
            per cell (``row`` = sheet row, ``column`` = ``SHEET!HEADER``), all listed. No plan is
            returned when there is any problem.
    """
    path = Path(path)
    file = path.name
    reader = _Reader(file, _open(path, file))
    data = reader.plan_data()
    for name, codec in _codecs().items():
        if codec.sheets[0] in reader.wb.sheetnames:
            part, problems = codec.read(reader.wb, file)
            reader.problems.extend(problems)
            if not problems:
                data.setdefault("extensions", {})[name] = part
    if reader.problems:
        raise PlanValidationError(reader.problems)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanValidationError(reader.locate(problems_from_validation(file, exc))) from None
    found = integrity_problems(plan, file)
    if found:
        raise PlanValidationError(reader.locate(found))
    return plan


__all__ = [
    "SHEETS",
    "export_workbook",
    "import_workbook",
    "scheme_sheet",
]
