"""Analytic queueing oracle: published table values, hand-worked closed forms, exact arithmetic
cross-checks, properties and input errors."""

from __future__ import annotations

import math
import re
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowplan.capacity.queueing import (
    MMc,
    allen_cunneen_mean_wait,
    erlang_b,
    erlang_c,
    littles_law,
    mmc,
    servers_for_blocking,
    servers_for_mean_wait,
    servers_for_wait_probability,
)
from flowplan.errors import CapacityInputError

# --- exact references computed in the test --------------------------------------------------


def exact_erlang_b(servers: int, load: Fraction) -> Fraction:
    """Erlang B closed form in exact rational arithmetic: (a^c/c!) / Σ_{k=0..c} a^k/k!."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(servers: int, load: Fraction) -> Fraction:
    """Erlang C closed form, exact: P = (a^c/c!)·c/(c−a); C = P / (Σ_{k<c} a^k/k! + P)."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


def decimal_erlang_b(servers: int, load: str, digits: int = 60) -> Decimal:
    """Erlang B by the recursion B(k) = a·B(k−1) / (k + a·B(k−1)) carried to ``digits`` digits.

    The recursion only adds and divides positive numbers, so with 60 significant digits the
    result is good to far beyond double precision (no mpmath needed).
    """
    with localcontext() as ctx:
        ctx.prec = digits
        a = Decimal(load)
        b = Decimal(1)
        for k in range(1, servers + 1):
            b = a * b / (k + a * b)
        return b


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


# --- Erlang B -------------------------------------------------------------------------------


def test_erlang_b_published_table_value_10_servers_5_erlangs() -> None:
    # Erlang B tables (e.g. any teletraffic handbook; 10 circuits, 5 Erlangs): 1.838% blocking.
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-6)
    assert erlang_b(10, 5.0) == pytest.approx(float(exact_erlang_b(10, Fraction(5))), rel=1e-12)


def test_erlang_b_single_server_is_a_over_one_plus_a() -> None:
    # B(1, a) = a/(1 + a) from the closed form; B(1, 1) = 1/2.
    assert erlang_b(1, 1.0) == pytest.approx(0.5, rel=1e-14)
    assert erlang_b(1, 3.0) == pytest.approx(0.75, rel=1e-14)


@pytest.mark.parametrize(
    ("servers", "load"),
    # Published Erlang B table, 1% grade of service column: the offered load that 1, 2, 5, 10,
    # 20, 50 and 100 circuits carry at 1% blocking (loads are rounded in the table, hence the
    # tolerance below).
    [(1, 0.0101), (2, 0.153), (5, 1.361), (10, 4.461), (20, 12.03), (50, 37.90), (100, 84.06)],
)
def test_erlang_b_one_percent_table(servers: int, load: float) -> None:
    assert erlang_b(servers, load) == pytest.approx(0.01, abs=6e-5)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(1, "1"), (2, "1"), (3, "2"), (5, "2"), (9, "5"), (10, "7/2"), (25, "30"), (60, "45")],
)
def test_erlang_b_matches_exact_closed_form(servers: int, load: str) -> None:
    exact = exact_erlang_b(servers, Fraction(load))
    assert erlang_b(servers, float(Fraction(load))) == pytest.approx(float(exact), rel=1e-11)


def test_erlang_b_hand_worked_small_cases() -> None:
    # B(2, 1) = (1/2)/(1 + 1 + 1/2) = 1/5; B(3, 2) = (4/3)/(1 + 2 + 2 + 4/3) = 4/19.
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-13)
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, rel=1e-13)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(2000, "1900"), (2000, "2000"), (2000, "2100"), (500, "480.5"), (1000, "1500")],
)
def test_erlang_b_large_matches_high_precision_recursion(servers: int, load: str) -> None:
    value = erlang_b(servers, float(load))
    assert math.isfinite(value)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(float(decimal_erlang_b(servers, load)), rel=1e-9)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(10_000, 10_000.0), (10_000, 1.0), (1, 10_000.0), (10_000, 9_000.0), (5_000, 10_000.0)],
)
def test_erlang_b_no_overflow_at_ten_thousand(servers: int, load: float) -> None:
    value = erlang_b(servers, load)
    assert math.isfinite(value)
    assert 0.0 <= value <= 1.0


