"""Elective waiting lists: NHS queueing rules of thumb, a weekly projection by weeks waited, and
the smallest capacity that meets a waiting-time standard.

Units throughout: time in **weeks**; demand, referrals (clock starts), capacity (clock stops) and
removals in **patients per week**; lists and cohorts in **patients** (floats: a projection carries
expected numbers, not whole people).

Three parts:

* The queueing formulas of the NHS-R ``NHSRwaitinglist`` package (Fong et al., "Waiting list
  analytics"), with the same argument meanings: :func:`target_mean_wait`,
  :func:`target_queue_size`, :func:`target_capacity`, :func:`relief_capacity`,
  :func:`queue_load`, :func:`waiting_list_pressure`, and :func:`targets` that gathers them.
* A deterministic stock-and-flow projection of one list (:func:`project`) or many lists at once
  (:func:`project_many`) by completed weeks waited, in :data:`N_BUCKETS` = 105 buckets: one per
  completed week 0..103 and a last bucket "104+" for everyone who has waited 104 weeks or more
  (it accumulates). :func:`spread_total` builds a starting list from a published total.
* :func:`solve_capacity` (and :func:`solve_capacity_many`): the smallest constant weekly capacity
  that meets an 18-week or a zero-52-week standard by a given week, by bisection.

Counting conventions (as the NHS RTT statistics): bucket ``k`` holds patients who have waited
``k`` completed weeks (between ``k`` and ``k + 1`` weeks). "Within 18 weeks" is buckets 0..17;
"over 52 weeks" is buckets 52 and older (waited 52 weeks or more), and likewise over 65, 78 and 104
(the 104+ bucket). The mean wait counts each bucket at its midpoint ``k + 0.5`` weeks and the 104+
bucket at 104.5 weeks, so it is a lower bound when that bucket is not empty.

The engine is pure: arrays and numbers in, typed results out; no files, no store, no global random
state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import brentq

from flowplan.errors import CapacityInputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

N_BUCKETS = 105
"""Buckets of a list by completed weeks waited: 0..103, then 104+ (index 104)."""
TOP = N_BUCKETS - 1
"""Index of the open-ended 104+ bucket."""
WEEK_LABELS: tuple[str, ...] = (*(str(k) for k in range(TOP)), f"{TOP}+")
"""Label of each bucket: "0" .. "103", "104+"."""

DEFAULT_PRIORITY_SHARE = 0.3
"""Share of each week's clock stops that go to clinical priority rather than longest wait.

