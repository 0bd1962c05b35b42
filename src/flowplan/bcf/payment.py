"""The Better Care Fund payment-for-performance calculator.

Seed 001 (``everyone_counts_planning_2014-19``, Annex I) links £1bn of the £3.8bn fund to
outcomes (¶32 L1402), released in tranches (¶33–¶34 L1403–L1409): in April 2015 £250m on
progress against four of the six national conditions and £250m on the local metric and two
national metrics; in October 2015 £500m on all the metrics, each measured over its own window
(¶39 L1422–L1430). Each metric is of equal value (¶44 L1456). An area achieving 70% or more of
its levels of ambition may use the held-back portion for its agreed contingency plan (¶53
L1482); below 70% it may be required to produce a recovery plan, which the held-back portion
then funds once agreed (¶54–¶55 L1483–L1485).

Every number of that policy — the pool and tranche amounts, the dates, what each tranche depends
on, the windows and the threshold — is read from ``bcf/config.toml`` (:func:`load_config`),
never written in code. The calculation, for a plan's local pool ``P``:

1. **Tranche amount** = ``P`` × national tranche amount ÷ national pool (¶34: 25%, 25%, 50%).
2. **Share of ambition achieved** by a metric = improvement delivered ÷ improvement planned,
   both measured from the baseline in the metric's better direction: ``(baseline − actual) ÷
   (baseline − ambition)`` when lower is better, ``(actual − baseline) ÷ (ambition − baseline)``
   when higher is better; kept within [``share_floor``, ``share_cap``] (0 and 1) and rounded to
   ``share_decimals`` places. Values come from :func:`flowplan.metrics.compute.compute` with
   the months of the payment window. An ambition equal to its baseline is achieved (1) when the
   actual is at least as good, else 0. A metric with no actual counts 0.
3. **Equal weights**: each of the tranche's ``n`` metrics is worth amount ÷ ``n`` (pence
   allocated by largest remainder so the values add up to the amount); the tranche's **share
   achieved** = Σ shares ÷ ``n``; **paid** = amount × share achieved (to the penny), split
   between the metrics in proportion to their shares; **withheld** = amount − paid.
4. **The 70% rule** (metric tranches): share achieved ≥ threshold → the withheld (held-back)
   portion is released to fund the agreed contingency plan; below → a recovery plan is needed
   and the held-back portion funds it once agreed. The comparison is exact (Σ shares ≥
   threshold × ``n`` in decimals), so exactly 70% passes.
5. **Conditions tranche**: each listed condition is worth an equal part; a condition marked
   met is paid, one not met is withheld (the seed does not say how partial progress is paid;
   equal parts is this model's assumption).

A tranche whose payment period has no actuals at all is *not assessed*: nothing is paid yet.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowplan.bcf.model import BcfData, ConditionStatus, Metric, bcf_data, is_local
from flowplan.errors import UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.metrics.compute import compute
from flowplan.plans import requirements as reqs
from flowplan.plans.model import Plan, PlanType
from flowplan.plans.money import decimal_number, format_money

CONFIG_FILE = "config.toml"
PENNY = Decimal("0.01")
LOCAL = "local"
"""Config token for "the plan's local metric" in a tranche's metrics or a window."""
ALL = "all"
"""Config token for "every metric of the plan" in a tranche's metrics."""

Outcome = Literal[
    "paid_in_full", "released_to_contingency", "recovery_plan", "conditions_not_met", "not_assessed"
]

# --- Configuration -----------------------------------------------------------------------------


