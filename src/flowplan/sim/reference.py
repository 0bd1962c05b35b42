"""SimPy reference engine of the whole-system UEC flow simulation (``docs/simulation.md``).

Clarity first: one SimPy process per patient (or call, incident, queue customer), written step by
step as § 5 of the contract reads, so that the numba engine (``flowplan.sim.fast``) can be checked
against it. The engine consumes only the :class:`~flowplan.sim.compiled.CompiledScenario` (never
the pydantic scenario), so both engines see identical inputs, and reports every KPI of
:func:`~flowplan.sim.compiled.kpi_names` overall and per measured day.

Time is in hours from 00:00 of day 0. Two details of SimPy are worked around:

* SimPy's ``Resource`` has a fixed capacity; :class:`_Resource` is a small multi-server FIFO whose
  capacity changes at hour boundaries without pre-emption (a busy counter and a FIFO of waiting
  requests), driven by the hourly process.
* Events must happen at exact times (an hour boundary, a pre-generated arrival time), and the
  hour-boundary work must come first among the events of an instant. SimPy schedules by
  ``now + delay``, which can miss an exact time by one rounding step, so :func:`_schedule_at`
  pushes an event at an absolute time onto SimPy's event queue (same structure as SimPy's own
  ``Environment.schedule``), with ``URGENT`` priority for the hour-boundary work. Events at the
  same time and priority are processed in the order they were scheduled (SimPy's event id).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from flowplan.sim.compiled import (
    D_111_PATIENCE,
    D_111_SERVICE,
    D_111_TRAVEL,
    D_AMB_HANDOVER,
    D_AMB_ON_SCENE,
    D_AMB_TO_HOSPITAL,
    D_AMB_TO_SCENE,
    D_AMB_TURNAROUND,
    D_ED_ASSESSMENT,
    D_ED_TREATMENT,
    D_LOS_P0,
    D_P2_LOS,
    D_SDEC_SERVICE,
    D_UTC_SERVICE,
    N_BUILTIN_DISTS,
    N_BUILTIN_RESOURCES,
    N_BUILTIN_RNG_STREAMS,
    N_BUILTIN_STREAMS,
    NHS111_DISPOSITIONS,
    R_AMBULANCE_VEHICLES,
    R_ED_CLINICIANS,
    R_ED_CUBICLES,
    R_ED_TRIAGE,
    R_NHS111_HANDLERS,
    R_P2_BEDS,
    R_SDEC_CHAIRS,
    R_UTC_CLINICIANS,
    R_WARD_BEDS,
    S_CALLS_111,
    S_CALLS_999,
    S_DIRECT_ADMISSIONS,
    S_DIRECT_REFERRAL,
    S_ED_WALK_IN,
    CompiledScenario,
    generate_arrivals,
    kpi_names,
)
from flowplan.sim.distributions import sample_encoded
from flowplan.sim.kpis import (
    CRTP_THRESHOLD_HOURS,
    FOUR_HOURS,
    HANDOVER_30_HOURS,
    HANDOVER_60_HOURS,
    HOURS_PER_DAY,
    OCCUPANCY_THRESHOLD,
    TWELVE_HOURS,
    DailyIntegrals,
    Period,
    percentile_kpi,
    ratio_kpi,
    sum_kpi,
    threshold_records,
    time_mean,
    time_ratio,
)
from flowplan.sim.output import ReplicationOutput

F64 = NDArray[np.float64]
Process = Generator[Any, Any, None]

URGENT = 0
"""SimPy priority of the hour-boundary work (before every other event of the instant)."""
NORMAL = 1
"""SimPy priority of every other event."""

# Random streams (positions in compiled.RNG_STREAM_NAMES).
(
    _RNG_ARR_111,
    _RNG_ARR_999,
    _RNG_ARR_WALK_IN,
    _RNG_ARR_REFERRAL,
    _RNG_ARR_DIRECT,
    _RNG_111_SERVICE,
    _RNG_111_PATIENCE,
    _RNG_ROUTING,
    _RNG_AMBULANCE,
    _RNG_ED,
    _RNG_LOS,
    _RNG_PATHWAY,
    _RNG_DISCHARGE,
    _RNG_READMISSION,
    _RNG_FRONT_DOOR,
    _RNG_CENSUS,
) = range(N_BUILTIN_RNG_STREAMS)

# Outcomes (column order of the compiled probability arrays).
_DISP_UTC = NHS111_DISPOSITIONS.index("utc")
_DISP_ED = NHS111_DISPOSITIONS.index("ed")
_DISP_AMBULANCE = NHS111_DISPOSITIONS.index("ambulance")
_HEAR_AND_TREAT, _SEE_AND_TREAT, _SEE_AND_CONVEY = range(3)
_TO_ED, _TO_UTC, _TO_SDEC = range(3)
_SRC_WALK_IN, _SRC_111_ED, _SRC_111_UTC, _SRC_REFERRAL = range(4)
_P0, _P1, _P2, _P3 = range(4)
_CENSUS_RESIDUAL_TRIES = 100

# State slots of the resources' DailyIntegrals.
_BUSY, _CAPACITY, _WAITING = range(3)
# Extra slots of the ward-bed resource.
_W_OVER_92, _W_AT_100, _W_ESCALATION_USED, _W_NCTR = range(3, 7)
_W_DELAYED = {_P1: 7, _P2: 8, _P3: 9}
_W_TOKEN_QUEUE = {_P1: 10, _P3: 11}
_WARD_STATES = 12


def _schedule_at(env: Any, time: float, priority: int = NORMAL) -> Any:
    """A triggered SimPy event processed at absolute ``time`` (hours), exactly.

    Mirrors ``simpy.Environment.schedule`` (a heap of ``(time, priority, event id, event)``)
    but with an absolute time, so hour boundaries and pre-generated times are hit exactly.
    """
    event = simpy.Event(env)
    event._ok = True
    event._value = None
    heapq.heappush(env._queue, (time, priority, next(env._eid), event))
    return event


def _day(t: float) -> int:
    return int(t // HOURS_PER_DAY)


class _Request:
    """One entity's place in a resource queue."""

    __slots__ = ("cancelled", "census", "event", "join", "started")

    def __init__(self, event: Any, join: float, census: bool) -> None:
        self.event = event
        self.join = join
        self.census = census
        self.started = False
        self.cancelled = False


