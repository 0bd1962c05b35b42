"""Server-rendered pages: the Jinja2 environment, the page renderer, flash messages and the nav.

Every page extends ``base.html.j2``, which draws the header, the navigation (the links of
:data:`NAV` this user may follow: :func:`visible_nav`), the flash messages and the signed-in
user. Templates get ``request``, ``user`` (an :class:`~flowplan.store.users.Account` or None)
and ``csrf_token``, and call ``csrf_field()`` inside every ``<form method="post">``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from flowplan.store.users import Account, Role
from flowplan.web.deps import current_user, get_services
from flowplan.web.security import CSRF_FIELD, csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
FLASH_KEY = "flash"


@dataclass(frozen=True)
class NavLink:
    """One link of the top navigation.

    Attributes:
        label: text shown.
        path: where it goes.
        signed_in: show it only to signed-in users.
        managers: show it only to users who manage people (:func:`manages_users`).
    """

    label: str
    path: str
    signed_in: bool = False
    managers: bool = False


#: The top navigation, in order; a new area adds its link here.
NAV: list[NavLink] = [
    NavLink("Dashboard", "/dashboard"),
    NavLink("Escalation", "/escalation"),
    NavLink("Plans", "/plans"),
    NavLink("Data", "/data"),
    NavLink("Demand", "/demand"),
    NavLink("Capacity", "/capacity"),
    NavLink("Simulation", "/simulation"),
    NavLink("Users", "/admin/users", managers=True),
    NavLink("Account", "/account", signed_in=True),
]


def manages_users(user: Account | None) -> bool:
    """Whether the user manages people (``/admin/users``): site administrators, and footprint
    administrators within their footprints (see :mod:`flowplan.web.routers.admin`)."""
    return user is not None and (user.is_admin or user.has_role(Role.footprint_admin))


def visible_nav(user: Account | None) -> list[NavLink]:
    """The links of :data:`NAV` this user sees."""
    return [
        link
        for link in NAV
        if (user is not None or not link.signed_in) and (not link.managers or manages_users(user))
    ]


@jinja2.pass_context
def _csrf_field(context: Any) -> Markup:
    token = context.get("csrf_token", "")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


def _money(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    amount = Decimal(str(value))
    sign = "−" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.0f}"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y %H:%M")
    return value.strftime("%d %b %Y")


def make_templates(extra_dirs: list[Path] | None = None) -> Jinja2Templates:
    """The templates object (autoescaping on; ``csrf_field``, ``money``, ``when`` available)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATE_DIR, *(extra_dirs or [])]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field"] = _csrf_field
    env.globals["nav"] = visible_nav(None)  # render() passes the signed-in user's links
    env.filters["money"] = _money
    env.filters["when"] = _when
    return Jinja2Templates(env=env)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Show ``message`` on the next page this browser renders (kinds: info, success, error)."""
    pending = list(request.session.get(FLASH_KEY, []))
    pending.append({"kind": kind, "text": message})
    request.session[FLASH_KEY] = pending[-5:]


def _user_of(request: Request) -> Any:
    """The signed-in account for the page header, also on error pages raised before the route
    resolved it (a bad token or an ended session shows as signed out)."""
    if hasattr(request.state, "account"):
        return request.state.account
    try:
        return current_user(request, get_services(request))
    except HTTPException:
        return None


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page template with the common context (user, CSRF token, flash messages)."""
    flashes = request.session.pop(FLASH_KEY, []) if FLASH_KEY in request.session else []
    user = _user_of(request)
    full = {
        "user": user,
        "csrf_token": csrf_token(request.session),
        "flashes": flashes,
        "nav": visible_nav(user),
        "title": "",
        **(context or {}),
    }
    templates: Jinja2Templates = request.app.state.flowplan.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, name, full, status_code=status_code
    )
    return response
