"""The SimPy reference engine against queueing theory, conservation and extreme cases.

Reference values: Erlang C (``flowplan.capacity.queueing.mmc``: Wq = C(c, a)·E[S]/(c − a),
ρ = λ·E[S]/c; Erlang 1917, see e.g. Gross & Harris, *Fundamentals of Queueing Theory*, § 2.3) and
Little's law Lq = λ·Wq (Little 1961). Definitions of the KPIs: ``docs/simulation.md`` § 7.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from flowplan.capacity.queueing import mmc
from flowplan.sim import (
    compile_scenario,
    example_scenario,
    queue_scenario,
    replication_generators,
    validate_scenario,
)
from flowplan.sim.compiled import CompiledScenario
from flowplan.sim.output import ReplicationOutput
from flowplan.sim.reference import run_replication
from flowplan.sim.scenario import scenario_to_dict

SMALL_POPULATION = 100_000


def run(compiled: CompiledScenario, seed: int | None = None, replication: int = 0) -> Any:
    """One replication with the scenario's seed (or ``seed``)."""
    gens = replication_generators(
        compiled.seed if seed is None else seed, replication + 1, compiled.n_queues
    )
    return run_replication(compiled, gens[replication])


def kpi(out: ReplicationOutput, key: str) -> float:
    return out.as_dict()[key]


@pytest.fixture(scope="module")
def small_example() -> tuple[CompiledScenario, ReplicationOutput]:
    """The example system for 100,000 people, 28 measured days after 7 warm-up days."""
    compiled = compile_scenario(example_scenario(SMALL_POPULATION), days=28, warmup_days=7)
    return compiled, run(compiled)


def example_dict() -> dict[str, Any]:
    return copy.deepcopy(scenario_to_dict(example_scenario(SMALL_POPULATION)))


# --- (1) M/M/c against Erlang C -------------------------------------------------------------


def test_mmc_mean_wait_and_utilisation_match_erlang_c() -> None:
    # λ = 4/h, E[S] = 0.5 h, c = 3: a = 2 Erlangs, ρ = 2/3, Erlang C = 4/9, Wq = 2/9 h.
    lam, es, c = 4.0, 0.5, 3
    theory = mmc(lam, es, c)
    assert theory.mean_wait == pytest.approx(2 / 9)
    # 10 replications of 200 measured days (≈ 19,200 customers each) after 2 warm-up days.
    compiled = compile_scenario(queue_scenario(lam, es, c), days=200, warmup_days=2)
    gens = replication_generators(compiled.seed, 10, compiled.n_queues)
    outs = [run_replication(compiled, g) for g in gens]
    for key, expected in (
        ("queue.mean_wait_hours", theory.mean_wait),
        ("queue.utilisation", theory.utilisation),
        ("queue.mean_queue_length", theory.mean_queue_length),
    ):
        values = np.array([kpi(o, key) for o in outs])
        half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
        # the analytic value lies in the replications' 95 % confidence interval
        assert abs(values.mean() - expected) <= half, (key, values.mean(), half, expected)
        # and the interval is informative (half-width under 10 % of the value)
        assert half < 0.1 * expected


# --- (2) Little's law -----------------------------------------------------------------------


def test_littles_law_on_the_queue() -> None:
    # Lq = λ·Wq with λ the observed arrival rate; only the customers waiting at the period's
    # edges break the identity, so 2 % over 120 days.
    compiled = compile_scenario(queue_scenario(4.0, 0.5, 3), days=120, warmup_days=2)
    out = run(compiled).as_dict()
    lam = out["queue.arrivals"] / (24.0 * compiled.days)
    assert out["queue.mean_queue_length"] == pytest.approx(
        lam * out["queue.mean_wait_hours"], rel=0.02
    )


@pytest.mark.parametrize(
    "resource", ["ambulance.vehicles", "ed.triage", "ed.clinicians", "utc.clinicians"]
)
def test_littles_law_per_resource(
    small_example: tuple[CompiledScenario, ReplicationOutput], resource: str
) -> None:
    # Waits here are minutes to an hour against a 28-day period: edge effects are a few %;
    # 10 % relative or 0.01 waiting in absolute terms. (Not nhs111.handlers: abandoned calls
    # queue but are excluded from the mean wait, so Lq > λ·Wq there by design.)
    compiled, out = small_example
    k = out.as_dict()
    lam = k[f"{resource}.arrivals"] / (24.0 * compiled.days)
    assert k[f"{resource}.mean_queue_length"] == pytest.approx(
        lam * k[f"{resource}.mean_wait_hours"], rel=0.10, abs=0.01
    )


