"""The Better Care Fund assurance rules: :func:`check_bcf` runs them on a plan's ``bcf`` data.

The rules are catalogued in ``bcf/rules.toml`` (ids ``BCF-...``, severity, title, basis and
thresholds), read with the plan rule engine's :func:`~flowplan.plans.checks.parse_catalogue`;
each id has exactly one rule function here. Findings are located below ``extensions.bcf``:
budget lines and totals by position (``extensions.bcf.pooled_budget[3].proposed_gbp``),
conditions by id (``extensions.bcf.conditions[BCF-NC3]``), metrics by id and ambitions by
period (``extensions.bcf.metrics[bcf.delayed_transfers].ambitions[oct-2015].value``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from flowplan.bcf.model import BcfData, Metric, Ratio, bcf_data, is_local
from flowplan.bcf.payment import PaymentConfig, load_config
from flowplan.errors import UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.metrics.check import rounds_to
from flowplan.metrics.compute import compute
from flowplan.plans import requirements as reqs
from flowplan.plans.checks import RuleCatalogue, parse_catalogue
from flowplan.plans.findings import Finding, RuleRegistry, decimal_places, number_text
from flowplan.plans.model import Plan, PlanType
from flowplan.plans.money import format_money

RULES_FILE = "rules.toml"
ROOT = "extensions.bcf"


@cache
def rule_catalogue() -> RuleCatalogue:
    """The packaged BCF rule catalogue (read once, then cached)."""
    text = resources.files("flowplan.bcf").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_catalogue(text, f"bcf/{RULES_FILE}")


@dataclass(frozen=True)
class _Context:
    """What every rule sees: the plan, its BCF data, the catalogue and the payment config."""

    plan: Plan
    data: BcfData
    catalogue: RuleCatalogue
    config: PaymentConfig

    def finding(
        self, rule_id: str, location: str, message: str, stated: str = "", expected: str = ""
    ) -> Finding:
        """A finding of ``rule_id`` with the catalogue's severity."""
        return self.catalogue.finding(rule_id, location, message, stated, expected)

    def param(self, rule_id: str, name: str) -> Any:
        """One parameter of a rule (ValueError when the catalogue does not give it)."""
        return self.catalogue.param(rule_id, name)


RuleFunction = Callable[[_Context], list[Finding]]
_REGISTRY: RuleRegistry[_Context] = RuleRegistry()
RULES: dict[str, RuleFunction] = _REGISTRY.rules
"""Rule id → rule function, in registration order."""
_rule = _REGISTRY.rule


def _metric_at(metric: Metric) -> str:
    return f"{ROOT}.metrics[{metric.metric}]"


# --- Pooled budget -----------------------------------------------------------------------------


@_rule("BCF-BUDGET-TOTAL")
def _budget_total(ctx: _Context) -> list[Finding]:
    """Each stated total (year, optionally one organisation) equals the sum of its lines."""
    rule = "BCF-BUDGET-TOTAL"
    tolerance = Decimal(str(ctx.param(rule, "tolerance_gbp")))
    out: list[Finding] = []
    for i, total in enumerate(ctx.data.stated_totals):
        for column in ("minimum", "proposed", "maximum"):
            stated = getattr(total, f"{column}_gbp")
            if stated is None:
                continue
            computed = ctx.data.pooled_total(total.year, total.organisation, column)
            if abs(stated - computed) > tolerance:
                who = total.organisation or "all contributors"
                out.append(
                    ctx.finding(
                        rule,
                        f"{ROOT}.stated_totals[{i}].{column}_gbp",
                        f"stated {column} total for {total.year} ({who}) is not the sum of its"
                        " pooled budget lines",
                        format_money(stated),
                        format_money(computed),
                    )
                )
    return out