A planning assumption (not a published figure): set it from local booking data where known.
"""
ZERO_THRESHOLD = 0.5
"""Patients below which a projected count rounds to nobody (the "zero 52-week waits" test)."""

_WITHIN = 18
_OVER = (52, 65, 78, TOP)
_MIDPOINTS: FloatArray = np.arange(N_BUCKETS, dtype=np.float64) + 0.5

Target = Literal["within_18", "zero_52"]
_TARGETS: tuple[str, ...] = ("within_18", "zero_52")

COLUMNS: tuple[str, ...] = (
    "week",
    "list_size",
    "clock_starts",
    "clock_stops",
    "removals",
    "within_18_pct",
    "over_52",
    "over_65",
    "over_78",
    "over_104",
    "mean_wait_weeks",
)
"""Columns of :attr:`Projection.frame` (``date`` follows ``week`` when a start date is given)."""


# --------------------------------------------------------------------------------------------
# Input checks: one line each, saying what to change.


def _fmt(value: float) -> str:
    """A number as people read it: 108, 61.15, 0.25."""
    if math.isinf(value):
        return "infinite" if value > 0 else "-infinite"
    return f"{value:.6g}"


def _number(name: str, value: object, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise CapacityInputError(f"{name} must be a number{unit} (got {value!r})")
    number = float(value)
    if not math.isfinite(number):
        raise CapacityInputError(f"{name} must be a finite number{unit} (got {number!r})")
    return number


def _positive(name: str, value: object, unit: str = "") -> float:
    number = _number(name, value, unit)
    if number <= 0:
        raise CapacityInputError(f"{name} must be positive (got {number!r}{unit})")
    return number


def _non_negative(name: str, value: object, unit: str = "") -> float:
    number = _number(name, value, unit)
    if number < 0:
        raise CapacityInputError(f"{name} must not be negative (got {number!r}{unit})")
    return number


def _weeks(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CapacityInputError(f"{name} must be a whole number of weeks (got {value!r})")
    number = int(value)
    if number < least:
        raise CapacityInputError(f"{name} must be at least {least} (got {number} weeks)")
    return number


# --------------------------------------------------------------------------------------------
# NHSRwaitinglist queueing formulas.


def target_mean_wait(target_wait: float, factor: float = 4.0) -> float:
    """Mean wait that meets a waiting-time target with high probability.

    A list whose mean wait is a quarter (``factor=4``) to a sixth (``factor=6``) of the target
    misses the target for roughly 1.8% to 0.2% of patients.

    Args:
        target_wait: the waiting-time target, weeks.
        factor: how many times shorter than the target the mean wait should be (4 to 6).

    Returns:
        Target mean wait, weeks: ``target_wait / factor``.

    Raises:
        CapacityInputError: an argument is not a positive finite number.
    """
    wait = _positive("target wait", target_wait, " weeks")
    return wait / _positive("factor", factor)


def target_queue_size(demand: float, target_wait: float, factor: float = 4.0) -> float:
    """List size that meets a waiting-time target, by Little's law (list = demand × mean wait).

    Only meaningful where capacity exceeds demand.

    Args:
        demand: clock starts, patients per week.
        target_wait: the waiting-time target, weeks.
        factor: target mean wait is ``target_wait / factor`` (see :func:`target_mean_wait`).

    Returns:
        Target list size, patients: ``demand × target_wait / factor``.

    Raises:
        CapacityInputError: an argument is not a positive finite number.
    """
    rate = _positive("demand", demand, " per week")
    return rate * target_mean_wait(target_wait, factor)


def target_capacity(
    demand: float,
    target_wait: float,
    factor: float = 4.0,
    cv_demand: float = 1.0,
    cv_capacity: float = 1.0,
) -> float:
    """Capacity that holds a list at its target mean wait (Kingman/Marchal approximation).

    Args:
        demand: clock starts, patients per week.
        target_wait: the waiting-time target, weeks.
        factor: target mean wait is ``target_wait / factor``.
        cv_demand: coefficient of variation of the time between referrals (1 for Poisson).
        cv_capacity: coefficient of variation of the time between clock stops (1 for Poisson).

    Returns:
        Capacity, patients per week:
        ``demand + ((cv_demand² + cv_capacity²) / 2) × (factor / target_wait)``.

    Raises:
        CapacityInputError: demand, target wait or factor not positive, or a negative
            coefficient of variation.
    """
    rate = _positive("demand", demand, " per week")
    mean_wait = target_mean_wait(target_wait, factor)
    cvd = _non_negative("cv_demand", cv_demand)
    cvc = _non_negative("cv_capacity", cv_capacity)
    return rate + ((cvd**2 + cvc**2) / 2.0) / mean_wait


def relief_capacity(
    demand: float, queue_size: float, target_queue_size: float, time_to_target: float
) -> float:
    """Capacity that brings a list down to its target size within a chosen time.

    Worth applying when the list is more than twice its target size. A result below demand means
    the list is already below its target size.

    Args:
        demand: clock starts, patients per week.
        queue_size: current list size, patients.
        target_queue_size: list size wanted, patients (see :func:`target_queue_size`).
        time_to_target: weeks in which to reach the target size.

    Returns:
        Capacity, patients per week: ``demand + (queue_size − target_queue_size) / time_to_target``.

    Raises:
        CapacityInputError: demand or time not positive, or a negative list size.
    """
    rate = _positive("demand", demand, " per week")
    size = _non_negative("queue size", queue_size, " patients")
    target = _non_negative("target queue size", target_queue_size, " patients")
    time = _positive("time to target", time_to_target, " weeks")
    return rate + (size - target) / time


def queue_load(demand: float, capacity: float) -> float:
    """Referrals per clock stop: above 1 the list grows without limit.

    Args:
        demand: clock starts, patients per week.
        capacity: clock stops, patients per week.

    Returns:
        Load, a ratio: ``demand / capacity``.

    Raises:
        CapacityInputError: demand or capacity not positive.
    """
    rate = _positive("demand", demand, " per week")
    return rate / _positive("capacity", capacity, " per week")


def waiting_list_pressure(mean_wait: float, target_wait: float) -> float:
    """Pressure on a list: above 1 the list is likely to miss its target.

    Args:
        mean_wait: current mean wait of the list, weeks.
        target_wait: the waiting-time target, weeks.

    Returns:
        Pressure, a ratio: ``2 × mean_wait / target_wait``.

    Raises:
        CapacityInputError: a negative mean wait or a target that is not positive.
    """
    wait = _non_negative("mean wait", mean_wait, " weeks")
    return 2.0 * wait / _positive("target wait", target_wait, " weeks")


def targets(
    demand: float,
    target_wait: float,
    factor: float = 4.0,
    cv_demand: float = 1.0,
    cv_capacity: float = 1.0,
    queue_size: float | None = None,
    time_to_target: float | None = None,
    mean_wait: float | None = None,
    capacity: float | None = None,
) -> dict[str, float | None]:
    """All the waiting-list figures for one list, as printed by ``flowplan waitinglist targets``.

    Args:
        demand: clock starts, patients per week.
        target_wait: the waiting-time target, weeks.
        factor: target mean wait is ``target_wait / factor``.
        cv_demand: coefficient of variation of the time between referrals.
        cv_capacity: coefficient of variation of the time between clock stops.
        queue_size: current list size, patients (with ``time_to_target``: relief capacity).
        time_to_target: weeks in which to reach the target list size.
        mean_wait: current mean wait, weeks (gives the pressure).
        capacity: current clock stops, patients per week (gives the load; without it the load is
            that of the target capacity).

    Returns:
        Exactly the keys ``target_mean_wait`` (weeks), ``target_queue_size`` (patients),
        ``target_capacity`` (per week), ``relief_capacity`` (per week; None without
        ``queue_size`` and ``time_to_target``), ``queue_load`` (ratio) and ``pressure`` (ratio;
        None without ``mean_wait``).

    Raises:
        CapacityInputError: an invalid argument, or only one of ``queue_size`` and
            ``time_to_target``.
    """
    if (queue_size is None) != (time_to_target is None):
        missing = "time_to_target (weeks)" if time_to_target is None else "queue_size (patients)"
        raise CapacityInputError(
            f"relief capacity needs both queue_size and time_to_target; give {missing} too"
        )
    tqs = target_queue_size(demand, target_wait, factor)
    tcap = target_capacity(demand, target_wait, factor, cv_demand, cv_capacity)
    relief = (
        relief_capacity(demand, queue_size, tqs, time_to_target)
        if queue_size is not None and time_to_target is not None
        else None
    )
    return {
        "target_mean_wait": target_mean_wait(target_wait, factor),
        "target_queue_size": tqs,
        "target_capacity": tcap,
        "relief_capacity": relief,
        "queue_load": queue_load(demand, tcap if capacity is None else capacity),
        "pressure": None if mean_wait is None else waiting_list_pressure(mean_wait, target_wait),
    }


# --------------------------------------------------------------------------------------------
# Starting lists.


def _fold(counts: npt.ArrayLike, name: str) -> FloatArray:
    """Counts by completed weeks (any length ≥ 1, last axis) folded into the 105 buckets."""
    try:
        array = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} must be numbers of patients by weeks waited") from None
    if array.ndim == 0 or array.shape[-1] == 0:
        raise CapacityInputError(
            f"{name} must list patients by completed weeks waited (got shape {array.shape})"
        )
    if not np.all(np.isfinite(array)):
        raise CapacityInputError(f"{name} must hold finite numbers of patients (found NaN or inf)")
    if np.any(array < 0):
        raise CapacityInputError(
            f"{name} must not hold negative counts (smallest {_fmt(float(array.min()))} patients)"
        )
    width = array.shape[-1]
    if width >= N_BUCKETS:
        head = array[..., :TOP]
        tail = array[..., TOP:].sum(axis=-1, keepdims=True)
        return np.ascontiguousarray(np.concatenate([head, tail], axis=-1))
    padded = np.zeros((*array.shape[:-1], N_BUCKETS), dtype=np.float64)
    padded[..., :width] = array
    return padded


def _geometric(ratio: float) -> FloatArray:
    """Shares by bucket of a geometric wait: ``(1 − r) r^k`` for k < 104, ``r^104`` in 104+."""
    k = np.arange(N_BUCKETS, dtype=np.float64)
    shares = (1.0 - ratio) * ratio**k
    shares[TOP] = ratio**TOP
    return shares


def _even(total: float, first: int, stop: int) -> FloatArray:
    out = np.zeros(N_BUCKETS, dtype=np.float64)
    out[first:stop] = total / (stop - first)
    return out


def _lead_in(mass: float, edge: float) -> FloatArray:
    """Buckets 0..17 holding ``mass``, geometric and joining ``edge`` patients at bucket 18.

    Bucket ``k`` holds ``edge × s^(18 − k)``, with ``s`` chosen so the buckets sum to ``mass``
    (``s > 1``: more patients at short waits than at 18 weeks, as usual; ``s < 1``: fewer).
    """
    out = np.zeros(N_BUCKETS, dtype=np.float64)
    if mass <= 0:
        return out
    if edge <= 0:
        return _even(mass, 0, _WITHIN)
    # With v = log s, solve log Σ_{j=1..18} e^(j v) = log(mass / edge) (increasing in v) in log
    # space, so extreme ratios neither overflow nor underflow.
    powers = np.arange(_WITHIN, 0, -1, dtype=np.float64)  # exponent for buckets 0..17
    goal = math.log(mass) - math.log(edge)

    def gap(v: float) -> float:
        return _log_sum_exp(powers * v) - goal

    spread = math.log(_WITHIN)
    low = min(goal - spread, (goal - spread) / _WITHIN)
    high = max(goal, goal / _WITHIN)
    v = float(brentq(gap, low, high, xtol=1e-14, rtol=1e-14))
    logs = powers * v
    out[:_WITHIN] = mass * np.exp(logs - _log_sum_exp(logs))
    return out


def _log_sum_exp(values: FloatArray) -> float:
    top = float(values.max())
    return top + math.log(float(np.exp(values - top).sum()))


def spread_total(
    total: float,
    *,
    mean_wait_weeks: float | None = None,
    over_18: float | None = None,
    over_52: float | None = None,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """A list of ``total`` patients spread over the 105 buckets of weeks waited.

    Give exactly one kind of shape:

    * ``weights`` (the "given" shape): any non-negative counts or shares by completed weeks waited
      (weeks past 103 are folded into 104+), scaled to ``total``.
    * ``mean_wait_weeks``: a geometric (discrete exponential) list whose mean wait, counted as
      :data:`WEEK_LABELS` midpoints with 104+ at 104.5 weeks, is exactly this (0.5 < mean < 104.5).
    * ``over_18`` and/or ``over_52`` (published counts of patients waiting 18 or more and 52 or
      more weeks), reproduced exactly:

      - only one of them: a single geometric list with that share past 18 (or 52) weeks;
      - both: two geometric segments that meet at bucket 18. From 18 weeks on the list decays at
        the rate that puts ``over_52`` past 52 weeks (its tail past 103 weeks goes to 104+);
        buckets 0..17 hold ``total − over_18``, geometric and continuous with bucket 18.
      - a count of 0 (nobody over 18, or nobody over 52) leaves those weeks empty and spreads
        the weeks before them evenly (0..17, 18..51, or 0..51 when only ``over_52=0`` is given);
        nobody in 18..51 with some over 52 spreads 0..17 and 52..104+ evenly; everyone over
        18 (or 52) with only that count given puts the whole list in 104+ (the geometric limit).

    Args:
        total: patients on the list.
        mean_wait_weeks: mean wait, weeks.
        over_18: patients waiting 18 weeks or more.
        over_52: patients waiting 52 weeks or more.
        weights: relative counts by completed weeks waited.

    Returns:
        Patients by bucket, shape (105,), summing to ``total``.

    Raises:
        CapacityInputError: no shape or more than one kind of shape, counts that do not nest
            (``over_52 ≤ over_18 ≤ total``), or a mean wait outside (0.5, 104.5) weeks.
    """
    size = _non_negative("total", total, " patients")
    kinds = [
        name
        for name, given in (
            ("weights", weights is not None),
            ("mean_wait_weeks", mean_wait_weeks is not None),
            ("over_18/over_52", over_18 is not None or over_52 is not None),
        )
        if given
    ]
    if len(kinds) != 1:
        what = "none" if not kinds else " and ".join(kinds)
        raise CapacityInputError(
            "give one shape for the list: weights, mean_wait_weeks, or over_18/over_52 "
            f"(got {what})"
        )
    if weights is not None:
        shape = _fold(weights, "weights")
        if shape.ndim != 1:
            raise CapacityInputError(
                f"weights must be one row of counts by weeks waited (got shape {shape.shape})"
            )
        mass = float(shape.sum())
        if mass <= 0:
            raise CapacityInputError("weights must not all be zero; give the list's shape")
        return shape * (size / mass)
    if size == 0:
        if mean_wait_weeks is not None:
            _positive("mean wait", mean_wait_weeks, " weeks")
        for name, count in (("over_18", over_18), ("over_52", over_52)):
            if count is not None and _non_negative(name, count, " patients") > 0:
                raise CapacityInputError(
                    f"{name} must not exceed total (got {_fmt(float(count))} > 0 patients)"
                )
        return np.zeros(N_BUCKETS, dtype=np.float64)
    if mean_wait_weeks is not None:
        return size * _geometric(_ratio_for_mean(mean_wait_weeks))
    return _spread_counts(size, over_18, over_52)


def _ratio_for_mean(mean_wait_weeks: float) -> float:
    mean = _number("mean wait", mean_wait_weeks, " weeks")
    low, high = float(_MIDPOINTS[0]), float(_MIDPOINTS[TOP])
    if not low < mean < high:
        raise CapacityInputError(
            f"mean wait must be between {_fmt(low)} and {_fmt(high)} weeks to spread a list "
            f"(got {mean!r} weeks)"
        )

    def gap(ratio: float) -> float:
        return float(_geometric(ratio) @ _MIDPOINTS) - mean

    return float(brentq(gap, 0.0, 1.0, xtol=1e-15, rtol=1e-15))


def _spread_counts(size: float, over_18: float | None, over_52: float | None) -> FloatArray:
    o18 = None if over_18 is None else _non_negative("over_18", over_18, " patients")
    o52 = None if over_52 is None else _non_negative("over_52", over_52, " patients")
    for name, count in (("over_18", o18), ("over_52", o52)):
        if count is not None and count > size:
            raise CapacityInputError(
                f"{name} must not exceed total (got {_fmt(count)} > {_fmt(size)} patients)"
            )
    if o52 is None:
        if o18 is None or o18 == 0:
            return _even(size, 0, _WITHIN)
        return size * _geometric((o18 / size) ** (1.0 / _WITHIN))
    if o18 is None:
        if o52 == 0:
            return _even(size, 0, _OVER[0])
        return size * _geometric((o52 / size) ** (1.0 / _OVER[0]))
    if o52 > o18:
        raise CapacityInputError(
            f"over_52 must not exceed over_18 (got {_fmt(o52)} > {_fmt(o18)} patients)"
        )
    early, middle, late = size - o18, o18 - o52, o52
    if o18 == 0:
        return _even(early, 0, _WITHIN)
    if late == 0:
        out = _even(middle, _WITHIN, _OVER[0])
        return out + _lead_in(early, float(out[_WITHIN]))
    if middle == 0:
        return _even(early, 0, _WITHIN) + _even(late, _OVER[0], N_BUCKETS)
    ratio = (late / o18) ** (1.0 / (_OVER[0] - _WITHIN))
    out = np.zeros(N_BUCKETS, dtype=np.float64)
    out[_WITHIN:] = o18 * _geometric(ratio)[: N_BUCKETS - _WITHIN]
    out[TOP] = o18 * ratio ** (TOP - _WITHIN)
    return out + _lead_in(early, float(out[_WITHIN]))


# --------------------------------------------------------------------------------------------
# Projection.


@dataclass(frozen=True, eq=False)
class Projection:
    """Weekly projection of one waiting list.

    Attributes:
        frame: one row per week, week 0 being the starting list: ``week``, ``date`` (the week's
            end, only when a start date was given), ``list_size`` (patients), ``clock_starts``,
            ``clock_stops``, ``removals`` (patients in that week; NaN in week 0),
            ``within_18_pct`` (% waiting under 18 weeks; 100 for an empty list), ``over_52``,
            ``over_65``, ``over_78``, ``over_104`` (patients waiting that many weeks or more) and
            ``mean_wait_weeks`` (weeks; 0 for an empty list).
        final_distribution: patients by bucket after the last week, shape (105,)
            (see :data:`WEEK_LABELS`).
        clearance_time_weeks: starting list size ÷ mean weekly capacity, weeks (how long the
            list would take to clear with no new referrals; inf with no capacity).
        load: mean referrals ÷ mean capacity over the projection (removals not counted).
        unsustainable: True when the load is above 1.
        message: one line explaining an unsustainable load; "" otherwise.
    """

    frame: pd.DataFrame
    final_distribution: FloatArray
    clearance_time_weeks: float
    load: float
    unsustainable: bool
    message: str


@dataclass(frozen=True, eq=False)
class ProjectionBatch:
    """Weekly projections of ``n`` waiting lists, as arrays of shape (n, weeks + 1).

    Column ``t`` is the list after week ``t`` (column 0 is the starting list). Flows in column 0
    are NaN. Meanings and units are those of :attr:`Projection.frame`.

    Attributes:
        weeks: number of weeks projected.
        start_date: date of the starting list, or None.
        list_size: patients.
        clock_starts: patients per week.
        clock_stops: patients per week.
        removals: patients per week.
        within_18_pct: percent.
        over_52: patients.
        over_65: patients.
        over_78: patients.
        over_104: patients.
        mean_wait_weeks: weeks.
        final_distribution: patients by bucket after the last week, shape (n, 105).
        clearance_time_weeks: shape (n,), weeks.
        mean_referrals: mean clock starts per week over the projection, shape (n,).
        mean_capacity: mean capacity per week over the projection, shape (n,).
        load: ``mean_referrals / mean_capacity``, shape (n,) (inf with no capacity, 0 with
            neither referrals nor capacity).
        unsustainable: load above 1, shape (n,).
    """

    weeks: int
    start_date: date | None
    list_size: FloatArray
    clock_starts: FloatArray
    clock_stops: FloatArray
    removals: FloatArray
    within_18_pct: FloatArray
    over_52: FloatArray
    over_65: FloatArray
    over_78: FloatArray
    over_104: FloatArray
    mean_wait_weeks: FloatArray
    final_distribution: FloatArray
    clearance_time_weeks: FloatArray
    mean_referrals: FloatArray
    mean_capacity: FloatArray
    load: FloatArray
    unsustainable: BoolArray

    def __len__(self) -> int:
        return int(self.list_size.shape[0])

    def message(self, i: int) -> str:
        """One line explaining list ``i``'s unsustainable load, or "" when it is sustainable."""
        if not self.unsustainable[i]:
            return ""
        return (
            f"queue load {float(self.load[i]):.2f} > 1: capacity "
            f"{_fmt(float(self.mean_capacity[i]))} per week is below demand "
            f"{_fmt(float(self.mean_referrals[i]))} per week, so the list grows without limit; "
            "raise capacity"
        )

    def projection(self, i: int) -> Projection:
        """List ``i`` as a :class:`Projection` with its weekly frame."""
        columns: dict[str, object] = {"week": np.arange(self.weeks + 1, dtype=np.int64)}
        if self.start_date is not None:
            columns["date"] = pd.Timestamp(self.start_date) + pd.to_timedelta(
                7 * np.arange(self.weeks + 1), unit="D"
            )
        for name in COLUMNS[1:]:
            columns[name] = np.asarray(getattr(self, name)[i], dtype=np.float64)
        return Projection(
            frame=pd.DataFrame(columns),
            final_distribution=self.final_distribution[i].copy(),
            clearance_time_weeks=float(self.clearance_time_weeks[i]),
            load=float(self.load[i]),
            unsustainable=bool(self.unsustainable[i]),
            message=self.message(i),
        )


