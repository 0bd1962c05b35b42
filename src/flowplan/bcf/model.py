"""The data of the ``bcf`` plan extension: a Health and Wellbeing Board's Better Care Fund plan.

A BCF plan (``PlanType.bcf``; DOMAIN.md §2.4; seed 001 = ``everyone_counts_planning_2014-19``,
Annex I) keeps the parts the core plan has no fields for under ``Plan.extensions["bcf"]``:

* the **pooled budget**: one line per scheme × contributing organisation × financial year, with
  a minimum, proposed and maximum amount in pounds (``Decimal``), recurrent or not, and the
  scheme's lead provider; optional **stated totals** the rules compare with the rows;
* the **national minimum allocation** per year (the allocation letters "specify only the
  minimum amount of funds to be included in pooled budgets", seed 001 ¶22 L1369);
* the status of the **six national conditions** (``BCF-NC1`` … ``BCF-NC6``, seed 001 ¶31
  L1388–L1399): met or not met, with the evidence;
* the **metrics**: five national and one local metric (registry ids ``bcf.*``), each with a
  baseline and an ambition per payment period, stored as numerator, denominator and value
  (value = numerator ÷ denominator × scale with the metric's period rule, see
  :func:`flowplan.metrics.compute.compute`); ``months`` is how many months the numerator covers
  where the metric's period rule needs it;
* the **contingency** held against the shared risk register (seed 001 ¶28 L1381, ¶53 L1482);
* the **payment-for-performance** settings: the local performance pool in pounds and, when
  pinned, the version of ``bcf/config.toml`` the plan was agreed under.

The models check what one object can check by itself (types, signs, ids); checks across the
plan (sums, ranges, the six conditions present, values = numerator ÷ denominator) are the rules
of :mod:`flowplan.bcf.rules`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from flowplan.plans.model import FinancialYear, Id, Money, Number, OrgCode

_FORBID = ConfigDict(extra="forbid")

EXTENSION = "bcf"
"""The key of the BCF data in ``Plan.extensions``."""

BASELINE = "baseline"
"""The ``period`` label of a metric's baseline row on the ``BCF metrics`` sheet."""

PeriodId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
MetricId = Annotated[str, Field(pattern=r"^bcf\.[a-z0-9_]+(\.[a-z0-9_]+)*$")]
Months = Annotated[int, Field(strict=True, gt=0)]


class ConditionStatus(StrEnum):
    """Whether a national condition is met."""

    met = "met"
    not_met = "not_met"


class BudgetLine(BaseModel):
    """One line of the pooled budget: a scheme's money from one organisation in one year.

    Attributes:
        scheme: id of the plan scheme the money pays for.
        organisation: code of the contributing member organisation (CCG or council).
        year: financial year (``2015/16``).
        minimum_gbp: least the organisation will put in, in pounds (≥ 0).
        proposed_gbp: the amount proposed, in pounds (≥ 0; a rule checks min ≤ proposed ≤ max).
        maximum_gbp: most it would put in, in pounds (≥ 0).
        recurrent: true when the money recurs in later years.
        lead_provider: code of the member organisation that leads the scheme, when stated.
        description: what the money is (e.g. "Disabled facilities grant").
    """

    model_config = _FORBID

    scheme: Id
    organisation: OrgCode
    year: FinancialYear
    minimum_gbp: Money = Field(ge=0)
    proposed_gbp: Money = Field(ge=0)
    maximum_gbp: Money = Field(ge=0)
    recurrent: bool = True
    lead_provider: OrgCode | None = None
    description: str = ""


class BudgetTotal(BaseModel):
    """A pooled budget total the plan states (checked against the sum of its lines).

    Attributes:
        year: the financial year the total is for.
        organisation: the contributing organisation it totals, or None for every contributor.
        minimum_gbp: stated total of the minimum amounts, in pounds.
        proposed_gbp: stated total of the proposed amounts, in pounds.
        maximum_gbp: stated total of the maximum amounts, in pounds.
    """

    model_config = _FORBID

    year: FinancialYear
    organisation: OrgCode | None = None
    minimum_gbp: Money | None = None
    proposed_gbp: Money | None = None
    maximum_gbp: Money | None = None


class Allocation(BaseModel):
    """The national minimum allocation to the pool for one year (seed 001 ¶22 L1369).

    Attributes:
        year: financial year.
        amount_gbp: the minimum the pooled budget must hold that year, in pounds (≥ 0).
        description: where the figure comes from (allocation letter).
    """

    model_config = _FORBID

    year: FinancialYear
    amount_gbp: Money = Field(ge=0)
    description: str = ""


class Condition(BaseModel):
    """The plan's position on one national condition.

    Attributes:
        id: the condition's requirement id (``BCF-NC1`` … ``BCF-NC6``).
        status: met or not met.
        evidence: the evidence that it is met, or why it is not and when it will be.
    """

    model_config = _FORBID

    id: Id
    status: ConditionStatus
    evidence: str = ""


