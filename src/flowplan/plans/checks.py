"""The plan assurance rule engine: ``check_plan(plan)`` runs every rule and reports findings.

The rules are catalogued as versioned data in ``plans/rules.toml`` (id, severity, title and any
thresholds); each catalogue id has exactly one rule function here, registered with
:func:`_rule`. A rule function looks at the plan (and, for locked years, the previous version of
it) and returns :class:`~flowplan.plans.findings.Finding` objects with a precise location:

* schemes, milestones and risks by id: ``schemes[S03].kpis[0].target``, ``milestones[M07].due``,
  ``risks[R01].mitigation``;
* funding lines, financial summary rows and sign-offs by position: ``funding[2].year``,
  ``financial_summary[3].do_something``, ``signoffs[0].org``;
* requirements by id: ``requirements[NE01]``; totals by field: ``stated_totals.funding_gap_gbp``.

:func:`check_plan` also computes the figures the rules rest on (funding, scheme cost and gap per
financial year and overall, the critical path, requirement coverage) and returns them in a
:class:`CheckReport`; :func:`render_findings_table` shows the findings as a rich table.

Integrity (ids exist, references resolve) is :func:`flowplan.plans.document.integrity_problems`'s
job; the rules here stay quiet, rather than fail, on references that do not resolve.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.table import Table
from rich.text import Text

from flowplan.errors import UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.metrics.check import rounds_to
from flowplan.metrics.compute import compute
from flowplan.plans import requirements as reqs
from flowplan.plans.critical_path import Schedule, schedule_programme
from flowplan.plans.extensions import extension_findings
from flowplan.plans.findings import (
    Finding,
    RuleRegistry,
    Severity,
    count_by_severity,
    decimal_places,
    has_errors,
    number_text,
)
from flowplan.plans.model import (
    FinancialSummaryRow,
    Kpi,
    Milestone,
    Plan,
    Scheme,
    SchemeSection,
)
from flowplan.plans.money import decimal_number, format_money

RULES_FILE = "rules.toml"

# --- The catalogue -----------------------------------------------------------------------------


class RuleSpec(BaseModel):
    """One rule of the catalogue (a ``[[rules]]`` table of ``rules.toml``).

    Attributes:
        id: stable rule id (``PLAN-REQ-COVERED``).
        severity: severity of every finding the rule makes.
        title: what the rule checks, in one line.
        basis: where the rule comes from (seed, section, lines), when stated.
        params: the rule's thresholds and settings.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z]+(-[A-Z0-9]+)+$")
    severity: Severity
    title: str = Field(min_length=1)
    basis: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class RuleCatalogue(BaseModel):
    """The rule catalogue (``rules.toml``).

    Attributes:
        title: what the catalogue is.
        version: version of the catalogue.
        source: documents the rules come from.
        rules: the rules in file order (ids unique).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    rules: tuple[RuleSpec, ...] = Field(min_length=1)

    def get(self, rule_id: str) -> RuleSpec:
        """The rule called ``rule_id``.

        Raises:
            KeyError: no such rule.
        """
        for spec in self.rules:
            if spec.id == rule_id:
                return spec
        raise KeyError(rule_id)

    def ids(self) -> list[str]:
        """The rule ids, in file order."""
        return [spec.id for spec in self.rules]

    def finding(
        self, rule_id: str, location: str, message: str, stated: str = "", expected: str = ""
    ) -> Finding:
        """A finding of ``rule_id`` with this catalogue's severity for it."""
        spec = self.get(rule_id)
        return Finding(rule_id, spec.severity, location, message, stated, expected)

    def param(self, rule_id: str, name: str) -> Any:
        """One parameter of a rule.

        Raises:
            ValueError: the catalogue does not give it.
        """
        params = self.get(rule_id).params
        if name not in params:
            raise ValueError(f"{self.title} {self.version}: rule {rule_id} needs params.{name}")
        return params[name]


def parse_catalogue(text: str, name: str = RULES_FILE) -> RuleCatalogue:
    """A rule catalogue from TOML text.

    Raises:
        ValueError: not valid TOML, a rule is malformed or an id repeats; the message names the
            file.
    """
    try:
        data = tomllib.loads(text)
        catalogue = RuleCatalogue.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        rules = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"{name}: {rules}") from None
    ids = catalogue.ids()
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{name}: rule id(s) appear more than once: {', '.join(repeated)}")
    return catalogue


@cache
def rule_catalogue() -> RuleCatalogue:
    """The packaged rule catalogue (read once, then cached)."""
    text = resources.files("flowplan.plans").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_catalogue(text)


