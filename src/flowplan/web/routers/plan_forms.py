"""The plan editing forms: form values ↔ plan parts, and which form field a field path is.

Each form the plan pages show for a part of a plan — a scheme, one KPI of a scheme, a milestone,
a risk, the funding lines with the stated totals — is a :class:`PartForm`: its fields (all sent
as text), the values it shows for a stored part, how the values it gets back become a validated
part (or the errors by field), and which of its fields a field path inside the part belongs to
(so pydantic errors, refusals and assurance findings are shown beside the field they concern).

Lists of rows are typed one row a line, columns separated by semicolons (a scheme's costs
``YEAR; AMOUNT; recurrent|one-off; description``, a KPI's trajectory ``DATE; VALUE``, funding
lines ``KIND; YEAR; AMOUNT; recurrent|one-off; description``); lists of ids are separated by
commas. The pages themselves are in :mod:`flowplan.web.routers.plans`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowplan.plans.document import problems_from_validation
from flowplan.plans.model import (
    FundingLine,
    Kpi,
    Milestone,
    Risk,
    Scheme,
    StatedTotals,
)

Values = dict[str, str]
"""A form's values by field name, as text."""
FieldErrors = dict[str, list[str]]
"""Error messages by form field."""

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_ROW = re.compile(r"^[A-Za-z_]+\[(\d+)\]")


# --- Values as text ----------------------------------------------------------------------------


def split_ids(text: str) -> list[str]:
    """Ids or codes separated by commas or spaces."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def lines_of(text: str) -> list[str]:
    """The non-blank lines of a text box, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def date_text(value: date | None) -> str:
    """``YYYY-MM-DD`` (the value of a date input), "" for None."""
    return "" if value is None else value.isoformat()


def number_text(value: float | Decimal | int | None) -> str:
    """A number as typed back into a form ("" for None)."""
    return "" if value is None else str(value)


def money(text: str) -> Decimal:
    """An amount in pounds typed as a number (commas allowed).

    Raises:
        ValueError: not a number (``£1.2m`` is refused: the value must be exact).
    """
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number of pounds") from None


def number(text: str) -> float:
    """A finite number (commas allowed).

    Raises:
        ValueError: not a number.
    """
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def whole_number(text: str) -> int:
    """A whole number.

    Raises:
        ValueError: not a whole number.
    """
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def recurrence(text: str) -> bool:
    """``recurrent`` → True; ``one-off`` or nothing → False.

    Raises:
        ValueError: anything else.
    """
    kind = text.lower()
    if kind not in ("recurrent", "one-off", ""):
        raise ValueError(f"say 'recurrent' or 'one-off', not {text!r}")
    return kind == "recurrent"


def recurrence_text(recurrent: bool) -> str:
    """The text :func:`recurrence` reads back."""
    return "recurrent" if recurrent else "one-off"


def _text(text: str) -> str:
    return text


@dataclass(frozen=True)
class Column:
    """One column of a row typed as ``A; B; C``.

    Attributes:
        name: the field it fills.
        parse: text → value; raises ValueError with a message naming the problem.
        required: the row must have it (required columns come first).
    """

    name: str
    parse: Callable[[str], Any] = _text
    required: bool = True


