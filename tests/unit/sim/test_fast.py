"""Validation of the compiled (numba) simulation engine ``flowplan.sim.fast``.

Reference values:

* M/M/c: Erlang C (A. K. Erlang, 1917; e.g. Gross, Shortle, Thompson & Harris, *Fundamentals of
  Queueing Theory*, 4th ed., § 2.3) via :func:`flowplan.capacity.queueing.mmc`: with c = 2
  servers and a 1-minute mean service, the mean wait Wq is 0.3333, 0.9608, 2.6036 and 9.2564
  minutes at ρ = 0.5, 0.7, 0.85 and 0.95, and utilisation is ρ.
* Little's law L = λW (J. D. C. Little, 1961) for every resource queue.
* The Lindley recursion W(n+1) = max(0, W(n) + S − (A(n+1) − A(n))) (D. V. Lindley, 1952) for a
  single FIFO server with deterministic service.
* Poisson arrival counts: mean = Σ rate over the day (docs/simulation.md § 3), standard
  deviation = √mean.
"""

from __future__ import annotations

import copy
import math
from datetime import date
from typing import Any

import numpy as np
import pytest

from flowplan.capacity.queueing import mmc
from flowplan.sim import (
    compile_scenario,
    example_scenario,
    generate_arrivals,
    kpi_names,
    queue_scenario,
    replication_generators,
    validate_scenario,
)
from flowplan.sim.compiled import (
    N_BUILTIN_RNG_STREAMS,
    RESOURCE_NAMES,
    S_CALLS_111,
    S_DIRECT_ADMISSIONS,
    CompiledScenario,
)
from flowplan.sim.fast import run_replication
from flowplan.sim.output import ReplicationOutput
from flowplan.sim.scenario import scenario_to_dict

SMALL_POPULATION = 100_000  # ≈ 35,000 ED attendances a year: fast enough for unit tests


def _run(c: CompiledScenario, seed: int = 11, index: int = 0) -> ReplicationOutput:
    return run_replication(c, replication_generators(seed, index + 1, c.n_queues)[index])


def _example(days: int, warmup: int, **changes: Any) -> CompiledScenario:
    data = scenario_to_dict(example_scenario(SMALL_POPULATION))
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return compile_scenario(validate_scenario(data), days, warmup)


# --- (1) M/M/c against Erlang C ------------------------------------------------------------------

# (ρ, replications, measured days): sized so the standard error of the mean wait is ≤ ~1 % of
# Wq (measured: 0.5 %, 0.6 %, 0.7 %, 1.0 %), so the 3 % tolerance is about 3 standard errors.
MMC_CASES = [(0.5, 8, 120), (0.7, 8, 120), (0.85, 16, 120), (0.95, 16, 400)]


@pytest.mark.parametrize(("rho", "replications", "days"), MMC_CASES)
def test_mmc_mean_wait_and_utilisation_within_3pct_of_erlang_c(
    rho: float, replications: int, days: int
) -> None:
    servers, service_minutes = 2, 1.0
    rate = rho * servers / service_minutes  # arrivals per minute
    c = compile_scenario(queue_scenario(rate, service_minutes, servers, unit="minute"), days, 1)
    ref = mmc(rate, service_minutes, servers)  # minutes
    waits, utils = [], []
    for rngs in replication_generators(20250601, replications, c.n_queues):
        kpi = run_replication(c, rngs).as_dict()
        waits.append(kpi["queue.mean_wait_hours"] * 60.0)
        utils.append(kpi["queue.utilisation"])
    assert np.mean(waits) == pytest.approx(ref.mean_wait, rel=0.03)
    assert np.mean(utils) == pytest.approx(ref.utilisation, rel=0.03)
    assert ref.utilisation == pytest.approx(rho)