class PeriodSpec(BaseModel):
    """A payment period (``[[periods]]``): the performance a payment rests on.

    Attributes:
        id: period id used by ambitions and actuals (``apr-2015``).
        title: in words.
        basis: where it comes from (seed paragraph and lines).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    basis: str = ""


class TrancheSpec(BaseModel):
    """A tranche of the performance pool (``[[tranches]]``).

    Attributes:
        id: tranche id.
        name: in words.
        paid_on: the date it is released.
        national_amount_gbp: the national amount of the tranche, in pounds; the local amount
            is the local pool × this ÷ ``national_pool_gbp``.
        depends_on: ``conditions`` or ``metrics``.
        conditions: the condition ids a conditions tranche depends on.
        metrics: the metric ids of a metrics tranche (``local`` = the plan's local metric,
            ``all`` = every metric of the plan).
        period: the payment period a metrics tranche measures.
        basis: where it comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    paid_on: date
    national_amount_gbp: Decimal = Field(gt=0)
    depends_on: Literal["conditions", "metrics"]
    conditions: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    period: str | None = None
    basis: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.depends_on == "conditions" and (not self.conditions or self.metrics):
            raise ValueError(f"tranche {self.id}: a conditions tranche lists conditions only")
        if self.depends_on == "metrics" and (not self.metrics or self.conditions):
            raise ValueError(f"tranche {self.id}: a metrics tranche lists metrics only")
        if self.depends_on == "metrics" and self.period is None:
            raise ValueError(f"tranche {self.id}: a metrics tranche needs a period")
        return self


