"""Compilation of a scenario into flat numpy arrays that both simulation engines consume.

Nothing here is pydantic: :class:`CompiledScenario` holds ``float64``/``int64`` arrays and plain
scalars (plus name tuples for reporting), so a numba engine can take its arrays straight into
jitted code. Time is in hours from 00:00 of ``start_date``; ``hour index`` ``t`` is the hour
``[t, t+1)``; ``day index`` ``d = t // 24``. The run has ``warmup_days`` warm-up days followed by
``days`` measured days. See ``docs/simulation.md`` for the semantics of every array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from flowplan.sim.distributions import encode
from flowplan.sim.scenario import (
    FRONT_DOOR_SOURCES,
    STREAM_NAMES,
    Routing,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    hourly_values,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

# --- fixed indices ----------------------------------------------------------------------------

S_CALLS_111, S_CALLS_999, S_ED_WALK_IN, S_DIRECT_REFERRAL, S_DIRECT_ADMISSIONS = range(5)
"""Stream rows of ``rate`` (queue ``i`` arrivals are row ``N_BUILTIN_STREAMS + i``)."""
N_BUILTIN_STREAMS = len(STREAM_NAMES)

RESOURCE_NAMES: tuple[str, ...] = (
    "nhs111.handlers",
    "ambulance.vehicles",
    "ed.triage",
    "ed.cubicles",
    "ed.clinicians",
    "utc.clinicians",
    "sdec.chairs",
    "ward.beds",
    "p2.beds",
)
"""Built-in resources = rows of ``capacity`` (queue ``i`` is row ``N_BUILTIN_RESOURCES + i``)."""
(
    R_NHS111_HANDLERS,
    R_AMBULANCE_VEHICLES,
    R_ED_TRIAGE,
    R_ED_CUBICLES,
    R_ED_CLINICIANS,
    R_UTC_CLINICIANS,
    R_SDEC_CHAIRS,
    R_WARD_BEDS,
    R_P2_BEDS,
) = range(9)
N_BUILTIN_RESOURCES = len(RESOURCE_NAMES)

DIST_NAMES: tuple[str, ...] = (
    "nhs111.service_time",
    "nhs111.patience",
    "nhs111.travel",
    "ambulance.travel_to_scene",
    "ambulance.on_scene",
    "ambulance.travel_to_hospital",
    "ambulance.handover_time",
    "ambulance.turnaround",
    "ed.assessment_time",
    "ed.treatment_time",
    "utc.service_time",
    "sdec.service_time",
    "wards.los.p0",
    "wards.los.p1",
    "wards.los.p2",
    "wards.los.p3",
    "discharge.p2_los",
)
"""Rows of ``dist_code``/``dist_p1``/``dist_p2`` (queue ``i`` service is ``N_BUILTIN_DISTS+i``)."""
(
    D_111_SERVICE,
    D_111_PATIENCE,
    D_111_TRAVEL,
    D_AMB_TO_SCENE,
    D_AMB_ON_SCENE,
    D_AMB_TO_HOSPITAL,
    D_AMB_HANDOVER,
    D_AMB_TURNAROUND,
    D_ED_ASSESSMENT,
    D_ED_TREATMENT,
    D_UTC_SERVICE,
    D_SDEC_SERVICE,
    D_LOS_P0,
    D_LOS_P1,
    D_LOS_P2,
    D_LOS_P3,
    D_P2_LOS,
) = range(17)
N_BUILTIN_DISTS = len(DIST_NAMES)

NHS111_DISPOSITIONS: tuple[str, ...] = ("self_care", "primary_care", "utc", "ed", "ambulance")
"""Columns of ``p_111_disposition``."""
AMBULANCE_DISPOSITIONS: tuple[str, ...] = ("hear_and_treat", "see_and_treat", "see_and_convey")
"""Columns of ``p_ambulance_disposition``."""
FRONT_DOOR_TARGETS: tuple[str, ...] = ("ed", "utc", "sdec")
"""Last axis of ``p_front_door`` (the middle axis is ``FRONT_DOOR_SOURCES``)."""
PATHWAYS: tuple[str, ...] = ("P0", "P1", "P2", "P3")

RNG_STREAM_NAMES: tuple[str, ...] = (
    "arrivals.calls_111",
    "arrivals.calls_999",
    "arrivals.ed_walk_in",
    "arrivals.direct_referral",
    "arrivals.direct_admissions",
    "nhs111.service",
    "nhs111.patience",
    "routing",
    "ambulance.times",
    "ed.times",
    "los",
    "pathway",
    "discharge",
    "readmission",
    "front_door.times",
    "census",
)
"""Fixed order of the per-replication random streams; queue ``i`` then adds
``arrivals.<name>`` and ``service.<name>`` (indices ``16 + 2i`` and ``17 + 2i``)."""
N_BUILTIN_RNG_STREAMS = len(RNG_STREAM_NAMES)

RESOURCE_KPI_SUFFIXES: tuple[str, ...] = (
    "utilisation",
    "mean_wait_hours",
    "mean_queue_length",
    "arrivals",
    "departures",
    "in_system_start",
    "in_system_end",
)

SYSTEM_KPIS: tuple[str, ...] = (
    "ed.four_hour_pct",
    "all_types.four_hour_pct",
    "ed.twelve_hour_pct",
    "ed.time_to_assessment_mean_hours",
    "ed.time_to_assessment_p95_hours",
    "ed.crtp_over_1h_pct",
    "ed.boarded",
    "ambulance.handover_over_30_pct",
    "ambulance.handover_over_60_pct",
    "ambulance.lost_hours",
    "ambulance.response_mean_minutes",
    "ambulance.conveyance_pct",
    "ward.occupancy_mean_pct",
    "ward.hours_over_92_pct",
    "ward.hours_at_100_pct",
    "ward.escalation_beds_used_mean",
    "ward.nctr_mean",
    "ward.delayed_bed_days_p1",
    "ward.delayed_bed_days_p2",
    "ward.delayed_bed_days_p3",
    "p1.queue_mean",
    "p2.queue_mean",
    "p3.queue_mean",
    "nhs111.abandon_pct",
    *(f"nhs111.disposition_{name}_pct" for name in NHS111_DISPOSITIONS),
)
"""Whole-system KPI names (resource KPIs follow, see :func:`kpi_names`)."""


def kpi_names(queue_names: tuple[str, ...] = ()) -> list[str]:
    """Every KPI key an engine must report, in canonical order.

    System KPIs first, then for each resource (built-ins, then queues by name) the
    ``<resource>.<suffix>`` keys of :data:`RESOURCE_KPI_SUFFIXES`.
    """
    names = list(SYSTEM_KPIS)
    for resource in (*RESOURCE_NAMES, *queue_names):
        names += [f"{resource}.{suffix}" for suffix in RESOURCE_KPI_SUFFIXES]
    return names


# --- compiled scenario ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CompiledScenario:
    """Flat arrays of one scenario over one run horizon (see the module docstring for axes).

    Per-hour arrays have length ``n_hours = 24 × total_days``; per-day arrays ``total_days``.
    Probabilities in force on a day come from the scenario with its schemes applied on that day.
    """

    # horizon
    name: str
    start_date_ordinal: int  # date.toordinal() of start_date (day index 0)
    days: int  # measured days
    warmup_days: int
    total_days: int
    n_hours: int
    measure_start_hour: float  # = 24 × warmup_days
    end_hour: float  # = n_hours
    day_of_week: I64  # [total_days] Monday = 0
    is_weekend: I64  # [total_days] 1 on Saturday/Sunday
    seed: int
    replications: int

    # sections present (1/0)
    has_nhs111: int
    has_ambulance: int
    has_front_door: int
    has_utc: int
    has_sdec: int
    has_ed: int
    has_wards: int
    has_patience: int

    # arrivals and capacities
    rate: F64  # [n_streams, n_hours] arrivals per hour
    capacity: I64  # [n_resources, n_hours] servers in hour t (ward.beds = core beds)
    escalation_beds: I64  # [n_hours] escalation beds that can open in hour t
    escalation_trigger: float  # open when occupied / core ≥ this (checked at hour boundaries)
    escalation_close: float  # close when occupied / core < this and occupied ≤ core

    # distributions (hours): code, p1, p2 per row
    dist_code: I64
    dist_p1: F64
    dist_p2: F64

    # routing probabilities by day
    p_111_disposition: F64  # [total_days, 5] NHS111_DISPOSITIONS
    p_ambulance_disposition: F64  # [total_days, 3] AMBULANCE_DISPOSITIONS
    p_front_door: F64  # [total_days, 4 sources, 3 targets]
    p_utc_to_ed: F64  # [total_days]
    p_sdec_admit: F64  # [total_days]
    p_ed_admit: F64  # [total_days]
    p_pathway: F64  # [total_days, 4] P0..P3
    los_multiplier: F64  # [total_days, 4]
    sdec_open: I64  # [24] 1 when SDEC accepts arrivals in that hour of day
    handover_target_hours: float

    # discharge
    discharge_profile: F64  # [24] shares (normalised to sum exactly 1)
    weekend_factor: F64  # [total_days]
    p0_hazard: F64  # [n_hours] P0 discharge probability at hour boundary t
    p1_release: I64  # [n_hours] P1 starts released at hour boundary t
    p3_release: I64  # [n_hours] P3 placements released at hour boundary t
    readmission_p: F64  # [4] by pathway
    readmission_window_hours: float

    # start state (census)
    census_bed_los_so_far: F64  # [n_census_beds] hours
    census_bed_pathway: I64  # [n_census_beds] 0..3
    census_bed_delayed: I64  # [n_census_beds] 1 = already optimised
    census_ed_occupants: int
    census_p2_occupied: int

    # queues and names
    n_queues: int
    queue_names: tuple[str, ...]
    stream_names: tuple[str, ...] = field(default=())
    resource_names: tuple[str, ...] = field(default=())
    dist_names: tuple[str, ...] = field(default=())
    rng_stream_names: tuple[str, ...] = field(default=())

    @property
    def n_streams(self) -> int:
        """Rows of ``rate``."""
        return int(self.rate.shape[0])

    @property
    def n_resources(self) -> int:
        """Rows of ``capacity``."""
        return int(self.capacity.shape[0])

    def kpi_names(self) -> list[str]:
        """Every KPI key the engines report for this scenario."""
        return kpi_names(self.queue_names)

    def date_of_day(self, day: int) -> date:
        """Calendar date of day index ``day``."""
        return date.fromordinal(self.start_date_ordinal + day)


def _routing(r: Routing) -> list[float]:
    return [r.ed, r.utc, r.sdec]


def _release(daily: F64, profile: F64) -> I64:
    """Whole tokens released per hour: cumulative ``daily[d] × profile[h]``, floored, diffed."""
    per_hour = (daily[:, None] * profile[None, :]).reshape(-1)
    cum = np.concatenate([[0.0], np.cumsum(per_hour)])
    whole = np.floor(cum + 1e-9).astype(np.int64)
    return np.diff(whole).astype(np.int64)


def _p0_hazard(weekend_factor: F64, is_weekend: I64, profile: F64) -> F64:
    """Hazard of a waiting P0 discharge at each hour boundary (see docs/simulation.md)."""
    remaining = np.cumsum(profile[::-1])[::-1]
    base = np.where(profile > 0, profile / np.where(remaining > 0, remaining, 1.0), 0.0)
    base = np.where((profile > 0) & (np.arange(24) == np.max(np.nonzero(profile > 0))), 1.0, base)
    day_factor = np.where(is_weekend == 1, weekend_factor, 1.0)
    return (day_factor[:, None] * base[None, :]).reshape(-1).astype(np.float64)


def compile_scenario(
    scenario: Scenario, days: int | None = None, warmup_days: int | None = None
) -> CompiledScenario:
    """Compile a validated scenario over ``warmup_days + days`` days from ``start_date``.

    Args:
        scenario: the validated scenario.
        days: measured days (default ``scenario.run.days``).
        warmup_days: warm-up days before them (default ``scenario.run.warmup_days``).

    Returns:
        The flat arrays both engines consume.

    Raises:
        ScenarioError: ``days < 1`` or ``warmup_days < 0``.
    """
    days = scenario.run.days if days is None else days
    warmup_days = scenario.run.warmup_days if warmup_days is None else warmup_days
    if days < 1 or warmup_days < 0:
        raise ScenarioError(
            [
                ScenarioProblem(
                    "run", "days must be ≥ 1 and warmup_days ≥ 0", f"{days}, {warmup_days}"
                )
            ]
        )
    total_days = warmup_days + days
    n_hours = 24 * total_days
    start = scenario.start_date
    dates = [start + timedelta(days=d) for d in range(total_days)]
    dow = np.array([d.weekday() for d in dates], dtype=np.int64)
    weekend = (dow >= 5).astype(np.int64)

    epochs = scenario.scheme_epochs()
    epoch_of_day = np.zeros(total_days, dtype=np.int64)
    for i, (since, _) in enumerate(epochs):
        if since is not None:
            epoch_of_day[[j for j, d in enumerate(dates) if d >= since]] = i
    eff = [e for _, e in epochs]

    def daily(i: int) -> Scenario:
        return eff[int(epoch_of_day[i])]

    queues = scenario.queues
    nq = len(queues)

    # arrivals per hour
    rate = np.zeros((N_BUILTIN_STREAMS + nq, n_hours), dtype=np.float64)
    for k, name in enumerate(STREAM_NAMES):
        if getattr(scenario.demand, name) is None:
            continue
        csv_volumes = scenario.stream_volumes(name)
        for d, day in enumerate(dates):
            s = daily(d)
            stream = getattr(s.demand, name)
            if day in csv_volumes:
                volume = csv_volumes[day]
            else:
                volume = stream.daily_mean * stream.dow[day.weekday()] * stream.month[day.month - 1]
            volume *= stream.volume_factor
            for surge in s.demand.surges:
                if name in surge.streams and surge.start <= day <= surge.end:
                    volume *= 1.0 + surge.uplift_pct / 100.0
            shares = np.asarray(stream.hourly, dtype=np.float64)
            rate[k, 24 * d : 24 * d + 24] = volume * shares / math.fsum(stream.hourly)
    for i in range(nq):
        for d in range(total_days):
            rate[N_BUILTIN_STREAMS + i, 24 * d : 24 * d + 24] = daily(d).queues[i].arrival_rate

    # capacities per hour
    capacity = np.zeros((N_BUILTIN_RESOURCES + nq, n_hours), dtype=np.int64)
    escalation = np.zeros(n_hours, dtype=np.int64)
    for d in range(total_days):
        s = daily(d)
        rows: dict[int, list[int]] = {}
        if s.nhs111:
            rows[R_NHS111_HANDLERS] = hourly_values(s.nhs111.handlers)
        if s.ambulance:
            rows[R_AMBULANCE_VEHICLES] = hourly_values(s.ambulance.vehicles)
        if s.ed:
            rows[R_ED_TRIAGE] = hourly_values(s.ed.triage_clinicians)
            rows[R_ED_CUBICLES] = [s.ed.cubicles] * 24
            rows[R_ED_CLINICIANS] = hourly_values(s.ed.clinicians)
        if s.utc:
            rows[R_UTC_CLINICIANS] = hourly_values(s.utc.clinicians)
        if s.sdec:
            rows[R_SDEC_CHAIRS] = [s.sdec.chairs] * 24
        if s.wards:
            rows[R_WARD_BEDS] = [s.wards.core_beds] * 24
            escalation[24 * d : 24 * d + 24] = s.wards.escalation_beds
        if s.discharge:
            rows[R_P2_BEDS] = [s.discharge.p2_beds] * 24
        for i, q in enumerate(s.queues):
            rows[N_BUILTIN_RESOURCES + i] = [q.servers] * 24
        for r, values in rows.items():
            capacity[r, 24 * d : 24 * d + 24] = values

    # distributions
    base = scenario
    dists: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * N_BUILTIN_DISTS
    if base.nhs111:
        dists[D_111_SERVICE] = encode(base.nhs111.service_time)
        dists[D_111_PATIENCE] = encode(base.nhs111.patience)
        dists[D_111_TRAVEL] = encode(base.nhs111.travel)
    else:
        dists[D_111_PATIENCE] = encode(None)
    if base.ambulance:
        a = base.ambulance
        dists[D_AMB_TO_SCENE] = encode(a.travel_to_scene)
        dists[D_AMB_ON_SCENE] = encode(a.on_scene)
        dists[D_AMB_TO_HOSPITAL] = encode(a.travel_to_hospital)
        dists[D_AMB_HANDOVER] = encode(a.handover_time)
        dists[D_AMB_TURNAROUND] = encode(a.turnaround)
    if base.ed:
        dists[D_ED_ASSESSMENT] = encode(base.ed.assessment_time)
        dists[D_ED_TREATMENT] = encode(base.ed.treatment_time)
    if base.utc:
        dists[D_UTC_SERVICE] = encode(base.utc.service_time)
    if base.sdec:
        dists[D_SDEC_SERVICE] = encode(base.sdec.service_time)
    if base.wards:
        los = base.wards.los
        for j, dist in enumerate((los.p0, los.p1, los.p2, los.p3)):
            dists[D_LOS_P0 + j] = encode(dist)
    if base.discharge:
        dists[D_P2_LOS] = encode(base.discharge.p2_los)
    dists += [encode(q.service) for q in queues]

    # probabilities by day
    p111 = np.zeros((total_days, 5))
    pamb = np.zeros((total_days, 3))
    pfd = np.zeros((total_days, len(FRONT_DOOR_SOURCES), 3))
    p_utc = np.zeros(total_days)
    p_sdec = np.zeros(total_days)
    p_ed = np.zeros(total_days)
    p_path = np.zeros((total_days, 4))
    los_mult = np.ones((total_days, 4))
    wf = np.ones(total_days)
    p1_daily = np.zeros(total_days)
    p3_daily = np.zeros(total_days)
    for d in range(total_days):
        s = daily(d)
        if s.nhs111:
            p111[d] = s.nhs111.dispositions.as_list()
        if s.ambulance:
            pamb[d] = s.ambulance.dispositions.as_list()
        if s.front_door:
            for j, source in enumerate(FRONT_DOOR_SOURCES):
                pfd[d, j] = _routing(getattr(s.front_door, source))
        p_utc[d] = s.utc.to_ed if s.utc else 0.0
        p_sdec[d] = s.sdec.admit if s.sdec else 0.0
        p_ed[d] = s.ed.admit if s.ed else 0.0
        if s.wards:
            p_path[d] = s.wards.pathway_mix.as_list()
            m = s.wards.los_multiplier
            los_mult[d] = [m.p0, m.p1, m.p2, m.p3]
        if s.discharge:
            wf[d] = s.discharge.weekend_factor
            p1_daily[d] = s.discharge.p1_starts_per_day
            p3_daily[d] = s.discharge.p3_placements_per_day

    if base.discharge:
        profile = np.asarray(base.discharge.profile, dtype=np.float64)
        profile = profile / profile.sum()
    else:
        profile = np.full(24, 1.0 / 24)
    day_cap = np.where(weekend == 1, wf, 1.0)
    p1_release = _release(p1_daily * day_cap, profile)
    p3_release = _release(p3_daily * day_cap, profile)
    p0_hazard = _p0_hazard(wf, weekend, profile)

    sdec_open = np.zeros(24, dtype=np.int64)
    if base.sdec:
        sdec_open[base.sdec.open_hour : base.sdec.close_hour] = 1

    readm = np.zeros(4)
    window = 30.0 * 24
    if base.wards:
        rp = base.wards.readmission
        readm = np.array([rp.p0, rp.p1, rp.p2, rp.p3], dtype=np.float64)
        window = base.wards.readmission_window_days * 24

    census = base.census
    beds = census.occupied_beds if census else []
    return CompiledScenario(
        name=scenario.name,
        start_date_ordinal=start.toordinal(),
        days=days,
        warmup_days=warmup_days,
        total_days=total_days,
        n_hours=n_hours,
        measure_start_hour=float(24 * warmup_days),
        end_hour=float(n_hours),
        day_of_week=dow,
        is_weekend=weekend,
        seed=scenario.run.seed,
        replications=scenario.run.replications,
        has_nhs111=int(base.nhs111 is not None),
        has_ambulance=int(base.ambulance is not None),
        has_front_door=int(base.front_door is not None),
        has_utc=int(base.utc is not None),
        has_sdec=int(base.sdec is not None),
        has_ed=int(base.ed is not None),
        has_wards=int(base.wards is not None),
        has_patience=int(base.nhs111 is not None and base.nhs111.patience is not None),
        rate=rate,
        capacity=capacity,
        escalation_beds=escalation,
        escalation_trigger=base.wards.escalation_trigger if base.wards else 1.0,
        escalation_close=base.wards.escalation_close if base.wards else 0.0,
        dist_code=np.array([c for c, _, _ in dists], dtype=np.int64),
        dist_p1=np.array([p for _, p, _ in dists], dtype=np.float64),
        dist_p2=np.array([p for _, _, p in dists], dtype=np.float64),
        p_111_disposition=p111,
        p_ambulance_disposition=pamb,
        p_front_door=pfd,
        p_utc_to_ed=p_utc,
        p_sdec_admit=p_sdec,
        p_ed_admit=p_ed,
        p_pathway=p_path,
        los_multiplier=los_mult,
        sdec_open=sdec_open,
        handover_target_hours=(base.ambulance.handover_target_minutes / 60.0)
        if base.ambulance
        else 0.25,
        discharge_profile=profile,
        weekend_factor=wf,
        p0_hazard=p0_hazard,
        p1_release=p1_release,
        p3_release=p3_release,
        readmission_p=readm,
        readmission_window_hours=float(window),
        census_bed_los_so_far=np.array([b.los_so_far_hours for b in beds], dtype=np.float64),
        census_bed_pathway=np.array([int(b.pathway[1]) for b in beds], dtype=np.int64),
        census_bed_delayed=np.array([int(b.delayed) for b in beds], dtype=np.int64),
        census_ed_occupants=census.ed_occupants if census else 0,
        census_p2_occupied=census.p2_occupied if census else 0,
        n_queues=nq,
        queue_names=tuple(q.name for q in queues),
        stream_names=(*STREAM_NAMES, *(q.name for q in queues)),
        resource_names=(*RESOURCE_NAMES, *(q.name for q in queues)),
        dist_names=(*DIST_NAMES, *(f"{q.name}.service" for q in queues)),
        rng_stream_names=rng_stream_names(tuple(q.name for q in queues)),
    )


# --- random streams and arrivals ---------------------------------------------------------------


def rng_stream_names(queue_names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Names of the per-replication random streams, in spawn order."""
    extra: list[str] = []
    for q in queue_names:
        extra += [f"arrivals.{q}", f"service.{q}"]
    return (*RNG_STREAM_NAMES, *extra)