def test_erlang_c_reference_values_cited_in_the_docstring() -> None:
    expected = {0.5: 0.3333, 0.7: 0.9608, 0.85: 2.6036, 0.95: 9.2564}
    for rho, wq in expected.items():
        assert mmc(2 * rho, 1.0, 2).mean_wait == pytest.approx(wq, abs=1e-4)


# --- (2) Little's law on every resource --------------------------------------------------------


def test_littles_law_on_every_resource_of_the_example() -> None:
    # No 111 patience: abandoned calls wait in the queue (in L) but are excluded from the mean
    # wait by definition (docs/simulation.md § 7), so L = λW holds for served entities only.
    c = _example(days=240, warmup=35, nhs111__patience=None)
    kpi = _run(c).as_dict()
    hours = 24.0 * c.days
    checked = 0
    for r in RESOURCE_NAMES:
        lq = kpi[f"{r}.mean_queue_length"]
        lam = kpi[f"{r}.arrivals"] / hours
        wq = kpi[f"{r}.mean_wait_hours"]
        if kpi[f"{r}.arrivals"] == 0:
            continue
        # L = λW up to end effects (entities waiting across the period's ends): 5 % + 0.005.
        assert lq == pytest.approx(lam * wq, rel=0.05, abs=0.005), r
        checked += 1
    assert checked == len(RESOURCE_NAMES)


# --- (3) conservation -------------------------------------------------------------------------


def _conservation(out: ReplicationOutput, resources: tuple[str, ...]) -> None:
    idx = {k: i for i, k in enumerate(out.keys)}
    for r in resources:
        cols = [idx[f"{r}.{s}"] for s in ("in_system_start", "arrivals", "departures")]
        end = idx[f"{r}.in_system_end"]
        for row in (out.overall, *out.daily):
            start, arrivals, departures = (row[j] for j in cols)
            assert start + arrivals - departures == row[end], r
        # days chain: the end of day d is the start of day d + 1
        starts = out.daily[:, cols[0]]
        np.testing.assert_array_equal(out.daily[:-1, end], starts[1:])


def test_conservation_per_resource_overall_and_every_day() -> None:
    c = _example(days=60, warmup=7)
    out = _run(c)
    _conservation(out, c.resource_names)
    kpi = out.as_dict()
    assert kpi["ed.triage.arrivals"] > 1000 and kpi["ward.beds.arrivals"] > 500


def _census_run(beds: list[dict[str, Any]]) -> tuple[CompiledScenario, ReplicationOutput]:
    census = {"occupied_beds": beds, "ed_occupants": 12, "p2_occupied": 20}
    c = _example(days=20, warmup=0, census=census)
    return c, _run(c)


def test_census_is_the_start_state_of_day_0() -> None:
    # P0/P1/P3 only: nobody can leave a G&A bed at t = 0 (no discharge share or tokens at 00:00)
    beds = [
        {"los_so_far_hours": 24.0 * (i % 10 + 1), "pathway": ("P0", "P1", "P3")[i % 3]}
        for i in range(150)
    ]
    c, out = _census_run(beds)
    assert c.discharge_profile[0] == 0.0 and c.p1_release[0] == 0 and c.p3_release[0] == 0
    _conservation(out, c.resource_names)
    kpi = out.as_dict()
    assert kpi["ward.beds.in_system_start"] == 150.0
    assert kpi["ed.cubicles.in_system_start"] == 12.0
    assert kpi["p2.beds.in_system_start"] == 20.0
    # census entities are excluded from per-entity KPIs: ED occupants are not waits
    assert kpi["ed.clinicians.in_system_start"] == 12.0


def test_conservation_with_census_delayed_patients_and_no_warmup() -> None:
    beds = [
        {"los_so_far_hours": 30.0 * (i + 1), "pathway": f"P{i % 4}", "delayed": i % 3 == 0}
        for i in range(150)
    ]
    c, out = _census_run(beds)
    _conservation(out, c.resource_names)
    kpi = out.as_dict()
    # delayed P2 patients given a P2 bed at t = 0 left their G&A bed during placement
    moved = kpi["p2.beds.in_system_start"] - 20.0
    assert moved > 0
    assert kpi["ward.beds.in_system_start"] >= 150.0 - moved


