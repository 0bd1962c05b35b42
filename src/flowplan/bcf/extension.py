"""Registers the ``bcf`` plan extension: validation, assurance rules and its workbook sheets.

* ``validate`` refuses a plan whose ``extensions.bcf`` breaks the model of
  :mod:`flowplan.bcf.model`, names a metric that is not a ``bcf.*`` registry id, or an ambition
  period that ``bcf/config.toml`` does not define — each problem with its field path
  (``metrics[2].ambitions[0].period``);
* ``check`` runs the BCF rules of :mod:`flowplan.bcf.rules` (``check_plan`` calls it after the
  core rules);
* the workbook codec writes the data as six sheets of the plan workbook and reads them back:

  ``BCF pooled budget``: one row per line (scheme, organisation, year, minimum_gbp,
  proposed_gbp, maximum_gbp, recurrent, lead_provider, description);
  ``BCF budget totals``: the stated totals (year, organisation, minimum_gbp, proposed_gbp,
  maximum_gbp); ``BCF allocation``: the national minimum allocation (year, amount_gbp,
  description); ``BCF conditions``: id, status, evidence; ``BCF metrics``: one row per metric
  and period (metric, period — ``baseline`` or a payment period —, numerator, denominator,
  value, months); ``BCF payment``: field / value rows (contingency_gbp,
  payment_for_performance.pool_gbp, payment_for_performance.config_version).

  Cells are written from the plan's data as it is, and a blank cell reads back as an absent
  field, so a plan round-trips exactly (an explicit null, empty text or empty list reads back as
  absent). Problems name the sheet row and ``SHEET!HEADER``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from flowplan.bcf.model import BASELINE, EXTENSION, BcfData
from flowplan.bcf.payment import load_config
from flowplan.bcf.rules import check_bcf
from flowplan.errors import Problem
from flowplan.metrics import registry as metric_registry
from flowplan.plans.document import problems_from_validation
from flowplan.plans.extensions import Extension, ExtensionProblem, SheetCodec, register
from flowplan.plans.findings import Finding
from flowplan.plans.model import Plan
from flowplan.plans.money import decimal_number

BUDGET = "BCF pooled budget"
TOTALS = "BCF budget totals"
ALLOCATION = "BCF allocation"
CONDITIONS = "BCF conditions"
METRICS = "BCF metrics"
PAYMENT = "BCF payment"
SHEETS = (BUDGET, TOTALS, ALLOCATION, CONDITIONS, METRICS, PAYMENT)
"""The extension's sheets, in workbook order (the first marks its presence on import)."""

MONEY_FORMAT = "£#,##0"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="E2EFDA")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")

RULE_SHEET = "required sheet missing"
RULE_COLUMN = "required column missing"


@dataclass(frozen=True)
class _Col:
    """A column: header (= the field), kind (text, money, number, count, bool), width."""

    name: str
    kind: str = "text"
    width: int = 14


BUDGET_COLS = (
    _Col("scheme", width=10),
    _Col("organisation", width=13),
    _Col("year", width=9),
    _Col("minimum_gbp", "money", 15),
    _Col("proposed_gbp", "money", 15),
    _Col("maximum_gbp", "money", 15),
    _Col("recurrent", "bool", 10),
    _Col("lead_provider", width=13),
    _Col("description", width=50),
)
TOTAL_COLS = (
    _Col("year", width=9),
    _Col("organisation", width=13),
    _Col("minimum_gbp", "money", 15),
    _Col("proposed_gbp", "money", 15),
    _Col("maximum_gbp", "money", 15),
)
ALLOCATION_COLS = (
    _Col("year", width=9),
    _Col("amount_gbp", "money", 15),
    _Col("description", width=60),
)
CONDITION_COLS = (_Col("id", width=10), _Col("status", width=9), _Col("evidence", width=90))
METRIC_COLS = (
    _Col("metric", width=40),
    _Col("period", width=10),
    _Col("numerator", "number", 13),
    _Col("denominator", "number", 13),
    _Col("value", "number", 12),
    _Col("months", "count", 8),
)
PAYMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("contingency_gbp", "money", "Contingency held against the shared risk register (£)"),
    ("payment_for_performance.pool_gbp", "money", "Local payment-for-performance pool (£)"),
    (
        "payment_for_performance.config_version",
        "text",
        "Version of bcf/config.toml the plan was agreed under (blank: the packaged one)",
    ),
)
_LISTS: tuple[tuple[str, str, tuple[_Col, ...]], ...] = (
    (BUDGET, "pooled_budget", BUDGET_COLS),
    (TOTALS, "stated_totals", TOTAL_COLS),
    (ALLOCATION, "minimum_allocation", ALLOCATION_COLS),
    (CONDITIONS, "conditions", CONDITION_COLS),
)


