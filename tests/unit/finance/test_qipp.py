"""QIPP register: the savings must cover the plan's QIPP need (DOMAIN.md §2.5; seed 001 L585,
L1524); under-planning is an error, over-planning, unidentified savings in the first two years
and reliance on red-rated schemes are warnings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flowplan.finance.examples import example_part
from flowplan.finance.model import FinancePart
from flowplan.finance.qipp import check_qipp, qipp_totals
from flowplan.finance.rules import finance_rules
from flowplan.plans.findings import Severity

RULES = finance_rules()
YEARS = ["2015/16", "2016/17", "2017/18", "2018/19", "2019/20"]


def part(need: int, schemes: list[dict[str, Any]], year_index: int = 0) -> FinancePart:
    years = []
    for n, y in enumerate(YEARS):
        years.append(
            {
                "year": y,
                "resource_limit_recurrent_gbp": 100_000_000,
                "spend_total_gbp": 100_000_000,
                "qipp_gbp": need if n == year_index else 0,
            }
        )
    base = {"org": "QE1", "service_line": "acute", "owner": "A", "rag": "green"}
    return FinancePart.model_validate(
        {
            "financial_plans": [{"org": "QE1", "org_type": "ccg", "years": years}],
            "qipp": [
                {"title": f"Scheme {i}", **base, **s, "id": f"Q{i}"} for i, s in enumerate(schemes)
            ],
        }
    )


def rules(p: FinancePart) -> list[str]:
    return [f.rule for f in check_qipp(p, RULES)]


def saving(amount: int, year: str = "2015/16", **kw: Any) -> dict[str, Any]:
    return {"savings_gbp": {year: amount}, **kw}


def test_cover_at_below_and_above_the_need() -> None:
    need = 1_000_000
    assert rules(part(need, [saving(600_000), saving(400_000)])) == []
    assert rules(part(need, [saving(999_999)])) == []  # within the £1 tolerance
    assert rules(part(need, [saving(999_998)])) == ["FIN-QIPP-COVER"]
    assert rules(part(need, [saving(1_000_001)])) == []
    assert rules(part(need, [saving(1_000_002)])) == ["FIN-QIPP-OVER"]


def test_findings_say_by_how_much() -> None:
    (under,) = check_qipp(part(1_000_000, [saving(750_000)]), RULES)
    assert under.severity is Severity.error
    assert under.location == "extensions.finance.financial_plans[QE1].years[2015/16].qipp_gbp"
    assert "under-planned by £250,000" in under.message
    assert (under.stated, under.expected) == ("register £750,000", "at least £1,000,000")
    (over,) = check_qipp(part(1_000_000, [saving(1_200_000)]), RULES)
    assert over.severity is Severity.warning
    assert "over-planned by £200,000" in over.message


def test_unidentified_savings_flagged_only_in_the_detailed_years() -> None:
    schemes = [saving(900_000), saving(100_000, identified=False)]
    assert rules(part(1_000_000, schemes)) == ["FIN-QIPP-UNIDENTIFIED"]
    later = [saving(900_000, "2017/18"), saving(100_000, "2017/18", identified=False)]
    assert rules(part(1_000_000, later, year_index=2)) == []  # year 3: allowed
    totals = qipp_totals(part(1, schemes).qipp, "QE1", "2015/16")
    assert (totals.identified_gbp, totals.unidentified_gbp) == (Decimal(900_000), Decimal(100_000))


def test_red_schemes_must_not_be_needed_to_cover_the_gap() -> None:
    red = [saving(900_000), saving(100_000, rag="red")]
    assert rules(part(1_000_000, red)) == ["FIN-QIPP-RED"]
    spare = [saving(1_000_000), saving(1, rag="red")]
    assert rules(part(1_000_000, spare)) == []


def test_demo_register_covers_the_plan_exactly() -> None:
    demo = example_part()
    assert check_qipp(demo, RULES) == []
    need = {y.year: y.qipp_gbp for y in demo.financial_plans[0].years}
    got = {y: qipp_totals(demo.qipp, "QE1", y).total_gbp for y in need}
    assert got == need
    assert need["2015/16"] == Decimal(60_000_000)
