"""Business rules as configuration: each rule at, just below and just above its threshold.

Thresholds (seed 001 = everyone_counts_planning_2014-19): L842 CCGs — minimum 0.5% contingency,
1% cumulative surplus, 2.5% non-recurrent spend in 2014/15 (of which 1% transformation, L906) and
1% from 2015/16; L947 direct commissioning — 0.5%, 1%, 2.5% then 2%; L950 public health — 0.5%
contingency, 0% surplus, 0% non-recurrent. Every case uses a resource limit of £100,000,000, so
1% is £1,000,000.
"""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from flowplan.finance.model import FinancePart, FinanceYear, FinancialPlan, PlanningAssumptions
from flowplan.finance.rules import (
    BUSINESS_RULES,
    check_financial_plans,
    finance_rules,
    load_rules,
)
from flowplan.finance.tariff import check_tariff, tariff_uplift
from flowplan.plans.findings import Severity
from flowplan.plans.model import Plan

RL = Decimal(100_000_000)
RULES = finance_rules()


def year(name: str = "2015/16", **fields: Any) -> FinanceYear:
    """A balanced year: spend is whatever is left after contingency, NR spend and surplus."""
    values: dict[str, Any] = {
        "contingency_gbp": Decimal(600_000),
        "non_recurrent_spend_gbp": Decimal(3_000_000),
        "transformation_gbp": Decimal(0),
        "surplus_gbp": Decimal(1_200_000),
        **fields,
    }
    spend = RL - values["contingency_gbp"] - values["non_recurrent_spend_gbp"]
    spend -= values["surplus_gbp"]
    return FinanceYear.model_validate(
        {
            "year": name,
            "resource_limit_recurrent_gbp": RL,
            "spend_gbp": {"acute": spend},
            **values,
        }
    )


def rules_broken(org_type: str, y: FinanceYear) -> list[str]:
    plan = FinancialPlan(org="QE1", org_type=org_type, years=[y])
    return [
        f.rule
        for f in check_financial_plans(FinancePart(financial_plans=[plan]), RULES)
        if f.rule not in {"FIN-YEARS"}
    ]


CASES = [
    # rule, org type, year, field, threshold in pounds (source)
    ("FIN-CONTINGENCY", "ccg", "2015/16", "contingency_gbp", 500_000),  # L842
    ("FIN-CONTINGENCY", "direct_commissioning", "2016/17", "contingency_gbp", 500_000),  # L947
    ("FIN-CONTINGENCY", "public_health", "2015/16", "contingency_gbp", 500_000),  # L950
    ("FIN-SURPLUS", "ccg", "2014/15", "surplus_gbp", 1_000_000),  # L842
    ("FIN-SURPLUS", "ccg", "2018/19", "surplus_gbp", 1_000_000),  # L842
    ("FIN-SURPLUS", "direct_commissioning", "2015/16", "surplus_gbp", 1_000_000),  # L947
    ("FIN-SURPLUS", "public_health", "2015/16", "surplus_gbp", 0),  # L950
    ("FIN-NON-RECURRENT", "ccg", "2014/15", "non_recurrent_spend_gbp", 2_500_000),  # L842, L906
    ("FIN-NON-RECURRENT", "ccg", "2015/16", "non_recurrent_spend_gbp", 1_000_000),  # L842
    ("FIN-NON-RECURRENT", "direct_commissioning", "2014/15", "non_recurrent_spend_gbp", 2_500_000),
    ("FIN-NON-RECURRENT", "direct_commissioning", "2017/18", "non_recurrent_spend_gbp", 2_000_000),
    ("FIN-TRANSFORMATION", "ccg", "2014/15", "transformation_gbp", 1_000_000),  # L842, L906
]


@pytest.mark.parametrize(("rule", "org_type", "name", "field", "threshold"), CASES)
def test_business_rule_at_below_and_above(
    rule: str, org_type: str, name: str, field: str, threshold: int
) -> None:
    at = Decimal(threshold)
    assert rule not in rules_broken(org_type, year(name, **{field: at}))
    assert rule not in rules_broken(org_type, year(name, **{field: at + 1}))
    below = at - 1
    if field == "transformation_gbp" or below >= 0 or field == "surplus_gbp":
        assert rule in rules_broken(org_type, year(name, **{field: below}))


def test_public_health_has_no_non_recurrent_minimum_and_a_zero_surplus_rule() -> None:
    # L950: 0% non-recurrent spend, 0% surplus: nothing and break-even pass, a deficit does not.
    y = year("2015/16", non_recurrent_spend_gbp=Decimal(0), transformation_gbp=Decimal(0))
    assert rules_broken("public_health", y) == []
    deficit = year("2015/16", surplus_gbp=Decimal(-1))
    assert rules_broken("public_health", deficit) == ["FIN-SURPLUS"]