class _Resource:
    """Multi-server FIFO resource whose capacity may change at any time, never pre-empting.

    ``busy`` units are in use; waiting requests queue FIFO by join time (ties: join order). A
    request starts when nobody is ahead of it and ``busy < capacity``; a released unit goes to
    the head of the queue at once. Capacity changes apply to new starts only; waiting requests
    start when :meth:`start_waiting` is called (the hourly process does, after new capacities).
    The resource also keeps the § 7 counters: per-day integrals of busy, capacity and waiting,
    arrivals, departures, in-system snapshots at midnight and the waits of started entities.
    """

    def __init__(self, env: Any, total_days: int, n_states: int = 3) -> None:
        self.env = env
        self.busy = 0
        self.capacity = 0
        self.n_waiting = 0
        self.queue: deque[_Request] = deque()
        self.integrals = DailyIntegrals(n_states, total_days)
        self.arrivals = [0] * total_days
        self.departures = [0] * total_days
        self.snapshots = [0] * (total_days + 1)
        self.wait_join: list[float] = []
        self.wait_hours: list[float] = []

    # -- state bookkeeping ---------------------------------------------------------------------

    def _sync(self) -> None:
        """Copy the state into the integrator (call after every change)."""
        values = self.integrals.values
        values[_BUSY] = self.busy
        values[_CAPACITY] = self.capacity
        values[_WAITING] = self.n_waiting

    @property
    def in_system(self) -> int:
        """Waiting plus in service."""
        return self.busy + self.n_waiting

    def _start(self, req: _Request, now: float) -> None:
        self.busy += 1
        req.started = True
        if not req.census:
            self.wait_join.append(req.join)
            self.wait_hours.append(now - req.join)
        req.event.succeed(True)

    # -- entity actions ------------------------------------------------------------------------

    def request(
        self, census: bool = False, initial: bool = False, patience: float = math.inf
    ) -> Any:
        """Join the queue now; the returned event fires with True on start (False: abandoned).

        Args:
            census: a census entity (excluded from the mean wait).
            initial: part of the start state at t = 0 (not counted as an arrival).
            patience: abandon if not started within this many hours.
        """
        env = self.env
        now: float = env.now
        self.integrals.advance(now)
        if not initial:
            self.arrivals[_day(now)] += 1
        req = _Request(simpy.Event(env), now, census)
        if self.n_waiting == 0 and self.busy < self.capacity:
            self._start(req, now)
        else:
            self.queue.append(req)
            self.n_waiting += 1
            if patience < math.inf:
                deadline = _schedule_at(env, now + patience)
                deadline.callbacks.append(lambda _event: self._abandon(req))
        self._sync()
        return req.event

    def occupy(self) -> None:
        """Take a unit at t = 0 as start state (census), even beyond capacity; no arrival."""
        self.integrals.advance(self.env.now)
        self.busy += 1
        self._sync()

    def _abandon(self, req: _Request) -> None:
        if req.started or req.cancelled:
            return
        now: float = self.env.now
        self.integrals.advance(now)
        req.cancelled = True
        self.n_waiting -= 1
        self.departures[_day(now)] += 1
        req.event.succeed(False)
        self._sync()

    def release(self) -> None:
        """Give back one unit now (a departure); the head of the queue may start at once."""
        now: float = self.env.now
        self.integrals.advance(now)
        self.busy -= 1
        self.departures[_day(now)] += 1
        self._start_waiting(now)
        self._sync()

    # -- hourly process ------------------------------------------------------------------------

    def _start_waiting(self, now: float) -> None:
        queue = self.queue
        while self.n_waiting > 0 and self.busy < self.capacity:
            req = queue.popleft()
            if req.cancelled:
                continue
            self.n_waiting -= 1
            self._start(req, now)

    def set_capacity(self, capacity: int) -> None:
        """New capacity from now (starts nobody; see :meth:`start_waiting`)."""
        self.integrals.advance(self.env.now)
        self.capacity = capacity
        self._sync()

    def start_waiting(self) -> None:
        """Start waiting entities FIFO while ``busy < capacity``."""
        now: float = self.env.now
        self.integrals.advance(now)
        self._start_waiting(now)
        self._sync()


