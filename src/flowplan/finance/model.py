"""The finance part of a plan: financial plans, planning assumptions, activity, QIPP, bridge.

What a commissioner's financial plan holds comes from seed ``everyone_counts_planning_2014-19``
(seed 001) "Content of financial plan" (L1519–L1530): revenue resource limit (recurrent and
non-recurrent allocations), planning assumptions (provider efficiency, inflation, demographic and
non-demographic growth), a financial plan for each of the next five years (the first two at a
higher level of detail, income and expenditure by service type), QIPP, valued risks, investment
and contract values. The do-nothing → do-something bridge is the STP summary financial analysis
(seed ``stp_plans_on_a_page_2016``, seed 002 L62–L77).

Conventions (as :mod:`flowplan.plans.model`):

* every model forbids unknown keys;
* money is :class:`~decimal.Decimal` **pounds** (``*_gbp`` fields, written to JSON/YAML as
  numbers; text such as ``"£1.2m"`` is refused);
* percentages are Decimal **percentage points** (``0.5`` means 0.5%; ``*_pct`` fields);
* activity counts are Decimal units **per financial year** (FFCEs, attendances, referrals);
* the models check only what one object can check by itself; the business rules and the
  arithmetic across objects are findings of :mod:`flowplan.finance.extension`.

:data:`canonical` gives the one dict form of the part (what the YAML holds and what the Excel
import returns), so a plan round-trips exactly.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from flowplan.plans.model import FinancialYear, Id, Money, OrgCode, Text
from flowplan.plans.money import decimal_number, to_decimal
from flowplan.plans.requirements import Rag

_FORBID = ConfigDict(extra="forbid")


def _decimal(value: Any) -> Decimal:
    """A Decimal from a number; text and booleans are refused (numbers are strict)."""
    return to_decimal(value)


Percent = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    PlainSerializer(decimal_number, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""Percentage points (``0.5`` = 0.5%), a Decimal in Python and a number in JSON/YAML."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    PlainSerializer(decimal_number, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""An amount of activity (units per financial year), a Decimal in Python."""


# --- Enumerations ------------------------------------------------------------------------------


class FinanceOrgType(StrEnum):
    """Which set of business rules an organisation's financial plan answers (seed 001 L838–L950).

    ``ccg`` covers CCGs (and their successors, ICBs); ``direct_commissioning`` NHS England's
    direct commissioning other than public health; ``public_health`` its public health (section
    7A) services. Providers and councils plan their money too, but no business rules are set for
    them in the seed: their plans are checked for arithmetic only.
    """

    ccg = "ccg"
    direct_commissioning = "direct_commissioning"
    public_health = "public_health"
    provider = "provider"
    local_authority = "local_authority"


class ServiceType(StrEnum):
    """Service types of planned spend (seed 001 L1523: "income and expenditure for each service
    type")."""

    acute = "acute"
    mental_health = "mental_health"
    community = "community"
    continuing_care = "continuing_care"
    primary_care = "primary_care"
    prescribing = "prescribing"
    specialised = "specialised"
    social_care = "social_care"
    running_costs = "running_costs"
    other = "other"


class InflationCategory(StrEnum):
    """Cost inflation categories of the planning assumptions (seed 001 L840–L841, L853–L857)."""

    secondary_care = "secondary_care"
    """Secondary care health cost inflation (the cost uplift in the tariff)."""
    prescribing = "prescribing"
    continuing_care = "continuing_care"
    pay = "pay"
    other = "other"


class ActivityMeasure(StrEnum):
    """The activity lines of seed 001 Annex C (L1099–L1114), one plan line each."""

    elective_ordinary = "elective_ordinary"
    """Elective – ordinary admissions FFCEs (L1102)."""
    elective_day_case = "elective_day_case"
    """Elective – day cases FFCEs (L1103)."""
    non_elective = "non_elective"
    """Non elective admissions FFCEs (L1105)."""
    outpatient_first = "outpatient_first"
    """All first outpatient attendances in general and acute specialties (L1107)."""
    outpatient_follow_up = "outpatient_follow_up"
    """All subsequent outpatient attendances in general and acute specialties (L1108)."""
    ae_type1 = "ae_type1"
    """A&E attendances – Type 1 (L1110)."""
    ae_all_types = "ae_all_types"
    """A&E attendances – Total all types (L1111)."""
    gp_referrals = "gp_referrals"
    """GP written referrals for a first outpatient appointment (L1113)."""
    other_referrals = "other_referrals"
    """Other referrals for a first outpatient appointment (L1114)."""


