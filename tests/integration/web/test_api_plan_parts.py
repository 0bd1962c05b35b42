"""The JSON API for the parts of a plan: a scheme's KPIs, milestones, risks, funding and stated
totals — credentials (401), roles (403, 404 where the plan is not visible), optimistic locking
(409), the plan's rules (422) and the audit entry of every change."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.conftest import PLAN_ID, Site, csrf_of
from tests.integration.web.test_api import to_signed_off

P = f"/api/plans/{PLAN_ID}"
M15 = {"id": "M15", "title": "Alerts tested", "duration_days": 100, "depends_on": ["M07"]}
R07 = {"id": "R07", "description": "Norovirus", "likelihood": 5, "impact": 4, "owner": "Alex"}

ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PUT", f"{P}/schemes/S01/kpis", {"revision": 1, "kpis": []}),
    ("POST", f"{P}/milestones", {"revision": 1, "milestone": M15}),
    ("PUT", f"{P}/milestones/M02", {"revision": 1, "milestone": M15}),
    ("DELETE", f"{P}/milestones/M13?revision=1", None),
    ("POST", f"{P}/risks", {"revision": 1, "risk": R07}),
    ("PUT", f"{P}/risks/R01", {"revision": 1, "risk": R07}),
    ("DELETE", f"{P}/risks/R06?revision=1", None),
    ("PUT", f"{P}/funding", {"revision": 1, "funding": []}),
]


@pytest.fixture()
def api(site: Site) -> TestClient:
    """A client with no cookies (scripts send tokens)."""
    return site.client()


def kpis_body(site: Site, scheme_id: str, revision: int, **changes: Any) -> dict[str, Any]:
    scheme = site.plans.get(PLAN_ID).scheme(scheme_id)
    assert scheme is not None
    kpis = [k.model_copy(update=changes).model_dump(mode="json") for k in scheme.kpis]
    return {"revision": revision, "kpis": kpis}


def critical_path(api: TestClient, headers: dict[str, str]) -> tuple[list[str], int]:
    schedule = api.get(f"{P}/check", headers=headers).json()["critical_path"]
    return schedule["path"], schedule["duration_days"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_part_endpoint_needs_credentials_and_an_editor(
    site: Site, api: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    anonymous = api.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    bad = api.request(method, path, json=body, headers={"Authorization": "Bearer fpt_nope"})
    assert bad.status_code == 401
    signatory = api.request(method, path, json=body, headers=site.token("sig-rxn"))
    assert signatory.status_code == 403, signatory.text
    outsider = api.request(method, path, json=body, headers=site.token("olly"))
    assert outsider.status_code == 404  # the draft is not revealed
    assert site.plans.revision(PLAN_ID) == 1


def test_schema_declares_the_part_operations(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]
    for method, path, _ in ENDPOINTS:
        template = (
            path.split("?")[0]
            .replace(PLAN_ID, "{plan_id}")
            .replace("/S01", "/{scheme_id}")
            .replace("/M02", "/{milestone_id}")
            .replace("/M13", "/{milestone_id}")
            .replace("/R01", "/{risk_id}")
            .replace("/R06", "/{risk_id}")
        )
        operation = paths[template][method.lower()]
        assert {"401", "403", "404", "409", "422"} <= set(operation["responses"]), template
    delete = paths["/api/plans/{plan_id}/milestones/{milestone_id}"]["delete"]
    assert [p["name"] for p in delete["parameters"] if p["in"] == "query"] == ["revision"]


# --- KPIs --------------------------------------------------------------------------------------


def test_put_kpis_replaces_a_schemes_kpis(site: Site, api: TestClient) -> None:
    ann = site.token("ann")
    done = api.put(
        f"{P}/schemes/S01/kpis", json=kpis_body(site, "S01", 1, target=91.0), headers=ann
    )
    assert done.status_code == 200, done.text
    assert done.json() == {
        "id": PLAN_ID,
        "revision": 2,
        "status": "draft",
        "action": "updated",
        "detail": {"changed": ["schemes[S01].kpis"]},
    }
    scheme = site.plans.get(PLAN_ID).scheme("S01")
    assert scheme is not None and scheme.kpis[0].target == 91.0
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.detail["via"]) == ("ann", "api")
    stale = api.put(
        f"{P}/schemes/S01/kpis", json=kpis_body(site, "S01", 1, target=90.0), headers=ann
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict" and stale.json()["changed_by"] == "ann"
    assert "your changes were not saved" in stale.json()["detail"]
    unknown = api.put(
        f"{P}/schemes/S01/kpis", json=kpis_body(site, "S01", 2, metric="uec.nope"), headers=ann
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "refused"
    assert unknown.json()["problems"][0]["field"] == "schemes[0].kpis[0].metric"
    invalid = api.put(
        f"{P}/schemes/S01/kpis",
        json={"revision": 2, "kpis": [{"metric": "custom", "baseline": "1", "target": 2}]},
        headers=ann,
    )
    assert invalid.status_code == 422
    missing = api.put(f"{P}/schemes/S99/kpis", json={"revision": 2, "kpis": []}, headers=ann)
    assert missing.status_code == 404
    assert site.plans.revision(PLAN_ID) == 2


def test_scheme_owner_puts_the_kpis_of_their_own_schemes_only(site: Site, api: TestClient) -> None:
    owner = site.token("owner-qe1")
    other = next(s.id for s in site.plans.get(PLAN_ID).schemes if s.lead.organisation != "QE1")
    theirs = api.put(f"{P}/schemes/{other}/kpis", json=kpis_body(site, other, 1), headers=owner)
    assert theirs.status_code == 403
    assert "you may not edit the KPIs of scheme" in theirs.json()["detail"]
    mine = api.put(
        f"{P}/schemes/S01/kpis", json=kpis_body(site, "S01", 1, baseline=95.2), headers=owner
    )
    assert mine.status_code == 200
    assert site.plans.audit(PLAN_ID)[-1].who == "owner-qe1"
    for method, path, body in ENDPOINTS[1:]:
        body = {**body, "revision": 2} if body else None
        response = api.request(
            method, path.replace("revision=1", "revision=2"), json=body, headers=owner
        )
        assert response.status_code == 403, (method, path)
    assert site.plans.revision(PLAN_ID) == 2


# --- milestones --------------------------------------------------------------------------------


def test_milestones_add_replace_remove_and_the_critical_path(site: Site, api: TestClient) -> None:
    ann = site.token("ann")
    assert critical_path(api, ann) == (["M01", "M02", "M07", "M14"], 140)
    added = api.post(f"{P}/milestones", json={"revision": 1, "milestone": M15}, headers=ann)
    assert added.status_code == 201, added.text
    assert added.json()["detail"] == {"changed": ["milestones[M15]"]}
    assert critical_path(api, ann) == (["M01", "M02", "M07", "M15"], 235)
    m14 = next(m for m in site.plans.get(PLAN_ID).milestones if m.id == "M14")
    after = {**m14.model_dump(mode="json"), "depends_on": ["M03", "M06", "M15", "M08"]}
    put = api.put(f"{P}/milestones/M14", json={"revision": 2, "milestone": after}, headers=ann)
    assert put.status_code == 200
    assert put.json()["detail"] == {"changed": ["milestones[M14].depends_on"]}
    assert critical_path(api, ann) == (["M01", "M02", "M07", "M15", "M14"], 240)
    depended = api.delete(f"{P}/milestones/M15", params={"revision": 3}, headers=ann)
    assert depended.status_code == 422
    assert {
        "field": "milestones[13].depends_on[2]",
        "rule": "unknown milestone",
        "value": "M15",
    } in (depended.json()["problems"])
    leaf = api.delete(f"{P}/milestones/M13", params={"revision": 3}, headers=ann)
    assert leaf.status_code == 200 and leaf.json()["revision"] == 4
    assert "M13" not in [m.id for m in site.plans.get(PLAN_ID).milestones]
    assert api.delete(f"{P}/milestones/M13", params={"revision": 4}, headers=ann).status_code == 404
    stale = api.delete(f"{P}/milestones/M12", params={"revision": 3}, headers=ann)
    assert stale.status_code == 409 and stale.json()["revision"] == 4
    assert [e.who for e in site.plans.audit(PLAN_ID)] == ["seed", "ann", "ann", "ann"]


def test_milestone_rules(site: Site, api: TestClient) -> None:
    ann = site.token("ann")

    def post(milestone: dict[str, Any]) -> Any:
        return api.post(
            f"{P}/milestones", json={"revision": 1, "milestone": milestone}, headers=ann
        )

    taken = post({**M15, "id": "M02"})
    assert taken.status_code == 422
    assert taken.json()["problems"] == [
        {"field": "id", "rule": "milestone ids are unique in a plan", "value": "M02"}
    ]
    assert post({**M15, "depends_on": ["M99"]}).status_code == 422
    assert post({**M15, "scheme": "S99"}).json()["problems"][0]["rule"] == "unknown scheme"
    assert post({**M15, "duration_days": -1}).status_code == 422
    runaway = post({**M15, "duration_days": 10**9})
    assert runaway.status_code == 422
    assert runaway.json()["problems"][0]["field"] == "milestones[14].duration_days"
    early = post({**M15, "depends_on": [], "due": "0001-01-02", "duration_days": 5})
    assert early.status_code == 422
    assert "outside the calendar" in early.json()["detail"]
    cycle = next(m for m in site.plans.get(PLAN_ID).milestones if m.id == "M01")
    looped = {**cycle.model_dump(mode="json"), "depends_on": ["M14"]}
    refused = api.put(f"{P}/milestones/M01", json={"revision": 1, "milestone": looped}, headers=ann)
    assert refused.status_code == 422
    assert "milestone dependencies form a cycle" in refused.json()["detail"]
    missing = api.put(f"{P}/milestones/M99", json={"revision": 1, "milestone": M15}, headers=ann)
    assert missing.status_code == 404
    assert site.plans.revision(PLAN_ID) == 1


# --- risks -------------------------------------------------------------------------------------


def test_risks_add_replace_remove(site: Site, api: TestClient) -> None:
    ann = site.token("ann")
    added = api.post(f"{P}/risks", json={"revision": 1, "risk": R07}, headers=ann)
    assert added.status_code == 201, added.text
    risk = site.plans.get(PLAN_ID).risks[-1]
    assert (risk.id, risk.score, str(risk.grading), str(risk.rag)) == ("R07", 20, "extreme", "red")
    check = api.get(f"{P}/check", headers=ann).json()
    red = [f for f in check["findings"] if f["rule"] == "PLAN-RISK-RED"]
    assert [f["location"] for f in red] == ["risks[R07].mitigation"]
    mitigated = {**R07, "mitigation": "Surge team", "likelihood": 2}
    put = api.put(f"{P}/risks/R07", json={"revision": 2, "risk": mitigated}, headers=ann)
    assert put.status_code == 200
    assert put.json()["detail"] == {"changed": ["risks[R07].likelihood", "risks[R07].mitigation"]}
    assert site.plans.get(PLAN_ID).risks[-1].score == 8
    too_likely = api.put(
        f"{P}/risks/R07", json={"revision": 3, "risk": {**R07, "likelihood": 6}}, headers=ann
    )
    assert too_likely.status_code == 422
    gone = api.delete(f"{P}/risks/R07", params={"revision": 3}, headers=ann)
    assert gone.status_code == 200
    assert "R07" not in [r.id for r in site.plans.get(PLAN_ID).risks]
    assert (
        api.put(f"{P}/risks/R07", json={"revision": 4, "risk": R07}, headers=ann).status_code == 404
    )
    renamed = api.put(
        f"{P}/risks/R06", json={"revision": 4, "risk": {**R07, "id": "R01"}}, headers=ann
    )
    assert renamed.status_code == 422 and "already used" in renamed.json()["detail"]


# --- funding -----------------------------------------------------------------------------------


def test_put_funding_and_stated_totals(site: Site, api: TestClient) -> None:
    ann = site.token("ann")
    plan = site.plans.get(PLAN_ID)
    funding = [f.model_dump(mode="json") for f in plan.funding]
    extra = {
        "kind": "council",
        "description": "Gap closed",
        "amount_gbp": 439000,
        "year": "2015/16",
    }
    body = {
        "revision": 1,
        "funding": [*funding, extra],
        "stated_totals": {"total_funding_gbp": 7039000, "funding_gap_gbp": 0},
    }
    done = api.put(f"{P}/funding", json=body, headers=ann)
    assert done.status_code == 200, done.text
    stored = site.plans.get(PLAN_ID)
    assert stored.funding_gap() == 0
    assert stored.stated_totals is not None
    assert stored.stated_totals.total_scheme_cost_gbp is None  # replaced as a whole
    report = api.get(f"{P}/check", headers=ann).json()
    assert report["funding_gap"]["overall"] == 0
    bad = api.put(
        f"{P}/funding",
        json={**body, "revision": 2, "funding": [{**extra, "amount_gbp": "£1m"}]},
        headers=ann,
    )
    assert bad.status_code == 422
    cleared = api.put(f"{P}/funding", json={"revision": 2, "funding": []}, headers=ann)
    assert cleared.status_code == 200
    assert site.plans.get(PLAN_ID).stated_totals is None


def test_funding_in_a_locked_year_and_a_plan_past_draft(site: Site, api: TestClient) -> None:
    ann = site.token("ann")
    plan = site.plans.get(PLAN_ID)
    locked = plan.model_copy(
        update={"lock_deadline": date(2015, 5, 1), "locked_years": ["2015/16"]}
    )
    site.plans.save(locked, action="updated", detail={}, who="seed")
    funding = [f.model_dump(mode="json") for f in plan.funding]
    funding[0]["amount_gbp"] = 3700000
    refused = api.put(f"{P}/funding", json={"revision": 2, "funding": funding}, headers=ann)
    assert refused.status_code == 422
    payload = refused.json()
    assert "has locked 2015/16" in payload["detail"]
    fields = [p["field"] for p in payload["problems"]]
    assert "funding[0].amount_gbp" in fields
    assert site.plans.get(PLAN_ID).funding[0].amount_gbp == 3600000
    # a signed-off plan is not edited at all
    revision = to_signed_off(site)
    after = api.post(f"{P}/risks", json={"revision": revision, "risk": R07}, headers=ann)
    assert after.status_code == 422 and "its status is signed_off" in after.json()["detail"]


def test_browser_session_needs_the_csrf_header_for_part_changes(site: Site) -> None:
    browser = site.login("ann")
    refused = browser.delete(f"{P}/risks/R06", params={"revision": 1})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = csrf_of(browser, "/plans")
    ok = browser.delete(f"{P}/risks/R06", params={"revision": 1}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200
    assert site.plans.audit(PLAN_ID)[-1].detail["via"] == "api"
