"""The JSON API: every endpoint with a good token, without one (401) and with a role that may
not (403 — or 404 where the plan is not even visible); optimistic locking; the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowplan.plans import workflow
from flowplan.plans.model import PlanStatus
from tests.integration.web.conftest import LSC_MEMBERS, PLAN_ID, Site, csrf_of, demo_plan

P = f"/api/plans/{PLAN_ID}"


@pytest.fixture()
def api(site: Site) -> TestClient:
    """A client with no cookies (scripts send tokens)."""
    return site.client()


def scheme_body(site: Site, scheme_id: str, revision: int, **changes: Any) -> dict[str, Any]:
    scheme = site.plans.get(PLAN_ID).scheme(scheme_id)
    assert scheme is not None
    return {
        "revision": revision,
        "scheme": scheme.model_copy(update=changes).model_dump(mode="json"),
    }


def to_signed_off(site: Site) -> int:
    plan = site.plans.get(PLAN_ID)
    change = workflow.submit(plan, [])
    site.plans.save(change.plan, action=change.action, detail=change.detail, who="seed")
    for org in LSC_MEMBERS:
        change = workflow.sign_off(
            site.plans.get(PLAN_ID), org=org, user="x", at=datetime(2015, 6, 1)
        )
        site.plans.save(change.plan, action=change.action, detail=change.detail, who="seed")
    return site.plans.revision(PLAN_ID)


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/whoami", None),
    ("GET", "/api/plans", None),
    ("POST", "/api/plans", {}),
    ("GET", P, None),
    ("PUT", P, {"revision": 1}),
    ("POST", f"{P}/schemes", {"revision": 1}),
    ("PUT", f"{P}/schemes/S01", {"revision": 1}),
    ("GET", f"{P}/check", None),
    ("POST", f"{P}/submit", {"revision": 1}),
    ("POST", f"{P}/signoff", {"revision": 1, "org": "RXN"}),
    ("POST", f"{P}/publish", {"revision": 1}),
    ("POST", f"{P}/reopen", {"revision": 1, "reason": "r"}),
    ("GET", f"{P}/audit", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_credentials(
    api: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "sign in first"
    bad = api.request(method, path, json=body, headers={"Authorization": "Bearer fpt_nope"})
    assert bad.status_code == 401
    assert bad.json()["detail"] == "invalid or revoked API token"
    odd = api.request(method, path, json=body, headers={"Authorization": "Basic YTpi"})
    assert odd.status_code == 401


def test_revoked_token_stops_working(site: Site, api: TestClient) -> None:
    token = site.users.create_token("ann", "laptop")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/whoami", headers=headers).status_code == 200
    assert site.users.tokens("ann")[0].last_used_at is not None
    assert site.users.revoke_token("ann", "laptop")
    assert api.get("/api/whoami", headers=headers).status_code == 401


def test_whoami(site: Site, api: TestClient) -> None:
    response = api.get("/api/whoami", headers=site.token("sig-rxn"))
    assert response.status_code == 200
    assert response.json() == {
        "username": "sig-rxn",
        "display_name": "Sig-Rxn",
        "admin": False,
        "roles": [{"role": "signatory", "org": "RXN", "footprint": None}],
    }


def test_list_and_get_follow_visibility(site: Site, api: TestClient) -> None:
    listed = api.get("/api/plans", headers=site.token("ann"))
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()] == [PLAN_ID]
    assert listed.json()[0]["status"] == "draft"
    assert api.get("/api/plans", headers=site.token("olly")).json() == []
    got = api.get(P, headers=site.token("ann"))
    assert got.status_code == 200
    assert got.json()["revision"] == 1
    assert got.json()["plan"]["footprint"] == "LSC-SRG"
    assert got.json()["plan"]["funding"][0]["amount_gbp"] == 3600000
    hidden = api.get(P, headers=site.token("olly"))
    assert hidden.status_code == 404
    assert api.get(f"{P}/check", headers=site.token("olly")).status_code == 404
    assert api.get(f"{P}/audit", headers=site.token("olly")).status_code == 404


def test_create_plan(site: Site, api: TestClient) -> None:
    plan = demo_plan().model_copy(update={"id": "lsc-copy-2015"})
    body = plan.model_dump(mode="json")
    denied = api.post("/api/plans", json=body, headers=site.token("sig-rxn"))
    assert denied.status_code == 403
    assert not site.plans.exists("lsc-copy-2015")
    made = api.post("/api/plans", json=body, headers=site.token("ann"))
    assert made.status_code == 201
    assert made.json()["revision"] == 1
    assert site.plans.get("lsc-copy-2015") == plan
    assert site.plans.audit("lsc-copy-2015")[0].who == "ann"
    again = api.post("/api/plans", json=body, headers=site.token("ann"))
    assert again.status_code == 422 and again.json()["error"] == "refused"
    invalid = api.post("/api/plans", json={**body, "id": "Bad Id"}, headers=site.token("ann"))
    assert invalid.status_code == 422
    assert any(p["field"] == "id" for p in invalid.json()["problems"])


def test_update_plan_with_optimistic_locking(site: Site, api: TestClient) -> None:
    plan = site.plans.get(PLAN_ID)
    body = {
        "revision": 1,
        "plan": plan.model_copy(update={"title": "Renamed"}).model_dump(mode="json"),
    }
    assert api.put(P, json=body, headers=site.token("sig-rxn")).status_code == 403
    ok = api.put(P, json=body, headers=site.token("ann"))
    assert ok.status_code == 200
    assert ok.json() == {
        "id": PLAN_ID,
        "revision": 2,
        "status": "draft",
        "action": "updated",
        "detail": {"changed": ["title"]},
    }
    stale = api.put(
        P, json={**body, "plan": {**body["plan"], "title": "Other"}}, headers=site.token("bob")
    )
    assert stale.status_code == 409
    payload = stale.json()
    assert payload["error"] == "conflict"
    assert payload["changed_by"] == "ann" and payload["revision"] == 2
    assert "your changes were not saved" in payload["detail"]
    assert site.plans.get(PLAN_ID).title == "Renamed"
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.detail["via"]) == ("ann", "api")


def test_scheme_endpoints_respect_scheme_ownership(site: Site, api: TestClient) -> None:
    plan = site.plans.get(PLAN_ID)
    other = next(s for s in plan.schemes if s.lead.organisation != "QE1")
    owner = site.token("owner-qe1")
    ok = api.put(
        f"{P}/schemes/S01", json=scheme_body(site, "S01", 1, title="Owner's"), headers=owner
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["detail"]["changed"] == ["schemes[S01].title"]
    theirs = api.put(
        f"{P}/schemes/{other.id}",
        json=scheme_body(site, other.id, 2, title="Not mine"),
        headers=owner,
    )
    assert theirs.status_code == 403
    new = scheme_body(site, "S01", 2, id="S77", title="A new one")
    assert api.post(f"{P}/schemes", json=new, headers=site.token("sig-rxn")).status_code == 403
    added = api.post(f"{P}/schemes", json=new, headers=site.token("ann"))
    assert added.status_code == 201
    assert site.plans.get(PLAN_ID).scheme("S77") is not None
    stale = api.put(
        f"{P}/schemes/S01",
        json=scheme_body(site, "S01", 1, title="late"),
        headers=site.token("bob"),
    )
    assert stale.status_code == 409


def test_check(site: Site, api: TestClient) -> None:
    response = api.get(f"{P}/check", headers=site.token("sig-rxn"))
    assert response.status_code == 200
    report = response.json()
    assert report["plan_id"] == PLAN_ID
    assert report["passed"] is True
    assert report["counts"]["error"] == 0


def test_submit_signoff_publish_reopen_roles(site: Site, api: TestClient) -> None:
    assert (
        api.post(f"{P}/submit", json={"revision": 1}, headers=site.token("sig-rxn")).status_code
        == 403
    )
    submitted = api.post(f"{P}/submit", json={"revision": 1}, headers=site.token("ann"))
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    rxn = site.token("sig-rxn")
    for who, org in (("ann", "RXN"), ("admin", "RXN"), ("sig-rxn", "RXL")):
        headers = rxn if who == "sig-rxn" else site.token(who)
        denied = api.post(f"{P}/signoff", json={"revision": 2, "org": org}, headers=headers)
        assert denied.status_code == 403, who
    signed = api.post(f"{P}/signoff", json={"revision": 2, "org": "RXN", "note": "ok"}, headers=rxn)
    assert signed.status_code == 200
    assert signed.json()["detail"]["org"] == "RXN"
    twice = api.post(f"{P}/signoff", json={"revision": 3, "org": "RXN"}, headers=rxn)
    assert twice.status_code == 422 and "already signed" in twice.json()["detail"]
    early = api.post(f"{P}/publish", json={"revision": 3}, headers=site.token("fpadmin"))
    assert early.status_code == 422  # not signed off by everyone yet


def test_publish_and_reopen(site: Site, api: TestClient) -> None:
    revision = to_signed_off(site)
    assert (
        api.post(f"{P}/publish", json={"revision": revision}, headers=site.token("ann")).status_code
        == 403
    )
    done = api.post(f"{P}/publish", json={"revision": revision}, headers=site.token("fpadmin"))
    assert done.status_code == 200 and done.json()["status"] == "published"
    assert site.plans.get(PLAN_ID).status is PlanStatus.published
    assert [p["id"] for p in api.get("/api/plans", headers=site.token("olly")).json()] == [PLAN_ID]
    assert (
        api.post(
            f"{P}/reopen", json={"revision": revision + 1, "reason": "x"}, headers=site.token("ann")
        ).status_code
        == 403
    )
    back = api.post(
        f"{P}/reopen",
        json={"revision": revision + 1, "reason": "new data"},
        headers=site.token("fpadmin"),
    )
    assert back.status_code == 200 and back.json()["status"] == "draft"


def test_audit(site: Site, api: TestClient) -> None:
    api.post(f"{P}/submit", json={"revision": 1}, headers=site.token("ann"))
    entries = api.get(f"{P}/audit", headers=site.token("sig-rxn")).json()
    assert [(e["who"], e["action"]) for e in entries] == [("seed", "created"), ("ann", "submitted")]
    assert entries[1]["detail"]["via"] == "api"


def test_browser_session_needs_the_csrf_header(site: Site) -> None:
    browser = site.login("ann")
    assert browser.get("/api/whoami").json()["username"] == "ann"
    refused = browser.post(f"{P}/submit", json={"revision": 1})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    token = csrf_of(browser, "/plans")
    ok = browser.post(f"{P}/submit", json={"revision": 1}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_openapi_schema_lists_the_api_only(api: TestClient) -> None:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "flowplan API"
    paths = schema["paths"]
    for method, path, _ in ENDPOINTS:
        template = path.replace(PLAN_ID, "{plan_id}").replace("/S01", "/{scheme_id}")
        assert method.lower() in paths[template], (method, template)
    assert all(p.startswith("/api/") for p in paths)
    assert "/login" not in paths and "/plans" not in paths
    assert "Plan" in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    signoff = paths["/api/plans/{plan_id}/signoff"]["post"]
    assert {"401", "403", "409", "422"} <= set(signoff["responses"])
    assert api.get("/api/docs").status_code == 404  # no Swagger UI: it loads scripts from a CDN
