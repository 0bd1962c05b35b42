"""Audit from the web: who did what, when, from where, and through which door (page or API).

Plan changes are written to ``plan_audit`` with their revision by
:meth:`flowplan.store.plans.PlanStore.save` (one transaction); :func:`change_detail` adds how the
change came in. Everything else — sign-ins, refused sign-ins, sign-outs, users, roles, tokens —
goes to ``web_audit`` through :func:`record`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from flowplan.web.deps import get_services


def client_address(request: Request) -> str:
    """The client's address as the server sees it ("unknown" when not known)."""
    return request.client.host if request.client is not None else "unknown"


def channel(request: Request) -> str:
    """``api`` for ``/api/`` requests, ``web`` for pages."""
    return "api" if request.url.path.startswith("/api/") else "web"


def change_detail(request: Request, detail: dict[str, Any]) -> dict[str, Any]:
    """A plan change's audit detail with the channel and client address added."""
    return {**detail, "via": channel(request), "client": client_address(request)}


def record(
    request: Request, who: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Append a web audit entry (who, now, action, target, detail + channel and client)."""
    get_services(request).users.audit(who, action, target, change_detail(request, detail or {}))