# --- Validate and check ------------------------------------------------------------------------


def validate(data: Any) -> list[ExtensionProblem]:
    """The problems of ``extensions.bcf`` (empty when valid), each with its field path."""
    if not isinstance(data, dict):
        return [ExtensionProblem("", "the bcf extension must be a mapping of fields", str(data))]
    try:
        model = BcfData.model_validate(data)
    except ValidationError as exc:
        return [
            ExtensionProblem(p.column, p.rule, p.value) for p in problems_from_validation("", exc)
        ]
    problems: list[ExtensionProblem] = []
    registry = metric_registry.registry()
    periods = load_config().period_ids()
    for i, metric in enumerate(model.metrics):
        defn = registry.get(metric.metric)
        if defn is None:
            message = metric_registry.unknown_metric_message(metric.metric)
            problems.append(ExtensionProblem(f"metrics[{i}].metric", message, metric.metric))
        for j, ambition in enumerate(metric.ambitions):
            if ambition.period not in periods:
                problems.append(
                    ExtensionProblem(
                        f"metrics[{i}].ambitions[{j}].period",
                        f"unknown payment period (one of {', '.join(periods)})",
                        ambition.period,
                    )
                )
    return problems


def check(plan: Plan, today: date) -> list[Finding]:
    """The BCF rules' findings for a plan (``today`` is not used by these rules)."""
    try:
        return check_bcf(plan)
    except ValidationError:  # invalid data: load_plan refuses it before any check
        return []


# --- Workbook: write ---------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_number(value)
    if isinstance(value, Enum):
        return value.value
    if value == "" or isinstance(value, dict | list):
        return None
    return value


def _sheet(wb: Any, name: str, headers: Sequence[str], widths: Sequence[int]) -> Any:
    ws = wb.create_sheet(name)
    for j, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    return ws


def _put(ws: Any, row: int, column: int, kind: str, value: Any) -> None:
    cell = ws.cell(row=row, column=column, value=_cell(value))
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    if kind == "money" and isinstance(cell.value, int | float):
        cell.number_format = MONEY_FORMAT
    cell.alignment = _WRAP if kind == "text" and isinstance(cell.value, str) else _TOP


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def write_sheets(data: Any, wb: Any) -> None:
    """Write the BCF data as the extension's sheets of an openpyxl workbook."""
    for name, key, cols in _LISTS:
        ws = _sheet(wb, name, [c.name for c in cols], [c.width for c in cols])
        for r, item in enumerate(_items(data, key), start=2):
            for j, col in enumerate(cols, start=1):
                _put(ws, r, j, col.kind, item.get(col.name))
    ws = _sheet(wb, METRICS, [c.name for c in METRIC_COLS], [c.width for c in METRIC_COLS])
    r = 1
    for metric in _items(data, "metrics"):
        rows: list[tuple[str, dict[str, Any]]] = []
        baseline = metric.get("baseline")
        if isinstance(baseline, dict):
            rows.append((BASELINE, baseline))
        rows += [(str(a.get("period", "")), a) for a in _items(metric, "ambitions")]
        if not rows:
            rows.append(("", {}))
        for period, values in rows:
            r += 1
            _put(ws, r, 1, "text", metric.get("metric"))
            _put(ws, r, 2, "text", period)
            for j, col in enumerate(METRIC_COLS[2:], start=3):
                _put(ws, r, j, col.kind, values.get(col.name))
    ws = _sheet(wb, PAYMENT, ["field", "value", "description"], [40, 18, 70])
    for r, (name, kind, text) in enumerate(PAYMENT_FIELDS, start=2):
        _put(ws, r, 1, "text", name)
        head, _, tail = name.partition(".")
        part = data.get(head) if isinstance(data, dict) else None
        value = part.get(tail) if tail and isinstance(part, dict) else (None if tail else part)
        _put(ws, r, 2, kind, value)
        _put(ws, r, 3, "text", text)


