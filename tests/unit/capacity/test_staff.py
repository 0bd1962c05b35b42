"""Staffing to a time-to-assessment target from an hour-of-week arrival profile.

Provenance of the expected values:

* Erlang C by hand: for an M/M/c queue with offered load a Erlangs,
  B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)) and C = c·B / (c − a(1 − B)). With λ = 6 per hour
  and a mean service of 20 min, a = 2:
  B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19, C(3, 2) = 3·(4/19) / (3 − 2·15/19) = 4/9;
  B(4, 2) = (16/24) / (19/3 + 16/24) = 2/21, C(4, 2) = 4·(2/21) / (4 − 2·19/21) = 4/23.
  P(wait > t) = C·exp(−(cμ − λ)t), μ = 3 per hour, t = 0.25 h:
  c = 3: 4/9·e^(−0.75) = 0.20994 → P(wait ≤ 15 min) = 0.79006 (fails 0.95, meets 0.75);
  c = 4: 4/23·e^(−1.5) = 0.03881 → P(wait ≤ 15 min) = 0.96119 (meets 0.95).
* MOL single step: dm/dt = λ(t) − m/E[S] with λ stepping from λ1 to λ2 at t0 (m at its old
  steady state λ1·E[S]) has the solution m(t) = λ2·E[S] + (λ1 − λ2)·E[S]·exp(−(t − t0)/E[S]).
* Lag-SIPP (Green, Kolesar & Soares 2001): the rate over hour h is λ(t − E[S]) over the hour;
  with E[S] = 60 min that is exactly the previous hour's rate.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from flowplan.capacity import staff
from flowplan.capacity.queueing import erlang_c
from flowplan.capacity.staff import (
    StaffPlan,
    expand_hour_of_day_profile,
    hour_of_week_profile,
    mol_offered_load,
    rota_chart,
    staff_required,
)
from flowplan.errors import CapacityInputError

METHODS = ("sipp", "lag", "mol")
C_3_2 = 4 / 9
C_4_2 = 4 / 23
P_WITHIN_C3 = 1 - C_3_2 * math.exp(-0.75)  # 0.79006
P_WITHIN_C4 = 1 - C_4_2 * math.exp(-1.5)  # 0.96119


def erlang_c_by_recursion(c: int, a: float) -> float:
    """Reference Erlang C from the textbook Erlang B recursion (independent of staff.py)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def p_within_reference(c: int, a: float, t_minutes: float, s_minutes: float) -> float:
    if c <= a:
        return 0.0
    return 1 - erlang_c_by_recursion(c, a) * math.exp(-(c - a) * t_minutes / s_minutes)


def week_profile(rng: np.random.Generator, low: float = 0.0, high: float = 12.0) -> np.ndarray:
    return rng.uniform(low, high, size=168)


# ---------------------------------------------------------------------------------------------
# Erlang C and the stationary sizing
# ---------------------------------------------------------------------------------------------


def test_erlang_c_matches_hand_values() -> None:
    assert erlang_c_by_recursion(3, 2.0) == pytest.approx(C_3_2, rel=1e-12)
    assert erlang_c_by_recursion(4, 2.0) == pytest.approx(C_4_2, rel=1e-12)
    assert erlang_c(3, 2.0) == pytest.approx(C_3_2, rel=1e-12)
    assert erlang_c(4, 2.0) == pytest.approx(C_4_2, rel=1e-12)
    # M/M/1: the probability of waiting is the utilisation.
    assert erlang_c(1, 0.3) == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize("a", [0.01, 0.5, 2.0, 9.7, 57.3, 300.0, 2500.0])
