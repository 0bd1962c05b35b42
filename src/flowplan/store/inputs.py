"""Shape stored series into the plain inputs the capacity engines take.

The engines never open the store; these adapters do, and they say where every number came from
(``basis``) so a command can print its assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowplan.data.grain import Grain
from flowplan.errors import UsageError
from flowplan.store.store import Store

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class BedInputs:
    """Demand and bed use of one organisation over a recent window.

    Attributes:
        org: organisation code.
        months: the months averaged (first and last period start).
        admissions_per_day: mean emergency admissions per day.
        beds_occupied: mean G&A beds occupied (average of the monthly sitrep averages).
        beds_available: mean G&A beds available.
        implied_los_days: Little's law: beds occupied ÷ admissions per day (days). It counts all
            bed use per emergency admission, so it overstates the stay of an emergency patient
            where elective patients share the beds.
        monthly_admissions_per_day: admissions per day in each month (for the spread of demand).
        basis: how each figure was derived.
    """

    org: str
    months: tuple[pd.Timestamp, pd.Timestamp]
    admissions_per_day: float
    beds_occupied: float
    beds_available: float
    implied_los_days: float
    monthly_admissions_per_day: list[float]
    basis: list[str] = field(default_factory=list)


def bed_inputs(store: Store, org: str, months: int = 12) -> BedInputs:
    """Emergency admissions and G&A beds of ``org`` over its latest ``months`` common months.

    Raises:
        UsageError: the organisation lacks either series, or they share no month.
    """
    admissions, _, _ = store.read_series(org, "emergency_admissions", grain=Grain.MONTH)
    occupied, _, _ = store.read_series(org, "ga_beds_occupied", grain=Grain.MONTH)
    available, _, _ = store.read_series(org, "ga_beds_available", grain=Grain.MONTH)
    frame = (
        admissions.set_index("period_start")[["value"]]
        .rename(columns={"value": "admissions"})
        .join(occupied.set_index("period_start")["value"].rename("occupied"), how="inner")
        .join(available.set_index("period_start")["value"].rename("available"), how="inner")
        .sort_index()
        .tail(months)
    )
    if frame.empty:
        raise UsageError(
            f"{org}: emergency admissions and G&A beds share no month; load both "
            "(formats trust_ae and ga_beds)"
        )
    days = frame.index.to_series().dt.days_in_month.to_numpy(dtype=float)
    per_day = frame["admissions"].to_numpy(dtype=float) / days
    admissions_per_day = float(frame["admissions"].sum() / days.sum())
    beds_occupied = float(np.average(frame["occupied"], weights=days))
    beds_available = float(np.average(frame["available"], weights=days))
    first, last = frame.index[0], frame.index[-1]
    span = f"{first:%b %Y}–{last:%b %Y} ({len(frame)} months)"
    return BedInputs(
        org=org,
        months=(first, last),
        admissions_per_day=admissions_per_day,
        beds_occupied=beds_occupied,
        beds_available=beds_available,
        implied_los_days=beds_occupied / admissions_per_day,
        monthly_admissions_per_day=[float(x) for x in per_day],
        basis=[
            f"emergency admissions per day: total over {span} ÷ days",
            f"G&A beds occupied and available: day-weighted mean of the monthly sitrep, {span}",
            "length of stay: Little's law, beds occupied ÷ emergency admissions per day",
        ],
    )


@dataclass(frozen=True)
class RttInputs:
    """The latest state and recent flows of one waiting list (weekly units).

    Attributes:
        label: what the list is ("QE1 all specialties", ...).
        as_at: period start of the latest month used for the list size.
        waiting_list: incomplete pathways at the end of that month.
        over_18: incomplete pathways waiting more than 18 weeks (None when not published).
        over_52: incomplete pathways waiting more than 52 weeks (None when not published).
        referrals_per_week: mean clock starts per week over the recent months.
        capacity_per_week: mean clock stops (completed pathways) per week over the recent months.
        removal_rate: share of the list leaving each week other than by a clock stop (validation,
            removals other than treatment), implied by the stock-and-flow balance over the same
            months: (starts − stops − change in list) ÷ mean list, per week; 0 when negative or
            when the list at the start of the window is not stored.
        basis: how each figure was derived.
    """

    label: str
    as_at: pd.Timestamp
    waiting_list: float
    over_18: float | None
    over_52: float | None
    referrals_per_week: float
    capacity_per_week: float
    removal_rate: float = 0.0
    basis: list[str] = field(default_factory=list)


def _weekly_mean(frame: pd.DataFrame) -> float:
    days = frame["period_start"].dt.days_in_month.to_numpy(dtype=float)
    return float(frame["value"].sum() / days.sum() * DAYS_PER_WEEK)


def _latest(frame: pd.DataFrame, at: pd.Timestamp) -> float | None:
    row = frame[frame["period_start"] == at]
    return float(row["value"].iloc[0]) if len(row) else None


def rtt_inputs(store: Store, stp: str, specialty: str | None = None, months: int = 12) -> RttInputs:
    """An STP's waiting list and flows; a specialty's share is taken from its waits over 18 weeks.

    Published flows (clock starts, completed, incomplete) are by STP only. For one specialty the
    STP flows and list are scaled by the specialty's share of the STP's over-18-week waiters in
    the latest month: an assumption stated in ``basis``.

    Raises:
        UsageError: the STP has no RTT flows, or the specialty no waits.
    """
    starts, _, _ = store.read_series(stp, "rtt_clock_starts", grain=Grain.MONTH)
    stops, _, _ = store.read_series(stp, "rtt_completed", grain=Grain.MONTH)
    waiting, _, _ = store.read_series(stp, "rtt_waiting_list", grain=Grain.MONTH)
    if waiting.empty:
        raise UsageError(f"{stp}: no RTT waiting list stored (load format rtt_flow_stp)")
    as_at = pd.Timestamp(waiting["period_start"].max())
    recent_starts = starts.sort_values("period_start").tail(months)
    recent_stops = stops.sort_values("period_start").tail(months)
    span = (
        f"{recent_starts['period_start'].iloc[0]:%b %Y}–"
        f"{recent_starts['period_start'].iloc[-1]:%b %Y}"
    )
    referrals = _weekly_mean(recent_starts)
    capacity = _weekly_mean(recent_stops)
    total = _latest(waiting, as_at)
    assert total is not None
    removal_rate = _implied_removal_rate(waiting, recent_starts, recent_stops)
    over_18 = _series_at(store, stp, "rtt_waiting_over_18w", "Total", as_at)
    over_52 = _series_at(store, stp, "rtt_waiting_over_52w", "Total", as_at)
    basis = [
        f"waiting list: incomplete pathways at the end of {as_at:%b %Y}",
        f"referrals and capacity per week: mean clock starts and clock stops, {span}",
        f"removal rate {removal_rate:.3%} of the list per week: clock starts − clock stops − "
        f"change in the list over {span}, ÷ mean list",
    ]
    label = f"{stp} all specialties"
    if specialty is not None:
        spec_18 = _series_at(store, stp, "rtt_waiting_over_18w", specialty, as_at)
        spec_52 = _series_at(store, stp, "rtt_waiting_over_52w", specialty, as_at)
        if spec_18 is None or not over_18:
            raise UsageError(
                f"{stp}: no over-18-week waits for specialty {specialty!r} in {as_at:%b %Y} "
                f"(see `flowplan series list --org {stp} --measure rtt_waiting_over_18w`)"
            )
        share = spec_18 / over_18
        total, referrals, capacity = total * share, referrals * share, capacity * share
        # the removal rate is a share of the list, so it carries over unscaled
        over_18, over_52 = spec_18, spec_52
        label = f"{stp} {specialty}"
        basis.append(
            f"{specialty}: STP list and flows × its share of over-18-week waiters "
            f"({share:.1%}) — an assumption, published flows are not split by specialty"
        )
    return RttInputs(
        label=label,
        as_at=as_at,
        waiting_list=total,
        over_18=over_18,
        over_52=over_52,
        referrals_per_week=referrals,
        capacity_per_week=capacity,
        removal_rate=removal_rate,
        basis=basis,
    )


def _implied_removal_rate(
    waiting: pd.DataFrame, starts: pd.DataFrame, stops: pd.DataFrame
) -> float:
    """Weekly removal rate from the balance list(end) = list(start) + starts − stops − removals."""
    months = starts["period_start"]
    if months.empty or len(stops) != len(starts):
        return 0.0
    before = months.iloc[0] - pd.DateOffset(months=1)
    start_list = _latest(waiting, pd.Timestamp(before))
    end_list = _latest(waiting, pd.Timestamp(months.iloc[-1]))
    if start_list is None or end_list is None:
        return 0.0
    weeks = float(months.dt.days_in_month.sum()) / DAYS_PER_WEEK
    removed = float(starts["value"].sum() - stops["value"].sum() - (end_list - start_list))
    mean_list = (start_list + end_list) / 2.0
    if removed <= 0 or mean_list <= 0:
        return 0.0
    return removed / weeks / mean_list


def _series_at(
    store: Store, org: str, measure: str, breakdown: str, at: pd.Timestamp
) -> float | None:
    try:
        frame, _, _ = store.read_series(org, measure, breakdown=breakdown, grain=Grain.MONTH)
    except UsageError:
        return None
    return _latest(frame, at)


@dataclass(frozen=True)
class MetricInputs:
    """Numerator and denominator series of a metric for one organisation, aligned by period."""

    org: str
    numerator: pd.DataFrame
    denominator: pd.DataFrame
    grain: Grain
    basis: list[str] = field(default_factory=list)


def metric_inputs(
    store: Store,
    org: str,
    numerator_measure: str,
    denominator_measure: str,
    *,
    numerator_breakdown: str | None = None,
    denominator_breakdown: str | None = None,
    grain: Grain | None = None,
) -> MetricInputs:
    """The stored series a metric is computed from, at the same grain.

    Raises:
        UsageError: either series is missing for the organisation.
    """
    num, used, num_bd = store.read_series(org, numerator_measure, numerator_breakdown, grain)
    den, _, den_bd = store.read_series(org, denominator_measure, denominator_breakdown, used)
    return MetricInputs(
        org=org,
        numerator=num[["period_start", "value"]],
        denominator=den[["period_start", "value"]],
        grain=used,
        basis=[
            f"numerator: {org} {numerator_measure} [{num_bd}] by {used.value}",
            f"denominator: {org} {denominator_measure} [{den_bd}] by {used.value}",
        ],
    )
