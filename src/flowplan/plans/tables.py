"""Assurance checks on tables pasted from plans: budgets and activity plans.

Real plan drafts carry scheme tables whose rows don't sum to the stated total, minimums above
maximums and activity plans that don't apply their own growth. ``check_budget`` and
``check_activity_plan`` find them. A value that cannot be read at all is an input error
(:class:`~flowplan.errors.DataValidationError`, one line per cell); an arithmetic
inconsistency is a :class:`~flowplan.plans.findings.Finding` with the stated and expected values.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

import pandas as pd

from flowplan.data.readers.engine import read_text_frame
from flowplan.errors import DataValidationError, Problem
from flowplan.plans.findings import Finding, Severity
from flowplan.plans.money import Amount, MoneyError, format_money, parse_money

TOTAL_LABELS = frozenset({"total", "totals"})
#: Columns of a budget table that hold words, not money (compared case-insensitively).
TEXT_COLUMNS = frozenset(
    {"description", "notes", "note", "lead", "lead provider", "provider", "organisation", "owner"}
)
#: Published activity figures are rounded to whole units: differences up to 1 are rounding.
ACTIVITY_TOLERANCE = Decimal(1)
#: A stated total is trusted to half a unit of its last digit, but never closer than £1.
MIN_TOTAL_TOLERANCE = Decimal(1)


class TableKind(StrEnum):
    """The kinds of pasted table ``plan check-table`` understands."""

    budget = "budget"
    activity_plan = "activity-plan"


def check_table(
    path: Path, kind: TableKind, *, display: str | None = None, ignore: Sequence[str] = ()
) -> list[Finding]:
    """Check one pasted table.

    Args:
        path: the CSV file.
        kind: budget or activity plan.
        display: the file name to quote in errors (defaults to ``path``).
        ignore: budget columns to leave out (text columns beyond the usual ones).

    Raises:
        DataValidationError: the file is unreadable, a required column is missing, or a cell
            is not a number; nothing is checked.
    """
    name = display or str(path)
    frame = read_text_frame(path, name)
    frame.columns = [c.strip().lower() for c in frame.columns]
    if kind is TableKind.budget:
        return check_budget(frame, name, ignore=[c.strip().lower() for c in ignore])
    return check_activity_plan(frame, name)


def _line_numbers(frame: pd.DataFrame) -> list[int]:
    return [int(i) + 2 for i in frame.index]


def _require(frame: pd.DataFrame, display: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(frame.columns)
        raise DataValidationError(
            [
                Problem(display, 1, c, "required column is missing", f"columns are: {have}")
                for c in missing
            ]
        )


def check_budget(frame: pd.DataFrame, display: str, *, ignore: Sequence[str] = ()) -> list[Finding]:
    """Totals equal the sum of their rows; minimum ≤ maximum on every line.

    Args:
        frame: the table as text, lower-case column names, index = file line − 2.
        display: file name for error messages.
        ignore: extra text columns to leave out.

    Returns:
        One finding per column whose rows don't sum to its stated total (tolerance: half a
        unit of the stated total's last digit, at least £1) and per line whose ``minimum``
        exceeds its ``maximum``.
    """
    _require(frame, display, ["line"])
    skip = TEXT_COLUMNS | set(ignore) | {"line"}
    columns = [c for c in frame.columns if c not in skip]
    if not columns:
        raise DataValidationError(
            [Problem(display, 1, "", "a budget table needs at least one amount column")]
        )
    lines = _line_numbers(frame)
    labels = frame["line"].fillna("").astype(str)
    problems: list[Problem] = []
    amounts: dict[str, list[Amount]] = {}
    for col in columns:
        parsed: list[Amount] = []
        for row, text in zip(lines, frame[col].fillna("").astype(str), strict=True):
            try:
                parsed.append(parse_money(text))
            except MoneyError:
                problems.append(Problem(display, row, col, "not an amount of money", text))
                parsed.append(Amount(Decimal(0), Decimal(0)))
        amounts[col] = parsed
    is_total = [label.strip().lower() in TOTAL_LABELS for label in labels]
    if sum(is_total) > 1:
        rows = [r for r, t in zip(lines, is_total, strict=True) if t]
        problems.extend(
            Problem(display, r, "line", "only one Total row is allowed", labels.iloc[i])
            for i, r in enumerate(lines)
            if r in rows[1:]
        )
    if problems:
        raise DataValidationError(problems)

    findings: list[Finding] = []
    if any(is_total):
        at = is_total.index(True)
        for col in columns:
            stated = amounts[col][at]
            rows_sum = sum(
                (a.pounds for a, t in zip(amounts[col], is_total, strict=True) if not t),
                Decimal(0),
            )
            tolerance = max(stated.resolution / 2, MIN_TOTAL_TOLERANCE)
            if abs(rows_sum - stated.pounds) > tolerance:
                findings.append(
                    Finding(
                        rule="TABLE-TOTAL",
                        severity=Severity.error,
                        location=str(lines[at]),
                        message=f"total of '{col}' does not equal the sum of its rows "
                        f"(tolerance {format_money(tolerance)})",
                        stated=format_money(stated.pounds),
                        expected=format_money(rows_sum),
                        row=lines[at],
                    )
                )
    if "minimum" in columns and "maximum" in columns:
        for i, row in enumerate(lines):
            low, high = amounts["minimum"][i].pounds, amounts["maximum"][i].pounds
            if low > high:
                findings.append(
                    Finding(
                        rule="TABLE-MIN-MAX",
                        severity=Severity.error,
                        location=str(row),
                        message=f"minimum exceeds maximum on line '{labels.iloc[i]}'",
                        stated=f"minimum {format_money(low)}",
                        expected=f"at most the maximum {format_money(high)}",
                        row=row,
                    )
                )
    return sorted(findings, key=lambda f: (f.row, f.rule))


def _number(text: str) -> Decimal:
    cleaned = text.strip().replace(",", "").removesuffix("%").strip()
    if cleaned in {"", "-"}:
        raise InvalidOperation
    return Decimal(cleaned)


def _units(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def check_activity_plan(frame: pd.DataFrame, display: str) -> list[Finding]:
    """``growth_value = baseline × (1 + growth_pct/100)`` and ``plan = growth_value − savings``.

    Args:
        frame: the table as text, lower-case column names, index = file line − 2.
        display: file name for error messages.

    Returns:
        One finding per row and rule broken by more than ±1 (published figures are rounded to
        whole units). Blank ``savings`` are 0; a blank ``plan`` is not checked.
    """
    required = ["activity", "baseline", "growth_pct", "growth_value"]
    _require(frame, display, required)
    lines = _line_numbers(frame)
    problems: list[Problem] = []
    values: dict[str, list[Decimal | None]] = {}
    optional = [c for c in ("savings", "plan") if c in frame.columns]
    for col in required[1:] + optional:
        parsed: list[Decimal | None] = []
        for row, text in zip(lines, frame[col].fillna("").astype(str), strict=True):
            if text.strip() == "" and col in optional:
                parsed.append(Decimal(0) if col == "savings" else None)
                continue
            try:
                parsed.append(_number(text))
            except InvalidOperation:
                problems.append(Problem(display, row, col, "not a number", text))
                parsed.append(None)
        values[col] = parsed
    if problems:
        raise DataValidationError(problems)

    findings: list[Finding] = []
    activities = frame["activity"].fillna("").astype(str).tolist()
    for i, row in enumerate(lines):
        baseline, pct, grown = (values[c][i] for c in ("baseline", "growth_pct", "growth_value"))
        assert baseline is not None and pct is not None and grown is not None
        expected = baseline * (1 + pct / 100)
        if abs(grown - expected) > ACTIVITY_TOLERANCE:
            findings.append(
                Finding(
                    rule="ACTIVITY-GROWTH",
                    severity=Severity.error,
                    location=str(row),
                    message=f"growth_value ≠ baseline × (1 + growth_pct/100) for '{activities[i]}'",
                    stated=_units(grown),
                    expected=_units(expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
                    row=row,
                )
            )
        plan = values["plan"][i] if "plan" in values else None
        savings = values["savings"][i] if "savings" in values else Decimal(0)
        if plan is not None and savings is not None and abs(plan - (grown - savings)) > 1:
            findings.append(
                Finding(
                    rule="ACTIVITY-PLAN",
                    severity=Severity.error,
                    location=str(row),
                    message=f"plan ≠ growth_value − savings for '{activities[i]}'",
                    stated=_units(plan),
                    expected=_units(grown - savings),
                    row=row,
                )
            )
    return findings
