"""Sign-in, sign-out, sessions, CSRF on every form and the login rate limit."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError

from flowplan.store.users import UserStore
from flowplan.web.routers import auth, plans
from tests.integration.web.conftest import PASSWORD, PLAN_ID, Site, csrf_of, sign_in


def test_login_sets_a_secure_session_cookie_and_is_audited(any_site: Site) -> None:
    client = any_site.client()
    response = sign_in(client, "ann", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/plans"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("flowplan_session=")
    flags = cookie.lower()
    assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags
    assert "max-age=28800" in flags
    page = client.get(f"/plans/{PLAN_ID}")
    assert page.status_code == 200
    assert "Signed in as <strong>Ann</strong>" in page.text
    (entry,) = any_site.users.audit_entries(action="login")
    assert (entry.who, entry.target) == ("ann", "user:ann")
    assert entry.detail["via"] == "web"
    assert abs((datetime.now() - entry.at).total_seconds()) < 600  # written by this login


def test_wrong_password_and_unknown_user_are_refused_alike(site: Site) -> None:
    client = site.client()
    wrong = sign_in(client, "ann", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
    # still anonymous: the draft plan sends the visitor to the login page
    draft = client.get(f"/plans/{PLAN_ID}", follow_redirects=False)
    assert draft.status_code == 303
    assert draft.headers["location"] == f"/login?next=/plans/{PLAN_ID}"
    failed = site.users.audit_entries(action="login_failed")
    assert {e.target for e in failed} == {"user:ann", "user:nobody"}


def test_login_is_rate_limited_per_username_and_client(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        assert sign_in(client, "ann", "wrong password!").status_code == 401
    blocked = sign_in(client, "ann", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 900
    assert "Too many failed sign-ins" in blocked.text
    assert site.users.audit_entries(action="login_blocked")[0].target == "user:ann"
    # another user from the same client is not blocked
    assert sign_in(site.client(), "bob", PASSWORD).status_code == 303
    site.clock.now += 899
    assert sign_in(client, "ann", PASSWORD).status_code == 429
    site.clock.now += 1
    assert sign_in(client, "ann", PASSWORD).status_code == 303


def test_login_without_or_with_a_wrong_csrf_token_is_forbidden(site: Site) -> None:
    client = site.client()
    csrf_of(client)
    missing = client.post("/login", data={"username": "ann", "password": PASSWORD})
    wrong = client.post(
        "/login", data={"username": "ann", "password": PASSWORD, "csrf_token": "forged"}
    )
    for response in (missing, wrong):
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert site.users.audit_entries(action="login") == []


def test_login_follows_only_local_next_paths(site: Site) -> None:
    client = site.client()
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={
            "username": "ann",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/plans"
    other = site.client()
    token = csrf_of(other)
    response = other.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token, "next": "/plans/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/plans/x"


def test_logout_ends_the_session_and_every_copy_of_its_cookie(site: Site) -> None:
    client = site.login("ann")
    stolen = client.cookies.get("flowplan_session")
    assert stolen
    no_token = client.post("/logout", follow_redirects=False)
    assert no_token.status_code == 403  # logout is a form too
    assert client.get(f"/plans/{PLAN_ID}").status_code == 200
    token = csrf_of(client, "/plans")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert client.get(f"/plans/{PLAN_ID}", follow_redirects=False).status_code == 303
    replay = site.client()
    replay.cookies.set("flowplan_session", stolen, domain="testserver.local")
    assert replay.get(f"/plans/{PLAN_ID}", follow_redirects=False).status_code == 303
    assert [e.who for e in site.users.audit_entries(action="logout")] == ["ann"]


def test_tampered_cookie_is_anonymous(site: Site) -> None:
    client = site.login("ann")
    cookie = client.cookies.get("flowplan_session")
    assert cookie
    forged = site.client()
    forged.cookies.set("flowplan_session", cookie[:-3] + "xyz", domain="testserver.local")
    assert forged.get(f"/plans/{PLAN_ID}", follow_redirects=False).status_code == 303


def test_disabled_account_cannot_sign_in_and_loses_its_session(site: Site) -> None:
    client = site.login("bob")
    site.users.set_active("bob", False)
    assert client.get(f"/plans/{PLAN_ID}", follow_redirects=False).status_code == 303
    assert sign_in(site.client(), "bob", PASSWORD).status_code == 401


def _form_posts() -> list[str]:
    """Every POST route of the page routers (the API has its own tests)."""
    paths = []
    for route in [*auth.router.routes, *plans.router.routes]:
        if not isinstance(route, APIRoute) or "POST" not in route.methods:
            continue
        path = route.path.replace("{plan_id}", PLAN_ID).replace("{scheme_id}", "S01")
        paths.append(path)
    return sorted(paths, key=lambda p: p == "/logout")  # sign out last


def test_every_form_post_without_a_csrf_token_is_forbidden(site: Site) -> None:
    paths = _form_posts()
    expected = {
        "/login",
        "/logout",
        "/plans",
        f"/plans/{PLAN_ID}/schemes",
        f"/plans/{PLAN_ID}/schemes/S01",
        f"/plans/{PLAN_ID}/submit",
        f"/plans/{PLAN_ID}/signoff",
        f"/plans/{PLAN_ID}/publish",
        f"/plans/{PLAN_ID}/reopen",
    }
    assert expected <= set(paths)
    before = site.plans.revision(PLAN_ID)
    client = site.login("admin")
    token = csrf_of(client, "/plans")
    for path in paths:
        for data in ({"revision": "1", "org": "RXN"}, {"revision": "1", "csrf_token": "bad"}):
            response = client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, path
            assert "CSRF" in response.text
        # the same token in a header is accepted (htmx / scripts): the request gets past CSRF
        passed = client.post(path, headers={"X-CSRF-Token": token}, follow_redirects=False)
        assert passed.status_code != 403 or "CSRF" not in passed.text, path
    assert site.plans.revision(PLAN_ID) == before  # nothing was changed


def test_pages_send_security_headers(site: Site) -> None:
    response = site.client().get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert re.search(r'<input id="password" name="password" type="password"', response.text)


def test_htmx_is_served_locally(site: Site) -> None:
    page = site.client().get("/login")
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page.text
    assert "https://" not in page.text.split("<body")[0]  # no CDN in the head
    script = site.client().get("/static/vendor/htmx.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]
    licence = site.client().get("/static/vendor/htmx.LICENSE")
    assert "Zero-Clause BSD" in licence.text


def test_password_change_ends_sessions(site: Site) -> None:
    client = site.login("ann")
    UserStore(site.store).set_password("ann", "a brand new password")
    assert client.get(f"/plans/{PLAN_ID}", follow_redirects=False).status_code == 303
    assert sign_in(site.client(), "ann", "a brand new password").status_code == 303


def test_error_pages_show_who_is_signed_in(site: Site) -> None:
    client = site.login("ann")
    response = client.post("/plans", data={"plan_type": "operational"})  # no CSRF token
    assert response.status_code == 403
    assert "Signed in as <strong>Ann</strong>" in response.text


def test_web_audit_is_append_only(any_site: Site) -> None:
    any_site.users.audit("ann", "login", "user:ann", {})
    with any_site.store.engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.exec_driver_sql("UPDATE web_audit SET who = 'mallory'")
    with any_site.store.engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.exec_driver_sql("DELETE FROM web_audit")
    assert {e.who for e in any_site.users.audit_entries()} >= {"ann"}