# --- (3) conservation -----------------------------------------------------------------------


def _assert_conservation(compiled: CompiledScenario, out: ReplicationOutput) -> None:
    keys = list(out.keys)
    for name in compiled.resource_names:
        idx = [keys.index(f"{name}.{s}") for s in ("in_system_start", "arrivals", "departures")]
        end = keys.index(f"{name}.in_system_end")
        start, arrivals, departures = (out.overall[i] for i in idx)
        assert start + arrivals - departures == out.overall[end], name
        d_start, d_arr, d_dep = (out.daily[:, i] for i in idx)
        np.testing.assert_array_equal(d_start + d_arr - d_dep, out.daily[:, end], err_msg=name)
        # consecutive days chain: each day starts where the previous ended
        np.testing.assert_array_equal(d_start[1:], out.daily[:-1, end], err_msg=name)


def test_conservation_every_resource_overall_and_per_day(
    small_example: tuple[CompiledScenario, ReplicationOutput],
) -> None:
    compiled, out = small_example
    assert out.daily.shape == (28, len(out.keys))
    assert out.overall.shape == (len(out.keys),)
    _assert_conservation(compiled, out)
    k = out.as_dict()
    # the system is busy: every built-in resource had arrivals
    for name in compiled.resource_names:
        assert k[f"{name}.arrivals"] > 0, name


def test_conservation_and_start_state_with_a_census() -> None:
    data = example_dict()
    beds = [
        {"los_so_far_hours": 24.0 * (i % 9), "pathway": f"P{i % 4}", "delayed": i % 5 == 0}
        for i in range(150)
    ]
    data["census"] = {"occupied_beds": beds, "ed_occupants": 6, "p2_occupied": 12}
    compiled = compile_scenario(validate_scenario(data), days=5, warmup_days=0)
    out = run(compiled)
    _assert_conservation(compiled, out)
    k = out.as_dict()
    # the census is the state at t = 0, not arrivals (docs/simulation.md § 5.8, clarified)
    assert k["ward.beds.in_system_start"] == 150
    assert k["ed.cubicles.in_system_start"] == 6
    delayed_p2 = sum(1 for b in beds if b["delayed"] and b["pathway"] == "P2")
    assert k["p2.beds.in_system_start"] == 12 + delayed_p2


# --- (4) extremes ---------------------------------------------------------------------------


def test_unlimited_beds_mean_no_boarding_and_never_full() -> None:
    data = example_dict()
    data["wards"]["core_beds"] = 1_000_000
    compiled = compile_scenario(validate_scenario(data), days=14, warmup_days=7)
    k = run(compiled).as_dict()
    assert k["ward.beds.arrivals"] > 0
    assert k["ed.boarded"] == 0.0
    assert k["ward.hours_at_100_pct"] == 0.0
    assert k["ward.beds.mean_wait_hours"] == 0.0
    assert k["ed.crtp_over_1h_pct"] == 0.0


def test_route_with_probability_zero_is_never_taken() -> None:
    data = example_dict()
    fd = data["front_door"]
    fd["walk_in"] = {"ed": 0.76, "utc": 0.24, "sdec": 0.0}
    fd["nhs111_ed"] = {"ed": 0.9, "utc": 0.1, "sdec": 0.0}
    fd["direct_referral"] = {"ed": 0.0, "utc": 1.0, "sdec": 0.0}
    compiled = compile_scenario(validate_scenario(data), days=14, warmup_days=2)
    k = run(compiled).as_dict()
    assert k["sdec.chairs.arrivals"] == 0.0
    assert math.isnan(k["sdec.chairs.mean_wait_hours"])  # nobody joined: 0 ÷ 0
    assert k["sdec.chairs.utilisation"] == 0.0
    assert k["utc.clinicians.arrivals"] > 0


def _deterministic_system(assessment: float, treatment: float, handover: float) -> CompiledScenario:
    """Ambulance and ED with deterministic stages and capacity far above demand."""
    det = {"kind": "deterministic"}
    data = {
        "name": "deterministic",
        "start_date": "2025-01-06",
        "run": {"days": 10, "warmup_days": 1, "seed": 7},
        "demand": {"calls_999": {"daily_mean": 40.0}, "ed_walk_in": {"daily_mean": 80.0}},
        "ambulance": {
            "vehicles": 500,
            "dispositions": {"hear_and_treat": 0.2, "see_and_treat": 0.3, "see_and_convey": 0.5},
            "travel_to_scene": {**det, "value": 0.3},
            "on_scene": {**det, "value": 0.5},
            "travel_to_hospital": {**det, "value": 0.4},
            "handover_time": {**det, "value": handover},
            "turnaround": {**det, "value": 0.25},
            "handover_target_minutes": 15.0,
        },
        "front_door": {"walk_in": {"ed": 1.0}},
        "ed": {
            "cubicles": 500,
            "triage_clinicians": 500,
            "clinicians": 500,
            "assessment_time": {**det, "value": assessment},
            "treatment_time": {**det, "value": treatment},
            "admit": 0.0,
        },
    }
    return compile_scenario(validate_scenario(data))


