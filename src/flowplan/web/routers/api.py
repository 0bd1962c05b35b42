"""The JSON API under ``/api/``: the plan operations of the pages, for scripts.

Authenticate with ``Authorization: Bearer <token>`` (``flowplan users token``); a browser
session works too, with the ``X-CSRF-Token`` header on unsafe requests. No credentials → 401,
a role that may not → 403, a stale revision → 409, a rule refusing → 422. The schema is at
``/api/openapi.json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from flowplan.plans.model import FundingLine, Kpi, Milestone, Plan, Risk, Scheme, StatedTotals
from flowplan.web import plan_actions as actions
from flowplan.web.deps import Ctx, RequiredUser, account_summary, is_footprint_member, require

#: Declares the bearer scheme in the OpenAPI schema; authentication itself is done by
#: :func:`flowplan.web.deps.current_user` (tokens or a browser session).
_BEARER = HTTPBearer(auto_error=False, description="An API token from `flowplan users token`.")
router = APIRouter(prefix="/api", tags=["plans"], dependencies=[Depends(_BEARER)])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No credentials, or an invalid or revoked token"},
    403: {"description": "The user's roles do not allow this"},
    404: {"description": "No such plan (or not visible to this user)"},
}
_CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The request body could not be read (not JSON text in UTF-8)"},
    **_ERRORS,
    409: {"description": "The plan changed since the given revision; nothing was saved"},
    422: {
        "description": (
            "The request does not match its schema, or the plan's rules refuse the change "
            "(the message says why)"
        )
    },
}
_PART_ERRORS: dict[int | str, dict[str, Any]] = {
    **_CHANGE_ERRORS,
    404: {"description": "No such plan (or not visible to this user), or no such part of it"},
}
_DELETE_ERRORS: dict[int | str, dict[str, Any]] = {
    k: v for k, v in _PART_ERRORS.items() if k != 400
}


def _with_offset(value: datetime) -> datetime:
    """A stored time with its UTC offset: the store keeps naive local times
    (``datetime.now()``), and an RFC 3339 ``date-time`` must carry an offset."""
    return value if value.tzinfo is not None else value.astimezone()


Timestamp = Annotated[datetime, AfterValidator(_with_offset)]
"""A date and time written with its offset, e.g. ``2015-07-30T12:00:00+01:00``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleOut(_Strict):
    """One role of the user."""

    role: str
    org: str | None
    footprint: str | None


class WhoAmI(_Strict):
    """The authenticated user."""

    username: str
    display_name: str
    admin: bool
    roles: list[RoleOut]


class PlanSummaryOut(_Strict):
    """One plan in a listing."""

    id: str
    type: str
    title: str
    footprint: str
    status: str
    version: int
    revision: int
    updated_at: Timestamp


class PlanOut(_Strict):
    """A plan document at its current revision (send the revision back with changes)."""

    revision: int
    plan: Plan


class RevisionIn(_Strict):
    """The revision the change is made from (optimistic locking)."""

    revision: int = Field(ge=1)


class PlanUpdateIn(RevisionIn):
    """A whole edited plan document."""

    plan: Plan


class SchemeIn(RevisionIn):
    """A scheme to add or replace."""

    scheme: Scheme


class KpisIn(RevisionIn):
    """The whole list of a scheme's KPIs (an empty list removes them all)."""

    kpis: list[Kpi]


class MilestoneIn(RevisionIn):
    """A milestone to add or replace."""

    milestone: Milestone


class RiskIn(RevisionIn):
    """A risk to add or replace."""

    risk: Risk


class FundingIn(RevisionIn):
    """The plan's funding lines and the totals it states (null: it states none)."""

    funding: list[FundingLine]
    stated_totals: StatedTotals | None = None


class SignOffIn(RevisionIn):
    """A sign-off for one of the user's own organisations."""

    org: str = Field(min_length=2, max_length=32)
    note: str = Field(default="", max_length=1000)


class ReopenIn(RevisionIn):
    """Why the plan is reopened."""

    reason: str = Field(min_length=1, max_length=1000)


