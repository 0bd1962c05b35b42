"""The plan editing pages beyond a scheme's own fields: a scheme's KPIs, milestones (and the
critical path they make), risks (the 5×5 score), funding lines and stated totals. Each is saved
through the same flow as a scheme: roles, CSRF, the form's revision (409, nothing lost), values
checked beside their fields, the workflow's edit rules (drafts only, locked years), audit."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.conftest import PLAN_ID, Site
from tests.integration.web.test_plans_pages import open_form, post_form, submit_by_store

P = f"/plans/{PLAN_ID}"
KPI = f"{P}/schemes/S01/kpis/0"


def other_scheme(site: Site) -> str:
    """A scheme not led by QE1 (whose scheme owner is ``owner-qe1``)."""
    return next(s.id for s in site.plans.get(PLAN_ID).schemes if s.lead.organisation != "QE1")


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown right after form field ``name`` (before the next label)."""
    after = html.split(f'name="{name}"', 1)[1].split("<label", 1)[0]
    return re.findall(r'<p class="field-error"[^>]*>([^<]*)</p>', after)


def critical_path(client: TestClient) -> str:
    page = client.get(P).text
    match = re.search(r'<p id="critical-path">([^<]*)</p>', page)
    assert match is not None, page
    return match.group(1)


# --- KPIs --------------------------------------------------------------------------------------


def test_analyst_edits_a_kpi_and_it_is_stored_and_audited(site: Site) -> None:
    title = site.plans.get(PLAN_ID).schemes[0].title
    ann = site.login("ann")
    fields = open_form(ann, KPI)
    assert fields["metric"] == "uec.ga_bed_occupancy"
    assert fields["baseline"] == "95.1" and fields["target"] == "92.0"
    assert fields["trajectory"].splitlines()[-1] == "2016-03-31; 92.0"
    fields["target"] = "91.5"
    fields["trajectory"] = "2015-06-30; 94.5\n2015-09-30; 93.5\n\n2016-03-31; 91.5\n"
    response = post_form(ann, KPI, fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{P}#scheme-S01"
    scheme = site.plans.get(PLAN_ID).scheme("S01")
    assert scheme is not None
    (kpi,) = scheme.kpis
    assert (kpi.metric, kpi.baseline, kpi.target) == ("uec.ga_bed_occupancy", 95.1, 91.5)
    assert [(p.date, p.value) for p in kpi.trajectory] == [
        (date(2015, 6, 30), 94.5),
        (date(2015, 9, 30), 93.5),
        (date(2016, 3, 31), 91.5),
    ]
    assert scheme.title == title  # the rest of the scheme is kept
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.action, entry.detail["via"]) == ("ann", "updated", "web")
    assert entry.detail["changed"] == ["schemes[S01].kpis"]
    s01 = ann.get(P).text.split('id="scheme-S01"')[1].split("</article>")[0]
    assert "<td>91.5</td>" in s01


