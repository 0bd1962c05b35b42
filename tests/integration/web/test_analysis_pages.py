"""Analysis pages: demand forecast and review, the capacity calculators, simulation runs.

A module-wide site on a store holding RXN's rows of the bundled A&E, G&A beds and discharges
files and QE1's RTT flows; the analysis router included; simulations run sequentially.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from flowplan.data.readers import read
from flowplan.store.store import Store
from flowplan.web.jobs import JobRegistry, JobsBusy, JobStatus
from flowplan.web.routers import analysis
from tests.integration.web.conftest import Site, build_site, csrf_of

FILES = (
    (
        "trust_ae",
        "nhs_england_operational/england_trust_accidents_emergency.csv",
        "nhs_trust22_code",
        "RXN",
    ),
    (
        "ga_beds",
        "nhs_england_operational/england_critical_general_acute_beds.csv",
        "nhs_trust22_code",
        "RXN",
    ),
    (
        "discharges",
        "nhs_england_operational/england_trust_discharged_patients.csv",
        "nhs_trust22_code",
        "RXN",
    ),
    ("rtt_flow_stp", "nhs_england_operational/england_rtt_flow_stp.csv", "stp20_nhs_code", "QE1"),
    ("rtt_waits_stp", "nhs_england_operational/england_rtt_stp.csv", "stp20_nhs_code", "QE1"),
)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)


@pytest.fixture(scope="module")
def asite(
    tmp_path_factory: pytest.TempPathFactory, seeded_sqlite: Path, public_data: Path
) -> Iterator[Site]:
    """The seeded site plus RXN's and QE1's public data, with the analysis router."""
    folder = tmp_path_factory.mktemp("analysis")
    target = folder / "flowplan.db"
    shutil.copyfile(seeded_sqlite, target)
    store = Store(f"sqlite:///{target}")
    parsed = []
    for fmt, rel, column, org in FILES:
        frame = pd.read_csv(public_data / rel, dtype=str, keep_default_na=False)
        path = folder / Path(rel).name
        frame[frame[column] == org].to_csv(path, index=False)
        parsed.append(read(fmt, path))
    store.ingest(parsed, who="test")
    store.dispose()
    site = build_site(f"sqlite:///{target}")
    site.app.include_router(analysis.router)
    analysis.configure(
        site.app,
        analysis.AnalysisSettings(executor="sequential", max_replications=50),
        JobRegistry(root=folder / "jobs"),
    )
    yield site
    site.store.dispose()


@pytest.fixture(scope="module")
def ann(asite: Site) -> TestClient:
    """An analyst's browser."""
    return asite.login("ann")


@pytest.fixture(scope="module")
def olly(asite: Site) -> TestClient:
    """A viewer's browser."""
    return asite.login("olly")


def table_rows(page: str, table_id: str | None = None) -> list[list[str]]:
    """The text of each row's cells (of the table with ``table_id`` when given)."""
    if table_id is not None:
        found = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
        assert found is not None, f"no table {table_id}"
        page = found.group(1)
    rows = []
    for row in _ROW.findall(page):
        cells = [html.unescape(re.sub(r"<[^>]+>", " ", c)).split() for c in _CELL.findall(row)]
        rows.append([" ".join(c) for c in cells])
    return rows


def post(client: TestClient, path: str, data: dict[str, object], page: str) -> httpx.Response:
    """POST a form with the CSRF token of ``page``, without following redirects."""
    return client.post(
        path, data={**data, "csrf_token": csrf_of(client, page)}, follow_redirects=False
    )


# --- demand ------------------------------------------------------------------------------------


def test_forecast_of_rxn_discharges_and_its_csv(ann: TestClient, olly: TestClient) -> None:
    page = ann.get("/demand?org=RXN")
    assert page.status_code == 200
    assert "discharges" in page.text and "emergency_admissions" in page.text
    form = {"org": "RXN", "measure": "discharges", "grain": "day", "horizon": "14"}
    response = post(ann, "/demand/forecast", form, "/demand")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/demand/forecasts/")
    result = ann.get(location)
    assert result.status_code == 200
    rows = table_rows(result.text)
    assert rows[0] == ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(rows) == 15 and rows[1][0] == "2025-09-01"  # the day after the last stored
    assert 'src="data:image/png;base64,' in result.text  # the chart without JavaScript
    plot = re.search(r'data-plot="([^"]+)"', result.text)
    assert plot is not None
    figure = json.loads(html.unescape(plot.group(1)))
    assert [t["name"] for t in figure["data"]][-2:] == ["Observed", "Forecast (mean)"]
    link = re.search(r'href="(/demand/forecast\.csv\?[^"]+)"', result.text)
    assert link is not None
    download = ann.get(html.unescape(link.group(1)))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert list(table[0]) == ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(table) == 14
    for row in table:
        lo95, lo80, mean = float(row["lo_95"]), float(row["lo_80"]), float(row["mean"])
        assert lo95 <= lo80 <= mean <= float(row["hi_80"]) <= float(row["hi_95"])
        assert 50 < mean < 250  # RXN discharges a day
    # a viewer may open the kept forecast and its CSV, but not run a new one
    assert olly.get(location).status_code == 200
    assert olly.get(html.unescape(link.group(1))).status_code == 200
    fresh = "/demand/forecast.csv?org=RXN&measure=discharges&grain=week&horizon=3"
    assert olly.get(fresh).status_code == 403
    assert ann.get(fresh).status_code == 200


