"""NHS waiting-list queueing formulas against the NHSRwaitinglist reference values.

Reference values are the published examples and test expectations of the NHS-R Community R
package NHSRwaitinglist (github.com/nhs-r-community/NHSRwaitinglist); each test names the R call
that produced the number and the file it is in (commit in brackets). Only the numbers are used.
"""

from __future__ import annotations

import math

import pytest

from flowplan.capacity.waitinglist import (
    queue_load,
    relief_capacity,
    target_capacity,
    target_mean_wait,
    target_queue_size,
    targets,
    waiting_list_pressure,
)
from flowplan.errors import CapacityInputError, UsageError

# R's testthat expect_equal() compares with tolerance ~1.5e-8; the references are printed to
# 7-9 significant figures, so compare relative to 1e-7.
REL = 1e-7


# --- target_mean_wait ------------------------------------------------------------------------


def test_target_mean_wait_documented_example() -> None:
    # R/calc_target_mean_wait.R [324572d], @examples: calc_target_mean_wait(52, 4) is 13 weeks,
    # and "with a factor of 6 it would be 8.67 weeks".
    assert target_mean_wait(52, 4) == 13.0
    assert target_mean_wait(52, 6) == pytest.approx(8.67, abs=0.005)


@pytest.mark.parametrize(
    ("target_wait", "factor", "expected"),
    [(35, 4, 8.75), (30, 4, 7.5), (52, 6, 8.6666667)],
)
def test_target_mean_wait_reference_vector(
    target_wait: float, factor: float, expected: float
) -> None:
    # tests/testthat/test-calc_target_mean_wait.R [30d0687]:
    # calc_target_mean_wait(c(35, 30, 52), c(4, 4, 6)) == c(8.75, 7.5, 8.6666667)
    assert target_mean_wait(target_wait, factor) == pytest.approx(expected, rel=REL)


def test_target_mean_wait_default_factor_is_four() -> None:
    assert target_mean_wait(18) == 4.5


# --- target_queue_size -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("demand", "target_wait", "factor", "expected"),
    [(30, 52, 4, 390.0), (30, 50, 4, 375.0), (30, 50, 6, 250.0)],
)
def test_target_queue_size_reference(
    demand: float, target_wait: float, factor: float, expected: float
) -> None:
    # R/calc_target_queue_size.R [23ca818] @examples: 30 * 52 / 4 = 390 patients;
    # tests/testthat/test-calc_target_queue_size.R [7ce33a6]: (30, 50) == 375, (30, 50, 6) == 250.
    assert target_queue_size(demand, target_wait, factor) == pytest.approx(expected, rel=1e-12)


# --- target_capacity -------------------------------------------------------------------------


def test_target_capacity_reference_single() -> None:
    # tests/testthat/test-calc_target_capacity.R [103ac23]:
    # calc_target_capacity(30, 52, 3, 1.1, 1.2) == 30.076442
    assert target_capacity(30, 52, 3, 1.1, 1.2) == pytest.approx(30.076442, rel=REL)
    assert target_capacity(30, 52, 3, 1.1, 1.2) == 30 + ((1.1**2 + 1.2**2) / 2) * (3 / 52)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((30, 52, 3, 1.1, 1.4), 30.0914423),
        ((42, 65, 2, 1.2, 1.5), 42.0567692),
        ((35, 50, 1, 1.3, 1.6), 35.0425),
    ],
)
def test_target_capacity_reference_vector(
    args: tuple[float, float, float, float, float], expected: float
) -> None:
    # tests/testthat/test-calc_target_capacity.R [103ac23], the (commented-out, formerly
    # vectorised) case: calc_target_capacity(c(30, 42, 35), c(52, 65, 50), c(3, 2, 1),
    # c(1.1, 1.2, 1.3), c(1.4, 1.5, 1.6)) == c(30.0914423, 42.0567692, 35.0425)
    assert target_capacity(*args) == pytest.approx(expected, rel=REL)


def test_target_capacity_documented_call_defaults() -> None:
    # R/calc_target_capacity.R [050e289] @examples: calc_target_capacity(4, 52) with defaults
    # factor 4, cv 1 and 1 (no printed value there); by hand 4 + ((1 + 1) / 2) × (4 / 52).
    assert target_capacity(4, 52) == pytest.approx(4 + 4 / 52, rel=1e-12)
    assert target_capacity(4, 52) == pytest.approx(4.0769231, rel=REL)


def test_target_capacity_without_variability_is_demand() -> None:
    assert target_capacity(30, 52, cv_demand=0.0, cv_capacity=0.0) == 30.0


# --- relief_capacity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [((30, 1200, 390, 26), 61.153846), ((33, 800, 200, 30), 53.0), ((35, 250, 100, 15), 45.0)],
)
def test_relief_capacity_reference(
    args: tuple[float, float, float, float], expected: float
) -> None:
    # R/calc_relief_capacity.R [04acec2] @examples: "30 + (1200 - 390)/26 = 61.15 patients per
    # week"; tests/testthat/test-calc_relief_capacity.R [f7429e5]:
    # calc_relief_capacity(c(30, 33, 35), c(1200, 800, 250), c(390, 200, 100), c(26, 30, 15))
    # == c(61.153846, 53, 45)
    assert relief_capacity(*args) == pytest.approx(expected, rel=REL)


def test_relief_capacity_below_demand_when_list_already_small() -> None:
    # Hand-worked: 30 + (300 − 390) / 30 = 27 per week.
    assert relief_capacity(30, 300, 390, 30) == pytest.approx(27.0)