def test_deterministic_stages_add_up() -> None:
    # Nobody waits, so walk-ins spend assessment + treatment in ED and ambulance patients
    # handover + assessment + treatment; the 4-hour percentage switches from 100 to 0 as the
    # sum crosses 4 h, and the handover percentages as the handover crosses 30/60 minutes.
    out = run(_deterministic_system(assessment=1.0, treatment=2.4, handover=0.55)).as_dict()
    assert out["ed.four_hour_pct"] == 100.0  # walk-ins 3.4 h, ambulance patients 3.95 h
    assert out["ed.triage.mean_wait_hours"] == 0.0
    assert out["ed.cubicles.mean_wait_hours"] == 0.0
    assert out["ambulance.vehicles.mean_wait_hours"] == 0.0
    assert out["ambulance.response_mean_minutes"] == pytest.approx(18.0, abs=1e-9)  # 0.3 h
    assert out["ambulance.handover_over_30_pct"] == 100.0  # 0.55 h > 0.5 h for everyone
    assert out["ambulance.handover_over_60_pct"] == 0.0
    # time to assessment is 0 for walk-ins and the 0.55 h handover for ambulance patients
    # (about 20 of 100 ED arrivals a day), so the 95th percentile is exactly 0.55 h
    assert out["ed.time_to_assessment_p95_hours"] == pytest.approx(0.55, abs=1e-9)
    assert 0.0 < out["ed.time_to_assessment_mean_hours"] < 0.55
    # lost hours = (0.55 − 0.25 target) per conveyed patient: a whole number of patients
    conveyed = out["ambulance.lost_hours"] / (0.55 - 0.25)
    assert conveyed == pytest.approx(round(conveyed), abs=1e-6)
    assert conveyed > 100  # ≈ 40 incidents/day × 0.5 conveyed × 10 days
    assert out["ed.time_to_assessment_mean_hours"] == pytest.approx(
        0.55 * conveyed / out["ed.triage.arrivals"], rel=0.02
    )

    slower = run(_deterministic_system(assessment=1.0, treatment=3.05, handover=0.2)).as_dict()
    assert slower["ed.four_hour_pct"] == 0.0  # walk-ins 4.05 h > 4 h
    assert slower["ed.twelve_hour_pct"] == 0.0
    assert slower["ambulance.handover_over_30_pct"] == 0.0
    assert slower["ambulance.lost_hours"] == 0.0  # 0.2 h handover < 0.25 h target


def test_deterministic_queue_time_in_system_is_the_service_time() -> None:
    # M/D/c with far more servers than the load: no waits; busy servers = λ × 0.75 h (Little).
    data = scenario_to_dict(queue_scenario(6.0, 0.75, 50))
    data["queues"][0]["service"] = {"kind": "deterministic", "value": 0.75}
    compiled = compile_scenario(validate_scenario(data), days=20, warmup_days=1)
    out = run(compiled).as_dict()
    assert out["queue.mean_wait_hours"] == 0.0
    assert out["queue.mean_queue_length"] == 0.0
    lam = out["queue.arrivals"] / (24.0 * compiled.days)
    # busy = λ·0.75 up to the few customers in service at the period's edges (1 %)
    assert out["queue.utilisation"] * 50 == pytest.approx(lam * 0.75, rel=0.01)


# --- (5) reproducibility --------------------------------------------------------------------


def test_same_seed_same_output_different_seed_different() -> None:
    compiled = compile_scenario(example_scenario(50_000), days=7, warmup_days=2)
    a, b = run(compiled, seed=11), run(compiled, seed=11)
    c = run(compiled, seed=12)
    assert a.keys == b.keys
    np.testing.assert_array_equal(a.overall, b.overall)
    np.testing.assert_array_equal(a.daily, b.daily)
    assert a.events == b.events
    assert not np.array_equal(a.overall, c.overall, equal_nan=True)


def test_wrong_number_of_streams_is_refused() -> None:
    compiled = compile_scenario(queue_scenario(1.0, 0.5, 1), days=1, warmup_days=0)
    with pytest.raises(ValueError, match="random streams"):
        run_replication(compiled, replication_generators(1, 1, 0)[0])