@_rule("BCF-BUDGET-RANGE")
def _budget_range(ctx: _Context) -> list[Finding]:
    """Minimum ≤ proposed ≤ maximum on every pooled budget line."""
    rule = "BCF-BUDGET-RANGE"
    out: list[Finding] = []
    for i, line in enumerate(ctx.data.pooled_budget):
        at = f"{ROOT}.pooled_budget[{i}]"
        what = f"{line.scheme} / {line.organisation} / {line.year}"
        if line.minimum_gbp > line.proposed_gbp:
            out.append(
                ctx.finding(
                    rule,
                    f"{at}.proposed_gbp",
                    f"proposed amount is below the minimum ({what})",
                    format_money(line.proposed_gbp),
                    f"≥ {format_money(line.minimum_gbp)}",
                )
            )
        if line.proposed_gbp > line.maximum_gbp:
            out.append(
                ctx.finding(
                    rule,
                    f"{at}.proposed_gbp",
                    f"proposed amount is above the maximum ({what})",
                    format_money(line.proposed_gbp),
                    f"≤ {format_money(line.maximum_gbp)}",
                )
            )
        if line.minimum_gbp > line.maximum_gbp:
            out.append(
                ctx.finding(
                    rule,
                    f"{at}.minimum_gbp",
                    f"minimum is above the maximum ({what})",
                    format_money(line.minimum_gbp),
                    f"≤ {format_money(line.maximum_gbp)}",
                )
            )
    return out


@_rule("BCF-BUDGET-REF")
def _budget_ref(ctx: _Context) -> list[Finding]:
    """Lines name plan schemes, member organisations and years of the plan period."""
    rule = "BCF-BUDGET-REF"
    plan = ctx.plan
    members = {m.code for m in plan.members}
    years = plan.financial_years()
    out: list[Finding] = []
    for i, line in enumerate(ctx.data.pooled_budget):
        at = f"{ROOT}.pooled_budget[{i}]"
        if plan.scheme(line.scheme) is None:
            out.append(ctx.finding(rule, f"{at}.scheme", "not a scheme of the plan", line.scheme))
        if line.organisation not in members:
            out.append(
                ctx.finding(
                    rule, f"{at}.organisation", "not a member of the plan", line.organisation
                )
            )
        if line.lead_provider is not None and line.lead_provider not in members:
            out.append(
                ctx.finding(
                    rule, f"{at}.lead_provider", "not a member of the plan", line.lead_provider
                )
            )
        if line.year not in years:
            out.append(
                ctx.finding(
                    rule,
                    f"{at}.year",
                    "year is outside the plan period",
                    line.year,
                    ", ".join(years),
                )
            )
    for i, total in enumerate(ctx.data.stated_totals):
        if total.organisation is not None and total.organisation not in members:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.stated_totals[{i}].organisation",
                    "not a member of the plan",
                    total.organisation,
                )
            )
    return out


@_rule("BCF-SCHEME-COST")
def _scheme_cost(ctx: _Context) -> list[Finding]:
    """A scheme with pooled budget lines costs, each year, what its proposed lines hold."""
    rule = "BCF-SCHEME-COST"
    out: list[Finding] = []
    for scheme in ctx.plan.schemes:
        lines = [line for line in ctx.data.pooled_budget if line.scheme == scheme.id]
        if not lines:
            continue
        years = sorted({line.year for line in lines} | {c.year for c in scheme.costs})
        for year in years:
            pooled = sum((x.proposed_gbp for x in lines if x.year == year), Decimal(0))
            cost = scheme.total_cost(year)
            if pooled != cost:
                out.append(
                    ctx.finding(
                        rule,
                        f"schemes[{scheme.id}].costs",
                        f"scheme cost in {year} differs from its proposed pooled budget lines",
                        format_money(cost),
                        format_money(pooled),
                    )
                )
    return out


@_rule("BCF-MIN-ALLOCATION")
def _minimum_allocation(ctx: _Context) -> list[Finding]:
    """The proposed pooled budget of each year reaches that year's national minimum."""
    rule = "BCF-MIN-ALLOCATION"
    out: list[Finding] = []
    for i, allocation in enumerate(ctx.data.minimum_allocation):
        pooled = ctx.data.pooled_total(allocation.year)
        if pooled < allocation.amount_gbp:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.minimum_allocation[{i}]",
                    f"proposed pooled budget for {allocation.year} is below the national minimum"
                    f" allocation (short by {format_money(allocation.amount_gbp - pooled)})",
                    format_money(pooled),
                    f"≥ {format_money(allocation.amount_gbp)}",
                )
            )
    return out


# --- National conditions -----------------------------------------------------------------------


