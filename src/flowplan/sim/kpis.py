"""KPI helpers of the reference simulation engine: day bins, censoring, percentiles (numpy only).

Definitions follow ``docs/simulation.md`` § 7. Time is in hours from 00:00 of day 0; day ``d`` is
``[24d, 24d + 24)``. The measured period is days ``warmup_days .. warmup_days + days − 1``; an
entity is counted on the day of the time that starts its clock (its "arrival"), and entities
arriving during warm-up are never counted.

Three families of helpers:

* :class:`DailyIntegrals` — running integrals (state × hours) of several piecewise-constant
  states, split exactly at midnight into day bins; time-weighted KPIs divide them by 24 hours
  (one day) or ``24 × days`` (the whole measured period).
* per-entity reductions over day bins — :func:`ratio_kpi` (sums of a numerator over sums of a
  denominator, which gives means, percentages and ratios), :func:`sum_kpi` (counts and sums) and
  :func:`percentile_kpi`; each returns ``(overall, daily)``.
* :func:`threshold_records` — the censoring rule for threshold percentages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

HOURS_PER_DAY = 24.0

# KPI definitions (docs/simulation.md § 7) — thresholds are part of the KPI names, not policy.
FOUR_HOURS = 4.0
"""The 4-hour standard (hours from ED arrival to departure)."""
TWELVE_HOURS = 12.0
"""The 12-hour threshold (hours from ED arrival to departure)."""
CRTP_THRESHOLD_HOURS = 1.0
"""Decision to admit to departure threshold of ``ed.crtp_over_1h_pct`` (hours)."""
HANDOVER_30_HOURS = 0.5
"""Handover delay threshold of ``ambulance.handover_over_30_pct`` (hours)."""
HANDOVER_60_HOURS = 1.0
"""Handover delay threshold of ``ambulance.handover_over_60_pct`` (hours)."""
OCCUPANCY_THRESHOLD = 0.92
"""Occupied ÷ available above which an hour counts in ``ward.hours_over_92_pct``."""
PERCENTILE = 95.0
"""Percentile of ``ed.time_to_assessment_p95_hours`` (``numpy.percentile``, linear)."""


@dataclass(frozen=True)
class Period:
    """The measured period of a run, in day bins.

    Attributes:
        warmup_days: days before the measured period.
        days: measured days.
    """

    warmup_days: int
    days: int

    @property
    def total_days(self) -> int:
        """Warm-up plus measured days."""
        return self.warmup_days + self.days

    def measured(self, times: F64) -> tuple[NDArray[np.bool_], I64]:
        """Which clock-start times (hours) fall in the measured period, and their measured day.

        Args:
            times: clock-start times, hours from t = 0.

        Returns:
            ``(mask, day)``: ``mask[i]`` is true when ``times[i]`` is in the measured period;
            ``day`` holds the measured day (0 = first day after warm-up) of the masked entries.
        """
        day = np.floor(np.asarray(times, dtype=np.float64) / HOURS_PER_DAY).astype(np.int64)
        mask = (day >= self.warmup_days) & (day < self.total_days)
        return mask, day[mask] - self.warmup_days


def nan_ratio(numerator: F64 | float, denominator: F64 | float) -> F64:
    """Element-wise ``numerator ÷ denominator`` with NaN where the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _per_day(day: I64, weights: F64, days: int) -> F64:
    return np.bincount(day, weights=weights, minlength=days).astype(np.float64)[:days]


def ratio_kpi(
    period: Period,
    times: F64,
    numerator: F64,
    denominator: F64 | None = None,
    scale: float = 1.0,
) -> tuple[float, F64]:
    """``scale × Σ numerator ÷ Σ denominator`` over the measured period and per measured day.

    With ``denominator`` = 1 for every entity this is a mean (of ``numerator``) or, with 0/1
    numerators and ``scale = 100``, a percentage. Empty denominators give NaN.

    Args:
        period: the measured period.
        times: clock-start time of each entity, hours.
        numerator: one value per entity.
        denominator: one value per entity (default 1 each).
        scale: multiplies the ratio (100 for percentages).

    Returns:
        ``(overall, daily)`` with ``daily`` of length ``period.days``.
    """
    times = np.asarray(times, dtype=np.float64)
    num = np.asarray(numerator, dtype=np.float64)
    den = np.ones_like(num) if denominator is None else np.asarray(denominator, dtype=np.float64)
    mask, day = period.measured(times)
    num_day = _per_day(day, num[mask], period.days)
    den_day = _per_day(day, den[mask], period.days)
    overall = float(nan_ratio(float(num_day.sum()), float(den_day.sum())) * scale)
    return overall, nan_ratio(num_day, den_day) * scale


def sum_kpi(period: Period, times: F64, values: F64 | None = None) -> tuple[float, F64]:
    """Sum of ``values`` (default 1 each, i.e. a count) over the measured period and per day.

    Args:
        period: the measured period.
        times: clock-start time of each entity, hours.
        values: one value per entity (default 1: counts).

    Returns:
        ``(overall, daily)``; 0.0 where nothing happened.
    """
    times = np.asarray(times, dtype=np.float64)
    vals = np.ones_like(times) if values is None else np.asarray(values, dtype=np.float64)
    mask, day = period.measured(times)
    daily = _per_day(day, vals[mask], period.days)
    return float(daily.sum()), daily