class WindowSpec(BaseModel):
    """The measurement window of one metric for one payment period (``[[windows]]``).

    Attributes:
        metric: metric id, or ``local`` for the plan's local metric.
        period: payment period id.
        start: first day measured, when fixed.
        end: last day measured, when fixed.
        months: months the numerator covers, when fixed (else the plan's ambition says).
        basis: where it comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(min_length=1)
    period: str = Field(min_length=1)
    start: date | None = None
    end: date | None = None
    months: int | None = Field(default=None, gt=0)
    basis: str = ""

    @model_validator(mode="after")
    def _months_match_dates(self) -> Self:
        if (self.start is None) != (self.end is None):
            raise ValueError(f"window {self.metric}/{self.period}: give both start and end")
        if self.start is not None and self.end is not None:
            if self.end < self.start:
                raise ValueError(f"window {self.metric}/{self.period}: end before start")
            span = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            if self.months is not None and span != self.months:
                raise ValueError(
                    f"window {self.metric}/{self.period}: {self.months} months but the dates"
                    f" span {span}"
                )
        return self

    def text(self) -> str:
        """The window as ``2014-04-01..2014-12-31`` ("" when not fixed)."""
        if self.start is None or self.end is None:
            return ""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class PaymentConfig(BaseModel):
    """The payment-for-performance configuration (``bcf/config.toml``).

    Attributes:
        title: what it is.
        version: configuration version.
        source: documents it comes from.
        national_fund_gbp: the national fund, in pounds (£3.8bn).
        national_pool_gbp: the national performance pool, in pounds (£1bn).
        threshold: share of ambition achieved from which held-back money is released (0.70).
        share_floor: least share a metric can count (0).
        share_cap: most share a metric can count (1).
        share_decimals: decimal places a metric's share is rounded to.
        weighting: how metrics (and conditions) are weighted: ``equal``.
        periods: the payment periods.
        tranches: the tranches, in payment order.
        windows: the measurement windows.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    national_fund_gbp: Decimal = Field(gt=0)
    national_pool_gbp: Decimal = Field(gt=0)
    threshold: Decimal = Field(gt=0, le=1)
    share_floor: Decimal = Field(ge=0)
    share_cap: Decimal = Field(gt=0)
    share_decimals: int = Field(ge=0, le=12)
    weighting: Literal["equal"]
    periods: tuple[PeriodSpec, ...] = Field(min_length=1)
    tranches: tuple[TrancheSpec, ...] = Field(min_length=1)
    windows: tuple[WindowSpec, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.national_pool_gbp > self.national_fund_gbp:
            raise ValueError("the national pool is larger than the national fund")
        if self.share_floor >= self.share_cap:
            raise ValueError("share_floor must be below share_cap")
        for what, ids in (
            ("period", [p.id for p in self.periods]),
            ("tranche", [t.id for t in self.tranches]),
            ("window", [f"{w.metric}/{w.period}" for w in self.windows]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{what} id(s) appear more than once: {', '.join(repeated)}")
        total = sum((t.national_amount_gbp for t in self.tranches), Decimal(0))
        if total != self.national_pool_gbp:
            raise ValueError(
                f"the tranches add up to {total}, not the national pool {self.national_pool_gbp}"
            )
        known = set(self.period_ids())
        for t in self.tranches:
            if t.period is not None and t.period not in known:
                raise ValueError(f"tranche {t.id}: unknown period '{t.period}'")
        for w in self.windows:
            if w.period not in known:
                raise ValueError(f"window {w.metric}/{w.period}: unknown period")
        return self

    def period_ids(self) -> list[str]:
        """The payment period ids, in order."""
        return [p.id for p in self.periods]

    def share(self, tranche: TrancheSpec) -> Decimal:
        """The tranche's share of the pool (national tranche amount ÷ national pool)."""
        return tranche.national_amount_gbp / self.national_pool_gbp

    def window(self, metric_id: str, period: str) -> WindowSpec | None:
        """The window of ``metric_id`` (a local metric uses the ``local`` windows) in ``period``."""
        key = LOCAL if is_local(metric_id) else metric_id
        return next((w for w in self.windows if w.metric == key and w.period == period), None)

    def includes(self, tranche: TrancheSpec, metric_id: str) -> bool:
        """Whether a metrics tranche pays on ``metric_id``."""
        if tranche.depends_on != "metrics":
            return False
        if ALL in tranche.metrics or metric_id in tranche.metrics:
            return True
        return LOCAL in tranche.metrics and is_local(metric_id)

    def periods_for(self, metric_id: str) -> list[str]:
        """The payment periods whose tranches pay on ``metric_id``, in order."""
        wanted = {t.period for t in self.tranches if t.period and self.includes(t, metric_id)}
        return [p for p in self.period_ids() if p in wanted]

    def months_for(self, metric: Metric, period: str) -> int | None:
        """Months of the numerator of ``metric`` in ``period``: the ambition's, else the
        window's (None → the metric definition's default)."""
        ambition = metric.ambition(period)
        if ambition is not None and ambition.months is not None:
            return ambition.months
        window = self.window(metric.metric, period)
        return None if window is None else window.months


def parse_config(text: str, name: str = CONFIG_FILE) -> PaymentConfig:
    """A payment configuration from TOML text (decimals read exactly).

    Raises:
        ValueError: not valid TOML or the configuration breaks a rule; the message names the
            file.
    """
    try:
        data = tomllib.loads(text, parse_float=Decimal)
        return PaymentConfig.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        rules = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"{name}: {rules}") from None


@cache
def load_config() -> PaymentConfig:
    """The packaged payment configuration (read once, then cached)."""
    text = resources.files("flowplan.bcf").joinpath(CONFIG_FILE).read_text(encoding="utf-8")
    return parse_config(text)


# --- Inputs and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Actual:
    """An actual outturn of one metric in one payment period.

    Attributes:
        metric: metric id.
        period: payment period id.
        numerator: numerator in the metric's unit.
        denominator: denominator (> 0).
        value: the value as stated in the file, if any (the calculation recomputes it).
        row: the file line (header = 1); 0 when not from a file.
    """

    metric: str
    period: str
    numerator: float
    denominator: float
    value: float | None = None
    row: int = 0


@dataclass(frozen=True)
class MetricOutcome:
    """How one metric did in one tranche.

    Attributes:
        metric: metric id.
        name: metric name.
        unit: unit of the values.
        period: payment period.
        window: measurement window (``start..end``), "" when not fixed.
        months: months the numerators cover (None: not used or the definition's default).
        direction: which way is better.
        baseline: baseline value (None when the plan lacks the metric).
        ambition: ambition value for the period (None when the plan states none).
        actual: actual value (None when there is no actual).
        share_achieved: share of the ambition achieved (0..1).
        met: the share reaches the threshold.
        value_gbp: the metric's equal part of the tranche, in pounds.
        paid_gbp: the part of it paid, in pounds.
        note: why a share is 0 without a calculation, "" otherwise.
    """

    metric: str
    name: str
    unit: str
    period: str
    window: str
    months: int | None
    direction: str
    baseline: float | None
    ambition: float | None
    actual: float | None
    share_achieved: Decimal
    met: bool
    value_gbp: Decimal
    paid_gbp: Decimal
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "name": self.name,
            "unit": self.unit,
            "period": self.period,
            "window": self.window,
            "months": self.months,
            "direction": self.direction,
            "baseline": self.baseline,
            "ambition": self.ambition,
            "actual": self.actual,
            "share_achieved": float(self.share_achieved),
            "met": self.met,
            "value": money_number(self.value_gbp),
            "paid": money_number(self.paid_gbp),
            "note": self.note,
        }


@dataclass(frozen=True)
class ConditionOutcome:
    """How one national condition counted in a conditions tranche.

    Attributes:
        id: condition id.
        title: condition title.
        status: ``met``, ``not_met`` or ``missing`` (not stated in the plan).
        value_gbp: the condition's equal part of the tranche, in pounds.
        paid_gbp: the part paid (all of it when met, else 0).
    """

    id: str
    title: str
    status: str
    value_gbp: Decimal
    paid_gbp: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "value": money_number(self.value_gbp),
            "paid": money_number(self.paid_gbp),
        }