class ChangeOut(_Strict):
    """The result of a change: the plan's new revision and status, and the audit entry."""

    id: str
    revision: int
    status: str
    action: str
    detail: dict[str, Any]


class AuditOut(_Strict):
    """One audit-log entry of a plan."""

    id: int
    at: Timestamp
    who: str
    action: str
    detail: dict[str, Any]


def _changed(ctx: Ctx, plan: Plan, action: str, detail: dict[str, Any]) -> ChangeOut:
    return ChangeOut(
        id=plan.id,
        revision=ctx.plans.revision(plan.id),
        status=str(plan.status),
        action=action,
        detail=detail,
    )


@router.get("/whoami", responses=_ERRORS)
def whoami(user: RequiredUser) -> WhoAmI:
    """The user the token (or session) belongs to, with their roles."""
    return WhoAmI.model_validate(account_summary(user))


@router.get("/plans", responses=_ERRORS)
def list_plans(ctx: Ctx, user: RequiredUser) -> list[PlanSummaryOut]:
    """Plans the user may see: published ones, and every plan of their footprints."""
    out = []
    for summary in ctx.plans.summaries():
        plan = ctx.plans.get(summary.id, summary.revision)
        if summary.status == "published" or is_footprint_member(user, plan):
            out.append(PlanSummaryOut.model_validate(summary.__dict__))
    return out


@router.post("/plans", status_code=201, responses=_CHANGE_ERRORS)
def create_plan(request: Request, ctx: Ctx, user: RequiredUser, plan: Plan) -> ChangeOut:
    """Store a new draft plan document (analysts and footprint admins of its footprint)."""
    actions.create_plan(ctx, request, plan, user)
    return _changed(ctx, plan, "created", {"type": str(plan.type)})


@router.get("/plans/{plan_id}", responses=_ERRORS)
def get_plan(ctx: Ctx, user: RequiredUser, plan_id: str) -> PlanOut:
    """A plan document and its revision."""
    plan, revision = actions.load_plan(ctx, plan_id, user)
    return PlanOut(revision=revision, plan=plan)


@router.put("/plans/{plan_id}", responses=_CHANGE_ERRORS)
def update_plan(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: PlanUpdateIn
) -> ChangeOut:
    """Replace a draft plan's content (plan editors; workflow fields cannot change here)."""
    old, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.replace_plan(ctx, request, old, body.plan, body.revision, user)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/schemes", status_code=201, responses=_CHANGE_ERRORS)
def add_scheme(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: SchemeIn
) -> ChangeOut:
    """Add a scheme to a draft (plan editors; scheme owners for their own organisation)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_scheme(ctx, request, plan, body.revision, user, body.scheme, None)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.put("/plans/{plan_id}/schemes/{scheme_id}", responses=_PART_ERRORS)
def put_scheme(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str, body: SchemeIn
) -> ChangeOut:
    """Replace one scheme of a draft (plan editors; scheme owners for their own schemes)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_scheme(ctx, request, plan, body.revision, user, body.scheme, scheme_id)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.put("/plans/{plan_id}/schemes/{scheme_id}/kpis", responses=_PART_ERRORS)
def put_kpis(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, scheme_id: str, body: KpisIn
) -> ChangeOut:
    """Replace a scheme's KPIs (plan editors; scheme owners for the schemes their organisation
    leads)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_kpis(ctx, request, plan, body.revision, user, scheme_id, body.kpis)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/milestones", status_code=201, responses=_CHANGE_ERRORS)
def add_milestone(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: MilestoneIn
) -> ChangeOut:
    """Add a milestone to a draft (plan editors): its dependencies must exist and form no
    cycle."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_milestone(ctx, request, plan, body.revision, user, body.milestone, None)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.put("/plans/{plan_id}/milestones/{milestone_id}", responses=_PART_ERRORS)