def test_add_and_remove_a_kpi(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/schemes/S01/kpis/new")
    fields.update(
        metric="custom",
        description="Patients with a discharge date set on admission",
        unit="%",
        baseline="40",
        baseline_date="2015-03-31",
        target="80",
        target_date="2016-03-31",
    )
    response = post_form(ann, f"{P}/schemes/S01/kpis", fields)
    assert response.status_code == 303, response.text
    scheme = site.plans.get(PLAN_ID).scheme("S01")
    assert scheme is not None and len(scheme.kpis) == 2
    assert (scheme.kpis[1].metric, scheme.kpis[1].unit, scheme.kpis[1].target) == (
        "custom",
        "%",
        80,
    )
    removed = post_form(ann, f"{P}/schemes/S01/kpis/1/delete", {"revision": "2"})
    assert removed.status_code == 303
    scheme = site.plans.get(PLAN_ID).scheme("S01")
    assert scheme is not None and [k.metric for k in scheme.kpis] == ["uec.ga_bed_occupancy"]
    assert ann.get(f"{P}/schemes/S01/kpis/1").status_code == 404


def test_bad_kpi_values_are_shown_beside_their_fields_and_nothing_is_saved(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, KPI)
    fields.update(baseline="ninety", trajectory="2015-06-30; 94.5\n2015-09-30")
    response = post_form(ann, KPI, fields)
    assert response.status_code == 422
    assert "The KPI was not saved: correct the fields marked below." in response.text
    assert field_errors(response.text, "baseline") == ["&#39;ninety&#39; is not a number"]
    assert field_errors(response.text, "trajectory") == ["line 2: write DATE; VALUE"]
    assert 'value="ninety"' in response.text  # what was typed comes back
    unknown = post_form(ann, KPI, {**open_form(ann, KPI), "metric": "uec.no_such_metric"})
    assert unknown.status_code == 422
    assert "unknown metric" in " ".join(field_errors(unknown.text, "metric")).lower()
    custom = post_form(ann, KPI, {**open_form(ann, KPI), "metric": "custom", "unit": ""})
    assert custom.status_code == 422
    assert field_errors(custom.text, "metric") == [
        "a &#39;custom&#39; KPI needs a description and a unit"
    ]
    assert site.plans.revision(PLAN_ID) == 1


def test_scheme_owner_edits_the_kpis_of_their_own_schemes_only(site: Site) -> None:
    other = other_scheme(site)
    owner = site.login("owner-qe1")
    page = owner.get(P).text
    assert f'href="{KPI}"' in page
    assert f'href="{P}/schemes/{other}/kpis/0"' not in page
    assert f'href="{P}/schemes/{other}/kpis/new"' not in page
    assert owner.get(f"{P}/schemes/{other}/kpis/0").status_code == 403
    assert owner.get(f"{P}/schemes/{other}/kpis/new").status_code == 403
    stolen = open_form(site.login("ann"), f"{P}/schemes/{other}/kpis/0")
    stolen["target"] = "1"
    refused = post_form(owner, f"{P}/schemes/{other}/kpis/0", stolen)
    assert refused.status_code == 403
    assert "you may not edit the KPIs of scheme" in refused.text
    assert post_form(owner, f"{P}/schemes/{other}/kpis", stolen).status_code == 403
    assert (
        post_form(owner, f"{P}/schemes/{other}/kpis/0/delete", {"revision": "1"}).status_code == 403
    )
    assert site.plans.revision(PLAN_ID) == 1
    fields = open_form(owner, KPI)
    fields["baseline"] = "95.2"
    assert post_form(owner, KPI, fields).status_code == 303
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.detail["changed"]) == ("owner-qe1", ["schemes[S01].kpis"])
    # ... but not the plan's milestones, risks or funding
    for path in ("/milestones/new", "/milestones/M02", "/risks/new", "/risks/R01", "/funding"):
        assert owner.get(f"{P}{path}").status_code == 403, path
    milestone = open_form(site.login("ann"), f"{P}/milestones/M02")
    milestone["revision"] = "2"
    assert post_form(owner, f"{P}/milestones/M02", milestone).status_code == 403
    assert site.plans.revision(PLAN_ID) == 2


# --- milestones and the critical path -----------------------------------------------------------