def test_rules_not_in_force_for_providers_councils_or_unconfigured_years() -> None:
    bare = {
        "contingency_gbp": Decimal(0),
        "non_recurrent_spend_gbp": Decimal(0),
        "transformation_gbp": Decimal(0),
        "surplus_gbp": Decimal(0),
    }
    assert rules_broken("provider", year("2015/16", **bare)) == []
    assert rules_broken("local_authority", year("2015/16", **bare)) == []
    assert rules_broken("ccg", year("2019/20", **bare)) == []  # the seed stops at 2018/19
    assert sorted(rules_broken("ccg", year("2015/16", **bare))) == [
        "FIN-CONTINGENCY",
        "FIN-NON-RECURRENT",
        "FIN-SURPLUS",
    ]


def test_business_rule_finding_reads_well() -> None:
    plan = FinancialPlan(org="QE1", org_type="ccg", years=[year(contingency_gbp=Decimal(400_000))])
    (found,) = [
        f
        for f in check_financial_plans(FinancePart(financial_plans=[plan]), RULES)
        if f.rule == "FIN-CONTINGENCY"
    ]
    assert found.severity is Severity.error
    assert found.location == (
        "extensions.finance.financial_plans[QE1].years[2015/16].contingency_gbp"
    )
    assert found.message == (
        "contingency is 0.4% of the resource limit £100,000,000, below the minimum 0.5% "
        "(ccg, 2015/16; seed 001 L842, L947, L950)"
    )
    assert (found.stated, found.expected) == ("£400,000", "at least £500,000")


def test_in_force_lists_the_seed_rules() -> None:
    got = {(r.rule, r.threshold.min_pct) for r in RULES.in_force("2015/16", "ccg")}
    assert got == {
        ("FIN-CONTINGENCY", Decimal("0.5")),
        ("FIN-SURPLUS", Decimal("1.0")),
        ("FIN-NON-RECURRENT", Decimal("1.0")),
    }
    first = {(r.rule, r.threshold.min_pct) for r in RULES.in_force("2014/15", "ccg")}
    assert ("FIN-NON-RECURRENT", Decimal("2.5")) in first
    assert ("FIN-TRANSFORMATION", Decimal("1.0")) in first
    assert RULES.in_force("2015/16", "provider") == []
    assert all(r.threshold.source.startswith("seed 001 L") for r in RULES.in_force())


def test_percentage_base_is_configuration() -> None:
    text = resources.files("flowplan.finance").joinpath("rules.toml").read_text("utf-8")
    recurrent = load_rules(text.replace('of = "total"', 'of = "recurrent"', 1))
    y = FinanceYear.model_validate(
        {
            "year": "2015/16",
            "resource_limit_recurrent_gbp": 80_000_000,
            "resource_limit_non_recurrent_gbp": 20_000_000,
            "spend_total_gbp": 100_000_000 - 450_000 - 3_000_000 - 1_200_000,
            "contingency_gbp": 450_000,
            "non_recurrent_spend_gbp": 3_000_000,
            "surplus_gbp": 1_200_000,
        }
    )
    plan = FinancePart(financial_plans=[FinancialPlan(org="QE1", org_type="ccg", years=[y])])
    # 0.5% of the total £100m is £500,000 (broken); of the recurrent £80m it is £400,000 (met).
    assert "FIN-CONTINGENCY" in [f.rule for f in check_financial_plans(plan, RULES)]
    assert "FIN-CONTINGENCY" not in [f.rule for f in check_financial_plans(plan, recurrent)]


def test_bad_configuration_is_refused_naming_the_file() -> None:
    text = resources.files("flowplan.finance").joinpath("rules.toml").read_text("utf-8")
    with pytest.raises(ValueError, match=r"rules.toml: rule FIN-CONTINGENCY thresholds"):
        load_rules(text.replace("min_pct = 0.5", "min_pct = 'half'", 1))
    with pytest.raises(ValueError, match="paid_pct \\+ retained_pct must be 100"):
        load_rules(text.replace("retained_pct = 70", "retained_pct = 60"))
    assert set(BUSINESS_RULES) <= set(RULES.catalogue.ids())
    assert all(i.startswith("FIN-") for i in RULES.catalogue.ids())


def test_balance_tolerance_one_pound() -> None:
    ok = year()
    off_by_one = ok.model_copy(update={"surplus_gbp": ok.surplus_gbp + 1})
    off_by_two = ok.model_copy(update={"surplus_gbp": ok.surplus_gbp + 2})
    assert "FIN-BALANCE" not in rules_broken("ccg", off_by_one)
    assert "FIN-BALANCE" in rules_broken("ccg", off_by_two)