class Ratio(BaseModel):
    """A metric value with its parts: value = numerator ÷ denominator × scale (period rule).

    Attributes:
        numerator: the numerator, in the unit the metric's definition gives (e.g. delayed days).
        denominator: the denominator (e.g. population aged 18+; > 0).
        value: the value in the metric's unit, as the plan states it.
        months: months the numerator covers, for metrics averaged per month or annualised;
            None → the payment window's months (ambitions) or the metric's default.
    """

    model_config = _FORBID

    numerator: Number = Field(ge=0)
    denominator: Number = Field(gt=0)
    value: Number
    months: Months | None = None


class Ambition(Ratio):
    """The level of ambition for one payment period (seed 001 ¶45 L1457).

    Attributes:
        period: the payment period id from ``bcf/config.toml`` (``apr-2015``, ``oct-2015``).
    """

    period: PeriodId


class Metric(BaseModel):
    """One BCF metric of the plan: its baseline and its ambition for each payment period.

    Attributes:
        metric: registry id (``bcf.delayed_transfers``; the local metric is a ``bcf.local.*``
            id from the menu of seed 001 ¶42 L1433).
        baseline: the baseline value with its numerator and denominator.
        ambitions: one ambition per payment period the metric is paid on.
    """

    model_config = _FORBID

    metric: MetricId
    baseline: Ratio
    ambitions: list[Ambition] = Field(default_factory=list)

    def ambition(self, period: str) -> Ambition | None:
        """The ambition for payment period ``period``, or None."""
        return next((a for a in self.ambitions if a.period == period), None)


class PaymentSettings(BaseModel):
    """The payment-for-performance settings of the plan.

    Attributes:
        pool_gbp: the local payment-for-performance pool in pounds (the part of the fund whose
            release depends on the conditions and metrics; > 0).
        config_version: the version of ``bcf/config.toml`` the plan was agreed under; None →
            the packaged version.
    """

    model_config = _FORBID

    pool_gbp: Money = Field(gt=0)
    config_version: str | None = None


class BcfData(BaseModel):
    """Everything the ``bcf`` extension holds for one plan.

    Attributes:
        pooled_budget: the pooled budget lines.
        stated_totals: pooled budget totals as the plan states them.
        minimum_allocation: the national minimum allocation per year.
        conditions: the status of the national conditions.
        metrics: the national and local metrics.
        contingency_gbp: money held against the shared risk register, in pounds (≥ 0).
        payment_for_performance: the payment-for-performance settings.
    """

    model_config = _FORBID

    pooled_budget: list[BudgetLine] = Field(default_factory=list)
    stated_totals: list[BudgetTotal] = Field(default_factory=list)
    minimum_allocation: list[Allocation] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    contingency_gbp: Money = Field(default=Decimal(0), ge=0)
    payment_for_performance: PaymentSettings

    def metric(self, metric_id: str) -> Metric | None:
        """The plan's metric ``metric_id``, or None."""
        return next((m for m in self.metrics if m.metric == metric_id), None)

    def condition(self, condition_id: str) -> Condition | None:
        """The plan's position on condition ``condition_id``, or None."""
        return next((c for c in self.conditions if c.id == condition_id), None)

    def local_metrics(self) -> list[Metric]:
        """The plan's local metrics (``bcf.local.*``)."""
        return [m for m in self.metrics if is_local(m.metric)]

    def pooled_total(
        self, year: str | None = None, organisation: str | None = None, column: str = "proposed"
    ) -> Decimal:
        """Sum of the pooled budget's ``column`` (minimum, proposed or maximum) amounts.

        Args:
            year: only lines of this financial year, when given.
            organisation: only lines from this contributing organisation, when given.
            column: ``minimum``, ``proposed`` or ``maximum``.

        Returns:
            The sum in pounds.
        """
        return sum(
            (
                getattr(line, f"{column}_gbp")
                for line in self.pooled_budget
                if (year is None or line.year == year)
                and (organisation is None or line.organisation == organisation)
            ),
            Decimal(0),
        )

    def years(self) -> list[str]:
        """The financial years of the pooled budget, in order."""
        return sorted({line.year for line in self.pooled_budget})


def is_local(metric_id: str) -> bool:
    """Whether a metric id is one of the local metric menu (``bcf.local.*``)."""
    return metric_id.startswith("bcf.local.")


def bcf_data(extensions: dict[str, Any]) -> BcfData | None:
    """The validated BCF data of a plan's extensions, or None when the plan has none.

    Raises:
        pydantic.ValidationError: the data is not valid (``load_plan`` refuses such plans first).
    """
    raw = extensions.get(EXTENSION)
    if raw is None:
        return None
    return BcfData.model_validate(raw)