def put_milestone(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_id: str,
    milestone_id: str,
    body: MilestoneIn,
) -> ChangeOut:
    """Replace one milestone of a draft (plan editors)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_milestone(
        ctx, request, plan, body.revision, user, body.milestone, milestone_id
    )
    return _changed(ctx, change.plan, change.action, change.detail)


@router.delete("/plans/{plan_id}/milestones/{milestone_id}", responses=_DELETE_ERRORS)
def delete_milestone(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_id: str,
    milestone_id: str,
    revision: Annotated[int, Query(ge=1, description="The revision the change is made from")],
) -> ChangeOut:
    """Remove a milestone from a draft (plan editors; refused while another depends on it)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_milestone(ctx, request, plan, revision, user, None, milestone_id)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/risks", status_code=201, responses=_CHANGE_ERRORS)
def add_risk(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: RiskIn
) -> ChangeOut:
    """Add a risk to a draft's register (plan editors)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_risk(ctx, request, plan, body.revision, user, body.risk, None)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.put("/plans/{plan_id}/risks/{risk_id}", responses=_PART_ERRORS)
def put_risk(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, risk_id: str, body: RiskIn
) -> ChangeOut:
    """Replace one risk of a draft (plan editors)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_risk(ctx, request, plan, body.revision, user, body.risk, risk_id)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.delete("/plans/{plan_id}/risks/{risk_id}", responses=_DELETE_ERRORS)
def delete_risk(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    plan_id: str,
    risk_id: str,
    revision: Annotated[int, Query(ge=1, description="The revision the change is made from")],
) -> ChangeOut:
    """Remove a risk from a draft (plan editors)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_risk(ctx, request, plan, revision, user, None, risk_id)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.put("/plans/{plan_id}/funding", responses=_CHANGE_ERRORS)
def put_funding(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: FundingIn
) -> ChangeOut:
    """Replace a draft's funding lines and stated totals (plan editors; money in a locked year
    cannot change after the lock deadline)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.save_funding(
        ctx, request, plan, body.revision, user, body.funding, body.stated_totals
    )
    return _changed(ctx, change.plan, change.action, change.detail)


@router.get("/plans/{plan_id}/check", responses=_ERRORS)
def check_plan(ctx: Ctx, user: RequiredUser, plan_id: str) -> dict[str, Any]:
    """Run the assurance checks: findings (rule, severity, location, message) and totals."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    return actions.check(ctx, plan).as_dict()


@router.post("/plans/{plan_id}/submit", responses=_CHANGE_ERRORS)
def submit_plan(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: RevisionIn
) -> ChangeOut:
    """Submit a draft for sign-off (refused while its checks report errors)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.submit(ctx, request, plan, body.revision, user)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/signoff", responses=_CHANGE_ERRORS)
def sign_off_plan(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: SignOffIn
) -> ChangeOut:
    """Sign a submitted plan off for one of the user's own organisations."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.sign(ctx, request, plan, body.revision, user, body.org, body.note)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/publish", responses=_CHANGE_ERRORS)
def publish_plan(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: RevisionIn
) -> ChangeOut:
    """Publish a signed-off plan (footprint admins)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.publish(ctx, request, plan, body.revision, user)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.post("/plans/{plan_id}/reopen", responses=_CHANGE_ERRORS)
def reopen_plan(
    request: Request, ctx: Ctx, user: RequiredUser, plan_id: str, body: ReopenIn
) -> ChangeOut:
    """Return a plan to draft as a new version (footprint admins); sign-offs are cleared."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    change = actions.reopen(ctx, request, plan, body.revision, user, body.reason)
    return _changed(ctx, change.plan, change.action, change.detail)


@router.get("/plans/{plan_id}/audit", responses=_ERRORS)
def plan_audit(ctx: Ctx, user: RequiredUser, plan_id: str) -> list[AuditOut]:
    """The plan's audit log, oldest first (footprint members)."""
    plan, _ = actions.load_plan(ctx, plan_id, user)
    require(is_footprint_member(user, plan), "only the footprint's members see the audit log")
    return [
        AuditOut(id=e.id, at=e.at, who=e.who, action=e.action, detail=e.detail)
        for e in ctx.plans.audit(plan_id)
    ]
