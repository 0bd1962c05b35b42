"""Journeys through the served app in headless Chromium: sign in, data upload, the SPC dashboard,
a forecast, a simulation, the plan workflow from a new scheme to publication, editing a milestone
(the critical path moves), and the refusals (another organisation's sign-off, a draft for an
anonymous visitor, a form without CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import (
    DRAFT_ID,
    FOOTPRINT,
    PLAN_ID,
    SUBMITTED_ID,
    OpenAs,
    load_plan_members,
    needs_chromium,
    rows_of,
    sign_in,
    signatory,
    wait_for_charts,
)

pytestmark = [pytest.mark.browser, needs_chromium]

TRUST_AE = ("england_trust_accidents_emergency.csv", "nhs_trust22_code")


def post_of(path: str) -> Callable[[Response], bool]:
    """A predicate for ``page.expect_response``: the POST to ``path``."""

    def matches(response: Response) -> bool:
        return response.request.method == "POST" and response.url.endswith(path)

    return matches


def table_text(page: Page, selector: str) -> list[list[str]]:
    """The text of every cell of every row of the table at ``selector``."""
    rows: list[list[str]] = page.eval_on_selector(
        selector,
        "t => Array.from(t.querySelectorAll('tr')).map("
        "r => Array.from(r.querySelectorAll('th,td')).map(c => c.innerText.trim()))",
    )
    return rows


def csv_payload(name: str, text: str) -> dict[str, object]:
    """A file for ``set_input_files``."""
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


# --- signing in --------------------------------------------------------------------------------


def test_sign_in_wrong_password_then_right_then_out(open_as: OpenAs) -> None:
    page = open_as(None).page
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
    sign_in(page, "ann", "not the password")
    expect(page.locator(".flash-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#username")).to_have_value("ann")
    sign_in(page, "ann")
    expect(page).to_have_url(re.compile(r"/dashboard$"))  # back where the visitor was going
    expect(page.locator(".account")).to_contain_text("Signed in as Ann Analyst")
    expect(page.locator("h1")).to_have_text(re.compile(r"^Dashboard: RXN"))
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Signed out.")
    expect(page.locator(".account a")).to_have_text("Sign in")
    page.goto("/data")
    expect(page).to_have_url(re.compile(r"/login\?next=/data$"))


# --- data --------------------------------------------------------------------------------------


def test_upload_a_file_with_an_error_then_a_good_file(open_as: OpenAs) -> None:
    page = open_as("ann").page
    page.goto("/data")
    page.click("a[href='/data/upload']")
    expect(page.locator("h1")).to_have_text("Upload data")

    bad = rows_of(*TRUST_AE, "RXL").head(3)
    bad.loc[1, "attendances_over_4hours"] = "999999"  # more breaches than attendances
    page.select_option("#format", "trust_ae")
    page.set_input_files("#file", csv_payload("bad_ae.csv", bad.to_csv(index=False)))
    with page.expect_response(post_of("/data/upload")) as refused:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert refused.value.status == 422
    expect(page.locator(".flash-error")).to_contain_text(
        "bad_ae.csv: 1 problem(s); nothing was written"
    )
    problems = table_text(page, "table.problems")
    assert problems[1][:3] == ["bad_ae.csv", "3", "attendances_over_4hours"]
    assert problems[1][4] == f"999999 > {bad.loc[1, 'total_attendances']}"  # breaches > attendances

    good = rows_of(*TRUST_AE, "RXL")
    page.select_option("#format", "trust_ae")
    page.set_input_files("#file", csv_payload("rxl_trust_ae.csv", good.to_csv(index=False)))
    with page.expect_response(post_of("/data/upload")) as loaded:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert loaded.value.status == 200
    expect(page.locator(".flash-success")).to_have_text("Loaded.")
    report = table_text(page, "table.ingest-report")
    assert report[1][:2] == ["rxl_trust_ae.csv", "trust_ae"]
    assert report[1][3] == str(len(good))

    page.goto("/data")
    expect(page.locator("table").first).to_contain_text("rxl_trust_ae.csv")
    page.goto("/data/series?org=RXL&measure=ae_attendances")
    expect(page.locator("#h-chosen")).to_have_text("RXL ae_attendances [all] by month")
    assert wait_for_charts(page) == 1
    # the last point of the drawn line is the file's latest month
    last_x = page.evaluate(
        "() => { const d = document.querySelector('[data-plot]').data[0];"
        " return d.x[d.x.length - 1]; }"
    )
    assert str(last_x).startswith("2025-07-01")


def test_spc_dashboard_draws_four_charts(open_as: OpenAs) -> None:
    visitor = open_as("ann")
    page = visitor.page
    page.goto("/dashboard?org=RXN")
    assert wait_for_charts(page) == 4
    july = rows_of(*TRUST_AE, "RXN").query("date == 'July 2025'").iloc[0]
    expected = 100 * (1 - float(july["attendances_over_4hours"]) / float(july["total_attendances"]))
    ae = page.locator("#panel-ae")
    expect(ae.locator(".latest-value")).to_have_text(f"{expected:.1f} %")
    expect(ae.locator("h2")).to_contain_text("seen within 4 hours")
    names = set(ae.locator("svg.main-svg .legendtext").all_text_contents())
    assert {"Mean", "Upper process limit", "Lower process limit", "Target 95"} <= names
    points = page.evaluate("() => document.querySelector('#panel-ae [data-plot]').data[0].y.length")
    assert points >= 24
    expect(page.locator("#panel-rtt h2")).to_contain_text("(QE1)")
    expect(page.locator(".plot-fallback")).to_have_count(0)  # JavaScript replaced the notes
    assert visitor.errors == []  # no CSP refusals or script errors


# --- models ------------------------------------------------------------------------------------


def test_forecast_of_a_stored_daily_series(open_as: OpenAs) -> None:
    visitor = open_as("ann")
    page = visitor.page
    page.goto("/demand?org=RXN")
    series = table_text(page, "table")
    assert ["discharges", "all", "day"] in [r[:3] for r in series]
    page.fill("#fc-org", "RXN")
    page.fill("#fc-measure", "discharges")
    page.select_option("#fc-grain", "day")
    page.fill("#fc-horizon", "14")
    page.click("form[action='/demand/forecast'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/demand/forecasts/[A-Za-z0-9_-]+$"))
    rows = table_text(page, "table")
    assert rows[0] == ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(rows) == 15 and rows[1][0] == "2025-09-01"  # the day after the last stored
    for row in rows[1:]:
        mean, lo80, hi80, lo95, hi95 = (float(v.replace(",", "")) for v in row[1:])
        assert lo95 <= lo80 <= mean <= hi80 <= hi95
        assert 50 < mean < 250  # RXN discharges a day
    assert wait_for_charts(page) == 1
    names = page.evaluate("() => document.querySelector('[data-plot]').data.map(t => t.name)")
    assert names[-2:] == ["Observed", "Forecast (mean)"]
    assert visitor.errors == []


def test_small_simulation_runs_and_shows_results(open_as: OpenAs) -> None:
    page = open_as("ann").page
    page.goto("/simulation")
    page.check("input[name=source][value=example]")
    page.fill("#population", "20000")
    page.fill("#replications", "2")
    page.fill("#seed", "7")
    page.fill("#days", "7")
    page.fill("#warmup", "2")
    page.get_by_role("button", name="Start the run", exact=True).click()
    expect(page).to_have_url(re.compile(r"/simulation/jobs/[A-Za-z0-9_-]+$"))
    # htmx polls the progress and reloads the page when the run has finished
    expect(page.locator("#kpis")).to_be_visible(timeout=90_000)
    expect(page.locator("main")).to_contain_text("2 replication(s) × 7 day(s)")
    rows = {r[0].split(" ward.")[0]: r for r in table_text(page, "#kpis")[1:]}
    occupancy = rows["G&A bed occupancy, mean (%)"]
    mean = float(occupancy[1])
    low, high = (float(v) for v in occupancy[2].split(" to "))
    assert low <= mean <= high and 20 < mean <= 120
    assert occupancy[3] == "2"
    page.get_by_role("link", name="Open the report (HTML)").click()
    expect(page.locator("body")).to_contain_text("Simulation of example_20000")
    expect(page.locator("body")).to_contain_text("2 replication(s) · seed 7")


# --- plans -------------------------------------------------------------------------------------


def test_create_a_plan(open_as: OpenAs) -> None:
    page = open_as("ann").page
    page.goto("/plans")
    page.get_by_role("link", name="New plan").click()
    page.select_option("#plan_type", "operational")
    page.select_option("#footprint", FOOTPRINT)
    page.fill("#title", "LSC operational plan 2016/17 (browser test)")
    page.fill("#start", "2016-04-01")
    page.fill("#end", "2017-03-31")
    page.fill("#plan_id", "lsc-browser-2016")
    page.get_by_role("button", name="Create draft", exact=True).click()
    expect(page).to_have_url(re.compile(r"/plans/lsc-browser-2016$"))
    expect(page.locator("h1")).to_have_text("LSC operational plan 2016/17 (browser test)")
    expect(page.locator(".meta .status")).to_have_text("draft")
    expect(page.locator(".meta")).to_contain_text("footprint LSC-SRG")
    panel = table_text(page, "section[aria-labelledby=signoff-h] table")
    codes = [r[0].rsplit("(", 1)[1].rstrip(")") for r in panel[1:]]
    assert sorted(codes) == sorted(load_plan_members())  # every member of the footprint
    assert all(r[1] == "Not yet" for r in panel[1:])
    page.goto("/plans")
    expect(page.locator("a[href='/plans/lsc-browser-2016']")).to_be_visible()


def test_plan_from_new_scheme_to_publication(open_as: OpenAs) -> None:
    ann = open_as("ann").page
    ann.goto(f"/plans/{PLAN_ID}")
    ann.get_by_role("link", name="Add a scheme").click()
    ann.fill("#id", "S99")
    ann.fill("#title", "Discharge to assess pilot")
    ann.fill("#summary", "Pilot discharge to assess beds over the winter.")
    ann.select_option("#section", "innovation")
    ann.select_option("#category", "social_care")
    ann.fill("#start", "2015-10-01")
    ann.fill("#end", "2016-03-31")
    ann.fill("#lead_name", "Pat Example")
    ann.fill("#lead_email", "pat.example@example.org")
    ann.fill("#lead_job_title", "Director of Adult Social Care")
    ann.select_option("#lead_organisation", "E10000017")
    ann.fill("#costs", "2015/16; 50000; one-off; 10 beds for 3 months")
    ann.get_by_role("button", name="Save scheme", exact=True).click()
    expect(ann).to_have_url(re.compile(rf"/plans/{PLAN_ID}#scheme-S99$"))
    scheme = ann.locator("#scheme-S99")
    expect(scheme.locator("h3")).to_contain_text("S99 — Discharge to assess pilot")
    expect(scheme.locator(".meta")).to_contain_text("lead Pat Example (E10000017)")

    # the scheme's £50,000 is not in the plan's stated totals: the checks say so, beside the
    # totals, and beside the scheme that it names no funding source
    ann.get_by_role("link", name="Run checks").click()  # htmx swaps the checked plan in
    expect(ann.locator("#findings-h")).to_have_text("Checks: failed")
    totals = ann.locator("#findings li.finding-error", has_text="PLAN-TOTALS")
    expect(totals.first).to_contain_text("stated £7,039,000, expected £7,089,000")
    expect(scheme.locator("li.finding-warning")).to_contain_text(
        "PLAN-FUND-SOURCE schemes[S99].funding_source: scheme costs £50,000"
    )
    with ann.expect_response(post_of("/submit")) as refused:
        ann.get_by_role("button", name="Submit for sign-off", exact=True).click()
    assert refused.value.status == 422
    expect(ann.locator(".flash-error")).to_contain_text("checks report")

    # cost it elsewhere: clear the costs, and the checks pass
    ann.goto(f"/plans/{PLAN_ID}")
    ann.get_by_role("link", name="Edit scheme S99").click()
    expect(ann.locator("#costs")).to_have_value("2015/16; 50000; one-off; 10 beds for 3 months")
    ann.fill("#costs", "")
    ann.get_by_role("button", name="Save scheme", exact=True).click()
    expect(scheme.locator(".meta")).to_contain_text("cost £0")
    ann.get_by_role("link", name="Run checks").click()
    expect(ann.locator("#findings-h")).to_have_text("Checks: passed")
    expect(ann.locator("#findings")).to_contain_text("0 error(s), 0 warning(s)")

    ann.get_by_role("button", name="Submit for sign-off", exact=True).click()
    expect(ann.locator(".meta .status")).to_have_text("submitted")

    members = load_plan_members()
    for org in members:
        signer = open_as(signatory(org)).page
        signer.goto(f"/plans/{PLAN_ID}")
        buttons = signer.locator("form[action$='/signoff'] button")
        expect(buttons).to_have_text([f"Sign off for {org}"])  # their own organisation only
        buttons.click()
        row = signer.locator("section[aria-labelledby=signoff-h] tr", has_text=f"({org})")
        expect(row).to_contain_text("Signed")
        expect(row).to_contain_text(signatory(org))
        signer.context.close()
    admin = open_as("fpadmin").page
    admin.goto(f"/plans/{PLAN_ID}")
    expect(admin.locator(".meta .status")).to_have_text("signed_off")
    panel = table_text(admin, "section[aria-labelledby=signoff-h] table")
    assert [r[1] for r in panel[1:]] == ["Signed"] * len(members)
    assert [r[2] for r in panel[1:]] == [signatory(org) for org in members]
    admin.get_by_role("button", name="Publish", exact=True).click()
    expect(admin.locator(".meta .status")).to_have_text("published")

    visitor = open_as(None).page
    visitor.goto(f"/plans/{PLAN_ID}")
    expect(visitor).to_have_url(re.compile(rf"/plans/{PLAN_ID}$"))
    expect(visitor.locator(".meta .status")).to_have_text("published")
    expect(visitor.locator("#scheme-S99")).to_be_visible()
    expect(visitor.locator("form[action$='/signoff']")).to_have_count(0)
    expect(visitor.locator("a", has_text="Audit log")).to_have_count(0)


def test_edit_a_milestone_and_the_critical_path_moves(open_as: OpenAs) -> None:
    ann = open_as("ann").page
    ann.goto(f"/plans/{DRAFT_ID}")
    expect(ann.locator("#critical-path")).to_contain_text("M01 → M02 → M07 → M14, 140 days")
    ann.get_by_role("link", name="Edit milestone M13").click()
    expect(ann.locator("h1")).to_have_text("Edit milestone M13")
    expect(ann.locator("#duration_days")).to_have_value("75")
    ann.fill("#duration_days", "200")
    ann.get_by_role("button", name="Save milestone", exact=True).click()
    expect(ann).to_have_url(re.compile(rf"/plans/{DRAFT_ID}#milestone-M13$"))
    expect(ann.locator(".flash-success")).to_have_text("Saved milestone M13.")
    expect(ann.locator("#critical-path")).to_contain_text("M01 → M13, 200 days")
    expect(ann.locator("#milestone-M13")).to_contain_text("critical")
    # a dependency that closes a loop is refused beside the field, and the page keeps the input
    ann.get_by_role("link", name="Edit milestone M01").click()
    ann.fill("#depends_on", "M13")
    with ann.expect_response(post_of(f"/plans/{DRAFT_ID}/milestones/M01")) as refused:
        ann.get_by_role("button", name="Save milestone", exact=True).click()
    assert refused.value.status == 422
    expect(ann.locator("#depends_on ~ .field-error")).to_contain_text("cycle")
    expect(ann.locator("#depends_on")).to_have_value("M13")
    ann.goto(f"/plans/{DRAFT_ID}")
    expect(ann.locator("#critical-path")).to_contain_text("M01 → M13, 200 days")


def test_signatory_cannot_sign_for_another_organisation(open_as: OpenAs) -> None:
    page = open_as(signatory("RXN")).page
    page.goto(f"/plans/{SUBMITTED_ID}")
    buttons = page.locator("form[action$='/signoff'] button")
    expect(buttons).to_have_text(["Sign off for RXN"])
    # the form is tampered with: it now names QE1, which RXN's signatory does not act for
    page.evaluate(
        "() => { document.querySelector('form[action$=\"/signoff\"] input[name=org]')"
        ".value = 'QE1'; }"
    )
    with page.expect_response(post_of("/signoff")) as refused:
        buttons.click()
    assert refused.value.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".flash-error")).to_contain_text("only for your own organisation")
    page.goto(f"/plans/{SUBMITTED_ID}")
    panel = {r[0]: r[1:] for r in table_text(page, "section[aria-labelledby=signoff-h] table")}
    qe1 = next(v for k, v in panel.items() if k.endswith("(QE1)"))
    rxl = next(v for k, v in panel.items() if k.endswith("(RXL)"))
    assert qe1[0] == "Not yet" and rxl[:2] == ["Signed", signatory("RXL")]
    expect(page.locator(".meta .status")).to_have_text("submitted")


def test_anonymous_visitor_cannot_see_a_draft(open_as: OpenAs) -> None:
    page = open_as(None).page
    page.goto("/plans")
    expect(page.locator(f"a[href='/plans/{DRAFT_ID}']")).to_have_count(0)
    page.goto(f"/plans/{DRAFT_ID}")
    expect(page).to_have_url(re.compile(rf"/login\?next=/plans/{DRAFT_ID}$"))
    expect(page.locator("h1")).to_have_text("Sign in")
    for suffix in ("/check", "/export.yaml"):
        response = page.request.get(f"/plans/{DRAFT_ID}{suffix}", max_redirects=0)
        assert response.status == 303
    # a signed-in outsider is told nothing exists; a member is taken on to the draft
    outsider = open_as("olly").page
    with outsider.expect_response(lambda r: r.url.endswith(f"/plans/{DRAFT_ID}")) as hidden:
        outsider.goto(f"/plans/{DRAFT_ID}")
    assert hidden.value.status == 404
    expect(outsider.locator("h1")).to_have_text("Not found")
    sign_in(page, "ann")
    expect(page).to_have_url(re.compile(rf"/plans/{DRAFT_ID}$"))
    expect(page.locator(".meta .status")).to_have_text("draft")


def test_form_without_csrf_token_is_refused(open_as: OpenAs) -> None:
    page = open_as("ann").page
    page.goto("/plans/new")
    page.fill("#plan_id", "lsc-no-csrf")
    removed = page.evaluate(
        '() => { const f = document.querySelector(\'form[action="/plans"] '
        "input[name=csrf_token]'); f.remove(); return f.value.length; }"
    )
    assert removed > 0
    with page.expect_response(post_of("/plans")) as refused:
        page.get_by_role("button", name="Create draft", exact=True).click()
    assert refused.value.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".flash-error")).to_contain_text("CSRF")
    with page.expect_response(lambda r: r.url.endswith("/plans/lsc-no-csrf")) as missing:
        page.goto("/plans/lsc-no-csrf")
    assert missing.value.status == 404  # nothing was created
