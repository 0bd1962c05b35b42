"""Plan pages: list, create, view, schemes, checks, sign-off, submit, publish, export.

Every form carries the CSRF token and, when it changes a plan, the revision it was opened at
(hidden field ``revision``): a save made from an older revision is refused with 409 and the
form comes back with the user's input, so nothing typed is lost.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from flowplan.plans import workflow
from flowplan.plans.checks import CheckReport
from flowplan.plans.document import dump_plan
from flowplan.plans.excel import export_workbook
from flowplan.plans.findings import Finding
from flowplan.plans.model import (
    Plan,
    PlanStatus,
    PlanType,
    Scheme,
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
    can_create_plan,
    can_edit_plan,
    can_edit_scheme,
    can_publish,
    can_sign_for,
    can_submit,
    is_footprint_member,
    require,
)
from flowplan.web.templating import flash, render

router = APIRouter(prefix="/plans", include_in_schema=False)

ONEPAGE_CHART_DPI = 150
RevisionField = Annotated[int, Form(ge=1)]
_SCHEME_LOCATION = re.compile(r"^schemes\[(?P<id>[^\]]+)\]\.?(?P<rest>.*)$")
#: Scheme form fields, in the order the form shows them.
SCHEME_FIELDS = (
    "id",
    "title",
    "summary",
    "section",
    "category",
    "start",
    "end",
    "lead_name",
    "lead_email",
    "lead_job_title",
    "lead_organisation",
    "organisations",
    "requirements",
    "target_outcomes",
    "costs",
)


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


def form_field_of(path: str) -> str:
    """The scheme form field a field path inside a scheme belongs to (``lead.email`` →
    ``lead_email``, ``costs[0].amount_gbp`` → ``costs``); "" when the form has none."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "lead":
        rest = path[len("lead.") :].split(".")[0]
        name = f"lead_{rest}"
        return name if name in SCHEME_FIELDS else "lead_name"
    return head if head in SCHEME_FIELDS else ""


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
            "panel": panel,
            "signable": signable,
            "outstanding": workflow.outstanding(plan),
            "can_edit": can_edit_plan(user, plan) and plan.status is PlanStatus.draft,
            "editable_schemes": {s.id for s in plan.schemes if can_edit_scheme(user, plan, s)}
            if plan.status is PlanStatus.draft
            else set(),
            "can_add_scheme": plan.status is PlanStatus.draft and can_edit_scheme(user, plan, None),
            "can_submit": can_submit(user, plan) and plan.status is PlanStatus.draft,
            "can_publish": can_publish(user, plan) and plan.status is PlanStatus.signed_off,
            "can_reopen": can_publish(user, plan) and plan.status is not PlanStatus.draft,
            "is_member": is_footprint_member(user, plan),
            "error": error,
        },
        status_code=status_code,
    )


def _scheme_values(scheme: Scheme | None) -> dict[str, str]:
    """Form values of a scheme (empty strings for a new one)."""
    if scheme is None:
        return {name: "" for name in SCHEME_FIELDS} | {"section": "minimum", "category": "other"}
    return {
        "id": scheme.id,
        "title": scheme.title,
        "summary": scheme.summary,
        "section": str(scheme.section),
        "category": str(scheme.category),
        "start": scheme.start.isoformat() if scheme.start else "",
        "end": scheme.end.isoformat() if scheme.end else "",
        "lead_name": scheme.lead.name,
        "lead_email": scheme.lead.email,
        "lead_job_title": scheme.lead.job_title,
        "lead_organisation": scheme.lead.organisation,
        "organisations": ", ".join(scheme.organisations),
        "requirements": ", ".join(scheme.requirements),
        "target_outcomes": "\n".join(scheme.target_outcomes),
        "costs": "\n".join(
            f"{c.year}; {c.amount_gbp}; {'recurrent' if c.recurrent else 'one-off'}"
            + (f"; {c.description}" if c.description else "")
            for c in scheme.costs
        ),
    }


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def _parse_costs(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    costs: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";", 3)]
        if len(parts) < 2:
            errors.append(f"line {number}: write YEAR; AMOUNT; recurrent|one-off; description")
            continue
        try:
            amount = Decimal(parts[1].replace(",", ""))
        except InvalidOperation:
            errors.append(f"line {number}: amount {parts[1]!r} is not a number of pounds")
            continue
        kind = parts[2].lower() if len(parts) > 2 else "one-off"
        if kind not in ("recurrent", "one-off", ""):
            errors.append(f"line {number}: say 'recurrent' or 'one-off', not {parts[2]!r}")
            continue
        costs.append(
            {
                "year": parts[0],
                "amount_gbp": amount,
                "recurrent": kind == "recurrent",
                "description": parts[3] if len(parts) > 3 else "",
            }
        )
    return costs, errors


