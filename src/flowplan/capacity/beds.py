"""Beds needed to meet demand: occupancy rule of thumb, Erlang loss and delay views, escalation.

Units throughout: demand is admissions per day, length of stay (LOS) is in days, so demand × LOS
is bed-days per day, which is the same thing as the mean number of beds occupied (Little's law)
and as the offered load in Erlangs. Bed counts are whole beds; waits are reported in hours.

Three views of "how many beds":

* ``beds_at_occupancy``: the planning rule beds = bed-days per day ÷ target occupancy.
* ``beds_for_no_bed_probability``: beds as an Erlang loss system, sized so that the chance an
  admission finds no free bed is small.
* ``occupancy_delay_curve``: how the chance of waiting and the mean wait for a bed explode as
  occupancy approaches 100% (M/M/c delay model), to show why the target is not 100%.

``escalation_beds`` sizes surge capacity for busy days, and ``implied_los_days`` recovers a mean
LOS from beds occupied and admissions when LOS is not published.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from flowplan.capacity.checks import fraction, got, non_negative, num, positive, whole
from flowplan.capacity.queueing import (
    erlang_b_kernel,
    erlang_c_kernel,
    servers_for_blocking,
)
from flowplan.errors import CapacityInputError

DEFAULT_TARGET_OCCUPANCY = 0.85
"""Planning occupancy for general and acute beds: the widely used 85% rule of thumb (Bagust,
Place & Posnett, BMJ 1999, found bed shortages become regular above about 85%)."""

DEFAULT_Z = 1.645
"""Normal quantile for the low/high range: ±1.645 sd spans the 5th to 95th percentile."""

DEFAULT_LOWEST_OCCUPANCY = 0.6
"""Lowest occupancy the default occupancy–delay curve reaches (its largest bed count)."""

HOURS_PER_DAY = 24.0

# Float noise allowed when rounding up to whole beds, so 100.00000000000001 stays 100 beds.
_ROUNDING_SLACK = 1e-9

_ADMISSIONS = "admissions per day"
_LOS = "mean length of stay in days"


def _ceil_beds(value: float) -> int:
    """``value`` rounded up to whole beds, ignoring float noise just above a whole number."""
    return max(0, math.ceil(value - _ROUNDING_SLACK))


def _occupancy(value: object) -> float:
    """Target occupancy as a fraction in (0, 1), with a hint for percentages."""
    try:
        return fraction("target occupancy", value)
    except CapacityInputError as exc:
        raise CapacityInputError(
            f"target occupancy must be a fraction between 0 and 1 exclusive, e.g. 0.85 "
            f"(got {got(value)})"
        ) from exc


# --- occupancy rule -------------------------------------------------------------------------


@dataclass(frozen=True)
class BedsEstimate:
    """Beds needed at a target occupancy, with a low–high range.

    Attributes:
        low: beds at the low end of the range, exact (not rounded); ≥ 0.
        mean: beds for the central estimate, exact: bed_days_per_day ÷ target_occupancy.
        high: beds at the high end of the range, exact.
        bed_days_per_day: admissions per day × mean LOS in days = mean beds occupied (Erlangs).
        target_occupancy: the occupancy the beds are sized for, a fraction in (0, 1).
        method_note: one sentence saying how the numbers were worked out.
        beds_low: ``low`` rounded up to whole beds.
        beds: ``mean`` rounded up to whole beds (the headline answer).
        beds_high: ``high`` rounded up to whole beds.
    """

    low: float
    mean: float
    high: float
    bed_days_per_day: float
    target_occupancy: float
    method_note: str
    beds_low: int
    beds: int
    beds_high: int


def beds_at_occupancy(
    admissions_per_day: float,
    mean_los_days: float,
    target_occupancy: float = DEFAULT_TARGET_OCCUPANCY,
    *,
    los_sd_days: float | None = None,
    admissions_sd_per_day: float | None = None,
    z: float = DEFAULT_Z,
) -> BedsEstimate:
    """Beds needed so that average occupancy equals ``target_occupancy``.

    Central estimate: bed-days per day D = admissions/day × mean LOS (days); beds = D ÷ target
    occupancy. Over a period of N days that is (N·D bed-days) ÷ (N days × occupancy), so the
    period length cancels.

    Range rule: ``los_sd_days`` and ``admissions_sd_per_day`` are standard deviations of the
    planning assumptions (how uncertain or variable the mean LOS and the daily admission rate
    are), not the spread of individual patients' stays. Treating the two as independent, the
    standard deviation of D is s = √((LOS·sd_A)² + (A·sd_LOS)² + (sd_A·sd_LOS)²) (exact for a
    product of independent variables), and low/high = (D ∓ z·s) ÷ occupancy, with the low end
    floored at zero. With only one standard deviation given this is exactly the same formula
    evaluated at that input's mean ∓ z·sd. With neither given, low = mean = high.

    Rounding: ``low``, ``mean`` and ``high`` are exact; ``beds_low``, ``beds`` and ``beds_high``
    are the same rounded up to whole beds (ignoring float noise below 1e-9 of a bed).

    Args:
        admissions_per_day: mean admissions per day (≥ 0).
        mean_los_days: mean length of stay in days (> 0).
        target_occupancy: fraction of beds occupied on average, 0 < occupancy < 1; policy
            default 0.85 (``DEFAULT_TARGET_OCCUPANCY``).
        los_sd_days: standard deviation of the mean LOS assumption in days (≥ 0), or None.
        admissions_sd_per_day: standard deviation of the admissions per day assumption (≥ 0),
            or None.
        z: how many standard deviations the range spans either side (≥ 0); default 1.645, the
            5th to 95th percentile of a normal distribution (``DEFAULT_Z``).

    Returns:
        A ``BedsEstimate``.

    Raises:
        CapacityInputError: negative demand, LOS ≤ 0, occupancy outside (0, 1), negative
            standard deviations or z.
    """
    demand = non_negative(_ADMISSIONS, admissions_per_day)
    los = positive(_LOS, mean_los_days)
    occupancy = _occupancy(target_occupancy)
    sd_los = 0.0 if los_sd_days is None else non_negative("LOS standard deviation", los_sd_days)
    sd_demand = (
        0.0
        if admissions_sd_per_day is None
        else non_negative("admissions standard deviation", admissions_sd_per_day)
    )
    spread_z = non_negative("z", z)

    bed_days = demand * los
    sd = math.sqrt((los * sd_demand) ** 2 + (demand * sd_los) ** 2 + (sd_demand * sd_los) ** 2)
    mean = bed_days / occupancy
    low = max(0.0, bed_days - spread_z * sd) / occupancy
    high = (bed_days + spread_z * sd) / occupancy

    note = (
        f"beds = {num(demand)} admissions/day × {num(los)} days mean LOS "
        f"÷ {num(occupancy)} occupancy = {num(mean)}"
    )
    if los_sd_days is None and admissions_sd_per_day is None:
        note += "; no standard deviation given, so low = mean = high"
    else:
        note += (
            f"; low/high = (bed-days/day ∓ {num(spread_z)} × sd {num(sd)}) ÷ occupancy, "
            f"from LOS sd {num(sd_los)} days and admissions sd {num(sd_demand)}/day, "
            "low floored at zero"
        )
    note += "; whole beds rounded up"
    return BedsEstimate(
        low=low,
        mean=mean,
        high=high,
        bed_days_per_day=bed_days,
        target_occupancy=occupancy,
        method_note=note,
        beds_low=_ceil_beds(low),
        beds=_ceil_beds(mean),
        beds_high=_ceil_beds(high),
    )


# --- Erlang loss view -----------------------------------------------------------------------


@dataclass(frozen=True)
class NoBedEstimate:
    """Beds sized as an Erlang loss system.

    Attributes:
        beds: fewest whole beds meeting the target.
        offered_load: admissions per day × mean LOS in days (Erlangs = mean beds demanded).
        p_no_bed: Erlang B at ``beds``: share of admissions that find every bed full.
        occupancy: mean fraction of beds occupied, a·(1 − B)/beds (only admitted patients
            occupy beds in a loss system).
    """

    beds: int
    offered_load: float
    p_no_bed: float
    occupancy: float


def beds_for_no_bed_probability(
    admissions_per_day: float, mean_los_days: float, max_probability: float
) -> NoBedEstimate:
    """Fewest beds so that the chance an admission finds no free bed is at most ``max_probability``.

    Treats the beds as an Erlang loss system (M/G/c/c): admissions arrive at random (Poisson),
    a patient who finds every bed full goes elsewhere (another ward, outlier, another hospital),
    and the offered load is admissions/day × mean LOS in days. Erlang B depends on the LOS
    distribution only through its mean, so skewed LOS does not change the answer; day-of-week
    and seasonal swings in admissions do (they are not Poisson), so treat the result as a floor.

    Args:
        admissions_per_day: mean admissions per day (≥ 0).
        mean_los_days: mean length of stay in days (> 0).
        max_probability: largest acceptable share of admissions finding no bed, 0 < p < 1.

    Returns:
        A ``NoBedEstimate`` with the beds and the resulting blocking and occupancy.

    Raises:
        CapacityInputError: negative demand, LOS ≤ 0, or probability outside (0, 1).
    """
    demand = non_negative(_ADMISSIONS, admissions_per_day)
    los = positive(_LOS, mean_los_days)
    p = fraction("maximum probability of no bed", max_probability)
    load = demand * los
    beds = servers_for_blocking(load, p)
    blocking = erlang_b_kernel(beds, load)
    return NoBedEstimate(
        beds=beds,
        offered_load=load,
        p_no_bed=blocking,
        occupancy=load * (1.0 - blocking) / beds,
    )


# --- occupancy–delay curve ------------------------------------------------------------------


def occupancy_delay_curve(
    admissions_per_day: float,
    mean_los_days: float,
    beds: Sequence[int] | None = None,
    *,
    lowest_occupancy: float = DEFAULT_LOWEST_OCCUPANCY,
) -> pd.DataFrame:
    """Occupancy, chance of no bed and wait for a bed, for a range of bed numbers.

    Shows delay exploding as occupancy approaches 100%. For each bed count c, with offered load
    a = admissions/day × mean LOS (days):

    * ``occupancy`` = a/c, the mean occupancy of the delay model (above 1 means demand exceeds
      beds);
    * ``p_no_bed`` = Erlang B(c, a), the loss-model chance that an admission finds every bed full;
    * ``p_wait`` = Erlang C(c, a), the delay-model chance that an admission waits for a bed;
    * ``mean_wait_hours`` = M/M/c mean wait for a bed, Wq = C·LOS/(c − a) days, × 24 hours.

    Where c ≤ a no steady state exists: ``p_wait`` is 1 and ``mean_wait_hours`` is infinite.

    Args:
        admissions_per_day: mean admissions per day (≥ 0).
        mean_los_days: mean length of stay in days (> 0).
        beds: whole bed counts (each ≥ 1) to tabulate, in the order given; None for every count
            from the first above the offered load up to the one where occupancy first falls to
            ``lowest_occupancy`` (at least two rows).
        lowest_occupancy: where the default range stops, 0 < x < 1 (default 0.6).

    Returns:
        DataFrame with columns ``beds`` (int), ``occupancy``, ``p_no_bed``, ``p_wait`` and
        ``mean_wait_hours`` (floats), one row per bed count.

    Raises:
        CapacityInputError: negative demand, LOS ≤ 0, empty or invalid bed counts.
    """
    demand = non_negative(_ADMISSIONS, admissions_per_day)
    los = positive(_LOS, mean_los_days)
    load = demand * los
    if beds is None:
        lowest = fraction("lowest occupancy", lowest_occupancy)
        first = math.floor(load) + 1
        last = max(first + 1, math.ceil(load / lowest))
        counts = list(range(first, last + 1))
    else:
        counts = [whole("beds", c, minimum=1) for c in beds]
        if not counts:
            raise CapacityInputError("give at least one bed count for the occupancy–delay curve")

    p_no_bed: list[float] = []
    p_wait: list[float] = []
    wait_hours: list[float] = []
    for c in counts:
        p_no_bed.append(erlang_b_kernel(c, load))
        if load < c:
            wait = erlang_c_kernel(c, load)
            p_wait.append(wait)
            wait_hours.append(wait * los / (c - load) * HOURS_PER_DAY)
        else:
            p_wait.append(1.0)
            wait_hours.append(math.inf)
    return pd.DataFrame(
        {
            "beds": np.asarray(counts, dtype=np.int64),
            "occupancy": load / np.asarray(counts, dtype=np.float64),
            "p_no_bed": np.asarray(p_no_bed, dtype=np.float64),
            "p_wait": np.asarray(p_wait, dtype=np.float64),
            "mean_wait_hours": np.asarray(wait_hours, dtype=np.float64),
        }
    )


# --- escalation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationEstimate:
    """Beds needed above the core bed base on a busy (p-th percentile) day.

    Attributes:
        core_beds: the core (funded, always-open) beds.
        percentile: the day being planned for, a fraction (0.95 = 1 day in 20 is busier).
        percentile_occupied: beds occupied on that day: the smallest x with at least
            ``percentile`` of days at or below x.
        escalation_beds: max(0, ceil(percentile_occupied) − core_beds), whole beds.
        method: ``"empirical"`` (quantile of the daily counts given) or ``"poisson"`` (Poisson
            quantile with mean ``mean_occupied``).
    """

    core_beds: int
    percentile: float
    percentile_occupied: float
    escalation_beds: int
    method: Literal["empirical", "poisson"]


def escalation_beds(
    core_beds: int,
    mean_occupied: float,
    percentile: float = 0.95,
    daily_occupied: Sequence[float] | npt.ArrayLike | None = None,
) -> EscalationEstimate:
    """Escalation (surge) beds needed above the core beds on the ``percentile`` day.

    With ``daily_occupied``, the p-th percentile is the empirical one: the smallest observed
    daily count with at least a fraction p of days at or below it (numpy's ``inverted_cdf``
    quantile, so it is always a day that happened). Without, occupancy is taken as Poisson with
    mean ``mean_occupied`` (beds occupied in an M/G/∞ system with Poisson admissions), and the
    percentile is ``scipy.stats.poisson.ppf(p, mean)``. The Poisson view ignores day-of-week,
    seasonal and discharge-pattern swings, so it understates busy days; prefer real daily counts.

    Args:
        core_beds: core beds, whole, ≥ 0.
        mean_occupied: mean beds occupied (= admissions/day × mean LOS days), ≥ 0; used by the
            Poisson path (still checked when daily counts are given).
        percentile: the day to plan for as a fraction, 0 < p < 1; policy default 0.95.
        daily_occupied: beds occupied on each of a run of days (each ≥ 0) as a flat list,
            array or Series, or None.

    Returns:
        An ``EscalationEstimate``.

    Raises:
        CapacityInputError: negative or non-whole core beds, negative mean, percentile outside
            (0, 1), or empty, non-numeric or negative daily counts.
    """
    core = whole("core beds", core_beds, minimum=0)
    mean = non_negative("mean beds occupied", mean_occupied)
    p = fraction("percentile", percentile)
    method: Literal["empirical", "poisson"]
    if daily_occupied is None:
        occupied = float(stats.poisson.ppf(p, mean))
        method = "poisson"
    else:
        days = _daily_counts(daily_occupied)
        occupied = float(np.quantile(days, p, method="inverted_cdf"))
        method = "empirical"
    return EscalationEstimate(
        core_beds=core,
        percentile=p,
        percentile_occupied=occupied,
        escalation_beds=max(0, _ceil_beds(occupied) - core),
        method=method,
    )


def _daily_counts(values: Sequence[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Daily occupied beds as a float array, checked: non-empty, numeric, finite, ≥ 0."""
    try:
        days = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CapacityInputError(
            "daily occupied beds must be numbers, one per day (got a non-number)"
        ) from exc
    if days.ndim != 1 or days.size == 0:
        raise CapacityInputError("give at least one day of occupied beds, as a flat list")
    bad = np.flatnonzero(~np.isfinite(days) | (days < 0))
    if bad.size:
        i = int(bad[0])
        raise CapacityInputError(
            f"daily occupied beds must be finite and zero or more (got {got(float(days[i]))} "
            f"on day {i + 1})"
        )
    return days