def test_erlang_b_extremes() -> None:
    # Far more servers than load: B underflows to (essentially) zero.
    assert erlang_b(10_000, 1.0) == pytest.approx(0.0, abs=1e-300)
    # One server, huge load: B = a/(1 + a).
    assert erlang_b(1, 10_000.0) == pytest.approx(10_000 / 10_001, rel=1e-14)
    # Heavily overloaded: carried load ≈ c, so B ≈ 1 − c/a (here 0.5001 by the recursion).
    assert erlang_b(5_000, 10_000.0) == pytest.approx(0.5, abs=2e-4)
    # No traffic, no blocking.
    assert erlang_b(3, 0.0) == 0.0


def test_erlang_b_for_two_thousand_servers_on_both_paths() -> None:
    # c = 2000 near its load (closed form) and far below it (the recursion); speed is measured
    # by `make bench` (bench/results/capacity.json), not here.
    for load in (1900.0, 10_000.0):
        value = erlang_b(2000, load)
        assert 0.0 < value < 1.0
        reference = float(decimal_erlang_b(2000, f"{load:.1f}"))
        assert value == pytest.approx(reference, rel=1e-9)


# --- Erlang C -------------------------------------------------------------------------------


def test_erlang_c_hand_worked() -> None:
    # c = 2, a = 1: B = 1/5, C = 2·(1/5)/(2 − 1·(4/5)) = 1/3; the direct closed form agrees:
    # P = (1/2!)·2/(2 − 1) = 1, C = 1/(1 + 1 + 1) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-13)
    # c = 3, a = 2: P = (8/6)·3/1 = 4, C = 4/(1 + 2 + 2 + 4) = 4/9.
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-13)
    # c = 1: C = ρ.
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-13)


@pytest.mark.parametrize(
    ("servers", "load"), [(2, "3/2"), (5, "4"), (10, "8"), (20, "39/2"), (40, "30")]
)
def test_erlang_c_matches_exact_closed_form(servers: int, load: str) -> None:
    exact = exact_erlang_c(servers, Fraction(load))
    assert erlang_c(servers, float(Fraction(load))) == pytest.approx(float(exact), rel=1e-11)


def test_erlang_c_large_matches_high_precision_recursion() -> None:
    b = decimal_erlang_b(2000, "1900")
    with localcontext() as ctx:
        ctx.prec = 60
        c = 2000 * b / (2000 - Decimal(1900) * (1 - b))
    value = erlang_c(2000, 1900.0)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(float(c), rel=1e-9)


def test_erlang_c_unstable_load_is_refused() -> None:
    with pytest.raises(
        CapacityInputError,
        match=message(
            "offered load 12.5 ≥ 10 servers: the queue grows without limit; add servers or "
            "reduce demand"
        ),
    ):
        erlang_c(10, 12.5)
    with pytest.raises(CapacityInputError, match="offered load 10 ≥ 10 servers"):
        erlang_c(10, 10.0)


# --- M/M/c ----------------------------------------------------------------------------------


def test_mm1_closed_forms() -> None:
    # M/M/1 with λ = 2/h, μ = 3/h (E[S] = 20 min): ρ = 2/3, Wq = ρ/(μ − λ) = 2/3 h,
    # Lq = ρ²/(1 − ρ) = 4/3, L = ρ/(1 − ρ) = 2, W = 1/(μ − λ) = 1 h, P(Wq > t) = ρ·e^{−(μ−λ)t}.
    q = mmc(2.0, 1 / 3, 1)
    assert q.offered_load == pytest.approx(2 / 3)
    assert q.utilisation == pytest.approx(2 / 3)
    assert q.p_wait == pytest.approx(2 / 3)
    assert q.mean_wait == pytest.approx(2 / 3)
    assert q.mean_queue_length == pytest.approx(4 / 3)
    assert q.mean_in_system == pytest.approx(2.0)
    assert q.mean_time_in_system == pytest.approx(1.0)
    assert q.p_wait_longer_than(0.0) == pytest.approx(2 / 3)
    assert q.p_wait_longer_than(1.5) == pytest.approx(2 / 3 * math.exp(-1.5))


