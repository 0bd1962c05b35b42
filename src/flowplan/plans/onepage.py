"""Plan on a page: one board-quality page (HTML and PDF) summarising a plan.

The page holds what NHS England asked a "plan on a page" to show (seed
``stp_plans_on_a_page_2016``; DOMAIN.md §2.3): the footprint and its leads, the priorities with
the initiatives that deliver them, the KPIs (baseline → target, with the trajectory), the money
(funding by kind, scheme cost, the funding gap, and the STP summary financial analysis when the
plan has one), the top risks and the critical path of the milestones.

The work is split into pure pieces and one writer:

* :func:`onepage_content` turns a :class:`~flowplan.plans.model.Plan` into a :class:`OnePage`,
  a plain dataclass of everything shown, with the text already formatted; both renderings read
  only it, so they always agree;
* :func:`critical_path_chart` draws the milestones as a Gantt chart from the critical path
  method's timings (matplotlib object API on an Agg canvas, no pyplot state);
* :func:`build_pdf` lays the content out on A4 landscape with fpdf2 (DejaVu Sans, shipped with
  matplotlib, is embedded so "£", "→" and "—" print);
* :func:`render_onepage` writes ``<plan id>-onepage.html`` (self-contained: the chart is an
  embedded PNG, the KPI sparklines inline SVG), ``<plan id>-critical-path.png`` and, unless told
  not to, ``<plan id>-onepage.pdf``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Final, Literal

import matplotlib
import matplotlib.dates as mdates
from fpdf import FPDF
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flowplan.metrics import registry as metric_registry
from flowplan.plans.critical_path import schedule_programme
from flowplan.plans.model import (
    FinancialSummaryLine,
    FundingKind,
    Kpi,
    Plan,
    PlanType,
    Risk,
    Scheme,
    SchemeSection,
)
from flowplan.plans.money import format_money
from flowplan.reports import figure_png, output_folder, png_base64
from flowplan.reports import template as report_template

__all__ = [
    "CRITICAL_COLOUR",
    "NON_CRITICAL_COLOUR",
    "SLACK_COLOUR",
    "TOP_RISKS",
    "CriticalPathBlock",
    "EnablerItem",
    "FundingRow",
    "Initiative",
    "KpiRow",
    "MilestoneRow",
    "MoneyBlock",
    "OnePage",
    "OnePageHeader",
    "OnePageResult",
    "PdfDocument",
    "PriorityItem",
    "RiskRow",
    "SummaryRow",
    "YearMoney",
    "build_pdf",
    "critical_path_chart",
    "onepage_content",
    "pdf_page_count",
    "render_html",
    "render_onepage",
    "sparkline_points",
    "top_risks",
]

TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME: Final = "onepage.html.j2"

TOP_RISKS: Final = 5
"""How many risks the page shows (red first, then by score)."""

NHS_BLUE: Final = "#005EB8"
DARK_BLUE: Final = "#003087"
TEXT_COLOUR: Final = "#212B32"
GREY: Final = "#768692"
CRITICAL_COLOUR: Final = "#DA291C"
"""Bars of milestones on the critical path (zero slack)."""
NON_CRITICAL_COLOUR: Final = NHS_BLUE
"""Bars of milestones with slack."""
SLACK_COLOUR: Final = "#A9C8EA"
"""The lighter tail after a bar: how far the milestone can slip without delaying the end."""
RAG_COLOURS: Final = {"red": "#DA291C", "amber": "#ED8B00", "green": "#009639"}

CHART_WIDTH_IN: Final = 4.0
"""Width of the critical-path chart: drawn at the size it prints at in the PDF."""
_CHART_ROW_IN: Final = 0.16
_CHART_FIXED_IN: Final = 0.85
_CHART_DPI: Final = 220

PLAN_TYPE_LABELS: Final = {
    PlanType.resilience_capacity: "Operational resilience and capacity plan",
    PlanType.operational: "Operational plan (2 years)",
    PlanType.strategic: "Strategic plan (5 years)",
    PlanType.stp_on_a_page: "STP plan on a page",
    PlanType.bcf: "Better Care Fund plan",
}
FUNDING_LABELS: Final = {
    FundingKind.central_resilience: "Central resilience funding",
    FundingKind.marginal_tariff: "Marginal rate emergency tariff reinvestment",
    FundingKind.other_local: "Other local funding",
    FundingKind.bcf_pooled: "Better Care Fund pooled budget",
    FundingKind.ccg_allocation: "CCG allocation",
    FundingKind.council: "Local authority contribution",
    FundingKind.stf: "Sustainability and Transformation Fund",
    FundingKind.other: "Other funding",
}
SUMMARY_LABELS: Final = {
    FinancialSummaryLine.commissioner: "Commissioner surplus / (deficit)",
    FinancialSummaryLine.provider: "Provider surplus / (deficit)",
    FinancialSummaryLine.footprint_nhs: "Footprint NHS surplus / (deficit)",
    FinancialSummaryLine.stf_allocation: "Indicative STF allocation",
    FinancialSummaryLine.after_stf: "Surplus / (deficit) after STF allocation",
    FinancialSummaryLine.social_care: "Social care surplus / (deficit)",
    FinancialSummaryLine.total: "Total surplus / (deficit)",
}
_RAG_ORDER: Final = {"red": 0, "amber": 1, "green": 2}

GapState = Literal["shortfall", "surplus", "balanced"]


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnePageHeader:
    """The title block.

    Attributes:
        title: plan title.
        plan_id: plan id (slug).
        plan_type: plan type in words.
        footprint: footprint code.
        period: plan period in words ("1 Apr 2015 – 31 Mar 2016").
        financial_years: the financial years the period touches.
        population: footprint population ("1,700,000"), or "" when not stated.
        lead_commissioner: lead commissioner "NAME (CODE)", or "".
        lead_provider: lead provider "NAME (CODE)", or "".
        members: member organisation names, in plan order.
        status: workflow status.
        version: document version.
    """

    title: str
    plan_id: str
    plan_type: str
    footprint: str
    period: str
    financial_years: tuple[str, ...]
    population: str
    lead_commissioner: str
    lead_provider: str
    members: tuple[str, ...]
    status: str
    version: int


@dataclass(frozen=True)
class Initiative:
    """A scheme as a priority lists it.

    Attributes:
        id: scheme id.
        title: scheme title ("(not a scheme of this plan)" for an unknown id).
        lead: lead officer's name, or "".
        cost_gbp: total cost over the plan.
        cost: the cost as text.
    """

    id: str
    title: str
    lead: str
    cost_gbp: Decimal
    cost: str


@dataclass(frozen=True)
class PriorityItem:
    """One priority with the initiatives that deliver it.

    Attributes:
        id: ``P1``...
        title: short title.
        description: the priority in full.
        initiatives: its initiatives, in the plan's order.
        cost: total cost of its initiatives, as text.
    """

    id: str
    title: str
    description: str
    initiatives: tuple[Initiative, ...]
    cost: str


@dataclass(frozen=True)
class EnablerItem:
    """A transformational enabler.

    Attributes:
        id: enabler id.
        title: short title.
        description: the enabler in full.
        initiatives: ids of the schemes that deliver it.
    """

    id: str
    title: str
    description: str
    initiatives: tuple[str, ...]


@dataclass(frozen=True)
class KpiRow:
    """One KPI of one scheme.

    Attributes:
        scheme_id: the scheme it measures.
        scheme_title: that scheme's title.
        priority_ids: the priorities whose initiatives include the scheme.
        metric: registry metric id (or ``custom``).
        name: metric name (a custom KPI's description).
        unit: unit of the values.
        baseline: baseline value.
        target: target value.
        baseline_text: baseline with its unit where short ("95.1%").
        target_text: target likewise.
        target_date: when the target is due.
        target_date_text: that date as "Mar 2016".
        trajectory: (date, value) points from the baseline to the target, in date order
            (the baseline, the planned points, then the target when no point falls on its date).
        direction: the registry's direction (``higher_is_better``, ``lower_is_better``,
            ``neutral``; ``neutral`` for a custom KPI).
        improving: whether the target is better than the baseline in that direction (None when
            the direction is neutral).
        sparkline: SVG polyline points of the trajectory in a ``SPARK_W`` × ``SPARK_H`` box.
    """

    scheme_id: str
    scheme_title: str
    priority_ids: tuple[str, ...]
    metric: str
    name: str
    unit: str
    baseline: float
    target: float
    baseline_text: str
    target_text: str
    target_date: date
    target_date_text: str
    trajectory: tuple[tuple[date, float], ...]
    direction: str
    improving: bool | None
    sparkline: str


@dataclass(frozen=True)
class FundingRow:
    """Funding of one kind (its lines added up).

    Attributes:
        kind: the funding kind.
        label: the kind in words.
        amount_gbp: sum of its lines.
        amount: the sum as text.
        lines: how many funding lines it adds up.
    """

    kind: FundingKind
    label: str
    amount_gbp: Decimal
    amount: str
    lines: int


@dataclass(frozen=True)
class YearMoney:
    """Funding, cost and gap in one financial year.

    Attributes:
        year: financial year.
        funding: funding as text.
        cost: scheme cost as text.
        gap: cost − funding as text (negative = surplus).
    """

    year: str
    funding: str
    cost: str
    gap: str


@dataclass(frozen=True)
class SummaryRow:
    """A row of the STP summary financial analysis, in £000s.

    Attributes:
        line: which row.
        label: the row in words.
        do_nothing: do-nothing surplus/(deficit) as text.
        solutions: solutions as text.
        do_something: do-something surplus/(deficit) as text.
    """

    line: FinancialSummaryLine
    label: str
    do_nothing: str
    solutions: str
    do_something: str


@dataclass(frozen=True)
class MoneyBlock:
    """The money on the page.

    Attributes:
        funding: funding by kind, in order of first appearance.
        total_funding_gbp: total funding.
        total_funding: it as text.
        scheme_cost_gbp: total scheme cost.
        scheme_cost: it as text.
        minimum_cost: cost of the minimum-requirement schemes as text.
        innovation_cost: cost of the innovation schemes as text.
        gap_gbp: scheme cost − funding (positive = shortfall).
        gap: the size of the gap as text (no sign).
        gap_state: ``shortfall``, ``surplus`` or ``balanced``.
        years: funding, cost and gap by year (only when the money spans more than one year).
        summary: the STP summary financial analysis rows, or None.
        summary_year: the year that summary is for, or "".
        notes: stated totals that disagree with the computed ones, in words.
    """

    funding: tuple[FundingRow, ...]
    total_funding_gbp: Decimal
    total_funding: str
    scheme_cost_gbp: Decimal
    scheme_cost: str
    minimum_cost: str
    innovation_cost: str
    gap_gbp: Decimal
    gap: str
    gap_state: GapState
    years: tuple[YearMoney, ...]
    summary: tuple[SummaryRow, ...] | None
    summary_year: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RiskRow:
    """A risk as the page shows it.

    Attributes:
        id: risk id.
        description: the risk.
        likelihood: 1..5.
        impact: 1..5.
        score: likelihood × impact.
        rag: red, amber or green.
        grading: NPSA grading.
        owner: owner.
        mitigation: mitigating actions.
    """

    id: str
    description: str
    likelihood: int
    impact: int
    score: int
    rag: str
    grading: str
    owner: str
    mitigation: str


@dataclass(frozen=True)
class MilestoneRow:
    """One milestone scheduled by the critical path method.

    Attributes:
        id: milestone id.
        title: what is delivered.
        scheme: scheme id, or "".
        owner: owner, or "".
        duration_days: its duration.
        start: earliest start date.
        finish: earliest finish date.
        latest_finish: latest finish date that does not delay the programme.
        slack_days: days it can slip.
        critical: on a critical path (zero slack).
        due: planned date, when fixed.
        late: its earliest finish is after its due date.
        start_text: earliest start as "15 Apr 2015".
        finish_text: earliest finish likewise.
    """

    id: str
    title: str
    scheme: str
    owner: str
    duration_days: int
    start: date
    finish: date
    latest_finish: date
    slack_days: int
    critical: bool
    due: date | None
    late: bool
    start_text: str
    finish_text: str


@dataclass(frozen=True)
class CriticalPathBlock:
    """The critical path of the plan's milestones.

    Attributes:
        start: programme start: day 0 of the schedule (see `schedule_programme`).
        finish: earliest date the last milestone can be reached.
        duration_days: programme length in days.
        path: ids of one critical chain, first to last.
        rows: every milestone, by earliest start then id.
        note: why there is no schedule (no milestones, a cycle...), or "".
    """

    start: date
    finish: date
    duration_days: int
    path: tuple[str, ...]
    rows: tuple[MilestoneRow, ...]
    note: str = ""

    @property
    def critical_rows(self) -> tuple[MilestoneRow, ...]:
        """The milestones with zero slack."""
        return tuple(r for r in self.rows if r.critical)

    @property
    def late_rows(self) -> tuple[MilestoneRow, ...]:
        """The milestones that cannot be reached by their due date."""
        return tuple(r for r in self.rows if r.late)


@dataclass(frozen=True)
class OnePage:
    """Everything the plan on a page shows, formatted.

    Attributes:
        header: the title block.
        priorities: priorities with their initiatives.
        enablers: transformational enablers.
        kpis: every KPI of every scheme, in scheme order.
        money: the money block.
        risks: the top risks (red first, then by score, then id; at most ``TOP_RISKS``).
        risk_count: how many risks the register holds.
        risk_rag_counts: risks by RAG (``red``, ``amber``, ``green``).
        critical_path: the schedule of the milestones.
    """

    header: OnePageHeader
    priorities: tuple[PriorityItem, ...]
    enablers: tuple[EnablerItem, ...]
    kpis: tuple[KpiRow, ...]
    money: MoneyBlock
    risks: tuple[RiskRow, ...]
    risk_count: int
    risk_rag_counts: dict[str, int] = field(default_factory=dict)
    critical_path: CriticalPathBlock | None = None


def onepage_content(plan: Plan) -> OnePage:
    """Everything the plan on a page shows, computed from the plan.

    Args:
        plan: the plan.

    Returns:
        The page's content, with numbers and their text.
    """
    rag_counts = {"red": 0, "amber": 0, "green": 0}
    for risk in plan.risks:
        rag_counts[risk.rag] += 1
    return OnePage(
        header=_header(plan),
        priorities=tuple(_priority(plan, p.id) for p in plan.priorities),
        enablers=tuple(
            EnablerItem(e.id, e.title, e.description, tuple(e.initiatives)) for e in plan.enablers
        ),
        kpis=tuple(_kpi_row(plan, s, k) for s in plan.schemes for k in s.kpis),
        money=_money(plan),
        risks=tuple(_risk_row(r) for r in top_risks(plan.risks)),
        risk_count=len(plan.risks),
        risk_rag_counts=rag_counts,
        critical_path=_critical_path_block(plan),
    )


def top_risks(risks: Sequence[Risk], limit: int = TOP_RISKS) -> list[Risk]:
    """The risks to show: red first, then amber, then green; by score (highest first), then id.

    Args:
        risks: the register.
        limit: how many to keep.

    Returns:
        At most ``limit`` risks, in that order.
    """
    ordered = sorted(risks, key=lambda r: (_RAG_ORDER[r.rag], -r.score, r.id))
    return ordered[:limit]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _header(plan: Plan) -> OnePageHeader:
    def org(code: str | None) -> str:
        if code is None:
            return ""
        member = plan.member(code)
        return f"{member.name} ({code})" if member else code

    return OnePageHeader(
        title=plan.title,
        plan_id=plan.id,
        plan_type=PLAN_TYPE_LABELS[plan.type],
        footprint=plan.footprint,
        period=f"{_day(plan.period_start)} – {_day(plan.period_end)}",
        financial_years=tuple(plan.financial_years()),
        population=f"{plan.population:,}" if plan.population is not None else "",
        lead_commissioner=org(plan.lead_commissioner),
        lead_provider=org(plan.lead_provider),
        members=tuple(m.name for m in plan.members),
        status=plan.status.value.replace("_", " "),
        version=plan.version,
    )


def _priority(plan: Plan, priority_id: str) -> PriorityItem:
    priority = next(p for p in plan.priorities if p.id == priority_id)
    initiatives = []
    for scheme_id in priority.initiatives:
        scheme = plan.scheme(scheme_id)
        if scheme is None:
            initiatives.append(
                Initiative(scheme_id, "(not a scheme of this plan)", "", Decimal(0), "")
            )
            continue
        cost = scheme.total_cost()
        initiatives.append(
            Initiative(scheme.id, scheme.title, scheme.lead.name, cost, format_money(cost))
        )
    total = sum((i.cost_gbp for i in initiatives), Decimal(0))
    return PriorityItem(
        priority.id, priority.title, priority.description, tuple(initiatives), format_money(total)
    )


# --- KPIs ---------------------------------------------------------------------------------------

SPARK_W: Final = 72.0
"""Width of a KPI sparkline (SVG user units; PDF millimetres are scaled from it)."""
SPARK_H: Final = 16.0
"""Height of a KPI sparkline."""


def _number(value: float) -> str:
    """A KPI value: thousands separators, at most two decimals, no trailing zeros."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _with_unit(value: float, unit: str) -> str:
    return f"{_number(value)}%" if unit == "%" else _number(value)


