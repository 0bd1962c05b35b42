"""The marginal rate emergency tariff rule (seed 001 L850): 30% paid above baseline, 70% kept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flowplan.finance.examples import example_part
from flowplan.finance.extension import check_finance
from flowplan.finance.rules import finance_rules
from flowplan.finance.tariff import marginal_split, retained_by_year
from flowplan.plans.document import load_plan

RULES = finance_rules()
DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


def test_worked_split() -> None:
    # Demo: baseline £48m, actual £51.5m → £3.5m above; 30% paid £1.05m, 70% kept £2.45m.
    s = marginal_split(Decimal(48_000_000), Decimal(51_500_000), RULES)
    assert s.above_baseline_gbp == Decimal(3_500_000)
    assert s.paid_gbp == Decimal(1_050_000)
    assert s.retained_gbp == Decimal(2_450_000)
    assert s.payable_gbp == Decimal(49_050_000)
    assert (s.paid_pct, s.retained_pct) == (Decimal(30), Decimal(70))
    assert s.as_dict()["retained"] == 2_450_000


def test_at_and_below_baseline_nothing_is_retained() -> None:
    at = marginal_split(Decimal(1000), Decimal(1000), RULES)
    assert at.above_baseline_gbp == at.paid_gbp == at.retained_gbp == 0
    below = marginal_split(Decimal(1000), Decimal(900), RULES)
    assert (below.retained_gbp, below.payable_gbp) == (Decimal(0), Decimal(900))
    above = marginal_split(Decimal(1000), Decimal(1001), RULES)
    assert (above.paid_gbp, above.retained_gbp) == (Decimal("0.30"), Decimal("0.70"))


def test_pence_rounding_keeps_the_parts_exact() -> None:
    s = marginal_split(Decimal(0), Decimal("10.01"), RULES)  # 30% = 3.003 → £3.00
    assert (s.paid_gbp, s.retained_gbp) == (Decimal("3.00"), Decimal("7.01"))
    assert s.paid_gbp + s.retained_gbp == s.above_baseline_gbp


def test_funding_line_checked_against_the_retained_share() -> None:
    plan = load_plan(DEMO)
    part = example_part()
    assert retained_by_year(part, RULES) == {"2015/16": Decimal(2_450_000)}

    def broken(amount: int) -> list[str]:
        funding = [
            f.model_copy(update={"amount_gbp": Decimal(amount)})
            if f.kind == "marginal_tariff"
            else f
            for f in plan.funding
        ]
        p = plan.model_copy(update={"funding": funding})
        return [f.rule for f in check_finance(p, part, RULES)]

    assert broken(2_400_000) == []  # the demo's figure
    assert broken(2_450_001) == []  # within £1
    assert broken(2_450_002) == ["FIN-MARGINAL-TARIFF"]