@dataclass(frozen=True)
class TrancheOutcome:
    """The result of one tranche.

    Attributes:
        id: tranche id.
        name: tranche name.
        paid_on: release date.
        depends_on: ``conditions`` or ``metrics``.
        period: payment period of a metrics tranche.
        basis: where the tranche comes from.
        share_of_pool: the tranche's share of the pool.
        amount_gbp: the tranche's amount, in pounds.
        share_achieved: share of the tranche achieved (0..1).
        paid_gbp: amount paid, in pounds.
        withheld_gbp: amount held back, in pounds.
        outcome: what happens to it.
        held_back_use: what the withheld money may be used for, in words.
        metrics: the metrics (metrics tranches).
        conditions: the conditions (conditions tranches).
        steps: the calculation, step by step.
    """

    id: str
    name: str
    paid_on: date
    depends_on: str
    period: str | None
    basis: str
    share_of_pool: Decimal
    amount_gbp: Decimal
    share_achieved: Decimal
    paid_gbp: Decimal
    withheld_gbp: Decimal
    outcome: Outcome
    held_back_use: str
    metrics: tuple[MetricOutcome, ...] = ()
    conditions: tuple[ConditionOutcome, ...] = ()
    steps: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "date": self.paid_on.isoformat(),
            "depends_on": self.depends_on,
            "period": self.period,
            "basis": self.basis,
            "share_of_pool": float(self.share_of_pool),
            "amount": money_number(self.amount_gbp),
            "share_achieved": float(self.share_achieved),
            "paid": money_number(self.paid_gbp),
            "withheld": money_number(self.withheld_gbp),
            "outcome": self.outcome,
            "held_back_use": self.held_back_use,
            "metrics": [m.as_dict() for m in self.metrics],
            "conditions": [c.as_dict() for c in self.conditions],
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class PaymentResult:
    """The payment-for-performance calculation of one plan.

    Attributes:
        plan_id: the plan.
        config_version: version of ``bcf/config.toml`` used.
        pool_gbp: the local performance pool, in pounds.
        threshold: the 70% rule's threshold.
        contingency_gbp: the plan's contingency, in pounds.
        tranches: the tranches, in payment order.
        steps: the whole calculation, step by step.
    """

    plan_id: str
    config_version: str
    pool_gbp: Decimal
    threshold: Decimal
    contingency_gbp: Decimal
    tranches: tuple[TrancheOutcome, ...]
    steps: tuple[str, ...] = field(default=())

    @property
    def total_paid_gbp(self) -> Decimal:
        """Sum paid over the tranches, in pounds."""
        return sum((t.paid_gbp for t in self.tranches), Decimal(0))

    @property
    def total_withheld_gbp(self) -> Decimal:
        """Sum withheld over the tranches, in pounds."""
        return sum((t.withheld_gbp for t in self.tranches), Decimal(0))

    @property
    def released_to_contingency_gbp(self) -> Decimal:
        """Withheld money released to the contingency plan (tranches at or above the threshold)."""
        return sum(
            (t.withheld_gbp for t in self.tranches if t.outcome == "released_to_contingency"),
            Decimal(0),
        )

    @property
    def recovery_plan_gbp(self) -> Decimal:
        """Withheld money held for a recovery plan (tranches below the threshold)."""
        return sum(
            (t.withheld_gbp for t in self.tranches if t.outcome == "recovery_plan"), Decimal(0)
        )

    @property
    def recovery_plan_required(self) -> bool:
        """Whether any assessed metrics tranche fell below the threshold."""
        return any(t.outcome == "recovery_plan" for t in self.tranches)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as numbers in pounds, shares as fractions)."""
        return {
            "plan_id": self.plan_id,
            "config_version": self.config_version,
            "pool": money_number(self.pool_gbp),
            "threshold": float(self.threshold),
            "contingency": money_number(self.contingency_gbp),
            "tranches": [t.as_dict() for t in self.tranches],
            "total_paid": money_number(self.total_paid_gbp),
            "total_withheld": money_number(self.total_withheld_gbp),
            "released_to_contingency": money_number(self.released_to_contingency_gbp),
            "held_for_recovery_plan": money_number(self.recovery_plan_gbp),
            "recovery_plan_required": self.recovery_plan_required,
            "steps": list(self.steps),
        }


# --- Arithmetic --------------------------------------------------------------------------------


money_number = decimal_number
"""Pounds as a JSON number: an int when whole, else a float (pence)."""


def pence(value: Decimal) -> Decimal:
    """Pounds rounded to the penny (half up)."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` pounds into parts proportional to ``weights``, to the penny, adding up
    exactly (largest remainder; ties go to the earlier part).

    Args:
        total: pounds to split (a whole number of pence).
        weights: non-negative weights; all zero → all parts 0.

    Returns:
        One part per weight, in pounds.
    """
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0 or not weights:
        return [Decimal("0.00") for _ in weights]
    exact = [total * w / weight_sum for w in weights]
    floors = [e.quantize(PENNY, rounding=ROUND_DOWN) for e in exact]
    left = int(((total - sum(floors, Decimal(0))) / PENNY).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += PENNY
    return floors


def percent(share: Decimal) -> str:
    """A share as a percentage with two decimals (``0.8667`` → ``86.67%``)."""
    return f"{(share * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"


def share_achieved(
    baseline: float, ambition: float, actual: float, higher_is_better: bool, config: PaymentConfig
) -> Decimal:
    """The share of an ambition achieved, within the configured floor and cap.

    Args:
        baseline: baseline value (metric units).
        ambition: ambition value.
        actual: actual value.
        higher_is_better: the metric's direction.
        config: supplies share_floor, share_cap and share_decimals.

    Returns:
        Improvement delivered ÷ improvement planned (0..1 with the packaged settings); for an
        ambition equal to the baseline, the cap when the actual is at least as good, else the
        floor.
    """
    sign = 1.0 if higher_is_better else -1.0
    planned = sign * (ambition - baseline)
    if planned > 0:
        raw = Decimal(repr(sign * (actual - baseline) / planned))
    else:
        raw = config.share_cap if sign * (actual - ambition) >= 0 else config.share_floor
    step = Decimal(1).scaleb(-config.share_decimals)
    rounded = raw.quantize(step, rounding=ROUND_HALF_UP)
    return min(config.share_cap, max(config.share_floor, rounded))


# --- The calculation ---------------------------------------------------------------------------


def _condition_titles(plan: Plan) -> dict[str, str]:
    try:
        found = reqs.requirements_for(PlanType.bcf, plan.requirements_version)
    except UsageError:
        return {}
    return {r.id: r.title for r in found}


def _conditions_tranche(
    plan: Plan, data: BcfData, spec: TrancheSpec, amount: Decimal, config: PaymentConfig
) -> TrancheOutcome:
    titles = _condition_titles(plan)
    n = len(spec.conditions)
    values = allocate(amount, [Decimal(1)] * n)
    steps = [f"  each of the {n} conditions is an equal part: {format_money(amount)} ÷ {n}"]
    outcomes: list[ConditionOutcome] = []
    for cid, value in zip(spec.conditions, values, strict=True):
        found = data.condition(cid)
        status = "missing" if found is None else str(found.status)
        paid = value if status == ConditionStatus.met else Decimal("0.00")
        outcomes.append(ConditionOutcome(cid, titles.get(cid, cid), status, value, paid))
        said = {"met": "met", "not_met": "NOT met", "missing": "not stated (counts as not met)"}
        steps.append(
            f"  {cid} {titles.get(cid, '')}: {said[status]} → {format_money(paid)}"
            f" of {format_money(value)}"
        )
    met = sum(1 for o in outcomes if o.status == ConditionStatus.met)
    paid = sum((o.paid_gbp for o in outcomes), Decimal(0))
    share = Decimal(met) / Decimal(n)
    withheld = amount - paid
    if met == n:
        outcome: Outcome = "paid_in_full"
        use = "none (all conditions met)"
    else:
        outcome = "conditions_not_met"
        use = "held back until the conditions are met (seed 001 ¶33 L1403)"
    steps.append(
        f"  share achieved = {met}/{n} conditions = {percent(share)}; paid {format_money(paid)},"
        f" withheld {format_money(withheld)}"
    )
    return TrancheOutcome(
        id=spec.id,
        name=spec.name,
        paid_on=spec.paid_on,
        depends_on=spec.depends_on,
        period=None,
        basis=spec.basis,
        share_of_pool=config.share(spec),
        amount_gbp=amount,
        share_achieved=share,
        paid_gbp=paid,
        withheld_gbp=withheld,
        outcome=outcome,
        held_back_use=use,
        conditions=tuple(outcomes),
        steps=tuple(steps),
    )


def _tranche_metric_ids(data: BcfData, spec: TrancheSpec, config: PaymentConfig) -> list[str]:
    ids = [m.metric for m in data.metrics if config.includes(spec, m.metric)]
    named = [m for m in spec.metrics if m not in (ALL, LOCAL)]
    ids += [m for m in named if m not in ids]  # a metric the tranche needs but the plan lacks
    if LOCAL in spec.metrics and not data.local_metrics():
        ids.append(LOCAL)
    return ids


def _metric_outcome(
    data: BcfData,
    metric_id: str,
    period: str,
    actual: Actual | None,
    value: Decimal,
    config: PaymentConfig,
) -> tuple[MetricOutcome, list[str]]:
    """One metric's share achieved (its paid amount is filled in later) and its explanation."""
    window = config.window(metric_id, period)
    defn = metric_registry.registry().get(metric_id)
    metric = data.metric(metric_id)
    blank = MetricOutcome(
        metric=metric_id,
        name=defn.name if defn is not None else "the plan's local metric",
        unit=defn.unit if defn is not None else "",
        period=period,
        window="" if window is None else window.text(),
        months=None if metric is None else config.months_for(metric, period),
        direction=defn.direction if defn is not None else "higher_is_better",
        baseline=None,
        ambition=None,
        actual=None,
        share_achieved=Decimal(0),
        met=False,
        value_gbp=value,
        paid_gbp=Decimal("0.00"),
    )
    if defn is None or metric is None:
        note = "the plan has no such metric"
        return replace(blank, note=note), [f"  {metric_id}: {note} → counts 0% achieved"]
    ambition = metric.ambition(period)
    if ambition is None:
        note = f"the plan states no ambition for {period}"
        return replace(blank, note=note), [f"  {metric_id}: {note} → counts 0% achieved"]
    months = blank.months
    try:
        base_v = compute(
            defn, metric.baseline.numerator, metric.baseline.denominator, metric.baseline.months
        )
        amb_v = compute(defn, ambition.numerator, ambition.denominator, months)
        act_v = (
            None if actual is None else compute(defn, actual.numerator, actual.denominator, months)
        )
    except UsageError as exc:
        raise UsageError(f"{metric_id} ({period}): {exc}") from None
    if act_v is None:
        note = f"no actual for {period}"
        out = replace(blank, baseline=base_v, ambition=amb_v, note=note)
        return out, [f"  {metric_id}: {note} → counts 0% achieved"]
    higher = blank.direction == "higher_is_better"
    share = share_achieved(base_v, amb_v, act_v, higher, config)
    met = share >= config.threshold
    sign = 1.0 if higher else -1.0
    detail = ", ".join(x for x in (blank.window, f"{months} months" if months else "") if x)
    where = f" ({detail})" if detail else ""
    lines = [
        f"  {metric_id}{where}: baseline {_num(base_v)}, ambition {_num(amb_v)},"
        f" actual {_num(act_v)} {blank.unit} ({'higher' if higher else 'lower'} is better)",
        f"    improvement delivered {_num(sign * (act_v - base_v))} of"
        f" {_num(sign * (amb_v - base_v))} planned → {percent(share)} achieved"
        + ("" if met else " (below the threshold: missed)"),
    ]
    out = replace(
        blank, baseline=base_v, ambition=amb_v, actual=act_v, share_achieved=share, met=met
    )
    return out, lines


