"""Tariff arithmetic: the uplift (inflation − efficiency) and the marginal rate emergency rule.

Seed 001 L850: commissioners budget for all emergency admissions at 100% of tariff, but pay only
30% of tariff for the value above the 2008/09 baseline; the 70% they keep is invested in demand
management schemes agreed with the System Resilience Group (the resilience template's funding line
"marginal tariff savings to reinvest", seed 000). The 30%/70% split and the baseline year are
parameters of rule ``FIN-MARGINAL-TARIFF`` in ``finance/rules.toml``, not constants here.

Seed 001 L849, L853–L857: tariff uplift = cost inflation − provider efficiency (2014/15:
2.3% − 4.0% = −1.7%); the inflation category is a parameter of ``FIN-TARIFF-UPLIFT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flowplan.finance.model import (
    FinancePart,
    InflationCategory,
    MarginalTariffLine,
    PlanningAssumptions,
)
from flowplan.finance.rules import ROOT, FinanceRules, pct_text
from flowplan.plans.findings import Finding
from flowplan.plans.model import FundingKind, Plan
from flowplan.plans.money import decimal_number, format_money

_PENNY = Decimal("0.01")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class MarginalSplit:
    """How the value of emergency admissions is paid under the marginal rate rule (pounds).

    Attributes:
        baseline_gbp: value at the baseline (paid at full tariff), £.
        actual_gbp: value of the activity at full tariff, £.
        above_baseline_gbp: value above the baseline (0 when at or below it), £.
        paid_gbp: what the provider is paid for the activity above the baseline, £.
        retained_gbp: what the commissioner keeps for demand management, £
            (``paid + retained = above baseline`` exactly).
        paid_pct: the share of tariff paid above the baseline, %.
        retained_pct: the share retained, %.
    """

    baseline_gbp: Decimal
    actual_gbp: Decimal
    above_baseline_gbp: Decimal
    paid_gbp: Decimal
    retained_gbp: Decimal
    paid_pct: Decimal
    retained_pct: Decimal

    @property
    def payable_gbp(self) -> Decimal:
        """Total the provider is paid: activity up to the baseline at full tariff + paid, £."""
        return min(self.actual_gbp, self.baseline_gbp) + self.paid_gbp

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (pounds as numbers)."""
        num = decimal_number
        return {
            "baseline": num(self.baseline_gbp),
            "actual": num(self.actual_gbp),
            "above_baseline": num(self.above_baseline_gbp),
            "paid": num(self.paid_gbp),
            "retained": num(self.retained_gbp),
            "payable": num(self.payable_gbp),
            "paid_pct": num(self.paid_pct),
            "retained_pct": num(self.retained_pct),
        }


def marginal_split(
    baseline_gbp: Decimal, actual_gbp: Decimal, rules: FinanceRules
) -> MarginalSplit:
    """Split the value of emergency admissions above the baseline into paid and retained.

    ``above = max(actual − baseline, 0)``; ``paid = above × paid_pct/100`` rounded half-up to
    the penny; ``retained = above − paid`` (so the two add up exactly).

    Args:
        baseline_gbp: value of emergency admissions at the baseline, at full tariff, £/year.
        actual_gbp: value of the planned or actual admissions, at full tariff, £/year.
        rules: the finance rules (``FIN-MARGINAL-TARIFF`` gives ``paid_pct``/``retained_pct``).

    Raises:
        ValueError: a value is negative.
    """
    if baseline_gbp < 0 or actual_gbp < 0:
        raise ValueError("baseline and actual values must not be negative")
    paid_pct = rules.decimal("FIN-MARGINAL-TARIFF", "paid_pct")
    retained_pct = rules.decimal("FIN-MARGINAL-TARIFF", "retained_pct")
    above = max(actual_gbp - baseline_gbp, Decimal(0))
    paid = (above * paid_pct / _HUNDRED).quantize(_PENNY, rounding=ROUND_HALF_UP)
    return MarginalSplit(
        baseline_gbp, actual_gbp, above, paid, above - paid, paid_pct, retained_pct
    )


def tariff_uplift(assumptions: PlanningAssumptions, rules: FinanceRules) -> Decimal | None:
    """Tariff uplift = inflation (the configured category) − provider efficiency, % a year.

    Returns:
        The uplift, or None when the assumptions give no inflation for that category.
    """
    category = rules.text("FIN-TARIFF-UPLIFT", "inflation_category")
    try:
        key = InflationCategory(category)
    except ValueError:
        raise ValueError(
            f"{rules.name}: rule FIN-TARIFF-UPLIFT params.inflation_category is not an "
            f"inflation category: {category!r}"
        ) from None
    inflation = assumptions.inflation_pct.get(key)
    if inflation is None:
        return None
    return inflation - assumptions.provider_efficiency_pct