def _condition_ids(ctx: _Context) -> list[str]:
    try:
        return reqs.requirement_set(PlanType.bcf, ctx.plan.requirements_version).ids()
    except UsageError:
        return reqs.requirement_set(PlanType.bcf).ids()


@_rule("BCF-CONDITIONS")
def _conditions(ctx: _Context) -> list[Finding]:
    """Every national condition stated exactly once; no unknown condition ids."""
    rule = "BCF-CONDITIONS"
    wanted = _condition_ids(ctx)
    stated = [c.id for c in ctx.data.conditions]
    out: list[Finding] = []
    for cid in wanted:
        count = stated.count(cid)
        if count != 1:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.conditions[{cid}]",
                    f"national condition {cid} is "
                    + ("not stated" if count == 0 else f"stated {count} times"),
                    str(count),
                    "1",
                )
            )
    for cid in dict.fromkeys(stated):
        if cid not in wanted:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.conditions[{cid}]",
                    "not a national condition",
                    cid,
                    ", ".join(wanted),
                )
            )
    return out


@_rule("BCF-CONDITION-EVIDENCE")
def _condition_evidence(ctx: _Context) -> list[Finding]:
    """Every stated condition has its evidence (or the reason it is not met)."""
    rule = "BCF-CONDITION-EVIDENCE"
    return [
        ctx.finding(
            rule,
            f"{ROOT}.conditions[{c.id}].evidence",
            f"condition {c.id} is marked {c.status} with no evidence"
            + (" (say why not and when it will be)" if c.status == "not_met" else ""),
        )
        for c in ctx.data.conditions
        if not c.evidence.strip()
    ]


@_rule("BCF-CONDITION-NOT-MET")
def _condition_not_met(ctx: _Context) -> list[Finding]:
    """A condition not met, with the tranches that depend on it."""
    rule = "BCF-CONDITION-NOT-MET"
    out: list[Finding] = []
    for c in ctx.data.conditions:
        if c.status != "not_met":
            continue
        tranches = [t.id for t in ctx.config.tranches if c.id in t.conditions]
        at_risk = f"; tranche(s) at risk: {', '.join(tranches)}" if tranches else ""
        out.append(
            ctx.finding(
                rule,
                f"{ROOT}.conditions[{c.id}].status",
                f"national condition {c.id} is not met{at_risk}",
                "not_met",
                "met",
            )
        )
    return out


# --- Metrics -----------------------------------------------------------------------------------


@_rule("BCF-METRICS-SET")
def _metrics_set(ctx: _Context) -> list[Finding]:
    """The five national metrics and the configured number of local metrics, each once."""
    rule = "BCF-METRICS-SET"
    national = [str(m) for m in ctx.param(rule, "national")]
    local_count = int(ctx.param(rule, "local_count"))
    stated = [m.metric for m in ctx.data.metrics]
    out: list[Finding] = []
    for metric_id in national:
        if metric_id not in stated:
            out.append(
                ctx.finding(rule, f"{ROOT}.metrics", "national metric missing", "", metric_id)
            )
    for metric_id in dict.fromkeys(stated):
        if stated.count(metric_id) > 1:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.metrics[{metric_id}]",
                    "metric stated more than once",
                    str(stated.count(metric_id)),
                    "1",
                )
            )
        elif not is_local(metric_id) and metric_id not in national:
            out.append(
                ctx.finding(
                    rule,
                    f"{ROOT}.metrics[{metric_id}]",
                    "neither a national metric nor one of the local metric menu (bcf.local.*)",
                    metric_id,
                )
            )
    local = list(dict.fromkeys(m for m in stated if is_local(m)))
    if len(local) != local_count:
        out.append(
            ctx.finding(
                rule,
                f"{ROOT}.metrics",
                "wrong number of local metrics (seed 001 ¶41 L1432: one additional indicator)",
                f"{len(local)} ({', '.join(local) or 'none'})",
                str(local_count),
            )
        )
    return out


