"""Plan pages: list, create, view, schemes, KPIs, milestones, risks, funding, checks, sign-off,
submit, publish, export.

Every form carries the CSRF token and, when it changes a plan, the revision it was opened at
(hidden field ``revision``): a save made from an older revision is refused with 409 and the
form comes back with the user's input, so nothing typed is lost.

The editing forms (a scheme, one KPI of a scheme, a milestone, a risk, the funding lines and
stated totals) share one flow (:func:`_open`, :func:`_submit`, :func:`_remove`): permission →
revision → the form's values parsed and validated (errors beside their fields) → the change
saved through :mod:`flowplan.web.plan_actions` (integrity, the workflow's edit rules, the audit
entry). What each form shows and reads is in :mod:`flowplan.web.routers.plan_forms`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from flowplan.metrics import registry as metric_registry
from flowplan.plans import workflow
from flowplan.plans.checks import CheckReport
from flowplan.plans.critical_path import Programme, Timing, schedule_programme
from flowplan.plans.document import dump_plan
from flowplan.plans.excel import export_workbook
from flowplan.plans.findings import Finding
from flowplan.plans.model import (
    FundingKind,
    Plan,
    PlanStatus,
    PlanType,
    SchemeCategory,
    SchemeSection,
)
from flowplan.plans.onepage import critical_path_chart, onepage_content, render_html
from flowplan.reports import figure_png
from flowplan.store.users import Account
from flowplan.web import plan_actions as actions
from flowplan.web.deps import (
    Conflict,
    Ctx,
    CurrentUser,
    Forbidden,
    NotFound,
    Refused,
    RequiredUser,
    Services,
    can_create_plan,
    can_edit_plan,
    can_edit_scheme,
    can_publish,
    can_sign_for,
    can_submit,
    is_footprint_member,
    require,
)
from flowplan.web.routers.plan_forms import (
    FUNDING_FORM,
    IMPACT,
    KPI_FORM,
    LIKELIHOOD,
    MILESTONE_FORM,
    RISK_FORM,
    SCHEME_FORM,
    Funding,
    PartForm,
    Values,
    funding_field_of,
    kpi_field_of,
    milestone_field_of,
    risk_field_of,
    scheme_field_of,
)
from flowplan.web.templating import flash, render

router = APIRouter(prefix="/plans", include_in_schema=False)

ONEPAGE_CHART_DPI = 150
RevisionField = Annotated[int, Form(ge=1)]
_SCHEME_LOCATION = re.compile(r"^schemes\[(?P<id>[^\]]+)\]\.?(?P<rest>.*)$")
_PART_LOCATION = re.compile(
    r"^(?P<part>schemes|milestones|risks)\[(?P<id>[^\]]+)\]\.?(?P<rest>.*)$"
)
_KPI_LOCATION = re.compile(r"^kpis\[(?P<index>\d+)\]\.?(?P<rest>.*)$")
#: Field paths of the plan → the path inside one part (``milestones[3].due`` → ``due``).
_IN_SCHEME = re.compile(r"^schemes\[[^\]]+\]\.?")
_IN_KPI = re.compile(r"^schemes\[[^\]]+\]\.kpis\[[^\]]+\]\.?")
_IN_MILESTONE = re.compile(r"^milestones\[[^\]]+\]\.?")
_IN_RISK = re.compile(r"^risks\[[^\]]+\]\.?")


# --- helpers -----------------------------------------------------------------------------------


def _visible_summaries(ctx: Ctx, user: Account | None) -> list[dict[str, Any]]:
    rows = []
    for summary in ctx.plans.summaries():
        if summary.status == PlanStatus.published:
            rows.append(summary.__dict__)
            continue
        if user is None:
            continue
        plan = ctx.plans.get(summary.id, summary.revision)
        if is_footprint_member(user, plan):
            rows.append(summary.__dict__)
    return rows


def _creatable_footprints(ctx: Ctx, user: Account | None) -> list[dict[str, Any]]:
    return [f for f in ctx.store.footprints() if can_create_plan(user, f["code"])]


def scheme_of(location: str) -> tuple[str, str] | None:
    """``schemes[S03].kpis[0]`` → ``("S03", "kpis[0]")``; None for other locations."""
    match = _SCHEME_LOCATION.match(location)
    return None if match is None else (match.group("id"), match.group("rest"))


def form_of(location: str) -> tuple[str, str] | None:
    """The editing form of the field at a finding's ``location``: its path under the plan's
    page and the form field ("" when the form shows the part but no one field).

    ``schemes[S01].kpis[0].target`` → ``("schemes/S01/kpis/0", "target")``,
    ``milestones[M14].due`` → ``("milestones/M14", "due")``, ``stated_totals.funding_gap_gbp``
    → ``("funding", "funding_gap_gbp")``; None for a location no form edits (``milestones``).
    """
    match = _PART_LOCATION.match(location)
    if match is not None:
        part, item, rest = match.group("part"), match.group("id"), match.group("rest")
        if part == "schemes":
            kpi = _KPI_LOCATION.match(rest)
            if kpi is not None:
                return f"schemes/{item}/kpis/{kpi.group('index')}", kpi_field_of(kpi.group("rest"))
            return f"schemes/{item}", scheme_field_of(rest)
        if part == "milestones":
            return f"milestones/{item}", milestone_field_of(rest)
        return f"risks/{item}", risk_field_of(rest)
    if location == "funding_gap":
        return "funding", "funding_gap_gbp"
    found = funding_field_of(location)
    return ("funding", found) if found else None


def _finding_links(
    plan: Plan, findings: Iterable[Finding], editable_schemes: set[str], can_edit: bool
) -> dict[str, str]:
    """Location → the link to the form field it concerns, for the forms this user may open."""
    links: dict[str, str] = {}
    for f in findings:
        found = form_of(f.location)
        if found is None:
            continue
        scheme = _SCHEME_LOCATION.match(f.location)
        if scheme.group("id") in editable_schemes if scheme else can_edit:
            links[f.location] = _href(plan, found)
    return links


def _href(plan: Plan, found: tuple[str, str]) -> str:
    """The link to a form field found by :func:`form_of`."""
    path, form_field = found
    return f"/plans/{plan.id}/{path}" + (f"#{form_field}" if form_field else "")


def _findings_by_scheme(
    report: CheckReport | None,
) -> tuple[list[Finding], dict[str, list[Finding]]]:
    if report is None:
        return [], {}
    general: list[Finding] = []
    by_scheme: dict[str, list[Finding]] = {}
    for f in report.findings:
        found = scheme_of(f.location)
        if found is None:
            general.append(f)
        else:
            by_scheme.setdefault(found[0], []).append(f)
    return general, by_scheme


def _programme(plan: Plan) -> tuple[Programme | None, dict[str, Timing]]:
    """The milestones' schedule (critical path method) and each milestone's timing."""
    try:
        programme = schedule_programme(plan.milestones, plan.period_start)
        _ = programme.finish
    except OverflowError:  # a stored plan whose schedule runs off the calendar
        return None, {}
    if programme.schedule is None:
        return programme, {}
    return programme, {t.id: t for t in programme.schedule.timings}


def _plan_page(
    request: Request,
    ctx: Ctx,
    user: Account | None,
    plan: Plan,
    revision: int,
    report: CheckReport | None = None,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    general, by_scheme = _findings_by_scheme(report)
    panel = workflow.signoff_panel(plan)
    signable = [s.member.code for s in panel if not s.signed and can_sign_for(user, s.member.code)]
    draft = plan.status is PlanStatus.draft
    can_edit = can_edit_plan(user, plan) and draft
    editable = {s.id for s in plan.schemes if can_edit_scheme(user, plan, s)} if draft else set()
    programme, timings = _programme(plan)
    return render(
        request,
        "plans/plan.html.j2",
        {
            "title": plan.title,
            "plan": plan,
            "revision": revision,
            "report": report,
            "general_findings": general,
            "scheme_findings": by_scheme,
            "finding_links": _finding_links(
                plan, report.findings if report else [], editable, can_edit
            ),
            "panel": panel,
            "signable": signable,
            "outstanding": workflow.outstanding(plan),
            "can_edit": can_edit,
            "editable_schemes": editable,
            "can_add_scheme": draft and can_edit_scheme(user, plan, None),
            "can_submit": can_submit(user, plan) and draft,
            "can_publish": can_publish(user, plan) and plan.status is PlanStatus.signed_off,
            "can_reopen": can_publish(user, plan) and not draft,
            "is_member": is_footprint_member(user, plan),
            "programme": programme,
            "timings": timings,
            "error": error,
        },
        status_code=status_code,
    )


# --- the editing forms -------------------------------------------------------------------------

_Save = Callable[[Request, Services, int, Account, Any], workflow.Change]
"""Save a part (None: remove it) from a revision: (request, ctx, revision, user, part)."""


@dataclass(frozen=True)
class _Target:
    """One editing form resolved for a plan: what it edits and how the change is saved.

    Attributes:
        form: the form's fields, values and parsing.
        template: its page template.
        plan: the plan at the revision the request found.
        old: the stored part (None: a new one).
        heading: the page heading ("Edit milestone M03").
        action: where the form posts.
        inside: strips a plan field path to the path inside this part (refusals name fields
            of the whole plan).
        path: the form's path under the plan's page, as :func:`form_of` gives it
            (``milestones/M03``); None for a new part (its form shows no findings).
        save: saves the part (None: removes it).
        saved: the flash message and where to go after saving a part.
        delete_action: where the form's "remove" button posts (None: no button).
        removed: the flash message and where to go after removing the part.
        extra: more template context.
    """

    form: PartForm[Any]
    template: str
    plan: Plan
    old: Any
    heading: str
    action: str
    inside: re.Pattern[str] | None
    path: str | None
    save: _Save
    saved: Callable[[Any], tuple[str, str]]
    delete_action: str | None = None
    removed: tuple[str, str] = ("", "")
    extra: dict[str, Any] = field(default_factory=dict)

    def locate(self, location: str) -> str | None:
        """The form field a check finding at ``location`` belongs to ("" for the part as a
        whole, or a part of it with its own form such as a scheme's KPI), or None when it is
        not about this part."""
        found = form_of(location)
        if self.path is None or found is None:
            return None
        if found[0] == self.path:
            return found[1]
        return "" if found[0].startswith(self.path + "/") else None

    def problem_field(self, path: str) -> str:
        """The form field a refusal's field path (of the whole plan) is shown beside."""
        inner = self.inside.sub("", path, count=1) if self.inside is not None else path
        return self.form.field_of(inner) or self.form.fallback


Builder = Callable[[Plan, Account], _Target]
"""Resolves a form for a plan and user (raising NotFound or Forbidden)."""


def _form_revision(form: FormData) -> int:
    try:
        return int(str(form.get("revision", "")))
    except ValueError:
        raise Refused("the form has no revision number; reload the page") from None


def _render(
    request: Request,
    target: _Target,
    revision: int,
    values: Values,
    *,
    report: CheckReport | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    findings: dict[str, list[Finding]] = {}
    other: list[Finding] = []
    links: dict[str, str] = {}  # findings about a part of this part: to its own form
    for f in report.findings if report is not None else []:
        form_field = target.locate(f.location)
        if form_field:
            findings.setdefault(form_field, []).append(f)
        elif form_field is not None:
            other.append(f)
            found = form_of(f.location)
            if found is not None and found[0] != target.path:
                links[f.location] = _href(target.plan, found)
    return render(
        request,
        target.template,
        {
            "title": f"{target.heading} — {target.plan.title}",
            "heading": target.heading,
            "plan": target.plan,
            "revision": revision,
            "values": values,
            "errors": errors or {},
            "findings": findings,
            "other_findings": other,
            "message": message,
            "action": target.action,
            "delete_action": target.delete_action,
            "finding_links": links,
            **target.extra,
        },
        status_code=status_code,
    )


def _refusal_errors(exc: Refused, target: _Target) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        form_field = target.problem_field(problem.get("field", ""))
        errors.setdefault(form_field, []).append(problem.get("rule", ""))
    return errors


def _open(request: Request, ctx: Ctx, user: Account, plan_id: str, build: Builder) -> Response:
    """An editing form filled from the stored part, with the plan's check findings beside its
    fields (a new part: empty, no findings)."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    target = build(plan, user)
    report = actions.check(ctx, plan) if target.old is not None else None
    return _render(request, target, revision, target.form.values(target.old), report=report)


async def _submit(
    request: Request, ctx: Ctx, user: Account, plan_id: str, build: Builder
) -> Response:
    """Save a posted editing form: 409 (the form back as typed) when the plan moved on since
    the form's revision, 422 with errors beside the fields when a value or a rule refuses."""
    form = await request.form()
    revision = _form_revision(form)
    plan, current = actions.load_plan(ctx, plan_id, user)
    target = build(plan, user)
    values = target.form.read(form)
    noun = target.form.noun
    if revision != current:
        exc = actions.conflict(ctx, plan_id, revision)
        return _render(request, target, revision, values, message=str(exc.detail), status_code=409)
    item, errors = target.form.parse(values, target.old)
    if item is None:
        return _render(
            request,
            target,
            revision,
            values,
            errors=errors,
            message=f"The {noun} was not saved: correct the fields marked below.",
            status_code=422,
        )
    try:
        target.save(request, ctx, revision, user, item)
    except Conflict as exc:
        return _render(request, target, revision, values, message=str(exc.detail), status_code=409)
    except Refused as exc:
        return _render(
            request,
            target,
            revision,
            values,
            errors=_refusal_errors(exc, target),
            message=f"The {noun} was not saved: {exc.detail}",
            status_code=422,
        )
    text, where = target.saved(item)
    flash(request, text, "success")
    return RedirectResponse(where, status_code=303)


async def _remove(
    request: Request, ctx: Ctx, user: Account, plan_id: str, build: Builder
) -> Response:
    """Remove the part a form edits (optimistic locking on the form's revision)."""
    form = await request.form()
    revision = _form_revision(form)
    plan, current = actions.load_plan(ctx, plan_id, user)
    target = build(plan, user)
    if target.delete_action is None:
        raise Refused(f"a {target.form.noun} cannot be removed here")
    values = target.form.values(target.old)
    try:
        if revision != current:
            raise actions.conflict(ctx, plan_id, revision)
        target.save(request, ctx, revision, user, None)
    except (Conflict, Refused) as exc:
        text = str(exc.detail)
        if isinstance(exc, Refused):
            text = f"The {target.form.noun} was not removed: {text}"
        return _render(request, target, revision, values, message=text, status_code=exc.status_code)
    text, where = target.removed
    flash(request, text, "success")
    return RedirectResponse(where, status_code=303)


def _scheme_target(scheme_id: str | None) -> Builder:
    def build(plan: Plan, user: Account) -> _Target:
        old = actions.find(plan.schemes, scheme_id, "scheme", plan)
        require(
            can_edit_scheme(user, plan, old),
            "you may not edit this scheme" if old else "you may not add schemes to this plan",
        )
        base = f"/plans/{plan.id}/schemes"
        return _Target(
            form=SCHEME_FORM,
            template="plans/scheme_form.html.j2",
            plan=plan,
            old=old,
            heading=f"Edit scheme {scheme_id}" if old else "New scheme",
            action=f"{base}/{scheme_id}" if old else base,
            inside=_IN_SCHEME,
            path=f"schemes/{scheme_id}" if old else None,
            save=lambda request, ctx, revision, user, item: actions.save_scheme(
                ctx, request, plan, revision, user, item, scheme_id
            ),
            saved=lambda item: (f"Saved scheme {item.id}.", f"/plans/{plan.id}#scheme-{item.id}"),
            extra={
                "scheme_id": scheme_id,
                "scheme": old,
                "sections": [s.value for s in SchemeSection],
                "categories": [c.value for c in SchemeCategory],
                "members": [m.code for m in plan.members],
            },
        )

    return build


def _kpi_target(scheme_id: str, index: int | None) -> Builder:
    def build(plan: Plan, user: Account) -> _Target:
        scheme, old = actions.find_kpi(plan, scheme_id, index)
        require(
            can_edit_scheme(user, plan, scheme),
            f"you may not edit the KPIs of scheme {scheme_id} (scheme owners edit the KPIs of "
            "the schemes their own organisation leads)",
        )
        base = f"/plans/{plan.id}/schemes/{scheme_id}/kpis"
        back = f"/plans/{plan.id}#scheme-{scheme_id}"
        return _Target(
            form=KPI_FORM,
            template="plans/kpi_form.html.j2",
            plan=plan,
            old=old,
            heading=(
                f"Edit KPI {index} of scheme {scheme_id} ({old.metric})"
                if old is not None
                else f"New KPI for scheme {scheme_id}"
            ),
            action=base if index is None else f"{base}/{index}",
            inside=_IN_KPI,
            path=None if index is None else f"schemes/{scheme_id}/kpis/{index}",
            save=lambda request, ctx, revision, user, item: actions.save_kpi(
                ctx, request, plan, revision, user, scheme_id, item, index
            ),
            saved=lambda item: (f"Saved KPI {item.metric} of scheme {scheme_id}.", back),
            delete_action=None if index is None else f"{base}/{index}/delete",
            removed=(f"Removed KPI {index} of scheme {scheme_id}.", back),
            extra={
                "scheme": scheme,
                "metrics": [(m.id, m.name, m.unit) for m in metric_registry.registry().values()],
                "custom_metric": metric_registry.CUSTOM_ID,
            },
        )

    return build


def _milestone_target(milestone_id: str | None) -> Builder:
    def build(plan: Plan, user: Account) -> _Target:
        old = actions.find(plan.milestones, milestone_id, "milestone", plan)
        require(
            can_edit_plan(user, plan),
            "only the plan's analysts and footprint admins may edit its milestones",
        )
        base = f"/plans/{plan.id}/milestones"
        return _Target(
            form=MILESTONE_FORM,
            template="plans/milestone_form.html.j2",
            plan=plan,
            old=old,
            heading=f"Edit milestone {milestone_id}" if old else "New milestone",
            action=f"{base}/{milestone_id}" if old else base,
            inside=_IN_MILESTONE,
            path=f"milestones/{milestone_id}" if old else None,
            save=lambda request, ctx, revision, user, item: actions.save_milestone(
                ctx, request, plan, revision, user, item, milestone_id
            ),
            saved=lambda item: (
                f"Saved milestone {item.id}.",
                f"/plans/{plan.id}#milestone-{item.id}",
            ),
            delete_action=f"{base}/{milestone_id}/delete" if old else None,
            removed=(f"Removed milestone {milestone_id}.", f"/plans/{plan.id}#milestones-h"),
            extra={
                "schemes": [s.id for s in plan.schemes],
                "others": [m for m in plan.milestones if m.id != milestone_id],
            },
        )

    return build


def _risk_target(risk_id: str | None) -> Builder:
    def build(plan: Plan, user: Account) -> _Target:
        old = actions.find(plan.risks, risk_id, "risk", plan)
        require(
            can_edit_plan(user, plan),
            "only the plan's analysts and footprint admins may edit its risks",
        )
        base = f"/plans/{plan.id}/risks"
        return _Target(
            form=RISK_FORM,
            template="plans/risk_form.html.j2",
            plan=plan,
            old=old,
            heading=f"Edit risk {risk_id}" if old else "New risk",
            action=f"{base}/{risk_id}" if old else base,
            inside=_IN_RISK,
            path=f"risks/{risk_id}" if old else None,
            save=lambda request, ctx, revision, user, item: actions.save_risk(
                ctx, request, plan, revision, user, item, risk_id
            ),
            saved=lambda item: (
                f"Saved risk {item.id}: score {item.score} ({item.grading}, {item.rag}).",
                f"/plans/{plan.id}#risk-{item.id}",
            ),
            delete_action=f"{base}/{risk_id}/delete" if old else None,
            removed=(f"Removed risk {risk_id}.", f"/plans/{plan.id}#risks-h"),
            extra={
                "risk": old,
                "schemes": [s.id for s in plan.schemes],
                "likelihoods": list(enumerate(LIKELIHOOD, start=1)),
                "impacts": list(enumerate(IMPACT, start=1)),
            },
        )

    return build


def _funding_target(plan: Plan, user: Account) -> _Target:
    require(
        can_edit_plan(user, plan),
        "only the plan's analysts and footprint admins may edit its funding",
    )
    return _Target(
        form=FUNDING_FORM,
        template="plans/funding_form.html.j2",
        plan=plan,
        old=Funding(funding=plan.funding, stated_totals=plan.stated_totals),
        heading="Funding and stated totals",
        action=f"/plans/{plan.id}/funding",
        inside=None,
        path="funding",
        save=lambda request, ctx, revision, user, item: actions.save_funding(
            ctx, request, plan, revision, user, item.funding, item.stated_totals
        ),
        saved=lambda item: ("Saved funding and stated totals.", f"/plans/{plan.id}#money-h"),
        extra={"kinds": [k.value for k in FundingKind], "years": plan.financial_years()},
    )


# --- list and create ---------------------------------------------------------------------------


@router.get("")
def plan_list(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """The plans this visitor may see (published ones for everyone)."""
    return render(
        request,
        "plans/list.html.j2",
        {
            "title": "Plans",
            "plans": _visible_summaries(ctx, user),
            "can_create": bool(_creatable_footprints(ctx, user)),
        },
    )


@router.get("/new")
def plan_new_form(request: Request, ctx: Ctx, user: RequiredUser) -> Response:
    """The form to start a draft plan for a footprint."""
    footprints = _creatable_footprints(ctx, user)
    require(bool(footprints), "you may not create plans (analysts and footprint admins may)")
    return render(
        request,
        "plans/new.html.j2",
        {
            "title": "New plan",
            "footprints": footprints,
            "types": [t.value for t in PlanType],
            "values": {},
            "error": None,
        },
    )


@router.post("")
def plan_create(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_type: Annotated[PlanType, Form()],
    footprint: Annotated[str, Form(max_length=32)],
    title: Annotated[str, Form(max_length=255)] = "",
    start: Annotated[date | None, Form()] = None,
    end: Annotated[date | None, Form()] = None,
    plan_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Create a draft plan and go to it."""
    require(can_create_plan(user, footprint), f"you may not create plans for {footprint}")
    try:
        plan = actions.new_plan(
            ctx,
            plan_type=plan_type,
            footprint=footprint,
            title=title.strip() or None,
            start=start,
            end=end,
            plan_id=plan_id.strip() or None,
        )
        actions.create_plan(ctx, request, plan, user)
    except Refused as exc:
        return render(
            request,
            "plans/new.html.j2",
            {
                "title": "New plan",
                "footprints": _creatable_footprints(ctx, user),
                "types": [t.value for t in PlanType],
                "values": {
                    "plan_type": plan_type.value,
                    "footprint": footprint,
                    "title": title,
                    "start": start.isoformat() if start else "",
                    "end": end.isoformat() if end else "",
                    "plan_id": plan_id,
                },
                "error": exc.detail,
            },
            status_code=422,
        )
    flash(request, f"Created draft plan {plan.id}.", "success")
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


# --- one plan ----------------------------------------------------------------------------------


@router.get("/{plan_id}")
def plan_page(request: Request, ctx: Ctx, user: CurrentUser, plan_id: str) -> Response:
    """The plan: header, members, schemes with KPIs, milestones, risks, sign-off panel."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    return _plan_page(request, ctx, user, plan, revision)


@router.get("/{plan_id}/check")
def plan_check(request: Request, ctx: Ctx, user: CurrentUser, plan_id: str) -> Response:
    """The plan page with its assurance findings shown next to the schemes they concern."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    return _plan_page(request, ctx, user, plan, revision, report=actions.check(ctx, plan))


@router.get("/{plan_id}/audit")
def plan_audit(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The plan's audit log (footprint members)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    require(is_footprint_member(user, plan), "only the footprint's members see the audit log")
    return render(
        request,
        "plans/audit.html.j2",
        {"title": f"Audit log — {plan.title}", "plan": plan, "entries": ctx.plans.audit(plan_id)},
    )


# --- editing -----------------------------------------------------------------------------------


@router.get("/{plan_id}/schemes/new")
def scheme_new_form(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The form to add a scheme."""
    return _open(request, ctx, user, plan_id, _scheme_target(None))


@router.get("/{plan_id}/schemes/{scheme_id}")
def scheme_edit_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """The form to edit a scheme, with the plan's check findings next to its fields."""
    return _open(request, ctx, user, plan_id, _scheme_target(scheme_id))


@router.post("/{plan_id}/schemes")
async def scheme_add(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """Add a scheme (optimistic locking on the form's revision)."""
    return await _submit(request, ctx, user, plan_id, _scheme_target(None))


@router.post("/{plan_id}/schemes/{scheme_id}")
async def scheme_save(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """Save an edited scheme (optimistic locking on the form's revision)."""
    return await _submit(request, ctx, user, plan_id, _scheme_target(scheme_id))


@router.get("/{plan_id}/schemes/{scheme_id}/kpis/new")
def kpi_new_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """The form to add a KPI to a scheme (plan editors; the scheme's owners)."""
    return _open(request, ctx, user, plan_id, _kpi_target(scheme_id, None))


@router.get("/{plan_id}/schemes/{scheme_id}/kpis/{index}")
def kpi_edit_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str, index: int
) -> Response:
    """The form to edit KPI ``index`` (from 0) of a scheme, with its check findings."""
    return _open(request, ctx, user, plan_id, _kpi_target(scheme_id, index))


@router.post("/{plan_id}/schemes/{scheme_id}/kpis")
async def kpi_add(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """Add a KPI to a scheme."""
    return await _submit(request, ctx, user, plan_id, _kpi_target(scheme_id, None))


@router.post("/{plan_id}/schemes/{scheme_id}/kpis/{index}")
async def kpi_save(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str, index: int
) -> Response:
    """Save an edited KPI."""
    return await _submit(request, ctx, user, plan_id, _kpi_target(scheme_id, index))


@router.post("/{plan_id}/schemes/{scheme_id}/kpis/{index}/delete")
async def kpi_remove(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str, index: int
) -> Response:
    """Remove a KPI from a scheme."""
    return await _remove(request, ctx, user, plan_id, _kpi_target(scheme_id, index))


@router.get("/{plan_id}/milestones/new")
def milestone_new_form(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The form to add a milestone (plan editors)."""
    return _open(request, ctx, user, plan_id, _milestone_target(None))


@router.get("/{plan_id}/milestones/{milestone_id}")
def milestone_edit_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, milestone_id: str
) -> Response:
    """The form to edit a milestone, with its check findings."""
    return _open(request, ctx, user, plan_id, _milestone_target(milestone_id))


@router.post("/{plan_id}/milestones")
async def milestone_add(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """Add a milestone."""
    return await _submit(request, ctx, user, plan_id, _milestone_target(None))


@router.post("/{plan_id}/milestones/{milestone_id}")
async def milestone_save(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, milestone_id: str
) -> Response:
    """Save an edited milestone."""
    return await _submit(request, ctx, user, plan_id, _milestone_target(milestone_id))


@router.post("/{plan_id}/milestones/{milestone_id}/delete")
async def milestone_remove(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, milestone_id: str
) -> Response:
    """Remove a milestone (refused while another depends on it)."""
    return await _remove(request, ctx, user, plan_id, _milestone_target(milestone_id))


@router.get("/{plan_id}/risks/new")
def risk_new_form(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The form to add a risk (plan editors)."""
    return _open(request, ctx, user, plan_id, _risk_target(None))


@router.get("/{plan_id}/risks/{risk_id}")
def risk_edit_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, risk_id: str
) -> Response:
    """The form to edit a risk, with its score and check findings."""
    return _open(request, ctx, user, plan_id, _risk_target(risk_id))


@router.post("/{plan_id}/risks")
async def risk_add(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """Add a risk."""
    return await _submit(request, ctx, user, plan_id, _risk_target(None))


@router.post("/{plan_id}/risks/{risk_id}")
async def risk_save(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, risk_id: str
) -> Response:
    """Save an edited risk."""
    return await _submit(request, ctx, user, plan_id, _risk_target(risk_id))


@router.post("/{plan_id}/risks/{risk_id}/delete")
async def risk_remove(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, risk_id: str
) -> Response:
    """Remove a risk."""
    return await _remove(request, ctx, user, plan_id, _risk_target(risk_id))


@router.get("/{plan_id}/funding")
def funding_form(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The form for the funding lines and stated totals (plan editors), with the findings."""
    return _open(request, ctx, user, plan_id, _funding_target)


@router.post("/{plan_id}/funding")
async def funding_save(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """Save the funding lines and stated totals (locked years stay as they were)."""
    return await _submit(request, ctx, user, plan_id, _funding_target)


# --- workflow ----------------------------------------------------------------------------------


def _workflow_step(
    request: Request,
    ctx: Ctx,
    user: Account,
    plan_id: str,
    revision: int,
    step: str,
    **kwargs: Any,
) -> Response:
    plan, _ = actions.load_plan(ctx, plan_id, user)
    try:
        if step == "submit":
            actions.submit(ctx, request, plan, revision, user)
            message = "Submitted for sign-off."
        elif step == "signoff":
            change = actions.sign(ctx, request, plan, revision, user, **kwargs)
            left = change.detail.get("outstanding", [])
            message = f"Signed off for {kwargs['org']}." + (
                f" Still to sign: {', '.join(left)}." if left else " Every member has signed."
            )
        elif step == "publish":
            actions.publish(ctx, request, plan, revision, user)
            message = "Published."
        else:
            change = actions.reopen(ctx, request, plan, revision, user, **kwargs)
            message = f"Reopened as draft version {change.plan.version}; sign-offs cleared."
    except (Conflict, Refused) as exc:
        fresh, current = actions.load_plan(ctx, plan_id, user)
        return _plan_page(
            request, ctx, user, fresh, current, status_code=exc.status_code, error=str(exc.detail)
        )
    flash(request, message, "success")
    return RedirectResponse(f"/plans/{plan_id}", status_code=303)


@router.post("/{plan_id}/submit")
def plan_submit(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, revision: RevisionField
) -> Response:
    """Submit the draft for sign-off."""
    return _workflow_step(request, ctx, user, plan_id, revision, "submit")


@router.post("/{plan_id}/signoff")
def plan_signoff(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_id: str,
    revision: RevisionField,
    org: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Sign off for one of the user's own organisations (another organisation → 403)."""
    if not can_sign_for(user, org):
        actions.load_plan(ctx, plan_id, user)  # 404 before 403 for plans the user cannot see
        raise Forbidden(f"you may sign off only for your own organisation(s), not for {org}")
    return _workflow_step(request, ctx, user, plan_id, revision, "signoff", org=org, note=note)


@router.post("/{plan_id}/publish")
def plan_publish(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, revision: RevisionField
) -> Response:
    """Publish a signed-off plan."""
    return _workflow_step(request, ctx, user, plan_id, revision, "publish")


@router.post("/{plan_id}/reopen")
def plan_reopen(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_id: str,
    revision: RevisionField,
    reason: Annotated[str, Form(min_length=1, max_length=1000)],
) -> Response:
    """Return the plan to draft as a new version."""
    return _workflow_step(request, ctx, user, plan_id, revision, "reopen", reason=reason)


# --- downloads ---------------------------------------------------------------------------------


@router.get("/{plan_id}/export.{fmt}")
def plan_export(request: Request, ctx: Ctx, user: CurrentUser, plan_id: str, fmt: str) -> Response:
    """The plan as an Excel workbook (resilience template layout), YAML or JSON."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    name = f"{plan.id}-r{revision}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt in ("yaml", "json"):
        media = "application/yaml" if fmt == "yaml" else "application/json"
        return Response(
            dump_plan(plan, "yaml" if fmt == "yaml" else "json"),
            media_type=media,
            headers=disposition,
        )
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory() as folder:
            path = export_workbook(plan, Path(folder) / name)
            data = path.read_bytes()
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=disposition,
        )
    raise NotFound(f"no export format '{fmt}' (use xlsx, yaml or json)")


@router.get("/{plan_id}/onepage")
def plan_onepage(request: Request, ctx: Ctx, user: CurrentUser, plan_id: str) -> Response:
    """The plan on a page (self-contained HTML, as ``flowplan plan onepage`` writes it)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    content = onepage_content(plan)
    chart = None
    if content.critical_path is not None and content.critical_path.rows:
        chart = figure_png(critical_path_chart(plan), dpi=ONEPAGE_CHART_DPI)
    html = render_html(content, chart, datetime.now().strftime("%d %b %Y %H:%M"))
    return Response(html, media_type="text/html; charset=utf-8")