def test_mmc_hand_worked_two_servers() -> None:
    # λ = 1/min, E[S] = 1 min, c = 2: a = 1, C = 1/3, Wq = C·E[S]/(c − a) = 1/3 min,
    # Lq = 1/3, W = 4/3 min, L = 4/3, P(Wq > 2) = (1/3)·e^{−(2 − 1)·2}.
    q = mmc(1.0, 1.0, 2)
    assert isinstance(q, MMc)
    assert (q.arrival_rate, q.service_mean, q.servers) == (1.0, 1.0, 2)
    assert q.utilisation == pytest.approx(0.5)
    assert q.p_wait == pytest.approx(1 / 3)
    assert q.mean_wait == pytest.approx(1 / 3)
    assert q.mean_queue_length == pytest.approx(1 / 3)
    assert q.mean_time_in_system == pytest.approx(4 / 3)
    assert q.mean_in_system == pytest.approx(4 / 3)
    assert q.p_wait_longer_than(2.0) == pytest.approx(math.exp(-2.0) / 3)


def test_mmc_is_frozen() -> None:
    q = mmc(1.0, 1.0, 2)
    with pytest.raises(AttributeError):
        q.servers = 3  # type: ignore[misc]


rates = st.floats(min_value=0.01, max_value=1000.0)
means = st.floats(min_value=0.01, max_value=100.0)


@given(lam=rates, rho=st.floats(min_value=0.01, max_value=0.99))
def test_mmc_with_one_server_is_mm1(lam: float, rho: float) -> None:
    es = rho / lam
    mu = 1 / es
    q = mmc(lam, es, 1)
    assert q.p_wait == pytest.approx(rho, rel=1e-9)
    assert q.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-9)
    assert q.mean_queue_length == pytest.approx(rho**2 / (1 - rho), rel=1e-9)
    assert q.p_wait_longer_than(es) == pytest.approx(rho * math.exp(-(mu - lam) * es), rel=1e-9)


@given(lam=rates, es=means, extra=st.integers(min_value=1, max_value=50))
def test_littles_law_holds_inside_mmc(lam: float, es: float, extra: int) -> None:
    c = math.floor(lam * es) + extra
    q = mmc(lam, es, c)
    assert q.mean_queue_length == pytest.approx(lam * q.mean_wait, rel=1e-12)
    assert q.mean_in_system == pytest.approx(lam * q.mean_time_in_system, rel=1e-9)
    assert q.mean_time_in_system == pytest.approx(q.mean_wait + es, rel=1e-12)
    assert q.utilisation == pytest.approx(lam * es / c, rel=1e-12)
    assert 0.0 <= q.p_wait_longer_than(es) <= q.p_wait <= 1.0


# --- Little's law ---------------------------------------------------------------------------


def test_littles_law_solves_for_the_missing_one() -> None:
    # 40 admissions/day staying 5 days occupy 200 beds.
    assert littles_law(rate=40.0, time=5.0) == pytest.approx(200.0)
    assert littles_law(items=200.0, time=5.0) == pytest.approx(40.0)
    assert littles_law(items=200.0, rate=40.0) == pytest.approx(5.0)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"items": 1.0}, {"items": 1.0, "rate": 1.0, "time": 1.0}],
)
def test_littles_law_needs_exactly_two(kwargs: dict[str, float]) -> None:
    given_count = len(kwargs)
    with pytest.raises(
        CapacityInputError,
        match=message(
            f"give exactly two of items, rate and time to Little's law (got {given_count})"
        ),
    ):
        littles_law(**kwargs)


def test_littles_law_bad_values() -> None:
    with pytest.raises(CapacityInputError, match=message("rate must be positive (got 0.0)")):
        littles_law(items=5.0, rate=0.0)
    with pytest.raises(CapacityInputError, match=message("items must be zero or more (got -1.0)")):
        littles_law(items=-1.0, time=2.0)


# --- sizing ---------------------------------------------------------------------------------


def test_servers_for_blocking_table_example() -> None:
    # B(10, 5) = 0.01838 ≤ 2% but B(9, 5) = 0.0375 > 2%, so 10 servers.
    assert servers_for_blocking(5.0, 0.02) == 10
    assert erlang_b(9, 5.0) > 0.02
    # Table: 100 circuits carry 84.06 Erlangs at 1% (rounded, B(100, 84.06) = 0.00999).
    assert servers_for_blocking(84.06, 0.01) == 100
    assert servers_for_blocking(0.0, 0.5) == 1


def test_servers_for_mean_wait_example() -> None:
    # λ = 1, E[S] = 1: c = 2 gives Wq = 1/3 (above), c = 3 gives Wq = C(3,1)/2 = (1/11)/2.
    # C(3, 1): P = (1/6)·3/2 = 1/4; C = (1/4)/(1 + 1 + 1/2 + 1/4) = 1/11.
    assert servers_for_mean_wait(1.0, 1.0, 0.5) == 2
    assert servers_for_mean_wait(1.0, 1.0, 0.3) == 3
    assert mmc(1.0, 1.0, 3).mean_wait == pytest.approx(1 / 22)


