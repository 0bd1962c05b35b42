"""Fair shares: a pot of money shared on population, after a central top-slice, in whole pounds.

Seed 000 "Allocation of funding": the majority of the resilience money is allocated "on fair
shares basis ... based on the population within each CCG's geographical footprint", after "a core
part of the funding will be topsliced and used to support various central initiatives". An
optional weight per organisation (a need index, e.g. for age or deprivation) scales its
population.

Shares are whole pounds and add up exactly to the pot less the top-slice, by the **largest
remainder method** (Hamilton's method: every organisation gets the whole-pound part of its exact
quota; the pounds left over go one each to the largest fractional remainders; M. L. Balinski and
H. P. Young, *Fair Representation*, Yale University Press 1982, ch. 2). Ties in the remainder go
to the larger quota, then to the organisation listed first, so the result is deterministic.
Quotas are computed with exact fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flowplan.plans.money import decimal_number


@dataclass(frozen=True)
class Allocation:
    """A pot shared out in whole pounds.

    Attributes:
        pot_gbp: the whole pot, £.
        top_slice_gbp: the part kept centrally, £.
        distributed_gbp: pot − top-slice, £ (= the sum of ``allocations``).
        allocations: organisation → whole pounds, in input order.
        quotas: organisation → exact fair share before rounding, £ (to the penny, for display).
    """

    pot_gbp: Decimal
    top_slice_gbp: Decimal
    distributed_gbp: Decimal
    allocations: dict[str, Decimal]
    quotas: dict[str, Decimal]

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``{"allocations": {org: pounds}, "top_slice": x, ...}``."""
        return {
            "allocations": {org: int(v) for org, v in self.allocations.items()},
            "top_slice": decimal_number(self.top_slice_gbp),
            "pot": decimal_number(self.pot_gbp),
            "distributed": decimal_number(self.distributed_gbp),
        }


def _fraction(value: Decimal | int) -> Fraction:
    return Fraction(value) if isinstance(value, int) else Fraction(str(value))


def _pounds(value: Fraction) -> Decimal:
    """An exact fraction of pounds to the penny (for display only)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"))


def largest_remainder(total: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Share ``total`` whole units in proportion to ``weights`` (Hamilton's method).

    Args:
        total: whole units to share (≥ 0).
        weights: organisation → non-negative weight; at least one positive.

    Returns:
        Organisation → whole units, in input order, summing exactly to ``total``.

    Raises:
        ValueError: ``total`` negative, a weight negative, or no positive weight.
    """
    if total < 0:
        raise ValueError("the amount to share must not be negative")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    whole = sum(weights.values(), Fraction(0))
    if whole <= 0:
        raise ValueError("at least one organisation needs a positive (weighted) population")
    quotas = {k: total * w / whole for k, w in weights.items()}
    floors = {k: q.numerator // q.denominator for k, q in quotas.items()}
    left = total - sum(floors.values())
    order = list(weights)
    ranked = sorted(
        order,
        key=lambda k: (-(quotas[k] - floors[k]), -quotas[k], order.index(k)),
    )
    for k in ranked[:left]:
        floors[k] += 1
    return floors


def fair_shares(
    pot_gbp: Decimal,
    populations: Mapping[str, int],
    *,
    top_slice_gbp: Decimal = Decimal(0),
    weights: Mapping[str, Decimal] | None = None,
) -> Allocation:
    """Share ``pot − top_slice`` on (weighted) population in whole pounds.

    Args:
        pot_gbp: the whole pot, pounds (whole pounds).
        populations: organisation → population (people, ≥ 0), in the order to report.
        top_slice_gbp: the part kept centrally, pounds (whole pounds, ≤ pot).
        weights: organisation → weight (> 0, default 1) scaling its population.

    Returns:
        The allocation; its shares sum exactly to ``pot − top_slice``.

    Raises:
        ValueError: pot or top-slice not whole pounds or negative, top-slice above the pot, a
            population negative, a weight not positive or naming an unknown organisation, or no
            population at all.
    """
    if pot_gbp < 0 or top_slice_gbp < 0:
        raise ValueError("the pot and the top-slice must not be negative")
    if pot_gbp != pot_gbp.to_integral_value() or top_slice_gbp != top_slice_gbp.to_integral_value():
        raise ValueError("the pot and the top-slice must be whole pounds")
    if top_slice_gbp > pot_gbp:
        raise ValueError("the top-slice must not exceed the pot")
    if not populations:
        raise ValueError("no organisations to share the pot among")
    if any(p < 0 for p in populations.values()):
        raise ValueError("populations must not be negative")
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(populations))
    if unknown:
        raise ValueError(f"weights name organisations without a population: {', '.join(unknown)}")
    if any(w <= 0 for w in weights.values()):
        raise ValueError("weights must be positive")
    weighted = {
        org: Fraction(pop) * _fraction(weights.get(org, Decimal(1)))
        for org, pop in populations.items()
    }
    distributed = pot_gbp - top_slice_gbp
    shares = largest_remainder(int(distributed), weighted)
    whole = sum(weighted.values(), Fraction(0))
    quotas = {org: _pounds(_fraction(distributed) * w / whole) for org, w in weighted.items()}
    return Allocation(
        pot_gbp,
        top_slice_gbp,
        distributed,
        {org: Decimal(v) for org, v in shares.items()},
        quotas,
    )
