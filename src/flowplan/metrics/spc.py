"""XmR statistical process control (SPC) charts to NHS England "Making Data Count" rules.

The engine follows the rules and defaults of the NHS-R Community's ``NHSRplotthedots`` R package
(the R implementation of "Making Data Count", MDC), re-derived here:

* Limits, per segment: the mean of the values (of the first ``baseline`` values of the segment
  where a baseline is fixed); moving ranges ``|x[i] - x[i-1]|`` inside that basis (the first point
  of a segment has none); mean moving range ``MR``; process limits ``mean ± 2.66 MR``; the
  two-sigma lines ``mean ± (2/3)·2.66 MR`` used by the two-of-three rule. With
  ``screen_outliers`` the moving ranges of ``3.267 MR`` or more are dropped and ``MR`` is averaged
  again (off by default, as in the MDC Excel tool; ``NHSRplotthedots`` screens by default).
* Special-cause rules, inside each segment: a point above the upper or below the lower process
  limit; a run of ``run_length`` (7) or more consecutive points on the same side of the mean (a
  point exactly on the mean breaks the run); a trend of ``trend_length`` (7) or more consecutive
  points each strictly higher (or each strictly lower) than the one before (an equal value breaks
  the trend); two of three consecutive points between a two-sigma line and its process limit, all
  three on the same side of the mean (only the points beyond the two-sigma line are flagged;
  points beyond the process limit count for the first rule, not this one).
* The side of a signal is the side of the mean (outside, two-of-three and run rules) or the
  direction of the trend (trend rule; a point on two trends takes the later one); it gives the
  point type ``special_cause_improvement`` or ``special_cause_concern`` against the improvement
  direction, or ``special_cause_neutral`` where neither direction is better.
* Variation icon: from the latest point. Assurance icon: the target against the latest segment's
  process limits (outside on the passing side: consistently passes; outside on the failing side:
  consistently fails; between them, or on a limit: hit or miss); none without a target or where
  the improvement direction is neutral.

Everything here is pure computation except :func:`spc_chart`, which writes a file.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ASSURANCE_MEANINGS",
    "COLOURS",
    "FRAME_COLUMNS",
    "LIMIT_FACTOR",
    "MIN_POINTS",
    "OUTLIER_FACTOR",
    "TRIAL_POINTS",
    "TWO_SIGMA_FACTOR",
    "VARIATION_MEANINGS",
    "Assurance",
    "Improvement",
    "PointType",
    "SpcResult",
    "Variation",
    "spc",
    "spc_chart",
]

Improvement = Literal["increase", "decrease", "neutral"]
PointType = Literal[
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
]
Assurance = Literal["consistently_passes", "consistently_fails", "hit_or_miss"]
Variation = Literal[
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
]

DateInput: TypeAlias = "Sequence[date | str] | pd.Series[Any] | pd.DatetimeIndex"
ValueInput: TypeAlias = "Sequence[float] | pd.Series[Any] | npt.NDArray[Any]"
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LIMIT_FACTOR: Final = 2.66
"""Process limits sit this many mean moving ranges from the mean (3 / 1.128, rounded)."""
TWO_SIGMA_FACTOR: Final = 2.0 * LIMIT_FACTOR / 3.0
"""The two-sigma lines sit two thirds of the way from the mean to each process limit."""
OUTLIER_FACTOR: Final = 3.267
"""Moving ranges of this many mean moving ranges or more are screened out (when asked)."""
MIN_POINTS: Final = 5
"""Fewest points the limits of a segment may be calculated from ("useful limits may be
constructed with as few as five or six values", Wheeler, quoted by NHSRplotthedots)."""
TRIAL_POINTS: Final = 12
"""Limits from fewer points than this are trial limits (NHSRplotthedots warns below 12)."""

FRAME_COLUMNS: Final = (
    "date",
    "value",
    "mean",
    "lpl",
    "upl",
    "point_type",
    "special_cause",
    "segment",
    "lower_two_sigma",
    "upper_two_sigma",
    "moving_range",
    "mean_moving_range",
    "rule_outside",
    "rule_run",
    "rule_trend",
    "rule_two_of_three",
    "signal_direction",
    "trial_limits",
)
"""Columns of :attr:`SpcResult.frame`, in order; the first seven are the stable core."""

COLOURS: Final[dict[str, str]] = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral": "#361475",
    "mean": "#000000",
    "limits": "#7B7D7D",
    "target": "#DE1B1B",
}
"""Chart colours: the long-standing NHSRplotthedots point palette (grey, blue, orange, purple)
with a black mean, grey dashed limits and a red dashed target."""

