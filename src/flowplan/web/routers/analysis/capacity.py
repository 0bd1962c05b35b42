"""Capacity calculators: beds, staffing by hour, waiting-list targets and an STP's projection.

Beds at a target occupancy come from stored demand (:mod:`flowplan.capacity.beds` with
:func:`~flowplan.store.inputs.bed_inputs`) or given figures; clinicians by hour to meet a
time-to-assessment target from :mod:`flowplan.capacity.staff`; waiting-list targets and an
STP's projection from :mod:`flowplan.capacity.waitinglist` (with
:func:`~flowplan.store.inputs.rtt_inputs`). The calculators change nothing, so any signed-in user
may use them. Bad input: the form comes back with the engine's one-line message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import Field

from flowplan.capacity import beds as beds_engine
from flowplan.capacity import staff as staff_engine
from flowplan.capacity import waitinglist as wl
from flowplan.capacity.charts import projection_chart
from flowplan.data.grain import Grain
from flowplan.sim.runner import num
from flowplan.store.inputs import bed_inputs, rtt_inputs
from flowplan.web.deps import Ctx, RequiredUser
from flowplan.web.forms import FormErrors, FormFields, FormProblems, FormReader, render_form
from flowplan.web.routers.analysis.shared import (
    BLUE,
    GREEN,
    GREY,
    RED,
    fmt,
    new_figure,
    png_file_url,
    png_url,
)

router = APIRouter(include_in_schema=False)

STAFF_METHODS = ("mol", "lag", "sipp")
TARGET_LABELS = {
    "target_mean_wait": ("Target mean wait", "weeks"),
    "target_queue_size": ("Target queue size", "patients"),
    "target_capacity": ("Target capacity", "patients per week"),
    "relief_capacity": ("Relief capacity", "patients per week"),
    "queue_load": ("Queue load", "demand ÷ capacity"),
    "pressure": ("Waiting-list pressure", "2 × mean wait ÷ target wait"),
}


class BedsForm(FormFields):
    """Beds at a target occupancy: an organisation's stored demand, or given figures."""

    org: str = Field("", max_length=64)
    months: str = Field("12", max_length=16)
    occupancy: str = Field("92", max_length=16)
    admissions_per_day: str = Field("", max_length=32)
    los_days: str = Field("", max_length=32)
    max_no_bed: str = Field("1", max_length=16)


class StaffForm(FormFields):
    """Staffing by hour: an arrival profile (or an organisation's hourly arrivals), a target."""

    profile: str = Field("", max_length=20_000)
    org: str = Field("", max_length=64)
    measure: str = Field("ae_attendances", max_length=64)
    service_minutes: str = Field("20", max_length=16)
    target_wait: str = Field("15", max_length=16)
    target_probability: str = Field("95", max_length=16)
    method: str = Field("mol", max_length=16)


class TargetsForm(FormFields):
    """Waiting-list targets (patients per week; weeks)."""

    demand: str = Field("", max_length=32)
    target_wait: str = Field("18", max_length=32)
    factor: str = Field("4", max_length=32)
    cv_demand: str = Field("1", max_length=32)
    cv_capacity: str = Field("1", max_length=32)
    queue_size: str = Field("", max_length=32)
    time_to_target: str = Field("", max_length=32)
    mean_wait: str = Field("", max_length=32)
    capacity: str = Field("", max_length=32)


class ProjectionForm(FormFields):
    """An STP's waiting-list projection (patients; weeks)."""

    stp: str = Field("", max_length=64)
    specialty: str = Field("", max_length=128)
    referrals: str = Field("", max_length=32)
    capacity: str = Field("", max_length=32)
    weeks: str = Field("104", max_length=16)


CALCULATORS: dict[str, type[FormFields]] = {
    "beds": BedsForm,
    "staff": StaffForm,
    "targets": TargetsForm,
    "projection": ProjectionForm,
}


