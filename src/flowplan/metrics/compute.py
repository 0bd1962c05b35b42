"""Metric values from numerators and denominators: value = numerator ÷ denominator × scale.

The rules, by a definition's ``period_rule`` (see :class:`~flowplan.metrics.registry.
MetricDefinition`):

* ``none``: value = numerator ÷ denominator × scale; with ``complement`` the value is
  scale × (1 − numerator ÷ denominator) (A&E 4-hour % = 100 × (1 − breaches ÷ attendances)).
  ``months`` is not used.
* ``average_per_month``: value = numerator ÷ denominator × scale ÷ months, where months is how
  many months the numerator covers (BCF delayed transfers: delayed days per 100,000 population
  18+ per month).
* ``annual``: value = numerator ÷ denominator × scale × 12 ÷ months, so a numerator covering a
  whole year (months = 12, the usual default) is used as it is and a shorter one is annualised.

Numbers are plain floats in the metric's own units; the engine reads no files and no store.
"""

from __future__ import annotations

import math
from numbers import Real

import pandas as pd

from flowplan.errors import UsageError
from flowplan.metrics.registry import MetricDefinition, PeriodRule

MONTHS_PER_YEAR = 12
SERIES_COLUMNS = ["period_start", "numerator", "denominator", "value"]
_SHOWN_PERIODS = 5


