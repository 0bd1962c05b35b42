"""People and permissions: ``/admin/users`` (accounts, roles, enable/disable) and ``/account``
(the signed-in user's own API tokens).

Who may do what:

* **site administrators** create users (administrators too), grant and revoke any role with any
  scope (everywhere, an organisation, a footprint), enable and disable accounts, and revoke
  anyone's API tokens;
* **footprint administrators** create users (not administrators) and grant and revoke roles
  scoped to a footprint they administer or to an organisation that is a member of one; any
  other scope — another footprint, an outside organisation, everywhere — is refused with 403;
* **everyone signed in** lists, issues and revokes their own API tokens on ``/account/tokens``
  (a new token is shown once, on the page that answers the form).

These pages work in a signed-in browser session only: a request authenticated by an API token
is refused (403), so a leaked token cannot mint new tokens or grant itself roles.

Every change is made by the same :class:`~flowplan.store.users.UserStore` methods as the
``flowplan users`` commands; each writes its ``web_audit`` entry in the change's own transaction
(who, when, what), with how it came in (``via: web`` and the client address, from
:func:`flowplan.web.audit.change_detail`). Refused attempts are audited too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from flowplan.errors import FlowplanError
from flowplan.store.users import (
    MIN_PASSWORD_LENGTH,
    Account,
    Grant,
    Role,
    WebAuditEntry,
)
from flowplan.web.audit import change_detail, record
from flowplan.web.deps import Ctx, Forbidden, NotFound, RequiredUser, require
from flowplan.web.templating import flash, manages_users, render

router = APIRouter(include_in_schema=False)

#: How each role is named on the pages.
ROLE_LABELS: dict[Role, str] = {
    Role.viewer: "viewer",
    Role.analyst: "analyst",
    Role.scheme_owner: "scheme owner",
    Role.signatory: "organisation signatory",
    Role.footprint_admin: "footprint admin",
}
#: Audit actions shown on a user's page (sign-ins are left to site administrators).
MANAGEMENT_ACTIONS = frozenset(
    {
        "user_created",
        "user_enabled",
        "user_disabled",
        "password_changed",
        "role_granted",
        "role_revoked",
        "role_refused",
        "user_create_refused",
        "token_created",
        "token_revoked",
    }
)
Text = Annotated[str, Form(max_length=255)]
OptionalCode = Annotated[str, Form(max_length=32)]


# --- who may manage whom -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """The role scopes a user may grant and revoke.

    Attributes:
        everywhere: any scope, unscoped grants included (site administrators).
        footprints: footprints the user administers.
        orgs: organisations that are members of those footprints.
    """

    everywhere: bool
    footprints: frozenset[str] = frozenset()
    orgs: frozenset[str] = frozenset()

    def allows(self, org: str | None, footprint: str | None) -> bool:
        """Whether a grant with this scope is within reach (unscoped: administrators only)."""
        if self.everywhere:
            return True
        if org and footprint:
            return False
        if footprint:
            return footprint in self.footprints
        if org:
            return org in self.orgs
        return False

    def allows_grant(self, grant: Grant) -> bool:
        """Whether ``grant`` may be revoked by this user."""
        return self.allows(grant.org, grant.footprint)


def administered_footprints(user: Account) -> set[str]:
    """The footprints the user holds the footprint admin role for."""
    return {g.footprint for g in user.grants if g.role is Role.footprint_admin and g.footprint}


def reach_of(user: Account, footprints: Collection[dict[str, Any]]) -> Reach:
    """What ``user`` may grant, given the store's footprints (``Store.footprints()``)."""
    if user.is_admin:
        return Reach(everywhere=True)
    mine = administered_footprints(user)
    orgs = {org for f in footprints if f["code"] in mine for org in f["members"]}
    return Reach(everywhere=False, footprints=frozenset(mine), orgs=frozenset(orgs))


def session_user(request: Request, user: RequiredUser) -> Account:
    """The signed-in user of a browser session (anonymous → ``/login``).

    Raises:
        Forbidden: the request is authenticated by an API token.
    """
    if getattr(request.state, "via", None) == "api-token":
        raise Forbidden("people and API tokens are managed in a signed-in browser session")
    return user


SessionUser = Annotated[Account, Depends(session_user)]


def user_manager(user: SessionUser) -> Account:
    """A site administrator or a footprint administrator; others get a 403."""
    require(
        manages_users(user), "only site administrators and footprint administrators manage users"
    )
    return user


Manager = Annotated[Account, Depends(user_manager)]


def _context(request: Request) -> dict[str, Any]:
    """What the store adds to each audit entry: ``via: web`` and the client address."""
    return change_detail(request, {})


def _blank(value: str) -> str | None:
    text = value.strip()
    return text or None


def _target_account(ctx: Ctx, username: str) -> Account:
    account = ctx.users.get(username)
    if account is None:
        raise NotFound(f"no user {username!r}")
    return account


def _role_choices() -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in Role]


# --- pages: users ------------------------------------------------------------------------------