# --- queue_load ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("demand", "capacity", "expected"),
    [(30, 27, 1.11111111), (35, 27, 1.2962963), (30, 25, 1.2), (52, 42, 1.23809524)],
)
def test_queue_load_reference(demand: float, capacity: float, expected: float) -> None:
    # R/calc_queue_load.R [04acec2] @examples: "30 ... and 27 removed ... 1.11 (30/27)";
    # tests/testthat/test-calc_queue_load.R [42051ef]: calc_queue_load(30, 27) == 1.11111111 and
    # calc_queue_load(c(35, 30, 52), c(27, 25, 42)) == c(1.2962963, 1.2, 1.23809524)
    assert queue_load(demand, capacity) == pytest.approx(expected, rel=REL)


# --- waiting_list_pressure -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean_wait", "target_wait", "expected"),
    [(63, 52, 2.42307692), (42, 24, 3.5), (55, 50, 2.2), (24, 4, 12.0)],
)
def test_waiting_list_pressure_reference(
    mean_wait: float, target_wait: float, expected: float
) -> None:
    # R/calc_waiting_list_pressure.R [23ca818] @examples waiting_list_pressure(63, 52);
    # tests/testthat/test-calc_waiting_list_pressure.R [5d13f52]: (63, 52) == 2.42307692 and
    # (c(63, 42, 55), c(52, 24, 50)) == c(2.42307692, 3.5, 2.2);
    # vignettes/example_walkthrough.Rmd [1a8a899], P2 ENT list: mean 24 weeks, target 4 → 12
    # ("5 times higher" than the P4 list's 2.42).
    assert waiting_list_pressure(mean_wait, target_wait) == pytest.approx(expected, rel=REL)


# --- targets ---------------------------------------------------------------------------------


def test_targets_ent_walkthrough() -> None:
    # vignettes/example_walkthrough.Rmd [1a8a899]: the P4 ENT list of Fong et al. — queue 1200,
    # target 52 weeks, mean wait 63 weeks, demand 30/week, capacity 27/week, 26 weeks to target.
    # Load 1.11, average (target mean) wait 13, target queue size 390 (queue ratio 3.1),
    # relief capacity 61.2 per week, pressure 2.42.
    result = targets(30, 52, queue_size=1200, time_to_target=26, mean_wait=63, capacity=27)
    assert list(result) == [
        "target_mean_wait",
        "target_queue_size",
        "target_capacity",
        "relief_capacity",
        "queue_load",
        "pressure",
    ]
    assert result["target_mean_wait"] == 13.0
    assert result["target_queue_size"] == 390.0
    assert round(1200 / 390, 1) == 3.1
    assert result["relief_capacity"] == pytest.approx(61.153846, rel=REL)
    assert round(result["relief_capacity"] or 0.0, 1) == 61.2
    assert result["queue_load"] == pytest.approx(30 / 27)
    assert result["pressure"] == pytest.approx(2.42307692, rel=REL)
    assert result["target_capacity"] == pytest.approx(30 + 4 / 52)


def test_targets_defaults_leave_unasked_figures_none() -> None:
    result = targets(30, 52)
    assert result["relief_capacity"] is None
    assert result["pressure"] is None
    # Without a capacity the load is that of the target capacity.
    assert result["queue_load"] == pytest.approx(30 / (30 + 4 / 52))


def test_targets_passes_factor_and_variability() -> None:
    result = targets(30, 52, factor=3, cv_demand=1.1, cv_capacity=1.2)
    assert result["target_capacity"] == pytest.approx(30.076442, rel=REL)
    assert result["target_mean_wait"] == pytest.approx(52 / 3)
    assert result["target_queue_size"] == pytest.approx(30 * 52 / 3)


def test_targets_needs_both_relief_inputs() -> None:
    with pytest.raises(CapacityInputError, match="give time_to_target"):
        targets(30, 52, queue_size=1200)
    with pytest.raises(CapacityInputError, match="give queue_size"):
        targets(30, 52, time_to_target=26)


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: target_queue_size(-3.0, 52), "demand must be positive (got -3.0 per week)"),
        (lambda: target_mean_wait(0, 4), "target wait must be positive (got 0.0 weeks)"),
        (lambda: target_mean_wait(52, 0), "factor must be positive"),
        (lambda: target_capacity(30, 52, cv_demand=-1), "cv_demand must not be negative"),
        (lambda: target_capacity(math.nan, 52), "demand must be a finite number"),
        (lambda: relief_capacity(30, -1, 390, 26), "queue size must not be negative"),
        (lambda: relief_capacity(30, 1200, 390, 0), "time to target must be positive"),
        (lambda: queue_load(30, 0), "capacity must be positive (got 0.0 per week)"),
        (lambda: waiting_list_pressure(-1, 52), "mean wait must not be negative"),
        (lambda: waiting_list_pressure(63, math.inf), "target wait must be a finite number"),
        (lambda: queue_load("30", 27), "demand must be a number"),  # type: ignore[arg-type]
        (lambda: queue_load(True, 27), "demand must be a number"),
        (lambda: targets(30, 52, capacity=0), "capacity must be positive"),
    ],
)
def test_bad_inputs_raise_one_line(call: object, fragment: str) -> None:
    assert callable(call)
    with pytest.raises(CapacityInputError) as info:
        call()
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert isinstance(info.value, UsageError)
