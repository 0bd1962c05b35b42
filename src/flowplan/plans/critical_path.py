"""Critical path of a plan's milestones (the critical path method, CPM).

Each milestone takes ``duration`` days and can start only when every milestone it depends on has
finished. A forward pass gives the earliest start and finish, a backward pass the latest; the
slack is their difference, and the milestones with zero slack form the critical path — the chain
that sets how long the whole programme takes (Kelley & Walker, "Critical-path planning and
scheduling", 1959). The graph work (cycle detection, topological order) is networkx's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import networkx as nx


@dataclass(frozen=True)
class Activity:
    """One milestone as the method sees it: an id, a duration in days and its predecessors."""

    id: str
    duration: int
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    """Earliest/latest start and finish of one activity, in days from the programme start."""

    id: str
    duration: int
    earliest_start: int
    earliest_finish: int
    latest_start: int
    latest_finish: int

    @property
    def slack(self) -> int:
        """Days the activity can slip without delaying the programme."""
        return self.latest_start - self.earliest_start

    @property
    def critical(self) -> bool:
        """Whether the activity is on a critical path (zero slack)."""
        return self.slack == 0


@dataclass(frozen=True)
class Schedule:
    """The result of the critical path method.

    Attributes:
        duration: days from the start of the first activity to the end of the last.
        timings: one per activity, in topological order (ties by id).
        critical_path: the ids of one longest chain, first to last.
    """

    duration: int
    timings: tuple[Timing, ...]
    critical_path: tuple[str, ...]

    def timing(self, activity_id: str) -> Timing:
        """The timing of one activity."""
        for t in self.timings:
            if t.id == activity_id:
                return t
        raise KeyError(activity_id)


class CycleError(ValueError):
    """The dependencies loop back on themselves; ``cycle`` lists the ids in the loop."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        super().__init__("milestone dependencies form a cycle: " + " → ".join(self.cycle))


class UnknownDependencyError(ValueError):
    """An activity depends on an id that is not an activity."""

    def __init__(self, activity: str, missing: str) -> None:
        self.activity, self.missing = activity, missing
        super().__init__(f"milestone {activity} depends on unknown milestone {missing}")


def _graph(activities: Sequence[Activity]) -> nx.DiGraph:
    graph = nx.DiGraph()
    ids = {a.id for a in activities}
    for a in activities:
        graph.add_node(a.id)
    for a in activities:
        for before in a.depends_on:
            if before not in ids:
                raise UnknownDependencyError(a.id, before)
            graph.add_edge(before, a.id)
    return graph


def find_cycle(activities: Sequence[Activity]) -> list[str] | None:
    """The ids of one dependency cycle (first id repeated at the end), or None if acyclic."""
    graph = _graph(activities)
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [str(u) for u, _ in edges] + [str(edges[0][0])]


def critical_path(activities: Sequence[Activity]) -> Schedule:
    """Schedule the activities and find the critical path.

    Raises:
        CycleError: the dependencies contain a cycle.
        UnknownDependencyError: an activity depends on an unknown id.
        ValueError: a duration is negative or an id repeats.
    """
    ids = [a.id for a in activities]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"milestone ids repeat: {', '.join(repeated)}")
    for a in activities:
        if a.duration < 0:
            raise ValueError(f"milestone {a.id} has a negative duration ({a.duration} days)")
    cycle = find_cycle(activities)
    if cycle is not None:
        raise CycleError(cycle)
    if not activities:
        return Schedule(0, (), ())
    graph = _graph(activities)
    duration = {a.id: a.duration for a in activities}
    order = [str(n) for n in nx.lexicographical_topological_sort(graph)]

    early_start: dict[str, int] = {}
    for node in order:
        early_start[node] = max(
            (early_start[p] + duration[p] for p in graph.predecessors(node)), default=0
        )
    total = max(early_start[n] + duration[n] for n in order)
    late_finish: dict[str, int] = {}
    for node in reversed(order):
        late_finish[node] = min(
            (late_finish[s] - duration[s] for s in graph.successors(node)), default=total
        )
    timings = tuple(
        Timing(
            id=n,
            duration=duration[n],
            earliest_start=early_start[n],
            earliest_finish=early_start[n] + duration[n],
            latest_start=late_finish[n] - duration[n],
            latest_finish=late_finish[n],
        )
        for n in order
    )
    by_id = {t.id: t for t in timings}
    # Walk one zero-slack chain from a critical start to a critical end.
    path: list[str] = []
    current = next(t.id for t in timings if t.critical and t.earliest_start == 0)
    while True:
        path.append(current)
        following = [
            str(s)
            for s in sorted(graph.successors(current))
            if by_id[str(s)].critical
            and by_id[str(s)].earliest_start == by_id[current].earliest_finish
        ]
        if not following:
            break
        current = following[0]
    return Schedule(total, timings, tuple(path))


class MilestoneLike(Protocol):
    """What scheduling needs of a plan milestone (``flowplan.plans.model.Milestone``)."""

    @property
    def id(self) -> str: ...
    @property
    def duration_days(self) -> int: ...
    @property
    def depends_on(self) -> list[str]: ...
    @property
    def due(self) -> date | None: ...


@dataclass(frozen=True)
class Programme:
    """A plan's milestones scheduled in calendar time.

    Attributes:
        schedule: the CPM schedule, or None when there are no milestones or they can't be
            scheduled (a cycle, repeated ids).
        cycle: the ids of a dependency cycle, when there is one.
        start: the date of day 0 of the schedule (None when there is no schedule).
        note: why there is no schedule, in words ("" when there is one).
    """

    schedule: Schedule | None
    cycle: list[str] | None
    start: date | None
    note: str = ""

    @property
    def finish(self) -> date | None:
        """Earliest finish of the whole programme."""
        if self.schedule is None or self.start is None:
            return None
        return self.start + timedelta(days=self.schedule.duration)


def schedule_programme(milestones: Sequence[MilestoneLike], plan_start: date) -> Programme:
    """Schedule a plan's milestones and place day 0 in the calendar.

    Dependencies on unknown milestones are left out (the plan's integrity check reports them).
    The programme starts when its earliest dated first milestone (one that depends on nothing)
    starts — its due date less its duration, so a zero-day start gate gives its own due date —
    or on ``plan_start`` when no first milestone is dated.
    """
    if not milestones:
        return Programme(None, None, None, "The plan has no milestones.")
    known = {m.id for m in milestones}
    activities = [
        Activity(m.id, m.duration_days, tuple(d for d in m.depends_on if d in known))
        for m in milestones
    ]
    cycle = find_cycle(activities)
    if cycle is not None:
        return Programme(None, cycle, None, f"No critical path: {CycleError(cycle)}.")
    try:
        schedule = critical_path(activities)
    except ValueError as exc:  # repeated ids: the integrity check reports them
        return Programme(None, None, None, f"No critical path: {exc}.")
    starts = [
        m.due - timedelta(days=m.duration_days)
        for m in milestones
        if m.due is not None and not any(d in known for d in m.depends_on)
    ]
    return Programme(schedule, None, min(starts, default=plan_start))