def _metrics_tranche(
    data: BcfData,
    spec: TrancheSpec,
    amount: Decimal,
    actuals: dict[tuple[str, str], Actual],
    config: PaymentConfig,
) -> TrancheOutcome:
    period = spec.period or ""
    ids = _tranche_metric_ids(data, spec, config)
    n = len(ids)
    values = allocate(amount, [Decimal(1)] * n)
    steps = [
        f"  {n} metrics of equal weight (seed 001 ¶44 L1456): each worth"
        f" {format_money(amount)} ÷ {n} ≈ {format_money(pence(amount / n))}"
    ]
    assessed = any(p == period for (_, p) in actuals)
    if not assessed:
        steps.append(f"  no actuals for {period}: not assessed, nothing paid yet")
        return TrancheOutcome(
            id=spec.id,
            name=spec.name,
            paid_on=spec.paid_on,
            depends_on=spec.depends_on,
            period=period,
            basis=spec.basis,
            share_of_pool=config.share(spec),
            amount_gbp=amount,
            share_achieved=Decimal(0),
            paid_gbp=Decimal("0.00"),
            withheld_gbp=amount,
            outcome="not_assessed",
            held_back_use=f"awaiting actuals for {period}",
            steps=tuple(steps),
        )
    partial: list[MetricOutcome] = []
    for metric_id, value in zip(ids, values, strict=True):
        found, lines = _metric_outcome(
            data, metric_id, period, actuals.get((metric_id, period)), value, config
        )
        partial.append(found)
        steps.extend(lines)
    shares = [m.share_achieved for m in partial]
    total_share = sum(shares, Decimal(0))
    share = total_share / Decimal(n)
    paid = pence(amount * total_share / Decimal(n))
    parts = allocate(paid, shares)
    outcomes = tuple(replace(m, paid_gbp=part) for m, part in zip(partial, parts, strict=True))
    withheld = amount - paid
    shown = " + ".join(percent(s) for s in shares)
    steps.append(f"  share achieved = ({shown}) ÷ {n} = {percent(share)}")
    steps.append(
        f"  paid = {format_money(amount)} × {percent(share)} = {format_money(paid)};"
        f" withheld {format_money(withheld)}"
    )
    if total_share == n * config.share_cap:
        outcome: Outcome = "paid_in_full"
        use = "none (every ambition achieved)"
        steps.append("  every ambition achieved: paid in full")
    elif total_share >= config.threshold * n:
        outcome = "released_to_contingency"
        use = "released to fund the agreed contingency plan (seed 001 ¶53 L1482)"
        steps.append(
            f"  {percent(share)} ≥ {percent(config.threshold)}: the held-back"
            f" {format_money(withheld)} may fund the agreed contingency plan (¶53 L1482)"
        )
    else:
        outcome = "recovery_plan"
        use = "recovery plan required; funds it once agreed (seed 001 ¶54–¶55 L1483–L1485)"
        steps.append(
            f"  {percent(share)} < {percent(config.threshold)}: a recovery plan is required;"
            f" the held-back {format_money(withheld)} funds it once agreed (¶54–¶55)"
        )
    return TrancheOutcome(
        id=spec.id,
        name=spec.name,
        paid_on=spec.paid_on,
        depends_on=spec.depends_on,
        period=period,
        basis=spec.basis,
        share_of_pool=config.share(spec),
        amount_gbp=amount,
        share_achieved=share,
        paid_gbp=paid,
        withheld_gbp=withheld,
        outcome=outcome,
        held_back_use=use,
        metrics=outcomes,
        steps=tuple(steps),
    )


