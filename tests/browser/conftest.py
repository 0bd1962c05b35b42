"""Browser tests: the real web app (``flowplan serve`` in a subprocess) driven by headless Chromium.

The browser is Debian's ``chromium`` package at ``/usr/bin/chromium``, launched by Playwright with
``executable_path`` (Playwright downloads nothing); ``make test`` installs the package when it
can. Without it every browser test is skipped with the reason.

The store (one per test session, in a temporary folder) holds:

* RXN's rows of the bundled trust A&E, G&A beds, criteria-to-reside and discharges files and
  QE1's (Lancashire and South Cumbria STP) RTT rows — enough for the dashboard, monitoring, a
  forecast of a daily series and a simulation;
* footprint LSC-SRG (``data/demo/footprints.csv`` plus the other members of the demo plan) and
  OTHER-SRG;
* three plans of LSC-SRG: the demo plan :data:`PLAN_ID` as a draft (the workflow journey takes it
  to published), a copy :data:`DRAFT_ID` that stays a draft, and a copy :data:`SUBMITTED_ID`
  submitted for sign-off and signed by RXL only;
* users (password :data:`PASSWORD`): ``ann`` (analyst of LSC-SRG), ``fpadmin`` (footprint admin
  of LSC-SRG), ``olly`` (viewer of OTHER-SRG) and ``sig-<org>`` (signatory) for every member.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pandas as pd
import pytest

from flowplan.data.orgfiles import FootprintRow, read_footprints
from flowplan.data.readers import read
from flowplan.plans import workflow
from flowplan.plans.document import load_plan
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store
from flowplan.store.users import UserStore

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    sync_playwright = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "data" / "public" / "nhs_england_operational"
DEMO_PLAN = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
FOOTPRINTS = REPO / "data" / "demo" / "footprints.csv"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "Debian chromium not installed at /usr/bin/chromium (make test installs it)"

PLAN_ID = "lsc-resilience-2015"
DRAFT_ID = "lsc-resilience-draft"
SUBMITTED_ID = "lsc-resilience-submitted"
FOOTPRINT = "LSC-SRG"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1280, "height": 800}

#: (format, file, organisation column, organisation) ingested into the store before serving
FILES = (
    ("trust_ae", "england_trust_accidents_emergency.csv", "nhs_trust22_code", "RXN"),
    ("ga_beds", "england_critical_general_acute_beds.csv", "nhs_trust22_code", "RXN"),
    ("criteria_to_reside", "england_trust_criteria_to_reside.csv", "nhs_trust22_code", "RXN"),
    ("discharges", "england_trust_discharged_patients.csv", "nhs_trust22_code", "RXN"),
    ("rtt_flow_stp", "england_rtt_flow_stp.csv", "stp20_nhs_code", "QE1"),
    ("rtt_waits_stp", "england_rtt_stp.csv", "stp20_nhs_code", "QE1"),
)

#: skip marker of every browser test module (with the ``browser`` marker)
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)


def load_plan_members() -> list[str]:
    """Codes of the demo plan's signatory members, in the plan's order."""
    return [m.code for m in load_plan(DEMO_PLAN).members if m.signatory]


def signatory(org: str) -> str:
    """Username of the signatory of ``org``."""
    return f"sig-{org.lower()}"


def rows_of(name: str, column: str, org: str) -> pd.DataFrame:
    """One organisation's rows of a bundled file, as text."""
    frame = pd.read_csv(PUBLIC / name, dtype=str, keep_default_na=False)
    return frame[frame[column] == org].reset_index(drop=True)