def replication_generators(
    seed: int, replications: int, n_queues: int = 0
) -> list[list[np.random.Generator]]:
    """Per replication, one Generator per process stream (common random numbers).

    ``SeedSequence(seed).spawn(replications)`` gives one child per replication; each child
    ``.spawn(16 + 2 × n_queues)`` gives the process streams in :func:`rng_stream_names` order;
    each becomes ``numpy.random.Generator(numpy.random.PCG64(stream_seed))``.
    """
    out = []
    for child in np.random.SeedSequence(seed).spawn(replications):
        seqs = child.spawn(N_BUILTIN_RNG_STREAMS + 2 * n_queues)
        out.append([np.random.Generator(np.random.PCG64(s)) for s in seqs])
    return out


def generate_arrivals(rate_row: F64, rng: np.random.Generator) -> F64:
    """Arrival times (hours, ascending) of a Poisson process with piecewise-constant hourly rate.

    Reference method both engines use: ``counts = rng.poisson(rate_row)`` (one call over all
    hours), then ``offsets = rng.random(counts.sum())``; arrival ``j`` of hour ``t`` is at
    ``t + offset``; the result is sorted (so arrivals within an hour are in time order).
    """
    counts = rng.poisson(np.asarray(rate_row, dtype=np.float64))
    offsets = rng.random(int(counts.sum()))
    hours = np.repeat(np.arange(len(rate_row), dtype=np.float64), counts)
    return np.sort(hours + offsets)
