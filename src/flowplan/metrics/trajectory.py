"""Trajectories: planned values per period from a baseline to one or more targets, and actuals
checked against them with a RAG rating (operational plans, DOMAIN §2.2).

Periods are identified by their first day, as naive timestamps (``datetime64[ns]``) in the
``period_start`` column, the same convention as ``flowplan.data.grain``:

* ``month``: the first day of the calendar month;
* ``quarter``: the first day of January, April, July or October (calendar quarters, which are
  also the NHS financial quarters Q4, Q1, Q2, Q3);
* ``year``: 1 April, the start of the NHS financial year (2024-04-01 is 2024/25, which holds
  every date from 1 April 2024 to 31 March 2025).

A date stands for the period that holds it: a baseline dated 2024-03-31 (or 2024-03-01) is the
March 2024 value at month grain, the 2024 Q1 value at quarter grain and the 2023/24 value at year
grain. The baseline and each target are **anchors**; a trajectory runs from the period after the
baseline's period to the period of the last target, one row per period.

Shapes (``k`` is the period index counted from the baseline's period, which is 0):

* ``linear``: straight lines between consecutive anchors, interpolated by ``k``. Baseline 90 in
  March 2024 and target 95 in March 2025 give monthly steps of 5/12 from April (90.4167) to
  March (95).
* ``stepped``: each period holds the value of the latest anchor at or before it, so the plan
  stays at the previous anchor's value until the target's period, and **the target's period
  takes the new value** (the target is due in that period).
* ``seasonal``: the level follows the straight lines of ``linear`` and the history's seasonal
  profile is laid on top. Month-of-year index: the mean of each calendar month's values in the
  history divided by the mean of the twelve monthly means (multiplicative; so the indices
  average exactly 1), or minus it (additive; the offsets average 0). A quarter's index is the
  mean of its three months' indices. To hit the anchors exactly, each anchor is read as a value
  of its own period and **deseasonalised** by that period's index (``anchor ÷ index``, or
  ``anchor − offset``); the deseasonalised level is interpolated linearly by ``k`` between
  anchors and the index is re-applied (``level × index`` or ``level + offset``). Every anchor's
  period therefore reproduces its value exactly, and where consecutive anchors share a
  deseasonalised level the planned values keep the history's month-to-month ratios (or
  differences) exactly.

``check`` joins actuals to a trajectory and rates each period green, amber or red against
tolerances that are parameters (defaults: green on plan or better, amber up to 5% worse).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.errors import UsageError
from flowplan.metrics.checks import finite, got

Grain = Literal["month", "quarter", "year"]
"""Period length of a trajectory."""

Shape = Literal["linear", "stepped", "seasonal"]
"""How planned values move between anchors."""

SeasonalKind = Literal["multiplicative", "additive"]
"""How the seasonal profile combines with the level."""

GRAINS: tuple[str, ...] = ("month", "quarter", "year")
SHAPES: tuple[str, ...] = ("linear", "stepped", "seasonal")
SEASONAL_KINDS: tuple[str, ...] = ("multiplicative", "additive")
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better", "neutral")

FINANCIAL_YEAR_START_MONTH = 4
"""The NHS financial year starts on 1 April; year-grain periods start then."""

MIN_SEASONAL_MONTHS = 12
"""Fewest monthly history values a seasonal profile is built from (one per calendar month)."""

DEFAULT_GREEN_TOLERANCE = 0.0
"""Green: on plan or better (no shortfall allowed), by default."""

DEFAULT_AMBER_TOLERANCE = 0.05
"""Amber: worse than plan by at most 5% of the planned value, by default."""

TRAJECTORY_COLUMNS: tuple[str, ...] = ("period_start", "planned", "is_target", "target_date")
CHECK_COLUMNS: tuple[str, ...] = (
    "period_start",
    "planned",
    "actual",
    "variance",
    "variance_pct",
    "rag",
)

# Float noise ignored at a tolerance boundary, so a shortfall of exactly the tolerance (computed
# as 0.05000000000000004) still counts as inside it. Relative to the planned value's scale.
_BOUNDARY_SLACK = 1e-9


# --- input checks ---------------------------------------------------------------------------


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else UsageError listing them."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise UsageError(f"{name} must be one of {options} (got {got(value)})")
    return value


def _direction(value: object) -> str:
    """A metric direction: higher_is_better, lower_is_better or neutral."""
    return _choice("direction", value, DIRECTIONS)


def _as_date(name: str, value: object) -> date:
    """``value`` as a calendar date (a datetime or Timestamp loses its time of day)."""
    if value is pd.NaT or not isinstance(value, date):
        raise UsageError(f"{name} must be a date (got {got(value)})")
    if isinstance(value, datetime):
        return value.date()
    return value


def _targets(targets: object) -> list[tuple[date, float]]:
    """``targets`` as a non-empty list of (date, value) pairs."""
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence):
        raise UsageError(f"targets must be a list of (date, value) pairs (got {got(targets)})")
    if len(targets) == 0:
        raise UsageError("targets must hold at least one (date, value) pair (got none)")
    out: list[tuple[date, float]] = []
    for i, pair in enumerate(targets, start=1):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise UsageError(f"target {i} must be a (date, value) pair (got {got(pair)})")
        out.append((_as_date(f"target {i} date", pair[0]), finite(f"target {i} value", pair[1])))
    return out


# --- periods --------------------------------------------------------------------------------


def _ordinal(day: date, grain: str) -> int:
    """Index of the period of ``grain`` that holds ``day``; consecutive periods differ by 1."""
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1


def _start(ordinal: int, grain: str) -> date:
    """First day of the period with index ``ordinal`` (see ``_ordinal``)."""
    if grain == "month":
        return date(ordinal // 12, ordinal % 12 + 1, 1)
    if grain == "quarter":
        return date(ordinal // 4, ordinal % 4 * 3 + 1, 1)
    return date(ordinal, FINANCIAL_YEAR_START_MONTH, 1)


def _months(ordinal: int, grain: str) -> list[int]:
    """Calendar months (1–12) in the month or quarter with index ``ordinal``."""
    if grain == "month":
        return [ordinal % 12 + 1]
    first = ordinal % 4 * 3 + 1
    return [first, first + 1, first + 2]


def period_start(day: date, grain: Grain) -> date:
    """First day of the period of ``grain`` that holds ``day``.

    Args:
        day: any calendar date (a datetime's time of day is ignored).
        grain: ``"month"`` (first of the month), ``"quarter"`` (1 January, April, July or October)
            or ``"year"`` (1 April, the NHS financial year).

    Returns:
        The period's first day, e.g. 2025-02-14 → 2025-02-01 (month), 2025-01-01 (quarter),
        2024-04-01 (year 2024/25).

    Raises:
        UsageError: when ``day`` is not a date or ``grain`` is unknown.
    """
    grain_ = _choice("grain", grain, GRAINS)
    return _start(_ordinal(_as_date("day", day), grain_), grain_)


# --- seasonal profile -----------------------------------------------------------------------


def seasonal_index(
    history: pd.DataFrame, kind: SeasonalKind = "multiplicative"
) -> npt.NDArray[np.float64]:
    """Month-of-year seasonal index from a monthly history.

    Args:
        history: columns ``period_start`` (first day of each month; one row per month) and
            ``value`` (the metric, in its own units); at least 12 months covering every calendar
            month.
        kind: ``"multiplicative"``: each calendar month's mean ÷ the mean of the twelve monthly
            means (dimensionless, averaging 1); ``"additive"``: each month's mean − that overall
            mean (metric units, averaging 0).

    Returns:
        Twelve numbers, January first.

    Raises:
        UsageError: when columns are missing, dates are not month starts or repeat, values are
            not finite, fewer than 12 months or not every calendar month is present, or (for
            multiplicative) a month's mean is not positive.
    """
    return _seasonal_index(history, _choice("seasonal_kind", kind, SEASONAL_KINDS))


def _seasonal_index(history: object, kind: str) -> npt.NDArray[np.float64]:
    """``seasonal_index`` with ``kind`` already checked."""
    if not isinstance(history, pd.DataFrame):
        raise UsageError(
            f"seasonal_history must be a DataFrame with columns period_start, value "
            f"(got {type(history).__name__})"
        )
    missing = [c for c in ("period_start", "value") if c not in history.columns]
    if missing:
        raise UsageError(
            f"seasonal_history needs columns period_start and value (missing {', '.join(missing)})"
        )
    starts = _timestamps("seasonal_history", history["period_start"])
    not_month_start = (starts.dt.day != 1) | (starts != starts.dt.normalize())
    if not_month_start.any():
        bad = starts[not_month_start].iloc[0]
        raise UsageError(
            f"seasonal_history period_start must be the first day of a month "
            f"(got {bad.isoformat(sep=' ')}); aggregate the history to months first"
        )
    repeated = starts[starts.duplicated()]
    if not repeated.empty:
        raise UsageError(
            f"seasonal_history has more than one value for {repeated.iloc[0]:%Y-%m}; "
            f"give one value per month"
        )
    values = _numbers("seasonal_history", "value", history["value"], starts, allow_missing=False)
    months = starts.dt.month
    if len(values) < MIN_SEASONAL_MONTHS or months.nunique() < 12:
        absent = sorted(set(range(1, 13)) - set(months.tolist()))
        names = ", ".join(date(2000, m, 1).strftime("%b") for m in absent)
        extra = f"; missing {names}" if absent else ""
        raise UsageError(
            f"seasonal_history needs at least {MIN_SEASONAL_MONTHS} monthly values covering "
            f"every calendar month (got {len(values)}{extra})"
        )
    means = np.asarray(
        pd.Series(values, index=months.to_numpy()).groupby(level=0).mean().reindex(range(1, 13)),
        dtype=np.float64,
    )
    overall = float(means.mean())
    if kind == "additive":
        offsets: npt.NDArray[np.float64] = np.asarray(means - overall, dtype=np.float64)
        return offsets
    if (means <= 0).any():
        month = int(np.flatnonzero(means <= 0)[0]) + 1
        raise UsageError(
            f"multiplicative seasonality needs every month's mean to be positive "
            f"({date(2000, month, 1):%b} is {means[month - 1]:.6g}); use seasonal_kind='additive'"
        )
    ratios: npt.NDArray[np.float64] = np.asarray(means / overall, dtype=np.float64)
    return ratios


# --- build ----------------------------------------------------------------------------------


def build(
    baseline_value: float,
    baseline_date: date,
    targets: Sequence[tuple[date, float]],
    *,
    grain: Grain = "month",
    shape: Shape = "linear",
    seasonal_history: pd.DataFrame | None = None,
    seasonal_kind: SeasonalKind = "multiplicative",
) -> pd.DataFrame:
    """Planned value for each period from the baseline to the last target.

    Args:
        baseline_value: the metric's value in the baseline period (metric units).
        baseline_date: any date in the baseline period.
        targets: (date, value) pairs, each the value due in the period holding the date; dates
            after the baseline, strictly increasing, at most one per period.
        grain: period length: ``"month"``, ``"quarter"`` (from 1 Jan/Apr/Jul/Oct) or
            ``"year"`` (NHS financial year from 1 April).
        shape: ``"linear"``, ``"stepped"`` (target period takes the new value) or
            ``"seasonal"`` (linear level × the history's seasonal index, anchors exact); see the
            module docstring for the method.
        seasonal_history: monthly history (``period_start``, ``value``) of at least 12 months;
            required for, and only used with, ``shape="seasonal"``.
        seasonal_kind: ``"multiplicative"`` (index ratios) or ``"additive"`` (offsets in metric
            units) seasonality.

    Returns:
        One row per period from the one after the baseline's to the last target's, columns
        ``period_start`` (naive ``datetime64[ns]``, the period's first day), ``planned``
        (metric units), ``is_target`` (True in each target's period) and ``target_date`` (the
        target's date in its period, NaT elsewhere).

    Raises:
        UsageError: on a bad grain, shape or kind, non-finite values, targets not after the
            baseline or not increasing, two anchors in one period, a missing or short seasonal
            history, seasonal history given for another shape, or seasonal at year grain.
    """
    grain_ = _choice("grain", grain, GRAINS)
    shape_ = _choice("shape", shape, SHAPES)
    kind_ = _choice("seasonal_kind", seasonal_kind, SEASONAL_KINDS)
    base_value = finite("baseline_value", baseline_value)
    base_day = _as_date("baseline_date", baseline_date)
    anchors = _targets(targets)

    base_ord = _ordinal(base_day, grain_)
    prev_day, prev_ord = base_day, base_ord
    ords: list[int] = []
    for i, (day, _value) in enumerate(anchors):
        if day <= prev_day:
            if i == 0:
                raise UsageError(
                    f"target dates must be after the baseline date {base_day.isoformat()} "
                    f"(got {day.isoformat()})"
                )
            raise UsageError(
                f"target dates must be in increasing order ({day.isoformat()} comes after "
                f"{prev_day.isoformat()})"
            )
        ordinal = _ordinal(day, grain_)
        if ordinal == prev_ord:
            where = _start(ordinal, grain_).isoformat()
            if i == 0:
                raise UsageError(
                    f"target date {day.isoformat()} is in the baseline's {grain_} (starting "
                    f"{where}); give targets in later {grain_}s"
                )
            raise UsageError(
                f"targets dated {prev_day.isoformat()} and {day.isoformat()} are in the same "
                f"{grain_} (starting {where}); give one target per {grain_}"
            )
        ords.append(ordinal)
        prev_day, prev_ord = day, ordinal

    if shape_ == "seasonal":
        if seasonal_history is None:
            raise UsageError(
                "shape 'seasonal' needs seasonal_history (monthly period_start, value; "
                f"at least {MIN_SEASONAL_MONTHS} months)"
            )
        if grain_ == "year":
            raise UsageError(
                "shape 'seasonal' needs grain 'month' or 'quarter' (a year holds every season)"
            )
    elif seasonal_history is not None:
        raise UsageError(
            f"seasonal_history is only used with shape 'seasonal' (got shape {shape_!r}); "
            f"drop it or choose shape 'seasonal'"
        )

    xs = np.array([0, *(o - base_ord for o in ords)], dtype=np.float64)
    ys = np.array([base_value, *(v for _d, v in anchors)], dtype=np.float64)
    k = np.arange(1, int(xs[-1]) + 1, dtype=np.float64)

    if shape_ == "linear":
        planned = np.interp(k, xs, ys)
    elif shape_ == "stepped":
        planned = ys[np.searchsorted(xs, k, side="right") - 1]
    else:
        assert seasonal_history is not None  # checked above
        by_month = _seasonal_index(seasonal_history, kind_)

        def index_of(ordinals: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return np.array(
                [
                    float(np.mean([by_month[m - 1] for m in _months(base_ord + int(x), grain_)]))
                    for x in ordinals
                ],
                dtype=np.float64,
            )

        at_anchor, at_period = index_of(xs), index_of(k)
        if kind_ == "multiplicative":
            planned = np.interp(k, xs, ys / at_anchor) * at_period
        else:
            planned = np.interp(k, xs, ys - at_anchor) + at_period

    # Each anchor's period takes its value exactly (no float drift from ÷ then × an index).
    target_rows = xs[1:].astype(np.int64) - 1
    planned = np.asarray(planned, dtype=np.float64).copy()
    planned[target_rows] = ys[1:]

    is_target = np.zeros(len(k), dtype=bool)
    is_target[target_rows] = True
    target_dates: list[pd.Timestamp | None] = [None] * len(k)
    for row, (day, _v) in zip(target_rows.tolist(), anchors, strict=True):
        target_dates[row] = pd.Timestamp(day)

    starts = [pd.Timestamp(_start(base_ord + int(x), grain_)) for x in k]
    return pd.DataFrame(
        {
            "period_start": pd.Series(starts, dtype="datetime64[ns]"),
            "planned": planned,
            "is_target": is_target,
            "target_date": pd.Series(target_dates, dtype="datetime64[ns]"),
        }
    )


# --- check against actuals ------------------------------------------------------------------


def _timestamps(name: str, column: pd.Series) -> pd.Series:
    """``column`` as naive ``datetime64[ns]`` period starts with none missing."""
    try:
        stamps = pd.to_datetime(column)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name} period_start must hold dates ({exc})") from exc
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        raise UsageError(f"{name} period_start must be naive dates without a time zone")
    if stamps.isna().any():
        raise UsageError(f"{name} period_start must not be blank (row {_first(stamps.isna())})")
    return stamps.astype("datetime64[ns]").reset_index(drop=True)


def _first(mask: pd.Series | npt.NDArray[np.bool_]) -> int:
    """1-based position of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0]) + 1


def _numbers(
    name: str, column: str, raw: pd.Series, starts: pd.Series, *, allow_missing: bool
) -> npt.NDArray[np.float64]:
    """``raw`` as floats; blanks allowed only when ``allow_missing``, infinities never."""
    values = pd.to_numeric(raw.reset_index(drop=True), errors="coerce").astype("float64")
    blank = raw.reset_index(drop=True).isna()
    unreadable = values.isna() & ~blank
    if unreadable.any():
        i = _first(unreadable) - 1
        raise UsageError(
            f"{name} {column} must be a number (got {got(raw.iloc[i])} for "
            f"{starts.iloc[i]:%Y-%m-%d})"
        )
    bad = ~np.isfinite(values) if not allow_missing else np.isinf(values)
    if bad.any():
        i = _first(bad) - 1
        raise UsageError(
            f"{name} {column} must be a finite number (got {got(values.iloc[i])} for "
            f"{starts.iloc[i]:%Y-%m-%d})"
        )
    out: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64)
    return out


def _series(name: str, frame: object, column: str, *, allow_missing: bool) -> pd.DataFrame:
    """``frame``'s ``period_start`` and ``column`` checked, one row per period, sorted."""
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(
            f"{name} must be a DataFrame with columns period_start, {column} "
            f"(got {type(frame).__name__})"
        )
    missing = [c for c in ("period_start", column) if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{name} needs columns period_start and {column} (missing {', '.join(missing)})"
        )
    starts = _timestamps(name, frame["period_start"])
    repeated = starts[starts.duplicated()]
    if not repeated.empty:
        raise UsageError(
            f"{name} has more than one row for period {repeated.iloc[0]:%Y-%m-%d}; "
            f"give one per period"
        )
    values = _numbers(name, column, frame[column], starts, allow_missing=allow_missing)
    out = pd.DataFrame({"period_start": starts, column: values})
    return out.sort_values("period_start").reset_index(drop=True)


def check(
    trajectory: pd.DataFrame,
    actuals: pd.DataFrame,
    *,
    direction: str,
    green_tolerance: float = DEFAULT_GREEN_TOLERANCE,
    amber_tolerance: float = DEFAULT_AMBER_TOLERANCE,
    relative: bool = True,
) -> pd.DataFrame:
    """Actuals against plan for every planned period, rated green, amber or red.

    The shortfall is how far the actual is worse than plan: planned − actual when higher is
    better, actual − planned when lower is better, and the distance |actual − planned| for a
    neutral metric (either side is off plan). With ``relative`` it is divided by |planned|, so
    tolerances are fractions of the plan (0.05 = 5%); a zero plan rates any shortfall red.
    Otherwise tolerances are in the metric's units. Boundaries are inclusive (a shortfall of
    exactly the tolerance is inside it); float noise below 1e-9 of the plan's scale is ignored.

    Args:
        trajectory: columns ``period_start`` and ``planned`` (e.g. from ``build``); one row per
            period, finite values. Other columns are ignored.
        actuals: columns ``period_start`` and ``value`` at the trajectory's grain (re-aggregate
            first, e.g. with ``flowplan.data.grain.regrain``); blanks mean no actual yet.
            Periods outside the trajectory are ignored.
        direction: ``"higher_is_better"``, ``"lower_is_better"`` or ``"neutral"``.
        green_tolerance: largest shortfall still rated green (≥ 0; default 0: on plan or better).
        amber_tolerance: largest shortfall rated amber (≥ green_tolerance; default 0.05).
        relative: tolerances as fractions of |planned| (default) or in metric units.

    Returns:
        One row per trajectory period, sorted, columns ``period_start``, ``planned``,
        ``actual`` (NaN where none), ``variance`` (actual − planned, metric units),
        ``variance_pct`` (variance ÷ |planned| × 100; NaN where no actual or the plan is 0) and
        ``rag`` (``"green"``, ``"amber"``, ``"red"``, or ``""`` where there is no actual).

    Raises:
        UsageError: on an unknown direction, negative or inverted tolerances, missing columns,
            unreadable or repeated periods, non-finite plans, infinite actuals, or an empty
            trajectory.
    """
    direction_ = _direction(direction)
    green = finite("green_tolerance", green_tolerance)
    amber = finite("amber_tolerance", amber_tolerance)
    if green < 0:
        raise UsageError(f"green_tolerance must be zero or more (got {got(green_tolerance)})")
    if amber < green:
        raise UsageError(
            f"amber_tolerance must be at least green_tolerance (got amber {amber:g} < "
            f"green {green:g})"
        )
    if not isinstance(relative, bool | np.bool_):
        raise UsageError(f"relative must be True or False (got {got(relative)})")
    plan = _series("trajectory", trajectory, "planned", allow_missing=False)
    if plan.empty:
        raise UsageError("trajectory has no periods; build one with trajectory.build first")
    acts = _series("actuals", actuals, "value", allow_missing=True)
    merged = plan.merge(
        acts.rename(columns={"value": "actual"}), on="period_start", how="left", validate="1:1"
    )

    planned = merged["planned"].to_numpy(dtype=np.float64)
    actual = merged["actual"].to_numpy(dtype=np.float64)
    have = ~np.isnan(actual)
    variance = actual - planned
    scale = np.abs(planned)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance_pct = np.where(scale > 0, variance / scale * 100.0, np.nan)
        if direction_ == "higher_is_better":
            shortfall = planned - actual
        elif direction_ == "lower_is_better":
            shortfall = actual - planned
        else:
            shortfall = np.abs(variance)
        if bool(relative):
            zero_plan = np.sign(shortfall) * np.inf
            gap = np.where(scale > 0, shortfall / scale, np.where(shortfall == 0, 0.0, zero_plan))
            slack = np.full(len(planned), _BOUNDARY_SLACK)
        else:
            gap = shortfall
            slack = _BOUNDARY_SLACK * np.maximum(1.0, np.maximum(scale, np.abs(actual)))
    rag = np.where(
        ~have,
        "",
        np.where(gap <= green + slack, "green", np.where(gap <= amber + slack, "amber", "red")),
    )
    return pd.DataFrame(
        {
            "period_start": merged["period_start"],
            "planned": planned,
            "actual": actual,
            "variance": variance,
            "variance_pct": variance_pct,
            "rag": pd.Series(rag.tolist(), dtype=object),
        }
    )


class TrajectorySummary(TypedDict):
    """Counts from ``check``'s frame.

    Attributes:
        periods: planned periods in the frame.
        periods_compared: periods with an actual.
        green: periods rated green.
        amber: periods rated amber.
        red: periods rated red.
        latest_period: first day of the latest period with an actual (None when none).
        latest_rag: that period's rating ("" when none).
    """

    periods: int
    periods_compared: int
    green: int
    amber: int
    red: int
    latest_period: date | None
    latest_rag: str


def summary(frame: pd.DataFrame) -> TrajectorySummary:
    """Counts by RAG and the latest rating from the frame ``check`` returns.

    Args:
        frame: ``check``'s result (needs ``period_start`` and ``rag``).

    Returns:
        A ``TrajectorySummary`` dict.

    Raises:
        UsageError: when ``frame`` lacks the columns or holds an unknown rating.
    """
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"summary needs the frame check() returns (got {type(frame).__name__})")
    missing = [c for c in ("period_start", "rag") if c not in frame.columns]
    if missing:
        raise UsageError(f"summary needs the frame check() returns (missing {', '.join(missing)})")
    rag = frame["rag"].fillna("").astype(str).reset_index(drop=True)
    unknown = sorted(set(rag) - {"green", "amber", "red", ""})
    if unknown:
        raise UsageError(
            f"rag must be green, amber, red or blank (got {unknown[0]!r}); pass check()'s frame"
        )
    starts = _timestamps("summary frame", frame["period_start"])
    rated = rag != ""
    counts = rag[rated].value_counts()
    latest_period: date | None = None
    latest_rag = ""
    if rated.any():
        rows = np.flatnonzero(rated.to_numpy())
        last = int(rows[np.argmax(starts.to_numpy()[rows])])
        latest_period = starts.iloc[last].date()
        latest_rag = str(rag.iloc[last])
    return TrajectorySummary(
        periods=len(frame),
        periods_compared=int(rated.sum()),
        green=int(counts.get("green", 0)),
        amber=int(counts.get("amber", 0)),
        red=int(counts.get("red", 0)),
        latest_period=latest_period,
        latest_rag=latest_rag,
    )