VARIATION_MEANINGS: Final[dict[Variation, str]] = {
    "common_cause": (
        "common cause variation: no significant change; the latest point is within the "
        "variation this process usually shows"
    ),
    "improvement_high": (
        "special cause variation of an improving nature: the latest point is part of a signal "
        "that the measure has risen, and higher is better"
    ),
    "improvement_low": (
        "special cause variation of an improving nature: the latest point is part of a signal "
        "that the measure has fallen, and lower is better"
    ),
    "concern_high": (
        "special cause variation of a concerning nature: the latest point is part of a signal "
        "that the measure has risen, and lower is better"
    ),
    "concern_low": (
        "special cause variation of a concerning nature: the latest point is part of a signal "
        "that the measure has fallen, and higher is better"
    ),
    "neutral_high": (
        "special cause variation, higher than expected, in a measure where neither direction "
        "is better"
    ),
    "neutral_low": (
        "special cause variation, lower than expected, in a measure where neither direction "
        "is better"
    ),
}
"""Plain-language meaning of each variation icon."""

ASSURANCE_MEANINGS: Final[dict[Assurance, str]] = {
    "consistently_passes": (
        "the target lies outside the process limits on the passing side: unless the process "
        "changes it will meet the target every time"
    ),
    "consistently_fails": (
        "the target lies outside the process limits on the failing side: it will keep missing "
        "the target until the process itself is changed"
    ),
    "hit_or_miss": (
        "the target lies within the process limits: the process will meet the target some of "
        "the time and miss it some of the time, by chance alone"
    ),
}
"""Plain-language meaning of each assurance icon."""