def test_generic_queue_conservation() -> None:
    c = compile_scenario(queue_scenario(3.0, 0.5, 2), days=10, warmup_days=1)
    _conservation(_run(c), c.resource_names)


# --- (4) extremes ----------------------------------------------------------------------------


def test_huge_bed_base_means_no_exit_block() -> None:
    c = _example(days=60, warmup=7, wards__core_beds=100_000)
    kpi = _run(c).as_dict()
    assert kpi["ed.boarded"] == 0.0
    assert kpi["ward.hours_at_100_pct"] == 0.0
    assert kpi["ward.beds.mean_wait_hours"] == 0.0
    assert kpi["ed.crtp_over_1h_pct"] == 0.0
    assert kpi["ward.beds.arrivals"] > 500


def test_route_with_probability_zero_sends_nobody() -> None:
    no_sdec = {
        "walk_in": {"ed": 0.76, "utc": 0.24, "sdec": 0.0},
        "nhs111_ed": {"ed": 0.9, "utc": 0.1, "sdec": 0.0},
        "nhs111_utc": {"ed": 0.1, "utc": 0.9, "sdec": 0.0},
        "direct_referral": {"ed": 0.65, "utc": 0.35, "sdec": 0.0},
    }
    c = _example(days=30, warmup=3, front_door=no_sdec)
    kpi = _run(c).as_dict()
    assert kpi["sdec.chairs.arrivals"] == 0.0
    assert kpi["sdec.chairs.utilisation"] == 0.0
    assert kpi["utc.clinicians.arrivals"] > 100


def _single_queue(rate: float, service: float, days: int) -> CompiledScenario:
    data = scenario_to_dict(queue_scenario(rate, 1.0, 1))
    data["queues"][0]["service"] = {"kind": "deterministic", "value": service}
    return compile_scenario(validate_scenario(data), days, 0)