class _WardBeds(_Resource):
    """G&A beds: capacity = core + open escalation beds, plus the ward's time-weighted states."""

    def __init__(self, env: Any, total_days: int) -> None:
        super().__init__(env, total_days, _WARD_STATES)
        self.core = 0
        self.escalation_beds = 0
        self.escalation_open = False
        self.nctr = 0
        self.delayed = {_P1: 0, _P2: 0, _P3: 0}
        self.token_queue = {_P1: 0, _P3: 0}

    def _sync(self) -> None:
        super()._sync()
        values = self.integrals.values
        occupied, available = self.busy, self.capacity
        values[_W_OVER_92] = 1.0 if occupied > OCCUPANCY_THRESHOLD * available else 0.0
        values[_W_AT_100] = 1.0 if available > 0 and occupied >= available else 0.0
        values[_W_ESCALATION_USED] = max(0, occupied - self.core)
        values[_W_NCTR] = self.nctr
        for pathway, slot in _W_DELAYED.items():
            values[slot] = self.delayed[pathway]
        for pathway, slot in _W_TOKEN_QUEUE.items():
            values[slot] = self.token_queue[pathway]

    def set_hour(self, core: int, escalation_beds: int) -> None:
        """Hour-boundary step 1: this hour's core and escalation beds."""
        self.core = core
        self.escalation_beds = escalation_beds
        self.set_capacity(core + (escalation_beds if self.escalation_open else 0))

    def check_escalation(self, trigger: float, close: float) -> None:
        """Hour-boundary step 2: open or close escalation beds (§ 5.5)."""
        occupied, core = self.busy, self.core
        ratio = occupied / core if core > 0 else (math.inf if occupied > 0 else 0.0)
        if not self.escalation_open and ratio >= trigger:
            self.escalation_open = True
        elif self.escalation_open and ratio < close and occupied <= core:
            self.escalation_open = False
        else:
            return
        self.set_capacity(core + (self.escalation_beds if self.escalation_open else 0))

    def change(self, nctr: int = 0, pathway: int = _P0, tokens: int = 0) -> None:
        """Change the NCTR count (and the pathway's delayed count) or a token queue, now."""
        self.integrals.advance(self.env.now)
        self.nctr += nctr
        if pathway in self.delayed:
            self.delayed[pathway] += nctr
        if tokens:
            self.token_queue[pathway] += tokens
        self._sync()


@dataclass
class _Records:
    """Per-entity records for § 7 (clock-start times in hours, durations in hours)."""

    ed_done_t: list[float] = field(default_factory=list)
    ed_done_dur: list[float] = field(default_factory=list)
    ed_open: dict[int, float] = field(default_factory=dict)
    other_done_t: list[float] = field(default_factory=list)  # UTC and SDEC attendances
    other_done_dur: list[float] = field(default_factory=list)
    other_open: dict[int, float] = field(default_factory=dict)
    assess_t: list[float] = field(default_factory=list)
    assess_wait: list[float] = field(default_factory=list)
    crtp_t: list[float] = field(default_factory=list)
    crtp_dur: list[float] = field(default_factory=list)
    crtp_open: dict[int, tuple[float, float]] = field(default_factory=dict)  # (arrival, decision)
    boarded_t: list[float] = field(default_factory=list)
    handover_t: list[float] = field(default_factory=list)
    handover_delay: list[float] = field(default_factory=list)
    handover_open: dict[int, float] = field(default_factory=dict)
    response_t: list[float] = field(default_factory=list)
    response_hours: list[float] = field(default_factory=list)
    incident_t: list[float] = field(default_factory=list)
    incident_conveyed: list[float] = field(default_factory=list)
    call_t: list[float] = field(default_factory=list)
    call_abandoned: list[float] = field(default_factory=list)
    disposition_t: list[float] = field(default_factory=list)
    disposition: list[int] = field(default_factory=list)


