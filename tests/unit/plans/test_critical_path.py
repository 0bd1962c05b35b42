"""Critical path method on networks worked by hand (forward and backward passes shown)."""

from __future__ import annotations

import pytest

from flowplan.plans.critical_path import (
    Activity,
    CycleError,
    UnknownDependencyError,
    critical_path,
    find_cycle,
)

# A(10) → B(20) → E(5); A → C(5) → D(10) → E.
# Forward: A 0–10; B 10–30; C 10–15; D 15–25; E starts max(30, 25) = 30, ends 35.
# Backward: E 30–35; B latest 10–30; D latest 20–30; C latest 15–20; A latest 0–10.
# Slack: A 0, B 0, E 0, C 5, D 5 → critical path A, B, E; duration 35 days.
NETWORK = [
    Activity("A", 10),
    Activity("B", 20, ("A",)),
    Activity("C", 5, ("A",)),
    Activity("D", 10, ("C",)),
    Activity("E", 5, ("B", "D")),
]


def test_known_network() -> None:
    schedule = critical_path(NETWORK)
    assert schedule.duration == 35
    assert schedule.critical_path == ("A", "B", "E")
    expected = {  # id: (ES, EF, LS, LF, slack)
        "A": (0, 10, 0, 10, 0),
        "B": (10, 30, 10, 30, 0),
        "C": (10, 15, 15, 20, 5),
        "D": (15, 25, 20, 30, 5),
        "E": (30, 35, 30, 35, 0),
    }
    for t in schedule.timings:
        got = (t.earliest_start, t.earliest_finish, t.latest_start, t.latest_finish, t.slack)
        assert got == expected[t.id], t.id
    assert [t.id for t in schedule.timings if t.critical] == ["A", "B", "E"]


def test_parallel_starts_and_ends() -> None:
    # Two independent chains X(3)→Y(4) = 7 days and P(6) = 6 days: X, Y critical, P slack 1.
    schedule = critical_path([Activity("X", 3), Activity("Y", 4, ("X",)), Activity("P", 6)])
    assert schedule.duration == 7
    assert schedule.critical_path == ("X", "Y")
    assert schedule.timing("P").slack == 1


def test_zero_duration_milestone_on_the_path() -> None:
    # A gate of 0 days between A(5) and B(5) keeps the chain: 10 days, all critical.
    schedule = critical_path(
        [Activity("A", 5), Activity("gate", 0, ("A",)), Activity("B", 5, ("gate",))]
    )
    assert schedule.duration == 10
    assert schedule.critical_path == ("A", "gate", "B")


def test_cycle_is_reported_with_its_members() -> None:
    looped = [Activity("A", 1, ("C",)), Activity("B", 1, ("A",)), Activity("C", 1, ("B",))]
    cycle = find_cycle(looped)
    assert cycle is not None and set(cycle) == {"A", "B", "C"} and cycle[0] == cycle[-1]
    with pytest.raises(CycleError, match="form a cycle"):
        critical_path(looped)
    assert find_cycle(NETWORK) is None


def test_unknown_dependency_and_bad_input() -> None:
    with pytest.raises(UnknownDependencyError, match="A depends on unknown milestone Z"):
        critical_path([Activity("A", 1, ("Z",))])
    with pytest.raises(ValueError, match="negative duration"):
        critical_path([Activity("A", -1)])
    with pytest.raises(ValueError, match="ids repeat: A"):
        critical_path([Activity("A", 1), Activity("A", 2)])
    assert critical_path([]).duration == 0