def test_add_a_milestone_with_a_dependency_and_the_critical_path_changes(site: Site) -> None:
    ann = site.login("ann")
    assert critical_path(ann) == (
        "Critical path: M01 → M02 → M07 → M14, 140 days (15 Apr 2015 to 02 Sep 2015)."
    )
    fields = open_form(ann, f"{P}/milestones/new")
    assert fields["duration_days"] == "0" and fields["scheme"] == ""
    fields.update(
        id="M15",
        title="Dashboard alerts tested with every trust",
        scheme="S10",
        duration_days="100",
        depends_on="M07",
        owner="Jamie Madeup",
    )
    response = post_form(ann, f"{P}/milestones", fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{P}#milestone-M15"
    stored = site.plans.get(PLAN_ID).milestones[-1]
    assert (stored.id, stored.depends_on, stored.duration_days, stored.scheme) == (
        "M15",
        ["M07"],
        100,
        "S10",
    )
    assert critical_path(ann) == (
        "Critical path: M01 → M02 → M07 → M15, 235 days (15 Apr 2015 to 06 Dec 2015)."
    )
    # winter readiness now waits for the alerts too
    m14 = open_form(ann, f"{P}/milestones/M14")
    assert m14["depends_on"] == "M03, M06, M07, M08"
    m14["depends_on"] = "M03, M06, M15, M08"
    assert post_form(ann, f"{P}/milestones/M14", m14).status_code == 303
    assert critical_path(ann).startswith("Critical path: M01 → M02 → M07 → M15 → M14, 240 days")
    m15_row = ann.get(P).text.split('id="milestone-M15"')[1].split("</tr>")[0]
    assert "<strong>critical</strong>" in m15_row
    entry = site.plans.audit(PLAN_ID)[-1]
    assert (entry.who, entry.detail["changed"]) == ("ann", ["milestones[M14].depends_on"])
    # the critical-path finding of the checks agrees
    check = ann.get(f"{P}/check").text
    assert "critical path M01 → M02 → M07 → M15 → M14: 240 days" in check


def test_milestone_dependency_problems_are_shown_beside_the_field(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/milestones/M01")
    fields["depends_on"] = "M14"  # M14 already depends on M01 (through others): a cycle
    response = post_form(ann, f"{P}/milestones/M01", fields)
    assert response.status_code == 422
    assert "milestone dependencies form a cycle" in " ".join(
        field_errors(response.text, "depends_on")
    )
    fields["depends_on"] = "M99"
    unknown = post_form(ann, f"{P}/milestones/M01", fields)
    assert unknown.status_code == 422
    assert field_errors(unknown.text, "depends_on") == ["unknown milestone"]
    fields.update(depends_on="", duration_days="ten")
    typed = post_form(ann, f"{P}/milestones/M01", fields)
    assert typed.status_code == 422
    assert field_errors(typed.text, "duration_days") == ["&#39;ten&#39; is not a whole number"]
    duplicate = open_form(ann, f"{P}/milestones/new")
    duplicate.update(id="M02", title="Again", duration_days="1")
    taken = post_form(ann, f"{P}/milestones", duplicate)
    assert taken.status_code == 422
    assert field_errors(taken.text, "id") == ["milestone ids are unique in a plan"]
    assert site.plans.revision(PLAN_ID) == 1


def test_remove_a_milestone(site: Site) -> None:
    ann = site.login("ann")
    refused = post_form(ann, f"{P}/milestones/M02/delete", {"revision": "1"})
    assert refused.status_code == 422  # M03 and M07 depend on it
    assert "The milestone was not removed" in refused.text and "unknown milestone" in refused.text
    assert len(site.plans.get(PLAN_ID).milestones) == 14
    done = post_form(ann, f"{P}/milestones/M13/delete", {"revision": "1"})
    assert done.status_code == 303
    assert "M13" not in [m.id for m in site.plans.get(PLAN_ID).milestones]
    assert site.plans.audit(PLAN_ID)[-1].detail["changed"] == ["milestones[M13]"]
    assert ann.get(f"{P}/milestones/M13").status_code == 404


# --- risks -------------------------------------------------------------------------------------


def test_add_a_risk_and_see_its_score(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/risks/new")
    assert (fields["likelihood"], fields["impact"]) == ("1", "1")
    fields.update(
        id="R07",
        description="Norovirus closes wards in December",
        likelihood="5",
        impact="4",
        owner="Alex Example",
        mitigation="Infection control surge team; cohorting plan",
        scheme="S01",
        contingency_gbp="25,000",
    )
    response = post_form(ann, f"{P}/risks", fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{P}#risk-R07"
    risk = site.plans.get(PLAN_ID).risks[-1]
    assert (risk.id, risk.score, str(risk.grading), str(risk.rag)) == ("R07", 20, "extreme", "red")
    assert risk.contingency_gbp == Decimal(25000)
    page = ann.get(P).text
    assert "Saved risk R07: score 20 (extreme, red)." in page
    row = page.split('id="risk-R07"')[1].split("</tr>")[0]
    assert '<span class="rag rag-red">20 extreme</span>' in row and "(5 × 4, red)" in row
    edit = open_form(ann, f"{P}/risks/R07")
    edit["likelihood"] = "2"
    assert post_form(ann, f"{P}/risks/R07", edit).status_code == 303
    row = ann.get(P).text.split('id="risk-R07"')[1].split("</tr>")[0]
    assert '<span class="rag rag-amber">8 high</span>' in row


def test_bad_risk_values_are_shown_beside_their_fields(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/risks/R01")
    fields.update(likelihood="6", owner="", contingency_gbp="£1.2m")
    response = post_form(ann, f"{P}/risks/R01", fields)
    assert response.status_code == 422
    assert field_errors(response.text, "likelihood") == ["Input should be less than or equal to 5"]
    assert field_errors(response.text, "owner") == ["String should have at least 1 character"]
    assert field_errors(response.text, "contingency_gbp") == [
        "amount &#39;£1.2m&#39; is not a number of pounds"
    ]
    assert site.plans.revision(PLAN_ID) == 1


def test_check_findings_link_to_the_field_they_concern(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/risks/R01")
    fields.update(likelihood="5", impact="5", mitigation="")
    assert post_form(ann, f"{P}/risks/R01", fields).status_code == 303  # saved: a check, not a rule
    kpi = open_form(ann, KPI)
    kpi["target"] = "91.0"  # the trajectory still ends at 92.0
    assert post_form(ann, KPI, kpi).status_code == 303
    check = ann.get(f"{P}/check").text
    assert "Checks: failed" in check
    assert f'<a class="where" href="{P}/risks/R01#mitigation">risks[R01].mitigation</a>' in check
    assert f'href="{KPI}#trajectory">schemes[S01].kpis[0].trajectory[3].value</a>' in check
    form = ann.get(f"{P}/risks/R01").text
    mitigation = form.split('name="mitigation"')[1].split("<label")[0]
    assert "PLAN-RISK-RED" in mitigation
    trajectory = ann.get(KPI).text.split('name="trajectory"')[1].split("<div")[0]
    assert (
        "PLAN-KPI-TRAJECTORY" in trajectory
        and "trajectory does not end at the target" in trajectory
    )
    # the scheme's form lists its KPI's finding, linked to the KPI's form
    scheme = ann.get(f"{P}/schemes/S01").text
    assert f'href="{KPI}#trajectory">schemes[S01].kpis[0].trajectory[3].value</a>' in scheme
    # a signatory sees the findings but no links to forms they cannot open
    signatory = site.login("sig-rxn").get(f"{P}/check").text
    assert "PLAN-RISK-RED" in signatory and f'href="{P}/risks/R01' not in signatory


# --- funding and stated totals ------------------------------------------------------------------


def test_edit_funding_and_stated_totals(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/funding")
    assert (
        fields["funding"]
        .splitlines()[0]
        .startswith("central_resilience; 2015/16; 3600000; one-off; Central non-recurrent")
    )
    assert fields["total_funding_gbp"] == "6600000"
    lines = fields["funding"].splitlines()
    lines.append("council; 2015/16; 439,000; recurrent; Council contribution closing the gap")
    fields.update(funding="\n".join(lines), total_funding_gbp="7039000", funding_gap_gbp="0")
    response = post_form(ann, f"{P}/funding", fields)
    assert response.status_code == 303, response.text
    plan = site.plans.get(PLAN_ID)
    assert plan.total_funding() == Decimal(7039000) and plan.funding_gap() == 0
    assert plan.funding[-1].recurrent and plan.funding[-1].kind == "council"
    assert plan.stated_totals is not None and plan.stated_totals.funding_gap_gbp == 0
    entry = site.plans.audit(PLAN_ID)[-1]
    assert entry.detail["changed"] == [
        "funding",
        "stated_totals.funding_gap_gbp",
        "stated_totals.total_funding_gbp",
    ]
    page = ann.get(P).text
    assert "Council contribution closing the gap" in page
    # a stated total that does not add up: the finding sits beside the field and links to it
    fields = open_form(ann, f"{P}/funding")
    fields["total_funding_gbp"] = "7000000"
    assert post_form(ann, f"{P}/funding", fields).status_code == 303
    check = ann.get(f"{P}/check").text
    assert f'href="{P}/funding#total_funding_gbp">stated_totals.total_funding_gbp</a>' in check
    total = ann.get(f"{P}/funding").text.split('name="total_funding_gbp"')[1].split("<label")[0]
    assert "PLAN-TOTALS" in total


def test_bad_funding_lines_are_shown_beside_the_field(site: Site) -> None:
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/funding")
    fields.update(
        funding="\n".join(
            [
                "central_resilience; 2015/16; £3.6m; one-off; Central",
                "lottery; 2015/16; 5; one-off; x",
            ]
        ),
        innovation_cost_gbp="lots",
    )
    response = post_form(ann, f"{P}/funding", fields)
    assert response.status_code == 422
    assert field_errors(response.text, "funding") == [
        "line 1: amount &#39;£3.6m&#39; is not a number of pounds"
    ]
    assert field_errors(response.text, "innovation_cost_gbp") == [
        "amount &#39;lots&#39; is not a number of pounds"
    ]
    fields.update(
        funding="lottery; 2015/16; 5; one-off; x\nother; 2015/17; 5", innovation_cost_gbp=""
    )
    rules = post_form(ann, f"{P}/funding", fields)
    assert rules.status_code == 422
    errors = field_errors(rules.text, "funding")
    assert errors[0].startswith("entry 1: Input should be &#39;central_resilience&#39;")
    assert errors[1:] == [
        "entry 2: String should have at least 1 character",  # the description
        "entry 2: financial year must span two consecutive years, e.g. 2015/16",
    ]
    assert site.plans.revision(PLAN_ID) == 1


def test_money_in_a_locked_year_cannot_change(site: Site) -> None:
    plan = site.plans.get(PLAN_ID)
    locked = plan.model_copy(
        update={"lock_deadline": date(2015, 5, 1), "locked_years": ["2015/16"]}
    )
    site.plans.save(locked, action="updated", detail={}, who="seed")
    ann = site.login("ann")
    fields = open_form(ann, f"{P}/funding")
    fields["funding"] = fields["funding"].replace("3600000", "3700000")
    response = post_form(ann, f"{P}/funding", fields)
    assert response.status_code == 422
    assert "has locked 2015/16" in response.text and "funding[0].amount_gbp" in response.text
    assert field_errors(response.text, "funding") == [
        "amount_gbp changed in a locked year after the lock deadline (was £3,600,000)"
    ]
    assert "3700000" in response.text  # the input comes back
    assert site.plans.get(PLAN_ID).funding[0].amount_gbp == 3600000
    # things that are not money can still change
    risk = open_form(ann, f"{P}/risks/R06")
    risk["mitigation"] = "Reviewed monthly"
    assert post_form(ann, f"{P}/risks/R06", risk).status_code == 303


def test_a_submitted_plan_is_not_edited(site: Site) -> None:
    submit_by_store(site)
    ann = site.login("ann")
    page = ann.get(P).text
    for link in ("/milestones/new", "/risks/new", "/funding", "/milestones/M02", "/kpis/0"):
        assert link not in page, link
    for path in (KPI, f"{P}/milestones/M02", f"{P}/risks/R01", f"{P}/funding"):
        fields = open_form(ann, path)  # the form opens (as a scheme's does) ...
        response = post_form(ann, path, fields)  # ... but saving is refused by the workflow
        assert response.status_code == 422, path
        assert "its status is submitted" in response.text, path
    assert post_form(ann, f"{P}/risks/R01/delete", {"revision": "2"}).status_code == 422
    assert site.plans.revision(PLAN_ID) == 2


# --- concurrency, CSRF, roles -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "ann_changes", "field", "mine"),
    [
        (f"{P}/milestones/M02", {"owner": "Ann"}, "title", "Bob's title he wants to keep"),
        (f"{P}/risks/R02", {"owner": "Ann"}, "mitigation", "Bob's long mitigation to keep"),
        (KPI, {"baseline": "95.0"}, "description", "Bob's KPI wording he wants to keep"),
        (f"{P}/funding", {"funding_gap_gbp": "439001"}, "total_scheme_cost_gbp", "7039001"),
    ],
)
def test_a_stale_form_gets_a_conflict_and_nothing_is_lost(
    site: Site, path: str, ann_changes: dict[str, str], field: str, mine: str
) -> None:
    ann, bob = site.login("ann"), site.login("bob")
    ann_form, bob_form = open_form(ann, path), open_form(bob, path)
    assert post_form(ann, path, {**ann_form, **ann_changes}).status_code == 303
    stored = site.plans.get(PLAN_ID)
    bob_form[field] = mine
    response = post_form(bob, path, bob_form)
    assert response.status_code == 409
    assert "This plan was changed by ann at" in response.text
    assert "reload — your changes were not saved." in response.text
    assert mine.replace("'", "&#39;") in response.text
    assert 'name="revision" value="1"' in response.text
    assert site.plans.get(PLAN_ID) == stored  # Ann's save stands
    assert [e.who for e in site.plans.audit(PLAN_ID)] == ["seed", "ann"]


def test_a_stale_remove_gets_a_conflict(site: Site) -> None:
    ann, bob = site.login("ann"), site.login("bob")
    fields = open_form(ann, f"{P}/risks/R06")
    fields["owner"] = "Someone else"
    assert post_form(ann, f"{P}/risks/R06", fields).status_code == 303
    response = post_form(bob, f"{P}/risks/R06/delete", {"revision": "1"})
    assert response.status_code == 409
    assert "This plan was changed by ann at" in response.text
    assert "R06" in [r.id for r in site.plans.get(PLAN_ID).risks]


@pytest.mark.parametrize(
    "path",
    [
        KPI,
        f"{P}/schemes/S01/kpis",
        f"{P}/schemes/S01/kpis/0/delete",
        f"{P}/milestones",
        f"{P}/milestones/M02",
        f"{P}/milestones/M13/delete",
        f"{P}/risks",
        f"{P}/risks/R01",
        f"{P}/risks/R06/delete",
        f"{P}/funding",
    ],
)
def test_a_form_without_its_csrf_token_is_refused(site: Site, path: str) -> None:
    ann = site.login("ann")
    sources = {
        "kpis": KPI,
        "milestones": f"{P}/milestones/M02",
        "risks": f"{P}/risks/R01",
        "funding": f"{P}/funding",
    }
    source = next(v for k, v in sources.items() if k in path)
    fields = open_form(ann, source)
    fields.pop("csrf_token")
    response = ann.post(path, data=fields, follow_redirects=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = ann.post(path, data={**fields, "csrf_token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert site.plans.revision(PLAN_ID) == 1


def test_signatories_and_outsiders_cannot_edit(site: Site) -> None:
    fields = open_form(site.login("ann"), f"{P}/milestones/M02")
    fields["title"] = "hijack"
    signatory = site.login("sig-rxn")
    assert "/milestones/new" not in signatory.get(P).text
    for path in (KPI, f"{P}/milestones/M02", f"{P}/risks/R01", f"{P}/funding"):
        assert signatory.get(path).status_code == 403, path
    assert post_form(signatory, f"{P}/milestones/M02", fields).status_code == 403
    outsider = site.login("olly")
    assert outsider.get(f"{P}/milestones/M02").status_code == 404  # the draft is not revealed
    assert post_form(outsider, f"{P}/milestones/M02", fields).status_code == 404
    anonymous = site.client().get(f"{P}/risks/R01", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert site.plans.revision(PLAN_ID) == 1
