"""The web application: FastAPI, server-rendered pages, a JSON API under ``/api/``.

:func:`create_app` opens the store (migrating it), wires the session cookie, CSRF protection on
every unsafe request, security headers, the error pages and the routers. Pages live in
``routers/``; each router calls the flowplan packages and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from flowplan import __version__
from flowplan.errors import FlowplanError
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store
from flowplan.store.users import UserStore
from flowplan.web.deps import Conflict, Refused, Services, csrf_protect
from flowplan.web.routers import admin, analysis, api, auth, dashboard, data, plans
from flowplan.web.security import LoginRateLimiter, SessionSettings, resolve_secret_key
from flowplan.web.templating import STATIC_DIR, make_templates, render

#: Content-Security-Policy: scripts and styles from this server only (inline styles are allowed
#: for the plan-on-a-page report); images may be inline data (charts).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_json(exc: StarletteHTTPException) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.detail}
    if isinstance(exc, Conflict):
        body.update(
            error="conflict",
            changed_by=exc.changed_by,
            changed_at=exc.changed_at.isoformat(),
            revision=exc.revision,
        )
    if isinstance(exc, Refused):
        body.update(error="refused", problems=exc.problems)
    return body


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        return JSONResponse(_error_json(exc), status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    response = render(
        request,
        "error.html.j2",
        {"status": exc.status_code, "message": exc.detail, "title": f"Error {exc.status_code}"},
        status_code=exc.status_code,
    )
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
            "rule": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]
    if _is_api(request):
        return JSONResponse({"detail": "invalid request", "problems": problems}, status_code=422)
    message = "; ".join(f"{p['field']}: {p['rule']}" for p in problems)
    return render(
        request,
        "error.html.j2",
        {"status": 422, "message": f"The form was not complete: {message}", "title": "Error"},
        status_code=422,
    )


async def _flowplan_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FlowplanError)
    return await _http_error(request, Refused(" ".join(exc.lines())))


def create_app(
    db_url: str | None = None,
    *,
    secret_key: str | None = None,
    secure_cookies: bool = True,
    login_max_failures: int = 5,
    login_window_s: float = 15 * 60,
    limiter: LoginRateLimiter | None = None,
) -> FastAPI:
    """The flowplan web application on the store at ``db_url``.

    Args:
        db_url: database URL (default: ``FLOWPLAN_DATABASE_URL``, else SQLite under
            ``FLOWPLAN_HOME``), the same store as the command line.
        secret_key: key signing session cookies (default: ``FLOWPLAN_SECRET_KEY``, else a key
            kept in ``FLOWPLAN_HOME``).
        secure_cookies: mark the session cookie Secure (HTTPS only). Turn off only for plain
            HTTP on the loopback interface.
        login_max_failures: failed logins allowed per username and client in the window.
        login_window_s: the login rate-limit window, in seconds.
        limiter: a ready-made rate limiter (tests inject one with a fake clock).

    Returns:
        The ASGI application.
    """
    store = Store(db_url)
    session = SessionSettings(secure=secure_cookies)
    services = Services(
        store=store,
        plans=PlanStore(store),
        users=UserStore(store),
        limiter=limiter or LoginRateLimiter(login_max_failures, login_window_s),
        session=session,
        templates=make_templates(),
    )
    app = FastAPI(
        title="flowplan API",
        version=__version__,
        description=(
            "Plans, checks and sign-off of flowplan as JSON. Authenticate with "
            "`Authorization: Bearer <token>` (create one with `flowplan users token`)."
        ),
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN: pages must work offline
        redoc_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.flowplan = services
    app.add_middleware(
        SessionMiddleware,
        secret_key=resolve_secret_key(secret_key),
        session_cookie=session.cookie_name,
        max_age=session.max_age_s,
        same_site="lax",
        https_only=session.secure,
    )

    @app.middleware("http")
    async def _security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(FlowplanError, _flowplan_error)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router)
    app.include_router(plans.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    app.include_router(data.router)
    app.include_router(analysis.router)
    app.include_router(api.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/plans", status_code=303)

    return app