def sparkline_points(
    points: Sequence[tuple[date, float]], width: float = SPARK_W, height: float = SPARK_H
) -> str:
    """SVG ``points`` of a sparkline: x by date, y by value (higher values drawn higher).

    Args:
        points: (date, value) in date order; fewer than two give "".
        width: box width.
        height: box height.

    Returns:
        ``"x,y x,y ..."`` with one decimal, inside a 1.5-unit margin.
    """
    if len(points) < 2:
        return ""
    pad = 1.5
    first, last = points[0][0], points[-1][0]
    span_days = (last - first).days or 1
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span_values = (high - low) or 1.0
    out = []
    for day, value in points:
        x = pad + (width - 2 * pad) * (day - first).days / span_days
        y = height - pad - (height - 2 * pad) * (value - low) / span_values
        if high == low:
            y = height / 2
        out.append(f"{x:.1f},{y:.1f}")
    return " ".join(out)


def _kpi_row(plan: Plan, scheme: Scheme, kpi: Kpi) -> KpiRow:
    definition = metric_registry.registry().get(kpi.metric)
    if definition is not None:
        name, unit, direction = definition.name, definition.unit, str(definition.direction)
    else:
        name = kpi.description or kpi.metric
        unit = kpi.unit or ""
        direction = "neutral"
    points: dict[date, float] = {kpi.baseline_date or plan.period_start: kpi.baseline}
    for point in kpi.trajectory:
        points[point.date] = point.value
    points.setdefault(kpi.target_date, kpi.target)
    trajectory = tuple(sorted(points.items()))
    improving: bool | None = None
    if direction == "higher_is_better":
        improving = kpi.target > kpi.baseline
    elif direction == "lower_is_better":
        improving = kpi.target < kpi.baseline
    return KpiRow(
        scheme_id=scheme.id,
        scheme_title=scheme.title,
        priority_ids=tuple(p.id for p in plan.priorities if scheme.id in p.initiatives),
        metric=kpi.metric,
        name=name,
        unit=unit,
        baseline=kpi.baseline,
        target=kpi.target,
        baseline_text=_with_unit(kpi.baseline, unit),
        target_text=_with_unit(kpi.target, unit),
        target_date=kpi.target_date,
        target_date_text=f"{kpi.target_date:%b %Y}",
        trajectory=trajectory,
        direction=direction,
        improving=improving,
        sparkline=sparkline_points(trajectory),
    )


