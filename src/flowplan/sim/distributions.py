"""Duration distributions of the flow simulation, and their compiled (numba-friendly) encoding.

Every duration in a scenario is in **hours**. A distribution is written in a scenario as a mapping
with a ``kind`` tag, e.g. ``{kind: lognormal, mean: 2.0, cv: 0.8}``.

Compiled encoding. Engines never see these pydantic objects: :func:`encode` turns each into
``(code, p1, p2)`` with ``code`` an int and ``p1``, ``p2`` floats:

=====  ==============  ==========================  =================================
code   kind            p1                          p2
=====  ==============  ==========================  =================================
0      deterministic   value (hours; may be +inf)  0
1      exponential     mean (hours)                0
2      lognormal       mu of log(X)                sigma of log(X)
3      gamma           shape a (> 0)               scale θ (hours)
4      uniform         low (hours)                 high (hours)
5      erlang          k (whole number, as float)  scale θ = mean / k (hours)
=====  ==============  ==========================  =================================

:func:`sample_encoded` is the reference draw from an encoded distribution using only two
primitive draws of a :class:`numpy.random.Generator` — ``rng.random()`` (uniform on [0, 1)) and
``rng.standard_normal()`` — in a fixed, documented order, so a numba engine holding the same
Generator (numba supports ``Generator.random`` and ``Generator.standard_normal``) can mirror it
draw for draw. The ``sample`` methods of the models are vectorised numpy draws with the same
distribution but a different use of the stream; engines use :func:`sample_encoded`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Annotated, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE_DETERMINISTIC = 0
CODE_EXPONENTIAL = 1
CODE_LOGNORMAL = 2
CODE_GAMMA = 3
CODE_UNIFORM = 4
CODE_ERLANG = 5

KIND_CODES: dict[str, int] = {
    "deterministic": CODE_DETERMINISTIC,
    "exponential": CODE_EXPONENTIAL,
    "lognormal": CODE_LOGNORMAL,
    "gamma": CODE_GAMMA,
    "uniform": CODE_UNIFORM,
    "erlang": CODE_ERLANG,
}


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)

    @abstractmethod
    def mean(self) -> float:
        """Mean, in hours."""

    @abstractmethod
    def variance(self) -> float:
        """Variance, in hours²."""

    @abstractmethod
    def encode(self) -> tuple[int, float, float]:
        """The compiled ``(code, p1, p2)`` triple (see the module docstring)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` independent draws (hours), vectorised; not stream-identical to the engines."""


class Deterministic(_Dist):
    """Always ``value`` hours."""

    kind: Literal["deterministic"] = "deterministic"
    value: float = Field(ge=0, description="the constant duration, hours")

    def mean(self) -> float:
        return self.value

    def variance(self) -> float:
        return 0.0

    def encode(self) -> tuple[int, float, float]:
        return CODE_DETERMINISTIC, float(self.value), 0.0

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        return np.full(size, float(self.value), dtype=np.float64)


class Exponential(_Dist):
    """Exponential with the given mean (hours)."""

    kind: Literal["exponential"] = "exponential"
    mean_: float = Field(gt=0, alias="mean", description="mean, hours")

    def mean(self) -> float:
        return self.mean_

    def variance(self) -> float:
        return self.mean_**2

    def encode(self) -> tuple[int, float, float]:
        return CODE_EXPONENTIAL, float(self.mean_), 0.0

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        return rng.exponential(self.mean_, size)


class Lognormal(_Dist):
    """Lognormal given by its own mean (hours) and coefficient of variation (sd / mean)."""

    kind: Literal["lognormal"] = "lognormal"
    mean_: float = Field(gt=0, alias="mean", description="mean, hours")
    cv: float = Field(ge=0, description="coefficient of variation (sd / mean), a pure number")

    def mean(self) -> float:
        return self.mean_

    def variance(self) -> float:
        return (self.mean_ * self.cv) ** 2

    def encode(self) -> tuple[int, float, float]:
        sigma2 = math.log1p(self.cv**2)
        return CODE_LOGNORMAL, math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        _, mu, sigma = self.encode()
        return rng.lognormal(mu, sigma, size)


class Gamma(_Dist):
    """Gamma given by its mean (hours) and coefficient of variation (shape = 1 / cv²)."""

    kind: Literal["gamma"] = "gamma"
    mean_: float = Field(gt=0, alias="mean", description="mean, hours")
    cv: float = Field(gt=0, description="coefficient of variation (sd / mean), a pure number")

    def mean(self) -> float:
        return self.mean_

    def variance(self) -> float:
        return (self.mean_ * self.cv) ** 2

    def encode(self) -> tuple[int, float, float]:
        shape = 1.0 / self.cv**2
        return CODE_GAMMA, shape, self.mean_ / shape

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        _, shape, scale = self.encode()
        return rng.gamma(shape, scale, size)


class Uniform(_Dist):
    """Uniform on [low, high] hours."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, description="lower bound, hours")
    high: float = Field(ge=0, description="upper bound, hours (≥ low)")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high {self.high:g} is below low {self.low:g}")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def encode(self) -> tuple[int, float, float]:
        return CODE_UNIFORM, float(self.low), float(self.high)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        return rng.uniform(self.low, self.high, size)


class Erlang(_Dist):
    """Erlang: the sum of ``k`` exponentials, with overall mean ``mean`` hours."""

    kind: Literal["erlang"] = "erlang"
    mean_: float = Field(gt=0, alias="mean", description="mean, hours")
    k: int = Field(ge=1, le=1000, description="number of exponential phases")

    def mean(self) -> float:
        return self.mean_

    def variance(self) -> float:
        return self.mean_**2 / self.k

    def encode(self) -> tuple[int, float, float]:
        return CODE_ERLANG, float(self.k), self.mean_ / self.k

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        return rng.gamma(float(self.k), self.mean_ / self.k, size)


Distribution = Annotated[
    Deterministic | Exponential | Lognormal | Gamma | Uniform | Erlang,
    Field(discriminator="kind"),
]
"""Any duration distribution (hours), tagged by ``kind``."""

NEVER = Deterministic(value=math.inf)
"""The distribution of a duration that never ends (e.g. no patience limit)."""


def encode(
    dist: Deterministic | Exponential | Lognormal | Gamma | Uniform | Erlang | None,
) -> tuple[int, float, float]:
    """Compiled ``(code, p1, p2)`` of a distribution; ``None`` encodes as deterministic +inf."""
    return (NEVER if dist is None else dist).encode()


def encoded_mean(code: int, p1: float, p2: float) -> float:
    """Mean (hours) of an encoded distribution."""
    if code == CODE_DETERMINISTIC:
        return p1
    if code == CODE_EXPONENTIAL:
        return p1
    if code == CODE_LOGNORMAL:
        return math.exp(p1 + p2 * p2 / 2)
    if code in (CODE_GAMMA, CODE_ERLANG):
        return p1 * p2
    if code == CODE_UNIFORM:
        return (p1 + p2) / 2
    raise ValueError(f"unknown distribution code {code}")


def _standard_gamma(shape: float, rng: np.random.Generator) -> float:
    """Marsaglia–Tsang (2000) standard gamma draw, the exact order engines must mirror.

    For shape ≥ 1: d = shape − 1/3, c = 1/√(9d); repeat { z = standard_normal(); v = (1 + cz)³;
    if v ≤ 0: repeat; u = random(); if log(u) < z²/2 + d − dv + d·log(v): return d·v }.
    For shape < 1: x = (the above with shape + 1); u = random(); return x · u^(1/shape).
    """
    if shape < 1.0:
        x = _standard_gamma(shape + 1.0, rng)
        u = rng.random()
        return float(x * u ** (1.0 / shape))
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = rng.standard_normal()
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = rng.random()
        if u > 0.0 and math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return float(d * v)


def sample_encoded(code: int, p1: float, p2: float, rng: np.random.Generator) -> float:
    """One draw (hours) from an encoded distribution: the reference both engines mirror.

    Primitive draws used, in order:

    * deterministic: none; returns ``p1``.
    * exponential: ``u = rng.random()``; returns ``-p1 * log(1 - u)``.
    * lognormal: ``z = rng.standard_normal()``; returns ``exp(p1 + p2 * z)``.
    * gamma: Marsaglia–Tsang standard gamma of shape ``p1`` (see ``_standard_gamma``), times ``p2``.
    * uniform: ``u = rng.random()``; returns ``p1 + (p2 - p1) * u``.
    * erlang: ``k = int(p1)`` uniforms ``u_i = rng.random()``; returns ``-p2 * Σ log(1 - u_i)``.

    Args:
        code: distribution code (0–5).
        p1: first parameter.
        p2: second parameter.
        rng: the Generator of the process stream that owns the draw.

    Returns:
        A duration in hours (``inf`` for deterministic +inf).
    """
    if code == CODE_DETERMINISTIC:
        return p1
    if code == CODE_EXPONENTIAL:
        return -p1 * math.log(1.0 - rng.random())
    if code == CODE_LOGNORMAL:
        return math.exp(p1 + p2 * rng.standard_normal())
    if code == CODE_GAMMA:
        return p2 * _standard_gamma(p1, rng)
    if code == CODE_UNIFORM:
        return p1 + (p2 - p1) * rng.random()
    if code == CODE_ERLANG:
        total = 0.0
        for _ in range(int(p1)):
            total += math.log(1.0 - rng.random())
        return -p2 * total
    raise ValueError(f"unknown distribution code {code}")


def sample_encoded_many(
    code: int, p1: float, p2: float, rng: np.random.Generator, size: int
) -> NDArray[np.float64]:
    """``size`` successive :func:`sample_encoded` draws (a loop: the same stream use)."""
    out = np.empty(size, dtype=np.float64)
    for i in range(size):
        out[i] = sample_encoded(code, p1, p2, rng)
    return out