def _tariff_findings(part: FinancePart, rules: FinanceRules) -> Iterable[Finding]:
    tolerance = rules.decimal("FIN-TARIFF-UPLIFT", "tolerance_pct")
    category = rules.text("FIN-TARIFF-UPLIFT", "inflation_category")
    for a in part.assumptions:
        at = f"{ROOT}.assumptions[{a.year}]"
        expected = tariff_uplift(a, rules)
        if a.tariff_uplift_pct is not None:
            if expected is None:
                yield rules.finding(
                    "FIN-TARIFF-UPLIFT",
                    f"{at}.inflation_pct",
                    f"a stated tariff uplift needs the {category} inflation assumption",
                    pct_text(a.tariff_uplift_pct),
                    f"inflation_pct.{category}",
                )
            elif abs(a.tariff_uplift_pct - expected) > tolerance:
                yield rules.finding(
                    "FIN-TARIFF-UPLIFT",
                    f"{at}.tariff_uplift_pct",
                    f"tariff uplift ≠ {category} inflation − provider efficiency "
                    f"({pct_text(expected + a.provider_efficiency_pct)} − "
                    f"{pct_text(a.provider_efficiency_pct)})",
                    pct_text(a.tariff_uplift_pct),
                    pct_text(expected),
                )
        for cat, value in a.inflation_pct.items():
            t = rules.threshold("FIN-INFLATION-RANGE", a.year, category=str(cat))
            if t is None:
                continue
            low = t.min_pct if t.min_pct is not None else value
            high = t.max_pct if t.max_pct is not None else value
            if not low <= value <= high:
                yield rules.finding(
                    "FIN-INFLATION-RANGE",
                    f"{at}.inflation_pct.{cat}",
                    f"{cat} inflation outside the expected range ({t.source})",
                    pct_text(value),
                    f"{pct_text(low)} to {pct_text(high)}",
                )


def retained_by_year(part: FinancePart, rules: FinanceRules) -> dict[str, Decimal]:
    """The retained marginal tariff (£) per financial year, over every marginal tariff line."""
    out: dict[str, Decimal] = {}
    for line in part.marginal_tariff:
        split = marginal_split(line.baseline_value_gbp, line.actual_value_gbp, rules)
        out[line.year] = out.get(line.year, Decimal(0)) + split.retained_gbp
    return out


def _marginal_findings(plan: Plan, part: FinancePart, rules: FinanceRules) -> Iterable[Finding]:
    if not part.marginal_tariff:
        return
    tolerance = rules.decimal("FIN-MARGINAL-TARIFF", "tolerance_gbp")
    retained = retained_by_year(part, rules)
    kept = rules.decimal("FIN-MARGINAL-TARIFF", "retained_pct")
    for i, line in enumerate(plan.funding):
        if line.kind is not FundingKind.marginal_tariff:
            continue
        planned = sum(
            (f.amount_gbp for f in plan.funding if f.kind is line.kind and f.year == line.year),
            Decimal(0),
        )
        available = retained.get(line.year, Decimal(0))
        first = next(
            j
            for j, f in enumerate(plan.funding)
            if f.kind is FundingKind.marginal_tariff and f.year == line.year
        )
        if i == first and planned > available + tolerance:
            yield rules.finding(
                "FIN-MARGINAL-TARIFF",
                f"funding[{i}].amount_gbp",
                f"marginal tariff funding in {line.year} exceeds the {pct_text(kept)} of "
                f"emergency admissions value above the baseline that commissioners retain",
                format_money(planned),
                f"at most {format_money(available)}",
            )


def check_tariff(plan: Plan, part: FinancePart, rules: FinanceRules) -> list[Finding]:
    """Tariff uplift, inflation ranges and the marginal rate rule against the plan's funding.

    Args:
        plan: the plan (its ``marginal_tariff`` funding lines are compared with the retained
            share).
        part: its finance part.
        rules: the finance rules.
    """
    return [*_tariff_findings(part, rules), *_marginal_findings(plan, part, rules)]


__all__ = [
    "MarginalSplit",
    "MarginalTariffLine",
    "check_tariff",
    "marginal_split",
    "retained_by_year",
    "tariff_uplift",
]
