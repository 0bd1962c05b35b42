"""Dashboards: the latest performance as SPC charts, escalation levels, and plan monitoring.

* ``GET /dashboard?org=CODE``: A&E 4 hours, G&A bed occupancy, patients not meeting the criteria
  to reside (each for the organisation) and RTT incomplete pathways within 18 weeks (for its STP,
  where RTT is published), each an XmR chart to Making Data Count rules
  (:func:`flowplan.metrics.spc.spc`) with the variation and assurance icons in words and the
  latest value. A panel without stored series says which series and how to load it.
* ``GET /escalation?org=CODE``: the OPEL-style level of the latest day with data and the reasons,
  the level by day and the days at each level (:mod:`flowplan.monitor.opel`).
* ``GET /monitoring/{plan_id}``: actual vs plan for every KPI of a plan, with RAG and SPC codes,
  scheme benefits and how footprint actuals were rolled up (:mod:`flowplan.monitor.kpis`); for
  each KPI whose measures are stored by deprivation decile or ethnic group
  (:mod:`flowplan.monitor.equality`), actual vs plan and RAG per cut
  (:func:`flowplan.monitor.kpis.kpi_by_breakdown`) and the gap between the most and least
  deprived deciles; for the others, which series and labels would give them cuts.

Series are read as ``flowplan metric series`` / ``flowplan spc --org --metric`` read them
(:func:`flowplan.store.inputs.metric_inputs`, monthly); nothing is computed here that an engine
computes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, cast

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from flowplan.data.grain import Grain
from flowplan.data.readers import FORMATS
from flowplan.errors import UsageError
from flowplan.metrics import spc as spc_engine
from flowplan.metrics.compute import compute_series
from flowplan.metrics.registry import MetricDefinition, get
from flowplan.monitor import equality
from flowplan.monitor import kpis as kpi_engine
from flowplan.monitor import opel as opel_engine
from flowplan.plans.model import Kpi, Plan
from flowplan.store.inputs import metric_inputs
from flowplan.store.monitor_inputs import (
    CutActuals,
    escalation_indicators,
    members_of,
    plan_actuals,
    plan_cut_actuals,
)
from flowplan.store.review_inputs import AREA_TYPES
from flowplan.store.store import Store
from flowplan.web import charts
from flowplan.web import plan_actions as actions
from flowplan.web.deps import Ctx, CurrentUser, NotFound, RequiredUser
from flowplan.web.templating import render

router = APIRouter(include_in_schema=False)

DEFAULT_ORG = "RXN"
"""The organisation shown when none is asked for, when the store has it."""
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
OrgQuery = Annotated[str | None, Query(pattern=CODE_PATTERN, description="Organisation code.")]
ESCALATION_WINDOW_DAYS = 90
"""Days of escalation history charted when no window is asked for."""
RTT_METRIC = "constitution.rtt_incomplete_18w"
OVER_18W_MEASURE = "rtt_waiting_over_18w"
_OVER_18W_BREAKDOWNS = ("all", "Total")
RAG_ORDER = ("green", "amber", "red")


@dataclass(frozen=True)
class PanelSpec:
    """One dashboard panel: which metric, read for whom.

    Attributes:
        key: short id (HTML anchor).
        metric_id: registry metric.
        title: panel heading.
        area_level: read for the organisation's STP (RTT is published by STP).
    """

    key: str
    metric_id: str
    title: str
    area_level: bool = False


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("ae", "constitution.ae_4h", "A&E: seen within 4 hours"),
    PanelSpec("occupancy", "uec.ga_bed_occupancy", "G&A bed occupancy"),
    PanelSpec("ctr", "uec.ctr", "Patients not meeting the criteria to reside"),
    PanelSpec("rtt", RTT_METRIC, "RTT: incomplete pathways within 18 weeks", area_level=True),
)


@dataclass
class Panel:
    """A rendered panel: the SPC chart, its icons in words and the latest value, or why not.

    Attributes:
        spec: what the panel shows.
        defn: the metric's definition.
        code: whose series were read (the organisation, or its STP for RTT).
        missing: why there is no chart (None when there is one).
        latest_period: month of the latest point.
        latest_value: its value, formatted with the unit.
        variation: variation icon code (``common_cause``, ``improvement_high``, …).
        assurance: assurance icon code, "" when none.
        icon_text: the icons' meanings in words (:meth:`SpcResult.icon_meanings`).
        figure: the chart as JSON for ``data-plot``.
        rows: one dict per month (period, numerator, denominator, value, mean, limits, type).
        basis: how the values were derived.
    """

    spec: PanelSpec
    defn: MetricDefinition
    code: str
    missing: str | None = None
    latest_period: str = ""
    latest_value: str = ""
    variation: str = ""
    assurance: str = ""
    icon_text: list[str] = field(default_factory=list)
    figure: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)


# --- helpers -----------------------------------------------------------------------------------


def records(frame: pd.DataFrame) -> list[Any]:
    """The rows of a frame as named tuples (attribute access; cells typed Any)."""
    return list(frame.itertuples(index=False))


def fmt(value: object, spec: str = ",.1f") -> str:
    """A number as text ("" for a blank or NaN)."""
    got = charts.number(value)
    return "" if got is None else format(got, spec)


def with_unit(value: object, unit: str) -> str:
    """``71.8 %`` or ``12.0 delayed days``; "" for a blank."""
    text = fmt(value)
    if not text:
        return ""
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def formats_for(measure: str, org_type: str | None = None) -> list[str]:
    """Published formats that load ``measure`` (those for ``org_type`` when there are any)."""
    every = [f for f in FORMATS.values() if measure in f.measures()]
    matching = [f for f in every if org_type is not None and f.org_type == org_type]
    return [f.name for f in (matching or every)]


def load_hint(measures: list[str], org_type: str | None = None) -> str:
    """How to load the given measures (formats named, those for ``org_type`` first)."""
    names = list(dict.fromkeys(n for m in measures for n in formats_for(m, org_type)))
    if not names:
        return "load a local extract with the table format (Data → Upload)"
    shown = " or ".join(names)
    return f"load the {shown} file (Data → Upload, or `flowplan ingest {names[0]} FILE`)"


def default_org(store: Store) -> str | None:
    """RXN when the store has it, else the first member of the first footprint, else the first
    organisation with series."""
    codes = {o["code"]: o for o in store.organisations()}
    if DEFAULT_ORG in codes:
        return DEFAULT_ORG
    for fp in store.footprints():
        sites = [m for m in fp["members"] if codes.get(m, {}).get("type") not in AREA_TYPES]
        if sites:
            return str(sites[0])
    with_series = [c for c, o in codes.items() if o["series"]]
    return with_series[0] if with_series else None


def known_org(store: Store, code: str) -> dict[str, Any]:
    """The organisation ``code`` (404 when the store has no such organisation)."""
    try:
        return store.organisation(code)
    except UsageError:
        raise NotFound(
            f"no organisation {code!r} in the store (load its data, or see Data → Series)"
        ) from None


def org_choices(store: Store, current: str | None) -> list[dict[str, Any]]:
    """Organisations with stored series (and the current one) for the picker."""
    rows = [o for o in store.organisations() if o["series"] or o["code"] == current]
    return [{"code": o["code"], "name": o["name"] or "", "type": o["type"]} for o in rows]


def rtt_area(store: Store, org: dict[str, Any]) -> tuple[str | None, str]:
    """The STP (or other area) whose RTT figures stand for ``org``, and how it was found.

    RTT waiting lists are published by STP: an area is its own; a site takes its parent when that
    is an area, else an area member of a footprint it belongs to that stores a waiting list.
    """
    code = str(org["code"])
    if org["type"] in AREA_TYPES:
        return code, f"{code} is an area ({org['type']}); its own RTT figures"
    parent = org.get("parent_code")
    if parent:
        try:
            if store.organisation(parent)["type"] in AREA_TYPES:
                return str(parent), f"RTT is published by STP: {code}'s parent {parent}"
        except UsageError:
            pass
    for fp_code in org.get("footprints", []):
        for member in members_of(store, fp_code) or []:
            if member == code or not store.series_list(member, "rtt_waiting_list"):
                continue
            if store.organisation(member)["type"] in AREA_TYPES:
                return member, (
                    f"RTT is published by STP: {member}, the area member of {code}'s "
                    f"footprint {fp_code}"
                )
    return None, f"RTT is published by STP, and no STP is known for {code}"


def rtt_definition(store: Store, area: str) -> tuple[MetricDefinition, str | None]:
    """The RTT 18-week metric as ``area`` stores it, with a basis note when derived.

    Where pathways within 18 weeks are not stored, the metric is computed as
    100 × (1 − pathways over 18 weeks ÷ waiting list), the same figure.
    """
    defn = get(RTT_METRIC)
    assert defn.numerator_measure is not None
    if store.series_list(area, defn.numerator_measure):
        return defn, None
    stored = {s.breakdown for s in store.series_list(area, OVER_18W_MEASURE)}
    breakdown = next((b for b in _OVER_18W_BREAKDOWNS if b in stored), None)
    if breakdown is None:
        return defn, None
    derived = defn.model_copy(
        update={
            "numerator_measure": OVER_18W_MEASURE,
            "numerator_breakdown": breakdown,
            "complement": True,
        }
    )
    note = (
        f"{defn.numerator_measure} is not stored for {area}: value = 100 × (1 − "
        f"{OVER_18W_MEASURE} [{breakdown}] ÷ {defn.denominator_measure})"
    )
    return derived, note


def spc_panel(
    store: Store,
    spec: PanelSpec,
    code: str,
    defn: MetricDefinition,
    org_type: str | None = None,
) -> Panel:
    """One panel: the metric's monthly values for ``code`` (of type ``org_type``) on an XmR
    chart."""
    shown = get(spec.metric_id)
    panel = Panel(spec=spec, defn=shown, code=code)
    if defn.numerator_measure is None or defn.denominator_measure is None:
        panel.missing = f"{defn.id} has no stored measures; enter its values locally"
        return panel
    try:
        got = metric_inputs(
            store,
            code,
            defn.numerator_measure,
            defn.denominator_measure,
            numerator_breakdown=defn.numerator_breakdown,
            denominator_breakdown=defn.denominator_breakdown,
            grain=Grain.MONTH,
        )
        frame = compute_series(defn, got.numerator, got.denominator)
    except UsageError as exc:
        measures = [defn.numerator_measure, defn.denominator_measure]
        absent = [m for m in measures if not store.series_list(code, m)]
        what = " and ".join(absent or measures)
        hint = load_hint(absent or measures, org_type)
        panel.missing = f"no stored series for {code}: {what} — {hint}"
        if not absent:
            panel.missing += f" ({exc})"
        return panel
    panel.basis = list(got.basis)
    if len(frame) < spc_engine.MIN_POINTS:
        panel.missing = (
            f"{code} has {len(frame)} month(s) of {shown.name}; an SPC chart needs at least "
            f"{spc_engine.MIN_POINTS}"
        )
        return panel
    result = spc_engine.spc(
        list(frame["period_start"]),
        frame["value"].to_numpy(dtype=np.float64),
        improvement=kpi_engine.IMPROVEMENT[shown.direction],  # type: ignore[arg-type]
        target=shown.standard,
    )
    last: Any = result.frame.iloc[-1]
    panel.latest_period = pd.Timestamp(last["date"]).strftime("%b %Y")
    panel.latest_value = with_unit(last["value"], shown.unit)
    panel.variation = result.variation
    panel.assurance = result.assurance or ""
    panel.icon_text = result.icon_meanings().splitlines()
    title = f"{code}: {shown.name}"
    panel.figure = charts.to_json(charts.spc_figure(result, title=title, unit=shown.unit))
    counts = frame.set_index("period_start")
    for row in records(result.frame):
        stamp = pd.Timestamp(row.date)
        panel.rows.append(
            {
                "period": stamp.strftime("%b %Y"),
                "numerator": fmt(counts.at[stamp, "numerator"], ",.0f"),
                "denominator": fmt(counts.at[stamp, "denominator"], ",.0f"),
                "value": fmt(row.value, ",.2f"),
                "mean": fmt(row.mean, ",.2f"),
                "lpl": fmt(row.lpl, ",.2f"),
                "upl": fmt(row.upl, ",.2f"),
                "point_type": str(row.point_type).replace("_", " "),
            }
        )
    return panel


def dashboard_panels(store: Store, org: dict[str, Any]) -> list[Panel]:
    """The four panels for an organisation."""
    code = str(org["code"])
    panels = []
    for spec in PANELS:
        if not spec.area_level:
            panels.append(spc_panel(store, spec, code, get(spec.metric_id), str(org["type"])))
            continue
        area, how = rtt_area(store, org)
        if area is None:
            panel = Panel(spec=spec, defn=get(spec.metric_id), code=code)
            panel.missing = (
                f"no stored series for {code}'s STP: {how}; "
                f"{load_hint(['rtt_waiting_list', OVER_18W_MEASURE], 'stp')} and define a "
                "footprint with the STP"
            )
            panels.append(panel)
            continue
        defn, note = rtt_definition(store, area)
        panel = spc_panel(store, spec, area, defn, "stp")
        panel.basis = [how, *([note] if note else []), *panel.basis]
        panels.append(panel)
    return panels


# --- cache -------------------------------------------------------------------------------------

#: Seconds a cached dashboard stays valid even if the store's data version has not moved (bounds
#: staleness for changes the version cannot see, such as a footprint redefined with as many
#: members as before).
CACHE_SECONDS = 60.0
CACHE_SIZE = 64
_cache: dict[tuple[str, str, tuple[int, int, int]], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def cached_dashboard(
    store: Store, code: str, body: Callable[[dict[str, Any], list[Panel], Any], str]
) -> tuple[dict[str, Any], Markup]:
    """The organisation and the dashboard's HTML below the heading (``body`` renders it from the
    organisation, its panels and the organisation picker), recomputed only when the store's data
    changes (:meth:`Store.data_version`) or after :data:`CACHE_SECONDS`.

    The rendered HTML is the same for every user (nothing in it depends on who asks), so it is
    cached rather than the panels alone: rendering the picker's few hundred organisations and the
    four value tables is most of a cached request's time.
    """
    key = (store.url, code, store.data_version())
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return cast(tuple[dict[str, Any], Markup], hit[1])
    info = known_org(store, code)
    value = (info, Markup(body(info, dashboard_panels(store, info), org_choices(store, code))))
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (now + CACHE_SECONDS, value)
    return value


# --- pages -------------------------------------------------------------------------------------


@router.get("/dashboard")
def dashboard(request: Request, ctx: Ctx, user: RequiredUser, org: OrgQuery = None) -> Response:
    """The latest A&E, occupancy, criteria-to-reside and RTT performance as SPC charts."""
    code = org or default_org(ctx.store)
    if code is None:
        return render(
            request,
            "dashboard/dashboard.html.j2",
            {
                "title": "Dashboard",
                "org": None,
                "empty": "The store holds no organisations yet: load data first (Data → Upload).",
            },
        )
    templates: Jinja2Templates = request.app.state.flowplan.templates
    fragment = templates.get_template("dashboard/_panels.html.j2")

    def body(info: dict[str, Any], panels: list[Panel], choices: Any) -> str:
        return fragment.render(org=info, panels=panels, choices=choices)

    info, html = cached_dashboard(ctx.store, code, body)
    return render(
        request,
        "dashboard/dashboard.html.j2",
        {
            "title": f"Dashboard — {code}",
            "org": info,
            "body": html,
            "empty": None,
        },
    )


def _level(value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(value)


@router.get("/escalation")
def escalation(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: OrgQuery = None,
    days: Annotated[int, Query(ge=7, le=3660, description="Days charted.")] = (
        ESCALATION_WINDOW_DAYS
    ),
) -> Response:
    """The escalation level of the latest day with data, its reasons and the level history."""
    code = org or default_org(ctx.store)
    context: dict[str, Any] = {
        "title": f"Escalation — {code}" if code else "Escalation",
        "org": code,
        "days": days,
        "choices": org_choices(ctx.store, code),
        "missing": None,
        "latest": None,
        "figure": "",
        "history": [],
        "summary": [],
        "episodes": [],
        "basis": [],
        "config": None,
    }
    if code is None:
        context["missing"] = "The store holds no organisations yet: load data first."
        return render(request, "dashboard/escalation.html.j2", context)
    if members_of(ctx.store, code) is None:
        known_org(ctx.store, code)
    cfg = opel_engine.load_config()
    context["config"] = cfg
    refs = sorted({r.measure for i in cfg.indicators for r in (i.numerator, i.denominator) if r})
    try:
        got = escalation_indicators(ctx.store, code, config=cfg)
    except UsageError as exc:
        context["missing"] = f"{exc} — {load_hint(refs, 'trust')}"
        return render(request, "dashboard/escalation.html.j2", context)
    context["basis"] = got.basis
    if got.frame.empty:
        context["missing"] = (
            f"no stored series for {code} feeds an escalation indicator — "
            f"{load_hint(refs, 'trust')}"
        )
        return render(request, "dashboard/escalation.html.j2", context)
    levels = opel_engine.opel_levels(got.frame, cfg)
    last_day = pd.Timestamp(levels["date"].max())
    window = levels[levels["date"] > last_day - timedelta(days=days)].reset_index(drop=True)
    latest: Any = window.iloc[-1]
    level = _level(latest["level"])
    context["latest"] = {
        "date": last_day.date(),
        "level": level,
        "level_name": str(latest["level_name"]) or "no level",
        "description": cfg.levels[level - 1].description if level else "",
        "score": f"{latest['score']:g} of {latest['max_score']:g} points "
        f"({latest['score_pct']:.0f} %)",
        "reasons": list(latest["reasons"]),
    }
    names = {lv.level: lv.name for lv in cfg.levels}
    context["figure"] = charts.to_json(
        charts.level_step_figure(
            list(window["date"]),
            [_level(v) for v in window["level"]],
            names,
            title=f"{code}: escalation level by day ({cfg.title})",
        )
    )
    context["history"] = [
        {
            "date": pd.Timestamp(r.date).date(),
            "level_name": str(r.level_name) or "no level",
            "score": f"{r.score:g}/{r.max_score:g} ({r.score_pct:.0f} %)",
            "reasons": list(r.reasons),
        }
        for r in records(window.iloc[::-1])
    ]
    context["summary"] = [
        {"level_name": r.level_name, "days": int(r.days), "share": f"{r.share_pct:.1f} %"}
        for r in records(opel_engine.level_summary(window, cfg))
    ]
    context["episodes"] = [
        {
            "start": pd.Timestamp(r.start).date(),
            "end": pd.Timestamp(r.end).date(),
            "days": int(r.days),
            "level_name": r.level_name,
        }
        for r in records(opel_engine.episodes(window, cfg).iloc[::-1].head(10))
    ]
    context["window"] = (pd.Timestamp(window["date"].min()).date(), last_day.date())
    return render(request, "dashboard/escalation.html.j2", context)


def _text(value: object) -> str:
    """Text of a table cell ("" for None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _kpi_row(record: Any) -> dict[str, Any]:
    latest = record.latest_period
    return {
        "scheme_id": _text(record.scheme_id),
        "scheme_title": _text(record.scheme_title),
        "metric": _text(record.metric),
        "name": _text(record.name) or _text(record.metric),
        "unit": _text(record.unit),
        "latest": ""
        if latest is None or pd.isna(latest)
        else pd.Timestamp(latest).strftime("%b %Y"),
        "actual": fmt(record.actual, ",.2f"),
        "planned": fmt(record.planned, ",.2f"),
        "variance": fmt(record.variance, "+,.2f"),
        "target": fmt(record.target, ",.2f"),
        "rag": _text(record.rag),
        "spc": _text(record.spc_variation).replace("_", " "),
        "assurance": _text(record.spc_assurance).replace("_", " "),
        "status": _text(record.status).replace("_", " "),
        "actuals_from": _text(record.actuals_from),
        "note": _text(record.note),
    }


def _cut_rows(
    kpi: Kpi, part: pd.DataFrame, *, count: bool, default_baseline_date: date, as_at: date | None
) -> list[dict[str, Any]]:
    """Actual vs plan and RAG of each cut of one dimension, in display order."""
    rated = kpi_engine.kpi_by_breakdown(
        kpi,
        part[["period_start", "breakdown", "value"]],
        default_baseline_date=default_baseline_date,
        as_at=as_at,
    )
    by_label = {str(r.breakdown): r for r in records(rated.assign(scheme_id="", scheme_title=""))}
    sums = {
        (str(label), pd.Timestamp(start)): (num, den)
        for label, start, num, den in zip(
            part["breakdown"],
            part["period_start"],
            part["numerator"],
            part["denominator"],
            strict=True,
        )
    }
    rows = []
    for label in equality.ordered(by_label):
        record = by_label[label]
        row = _kpi_row(record)  # the same fields as the KPI table
        latest = record.latest_period
        numerator = denominator = ""
        if latest is not None and not pd.isna(latest):
            num, den = sums.get((label, pd.Timestamp(latest)), (None, None))
            numerator = fmt(num, ",.0f")
            denominator = "" if count else fmt(den, ",.0f")
        notes = [n for n in row["note"].split("; ") if n and not n.startswith("no SPC")]
        row.update(
            label=label,
            cut=equality.cut_of(label).title,
            note="; ".join(notes),  # SPC is charted for the whole, not per cut
            numerator=numerator,
            denominator=denominator,
        )
        rows.append(row)
    return rows


def _kpi_cuts(
    kpi: Kpi,
    cuts: CutActuals,
    *,
    direction: str,
    unit: str,
    default_baseline_date: date,
    as_at: date | None,
) -> list[dict[str, Any]]:
    """One table per equality dimension with cuts: rows per cut, RAG counts, the gap."""
    frame = cuts.frame
    if as_at is not None:
        frame = frame[frame["period_start"] <= pd.Timestamp(as_at.replace(day=1))]
    tables = []
    for dimension in equality.Dimension:
        part = frame[frame["dimension"] == dimension.value]
        if part.empty:
            continue
        rows = _cut_rows(
            kpi,
            part,
            count=cuts.count,
            default_baseline_date=default_baseline_date,
            as_at=as_at,
        )
        gap = ""
        if dimension is equality.Dimension.DEPRIVATION:
            got = equality.deprivation_gap(part, direction=direction, unit=unit)
            gap = (
                got.text
                if got is not None
                else "Only one decile has data: no gap between the most and least deprived can "
                "be stated."
            )
        tables.append(
            {
                "dimension": dimension.value,
                "heading": dimension.heading,
                "rows": rows,
                "counts": {r: sum(1 for row in rows if row["rag"] == r) for r in RAG_ORDER},
                "gap": gap,
            }
        )
    return tables


def equality_sections(
    store: Store, plan: Plan, table: pd.DataFrame, where: str, as_at: date | None
) -> list[dict[str, Any]]:
    """For each KPI in plan order: its per-cut tables, or the line saying what would give it cuts.

    Each item has ``scheme_id``, ``name``, ``metric``, ``unit``, and either ``tables`` and
    ``basis`` (the KPI has stored cuts) or ``missing`` (one line: which series and labels).
    """
    cut_actuals = plan_cut_actuals(store, plan, code=where)
    kpis = {(s.id, i): k for s in plan.schemes for i, k in enumerate(s.kpis)}
    out = []
    for record in records(table):
        key = (str(record.scheme_id), int(record.kpi))
        item: dict[str, Any] = {
            "scheme_id": key[0],
            "name": _text(record.name) or _text(record.metric),
            "metric": _text(record.metric),
            "unit": _text(record.unit),
            "tables": [],
            "basis": "",
            "ignored": [],
            "missing": None,
        }
        cuts = cut_actuals.get(key)
        if cuts is None:
            try:
                defn = get(item["metric"]) if item["metric"] != "custom" else None
            except UsageError:
                defn = None
            item["missing"] = equality.enable_hint(item["metric"], defn, where)
        else:
            item["tables"] = _kpi_cuts(
                kpis[key],
                cuts,
                direction=_text(record.direction),
                unit=item["unit"],
                default_baseline_date=plan.period_start,
                as_at=as_at,
            )
            item["basis"] = cuts.basis
            item["ignored"] = cuts.ignored
            if not item["tables"]:
                item["missing"] = (
                    f"{item['metric']}: cuts are stored for {where}, but none has actuals up to "
                    f"{as_at}"
                )
        out.append(item)
    return out


@router.get("/monitoring/{plan_id}")
def monitoring(
    request: Request,
    ctx: Ctx,
    user: CurrentUser,
    plan_id: str,
    org: OrgQuery = None,
    as_at: Annotated[date | None, Query(description="Ignore actuals after this month.")] = None,
) -> Response:
    """Actual vs plan for every KPI of a plan: RAG, SPC codes, benefits and the roll-up."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    where = org or plan.footprint
    actuals = plan_actuals(ctx.store, plan, code=where)
    table = kpi_engine.plan_kpis(plan, actuals, as_at=as_at)
    benefits = kpi_engine.scheme_benefits(table)
    cfg = kpi_engine.load_config()
    rows = [_kpi_row(r) for r in records(table)]
    members = members_of(ctx.store, where)
    counts = {r: int((table["rag"] == r).sum()) for r in RAG_ORDER}
    sources = sorted({r["actuals_from"] for r in rows if r["actuals_from"]})
    cuts = equality_sections(ctx.store, plan, table, where, as_at)
    return render(
        request,
        "dashboard/monitoring.html.j2",
        {
            "title": f"Monitoring — {plan.title}",
            "plan": plan,
            "where": where,
            "members": members,
            "as_at": as_at,
            "rows": rows,
            "with_actuals": sum(1 for r in rows if r["status"] != "no actuals"),
            "counts": counts,
            "benefits": [
                {
                    "scheme_id": b.scheme_id,
                    "scheme_title": b.scheme_title,
                    "kpis": int(b.kpis),
                    "with_actuals": int(b.with_actuals),
                    "green": int(b.green),
                    "amber": int(b.amber),
                    "red": int(b.red),
                    "rag": b.rag,
                    "delivery": ""
                    if math.isnan(float(b.mean_delivery_pct))
                    else f"{float(b.mean_delivery_pct):.0f} %",
                }
                for b in records(benefits)
            ],
            "sources": sources,
            "cuts": cuts,
            "with_cuts": sum(1 for c in cuts if c["tables"]),
            "config_version": cfg.version,
        },
    )