# --- Workbook: read ----------------------------------------------------------------------------

_TRUE = {"true", "yes", "y"}
_FALSE = {"false", "no", "n"}
_MISSING: Any = object()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _convert(kind: str, value: Any) -> tuple[Any, str]:
    """A cell as model input: (value, "") or (_MISSING, rule)."""
    is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "text":
        if isinstance(value, datetime | date):
            return _MISSING, "must be text, not a date"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return (value.strip() if isinstance(value, str) else str(value)), ""
    if kind == "money":
        return (value, "") if is_number else (_MISSING, "amount must be a number in pounds")
    if kind == "number":
        return (value, "") if is_number else (_MISSING, "must be a number")
    if kind == "count":
        if is_number and float(value).is_integer():
            return int(value), ""
        return _MISSING, "must be a whole number"
    if isinstance(value, bool):
        return value, ""
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE, ""
    return _MISSING, "must be TRUE or FALSE"


class _Reader:
    """Reads the extension's sheets, remembering the cell each field path came from."""

    def __init__(self, wb: Any, file: str) -> None:
        self.wb = wb
        self.file = file
        self.problems: list[Problem] = []
        self.cells: dict[str, tuple[int, str]] = {}

    def problem(self, row: int, column: str, rule: str, value: Any = "") -> None:
        shown = value.isoformat() if isinstance(value, date) else str(value)
        self.problems.append(Problem(self.file, row, column, rule, shown))

    def rows(self, sheet: str, cols: Sequence[_Col]) -> list[tuple[int, dict[str, Any]]]:
        """The converted, non-blank cells of each data row of a sheet, by header."""
        if sheet not in self.wb.sheetnames:
            self.problem(0, sheet, RULE_SHEET)
            return []
        ws = self.wb[sheet]
        grid = list(ws.iter_rows(values_only=True))
        if not grid:
            self.problem(1, sheet, RULE_COLUMN, ", ".join(c.name for c in cols))
            return []
        header = [str(h).strip() if h is not None else "" for h in grid[0]]
        where: dict[str, int] = {}
        for col in cols:
            if col.name in header:
                where[col.name] = header.index(col.name)
            else:
                self.problem(1, f"{sheet}!{col.name}", RULE_COLUMN)
        if len(where) < len(cols):
            return []
        out: list[tuple[int, dict[str, Any]]] = []
        for number, cells in enumerate(grid[1:], start=2):
            values: dict[str, Any] = {}
            for col in cols:
                index = where[col.name]
                raw = cells[index] if index < len(cells) else None
                if _blank(raw):
                    continue
                value, rule = _convert(col.kind, raw)
                if value is _MISSING:
                    self.problem(number, f"{sheet}!{col.name}", rule, raw)
                    continue
                values[col.name] = value
            if values or any(not _blank(c) for c in cells):
                out.append((number, values))
        return out

    def mark(self, path: str, row: int, sheet: str, header: str) -> None:
        self.cells[path] = (row, f"{sheet}!{header}")

    def locate(self, problem: ExtensionProblem) -> Problem:
        """A validation problem at the cell its path came from (or its nearest parent)."""
        path = problem.path
        while path:
            if path in self.cells:
                row, column = self.cells[path]
                return Problem(self.file, row, column, problem.rule, problem.value)
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        where = f"extensions.{EXTENSION}" + (f".{problem.path}" if problem.path else "")
        return Problem(self.file, 0, where, problem.rule, problem.value)


