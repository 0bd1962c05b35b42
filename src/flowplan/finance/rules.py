"""Finance business rules as versioned configuration, and the checks on financial plans.

The rule catalogue is ``finance/rules.toml``, in the format of the plan rule catalogue
(:func:`flowplan.plans.checks.parse_catalogue`): each rule has an id (``FIN-...``), a severity, a
title, its basis in the seeds and its parameters. The business-rule percentages (seed 001 L842,
L947, L950) are ``thresholds`` entries per organisation type and range of financial years, so
that a new planning round is a new catalogue version, not a code change.

:func:`check_financial_plans` checks every financial plan of a finance part against the rules in
force for its organisation type and year, plus the arithmetic and shape rules (``FIN-BALANCE``,
``FIN-YEARS``, ``FIN-DETAIL``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowplan.finance.model import (
    FinanceOrgType,
    FinancePart,
    FinanceYear,
    FinancialPlan,
    InflationCategory,
    Percent,
)
from flowplan.plans.checks import RuleCatalogue, parse_catalogue
from flowplan.plans.findings import Finding
from flowplan.plans.model import FinancialYear
from flowplan.plans.money import format_money

RULES_FILE = "rules.toml"
#: Where the finance part sits in a plan (prefix of every finding location).
ROOT = "extensions.finance"
_HUNDRED = Decimal(100)


class Threshold(BaseModel):
    """One ``thresholds`` entry of a rule: a limit in force for some organisations and years.

    Attributes:
        org_types: organisation types it applies to (business rules).
        category: inflation category it applies to (``FIN-INFLATION-RANGE``).
        from_year: first financial year in force.
        to_year: last financial year in force (inclusive).
        min_pct: the minimum, percentage points.
        max_pct: the maximum, percentage points.
        source: the seed lines it comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_types: tuple[FinanceOrgType, ...] = ()
    category: InflationCategory | None = None
    from_year: FinancialYear
    to_year: FinancialYear
    min_pct: Percent | None = None
    max_pct: Percent | None = None
    source: str = Field(min_length=1)

    def applies(self, year: str, org_type: str | None = None, category: str | None = None) -> bool:
        """Whether it is in force in ``year`` for ``org_type`` / ``category``."""
        if not self.from_year <= year <= self.to_year:
            return False
        if org_type is not None and org_type not in self.org_types:
            return False
        return category is None or self.category == category


@dataclass(frozen=True)
class RuleInForce:
    """A business rule in force for one organisation type and year (``finance rules``).

    Attributes:
        rule: rule id.
        title: what it checks.
        org_type: organisation type.
        year: financial year.
        threshold: the threshold entry in force.
    """

    rule: str
    title: str
    org_type: str
    year: str
    threshold: Threshold

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        t = self.threshold
        return {
            "rule": self.rule,
            "title": self.title,
            "org_type": self.org_type,
            "year": self.year,
            "min_pct": None if t.min_pct is None else float(t.min_pct),
            "max_pct": None if t.max_pct is None else float(t.max_pct),
            "source": t.source,
        }


#: The business rules (percentages of the resource limit) and the field each one limits.
BUSINESS_RULES: dict[str, str] = {
    "FIN-CONTINGENCY": "contingency_gbp",
    "FIN-SURPLUS": "surplus_gbp",
    "FIN-NON-RECURRENT": "non_recurrent_spend_gbp",
    "FIN-TRANSFORMATION": "transformation_gbp",
}