def parse_rows(
    text: str, columns: Sequence[Column], usage: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows typed one a line, columns separated by ``;`` (the last column takes the rest of the
    line, semicolons included). Blank lines are skipped; a missing optional column is parsed
    from "".

    Returns:
        The rows as dicts of the columns' fields, and the errors (``line N: ...``).
    """
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    needed = sum(1 for c in columns if c.required)
    for number_, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";", len(columns) - 1)]
        if len(parts) < needed:
            errors.append(f"line {number_}: write {usage}")
            continue
        parts += [""] * (len(columns) - len(parts))
        try:
            rows.append({c.name: c.parse(part) for c, part in zip(columns, parts, strict=True)})
        except ValueError as exc:
            errors.append(f"line {number_}: {exc}")
    return rows, errors


def rows_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows back as text, one a line (trailing empty columns left out)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and not cells[-1]:
            cells.pop()
        out.append("; ".join(cells))
    return "\n".join(out)


def parse_field(values: Values, name: str, parse: Callable[[str], Any], errors: FieldErrors) -> Any:
    """Field ``name`` parsed, None when blank; a problem goes to ``errors[name]`` (and None)."""
    text = values.get(name, "").strip()
    if not text:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        errors.setdefault(name, []).append(str(exc))
        return None


def validated(
    model: type[M],
    data: dict[str, Any],
    errors: FieldErrors,
    field_of: Callable[[str], str],
    fallback: str,
) -> tuple[M | None, FieldErrors]:
    """``data`` validated as ``model``; or None and ``errors`` with pydantic's problems added
    beside their form fields (``fallback`` for the part as a whole). A field that already has a
    typing error (``errors``) gets no second message about the same value."""
    typed = set(errors)
    given = {k: v for k, v in data.items() if v is not None}  # blank: the model's default
    try:
        item = model.model_validate(given)
    except ValidationError as exc:
        for problem in problems_from_validation("", exc):
            field = field_of(problem.column) or fallback
            if field in typed:
                continue
            row = _ROW.match(problem.column)
            label = f"entry {int(row.group(1)) + 1}: " if row else ""
            errors.setdefault(field, []).append(label + problem.rule)
        return None, errors
    return (None, errors) if errors else (item, errors)


def head_field(fields: Sequence[str]) -> Callable[[str], str]:
    """A field mapper for forms whose fields are named as the part's own fields:
    ``depends_on[1]`` → ``depends_on``; "" for a path the form does not show."""

    def field_of(path: str) -> str:
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        return head if head in fields else ""

    return field_of


# --- Forms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartForm(Generic[T]):
    """One editing form of a part of a plan.

    Attributes:
        noun: what it edits, in messages ("scheme", "KPI", ...).
        fields: the form's fields, in the order it shows them.
        values: the form values of a stored part (None: a new one).
        parse: the form values (and the stored part, whose fields the form does not show are
            kept) → the part, or None and the errors by field.
        field_of: the form field a field path inside the part belongs to ("" for none).
        fallback: the field that shows problems of the part as a whole.
    """

    noun: str
    fields: tuple[str, ...]
    values: Callable[[T | None], Values]
    parse: Callable[[Values, T | None], tuple[T | None, FieldErrors]]
    field_of: Callable[[str], str]
    fallback: str

    def read(self, form: Any) -> Values:
        """The form's fields from a submitted form (missing fields are "")."""
        return {name: str(form.get(name, "")) for name in self.fields}


# Schemes ---------------------------------------------------------------------------------------

SCHEME_FIELDS = (
    "id",
    "title",
    "summary",
    "section",
    "category",
    "start",
    "end",
    "lead_name",
    "lead_email",
    "lead_job_title",
    "lead_organisation",
    "organisations",
    "requirements",
    "target_outcomes",
    "costs",
)
COST_COLUMNS = (
    Column("year"),
    Column("amount_gbp", money),
    Column("recurrent", recurrence, required=False),
    Column("description", required=False),
)
COST_USAGE = "YEAR; AMOUNT; recurrent|one-off; description"


def scheme_field_of(path: str) -> str:
    """The scheme form field a field path inside a scheme belongs to (``lead.email`` →
    ``lead_email``, ``costs[0].amount_gbp`` → ``costs``); "" when the form has none."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "lead":
        rest = path[len("lead.") :].split(".")[0]
        name = f"lead_{rest}"
        return name if name in SCHEME_FIELDS else "lead_name"
    return head if head in SCHEME_FIELDS else ""


def scheme_values(scheme: Scheme | None) -> Values:
    """Form values of a scheme (empty strings for a new one)."""
    if scheme is None:
        return {name: "" for name in SCHEME_FIELDS} | {"section": "minimum", "category": "other"}
    return {
        "id": scheme.id,
        "title": scheme.title,
        "summary": scheme.summary,
        "section": str(scheme.section),
        "category": str(scheme.category),
        "start": date_text(scheme.start),
        "end": date_text(scheme.end),
        "lead_name": scheme.lead.name,
        "lead_email": scheme.lead.email,
        "lead_job_title": scheme.lead.job_title,
        "lead_organisation": scheme.lead.organisation,
        "organisations": ", ".join(scheme.organisations),
        "requirements": ", ".join(scheme.requirements),
        "target_outcomes": "\n".join(scheme.target_outcomes),
        "costs": rows_text(
            [
                (c.year, str(c.amount_gbp), recurrence_text(c.recurrent), c.description)
                for c in scheme.costs
            ]
        ),
    }


def scheme_from_form(values: Values, old: Scheme | None) -> tuple[Scheme | None, FieldErrors]:
    """A scheme from the form's values, keeping what the form does not show (KPIs, WTE,
    activity effects, ...) from ``old``; or None and the errors by form field."""
    errors: FieldErrors = {}
    data: dict[str, Any] = old.model_dump() if old is not None else {}
    costs, cost_errors = parse_rows(values.get("costs", ""), COST_COLUMNS, COST_USAGE)
    if cost_errors:
        errors["costs"] = cost_errors
    data.update(
        {
            "id": values.get("id", "").strip(),
            "title": values.get("title", "").strip(),
            "summary": values.get("summary", "").strip(),
            "section": values.get("section", ""),
            "category": values.get("category", ""),
            "start": values.get("start") or None,
            "end": values.get("end") or None,
            "lead": {
                "name": values.get("lead_name", "").strip(),
                "email": values.get("lead_email", "").strip(),
                "job_title": values.get("lead_job_title", "").strip(),
                "organisation": values.get("lead_organisation", "").strip(),
            },
            "organisations": split_ids(values.get("organisations", "")),
            "requirements": split_ids(values.get("requirements", "")),
            "target_outcomes": lines_of(values.get("target_outcomes", "")),
            "costs": costs,
        }
    )
    return validated(Scheme, data, errors, scheme_field_of, "id")


SCHEME_FORM = PartForm[Scheme](
    "scheme", SCHEME_FIELDS, scheme_values, scheme_from_form, scheme_field_of, "id"
)


# KPIs ------------------------------------------------------------------------------------------

KPI_FIELDS = (
    "metric",
    "description",
    "unit",
    "baseline",
    "baseline_date",
    "target",
    "target_date",
    "trajectory",
    "numerator",
    "denominator",
)
TRAJECTORY_COLUMNS = (Column("date"), Column("value", number))
TRAJECTORY_USAGE = "DATE; VALUE"
kpi_field_of = head_field(KPI_FIELDS)


def kpi_values(kpi: Kpi | None) -> Values:
    """Form values of a KPI (empty strings for a new one)."""
    if kpi is None:
        return dict.fromkeys(KPI_FIELDS, "")
    return {
        "metric": kpi.metric,
        "description": kpi.description,
        "unit": kpi.unit or "",
        "baseline": number_text(kpi.baseline),
        "baseline_date": date_text(kpi.baseline_date),
        "target": number_text(kpi.target),
        "target_date": date_text(kpi.target_date),
        "trajectory": rows_text(
            [(p.date.isoformat(), number_text(p.value)) for p in kpi.trajectory]
        ),
        "numerator": number_text(kpi.numerator),
        "denominator": number_text(kpi.denominator),
    }


def kpi_from_form(values: Values, old: Kpi | None) -> tuple[Kpi | None, FieldErrors]:
    """A KPI from the form's values; or None and the errors by form field."""
    errors: FieldErrors = {}
    trajectory, row_errors = parse_rows(
        values.get("trajectory", ""), TRAJECTORY_COLUMNS, TRAJECTORY_USAGE
    )
    if row_errors:
        errors["trajectory"] = row_errors
    data: dict[str, Any] = {
        "metric": values.get("metric", "").strip(),
        "description": values.get("description", "").strip(),
        "unit": values.get("unit", "").strip() or None,
        "baseline_date": values.get("baseline_date") or None,
        "target_date": values.get("target_date") or None,
        "trajectory": trajectory,
    }
    for name in ("baseline", "target", "numerator", "denominator"):
        data[name] = parse_field(values, name, number, errors)
    return validated(Kpi, data, errors, kpi_field_of, "metric")