# --- Money --------------------------------------------------------------------------------------


def _thousands(value: Decimal) -> str:
    """£000s as the STP template writes them: ``1,234``, ``(1,234)`` for a deficit, ``–`` for 0."""
    if value == 0:
        return "–"
    text = f"{abs(value):,.0f}" if value == value.to_integral_value() else f"{abs(value):,.1f}"
    return f"({text})" if value < 0 else text


def _money(plan: Plan) -> MoneyBlock:
    by_kind: dict[FundingKind, list[Decimal]] = {}
    for line in plan.funding:
        by_kind.setdefault(line.kind, []).append(line.amount_gbp)
    funding = tuple(
        FundingRow(kind, FUNDING_LABELS[kind], sum(v, Decimal(0)), format_money(sum(v)), len(v))
        for kind, v in by_kind.items()
    )
    total_funding, cost, gap = plan.total_funding(), plan.total_scheme_cost(), plan.funding_gap()
    state: GapState = "shortfall" if gap > 0 else "surplus" if gap < 0 else "balanced"
    years_used = sorted(
        {f.year for f in plan.funding} | {c.year for s in plan.schemes for c in s.costs}
    )
    years = (
        tuple(
            YearMoney(
                y,
                format_money(plan.total_funding(y)),
                format_money(plan.total_scheme_cost(y)),
                format_money(plan.funding_gap(y)),
            )
            for y in years_used
        )
        if len(years_used) > 1
        else ()
    )
    summary: tuple[SummaryRow, ...] | None = None
    summary_year = ""
    if plan.financial_summary:
        summary = tuple(
            SummaryRow(
                r.row,
                SUMMARY_LABELS[r.row],
                _thousands(r.do_nothing),
                _thousands(r.solutions),
                _thousands(r.do_something),
            )
            for r in plan.financial_summary
        )
        summary_year = next((r.year for r in plan.financial_summary if r.year), "") or ""
    return MoneyBlock(
        funding=funding,
        total_funding_gbp=total_funding,
        total_funding=format_money(total_funding),
        scheme_cost_gbp=cost,
        scheme_cost=format_money(cost),
        minimum_cost=format_money(plan.total_scheme_cost(section=SchemeSection.minimum)),
        innovation_cost=format_money(plan.total_scheme_cost(section=SchemeSection.innovation)),
        gap_gbp=gap,
        gap=format_money(abs(gap)),
        gap_state=state,
        years=years,
        summary=summary,
        summary_year=summary_year,
        notes=tuple(_stated_notes(plan)),
    )