class FinanceRules:
    """The finance rule catalogue with typed access to its parameters and thresholds."""

    def __init__(self, catalogue: RuleCatalogue, name: str = RULES_FILE) -> None:
        """Wrap a catalogue, checking every ``thresholds`` entry and the tariff split.

        Raises:
            ValueError: a threshold entry or parameter is malformed (the message names the file
                and rule).
        """
        self.catalogue = catalogue
        self.name = name
        self._thresholds: dict[str, tuple[Threshold, ...]] = {}
        for spec in catalogue.rules:
            raw = spec.params.get("thresholds", [])
            try:
                self._thresholds[spec.id] = tuple(Threshold.model_validate(t) for t in raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(
                    f"{name}: rule {spec.id} thresholds: {where}: {first['msg']}"
                ) from None
        if "FIN-MARGINAL-TARIFF" in catalogue.ids():
            paid = self.decimal("FIN-MARGINAL-TARIFF", "paid_pct")
            kept = self.decimal("FIN-MARGINAL-TARIFF", "retained_pct")
            if paid + kept != _HUNDRED or paid < 0 or kept < 0:
                raise ValueError(
                    f"{name}: rule FIN-MARGINAL-TARIFF: paid_pct + retained_pct must be 100"
                )

    @property
    def version(self) -> str:
        """The catalogue version."""
        return self.catalogue.version

    def finding(
        self, rule_id: str, location: str, message: str, stated: str = "", expected: str = ""
    ) -> Finding:
        """A finding of ``rule_id`` with the catalogue's severity."""
        return self.catalogue.finding(rule_id, location, message, stated, expected)

    def param(self, rule_id: str, name: str) -> Any:
        """One parameter of a rule (ValueError when the catalogue does not give it)."""
        return self.catalogue.param(rule_id, name)

    def decimal(self, rule_id: str, name: str) -> Decimal:
        """A numeric parameter as a Decimal.

        Raises:
            ValueError: missing or not a number.
        """
        value = self.param(rule_id, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.name}: rule {rule_id} params.{name} must be a number")
        return Decimal(str(value))

    def text(self, rule_id: str, name: str) -> str:
        """A text parameter.

        Raises:
            ValueError: missing or not text.
        """
        value = self.param(rule_id, name)
        if not isinstance(value, str):
            raise ValueError(f"{self.name}: rule {rule_id} params.{name} must be text")
        return value

    def thresholds(self, rule_id: str) -> tuple[Threshold, ...]:
        """Every threshold entry of a rule (empty when it has none)."""
        return self._thresholds.get(rule_id, ())

    def threshold(
        self, rule_id: str, year: str, org_type: str | None = None, category: str | None = None
    ) -> Threshold | None:
        """The threshold of ``rule_id`` in force in ``year``, or None when the rule is not."""
        return next(
            (t for t in self.thresholds(rule_id) if t.applies(year, org_type, category)), None
        )

    def in_force(self, year: str | None = None, org_type: str | None = None) -> list[RuleInForce]:
        """The business rules in force, for one year and/or organisation type when given.

        Args:
            year: a financial year, or None for every year a threshold names.
            org_type: an organisation type, or None for every type.
        """
        out: list[RuleInForce] = []
        for rule_id in BUSINESS_RULES:
            if rule_id not in self.catalogue.ids():
                continue
            title = self.catalogue.get(rule_id).title
            for t in self.thresholds(rule_id):
                for kind in t.org_types:
                    if org_type is not None and kind != org_type:
                        continue
                    if year is not None and not t.applies(year, kind):
                        continue
                    span = year or (
                        t.from_year if t.from_year == t.to_year else f"{t.from_year}–{t.to_year}"
                    )
                    out.append(RuleInForce(rule_id, title, str(kind), span, t))
        return out

    def base(self, rule_id: str, year: FinanceYear) -> Decimal:
        """The resource limit a business rule's percentage is of (``params.of``), £/year.

        Raises:
            ValueError: ``of`` is not ``total`` or ``recurrent``.
        """
        of = self.text(rule_id, "of")
        if of == "total":
            return year.resource_limit_gbp
        if of == "recurrent":
            return year.resource_limit_recurrent_gbp
        raise ValueError(f"{self.name}: rule {rule_id} params.of must be 'total' or 'recurrent'")


def load_rules(text: str, name: str = RULES_FILE) -> FinanceRules:
    """Finance rules from catalogue TOML text.

    Raises:
        ValueError: the catalogue or a threshold is malformed; the message names the file.
    """
    return FinanceRules(parse_catalogue(text, name), name)


@cache
def finance_rules() -> FinanceRules:
    """The packaged finance rules (read once, then cached)."""
    text = resources.files("flowplan.finance").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return load_rules(text)


# --- Formatting --------------------------------------------------------------------------------


def pct_text(value: Decimal) -> str:
    """Percentage points as text: ``0.5%``, ``-1.75%``, ``1%``."""
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    text = format(rounded, "f")
    return f"{text}%"


def share_pct(amount: Decimal, base: Decimal) -> Decimal:
    """``amount`` as percentage points of ``base`` (0 when ``base`` is 0)."""
    return Decimal(0) if base == 0 else amount / base * _HUNDRED


def plan_at(plan: FinancialPlan, year: str | None = None, field: str | None = None) -> str:
    """The location of a financial plan (year, field) in the plan document."""
    text = f"{ROOT}.financial_plans[{plan.org}]"
    if year is not None:
        text += f".years[{year}]"
    if field is not None:
        text += f".{field}"
    return text


# --- Checks on financial plans -----------------------------------------------------------------


def _business_rules(rules: FinanceRules, plan: FinancialPlan) -> Iterable[Finding]:
    for rule_id, field in BUSINESS_RULES.items():
        if rule_id not in rules.catalogue.ids():
            continue
        for year in plan.years:
            t = rules.threshold(rule_id, year.year, org_type=plan.org_type)
            if t is None or t.min_pct is None:
                continue
            base = rules.base(rule_id, year)
            amount: Decimal = getattr(year, field)
            minimum = base * t.min_pct / _HUNDRED
            if amount >= minimum:
                continue
            what = field.removesuffix("_gbp").replace("_", " ")
            yield rules.finding(
                rule_id,
                plan_at(plan, year.year, field),
                f"{what} is {pct_text(share_pct(amount, base))} of the resource limit "
                f"{format_money(base)}, below the minimum {pct_text(t.min_pct)} "
                f"({plan.org_type}, {year.year}; {t.source})",
                f"{format_money(amount)}",
                f"at least {format_money(minimum.quantize(Decimal('0.01')))}",
            )


def _balance(rules: FinanceRules, plan: FinancialPlan) -> Iterable[Finding]:
    tolerance = rules.decimal("FIN-BALANCE", "tolerance_gbp")
    for year in plan.years:
        expected = year.computed_surplus_gbp
        if abs(year.surplus_gbp - expected) > tolerance:
            yield rules.finding(
                "FIN-BALANCE",
                plan_at(plan, year.year, "surplus_gbp"),
                f"surplus ≠ resource limit {format_money(year.resource_limit_gbp)} − (spend "
                f"{format_money(year.spend)} + contingency {format_money(year.contingency_gbp)}"
                f" + non-recurrent spend {format_money(year.non_recurrent_spend_gbp)})",
                format_money(year.surplus_gbp),
                format_money(expected),
            )


def _first_year(name: str) -> int:
    return int(name[:4])


def _years(rules: FinanceRules, plan: FinancialPlan) -> Iterable[Finding]:
    wanted = int(rules.decimal("FIN-YEARS", "years"))
    firsts = [_first_year(y.year) for y in plan.years]
    gaps = [f"{b - 1}/{b % 100:02d}" for a, b in itertools.pairwise(firsts) if b != a + 1]
    if len(firsts) < wanted or gaps:
        detail = f"; missing from {', '.join(gaps)}" if gaps else ""
        yield rules.finding(
            "FIN-YEARS",
            plan_at(plan, field="years"),
            f"a financial plan needs {wanted} consecutive financial years{detail}",
            f"{len(firsts)} year(s): {', '.join(y.year for y in plan.years)}",
            f"{wanted} consecutive years",
        )


def _detail(rules: FinanceRules, plan: FinancialPlan) -> Iterable[Finding]:
    detailed = int(rules.decimal("FIN-DETAIL", "detailed_years"))
    for year in plan.years[:detailed]:
        if not year.spend_gbp:
            yield rules.finding(
                "FIN-DETAIL",
                plan_at(plan, year.year, "spend_gbp"),
                f"the first {detailed} years of a financial plan give spend by service type; "
                f"{year.year} gives only a total",
                f"spend_total_gbp {format_money(year.spend)}",
                "spend_gbp by service type",
            )


def check_financial_plans(part: FinancePart, rules: FinanceRules) -> list[Finding]:
    """Business rules, balance, years and detail of every financial plan in ``part``.

    Args:
        part: the plan's finance part.
        rules: the rule catalogue (thresholds per organisation type and year).

    Returns:
        The findings, rule by rule within each organisation, organisations in plan order.
    """
    findings: list[Finding] = []
    for plan in part.financial_plans:
        findings.extend(_business_rules(rules, plan))
        findings.extend(_balance(rules, plan))
        findings.extend(_years(rules, plan))
        findings.extend(_detail(rules, plan))
    return findings