def _capacity_page(
    request: Request,
    calculator: str | None = None,
    values: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
) -> Response:
    forms = {name: form.defaults() for name, form in CALCULATORS.items()}
    if calculator is not None and values is not None:
        forms[calculator] |= values
    context = {
        "title": "Capacity",
        "forms": forms,
        "calculator": calculator,
        "result": result,
        "methods": STAFF_METHODS,
    }
    return render_form(request, "analysis/capacity.html.j2", context, errors=errors)


def _capacity_answer(
    request: Request,
    calculator: str,
    fields: FormFields,
    compute: Callable[[FormReader], dict[str, Any]],
) -> Response:
    """The page with the calculator's answer, or its form back with the problem."""
    values = fields.values()
    problems = FormProblems()
    result = problems.check(calculator, lambda: compute(FormReader(values, calculator)))
    return _capacity_page(request, calculator, values, result=result, errors=problems.errors)


@router.get("/capacity")
def capacity_page(request: Request, user: RequiredUser) -> Response:
    """The three calculators: beds at an occupancy, staffing by hour, waiting lists."""
    return _capacity_page(request)


# --- beds ----------------------------------------------------------------------------------------


def _beds_chart(curve: pd.DataFrame, beds: int, occupancy: float, available: float | None) -> str:
    figure = new_figure(8, 3.4)
    axis = figure.add_subplot()
    axis.plot(curve["beds"], 100 * curve["p_no_bed"], color=BLUE, linewidth=1.5)
    axis.axvline(
        beds,
        color=GREEN,
        linestyle="--",
        linewidth=1,
        label=f"{beds:,} beds: {occupancy:.0%} occupancy",
    )
    if available is not None:
        axis.axvline(
            available,
            color=RED,
            linestyle=":",
            linewidth=1,
            label=f"{available:,.0f} beds available now",
        )
    axis.set_xlabel("beds")
    axis.set_ylabel("P(no bed on arrival), %")
    axis.set_title("Chance an admission finds every bed full (Erlang B)", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return png_url(figure)


def _beds(ctx: Ctx, form: FormReader) -> dict[str, Any]:
    org = form.code("org", "Organisation", required=False)
    occupancy_pct = form.number("occupancy", "Target occupancy (%)", above=0, maximum=100)
    months = form.whole("months", "Months", minimum=1, maximum=120, default=12)
    admissions = form.optional_number("admissions_per_day", "Admissions per day", minimum=0)
    los = form.optional_number("los_days", "Length of stay (days)", above=0)
    max_no_bed_pct = form.number(
        "max_no_bed", "P(no bed) at most (%)", above=0, maximum=100, default=1.0
    )
    basis: list[str] = []
    current: dict[str, float] = {}
    admissions_sd: float | None = None
    core_beds: int | None = None
    if org:
        got = bed_inputs(ctx.store, org, months)
        admissions = admissions if admissions is not None else got.admissions_per_day
        los = los if los is not None else got.implied_los_days
        if len(got.monthly_admissions_per_day) > 1:
            admissions_sd = float(np.std(got.monthly_admissions_per_day, ddof=1))
            basis.append("admissions SD: spread of the monthly admissions per day")
        core_beds = math.floor(got.beds_available)
        basis = list(got.basis) + basis
        current = {"available": got.beds_available, "occupied": got.beds_occupied}
    if admissions is None or los is None:
        raise form.problem(
            "org",
            "give an organisation with stored demand, or admissions per day and length of stay",
        )
    occupancy = occupancy_pct / 100.0
    max_no_bed = max_no_bed_pct / 100.0
    est = beds_engine.beds_at_occupancy(
        admissions, los, occupancy, admissions_sd_per_day=admissions_sd
    )
    loss = beds_engine.beds_for_no_bed_probability(admissions, los, max_no_bed)
    curve = beds_engine.occupancy_delay_curve(admissions, los)
    rows = [
        ("Emergency admissions", fmt(admissions, 4), "per day"),
        ("Mean length of stay", fmt(los, 3), "days"),
        ("Bed-days", fmt(est.bed_days_per_day, 4), "per day (= mean beds in use)"),
        (
            f"Beds at {occupancy_pct:g} % occupancy",
            f"{est.beds:,} ({est.beds_low:,}–{est.beds_high:,})",
            "beds (low–high)",
        ),
        (
            f"Beds so P(no bed) ≤ {max_no_bed:.1%}",
            f"{loss.beds:,}",
            f"beds; occupancy {loss.occupancy:.1%}",
        ),
    ]
    if current:
        rows.append(("G&A beds available now", fmt(current["available"], 4), "beds (mean)"))
        rows.append(("G&A beds occupied now", fmt(current["occupied"], 4), "beds (mean)"))
    if core_beds is not None:
        esc = beds_engine.escalation_beds(core_beds, est.bed_days_per_day, 0.95)
        rows.append(
            (
                "Escalation beds on a 95th-percentile day",
                f"{esc.escalation_beds:,}",
                f"beds above {esc.core_beds:,} core ({esc.method})",
            )
        )
    return {
        "title": f"Beds to meet demand{f' — {org}' if org else ''}",
        "headline": f"{est.beds:,} beds at {occupancy_pct:g} % occupancy",
        "rows": rows,
        "notes": [est.method_note, *basis],
        "chart": _beds_chart(curve, est.beds, occupancy, current.get("available")),
        "chart_alt": "Chance of no bed on arrival against the number of beds",
    }


@router.post("/capacity/beds")
def capacity_beds(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[BedsForm, Form()]
) -> Response:
    """Beds to meet demand at a target occupancy (from stored demand, or given figures)."""
    return _capacity_answer(request, "beds", fields, lambda form: _beds(ctx, form))


# --- staffing ------------------------------------------------------------------------------------


def _profile(form: FormReader) -> np.ndarray:
    parts = [p for p in re.split(r"[,;\s]+", form.text("profile")) if p]
    values = []
    for position, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise form.problem(
                "profile", f"Arrival profile: value {position} ({part!r}) is not a number"
            ) from None
        values.append(value)
    if len(values) not in (24, 168):
        raise form.problem(
            "profile",
            "Arrival profile: give 24 arrival rates per hour (hour of day, 00:00 first) or 168 "
            f"(hour of week, Monday 00:00 first); got {len(values)}",
        )
    return np.asarray(values, dtype=float)


def _staff(ctx: Ctx, form: FormReader) -> dict[str, Any]:
    method = form.choice("method", STAFF_METHODS, "Method must be mol, lag or sipp (got {got!r})")
    service = form.number("service_minutes", "Service time (minutes)", above=0)
    target = form.number("target_wait", "Target wait (minutes)", minimum=0)
    probability = form.number(
        "target_probability", "Assessed within target (%)", above=0, maximum=100
    )
    org = form.code("org", "Organisation", required=False)
    if bool(org) == bool(form.text("profile")):
        raise form.problem(
            "profile",
            "give an arrival profile (24 or 168 rates per hour) or an organisation whose "
            "hourly arrivals are stored, not both",
        )
    basis: list[str] = []
    if org:
        measure = form.text("measure") or "ae_attendances"
        frame, grain, _ = ctx.store.read_series(org, measure, grain=Grain.HOUR)
        if grain is not Grain.HOUR:
            raise form.problem("measure", f"{org} {measure} is not stored by hour")
        series = pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["period_start"]))
        rates = staff_engine.hour_of_week_profile(series)["mean"].to_numpy(dtype=float)
        basis.append(f"arrival rates: mean of {org} {measure} by hour of the week")
    else:
        rates = _profile(form)
        basis.append(f"arrival rates: the {len(rates)} rates per hour given")
    plan = staff_engine.staff_required(
        rates,
        service,
        target_wait_minutes=target,
        target_probability=probability / 100.0,
        method=method,  # type: ignore[arg-type]
    )
    days = list(dict.fromkeys(plan.table["day"]))
    clinicians = plan.table["clinicians"].to_numpy(dtype=int).reshape(len(days), 24)
    return {
        "title": (
            f"Clinicians by hour ({plan.method}; {probability:g} % assessed within {target:g} "
            f"min; service {service:g} min)"
        ),
        "headline": f"peak {plan.peak_clinicians} clinicians on duty",
        "rows": [
            (
                "Peak clinicians",
                str(plan.peak_clinicians),
                "clinicians on duty in the busiest hour",
            ),
            ("Clinician-hours", f"{plan.clinician_hours_per_week:,}", "per week"),
            ("Arrivals", fmt(plan.arrivals_per_week), "per week"),
        ],
        "rota_days": days,
        "rota": [
            [f"{hour:02d}:00", *(int(clinicians[d, hour]) for d in range(len(days)))]
            for hour in range(24)
        ],
        "notes": [plan.assumptions, *basis],
        "chart": png_file_url(lambda path: staff_engine.rota_chart(plan, path)),
        "chart_alt": "Arrivals and clinicians on duty by hour of the week",
    }


