"""Fair shares on population after a top-slice, whole pounds summing exactly (largest remainder).

Seed 000 (resilience_capacity_planning_2014-15) "Allocation of funding": monies allocated on a
fair shares basis on the population of each CCG footprint, after a central top-slice.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowplan.finance.allocate import fair_shares, largest_remainder


def test_worked_example_divides_exactly() -> None:
    # £3.7m pot, £200,000 top-slice: £3.5m shared 5:3:2.
    result = fair_shares(
        Decimal(3_700_000),
        {"00Q": 500_000, "00R": 300_000, "00X": 200_000},
        top_slice_gbp=Decimal(200_000),
    )
    assert result.allocations == {
        "00Q": Decimal(1_750_000),
        "00R": Decimal(1_050_000),
        "00X": Decimal(700_000),
    }
    assert result.distributed_gbp == Decimal(3_500_000)
    assert result.as_dict() == {
        "allocations": {"00Q": 1_750_000, "00R": 1_050_000, "00X": 700_000},
        "top_slice": 200_000,
        "pot": 3_700_000,
        "distributed": 3_500_000,
    }


def test_leftover_pounds_go_to_the_largest_remainders() -> None:
    # £100 over 3 equal populations: quotas 33.33 each; the one spare pound goes to the first.
    assert largest_remainder(100, {"A": Fraction(1), "B": Fraction(1), "C": Fraction(1)}) == {
        "A": 34,
        "B": 33,
        "C": 33,
    }
    # £10 over 45/35/20: quotas 4.5, 3.5, 2.0 → floors 4, 3, 2 (9); 1 spare to the larger
    # quota among the equal remainders (A, 4.5).
    got = fair_shares(Decimal(10), {"A": 45, "B": 35, "C": 20})
    assert got.allocations == {"A": Decimal(5), "B": Decimal(3), "C": Decimal(2)}
    # £1,000 over 1/6, 1/3, 1/2: 166.67, 333.33, 500 → 167, 333, 500
    thirds = fair_shares(Decimal(1000), {"A": 1, "B": 2, "C": 3})
    assert thirds.allocations == {"A": Decimal(167), "B": Decimal(333), "C": Decimal(500)}
    assert thirds.quotas["A"] == Decimal("166.67")


def test_weights_scale_population() -> None:
    got = fair_shares(Decimal(90), {"A": 100, "B": 100}, weights={"A": Decimal(2)})
    assert got.allocations == {"A": Decimal(60), "B": Decimal(30)}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pot_gbp": Decimal("10.50")}, "whole pounds"),
        ({"top_slice_gbp": Decimal(11)}, "must not exceed the pot"),
        ({"populations": {}}, "no organisations"),
        ({"populations": {"A": 0}}, "positive"),
        ({"weights": {"Z": Decimal(1)}}, "without a population: Z"),
        ({"weights": {"A": Decimal(0)}}, "weights must be positive"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"pot_gbp": Decimal(10), "populations": {"A": 1}}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fair_shares(**args)  # type: ignore[arg-type]


@given(
    pot=st.integers(min_value=0, max_value=10**10),
    top=st.integers(min_value=0, max_value=10**6),
    pops=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
    weights=st.lists(st.integers(min_value=1, max_value=300), min_size=12, max_size=12),
)
def test_parts_always_sum_to_the_whole(
    pot: int, top: int, pops: list[int], weights: list[int]
) -> None:
    if sum(pops) == 0:
        pops[0] = 1
    top = min(top, pot)
    orgs = {f"O{i}": p for i, p in enumerate(pops)}
    w = {f"O{i}": Decimal(weights[i]) / 100 for i in range(len(pops))}
    result = fair_shares(Decimal(pot), orgs, top_slice_gbp=Decimal(top), weights=w)
    assert sum(result.allocations.values()) == pot - top
    assert list(result.allocations) == list(orgs)
    for org, amount in result.allocations.items():
        assert amount == amount.to_integral_value()
        assert abs(amount - result.quotas[org]) < 1  # never more than a pound from the quota