_IMPROVEMENT_SIGN: Final[dict[str, int]] = {"increase": 1, "decrease": -1, "neutral": 0}
_CHART_SUFFIXES: Final = (".png", ".svg", ".html")


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpcResult:
    """An XmR chart: one row per point, plus the variation and assurance verdicts.

    Attributes:
        frame: one row per point in date order, columns :data:`FRAME_COLUMNS`: ``date``,
            ``value``, ``mean``, ``lpl`` and ``upl`` (process limits), ``point_type`` (see
            :data:`PointType`), ``special_cause`` (1 where any rule fired, else 0); then
            ``segment`` (0, 1, … from each rebase), ``lower_two_sigma`` and
            ``upper_two_sigma``, ``moving_range`` (NaN at the first point of a segment),
            ``mean_moving_range`` (of the segment's basis, after any screening), the rules that
            fired (``rule_outside``, ``rule_run``, ``rule_trend``, ``rule_two_of_three``),
            ``signal_direction`` (+1 high, -1 low, 0 no signal) and ``trial_limits`` (True where
            the segment's limits rest on fewer than :data:`TRIAL_POINTS` points).
        improvement: which direction is better.
        target: the target the assurance was judged against, if any.
        assurance: the assurance verdict on the latest segment, or None.
        variation: the variation verdict on the latest point.
    """

    frame: pd.DataFrame
    improvement: Improvement
    target: float | None
    assurance: Assurance | None
    variation: Variation

    def segments(self) -> pd.DataFrame:
        """One row per segment: its first and last date, points, mean, MR and limits.

        Returns:
            Columns ``segment``, ``start``, ``end``, ``points``, ``mean``,
            ``mean_moving_range``, ``lpl``, ``upl``, ``trial_limits``.
        """
        grouped = self.frame.groupby("segment", sort=True)
        return pd.DataFrame(
            {
                "start": grouped["date"].min(),
                "end": grouped["date"].max(),
                "points": grouped["value"].size(),
                "mean": grouped["mean"].first(),
                "mean_moving_range": grouped["mean_moving_range"].first(),
                "lpl": grouped["lpl"].first(),
                "upl": grouped["upl"].first(),
                "trial_limits": grouped["trial_limits"].first(),
            }
        ).reset_index()

    def icon_meanings(self) -> str:
        """Plain-language explanation of this chart's variation and assurance icons.

        Returns:
            Two lines: the variation icon for the latest point and the assurance icon (or why
            there is none), each with what it means.
        """
        last = self.frame.iloc[-1]
        when = pd.Timestamp(last["date"]).date().isoformat()
        lines = [
            f"Variation ({when}): {self.variation.replace('_', ' ')}: "
            f"{VARIATION_MEANINGS[self.variation]}."
        ]
        if self.target is None:
            lines.append("Assurance: none: no target was given.")
        elif self.assurance is None:
            lines.append(
                "Assurance: none: the improvement direction is neutral, so neither side of the "
                "target is better."
            )
        else:
            lines.append(
                f"Assurance (target {self.target:.6g} against process limits "
                f"{float(last['lpl']):.6g} to {float(last['upl']):.6g}): "
                f"{self.assurance.replace('_', ' ')}: {ASSURANCE_MEANINGS[self.assurance]}."
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------


def spc(
    dates: DateInput,
    values: ValueInput,
    *,
    improvement: Improvement = "neutral",
    target: float | None = None,
    baseline: int | None = None,
    rebase: Sequence[date | str] = (),
    screen_outliers: bool = False,
    run_length: int = 7,
    trend_length: int = 7,
) -> SpcResult:
    """Build an XmR chart of ``values`` over ``dates`` to Making Data Count rules.

    Args:
        dates: one date per value, all different; sorted here (values follow their dates).
        values: the measure, finite numbers.
        improvement: ``"increase"`` or ``"decrease"`` when that direction is better;
            ``"neutral"`` when neither is.
        target: a target to judge assurance against (drawn on charts whatever the direction).
        baseline: calculate each segment's mean and limits from its first ``baseline`` points
            only (later points are judged against them but do not move them); a segment
            shorter than the baseline uses all its points. None uses every point.
        rebase: dates (each one of ``dates``) at which a new segment starts, with its own mean
            and limits; the rules never look across a segment boundary. The first date is
            already a segment start.
        screen_outliers: drop moving ranges of :data:`OUTLIER_FACTOR` × mean MR or more and
            average the rest again before setting the limits.
        run_length: points in a row on one side of the mean that signal a shift.
        trend_length: points in a row each higher (or each lower) than the last that signal a
            trend.

    Returns:
        The chart: frame, variation and assurance.

    Raises:
        UsageError: inputs that cannot make a chart; the message says what to change.
    """
    direction = _improvement(improvement)
    goal = _target(target)
    run = _length("run_length", run_length)
    trend = _length("trend_length", trend_length)
    if not isinstance(screen_outliers, bool):
        raise UsageError(f"screen_outliers must be True or False (got {screen_outliers!r})")
    when = _dates(dates)
    y = _values(values, len(when))
    if len(when) < MIN_POINTS:
        raise UsageError(
            f"an SPC chart needs at least {MIN_POINTS} points (got {len(when)}): "
            "supply a longer series"
        )
    order = np.argsort(when.to_numpy(), kind="stable")
    when = when[order]
    y = y[order]
    basis_cap = _baseline(baseline, len(when))
    segment = _segments(when, rebase)

    n = len(y)
    mean = np.empty(n)
    mmr = np.empty(n)
    mr_col = np.full(n, np.nan)
    trial = np.zeros(n, dtype=bool)
    outside = np.zeros(n, dtype=bool)
    in_run = np.zeros(n, dtype=bool)
    in_trend = np.zeros(n, dtype=bool)
    two_of_three = np.zeros(n, dtype=bool)
    direction_out = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(np.diff(segment, prepend=-1))
    ends = np.append(starts[1:], n)
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        seg_y = y[s:e]
        basis = seg_y[: min(basis_cap, e - s)]
        if len(basis) < MIN_POINTS:
            culprit = when[s] if s > 0 else when[e]
            raise UsageError(
                f"the segment {_day(when[s])} to {_day(when[e - 1])} has {len(basis)} point(s) "
                f"but each segment needs at least {MIN_POINTS}: move or drop the rebase date "
                f"{_day(culprit)}"
            )
        centre, average_mr = _centre_and_mr(basis, screen_outliers=screen_outliers)
        mean[s:e] = centre
        mmr[s:e] = average_mr
        mr_col[s + 1 : e] = np.abs(np.diff(seg_y))
        trial[s:e] = len(basis) < TRIAL_POINTS
        flags = _rules(seg_y, centre, average_mr, run=run, trend=trend)
        outside[s:e], in_run[s:e], in_trend[s:e], two_of_three[s:e], direction_out[s:e] = flags

    special = outside | in_run | in_trend | two_of_three
    point_type = _point_types(special, direction_out, direction)
    half_width = LIMIT_FACTOR * mmr
    near = TWO_SIGMA_FACTOR * mmr
    lower = mean - half_width
    upper = mean + half_width
    frame = pd.DataFrame(
        {
            "date": when,
            "value": y,
            "mean": mean,
            "lpl": lower,
            "upl": upper,
            "point_type": point_type,
            "special_cause": special.astype(np.int64),
            "segment": segment,
            "lower_two_sigma": mean - near,
            "upper_two_sigma": mean + near,
            "moving_range": mr_col,
            "mean_moving_range": mmr,
            "rule_outside": outside,
            "rule_run": in_run,
            "rule_trend": in_trend,
            "rule_two_of_three": two_of_three,
            "signal_direction": direction_out,
            "trial_limits": trial,
        },
        columns=list(FRAME_COLUMNS),
    )
    return SpcResult(
        frame=frame,
        improvement=improvement,
        target=goal,
        assurance=_assurance(goal, direction, float(lower[-1]), float(upper[-1])),
        variation=_variation(point_type[-1], int(direction_out[-1])),
    )


def _centre_and_mr(basis: FloatArray, *, screen_outliers: bool) -> tuple[float, float]:
    """Mean and mean moving range of a segment's basis (screened when asked)."""
    centre = float(np.mean(basis))
    ranges = np.abs(np.diff(basis))
    average = float(np.mean(ranges))
    if screen_outliers and average > 0:
        average = float(np.mean(ranges[ranges < OUTLIER_FACTOR * average]))
    return centre, average


def _rules(
    y: FloatArray, centre: float, average_mr: float, *, run: int, trend: int
) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray, IntArray]:
    """The four special-cause rules on one segment, and the side of each signal.

    Returns:
        ``(outside, run, trend, two_of_three, direction)``; ``direction`` is +1 (high), -1 (low)
        or 0 (no signal), taken from the outside, trend, two-of-three and run rules in that
        order of precedence.
    """
    upl = centre + LIMIT_FACTOR * average_mr
    lpl = centre - LIMIT_FACTOR * average_mr
    upper_near = centre + TWO_SIGMA_FACTOR * average_mr
    lower_near = centre - TWO_SIGMA_FACTOR * average_mr
    side = np.sign(y - centre).astype(np.int64)
    outside = (y > upl) | (y < lpl)
    close = ~outside & ((y > upper_near) | (y < lower_near))

    in_run = _in_long_runs(side, run)
    in_trend, trend_side = _trends(y, trend)
    two = _two_of_three(close, side)

    direction = np.zeros(len(y), dtype=np.int64)
    for flags, sides in ((in_run, side), (two, side), (in_trend, trend_side), (outside, side)):
        direction = np.where(flags, sides, direction)
    return outside, in_run, in_trend, two, direction


