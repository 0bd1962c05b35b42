"""Sign in and sign out: ``GET/POST /login`` (rate-limited) and ``POST /logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from flowplan.web.audit import client_address, record
from flowplan.web.deps import SESSION_EPOCH, SESSION_USER, Ctx, CurrentUser
from flowplan.web.security import csrf_token
from flowplan.web.templating import flash, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/plans"


@router.get("/login")
def login_page(request: Request, user: CurrentUser, next: str | None = None) -> Response:
    """The sign-in form (a signed-in user is sent on)."""
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html.j2", {"title": "Sign in", "next": _safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/plans",
) -> Response:
    """Check the password; on success start a fresh session (new CSRF token)."""
    client = client_address(request)
    name = username.strip().lower()
    wait = ctx.limiter.retry_after(name, client)
    if wait:
        record(request, name or "?", "login_blocked", f"user:{name}", {"retry_after_s": wait})
        response = render(
            request,
            "login.html.j2",
            {
                "title": "Sign in",
                "next": _safe_next(next),
                "error": f"Too many failed sign-ins. Try again in {wait // 60 + 1} minute(s).",
                "username": username,
            },
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    account = ctx.users.authenticate(name, password)
    if account is None:
        ctx.limiter.failed(name, client)
        record(request, name or "?", "login_failed", f"user:{name}")
        return render(
            request,
            "login.html.j2",
            {
                "title": "Sign in",
                "next": _safe_next(next),
                "error": "Wrong username or password.",
                "username": username,
            },
            status_code=401,
        )
    ctx.limiter.succeeded(name, client)
    request.session.clear()  # no session fixation: everything in the old session goes
    request.session[SESSION_USER] = account.id
    request.session[SESSION_EPOCH] = account.session_epoch
    csrf_token(request.session)
    request.state.account = account
    record(request, account.username, "login", f"user:{account.username}")
    flash(request, f"Signed in as {account.display_name}.", "success")
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """End the session here and every other copy of it (the account's epoch moves on)."""
    if user is not None:
        ctx.users.end_sessions(user.id)
        record(request, user.username, "logout", f"user:{user.username}")
    request.session.clear()
    request.state.account = None
    flash(request, "Signed out.", "info")
    return RedirectResponse("/login", status_code=303)
