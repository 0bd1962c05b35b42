"""Compilation of scenarios into the engines' arrays: rates, surges, schemes, discharge tokens."""

from __future__ import annotations

import copy
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

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
    D_LOS_P0,
    N_BUILTIN_RNG_STREAMS,
    R_ED_CLINICIANS,
    R_ED_CUBICLES,
    R_WARD_BEDS,
    S_CALLS_999,
    S_ED_WALK_IN,
    CompiledScenario,
)
from flowplan.sim.scenario import scenario_to_dict

BASE = scenario_to_dict(example_scenario())
START = date(2025, 4, 7)  # Monday, the example's start date


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def compiled(data: dict[str, Any], days: int = 70, warmup: int = 7) -> CompiledScenario:
    return compile_scenario(validate_scenario(data), days, warmup)


def daily_totals(c: CompiledScenario, stream: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(c.rate[stream].reshape(c.total_days, 24).sum(axis=1), dtype=np.float64)


def test_horizon_fields() -> None:
    c = compiled(base(), days=14, warmup=3)
    assert (c.total_days, c.n_hours, c.measure_start_hour, c.end_hour) == (17, 408, 72.0, 408.0)
    assert c.day_of_week[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    assert c.is_weekend[:7].tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert c.date_of_day(3) == date(2025, 4, 10)
    assert c.rate.dtype == np.float64 and c.capacity.dtype == np.int64


def test_daily_sum_of_hourly_rate_is_volume_times_dow_times_month() -> None:
    s = example_scenario()
    c = compile_scenario(s, 300, 0)  # spans April–January: every weekday, ten months
    for k, name in ((S_ED_WALK_IN, "ed_walk_in"), (S_CALLS_999, "calls_999")):
        stream = getattr(s.demand, name)
        expected = [
            stream.daily_mean * stream.dow[d.weekday()] * stream.month[d.month - 1]
            for d in (START + timedelta(days=i) for i in range(300))
        ]
        np.testing.assert_allclose(daily_totals(c, k), expected, rtol=1e-12)
    # the hourly shape is the stream's profile
    assert s.demand.ed_walk_in is not None
    np.testing.assert_allclose(
        c.rate[S_ED_WALK_IN, :24] / c.rate[S_ED_WALK_IN, :24].sum(), s.demand.ed_walk_in.hourly
    )


def test_surge_applies_only_between_its_dates() -> None:
    data = base()
    data["demand"]["surges"] = [
        {
            "name": "heat",
            "start": "2025-05-01",
            "end": "2025-05-03",
            "streams": ["ed_walk_in"],
            "uplift_pct": 20,
        }
    ]
    ratio = daily_totals(compiled(data), S_ED_WALK_IN) / daily_totals(
        compiled(base()), S_ED_WALK_IN
    )
    surge_days = [(date(2025, 5, d) - START).days for d in (1, 2, 3)]
    expected = np.ones(77)
    expected[surge_days] = 1.2
    np.testing.assert_allclose(ratio, expected, rtol=1e-12)
    # other streams untouched
    np.testing.assert_array_equal(
        compiled(data).rate[S_CALLS_999], compiled(base()).rate[S_CALLS_999]
    )


def test_scheme_overrides_apply_only_from_start() -> None:
    data = base()
    first = date(2025, 5, 10)
    data["schemes"] = [
        {
            "name": "more",
            "start": first.isoformat(),
            "overrides": [
                {"path": "ed.cubicles", "value": 150},
                {"path": "ed.clinicians", "multiply": 1.1},
                {"path": "ed.admit", "value": 0.25},
                {"path": "demand.ed_walk_in.volume_factor", "value": 0.9},
                {"path": "front_door.walk_in", "value": {"ed": 0.6, "utc": 0.36, "sdec": 0.04}},
                {"path": "discharge.weekend_factor", "value": 1.0},
            ],
        }
    ]
    c, b = compiled(data), compiled(base())
    day = (first - START).days
    hour = 24 * day
    assert c.capacity[R_ED_CUBICLES, :hour].tolist() == [105] * hour
    assert set(c.capacity[R_ED_CUBICLES, hour:].tolist()) == {150}
    clin = np.array(b.capacity[R_ED_CLINICIANS, hour:], dtype=float)
    np.testing.assert_array_equal(c.capacity[R_ED_CLINICIANS, hour:], np.floor(clin * 1.1 + 0.5))
    np.testing.assert_array_equal(
        c.capacity[R_ED_CLINICIANS, :hour], b.capacity[R_ED_CLINICIANS, :hour]
    )
    assert c.p_ed_admit[:day].tolist() == [0.29] * day and set(c.p_ed_admit[day:]) == {0.25}
    np.testing.assert_array_equal(c.p_front_door[day:, 0], [[0.6, 0.36, 0.04]] * (77 - day))
    np.testing.assert_array_equal(c.p_front_door[:day], b.p_front_door[:day])
    ratio = daily_totals(c, S_ED_WALK_IN) / daily_totals(b, S_ED_WALK_IN)
    np.testing.assert_allclose(ratio, [1.0] * day + [0.9] * (77 - day), rtol=1e-12)
    assert c.weekend_factor[:day].tolist() == [0.5] * day and set(c.weekend_factor[day:]) == {1.0}


def test_volumes_csv_replaces_days_it_has(tmp_path: Path) -> None:
    csv = tmp_path / "walk_in.csv"
    csv.write_text("ds,mean\n2025-04-08,1000\n2025-04-09,1200.5\n", encoding="utf-8")
    data = base()
    data["demand"]["ed_walk_in"]["volumes_csv"] = str(csv)
    data["demand"]["ed_walk_in"]["volume_factor"] = 0.5
    totals = daily_totals(compiled(data, days=3, warmup=0), S_ED_WALK_IN)
    s = example_scenario()
    stream = s.demand.ed_walk_in
    assert stream is not None
    monday = stream.daily_mean * stream.dow[0] * stream.month[3] * 0.5
    np.testing.assert_allclose(totals, [monday, 500.0, 600.25], rtol=1e-12)


def test_discharge_tokens_follow_profile_with_weekend_factor() -> None:
    c = compile_scenario(example_scenario(), 14, 0)
    profile = c.discharge_profile
    assert math.fsum(profile) == pytest.approx(1.0, abs=1e-15)
    # tokens only in hours with a discharge share
    hours = np.arange(c.n_hours) % 24
    assert c.p1_release[profile[hours] == 0].sum() == 0
    # cumulative released = floor of cumulative capacity (weekday 37.0, weekend × 0.5)
    p1_daily = 0.0493 * 750
    capacity = np.array([p1_daily * (0.5 if w else 1.0) for w in c.is_weekend])
    cum_days = np.cumsum(c.p1_release.reshape(14, 24).sum(axis=1))
    np.testing.assert_array_equal(cum_days, np.floor(np.cumsum(capacity) + 1e-9))
    assert c.p3_release.sum() == math.floor(0.0124 * 750 * (10 + 4 * 0.5) + 1e-9)


def test_p0_hazard_reproduces_the_profile_for_a_patient_ready_at_midnight() -> None:
    c = compile_scenario(example_scenario(), 7, 0)
    hazard = c.p0_hazard.reshape(7, 24)
    survival, discharged = 1.0, []
    for h in range(24):
        discharged.append(survival * hazard[0, h])
        survival *= 1 - hazard[0, h]
    np.testing.assert_allclose(discharged, c.discharge_profile, atol=1e-12)
    last = int(np.max(np.nonzero(c.discharge_profile)))
    assert hazard[0, last] == 1.0 and hazard[5, last] == 0.5  # Saturday: × weekend_factor
    assert hazard[0, :8].sum() == 0.0


def test_queue_scenario_compiles_as_one_more_resource() -> None:
    q = queue_scenario(arrival_rate=4.0, service_mean=0.5, servers=3)
    c = compile_scenario(q)
    assert c.n_queues == 1 and c.queue_names == ("queue",)
    assert c.rate.shape == (6, 24 * 32) and set(c.rate[5]) == {4.0} and c.rate[:5].sum() == 0
    assert c.capacity.shape == (10, 24 * 32) and set(c.capacity[9]) == {3}
    assert c.dist_code[-1] == 1 and c.dist_p1[-1] == 0.5
    assert c.has_ed == 0 and c.has_wards == 0
    names = c.kpi_names()
    assert "queue.utilisation" in names and "queue.in_system_end" in names
    assert len(names) == len(set(names)) == len(kpi_names()) + 7


def test_census_and_distribution_rows() -> None:
    data = base()
    data["census"] = {
        "occupied_beds": [
            {"los_so_far_hours": 30.0, "pathway": "P1"},
            {"los_so_far_hours": 200.0, "pathway": "P3", "delayed": True},
        ],
        "ed_occupants": 12,
        "p2_occupied": 40,
    }
    c = compiled(data, days=2, warmup=0)
    assert c.census_bed_los_so_far.tolist() == [30.0, 200.0]
    assert c.census_bed_pathway.tolist() == [1, 3]
    assert c.census_bed_delayed.tolist() == [0, 1]
    assert (c.census_ed_occupants, c.census_p2_occupied) == (12, 40)
    assert c.dist_code[D_LOS_P0] == 2  # lognormal
    assert math.exp(c.dist_p1[D_LOS_P0] + c.dist_p2[D_LOS_P0] ** 2 / 2) == pytest.approx(84.0)
    assert set(c.capacity[R_WARD_BEDS]) == {1172} and set(c.escalation_beds) == {35}


def test_random_streams_are_reproducible_and_distinct() -> None:
    a = replication_generators(42, 3, n_queues=1)
    b = replication_generators(42, 3, n_queues=1)
    assert len(a) == 3 and len(a[0]) == N_BUILTIN_RNG_STREAMS + 2
    first = [[g.random() for g in rep] for rep in a]
    assert first == [[g.random() for g in rep] for rep in b]
    flat = [x for rep in first for x in rep]
    assert len(set(flat)) == len(flat)


def test_generate_arrivals_is_poisson_with_the_hourly_rate() -> None:
    rate = np.tile(np.array([0.0] * 6 + [5.0] * 12 + [1.0] * 6), 200)  # 200 days
    times = generate_arrivals(rate, np.random.default_rng(1))
    assert np.all(np.diff(times) >= 0)
    hours = np.floor(times).astype(int)
    assert rate[hours].min() > 0  # nobody arrives in a zero-rate hour
    expected = rate.sum()  # 13,200; Poisson sd ≈ 115 → within 4 sd
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)