def _in_long_runs(codes: IntArray, length: int) -> BoolArray:
    """True for each element of a maximal run of equal non-zero codes at least ``length`` long."""
    out = np.zeros(len(codes), dtype=bool)
    start = 0
    for i in range(1, len(codes) + 1):
        if i == len(codes) or codes[i] != codes[start]:
            if codes[start] != 0 and i - start >= length:
                out[start:i] = True
            start = i
    return out


def _trends(y: FloatArray, length: int) -> tuple[BoolArray, IntArray]:
    """Points on a strict rise or fall of at least ``length`` points, and its direction.

    A rise of ``length`` points has ``length - 1`` increases; an equal value ends it. A point at
    the turn between a rise and a fall takes the direction of the later one.
    """
    steps = np.sign(np.diff(y)).astype(np.int64)
    flagged = np.zeros(len(y), dtype=bool)
    way = np.zeros(len(y), dtype=np.int64)
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start]:
            if steps[start] != 0 and i - start >= length - 1:
                flagged[start : i + 1] = True
                way[start : i + 1] = steps[start]
            start = i
    return flagged, way


def _two_of_three(close: BoolArray, side: IntArray) -> BoolArray:
    """Points beyond a two-sigma line in a window of three, two or more of them so, all three on
    the same side of the mean."""
    out = np.zeros(len(close), dtype=bool)
    for w in range(len(close) - 2):
        window = slice(w, w + 3)
        if int(np.count_nonzero(close[window])) >= 2 and abs(int(side[window].sum())) == 3:
            out[window] |= close[window]
    return out


