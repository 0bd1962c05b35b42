"""The plan pages: who sees what, creating plans, editing schemes with optimistic locking,
checks beside the fields, sign-off for one's own organisation, submit, publish, exports."""

from __future__ import annotations

import re
from datetime import date, datetime

import yaml
from fastapi.testclient import TestClient

from flowplan.plans import workflow
from flowplan.plans.document import parse_plan
from flowplan.plans.model import PlanStatus
from tests.integration.web.conftest import LSC_MEMBERS, PLAN_ID, Site, csrf_of

_REVISION = re.compile(r'name="revision" value="(\d+)"')
EDIT = f"/plans/{PLAN_ID}/schemes/S01"


def open_form(client: TestClient, path: str) -> dict[str, str]:
    """The form's fields as a browser would send them back (values from the page)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text):
        fields[name] = value
    for name, body in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page.text, re.S
    ):
        fields[name] = body
    for name, block in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page.text, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', block)
        fields[name] = chosen.group(1) if chosen else ""
    return {k: _unescape(v) for k, v in fields.items()}


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def page_revision(client: TestClient, path: str = f"/plans/{PLAN_ID}") -> int:
    page = client.get(path)
    match = _REVISION.search(page.text)
    assert match is not None, page.text
    return int(match.group(1))


def post_form(client: TestClient, path: str, data: dict[str, str]) -> object:
    data = {**data, "csrf_token": csrf_of(client, "/plans")}
    return client.post(path, data=data, follow_redirects=False)


def submit_by_store(site: Site) -> None:
    """Submit the plan directly through the workflow (setting up later steps)."""
    plan = site.plans.get(PLAN_ID)
    change = workflow.submit(plan, [])
    site.plans.save(change.plan, action=change.action, detail=change.detail, who="seed")


def sign_by_store(site: Site, orgs: list[str]) -> None:
    for org in orgs:
        change = workflow.sign_off(
            site.plans.get(PLAN_ID), org=org, user=f"seed-{org}", at=datetime(2015, 6, 1)
        )
        site.plans.save(change.plan, action=change.action, detail=change.detail, who="seed")


# --- visibility --------------------------------------------------------------------------------


def test_anonymous_visitor_cannot_see_a_draft_but_can_see_it_published(site: Site) -> None:
    visitor = site.client()
    listing = visitor.get("/plans")
    assert listing.status_code == 200
    assert PLAN_ID not in listing.text
    draft = visitor.get(f"/plans/{PLAN_ID}", follow_redirects=False)
    assert draft.status_code == 303
    assert draft.headers["location"].startswith("/login?next=")
    for suffix in ("/check", "/onepage", "/export.yaml"):
        assert visitor.get(f"/plans/{PLAN_ID}{suffix}", follow_redirects=False).status_code == 303
    submit_by_store(site)
    sign_by_store(site, LSC_MEMBERS)
    change = workflow.publish(site.plans.get(PLAN_ID))
    site.plans.save(change.plan, action=change.action, detail=change.detail, who="seed")
    page = visitor.get(f"/plans/{PLAN_ID}")
    assert page.status_code == 200
    assert "Lancashire &amp; South Cumbria SRG operational resilience" in page.text
    assert "Sign off for" not in page.text and "Audit log" not in page.text
    assert PLAN_ID in visitor.get("/plans").text
    assert visitor.get(f"/plans/{PLAN_ID}/export.yaml").status_code == 200


def test_footprint_members_see_drafts_and_others_do_not(site: Site) -> None:
    for member in ("ann", "sig-rxn", "owner-qe1", "fpadmin", "admin"):
        client = site.login(member)
        assert client.get(f"/plans/{PLAN_ID}").status_code == 200, member
        assert f'href="/plans/{PLAN_ID}"' in client.get("/plans").text, member
    outsider = site.login("olly")
    response = outsider.get(f"/plans/{PLAN_ID}")
    assert response.status_code == 404  # existence not revealed
    assert PLAN_ID not in outsider.get("/plans").text
    assert outsider.get(EDIT).status_code == 404


# --- creating a plan ---------------------------------------------------------------------------


def test_analyst_creates_a_plan_for_their_footprint(site: Site) -> None:
    ann = site.login("ann")
    form = ann.get("/plans/new")
    assert form.status_code == 200
    assert 'value="LSC-SRG"' in form.text and 'value="OTHER-SRG"' not in form.text
    response = post_form(
        ann,
        "/plans",
        {
            "plan_type": "operational",
            "footprint": "LSC-SRG",
            "start": "2016-04-01",
            "end": "2018-03-31",
            "plan_id": "lsc-operational-2016",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/plans/lsc-operational-2016"
    plan = site.plans.get("lsc-operational-2016")
    assert plan.status is PlanStatus.draft
    assert plan.period_start == date(2016, 4, 1)
    assert sorted(m.code for m in plan.members) == sorted(LSC_MEMBERS)
    (entry,) = site.plans.audit("lsc-operational-2016")
    assert (entry.who, entry.action) == ("ann", "created")
    again = post_form(
        ann,
        "/plans",
        {"plan_type": "operational", "footprint": "LSC-SRG", "plan_id": "lsc-operational-2016"},
    )
    assert again.status_code == 422
    assert "already used" in again.text


def test_others_cannot_create_plans_for_the_footprint(site: Site) -> None:
    for name in ("olly", "sig-rxn"):
        client = site.login(name)
        assert client.get("/plans/new").status_code == 403
        response = post_form(
            client, "/plans", {"plan_type": "operational", "footprint": "LSC-SRG", "plan_id": "x-1"}
        )
        assert response.status_code == 403
    assert not site.plans.exists("x-1")


# --- editing schemes ---------------------------------------------------------------------------


def test_analyst_edits_a_scheme_and_the_change_is_audited(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, EDIT)
    assert fields["revision"] == "1"
    assert fields["lead_organisation"] == "QE1"
    fields["title"] = "Shared capacity model (revised)"
    response = post_form(ann, EDIT, fields)
    assert response.status_code == 303, response.text
    plan = site.plans.get(PLAN_ID)
    scheme = plan.scheme("S01")
    assert scheme is not None
    assert scheme.title == "Shared capacity model (revised)"
    assert len(scheme.kpis) == 1 and scheme.kpis[0].metric == "uec.ga_bed_occupancy"  # kept
    assert [c.description for c in scheme.costs] == [
        "1 x band 8a analyst £60,000; modelling support £120,000"
    ]
    assert site.plans.revision(PLAN_ID) == 2
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.action) == ("ann", "updated")
    assert entry.detail["changed"] == ["schemes[S01].title"]
    assert entry.detail["via"] == "web"
    assert entry.detail["revision"] == 2


def test_second_save_of_the_same_scheme_is_rejected_and_nothing_is_lost(site: Site) -> None:
    ann = site.login("ann")
    bob = site.login("bob")
    ann_form = open_form(ann, EDIT)
    bob_form = open_form(bob, EDIT)
    ann_form["title"] = "Ann's title"
    bob_form["title"] = "Bob's title"
    bob_form["summary"] = "Bob typed a long summary he does not want to lose."
    assert post_form(ann, EDIT, ann_form).status_code == 303
    response = post_form(bob, EDIT, bob_form)
    assert response.status_code == 409
    assert "This plan was changed by ann at" in response.text
    assert "reload — your changes were not saved." in response.text
    # Bob's input comes back in the form so he can copy it
    assert "Bob&#39;s title" in response.text
    assert "Bob typed a long summary he does not want to lose." in response.text
    scheme = site.plans.get(PLAN_ID).scheme("S01")
    assert scheme is not None and scheme.title == "Ann's title"
    assert site.plans.revision(PLAN_ID) == 2
    assert [e.who for e in site.plans.audit(PLAN_ID)] == ["seed", "ann"]


def test_scheme_owner_edits_only_their_organisations_schemes(site: Site) -> None:
    plan = site.plans.get(PLAN_ID)
    other = next(s for s in plan.schemes if s.lead.organisation != "QE1")
    owner = site.login("owner-qe1")
    page = owner.get(f"/plans/{PLAN_ID}")
    assert f'href="{EDIT}"' in page.text
    assert f'href="/plans/{PLAN_ID}/schemes/{other.id}"' not in page.text
    assert owner.get(f"/plans/{PLAN_ID}/schemes/{other.id}").status_code == 403
    fields = open_form(owner, EDIT)
    fields["lead_organisation"] = "RXN"  # handing it to another organisation is refused
    assert post_form(owner, EDIT, fields).status_code == 403
    fields["lead_organisation"] = "QE1"
    fields["summary"] = "Owner's new summary"
    assert post_form(owner, EDIT, fields).status_code == 303
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.detail["changed"]) == ("owner-qe1", ["schemes[S01].summary"])
    assert post_form(owner, f"/plans/{PLAN_ID}/schemes/{other.id}", fields).status_code == 403


def test_viewer_and_signatory_cannot_edit(site: Site) -> None:
    client = site.login("sig-rxn")
    assert client.get(EDIT).status_code == 403
    fields = open_form(site.login("ann"), EDIT)
    fields["title"] = "hijack"
    assert post_form(client, EDIT, fields).status_code == 403
    assert site.plans.revision(PLAN_ID) == 1


def test_invalid_scheme_input_is_shown_next_to_the_field(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, EDIT)
    fields["lead_email"] = "not-an-email"
    fields["costs"] = "2015/16; £1.2m; one-off"
    response = post_form(ann, EDIT, fields)
    assert response.status_code == 422
    assert re.search(
        r'name="lead_email".*?<p class="field-error"[^>]*>[^<]*email', response.text, re.S
    )
    assert "is not a number of pounds" in response.text
    assert site.plans.revision(PLAN_ID) == 1


def test_add_a_scheme(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"/plans/{PLAN_ID}/schemes/new")
    fields.update(
        id="S99",
        title="Discharge to assess pilot",
        summary="Pilot discharge to assess beds.",
        section="innovation",
        category="social_care",
        lead_name="Pat Example",
        lead_email="pat.example@example.org",
        lead_job_title="Director of Adult Social Care",
        lead_organisation="E10000017",
        costs="2015/16; 50000; one-off; 10 beds for 3 months",
        start="2015-10-01",
        end="2016-03-31",
    )
    response = post_form(ann, f"/plans/{PLAN_ID}/schemes", fields)
    assert response.status_code == 303, response.text
    scheme = site.plans.get(PLAN_ID).scheme("S99")
    assert scheme is not None
    assert scheme.total_cost() == 50000
    assert site.plans.audit(PLAN_ID)[-1].detail["changed"] == ["schemes[S99]"]
    duplicate = post_form(ann, f"/plans/{PLAN_ID}/schemes", {**fields, "revision": "2"})
    assert duplicate.status_code == 422
    assert "already used" in duplicate.text


# --- checks ------------------------------------------------------------------------------------


def test_checks_show_findings_next_to_the_scheme_and_field(site: Site) -> None:
    plan = site.plans.get(PLAN_ID)
    s01 = plan.scheme("S01")
    assert s01 is not None
    broken = s01.model_copy(update={"end": date(2015, 4, 1)})  # before its start
    new = plan.model_copy(update={"schemes": [broken, *plan.schemes[1:]]})
    site.plans.save(new, action="updated", detail={}, who="seed")
    ann = site.login("ann")
    page = ann.get(f"/plans/{PLAN_ID}/check")
    assert page.status_code == 200
    assert "Checks: failed" in page.text
    s01_block = page.text.split('id="scheme-S01"')[1].split("</article>")[0]
    assert "PLAN-DATE-ORDER" in s01_block and "scheme ends before it starts" in s01_block
    s02_block = page.text.split('id="scheme-S02"')[1].split("</article>")[0]
    assert "PLAN-DATE-ORDER" not in s02_block
    form = ann.get(EDIT).text
    end_field = form.split('name="end"')[1].split("</div>")[0]
    assert "PLAN-DATE-ORDER" in end_field
    clean = site.login("bob").get(f"/plans/{PLAN_ID}").text
    assert "PLAN-DATE-ORDER" not in clean  # the plain page does not run checks


def test_submit_is_refused_while_checks_fail(site: Site) -> None:
    plan = site.plans.get(PLAN_ID)
    s01 = plan.scheme("S01")
    assert s01 is not None
    broken = s01.model_copy(update={"end": date(2015, 4, 1)})
    site.plans.save(
        plan.model_copy(update={"schemes": [broken, *plan.schemes[1:]]}),
        action="updated",
        detail={},
        who="seed",
    )
    ann = site.login("ann")
    response = post_form(ann, f"/plans/{PLAN_ID}/submit", {"revision": "2"})
    assert response.status_code == 422
    assert "checks report" in response.text
    assert site.plans.get(PLAN_ID).status is PlanStatus.draft


# --- workflow ----------------------------------------------------------------------------------


def test_signatory_signs_only_for_their_own_organisation(site: Site) -> None:
    ann = site.login("ann")
    response = post_form(ann, f"/plans/{PLAN_ID}/submit", {"revision": str(page_revision(ann))})
    assert response.status_code == 303
    assert site.plans.get(PLAN_ID).status is PlanStatus.submitted
    signer = site.login("sig-rxn")
    page = signer.get(f"/plans/{PLAN_ID}")
    assert "Sign off for RXN" in page.text
    assert "Sign off for RXL" not in page.text and "Sign off for QE1" not in page.text
    revision = page_revision(signer)
    refused = post_form(
        signer, f"/plans/{PLAN_ID}/signoff", {"revision": str(revision), "org": "RXL"}
    )
    assert refused.status_code == 403
    assert "only for your own organisation" in refused.text
    assert site.plans.get(PLAN_ID).signoffs == []
    ok = post_form(signer, f"/plans/{PLAN_ID}/signoff", {"revision": str(revision), "org": "RXN"})
    assert ok.status_code == 303
    plan = site.plans.get(PLAN_ID)
    assert [(s.org, s.user) for s in plan.signoffs] == [("RXN", "sig-rxn")]
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.action, entry.detail["org"]) == ("sig-rxn", "signed_off", "RXN")
    assert "RXL" in entry.detail["outstanding"]
    again = signer.get(f"/plans/{PLAN_ID}")
    assert "Sign off for RXN" not in again.text  # already signed
    # an analyst of the footprint is not a signatory either, nor is the administrator
    for name in ("ann", "admin"):
        client = site.login(name)
        denied = post_form(
            client, f"/plans/{PLAN_ID}/signoff", {"revision": str(revision + 1), "org": "RXL"}
        )
        assert denied.status_code == 403, name
    other = site.login("sig-rxl")
    assert (
        post_form(
            other, f"/plans/{PLAN_ID}/signoff", {"revision": str(revision + 1), "org": "RXL"}
        ).status_code
        == 303
    )
    assert [s.org for s in site.plans.get(PLAN_ID).signoffs] == ["RXN", "RXL"]


def test_stale_workflow_form_gets_a_conflict(site: Site) -> None:
    submit_by_store(site)
    signer = site.login("sig-rxn")
    revision = page_revision(signer)
    sign_by_store(site, ["RXL"])
    response = post_form(
        signer, f"/plans/{PLAN_ID}/signoff", {"revision": str(revision), "org": "RXN"}
    )
    assert response.status_code == 409
    assert "This plan was changed by seed at" in response.text
    assert [s.org for s in site.plans.get(PLAN_ID).signoffs] == ["RXL"]


def test_only_footprint_admin_publishes_and_reopens(site: Site) -> None:
    submit_by_store(site)
    sign_by_store(site, LSC_MEMBERS)
    assert site.plans.get(PLAN_ID).status is PlanStatus.signed_off
    revision = site.plans.revision(PLAN_ID)
    ann = site.login("ann")
    assert "Publish</button>" not in ann.get(f"/plans/{PLAN_ID}").text
    assert (
        post_form(ann, f"/plans/{PLAN_ID}/publish", {"revision": str(revision)}).status_code == 403
    )
    admin = site.login("fpadmin")
    assert "Publish</button>" in admin.get(f"/plans/{PLAN_ID}").text
    assert (
        post_form(admin, f"/plans/{PLAN_ID}/publish", {"revision": str(revision)}).status_code
        == 303
    )
    assert site.plans.get(PLAN_ID).status is PlanStatus.published
    assert site.plans.audit(PLAN_ID)[-1].who == "fpadmin"
    reopened = post_form(
        admin, f"/plans/{PLAN_ID}/reopen", {"revision": str(revision + 1), "reason": "new data"}
    )
    assert reopened.status_code == 303
    plan = site.plans.get(PLAN_ID)
    assert (plan.status, plan.version, plan.signoffs) == (PlanStatus.draft, 2, [])


# --- downloads and audit -----------------------------------------------------------------------


def test_exports_and_plan_on_a_page(site: Site) -> None:
    ann = site.login("ann")
    xlsx = ann.get(f"/plans/{PLAN_ID}/export.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert 'filename="lsc-resilience-2015-r1.xlsx"' in xlsx.headers["content-disposition"]
    text = ann.get(f"/plans/{PLAN_ID}/export.yaml")
    assert text.status_code == 200
    assert yaml.safe_load(text.text)["id"] == PLAN_ID
    assert parse_plan(text.text, "yaml") == site.plans.get(PLAN_ID)
    as_json = ann.get(f"/plans/{PLAN_ID}/export.json")
    assert as_json.json()["footprint"] == "LSC-SRG"
    assert ann.get(f"/plans/{PLAN_ID}/export.pdf").status_code == 404
    onepage = ann.get(f"/plans/{PLAN_ID}/onepage")
    assert onepage.status_code == 200
    assert "Lancashire &amp; South Cumbria SRG operational resilience" in onepage.text
    assert "data:image/png;base64," in onepage.text  # the critical-path chart


def test_audit_page_lists_who_did_what(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, EDIT)
    fields["title"] = "Audited title"
    post_form(ann, EDIT, fields)
    page = ann.get(f"/plans/{PLAN_ID}/audit")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", page.text
    )
    assert [(who, what) for _, who, what in rows] == [("seed", "created"), ("ann", "updated")]
    assert "schemes[S01].title" in page.text