KPI_FORM = PartForm[Kpi]("KPI", KPI_FIELDS, kpi_values, kpi_from_form, kpi_field_of, "metric")


# Milestones ------------------------------------------------------------------------------------

MILESTONE_FIELDS = ("id", "title", "scheme", "duration_days", "depends_on", "due", "owner")
milestone_field_of = head_field(MILESTONE_FIELDS)


def milestone_values(milestone: Milestone | None) -> Values:
    """Form values of a milestone (a new one: empty, 0 days)."""
    if milestone is None:
        return dict.fromkeys(MILESTONE_FIELDS, "") | {"duration_days": "0"}
    return {
        "id": milestone.id,
        "title": milestone.title,
        "scheme": milestone.scheme or "",
        "duration_days": str(milestone.duration_days),
        "depends_on": ", ".join(milestone.depends_on),
        "due": date_text(milestone.due),
        "owner": milestone.owner or "",
    }


def milestone_from_form(
    values: Values, old: Milestone | None
) -> tuple[Milestone | None, FieldErrors]:
    """A milestone from the form's values; or None and the errors by form field."""
    errors: FieldErrors = {}
    data: dict[str, Any] = {
        "id": values.get("id", "").strip(),
        "title": values.get("title", "").strip(),
        "scheme": values.get("scheme", "").strip() or None,
        "duration_days": parse_field(values, "duration_days", whole_number, errors),
        "depends_on": split_ids(values.get("depends_on", "")),
        "due": values.get("due") or None,
        "owner": values.get("owner", "").strip() or None,
    }
    return validated(Milestone, data, errors, milestone_field_of, "depends_on")


MILESTONE_FORM = PartForm[Milestone](
    "milestone",
    MILESTONE_FIELDS,
    milestone_values,
    milestone_from_form,
    milestone_field_of,
    "depends_on",
)