def _stated_notes(plan: Plan) -> list[str]:
    stated = plan.stated_totals
    if stated is None:
        return []
    checks = (
        ("total funding", stated.total_funding_gbp, plan.total_funding()),
        ("total scheme cost", stated.total_scheme_cost_gbp, plan.total_scheme_cost()),
        ("funding gap", stated.funding_gap_gbp, plan.funding_gap()),
    )
    return [
        f"The plan states {name} {format_money(given)}; its rows add up to {format_money(sum_)}."
        for name, given, sum_ in checks
        if given is not None and given != sum_
    ]


# --- Risks and milestones -----------------------------------------------------------------------


def _risk_row(risk: Risk) -> RiskRow:
    return RiskRow(
        id=risk.id,
        description=risk.description,
        likelihood=risk.likelihood,
        impact=risk.impact,
        score=risk.score,
        rag=risk.rag,
        grading=risk.grading,
        owner=risk.owner,
        mitigation=risk.mitigation,
    )


def _critical_path_block(plan: Plan) -> CriticalPathBlock:
    programme = schedule_programme(plan.milestones, plan.period_start)
    schedule, start = programme.schedule, programme.start
    if schedule is None or start is None:
        return CriticalPathBlock(plan.period_start, plan.period_start, 0, (), (), programme.note)
    milestones = {m.id: m for m in plan.milestones}
    rows = []
    for timing in sorted(schedule.timings, key=lambda t: (t.earliest_start, t.id)):
        milestone = milestones[timing.id]
        begin = start + timedelta(days=timing.earliest_start)
        finish = start + timedelta(days=timing.earliest_finish)
        rows.append(
            MilestoneRow(
                id=timing.id,
                title=milestone.title,
                scheme=milestone.scheme or "",
                owner=milestone.owner or "",
                duration_days=timing.duration,
                start=begin,
                finish=finish,
                latest_finish=start + timedelta(days=timing.latest_finish),
                slack_days=timing.slack,
                critical=timing.critical,
                due=milestone.due,
                late=milestone.due is not None and finish > milestone.due,
                start_text=_day(begin),
                finish_text=_day(finish),
            )
        )
    return CriticalPathBlock(
        start=start,
        finish=start + timedelta(days=schedule.duration),
        duration_days=schedule.duration,
        path=schedule.critical_path,
        rows=tuple(rows),
    )


# --------------------------------------------------------------------------------------------
# Chart
# --------------------------------------------------------------------------------------------


_MDATES: Any = mdates  # matplotlib.dates is not fully typed