def test_servers_for_wait_probability_example() -> None:
    # λ = 1, E[S] = 1: P(Wq > 0) = C is 1/3 at c = 2 and 1/11 at c = 3.
    assert servers_for_wait_probability(1.0, 1.0, 0.0, 0.5) == 2
    assert servers_for_wait_probability(1.0, 1.0, 0.0, 0.2) == 3
    # With a threshold: P(Wq > 1) at c = 2 is (1/3)e^{−1} = 0.1226 ≤ 0.15.
    assert servers_for_wait_probability(1.0, 1.0, 1.0, 0.15) == 2


@given(
    load=st.floats(min_value=0.0, max_value=3000.0),
    p=st.floats(min_value=1e-6, max_value=0.9),
)
def test_servers_for_blocking_is_smallest(load: float, p: float) -> None:
    c = servers_for_blocking(load, p)
    assert erlang_b(c, load) <= p
    assert c == 1 or erlang_b(c - 1, load) > p


@given(
    lam=rates,
    es=means,
    target=st.floats(min_value=1e-4, max_value=10.0),
)
def test_servers_for_mean_wait_is_smallest(lam: float, es: float, target: float) -> None:
    max_wait = target * es
    c = servers_for_mean_wait(lam, es, max_wait)
    assert mmc(lam, es, c).mean_wait <= max_wait
    if c - 1 > lam * es:  # c − 1 is stable, so it must miss the target
        assert mmc(lam, es, c - 1).mean_wait > max_wait
    else:
        assert c == math.floor(lam * es) + 1


@given(
    lam=rates,
    es=means,
    t=st.floats(min_value=0.0, max_value=5.0),
    p=st.floats(min_value=1e-4, max_value=0.9),
)
def test_servers_for_wait_probability_is_smallest(
    lam: float, es: float, t: float, p: float
) -> None:
    wait = t * es
    c = servers_for_wait_probability(lam, es, wait, p)
    assert mmc(lam, es, c).p_wait_longer_than(wait) <= p
    if c - 1 > lam * es:
        assert mmc(lam, es, c - 1).p_wait_longer_than(wait) > p
    else:
        assert c == math.floor(lam * es) + 1


def test_sizing_for_thousands() -> None:
    big = servers_for_blocking(10_000.0, 0.01)
    wait = servers_for_mean_wait(5_000.0, 1.0, 0.001)
    prob = servers_for_wait_probability(5_000.0, 1.0, 0.0, 0.05)
    # Large loss systems run hot: 10,000 Erlangs need fewer than 10,000 servers at 1% blocking
    # (B > 1 − c/a rules out c ≤ 9,900).
    assert 9_900 < big < 10_000
    assert erlang_b(big, 10_000.0) <= 0.01 < erlang_b(big - 1, 10_000.0)
    assert 5_000 < wait < 5_300
    assert 5_000 < prob < 5_300


# --- properties -----------------------------------------------------------------------------

TOL = 1e-9


@given(c=st.integers(min_value=1, max_value=3000), a=st.floats(min_value=0.0, max_value=4000.0))
def test_erlang_b_decreases_with_servers(c: int, a: float) -> None:
    assert erlang_b(c + 1, a) <= erlang_b(c, a) * (1 + TOL)


@given(
    c=st.integers(min_value=1, max_value=3000),
    a=st.floats(min_value=0.0, max_value=4000.0),
    more=st.floats(min_value=0.0, max_value=500.0),
)
def test_erlang_b_increases_with_load(c: int, a: float, more: float) -> None:
    assert erlang_b(c, a) <= erlang_b(c, a + more) * (1 + TOL)


@given(c=st.integers(min_value=1, max_value=3000), share=st.floats(min_value=0.0, max_value=0.999))
def test_blocking_below_waiting_probability(c: int, share: float) -> None:
    a = c * share
    b = erlang_b(c, a)
    w = erlang_c(c, a)
    assert 0.0 <= b <= w * (1 + TOL)
    assert w <= 1.0


# --- Allen–Cunneen --------------------------------------------------------------------------


@given(lam=rates, es=means, extra=st.integers(min_value=1, max_value=30))
def test_allen_cunneen_with_unit_cvs_is_mmc(lam: float, es: float, extra: int) -> None:
    c = math.floor(lam * es) + extra
    assert allen_cunneen_mean_wait(lam, es, c, 1.0, 1.0) == pytest.approx(
        mmc(lam, es, c).mean_wait, rel=1e-12
    )