class BridgeLine(StrEnum):
    """Rows of the do-nothing → do-something bridge (STP summary financial analysis, seed 002
    L69–L77); surplus positive, deficit negative."""

    commissioner = "commissioner"
    provider = "provider"
    footprint_nhs = "footprint_nhs"
    """Commissioner + provider."""
    transformation_funding = "transformation_funding"
    """Sustainability and Transformation Fund allocation."""
    social_care = "social_care"
    total = "total"
    """Footprint NHS + transformation funding + social care."""


# --- Financial plan ----------------------------------------------------------------------------


class ContractValue(BaseModel):
    """The anticipated value of one contract in one year (seed 001 L1530).

    Attributes:
        counterparty: organisation code of the other party (the provider, for a commissioner).
        value_gbp: contract value, pounds per year (≥ 0).
    """

    model_config = _FORBID

    counterparty: OrgCode
    value_gbp: Money = Field(ge=0)


class FinanceYear(BaseModel):
    """One organisation's financial plan for one financial year.

    Income and expenditure: ``surplus = resource limit − (spend + contingency + non-recurrent
    spend)``, all pounds per year (rule ``FIN-BALANCE``). For a provider or council "resource
    limit" reads "income".

    Attributes:
        year: financial year.
        resource_limit_recurrent_gbp: recurrent allocation (revenue resource limit), £/year.
        resource_limit_non_recurrent_gbp: non-recurrent allocation (including any surplus drawn
            down), £/year.
        spend_gbp: planned spend by service type, £/year (required in the detailed years).
        spend_total_gbp: planned spend as one figure, £/year (later years may give only this;
            when both are given they must agree).
        contingency_gbp: contingency held, £/year.
        non_recurrent_spend_gbp: spend held for non-recurrent purposes, £/year.
        transformation_gbp: the part of the non-recurrent spend applied to transformation.
        surplus_gbp: planned surplus (negative: deficit), £/year.
        qipp_gbp: QIPP savings the plan needs (the gap the savings register must cover), £/year.
        risks_gbp: value of identified financial risks, £/year.
        investment_gbp: planned investment (within spend, including use of headroom), £/year.
        contracts: anticipated contract values.
    """

    model_config = _FORBID

    year: FinancialYear
    resource_limit_recurrent_gbp: Money = Field(ge=0)
    resource_limit_non_recurrent_gbp: Money = Field(default=Decimal(0), ge=0)
    spend_gbp: dict[ServiceType, Money] = Field(default_factory=dict)
    spend_total_gbp: Money | None = Field(default=None, ge=0)
    contingency_gbp: Money = Field(default=Decimal(0), ge=0)
    non_recurrent_spend_gbp: Money = Field(default=Decimal(0), ge=0)
    transformation_gbp: Money = Field(default=Decimal(0), ge=0)
    surplus_gbp: Money = Decimal(0)
    qipp_gbp: Money = Field(default=Decimal(0), ge=0)
    risks_gbp: Money = Field(default=Decimal(0), ge=0)
    investment_gbp: Money = Field(default=Decimal(0), ge=0)
    contracts: list[ContractValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.spend_gbp and self.spend_total_gbp is None:
            raise ValueError("give the planned spend: spend_gbp by service type or spend_total_gbp")
        if any(v < 0 for v in self.spend_gbp.values()):
            raise ValueError("spend by service type must not be negative")
        total = self.spend_total_gbp
        if self.spend_gbp and total is not None and sum(self.spend_gbp.values()) != total:
            raise ValueError("spend_total_gbp must equal the sum of spend_gbp")
        if self.transformation_gbp > self.non_recurrent_spend_gbp:
            raise ValueError("transformation_gbp is part of non_recurrent_spend_gbp: not above it")
        counterparties = [c.counterparty for c in self.contracts]
        if len(set(counterparties)) != len(counterparties):
            raise ValueError("one contract value per counterparty and year")
        return self

    @property
    def resource_limit_gbp(self) -> Decimal:
        """Recurrent + non-recurrent resource limit, £/year."""
        return self.resource_limit_recurrent_gbp + self.resource_limit_non_recurrent_gbp

    @property
    def spend(self) -> Decimal:
        """Planned spend on services, £/year (by service type when given, else the total)."""
        if self.spend_gbp:
            return sum(self.spend_gbp.values(), Decimal(0))
        assert self.spend_total_gbp is not None
        return self.spend_total_gbp

    @property
    def expenditure_gbp(self) -> Decimal:
        """Spend + contingency + non-recurrent spend, £/year."""
        return self.spend + self.contingency_gbp + self.non_recurrent_spend_gbp

    @property
    def computed_surplus_gbp(self) -> Decimal:
        """Resource limit − expenditure, £/year (what ``surplus_gbp`` must state)."""
        return self.resource_limit_gbp - self.expenditure_gbp


class FinancialPlan(BaseModel):
    """One organisation's financial plan: five years, the first two in more detail.

    Attributes:
        org: organisation code (a plan member).
        org_type: which business rules apply.
        years: one entry per financial year, in order, no year twice.
    """

    model_config = _FORBID

    org: OrgCode
    org_type: FinanceOrgType
    years: list[FinanceYear] = Field(min_length=1)

    @model_validator(mode="after")
    def _years_unique(self) -> Self:
        names = [y.year for y in self.years]
        if len(set(names)) != len(names):
            raise ValueError("a financial year appears more than once")
        if names != sorted(names):
            raise ValueError("financial years must be in order")
        return self

    def year(self, name: str) -> FinanceYear | None:
        """The plan for financial year ``name``, or None."""
        return next((y for y in self.years if y.year == name), None)


# --- Planning assumptions ----------------------------------------------------------------------


class PlanningAssumptions(BaseModel):
    """The planning assumptions for one financial year (seed 001 L1522, L838–L874).

    Tariff uplift = secondary care inflation − provider efficiency (seed 001 L849, L853–L857:
    2.3% − 4.0% = −1.7% in 2014/15); the inflation category the rule uses is configuration.

    Attributes:
        year: financial year.
        provider_efficiency_pct: provider sector efficiency (tariff efficiency factor), % a year.
        inflation_pct: cost inflation by category, % a year.
        demographic_growth_pct: activity growth from population change, % a year.
        non_demographic_growth_pct: other activity growth, % a year.
        tariff_uplift_pct: the tariff uplift the plan states, % a year (checked), if stated.
    """

    model_config = _FORBID

    year: FinancialYear
    provider_efficiency_pct: Percent
    inflation_pct: dict[InflationCategory, Percent] = Field(default_factory=dict)
    demographic_growth_pct: Percent = Decimal(0)
    non_demographic_growth_pct: Percent = Decimal(0)
    tariff_uplift_pct: Percent | None = None


# --- Activity ----------------------------------------------------------------------------------


class ActivityLine(BaseModel):
    """One Annex C activity line for one commissioner and year.

    ``plan = baseline × (1 + (demographic + non-demographic growth)/100) − scheme savings``
    (DOMAIN.md §2.2), all in units per financial year.

    Attributes:
        org: commissioner's organisation code.
        year: financial year planned.
        measure: the Annex C line.
        baseline: baseline activity, units/year (≥ 0).
        demographic_growth_pct: demographic growth, %.
        non_demographic_growth_pct: non-demographic growth, %.
        scheme_savings: activity the plan's schemes take out, units/year (≥ 0).
        plan: the planned activity the plan states, units/year, when stated.
        price_gbp: average price per unit (tariff), pounds, linking activity to money.
    """

    model_config = _FORBID

    org: OrgCode
    year: FinancialYear
    measure: ActivityMeasure
    baseline: Quantity = Field(ge=0)
    demographic_growth_pct: Percent = Decimal(0)
    non_demographic_growth_pct: Percent = Decimal(0)
    scheme_savings: Quantity = Field(default=Decimal(0), ge=0)
    plan: Quantity | None = Field(default=None, ge=0)
    price_gbp: Money | None = Field(default=None, ge=0)


# --- QIPP --------------------------------------------------------------------------------------


class QippScheme(BaseModel):
    """One scheme of the savings (QIPP) register (seed 001 L1524; DOMAIN.md §2.5).

    Attributes:
        id: scheme id, unique in the register.
        org: the commissioner whose plan it saves for.
        title: the scheme.
        service_line: the service type it saves on.
        owner: who owns delivery.
        rag: delivery confidence: red, amber or green.
        identified: False for an unidentified placeholder ("savings still to find").
        savings_gbp: planned saving by financial year, pounds per year (≥ 0).
    """

    model_config = _FORBID

    id: Id
    org: OrgCode
    title: Text
    service_line: ServiceType
    owner: Text
    rag: Rag
    identified: bool = True
    savings_gbp: dict[FinancialYear, Money] = Field(min_length=1)

    @model_validator(mode="after")
    def _savings_not_negative(self) -> Self:
        if any(v < 0 for v in self.savings_gbp.values()):
            raise ValueError("a saving must not be negative")
        return self


# --- Bridge and marginal tariff ----------------------------------------------------------------


class BridgeRow(BaseModel):
    """One row of the bridge: do nothing + solutions = do something (pounds, surplus positive).

    Attributes:
        line: which row.
        do_nothing_gbp: surplus/(deficit) if nothing changes, £.
        solutions_gbp: effect of each category of solution, £ (positive improves the position).
        do_something_gbp: surplus/(deficit) with the solutions, £.
    """

    model_config = _FORBID

    line: BridgeLine
    do_nothing_gbp: Money
    solutions_gbp: dict[Text, Money] = Field(default_factory=dict)
    do_something_gbp: Money

    @property
    def solutions_total_gbp(self) -> Decimal:
        """Sum of the solutions, £."""
        return sum(self.solutions_gbp.values(), Decimal(0))


class Bridge(BaseModel):
    """The do-nothing gap bridge for one year (seed 002 L62–L77).

    Attributes:
        year: the financial year it is for (the seed's is 2020/21).
        rows: its rows, each line at most once.
    """

    model_config = _FORBID

    year: FinancialYear
    rows: list[BridgeRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _lines_unique(self) -> Self:
        lines = [r.line for r in self.rows]
        if len(set(lines)) != len(lines):
            raise ValueError("a bridge line appears more than once")
        return self

    def row(self, line: BridgeLine) -> BridgeRow | None:
        """The row for ``line``, or None."""
        return next((r for r in self.rows if r.line == line), None)


class MarginalTariffLine(BaseModel):
    """Emergency admissions value against the baseline, for the marginal rate rule (seed 001 L850).

    Attributes:
        org: the commissioner.
        provider: the provider paid.
        year: financial year.
        baseline_value_gbp: value of emergency admissions at the baseline, at full tariff, £/year.
        actual_value_gbp: planned (or actual) value at full tariff, £/year.
    """

    model_config = _FORBID

    org: OrgCode
    provider: OrgCode
    year: FinancialYear
    baseline_value_gbp: Money = Field(ge=0)
    actual_value_gbp: Money = Field(ge=0)


# --- The finance part of a plan ----------------------------------------------------------------


class FinancePart(BaseModel):
    """``Plan.extensions["finance"]``: the money side of a plan.

    Attributes:
        financial_plans: one per organisation (no organisation twice).
        assumptions: planning assumptions, one per financial year.
        activity: the activity plan lines (no (org, year, measure) twice).
        qipp: the savings register (ids unique).
        bridge: the do-nothing → do-something bridge, if any.
        marginal_tariff: emergency admissions values for the marginal rate rule.
    """

    model_config = _FORBID

    financial_plans: list[FinancialPlan] = Field(default_factory=list)
    assumptions: list[PlanningAssumptions] = Field(default_factory=list)
    activity: list[ActivityLine] = Field(default_factory=list)
    qipp: list[QippScheme] = Field(default_factory=list)
    bridge: Bridge | None = None
    marginal_tariff: list[MarginalTariffLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        def repeated(keys: list[Any], what: str) -> None:
            seen: set[Any] = set()
            for key in keys:
                if key in seen:
                    raise ValueError(f"{what} appears more than once: {key}")
                seen.add(key)

        repeated([p.org for p in self.financial_plans], "financial plan for organisation")
        repeated([a.year for a in self.assumptions], "planning assumptions for year")
        repeated(
            [f"{a.org} {a.year} {a.measure}" for a in self.activity], "activity line (org year)"
        )
        repeated([s.id for s in self.qipp], "QIPP scheme id")
        repeated(
            [f"{m.org} {m.provider} {m.year}" for m in self.marginal_tariff],
            "marginal tariff line (org provider year)",
        )
        return self

    def financial_plan(self, org: str) -> FinancialPlan | None:
        """The financial plan of ``org``, or None."""
        return next((p for p in self.financial_plans if p.org == org), None)

    def assumptions_for(self, year: str) -> PlanningAssumptions | None:
        """The planning assumptions of ``year``, or None."""
        return next((a for a in self.assumptions if a.year == year), None)


def canonical(part: FinancePart) -> dict[str, Any]:
    """The one dict form of the part: JSON types, defaults left out (what YAML and Excel hold)."""
    return part.model_dump(mode="json", exclude_defaults=True)
