"""Plan operations shared by the plan pages and the JSON API.

Each function checks the permission, applies the workflow rule
(:mod:`flowplan.plans.workflow`) and saves with optimistic locking: the caller passes the
revision the user's change was made from, and a plan saved since then raises
:class:`~flowplan.web.deps.Conflict` naming who changed it and when — nothing is written.

The parts of a draft — a scheme (:func:`save_scheme`), its KPIs (:func:`save_kpis`,
:func:`save_kpi`), a milestone, a risk (:func:`save_milestone`, :func:`save_risk`: add, replace
or remove), the funding lines with the stated totals (:func:`save_funding`) — are changed in the
plan and saved by one path: the integrity checks of a loaded plan (ids unique, references
resolve, no dependency cycle, a milestone schedule that stays in the calendar), then
:func:`flowplan.plans.workflow.update` (drafts only; money in a locked year refused, the locked
fields named in the refusal's problems).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from fastapi import Request
from pydantic import ValidationError

from flowplan.errors import UsageError
from flowplan.plans import workflow
from flowplan.plans.checks import CheckReport, check_plan
from flowplan.plans.document import integrity_problems, problems_from_validation
from flowplan.plans.model import (
    FundingLine,
    Kpi,
    Member,
    Milestone,
    Plan,
    PlanStatus,
    PlanType,
    Risk,
    Role,
    Scheme,
    StatedTotals,
)
from flowplan.plans.requirements import latest_version
from flowplan.store.users import Account
from flowplan.web.audit import change_detail
from flowplan.web.deps import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    Refused,
    Services,
    can_create_plan,
    can_edit_plan,
    can_edit_scheme,
    can_publish,
    can_sign_for,
    can_submit,
    can_view_plan,
    require,
    scheme_owner_orgs,
    signatory_orgs,
)

CONFLICT_TEXT = (
    "This plan was changed by {who} at {at} since you opened it; "
    "reload — your changes were not saved."
)


def load_plan(ctx: Services, plan_id: str, user: Account | None) -> tuple[Plan, int]:
    """A plan the user may see, with its current revision.

    Raises:
        NotAuthenticated: an anonymous visitor asked for a plan that is not published.
        NotFound: no such plan, or the signed-in user may not see it (existence not revealed).
    """
    try:
        revision = ctx.plans.revision(plan_id)
        plan = ctx.plans.get(plan_id, revision)
    except UsageError:
        raise NotFound(f"no plan '{plan_id}'") from None
    if not can_view_plan(user, plan):
        if user is None:
            raise NotAuthenticated("sign in to see this plan")
        raise NotFound(f"no plan '{plan_id}'")
    return plan, revision


def conflict(ctx: Services, plan_id: str, expected: int) -> Conflict:
    """The 409 for a save made from revision ``expected`` of a plan that has moved on."""
    entries = ctx.plans.audit(plan_id)
    last = entries[-1]
    current = ctx.plans.revision(plan_id)
    text = CONFLICT_TEXT.format(who=last.who, at=last.at.strftime("%d %b %Y %H:%M:%S"))
    detail = f"{text} (you opened revision {expected}; it is now revision {current})"
    return Conflict(detail, last.who, last.at, current)


def save(
    ctx: Services,
    request: Request,
    change: workflow.Change,
    user: Account,
    expected_revision: int,
) -> int:
    """Save a workflow change made from ``expected_revision``; returns the new revision.

    Raises:
        Conflict: the plan was saved since ``expected_revision``; nothing was written.
    """
    plan_id = change.plan.id
    if ctx.plans.revision(plan_id) != expected_revision:
        raise conflict(ctx, plan_id, expected_revision)
    try:
        return ctx.plans.save(
            change.plan,
            action=change.action,
            detail=change_detail(request, change.detail),
            who=user.username,
            expected_revision=expected_revision,
        )
    except UsageError:
        if ctx.plans.revision(plan_id) != expected_revision:  # lost a race while writing
            raise conflict(ctx, plan_id, expected_revision) from None
        raise


def check(ctx: Services, plan: Plan) -> CheckReport:
    """Run the assurance checks (the locked-years rule compares with the plan as it stood at
    its lock deadline)."""
    previous = None
    if plan.lock_deadline is not None:
        previous = ctx.plans.as_of(plan.id, plan.lock_deadline)
    return check_plan(plan, previous=previous, today=date.today())


def _workflow(step: Any, *args: Any, **kwargs: Any) -> workflow.Change:
    try:
        change: workflow.Change = step(*args, **kwargs)
    except workflow.WorkflowError as exc:
        raise Refused(str(exc)) from None
    return change


def submit(
    ctx: Services, request: Request, plan: Plan, revision: int, user: Account
) -> workflow.Change:
    """Submit a draft for sign-off (its checks must report no errors)."""
    require(can_submit(user, plan), "only the plan's analysts and footprint admins may submit it")
    change = _workflow(workflow.submit, plan, check(ctx, plan).findings)
    save(ctx, request, change, user, revision)
    return change


def sign(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    org: str,
    note: str = "",
) -> workflow.Change:
    """Sign the plan off for ``org``: only a signatory of ``org`` may (their own organisation).

    Raises:
        Forbidden: the user does not sign for ``org``.
    """
    if not can_sign_for(user, org):
        own = ", ".join(sorted(signatory_orgs(user))) or "none"
        raise Forbidden(
            f"you may sign off only for your own organisation(s) ({own}), not for {org}"
        )
    change = _workflow(
        workflow.sign_off,
        plan,
        org=org,
        user=user.username,
        at=datetime.now(UTC).replace(microsecond=0),
        note=note,
    )
    save(ctx, request, change, user, revision)
    return change


def publish(
    ctx: Services, request: Request, plan: Plan, revision: int, user: Account
) -> workflow.Change:
    """Publish a signed-off plan (footprint admins)."""
    require(can_publish(user, plan), "only the footprint's admins may publish a plan")
    change = _workflow(workflow.publish, plan)
    save(ctx, request, change, user, revision)
    return change


def reopen(
    ctx: Services, request: Request, plan: Plan, revision: int, user: Account, reason: str
) -> workflow.Change:
    """Return a plan to draft as a new version (footprint admins); sign-offs are cleared."""
    require(can_publish(user, plan), "only the footprint's admins may reopen a plan")
    change = _workflow(workflow.reopen, plan, reason=reason)
    save(ctx, request, change, user, revision)
    return change


def replace_plan(
    ctx: Services, request: Request, old: Plan, new: Plan, revision: int, user: Account
) -> workflow.Change:
    """Save an edited draft document (plan editors)."""
    require(can_edit_plan(user, old), "only the plan's analysts and footprint admins may edit it")
    return _apply(ctx, request, old, new, revision, user)


class _Keyed(Protocol):
    """A part of a plan with an id (scheme, milestone, risk)."""

    @property
    def id(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


def find(items: Sequence[K], item_id: str | None, what: str, plan: Plan) -> K | None:
    """The item called ``item_id`` (None when ``item_id`` is None: a new item).

    Raises:
        NotFound: there is no such item.
    """
    if item_id is None:
        return None
    found = next((x for x in items if x.id == item_id), None)
    if found is None:
        raise NotFound(f"plan '{plan.id}' has no {what} '{item_id}'")
    return found


def _replaced(items: Sequence[K], item: K | None, replaces: str | None, what: str) -> list[K]:
    """``items`` with ``item`` added (``replaces`` None), put in the place of item
    ``replaces``, or with item ``replaces`` removed (``item`` None).

    Raises:
        Refused: ``item``'s id is already used by another item.
    """
    if item is not None and item.id != replaces and any(x.id == item.id for x in items):
        raise Refused(
            f"{what} id '{item.id}' is already used in this plan",
            [{"field": "id", "rule": f"{what} ids are unique in a plan", "value": item.id}],
        )
    if replaces is None:
        return [*items] if item is None else [*items, item]
    out: list[K] = []
    for x in items:
        if x.id != replaces:
            out.append(x)
        elif item is not None:
            out.append(item)
    return out


def save_scheme(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    scheme: Scheme,
    replaces: str | None,
) -> workflow.Change:
    """Add a scheme (``replaces`` None) or replace scheme ``replaces`` with ``scheme``.

    Scheme owners may only save schemes led by their own organisation, and may not hand a
    scheme to another organisation.

    Raises:
        NotFound: ``replaces`` is not a scheme of the plan.
        Forbidden: the user may not edit this scheme.
        Refused: the scheme id is taken, a cross-reference breaks, or the workflow refuses.
        Conflict: the plan changed since ``revision``.
    """
    old = find(plan.schemes, replaces, "scheme", plan)
    require(can_edit_scheme(user, plan, old), "you may not edit this scheme")
    if not can_edit_plan(user, plan) and scheme.lead.organisation not in scheme_owner_orgs(
        user, plan
    ):
        raise Forbidden(
            "as a scheme owner you may only save schemes led by your own organisation "
            f"({', '.join(sorted(scheme_owner_orgs(user, plan)))})"
        )
    schemes = _replaced(plan.schemes, scheme, replaces, "scheme")
    return _apply(ctx, request, plan, plan.model_copy(update={"schemes": schemes}), revision, user)


def save_kpis(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    scheme_id: str,
    kpis: Sequence[Kpi],
) -> workflow.Change:
    """Replace the KPIs of scheme ``scheme_id`` with ``kpis`` (plan editors, and the owners of
    the scheme's lead organisation).

    Raises:
        NotFound: no such scheme.
        Forbidden: the user may not edit this scheme's KPIs.
        Refused: a KPI names an unknown metric, or the workflow refuses.
        Conflict: the plan changed since ``revision``.
    """
    scheme = find(plan.schemes, scheme_id, "scheme", plan)
    assert scheme is not None
    require(
        can_edit_scheme(user, plan, scheme),
        f"you may not edit the KPIs of scheme {scheme_id} (scheme owners edit the KPIs of the "
        "schemes their own organisation leads)",
    )
    changed = scheme.model_copy(update={"kpis": list(kpis)})
    schemes = [changed if s.id == scheme_id else s for s in plan.schemes]
    return _apply(ctx, request, plan, plan.model_copy(update={"schemes": schemes}), revision, user)


def find_kpi(plan: Plan, scheme_id: str, index: int | None) -> tuple[Scheme, Kpi | None]:
    """Scheme ``scheme_id`` and its KPI number ``index`` (from 0; None: a new KPI).

    Raises:
        NotFound: no such scheme, or no KPI ``index``.
    """
    scheme = find(plan.schemes, scheme_id, "scheme", plan)
    assert scheme is not None
    if index is None:
        return scheme, None
    if not 0 <= index < len(scheme.kpis):
        raise NotFound(f"scheme '{scheme_id}' has no KPI {index}")
    return scheme, scheme.kpis[index]


def save_kpi(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    scheme_id: str,
    kpi: Kpi | None,
    index: int | None,
) -> workflow.Change:
    """Add a KPI to scheme ``scheme_id`` (``index`` None), replace its KPI number ``index``
    (from 0) with ``kpi``, or remove that KPI (``kpi`` None). See :func:`save_kpis`.

    Raises:
        NotFound: no such scheme, or no KPI ``index``.
    """
    scheme, _ = find_kpi(plan, scheme_id, index)
    kpis = list(scheme.kpis)
    if index is None:
        if kpi is None:
            raise ValueError("save_kpi needs a KPI or an index")
        kpis.append(kpi)
    elif kpi is None:
        del kpis[index]
    else:
        kpis[index] = kpi
    return save_kpis(ctx, request, plan, revision, user, scheme_id, kpis)


def save_milestone(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    milestone: Milestone | None,
    replaces: str | None,
) -> workflow.Change:
    """Add a milestone (``replaces`` None), replace milestone ``replaces`` with ``milestone``,
    or remove it (``milestone`` None) — plan editors only.

    Raises:
        Forbidden: the user may not edit the plan.
        NotFound: ``replaces`` is not a milestone of the plan.
        Refused: the id is taken, a dependency or scheme is unknown, the dependencies form a
            cycle, another milestone still depends on a removed one, or the workflow refuses.
        Conflict: the plan changed since ``revision``.
    """
    require(
        can_edit_plan(user, plan),
        "only the plan's analysts and footprint admins may edit its milestones",
    )
    find(plan.milestones, replaces, "milestone", plan)
    milestones = _replaced(plan.milestones, milestone, replaces, "milestone")
    new = plan.model_copy(update={"milestones": milestones})
    return _apply(ctx, request, plan, new, revision, user)


def save_risk(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    risk: Risk | None,
    replaces: str | None,
) -> workflow.Change:
    """Add a risk (``replaces`` None), replace risk ``replaces`` with ``risk``, or remove it
    (``risk`` None) — plan editors only.

    Raises:
        Forbidden: the user may not edit the plan.
        NotFound: ``replaces`` is not a risk of the plan.
        Refused: the id is taken, the scheme is unknown, or the workflow refuses.
        Conflict: the plan changed since ``revision``.
    """
    require(
        can_edit_plan(user, plan),
        "only the plan's analysts and footprint admins may edit its risks",
    )
    find(plan.risks, replaces, "risk", plan)
    risks = _replaced(plan.risks, risk, replaces, "risk")
    return _apply(ctx, request, plan, plan.model_copy(update={"risks": risks}), revision, user)


def save_funding(
    ctx: Services,
    request: Request,
    plan: Plan,
    revision: int,
    user: Account,
    funding: Sequence[FundingLine],
    stated_totals: StatedTotals | None,
) -> workflow.Change:
    """Replace the plan's funding lines and stated totals — plan editors only. Money in a
    locked year cannot change after the lock deadline.

    Raises:
        Forbidden: the user may not edit the plan.
        Refused: the workflow refuses (not a draft, a locked year).
        Conflict: the plan changed since ``revision``.
    """
    require(
        can_edit_plan(user, plan),
        "only the plan's analysts and footprint admins may edit its funding",
    )
    new = plan.model_copy(update={"funding": list(funding), "stated_totals": stated_totals})
    return _apply(ctx, request, plan, new, revision, user)


def _apply(
    ctx: Services, request: Request, old: Plan, new: Plan, revision: int, user: Account
) -> workflow.Change:
    """Check ``new`` (integrity, the milestones' schedule in the calendar included), apply the
    workflow's edit rules (drafts only, locked years) and save it from ``revision``."""
    _require_integrity(new)
    change = _update(old, new)
    save(ctx, request, change, user, revision)
    return change


def _update(old: Plan, new: Plan) -> workflow.Change:
    """The workflow's edit of ``old`` into ``new``; a refusal names the locked-year fields."""
    today = date.today()
    try:
        return workflow.update(old, new, today=today)
    except workflow.WorkflowError as exc:
        problems: list[dict[str, str]] = []
        if old.status is PlanStatus.draft and new.id == old.id:
            problems = [
                {"field": f.location, "rule": f.message, "value": f.stated}
                for f in workflow.locked_year_findings(old, new, today=today)
            ]
        raise Refused(str(exc), problems) from None


def _require_integrity(plan: Plan) -> None:
    found = integrity_problems(plan)
    if found:
        raise Refused(
            "; ".join(
                f"{p.column}: {p.rule}" + (f" — {p.value}" if p.value else "") for p in found
            ),
            [{"field": p.column, "rule": p.rule, "value": p.value} for p in found],
        )


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    """A pydantic error as ``{"field", "rule", "value"}`` problems (field paths as in plans)."""
    return [
        {"field": p.column, "rule": p.rule, "value": p.value}
        for p in problems_from_validation("", exc)
    ]


def slug(text: str) -> str:
    """A plan id from free text (lower case, hyphens)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def new_plan(
    ctx: Services,
    *,
    plan_type: PlanType,
    footprint: str,
    title: str | None = None,
    start: date | None = None,
    end: date | None = None,
    plan_id: str | None = None,
) -> Plan:
    """A draft plan for a stored footprint; its member organisations become plan members.

    Raises:
        Refused: unknown footprint, or the dates or id break the plan rules.
    """
    found = [f for f in ctx.store.footprints() if f["code"] == footprint]
    if not found:
        raise Refused(f"no footprint '{footprint}' in the store")
    today = date.today()
    first = start or date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    last = end or date(first.year + 1, first.month, first.day) - timedelta(days=1)
    members = []
    for code in found[0]["members"]:
        org = ctx.store.organisation(code)
        members.append(Member(code=code, name=org.get("name") or code, roles=[Role.engaged]))
    try:
        return Plan(
            id=plan_id or slug(f"{footprint}-{plan_type}-{first.year}"),
            type=plan_type,
            title=title
            or f"{found[0]['name'] or footprint} {plan_type.value.replace('_', ' ')} plan",
            footprint=footprint,
            period_start=first,
            period_end=last,
            requirements_version=latest_version(plan_type),
            members=members,
        )
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise Refused("; ".join(f"{p['field']}: {p['rule']}" for p in problems), problems) from None


def create_plan(ctx: Services, request: Request, plan: Plan, user: Account) -> int:
    """Store a new draft plan (analysts and footprint admins of its footprint).

    Raises:
        Forbidden: the user may not create plans for the footprint.
        Refused: not a clean draft, or the id is taken.
    """
    require(
        can_create_plan(user, plan.footprint),
        f"you may not create plans for footprint {plan.footprint}",
    )
    if plan.status is not PlanStatus.draft or plan.signoffs:
        raise Refused("a new plan must be a draft without sign-offs")
    _require_integrity(plan)
    if ctx.plans.exists(plan.id):
        raise Refused(f"plan id '{plan.id}' is already used")
    return ctx.plans.create(plan, who=user.username)