@router.get("/admin/users")
def users_list(request: Request, ctx: Ctx, user: Manager) -> Response:
    """Every account with its roles and their scope."""
    reach = reach_of(user, ctx.store.footprints())
    return render(
        request,
        "admin/users.html.j2",
        {
            "title": "Users",
            "accounts": ctx.users.accounts(),
            "labels": ROLE_LABELS,
            "reach": reach,
        },
    )


def _new_user_page(
    request: Request,
    user: Account,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/new_user.html.j2",
        {
            "title": "New user",
            "values": values or {},
            "error": error,
            "can_make_admin": user.is_admin,
            "min_password": MIN_PASSWORD_LENGTH,
        },
        status_code=status_code,
    )


@router.get("/admin/users/new")
def new_user_form(request: Request, user: Manager) -> Response:
    """The form to create an account."""
    return _new_user_page(request, user)


@router.post("/admin/users")
def create_user(
    request: Request,
    ctx: Ctx,
    user: Manager,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    password_again: Annotated[str, Form(max_length=1024)],
    display_name: Text = "",
    admin: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Create an account with an initial password (the same rules as ``flowplan users
    create``); only site administrators make administrators."""
    make_admin = admin in ("on", "yes", "1", "true")
    values = {"username": username, "display_name": display_name, "admin": make_admin}
    if make_admin and not user.is_admin:
        target = f"user:{username.strip().lower()}"
        record(request, user.username, "user_create_refused", target, {"admin": True})
        raise Forbidden("only a site administrator may create administrators")
    if password != password_again:
        return _new_user_page(
            request, user, values, "The two passwords are not the same.", status_code=422
        )
    try:
        account = ctx.users.create(
            username,
            password,
            display_name=_blank(display_name),
            admin=make_admin,
            who=user.username,
            context=_context(request),
        )
    except FlowplanError as exc:
        return _new_user_page(request, user, values, " ".join(exc.lines()), status_code=422)
    kind = "administrator" if account.is_admin else "user"
    flash(request, f"Created {kind} {account.username}. Now grant them a role.", "success")
    return RedirectResponse(f"/admin/users/{account.username}", status_code=303)


def _user_page(
    request: Request,
    ctx: Ctx,
    user: Account,
    account: Account,
    *,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    footprints = ctx.store.footprints()
    reach = reach_of(user, footprints)
    entries: list[WebAuditEntry] = ctx.users.audit_entries(
        target=f"user:{account.username}", limit=50
    )
    if not user.is_admin:
        entries = [e for e in entries if e.action in MANAGEMENT_ACTIONS]
    return render(
        request,
        "admin/user.html.j2",
        {
            "title": account.username,
            "account": account,
            "labels": ROLE_LABELS,
            "roles": _role_choices(),
            "reach": reach,
            "footprint_choices": [
                f for f in footprints if reach.everywhere or f["code"] in reach.footprints
            ],
            "org_choices": sorted(reach.orgs),
            "tokens": ctx.users.tokens(account.username) if user.is_admin else [],
            "entries": entries,
            "is_self": account.id == user.id,
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/admin/users/{username}")
def user_page(request: Request, ctx: Ctx, user: Manager, username: str) -> Response:
    """One account: roles (revoke), grant a role, enable/disable, tokens, recent changes."""
    return _user_page(request, ctx, user, _target_account(ctx, username))


def _checked_scope(
    request: Request,
    ctx: Ctx,
    user: Account,
    account: Account,
    action: str,
    role: str,
    org: str | None,
    footprint: str | None,
) -> None:
    """Refuse (403, audited) a scope outside what ``user`` may grant or revoke."""
    if reach_of(user, ctx.store.footprints()).allows(org, footprint):
        return
    record(
        request,
        user.username,
        "role_refused",
        f"user:{account.username}",
        {"attempted": action, "role": role, "org": org, "footprint": footprint},
    )
    where = f"organisation {org}" if org else f"footprint {footprint}" if footprint else ""
    raise Forbidden(
        f"you may only {action} roles scoped to the footprints you administer "
        f"or their organisations, not {where or 'everywhere'}"
    )


@router.post("/admin/users/{username}/roles")
def grant_role(
    request: Request,
    ctx: Ctx,
    user: Manager,
    username: str,
    role: Annotated[str, Form(max_length=32)],
    org: OptionalCode = "",
    footprint: OptionalCode = "",
) -> Response:
    """Grant a role: everywhere (both scopes blank), to an organisation or to a footprint."""
    account = _target_account(ctx, username)
    org_code, fp_code = _blank(org), _blank(footprint)
    _checked_scope(request, ctx, user, account, "grant", role, org_code, fp_code)
    try:
        grant = ctx.users.grant(
            account.username,
            role,
            org=org_code,
            footprint=fp_code,
            who=user.username,
            context=_context(request),
        )
    except FlowplanError as exc:
        values = {"role": role, "org": org, "footprint": footprint}
        return _user_page(
            request,
            ctx,
            user,
            account,
            error=" ".join(exc.lines()),
            values=values,
            status_code=422,
        )
    flash(
        request,
        f"Granted {ROLE_LABELS[grant.role]} ({grant.scope_text()}) to {account.username}.",
        "success",
    )
    return RedirectResponse(f"/admin/users/{account.username}", status_code=303)


@router.post("/admin/users/{username}/roles/revoke")
def revoke_role(
    request: Request,
    ctx: Ctx,
    user: Manager,
    username: str,
    role: Annotated[str, Form(max_length=32)],
    org: OptionalCode = "",
    footprint: OptionalCode = "",
) -> Response:
    """Take a role (with exactly this scope) away."""
    account = _target_account(ctx, username)
    org_code, fp_code = _blank(org), _blank(footprint)
    _checked_scope(request, ctx, user, account, "revoke", role, org_code, fp_code)
    if not ctx.users.revoke(
        account.username,
        role,
        org=org_code,
        footprint=fp_code,
        who=user.username,
        context=_context(request),
    ):
        raise NotFound(f"{account.username} does not hold {role} with that scope")
    label = ROLE_LABELS[Role(role)]
    flash(request, f"Revoked {label} from {account.username}.", "success")
    return RedirectResponse(f"/admin/users/{account.username}", status_code=303)


@router.post("/admin/users/{username}/active")
def set_active(
    request: Request,
    ctx: Ctx,
    user: Manager,
    username: str,
    active: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """Enable or disable an account (site administrators; not their own). Disabling ends the
    user's sessions and stops their API tokens."""
    require(user.is_admin, "only a site administrator may enable or disable accounts")
    account = _target_account(ctx, username)
    enable = active == "yes"
    require(enable or account.id != user.id, "you cannot disable your own account")
    changed = ctx.users.set_active(
        account.username, enable, who=user.username, context=_context(request)
    )
    state = "enabled" if enable else "disabled"
    flash(
        request,
        f"{account.username} {'is now' if changed else 'was already'} {state}.",
        "success" if changed else "info",
    )
    return RedirectResponse(f"/admin/users/{account.username}", status_code=303)


@router.post("/admin/users/{username}/tokens/revoke")
def revoke_user_token(
    request: Request,
    ctx: Ctx,
    user: Manager,
    username: str,
    name: Annotated[str, Form(max_length=64)],
) -> Response:
    """Revoke another user's API token (site administrators)."""
    require(user.is_admin, "only a site administrator may revoke other users' tokens")
    account = _target_account(ctx, username)
    if not ctx.users.revoke_token(
        account.username, name, who=user.username, context=_context(request)
    ):
        raise NotFound(f"{account.username} has no active token named {name!r}")
    flash(request, f"Revoked token {name!r} of {account.username}.", "success")
    return RedirectResponse(f"/admin/users/{account.username}", status_code=303)


# --- pages: the signed-in user's own account ---------------------------------------------------


@router.get("/account")
def account_page(request: Request, user: SessionUser) -> Response:
    """Who you are signed in as, and your roles."""
    return render(
        request,
        "admin/account.html.j2",
        {"title": "Your account", "account": user, "labels": ROLE_LABELS},
    )


def _tokens_page(
    request: Request,
    ctx: Ctx,
    user: Account,
    *,
    new_token: str | None = None,
    new_name: str | None = None,
    error: str | None = None,
    name: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/tokens.html.j2",
        {
            "title": "Your API tokens",
            "tokens": ctx.users.tokens(user.username),
            "new_token": new_token,
            "new_name": new_name,
            "error": error,
            "name": name,
        },
        status_code=status_code,
    )


@router.get("/account/tokens")
def tokens_page(request: Request, ctx: Ctx, user: SessionUser) -> Response:
    """Your API tokens (names and dates only: a token is shown once, when issued)."""
    return _tokens_page(request, ctx, user)


@router.post("/account/tokens")
def issue_token(
    request: Request,
    ctx: Ctx,
    user: SessionUser,
    name: Annotated[str, Form(max_length=255)],
) -> Response:
    """Issue a token for yourself; the page answering shows it, once (only its hash is kept)."""
    try:
        token = ctx.users.create_token(
            user.username, name, who=user.username, context=_context(request)
        )
    except FlowplanError as exc:
        return _tokens_page(
            request, ctx, user, error=" ".join(exc.lines()), name=name, status_code=422
        )
    return _tokens_page(request, ctx, user, new_token=token, new_name=name.strip())


@router.post("/account/tokens/revoke")
def revoke_own_token(
    request: Request,
    ctx: Ctx,
    user: SessionUser,
    name: Annotated[str, Form(max_length=64)],
) -> Response:
    """Revoke one of your tokens: it stops working at once."""
    if not ctx.users.revoke_token(
        user.username, name, who=user.username, context=_context(request)
    ):
        raise NotFound(f"you have no active token named {name!r}")
    flash(request, f"Revoked token {name!r}.", "success")
    return RedirectResponse("/account/tokens", status_code=303)