def read_sheets(wb: Any, file: str) -> tuple[Any, list[Problem]]:
    """Read the BCF data back from the extension's sheets → (data, problems)."""
    reader = _Reader(wb, file)
    data: dict[str, Any] = {}
    for sheet, key, cols in _LISTS:
        items: list[dict[str, Any]] = []
        for number, values in reader.rows(sheet, cols):
            path = f"{key}[{len(items)}]"
            reader.mark(path, number, sheet, cols[0].name)
            for name in values:
                reader.mark(f"{path}.{name}", number, sheet, name)
            items.append(values)
        if items:
            data[key] = items
    metrics: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for number, values in reader.rows(METRICS, METRIC_COLS):
        metric_id = values.pop("metric", None)
        period = values.pop("period", None)
        if metric_id is None or period is None:
            missing = "metric" if metric_id is None else "period"
            reader.problem(number, f"{METRICS}!{missing}", f"a metric row needs a {missing}")
            continue
        if metric_id not in index:
            index[metric_id] = len(metrics)
            reader.mark(f"metrics[{len(metrics)}]", number, METRICS, "metric")
            reader.mark(f"metrics[{len(metrics)}].metric", number, METRICS, "metric")
            metrics.append({"metric": metric_id})
        i = index[metric_id]
        metric = metrics[i]
        if period == BASELINE:
            if "baseline" in metric:
                reader.problem(number, f"{METRICS}!period", "a second baseline row", metric_id)
                continue
            path = f"metrics[{i}].baseline"
            metric["baseline"] = values
        else:
            ambitions = metric.setdefault("ambitions", [])
            path = f"metrics[{i}].ambitions[{len(ambitions)}]"
            ambitions.append({**values, "period": period})
            reader.mark(f"{path}.period", number, METRICS, "period")
        reader.mark(path, number, METRICS, "period")
        for name in values:
            reader.mark(f"{path}.{name}", number, METRICS, name)
    if metrics:
        data["metrics"] = metrics
    _read_payment(reader, data)
    if reader.problems:
        return None, reader.problems
    return data, [reader.locate(p) for p in validate(data)]


def _read_payment(reader: _Reader, data: dict[str, Any]) -> None:
    cols = (_Col("field"), _Col("value"))
    if PAYMENT not in reader.wb.sheetnames:
        reader.problem(0, PAYMENT, RULE_SHEET)
        return
    kinds = {name: kind for name, kind, _ in PAYMENT_FIELDS}
    ws = reader.wb[PAYMENT]
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]]
    if any(c.name not in header for c in cols):
        for c in cols:
            if c.name not in header:
                reader.problem(1, f"{PAYMENT}!{c.name}", RULE_COLUMN)
        return
    at_field, at_value = header.index("field"), header.index("value")
    for number, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        name = cells[at_field] if at_field < len(cells) else None
        raw = cells[at_value] if at_value < len(cells) else None
        if _blank(name):
            continue
        field_name = str(name).strip()
        if field_name not in kinds:
            reader.problem(
                number, f"{PAYMENT}!field", f"unknown field (one of {', '.join(kinds)})", name
            )
            continue
        if _blank(raw):
            continue
        value, rule = _convert(kinds[field_name], raw)
        if value is _MISSING:
            reader.problem(number, f"{PAYMENT}!value", rule, raw)
            continue
        head, _, tail = field_name.partition(".")
        if tail:
            data.setdefault(head, {})[tail] = value
            reader.mark(head, number, PAYMENT, "value")
        else:
            data[head] = value
        reader.mark(field_name, number, PAYMENT, "value")


EXTENSION_DEF = Extension(
    name=EXTENSION,
    title="Better Care Fund: pooled budget, national conditions, metrics, payment for performance",
    validate=validate,
    check=check,
    workbook=SheetCodec(SHEETS, write_sheets, read_sheets),
)
register(EXTENSION_DEF)