def test_allen_cunneen_single_server_is_pollaczek_khinchine() -> None:
    # M/G/1 (ca = 1): Pollaczek–Khinchine Wq = λ·E[S]²·(1 + cs²) / (2(1 − ρ)), exact.
    lam, es, cs = 0.8, 1.0, 0.5
    pk = lam * es**2 * (1 + cs**2) / (2 * (1 - lam * es))
    assert allen_cunneen_mean_wait(lam, es, 1, 1.0, cs) == pytest.approx(pk, rel=1e-12)
    # M/D/1 (cs = 0): half the M/M/1 wait.
    assert allen_cunneen_mean_wait(lam, es, 1, 1.0, 0.0) == pytest.approx(
        mmc(lam, es, 1).mean_wait / 2
    )
    assert allen_cunneen_mean_wait(lam, es, 1, 0.0, 0.0) == 0.0


# --- bad inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: erlang_b(0, 1.0), "servers must be positive (got 0)"),
        (lambda: erlang_b(-3, 1.0), "servers must be positive (got -3)"),
        (
            lambda: erlang_b(2.5, 1.0),  # type: ignore[arg-type]
            "servers must be a whole number (got 2.5)",
        ),
        (lambda: erlang_b(True, 1.0), "servers must be a whole number (got True)"),
        (lambda: erlang_b(5, -1.0), "offered load must be zero or more (got -1.0)"),
        (lambda: erlang_b(5, math.nan), "offered load must be a finite number (got nan)"),
        (lambda: erlang_b(5, math.inf), "offered load must be a finite number (got inf)"),
        (
            lambda: erlang_b(5, "2"),  # type: ignore[arg-type]
            "offered load must be a number (got '2')",
        ),
        (lambda: erlang_c(0, 1.0), "servers must be positive (got 0)"),
        (lambda: erlang_c(5, -0.5), "offered load must be zero or more (got -0.5)"),
        (lambda: mmc(-2.0, 1.0, 3), "arrival rate must be positive (got -2.0)"),
        (lambda: mmc(0, 1.0, 3), "arrival rate must be positive (got 0)"),
        (lambda: mmc(1.0, 0.0, 3), "mean service time must be positive (got 0.0)"),
        (
            lambda: mmc(3.0, 2.0, 5),
            "offered load 6 ≥ 5 servers: the queue grows without limit; add servers or "
            "reduce demand",
        ),
        (
            lambda: mmc(1.0, 1.0, 2).p_wait_longer_than(-1.0),
            "wait time must be zero or more (got -1.0)",
        ),
        (
            lambda: servers_for_mean_wait(1.0, 1.0, 0.0),
            "maximum mean wait must be positive (got 0.0)",
        ),
        (lambda: servers_for_mean_wait(-1.0, 1.0, 1.0), "arrival rate must be positive (got -1.0)"),
        (
            lambda: servers_for_wait_probability(1.0, 1.0, -1.0, 0.1),
            "wait time must be zero or more (got -1.0)",
        ),
        (
            lambda: servers_for_wait_probability(1.0, 1.0, 1.0, 1.0),
            "maximum probability must be between 0 and 1 exclusive (got 1.0)",
        ),
        (
            lambda: servers_for_blocking(5.0, 0.0),
            "maximum blocking must be between 0 and 1 exclusive (got 0.0)",
        ),
        (lambda: servers_for_blocking(-5.0, 0.01), "offered load must be zero or more (got -5.0)"),
        (
            lambda: allen_cunneen_mean_wait(1.0, 1.0, 2, -1.0, 1.0),
            "arrival coefficient of variation must be zero or more (got -1.0)",
        ),
        (
            lambda: allen_cunneen_mean_wait(1.0, 1.0, 2, 1.0, math.nan),
            "service coefficient of variation must be a finite number (got nan)",
        ),
        (
            lambda: allen_cunneen_mean_wait(4.0, 1.0, 2, 1.0, 1.0),
            "offered load 4 ≥ 2 servers: the queue grows without limit; add servers or "
            "reduce demand",
        ),
    ],
)
def test_bad_inputs_raise_one_line_errors(call: object, text: str) -> None:
    assert callable(call)
    with pytest.raises(CapacityInputError, match=message(text)) as caught:
        call()
    assert "\n" not in str(caught.value)