def _flows(value: npt.ArrayLike, name: str, n: int, weeks: int) -> FloatArray:
    """A weekly rate as shape (n, weeks): scalar, per list (n,), or per list and week."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} must be numbers of patients per week") from None
    if array.ndim == 1 and n > 1:
        if array.shape[0] != n:
            raise CapacityInputError(
                f"{name} must have one value per list ({n}) or shape ({n}, {weeks}) "
                f"(got {array.shape[0]} values)"
            )
        array = array[:, None]
    elif array.ndim == 1:
        array = array[None, :]
    if array.ndim > 2:
        raise CapacityInputError(f"{name} must be at most (lists, weeks) (got shape {array.shape})")
    try:
        out = np.broadcast_to(array, (n, weeks))
    except ValueError:
        raise CapacityInputError(
            f"{name} must give {weeks} weeks for each of {n} list(s) (got shape {array.shape})"
        ) from None
    if not np.all(np.isfinite(out)):
        raise CapacityInputError(f"{name} must be finite numbers per week (found NaN or inf)")
    if np.any(out < 0):
        raise CapacityInputError(
            f"{name} must not be negative (got {_fmt(float(out.min()))} per week)"
        )
    return np.ascontiguousarray(out, dtype=np.float64)


def _shares(value: float | npt.ArrayLike, name: str, n: int, *, below_one: bool) -> FloatArray:
    """A share per list as shape (n,): from 0 to 1, 1 excluded when ``below_one``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} must be a share from 0 to 1") from None
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n):
        raise CapacityInputError(
            f"{name} must be one share or one per list ({n}) (got shape {array.shape})"
        )
    shares = np.ascontiguousarray(np.broadcast_to(array, (n,)), dtype=np.float64)
    bad = ~np.isfinite(shares) | (shares < 0) | (shares >= 1 if below_one else shares > 1)
    if np.any(bad):
        ceiling = "below 1" if below_one else "at most 1"
        raise CapacityInputError(
            f"{name} must be from 0 to {ceiling} (got {_fmt(float(shares[bad][0]))})"
        )
    return shares


