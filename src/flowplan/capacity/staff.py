"""Clinicians needed per hour of the week to meet a time-to-assessment target.

Arrivals are a cyclic hour-of-week profile in arrivals per hour (index 0 = Monday 00:00–01:00,
167 = Sunday 23:00–24:00); service (assessment) times are in minutes. Each hour is staffed with
the smallest whole number of clinicians ``c`` whose equivalent stationary M/M/c queue meets
``P(wait ≤ target_wait_minutes) ≥ target_probability``, where the load fed to that queue depends
on the method:

* ``"sipp"`` — stationary independent period by period: the hour's own arrival rate.
* ``"lag"`` — SIPP with the arrival rate lagged by the mean service time (Green, Kolesar &
  Soares 2001, "Improving the SIPP approach for staffing service systems that have cyclic
  demands", Operations Research 49(4)).
* ``"mol"`` — modified offered load (Jennings, Mandelbaum, Massey & Whitt 1996, "Server staffing
  to meet time-varying demand", Management Science 42(10)): the mean number of busy servers
  ``m(t)`` of the infinite-server system, then an M/M/c with arrival rate ``m(t) / E[S]``.

Also here: hour-of-week arrival profiles from hourly counts or event timestamps, expansion of a
24-hour profile to the week, and a PNG rota chart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.capacity.queueing import erlang_b, erlang_c
from flowplan.errors import CapacityInputError

HOURS_PER_WEEK = 168
HOURS_PER_DAY = 24
MINUTES_PER_HOUR = 60.0
MINUTES_PER_WEEK = HOURS_PER_WEEK * MINUTES_PER_HOUR
DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.9, 0.95)
STAFF_METHODS: tuple[str, ...] = ("sipp", "lag", "mol")
WITHIN_HOUR: tuple[str, ...] = ("mean", "max")
# Loads this large (Erlangs) are not plausible for one staffed service and almost always mean a
# units mistake (arrivals per minute given as per hour, service hours given as minutes).
MAX_OFFERED_LOAD = 1.0e5
# Tolerance for floating-point round-off when converting hours and occupancy bounds to integers.
_EPS = 1e-9

StaffMethod: TypeAlias = Literal["sipp", "lag", "mol"]
WithinHour: TypeAlias = Literal["mean", "max"]
FloatArray: TypeAlias = npt.NDArray[np.float64]
RateInput: TypeAlias = "Sequence[float] | npt.NDArray[Any] | pd.Series"


# --------------------------------------------------------------------------------------------
# Hour-of-week profiles
# --------------------------------------------------------------------------------------------


def hour_of_week_profile(
    timestamps_or_hourly: pd.Series,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Mean and quantiles of arrivals per hour for each of the 168 hours of the week.

    Two input forms are accepted:

    * hourly counts — a numeric series indexed by naive local timestamps on the hour, each value
      the arrivals in the hour starting there. Hours absent from the index inside the observed
      span count as zero arrivals (count extracts usually leave empty hours out); NaN values mean
      "not observed" and are left out of that hour's statistics. Repeated timestamps (the
      repeated hour when clocks go back) are summed.
    * event timestamps — a series whose values are naive local arrival times (one per arrival);
      they are counted per hour first.

    The observed span runs from ``start`` (default: the first hour in the data) up to but not
    including ``end`` (default: the hour after the last hour in the data); data outside it is
    ignored. Each hour of week is summarised over every week in the span that contains it, so
    partial weeks at the edges contribute only the hours they cover (see ``n_weeks``).

    Args:
        timestamps_or_hourly: hourly counts (arrivals per hour) or arrival timestamps.
        quantiles: probabilities in [0, 1] for the quantile columns (linear interpolation between
            observed weeks, as ``numpy.quantile``); 0.9 gives column ``q90``, 0.975 ``q97.5``.
        start: first hour of the observed span (floored to the hour), naive local time.
        end: end of the observed span (exclusive, floored to the hour), naive local time.

    Returns:
        168 rows indexed by ``hour_of_week`` (0 = Monday 00:00–01:00, 167 = Sunday 23:00–24:00)
        with columns ``mean`` (mean arrivals per hour), one ``q..`` column per quantile
        (arrivals per hour) and ``n_weeks`` (number of observed hours behind the row). Pass
        ``profile["mean"]`` (or a quantile column, for a busier-than-average week) to
        :func:`staff_required`.

    Raises:
        CapacityInputError: the series is neither form, has time-zone-aware, off-the-hour,
            negative or non-numeric values, or does not cover every hour of the week.
    """
    names = _quantile_names(quantiles)
    if pd.api.types.is_datetime64_any_dtype(timestamps_or_hourly.dtype):
        counts = _hourly_counts_from_events(timestamps_or_hourly)
    else:
        counts = _hourly_counts_from_series(timestamps_or_hourly)
    counts = _restrict_to_span(counts, start, end)

    index = pd.DatetimeIndex(counts.index)
    slot = np.asarray(index.day_of_week, dtype=np.int64) * HOURS_PER_DAY + np.asarray(
        index.hour, dtype=np.int64
    )
    values = np.asarray(counts.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)

    rows: list[list[float]] = []
    n_weeks = np.zeros(HOURS_PER_WEEK, dtype=np.int64)
    for h in range(HOURS_PER_WEEK):
        observed = values[(slot == h) & ~np.isnan(values)]
        n_weeks[h] = observed.size
        if observed.size == 0:
            rows.append([math.nan] * (1 + len(names)))
            continue
        qs = np.quantile(observed, np.asarray(quantiles, dtype=np.float64))
        rows.append([float(observed.mean()), *(float(q) for q in np.atleast_1d(qs))])
    missing = int((n_weeks == 0).sum())
    if missing > 0:
        raise CapacityInputError(
            f"the arrivals cover only {HOURS_PER_WEEK - missing} of the {HOURS_PER_WEEK} hours "
            "of the week; give at least one full week (Monday 00:00 to Sunday 24:00) of data"
        )
    table = pd.DataFrame(
        rows,
        columns=["mean", *names],
        index=pd.RangeIndex(HOURS_PER_WEEK, name="hour_of_week"),
    )
    table["n_weeks"] = n_weeks
    return table


