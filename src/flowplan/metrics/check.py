"""Consistency check of published tables: does each stated value follow from its numerator and
denominator?

A table to check has one row per stated value, with columns ``metric_id``, ``value`` (as
published), ``numerator`` and ``denominator``, and optionally ``label`` (free text shown in the
report), ``months`` (how many months the numerator covers; default from the definition) and
``scale`` (overrides the definition's scale; required when ``metric_id`` is ``custom``).

Each row is recomputed with :mod:`flowplan.metrics.compute` and compared with the stated value
at the precision it was published: a stated value is consistent when it is within half a unit
of its last decimal place of the recomputed value (stated "12.3" → ± 0.05; "12" or "1,234" →
± 0.5). A value exactly half a unit away is a valid rounding (half up or half to even) and
passes; a relative slack of 1e-9 absorbs floating-point noise at that boundary.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from flowplan.errors import DataValidationError, Problem, UsageError
from flowplan.metrics import compute as engine
from flowplan.metrics import registry

REQUIRED_COLUMNS = ("metric_id", "value", "numerator", "denominator")
OPTIONAL_COLUMNS = ("label", "months", "scale")
_SLACK = 1e-9

# Digits with optional comma thousands separators (groups of three) and an optional fraction.
_NUMBER = re.compile(r"^(?:(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d*))?|\.(?P<only>\d+))$")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_MINUSES = ("-", "\u2212", "\u2013")  # hyphen-minus, minus sign, en dash


@dataclass(frozen=True)
class CheckResult:
    """The check of one table row.

    Attributes:
        row: line number in the file (header = 1).
        label: the row's label ("" when none).
        metric_id: the metric the row states (or "custom").
        stated: the value as published, as a number.
        recomputed: numerator ÷ denominator × scale with the metric's rules, in its unit.
        ok: whether the stated value is within ``tolerance`` of the recomputed one.
        tolerance: half a unit of the stated value's last decimal place.
        message: "ok" or "MISMATCH stated X, recomputed Y".
    """

    row: int
    label: str
    metric_id: str
    stated: float
    recomputed: float
    ok: bool
    tolerance: float
    message: str


def _not_a_number(text: str) -> UsageError:
    return UsageError(
        f"not a number: '{text}' (digits with an optional decimal point, thousands separators, "
        "%, £, a leading minus or parentheses)"
    )


def parse_stated(text: str) -> tuple[float, int]:
    """A published number and the decimal places it shows.

    Accepts "%" after or "£" before the number, thousands separators (commas, or spaces
    including non-breaking and thin ones, between groups of three digits), spaces around the
    signs, a leading minus (or Unicode minus) and accounting parentheses for negatives:
    "(1,234.5)" → (-1234.5, 1), "86.5%" → (86.5, 1), "£1 234" → (1234.0, 0).

    Args:
        text: the value as published.

    Returns:
        (value, decimals shown).

    Raises:
        UsageError: the text is not a number in one of those forms.
    """
    body = _SPACES.sub(" ", text).strip()
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    elif body.startswith(_MINUSES):
        negative, body = True, body[1:].strip()
    if body.startswith("£"):
        body = body[1:].strip()
    elif body.endswith("%"):
        body = body[:-1].strip()
    # Spaces left inside the number are thousands separators: groups of three, like commas.
    body = body.replace(" ", ",")
    match = _NUMBER.match(body)
    if match is None:
        raise _not_a_number(text.strip())
    fraction = match.group("frac") or match.group("only") or ""
    value = float(body.replace(",", ""))
    if not math.isfinite(value):
        raise _not_a_number(text.strip())
    return (-value if negative else value), len(fraction)


def tolerance_for(decimals: int) -> float:
    """Half a unit of the last decimal place shown (0 decimals → 0.5, 1 → 0.05, ...)."""
    return 0.5 * 10.0 ** (-decimals)


def rounds_to(recomputed: float, stated: float, decimals: int) -> bool:
    """Whether a stated value is ``recomputed`` rounded to ``decimals`` places (half a unit of
    the last place shown, plus a relative slack for floating-point error)."""
    slack = _SLACK * max(1.0, abs(stated), abs(recomputed))
    return abs(stated - recomputed) <= tolerance_for(decimals) + slack


def _format(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _unknown_rule(metric_id: str) -> str:
    rule = "unknown metric (see `flowplan metric list`)"
    matches = registry.close_matches(metric_id)
    return rule + f"; did you mean '{matches[0]}'?" if matches else rule


def _check_row(line: int, row: dict[str, str], file: str) -> CheckResult | list[Problem]:
    """One row checked, or the problems that stop it being checked."""
    problems: list[Problem] = []

    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    def number(column: str) -> tuple[float, int] | None:
        text = cell(column)
        if not text:
            problems.append(Problem(file, line, column, "value missing"))
            return None
        try:
            return parse_stated(text)
        except UsageError:
            problems.append(Problem(file, line, column, "not a number", text))
            return None

    metric_id = cell("metric_id")
    defn: registry.MetricDefinition | None = None
    if not metric_id:
        problems.append(Problem(file, line, "metric_id", "value missing"))
    elif metric_id != registry.CUSTOM_ID:
        try:
            defn = registry.get(metric_id)
        except UsageError:
            problems.append(Problem(file, line, "metric_id", _unknown_rule(metric_id), metric_id))
    stated = number("value")
    numerator = number("numerator")
    denominator = number("denominator")
    if denominator is not None and denominator[0] == 0:
        problems.append(Problem(file, line, "denominator", "denominator is 0", cell("denominator")))

    scale: float | None = None
    if cell("scale"):
        parsed = number("scale")
        if parsed is not None:
            if parsed[0] > 0:
                scale = parsed[0]
            else:
                problems.append(
                    Problem(file, line, "scale", "scale must be a positive number", cell("scale"))
                )
    elif metric_id == registry.CUSTOM_ID:
        problems.append(Problem(file, line, "scale", "a custom metric needs a scale"))

    months: int | None = None
    if cell("months"):
        parsed = number("months")
        if parsed is not None:
            if parsed[0] > 0 and parsed[0].is_integer():
                months = int(parsed[0])
            else:
                problems.append(
                    Problem(
                        file,
                        line,
                        "months",
                        "months must be a positive whole number",
                        cell("months"),
                    )
                )
    elif defn is not None and defn.period_rule != "none" and defn.default_months is None:
        problems.append(
            Problem(
                file,
                line,
                "months",
                f"months needed: '{defn.id}' is an average per month with no default",
            )
        )

    if problems:
        return problems
    assert stated is not None and numerator is not None and denominator is not None
    if defn is None:
        assert scale is not None
        recomputed = engine.compute_custom(numerator[0], denominator[0], scale, months)
    else:
        recomputed = engine.compute(defn, numerator[0], denominator[0], months, scale)
    value, decimals = stated
    ok = rounds_to(recomputed, value, decimals)
    message = (
        "ok"
        if ok
        else f"MISMATCH stated {_format(value, decimals)}, "
        f"recomputed {_format(recomputed, decimals + 2)}"
    )
    return CheckResult(
        row=line,
        label=cell("label"),
        metric_id=metric_id,
        stated=value,
        recomputed=recomputed,
        ok=ok,
        tolerance=tolerance_for(decimals),
        message=message,
    )


def _check(numbered: list[tuple[int, dict[str, str]]], file: str) -> list[CheckResult]:
    results: list[CheckResult] = []
    problems: list[Problem] = []
    for line, row in numbered:
        outcome = _check_row(line, row, file)
        if isinstance(outcome, CheckResult):
            results.append(outcome)
        else:
            problems.extend(outcome)
    if problems:
        raise DataValidationError(problems)
    return results


def check_rows(rows: list[dict[str, str]], file: str) -> list[CheckResult]:
    """Check every row of a table of stated values.

    Args:
        rows: the table's rows after its header, in order (so row i is on line i + 2); columns
            metric_id, value, numerator, denominator and optionally label, months, scale.
        file: file name used in problems.

    Returns:
        One result per row, in order.

    Raises:
        DataValidationError: one problem per unreadable cell or rule broken (missing or
            unreadable number, unknown metric id, custom metric without a scale, denominator 0,
            scale or months not positive, months needed and missing), for every bad row;
            nothing is returned when any row is bad.
    """
    return _check([(index + 2, row) for index, row in enumerate(rows)], file)


def read_check_file(path: Path | str) -> list[CheckResult]:
    """Read a CSV table of stated values (UTF-8, with or without BOM) and check every row.

    Args:
        path: the CSV file; see :func:`check_rows` for the columns.

    Returns:
        One result per data row, in file order.

    Raises:
        DataValidationError: file not found or unreadable, not UTF-8, a required column
            missing, no data rows, or any bad row (see :func:`check_rows`).
    """
    file = str(path)
    target = Path(path)
    if not target.is_file():
        raise DataValidationError([Problem(file, 0, "", "file not found")])
    try:
        with target.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [(name or "").strip() for name in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DataValidationError(
                    [Problem(file, 1, c, "required column missing") for c in missing]
                )
            numbered = [
                (
                    reader.line_num,
                    {(k or "").strip(): (v or "") for k, v in row.items() if k is not None},
                )
                for row in reader
            ]
    except UnicodeDecodeError:
        raise DataValidationError([Problem(file, 0, "", "file is not UTF-8 text")]) from None
    except (OSError, csv.Error) as exc:
        raise DataValidationError([Problem(file, 0, "", "cannot read file", str(exc))]) from None
    if not numbered:
        raise DataValidationError([Problem(file, 2, "", "file has no data rows")])
    return _check(numbered, file)