def project_many(
    initial: npt.ArrayLike,
    referrals: npt.ArrayLike,
    capacity: npt.ArrayLike,
    weeks: int,
    *,
    removal_rate: float | npt.ArrayLike = 0.0,
    priority_share: float | npt.ArrayLike = DEFAULT_PRIORITY_SHARE,
    start_date: date | None = None,
) -> ProjectionBatch:
    """Project ``n`` waiting lists week by week, all at once.

    Each week, starting from the list at the end of the week before: everyone ages one week
    (bucket 103 joins 104+); the week's clock starts enter bucket 0; validation and other removals
    take ``removal_rate`` of every bucket; then clock stops, ``min(capacity, list)``, are taken:
    ``priority_share`` of them in proportion to every bucket (clinical priority), the rest from the
    longest waits first. This is the cycle starts, removals, stops, ageing, cut so that each
    reported list is the one after the week's stops (bucket 0 holds that week's new starts).
    Patients are conserved exactly: list(t) = list(t − 1) + starts − stops − removals.

    Args:
        initial: patients by completed weeks waited, shape (n, m) (or (m,) for one list); columns
            past 103 are folded into 104+, short rows are padded with zeros.
        referrals: clock starts, patients per week: a number, one per list (n,), or (n, weeks).
        capacity: clock stops available, patients per week, shaped like ``referrals``.
        weeks: weeks to project (≥ 1).
        removal_rate: share of the list removed each week without treatment (validation, ROTT),
            one number or one per list, in [0, 1).
        priority_share: share of each week's clock stops taken by clinical priority, one number
            or one per list, in [0, 1].
        start_date: date of the starting list (dates the frames of
            :meth:`ProjectionBatch.projection`).

    Returns:
        The projections, as arrays of shape (n, weeks + 1).

    Raises:
        CapacityInputError: negative or non-finite counts or rates, mismatched shapes, shares out
            of range, or fewer than 1 week.
    """
    span = _weeks("weeks", weeks, 1)
    start = _fold(initial, "initial list")
    if start.ndim == 1:
        start = start[None, :]
    if start.ndim != 2:
        raise CapacityInputError(
            f"initial list must be (lists, weeks waited) (got shape {start.shape})"
        )
    n = start.shape[0]
    starts = _flows(referrals, "referrals", n, span)
    cap = _flows(capacity, "capacity", n, span)
    removal = _shares(removal_rate, "removal rate", n, below_one=True)[:, None]
    priority = _shares(priority_share, "priority share", n, below_one=False)

    shape = (n, span + 1)
    size, starts_out, stops_out, removed_out = (np.empty(shape) for _ in range(4))
    within, over52, over65, over78, over104, mean_wait = (np.empty(shape) for _ in range(6))
    for flow in (starts_out, stops_out, removed_out):
        flow[:, 0] = np.nan

    def record(t: int, x: FloatArray) -> None:
        total = x.sum(axis=1)
        tail = np.cumsum(x[:, ::-1], axis=1)[:, ::-1]
        young = x[:, :_WITHIN].sum(axis=1)
        empty = total <= 0
        safe = np.where(empty, 1.0, total)
        size[:, t] = total
        within[:, t] = np.where(empty, 100.0, 100.0 * young / safe)
        over52[:, t] = tail[:, _OVER[0]]
        over65[:, t] = tail[:, _OVER[1]]
        over78[:, t] = tail[:, _OVER[2]]
        over104[:, t] = x[:, TOP]
        mean_wait[:, t] = np.where(empty, 0.0, (x @ _MIDPOINTS) / safe)

    x = start
    record(0, x)
    aged = np.empty_like(x)
    for t in range(1, span + 1):
        aged[:, 1:TOP] = x[:, : TOP - 1]
        aged[:, TOP] = x[:, TOP - 1] + x[:, TOP]
        aged[:, 0] = starts[:, t - 1]
        removed = aged * removal
        held = aged - removed
        total = held.sum(axis=1)
        stops = np.minimum(cap[:, t - 1], total)
        by_priority = priority * stops
        fraction = np.divide(by_priority, total, out=np.zeros(n), where=total > 0)
        left = held * (1.0 - fraction)[:, None]
        by_wait = stops - by_priority
        older = np.zeros_like(left)  # patients waiting longer than each bucket
        older[:, :-1] = np.cumsum(left[:, :0:-1], axis=1)[:, ::-1]
        left = left - np.clip(by_wait[:, None] - older, 0.0, left)
        left[cap[:, t - 1] >= total] = 0.0  # enough capacity for everyone: the list empties
        starts_out[:, t] = aged[:, 0]
        removed_out[:, t] = removed.sum(axis=1)
        stops_out[:, t] = (held - left).sum(axis=1)
        x = left
        record(t, x)

    mean_starts = starts.mean(axis=1)
    mean_cap = cap.mean(axis=1)
    has_cap = mean_cap > 0
    per_cap = np.where(has_cap, mean_cap, 1.0)
    load = np.where(has_cap, mean_starts / per_cap, np.where(mean_starts > 0, np.inf, 0.0))
    clearance = np.where(has_cap, size[:, 0] / per_cap, np.where(size[:, 0] > 0, np.inf, 0.0))
    return ProjectionBatch(
        weeks=span,
        start_date=start_date,
        list_size=size,
        clock_starts=starts_out,
        clock_stops=stops_out,
        removals=removed_out,
        within_18_pct=within,
        over_52=over52,
        over_65=over65,
        over_78=over78,
        over_104=over104,
        mean_wait_weeks=mean_wait,
        final_distribution=x,
        clearance_time_weeks=np.asarray(clearance, dtype=np.float64),
        mean_referrals=np.asarray(mean_starts, dtype=np.float64),
        mean_capacity=np.asarray(mean_cap, dtype=np.float64),
        load=np.asarray(load, dtype=np.float64),
        unsustainable=np.asarray(load > 1.0),
    )