def seed(url: str, folder: Path) -> None:
    """Write the data, footprints, plans and users described above to the store at ``url``."""
    store = Store(url)
    parsed = []
    for fmt, name, column, org in FILES:
        path = folder / name
        rows_of(name, column, org).to_csv(path, index=False)
        parsed.append(read(fmt, path))
    store.ingest(parsed, who="browser-seed")

    plan = load_plan(DEMO_PLAN)
    rows = read_footprints(FOOTPRINTS)
    listed = {r.member_code for r in rows if r.footprint_code == FOOTPRINT}
    name = next(r.footprint_name for r in rows if r.footprint_code == FOOTPRINT)
    rows += [
        FootprintRow(FOOTPRINT, name, "srg", m.code) for m in plan.members if m.code not in listed
    ]
    rows += [FootprintRow("OTHER-SRG", "Another SRG", "srg", code) for code in ("RWW", "RBT")]
    store.load_footprints(rows)

    plans = PlanStore(store)
    plans.create(plan, who="seed")
    draft = plan.model_copy(update={"id": DRAFT_ID, "title": f"{plan.title} (working draft)"})
    plans.create(draft, who="seed")
    submitted = plan.model_copy(
        update={"id": SUBMITTED_ID, "title": f"{plan.title} (for sign-off)"}
    )
    plans.create(submitted, who="seed")
    change = workflow.submit(submitted, [])
    plans.save(change.plan, action=change.action, detail=change.detail, who="seed")
    signed = workflow.sign_off(
        plans.get(SUBMITTED_ID), org="RXL", user=signatory("RXL"), at=datetime(2015, 6, 1, 9)
    )
    plans.save(signed.plan, action=signed.action, detail=signed.detail, who=signatory("RXL"))

    users = UserStore(store)
    users.create("ann", PASSWORD, display_name="Ann Analyst")
    users.grant("ann", "analyst", footprint=FOOTPRINT)
    users.create("fpadmin", PASSWORD, display_name="Fay Footprint-Admin")
    users.grant("fpadmin", "footprint_admin", footprint=FOOTPRINT)
    users.create("olly", PASSWORD, display_name="Olly Outsider")
    users.grant("olly", "viewer", footprint="OTHER-SRG")
    for member in plan.members:
        users.create(signatory(member.code), PASSWORD, display_name=f"Signatory {member.code}")
        users.grant(signatory(member.code), "signatory", org=member.code)
    store.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve_command(port: int, url: str) -> list[str]:
    script = Path(sys.executable).parent / "flowplan"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", url]
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from flowplan.cli import main; main()", *args]


@dataclass
class Server:
    """The running ``flowplan serve``: its address, store and log."""

    base_url: str
    db_url: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``flowplan serve`` on a free loopback port over a freshly seeded SQLite store."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    folder = tmp_path_factory.mktemp("browser-site")
    url = f"sqlite:///{folder / 'flowplan.db'}"
    seed(url, folder)
    port = _free_port()
    env = {
        **os.environ,
        "FLOWPLAN_HOME": str(folder / "home"),
        "FLOWPLAN_SECRET_KEY": "browser-test-secret-key",
        "FLOWPLAN_SIM_EXECUTOR": "sequential",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLOWPLAN_DATABASE_URL", None)
    log = folder / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            _serve_command(port, url), env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    running = Server(f"http://127.0.0.1:{port}", url, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"flowplan serve exited ({proc.returncode}):\n{running.log_tail()}")
            try:
                if httpx.get(f"{running.base_url}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"flowplan serve did not answer in 60 s:\n{running.log_tail()}")
            time.sleep(0.2)
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver."""
    if sync_playwright is None:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium (skips when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@dataclass
class Visitor:
    """One browser window (own cookies) and the script errors its pages reported."""

    page: Page
    errors: list[str] = field(default_factory=list)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill and send the login form of the page (which must show it)."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


OpenAs = Callable[[str | None], Visitor]


@pytest.fixture()
def open_as(browser: Browser, server: Server) -> Iterator[OpenAs]:
    """``open_as(username)``: a new 1280×800 window signed in as the user (None: anonymous)."""
    contexts = []

    def opener(username: str | None) -> Visitor:
        context = browser.new_context(base_url=server.base_url, viewport=VIEWPORT)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        visitor = Visitor(page)
        page.on("pageerror", lambda exc: visitor.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                visitor.errors.append(f"console: {msg.text}") if msg.type == "error" else None
            ),
        )
        if username is not None:
            page.goto("/login")
            sign_in(page, username)
            assert "/login" not in page.url, f"could not sign in as {username}"
        return visitor

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``docs/screenshots`` (created when missing)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def wait_for_charts(page: Page) -> int:
    """Wait until Plotly has drawn every ``data-plot`` element of the page; how many there are."""
    page.wait_for_function(
        "() => { const n = document.querySelectorAll('[data-plot]');"
        " return n.length > 0 && Array.from(n).every("
        "e => e.getAttribute('data-plotted') === '1' && e.querySelector('svg.main-svg')); }"
    )
    return page.locator("[data-plot]").count()