# --- Little's law ---------------------------------------------------------------------------


def implied_los_days(mean_beds_occupied: float, admissions_per_day: float) -> float:
    """Mean length of stay implied by beds occupied and admissions (Little's law, W = L/λ).

    LOS (days) = mean beds occupied ÷ admissions per day. Convert monthly admissions to per day
    first (divide by the days in the month). If the beds include patients admitted by other
    routes than those counted (e.g. G&A beds occupied against emergency admissions only), the
    result overstates the LOS of the admissions counted; it assumes a roughly steady state over
    the period.

    Args:
        mean_beds_occupied: mean beds occupied over the period (> 0).
        admissions_per_day: mean admissions per day over the same period (> 0).

    Returns:
        Mean length of stay in days.

    Raises:
        CapacityInputError: either input not positive.
    """
    occupied = positive("mean beds occupied", mean_beds_occupied)
    demand = positive(_ADMISSIONS, admissions_per_day)
    return occupied / demand


__all__ = [
    "DEFAULT_LOWEST_OCCUPANCY",
    "DEFAULT_TARGET_OCCUPANCY",
    "DEFAULT_Z",
    "HOURS_PER_DAY",
    "BedsEstimate",
    "EscalationEstimate",
    "NoBedEstimate",
    "beds_at_occupancy",
    "beds_for_no_bed_probability",
    "escalation_beds",
    "implied_los_days",
    "occupancy_delay_curve",
]