def project(
    initial: npt.ArrayLike,
    referrals: float | npt.ArrayLike,
    capacity: float | npt.ArrayLike,
    weeks: int,
    *,
    removal_rate: float = 0.0,
    priority_share: float = DEFAULT_PRIORITY_SHARE,
    start_date: date | None = None,
) -> Projection:
    """Project one waiting list (one specialty of one system) week by week.

    The rules are those of :func:`project_many`, run for one list.

    Args:
        initial: patients by completed weeks waited, shape (m,); weeks past 103 are folded into
            the 104+ bucket.
        referrals: clock starts, patients per week: one number or one per week (``weeks``,).
        capacity: clock stops available, patients per week: one number or one per week.
        weeks: weeks to project (≥ 1).
        removal_rate: share of the list removed each week without treatment (validation, ROTT),
            in [0, 1).
        priority_share: share of each week's clock stops taken by clinical priority (spread over
            the list in proportion to each bucket), in [0, 1]; the rest go longest wait first.
        start_date: date of the starting list; adds a ``date`` column (the end of each week).

    Returns:
        The weekly frame, final list, clearance time and load, with ``unsustainable`` set and
        explained when referrals outrun capacity.

    Raises:
        CapacityInputError: negative or non-finite counts or rates, a series of the wrong length,
            shares out of range, or fewer than 1 week.
    """
    start = _fold(initial, "initial list")
    if start.ndim != 1:
        raise CapacityInputError(
            f"initial list must be one row of counts by weeks waited (got shape {start.shape})"
        )
    span = _weeks("weeks", weeks, 1)
    series = [
        _series(value, name, span)
        for name, value in (("referrals", referrals), ("capacity", capacity))
    ]
    batch = project_many(
        start[None, :],
        series[0],
        series[1],
        span,
        removal_rate=_number("removal rate", removal_rate, ""),
        priority_share=_number("priority share", priority_share, ""),
        start_date=start_date,
    )
    return batch.projection(0)


