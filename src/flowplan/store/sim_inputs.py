"""A whole-system scenario for a real trust from its stored series, and how close a run came.

:func:`scenario_from_data` scales the example scenario (``examples.example_scenario``) to a trust:
the population is chosen so that type 1 ED attendances match the trust's, then admissions, G&A
beds, time to medically optimised, weekend discharging and the month profile of attendances are
set from its stored series. Every choice is returned as one line of text (the ``assumptions``);
what a trust's series cannot tell (111, ambulance, UTC and SDEC volumes, job times, pathway
capacities) keeps the example's per-head ratios.

:func:`observed_comparison` puts a run's simulated G&A occupancy and criteria-to-reside counts
next to the observed ones month by month; :func:`comparison_notes` says how close they are and why
they cannot be closer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from flowplan.data.grain import Grain
from flowplan.errors import UsageError
from flowplan.sim.examples import (
    ESCALATION_SHARE_OF_CORE,
    NON_ELECTIVE_SHARE_OF_GA_BEDS,
    example_scenario,
    implied_daily_flows,
)
from flowplan.sim.output import ReplicationOutput
from flowplan.sim.runner import RunResult
from flowplan.sim.scenario import Scenario, scenario_to_dict, validate_scenario
from flowplan.store.store import Store

__all__ = [
    "COMPARISON_CAVEATS",
    "TrustFigures",
    "comparison_notes",
    "observed_comparison",
    "scenario_from_data",
    "trust_figures",
]

REFERENCE_POPULATION = 750_000
"""Population the example is built for before scaling (its flows are linear in population)."""
EXAMPLE_TYPE1_SHARE = 260_000 / 361_000
"""Type 1 share of all-type attendances in the example (used when a trust's split is unknown)."""
WARMUP_DAYS = 35
MIN_LOS_FACTOR = 0.2
"""Smallest multiplier of the example's time to medically optimised accepted from the data."""

COMPARISON_CAVEATS: tuple[str, ...] = (
    "Observed occupancy counts every patient in a G&A bed (elective and emergency) against all "
    "G&A beds; the model has emergency flows only, in the non-elective share of the beds.",
    "The time to medically optimised was calibrated so that simulated occupancy meets the "
    "observed (Little's law, then short runs of the fast engine), so agreement on mean "
    "occupancy is by construction; the month-to-month shape is not.",
    "Simulated 'not meeting criteria to reside' counts every optimised patient still in a bed, "
    "including P0 patients waiting for the day's discharge hours; the sitrep is one daily count.",
    "Pathway 1–3 capacities keep the example's per-admission ratios: the trust's community and "
    "social care capacity is not in the store, and observed delays also have hospital-process, "
    "interface and wellbeing reasons the model does not represent.",
    "Volumes are the window's means with its month profile; day-to-day variation beyond Poisson "
    "(weather, outbreaks, surges) is not modelled.",
)


@dataclass(frozen=True)
class TrustFigures:
    """What the store says about one trust over a recent 12-month window.

    Attributes:
        org: organisation code.
        window: first and last month (period starts) of the window.
        attendances_per_day: all-type A&E attendances per day.
        type1_share: share of attendances that are type 1.
        admissions_per_day: emergency admissions per day (all routes).
        ed_conversion: type 1 admissions ÷ type 1 attendances (None when not stored).
        beds_available: mean G&A beds available.
        beds_occupied: mean G&A beds occupied.
        nctr: mean patients not meeting the criteria to reside (None when not stored).
        weekend_ratio: discharges per weekend day ÷ per weekday (None when not stored).
        month_index: attendances per day by calendar month (January first) ÷ their mean.
        delay_capacity_share: share of delayed-discharge patients whose reason starts
            "Capacity" in the window (None when not stored).
        notes: where each figure came from.
    """

    org: str
    window: tuple[pd.Timestamp, pd.Timestamp]
    attendances_per_day: float
    type1_share: float
    admissions_per_day: float
    ed_conversion: float | None
    beds_available: float
    beds_occupied: float
    nctr: float | None
    weekend_ratio: float | None
    month_index: list[float] | None
    delay_capacity_share: float | None
    notes: list[str]


def _monthly(store: Store, org: str, measure: str, breakdown: str | None = None) -> pd.Series:
    """A stored series by month (sum, mean or last by the measure's aggregation), or empty."""
    try:
        frame, _, _ = store.read_series(org, measure, breakdown, Grain.MONTH)
    except UsageError:
        return pd.Series(dtype=float)
    index = pd.DatetimeIndex(frame["period_start"])
    series: pd.Series = pd.Series(frame["value"].to_numpy(dtype=float), index=index)
    return series


def _per_day(series: pd.Series) -> pd.Series:
    days = pd.DatetimeIndex(series.index).days_in_month.to_numpy(dtype=float)
    out: pd.Series = pd.Series(series.to_numpy(dtype=float) / days, index=series.index)
    return out


def trust_figures(store: Store, org: str, months: int = 12) -> TrustFigures:
    """The trust's volumes, beds and delays over its latest ``months`` common months.

    Raises:
        UsageError: A&E attendances, emergency admissions or G&A beds are not stored, or they
            share no month.
    """
    attendances = _monthly(store, org, "ae_attendances", "all")
    admissions = _monthly(store, org, "emergency_admissions", "all")
    available = _monthly(store, org, "ga_beds_available", "all")
    occupied = _monthly(store, org, "ga_beds_occupied", "all")
    missing = [
        name
        for name, s in (
            ("ae_attendances [all]", attendances),
            ("emergency_admissions [all]", admissions),
            ("ga_beds_available [all]", available),
            ("ga_beds_occupied [all]", occupied),
        )
        if s.empty
    ]
    if missing:
        raise UsageError(
            f"{org}: needs stored {', '.join(missing)} (formats trust_ae and ga_beds; see "
            f"`flowplan series list --org {org}`)"
        )
    common = (
        attendances.index.intersection(admissions.index)
        .intersection(available.index)
        .intersection(occupied.index)
        .sort_values()
    )
    if len(common) == 0:
        raise UsageError(f"{org}: A&E attendances, admissions and G&A beds share no month")
    window = common[-months:]
    first, last = pd.Timestamp(window[0]), pd.Timestamp(window[-1])
    span = f"{first:%b %Y}–{last:%b %Y} ({len(window)} months)"
    days = window.to_series().dt.days_in_month.to_numpy(dtype=float)
    att_day = float(attendances[window].sum() / days.sum())
    adm_day = float(admissions[window].sum() / days.sum())
    avail = float(np.average(available[window], weights=days))
    occ = float(np.average(occupied[window], weights=days))
    notes = [
        f"A&E attendances (all types) {att_day:.1f} a day and emergency admissions "
        f"{adm_day:.1f} a day: totals over {span} ÷ days",
        f"G&A beds available {avail:.0f}, occupied {occ:.0f} ({occ / avail:.1%}): day-weighted "
        f"means of the monthly sitrep over {span}",
    ]

    type1 = _monthly(store, org, "ae_attendances", "1")
    other = _monthly(store, org, "ae_attendances", "other")
    both = type1.index.intersection(other.index).sort_values()[-months:]
    if len(both):
        share = float(type1[both].sum() / (type1[both].sum() + other[both].sum()))
        notes.append(
            f"type 1 share of attendances {share:.1%}: type 1 ÷ (type 1 + other types), "
            f"{both[0]:%b %Y}–{both[-1]:%b %Y} (the latest months split by type)"
        )
    else:
        share = EXAMPLE_TYPE1_SHARE
        notes.append(
            f"type 1 share of attendances {share:.1%}: the example's national ratio (the store "
            "has no split by A&E type for this trust) — an assumption"
        )
    t1_adm = _monthly(store, org, "emergency_admissions", "1")
    conv_months = type1.index.intersection(t1_adm.index).sort_values()[-months:]
    conversion: float | None = None
    if len(conv_months) and type1[conv_months].sum() > 0:
        conversion = float(t1_adm[conv_months].sum() / type1[conv_months].sum())
        notes.append(
            f"type 1 conversion {conversion:.1%}: admissions via type 1 A&E ÷ type 1 attendances, "
            f"{conv_months[0]:%b %Y}–{conv_months[-1]:%b %Y}"
        )

    nctr_series = _monthly(store, org, "not_meeting_criteria_to_reside", "all")
    nctr_months = nctr_series.index.intersection(window)
    nctr: float | None = None
    if len(nctr_months):
        w = nctr_months.to_series().dt.days_in_month.to_numpy(dtype=float)
        nctr = float(np.average(nctr_series[nctr_months], weights=w))
        notes.append(
            f"patients not meeting the criteria to reside {nctr:.0f} a day: mean of the daily "
            f"sitrep over {len(nctr_months)} month(s) of the window"
        )

    weekend_ratio = _weekend_ratio(store, org, first, last)
    if weekend_ratio is not None:
        notes.append(
            f"discharges on a weekend day are {weekend_ratio:.0%} of a weekday's: daily "
            f"discharges sitrep over {span}"
        )
    month_index: list[float] | None = None
    if len(window) == 12:
        per_day = _per_day(attendances[window])
        by_month = {pd.Timestamp(cast(Any, ts)).month: float(v) for ts, v in per_day.items()}
        mean = float(np.mean(list(by_month.values())))
        if mean > 0:
            month_index = [by_month[m] / mean for m in range(1, 13)]
    delay_share = _delay_capacity_share(store, org, first, last)
    return TrustFigures(
        org=org,
        window=(first, last),
        attendances_per_day=att_day,
        type1_share=share,
        admissions_per_day=adm_day,
        ed_conversion=conversion,
        beds_available=avail,
        beds_occupied=occ,
        nctr=nctr,
        weekend_ratio=weekend_ratio,
        month_index=month_index,
        delay_capacity_share=delay_share,
        notes=notes,
    )


def _weekend_ratio(store: Store, org: str, first: pd.Timestamp, last: pd.Timestamp) -> float | None:
    try:
        frame, _, _ = store.read_series(org, "discharges", "all", Grain.DAY)
    except UsageError:
        return None
    end = last + pd.offsets.MonthEnd(0)
    frame = frame[(frame["period_start"] >= first) & (frame["period_start"] <= end)]
    if len(frame) < 28:
        return None
    weekend = frame["period_start"].dt.dayofweek >= 5
    weekday_mean = float(frame.loc[~weekend, "value"].mean())
    if weekday_mean <= 0:
        return None
    return float(frame.loc[weekend, "value"].mean()) / weekday_mean


def _delay_capacity_share(
    store: Store, org: str, first: pd.Timestamp, last: pd.Timestamp
) -> float | None:
    infos = store.series_list(org, "delayed_discharges")
    total = capacity = 0.0
    for info in infos:
        frame, _, _ = store.read_series(org, "delayed_discharges", info.breakdown, Grain.MONTH)
        frame = frame[(frame["period_start"] >= first) & (frame["period_start"] <= last)]
        value = float(frame["value"].sum())
        total += value
        if info.breakdown.strip().lower().startswith("capacity"):
            capacity += value
    return capacity / total if total > 0 else None


def _clamp(x: float, low: float, high: float) -> float:
    return min(high, max(low, x))


def _mean_time_to_optimised_days(s: Scenario) -> float:
    assert s.wards is not None
    m, los, mult = s.wards.pathway_mix, s.wards.los, s.wards.los_multiplier
    hours = (
        m.p0 * los.p0.mean() * mult.p0
        + m.p1 * los.p1.mean() * mult.p1
        + m.p2 * los.p2.mean() * mult.p2
        + m.p3 * los.p3.mean() * mult.p3
    )
    return hours / 24.0


def scenario_from_data(
    store: Store,
    org: str,
    months: int = 12,
    warmup_days: int = WARMUP_DAYS,
    *,
    calibrate: bool = True,
) -> tuple[Scenario, list[str]]:
    """A whole-system scenario for ``org`` scaled from the example to its stored series.

    The measured run covers the trust's latest common window of ``months`` months (so a run can
    be compared with what was observed), after ``warmup_days`` warm-up days.

    Steps (each printed as an assumption): population from type 1 attendances; ED conversion
    from type 1 admissions when stored; direct admissions making up the rest of emergency
    admissions; core G&A beds = the example's non-elective share of beds available; time to
    medically optimised from Little's law on the non-elective share of occupied beds less the
    observed delayed patients; weekend discharge factor from daily discharges; month profile of
    walk-ins from monthly attendances.

    Args:
        store: the store to read.
        org: trust code (e.g. ``RXN``).
        months: months in the window.
        warmup_days: warm-up days before the window.
        calibrate: rescale the time to medically optimised with short runs of the fast engine
            so that simulated occupancy meets the observed (see :func:`_calibrate_los`).

    Returns:
        The validated scenario and the assumptions, one line each.

    Raises:
        UsageError: the series the scenario needs are not stored.
    """
    fig = trust_figures(store, org, months)
    assumptions = list(fig.notes)
    type1_day = fig.attendances_per_day * fig.type1_share
    reference = implied_daily_flows(example_scenario(REFERENCE_POPULATION))
    population = max(1_000, round(REFERENCE_POPULATION * type1_day / reference["ed_attendances"]))
    assumptions.append(
        f"population {population:,}: the example's population whose type 1 attendances match "
        f"the trust's {type1_day:.1f} a day; 111, ambulance, UTC and SDEC volumes, staffing and "
        "job times keep the example's ratios for that population (not in a trust's series)"
    )
    data = scenario_to_dict(example_scenario(population))
    data["name"] = f"{org.lower()}_from_data"
    first, last = fig.window
    start = first.date()
    end = (last + pd.offsets.MonthEnd(0)).date()
    data["description"] = (
        f"{org}: example structure scaled to the trust's series, {start:%b %Y}–{end:%b %Y}"
    )
    data["start_date"] = (start - timedelta(days=warmup_days)).isoformat()
    days = (end - start).days + 1
    data["run"]["days"] = days
    data["run"]["warmup_days"] = warmup_days
    assumptions.append(
        f"run: {warmup_days} warm-up days, then {days} measured days {start}–{end} (the window)"
    )

    if fig.month_index is not None:
        data["demand"]["ed_walk_in"]["month"] = [round(x, 6) for x in fig.month_index]
        _renormalise_mean(data["demand"]["ed_walk_in"]["month"])
        assumptions.append(
            "walk-in month profile: the trust's attendances a day by calendar month ÷ their mean"
        )
    if fig.ed_conversion is not None and 0.05 <= fig.ed_conversion <= 0.8:
        data["ed"]["admit"] = round(fig.ed_conversion, 4)
    else:
        assumptions.append(
            f"ED conversion {data['ed']['admit']:.0%}: the example's (type 1 admissions not "
            "stored for the trust, or implausible)"
        )
    # direct admissions make up the rest of the trust's emergency admissions
    data["demand"]["direct_admissions"]["daily_mean"] = 0.0
    without_direct = implied_daily_flows(validate_scenario(data))["admissions"]
    direct = fig.admissions_per_day - without_direct
    if direct >= 0:
        for _ in range(3):  # direct admissions are readmitted too: settle the feedback
            data["demand"]["direct_admissions"]["daily_mean"] = round(direct, 4)
            total = implied_daily_flows(validate_scenario(data))["admissions"]
            direct = max(0.0, direct + fig.admissions_per_day - total)
        data["demand"]["direct_admissions"]["daily_mean"] = round(direct, 4)
        assumptions.append(
            f"direct admissions {direct:.1f} a day: emergency admissions less those via ED and "
            f"SDEC ({without_direct:.1f} a day, incl. readmissions) — GP and other routes"
        )
    else:
        assumptions.append(
            f"direct admissions 0: admissions via ED and SDEC ({without_direct:.1f} a day) already "
            f"exceed the trust's emergency admissions ({fig.admissions_per_day:.1f})"
        )

    share = NON_ELECTIVE_SHARE_OF_GA_BEDS
    core = max(1, round(fig.beds_available * share))
    data["wards"]["core_beds"] = core
    data["wards"]["escalation_beds"] = max(1, round(core * ESCALATION_SHARE_OF_CORE))
    assumptions.append(
        f"core G&A beds {core}: {share:.0%} (non-elective share, an assumption) of "
        f"{fig.beds_available:.0f} available; escalation beds {ESCALATION_SHARE_OF_CORE:.0%} more"
    )
    scenario = validate_scenario(data)
    flows = implied_daily_flows(scenario)
    delayed = fig.nctr if fig.nctr is not None else 0.0
    target_days = (fig.beds_occupied * share - delayed) / max(flows["admissions"], 1e-9)
    example_days = _mean_time_to_optimised_days(scenario)
    factor = _clamp(target_days / example_days, MIN_LOS_FACTOR, 5.0)
    data["wards"]["los_multiplier"] = {f"p{k}": round(factor, 4) for k in range(4)}
    assumptions.append(
        f"time to medically optimised × {factor:.3f} (mean {example_days * factor:.2f} days): "
        f"Little's law, ({share:.0%} of {fig.beds_occupied:.0f} occupied beds − {delayed:.0f} "
        f"not meeting the criteria to reside) ÷ {flows['admissions']:.1f} admissions a day"
        + (" (clamped)" if factor != target_days / example_days else "")
    )
    if fig.weekend_ratio is not None:
        wf = round(_clamp(fig.weekend_ratio, 0.05, 1.0), 3)
        data["discharge"]["weekend_factor"] = wf
        assumptions.append(f"weekend discharge factor {wf:g}: from the daily discharges")
    else:
        assumptions.append(
            f"weekend discharge factor {data['discharge']['weekend_factor']:g}: the example's"
        )
    ratio = flows["admissions"] / reference["admissions"] * REFERENCE_POPULATION / population
    for key in ("p1_starts_per_day", "p3_placements_per_day"):
        data["discharge"][key] = round(data["discharge"][key] * ratio, 4)
    data["discharge"]["p2_beds"] = max(1, round(data["discharge"]["p2_beds"] * ratio))
    assumptions.append(
        "P1 starts, P2 beds and P3 placements: the example's per-admission capacity (community "
        "and social care capacity is not in the store)"
    )
    if fig.delay_capacity_share is not None:
        assumptions.append(
            f"{fig.delay_capacity_share:.0%} of the trust's delayed-discharge patients in the "
            "window were delayed for capacity reasons (the only delays the model represents)"
        )
    scenario = validate_scenario(data)
    if calibrate:
        scenario, line = _calibrate_los(scenario, fig.beds_occupied * share)
        assumptions.append(line)
    return scenario, assumptions


CALIBRATION_DAYS = 182
"""Measured days of each calibration run (after the scenario's warm-up)."""
CALIBRATION_ROUNDS = 2
CALIBRATION_SEED = 20_150_401


def _mean_occupied(output: ReplicationOutput, core_beds: int) -> tuple[float, float]:
    """Mean occupied G&A beds and mean patients not meeting the criteria to reside."""
    kpis = output.as_dict()
    occupied = kpis["ward.occupancy_mean_pct"] / 100.0 * core_beds + kpis[
        "ward.escalation_beds_used_mean"
    ] * (1.0 - kpis["ward.occupancy_mean_pct"] / 100.0)
    return occupied, kpis["ward.nctr_mean"]


def _calibrate_los(scenario: Scenario, target_occupied: float) -> tuple[Scenario, str]:
    """Scale the time to medically optimised so the simulated mean occupancy meets the target.

    Little's law sets the first guess from the observed occupied beds less the observed
    delayed patients, but the model only produces capacity delays (and P0 waits for discharge
    hours), so its delayed count differs from the sitrep's. Each round simulates one
    replication of :data:`CALIBRATION_DAYS` days with the fast engine and rescales the active
    (not delayed) part of the bed days: factor × (target − simulated delayed) ÷ (simulated
    occupied − simulated delayed).
    """
    from flowplan.sim.compiled import compile_scenario, replication_generators
    from flowplan.sim.fast import run_replication

    assert scenario.wards is not None
    data = scenario_to_dict(scenario)
    factor = float(data["wards"]["los_multiplier"]["p0"])
    occupied = delayed = math.nan
    for _ in range(CALIBRATION_ROUNDS):
        compiled = compile_scenario(
            validate_scenario(data), days=CALIBRATION_DAYS, warmup_days=scenario.run.warmup_days
        )
        rngs = replication_generators(CALIBRATION_SEED, 1, compiled.n_queues)[0]
        occupied, delayed = _mean_occupied(
            run_replication(compiled, rngs), scenario.wards.core_beds
        )
        active = occupied - delayed
        if active <= 0 or target_occupied <= delayed:
            break
        factor = _clamp(factor * (target_occupied - delayed) / active, MIN_LOS_FACTOR, 5.0)
        data["wards"]["los_multiplier"] = {f"p{k}": round(factor, 4) for k in range(4)}
    line = (
        f"time to medically optimised calibrated to × {factor:.3f}: {CALIBRATION_ROUNDS} "
        f"{CALIBRATION_DAYS}-day runs of the fast engine so that simulated occupied beds meet the "
        f"non-elective share of observed ({target_occupied:.0f}); the model's own delayed "
        f"patients were {delayed:.0f} before the last adjustment (capacity delays only)"
    )
    return validate_scenario(data), line


def _renormalise_mean(values: list[float]) -> None:
    """Make 12 rounded multipliers average exactly 1 (rounding may leave 1e-7 off)."""
    excess = sum(values) - len(values)
    values[-1] = values[-1] - excess


# --- observed vs simulated -------------------------------------------------------------------


def observed_comparison(store: Store, org: str, run: RunResult) -> pd.DataFrame:
    """Simulated G&A occupancy and NCTR next to the observed ones, by month and overall.

    Months are those of the run's measured days that the store also has. Simulated values are
    means over the month's days and the replications; ``sim_low``/``sim_high`` are the 2.5th and
    97.5th percentiles of the replications' monthly means.

    Args:
        store: the store with the trust's series.
        org: trust code.
        run: a run of (typically) :func:`scenario_from_data`'s scenario.

    Returns:
        Rows ``measure`` (``occupancy_pct``, ``nctr``), ``month`` (``YYYY-MM``, or ``all``),
        ``observed``, ``simulated``, ``sim_low``, ``sim_high``, ``difference`` (simulated −
        observed), ``pct_difference`` (100 × difference ÷ observed). Empty when no month overlaps.
    """
    occupied = _monthly(store, org, "ga_beds_occupied", "all")
    available = _monthly(store, org, "ga_beds_available", "all")
    observed: dict[str, pd.Series] = {}
    if not occupied.empty and not available.empty:
        both = occupied.index.intersection(available.index)
        observed["occupancy_pct"] = 100.0 * occupied[both] / available[both]
    nctr = _monthly(store, org, "not_meeting_criteria_to_reside", "all")
    if not nctr.empty:
        observed["nctr"] = nctr
    kpi_of = {"occupancy_pct": "ward.occupancy_mean_pct", "nctr": "ward.nctr_mean"}
    daily = run.daily.copy()
    daily["month"] = pd.to_datetime(daily["date"]).dt.to_period("M").dt.to_timestamp()
    rows: list[dict[str, Any]] = []
    for measure, obs in observed.items():
        kpi = kpi_of[measure]
        per_rep = daily.groupby(["month", "replication"])[kpi].mean().unstack("replication")
        months = per_rep.index.intersection(obs.index).sort_values()
        if len(months) == 0:
            continue
        measure_rows = []
        for month in months:
            reps = per_rep.loc[month].to_numpy(dtype=np.float64)
            measure_rows.append(_row(measure, f"{month:%Y-%m}", float(obs[month]), reps))
        weights = months.to_series().dt.days_in_month.to_numpy(dtype=float)
        all_obs = float(np.average(obs[months].to_numpy(dtype=float), weights=weights))
        all_reps = np.average(
            per_rep.loc[months].to_numpy(dtype=np.float64), axis=0, weights=weights
        )
        rows.append(_row(measure, "all", all_obs, all_reps))
        rows.extend(measure_rows)
    return pd.DataFrame(
        rows,
        columns=[
            "measure",
            "month",
            "observed",
            "simulated",
            "sim_low",
            "sim_high",
            "difference",
            "pct_difference",
        ],
    )


def _row(measure: str, month: str, observed: float, reps: np.ndarray[Any, Any]) -> dict[str, Any]:
    finite = reps[np.isfinite(reps)]
    sim = float(finite.mean()) if finite.size else math.nan
    low = float(np.percentile(finite, 2.5)) if finite.size else math.nan
    high = float(np.percentile(finite, 97.5)) if finite.size else math.nan
    diff = sim - observed
    return {
        "measure": measure,
        "month": month,
        "observed": observed,
        "simulated": sim,
        "sim_low": low,
        "sim_high": high,
        "difference": diff,
        "pct_difference": 100.0 * diff / observed if observed else math.nan,
    }


def comparison_notes(comparison: pd.DataFrame) -> list[str]:
    """How close the run came (overall rows), then :data:`COMPARISON_CAVEATS`."""
    labels = {"occupancy_pct": "G&A occupancy (%)", "nctr": "not meeting criteria to reside"}
    out = []
    overall = comparison[comparison["month"] == "all"]
    for row in overall.itertuples(index=False):
        months = int(
            ((comparison["measure"] == row.measure) & (comparison["month"] != "all")).sum()
        )
        inside = comparison[
            (comparison["measure"] == row.measure)
            & (comparison["month"] != "all")
            & (comparison["observed"] >= comparison["sim_low"])
            & (comparison["observed"] <= comparison["sim_high"])
        ]
        out.append(
            f"{labels.get(str(row.measure), str(row.measure))}: simulated {row.simulated:.1f} vs "
            f"observed {row.observed:.1f} ({row.pct_difference:+.1f} %); the observed month lies "
            f"within the replications' 95 % range in {len(inside)} of {months} months"
        )
    return [*out, *COMPARISON_CAVEATS]


def window_dates(fig: TrustFigures) -> tuple[date, date]:
    """First and last day of a trust's window."""
    first, last = fig.window
    return first.date(), (last + pd.offsets.MonthEnd(0)).date()
