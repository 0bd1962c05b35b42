"""Read the actual outturns of BCF metrics from a CSV file, strictly.

The file has a header row and one row per metric and payment period::

    metric,period,numerator,denominator,value
    bcf.delayed_transfers,apr-2015,25803,940000,305.0

* ``metric``: a ``bcf.*`` metric id of the registry;
* ``period``: a payment period id of ``bcf/config.toml`` (``apr-2015``, ``oct-2015``);
* ``numerator`` (≥ 0) and ``denominator`` (> 0): plain decimal numbers in the units the
  metric's definition gives;
* ``value`` (optional column; a blank cell is allowed): when given it must equal numerator ÷
  denominator × scale with the metric's period rule (months of the payment window), computed by
  :func:`flowplan.metrics.compute.compute`, within half a unit of its last written decimal.
  Without a plan, a value whose months only the plan states (the local metric) is not checked.

Every problem is reported, one line each, as ``FILE:ROW:COLUMN: rule — value`` (row 1 is the
header); nothing is returned when there is any problem. With a plan, each row must also be a
metric of the plan with an ambition for that period (the months for the value come from it).
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from flowplan.bcf.model import bcf_data
from flowplan.bcf.payment import Actual, PaymentConfig, load_config
from flowplan.errors import DataValidationError, Problem, UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.metrics.compute import compute
from flowplan.plans.model import Plan

REQUIRED = ("metric", "period", "numerator", "denominator")
OPTIONAL = ("value",)
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_ROUNDING_SLACK = 1 + 1e-9


def _number(text: str) -> float | None:
    """A plain decimal number, or None (no thousands separators, no nan/inf)."""
    raw = text.strip()
    if not _NUMBER.match(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _decimals(text: str) -> int:
    """Decimal places written in a number's text (``305.0`` → 1; ``1.5e2`` → 0)."""
    raw = text.strip().lower()
    if "e" in raw:
        mantissa, exponent = raw.split("e")
        places = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return max(0, places - int(exponent))
    return len(raw.split(".")[1]) if "." in raw else 0


def read_actuals(
    path: str | Path, plan: Plan | None = None, config: PaymentConfig | None = None
) -> list[Actual]:
    """The actuals of a CSV file, validated.

    Args:
        path: the CSV file.
        plan: the BCF plan the actuals are for; when given, each row must be one of its metrics
            with an ambition for the period, and stated values are checked with its months.
        config: the payment configuration (default: the packaged one).

    Returns:
        One :class:`~flowplan.bcf.payment.Actual` per data row, in file order.

    Raises:
        DataValidationError: the file is missing or unreadable, or a row breaks a rule (every
            problem listed as ``FILE:ROW:COLUMN: rule — value``).
    """
    path = Path(path)
    file = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataValidationError([Problem(file, 0, "", "file not found")]) from None
    except UnicodeDecodeError:
        raise DataValidationError([Problem(file, 0, "", "file is not UTF-8 text")]) from None
    except OSError as exc:
        raise DataValidationError([Problem(file, 0, "", "cannot read file", str(exc))]) from None
    return parse_actuals(text, file, plan, config)