@router.post("/capacity/staff")
def capacity_staff(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[StaffForm, Form()]
) -> Response:
    """Clinicians per hour of the week to meet a time-to-assessment target."""
    return _capacity_answer(request, "staff", fields, lambda form: _staff(ctx, form))


# --- waiting lists -------------------------------------------------------------------------------


def _targets_chart(demand: float, result: dict[str, float | None], capacity: float | None) -> str:
    figure = new_figure(8, 3.2)
    axis = figure.add_subplot()
    bars: list[tuple[str, float, str]] = [("demand", demand, GREY)]
    if capacity is not None:
        bars.append(("current capacity", capacity, RED))
    bars.append(("target capacity", float(result["target_capacity"] or 0.0), BLUE))
    if result.get("relief_capacity") is not None:
        bars.append(("relief capacity", float(result["relief_capacity"] or 0.0), GREEN))
    labels = [b[0] for b in bars]
    axis.barh(labels, [b[1] for b in bars], color=[b[2] for b in bars])
    for i, (_, value, _) in enumerate(bars):
        axis.text(value, i, f" {value:,.1f}", va="center", fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("patients per week")
    axis.set_title("Weekly flows: demand and the capacity the targets need", fontsize=10)
    axis.grid(alpha=0.3, axis="x")
    figure.tight_layout()
    return png_url(figure)


def _targets(form: FormReader) -> dict[str, Any]:
    demand = form.number("demand", "Demand (per week)", minimum=0)
    target_wait = form.number("target_wait", "Target wait (weeks)", above=0)
    factor = form.number("factor", "Factor", above=0, default=4.0)
    cv_demand = form.number("cv_demand", "CV of demand", minimum=0, default=1.0)
    cv_capacity = form.number("cv_capacity", "CV of capacity", minimum=0, default=1.0)
    queue_size = form.optional_number("queue_size", "Queue size (patients)", minimum=0)
    time_to_target = form.optional_number("time_to_target", "Time to target (weeks)", above=0)
    mean_wait = form.optional_number("mean_wait", "Current mean wait (weeks)", minimum=0)
    capacity = form.optional_number("capacity", "Current capacity (per week)", above=0)
    result = wl.targets(
        demand,
        target_wait,
        factor=factor,
        cv_demand=cv_demand,
        cv_capacity=cv_capacity,
        queue_size=queue_size,
        time_to_target=time_to_target,
        mean_wait=mean_wait,
        capacity=capacity,
    )
    rows = []
    for key, value in result.items():
        name, unit = TARGET_LABELS[key]
        rows.append((name, "–" if value is None else f"{value:,.4g}", unit))
    notes = [
        f"demand {demand:g} clock starts per week; target wait {target_wait:g} weeks; target mean "
        f"wait = target wait ÷ {factor:g} (NHS waiting-list rule of thumb)",
        "target capacity = demand + (CV of demand² + CV of capacity²) ÷ 2 × factor ÷ target wait",
    ]
    if result["relief_capacity"] is not None:
        notes.append("relief capacity = demand + (queue size − target queue size) ÷ time to target")
    load = result.get("queue_load")
    if load is not None and load >= 1:
        notes.insert(0, f"unsustainable: queue load {load:.3g} ≥ 1, the list grows without limit")
    return {
        "title": f"Waiting-list targets: demand {demand:g}/week, target {target_wait:g} weeks",
        "headline": (
            f"target queue size {result['target_queue_size']:,.0f} patients; target capacity "
            f"{result['target_capacity']:,.2f} per week"
        ),
        "rows": rows,
        "notes": notes,
        "chart": _targets_chart(demand, result, capacity),
        "chart_alt": "Demand and the weekly capacity the targets need",
    }


@router.post("/capacity/waitinglist/targets")
def capacity_targets(
    request: Request, user: RequiredUser, fields: Annotated[TargetsForm, Form()]
) -> Response:
    """Queueing targets of a waiting list (patients per week; weeks)."""
    return _capacity_answer(request, "targets", fields, _targets)


def _projection(ctx: Ctx, form: FormReader) -> dict[str, Any]:
    stp = form.code("stp", "STP")
    specialty = form.text("specialty") or None
    referrals = form.optional_number("referrals", "Referrals per week", minimum=0)
    capacity = form.optional_number("capacity", "Capacity per week", minimum=0)
    weeks = form.whole("weeks", "Weeks", minimum=1, maximum=260, default=104)
    got = rtt_inputs(ctx.store, stp, specialty)
    if got.over_18 is None and got.over_52 is None:
        raise form.problem(
            "stp",
            f"{stp}: waits over 18 and 52 weeks are not stored (load format rtt_waits_stp), so "
            "the list cannot be spread by weeks waited",
        )
    initial = wl.spread_total(got.waiting_list, over_18=got.over_18, over_52=got.over_52)
    refs = referrals if referrals is not None else got.referrals_per_week
    cap = capacity if capacity is not None else got.capacity_per_week
    start = (got.as_at + pd.offsets.MonthEnd(0)).date()
    projection = wl.project(
        initial, refs, cap, weeks, removal_rate=got.removal_rate, start_date=start
    )
    frame = projection.frame
    first, last = frame.iloc[0], frame.iloc[-1]
    title = f"{got.label}: capacity {cap:,.0f}/week, referrals {refs:,.0f}/week"
    rows = [
        ("Patients waiting", fmt(num(first["list_size"])), fmt(num(last["list_size"]))),
        (
            "% within 18 weeks",
            f"{num(first['within_18_pct']):.1f}",
            f"{num(last['within_18_pct']):.1f}",
        ),
    ]
    for col, name in (("over_52", "52+ weeks"), ("over_65", "65+ weeks"), ("over_78", "78+ weeks")):
        rows.append((name, fmt(num(first[col])), fmt(num(last[col]))))
    notes = [
        f"referrals {refs:,.1f}/week, capacity {cap:,.1f}/week, removals {got.removal_rate:.3%} of "
        f"the list a week; queue load {projection.load:.3f}; clearance time "
        f"{projection.clearance_time_weeks:.1f} weeks",
        f"clinical priority takes {wl.DEFAULT_PRIORITY_SHARE:.0%} of clock stops, the rest go "
        "longest wait first (an assumption)",
        *got.basis,
        "starting list spread by weeks waited to match the published total",
    ]
    if projection.unsustainable:
        notes.insert(0, f"unsustainable: {projection.message}")
    return {
        "title": f"Waiting-list projection — {got.label}",
        "headline": (
            f"{fmt(num(last['list_size']))} patients waiting after {weeks} weeks "
            f"({num(last['within_18_pct']):.1f} % within 18 weeks)"
        ),
        "projection_rows": rows,
        "weeks": weeks,
        "notes": notes,
        "chart": png_file_url(lambda path: projection_chart(projection, path, title)),
        "chart_alt": "Projected list size, share within 18 weeks and long waits by week",
    }


@router.post("/capacity/waitinglist/projection")
def capacity_projection(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[ProjectionForm, Form()]
) -> Response:
    """Project an STP's stored waiting list week by week (patients; weeks)."""
    return _capacity_answer(request, "projection", fields, lambda form: _projection(ctx, form))
