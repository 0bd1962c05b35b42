"""People and permissions pages: ``/admin/users`` and ``/account/tokens``.

Site administrators manage everyone; a footprint administrator grants and revokes roles only
within their footprint (or its organisations); everyone signed in manages their own API tokens.
Every change is audited, every form needs the CSRF token.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from flowplan.web.routers import admin
from tests.integration.web.conftest import PASSWORD, Site, csrf_of, sign_in

NEW_PASSWORD = "a long initial password"
_TOKEN = re.compile(r'value="(fpt_[^"]+)"')


def post(client: TestClient, path: str, data: dict[str, str], page: str = "/account") -> int:
    """POST a form with this browser's CSRF token; the status (redirects not followed)."""
    token = csrf_of(client, page)
    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
    return response.status_code


def roles_of(site: Site, username: str) -> set[tuple[str, str | None, str | None]]:
    account = site.users.require(username)
    return {(str(g.role), g.org, g.footprint) for g in account.grants}


# --- who may see the pages ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(site: Site) -> None:
    client = site.client()
    for path in ("/admin/users", "/admin/users/new", "/admin/users/ann", "/account/tokens"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("username", ["olly", "ann", "sig-rxn", "owner-qe1"])
def test_users_without_admin_rights_get_403(site: Site, username: str) -> None:
    client = site.login(username)
    for path in ("/admin/users", "/admin/users/new", "/admin/users/ann"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/admin/users/ann/roles", {"role": "viewer"}) == 403
    assert post(client, "/admin/users", {"username": "x1", "password": NEW_PASSWORD}) == 403
    assert roles_of(site, "ann") == {("analyst", None, "LSC-SRG")}
    assert site.users.get("x1") is None


def test_nav_shows_users_to_admins_and_account_to_signed_in_users(site: Site) -> None:
    anonymous = site.client().get("/plans").text
    assert 'href="/admin/users"' not in anonymous and 'href="/account"' not in anonymous
    viewer = site.login("olly").get("/plans").text
    assert 'href="/admin/users"' not in viewer and 'href="/account"' in viewer
    for name in ("admin", "fpadmin"):
        page = site.login(name).get("/plans").text
        assert 'href="/admin/users"' in page and 'href="/account"' in page


def test_pages_refuse_api_tokens(site: Site) -> None:
    api = site.client()
    headers = site.token("admin")
    assert api.get("/admin/users", headers=headers).status_code == 403
    minted = api.post("/account/tokens", data={"name": "more"}, headers=headers)
    assert minted.status_code == 403
    assert [t.name for t in site.users.tokens("admin")] == ["test-0"]


# --- site administrators -----------------------------------------------------------------------


def test_admin_lists_users_with_roles_and_scope(site: Site) -> None:
    page = site.login("admin").get("/admin/users")
    assert page.status_code == 200
    for text in ("fpadmin", "footprint admin", "footprint LSC-SRG", "organisation signatory"):
        assert text in page.text
    assert "org RXN" in page.text


def test_admin_creates_a_user_who_can_sign_in(any_site: Site) -> None:
    client = any_site.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "username": "Newbie",
            "display_name": "New Person",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf_of(client, "/admin/users/new"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users/newbie"
    account = any_site.users.require("newbie")
    assert (account.display_name, account.is_admin, account.grants) == ("New Person", False, ())
    assert sign_in(any_site.client(), "newbie", NEW_PASSWORD).status_code == 303
    (entry,) = any_site.users.audit_entries(action="user_created", target="user:newbie")
    assert entry.who == "admin"
    assert entry.detail["via"] == "web" and entry.detail["client"]
    assert entry.detail["admin"] is False


def test_create_user_applies_the_cli_password_rules(site: Site) -> None:
    client = site.login("admin")
    token = csrf_of(client, "/admin/users/new")
    base = {"username": "carl", "csrf_token": token}
    short = client.post(
        "/admin/users", data={**base, "password": "short", "password_again": "short"}
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    differ = client.post(
        "/admin/users", data={**base, "password": NEW_PASSWORD, "password_again": PASSWORD}
    )
    assert differ.status_code == 422 and "not the same" in differ.text
    taken = client.post(
        "/admin/users",
        data={**base, "username": "ann", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert taken.status_code == 422 and "already exists" in taken.text
    assert 'value="carl"' in short.text  # what was typed comes back (not the passwords)
    assert NEW_PASSWORD not in differ.text
    assert site.users.get("carl") is None


def test_admin_creates_an_administrator(site: Site) -> None:
    client = site.login("admin")
    data = {"username": "admin2", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert post(client, "/admin/users", {**data, "admin": "yes"}) == 303
    assert site.users.require("admin2").is_admin


def test_admin_grants_and_revokes_roles_on_both_backends(any_site: Site) -> None:
    client = any_site.login("admin")
    page = client.get("/admin/users/olly")
    assert page.status_code == 200 and "viewer" in page.text
    assert (
        post(client, "/admin/users/olly/roles", {"role": "analyst", "footprint": "LSC-SRG"}) == 303
    )
    assert post(client, "/admin/users/olly/roles", {"role": "viewer"}) == 303  # everywhere
    assert roles_of(any_site, "olly") == {
        ("viewer", None, "OTHER-SRG"),
        ("analyst", None, "LSC-SRG"),
        ("viewer", None, None),
    }
    assert post(client, "/admin/users/olly/roles/revoke", {"role": "viewer"}) == 303
    assert roles_of(any_site, "olly") == {
        ("viewer", None, "OTHER-SRG"),
        ("analyst", None, "LSC-SRG"),
    }
    granted = any_site.users.audit_entries(action="role_granted", target="user:olly")
    assert [(e.who, e.detail["role"], e.detail["footprint"]) for e in granted] == [
        ("admin", "viewer", None),
        ("admin", "analyst", "LSC-SRG"),
        ("system", "viewer", "OTHER-SRG"),  # the seed's grant
    ]
    (revoked,) = any_site.users.audit_entries(action="role_revoked", target="user:olly")
    assert revoked.who == "admin" and revoked.detail["via"] == "web"


def test_grant_form_problems_are_shown_not_saved(site: Site) -> None:
    client = site.login("admin")
    token = csrf_of(client, "/admin/users/olly")
    for data, message in [
        ({"role": "signatory"}, "give --org CODE"),
        ({"role": "signatory", "org": "ZZZ"}, "unknown organisation"),
        ({"role": "boss"}, "unknown role"),
        ({"role": "viewer", "org": "RXN", "footprint": "LSC-SRG"}, "not both"),
    ]:
        response = client.post("/admin/users/olly/roles", data={**data, "csrf_token": token})
        assert response.status_code == 422, data
        assert message in response.text
    assert roles_of(site, "olly") == {("viewer", None, "OTHER-SRG")}
    unheld = client.post(
        "/admin/users/olly/roles/revoke", data={"role": "analyst", "csrf_token": token}
    )
    assert unheld.status_code == 404
    assert client.get("/admin/users/nobody").status_code == 404


def test_admin_disables_and_enables_an_account(site: Site) -> None:
    bob = site.login("bob")
    client = site.login("admin")
    assert post(client, "/admin/users/bob/active", {"active": "no"}) == 303
    assert not site.users.require("bob").active
    assert bob.get("/account", follow_redirects=False).status_code == 303  # session ended
    assert sign_in(site.client(), "bob", PASSWORD).status_code == 401
    assert post(client, "/admin/users/bob/active", {"active": "yes"}) == 303
    assert sign_in(site.client(), "bob", PASSWORD).status_code == 303
    assert post(client, "/admin/users/admin/active", {"active": "no"}) == 403  # not oneself
    actions = [e.action for e in site.users.audit_entries(target="user:bob")]
    assert "user_disabled" in actions and "user_enabled" in actions


def test_admin_revokes_another_users_token(site: Site) -> None:
    headers = site.token("ann")
    api = site.client()
    assert api.get("/api/whoami", headers=headers).status_code == 200
    client = site.login("admin")
    assert "test-0" in client.get("/admin/users/ann").text
    assert post(client, "/admin/users/ann/tokens/revoke", {"name": "test-0"}) == 303
    assert api.get("/api/whoami", headers=headers).status_code == 401
    assert post(client, "/admin/users/ann/tokens/revoke", {"name": "test-0"}) == 404
    fp = site.login("fpadmin")
    assert post(fp, "/admin/users/ann/tokens/revoke", {"name": "test-0"}) == 403


# --- footprint administrators ------------------------------------------------------------------


def test_footprint_admin_grants_within_their_footprint_only(any_site: Site) -> None:
    client = any_site.login("fpadmin")  # footprint admin of LSC-SRG
    assert client.get("/admin/users").status_code == 200
    assert (
        post(client, "/admin/users/olly/roles", {"role": "viewer", "footprint": "LSC-SRG"}) == 303
    )
    assert post(client, "/admin/users/olly/roles", {"role": "signatory", "org": "RXN"}) == 303
    for data in (
        {"role": "viewer", "footprint": "OTHER-SRG"},  # another footprint
        {"role": "signatory", "org": "RWW"},  # an organisation of another footprint
        {"role": "analyst"},  # everywhere
    ):
        assert post(client, "/admin/users/olly/roles", data) == 403, data
    # revoking is held to the same scope
    assert (
        post(client, "/admin/users/olly/roles/revoke", {"role": "viewer", "footprint": "OTHER-SRG"})
        == 403
    )
    assert (
        post(client, "/admin/users/olly/roles/revoke", {"role": "signatory", "org": "RXN"}) == 303
    )
    assert roles_of(any_site, "olly") == {
        ("viewer", None, "OTHER-SRG"),
        ("viewer", None, "LSC-SRG"),
    }
    refused = any_site.users.audit_entries(action="role_refused", target="user:olly")
    assert len(refused) == 4 and {e.who for e in refused} == {"fpadmin"}
    assert {e.detail["footprint"] for e in refused} == {"OTHER-SRG", None}


def test_footprint_admin_creates_users_but_not_administrators(site: Site) -> None:
    client = site.login("fpadmin")
    data = {"username": "dora", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert post(client, "/admin/users", {**data, "admin": "yes"}) == 403
    assert site.users.get("dora") is None
    assert post(client, "/admin/users", data) == 303
    assert not site.users.require("dora").is_admin
    assert post(client, "/admin/users/dora/active", {"active": "no"}) == 403
    page = client.get("/admin/users/dora").text
    assert "Disable account" not in page
    assert "Site administrator" not in client.get("/admin/users/new").text


def test_footprint_admin_sees_revoke_buttons_only_within_reach(site: Site) -> None:
    site.users.grant("olly", "analyst", footprint="LSC-SRG")
    page = site.login("fpadmin").get("/admin/users/olly").text
    assert page.count("/admin/users/olly/roles/revoke") == 1  # LSC-SRG, not OTHER-SRG
    assert "API tokens" not in page  # token records are for site administrators


# --- CSRF --------------------------------------------------------------------------------------


def _admin_posts() -> list[str]:
    paths = []
    for route in admin.router.routes:
        if isinstance(route, APIRoute) and "POST" in route.methods:
            paths.append(route.path.replace("{username}", "olly"))
    return paths


def test_every_form_without_a_csrf_token_is_forbidden(site: Site) -> None:
    paths = _admin_posts()
    assert {
        "/admin/users",
        "/admin/users/olly/roles",
        "/admin/users/olly/roles/revoke",
        "/admin/users/olly/active",
        "/admin/users/olly/tokens/revoke",
        "/account/tokens",
        "/account/tokens/revoke",
    } == set(paths)
    site.users.create_token("olly", "keep")
    client = site.login("admin")
    data = {
        "username": "eve1",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "role": "viewer",
        "active": "no",
        "name": "keep",
    }
    for path in paths:
        for sent in (data, {**data, "csrf_token": "forged"}):
            response = client.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, path
            assert "CSRF" in response.text
    assert site.users.get("eve1") is None
    assert roles_of(site, "olly") == {("viewer", None, "OTHER-SRG")}
    assert site.users.require("olly").active
    assert [(t.name, t.revoked) for t in site.users.tokens("olly")] == [("keep", False)]
    assert site.users.tokens("admin") == []
    from_web = [e.action for e in site.users.audit_entries() if e.detail.get("via") == "web"]
    assert from_web == ["login"]  # nothing changed


# --- the signed-in user's own tokens -----------------------------------------------------------


def test_issued_token_works_until_revoked(any_site: Site) -> None:
    client = any_site.login("ann")
    page = client.post(
        "/account/tokens",
        data={"name": "nightly", "csrf_token": csrf_of(client, "/account/tokens")},
    )
    assert page.status_code == 200
    match = _TOKEN.search(page.text)
    assert match is not None and "shown only this once" in page.text
    token = match.group(1)
    listing = client.get("/account/tokens").text
    assert "nightly" in listing and token not in listing  # shown once only

    api = any_site.client()
    whoami = api.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert whoami.status_code == 200 and whoami.json()["username"] == "ann"

    duplicate = client.post(
        "/account/tokens",
        data={"name": "nightly", "csrf_token": csrf_of(client, "/account/tokens")},
    )
    assert duplicate.status_code == 422 and "already has a token named" in duplicate.text
    assert post(client, "/account/tokens/revoke", {"name": "nightly"}) == 303
    gone = api.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    assert post(client, "/account/tokens/revoke", {"name": "nightly"}) == 404
    assert "revoked" in client.get("/account/tokens").text

    (created,) = any_site.users.audit_entries(action="token_created", target="user:ann")
    (revoked,) = any_site.users.audit_entries(action="token_revoked", target="user:ann")
    for entry in (created, revoked):
        assert entry.who == "ann" and entry.detail["name"] == "nightly"
        assert entry.detail["via"] == "web"
    assert token not in str(created.detail)


def test_tokens_are_per_user(site: Site) -> None:
    site.users.create_token("bob", "bobs")
    client = site.login("ann")
    assert "bobs" not in client.get("/account/tokens").text
    assert post(client, "/account/tokens/revoke", {"name": "bobs"}) == 404
    assert not site.users.tokens("bob")[0].revoked


def test_account_page_lists_own_roles(site: Site) -> None:
    page = site.login("sig-rxn").get("/account")
    assert page.status_code == 200
    assert "organisation signatory (org RXN)" in page.text


def test_every_change_is_audited(site: Site) -> None:
    client = site.login("admin")
    data = {"username": "gus", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert post(client, "/admin/users", data) == 303
    assert post(client, "/admin/users/gus/roles", {"role": "signatory", "org": "RXN"}) == 303
    assert post(client, "/admin/users/gus/roles/revoke", {"role": "signatory", "org": "RXN"}) == 303
    assert post(client, "/admin/users/gus/active", {"active": "no"}) == 303
    assert post(client, "/admin/users/gus/active", {"active": "yes"}) == 303
    assert post(client, "/account/tokens", {"name": "mine"}) == 200
    assert post(client, "/account/tokens/revoke", {"name": "mine"}) == 303
    site.users.create_token("gus", "theirs")
    assert post(client, "/admin/users/gus/tokens/revoke", {"name": "theirs"}) == 303
    web = [e for e in site.users.audit_entries() if e.detail.get("via") == "web"]
    by_admin = [(e.action, e.target) for e in reversed(web) if e.who == "admin"][1:]  # not login
    assert by_admin == [
        ("user_created", "user:gus"),
        ("role_granted", "user:gus"),
        ("role_revoked", "user:gus"),
        ("user_disabled", "user:gus"),
        ("user_enabled", "user:gus"),
        ("token_created", "user:admin"),
        ("token_revoked", "user:admin"),
        ("token_revoked", "user:gus"),
    ]
    assert all(e.at is not None and e.detail["client"] for e in web)
    history = client.get("/admin/users/gus").text
    assert "role_granted" in history and "user_disabled" in history