# Risks -----------------------------------------------------------------------------------------

RISK_FIELDS = (
    "id",
    "description",
    "likelihood",
    "impact",
    "owner",
    "mitigation",
    "scheme",
    "contingency_gbp",
)
risk_field_of = head_field(RISK_FIELDS)
#: The 5×5 matrix's scales (NPSA 2008), 1..5.
LIKELIHOOD = ("rare", "unlikely", "possible", "likely", "almost certain")
IMPACT = ("negligible", "minor", "moderate", "major", "catastrophic")


def risk_values(risk: Risk | None) -> Values:
    """Form values of a risk (a new one: empty, likelihood and impact 1)."""
    if risk is None:
        return dict.fromkeys(RISK_FIELDS, "") | {"likelihood": "1", "impact": "1"}
    return {
        "id": risk.id,
        "description": risk.description,
        "likelihood": str(risk.likelihood),
        "impact": str(risk.impact),
        "owner": risk.owner,
        "mitigation": risk.mitigation,
        "scheme": risk.scheme or "",
        "contingency_gbp": number_text(risk.contingency_gbp),
    }


def risk_from_form(values: Values, old: Risk | None) -> tuple[Risk | None, FieldErrors]:
    """A risk from the form's values; or None and the errors by form field."""
    errors: FieldErrors = {}
    data: dict[str, Any] = {
        "id": values.get("id", "").strip(),
        "description": values.get("description", "").strip(),
        "likelihood": parse_field(values, "likelihood", whole_number, errors),
        "impact": parse_field(values, "impact", whole_number, errors),
        "owner": values.get("owner", "").strip(),
        "mitigation": values.get("mitigation", "").strip(),
        "scheme": values.get("scheme", "").strip() or None,
        "contingency_gbp": parse_field(values, "contingency_gbp", money, errors),
    }
    return validated(Risk, data, errors, risk_field_of, "id")


RISK_FORM = PartForm[Risk]("risk", RISK_FIELDS, risk_values, risk_from_form, risk_field_of, "id")


# Funding and stated totals ---------------------------------------------------------------------


class Funding(BaseModel):
    """A plan's funding lines and the totals it states (what the funding form edits)."""

    model_config = ConfigDict(extra="forbid")

    funding: list[FundingLine] = Field(default_factory=list)
    stated_totals: StatedTotals | None = None


TOTAL_FIELDS = tuple(StatedTotals.model_fields)
FUNDING_FIELDS = ("funding", *TOTAL_FIELDS)
FUNDING_COLUMNS = (
    Column("kind"),
    Column("year"),
    Column("amount_gbp", money),
    Column("recurrent", recurrence, required=False),
    Column("description", required=False),
)
FUNDING_USAGE = "KIND; YEAR; AMOUNT; recurrent|one-off; description"


def funding_field_of(path: str) -> str:
    """``funding[0].year`` → ``funding``; ``stated_totals.funding_gap_gbp`` →
    ``funding_gap_gbp``; "" for other paths."""
    if path == "funding" or path.startswith(("funding[", "funding.")):
        return "funding"
    if path.startswith("stated_totals."):
        name = path.removeprefix("stated_totals.").split(".")[0]
        return name if name in TOTAL_FIELDS else ""
    return ""


def funding_values(funding: Funding | None) -> Values:
    """Form values of the funding lines and stated totals."""
    lines = funding.funding if funding is not None else []
    totals = funding.stated_totals if funding is not None else None
    values = {
        "funding": rows_text(
            [
                (
                    str(f.kind),
                    f.year,
                    str(f.amount_gbp),
                    recurrence_text(f.recurrent),
                    f.description,
                )
                for f in lines
            ]
        )
    }
    for name in TOTAL_FIELDS:
        values[name] = number_text(None if totals is None else getattr(totals, name))
    return values


def funding_from_form(values: Values, old: Funding | None) -> tuple[Funding | None, FieldErrors]:
    """Funding lines and stated totals from the form's values (no stated totals when every
    total is blank); or None and the errors by form field."""
    errors: FieldErrors = {}
    lines, row_errors = parse_rows(values.get("funding", ""), FUNDING_COLUMNS, FUNDING_USAGE)
    if row_errors:
        errors["funding"] = row_errors
    totals = {name: parse_field(values, name, money, errors) for name in TOTAL_FIELDS}
    typed = any(values.get(name, "").strip() for name in TOTAL_FIELDS)
    data = {"funding": lines, "stated_totals": totals if typed else None}
    return validated(Funding, data, errors, funding_field_of, "funding")


FUNDING_FORM = PartForm[Funding](
    "funding", FUNDING_FIELDS, funding_values, funding_from_form, funding_field_of, "funding"
)