@_rule("BCF-AMBITION-MISSING")
def _ambition_missing(ctx: _Context) -> list[Finding]:
    """Each metric has an ambition for each payment period whose tranches pay on it."""
    rule = "BCF-AMBITION-MISSING"
    out: list[Finding] = []
    for m in ctx.data.metrics:
        for period in ctx.config.periods_for(m.metric):
            if m.ambition(period) is None:
                out.append(
                    ctx.finding(
                        rule,
                        f"{_metric_at(m)}.ambitions[{period}]",
                        f"no ambition for payment period {period}",
                        "",
                        period,
                    )
                )
        periods = [a.period for a in m.ambitions]
        for period in dict.fromkeys(periods):
            if periods.count(period) > 1:
                out.append(
                    ctx.finding(
                        rule,
                        f"{_metric_at(m)}.ambitions[{period}]",
                        f"more than one ambition for payment period {period}",
                        str(periods.count(period)),
                        "1",
                    )
                )
    return out


@_rule("BCF-AMBITION-UNUSED")
def _ambition_unused(ctx: _Context) -> list[Finding]:
    """An ambition for a period whose tranches do not pay on the metric."""
    rule = "BCF-AMBITION-UNUSED"
    out: list[Finding] = []
    for m in ctx.data.metrics:
        paid = ctx.config.periods_for(m.metric)
        for a in m.ambitions:
            if a.period not in paid:
                out.append(
                    ctx.finding(
                        rule,
                        f"{_metric_at(m)}.ambitions[{a.period}]",
                        f"{m.metric} is not paid on {a.period}",
                        a.period,
                        ", ".join(paid) or "none",
                    )
                )
    return out


def _value_finding(
    ctx: _Context, at: str, metric_id: str, ratio: Ratio, months: int | None
) -> Finding | None:
    rule = "BCF-VALUE"
    defn = metric_registry.registry().get(metric_id)
    if defn is None:
        return None
    try:
        value = compute(defn, ratio.numerator, ratio.denominator, months)
    except UsageError as exc:
        return ctx.finding(rule, f"{at}.months", f"cannot compute the value: {exc}")
    places = decimal_places(ratio.value)
    if rounds_to(value, ratio.value, places):
        return None
    shown = f" over {months} months" if months and defn.period_rule != "none" else ""
    return ctx.finding(
        rule,
        f"{at}.value",
        f"value is not numerator {number_text(ratio.numerator)} ÷ denominator"
        f" {number_text(ratio.denominator)} as {metric_id} defines it{shown}",
        number_text(ratio.value),
        f"{value:.{max(places, 2)}f}",
    )


@_rule("BCF-VALUE")
def _values(ctx: _Context) -> list[Finding]:
    """Baseline and ambition values are the metric engine's numerator ÷ denominator × scale
    (with the period rule and the months of the payment window), within rounding."""
    out: list[Finding] = []
    for m in ctx.data.metrics:
        found = _value_finding(
            ctx, f"{_metric_at(m)}.baseline", m.metric, m.baseline, m.baseline.months
        )
        if found is not None:
            out.append(found)
        for a in m.ambitions:
            found = _value_finding(
                ctx,
                f"{_metric_at(m)}.ambitions[{a.period}]",
                m.metric,
                a,
                ctx.config.months_for(m, a.period),
            )
            if found is not None:
                out.append(found)
    return out


@_rule("BCF-AMBITION-DIRECTION")
def _ambition_direction(ctx: _Context) -> list[Finding]:
    """Ambitions do not move away from the baseline in the metric's better direction."""
    rule = "BCF-AMBITION-DIRECTION"
    out: list[Finding] = []
    registry = metric_registry.registry()
    for m in ctx.data.metrics:
        defn = registry.get(m.metric)
        if defn is None or defn.direction == "neutral":
            continue
        higher = defn.direction == "higher_is_better"
        for a in m.ambitions:
            worse = a.value < m.baseline.value if higher else a.value > m.baseline.value
            if worse:
                out.append(
                    ctx.finding(
                        rule,
                        f"{_metric_at(m)}.ambitions[{a.period}].value",
                        f"ambition is worse than the baseline ({defn.direction.replace('_', ' ')})",
                        number_text(a.value),
                        f"{'≥' if higher else '≤'} {number_text(m.baseline.value)}",
                    )
                )
    return out


# --- Risk and payment --------------------------------------------------------------------------