def _got(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _number(what: str, value: object) -> float:
    """``value`` as a finite float, or a UsageError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise UsageError(f"{what} must be a finite number (got {_got(value)})")
    return float(value)


def check_scale(value: object) -> float:
    """A scale override as a float.

    Raises:
        UsageError: not a positive finite number.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise UsageError(f"scale must be a positive number (got {_got(value)})")
    if float(value) <= 0:
        raise UsageError(f"scale must be a positive number (got {_got(value)})")
    return float(value)


def check_months(value: object) -> int:
    """A number of months as an int.

    Raises:
        UsageError: not a positive whole number.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(float(value))
        or not float(value).is_integer()
        or float(value) <= 0
    ):
        raise UsageError(f"months must be a positive whole number (got {_got(value)})")
    return int(float(value))


def months_used(defn: MetricDefinition, months: int | None) -> int | None:
    """The months a calculation of ``defn`` uses: the given ones, else the definition's default.

    Returns:
        None for metrics whose period rule is "none" (months play no part, though given ones
        must still be valid).

    Raises:
        UsageError: months are invalid, or needed and neither given nor defaulted.
    """
    given = None if months is None else check_months(months)
    if defn.period_rule == "none":
        return None
    if given is not None:
        return given
    if defn.default_months is not None:
        return defn.default_months
    raise UsageError(
        f"'{defn.id}' is an average per month: give the months the numerator covers (e.g. months=6)"
    )


def _apply(
    ratio: float, scale: float, complement: bool, rule: PeriodRule, months: int | None
) -> float:
    if complement:
        return scale * (1.0 - ratio)
    value = ratio * scale
    if rule == "average_per_month" and months is not None:
        return value / months
    if rule == "annual" and months is not None:
        return value * MONTHS_PER_YEAR / months
    return value


def compute(
    defn: MetricDefinition,
    numerator: float,
    denominator: float,
    months: int | None = None,
    scale: float | None = None,
) -> float:
    """The value of one metric from its numerator and denominator.

    Args:
        defn: the metric (from :func:`flowplan.metrics.registry.get`).
        numerator: numerator, in the unit its text definition gives (e.g. delayed days).
        denominator: denominator (e.g. population aged 18+); 1 for count metrics.
        months: months the numerator covers, for "average_per_month" and "annual" metrics;
            defaults to ``defn.default_months``; not used by "none" metrics.
        scale: overrides ``defn.scale`` (e.g. 1000 instead of 100,000).

    Returns:
        The value in ``defn.unit``.

    Raises:
        UsageError: a number is not finite, the denominator is 0, the scale is not positive, or
            months are invalid or needed and missing.
    """
    num = _number("numerator", numerator)
    den = _number("denominator", denominator)
    used_scale = defn.scale if scale is None else check_scale(scale)
    used_months = months_used(defn, months)
    if den == 0:
        raise UsageError(f"denominator is 0 for '{defn.id}': the ratio is undefined")
    return _apply(num / den, used_scale, defn.complement, defn.period_rule, used_months)


def compute_custom(
    numerator: float, denominator: float, scale: float, months: int | None = None
) -> float:
    """The value of a ratio that is not in the registry (metric id ``custom``).

    Args:
        numerator: numerator in its own unit.
        denominator: denominator in its own unit.
        scale: multiplier (100 for a %, 100,000 for a rate per 100,000, ...).
        months: when given, the value is averaged per month (÷ months).

    Returns:
        numerator ÷ denominator × scale, ÷ months when months are given.

    Raises:
        UsageError: a number is not finite, the denominator is 0, the scale is not positive or
            the months are not a positive whole number.
    """
    num = _number("numerator", numerator)
    den = _number("denominator", denominator)
    used_scale = check_scale(scale)
    used_months = None if months is None else check_months(months)
    if den == 0:
        raise UsageError("denominator is 0 for 'custom': the ratio is undefined")
    rule: PeriodRule = "none" if used_months is None else "average_per_month"
    return _apply(num / den, used_scale, False, rule, used_months)


def _series(what: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A checked copy of one input series: datetime period_start, float value, NaN rows dropped."""
    missing = [c for c in ("period_start", "value") if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{what} frame needs columns period_start and value (missing: {', '.join(missing)})"
        )
    try:
        periods = pd.to_datetime(frame["period_start"])
    except (ValueError, TypeError):
        raise UsageError(f"{what} frame: period_start must hold dates") from None
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = (values.isna() & frame["value"].notna()) | values.isin([math.inf, -math.inf])
    if bad.any():
        first = frame["value"][bad].iloc[0]
        raise UsageError(f"{what} frame: value must be a finite number (got {_got(first)})")
    out = pd.DataFrame({"period_start": periods, what: values.astype(float)}).dropna()
    dup = out["period_start"].duplicated(keep=False)
    if dup.any():
        first_dup = out.loc[dup, "period_start"].iloc[0]
        raise UsageError(
            f"{what} frame has more than one row for period {first_dup.date().isoformat()}"
        )
    return out


def compute_series(
    defn: MetricDefinition,
    numerator: pd.DataFrame,
    denominator: pd.DataFrame,
    months: int | None = None,
    scale: float | None = None,
) -> pd.DataFrame:
    """The metric for each period that both series cover.

    Args:
        defn: the metric.
        numerator: columns ``period_start`` (dates) and ``value``: the numerator series.
        denominator: the same columns: the denominator series.
        months: months each period covers. Default: 1 for "average_per_month" metrics (a
            monthly series gives the value per month of each month), ``defn.default_months``
            for "annual" metrics (pass 1 to annualise a monthly series); not used by "none".
        scale: overrides ``defn.scale``.

    Returns:
        Columns period_start, numerator, denominator, value (in ``defn.unit``), one row per
        period present in both series (inner join; rows with a missing value are left out),
        sorted by period_start.

    Raises:
        UsageError: a frame lacks a column, holds non-numeric values or repeats a period; the
            denominator is 0 in some period; scale or months are invalid.
    """
    num = _series("numerator", numerator)
    den = _series("denominator", denominator)
    used_scale = defn.scale if scale is None else check_scale(scale)
    if defn.period_rule == "average_per_month" and months is None:
        used_months: int | None = 1
    else:
        used_months = months_used(defn, months)
    joined = num.merge(den, on="period_start", how="inner").sort_values("period_start")
    joined = joined.reset_index(drop=True)
    zero = joined["denominator"] == 0
    if zero.any():
        periods = [p.date().isoformat() for p in joined.loc[zero, "period_start"]]
        shown = ", ".join(periods[:_SHOWN_PERIODS])
        more = f" and {len(periods) - _SHOWN_PERIODS} more" if len(periods) > _SHOWN_PERIODS else ""
        raise UsageError(
            f"denominator is 0 for '{defn.id}' in {len(periods)} period(s): {shown}{more}"
        )
    ratio = joined["numerator"] / joined["denominator"]
    if defn.complement:
        value = used_scale * (1.0 - ratio)
    else:
        value = ratio * used_scale
        if defn.period_rule == "average_per_month" and used_months is not None:
            value = value / used_months
        elif defn.period_rule == "annual" and used_months is not None:
            value = value * MONTHS_PER_YEAR / used_months
    joined["value"] = value.astype(float)
    return joined[SERIES_COLUMNS]