def test_erlang_c_agrees_with_recursion(a: float) -> None:
    for c in (math.floor(a) + 1, math.floor(a) + 3, math.ceil(a + 3 * math.sqrt(a)) + 1):
        assert erlang_c(c, a) == pytest.approx(erlang_c_by_recursion(c, a), rel=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_constant_rate_gives_hand_checked_stationary_staffing(method: str) -> None:
    # λ = 6/h, E[S] = 20 min → a = 2 Erlangs; target 15 min for 95 %: c = 3 misses, c = 4 meets.
    assert P_WITHIN_C3 < 0.95 <= P_WITHIN_C4
    plan = staff_required([6.0] * 168, 20.0, 15.0, 0.95, method=method)  # type: ignore[arg-type]
    table = plan.table
    assert (table["clinicians"] == 4).all()
    assert np.allclose(table["offered_load"], 2.0, rtol=1e-9)
    assert np.allclose(table["p_within_target"], P_WITHIN_C4, rtol=1e-9)
    assert np.allclose(table["utilisation"], 0.5, rtol=1e-9)
    assert plan.clinician_hours_per_week == 4 * 168
    assert plan.arrivals_per_week == pytest.approx(6.0 * 168)


@pytest.mark.parametrize("method", METHODS)
def test_constant_rate_lower_target_needs_three(method: str) -> None:
    assert P_WITHIN_C3 >= 0.75
    plan = staff_required([6.0] * 24, 20.0, 15.0, 0.75, method=method)  # type: ignore[arg-type]
    assert (plan.table["clinicians"] == 3).all()
    assert np.allclose(plan.table["p_within_target"], P_WITHIN_C3, rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    a=st.floats(min_value=0.001, max_value=400.0),
    t=st.floats(min_value=0.0, max_value=240.0),
    s=st.floats(min_value=1.0, max_value=180.0),
    p=st.floats(min_value=0.01, max_value=0.999),
)
def test_chosen_staff_is_smallest_meeting_target(a: float, t: float, s: float, p: float) -> None:
    c, achieved = staff._smallest_staff(a, t / s, p, None)
    assert c > a
    assert achieved >= p
    assert achieved == pytest.approx(p_within_reference(c, a, t, s), abs=1e-9)
    # One fewer clinician is unstable or misses the target.
    assert c - 1 <= a or p_within_reference(c - 1, a, t, s) < p + 1e-9


def test_every_hour_is_smallest_meeting_target_on_a_varying_profile() -> None:
    rng = np.random.default_rng(20240601)
    rates = week_profile(rng)
    plan = staff_required(rates, 25.0, 10.0, 0.9, method="sipp")
    for row in plan.table.itertuples():
        a = row.offered_load
        c = row.clinicians
        assert a == pytest.approx(row.arrival_rate * 25 / 60)
        assert row.p_within_target >= 0.9
        assert row.p_within_target == pytest.approx(p_within_reference(c, a, 10, 25), abs=1e-9)
        assert c - 1 <= a or p_within_reference(c - 1, a, 10, 25) < 0.9


def test_max_occupancy_caps_utilisation() -> None:
    plan = staff_required([6.0] * 168, 20.0, method="sipp", max_occupancy=0.4)
    assert (plan.table["clinicians"] == 5).all()  # a = 2, 2 / 0.4 = 5
    assert (plan.table["utilisation"] <= 0.4 + 1e-12).all()


def test_service_cv_scales_the_wait_tail() -> None:
    # cv = 0: wait beyond zero halves, so P(wait ≤ 15) at c = 3 is 1 − 4/9·e^(−1.5) = 0.9008.
    deterministic = staff_required([6.0] * 168, 20.0, 15.0, 0.9, method="sipp", service_cv=0.0)
    exponential = staff_required([6.0] * 168, 20.0, 15.0, 0.9, method="sipp", service_cv=1.0)
    assert (deterministic.table["clinicians"] == 3).all()
    assert np.allclose(deterministic.table["p_within_target"], 1 - C_3_2 * math.exp(-1.5))
    assert (exponential.table["clinicians"] == 4).all()
    assert "Allen–Cunneen" in deterministic.assumptions
    assert "Allen–Cunneen" not in exponential.assumptions


def test_large_load_is_sized_quickly_and_correctly() -> None:
    plan = staff_required([3000.0] * 168, 20.0, 5.0, 0.8, method="sipp")  # a = 1000 Erlangs
    c = int(plan.table["clinicians"].iloc[0])
    assert 1000 < c < 1100
    assert p_within_reference(c, 1000.0, 5, 20) >= 0.8 > p_within_reference(c - 1, 1000.0, 5, 20)


# ---------------------------------------------------------------------------------------------
# Lag and MOL loads
# ---------------------------------------------------------------------------------------------


def test_lag_with_one_hour_service_uses_previous_hour() -> None:
    rates = week_profile(np.random.default_rng(7))
    plan = staff_required(rates, 60.0, method="lag")
    assert np.allclose(plan.table["offered_load"], np.roll(rates, 1), rtol=1e-9)


def test_lag_with_half_hour_service_mean_and_max() -> None:
    rates = week_profile(np.random.default_rng(8))
    previous = np.roll(rates, 1)
    mean = staff_required(rates, 30.0, method="lag", within_hour="mean")
    peak = staff_required(rates, 30.0, method="lag", within_hour="max")
    assert np.allclose(mean.table["offered_load"], (previous + rates) / 2 * 0.5, rtol=1e-9)
    assert np.allclose(peak.table["offered_load"], np.maximum(previous, rates) * 0.5, rtol=1e-9)


def test_mol_with_short_service_converges_to_sipp() -> None:
    # The hourly mean of m differs from λ_h·E[S] only by the transient after the hour boundary:
    # |Δλ|·E[S]/60 (Erlangs) decaying with time constant E[S], i.e. at most |Δλ|·(E[S]/60)²
    # averaged over the hour — second order in E[S].
    rates = week_profile(np.random.default_rng(11), low=0.5, high=40.0)
    jumps = np.abs(rates - np.roll(rates, 1))
    previous_error = math.inf
    for s in (6.0, 2.0, 0.5, 0.1):
        mol = staff_required(rates, s, 2.0, 0.9, method="mol")
        sipp = staff_required(rates, s, 2.0, 0.9, method="sipp")
        error = np.abs(mol.table["offered_load"].to_numpy() - rates * s / 60)
        assert (error <= jumps * (s / 60) ** 2 * 1.01 + 1e-15).all()
        assert error.max() < previous_error
        previous_error = error.max()
    # Relative to λ·E[S] the error is at most (|Δλ| / λ)·E[S]/60: under 0.2 % at E[S] = 0.1 min
    # for hours whose rate changed by no more than their own level.
    calm = jumps <= rates
    assert np.allclose(mol.table["offered_load"][calm], rates[calm] * 0.1 / 60, rtol=2e-3)
    assert (mol.table["clinicians"] == sipp.table["clinicians"]).all()


def test_mol_step_matches_closed_form_solution() -> None:
    # λ1 = 4/h for hours 0..99, λ2 = 10/h for hours 100..167; E[S] = 30 min. By hour 100 the
    # load has sat at λ1·E[S] for 100 h (200 time constants), and the wrap-around from the
    # λ2 period (68 h = 136 time constants) is likewise spent, so the single-step solution holds.
    lam1, lam2, s = 4.0, 10.0, 30.0
    rates = np.array([lam1] * 100 + [lam2] * 68)
    curve = mol_offered_load(rates, s, step_minutes=1.0)
    assert len(curve) == 10080
    t0 = 100 * 60.0
    after = curve[curve.index >= t0]
    tau = after.index.to_numpy() - t0
    expected = lam2 / 60 * s + (lam1 - lam2) / 60 * s * np.exp(-tau / s)
    assert np.allclose(after.to_numpy(), expected, rtol=1e-10, atol=1e-12)
    before = curve[curve.index < t0]
    assert np.allclose(before.to_numpy()[before.index >= 60 * 60], lam1 / 60 * s, rtol=1e-10)


def test_mol_lags_and_smooths_a_pulse() -> None:
    # One busy hour (30) on a flat background, E[S] = 60 min.
    rates = np.full(168, 3.0)
    rates[30] = 12.0
    plan = staff_required(rates, 60.0, method="mol")
    load = plan.table["offered_load"].to_numpy()
    peak_rate_hour = int(np.argmax(rates))
    peak_load_hour = int(np.argmax(load))
    assert peak_load_hour > peak_rate_hour  # hourly mean of m peaks in hour 31
    assert load.max() < rates.max() * 60 / 60  # smoothed below λ_peak·E[S]
    # Closed form of the hourly mean: hour 30 = a1 + Δ·e^−1, hour 31 = a1 + Δ·(1 − e^−1)².
    a1, delta = 3.0, 9.0
    assert load[30] == pytest.approx(a1 + delta * math.exp(-1), rel=1e-9)
    assert load[31] == pytest.approx(a1 + delta * (1 - math.exp(-1)) ** 2, rel=1e-9)
    curve = mol_offered_load(rates, 60.0)
    assert float(curve.idxmax()) == pytest.approx(31 * 60, abs=1)  # instantaneous peak at 31:00


def test_mol_periodic_state_matches_numerical_ode_integration() -> None:
    # Independent check: integrate dm/dt = λ(t) − m/E[S] from empty with a 1-minute maximum step
    # for several weeks until it settles; the last week must match the periodic solution.
    rates = week_profile(np.random.default_rng(5), low=0.0, high=20.0)
    s = 150.0
    weeks = 4

    def rhs(t: float, m: np.ndarray) -> np.ndarray:
        hour = int(t // 60) % 168
        return np.array([rates[hour] / 60 - m[0] / s])

    t_eval = np.arange(0.0, 10080.0, 60.0) + (weeks - 1) * 10080.0
    solution = solve_ivp(
        rhs, (0.0, weeks * 10080.0), [0.0], t_eval=t_eval, max_step=1.0, rtol=1e-8, atol=1e-10
    )
    curve = mol_offered_load(rates, s)
    assert np.allclose(solution.y[0], curve.iloc[::60].to_numpy(), rtol=1e-4, atol=1e-6)


def test_mol_max_within_hour_matches_sampled_curve() -> None:
    rates = week_profile(np.random.default_rng(3))
    plan = staff_required(rates, 45.0, method="mol", within_hour="max")
    curve = mol_offered_load(rates, 45.0).to_numpy()
    wrapped = np.append(curve, curve[0])
    sampled = np.array([wrapped[60 * h : 60 * h + 61].max() for h in range(168)])
    assert np.allclose(plan.table["offered_load"], sampled, rtol=1e-9)
    mean_plan = staff_required(rates, 45.0, method="mol", within_hour="mean")
    sampled_mean = np.array([np.trapezoid(wrapped[60 * h : 60 * h + 61]) / 60 for h in range(168)])
    assert np.allclose(mean_plan.table["offered_load"], sampled_mean, rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# Zero demand and minimum staffing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_zero_arrivals_need_zero_clinicians(method: str) -> None:
    plan = staff_required([0.0] * 168, 20.0, method=method)  # type: ignore[arg-type]
    assert (plan.table["clinicians"] == 0).all()
    assert (plan.table["offered_load"] == 0).all()
    assert (plan.table["p_within_target"] == 1.0).all()
    assert (plan.table["utilisation"] == 0.0).all()
    assert plan.clinician_hours_per_week == 0


@pytest.mark.parametrize("method", METHODS)
def test_zero_arrivals_get_the_configured_minimum(method: str) -> None:
    plan = staff_required([0.0] * 24, 20.0, method=method, min_clinicians=2)  # type: ignore[arg-type]
    assert (plan.table["clinicians"] == 2).all()
    assert plan.clinician_hours_per_week == 2 * 168


def test_minimum_applies_only_where_demand_needs_fewer() -> None:
    plan = staff_required([6.0] * 168, 20.0, method="sipp", min_clinicians=6)
    assert (plan.table["clinicians"] == 6).all()
    assert np.allclose(plan.table["p_within_target"], p_within_reference(6, 2.0, 15, 20))


def test_mol_carry_over_into_closed_hours_fades_to_zero() -> None:
    # Open 06:00–24:00: MOL keeps staff just after midnight for patients still in the system,
    # then stops once the carried-over load is negligible.
    rates = expand_hour_of_day_profile({h: 10.0 for h in range(6, 24)})
    plan = staff_required(rates, 20.0, method="mol")
    clinicians = plan.table["clinicians"].to_numpy()
    assert clinicians[0] > 0  # Monday 00:00, carried over from Sunday 23:00
    assert (clinicians[3:6] == 0).all()
    sipp = staff_required(rates, 20.0, method="sipp")
    assert (sipp.table["clinicians"].to_numpy()[:6] == 0).all()


# ---------------------------------------------------------------------------------------------
# Plan table
# ---------------------------------------------------------------------------------------------


def test_plan_table_layout_and_totals() -> None:
    rates = week_profile(np.random.default_rng(1))
    plan = staff_required(rates, 20.0)
    assert isinstance(plan, StaffPlan)
    assert list(plan.table.columns) == [
        "hour_of_week",
        "day",
        "hour",
        "arrival_rate",
        "offered_load",
        "clinicians",
        "p_within_target",
        "utilisation",
    ]
    assert plan.table["hour_of_week"].tolist() == list(range(168))
    assert plan.table["day"].iloc[[0, 23, 24, 167]].tolist() == ["Mon", "Mon", "Tue", "Sun"]
    assert plan.table["hour"].iloc[[0, 23, 24, 167]].tolist() == [0, 23, 0, 23]
    assert np.allclose(plan.table["arrival_rate"], rates)
    assert plan.clinician_hours_per_week == int(plan.table["clinicians"].sum())
    assert plan.peak_clinicians == int(plan.table["clinicians"].max())
    assert plan.method == "mol"
    assert "MOL" in plan.assumptions and "15 min" in plan.assumptions


def test_24_values_mean_the_same_profile_every_day() -> None:
    day = np.random.default_rng(2).uniform(0, 10, size=24)
    short = staff_required(day, 20.0, method="lag")
    full = staff_required(np.tile(day, 7), 20.0, method="lag")
    pd.testing.assert_frame_equal(short.table, full.table)


# ---------------------------------------------------------------------------------------------
# Hour-of-week profiles
# ---------------------------------------------------------------------------------------------


def synthetic_hourly(weeks: int, start: str, seed: int) -> tuple[pd.Series, np.ndarray]:
    """Poisson hourly counts whose true rate depends on hour of day and day of week."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=weeks * 168, freq="h")
    slot = index.day_of_week * 24 + index.hour
    true = 2.0 + 8.0 * np.sin(np.pi * (np.arange(168) % 24) / 24) ** 2 + np.arange(168) % 24 / 12
    counts = rng.poisson(true[slot])
    return pd.Series(counts.astype(float), index=index), true


def test_profile_from_hourly_series_means_and_quantiles() -> None:
    series, true = synthetic_hourly(weeks=52, start="2024-01-01", seed=42)  # a Monday
    profile = hour_of_week_profile(series)
    assert list(profile.columns) == ["mean", "q50", "q90", "q95", "n_weeks"]
    assert profile.index.name == "hour_of_week"
    assert (profile["n_weeks"] == 52).all()
    by_week = series.to_numpy().reshape(52, 168)
    assert np.allclose(profile["mean"], by_week.mean(axis=0))
    assert np.allclose(profile["q50"], np.quantile(by_week, 0.5, axis=0))
    assert np.allclose(profile["q90"], np.quantile(by_week, 0.9, axis=0))
    assert np.allclose(profile["q95"], np.quantile(by_week, 0.95, axis=0))
    # Means recover the true Poisson rates (5 standard errors).
    assert (np.abs(profile["mean"] - true) < 5 * np.sqrt(true / 52)).all()
    assert (profile["q90"] >= profile["q50"]).all()


def test_profile_from_partial_weeks_counts_each_hour() -> None:
    series, _ = synthetic_hourly(weeks=3, start="2024-01-03 05:00", seed=1)  # Wednesday 05:00
    series = series.iloc[:-10]
    profile = hour_of_week_profile(series, quantiles=[0.25, 0.975])
    assert list(profile.columns) == ["mean", "q25", "q97.5", "n_weeks"]
    slot = series.index.day_of_week * 24 + series.index.hour
    expected_n = pd.Series(slot).value_counts().reindex(range(168)).to_numpy()
    assert (profile["n_weeks"].to_numpy() == expected_n).all()
    expected_mean = series.groupby(np.asarray(slot)).mean().reindex(range(168))
    assert np.allclose(profile["mean"], expected_mean)


def test_profile_absent_hours_are_zero_and_nan_is_unobserved() -> None:
    series, _ = synthetic_hourly(weeks=4, start="2024-01-01", seed=3)
    sparse = series[series > 0]
    start, end = series.index[0], series.index[-1] + pd.Timedelta(hours=1)
    pd.testing.assert_frame_equal(
        hour_of_week_profile(sparse, start=start, end=end), hour_of_week_profile(series)
    )
    gappy = series.copy()
    gappy.iloc[0] = np.nan  # Monday 00:00 of week 1 not observed
    profile = hour_of_week_profile(gappy)
    assert profile["n_weeks"].iloc[0] == 3
    assert profile["mean"].iloc[0] == pytest.approx(series.iloc[[168, 336, 504]].mean())


def test_profile_repeated_hour_is_summed() -> None:
    series, _ = synthetic_hourly(weeks=1, start="2024-01-01", seed=4)
    extra = pd.Series([5.0], index=pd.DatetimeIndex([series.index[1]]))
    profile = hour_of_week_profile(pd.concat([series, extra]))
    assert profile["mean"].iloc[1] == pytest.approx(series.iloc[1] + 5.0)


def test_profile_from_event_timestamps_matches_counts() -> None:
    series, _ = synthetic_hourly(weeks=5, start="2024-01-01", seed=9)
    rng = np.random.default_rng(10)
    events = [
        stamp + pd.Timedelta(seconds=float(rng.uniform(0, 3600)))
        for stamp, count in series.items()
        for _ in range(int(count))
    ]
    rng.shuffle(events)  # order must not matter
    from_events = hour_of_week_profile(
        pd.Series(pd.DatetimeIndex(events)),
        start=series.index[0],
        end=series.index[-1] + pd.Timedelta(hours=1),
    )
    pd.testing.assert_frame_equal(from_events, hour_of_week_profile(series))


def test_profile_feeds_staffing() -> None:
    series, _ = synthetic_hourly(weeks=8, start="2024-01-01", seed=12)
    profile = hour_of_week_profile(series)
    busy = staff_required(profile["q90"], 20.0)
    usual = staff_required(profile["mean"], 20.0)
    assert busy.clinician_hours_per_week >= usual.clinician_hours_per_week


def test_expand_hour_of_day_profile() -> None:
    day = np.arange(24, dtype=float)
    assert np.array_equal(expand_hour_of_day_profile(day), np.tile(day, 7))
    scaled = expand_hour_of_day_profile(list(day), [1.2, 1, 1, 1, 1, 0.8, 0.5])
    assert scaled.shape == (168,)
    assert scaled[10] == pytest.approx(12.0)  # Monday 10:00
    assert scaled[24 + 10] == pytest.approx(10.0)  # Tuesday 10:00
    assert scaled[6 * 24 + 10] == pytest.approx(5.0)  # Sunday 10:00


def test_expand_partial_day_mapping_fills_missing_hours_with_zero() -> None:
    open_hours = {h: 4.0 for h in range(6, 24)}  # 06:00–24:00
    week = expand_hour_of_day_profile(open_hours)
    assert (week.reshape(7, 24)[:, :6] == 0).all()
    assert (week.reshape(7, 24)[:, 6:] == 4).all()
    as_series = expand_hour_of_day_profile(pd.Series(open_hours))
    assert np.array_equal(as_series, week)


# ---------------------------------------------------------------------------------------------
# Chart
# ---------------------------------------------------------------------------------------------


def test_rota_chart_writes_png(tmp_path: Path) -> None:
    rates = expand_hour_of_day_profile({h: 3.0 + h % 7 for h in range(6, 24)})
    plan = staff_required(rates, 20.0)
    out = rota_chart(plan, tmp_path / "rota.png")
    assert out == tmp_path / "rota.png"
    data = out.read_bytes()
    assert len(data) > 0
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_rota_chart_missing_folder(tmp_path: Path) -> None:
    plan = staff_required([1.0] * 24, 20.0)
    with pytest.raises(CapacityInputError, match="does not exist"):
        rota_chart(plan, tmp_path / "nowhere" / "rota.png")


# ---------------------------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------------------------


GOOD = {"arrival_rate_per_hour": [6.0] * 168, "service_mean_minutes": 20.0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arrival_rate_per_hour": [6.0] * 167 + [-1.0]}, r"arrival_rate_per_hour\[167\] is -1"),
        ({"arrival_rate_per_hour": [6.0] * 167 + [math.nan]}, r"must be finite and zero or more"),
        ({"arrival_rate_per_hour": [6.0] * 100}, r"must have 168 values .* got 100"),
        ({"arrival_rate_per_hour": ["a"] * 168}, r"arrival_rate_per_hour must be numbers"),
        ({"service_mean_minutes": 0.0}, r"service_mean_minutes is 0.0: give a number of minutes"),
        ({"service_mean_minutes": -5.0}, r"service_mean_minutes is -5.0"),
        ({"service_mean_minutes": math.inf}, r"service_mean_minutes is inf"),
        ({"target_probability": 1.0}, r"target_probability is 1.0: give a share strictly"),
        ({"target_probability": 0.0}, r"target_probability is 0.0"),
        ({"target_probability": 1.5}, r"target_probability is 1.5"),
        ({"target_wait_minutes": -1.0}, r"target_wait_minutes is -1.0"),
        ({"method": "erlang"}, r"method is 'erlang': choose one of"),
        ({"service_cv": -0.5}, r"service_cv is -0.5"),
        ({"max_occupancy": 0.0}, r"max_occupancy is 0.0"),
        ({"max_occupancy": 1.2}, r"max_occupancy is 1.2"),
        ({"min_clinicians": -1}, r"min_clinicians is -1"),
        ({"min_clinicians": 1.5}, r"min_clinicians is 1.5"),
        ({"within_hour": "median"}, r"within_hour is 'median'"),
        ({"arrival_rate_per_hour": [1e7] * 168}, r"offered load reaches .* Erlangs"),
    ],
)
def test_staff_required_rejects_bad_inputs(change: dict[str, object], message: str) -> None:
    with pytest.raises(CapacityInputError, match=message) as caught:
        staff_required(**{**GOOD, **change})  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: expand_hour_of_day_profile([1.0] * 23), r"must have 24 values .* got 23"),
        (lambda: expand_hour_of_day_profile({24: 1.0}), r"hour 24 is outside the day"),
        (lambda: expand_hour_of_day_profile({3: -2.0}), r"hour_of_day_rates\[3\] is -2.0"),
        (lambda: expand_hour_of_day_profile([1.0] * 24, [1.0] * 6), r"7 values .* got 6"),
        (lambda: expand_hour_of_day_profile([1.0] * 24, [1.0] * 6 + [-1]), r"multipliers"),
        (lambda: mol_offered_load([1.0] * 168, 20.0, step_minutes=0), r"step_minutes is 0"),
    ],
)
def test_profile_helpers_reject_bad_inputs(call: object, message: str) -> None:
    with pytest.raises(CapacityInputError, match=message) as caught:
        call()  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def hourly(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h"))


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (hourly([1.0] * 100), r"cover only 100 of the 168 hours"),
        (hourly([1.0] * 167 + [-3.0]), r"hourly count at 2024-01-07 23:00:00 is -3.0"),
        (hourly([1.0] * 168).tz_localize("UTC"), r"carry a time zone"),
        (pd.Series([1.0] * 168, index=range(168)), r"DatetimeIndex"),
        (
            pd.Series([1.0] * 168, index=pd.date_range("2024-01-01 00:30", periods=168, freq="h")),
            r"not on the hour",
        ),
        (pd.Series(pd.to_datetime(["2024-01-01 10:00", None])), r"missing value\(s\) \(NaT\)"),
        (hourly(["x"] * 168), r"hourly counts must be numbers"),
    ],
)
def test_hour_of_week_profile_rejects_bad_series(series: pd.Series, message: str) -> None:
    with pytest.raises(CapacityInputError, match=message) as caught:
        hour_of_week_profile(series)
    assert "\n" not in str(caught.value)


def test_hour_of_week_profile_rejects_bad_quantiles_and_span() -> None:
    series = hourly([1.0] * 168)
    with pytest.raises(CapacityInputError, match=r"quantile 1.5 is not a probability"):
        hour_of_week_profile(series, quantiles=[0.5, 1.5])
    with pytest.raises(CapacityInputError, match=r"is not after start"):
        hour_of_week_profile(series, start="2024-01-05", end="2024-01-02")
