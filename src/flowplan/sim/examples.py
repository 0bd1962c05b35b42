"""Ready-made scenarios: a whole-system example for a population, and a single M/M/c queue.

The example's ratios and their sources (and which numbers are assumptions) are listed in
``docs/simulation.md`` § "Example scenario". Volumes and capacities scale linearly with the
population; staff rosters are sized from the demand they serve at a target utilisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Literal

from flowplan.sim.distributions import Exponential, Gamma, Lognormal
from flowplan.sim.scenario import (
    Ambulance,
    AmbulanceDispositions,
    Demand,
    Discharge,
    Ed,
    FrontDoor,
    Nhs111,
    Nhs111Dispositions,
    Override,
    PathwayDistributions,
    PathwayMix,
    PathwayProbabilities,
    Queue,
    Routing,
    RunSettings,
    Scenario,
    Scheme,
    Sdec,
    Stream,
    Utc,
    Wards,
)

EXAMPLE_START = date(2025, 4, 7)  # a Monday, first week of NHS financial year 2025/26
DAYS_PER_YEAR = 365.0

# Annual volumes per 1,000 population (see docs/simulation.md for sources and assumptions).
NHS111_CALLS_PER_1000 = 380.0
AMBULANCE_999_INCIDENTS_PER_1000 = 110.0
ED_WALK_INS_PER_1000 = 279.0  # tuned so that type 1 ED attendances ≈ 347 per 1,000 (260k/750k)
DIRECT_REFERRALS_PER_1000 = 20.0
DIRECT_ADMISSIONS_PER_1000 = 5.0

# Beds and places per 1,000 population.
GA_BEDS_PER_1000 = 2.2
NON_ELECTIVE_SHARE_OF_GA_BEDS = 0.71  # tuned: mean G&A occupancy ≈ 92 % (docs/simulation.md §10)
ESCALATION_SHARE_OF_CORE = 0.03
P2_BEDS_PER_1000 = 0.373
P1_STARTS_PER_DAY_PER_1000 = 0.0493
P3_PLACEMENTS_PER_DAY_PER_1000 = 0.0124
ED_CUBICLES_PER_100K = 14.0
SDEC_CHAIRS_PER_100K = 4.0

EXAMPLE_SCHEMES: tuple[str, ...] = (
    "urgent_community_response",
    "discharge_to_assess",
    "seven_day_discharge",
    "front_door_streaming",
)


def _norm_sum(weights: Sequence[float]) -> list[float]:
    total = math.fsum(weights)
    return [w / total for w in weights]


def _norm_mean(weights: Sequence[float]) -> list[float]:
    mean = math.fsum(weights) / len(weights)
    return [w / mean for w in weights]


# hour-of-day shares (00:00 first)
ED_HOURS = _norm_sum(
    [2.6, 2.1, 1.8, 1.5, 1.4, 1.5, 2.1, 3.3, 5.0, 6.3, 6.6, 6.5]
    + [6.2, 6.0, 5.8, 5.7, 5.6, 5.5, 5.4, 5.1, 4.6, 4.1, 3.6, 3.0]
)
NHS111_HOURS = _norm_sum(
    [3.0, 2.4, 1.9, 1.5, 1.3, 1.3, 1.7, 2.6, 4.4, 5.3, 5.2, 5.0]
    + [4.8, 4.6, 4.5, 4.5, 4.6, 5.2, 6.0, 6.2, 5.9, 5.2, 4.4, 3.6]
)
AMBULANCE_HOURS = _norm_sum(
    [3.2, 2.8, 2.5, 2.2, 2.0, 2.0, 2.3, 3.2, 4.3, 5.0, 5.3, 5.3]
    + [5.2, 5.1, 5.0, 4.9, 4.9, 4.9, 4.9, 4.8, 4.6, 4.3, 4.0, 3.6]
)
GP_HOURS = _norm_sum([0.0] * 8 + [4, 8, 10, 11, 11, 11, 10, 10, 9, 8, 5, 3] + [0.0] * 4)
DISCHARGE_HOURS = _norm_sum([0.0] * 8 + [1, 2, 4, 6, 8, 10, 12, 13, 13, 12, 9, 6, 3, 1, 0, 0])

# day-of-week multipliers (Monday first) and month multipliers (January first)
ED_DOW = _norm_mean([1.12, 1.03, 1.00, 0.99, 1.00, 0.92, 0.94])
NHS111_DOW = _norm_mean([0.90, 0.85, 0.85, 0.85, 0.90, 1.35, 1.30])
AMBULANCE_DOW = _norm_mean([1.02, 0.99, 0.98, 0.98, 1.00, 1.02, 1.01])
GP_DOW = _norm_mean([1.20, 1.15, 1.10, 1.10, 1.10, 0.70, 0.65])
ED_MONTH = _norm_mean([0.95, 0.94, 1.00, 1.00, 1.04, 1.04, 1.05, 1.00, 1.00, 1.00, 0.99, 0.99])
NHS111_MONTH = _norm_mean([1.05, 0.95, 0.98, 1.0, 1.0, 0.95, 0.95, 0.95, 0.97, 1.0, 1.05, 1.15])
AMBULANCE_MONTH = _norm_mean([1.06, 1.0, 1.0, 0.97, 0.98, 0.98, 1.0, 0.96, 0.96, 1.0, 1.02, 1.07])

HOUR = 1.0
DAY = 24.0


def _staff(
    daily: float, shares: Sequence[float], service_hours: float, utilisation: float, lag: int = 0
) -> list[int]:
    """Servers by hour: ⌈arrivals in the hour × service hours ÷ target utilisation⌉, at least 1."""
    out = []
    for h in range(24):
        load = daily * shares[(h - lag) % 24] * service_hours / utilisation
        out.append(max(1, math.ceil(load)))
    return out


def example_scenario(population: int = 750_000, schemes: Sequence[str] = ()) -> Scenario:
    """A plausible English health and care system for ``population`` people.

    About 260,000 type 1 ED attendances a year for 750,000 people, G&A occupancy aimed at
    90–95 % (exit block present but stable). Assumptions are marked in ``docs/simulation.md``.

    Args:
        population: resident population served; volumes and capacities scale linearly.
        schemes: names from :data:`EXAMPLE_SCHEMES` to add, each in force from day 0.

    Returns:
        The validated scenario.
    """
    if population <= 0:
        raise ValueError("population must be > 0")
    k = population / 1000.0

    def per_day(per_1000_year: float) -> float:
        return per_1000_year * k / DAYS_PER_YEAR

    calls_111 = per_day(NHS111_CALLS_PER_1000)
    calls_999 = per_day(AMBULANCE_999_INCIDENTS_PER_1000)
    walk_in = per_day(ED_WALK_INS_PER_1000)
    referrals = per_day(DIRECT_REFERRALS_PER_1000)

    nhs111_service = Lognormal(mean=10 / 60, cv=0.6)
    dispositions = Nhs111Dispositions(
        self_care=0.14, primary_care=0.55, utc=0.09, ed=0.11, ambulance=0.11
    )
    amb_disp = AmbulanceDispositions(hear_and_treat=0.14, see_and_treat=0.31, see_and_convey=0.55)
    to_scene, on_scene = Lognormal(mean=0.30, cv=0.7), Gamma(mean=0.60, cv=0.5)
    to_hospital, handover = Lognormal(mean=0.33, cv=0.5), Gamma(mean=0.25, cv=0.5)
    turnaround = Gamma(mean=0.25, cv=0.5)
    dispatched = amb_disp.see_and_treat + amb_disp.see_and_convey
    job_hours = (
        to_scene.mean()
        + on_scene.mean()
        + amb_disp.see_and_convey
        / dispatched
        * (to_hospital.mean() + handover.mean() + turnaround.mean() + 0.25)
    )
    incidents = calls_999 + calls_111 * dispositions.ambulance

    walk_in_routing = Routing(ed=0.72, utc=0.24, sdec=0.04)
    ed_daily = 260_000 / 750_000 * k * 1000 / DAYS_PER_YEAR  # sizing only
    assessment, treatment = Lognormal(mean=0.20, cv=0.6), Lognormal(mean=1.0, cv=0.9)
    utc_service = Lognormal(mean=0.45, cv=0.7)
    utc_daily = walk_in * walk_in_routing.utc + calls_111 * dispositions.utc * 0.9

    scenario = Scenario(
        name=f"example_{population}",
        description=(
            f"Illustrative English UEC system for a population of {population:,}: ratios and "
            "sources in docs/simulation.md (assumptions marked there)."
        ),
        start_date=EXAMPLE_START,
        run=RunSettings(days=365, warmup_days=35, replications=10, seed=20250407),
        demand=Demand(
            calls_111=Stream(
                daily_mean=calls_111, dow=NHS111_DOW, month=NHS111_MONTH, hourly=NHS111_HOURS
            ),
            calls_999=Stream(
                daily_mean=calls_999,
                dow=AMBULANCE_DOW,
                month=AMBULANCE_MONTH,
                hourly=AMBULANCE_HOURS,
            ),
            ed_walk_in=Stream(daily_mean=walk_in, dow=ED_DOW, month=ED_MONTH, hourly=ED_HOURS),
            direct_referral=Stream(daily_mean=referrals, dow=GP_DOW, hourly=GP_HOURS),
            direct_admissions=Stream(
                daily_mean=per_day(DIRECT_ADMISSIONS_PER_1000), dow=GP_DOW, hourly=GP_HOURS
            ),
        ),
        nhs111=Nhs111(
            handlers=_staff(calls_111 * 1.1, NHS111_HOURS, nhs111_service.mean(), 0.8),
            service_time=nhs111_service,
            patience=Exponential(mean=0.5),
            dispositions=dispositions,
            travel=Lognormal(mean=1.5, cv=0.8),
        ),
        ambulance=Ambulance(
            vehicles=_staff(incidents * dispatched, AMBULANCE_HOURS, job_hours, 0.7),
            dispositions=amb_disp,
            travel_to_scene=to_scene,
            on_scene=on_scene,
            travel_to_hospital=to_hospital,
            handover_time=handover,
            turnaround=turnaround,
            handover_target_minutes=15.0,
        ),
        front_door=FrontDoor(
            walk_in=walk_in_routing,
            nhs111_ed=Routing(ed=0.85, utc=0.10, sdec=0.05),
            nhs111_utc=Routing(ed=0.10, utc=0.90),
            direct_referral=Routing(utc=0.35, sdec=0.65),
        ),
        utc=Utc(
            clinicians=_staff(utc_daily, ED_HOURS, utc_service.mean(), 0.8),
            service_time=utc_service,
            to_ed=0.08,
        ),
        sdec=Sdec(
            chairs=round(SDEC_CHAIRS_PER_100K * population / 100_000),
            service_time=Lognormal(mean=4.0, cv=0.5),
            admit=0.25,
            open_hour=8,
            close_hour=20,
        ),
        ed=Ed(
            cubicles=round(ED_CUBICLES_PER_100K * population / 100_000),
            triage_clinicians=_staff(ed_daily, ED_HOURS, assessment.mean(), 0.7),
            clinicians=_staff(ed_daily, ED_HOURS, treatment.mean(), 0.85, lag=1),
            assessment_time=assessment,
            treatment_time=treatment,
            admit=0.29,
        ),
        wards=Wards(
            core_beds=round(GA_BEDS_PER_1000 * NON_ELECTIVE_SHARE_OF_GA_BEDS * k),
            escalation_beds=round(
                GA_BEDS_PER_1000 * NON_ELECTIVE_SHARE_OF_GA_BEDS * k * ESCALATION_SHARE_OF_CORE
            ),
            escalation_trigger=0.98,
            escalation_close=0.93,
            pathway_mix=PathwayMix(p0=0.80, p1=0.12, p2=0.05, p3=0.03),
            los=PathwayDistributions(
                p0=Lognormal(mean=3.5 * DAY, cv=1.1),
                p1=Lognormal(mean=7.5 * DAY, cv=0.9),
                p2=Lognormal(mean=9.0 * DAY, cv=0.9),
                p3=Lognormal(mean=11.0 * DAY, cv=0.9),
            ),
            readmission=PathwayProbabilities(p0=0.12, p1=0.15, p2=0.14, p3=0.10),
            readmission_window_days=30.0,
        ),
        discharge=Discharge(
            profile=DISCHARGE_HOURS,
            weekend_factor=0.5,
            p1_starts_per_day=P1_STARTS_PER_DAY_PER_1000 * k,
            p2_beds=round(P2_BEDS_PER_1000 * k),
            p2_los=Lognormal(mean=21.0 * DAY, cv=0.6),
            p3_placements_per_day=P3_PLACEMENTS_PER_DAY_PER_1000 * k,
        ),
    )
    if schemes:
        scenario = scenario.model_copy(
            update={"schemes": [example_scheme(name, scenario) for name in schemes]}
        )
        scenario = Scenario.model_validate(scenario.model_dump())
    return scenario


def example_scheme(name: str, scenario: Scenario, start: date | None = None) -> Scheme:
    """One of :data:`EXAMPLE_SCHEMES`, built against ``scenario``'s parameters.

    * ``urgent_community_response``: 15 % of conveyances avoided (become see and treat).
    * ``discharge_to_assess``: P1 starts per day × 1.25.
    * ``seven_day_discharge``: ``weekend_factor`` = 1.
    * ``front_door_streaming``: 10 percentage points of walk-ins moved from ED to UTC.
    """
    start = start or scenario.start_date
    if name == "urgent_community_response":
        if scenario.ambulance is None:
            raise ValueError("the scenario has no ambulance section")
        d = scenario.ambulance.dispositions
        avoided = d.see_and_convey * 0.15
        value = {
            "hear_and_treat": d.hear_and_treat,
            "see_and_treat": d.see_and_treat + avoided,
            "see_and_convey": d.see_and_convey - avoided,
        }
        overrides = [Override(path="ambulance.dispositions", value=value)]
        text = "urgent community response avoids 15% of conveyances"
    elif name == "discharge_to_assess":
        overrides = [Override(path="discharge.p1_starts_per_day", multiply=1.25)]
        text = "discharge to assess: 25% more P1 starts per day"
    elif name == "seven_day_discharge":
        overrides = [Override(path="discharge.weekend_factor", value=1.0)]
        text = "seven-day discharge: weekend capacity as weekdays"
    elif name == "front_door_streaming":
        if scenario.front_door is None:
            raise ValueError("the scenario has no front_door section")
        r = scenario.front_door.walk_in
        moved = min(0.10, r.ed)
        value = {"ed": r.ed - moved, "utc": r.utc + moved, "sdec": r.sdec}
        overrides = [Override(path="front_door.walk_in", value=value)]
        text = "front-door streaming: 10 points of walk-ins from ED to UTC"
    else:
        raise ValueError(f"unknown example scheme {name!r}; choose from {EXAMPLE_SCHEMES}")
    return Scheme(name=name, start=start, description=text, overrides=overrides)


def queue_scenario(
    arrival_rate: float,
    service_mean: float,
    servers: int,
    unit: Literal["minute", "hour", "day"] = "hour",
) -> Scenario:
    """A single M/M/c queue (resource and KPI prefix ``queue``).

    Args:
        arrival_rate: arrivals per ``unit``.
        service_mean: mean (exponential) service time in ``unit``.
        servers: number of servers.
        unit: time unit of the two arguments; the scenario itself is in hours.

    Returns:
        The validated scenario (30 measured days after 2 warm-up days by default).
    """
    hours = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}[unit]
    return Scenario(
        name="queue",
        description=f"M/M/{servers} queue",
        start_date=date(2025, 1, 6),
        run=RunSettings(days=30, warmup_days=2, replications=10, seed=20250106),
        queues=[
            Queue(
                name="queue",
                arrival_rate=arrival_rate / hours,
                service=Exponential(mean=service_mean * hours),
                servers=servers,
            )
        ],
    )


def implied_daily_flows(scenario: Scenario) -> dict[str, float]:
    """Mean daily flows implied by a scenario's volumes and probabilities (no simulation).

    A steady-state flow balance with every 111 call answered, base parameters (no schemes or
    surges), CSV volumes ignored, SDEC closed-hour redirection by each source's hourly profile
    (111 travel ignored) and readmissions fed back to walk-ins to convergence.

    Returns:
        Arrivals per day: ``nhs111_calls``, ``ambulance_incidents``, ``ambulance_conveyances``,
        ``ed_attendances``, ``utc_attendances``, ``sdec_attendances``, ``all_type_attendances``,
        ``admissions``, ``readmissions``, and ``occupied_beds_before_delays`` (admissions × mean
        time to medically optimised, in beds).
    """
    s = scenario
    d = s.demand

    def vol(stream: Stream | None) -> float:
        return 0.0 if stream is None else stream.daily_mean * stream.volume_factor

    def closed_share(stream: Stream | None) -> float:
        if s.sdec is None or stream is None:
            return 0.0
        return math.fsum(
            share
            for h, share in enumerate(stream.hourly)
            if not s.sdec.open_hour <= h < s.sdec.close_hour
        )

    calls = vol(d.calls_111)
    disp = s.nhs111.dispositions if s.nhs111 else Nhs111Dispositions(self_care=1.0)
    amb = s.ambulance.dispositions if s.ambulance else AmbulanceDispositions(hear_and_treat=1.0)
    incidents = vol(d.calls_999) + calls * disp.ambulance
    conveyed = incidents * amb.see_and_convey
    fd = s.front_door or FrontDoor()
    mix_readmit = 0.0
    mean_los = 0.0
    if s.wards is not None:
        m, r, los = s.wards.pathway_mix, s.wards.readmission, s.wards.los
        mix_readmit = m.p0 * r.p0 + m.p1 * r.p1 + m.p2 * r.p2 + m.p3 * r.p3
        mean_los = (
            m.p0 * los.p0.mean()
            + m.p1 * los.p1.mean()
            + m.p2 * los.p2.mean()
            + m.p3 * los.p3.mean()
        ) / 24.0
    readmissions = 0.0
    out: dict[str, float] = {}
    for _ in range(200):
        sources = [
            (vol(d.ed_walk_in) + readmissions, fd.walk_in, closed_share(d.ed_walk_in)),
            (calls * disp.ed, fd.nhs111_ed, closed_share(d.calls_111)),
            (calls * disp.utc, fd.nhs111_utc, closed_share(d.calls_111)),
            (vol(d.direct_referral), fd.direct_referral, closed_share(d.direct_referral)),
        ]
        to_ed = math.fsum(n * (r.ed + r.sdec * c) for n, r, c in sources)
        utc = math.fsum(n * r.utc for n, r, _ in sources)
        sdec = math.fsum(n * r.sdec * (1 - c) for n, r, c in sources)
        ed = to_ed + utc * (s.utc.to_ed if s.utc else 0.0) + conveyed
        admissions = (
            ed * (s.ed.admit if s.ed else 0.0)
            + sdec * (s.sdec.admit if s.sdec else 0.0)
            + vol(d.direct_admissions)
        )
        readmissions = admissions * mix_readmit
        out = {
            "nhs111_calls": calls,
            "ambulance_incidents": incidents,
            "ambulance_conveyances": conveyed,
            "ed_attendances": ed,
            "utc_attendances": utc,
            "sdec_attendances": sdec,
            "all_type_attendances": ed + utc + sdec,
            "admissions": admissions,
            "readmissions": readmissions,
            "occupied_beds_before_delays": admissions * mean_los,
        }
    return out


def implied_annual_flows(scenario: Scenario) -> dict[str, float]:
    """:func:`implied_daily_flows` × 365 (``occupied_beds_before_delays`` left as a level)."""
    daily = implied_daily_flows(scenario)
    return {
        key: value if key == "occupied_beds_before_delays" else value * DAYS_PER_YEAR
        for key, value in daily.items()
    }