# --- Report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearTotals:
    """An amount per financial year and over the whole plan.

    Attributes:
        by_year: pounds per financial year (``2015/16``), years in order.
        overall: pounds over all years.
    """

    by_year: dict[str, Decimal]
    overall: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as numbers)."""
        return {
            "by_year": {year: decimal_number(v) for year, v in self.by_year.items()},
            "overall": decimal_number(self.overall),
        }


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_plan` found and computed.

    Attributes:
        plan_id: id of the plan checked.
        catalogue_version: version of the rule catalogue used.
        findings: every finding, in rule order then plan order.
        funding_total: sum of the funding lines.
        scheme_cost_total: sum of the scheme costs.
        funding_gap: scheme cost − funding (positive = shortfall).
        critical_path: the milestone schedule, or None (no milestones, or a cycle).
        programme_start: the date the critical path is measured from, or None.
        coverage: requirement id → ids of the schemes that cite it (every requirement of the
            plan type's list, in list order, then any other ids schemes cite).
    """

    plan_id: str
    catalogue_version: str
    findings: list[Finding]
    funding_total: YearTotals
    scheme_cost_total: YearTotals
    funding_gap: YearTotals
    critical_path: Schedule | None
    programme_start: date | None
    coverage: dict[str, list[str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no finding is an error."""
        return not has_errors(self.findings)

    @property
    def programme_finish(self) -> date | None:
        """The date the critical path ends (programme start + its duration), or None."""
        if self.critical_path is None or self.programme_start is None:
            return None
        return self.programme_start + timedelta(days=self.critical_path.duration)

    def counts(self) -> dict[str, int]:
        """Number of findings of each severity (every severity present, zero when none)."""
        return count_by_severity(self.findings)

    def funding_gap_text(self) -> str:
        """The overall funding gap in one sentence, for the CLI."""
        gap = self.funding_gap.overall
        return (
            f"Funding gap {format_money(gap)} (scheme cost"
            f" {format_money(self.scheme_cost_total.overall)} − funding"
            f" {format_money(self.funding_total.overall)})."
        )

    def by_rule(self, rule_id: str) -> list[Finding]:
        """The findings of one rule."""
        return [f for f in self.findings if f.rule == rule_id]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form of the report."""
        schedule: dict[str, Any] | None = None
        if self.critical_path is not None:
            finish = self.programme_finish
            schedule = {
                "path": list(self.critical_path.critical_path),
                "duration_days": self.critical_path.duration,
                "start": None if self.programme_start is None else self.programme_start.isoformat(),
                "finish": None if finish is None else finish.isoformat(),
                "timings": [
                    {
                        "id": t.id,
                        "duration": t.duration,
                        "earliest_start": t.earliest_start,
                        "earliest_finish": t.earliest_finish,
                        "latest_start": t.latest_start,
                        "latest_finish": t.latest_finish,
                        "slack": t.slack,
                    }
                    for t in self.critical_path.timings
                ],
            }
        return {
            "plan_id": self.plan_id,
            "catalogue_version": self.catalogue_version,
            "passed": self.passed,
            "counts": count_by_severity(self.findings),
            "findings": [f.as_dict() for f in self.findings],
            "funding_total": self.funding_total.as_dict(),
            "scheme_cost_total": self.scheme_cost_total.as_dict(),
            "funding_gap": self.funding_gap.as_dict(),
            "critical_path": schedule,
            "coverage": {rid: list(ids) for rid, ids in self.coverage.items()},
        }


# --- Rule context and registry -----------------------------------------------------------------


@dataclass
class _Context:
    """What every rule sees: the plan, its previous version, today, the catalogue, the schedule."""

    plan: Plan
    previous: Plan | None
    today: date
    catalogue: RuleCatalogue
    schedule: Schedule | None
    cycle: list[str] | None
    programme_start: date | None

    def finding(
        self, rule_id: str, location: str, message: str, stated: str = "", expected: str = ""
    ) -> Finding:
        """A finding of ``rule_id`` with the catalogue's severity."""
        return self.catalogue.finding(rule_id, location, message, stated, expected)

    def param(self, rule_id: str, name: str) -> Any:
        """One parameter of a rule (ValueError when the catalogue does not give it)."""
        return self.catalogue.param(rule_id, name)

    def decimal_param(self, rule_id: str, name: str) -> Decimal:
        """A numeric parameter as a Decimal."""
        value = self.param(rule_id, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{RULES_FILE}: rule {rule_id} params.{name} must be a number")
        return Decimal(str(value))

    def str_list_param(self, rule_id: str, name: str) -> list[str]:
        """A list-of-text parameter."""
        value = self.param(rule_id, name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{RULES_FILE}: rule {rule_id} params.{name} must be a list of text")
        return [str(v) for v in value]


RuleFunction = Callable[[_Context], list[Finding]]
_REGISTRY: RuleRegistry[_Context] = RuleRegistry()
RULES: dict[str, RuleFunction] = _REGISTRY.rules
"""Rule id → rule function, in registration order (the order findings are reported in)."""
_rule = _REGISTRY.rule


# --- Formatting helpers ------------------------------------------------------------------------


def _scheme_at(scheme: Scheme) -> str:
    return f"schemes[{scheme.id}]"


def _milestone_at(milestone: Milestone) -> str:
    return f"milestones[{milestone.id}]"


def _years_of(plan: Plan) -> list[str]:
    """Financial years of the plan period plus any year its money names, in order."""
    years = set(plan.financial_years())
    years |= {f.year for f in plan.funding}
    years |= {c.year for s in plan.schemes for c in s.costs}
    return sorted(years)


# --- Rule 1: requirements ----------------------------------------------------------------------


def _missing_for_completeness(scheme: Scheme, min_kpis: int) -> list[str]:
    """What a scheme lacks to count as meeting a requirement (empty when complete)."""
    missing: list[str] = []
    if len(scheme.kpis) < min_kpis:
        missing.append(f"{min_kpis} KPI(s)" if min_kpis > 1 else "a KPI")
    has_dates = scheme.start is not None and scheme.end is not None
    if not has_dates and not scheme.kpis:
        missing.append("a timeframe (start and end, or a KPI target date)")
    if not scheme.lead.name.strip() or not scheme.lead.email.strip():
        missing.append("a named accountable officer with an email")
    if not scheme.costs:
        missing.append("an estimated cost")
    return missing


@_rule("PLAN-REQ-COVERED")
def _requirements_covered(ctx: _Context) -> list[Finding]:
    """Every mandatory requirement has enough complete schemes (KPI, timeframe, lead, cost)."""
    rule = "PLAN-REQ-COVERED"
    plan = ctx.plan
    min_schemes = int(ctx.decimal_param(rule, "min_schemes"))
    min_kpis = int(ctx.decimal_param(rule, "min_kpis"))
    try:
        mandatory = reqs.mandatory_requirements(plan.type, plan.requirements_version)
    except UsageError as exc:
        return [
            ctx.finding(
                rule,
                "requirements_version",
                f"cannot check requirements: {exc}",
                plan.requirements_version,
            )
        ]
    out: list[Finding] = []
    for requirement in mandatory:
        citing = [s for s in plan.schemes if requirement.id in s.requirements]
        gaps = {s.id: _missing_for_completeness(s, min_kpis) for s in citing}
        complete = [sid for sid, missing in gaps.items() if not missing]
        if len(complete) >= min_schemes:
            continue
        if not citing:
            detail = "no scheme meets it"
        else:
            detail = "; ".join(
                f"{sid} lacks {', '.join(missing)}" for sid, missing in gaps.items() if missing
            )
            if complete:
                detail = (
                    f"only {len(complete)} complete scheme(s) ({', '.join(complete)}); {detail}"
                )
        out.append(
            ctx.finding(
                rule,
                f"requirements[{requirement.id}]",
                f"mandatory requirement {requirement.id} ({requirement.title}): {detail}",
                str(len(complete)),
                f"≥ {min_schemes}",
            )
        )
    return out


# --- Rules 2, 3, 4, 12: money ------------------------------------------------------------------


@_rule("PLAN-FUND-GAP")
def _funding_gap_shown(ctx: _Context) -> list[Finding]:
    """The funding gap, overall and (for plans over several years) by year."""
    plan = ctx.plan
    cost, funding, gap = plan.total_scheme_cost(), plan.total_funding(), plan.funding_gap()
    message = (
        f"funding gap {format_money(gap)}"
        f" (scheme cost {format_money(cost)} − funding {format_money(funding)})"
    )
    years = _years_of(plan)
    if len(years) > 1:
        message += "; by year: " + ", ".join(
            f"{y} {format_money(plan.funding_gap(y))}" for y in years
        )
    stated = plan.stated_totals.funding_gap_gbp if plan.stated_totals else None
    return [
        ctx.finding(
            "PLAN-FUND-GAP",
            "funding_gap",
            message,
            "" if stated is None else format_money(stated),
            format_money(gap),
        )
    ]


@_rule("PLAN-FUND-GAP-STATED")
def _funding_gap_stated(ctx: _Context) -> list[Finding]:
    """A stated funding gap equals scheme cost − funding, within the tolerance."""
    rule = "PLAN-FUND-GAP-STATED"
    plan = ctx.plan
    stated = plan.stated_totals.funding_gap_gbp if plan.stated_totals else None
    if stated is None:
        return []
    tolerance = ctx.decimal_param(rule, "tolerance_gbp")
    gap = plan.funding_gap()
    if abs(stated - gap) <= tolerance:
        return []
    return [
        ctx.finding(
            rule,
            "stated_totals.funding_gap_gbp",
            f"stated funding gap is not scheme cost {format_money(plan.total_scheme_cost())}"
            f" − funding {format_money(plan.total_funding())}",
            format_money(stated),
            format_money(gap),
        )
    ]


@_rule("PLAN-TOTALS")
def _stated_totals(ctx: _Context) -> list[Finding]:
    """Each stated total equals the sum of its rows, within the tolerance."""
    rule = "PLAN-TOTALS"
    plan = ctx.plan
    totals = plan.stated_totals
    if totals is None:
        return []
    tolerance = ctx.decimal_param(rule, "tolerance_gbp")
    checks: list[tuple[str, Decimal | None, Decimal, str]] = [
        ("total_funding_gbp", totals.total_funding_gbp, plan.total_funding(), "funding lines"),
        (
            "total_scheme_cost_gbp",
            totals.total_scheme_cost_gbp,
            plan.total_scheme_cost(),
            "all scheme costs",
        ),
        (
            "minimum_requirement_cost_gbp",
            totals.minimum_requirement_cost_gbp,
            plan.total_scheme_cost(section=SchemeSection.minimum),
            "minimum-requirement scheme costs",
        ),
        (
            "innovation_cost_gbp",
            totals.innovation_cost_gbp,
            plan.total_scheme_cost(section=SchemeSection.innovation),
            "innovation scheme costs",
        ),
    ]
    return [
        ctx.finding(
            rule,
            f"stated_totals.{name}",
            f"stated total is not the sum of the {what}",
            format_money(stated),
            format_money(computed),
        )
        for name, stated, computed, what in checks
        if stated is not None and abs(stated - computed) > tolerance
    ]


@_rule("PLAN-COST-RANGE")
def _cost_range(ctx: _Context) -> list[Finding]:
    """``minimum_gbp`` ≤ ``maximum_gbp`` where a scheme gives both."""
    return [
        ctx.finding(
            "PLAN-COST-RANGE",
            f"{_scheme_at(s)}.minimum_gbp",
            "minimum cost is above the maximum cost",
            format_money(s.minimum_gbp),
            f"≤ {format_money(s.maximum_gbp)}",
        )
        for s in ctx.plan.schemes
        if s.minimum_gbp is not None and s.maximum_gbp is not None and s.minimum_gbp > s.maximum_gbp
    ]


@_rule("PLAN-FUND-SOURCE")
def _funding_source(ctx: _Context) -> list[Finding]:
    """A scheme with non-zero costs names the funding that pays for it."""
    return [
        ctx.finding(
            "PLAN-FUND-SOURCE",
            f"{_scheme_at(s)}.funding_source",
            f"scheme costs {format_money(s.total_cost())} but names no funding source",
        )
        for s in ctx.plan.schemes
        if s.funding_source is None and any(c.amount_gbp != 0 for c in s.costs)
    ]


@_rule("PLAN-FUND-SOURCE-KIND")
def _funding_source_kind(ctx: _Context) -> list[Finding]:
    """A scheme's funding source is a kind the plan has a funding line of."""
    kinds = {f.kind for f in ctx.plan.funding}
    return [
        ctx.finding(
            "PLAN-FUND-SOURCE-KIND",
            f"{_scheme_at(s)}.funding_source",
            f"funding source '{s.funding_source}' has no funding line in the plan",
            str(s.funding_source),
            ", ".join(sorted(str(k) for k in kinds)) or "a funding line",
        )
        for s in ctx.plan.schemes
        if s.funding_source is not None and s.funding_source not in kinds
    ]


@_rule("PLAN-FUND-YEAR")
def _funding_year(ctx: _Context) -> list[Finding]:
    """Funding lines are for financial years the plan period touches."""
    years = ctx.plan.financial_years()
    return [
        ctx.finding(
            "PLAN-FUND-YEAR",
            f"funding[{i}].year",
            "funding line is for a financial year outside the plan period",
            line.year,
            " or ".join(years),
        )
        for i, line in enumerate(ctx.plan.funding)
        if line.year not in years
    ]


@_rule("PLAN-COST-YEAR")
def _cost_year(ctx: _Context) -> list[Finding]:
    """Scheme costs are for financial years the plan period touches."""
    years = ctx.plan.financial_years()
    return [
        ctx.finding(
            "PLAN-COST-YEAR",
            f"{_scheme_at(s)}.costs[{j}].year",
            "scheme cost is for a financial year outside the plan period",
            cost.year,
            " or ".join(years),
        )
        for s in ctx.plan.schemes
        for j, cost in enumerate(s.costs)
        if cost.year not in years
    ]


# --- Rule 5: dates -----------------------------------------------------------------------------


@_rule("PLAN-DATE-ORDER")
def _scheme_dates_ordered(ctx: _Context) -> list[Finding]:
    """A scheme's start is on or before its end."""
    return [
        ctx.finding(
            "PLAN-DATE-ORDER",
            f"{_scheme_at(s)}.end",
            "scheme ends before it starts",
            s.end.isoformat(),
            f"≥ {s.start.isoformat()}",
        )
        for s in ctx.plan.schemes
        if s.start is not None and s.end is not None and s.end < s.start
    ]


@_rule("PLAN-DATE-PERIOD")
def _scheme_dates_in_period(ctx: _Context) -> list[Finding]:
    """A scheme's timeframe lies within or overlaps the plan period."""
    plan = ctx.plan
    period = f"{plan.period_start.isoformat()}..{plan.period_end.isoformat()}"
    out: list[Finding] = []
    for s in plan.schemes:
        if s.start is not None and s.start > plan.period_end:
            out.append(
                ctx.finding(
                    "PLAN-DATE-PERIOD",
                    f"{_scheme_at(s)}.start",
                    "scheme starts after the plan period ends",
                    s.start.isoformat(),
                    period,
                )
            )
        elif s.end is not None and s.end < plan.period_start:
            out.append(
                ctx.finding(
                    "PLAN-DATE-PERIOD",
                    f"{_scheme_at(s)}.end",
                    "scheme ends before the plan period starts",
                    s.end.isoformat(),
                    period,
                )
            )
    return out


@_rule("PLAN-KPI-DATES")
def _kpi_dates(ctx: _Context) -> list[Finding]:
    """A KPI's target date is after its baseline date."""
    return [
        ctx.finding(
            "PLAN-KPI-DATES",
            f"{_scheme_at(s)}.kpis[{k}].target_date",
            "KPI target date is not after its baseline date",
            kpi.target_date.isoformat(),
            f"> {kpi.baseline_date.isoformat()}",
        )
        for s in ctx.plan.schemes
        for k, kpi in enumerate(s.kpis)
        if kpi.baseline_date is not None and kpi.target_date <= kpi.baseline_date
    ]


def _nearest_dated_predecessors(milestone: Milestone, by_id: Mapping[str, Milestone]) -> list[str]:
    """Ids of the dated milestones reached from ``milestone`` through undated predecessors."""
    found: list[str] = []
    seen: set[str] = {milestone.id}
    stack = list(reversed(milestone.depends_on))
    while stack:
        current = stack.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        if by_id[current].due is not None:
            found.append(current)
        else:
            stack.extend(reversed(by_id[current].depends_on))
    return found


@_rule("PLAN-MS-DUE-ORDER")
def _milestone_due_order(ctx: _Context) -> list[Finding]:
    """A milestone's due date is not before that of a milestone it depends on.

    Milestones without a due date are passed through: a dated milestone is compared with the
    nearest dated milestones upstream of it.
    """
    by_id = {m.id: m for m in ctx.plan.milestones}
    out: list[Finding] = []
    for m in ctx.plan.milestones:
        if m.due is None:
            continue
        for before_id in _nearest_dated_predecessors(m, by_id):
            before_due = by_id[before_id].due
            if before_due is not None and m.due < before_due:
                out.append(
                    ctx.finding(
                        "PLAN-MS-DUE-ORDER",
                        f"{_milestone_at(m)}.due",
                        f"milestone is due before {before_id}, which it depends on",
                        m.due.isoformat(),
                        f"≥ {before_due.isoformat()} ({before_id})",
                    )
                )
    return out


# --- Rule 6: milestones and critical path ------------------------------------------------------


@_rule("PLAN-MS-CYCLE")
def _milestone_cycle(ctx: _Context) -> list[Finding]:
    """Milestone dependencies form no cycle."""
    if ctx.cycle is None:
        return []
    path = " → ".join(ctx.cycle)
    return [
        ctx.finding(
            "PLAN-MS-CYCLE",
            f"milestones[{ctx.cycle[0]}].depends_on",
            f"milestone dependencies form a cycle: {path}",
            path,
        )
    ]


@_rule("PLAN-CRIT-PATH")
def _critical_path_shown(ctx: _Context) -> list[Finding]:
    """The critical path and its duration in days."""
    schedule = ctx.schedule
    if schedule is None or not schedule.timings:
        return []
    path = " → ".join(schedule.critical_path)
    message = f"critical path {path}: {schedule.duration} days"
    if ctx.programme_start is not None:
        finish = ctx.programme_start + timedelta(days=schedule.duration)
        message += f" ({ctx.programme_start.isoformat()} to {finish.isoformat()})"
    return [ctx.finding("PLAN-CRIT-PATH", "milestones", message, "", str(schedule.duration))]


@_rule("PLAN-CRIT-OVERRUN")
def _critical_path_overrun(ctx: _Context) -> list[Finding]:
    """The critical path, measured from the programme start, ends by the plan period end."""
    schedule, start = ctx.schedule, ctx.programme_start
    if schedule is None or not schedule.critical_path or start is None:
        return []
    finish = start + timedelta(days=schedule.duration)
    if finish <= ctx.plan.period_end:
        return []
    last = schedule.critical_path[-1]
    return [
        ctx.finding(
            "PLAN-CRIT-OVERRUN",
            f"milestones[{last}]",
            f"critical path ({schedule.duration} days from {start.isoformat()}) finishes after"
            " the plan period ends",
            finish.isoformat(),
            f"≤ {ctx.plan.period_end.isoformat()}",
        )
    ]


# --- Rule 7: KPIs ------------------------------------------------------------------------------

_RANGE_IN_UNIT = re.compile(r"\((-?\d+(?:\.\d+)?)\s*[–-]\s*(-?\d+(?:\.\d+)?)\)")


def _bounds(ctx: _Context, kpi: Kpi) -> tuple[float | None, float | None, str]:
    """Lower and upper bound of a KPI's values (None = unbounded) and their text."""
    rule = "PLAN-KPI-BOUNDS"
    percent = ctx.str_list_param(rule, "percent_units")
    counts = ctx.str_list_param(rule, "count_units")
    signed = ctx.str_list_param(rule, "signed_units")
    if kpi.metric == metric_registry.CUSTOM_ID:
        unit = kpi.unit or ""
        if unit in percent:
            return 0.0, 100.0, "0–100"
        if unit in counts:
            return 0.0, None, "≥ 0"
        return None, None, ""
    defn = metric_registry.registry().get(kpi.metric)
    if defn is None:
        return None, None, ""
    stated_range = _RANGE_IN_UNIT.search(defn.unit)
    if stated_range is not None:
        low, high = float(stated_range.group(1)), float(stated_range.group(2))
        return low, high, f"{number_text(low)}–{number_text(high)}"
    if defn.unit in percent:
        return 0.0, defn.scale, f"0–{number_text(defn.scale)}"
    if defn.unit in signed:
        return None, None, ""
    return 0.0, None, "≥ 0"


@_rule("PLAN-KPI-BOUNDS")
def _kpi_bounds(ctx: _Context) -> list[Finding]:
    """KPI baseline, target and trajectory values lie within the metric's bounds.

    Bounds come from the metric's unit: a range written in the unit (``score (0–24)``), 0..scale
    for a percentage, ≥ 0 for every other registry metric unless its unit may be negative (the
    unit lists are in ``rules.toml``).
    """
    out: list[Finding] = []
    for s in ctx.plan.schemes:
        for k, kpi in enumerate(s.kpis):
            low, high, text = _bounds(ctx, kpi)
            if low is None and high is None:
                continue
            values: list[tuple[str, float]] = [("baseline", kpi.baseline), ("target", kpi.target)]
            values += [(f"trajectory[{i}].value", p.value) for i, p in enumerate(kpi.trajectory)]
            for name, value in values:
                if (low is not None and value < low) or (high is not None and value > high):
                    out.append(
                        ctx.finding(
                            "PLAN-KPI-BOUNDS",
                            f"{_scheme_at(s)}.kpis[{k}].{name}",
                            f"value is outside the bounds of {kpi.metric}",
                            number_text(value),
                            text,
                        )
                    )
    return out


@_rule("PLAN-KPI-DIRECTION")
def _kpi_direction(ctx: _Context) -> list[Finding]:
    """A KPI target moves from its baseline in the metric's better direction."""
    rule = "PLAN-KPI-DIRECTION"
    allow_equal = bool(ctx.param(rule, "allow_equal"))
    registry = metric_registry.registry()
    out: list[Finding] = []
    for s in ctx.plan.schemes:
        for k, kpi in enumerate(s.kpis):
            defn = registry.get(kpi.metric)
            if defn is None or defn.direction == "neutral":
                continue
            higher = defn.direction == "higher_is_better"
            if kpi.target == kpi.baseline:
                if allow_equal:
                    continue
                worse = True
            else:
                worse = kpi.target < kpi.baseline if higher else kpi.target > kpi.baseline
            if worse:
                sign = ("≥" if higher else "≤") if allow_equal else (">" if higher else "<")
                out.append(
                    ctx.finding(
                        rule,
                        f"{_scheme_at(s)}.kpis[{k}].target",
                        f"target moves away from the better direction of {kpi.metric}"
                        f" ({defn.direction.replace('_', ' ')})",
                        number_text(kpi.target),
                        f"{sign} {number_text(kpi.baseline)}",
                    )
                )
    return out


@_rule("PLAN-KPI-RATIO")
def _kpi_ratio(ctx: _Context) -> list[Finding]:
    """A stated numerator and denominator give the baseline (within rounding).

    The value is computed as the metric defines it (:func:`flowplan.metrics.compute.compute`,
    default months for annual metrics); rounding is half a unit of the baseline's last written
    decimal place. Metrics whose months are not known (averages per month) and ``custom`` KPIs
    (no scale) are not recomputed.
    """
    out: list[Finding] = []
    registry = metric_registry.registry()
    for s in ctx.plan.schemes:
        for k, kpi in enumerate(s.kpis):
            if kpi.numerator is None or kpi.denominator is None:
                continue
            defn = registry.get(kpi.metric)
            if defn is None:
                continue
            at = f"{_scheme_at(s)}.kpis[{k}]"
            if kpi.denominator == 0:
                out.append(
                    ctx.finding(
                        "PLAN-KPI-RATIO", f"{at}.denominator", "denominator is 0", "0", "≠ 0"
                    )
                )
                continue
            try:
                value = compute(defn, kpi.numerator, kpi.denominator)
            except UsageError:  # months needed and not known
                continue
            if not rounds_to(value, kpi.baseline, decimal_places(kpi.baseline)):
                out.append(
                    ctx.finding(
                        "PLAN-KPI-RATIO",
                        f"{at}.baseline",
                        f"baseline is not numerator {number_text(kpi.numerator)} ÷ denominator"
                        f" {number_text(kpi.denominator)} as {kpi.metric} defines it",
                        number_text(kpi.baseline),
                        f"{value:.{max(decimal_places(kpi.baseline), 2)}f}",
                    )
                )
    return out


@_rule("PLAN-KPI-TRAJECTORY")
def _kpi_trajectory(ctx: _Context) -> list[Finding]:
    """Trajectory points are in date order, within the plan period, and end at the target."""
    rule = "PLAN-KPI-TRAJECTORY"
    plan = ctx.plan
    period = f"{plan.period_start.isoformat()}..{plan.period_end.isoformat()}"
    out: list[Finding] = []
    for s in plan.schemes:
        for k, kpi in enumerate(s.kpis):
            at = f"{_scheme_at(s)}.kpis[{k}]"
            points = kpi.trajectory
            for i, point in enumerate(points):
                if not plan.period_start <= point.date <= plan.period_end:
                    out.append(
                        ctx.finding(
                            rule,
                            f"{at}.trajectory[{i}].date",
                            "trajectory date is outside the plan period",
                            point.date.isoformat(),
                            period,
                        )
                    )
                elif i > 0 and point.date <= points[i - 1].date:
                    out.append(
                        ctx.finding(
                            rule,
                            f"{at}.trajectory[{i}].date",
                            "trajectory dates are not in order",
                            point.date.isoformat(),
                            f"> {points[i - 1].date.isoformat()}",
                        )
                    )
            if not points:
                continue
            last = len(points) - 1
            if points[last].date != kpi.target_date:
                out.append(
                    ctx.finding(
                        rule,
                        f"{at}.trajectory[{last}].date",
                        "trajectory does not end on the target date",
                        points[last].date.isoformat(),
                        kpi.target_date.isoformat(),
                    )
                )
            if not math.isclose(points[last].value, kpi.target, rel_tol=1e-9, abs_tol=1e-9):
                out.append(
                    ctx.finding(
                        rule,
                        f"{at}.trajectory[{last}].value",
                        "trajectory does not end at the target",
                        number_text(points[last].value),
                        number_text(kpi.target),
                    )
                )
    return out


# --- Rule 8: sign-off --------------------------------------------------------------------------


@_rule("PLAN-SIGNOFF-MISSING")
def _signoff_missing(ctx: _Context) -> list[Finding]:
    """Every signatory member has signed off a plan whose status needs sign-off."""
    rule = "PLAN-SIGNOFF-MISSING"
    plan = ctx.plan
    if str(plan.status) not in ctx.str_list_param(rule, "statuses"):
        return []
    signatories = [m for m in plan.members if m.signatory]
    signed = {s.org for s in plan.signoffs}
    missing = [m.code for m in signatories if m.code not in signed]
    if not missing:
        return []
    return [
        ctx.finding(
            rule,
            "signoffs",
            f"plan is {plan.status} but not signed off by {', '.join(missing)}",
            str(len(signatories) - len(missing)),
            str(len(signatories)),
        )
    ]


@_rule("PLAN-SIGNOFF-NOT-SIGNATORY")
def _signoff_not_signatory(ctx: _Context) -> list[Finding]:
    """A sign-off is by a signatory member of the plan."""
    signatories = {m.code for m in ctx.plan.members if m.signatory}
    members = {m.code for m in ctx.plan.members}
    out: list[Finding] = []
    for i, signoff in enumerate(ctx.plan.signoffs):
        if signoff.org in signatories:
            continue
        why = "a member that is not a signatory" if signoff.org in members else "not a member"
        out.append(
            ctx.finding(
                "PLAN-SIGNOFF-NOT-SIGNATORY",
                f"signoffs[{i}].org",
                f"sign-off by {signoff.org}, {why}",
                signoff.org,
                ", ".join(sorted(signatories)),
            )
        )
    return out


# --- Rule 9: locked years ----------------------------------------------------------------------


def _thousands(value: Decimal) -> str:
    return f"{value:,}"


_Change = tuple[str, str, str, str]
"""(location, what changed, value before, value now)."""


def _changed(location: str, what: str, before: object, after: object) -> _Change:
    return location, what, "none" if before is None else str(before), str(after)


def _money_text(value: Decimal | None) -> str:
    return "none" if value is None else format_money(value)


def _locked_changes(plan: Plan, previous: Plan, locked: set[str]) -> list[_Change]:
    """Every change to money in a locked year."""
    changes: list[_Change] = []
    for year in sorted(locked):
        now = [(i, f) for i, f in enumerate(plan.funding) if f.year == year]
        before = [f for f in previous.funding if f.year == year]
        for (i, line), old in zip(now, before, strict=False):
            for name in ("kind", "description", "amount_gbp", "recurrent"):
                a, b = getattr(old, name), getattr(line, name)
                if a != b:
                    shown = (_money_text(a), _money_text(b)) if name == "amount_gbp" else (a, b)
                    changes.append(_changed(f"funding[{i}].{name}", name, *shown))
        if len(now) != len(before):
            changes.append(_changed("funding", f"funding lines for {year}", len(before), len(now)))
        old_costs = {s.id: s.total_cost(year) for s in previous.schemes}
        for s in plan.schemes:
            new_cost = s.total_cost(year)
            old_cost = old_costs.get(s.id, Decimal(0))
            if new_cost != old_cost:
                index = next((j for j, c in enumerate(s.costs) if c.year == year), None)
                at = f"{_scheme_at(s)}.costs" + ("" if index is None else f"[{index}].amount_gbp")
                changes.append(
                    _changed(at, f"cost for {year}", format_money(old_cost), format_money(new_cost))
                )
        current_ids = {s.id for s in plan.schemes}
        for s in previous.schemes:
            if s.id not in current_ids and s.total_cost(year) != 0:
                changes.append(
                    _changed(
                        f"schemes[{s.id}]",
                        f"cost for {year}",
                        format_money(s.total_cost(year)),
                        "scheme removed",
                    )
                )
        old_rows = {(r.row, r.year): r for r in previous.financial_summary or [] if r.year == year}
        for i, row in enumerate(plan.financial_summary or []):
            if row.year != year:
                continue
            old_row = old_rows.get((row.row, row.year))
            for name in ("do_nothing", "solutions", "do_something"):
                a = None if old_row is None else getattr(old_row, name)
                b = getattr(row, name)
                if a != b:
                    changes.append(
                        _changed(
                            f"financial_summary[{i}].{name}",
                            f"{row.row} {name} (£000s)",
                            None if a is None else _thousands(a),
                            _thousands(b),
                        )
                    )
    if locked and set(plan.financial_years()) <= locked:
        old_totals = previous.stated_totals
        new_totals = plan.stated_totals
        for name in (
            "total_funding_gbp",
            "total_scheme_cost_gbp",
            "minimum_requirement_cost_gbp",
            "innovation_cost_gbp",
            "funding_gap_gbp",
        ):
            a = None if old_totals is None else getattr(old_totals, name)
            b = None if new_totals is None else getattr(new_totals, name)
            if a != b:
                changes.append(
                    _changed(f"stated_totals.{name}", name, _money_text(a), _money_text(b))
                )
    return changes


@_rule("PLAN-LOCKED-YEAR")
def _locked_years(ctx: _Context) -> list[Finding]:
    """After the lock deadline, money for a locked year equals the previous version's.

    Locked years are those either version lists; the deadline is the earlier of the two (no
    deadline = locked as soon as listed). Funding lines, scheme costs and financial summary rows
    of a locked year are compared; stated totals (which span the whole plan) are compared when
    every year of the plan period is locked.
    """
    plan, previous = ctx.plan, ctx.previous
    if previous is None:
        return []
    locked = set(plan.locked_years) | set(previous.locked_years)
    if not locked:
        return []
    deadlines = [d for d in (plan.lock_deadline, previous.lock_deadline) if d is not None]
    if deadlines and ctx.today <= min(deadlines):
        return []
    return [
        ctx.finding(
            "PLAN-LOCKED-YEAR",
            location,
            f"{what} changed in a locked year after the lock deadline (was {before})",
            now,
            before,
        )
        for location, what, before, now in _locked_changes(plan, previous, locked)
    ]


# --- Rule 10: STP financial summary ------------------------------------------------------------

_COLUMNS = ("do_nothing", "solutions", "do_something")


@_rule("PLAN-FIN-ROW")
def _financial_row(ctx: _Context) -> list[Finding]:
    """Each financial summary row: do something = do nothing + solutions (£000s)."""
    rule = "PLAN-FIN-ROW"
    tolerance = ctx.decimal_param(rule, "tolerance_thousands")
    return [
        ctx.finding(
            rule,
            f"financial_summary[{i}].do_something",
            f"{row.row}: do something is not do nothing + solutions (£000s)",
            _thousands(row.do_something),
            _thousands(row.do_nothing + row.solutions),
        )
        for i, row in enumerate(ctx.plan.financial_summary or [])
        if abs(row.do_something - (row.do_nothing + row.solutions)) > tolerance
    ]


@_rule("PLAN-FIN-TOTAL")
def _financial_total(ctx: _Context) -> list[Finding]:
    """Each sub-total row equals the sum of its component rows, column by column (£000s).

    Rows are grouped by ``year``; a sub-total is checked when it and all its components are
    present once in the group. The components are in ``rules.toml``.
    """
    rule = "PLAN-FIN-TOTAL"
    tolerance = ctx.decimal_param(rule, "tolerance_thousands")
    components = ctx.param(rule, "components")
    if not isinstance(components, dict):
        raise ValueError(f"{RULES_FILE}: rule {rule} params.components must be a table")
    rows = ctx.plan.financial_summary or []
    groups: dict[str | None, list[tuple[int, FinancialSummaryRow]]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.year, []).append((i, row))
    out: list[Finding] = []
    for group in groups.values():
        names = [str(r.row) for _, r in group]
        by_name = {str(r.row): (i, r) for i, r in group if names.count(str(r.row)) == 1}
        for total_name, parts in components.items():
            part_names = [str(p) for p in parts]
            if total_name not in by_name or not all(p in by_name for p in part_names):
                continue
            i, total_row = by_name[total_name]
            for column in _COLUMNS:
                expected = sum((getattr(by_name[p][1], column) for p in part_names), Decimal(0))
                stated: Decimal = getattr(total_row, column)
                if abs(stated - expected) > tolerance:
                    out.append(
                        ctx.finding(
                            rule,
                            f"financial_summary[{i}].{column}",
                            f"{total_name} is not {' + '.join(part_names)} (£000s)",
                            _thousands(stated),
                            _thousands(expected),
                        )
                    )
    return out


# --- Rule 11: risks ----------------------------------------------------------------------------


@_rule("PLAN-RISK-RED")
def _red_risks(ctx: _Context) -> list[Finding]:
    """Every red risk (score = likelihood × impact, banded by the risk matrix) has an owner and a
    mitigation."""
    rule = "PLAN-RISK-RED"
    rags = ctx.str_list_param(rule, "rag")
    out: list[Finding] = []
    for r in ctx.plan.risks:
        if r.rag not in rags:
            continue
        for name in ("owner", "mitigation"):
            if not str(getattr(r, name)).strip():
                out.append(
                    ctx.finding(
                        rule,
                        f"risks[{r.id}].{name}",
                        f"{r.rag} risk (score {r.score} = {r.likelihood} × {r.impact}) has no"
                        f" {name}",
                    )
                )
    return out


# --- Engine ------------------------------------------------------------------------------------


def _totals(plan: Plan, of: Callable[[str | None], Decimal]) -> YearTotals:
    return YearTotals({year: of(year) for year in _years_of(plan)}, of(None))


def _coverage(plan: Plan) -> dict[str, list[str]]:
    try:
        ids = reqs.requirement_set(plan.type, plan.requirements_version).ids()
    except UsageError:
        ids = []
    cited = [rid for s in plan.schemes for rid in s.requirements]
    ordered = ids + [rid for rid in dict.fromkeys(cited) if rid not in ids]
    return {rid: [s.id for s in plan.schemes if rid in s.requirements] for rid in ordered}


def check_plan(
    plan: Plan,
    *,
    previous: Plan | None = None,
    today: date | None = None,
    catalogue: RuleCatalogue | None = None,
    rules: Sequence[str] | None = None,
) -> CheckReport:
    """Run the assurance rules on a plan.

    Args:
        plan: the plan to check (normally loaded with ``load_plan``, so integrity holds).
        previous: the previous version of the plan, for the locked-years rule.
        today: the date the check is made (default: today), for the locked-years rule.
        catalogue: the rule catalogue (default: the packaged ``rules.toml``).
        rules: ids of the rules to run (default: all, in catalogue order).

    Returns:
        The findings and computed figures.

    Raises:
        ValueError: the catalogue and the registered rule functions disagree, or an unknown rule
            id is asked for.
    """
    used = catalogue if catalogue is not None else rule_catalogue()
    ids = used.ids()
    if set(ids) != set(RULES):
        missing = sorted(set(RULES) - set(ids))
        extra = sorted(set(ids) - set(RULES))
        raise ValueError(
            f"rule catalogue {used.version} does not match the rule functions"
            f" (no catalogue entry: {', '.join(missing) or 'none'};"
            f" no function: {', '.join(extra) or 'none'})"
        )
    wanted = ids if rules is None else list(rules)
    unknown = [r for r in wanted if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule id(s): {', '.join(unknown)}")
    programme = schedule_programme(plan.milestones, plan.period_start)
    schedule, cycle, start = programme.schedule, programme.cycle, programme.start
    ctx = _Context(
        plan=plan,
        previous=previous,
        today=date.today() if today is None else today,
        catalogue=used,
        schedule=schedule,
        cycle=cycle,
        programme_start=start,
    )
    findings = [f for rule_id in wanted for f in RULES[rule_id](ctx)]
    if rules is None:  # a full check also runs the plan's extensions (finance, BCF, ...)
        findings += extension_findings(plan, ctx.today)
    return CheckReport(
        plan_id=plan.id,
        catalogue_version=used.version,
        findings=findings,
        funding_total=_totals(plan, plan.total_funding),
        scheme_cost_total=_totals(plan, lambda y: plan.total_scheme_cost(y)),
        funding_gap=_totals(plan, plan.funding_gap),
        critical_path=schedule,
        programme_start=start if schedule is not None else None,
        coverage=_coverage(plan),
    )


_SEVERITY_STYLE = {Severity.error: "bold red", Severity.warning: "yellow", Severity.info: "cyan"}


def render_findings_table(report: CheckReport) -> Table:
    """The report's findings as a rich table (rule, severity, location, message, stated,
    expected), titled with the plan id and the counts by severity."""
    counts = count_by_severity(report.findings)
    summary = ", ".join(f"{n} {severity}" for severity, n in counts.items())
    verdict = "passed" if report.passed else "FAILED"
    table = Table(title=f"Plan {report.plan_id}: {verdict} ({summary})")
    for name in ("rule", "severity", "location", "message", "stated", "expected"):
        table.add_column(name, overflow="fold")
    for f in report.findings:
        table.add_row(
            Text(f.rule),
            Text(str(f.severity), style=_SEVERITY_STYLE[f.severity]),
            Text(f.location),
            Text(f.message),
            Text(f.stated),
            Text(f.expected),
        )
    return table