def test_forecast_of_an_unknown_measure_shows_the_message(ann: TestClient) -> None:
    form = {"org": "RXN", "measure": "no_such_measure", "grain": "day", "horizon": "7"}
    response = post(ann, "/demand/forecast", form, "/demand")
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "no series 'no_such_measure' for organisation 'RXN'" in text


def test_review_of_rxn_lists_findings_report_and_tables(ann: TestClient) -> None:
    response = post(ann, "/demand/review", {"org": "RXN", "threshold": "92"}, "/demand")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    page = ann.get(location)
    assert page.status_code == 200
    assert "The level and drivers of increased demand" in page.text
    assert "Not answered" in page.text  # no footprint: redistribution not compared
    report = ann.get(f"{location}/review.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "Review of drivers of pressure: RXN" in report.text
    table = ann.get(f"{location}/findings.csv")
    assert table.status_code == 200 and "question" in table.text.splitlines()[0]
    assert ann.get(f"{location}/..%2Fflowplan.db").status_code == 404


# --- capacity ----------------------------------------------------------------------------------


def test_beds_for_rxn_at_92_percent(ann: TestClient) -> None:
    page = ann.get("/capacity")
    assert page.status_code == 200 and "Beds at a target occupancy" in page.text
    response = post(ann, "/capacity/beds", {"org": "RXN", "occupancy": "92"}, "/capacity")
    assert response.status_code == 200
    text = html.unescape(response.text)
    # 147.16 admissions a day × 5.395 days (Little's law) = 794.0 bed-days a day; ÷ 0.92 → 864
    assert "864 beds at 92 % occupancy" in text
    rows = {r[0]: r[1:] for r in table_rows(text) if r}
    assert rows["Bed-days"][0] == "794.01"
    assert rows["Beds at 92 % occupancy"][0].startswith("864 (")
    assert "data:image/png;base64," in text
    assert "Little's law" in text  # the basis is stated


def test_beds_bad_occupancy_shows_one_line(ann: TestClient) -> None:
    response = post(ann, "/capacity/beds", {"org": "RXN", "occupancy": "120"}, "/capacity")
    assert response.status_code == 422
    error = re.search(r'<p class="field-error"[^>]*>(.*?)</p>', response.text)
    assert error is not None
    assert html.unescape(error.group(1)) == "Target occupancy (%) must be at most 100 (got 120)"


def test_waiting_list_targets_worked_example(ann: TestClient) -> None:
    # NHSRwaitinglist reference values (tests/unit/capacity/test_waitinglist.py): demand 30 a
    # week, 52-week target, 1,200 waiting to reach the target in 26 weeks, mean wait 63 weeks,
    # capacity 27 a week.
    form = {
        "demand": "30",
        "target_wait": "52",
        "factor": "4",
        "queue_size": "1200",
        "time_to_target": "26",
        "mean_wait": "63",
        "capacity": "27",
    }
    response = post(ann, "/capacity/waitinglist/targets", form, "/capacity")
    assert response.status_code == 200
    rows = {r[0]: r[1:] for r in table_rows(response.text) if r}
    assert rows["Target mean wait"] == ["13", "weeks"]
    assert rows["Target queue size"] == ["390", "patients"]
    assert rows["Target capacity"] == ["30.08", "patients per week"]  # 30 + 4/52
    assert rows["Relief capacity"] == ["61.15", "patients per week"]  # 30 + (1200 − 390)/26
    assert rows["Queue load"][0] == "1.111"  # 30 / 27
    assert rows["Waiting-list pressure"][0] == "2.423"
    assert "unsustainable: queue load 1.11" in response.text


def test_waiting_list_targets_needs_both_queue_and_time(ann: TestClient) -> None:
    form = {"demand": "30", "target_wait": "52", "queue_size": "1200"}
    response = post(ann, "/capacity/waitinglist/targets", form, "/capacity")
    assert response.status_code == 422
    assert "relief capacity needs both queue_size and time_to_target" in response.text


def test_waiting_list_projection_for_an_stp(ann: TestClient) -> None:
    form = {"stp": "QE1", "weeks": "52"}
    response = post(ann, "/capacity/waitinglist/projection", form, "/capacity")
    assert response.status_code == 200, response.text
    text = html.unescape(response.text)
    assert "Waiting-list projection — QE1 all specialties" in text
    rows = {r[0]: r[1:] for r in table_rows(text) if r}
    assert rows["Patients waiting"][0] == "254,683"  # incomplete pathways, Feb 2025
    assert "after 52 weeks" in text and "data:image/png;base64," in text


def test_staffing_from_a_profile(ann: TestClient) -> None:
    profile = " ".join(["2"] * 8 + ["6"] * 12 + ["3"] * 4)
    form = {"profile": profile, "service_minutes": "20", "target_wait": "15"}
    response = post(ann, "/capacity/staff", form, "/capacity")
    assert response.status_code == 200, response.text
    rows = {r[0]: r[1:] for r in table_rows(response.text) if r}
    assert int(rows["Peak clinicians"][0]) >= 3  # 6 an hour × 20 min = 2 Erlangs
    assert rows["Arrivals"][0] == "700.0"  # (8×2 + 12×6 + 4×3) × 7
    bad = post(ann, "/capacity/staff", {**form, "profile": "1 2 3"}, "/capacity")
    assert bad.status_code == 422
    assert "give 24 arrival rates per hour" in bad.text


# --- simulation --------------------------------------------------------------------------------


def _wait_for(client: TestClient, job_path: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get(f"{job_path}/progress")
        assert fragment.status_code == 200
        if fragment.headers.get("HX-Refresh") == "true":
            return fragment.text
        assert 'hx-trigger="every 1s"' in fragment.text
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)


def test_small_simulation_runs_to_completion(ann: TestClient) -> None:
    page = ann.get("/simulation")
    assert page.status_code == 200 and "Start the run" in page.text
    form = {
        "source": "example",
        "population": "20000",
        "replications": "3",
        "seed": "7",
        "days": "14",
        "warmup": "7",
        "schemes": ["discharge_to_assess"],
    }
    response = post(ann, "/simulation/run", form, "/simulation")
    assert response.status_code == 303, response.text
    job_path = response.headers["location"]
    assert re.fullmatch(r"/simulation/jobs/[A-Za-z0-9_-]+", job_path)
    running = ann.get(job_path)
    assert running.status_code == 200
    finished = _wait_for(ann, job_path)
    assert "6 of 6 replications" in finished  # base and one scheme, 3 each
    done = ann.get(job_path)
    assert done.status_code == 200
    assert 'http-equiv="refresh"' not in done.text
    rows = {r[0].split(" ward.")[0]: r for r in table_rows(done.text, "kpis")[1:]}
    occupancy = rows["G&A bed occupancy, mean (%)"]
    mean, low, high = float(occupancy[1]), *map(float, occupancy[2].split(" to "))
    assert low < mean < high and 50 < mean <= 110 and occupancy[3] == "3"
    effects = table_rows(done.text, "effects")
    assert effects[0][:5] == ["Scheme", "KPI", "Base", "With scheme", "Difference"]
    assert any(r[1] == "G&A bed occupancy, mean (%)" for r in effects[1:])
    assert all("discharge_to_assess" in r[0] for r in effects[1:])
    report = ann.get(f"{job_path}/report")
    assert report.status_code == 200
    assert "Scheme comparison against" in report.text
    summary = ann.get(f"{job_path}/files/summary.json")
    assert summary.status_code == 200 and summary.json()["ward.occupancy_mean_pct"]["n"] == 3


def test_job_page_falls_back_to_meta_refresh(asite: Site, ann: TestClient) -> None:
    registry = analysis.state_of(asite.app).jobs
    gate = threading.Event()
    job = registry.submit(
        "simulation", "ann", "waiting", lambda ctx: gate.wait(10), with_folder=False
    )
    try:
        page = ann.get(f"/simulation/jobs/{job.id}")
        assert page.status_code == 200
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
        assert f'hx-get="/simulation/jobs/{job.id}/progress"' in page.text
        assert ann.get(f"/simulation/jobs/{job.id}/report").status_code == 404
    finally:
        gate.set()
        registry.wait(job.id, 10)


def test_bad_yaml_shows_the_field_error_and_starts_nothing(asite: Site, ann: TestClient) -> None:
    registry = analysis.state_of(asite.app).jobs
    before = len(registry.jobs("simulation"))
    text = "name: broken\nstart_date: 2025-04-07\nwards:\n  core_beds: -5\n"
    form = {"source": "yaml", "yaml": text, "replications": "3"}
    response = post(ann, "/simulation/run", form, "/simulation")
    assert response.status_code == 422
    errors = [
        html.unescape(e)
        for e in re.findall(r'<p class="field-error" id="yaml-error-\d+">(.*?)</p>', response.text)
    ]
    assert errors and all(e.startswith("scenario: ") for e in errors)
    assert any("wards" in e for e in errors)
    assert "core_beds: -5" in html.unescape(response.text)
    unparsable = post(ann, "/simulation/run", {**form, "yaml": "name: [oops"}, "/simulation")
    assert unparsable.status_code == 422
    assert "cannot parse the YAML" in unparsable.text
    files = {
        **form,
        "yaml": "name: f\nstart_date: 2025-04-07\ndemand:\n  calls_111:\n"
        "    daily_mean: 1\n    volumes_csv: /etc/passwd\n",
    }
    refused = post(ann, "/simulation/run", files, "/simulation")
    assert refused.status_code == 422
    assert "volume files cannot be read in the web editor" in refused.text
    assert len(registry.jobs("simulation")) == before


def test_too_many_replications_are_refused(ann: TestClient) -> None:
    form = {"source": "example", "population": "20000", "replications": "51"}
    response = post(ann, "/simulation/run", form, "/simulation")
    assert response.status_code == 422
    assert "Replications must be at most 50 (got 51)" in response.text


def test_example_loads_into_the_editor(ann: TestClient) -> None:
    page = ann.get("/simulation?load=example&population=20000")
    assert page.status_code == 200
    editor = re.search(r'<textarea id="yaml" name="yaml"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert editor is not None and "start_date:" in html.unescape(editor.group(1))


# --- permissions and CSRF ------------------------------------------------------------------------


def test_viewer_cannot_run_models(asite: Site, olly: TestClient, ann: TestClient) -> None:
    token = csrf_of(olly, "/capacity")
    sim = {"source": "example", "population": "20000", "replications": "3", "csrf_token": token}
    assert olly.post("/simulation/run", data=sim).status_code == 403
    review = {"org": "RXN", "csrf_token": token}
    assert olly.post("/demand/review", data=review).status_code == 403
    fc = {"org": "RXN", "measure": "discharges", "horizon": "7", "csrf_token": token}
    assert olly.post("/demand/forecast", data=fc).status_code == 403
    page = olly.get("/simulation")
    assert page.status_code == 200 and "Start the run" not in page.text
    # the calculators change nothing: viewers may use them
    beds = {"admissions_per_day": "10", "los_days": "5", "occupancy": "85", "csrf_token": token}
    answer = olly.post("/capacity/beds", data=beds)
    assert answer.status_code == 200 and "59 beds at 85 % occupancy" in answer.text


def test_post_without_csrf_is_refused(ann: TestClient) -> None:
    form = {"source": "example", "population": "20000", "replications": "3"}
    assert ann.post("/simulation/run", data=form).status_code == 403
    assert ann.post("/capacity/beds", data={"org": "RXN"}).status_code == 403
    assert ann.post("/demand/review", data={"org": "RXN"}).status_code == 403


def test_pages_need_sign_in(asite: Site) -> None:
    anonymous = asite.client()
    for path in ("/demand", "/capacity", "/simulation"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


# --- the job registry --------------------------------------------------------------------------


def test_registry_is_bounded_and_reports_failures(tmp_path: Path) -> None:
    registry = JobRegistry(max_jobs=2, max_running=1, root=tmp_path)
    first = registry.add("review", "ann", "one", {"n": 1}, folder=registry.new_folder())
    assert first.folder is not None and first.folder.is_dir()
    registry.add("review", "ann", "two", {"n": 2})
    registry.add("review", "ann", "three", {"n": 3})
    assert registry.get(first.id) is None and not first.folder.exists()  # oldest forgotten
    assert [j.title for j in registry.jobs()] == ["three", "two"]

    def fails(_: object) -> None:
        raise ValueError("bad input")

    job = registry.submit("simulation", "ann", "fails", fails)
    ended = registry.wait(job.id, 5)
    assert ended is not None and ended.status is JobStatus.failed
    assert ended.errors == ["ValueError: bad input"]
    gate = threading.Event()
    slow = registry.submit("simulation", "ann", "slow", lambda ctx: gate.wait(5))
    with pytest.raises(JobsBusy):
        registry.submit("simulation", "ann", "another", lambda ctx: None)
    gate.set()
    done = registry.wait(slow.id, 5)
    assert done is not None and done.status is JobStatus.done and done.result is True