def expand_hour_of_day_profile(
    hour_of_day_rates: Sequence[float] | Mapping[int, float] | npt.NDArray[Any] | pd.Series,
    day_multipliers: Sequence[float] | None = None,
) -> FloatArray:
    """Repeat a 24-hour arrival profile over the week, optionally scaled per day of the week.

    Args:
        hour_of_day_rates: arrivals per hour for hours 0..23 (0 = 00:00–01:00), either 24 values
            or a mapping / series from hour of day to rate; hours a mapping leaves out are zero
            (so a service open 06:00–24:00 can give just hours 6..23).
        day_multipliers: 7 non-negative factors, Monday first, applied to the whole day's
            profile (e.g. 1.15 for a busy Monday); default all 1.

    Returns:
        168 arrival rates in arrivals per hour, index 0 = Monday 00:00–01:00.

    Raises:
        CapacityInputError: wrong number of values, hours outside 0..23, negative or
            non-finite rates or multipliers.
    """
    day = _hour_of_day_values(hour_of_day_rates)
    if day_multipliers is None:
        factors = np.ones(len(DAY_NAMES), dtype=np.float64)
    else:
        factors = _as_float_array(day_multipliers, "day_multipliers")
        if factors.size != len(DAY_NAMES):
            raise CapacityInputError(
                f"day_multipliers must have 7 values (Monday first); got {factors.size}"
            )
        _check_non_negative(factors, "day_multipliers", "multipliers")
    return np.asarray(np.outer(factors, day).ravel(), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Staffing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPlan:
    """Clinicians per hour of the week and what they achieve.

    Attributes:
        table: 168 rows, one per hour of week, columns ``hour_of_week`` (0..167, 0 = Monday
            00:00), ``day`` ("Mon".."Sun"), ``hour`` (0..23), ``arrival_rate`` (arrivals per
            hour, as given), ``offered_load`` (Erlangs the hour is staffed for, under the
            method), ``clinicians`` (whole clinicians on duty for the hour),
            ``p_within_target`` (modelled P(wait ≤ target) with that many clinicians; 1.0 where
            the hour is treated as having no load) and ``utilisation`` (offered_load /
            clinicians; 0 where there are no clinicians).
        method: ``"sipp"``, ``"lag"`` or ``"mol"``.
        service_mean_minutes: mean assessment (service) time in minutes.
        target_wait_minutes: the time-to-assessment target in minutes.
        target_probability: share of patients to be assessed within the target.
        service_cv: coefficient of variation of service time used in the wait approximation.
        max_occupancy: cap on utilisation used in the sizing, or None.
        min_clinicians: floor on clinicians in every hour.
        within_hour: how the load varying within an hour was reduced ("mean" or "max").
        clinician_hours_per_week: total clinician-hours over the week (sum of ``clinicians``).
        arrivals_per_week: total arrivals over the week (sum of ``arrival_rate``).
        assumptions: plain-text statement of the model and assumptions behind the numbers.
    """

    table: pd.DataFrame
    method: StaffMethod
    service_mean_minutes: float
    target_wait_minutes: float
    target_probability: float
    service_cv: float
    max_occupancy: float | None
    min_clinicians: int
    within_hour: WithinHour
    clinician_hours_per_week: int
    arrivals_per_week: float
    assumptions: str

    @property
    def peak_clinicians(self) -> int:
        """Largest number of clinicians needed in any hour."""
        return int(self.table["clinicians"].max())


def staff_required(
    arrival_rate_per_hour: RateInput,
    service_mean_minutes: float,
    target_wait_minutes: float = 15.0,
    target_probability: float = 0.95,
    method: StaffMethod = "mol",
    service_cv: float = 1.0,
    max_occupancy: float | None = None,
    *,
    min_clinicians: int = 0,
    within_hour: WithinHour = "mean",
    negligible_load: float = 0.01,
) -> StaffPlan:
    """Clinicians needed in each hour of the week to meet a time-to-assessment target.

    Every hour is sized as its own stationary M/M/c queue (Poisson arrivals, ``c`` clinicians,
    first come first served) whose offered load ``a`` (Erlangs) comes from the method. The
    number of clinicians is the smallest integer ``c`` with ``c > a`` (a stable queue),
    ``P(wait ≤ target_wait_minutes) ≥ target_probability``, ``a / c ≤ max_occupancy`` (when
    given) and ``c ≥ min_clinicians``, where for M/M/c

        P(wait > t) = C(c, a) · exp(−(c − a) · t / E[S])

    with ``C`` the Erlang C probability of waiting. When ``service_cv`` is not 1 the wait beyond
    zero is scaled by ``(1 + service_cv²) / 2`` (the Allen–Cunneen M/G/c correction, which
    keeps P(wait > 0) and scales the mean wait); this is an approximation.

    Loads per method (``E[S]`` = ``service_mean_minutes``; ``λ`` piecewise constant per hour):

    * ``"sipp"``: ``a = λ_h · E[S] / 60``.
    * ``"lag"``: ``a = λ_lag · E[S] / 60`` where ``λ_lag`` is ``λ(t − E[S])`` over the hour,
      averaged (``within_hour="mean"``, Lag-Avg) or its maximum (``"max"``, Lag-Max).
    * ``"mol"``: ``m(t)`` solves ``dm/dt = λ(t) − m(t) / E[S]`` (the infinite-server system
      with exponential service) at its periodic steady state over the cyclic week; the hour's
      load is the mean of ``m`` over the hour (``"mean"``) or its maximum (``"max"``). With
      ``λ`` constant within an hour the ODE is solved exactly hour by hour and the periodic
      state is the fixed point of the weekly map (see :func:`mol_offered_load`). The mean is
      the default because the maximum picks up the instantaneous jump of a piecewise-constant
      ``λ`` at the hour boundary and so over-staffs hours after a drop in demand.

    Under MOL, an hour with no arrivals of its own whose load carried over from earlier hours
    is below ``negligible_load`` Erlangs is treated as having no load (otherwise the
    exponentially decaying tail would ask for a clinician many hours after a service closes).

    Args:
        arrival_rate_per_hour: 168 arrival rates per hour of week (0 = Monday 00:00–01:00), or
            24 per hour of day (0 = 00:00–01:00) used for every day; arrivals per hour.
        service_mean_minutes: mean time a clinician spends assessing one patient, in minutes.
        target_wait_minutes: time-to-assessment target, in minutes (0 = no wait).
        target_probability: share of patients to be assessed within the target, in (0, 1).
        method: ``"sipp"``, ``"lag"`` or ``"mol"`` (see above).
        service_cv: coefficient of variation (sd / mean) of the assessment time; 1 =
            exponential (exact M/M/c).
        max_occupancy: optional cap on utilisation ``a / c`` in (0, 1].
        min_clinicians: clinicians on duty in every hour however low the demand.
        within_hour: ``"mean"`` or ``"max"`` of the load within the hour (lag and mol).
        negligible_load: Erlangs below which a carried-over MOL load in an hour without
            arrivals is treated as zero.

    Returns:
        The plan; see :class:`StaffPlan`.

    Raises:
        CapacityInputError: any input outside the ranges above.
    """
    rates = _weekly_rates(arrival_rate_per_hour)
    s = _check_positive(service_mean_minutes, "service_mean_minutes", "minutes")
    t = _check_finite_at_least_zero(target_wait_minutes, "target_wait_minutes", "minutes")
    if not (math.isfinite(target_probability) and 0.0 < target_probability < 1.0):
        raise CapacityInputError(
            f"target_probability is {target_probability}: give a share strictly between 0 and 1"
            " (e.g. 0.95)"
        )
    if method not in STAFF_METHODS:
        raise CapacityInputError(f"method is {method!r}: choose one of 'sipp', 'lag' or 'mol'")
    if within_hour not in WITHIN_HOUR:
        raise CapacityInputError(f"within_hour is {within_hour!r}: choose 'mean' or 'max'")
    cv = _check_finite_at_least_zero(service_cv, "service_cv", "(sd / mean)")
    if max_occupancy is not None and not (
        math.isfinite(max_occupancy) and 0.0 < max_occupancy <= 1.0
    ):
        raise CapacityInputError(
            f"max_occupancy is {max_occupancy}: give a share above 0 and at most 1 (e.g. 0.85),"
            " or None for no cap"
        )
    if isinstance(min_clinicians, bool) or not isinstance(min_clinicians, int | np.integer):
        raise CapacityInputError(
            f"min_clinicians is {min_clinicians!r}: give a whole number of clinicians (0 or more)"
        )
    if min_clinicians < 0:
        raise CapacityInputError(
            f"min_clinicians is {min_clinicians}: give a whole number of clinicians (0 or more)"
        )
    nl = _check_finite_at_least_zero(negligible_load, "negligible_load", "Erlangs")

    if method == "sipp":
        loads = rates * s / MINUTES_PER_HOUR
    elif method == "lag":
        loads = _lagged_rates(rates, s, within_hour) * s / MINUTES_PER_HOUR
    else:
        loads = _mol_hourly_loads(rates, s, within_hour)
    worst = float(loads.max())
    if worst > MAX_OFFERED_LOAD:
        raise CapacityInputError(
            f"offered load reaches {worst:.4g} Erlangs: check arrival_rate_per_hour is arrivals"
            " per hour and service_mean_minutes is minutes"
        )

    wait_scale = 2.0 / (1.0 + cv * cv)
    clinicians = np.zeros(HOURS_PER_WEEK, dtype=np.int64)
    p_within = np.ones(HOURS_PER_WEEK, dtype=np.float64)
    for h in range(HOURS_PER_WEEK):
        a = float(loads[h])
        no_load = a <= 0.0 or (method == "mol" and rates[h] == 0.0 and a < nl)
        if no_load:
            clinicians[h] = int(min_clinicians)
            continue
        c, p = _smallest_staff(a, t / s * wait_scale, target_probability, max_occupancy)
        if c < min_clinicians:
            c = int(min_clinicians)
            p = _p_within(c, a, t / s * wait_scale)
        clinicians[h] = c
        p_within[h] = p

    utilisation = np.divide(
        loads, clinicians, out=np.zeros(HOURS_PER_WEEK, dtype=np.float64), where=clinicians > 0
    )
    hours = np.arange(HOURS_PER_WEEK)
    table = pd.DataFrame(
        {
            "hour_of_week": hours,
            "day": [DAY_NAMES[h // HOURS_PER_DAY] for h in hours],
            "hour": hours % HOURS_PER_DAY,
            "arrival_rate": rates,
            "offered_load": loads,
            "clinicians": clinicians,
            "p_within_target": p_within,
            "utilisation": utilisation,
        }
    )
    return StaffPlan(
        table=table,
        method=method,
        service_mean_minutes=s,
        target_wait_minutes=t,
        target_probability=float(target_probability),
        service_cv=cv,
        max_occupancy=None if max_occupancy is None else float(max_occupancy),
        min_clinicians=int(min_clinicians),
        within_hour=within_hour,
        clinician_hours_per_week=int(clinicians.sum()),
        arrivals_per_week=float(rates.sum()),
        assumptions=_assumptions(
            method,
            s,
            t,
            float(target_probability),
            cv,
            max_occupancy,
            int(min_clinicians),
            within_hour,
            nl,
        ),
    )


def mol_offered_load(
    arrival_rate_per_hour: RateInput,
    service_mean_minutes: float,
    step_minutes: float = 1.0,
) -> pd.Series:
    """Modified offered load ``m(t)`` over the cyclic week, sampled every ``step_minutes``.

    ``m(t)`` is the mean number of patients in service in an infinite-server system with
    exponential service of mean ``E[S]`` — the solution of ``dm/dt = λ(t) − m(t) / E[S]`` — at
    its periodic steady state over the week. With ``λ`` constant within each hour the ODE has
    the exact solution ``m(t) = λ_h E[S] + (m(h) − λ_h E[S]) exp(−(t − h) / E[S])`` inside hour
    ``h``, so stepping hour by hour is exact at any step. The weekly map
    ``m(0) → m(1 week)`` is affine with slope ``exp(−1 week / E[S])``; its fixed point (what
    repeated simulation of the week converges to) is solved for directly.

    Args:
        arrival_rate_per_hour: 168 (hour of week) or 24 (hour of day) arrival rates per hour.
        service_mean_minutes: mean service time in minutes.
        step_minutes: sampling interval in minutes (default 1).

    Returns:
        Offered load in Erlangs, indexed by minutes since Monday 00:00 (``minute``), from 0 up
        to but not including 10080.

    Raises:
        CapacityInputError: bad rates, service time or step.
    """
    rates = _weekly_rates(arrival_rate_per_hour)
    s = _check_positive(service_mean_minutes, "service_mean_minutes", "minutes")
    step = _check_positive(step_minutes, "step_minutes", "minutes")
    if step > MINUTES_PER_WEEK:
        raise CapacityInputError(f"step_minutes is {step}: give a step of at most 10080 minutes")
    starts = _mol_hour_starts(rates, s)
    minutes = np.arange(0.0, MINUTES_PER_WEEK, step)
    hour = np.minimum((minutes // MINUTES_PER_HOUR).astype(np.int64), HOURS_PER_WEEK - 1)
    steady = rates[hour] * s / MINUTES_PER_HOUR
    tau = minutes - hour * MINUTES_PER_HOUR
    values = steady + (starts[hour] - steady) * np.exp(-tau / s)
    return pd.Series(values, index=pd.Index(minutes, name="minute"), name="offered_load")


# --------------------------------------------------------------------------------------------
# Chart
# --------------------------------------------------------------------------------------------


def rota_chart(plan: StaffPlan, path: str | os.PathLike[str]) -> Path:
    """Write a PNG of arrivals per hour and clinicians per hour over the week.

    Two stacked step plots sharing the hour-of-week axis (gridlines at each midnight): arrivals
    per hour (with the method's offered load, in Erlangs) above and clinicians on duty below,
    titled with the target and method. Uses matplotlib's Agg canvas; no global figure state.

    Args:
        plan: a plan from :func:`staff_required`.
        path: where to write the PNG (the folder must exist; written as PNG whatever the
            suffix).

    Returns:
        The path written.

    Raises:
        CapacityInputError: the folder does not exist.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    if not out.parent.is_dir():
        raise CapacityInputError(
            f"folder {out.parent} does not exist: create it or choose another path for the chart"
        )
    table = plan.table
    edges = np.arange(HOURS_PER_WEEK + 1)

    def stepped(column: str) -> FloatArray:
        v = table[column].to_numpy(dtype=np.float64)
        return np.append(v, v[-1])

    fig = Figure(figsize=(12.0, 6.0), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.step(edges, stepped("arrival_rate"), where="post", label="arrivals per hour")
    top.step(
        edges,
        stepped("offered_load"),
        where="post",
        linestyle="--",
        label=f"offered load, Erlangs ({plan.method})",
    )
    top.set_ylabel("arrivals per hour · Erlangs")
    top.legend(loc="upper right")
    bottom.step(edges, stepped("clinicians"), where="post", color="tab:green")
    bottom.set_ylabel("clinicians")
    bottom.set_ylim(bottom=0)
    day_starts = np.arange(0, HOURS_PER_WEEK + 1, HOURS_PER_DAY)
    bottom.set_xticks(day_starts[:-1] + HOURS_PER_DAY / 2, labels=list(DAY_NAMES), minor=False)
    bottom.set_xlim(0, HOURS_PER_WEEK)
    for ax in (top, bottom):
        for x in day_starts:
            ax.axvline(float(x), color="0.85", linewidth=0.8, zorder=0)
    fig.suptitle(
        f"Clinicians to assess {plan.target_probability:.0%} of patients within "
        f"{plan.target_wait_minutes:g} min — {plan.method.upper()}, mean assessment "
        f"{plan.service_mean_minutes:g} min, {plan.clinician_hours_per_week} clinician-hours/week"
    )
    fig.savefig(out, format="png")
    return out


# --------------------------------------------------------------------------------------------
# Waiting probabilities (Erlang B/C from flowplan.capacity.queueing)
# --------------------------------------------------------------------------------------------


def _p_within(c: int, a: float, t_over_s: float) -> float:
    """M/M/c P(wait ≤ t) with ``t_over_s`` = target / mean service (already cv-scaled)."""
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * t_over_s)


def _smallest_staff(
    a: float, t_over_s: float, target: float, max_occupancy: float | None
) -> tuple[int, float]:
    """Smallest ``c > a`` meeting the wait target (and occupancy cap) and its P(wait ≤ t)."""
    c = math.floor(a) + 1
    if max_occupancy is not None:
        c = max(c, math.ceil(a / max_occupancy - _EPS))
    b = erlang_b(c, a)
    while True:
        waits = c * b / (c - a * (1.0 - b))  # Erlang C from Erlang B
        p = 1.0 - waits * math.exp(-(c - a) * t_over_s)
        if p >= target:
            return c, p
        c += 1
        b = a * b / (c + a * b)


# --------------------------------------------------------------------------------------------
# Loads
# --------------------------------------------------------------------------------------------


def _lagged_rates(rates: FloatArray, s: float, within_hour: WithinHour) -> FloatArray:
    """Arrival rate ``λ(t − s)`` over each hour of the cyclic week, averaged or maximised."""
    cumulative = np.concatenate([[0.0], np.cumsum(rates)])  # arrivals by hour boundary
    total = float(cumulative[-1])

    def integral(x_hours: float) -> float:
        weeks = math.floor(x_hours / HOURS_PER_WEEK)
        rest = x_hours - weeks * HOURS_PER_WEEK
        whole = min(math.floor(rest), HOURS_PER_WEEK - 1)
        partial = rest - whole
        return weeks * total + float(cumulative[whole]) + partial * float(rates[whole])

    lag = s / MINUTES_PER_HOUR
    out = np.empty(HOURS_PER_WEEK, dtype=np.float64)
    for h in range(HOURS_PER_WEEK):
        lo, hi = h - lag, h + 1 - lag
        if within_hour == "mean":
            out[h] = integral(hi) - integral(lo)
        else:
            first = math.floor(lo + _EPS)
            last = math.ceil(hi - _EPS) - 1
            out[h] = max(float(rates[j % HOURS_PER_WEEK]) for j in range(first, last + 1))
    return out


def _mol_hour_starts(rates: FloatArray, s: float) -> FloatArray:
    """``m`` at the start of each hour of the periodic steady state (Erlangs)."""
    steady = rates * s / MINUTES_PER_HOUR
    decay = math.exp(-MINUTES_PER_HOUR / s)

    def run(m0: float) -> FloatArray:
        starts = np.empty(HOURS_PER_WEEK + 1, dtype=np.float64)
        starts[0] = m0
        for h in range(HOURS_PER_WEEK):
            starts[h + 1] = steady[h] + (starts[h] - steady[h]) * decay
        return starts

    # m(1 week) = m(0)·exp(−W/s) + K, where K is the week's end state from an empty start.
    keep = -math.expm1(-MINUTES_PER_WEEK / s)
    m0 = float(run(0.0)[-1]) / keep if keep > 0.0 else float(steady.mean())
    return run(m0)


def _mol_hourly_loads(rates: FloatArray, s: float, within_hour: WithinHour) -> FloatArray:
    """MOL load per hour: mean or maximum of ``m(t)`` over the hour (Erlangs)."""
    starts = _mol_hour_starts(rates, s)
    if within_hour == "max":
        return np.maximum(starts[:-1], starts[1:])
    steady = rates * s / MINUTES_PER_HOUR
    # Mean over the hour of steady + (m0 − steady)·exp(−τ/s), τ in [0, 60).
    share = -math.expm1(-MINUTES_PER_HOUR / s) * s / MINUTES_PER_HOUR
    return np.asarray(steady + (starts[:-1] - steady) * share, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Input checks and conversions
# --------------------------------------------------------------------------------------------


def _as_float_array(values: object, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} must be numbers; got {values!r:.60}") from None
    if array.ndim != 1:
        raise CapacityInputError(f"{name} must be a flat list of numbers; got shape {array.shape}")
    return array


def _check_non_negative(values: FloatArray, name: str, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size > 0:
        i = int(bad[0])
        raise CapacityInputError(
            f"{name}[{i}] is {values[i]}: {what} must be finite and zero or more"
        )


def _weekly_rates(values: RateInput) -> FloatArray:
    """168 arrival rates per hour from 168 (hour of week) or 24 (hour of day) values."""
    rates = _as_float_array(values, "arrival_rate_per_hour")
    if rates.size not in (HOURS_PER_WEEK, HOURS_PER_DAY):
        raise CapacityInputError(
            "arrival_rate_per_hour must have 168 values (hour of week, Monday 00:00 first) or 24"
            f" (hour of day); got {rates.size}"
        )
    _check_non_negative(rates, "arrival_rate_per_hour", "arrival rates (arrivals per hour)")
    if rates.size == HOURS_PER_DAY:
        rates = np.tile(rates, len(DAY_NAMES))
    return rates


def _hour_of_day_values(
    values: Sequence[float] | Mapping[int, float] | npt.NDArray[Any] | pd.Series,
) -> FloatArray:
    if isinstance(values, pd.Series):
        if not pd.api.types.is_integer_dtype(values.index.dtype):
            raise CapacityInputError(
                "index the hour-of-day series by hour (whole numbers 0..23), or pass 24 values"
            )
        hours = values.index.to_numpy(dtype=np.int64)
        values = dict(zip((int(k) for k in hours), values.to_list(), strict=True))
    if isinstance(values, Mapping):
        day = np.zeros(HOURS_PER_DAY, dtype=np.float64)
        for key, rate in values.items():
            if isinstance(key, bool) or not isinstance(key, int | np.integer):
                raise CapacityInputError(f"hour {key!r} is not a whole hour: use hours 0..23")
            if not 0 <= key < HOURS_PER_DAY:
                raise CapacityInputError(f"hour {key} is outside the day: use hours 0..23")
            try:
                day[int(key)] = float(rate)
            except (TypeError, ValueError):
                raise CapacityInputError(
                    f"the rate for hour {key} is {rate!r}: give arrivals per hour as a number"
                ) from None
    else:
        day = _as_float_array(values, "hour_of_day_rates")
        if day.size != HOURS_PER_DAY:
            raise CapacityInputError(
                "hour_of_day_rates must have 24 values (00:00 first) or be a mapping from hour"
                f" to rate; got {day.size}"
            )
    _check_non_negative(day, "hour_of_day_rates", "arrival rates (arrivals per hour)")
    return day


def _check_positive(value: float, name: str, unit: str) -> float:
    v = _as_scalar(value, name)
    if not (math.isfinite(v) and v > 0.0):
        raise CapacityInputError(f"{name} is {value}: give a number of {unit} above 0")
    return v


def _check_finite_at_least_zero(value: float, name: str, unit: str) -> float:
    v = _as_scalar(value, name)
    if not (math.isfinite(v) and v >= 0.0):
        raise CapacityInputError(f"{name} is {value}: give a finite number {unit} of 0 or more")
    return v


def _as_scalar(value: object, name: str) -> float:
    if isinstance(value, bool):
        raise CapacityInputError(f"{name} is {value}: give a number")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} is {value!r}: give a number") from None


def _quantile_names(quantiles: Sequence[float]) -> list[str]:
    names: list[str] = []
    for q in quantiles:
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
            raise CapacityInputError(f"quantile {q!r} is not a probability: use values in [0, 1]")
        names.append(f"q{float(q) * 100:.10g}")
    if len(set(names)) != len(names):
        raise CapacityInputError("quantiles repeat a value: give each quantile once")
    return names


def _check_naive(index: pd.DatetimeIndex, what: str) -> None:
    if index.tz is not None:
        raise CapacityInputError(
            f"{what} carry a time zone ({index.tz}): convert to naive local time first"
            " (e.g. .dt.tz_convert('Europe/London').dt.tz_localize(None))"
        )


def _hourly_counts_from_events(events: pd.Series) -> pd.Series:
    stamps = pd.DatetimeIndex(events)
    _check_naive(stamps, "arrival timestamps")
    missing = int(np.asarray(stamps.isna()).sum())
    if missing > 0:
        raise CapacityInputError(
            f"arrival timestamps include {missing} missing value(s) (NaT): drop them first"
        )
    if len(stamps) == 0:
        raise CapacityInputError("no arrival timestamps given: give at least one full week")
    hours = stamps.floor("h")
    counts = pd.Series(np.ones(len(hours), dtype=np.float64), index=hours).groupby(level=0).sum()
    return counts.astype(np.float64)


def _hourly_counts_from_series(hourly: pd.Series) -> pd.Series:
    if not isinstance(hourly.index, pd.DatetimeIndex):
        raise CapacityInputError(
            "give event timestamps as the series values, or hourly counts indexed by naive"
            " local timestamps (a DatetimeIndex)"
        )
    index = hourly.index
    _check_naive(index, "hourly timestamps")
    if len(index) == 0:
        raise CapacityInputError("the hourly series is empty: give at least one full week")
    if bool(index.isna().any()):
        raise CapacityInputError("the hourly series index has missing timestamps (NaT): drop them")
    off = index[index != index.floor("h")]
    if len(off) > 0:
        raise CapacityInputError(
            f"hourly timestamp {off[0]} is not on the hour: floor to the hour (or pass the event"
            " timestamps as values)"
        )
    try:
        values = pd.to_numeric(hourly, errors="raise").astype(np.float64)
    except (TypeError, ValueError):
        raise CapacityInputError(
            "hourly counts must be numbers of arrivals (NaN for hours not observed)"
        ) from None
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isinf(array) | (array < 0))
    if bad.size > 0:
        i = int(bad[0])
        raise CapacityInputError(
            f"hourly count at {index[i]} is {array[i]}: counts must be zero or more"
        )
    series = pd.Series(array, index=index)
    return series.groupby(level=0).sum(min_count=1)


def _restrict_to_span(
    counts: pd.Series, start: pd.Timestamp | str | None, end: pd.Timestamp | str | None
) -> pd.Series:
    index = pd.DatetimeIndex(counts.index)
    first = _span_bound(start, "start") if start is not None else index.min()
    stop = _span_bound(end, "end") if end is not None else index.max() + pd.Timedelta(hours=1)
    if stop <= first:
        raise CapacityInputError(f"end ({stop}) is not after start ({first}): widen the span")
    span = pd.date_range(first, stop, freq="h", inclusive="left")
    inside = counts[(index >= first) & (index < stop)]
    return inside.reindex(span, fill_value=0.0)


def _span_bound(value: pd.Timestamp | str, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise CapacityInputError(f"{name} is {value!r}: give a timestamp") from None
    if pd.isna(stamp):
        raise CapacityInputError(f"{name} is missing (NaT): give a timestamp")
    if stamp.tzinfo is not None:
        raise CapacityInputError(f"{name} carries a time zone: give naive local time")
    return stamp.floor("h")


def _assumptions(
    method: StaffMethod,
    s: float,
    t: float,
    p: float,
    cv: float,
    max_occupancy: float | None,
    min_clinicians: int,
    within_hour: WithinHour,
    negligible_load: float,
) -> str:
    load = {
        "sipp": "each hour's own arrival rate (SIPP: stationary independent period by period)",
        "lag": (
            f"each hour's arrival rate lagged by the mean assessment time ({s:g} min), "
            f"{within_hour} over the hour (Lag-SIPP, Green, Kolesar & Soares 2001)"
        ),
        "mol": (
            "the modified offered load m(t) of the infinite-server system with exponential "
            f"assessment times, {within_hour} over the hour (MOL, Jennings, Mandelbaum, Massey & "
            f"Whitt 1996); hours with no arrivals and under {negligible_load:g} Erlangs carried "
            "over count as no load"
        ),
    }[method]
    lines = [
        f"Target: {p:.4g} of patients assessed within {t:g} min of arrival.",
        f"Each hour of the week is sized as a stationary M/M/c queue fed by {load}.",
        "Arrivals are Poisson with the given hourly rates (arrivals per hour), cycling weekly; "
        f"assessment times average {s:g} min; patients are seen first come first served and "
        "none leave without being seen.",
        "Clinicians per hour = smallest whole number c above the offered load (Erlangs) with "
        "P(wait <= target) >= target share, P(wait > t) = ErlangC(c, a)·exp(-(c - a)·t/E[S]).",
    ]
    if cv != 1.0:
        lines.append(
            f"Assessment-time CV {cv:g}: wait beyond zero scaled by (1 + CV²)/2 "
            "(Allen–Cunneen approximation for M/G/c)."
        )
    if max_occupancy is not None:
        lines.append(f"Utilisation capped at {max_occupancy:.4g}.")
    if min_clinicians > 0:
        lines.append(f"At least {min_clinicians} clinician(s) on duty every hour.")
    lines.append("Breaks, handovers and non-patient time are not included: add them to rostering.")
    return "\n".join(lines)