def calculate_payment(
    plan: Plan, actuals: Sequence[Actual], config: PaymentConfig | None = None
) -> PaymentResult:
    """The payment-for-performance calculation of a BCF plan, tranche by tranche.

    Args:
        plan: a BCF plan with a ``bcf`` extension (load it with ``load_plan``).
        actuals: the actual outturns (see :func:`flowplan.bcf.actuals.read_actuals`); at most
            one per metric and period.
        config: the payment configuration (default: the packaged ``bcf/config.toml``).

    Returns:
        The result, with every tranche's amount, share achieved, amount paid and withheld, the
        use of the held-back money and the calculation step by step.

    Raises:
        UsageError: the plan has no ``bcf`` data, was agreed under another configuration
            version, an actual repeats a metric and period, or a value cannot be computed.
    """
    used = load_config() if config is None else config
    data = bcf_data(plan.extensions)
    if data is None:
        raise UsageError(f"plan '{plan.id}' has no Better Care Fund data (extensions.bcf)")
    pinned = data.payment_for_performance.config_version
    if pinned is not None and pinned != used.version:
        raise UsageError(
            f"plan '{plan.id}' was agreed under BCF payment configuration {pinned},"
            f" not {used.version}"
        )
    by_key: dict[tuple[str, str], Actual] = {}
    for a in actuals:
        if (a.metric, a.period) in by_key:
            raise UsageError(f"more than one actual for {a.metric} in {a.period}")
        by_key[(a.metric, a.period)] = a
    pool = data.payment_for_performance.pool_gbp
    amounts = allocate(pool, [t.national_amount_gbp for t in used.tranches])
    steps = [
        f"Plan {plan.id}: payment-for-performance pool {format_money(pool)}"
        f" (configuration {used.version}; {used.source})",
        f"National pool {format_money(used.national_pool_gbp)} of"
        f" {format_money(used.national_fund_gbp)} (seed 001 ¶32 L1402); threshold"
        f" {percent(used.threshold)} (¶53 L1482)",
    ]
    tranches: list[TrancheOutcome] = []
    for spec, amount in zip(used.tranches, amounts, strict=True):
        steps.append(
            f"Tranche {spec.id} '{spec.name}', paid {spec.paid_on.isoformat()}:"
            f" {format_money(pool)} × {format_money(spec.national_amount_gbp)} ÷"
            f" {format_money(used.national_pool_gbp)} = {format_money(amount)} ({spec.basis})"
        )
        if spec.depends_on == "conditions":
            result = _conditions_tranche(plan, data, spec, amount, used)
        else:
            result = _metrics_tranche(data, spec, amount, by_key, used)
        tranches.append(result)
        steps.extend(result.steps)
    partial = PaymentResult(
        plan.id, used.version, pool, used.threshold, data.contingency_gbp, tuple(tranches)
    )
    steps.append(
        f"Total: paid {format_money(partial.total_paid_gbp)}, withheld"
        f" {format_money(partial.total_withheld_gbp)} of {format_money(pool)}"
    )
    if partial.released_to_contingency_gbp:
        steps.append(
            f"Released to the contingency plan: {format_money(partial.released_to_contingency_gbp)}"
            f" (the plan's contingency is {format_money(data.contingency_gbp)})"
        )
    if partial.recovery_plan_required:
        steps.append(
            f"Recovery plan required: {format_money(partial.recovery_plan_gbp)} held back for it"
        )
    return PaymentResult(
        plan.id,
        used.version,
        pool,
        used.threshold,
        data.contingency_gbp,
        tuple(tranches),
        tuple(steps),
    )


def tranche_metric_ids(data: BcfData, tranche: TrancheSpec, config: PaymentConfig) -> list[str]:
    """The metric ids a metrics tranche pays on for this plan (plan order, then any the tranche
    names that the plan lacks)."""
    return _tranche_metric_ids(data, tranche, config)