def _date2num(day: date) -> float:
    """Matplotlib's date number of a day."""
    return float(_MDATES.date2num(day))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def critical_path_chart(plan: Plan, *, width_in: float = CHART_WIDTH_IN) -> Figure:
    """A Gantt chart of the plan's milestones from their critical-path timings.

    One bar per milestone (its ``gid`` is ``milestone:<id>``) from its earliest start for its
    duration, in ``CRITICAL_COLOUR`` when it has no slack and ``NON_CRITICAL_COLOUR`` when it
    has; the slack follows as a lighter tail (``gid`` ``slack:<id>``). Zero-duration gates are
    also marked with a diamond, fixed due dates with a small triangle. The x axis is in dates,
    day 0 being the programme start; a dashed line marks the programme's earliest finish.

    Args:
        plan: the plan.
        width_in: figure width in inches (the height follows the number of milestones).

    Returns:
        The figure (on an Agg canvas). Without a schedule (no milestones, or a dependency
        cycle) it holds only a note saying why.
    """
    block = _critical_path_block(plan)
    rows = block.rows
    height = _CHART_FIXED_IN + _CHART_ROW_IN * max(len(rows), 3)
    figure = Figure(figsize=(width_in, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    if not rows:
        axis.set_axis_off()
        axis.text(0.5, 0.5, block.note, ha="center", va="center", fontsize=8, color=GREY)
        return figure
    origin = _date2num(block.start)
    ys = list(range(len(rows)))
    colours = [CRITICAL_COLOUR if r.critical else NON_CRITICAL_COLOUR for r in rows]
    lefts = [_date2num(r.start) for r in rows]
    bars = axis.barh(
        ys, [r.duration_days for r in rows], left=lefts, height=0.6, color=colours, zorder=3
    )
    for patch, row in zip(bars.patches, rows, strict=True):
        patch.set_gid(f"milestone:{row.id}")
    slack_rows = [(y, r) for y, r in zip(ys, rows, strict=True) if r.slack_days > 0]
    if slack_rows:
        tails = axis.barh(
            [y for y, _ in slack_rows],
            [r.slack_days for _, r in slack_rows],
            left=[_date2num(r.finish) for _, r in slack_rows],
            height=0.6,
            color=SLACK_COLOUR,
            zorder=2,
        )
        for patch, (_, row) in zip(tails.patches, slack_rows, strict=True):
            patch.set_gid(f"slack:{row.id}")
    for y, row in zip(ys, rows, strict=True):
        if row.duration_days == 0:
            axis.plot(
                _date2num(row.start),
                y,
                marker="D",
                markersize=4,
                color=CRITICAL_COLOUR if row.critical else NON_CRITICAL_COLOUR,
                zorder=4,
            )
        if row.due is not None:
            axis.plot(
                _date2num(row.due),
                y - 0.36,
                marker="v",
                markersize=3.5,
                color=CRITICAL_COLOUR if row.late else TEXT_COLOUR,
                zorder=4,
            )
    finish = _date2num(block.finish)
    axis.axvline(finish, color=GREY, linestyle="--", linewidth=0.8, zorder=1)
    axis.set_yticks(ys, [_clip(f"{r.id} {r.title}", 34) for r in rows], fontsize=5.5)
    for label, row in zip(axis.get_yticklabels(), rows, strict=True):
        if row.critical:
            label.set_color(CRITICAL_COLOUR)
            label.set_fontweight("bold")
    axis.invert_yaxis()
    latest = max(_date2num(r.latest_finish) for r in rows)
    dues = [_date2num(r.due) for r in rows if r.due is not None]
    axis.set_xlim(origin - 3, max([latest, finish, *dues]) + 8)
    locator = _MDATES.MonthLocator()
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(_MDATES.ConciseDateFormatter(locator))
    axis.tick_params(axis="x", labelsize=5.5)
    axis.xaxis.get_offset_text().set_fontsize(5.5)
    axis.tick_params(axis="y", length=0)
    axis.grid(axis="x", alpha=0.3, zorder=0)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    axis.set_title(
        f"Critical path {' → '.join(block.path)}\n{block.duration_days} days from "
        f"{_day(block.start)}; earliest finish {_day(block.finish)}",
        loc="left",
        fontsize=6.5,
        color=DARK_BLUE,
    )
    handles = [
        Patch(color=CRITICAL_COLOUR, label="critical"),
        Patch(color=NON_CRITICAL_COLOUR, label="has slack"),
        Patch(color=SLACK_COLOUR, label="slack"),
        Line2D([], [], marker="v", linestyle="", color=TEXT_COLOUR, markersize=3.5, label="due"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=5.5, frameon=False)
    return figure


def _png(figure: Figure) -> bytes:
    return figure_png(figure, dpi=_CHART_DPI)


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

_PAGE_W: Final = 297.0
_PAGE_H: Final = 210.0
_MARGIN: Final = 8.0
_BOTTOM: Final = _PAGE_H - _MARGIN
_LEFT_W: Final = 92.0
_GUTTER: Final = 4.0
_RIGHT_X: Final = _MARGIN + _LEFT_W + _GUTTER
_RIGHT_W: Final = _PAGE_W - _MARGIN - _RIGHT_X
_RISK_W: Final = 80.0
_KPI_ROW_H: Final = 3.25
_CHART_MIN_H: Final = 55.0
_LINE_H: Final = 3.0
_FONT: Final = "DejaVu"
_FONT_DIR: Final = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass(frozen=True)
class PdfDocument:
    """A rendered PDF.

    Attributes:
        data: the PDF file's bytes.
        pages: number of pages.
        text: every piece of text drawn, in drawing order (the PDF stores glyph ids, not text).
    """

    data: bytes
    pages: int
    text: tuple[str, ...]


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class _Pdf:
    """A thin drawing layer over ``fpdf.FPDF`` that records the text it draws."""

    def __init__(self, *, compress: bool) -> None:
        self.doc: Any = FPDF(orientation="L", unit="mm", format="A4")
        self.doc.compress = compress
        self.doc.set_auto_page_break(False)
        self.doc.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.doc.c_margin = 0.6
        self.doc.add_font(_FONT, "", str(_FONT_DIR / "DejaVuSans.ttf"))
        self.doc.add_font(_FONT, "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.drawn: list[str] = []
        self.dry = False
        """When true, nothing is drawn: layout functions only measure."""

    def font(self, size: float, *, bold: bool = False, colour: str = TEXT_COLOUR) -> None:
        self.doc.set_font(_FONT, "B" if bold else "", size)
        self.doc.set_text_color(*_rgb(colour))

    def width(self, text: str) -> float:
        return float(self.doc.get_string_width(text))

    def fit(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to fit ``width`` (less the cell padding)."""
        room = width - 2 * self.doc.c_margin
        if self.width(text) <= room:
            return text
        while text and self.width(text + "…") > room:
            text = text[:-1]
        return text.rstrip() + "…"

    def wrap(self, text: str, width: float, max_lines: int) -> list[str]:
        """``text`` split into at most ``max_lines`` lines that fit ``width``."""
        room = width - 2 * self.doc.c_margin
        lines: list[str] = []
        line = ""
        for word in text.split():
            candidate = f"{line} {word}".strip()
            if line and self.width(candidate) > room:
                lines.append(line)
                line = word
            else:
                line = candidate
        if line:
            lines.append(line)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = self.fit(lines[-1] + " …", width)
        return lines

    def text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        *,
        align: str = "L",
        fill: str | None = None,
    ) -> None:
        if self.dry:
            return
        if fill is not None:
            self.doc.set_fill_color(*_rgb(fill))
        shown = self.fit(text, w)
        self.doc.set_xy(x, y)
        self.doc.cell(w, h, text=shown, align=align, fill=fill is not None)
        self.drawn.append(shown)

    def rect(self, x: float, y: float, w: float, h: float, colour: str) -> None:
        if self.dry:
            return
        self.doc.set_fill_color(*_rgb(colour))
        self.doc.rect(x, y, w, h, style="F")

    def rule(
        self, x: float, y: float, w: float, colour: str = NHS_BLUE, width: float = 0.3
    ) -> None:
        if self.dry:
            return
        self.doc.set_draw_color(*_rgb(colour))
        self.doc.set_line_width(width)
        self.doc.line(x, y, x + w, y)

    def heading(self, x: float, y: float, w: float, text: str) -> float:
        self.font(8.5, bold=True, colour=NHS_BLUE)
        self.text(x, y, w, 4.2, text)
        self.rule(x, y + 4.4, w)
        return y + 5.4


def build_pdf(
    content: OnePage, chart_png: bytes | None = None, *, compress: bool = True
) -> PdfDocument:
    """Lay the page out on A4 landscape: one page, or two when the KPIs do not fit on one.

    Page 1: the title band; on the left the priorities with their initiatives, the enablers and
    the money; on the right the KPI table, then the top risks beside the critical-path chart.
    KPI rows that do not fit continue on page 2.

    Args:
        content: from :func:`onepage_content`.
        chart_png: the critical-path chart as PNG bytes (drawn at ``CHART_WIDTH_IN``), or None.
        compress: compress the page streams (turn off only to inspect the PDF).

    Returns:
        The PDF bytes, page count and the text drawn.
    """
    pdf = _Pdf(compress=compress)
    doc = pdf.doc
    header = content.header
    doc.set_title(header.title)
    doc.set_subject(f"Plan on a page: {header.plan_type}, {header.footprint}, {header.period}")
    doc.set_creator("flowplan")
    doc.set_keywords(f"flowplan plan-on-a-page {header.plan_id}")
    doc.add_page()
    _pdf_header(pdf, header)
    money_h = _measured(pdf, lambda at: _pdf_money(pdf, content.money, at), 0.0)
    y = _pdf_priorities(pdf, content, _MARGIN + 21.0, _BOTTOM - money_h - 1.5)
    y = _pdf_money(pdf, content.money, y + 1.5)
    if y + 6.0 <= _BOTTOM:
        pdf.font(5.5, colour=GREY)
        pdf.text(
            _MARGIN,
            _BOTTOM - 3.0,
            _LEFT_W,
            3.0,
            f"Plan {header.plan_id} v{header.version} ({header.status}) · flowplan · "
            "gap = scheme cost − funding",
        )

    chart_h, chart_w = 0.0, _RIGHT_W - _RISK_W - _GUTTER
    if chart_png is not None:
        px_w, px_h = _png_size(chart_png)
        chart_h = chart_w * px_h / px_w
    risks_h = _measured(pdf, lambda at: _pdf_risks(pdf, content, at), 0.0)
    lower_h = max(min(chart_h, _CHART_MIN_H), risks_h) + 2.0
    kpi_top = _MARGIN + 21.0
    room = int((_BOTTOM - lower_h - kpi_top - 5.4 - _KPI_ROW_H) // _KPI_ROW_H)
    room = max(room, 4)
    first, rest = content.kpis[:room], content.kpis[room:]
    y = _pdf_kpis(pdf, first, kpi_top, _RIGHT_W, "Key performance indicators", len(content.kpis))
    lower_top = y + 2.0
    _pdf_risks(pdf, content, lower_top)
    if chart_png is not None:
        chart_x = _RIGHT_X + _RISK_W + _GUTTER
        available = _BOTTOM - lower_top
        w, h = chart_w, chart_h
        if h > available:
            w, h = w * available / h, available
        doc.image(io.BytesIO(chart_png), x=chart_x, y=lower_top, w=w, h=h)
    elif content.critical_path is not None and content.critical_path.note:
        pdf.font(7, colour=GREY)
        pdf.text(_RIGHT_X + _RISK_W + _GUTTER, lower_top, chart_w, 4, content.critical_path.note)
    if rest:
        doc.add_page()
        pdf.font(9, bold=True, colour=DARK_BLUE)
        pdf.text(_MARGIN, _MARGIN, _PAGE_W - 2 * _MARGIN, 5, f"{header.title} (continued)")
        per_page = int((_BOTTOM - _MARGIN - 7.0 - 5.4 - _KPI_ROW_H) // _KPI_ROW_H)
        shown = rest[:per_page]
        _pdf_kpis(
            pdf,
            shown,
            _MARGIN + 7.0,
            _PAGE_W - 2 * _MARGIN,
            "Key performance indicators (continued)",
            len(content.kpis),
            x=_MARGIN,
            more=len(rest) - len(shown),
        )
    data = bytes(doc.output())
    return PdfDocument(data=data, pages=int(doc.page), text=tuple(pdf.drawn))


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _pdf_header(pdf: _Pdf, header: OnePageHeader) -> None:
    pdf.rect(0, 0, _PAGE_W, _MARGIN + 17.0, NHS_BLUE)
    pdf.font(13, bold=True, colour="#FFFFFF")
    pdf.text(_MARGIN, _MARGIN - 1.5, _PAGE_W - 2 * _MARGIN, 7, header.title)
    facts = [header.plan_type, f"footprint {header.footprint}", header.period]
    if header.population:
        facts.append(f"population {header.population}")
    facts.append(f"{len(header.members)} member organisations")
    facts.append(f"{header.status}, version {header.version}")
    pdf.font(7.5, colour="#FFFFFF")
    pdf.text(_MARGIN, _MARGIN + 5.5, _PAGE_W - 2 * _MARGIN, 4, " · ".join(facts))
    leads = []
    if header.lead_commissioner:
        leads.append(f"Lead commissioner: {header.lead_commissioner}")
    if header.lead_provider:
        leads.append(f"Lead provider: {header.lead_provider}")
    if leads:
        pdf.text(_MARGIN, _MARGIN + 9.5, _PAGE_W - 2 * _MARGIN, 4, " · ".join(leads))


def _measured(pdf: _Pdf, draw: Callable[[float], float], y: float) -> float:
    """Where ``draw`` starting at ``y`` would end, drawing nothing."""
    was, pdf.dry = pdf.dry, True
    try:
        return draw(y)
    finally:
        pdf.dry = was


def _pdf_priorities(pdf: _Pdf, content: OnePage, top: float, limit: float) -> float:
    """Priorities, then enablers, down to ``limit``; what does not fit is counted instead."""
    x, w = _MARGIN, _LEFT_W
    y = pdf.heading(x, top, w, "Priorities and initiatives")
    blocks: list[tuple[str, Callable[[float], float]]] = [
        ("priorities", partial(_pdf_priority, pdf, p)) for p in content.priorities
    ]
    if content.enablers:
        blocks.append(("heading", partial(_pdf_enablers_heading, pdf)))
        blocks.extend(("enablers", partial(_pdf_enabler, pdf, e)) for e in content.enablers)
    for index, (_kind, draw) in enumerate(blocks):
        if _measured(pdf, draw, y) > limit - _LINE_H:
            left_out = [k for k, _ in blocks[index:] if k != "heading"]
            counts = [f"{left_out.count(k)} more {k}" for k in ("priorities", "enablers")]
            shown = " and ".join(c for c in counts if not c.startswith("0 "))
            pdf.font(6.2, colour=GREY)
            pdf.text(x, y, w, _LINE_H, f"… and {shown}: see the HTML page.")
            return y + _LINE_H
        y = draw(y)
    return y


def _pdf_enablers_heading(pdf: _Pdf, y: float) -> float:
    return pdf.heading(_MARGIN, y + 0.5, _LEFT_W, "Enablers")


def _pdf_priority(pdf: _Pdf, priority: PriorityItem, y: float) -> float:
    x, w = _MARGIN, _LEFT_W
    pdf.rect(x, y + 0.4, 6.5, 3.6, DARK_BLUE)
    pdf.font(7, bold=True, colour="#FFFFFF")
    pdf.text(x, y + 0.2, 6.5, 4, priority.id, align="C")
    pdf.font(7.5, bold=True, colour=DARK_BLUE)
    pdf.text(x + 7.5, y, w - 7.5 - 20, 4.2, priority.title)
    pdf.font(6.5, colour=GREY)
    pdf.text(x + w - 20, y, 20, 4.2, priority.cost, align="R")
    y += 4.2
    pdf.font(6.3, colour=TEXT_COLOUR)
    for line in pdf.wrap(priority.description, w - 7.5, 2):
        pdf.text(x + 7.5, y, w - 7.5, _LINE_H, line)
        y += _LINE_H
    items = "; ".join(f"{i.id} {i.title}" for i in priority.initiatives)
    if items:
        pdf.font(6.0, colour=GREY)
        for line in pdf.wrap(items, w - 7.5, 3):
            pdf.text(x + 7.5, y, w - 7.5, 2.8, line)
            y += 2.8
    return y + 1.0


def _pdf_enabler(pdf: _Pdf, enabler: EnablerItem, y: float) -> float:
    x, w = _MARGIN, _LEFT_W
    pdf.font(6.5, bold=True, colour=DARK_BLUE)
    label = f"{enabler.id} {enabler.title}"
    label_w = min(pdf.width(label) + 2.0, w / 2)
    pdf.text(x, y, label_w, _LINE_H, label)
    pdf.font(6.3, colour=TEXT_COLOUR)
    for line in pdf.wrap(enabler.description, w - label_w, 2) or [""]:
        pdf.text(x + label_w, y, w - label_w, _LINE_H, line)
        y += _LINE_H
    return y + 0.3


def _pdf_money(pdf: _Pdf, money: MoneyBlock, top: float) -> float:
    x, w = _MARGIN, _LEFT_W
    y = pdf.heading(x, top, w, "Money")
    amount_w = 24.0

    def row(label: str, amount: str, *, bold: bool = False, fill: str | None = None) -> None:
        nonlocal y
        pdf.font(6.8, bold=bold, colour=TEXT_COLOUR)
        if fill is not None:
            pdf.rect(x, y, w, 3.6, fill)
        pdf.text(x, y, w - amount_w, 3.6, label)
        pdf.text(x + w - amount_w, y, amount_w, 3.6, amount, align="R")
        y += 3.6

    for funding in money.funding:
        row(funding.label, funding.amount)
    row("Total funding", money.total_funding, bold=True)
    row("Cost of minimum-requirement schemes", money.minimum_cost)
    row("Cost of innovation schemes", money.innovation_cost)
    row("Total scheme cost", money.scheme_cost, bold=True)
    gap_label = {
        "shortfall": "Funding gap (cost above funding)",
        "surplus": "Funding surplus (funding above cost)",
        "balanced": "Funding gap: none (balanced)",
    }[money.gap_state]
    row(
        gap_label,
        money.gap,
        bold=True,
        fill="#FDE8E6" if money.gap_state == "shortfall" else "#E8F4EC",
    )
    for note in money.notes:
        pdf.font(6, colour=CRITICAL_COLOUR)
        for line in pdf.wrap(note, w, 2):
            pdf.text(x, y, w, 2.8, line)
            y += 2.8
    if money.summary:
        y += 1.5
        pdf.font(6.8, bold=True, colour=DARK_BLUE)
        title = "STP summary financial analysis, £000s"
        if money.summary_year:
            title += f" ({money.summary_year})"
        pdf.text(x, y, w, 3.6, title)
        y += 3.6
        col = 15.5
        pdf.font(6, bold=True, colour=GREY)
        for i, name in enumerate(("Do nothing", "Solutions", "Do something")):
            pdf.text(x + w - col * (3 - i), y, col, 3.2, name, align="R")
        y += 3.2
        for summary in money.summary:
            pdf.font(6.3, bold=summary.line is FinancialSummaryLine.total, colour=TEXT_COLOUR)
            pdf.text(x, y, w - 3 * col, 3.2, summary.label)
            values = (summary.do_nothing, summary.solutions, summary.do_something)
            for i, value in enumerate(values):
                pdf.text(x + w - col * (3 - i), y, col, 3.2, value, align="R")
            y += 3.2
    return y


def _pdf_kpis(
    pdf: _Pdf,
    rows: Sequence[KpiRow],
    top: float,
    width: float,
    title: str,
    total: int,
    *,
    x: float = _RIGHT_X,
    more: int = 0,
) -> float:
    y = pdf.heading(x, top, width, f"{title} ({total})")
    spark_w = 22.0
    fixed = {"scheme": 11.0, "priority": 13.0, "baseline": 17.0, "target": 17.0, "by": 15.0}
    indicator_w = width - sum(fixed.values()) - spark_w
    columns = [
        ("Scheme", fixed["scheme"], "L"),
        ("Priority", fixed["priority"], "L"),
        ("Indicator (unit)", indicator_w, "L"),
        ("Baseline", fixed["baseline"], "R"),
        ("Target", fixed["target"], "R"),
        ("By", fixed["by"], "R"),
        ("Trajectory", spark_w, "C"),
    ]
    pdf.font(6, bold=True, colour=GREY)
    cx = x
    for name, col_w, align in columns:
        pdf.text(cx, y, col_w, _KPI_ROW_H, name, align=align)
        cx += col_w
    y += _KPI_ROW_H
    for index, kpi in enumerate(rows):
        if index % 2 == 0:
            pdf.rect(x, y, width, _KPI_ROW_H, "#F0F4F5")
        unit = f" ({kpi.unit})" if kpi.unit and kpi.unit != "%" else ""
        arrow = "" if kpi.improving is None else (" ▲" if kpi.target > kpi.baseline else " ▼")
        values = [
            kpi.scheme_id,
            ", ".join(kpi.priority_ids),
            kpi.name + unit,
            kpi.baseline_text,
            kpi.target_text + arrow,
            kpi.target_date_text,
        ]
        cx = x
        for (_, col_w, align), value in zip(columns[:-1], values, strict=True):
            pdf.font(6.2, bold=col_w == fixed["scheme"], colour=TEXT_COLOUR)
            pdf.text(cx, y, col_w, _KPI_ROW_H, value, align=align)
            cx += col_w
        _pdf_sparkline(pdf, kpi, cx + 1.5, y + 0.4, spark_w - 3.0, _KPI_ROW_H - 0.8)
        y += _KPI_ROW_H
    if more:
        pdf.font(6.2, colour=GREY)
        pdf.text(x, y, width, _KPI_ROW_H, f"… and {more} more KPIs: see the HTML page.")
        y += _KPI_ROW_H
    return y


def _pdf_sparkline(pdf: _Pdf, kpi: KpiRow, x: float, y: float, w: float, h: float) -> None:
    points = [
        (x + float(px) * w / SPARK_W, y + float(py) * h / SPARK_H)
        for px, py in (p.split(",") for p in kpi.sparkline.split())
    ]
    if len(points) < 2:
        return
    good = kpi.improving is not False
    pdf.doc.set_draw_color(*_rgb(NHS_BLUE if good else CRITICAL_COLOUR))
    pdf.doc.set_line_width(0.25)
    pdf.doc.polyline(points)
    end_x, end_y = points[-1]
    pdf.doc.set_fill_color(*_rgb(NHS_BLUE if good else CRITICAL_COLOUR))
    pdf.doc.ellipse(end_x - 0.45, end_y - 0.45, 0.9, 0.9, style="F")


def _pdf_risks(pdf: _Pdf, content: OnePage, top: float) -> float:
    x, w = _RIGHT_X, _RISK_W
    counts = content.risk_rag_counts
    y = pdf.heading(
        x,
        top,
        w,
        f"Top risks ({content.risk_count}: {counts.get('red', 0)} red, "
        f"{counts.get('amber', 0)} amber, {counts.get('green', 0)} green)",
    )
    for risk in content.risks:
        pdf.rect(x, y + 0.3, 9.0, 3.4, RAG_COLOURS[risk.rag])
        pdf.font(6.2, bold=True, colour="#FFFFFF")
        pdf.text(x, y + 0.15, 9.0, 3.6, str(risk.score), align="C")
        pdf.font(6.5, bold=True, colour=TEXT_COLOUR)
        for line in pdf.wrap(f"{risk.id} {risk.description}", w - 10, 2):
            pdf.text(x + 10, y, w - 10, 3.2, line)
            y += 3.2
        pdf.font(5.8, colour=GREY)
        detail = f"L{risk.likelihood} × I{risk.impact} · {risk.owner}"
        if risk.mitigation:
            detail += f" · {risk.mitigation}"
        for line in pdf.wrap(detail, w - 10, 2):
            pdf.text(x + 10, y, w - 10, 2.6, line)
            y += 2.6
        y += 0.6
    return y


# --------------------------------------------------------------------------------------------
# HTML and the writer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnePageResult:
    """What :func:`render_onepage` wrote.

    Attributes:
        html_path: the self-contained HTML page.
        pdf_path: the PDF, or None when not asked for.
        chart_path: the critical-path chart PNG, or None when the plan has no schedule.
        content: the content shown.
    """

    html_path: Path
    pdf_path: Path | None
    chart_path: Path | None
    content: OnePage

    def paths(self) -> list[Path]:
        """Every file written: the HTML, then the PDF and the chart when written."""
        return [p for p in (self.html_path, self.pdf_path, self.chart_path) if p is not None]


def render_html(content: OnePage, chart_png: bytes | None, generated: str) -> str:
    """The plan on a page as one self-contained HTML document.

    Args:
        content: from :func:`onepage_content`.
        chart_png: the critical-path chart PNG, or None.
        generated: when it was generated, in words (shown in the footer).

    Returns:
        The HTML text.
    """
    template = report_template(TEMPLATE_DIR, TEMPLATE_NAME)
    chart = png_base64(chart_png) if chart_png is not None else ""
    return template.render(
        page=content,
        chart_png_base64=chart,
        rag_colours=RAG_COLOURS,
        spark_w=SPARK_W,
        spark_h=SPARK_H,
        generated=generated,
    )


def render_onepage(plan: Plan, out_dir: str | Path, *, pdf: bool = True) -> OnePageResult:
    """Write the plan on a page to ``out_dir``.

    Files (``ID`` is the plan id): ``ID-onepage.html``, ``ID-critical-path.png`` (when the
    milestones can be scheduled) and ``ID-onepage.pdf`` (when ``pdf``).

    Args:
        plan: the plan.
        out_dir: folder to write (created when missing; files of the same names are replaced).
        pdf: also write the PDF.

    Returns:
        The paths written and the content shown.

    Raises:
        UsageError: ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out = output_folder(out_dir)
    content = onepage_content(plan)
    chart_png: bytes | None = None
    chart_path: Path | None = None
    if content.critical_path is not None and content.critical_path.rows:
        chart_png = _png(critical_path_chart(plan))
        chart_path = out / f"{plan.id}-critical-path.png"
        chart_path.write_bytes(chart_png)
    generated = datetime.now().strftime("%d %b %Y %H:%M")
    html_path = out / f"{plan.id}-onepage.html"
    html_path.write_text(render_html(content, chart_png, generated), encoding="utf-8")
    pdf_path: Path | None = None
    if pdf:
        document = build_pdf(content, chart_png)
        pdf_path = out / f"{plan.id}-onepage.pdf"
        pdf_path.write_bytes(document.data)
    return OnePageResult(html_path, pdf_path, chart_path, content)


def pdf_page_count(data: bytes) -> int:
    """Number of page objects in a PDF (``/Type /Page``, not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
