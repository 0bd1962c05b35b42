"""What every route depends on: the app's services, the current user, CSRF and permissions.

Routers take ``ctx: Services`` and ``user: CurrentUser`` (or ``RequiredUser``) as parameters and
ask the permission helpers below before they change anything. The helpers are plain functions
of an :class:`~flowplan.store.users.Account` (None = anonymous) and a plan, so pages, the API
and tests share one set of rules:

=================  ============================================================================
helper             who passes
=================  ============================================================================
can_view_plan      anyone for a published plan; footprint members (any role) and admins for
                   other statuses
can_edit_plan      analysts and footprint admins of the plan's footprint; admins
can_edit_scheme    those who can edit the plan, and scheme owners for schemes their
                   organisation leads
can_create_plan    analysts and footprint admins of the footprint; admins
can_submit         as can_edit_plan
can_publish        footprint admins of the plan's footprint; admins (also reopen)
can_sign_for(org)  signatories of that organisation only (admins included: no override)
can_run_models     analysts and footprint admins (anywhere they hold the role); admins
=================  ============================================================================

A grant scoped to an organisation reaches the plans whose members include it and the
footprints it belongs to; a grant scoped to a footprint reaches that footprint's plans; an
unscoped grant reaches every plan.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from flowplan.plans.model import Plan, PlanStatus, Scheme
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store
from flowplan.store.users import Account, Grant, Role, UserStore
from flowplan.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    LoginRateLimiter,
    SessionSettings,
    csrf_valid,
)

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"
EDIT_ROLES = frozenset({Role.analyst, Role.footprint_admin})


@dataclass
class Services:
    """What the app holds for its routes (``app.state.flowplan``).

    Attributes:
        store: the opened store.
        plans: plan documents, revisions and their audit log.
        users: accounts, roles, tokens and the web audit log.
        limiter: the login rate limiter.
        session: the session cookie settings.
        templates: the Jinja2 templates (``web/templates``).
    """

    store: Store
    plans: PlanStore
    users: UserStore
    limiter: LoginRateLimiter
    session: SessionSettings
    templates: Jinja2Templates


# --- Errors the exception handlers turn into pages or JSON ------------------------------------


class NotAuthenticated(HTTPException):
    """401: sign in first (pages redirect to ``/login``; the API answers JSON)."""

    def __init__(self, detail: str = "sign in first") -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(HTTPException):
    """403: signed in, but this user may not do this."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, detail)


class NotFound(HTTPException):
    """404: no such thing (or not visible to this user)."""

    def __init__(self, detail: str) -> None:
        super().__init__(404, detail)


class Conflict(HTTPException):
    """409: the plan changed since the user opened it; nothing was saved.

    Attributes:
        changed_by: who made the latest change.
        changed_at: when.
        revision: the plan's current revision.
    """

    def __init__(self, detail: str, changed_by: str, changed_at: datetime, revision: int) -> None:
        super().__init__(409, detail)
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.revision = revision


