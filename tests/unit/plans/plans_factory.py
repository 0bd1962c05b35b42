"""Plans for rule tests: the demo plan (clean) and a small STP plan built in code.

Tests take a fresh copy, break one thing and check that exactly the matching rule fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from flowplan.plans import (
    FinancialSummaryLine,
    FinancialSummaryRow,
    Member,
    Milestone,
    Plan,
    PlanType,
    Risk,
    Role,
    Scheme,
    SchemeSection,
    StatedTotals,
    load_plan,
)

REPO = Path(__file__).resolve().parents[3]
DEMO_PATH = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


@cache
def _demo() -> Plan:
    return load_plan(DEMO_PATH)


def demo_plan() -> Plan:
    """A fresh deep copy of the worked example plan (passes every rule)."""
    return _demo().model_copy(deep=True)


def scheme(plan: Plan, scheme_id: str) -> Scheme:
    """The scheme called ``scheme_id`` (it must exist)."""
    found = plan.scheme(scheme_id)
    assert found is not None, scheme_id
    return found


def milestone(plan: Plan, milestone_id: str) -> Milestone:
    """The milestone called ``milestone_id`` (it must exist)."""
    return next(m for m in plan.milestones if m.id == milestone_id)


def risk(plan: Plan, risk_id: str) -> Risk:
    """The risk called ``risk_id`` (it must exist)."""
    return next(r for r in plan.risks if r.id == risk_id)


def restate_totals(plan: Plan) -> None:
    """Set the plan's stated totals to the computed ones (after a test changes some money)."""
    plan.stated_totals = StatedTotals(
        total_funding_gbp=plan.total_funding(),
        total_scheme_cost_gbp=plan.total_scheme_cost(),
        minimum_requirement_cost_gbp=plan.total_scheme_cost(section=SchemeSection.minimum),
        innovation_cost_gbp=plan.total_scheme_cost(section=SchemeSection.innovation),
        funding_gap_gbp=plan.funding_gap(),
    )


# STP 2020/21 summary in £000s, rows in the order of seed 002 L71–77. Worked by hand:
#   footprint NHS = commissioner + provider:  -50,000 + -80,000 = -130,000 (do nothing)
#                                             30,000 + 55,000 = 85,000 (solutions)
#                                             -20,000 + -25,000 = -45,000 (do something)
#   after STF = footprint NHS + STF:          -130,000 + 0 = -130,000; 85,000 + 45,000 = 130,000;
#                                             -45,000 + 45,000 = 0
#   total = after STF + social care:          -130,000 + -20,000 = -150,000;
#                                             130,000 + 20,000 = 150,000; 0 + 0 = 0
#   and in every row do something = do nothing + solutions.
STP_SUMMARY: tuple[tuple[FinancialSummaryLine, int, int, int], ...] = (
    (FinancialSummaryLine.commissioner, -50_000, 30_000, -20_000),
    (FinancialSummaryLine.provider, -80_000, 55_000, -25_000),
    (FinancialSummaryLine.footprint_nhs, -130_000, 85_000, -45_000),
    (FinancialSummaryLine.stf_allocation, 0, 45_000, 45_000),
    (FinancialSummaryLine.after_stf, -130_000, 130_000, 0),
    (FinancialSummaryLine.social_care, -20_000, 20_000, 0),
    (FinancialSummaryLine.total, -150_000, 150_000, 0),
)


def summary_rows(
    rows: Sequence[tuple[FinancialSummaryLine, int | float, int | float, int | float]] = (
        STP_SUMMARY
    ),
    year: str | None = "2020/21",
) -> list[FinancialSummaryRow]:
    """Financial summary rows from (row, do nothing, solutions, do something) in £000s."""
    return [
        FinancialSummaryRow(
            row=line,
            do_nothing=Decimal(str(dn)),
            solutions=Decimal(str(so)),
            do_something=Decimal(str(ds)),
            year=year,
        )
        for line, dn, so, ds in rows
    ]


def stp_plan() -> Plan:
    """A minimal STP plan on a page with a consistent financial summary and no money lines."""
    return Plan(
        id="demo-stp-2016",
        type=PlanType.stp_on_a_page,
        title="Demo STP plan on a page",
        footprint="STP-DEMO",
        period_start=date(2016, 4, 1),
        period_end=date(2021, 3, 31),
        requirements_version="2016-09.1",
        members=[
            Member(code="QE1", name="Demo ICB", roles=[Role.produces]),
            Member(code="RXN", name="Demo acute trust", roles=[Role.engaged]),
        ],
        financial_summary=summary_rows(),
    )