def scheme_from_form(
    values: dict[str, str], old: Scheme | None
) -> tuple[Scheme | None, dict[str, list[str]]]:
    """A scheme from the form's values, keeping what the form does not show (KPIs, WTE,
    activity effects, ...) from ``old``; or None and the errors by form field."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = old.model_dump() if old is not None else {}
    costs, cost_errors = _parse_costs(values.get("costs", ""))
    if cost_errors:
        errors["costs"] = cost_errors
    data.update(
        {
            "id": values.get("id", "").strip(),
            "title": values.get("title", "").strip(),
            "summary": values.get("summary", "").strip(),
            "section": values.get("section", ""),
            "category": values.get("category", ""),
            "start": values.get("start") or None,
            "end": values.get("end") or None,
            "lead": {
                "name": values.get("lead_name", "").strip(),
                "email": values.get("lead_email", "").strip(),
                "job_title": values.get("lead_job_title", "").strip(),
                "organisation": values.get("lead_organisation", "").strip(),
            },
            "organisations": _split(values.get("organisations", "")),
            "requirements": _split(values.get("requirements", "")),
            "target_outcomes": [
                line.strip()
                for line in values.get("target_outcomes", "").splitlines()
                if line.strip()
            ],
            "costs": costs,
        }
    )
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        for problem in actions.validation_problems(exc):
            field = form_field_of(problem["field"]) or "id"
            errors.setdefault(field, []).append(problem["rule"])
        return None, errors
    return (None, errors) if errors else (scheme, errors)


def _form_values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in SCHEME_FIELDS}


def _scheme_form(
    request: Request,
    plan: Plan,
    revision: int,
    values: dict[str, str],
    scheme_id: str | None,
    *,
    report: CheckReport | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    findings: dict[str, list[Finding]] = {}
    other: list[Finding] = []
    if report is not None and scheme_id is not None:
        for f in report.findings:
            found = scheme_of(f.location)
            if found is None or found[0] != scheme_id:
                continue
            field = form_field_of(found[1])
            if field:
                findings.setdefault(field, []).append(f)
            else:
                other.append(f)
    members = [m.code for m in plan.members]
    return render(
        request,
        "plans/scheme_form.html.j2",
        {
            "title": f"{'Edit scheme ' + scheme_id if scheme_id else 'New scheme'} — {plan.title}",
            "plan": plan,
            "revision": revision,
            "values": values,
            "scheme_id": scheme_id,
            "errors": errors or {},
            "findings": findings,
            "other_findings": other,
            "message": message,
            "sections": [s.value for s in SchemeSection],
            "categories": [c.value for c in SchemeCategory],
            "members": members,
        },
        status_code=status_code,
    )


def _refusal_errors(exc: Refused) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        found = scheme_of(problem.get("field", ""))
        field = form_field_of(found[1]) if found else form_field_of(problem.get("field", ""))
        errors.setdefault(field or "id", []).append(problem.get("rule", ""))
    return errors


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


@router.get("/{plan_id}/schemes/new")
def scheme_new_form(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """The form to add a scheme."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    require(can_edit_scheme(user, plan, None), "you may not add schemes to this plan")
    return _scheme_form(request, plan, revision, _scheme_values(None), None)


@router.get("/{plan_id}/schemes/{scheme_id}")
def scheme_edit_form(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """The form to edit a scheme, with the plan's check findings next to its fields."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    scheme = plan.scheme(scheme_id)
    if scheme is None:
        raise NotFound(f"plan '{plan_id}' has no scheme '{scheme_id}'")
    require(can_edit_scheme(user, plan, scheme), "you may not edit this scheme")
    return _scheme_form(
        request,
        plan,
        revision,
        _scheme_values(scheme),
        scheme_id,
        report=actions.check(ctx, plan),
    )


async def _save_scheme(
    request: Request, ctx: Ctx, user: Account, plan_id: str, scheme_id: str | None
) -> Response:
    form = await request.form()
    values = _form_values(form)
    try:
        revision = int(str(form.get("revision", "")))
    except ValueError:
        raise Refused("the form has no revision number; reload the page") from None
    plan, current = actions.load_plan(ctx, plan_id, user)
    old = plan.scheme(scheme_id) if scheme_id is not None else None
    if scheme_id is not None and old is None:
        raise NotFound(f"plan '{plan_id}' has no scheme '{scheme_id}'")
    require(can_edit_scheme(user, plan, old), "you may not edit this scheme")
    if revision != current:
        exc = actions.conflict(ctx, plan_id, revision)
        return _scheme_form(
            request, plan, revision, values, scheme_id, message=str(exc.detail), status_code=409
        )
    scheme, errors = scheme_from_form(values, old)
    if scheme is None:
        return _scheme_form(
            request,
            plan,
            revision,
            values,
            scheme_id,
            errors=errors,
            message="The scheme was not saved: correct the fields marked below.",
            status_code=422,
        )
    try:
        actions.save_scheme(ctx, request, plan, revision, user, scheme, scheme_id)
    except Conflict as exc:
        return _scheme_form(
            request, plan, revision, values, scheme_id, message=str(exc.detail), status_code=409
        )
    except Refused as exc:
        return _scheme_form(
            request,
            plan,
            revision,
            values,
            scheme_id,
            errors=_refusal_errors(exc),
            message=f"The scheme was not saved: {exc.detail}",
            status_code=422,
        )
    flash(request, f"Saved scheme {scheme.id}.", "success")
    return RedirectResponse(f"/plans/{plan_id}#scheme-{scheme.id}", status_code=303)


@router.post("/{plan_id}/schemes")
async def scheme_add(request: Request, ctx: Ctx, user: RequiredUser, plan_id: str) -> Response:
    """Add a scheme (optimistic locking on the form's revision)."""
    return await _save_scheme(request, ctx, user, plan_id, None)


@router.post("/{plan_id}/schemes/{scheme_id}")
async def scheme_save(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str
) -> Response:
    """Save an edited scheme (optimistic locking on the form's revision)."""
    return await _save_scheme(request, ctx, user, plan_id, scheme_id)


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