def _series(value: float | npt.ArrayLike, name: str, weeks: int) -> FloatArray:
    """One list's weekly rate as shape (1, weeks)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} must be numbers of patients per week") from None
    if array.ndim == 0:
        return np.full((1, weeks), float(array))
    if array.ndim != 1 or array.shape[0] != weeks:
        raise CapacityInputError(
            f"{name} must be one number or one per week ({weeks}) (got shape {array.shape})"
        )
    return array[None, :]


# --------------------------------------------------------------------------------------------
# Solving for capacity.


@dataclass(frozen=True, eq=False)
class CapacitySolution:
    """The smallest constant weekly capacity that meets a waiting-time standard.

    Attributes:
        capacity: clock stops, patients per week (a multiple of ``tolerance`` above the largest
            capacity found to fail, at most ``tolerance`` above the true threshold).
        target: ``"within_18"`` or ``"zero_52"``.
        level: share waiting under 18 weeks required (``within_18``), e.g. 0.92.
        by_week: week of the projection at which the standard is checked.
        tolerance: precision of ``capacity``, patients per week.
        achieved: at ``by_week``: % within 18 weeks, or patients waiting 52+ weeks.
        projection: the projection at ``capacity``.
        below_capacity: ``max(capacity − tolerance, 0)``, patients per week.
        below_meets: whether ``below_capacity`` also meets the standard (False unless the
            capacity found is 0).
    """

    capacity: float
    target: Target
    level: float
    by_week: int
    tolerance: float
    achieved: float
    projection: Projection
    below_capacity: float
    below_meets: bool


@dataclass(frozen=True, eq=False)
class CapacitySolutionBatch:
    """:func:`solve_capacity_many` results for ``n`` lists.

    Attributes:
        capacity: shape (n,), patients per week.
        below_meets: shape (n,): whether ``max(capacity − tolerance, 0)`` also meets it.
        projections: the projections at ``capacity``.
        target: the standard solved for.
        level: share within 18 weeks required (``within_18``).
        by_week: week at which the standard is checked.
        tolerance: precision of ``capacity``, patients per week.
    """

    capacity: FloatArray
    below_meets: BoolArray
    projections: ProjectionBatch
    target: Target
    level: float
    by_week: int
    tolerance: float


def _standard(target: str, level: float, week: int) -> Callable[[ProjectionBatch], BoolArray]:
    if target == "within_18":

        def meets(batch: ProjectionBatch) -> BoolArray:
            return np.asarray(batch.within_18_pct[:, week] >= 100.0 * level - 1e-9)

        return meets

    def none_over_52(batch: ProjectionBatch) -> BoolArray:
        return np.asarray(batch.over_52[:, week] < ZERO_THRESHOLD)

    return none_over_52


def solve_capacity_many(
    initial: npt.ArrayLike,
    referrals: npt.ArrayLike,
    weeks: int,
    *,
    target: Target = "within_18",
    level: float = 0.92,
    by_week: int | None = None,
    removal_rate: float | npt.ArrayLike = 0.0,
    priority_share: float | npt.ArrayLike = DEFAULT_PRIORITY_SHARE,
    tolerance: float = 0.1,
    start_date: date | None = None,
) -> CapacitySolutionBatch:
    """Smallest constant weekly capacity of each of ``n`` lists that meets a standard.

    Bisection on the projection, for all lists at once: more capacity never leaves more
    long waiters, so the standard, once met, stays met at any higher capacity. The search starts
    between 0 and the starting list plus the largest week's referrals (which empties the list
    every week) and stops when the bracket is no wider than ``tolerance``.

    Args:
        initial: patients by completed weeks waited, shape (n, m).
        referrals: clock starts, patients per week: a number, (n,) or (n, weeks).
        weeks: weeks to project.
        target: ``"within_18"``: at least ``level`` of the list waiting under 18 weeks;
            ``"zero_52"``: fewer than :data:`ZERO_THRESHOLD` patients waiting 52 weeks or more.
        level: share within 18 weeks required, in (0, 1] (``within_18`` only).
        by_week: week at which the standard must be met, 1..weeks (default: the last).
        removal_rate: as :func:`project_many`.
        priority_share: as :func:`project_many`.
        tolerance: precision wanted, patients per week (> 0).
        start_date: date of the starting list.

    Returns:
        Capacities, the check below each, and the projections at those capacities.

    Raises:
        CapacityInputError: an unknown target, a level outside (0, 1], a week outside the
            projection, a tolerance that is not positive, or invalid projection inputs.
    """
    if target not in _TARGETS:
        raise CapacityInputError(f"target must be one of {', '.join(_TARGETS)} (got {target!r})")
    share = _number("level", level, "")
    if target == "within_18" and not 0 < share <= 1:
        raise CapacityInputError(
            f"level must be a share above 0 and at most 1, e.g. 0.92 (got {share!r})"
        )
    span = _weeks("weeks", weeks, 1)
    week = span if by_week is None else _weeks("by_week", by_week, 1)
    if week > span:
        raise CapacityInputError(
            f"by_week must be within the projection (got week {week} of {span}); project more weeks"
        )
    step = _positive("tolerance", tolerance, " per week")
    start = _fold(initial, "initial list")
    if start.ndim == 1:
        start = start[None, :]
    n = start.shape[0]
    flows = _flows(referrals, "referrals", n, span)
    meets = _standard(target, share, week)

    def run(cap: FloatArray) -> ProjectionBatch:
        return project_many(
            start,
            flows,
            cap,
            span,
            removal_rate=removal_rate,
            priority_share=priority_share,
            start_date=start_date,
        )

    # Upper bound: capacity for the whole starting list and the busiest week empties the list
    # every week, which meets either standard. Work in whole steps of the tolerance.
    low = np.zeros(n)  # steps known to fail (or 0, checked below)
    high = np.ceil((start.sum(axis=1) + flows.max(axis=1)) / step) + 1.0
    at_zero = meets(run(np.zeros(n)))
    while np.any(high - low > 1):
        mid = np.floor((low + high) / 2.0)
        ok = meets(run(mid * step))
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
    high = np.where(at_zero, 0.0, high)
    capacity = high * step
    final = run(capacity)
    below = run(np.maximum(capacity - step, 0.0))
    below_meets = np.where(capacity > 0, meets(below), True)
    return CapacitySolutionBatch(
        capacity=capacity,
        below_meets=np.asarray(below_meets, dtype=np.bool_),
        projections=final,
        target=target,
        level=share,
        by_week=week,
        tolerance=step,
    )


def solve_capacity(
    initial: npt.ArrayLike,
    referrals: float | npt.ArrayLike,
    weeks: int,
    *,
    target: Target = "within_18",
    level: float = 0.92,
    by_week: int | None = None,
    removal_rate: float = 0.0,
    priority_share: float = DEFAULT_PRIORITY_SHARE,
    tolerance: float = 0.1,
    start_date: date | None = None,
) -> CapacitySolution:
    """Smallest constant weekly capacity that meets a waiting-time standard for one list.

    Args:
        initial: patients by completed weeks waited, shape (m,).
        referrals: clock starts, patients per week: one number or one per week.
        weeks: weeks to project.
        target: ``"within_18"`` (at least ``level`` waiting under 18 weeks) or ``"zero_52"``
            (fewer than :data:`ZERO_THRESHOLD` patients waiting 52 weeks or more).
        level: share within 18 weeks required, in (0, 1]; the NHS constitution standard is 0.92.
        by_week: week at which the standard must be met, 1..weeks (default: the last).
        removal_rate: share of the list removed each week without treatment, in [0, 1).
        priority_share: share of clock stops taken by clinical priority, in [0, 1].
        tolerance: precision wanted, patients per week (> 0).
        start_date: date of the starting list.

    Returns:
        The capacity (patients per week, a multiple of ``tolerance``), the projection at it, and
        the check that one tolerance less does not meet the standard.

    Raises:
        CapacityInputError: invalid inputs (see :func:`solve_capacity_many`).
    """
    start = _fold(initial, "initial list")
    if start.ndim != 1:
        raise CapacityInputError(
            f"initial list must be one row of counts by weeks waited (got shape {start.shape})"
        )
    span = _weeks("weeks", weeks, 1)
    solved = solve_capacity_many(
        start[None, :],
        _series(referrals, "referrals", span),
        span,
        target=target,
        level=level,
        by_week=by_week,
        removal_rate=_number("removal rate", removal_rate, ""),
        priority_share=_number("priority share", priority_share, ""),
        tolerance=tolerance,
        start_date=start_date,
    )
    projection = solved.projections.projection(0)
    column = "within_18_pct" if solved.target == "within_18" else "over_52"
    capacity = float(solved.capacity[0])
    return CapacitySolution(
        capacity=capacity,
        target=solved.target,
        level=solved.level,
        by_week=solved.by_week,
        tolerance=solved.tolerance,
        achieved=float(projection.frame[column].iloc[solved.by_week]),
        projection=projection,
        below_capacity=max(capacity - solved.tolerance, 0.0),
        below_meets=bool(solved.below_meets[0]),
    )