def parse_actuals(
    text: str,
    file: str = "<actuals>",
    plan: Plan | None = None,
    config: PaymentConfig | None = None,
) -> list[Actual]:
    """The actuals of CSV text (see :func:`read_actuals`).

    Raises:
        DataValidationError: a row breaks a rule (every problem listed).
    """
    used = load_config() if config is None else config
    rows = list(csv.reader(io.StringIO(text)))
    problems: list[Problem] = []
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataValidationError([Problem(file, 1, "", "no header row", "")])
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(
            Problem(file, 1, ", ".join(missing), "required column missing", ",".join(header))
        )
    for name in header:
        if name not in REQUIRED + OPTIONAL:
            problems.append(
                Problem(
                    file, 1, name, f"unknown column (expected {', '.join(REQUIRED + OPTIONAL)})"
                )
            )
    repeated = sorted({h for h in header if header.count(h) > 1})
    problems.extend(Problem(file, 1, h, "column appears more than once") for h in repeated)
    if problems:
        raise DataValidationError(problems)
    data = None if plan is None else bcf_data(plan.extensions)
    if plan is not None and data is None:
        raise UsageError(f"plan '{plan.id}' has no Better Care Fund data (extensions.bcf)")
    registry = metric_registry.registry()
    periods = used.period_ids()
    seen: dict[tuple[str, str], int] = {}
    actuals: list[Actual] = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) != len(header):
            problems.append(
                Problem(file, number, "", f"row has {len(cells)} cells, the header {len(header)}")
            )
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        bad = len(problems)
        metric_id, period = row["metric"], row["period"]
        defn = registry.get(metric_id)
        if defn is None or defn.family != "bcf":
            rule = (
                metric_registry.unknown_metric_message(metric_id)
                if defn is None
                else "not a Better Care Fund metric (bcf.*)"
            )
            problems.append(Problem(file, number, "metric", rule, metric_id))
        if period not in periods:
            problems.append(
                Problem(
                    file,
                    number,
                    "period",
                    f"unknown payment period (one of {', '.join(periods)})",
                    period,
                )
            )
        numerator = _number(row["numerator"])
        if numerator is None or numerator < 0:
            problems.append(
                Problem(
                    file,
                    number,
                    "numerator",
                    "must be a number ≥ 0 (plain digits)",
                    row["numerator"],
                )
            )
        denominator = _number(row["denominator"])
        if denominator is None or denominator <= 0:
            problems.append(
                Problem(
                    file,
                    number,
                    "denominator",
                    "must be a number > 0 (plain digits)",
                    row["denominator"],
                )
            )
        value_text = row.get("value", "")
        value = _number(value_text) if value_text else None
        if value_text and value is None:
            problems.append(
                Problem(file, number, "value", "must be a number (or blank)", value_text)
            )
        key = (metric_id, period)
        if key in seen:
            problems.append(
                Problem(
                    file,
                    number,
                    "metric",
                    f"repeats the {metric_id} actual for {period} of row {seen[key]}",
                    metric_id,
                )
            )
        else:
            seen[key] = number
        if len(problems) > bad or numerator is None or denominator is None or defn is None:
            continue
        months: int | None = None
        if data is not None:
            metric = data.metric(metric_id)
            if metric is None:
                problems.append(
                    Problem(file, number, "metric", "not a metric of the plan", metric_id)
                )
                continue
            if metric.ambition(period) is None:
                problems.append(
                    Problem(
                        file,
                        number,
                        "period",
                        f"the plan states no ambition for {metric_id} in this period",
                        period,
                    )
                )
                continue
            months = used.months_for(metric, period)
        else:
            window = used.window(metric_id, period)
            months = None if window is None else window.months
            if months is None and defn.period_rule != "none":
                value_text = ""  # months set by the plan: the value is checked against it
        if value is not None and value_text:
            try:
                computed = compute(defn, numerator, denominator, months)
            except UsageError as exc:
                problems.append(Problem(file, number, "value", str(exc), value_text))
                continue
            places = _decimals(value_text)
            if abs(computed - value) > 0.5 * 10.0**-places * _ROUNDING_SLACK:
                problems.append(
                    Problem(
                        file,
                        number,
                        "value",
                        f"is not numerator ÷ denominator as {metric_id} defines it"
                        f" (expected {computed:.{max(places, 2)}f})",
                        value_text,
                    )
                )
                continue
        actuals.append(Actual(metric_id, period, numerator, denominator, value, number))
    if not problems and not actuals:
        problems.append(Problem(file, 0, "", "no actuals: the file has a header but no rows"))
    if problems:
        raise DataValidationError(problems)
    return actuals