@_rule("BCF-CONTINGENCY")
def _contingency(ctx: _Context) -> list[Finding]:
    """The contingency is at least the sum of the risks' contingency values."""
    rule = "BCF-CONTINGENCY"
    valued = [r for r in ctx.plan.risks if r.contingency_gbp is not None]
    needed = sum((r.contingency_gbp or Decimal(0) for r in valued), Decimal(0))
    if ctx.data.contingency_gbp >= needed:
        return []
    ids = ", ".join(r.id for r in valued)
    return [
        ctx.finding(
            rule,
            f"{ROOT}.contingency_gbp",
            f"contingency is less than the risks valued on the register ({ids})",
            format_money(ctx.data.contingency_gbp),
            f"≥ {format_money(needed)}",
        )
    ]


@_rule("BCF-RISK-REGISTER")
def _risk_register(ctx: _Context) -> list[Finding]:
    """The shared risk register values enough risks."""
    rule = "BCF-RISK-REGISTER"
    least = int(ctx.param(rule, "min_valued_risks"))
    valued = sum(1 for r in ctx.plan.risks if r.contingency_gbp is not None)
    if valued >= least:
        return []
    return [
        ctx.finding(
            rule,
            "risks",
            "the shared risk register values too few risks (contingency_gbp)",
            str(valued),
            f"≥ {least}",
        )
    ]


@_rule("BCF-P4P-POOL")
def _pool(ctx: _Context) -> list[Finding]:
    """The pool is not more than the national minimum allocation (or, without one, the
    proposed pooled budget)."""
    rule = "BCF-P4P-POOL"
    pool = ctx.data.payment_for_performance.pool_gbp
    if ctx.data.minimum_allocation:
        limit = sum((a.amount_gbp for a in ctx.data.minimum_allocation), Decimal(0))
        what = "the national minimum allocation"
    else:
        limit = ctx.data.pooled_total()
        what = "the proposed pooled budget"
    if pool <= limit:
        return []
    return [
        ctx.finding(
            rule,
            f"{ROOT}.payment_for_performance.pool_gbp",
            f"the payment-for-performance pool is more than {what}",
            format_money(pool),
            f"≤ {format_money(limit)}",
        )
    ]


@_rule("BCF-CONFIG-VERSION")
def _config_version(ctx: _Context) -> list[Finding]:
    """A pinned configuration version is the packaged one."""
    pinned = ctx.data.payment_for_performance.config_version
    if pinned is None or pinned == ctx.config.version:
        return []
    return [
        ctx.finding(
            "BCF-CONFIG-VERSION",
            f"{ROOT}.payment_for_performance.config_version",
            "the plan was agreed under another BCF payment configuration",
            pinned,
            ctx.config.version,
        )
    ]


# --- Engine ------------------------------------------------------------------------------------


def check_bcf(
    plan: Plan,
    *,
    catalogue: RuleCatalogue | None = None,
    config: PaymentConfig | None = None,
    rules: list[str] | None = None,
) -> list[Finding]:
    """Run the BCF rules on a plan's ``bcf`` data.

    Args:
        plan: the plan (with ``extensions.bcf``; a plan without one has no findings).
        catalogue: the rule catalogue (default: the packaged ``bcf/rules.toml``).
        config: the payment configuration (default: the packaged ``bcf/config.toml``).
        rules: ids of the rules to run (default: all, in catalogue order).

    Returns:
        The findings, rule by rule.

    Raises:
        ValueError: the catalogue and the rule functions disagree, or an unknown id is asked.
        pydantic.ValidationError: the BCF data is invalid (``load_plan`` refuses such plans).
    """
    used = rule_catalogue() if catalogue is None else catalogue
    ids = used.ids()
    if set(ids) != set(RULES):
        missing = sorted(set(RULES) - set(ids))
        extra = sorted(set(ids) - set(RULES))
        raise ValueError(
            f"BCF rule catalogue {used.version} does not match the rule functions"
            f" (no catalogue entry: {', '.join(missing) or 'none'};"
            f" no function: {', '.join(extra) or 'none'})"
        )
    wanted = ids if rules is None else rules
    unknown = [r for r in wanted if r not in RULES]
    if unknown:
        raise ValueError(f"unknown BCF rule id(s): {', '.join(unknown)}")
    data = bcf_data(plan.extensions)
    if data is None:
        return []
    ctx = _Context(plan, data, used, load_config() if config is None else config)
    return [f for rule_id in wanted for f in RULES[rule_id](ctx)]
