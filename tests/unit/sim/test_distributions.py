"""Distribution moments against theory, the compiled encoding, and the engines' reference draw.

Theory: exponential Var = mean²; lognormal/gamma Var = (mean·cv)²; uniform Var = (b−a)²/12;
Erlang(k) Var = mean²/k (any probability text, e.g. Law, "Simulation Modeling and Analysis",
5th ed., ch. 6). Lognormal log-parameters: σ² = ln(1 + cv²), μ = ln(mean) − σ²/2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from flowplan.sim.distributions import (
    CODE_DETERMINISTIC,
    CODE_ERLANG,
    CODE_EXPONENTIAL,
    CODE_GAMMA,
    CODE_LOGNORMAL,
    CODE_UNIFORM,
    Deterministic,
    Distribution,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Uniform,
    encode,
    encoded_mean,
    sample_encoded,
    sample_encoded_many,
)

ADAPTER: TypeAdapter[object] = TypeAdapter(Distribution)

CASES = [
    (Exponential(mean=2.0), 2.0, 4.0),
    (Lognormal(mean=2.0, cv=0.5), 2.0, 1.0),
    (Gamma(mean=3.0, cv=0.4), 3.0, 1.44),
    (Gamma(mean=1.0, cv=1.5), 1.0, 2.25),  # shape 0.444 < 1: the boosted branch
    (Uniform(low=1.0, high=4.0), 2.5, 0.75),
    (Erlang(mean=6.0, k=3), 6.0, 12.0),
    (Deterministic(value=1.5), 1.5, 0.0),
]


@pytest.mark.parametrize(("dist", "mean", "variance"), CASES)
def test_theoretical_moments(dist: Distribution, mean: float, variance: float) -> None:
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert dist.variance() == pytest.approx(variance, rel=1e-12, abs=1e-15)
    code, p1, p2 = dist.encode()
    assert encoded_mean(code, p1, p2) == pytest.approx(mean, rel=1e-12)


@pytest.mark.parametrize(("dist", "mean", "variance"), CASES)
def test_vectorised_sample_moments(dist: Distribution, mean: float, variance: float) -> None:
    # n = 200,000: the sample mean is within 4 standard errors (sd/√n) of the mean; the sample
    # variance within 4 % (lognormal/gamma cv 1.5 have heavy tails: 8 %).
    n = 200_000
    x = dist.sample(np.random.default_rng(20240401), n)
    assert x.shape == (n,)
    assert abs(x.mean() - mean) <= 4 * math.sqrt(variance / n) + 1e-12
    tol = 0.08 if isinstance(dist, Lognormal | Gamma) else 0.04
    assert x.var() == pytest.approx(variance, rel=tol, abs=1e-12)


@pytest.mark.parametrize(("dist", "mean", "variance"), CASES)
def test_reference_draw_moments(dist: Distribution, mean: float, variance: float) -> None:
    # n = 20,000 through the scalar reference the engines mirror: mean within 4 standard errors,
    # variance within 10 % (15 % for the heavy-tailed gamma cv 1.5).
    n = 20_000
    code, p1, p2 = dist.encode()
    x = sample_encoded_many(code, p1, p2, np.random.default_rng(7), n)
    assert abs(x.mean() - mean) <= 4 * math.sqrt(variance / n) + 1e-12
    tol = 0.15 if isinstance(dist, Gamma) and dist.cv > 1 else 0.10
    assert x.var() == pytest.approx(variance, rel=tol, abs=1e-12)
    assert (x >= 0).all()


def test_encoding_table() -> None:
    assert Deterministic(value=2).encode() == (CODE_DETERMINISTIC, 2.0, 0.0)
    assert Exponential(mean=3).encode() == (CODE_EXPONENTIAL, 3.0, 0.0)
    code, mu, sigma = Lognormal(mean=2.0, cv=0.5).encode()
    assert code == CODE_LOGNORMAL
    assert sigma == pytest.approx(math.sqrt(math.log(1.25)))
    assert mu == pytest.approx(math.log(2.0) - math.log(1.25) / 2)
    assert Gamma(mean=3.0, cv=0.5).encode() == pytest.approx((CODE_GAMMA, 4.0, 0.75))
    assert Uniform(low=1, high=2).encode() == (CODE_UNIFORM, 1.0, 2.0)
    assert Erlang(mean=6.0, k=3).encode() == (CODE_ERLANG, 3.0, 2.0)
    assert encode(None) == (CODE_DETERMINISTIC, math.inf, 0.0)


def test_reference_draws_use_documented_primitives() -> None:
    # exponential: −mean·log(1 − u) with u = rng.random()
    u = np.random.default_rng(11).random()
    assert sample_encoded(CODE_EXPONENTIAL, 2.0, 0.0, np.random.default_rng(11)) == pytest.approx(
        -2.0 * math.log(1 - u), rel=1e-15
    )
    # lognormal: exp(μ + σ z) with z = rng.standard_normal()
    z = np.random.default_rng(12).standard_normal()
    got = sample_encoded(CODE_LOGNORMAL, 0.1, 0.3, np.random.default_rng(12))
    assert got == pytest.approx(math.exp(0.1 + 0.3 * z), rel=1e-15)
    # erlang: k uniforms, −θ Σ log(1 − u_i)
    us = np.random.default_rng(13).random(3)
    got = sample_encoded(CODE_ERLANG, 3.0, 2.0, np.random.default_rng(13))
    assert got == pytest.approx(-2.0 * float(np.log1p(-us).sum()), rel=1e-12)
    # uniform: low + (high − low)·u ; deterministic consumes nothing
    rng = np.random.default_rng(14)
    assert sample_encoded(CODE_DETERMINISTIC, 5.0, 0.0, rng) == 5.0
    u = np.random.default_rng(14).random()
    assert sample_encoded(CODE_UNIFORM, 1.0, 3.0, rng) == pytest.approx(1.0 + 2.0 * u)
    with pytest.raises(ValueError, match="unknown distribution code"):
        sample_encoded(9, 0.0, 0.0, rng)


def test_discriminated_union_and_validation() -> None:
    parsed = ADAPTER.validate_python({"kind": "gamma", "mean": 2, "cv": 0.5})
    assert isinstance(parsed, Gamma)
    assert parsed.mean() == 2.0
    assert ADAPTER.dump_python(parsed) == {"kind": "gamma", "mean": 2.0, "cv": 0.5}
    with pytest.raises(ValidationError, match=r"union_tag_invalid|does not match any"):
        ADAPTER.validate_python({"kind": "weibull", "mean": 1})
    with pytest.raises(ValidationError, match="extra"):
        ADAPTER.validate_python({"kind": "exponential", "mean": 1, "cv": 1})
    with pytest.raises(ValidationError, match="greater than 0"):
        ADAPTER.validate_python({"kind": "exponential", "mean": 0})
    with pytest.raises(ValidationError, match="high 1 is below low 2"):
        ADAPTER.validate_python({"kind": "uniform", "low": 2, "high": 1})
