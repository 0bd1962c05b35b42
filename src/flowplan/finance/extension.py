"""The ``finance`` plan extension: validate, check and carry a plan's finance part in Excel.

Importing this module registers the extension (:data:`flowplan.plans.extensions.BUILTIN` lists
it), so ``load_plan`` refuses a bad finance part with located problems, ``check_plan`` adds the
finance findings (ids ``FIN-...``, catalogue ``finance/rules.toml``) and the plan workbook gets
the finance sheets:

* ``Finance`` — one row per organisation and year: resource limit, spend by service type
  (``spend_gbp:SERVICE``), spend total, contingency, non-recurrent and transformation spend,
  surplus, QIPP need, valued risks, investment; calculated columns are not imported;
* ``Contracts`` — contract values (org, year, counterparty, value_gbp);
* ``Assumptions`` — planning assumptions per year (``inflation_pct:CATEGORY`` columns);
* ``Activity plan`` — Annex C lines with the calculated growth, plan and value;
* ``QIPP`` — the savings register, a ``savings_gbp:YEAR`` column per year;
* ``Bridge`` — do nothing, ``solutions_gbp:CATEGORY`` columns, do something;
* ``Marginal tariff`` — emergency admissions value vs baseline, with the calculated split.

Columns are matched by header; a header ending ``(calculated)`` is written, never read. The
import returns the canonical form (:func:`flowplan.finance.model.canonical`), so a plan whose
finance part is canonical (as the worked example's is) round-trips exactly. Problems name the
workbook, the sheet row and ``SHEET!HEADER``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from flowplan.errors import Problem
from flowplan.finance import activity as act
from flowplan.finance.bridge import check_bridge
from flowplan.finance.model import (
    FinancePart,
    InflationCategory,
    ServiceType,
    canonical,
)
from flowplan.finance.qipp import check_qipp
from flowplan.finance.rules import ROOT, FinanceRules, check_financial_plans, finance_rules
from flowplan.finance.tariff import check_tariff, marginal_split, tariff_uplift
from flowplan.plans.document import problems_from_validation
from flowplan.plans.extensions import Extension, ExtensionProblem, SheetCodec, register
from flowplan.plans.findings import Finding
from flowplan.plans.model import Plan
from flowplan.plans.money import decimal_number

NAME = "finance"
FINANCE = "Finance"
CONTRACTS = "Contracts"
ASSUMPTIONS = "Assumptions"
ACTIVITY = "Activity plan"
QIPP = "QIPP"
BRIDGE = "Bridge"
MARGINAL = "Marginal tariff"
SHEETS = (FINANCE, CONTRACTS, ASSUMPTIONS, ACTIVITY, QIPP, BRIDGE, MARGINAL)
CALCULATED = " (calculated)"

FINANCE_COLS = (
    "org",
    "org_type",
    "year",
    "resource_limit_recurrent_gbp",
    "resource_limit_non_recurrent_gbp",
    *(f"spend_gbp:{s}" for s in ServiceType),
    "spend_total_gbp",
    "contingency_gbp",
    "non_recurrent_spend_gbp",
    "transformation_gbp",
    "surplus_gbp",
    "qipp_gbp",
    "risks_gbp",
    "investment_gbp",
)
CONTRACT_COLS = ("org", "year", "counterparty", "value_gbp")
ASSUMPTION_COLS = (
    "year",
    "provider_efficiency_pct",
    *(f"inflation_pct:{c}" for c in InflationCategory),
    "demographic_growth_pct",
    "non_demographic_growth_pct",
    "tariff_uplift_pct",
)
ACTIVITY_COLS = (
    "org",
    "year",
    "measure",
    "baseline",
    "demographic_growth_pct",
    "non_demographic_growth_pct",
    "scheme_savings",
    "plan",
    "price_gbp",
)
QIPP_COLS = ("id", "org", "title", "service_line", "owner", "rag", "identified")
MARGINAL_COLS = ("org", "provider", "year", "baseline_value_gbp", "actual_value_gbp")

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_CALC_FILL = PatternFill("solid", fgColor="D9D9D9")
_MONEY_FORMAT = "£#,##0"


# --- validate and check ------------------------------------------------------------------------


def validate(data: Any) -> list[ExtensionProblem]:
    """The problems in a finance part (field path below ``extensions.finance``, rule, value)."""
    try:
        FinancePart.model_validate(data)
    except ValidationError as exc:
        return [
            ExtensionProblem(p.column, p.rule, p.value) for p in problems_from_validation("", exc)
        ]
    return []


def _members(plan: Plan, part: FinancePart, rules: FinanceRules) -> list[Finding]:
    codes = {m.code for m in plan.members}
    named: list[tuple[str, str]] = [
        (f"{ROOT}.financial_plans[{p.org}].org", p.org) for p in part.financial_plans
    ]
    named += [(f"{act.line_at(a)}.org", a.org) for a in part.activity]
    named += [(f"{ROOT}.qipp[{s.id}].org", s.org) for s in part.qipp]
    for m in part.marginal_tariff:
        at = f"{ROOT}.marginal_tariff[{m.org} {m.provider} {m.year}]"
        named += [(f"{at}.org", m.org), (f"{at}.provider", m.provider)]
    return [
        rules.finding(
            "FIN-MEMBER",
            at,
            f"organisation {code} is not a member of the plan",
            code,
            "a member code",
        )
        for at, code in named
        if code not in codes
    ]


def check_finance(plan: Plan, part: FinancePart, rules: FinanceRules) -> list[Finding]:
    """Every finance rule on a plan's finance part.

    Args:
        plan: the plan (members and funding lines are compared with the finance part).
        part: its finance part.
        rules: the finance rules.

    Returns:
        Findings in this order: members, financial plans (business rules, balance, years,
        detail), tariff, activity, QIPP, bridge.
    """
    return [
        *_members(plan, part, rules),
        *check_financial_plans(part, rules),
        *check_tariff(plan, part, rules),
        *act.check_activity(part.activity, rules),
        *check_qipp(part, rules),
        *check_bridge(part.bridge, rules),
    ]


def check(plan: Plan, today: date) -> list[Finding]:
    """The finance findings of a plan (none when it has no valid finance part).

    Args:
        plan: the plan.
        today: the day of the check (unused: no finance rule depends on it).
    """
    data = plan.extensions.get(NAME)
    if data is None:
        return []
    try:
        part = FinancePart.model_validate(data)
    except ValidationError:
        return []  # load_plan refuses an invalid part with located problems (validate)
    return check_finance(plan, part, finance_rules())


# --- workbook: write ---------------------------------------------------------------------------


def _flat(item: dict[str, Any], dict_fields: Sequence[str]) -> dict[str, Any]:
    """``{"spend_gbp": {"acute": 1}}`` → ``{"spend_gbp:acute": 1}`` for the named fields."""
    out = {k: v for k, v in item.items() if k not in dict_fields}
    for name in dict_fields:
        for key, value in (item.get(name) or {}).items():
            out[f"{name}:{key}"] = value
    return out


def _sheet(
    wb: Any,
    name: str,
    headers: Sequence[str],
    rows: Sequence[dict[str, Any]],
    calculated: Sequence[tuple[str, Callable[[int], Any]]] = (),
) -> None:
    """A sheet: bold header row, one row per dict; calculated columns (value per row) greyed."""
    ws = wb.create_sheet(name)
    titles = [*headers, *(f"{h}{CALCULATED}" for h, _ in calculated)]
    for j, title in enumerate(titles, start=1):
        cell = ws.cell(row=1, column=j, value=title)
        cell.font = _BOLD
        cell.fill = _CALC_FILL if title.endswith(CALCULATED) else _HEAD_FILL
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(len(title) + 2, 34))
    for i, row in enumerate(rows):
        values = [row.get(h) for h in headers] + [f(i) for _, f in calculated]
        for j, (title, value) in enumerate(zip(titles, values, strict=True), start=1):
            if isinstance(value, Decimal):
                value = decimal_number(value)
            cell = ws.cell(row=i + 2, column=j, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            if "_gbp" in title and isinstance(value, int | float):
                cell.number_format = _MONEY_FORMAT
    ws.freeze_panes = "B2"


def write_sheets(data: Any, wb: Any) -> None:
    """Write a finance part as the finance sheets of an openpyxl workbook."""
    part = FinancePart.model_validate(data)
    full = part.model_dump(mode="json")
    rules = finance_rules()

    finance_rows: list[dict[str, Any]] = []
    contract_rows: list[dict[str, Any]] = []
    years = [(p, y) for p in part.financial_plans for y in p.years]
    for fp in full["financial_plans"]:
        for y in fp["years"]:
            row = _flat(y, ["spend_gbp"])
            row.pop("contracts")
            finance_rows.append({"org": fp["org"], "org_type": fp["org_type"], **row})
            contract_rows.extend({"org": fp["org"], "year": y["year"], **c} for c in y["contracts"])
    _sheet(
        wb,
        FINANCE,
        FINANCE_COLS,
        finance_rows,
        [
            ("resource_limit_gbp", lambda i: years[i][1].resource_limit_gbp),
            ("expenditure_gbp", lambda i: years[i][1].expenditure_gbp),
            ("surplus_gbp", lambda i: years[i][1].computed_surplus_gbp),
        ],
    )
    _sheet(wb, CONTRACTS, CONTRACT_COLS, contract_rows)
    _sheet(
        wb,
        ASSUMPTIONS,
        ASSUMPTION_COLS,
        [_flat(a, ["inflation_pct"]) for a in full["assumptions"]],
        [("tariff_uplift_pct", lambda i: tariff_uplift(part.assumptions[i], rules))],
    )
    _sheet(
        wb,
        ACTIVITY,
        ACTIVITY_COLS,
        full["activity"],
        [
            ("growth_value", lambda i: act.grown(part.activity[i])),
            ("plan", lambda i: act.expected_plan(part.activity[i])),
            ("value_gbp", lambda i: act.value_gbp(part.activity[i])),
        ],
    )
    qipp_years = sorted({y for s in part.qipp for y in s.savings_gbp})
    _sheet(
        wb,
        QIPP,
        [*QIPP_COLS, *(f"savings_gbp:{y}" for y in qipp_years)],
        [_flat(s, ["savings_gbp"]) for s in full["qipp"]],
    )
    categories: list[str] = []
    bridge_rows: list[dict[str, Any]] = []
    if part.bridge is not None:
        for brow in part.bridge.rows:
            categories.extend(c for c in brow.solutions_gbp if c not in categories)
        bridge_rows = [
            {"year": full["bridge"]["year"], **_flat(r, ["solutions_gbp"])}
            for r in full["bridge"]["rows"]
        ]
    bridge = part.bridge
    _sheet(
        wb,
        BRIDGE,
        [
            "year",
            "line",
            "do_nothing_gbp",
            *(f"solutions_gbp:{c}" for c in categories),
            "do_something_gbp",
        ],
        bridge_rows,
        [
            (
                "solutions_gbp",
                lambda i: None if bridge is None else bridge.rows[i].solutions_total_gbp,
            )
        ],
    )
    splits = [
        marginal_split(m.baseline_value_gbp, m.actual_value_gbp, rules)
        for m in part.marginal_tariff
    ]
    _sheet(
        wb,
        MARGINAL,
        MARGINAL_COLS,
        full["marginal_tariff"],
        [
            ("above_baseline_gbp", lambda i: splits[i].above_baseline_gbp),
            ("paid_gbp", lambda i: splits[i].paid_gbp),
            ("retained_gbp", lambda i: splits[i].retained_gbp),
        ],
    )


# --- workbook: read ----------------------------------------------------------------------------


class _Reader:
    """Reads the finance sheets into part data, remembering which row each item came from."""

    def __init__(self, wb: Any, file: str) -> None:
        self.wb = wb
        self.file = file
        self.problems: list[Problem] = []
        self.where: dict[tuple[str | int, ...], tuple[str, int]] = {}

    def rows(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        """(sheet row, {header: value}) for each non-blank row; blanks and calculated left out."""
        if name not in self.wb.sheetnames:
            self.problems.append(Problem(self.file, 0, name, "required sheet missing"))
            return []
        ws = self.wb[name]
        grid = list(ws.iter_rows(values_only=True))
        if not grid:
            return []
        headers = [None if h is None else str(h).strip() for h in grid[0]]
        out: list[tuple[int, dict[str, Any]]] = []
        for number, cells in enumerate(grid[1:], start=2):
            row: dict[str, Any] = {}
            for header, value in zip(headers, cells, strict=False):
                if header is None or header.endswith(CALCULATED):
                    continue
                if value is None or (isinstance(value, str) and value.strip() == ""):
                    continue
                row[header] = value
            if row:
                out.append((number, row))
        return out

    def problem(self, sheet: str, row: int, header: str, rule: str, value: Any = "") -> None:
        """Record a problem at a sheet cell."""
        shown = "" if value is None else str(value)
        self.problems.append(Problem(self.file, row, f"{sheet}!{header}", rule, shown))

    def locate(self, loc: tuple[str | int, ...]) -> Problem | None:
        """Sheet, row and header of a pydantic error location (longest known prefix)."""
        for cut in range(len(loc), -1, -1):
            found = self.where.get(loc[:cut])
            if found is not None:
                sheet, row = found
                rest = ":".join(str(p) for p in loc[cut:])
                return Problem(self.file, row, f"{sheet}!{rest}" if rest else sheet, "")
        return None


def _nest(row: dict[str, Any], dict_fields: Sequence[str]) -> dict[str, Any]:
    """``{"spend_gbp:acute": 1}`` → ``{"spend_gbp": {"acute": 1}}`` for the named fields."""
    out: dict[str, Any] = {}
    for header, value in row.items():
        name, sep, key = header.partition(":")
        if sep and name in dict_fields:
            out.setdefault(name, {})[key] = value
        else:
            out[header] = value
    return out


def read_sheets(wb: Any, file: str) -> tuple[Any, list[Problem]]:
    """Read the finance sheets back: (canonical part data, problems located by sheet cell)."""
    r = _Reader(wb, file)
    plans: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    year_at: dict[tuple[str, str], tuple[int, int]] = {}
    for number, row in r.rows(FINANCE):
        data = _nest(row, ["spend_gbp"])
        org = str(data.pop("org", ""))
        org_type = data.pop("org_type", None)
        if org not in index:
            index[org] = len(plans)
            plans.append({"org": org or None, "org_type": org_type, "years": []})
            r.where[("financial_plans", index[org])] = (FINANCE, number)
        i = index[org]
        if org_type != plans[i]["org_type"]:
            r.problem(
                FINANCE, number, "org_type", "differs from this organisation's first row", org_type
            )
        j = len(plans[i]["years"])
        plans[i]["years"].append(data)
        r.where[("financial_plans", i, "years", j)] = (FINANCE, number)
        year_at[(org, str(data.get("year", "")))] = (i, j)
    for number, row in r.rows(CONTRACTS):
        key = (str(row.pop("org", "")), str(row.pop("year", "")))
        if key not in year_at:
            r.problem(
                CONTRACTS, number, "year", f"no {FINANCE} row for this org and year", " ".join(key)
            )
            continue
        i, j = year_at[key]
        contracts = plans[i]["years"][j].setdefault("contracts", [])
        r.where[("financial_plans", i, "years", j, "contracts", len(contracts))] = (
            CONTRACTS,
            number,
        )
        contracts.append(row)

    def items(sheet: str, field: str, dict_fields: Sequence[str] = ()) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for number, row in r.rows(sheet):
            r.where[(field, len(out))] = (sheet, number)
            out.append(_nest(row, dict_fields))
        return out

    part: dict[str, Any] = {
        "financial_plans": plans,
        "assumptions": items(ASSUMPTIONS, "assumptions", ["inflation_pct"]),
        "activity": items(ACTIVITY, "activity"),
        "qipp": items(QIPP, "qipp", ["savings_gbp"]),
        "marginal_tariff": items(MARGINAL, "marginal_tariff"),
    }
    bridge_rows: list[dict[str, Any]] = []
    years: set[Any] = set()
    for number, row in r.rows(BRIDGE):
        years.add(row.pop("year", None))
        r.where[("bridge", "rows", len(bridge_rows))] = (BRIDGE, number)
        bridge_rows.append(_nest(row, ["solutions_gbp"]))
    if bridge_rows:
        if len(years) != 1:
            r.problem(
                BRIDGE,
                2,
                "year",
                "every bridge row needs the same year",
                ", ".join(sorted(str(y) for y in years)),
            )
        part["bridge"] = {"year": next(iter(years)), "rows": bridge_rows}
        r.where[("bridge",)] = (BRIDGE, 2)
    if r.problems:
        return None, r.problems
    try:
        model = FinancePart.model_validate(part)
    except ValidationError as exc:
        problems = []
        for err, p in zip(exc.errors(), problems_from_validation(file, exc), strict=True):
            at = r.locate(tuple(err["loc"]))
            if at is None:
                problems.append(Problem(file, 0, FINANCE, p.rule, p.value))
            else:
                problems.append(Problem(file, at.row, at.column, p.rule, p.value))
        return None, problems
    return canonical(model), []


EXTENSION = Extension(
    name=NAME,
    title="Finance: financial plans, planning assumptions, activity plan, QIPP, bridge",
    validate=validate,
    check=check,
    workbook=SheetCodec(SHEETS, write_sheets, read_sheets),
)
register(EXTENSION)