def _plan(years: list[str], detailed: int = 5) -> FinancePart:
    items = []
    for n, name in enumerate(years):
        y = year(name)
        if n >= detailed:
            y = y.model_copy(update={"spend_gbp": {}, "spend_total_gbp": y.spend})
        items.append(y)
    return FinancePart(financial_plans=[FinancialPlan(org="QE1", org_type="provider", years=items)])


def test_five_consecutive_years_first_two_detailed() -> None:
    five = ["2015/16", "2016/17", "2017/18", "2018/19", "2019/20"]
    assert check_financial_plans(_plan(five, detailed=2), RULES) == []
    (short,) = check_financial_plans(_plan(five[:4]), RULES)
    assert (short.rule, short.stated) == (
        "FIN-YEARS",
        "4 year(s): 2015/16, 2016/17, 2017/18, 2018/19",
    )
    gap = check_financial_plans(_plan([*five[:2], *five[3:], "2020/21"]), RULES)
    assert [f.rule for f in gap] == ["FIN-YEARS"]
    assert "missing from 2017/18" in gap[0].message
    (detail,) = check_financial_plans(_plan(five, detailed=1), RULES)
    assert (detail.rule, detail.location) == (
        "FIN-DETAIL",
        "extensions.finance.financial_plans[QE1].years[2016/17].spend_gbp",
    )


def _assumptions(**fields: Any) -> PlanningAssumptions:
    base: dict[str, Any] = {
        "year": "2014/15",
        "provider_efficiency_pct": 4.0,
        "inflation_pct": {"secondary_care": 2.3, "prescribing": 5.0, "continuing_care": 3.0},
        "tariff_uplift_pct": -1.7,
    }
    return PlanningAssumptions.model_validate({**base, **fields})


def _tariff_rules(a: PlanningAssumptions) -> list[str]:
    plan = Plan.model_validate(
        {
            "id": "p",
            "type": "operational",
            "title": "P",
            "footprint": "LSC",
            "period_start": "2014-04-01",
            "period_end": "2016-03-31",
            "requirements_version": "x",
        }
    )
    return [f.rule for f in check_tariff(plan, FinancePart(assumptions=[a]), RULES)]


@pytest.mark.parametrize(
    ("name", "inflation", "uplift"),
    # seed 001 L853–L857: inflation − 4.0% efficiency = tariff uplift
    [
        ("2014/15", 2.3, -1.7),
        ("2015/16", 2.2, -1.8),
        ("2016/17", 3.0, -1.0),
        ("2017/18", 3.4, -0.6),
    ],
)
def test_seed_tariff_uplifts_pass(name: str, inflation: float, uplift: float) -> None:
    a = _assumptions(
        year=name, inflation_pct={"secondary_care": inflation}, tariff_uplift_pct=uplift
    )
    assert tariff_uplift(a, RULES) == Decimal(str(uplift))
    assert _tariff_rules(a) == []


def test_tariff_uplift_tolerance() -> None:
    assert _tariff_rules(_assumptions(tariff_uplift_pct=-1.75)) == []  # 0.05 points: at
    assert _tariff_rules(_assumptions(tariff_uplift_pct=-1.76)) == ["FIN-TARIFF-UPLIFT"]
    assert _tariff_rules(_assumptions(tariff_uplift_pct=-1.64)) == ["FIN-TARIFF-UPLIFT"]
    assert _tariff_rules(_assumptions(inflation_pct={}, tariff_uplift_pct=-1.7)) == [
        "FIN-TARIFF-UPLIFT"
    ]


@pytest.mark.parametrize(
    ("category", "low", "high"),
    [("prescribing", 4.0, 7.0), ("continuing_care", 2.0, 5.0)],  # seed 001 L840, L841
)
def test_inflation_ranges(category: str, low: float, high: float) -> None:
    def broken(value: float) -> list[str]:
        infl = {"secondary_care": 2.3, category: value}
        return _tariff_rules(_assumptions(inflation_pct=infl))

    assert broken(low) == []
    assert broken(high) == []
    assert broken(round(low - 0.01, 2)) == ["FIN-INFLATION-RANGE"]
    assert broken(round(high + 0.01, 2)) == ["FIN-INFLATION-RANGE"]
    assert (
        _tariff_rules(
            _assumptions(year="2019/20", inflation_pct={category: 9.0}, tariff_uplift_pct=None)
        )
        == []
    )


def test_docs_list_every_finance_rule() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "finance.md"
    documented = set(re.findall(r"`(FIN-[A-Z-]+)`", doc.read_text(encoding="utf-8")))
    assert documented == set(RULES.catalogue.ids())