def _point_types(special: BoolArray, signal: IntArray, improvement: int) -> list[PointType]:
    """Point type of each point from its signal side and the improvement direction."""
    types: list[PointType] = []
    for flagged, sign in zip(special.tolist(), signal.tolist(), strict=True):
        if not flagged:
            types.append("common_cause")
        elif improvement == 0:
            types.append("special_cause_neutral")
        elif sign * improvement > 0:
            types.append("special_cause_improvement")
        else:
            types.append("special_cause_concern")
    return types


def _variation(point_type: PointType, signal: int) -> Variation:
    """Variation icon for the latest point."""
    high = signal > 0
    if point_type == "special_cause_improvement":
        return "improvement_high" if high else "improvement_low"
    if point_type == "special_cause_concern":
        return "concern_high" if high else "concern_low"
    if point_type == "special_cause_neutral":
        return "neutral_high" if high else "neutral_low"
    return "common_cause"


def _assurance(target: float | None, improvement: int, lpl: float, upl: float) -> Assurance | None:
    """Assurance icon: where the target sits against the latest process limits."""
    if target is None or improvement == 0:
        return None
    if target > upl:
        return "consistently_fails" if improvement > 0 else "consistently_passes"
    if target < lpl:
        return "consistently_passes" if improvement > 0 else "consistently_fails"
    return "hit_or_miss"


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _improvement(improvement: object) -> int:
    if not isinstance(improvement, str) or improvement not in _IMPROVEMENT_SIGN:
        allowed = ", ".join(repr(x) for x in get_args(Improvement))
        raise UsageError(f"improvement must be one of {allowed} (got {improvement!r})")
    return _IMPROVEMENT_SIGN[improvement]


def _target(target: object) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise UsageError(f"target must be a number or None (got {target!r})")
    out = float(target)
    if not math.isfinite(out):
        raise UsageError(f"target must be a finite number (got {out!r})")
    return out


def _length(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 2:
        raise UsageError(f"{name} must be a whole number of 2 or more (got {value!r})")
    return int(value)


def _dates(dates: object) -> pd.DatetimeIndex:
    if isinstance(dates, str | bytes) or not isinstance(dates, Iterable):
        raise UsageError(f"dates must be a sequence of dates (got {type(dates).__name__})")
    try:
        with warnings.catch_warnings():
            # Mixed formats fall back to per-element parsing; failures are reported below.
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    except (TypeError, ValueError, OverflowError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"dates must all be dates such as 2024-04-01 ({first})") from None
    missing = np.flatnonzero(parsed.isna())
    if len(missing):
        raise UsageError(f"dates must not be missing (date {missing[0] + 1} is empty)")
    if parsed.has_duplicates:
        repeated = parsed[parsed.duplicated()][0]
        raise UsageError(f"dates must all differ ({_day(repeated)} appears more than once)")
    return parsed


def _values(values: object, count: int) -> FloatArray:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise UsageError(f"values must be a sequence of numbers (got {type(values).__name__})")
    items: list[object] = list(values)
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise UsageError(f"values must be numbers (value {i + 1} is {item!r})")
    y = np.asarray(items, dtype=np.float64)
    if len(y) != count:
        raise UsageError(
            f"dates and values must be the same length (got {count} dates, {len(y)} values)"
        )
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise UsageError(
            f"values must be finite numbers (value {bad[0] + 1} is {float(y[bad[0]])!r}): "
            "remove or fill it"
        )
    return y


def _baseline(baseline: object, count: int) -> int:
    if baseline is None:
        return count
    if isinstance(baseline, bool) or not isinstance(baseline, numbers.Integral):
        raise UsageError(f"baseline must be a whole number of points or None (got {baseline!r})")
    size = int(baseline)
    if size < MIN_POINTS:
        raise UsageError(f"baseline must be at least {MIN_POINTS} points (got {size})")
    if size > count:
        raise UsageError(
            f"baseline of {size} points is longer than the series ({count} points): "
            "use a shorter baseline"
        )
    return size


def _segments(when: pd.DatetimeIndex, rebase: object) -> IntArray:
    if isinstance(rebase, str | bytes) or not isinstance(rebase, Iterable):
        raise UsageError(f"rebase must be a sequence of dates (got {rebase!r})")
    segment = np.zeros(len(when), dtype=np.int64)
    items: list[Any] = list(rebase)
    if not items:
        return segment
    try:
        points = pd.DatetimeIndex(pd.to_datetime(items))
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"rebase must be dates such as 2024-04-01 (got {items!r})") from None
    if points.hasnans:
        raise UsageError(f"rebase dates must not be missing (got {items!r})")
    for day in sorted(set(points)):
        if day not in when:
            raise UsageError(
                f"rebase date {_day(day)} is not one of the dates in the series: "
                "choose a date that has a value"
            )
        position = int(when.get_loc(day))  # type: ignore[arg-type]
        if position > 0:
            segment[position:] += 1
    return segment