def _queue_arrivals(c: CompiledScenario, seed: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    rngs = replication_generators(seed, 1, c.n_queues)[0]
    return generate_arrivals(c.rate[-1], rngs[N_BUILTIN_RNG_STREAMS])


def test_deterministic_service_wider_spacing_means_time_in_system_is_service() -> None:
    service = 0.001  # hours
    c = _single_queue(rate=0.5, service=service, days=20)
    arrivals = _queue_arrivals(c, seed=11)
    assert np.diff(arrivals).min() > service  # every customer finds the server free
    kpi = _run(c, seed=11).as_dict()
    assert kpi["queue.mean_wait_hours"] == 0.0  # time in system = service time exactly
    assert kpi["queue.mean_queue_length"] == 0.0
    expected_busy = len(arrivals) * service / (24.0 * c.days)
    assert kpi["queue.utilisation"] == pytest.approx(expected_busy, rel=1e-9)
    assert kpi["queue.arrivals"] == len(arrivals)


def test_deterministic_service_waits_follow_the_lindley_recursion() -> None:
    service = 0.9  # hours, one server, Poisson(1 per hour) arrivals: ρ = 0.9
    c = _single_queue(rate=1.0, service=service, days=30)
    arrivals = _queue_arrivals(c, seed=5)
    waits = np.zeros(len(arrivals))
    for n in range(1, len(arrivals)):
        waits[n] = max(0.0, waits[n - 1] + service - (arrivals[n] - arrivals[n - 1]))
    started = arrivals + waits < c.end_hour
    kpi = _run(c, seed=5).as_dict()
    assert kpi["queue.mean_wait_hours"] == pytest.approx(waits[started].mean(), rel=1e-9)
    assert kpi["queue.mean_wait_hours"] > 1.0  # there is real queueing to check


def test_deterministic_los_discharges_at_the_next_discharge_hour() -> None:
    los, discharge_hour, days = 30.0, 15, 20
    profile = [0.0] * 24
    profile[discharge_hour] = 1.0
    data = {
        "name": "deterministic_los",
        "start_date": "2025-01-06",
        "demand": {"direct_admissions": {"daily_mean": 12.0}},
        "wards": {
            "core_beds": 10_000,
            "pathway_mix": {"p0": 1.0},
            "los": {k: {"kind": "deterministic", "value": los} for k in ("p0", "p1", "p2", "p3")},
        },
        "discharge": {
            "profile": profile,
            "weekend_factor": 1.0,
            "p1_starts_per_day": 0.0,
            "p2_beds": 0,
            "p2_los": {"kind": "deterministic", "value": 1.0},
            "p3_placements_per_day": 0.0,
        },
    }
    c = compile_scenario(validate_scenario(data), days, 0)
    rngs = replication_generators(3, 1, 0)[0]
    admitted = generate_arrivals(c.rate[S_DIRECT_ADMISSIONS], rngs[S_DIRECT_ADMISSIONS])
    optimised = admitted + los
    # the first hour boundary h ≥ optimised time with h % 24 == 15 (hazard 1 there, 0 elsewhere)
    first = np.ceil(optimised)
    leave = first + (discharge_hour - first) % 24
    end = c.end_hour
    nctr = np.clip(np.minimum(leave, end) - optimised, 0.0, None).sum() / end
    occupied = (np.minimum(leave, end) - admitted).sum()
    out = _run(c, seed=3)
    kpi = out.as_dict()
    assert kpi["ward.nctr_mean"] == pytest.approx(nctr, rel=1e-9)
    assert kpi["ward.beds.utilisation"] == pytest.approx(occupied / (10_000 * end), rel=1e-9)
    departures = out.daily[:, out.keys.index("ward.beds.departures")]
    expected = np.bincount((leave[leave < end] // 24).astype(int), minlength=days)
    np.testing.assert_array_equal(departures, expected)


# --- (5) seeds ---------------------------------------------------------------------------------


def test_same_seed_identical_different_seed_differs() -> None:
    c = _example(days=20, warmup=3)
    a, b, other = _run(c, seed=1), _run(c, seed=1), _run(c, seed=2)
    np.testing.assert_array_equal(a.overall, b.overall)
    np.testing.assert_array_equal(a.daily, b.daily)
    assert a.events == b.events
    assert not np.array_equal(a.overall, other.overall, equal_nan=True)
    assert a.keys == tuple(kpi_names(c.queue_names))
    assert a.daily.shape == (20, len(a.keys))


# --- (6) arrivals match the input rate profile ---------------------------------------------------


def test_mean_arrivals_over_replications_match_the_rate_profile() -> None:
    c = _example(days=28, warmup=0)
    replications = 10
    counts = np.array(
        [
            run_replication(c, rngs).daily[:, kpi_names().index("nhs111.handlers.arrivals")]
            for rngs in replication_generators(99, replications, 0)
        ]
    )
    expected = c.rate[S_CALLS_111].reshape(c.total_days, 24).sum(axis=1)  # calls per day
    mean = counts.mean(axis=0)
    # Poisson: sd of a replication mean = √(expected / R); every day within 4 sd, total within 3
    assert np.all(np.abs(mean - expected) <= 4.0 * np.sqrt(expected / replications))
    total_sd = math.sqrt(expected.sum() / replications)
    assert abs(mean.sum() - expected.sum()) <= 3.0 * total_sd
    # the weekly profile is reproduced: the busiest weekday is the busiest in the input
    assert int(np.argmax(mean[:7])) == int(np.argmax(expected[:7]))


def test_start_date_is_used_for_weekdays() -> None:
    c = _example(days=7, warmup=0)
    assert c.date_of_day(0) == date(2025, 4, 7)
    assert copy.copy(c.day_of_week[:7]).tolist() == [0, 1, 2, 3, 4, 5, 6]