class Refused(HTTPException):
    """422: the request is understood but the plan's rules refuse it (message says why).

    Attributes:
        problems: the individual problems (field path and rule), when there are several.
    """

    def __init__(self, detail: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(422, detail)
        self.problems = problems or []


# --- Dependencies ------------------------------------------------------------------------------


def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.flowplan
    return services


Ctx = Annotated[Services, Depends(get_services)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, None without the header.

    Raises:
        NotAuthenticated: the header is there but is not a bearer token.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("malformed Authorization header; send 'Bearer <token>'")
    return token.strip()


def current_user(request: Request, ctx: Ctx) -> Account | None:
    """The signed-in account (API token or session cookie), or None for an anonymous visitor.

    A request with an ``Authorization`` header is authenticated by its token only; a bad token
    is a 401, never a silent fall-back to anonymous.
    """
    if hasattr(request.state, "account"):
        cached: Account | None = request.state.account
        return cached
    token = bearer_token(request)
    account: Account | None
    if token is not None:
        account = ctx.users.account_for_token(token)
        if account is None:
            raise NotAuthenticated("invalid or revoked API token")
        request.state.via = "api-token"
    else:
        account = None
        uid = request.session.get(SESSION_USER)
        if isinstance(uid, int):
            found = ctx.users.by_id(uid)
            if (
                found is not None
                and found.active
                and found.session_epoch == request.session.get(SESSION_EPOCH)
            ):
                account = found
            else:  # ended (logout elsewhere, password change, disabled): forget it
                request.session.pop(SESSION_USER, None)
                request.session.pop(SESSION_EPOCH, None)
    request.state.account = account
    return account


CurrentUser = Annotated[Account | None, Depends(current_user)]


def require_user(user: CurrentUser) -> Account:
    """The signed-in account; anonymous visitors get a 401 (pages: a redirect to /login)."""
    if user is None:
        raise NotAuthenticated()
    return user


RequiredUser = Annotated[Account, Depends(require_user)]


def require_admin(user: RequiredUser) -> Account:
    """The signed-in site administrator; others get a 403."""
    if not user.is_admin:
        raise Forbidden("only a site administrator may do this")
    return user


AdminUser = Annotated[Account, Depends(require_admin)]


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe request (POST, PUT, PATCH, DELETE) without the session's CSRF token.

    The token comes from the ``X-CSRF-Token`` header or the ``csrf_token`` form field. Requests
    with an ``Authorization`` header are authenticated by the token alone (a browser never adds
    one by itself), so they need no CSRF token; nor do API requests without a signed-in session
    (they carry no credentials and are answered 401).

    Raises:
        Forbidden: the token is missing or wrong.
    """
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return
    if request.url.path.startswith("/api/") and SESSION_USER not in request.session:
        return  # no token and no signed-in session: the route answers 401
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_valid(request.session, sent):
        raise Forbidden(
            "the form's security token (CSRF) is missing or out of date; "
            "reload the page and try again"
        )


# --- Permission helpers ------------------------------------------------------------------------


def covers(grant: Grant, footprint: str, members: Collection[str] = ()) -> bool:
    """Whether a grant reaches a plan of ``footprint`` whose member organisations are
    ``members``."""
    if grant.unscoped or footprint in grant.footprints:
        return True
    return grant.org is not None and grant.org in members


def _member_codes(plan: Plan) -> set[str]:
    return {m.code for m in plan.members}


def _grants_for(user: Account, plan: Plan, roles: Collection[Role] | None = None) -> list[Grant]:
    members = _member_codes(plan)
    return [
        g
        for g in user.grants
        if (roles is None or g.role in roles) and covers(g, plan.footprint, members)
    ]


def is_footprint_member(user: Account | None, plan: Plan) -> bool:
    """Whether the user holds any role reaching the plan (admins always do)."""
    if user is None:
        return False
    return user.is_admin or bool(_grants_for(user, plan))


def can_view_plan(user: Account | None, plan: Plan) -> bool:
    """Published plans are public; other statuses are for footprint members."""
    return plan.status is PlanStatus.published or is_footprint_member(user, plan)


def can_edit_plan(user: Account | None, plan: Plan) -> bool:
    """Analysts and footprint admins reaching the plan, and admins (the workflow decides
    whether the plan's status allows edits)."""
    if user is None:
        return False
    return user.is_admin or bool(_grants_for(user, plan, EDIT_ROLES))


def scheme_owner_orgs(user: Account | None, plan: Plan) -> set[str]:
    """Organisations whose schemes the user may edit as a scheme owner in this plan."""
    if user is None:
        return set()
    return {g.org for g in _grants_for(user, plan, [Role.scheme_owner]) if g.org}


def can_edit_scheme(user: Account | None, plan: Plan, scheme: Scheme | None) -> bool:
    """Whether the user may edit ``scheme`` (None: add a new scheme) in ``plan``.

    Plan editors may; a scheme owner may when the scheme's lead organisation is theirs (for a
    new scheme: when they have any scheme-owner grant in the plan; the lead they choose is
    checked when saving).
    """
    if can_edit_plan(user, plan):
        return True
    owned = scheme_owner_orgs(user, plan)
    if scheme is None:
        return bool(owned)
    return scheme.lead.organisation in owned


def can_create_plan(user: Account | None, footprint: str) -> bool:
    """Analysts and footprint admins of the footprint, and admins."""
    if user is None:
        return False
    if user.is_admin:
        return True
    return any(g.role in EDIT_ROLES and covers(g, footprint) for g in user.grants)


def can_submit(user: Account | None, plan: Plan) -> bool:
    """Who may submit a draft for sign-off: the plan's editors."""
    return can_edit_plan(user, plan)


def can_publish(user: Account | None, plan: Plan) -> bool:
    """Footprint admins reaching the plan, and admins (publish and reopen)."""
    if user is None:
        return False
    return user.is_admin or bool(_grants_for(user, plan, [Role.footprint_admin]))


def can_sign_for(user: Account | None, org: str) -> bool:
    """Whether the user is a signatory of organisation ``org`` (their own organisation only;
    no administrator override)."""
    if user is None:
        return False
    return any(g.role is Role.signatory and g.org == org for g in user.grants)


def signatory_orgs(user: Account | None) -> set[str]:
    """The organisations the user signs for."""
    if user is None:
        return set()
    return {g.org for g in user.grants if g.role is Role.signatory and g.org}


def can_run_models(user: Account | None, footprint: str | None = None) -> bool:
    """Analysts and footprint admins (of ``footprint`` when given), and admins: edit data and
    run demand, capacity and simulation models."""
    if user is None:
        return False
    if user.is_admin:
        return True
    return any(
        g.role in EDIT_ROLES and (footprint is None or covers(g, footprint)) for g in user.grants
    )


def require(allowed: bool, message: str) -> None:
    """Raise a 403 with ``message`` unless ``allowed``."""
    if not allowed:
        raise Forbidden(message)


def account_summary(user: Account) -> dict[str, Any]:
    """JSON form of an account (no secrets)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "admin": user.is_admin,
        "roles": [
            {"role": str(g.role), "org": g.org, "footprint": g.footprint} for g in user.grants
        ],
    }