def _day(stamp: pd.Timestamp) -> str:
    """A date as YYYY-MM-DD (with the time only when it has one)."""
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


# --------------------------------------------------------------------------------------------
# Chart
# --------------------------------------------------------------------------------------------


def spc_chart(result: SpcResult, path: str | os.PathLike[str], title: str) -> Path:
    """Write an SPC chart: PNG, SVG, or an HTML page embedding the PNG and the icon meanings.

    The value line is grey; points are coloured by type (:data:`COLOURS`); each segment has its
    own solid mean and dashed process limits; a target is a red dashed line. The variation and
    assurance verdicts are printed above the top right corner. Drawn on matplotlib's Agg canvas
    with no global figure state.

    Args:
        result: a chart from :func:`spc`.
        path: file to write; ``.png``, ``.svg`` or ``.html`` (the folder must exist).
        title: chart title (say what is measured and where).

    Returns:
        The path written.

    Raises:
        UsageError: the suffix is not one of those, or the folder does not exist.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in _CHART_SUFFIXES:
        raise UsageError(
            f"chart file must end in .png, .svg or .html (got {out.name!r}): change its name"
        )
    if not out.parent.is_dir():
        raise UsageError(
            f"folder {out.parent} does not exist: create it or choose another path for the chart"
        )
    figure = _figure(result, title)
    if suffix == ".html":
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        heading = html.escape(title)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{heading}</title>\n</head>\n<body>\n<h1>{heading}</h1>\n"
            f'<img alt="{heading}" src="data:image/png;base64,{encoded}">\n'
            f"<pre>{html.escape(result.icon_meanings())}</pre>\n</body>\n</html>\n"
        )
        out.write_text(page, encoding="utf-8")
    else:
        figure.savefig(out, format=suffix[1:])
    return out


def _figure(result: SpcResult, title: str) -> Figure:
    """The chart as a matplotlib Figure attached to an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    frame = result.frame
    x = frame["date"].to_numpy()
    figure = Figure(figsize=(10.0, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot(x, frame["value"].to_numpy(), color=COLOURS["common_cause"], linewidth=1.2, zorder=2)
    for _, part in frame.groupby("segment", sort=True):
        px = part["date"].to_numpy()
        axes.plot(px, part["mean"].to_numpy(), color=COLOURS["mean"], linewidth=1.2, zorder=1)
        for column in ("lpl", "upl"):
            axes.plot(
                px,
                part[column].to_numpy(),
                color=COLOURS["limits"],
                linestyle="--",
                linewidth=1.0,
                zorder=1,
            )
    handles: list[Line2D] = []
    for kind in get_args(PointType):
        chosen = frame["point_type"] == kind
        if not bool(chosen.any()):
            continue
        axes.scatter(
            frame.loc[chosen, "date"].to_numpy(),
            frame.loc[chosen, "value"].to_numpy(),
            color=COLOURS[kind],
            s=36,
            zorder=3,
        )
        handles.append(
            Line2D(
                [], [], marker="o", linestyle="", color=COLOURS[kind], label=kind.replace("_", " ")
            )
        )
    handles.append(Line2D([], [], color=COLOURS["mean"], label="mean"))
    handles.append(Line2D([], [], color=COLOURS["limits"], linestyle="--", label="process limits"))
    if result.target is not None:
        axes.axhline(result.target, color=COLOURS["target"], linestyle="--", linewidth=1.2)
        handles.append(Line2D([], [], color=COLOURS["target"], linestyle="--", label="target"))
    verdict = f"variation: {result.variation.replace('_', ' ')}"
    if result.assurance is not None:
        verdict += f" · assurance: {result.assurance.replace('_', ' ')}"
    axes.set_title(verdict, loc="right", fontsize=9)
    axes.set_title(title, loc="left", fontsize=11)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8
    )
    axes.tick_params(axis="x", labelrotation=45)
    return figure