def percentile_kpi(
    period: Period, times: F64, values: F64, q: float = PERCENTILE
) -> tuple[float, F64]:
    """``numpy.percentile(values, q)`` (linear interpolation) overall and per measured day.

    Args:
        period: the measured period.
        times: clock-start time of each entity, hours.
        values: one value per entity.
        q: percentile in [0, 100].

    Returns:
        ``(overall, daily)``; NaN where there are no values.
    """
    mask, day = period.measured(np.asarray(times, dtype=np.float64))
    vals = np.asarray(values, dtype=np.float64)[mask]
    overall = float(np.percentile(vals, q)) if vals.size else math.nan
    daily = np.full(period.days, np.nan)
    if vals.size:
        order = np.argsort(day, kind="stable")
        day_sorted, vals_sorted = day[order], vals[order]
        bounds = np.searchsorted(day_sorted, np.arange(period.days + 1))
        for d in range(period.days):
            lo, hi = int(bounds[d]), int(bounds[d + 1])
            if hi > lo:
                daily[d] = float(np.percentile(vals_sorted[lo:hi], q))
    return overall, daily


def threshold_records(
    completed_times: Sequence[float] | F64,
    completed_durations: Sequence[float] | F64,
    censored_times: Sequence[float] | F64,
    censored_elapsed: Sequence[float] | F64,
    threshold: float,
    count_breaches: bool,
) -> tuple[F64, F64, F64]:
    """Entities of a threshold percentage after the censoring rule of § 7.

    Completed entities count with their duration. An entity still in progress at ``end_hour``
    counts as a breach when its elapsed time already exceeds ``threshold``; otherwise it is
    excluded from numerator and denominator.

    Args:
        completed_times: clock-start times of completed entities, hours.
        completed_durations: their durations, hours.
        censored_times: clock-start times of entities in progress at ``end_hour``, hours.
        censored_elapsed: ``end_hour − clock start`` of those entities, hours.
        threshold: the threshold, hours.
        count_breaches: numerator is breaches (duration > threshold) when true, otherwise
            entities within it (duration ≤ threshold, e.g. the 4-hour standard).

    Returns:
        ``(times, numerator, denominator)`` for :func:`ratio_kpi` (with ``scale = 100``).
    """
    ct = np.asarray(completed_times, dtype=np.float64)
    cd = np.asarray(completed_durations, dtype=np.float64)
    et = np.asarray(censored_times, dtype=np.float64)
    ee = np.asarray(censored_elapsed, dtype=np.float64)
    breach_done = cd > threshold
    breach_open = ee > threshold
    times = np.concatenate([ct, et[breach_open]])
    if count_breaches:
        num = np.concatenate([breach_done, np.ones(int(breach_open.sum()), dtype=bool)])
    else:
        num = np.concatenate([~breach_done, np.zeros(int(breach_open.sum()), dtype=bool)])
    return times, num.astype(np.float64), np.ones(times.size, dtype=np.float64)


class DailyIntegrals:
    """Integrals (state × hours) of several piecewise-constant states, split into day bins.

    Usage: before changing any state at time ``t`` call :meth:`advance` (``t``), which adds
    ``value × elapsed hours`` of every state since the previous call to the bins of the days the
    interval covers (split exactly at midnight); then change :attr:`values`. Zero-length
    intervals add nothing.

    Attributes:
        values: the current value of each state (mutable list; change after ``advance``).
    """

    __slots__ = ("_acc", "_last", "values")

    def __init__(self, n_states: int, total_days: int) -> None:
        """Start every state at 0 at t = 0.

        Args:
            n_states: number of states tracked.
            total_days: number of day bins (the run's total days).
        """
        self.values: list[float] = [0.0] * n_states
        self._acc: list[list[float]] = [[0.0] * n_states for _ in range(total_days)]
        self._last = 0.0

    def advance(self, t: float) -> None:
        """Integrate the current values from the previous call up to time ``t`` (hours)."""
        last = self._last
        if t <= last:
            return
        day = int(last // HOURS_PER_DAY)
        values = self.values
        while True:
            boundary = HOURS_PER_DAY * (day + 1)
            seg_end = t if t <= boundary else boundary
            dt = seg_end - last
            row = self._acc[day]
            for i, v in enumerate(values):
                if v:
                    row[i] += v * dt
            if seg_end >= t:
                break
            last = seg_end
            day += 1
        self._last = t

    def totals(self) -> F64:
        """The integrals so far, shape ``[total_days, n_states]`` (state × hours)."""
        return np.asarray(self._acc, dtype=np.float64).reshape(len(self._acc), len(self.values))


def time_mean(period: Period, integral: F64) -> tuple[float, F64]:
    """Time-weighted mean of a state from its per-day integrals (all days of the run).

    Args:
        period: the measured period.
        integral: ``[total_days]`` integrals (state × hours).

    Returns:
        ``(overall, daily)``: integral ÷ period length (24 h a day).
    """
    measured = np.asarray(integral, dtype=np.float64)[period.warmup_days : period.total_days]
    return float(measured.sum() / (HOURS_PER_DAY * period.days)), measured / HOURS_PER_DAY


def time_ratio(
    period: Period, numerator: F64, denominator: F64, scale: float = 1.0
) -> tuple[float, F64]:
    """Ratio of two integrals (e.g. ∫ busy ÷ ∫ capacity), overall and per day; NaN on 0 ÷ 0.

    Args:
        period: the measured period.
        numerator: ``[total_days]`` integrals.
        denominator: ``[total_days]`` integrals.
        scale: multiplies the ratio (100 for percentages).

    Returns:
        ``(overall, daily)``.
    """
    lo, hi = period.warmup_days, period.total_days
    num = np.asarray(numerator, dtype=np.float64)[lo:hi]
    den = np.asarray(denominator, dtype=np.float64)[lo:hi]
    overall = float(nan_ratio(float(num.sum()), float(den.sum())) * scale)
    return overall, nan_ratio(num, den) * scale