class _Model:
    """One replication: the environment, resources, processes and records."""

    def __init__(self, compiled: CompiledScenario, rngs: Sequence[np.random.Generator]) -> None:
        c = compiled
        expected = N_BUILTIN_RNG_STREAMS + 2 * c.n_queues
        if len(rngs) != expected:
            raise ValueError(f"expected {expected} random streams, got {len(rngs)}")
        self.c = c
        self.rng = list(rngs)
        self.env: Any = simpy.Environment()
        self.end = float(c.end_hour)
        self.events = 0
        self.ids = itertools.count()
        days = c.total_days
        self.beds = _WardBeds(self.env, days)
        self.resources: list[_Resource] = [
            self.beds if r == R_WARD_BEDS else _Resource(self.env, days)
            for r in range(c.n_resources)
        ]
        self.rec = _Records()
        # Python copies of the arrays used per event (fast scalar access).
        self.capacity = c.capacity.tolist()
        self.escalation_beds = c.escalation_beds.tolist()
        self.dists = list(
            zip(c.dist_code.tolist(), c.dist_p1.tolist(), c.dist_p2.tolist(), strict=True)
        )
        self.p_111 = c.p_111_disposition.tolist()
        self.p_ambulance = c.p_ambulance_disposition.tolist()
        self.p_front_door = c.p_front_door.tolist()
        self.p_utc_to_ed = c.p_utc_to_ed.tolist()
        self.p_sdec_admit = c.p_sdec_admit.tolist()
        self.p_ed_admit = c.p_ed_admit.tolist()
        self.p_pathway = c.p_pathway.tolist()
        self.los_multiplier = c.los_multiplier.tolist()
        self.sdec_open = c.sdec_open.tolist()
        self.p0_hazard = c.p0_hazard.tolist()
        self.p0_hours = np.flatnonzero(c.p0_hazard > 0).tolist()
        self.release = {_P1: c.p1_release.tolist(), _P3: c.p3_release.tolist()}
        self.readmission_p = c.readmission_p.tolist()
        self.tokens = {_P1: 0, _P3: 0}
        self.token_waiting: dict[int, deque[Any]] = {_P1: deque(), _P3: deque()}

    # -- helpers ---------------------------------------------------------------------------------

    def at(self, time: float) -> Any:
        """Event at absolute ``time``; never fires when ``time ≥ end_hour`` (dropped)."""
        if time >= self.end:
            return simpy.Event(self.env)
        return _schedule_at(self.env, time)

    def wait(self, duration: float) -> Any:
        """Event ``duration`` hours from now (dropped at or after ``end_hour``)."""
        return self.at(self.env.now + duration)

    def sample(self, row: int, stream: int) -> float:
        """One duration (hours) from distribution ``row`` with random stream ``stream``."""
        code, p1, p2 = self.dists[row]
        return sample_encoded(code, p1, p2, self.rng[stream])

    def categorical(self, probabilities: list[float], stream: int = _RNG_ROUTING) -> int:
        """First outcome with ``u < p_0 + … + p_i``, one ``u`` from ``stream`` (§ 5)."""
        u = self.rng[stream].random()
        total = 0.0
        last = 0
        for i, p in enumerate(probabilities):
            total += p
            if p > 0:
                last = i
            if u < total:
                return i
        return last  # u ≥ Σ p only through rounding: the last outcome with p > 0

    def bernoulli(self, p: float, stream: int = _RNG_ROUTING) -> bool:
        """``u < p``."""
        return bool(self.rng[stream].random() < p)

    def spawn(self, process: Process) -> None:
        """Start a process now."""
        self.env.process(process)

    def spawn_at(self, time: float, make: Callable[[], Process]) -> None:
        """Start ``make()`` at absolute ``time`` (dropped at or after ``end_hour``)."""
        if time < self.end:
            _schedule_at(self.env, time).callbacks.append(lambda _event: self.spawn(make()))

    # -- hour boundaries -------------------------------------------------------------------------

    def hour_boundary(self, h: int) -> None:
        """§ 4: capacities, escalation, P1/P3 tokens, then waiting starts; next hour."""
        c = self.c
        if h % 24 == 0:
            day = h // 24
            for res in self.resources:
                res.snapshots[day] = res.in_system
        for r, res in enumerate(self.resources):
            if r == R_WARD_BEDS:
                self.beds.set_hour(self.capacity[r][h], self.escalation_beds[h])
            else:
                res.set_capacity(self.capacity[r][h])
        self.beds.check_escalation(c.escalation_trigger, c.escalation_close)
        for pathway in (_P1, _P3):
            if h % 24 == 0:
                self.tokens[pathway] = 0
            self.tokens[pathway] += self.release[pathway][h]
            waiting = self.token_waiting[pathway]
            while self.tokens[pathway] > 0 and waiting:
                self.tokens[pathway] -= 1
                self.beds.change(pathway=pathway, tokens=-1)
                waiting.popleft().succeed()
        for res in self.resources:
            res.start_waiting()
        if h + 1 < c.n_hours:
            nxt = _schedule_at(self.env, float(h + 1), URGENT)
            nxt.callbacks.append(lambda _event: self.hour_boundary(h + 1))

    # -- arrivals ------------------------------------------------------------------------------

    def arrivals(self, times: F64, make: Callable[[float], Process]) -> Process:
        """Start ``make(t)`` at each pre-generated arrival time ``t``."""
        for t in times.tolist():
            yield _schedule_at(self.env, t)
            self.spawn(make(t))

    # -- 5.1 NHS 111 ---------------------------------------------------------------------------

    def call_111(self, t: float) -> Process:
        """A 111 call arriving at ``t``."""
        patience = math.inf
        if self.c.has_patience:
            patience = self.sample(D_111_PATIENCE, _RNG_111_PATIENCE)
        handlers = self.resources[R_NHS111_HANDLERS]
        started = yield handlers.request(patience=patience)
        self.rec.call_t.append(t)
        self.rec.call_abandoned.append(0.0 if started else 1.0)
        if not started:
            return
        yield self.wait(self.sample(D_111_SERVICE, _RNG_111_SERVICE))
        handlers.release()
        now: float = self.env.now
        outcome = self.categorical(self.p_111[_day(now)])
        self.rec.disposition_t.append(t)
        self.rec.disposition.append(outcome)
        if outcome in (_DISP_UTC, _DISP_ED):
            source = _SRC_111_UTC if outcome == _DISP_UTC else _SRC_111_ED
            arrival = now + self.sample(D_111_TRAVEL, _RNG_FRONT_DOOR)
            yield self.at(arrival)
            yield from self.front_door(arrival, source)
        elif outcome == _DISP_AMBULANCE:
            yield from self.incident(now)

    # -- 5.2 ambulance -------------------------------------------------------------------------

    def incident(self, t: float) -> Process:
        """An ambulance incident at ``t`` (999 call or 111 ambulance disposition)."""
        outcome = self.categorical(self.p_ambulance[_day(t)])
        rec = self.rec
        rec.incident_t.append(t)
        rec.incident_conveyed.append(1.0 if outcome == _SEE_AND_CONVEY else 0.0)
        if outcome == _HEAR_AND_TREAT:
            return
        vehicles = self.resources[R_AMBULANCE_VEHICLES]
        yield vehicles.request()
        yield self.wait(self.sample(D_AMB_TO_SCENE, _RNG_AMBULANCE))
        rec.response_t.append(t)
        rec.response_hours.append(self.env.now - t)
        yield self.wait(self.sample(D_AMB_ON_SCENE, _RNG_AMBULANCE))
        if outcome == _SEE_AND_TREAT:
            vehicles.release()
            return
        yield self.wait(self.sample(D_AMB_TO_HOSPITAL, _RNG_AMBULANCE))
        arrival: float = self.env.now  # ED arrival: the 4-hour clock starts
        ident = next(self.ids)
        rec.ed_open[ident] = arrival
        rec.handover_open[ident] = arrival
        cubicles = self.resources[R_ED_CUBICLES]
        yield cubicles.request()
        yield self.wait(self.sample(D_AMB_HANDOVER, _RNG_AMBULANCE))
        now: float = self.env.now
        del rec.handover_open[ident]
        rec.handover_t.append(arrival)
        rec.handover_delay.append(now - arrival)
        turnaround = self.sample(D_AMB_TURNAROUND, _RNG_AMBULANCE)
        if now + turnaround < self.end:
            free = _schedule_at(self.env, now + turnaround)
            free.callbacks.append(lambda _event: vehicles.release())
        yield from self.ed_assessment(arrival, ident)
        yield from self.ed_treatment(arrival, ident)

    # -- 5.3 front door ------------------------------------------------------------------------

    def front_door(self, t: float, source: int) -> Process:
        """A front-door arrival at ``t`` from ``source`` (walk-in, 111 ED/UTC, referral)."""
        target = self.categorical(self.p_front_door[_day(t)][source])
        if target == _TO_SDEC and not self.sdec_open[int(t) % 24]:
            target = _TO_ED
        if target == _TO_ED:
            yield from self.ed_walk_in(t)
        elif target == _TO_UTC:
            yield from self.utc(t)
        else:
            yield from self.sdec(t)

    def utc(self, t: float) -> Process:
        """A UTC attendance arriving at ``t``."""
        rec = self.rec
        ident = next(self.ids)
        rec.other_open[ident] = t
        clinicians = self.resources[R_UTC_CLINICIANS]
        yield clinicians.request()
        yield self.wait(self.sample(D_UTC_SERVICE, _RNG_FRONT_DOOR))
        clinicians.release()
        now: float = self.env.now
        del rec.other_open[ident]
        rec.other_done_t.append(t)
        rec.other_done_dur.append(now - t)
        if self.bernoulli(self.p_utc_to_ed[_day(now)]):
            yield from self.ed_walk_in(now)

    def sdec(self, t: float) -> Process:
        """An SDEC attendance arriving at ``t``."""
        rec = self.rec
        ident = next(self.ids)
        rec.other_open[ident] = t
        chairs = self.resources[R_SDEC_CHAIRS]
        yield chairs.request()
        yield self.wait(self.sample(D_SDEC_SERVICE, _RNG_FRONT_DOOR))
        admit = self.bernoulli(self.p_sdec_admit[_day(self.env.now)])
        if admit:
            yield self.beds.request()
        chairs.release()
        del rec.other_open[ident]
        rec.other_done_t.append(t)
        rec.other_done_dur.append(self.env.now - t)
        if admit:
            yield from self.ward_stay()

    # -- 5.4 emergency department --------------------------------------------------------------

    def ed_walk_in(self, t: float) -> Process:
        """An ED walk-in arriving at ``t``: assessment, then a cubicle, then treatment."""
        ident = next(self.ids)
        self.rec.ed_open[ident] = t
        yield from self.ed_assessment(t, ident)
        yield self.resources[R_ED_CUBICLES].request()
        yield from self.ed_treatment(t, ident)

    def ed_assessment(self, t: float, ident: int) -> Process:
        """Initial assessment (step 1); ambulance patients have it in their cubicle."""
        triage = self.resources[R_ED_TRIAGE]
        yield triage.request()
        self.rec.assess_t.append(t)
        self.rec.assess_wait.append(self.env.now - t)
        yield self.wait(self.sample(D_ED_ASSESSMENT, _RNG_ED))
        triage.release()

    def ed_treatment(
        self, t: float, ident: int | None, clinician: Any = None, census: bool = False
    ) -> Process:
        """Steps 3–4 holding a cubicle: treatment, decision, discharge or board for a bed.

        Args:
            t: ED arrival time (hours).
            ident: the attendance's record id (None for census occupants: not recorded).
            clinician: an ``ed.clinicians`` request already made (census), else made here.
            census: a census occupant (excluded from per-entity KPIs).
        """
        rec = self.rec
        clinicians = self.resources[R_ED_CLINICIANS]
        cubicles = self.resources[R_ED_CUBICLES]
        yield clinician if clinician is not None else clinicians.request(census=census)
        yield self.wait(self.sample(D_ED_TREATMENT, _RNG_ED))
        clinicians.release()
        decision: float = self.env.now
        admit = self.bernoulli(self.p_ed_admit[_day(decision)])
        if admit:
            if ident is not None:
                rec.crtp_open[ident] = (t, decision)
            yield self.beds.request(census=census)
        cubicles.release()
        now: float = self.env.now
        if ident is not None:
            del rec.ed_open[ident]
            rec.ed_done_t.append(t)
            rec.ed_done_dur.append(now - t)
            if admit:
                del rec.crtp_open[ident]
                rec.crtp_t.append(t)
                rec.crtp_dur.append(now - decision)
                if now > decision:
                    rec.boarded_t.append(t)
        if admit:
            yield from self.ward_stay(census=census)

    # -- 5.5–5.6 wards and discharge -----------------------------------------------------------

    def ward_stay(self, census: bool = False) -> Process:
        """An admission (bed just obtained): pathway, time to optimised, then discharge."""
        day = _day(self.env.now)
        pathway = self.categorical(self.p_pathway[day], _RNG_PATHWAY)
        los = self.sample(D_LOS_P0 + pathway, _RNG_LOS) * self.los_multiplier[day][pathway]
        yield self.wait(los)
        pending = self.optimise(pathway, census)
        yield from self.discharge(pathway, pending)

    def optimise(self, pathway: int, census: bool = False, initial: bool = False) -> Any:
        """The patient is medically optimised now (NCTR from now until leaving the G&A bed).

        Joins what the pathway waits for and returns the event to wait for, or None when the
        patient leaves at once (a P1/P3 token was available).
        """
        self.beds.change(nctr=1, pathway=pathway)
        if pathway == _P0:
            hour = self.p0_discharge_hour(self.env.now)
            return simpy.Event(self.env) if hour is None else self.at(float(hour))
        if pathway == _P2:
            return self.resources[R_P2_BEDS].request(census=census, initial=initial)
        if self.tokens[pathway] > 0:
            self.tokens[pathway] -= 1
            return None
        token = simpy.Event(self.env)
        self.token_waiting[pathway].append(token)
        self.beds.change(pathway=pathway, tokens=1)
        return token

    def p0_discharge_hour(self, t: float) -> int | None:
        """Hour boundary at which a P0 patient optimised at ``t`` leaves (§ 5.6), or None.

        Draws the whole sequence now: one ``u`` (stream ``discharge``) per boundary
        ``h ≥ ceil(t)`` with ``p0_hazard[h] > 0`` until ``u < p0_hazard[h]``.
        """
        rng = self.rng[_RNG_DISCHARGE]
        hazard = self.p0_hazard
        hours = self.p0_hours
        for j in range(bisect.bisect_left(hours, math.ceil(t)), len(hours)):
            h = hours[j]
            if rng.random() < hazard[h]:
                return int(h)
        return None

    def discharge(self, pathway: int, pending: Any) -> Process:
        """Wait for the pathway's exit, leave the G&A bed; P2 then holds a step-down bed."""
        if pending is not None:
            yield pending
        self.leave_bed(pathway)
        if pathway == _P2:
            p2 = self.resources[R_P2_BEDS]
            yield self.wait(self.sample(D_P2_LOS, _RNG_DISCHARGE))
            p2.release()

    def leave_bed(self, pathway: int) -> None:
        """An optimised patient leaves the G&A bed now; readmission draw (§ 5.6)."""
        self.beds.release()
        self.beds.change(nctr=-1, pathway=pathway)
        rng = self.rng[_RNG_READMISSION]
        if rng.random() < self.readmission_p[pathway]:
            when = self.env.now + self.c.readmission_window_hours * rng.random()
            self.spawn_at(when, lambda: self.front_door(when, _SRC_WALK_IN))

    def direct_admission(self, t: float) -> Process:
        """A direct admission arriving at ``t``: waits for a bed holding nothing."""
        yield self.beds.request()
        yield from self.ward_stay()

    # -- 5.7 generic queues --------------------------------------------------------------------

    def queue_customer(self, i: int) -> Process:
        """A customer of queue ``i``."""
        res = self.resources[N_BUILTIN_RESOURCES + i]
        yield res.request()
        yield self.wait(self.sample(N_BUILTIN_DISTS + i, N_BUILTIN_RNG_STREAMS + 2 * i + 1))
        res.release()

    def queue_maker(self, i: int) -> Callable[[float], Process]:
        """Arrival maker of queue ``i`` (the arrival time is not needed)."""

        def make(_t: float) -> Process:
            return self.queue_customer(i)

        return make

    # -- 5.8 start state -----------------------------------------------------------------------

    def census_stay(self, pathway: int, residual: float) -> Process:
        """A census G&A patient not yet optimised: ``residual`` hours to optimised."""
        yield self.wait(residual)
        pending = self.optimise(pathway, census=True)
        yield from self.discharge(pathway, pending)

    def census_p2(self, stay: float) -> Process:
        """A census P2 step-down patient holding a bed for ``stay`` hours."""
        yield self.wait(stay)
        self.resources[R_P2_BEDS].release()

    def place_census(self) -> None:
        """§ 5.8 start state at t = 0 (before the first hour-boundary work and any arrival)."""
        c = self.c
        rng = self.rng[_RNG_CENSUS]
        so_far = c.census_bed_los_so_far.tolist()
        pathways = c.census_bed_pathway.tolist()
        delayed = c.census_bed_delayed.tolist()
        residuals: list[float] = []
        for los_so_far, pathway, is_delayed in zip(so_far, pathways, delayed, strict=True):
            residual = 0.0
            if not is_delayed:
                for _ in range(_CENSUS_RESIDUAL_TRIES):
                    x = self.sample(D_LOS_P0 + pathway, _RNG_CENSUS)
                    if x > los_so_far:
                        residual = x - los_so_far
                        break
            residuals.append(residual)
        p2_stays = [sample_encoded(*self.dists[D_P2_LOS], rng) for _ in range(c.census_p2_occupied)]
        for _ in so_far:
            self.beds.occupy()
        cubicles = self.resources[R_ED_CUBICLES]
        clinicians = self.resources[R_ED_CLINICIANS]
        for _ in range(c.census_ed_occupants):
            cubicles.occupy()
            clinician = clinicians.request(census=True, initial=True)
            self.spawn(self.ed_treatment(0.0, None, clinician=clinician, census=True))
        p2 = self.resources[R_P2_BEDS]
        for stay in p2_stays:
            p2.occupy()
            self.spawn(self.census_p2(stay))
        for pathway, residual in zip(pathways, residuals, strict=True):
            if residual > 0:
                self.spawn(self.census_stay(pathway, residual))
            else:
                pending = self.optimise(pathway, census=True, initial=True)
                self.spawn(self.discharge(pathway, pending))

    # -- run -----------------------------------------------------------------------------------

    def run(self) -> None:
        """Set hour-0 capacities, the census, arrivals; process every event before end_hour."""
        c = self.c
        env = self.env
        for r, res in enumerate(self.resources):
            if r == R_WARD_BEDS:
                self.beds.set_hour(self.capacity[r][0], self.escalation_beds[0])
            else:
                res.set_capacity(self.capacity[r][0])
        first = _schedule_at(env, 0.0, URGENT)
        first.callbacks.append(lambda _event: self.hour_boundary(0))
        self.place_census()
        makers: list[Callable[[float], Process]] = [
            self.call_111,
            self.incident,
            lambda t: self.front_door(t, _SRC_WALK_IN),
            lambda t: self.front_door(t, _SRC_REFERRAL),
            self.direct_admission,
        ]
        streams = (S_CALLS_111, S_CALLS_999, S_ED_WALK_IN, S_DIRECT_REFERRAL, S_DIRECT_ADMISSIONS)
        for s, make in zip(streams, makers, strict=True):
            times = generate_arrivals(c.rate[s], self.rng[s])
            self.spawn(self.arrivals(times, make))
        for i in range(c.n_queues):
            times = generate_arrivals(
                c.rate[N_BUILTIN_STREAMS + i], self.rng[N_BUILTIN_RNG_STREAMS + 2 * i]
            )
            self.spawn(self.arrivals(times, self.queue_maker(i)))
        end = self.end
        events = 0
        while env.peek() < end:
            env.step()
            events += 1
        self.events = events
        for res in self.resources:
            res.integrals.advance(end)
            res.snapshots[c.total_days] = res.in_system

    # -- KPIs ----------------------------------------------------------------------------------

    def kpis(self) -> ReplicationOutput:
        """§ 7 KPIs overall and per measured day, in ``kpi_names`` order."""
        c = self.c
        rec = self.rec
        end = self.end
        period = Period(c.warmup_days, c.days)
        out: dict[str, tuple[float, F64]] = {}

        def arr(values: Sequence[float]) -> F64:
            return np.asarray(values, dtype=np.float64)

        ed_open_t = arr(list(rec.ed_open.values()))
        other_open_t = arr(list(rec.other_open.values()))
        ed_t, ed_dur = arr(rec.ed_done_t), arr(rec.ed_done_dur)
        four = threshold_records(ed_t, ed_dur, ed_open_t, end - ed_open_t, FOUR_HOURS, False)
        out["ed.four_hour_pct"] = ratio_kpi(period, *four, scale=100.0)
        all_open_t = np.concatenate([ed_open_t, other_open_t])
        all_types = threshold_records(
            np.concatenate([ed_t, arr(rec.other_done_t)]),
            np.concatenate([ed_dur, arr(rec.other_done_dur)]),
            all_open_t,
            end - all_open_t,
            FOUR_HOURS,
            False,
        )
        out["all_types.four_hour_pct"] = ratio_kpi(period, *all_types, scale=100.0)
        twelve = threshold_records(ed_t, ed_dur, ed_open_t, end - ed_open_t, TWELVE_HOURS, True)
        out["ed.twelve_hour_pct"] = ratio_kpi(period, *twelve, scale=100.0)
        assess_t, assess_wait = arr(rec.assess_t), arr(rec.assess_wait)
        out["ed.time_to_assessment_mean_hours"] = ratio_kpi(period, assess_t, assess_wait)
        out["ed.time_to_assessment_p95_hours"] = percentile_kpi(period, assess_t, assess_wait)
        crtp_open = np.asarray(list(rec.crtp_open.values()), dtype=np.float64).reshape(-1, 2)
        crtp = threshold_records(
            arr(rec.crtp_t),
            arr(rec.crtp_dur),
            crtp_open[:, 0],
            end - crtp_open[:, 1],
            CRTP_THRESHOLD_HOURS,
            True,
        )
        out["ed.crtp_over_1h_pct"] = ratio_kpi(period, *crtp, scale=100.0)
        boarding_now = crtp_open[end > crtp_open[:, 1], 0]
        out["ed.boarded"] = sum_kpi(period, np.concatenate([arr(rec.boarded_t), boarding_now]))
        hand_open_t = arr(list(rec.handover_open.values()))
        hand_t, delay = arr(rec.handover_t), arr(rec.handover_delay)
        for key, limit in (
            ("ambulance.handover_over_30_pct", HANDOVER_30_HOURS),
            ("ambulance.handover_over_60_pct", HANDOVER_60_HOURS),
        ):
            records = threshold_records(hand_t, delay, hand_open_t, end - hand_open_t, limit, True)
            out[key] = ratio_kpi(period, *records, scale=100.0)
        lost = np.maximum(0.0, delay - c.handover_target_hours)
        out["ambulance.lost_hours"] = sum_kpi(period, hand_t, lost)
        out["ambulance.response_mean_minutes"] = ratio_kpi(
            period, arr(rec.response_t), arr(rec.response_hours) * 60.0
        )
        out["ambulance.conveyance_pct"] = ratio_kpi(
            period, arr(rec.incident_t), arr(rec.incident_conveyed), scale=100.0
        )

        ward = self.beds.integrals.totals()
        out["ward.occupancy_mean_pct"] = time_ratio(
            period, ward[:, _BUSY], ward[:, _CAPACITY], 100.0
        )
        over, over_daily = time_mean(period, ward[:, _W_OVER_92])
        out["ward.hours_over_92_pct"] = (100.0 * over, 100.0 * over_daily)
        full, full_daily = time_mean(period, ward[:, _W_AT_100])
        out["ward.hours_at_100_pct"] = (100.0 * full, 100.0 * full_daily)
        out["ward.escalation_beds_used_mean"] = time_mean(period, ward[:, _W_ESCALATION_USED])
        out["ward.nctr_mean"] = time_mean(period, ward[:, _W_NCTR])
        measured = slice(c.warmup_days, c.total_days)
        for pathway, slot in _W_DELAYED.items():
            bed_days = ward[measured, slot] / HOURS_PER_DAY
            out[f"ward.delayed_bed_days_p{pathway}"] = (float(bed_days.sum()), bed_days)
        p2 = self.resources[R_P2_BEDS].integrals.totals()
        out["p1.queue_mean"] = time_mean(period, ward[:, _W_TOKEN_QUEUE[_P1]])
        out["p2.queue_mean"] = time_mean(period, p2[:, _WAITING])
        out["p3.queue_mean"] = time_mean(period, ward[:, _W_TOKEN_QUEUE[_P3]])
        out["nhs111.abandon_pct"] = ratio_kpi(
            period, arr(rec.call_t), arr(rec.call_abandoned), scale=100.0
        )
        disp_t = arr(rec.disposition_t)
        disposition = np.asarray(rec.disposition, dtype=np.int64)
        for k, name in enumerate(NHS111_DISPOSITIONS):
            out[f"nhs111.disposition_{name}_pct"] = ratio_kpi(
                period, disp_t, (disposition == k).astype(np.float64), scale=100.0
            )

        for name, res in zip(c.resource_names, self.resources, strict=True):
            totals = res.integrals.totals()
            out[f"{name}.utilisation"] = time_ratio(period, totals[:, _BUSY], totals[:, _CAPACITY])
            out[f"{name}.mean_wait_hours"] = ratio_kpi(
                period, arr(res.wait_join), arr(res.wait_hours)
            )
            out[f"{name}.mean_queue_length"] = time_mean(period, totals[:, _WAITING])
            arrivals = arr(res.arrivals)[measured]
            departures = arr(res.departures)[measured]
            out[f"{name}.arrivals"] = (float(arrivals.sum()), arrivals)
            out[f"{name}.departures"] = (float(departures.sum()), departures)
            snaps = arr(res.snapshots)
            out[f"{name}.in_system_start"] = (
                float(snaps[c.warmup_days]),
                snaps[c.warmup_days : c.total_days],
            )
            out[f"{name}.in_system_end"] = (
                float(snaps[c.total_days]),
                snaps[c.warmup_days + 1 : c.total_days + 1],
            )

        keys = tuple(kpi_names(c.queue_names))
        overall = np.array([out[k][0] for k in keys], dtype=np.float64)
        daily = np.stack([np.asarray(out[k][1], dtype=np.float64) for k in keys], axis=1)
        return ReplicationOutput(keys=keys, overall=overall, daily=daily, events=self.events)


def run_replication(
    compiled: CompiledScenario, rngs: Sequence[np.random.Generator]
) -> ReplicationOutput:
    """Simulate one replication with the SimPy reference engine (an ``Engine``).

    Args:
        compiled: the compiled scenario (the only input; see ``docs/simulation.md``).
        rngs: this replication's generators, one per random stream in
            ``compiled.rng_stream_names`` order
            (``replication_generators(seed, replications, n_queues)[i]``); they are consumed.

    Returns:
        Every KPI of ``kpi_names(compiled.queue_names)`` over the measured period and per
        measured day (NaN where undefined), and the number of events processed.

    Raises:
        ValueError: the number of generators does not match the scenario's streams.
    """
    model = _Model(compiled, rngs)
    model.run()
    return model.kpis()
