"""A web app on a fresh store: footprints, the demo plan as a draft, and one user per role.

Users (password :data:`PASSWORD` for all):

* ``admin`` — site administrator;
* ``ann`` — analyst of footprint LSC-SRG (edits the demo plan);
* ``bob`` — a second analyst of LSC-SRG (for concurrent edits);
* ``sig-rxn`` / ``sig-rxl`` — signatories of RXN / RXL (members of LSC-SRG);
* ``owner-qe1`` — scheme owner for QE1 (leads scheme S01);
* ``fpadmin`` — footprint admin of LSC-SRG;
* ``olly`` — viewer of another footprint (OTHER-SRG), not a member of LSC-SRG.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowplan.plans.document import load_plan
from flowplan.plans.model import Plan
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store
from flowplan.store.users import UserStore
from flowplan.web.app import create_app
from flowplan.web.security import LoginRateLimiter

REPO = Path(__file__).resolve().parents[3]
DEMO_PLAN = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
PLAN_ID = "lsc-resilience-2015"
PASSWORD = "correct horse battery"
LSC_MEMBERS = ["QE1", "RXN", "RXL", "RXR", "RTX", "RX7", "E10000017"]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A clock the rate-limit tests move by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """The app under test and its store."""

    app: FastAPI
    store: Store
    plans: PlanStore
    users: UserStore
    clock: FakeClock

    def client(self) -> TestClient:
        """A fresh browser (own cookie jar) over HTTPS."""
        return TestClient(self.app, base_url="https://testserver")

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        """A browser signed in as ``username``."""
        client = self.client()
        response = sign_in(client, username, password)
        assert response.status_code == 303, response.text
        return client

    def token(self, username: str) -> dict[str, str]:
        """Authorization header with a new API token of ``username``."""
        count = len(self.users.tokens(username))
        token = self.users.create_token(username, f"test-{count}")
        return {"Authorization": f"Bearer {token}"}


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a page of ``path`` carries for this browser's session."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = _CSRF.search(response.text)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    """POST the login form (with a valid CSRF token); the raw response."""
    token = csrf_of(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def demo_plan() -> Plan:
    """The demo plan (a clean draft of footprint LSC-SRG)."""
    return load_plan(DEMO_PLAN)


def seed(url: str) -> None:
    """Store with footprints, the demo plan and the users above."""
    store = Store(url)
    store.create_footprint("LSC-SRG", "srg", LSC_MEMBERS, "Lancashire and South Cumbria SRG")
    store.create_footprint("OTHER-SRG", "srg", ["RWW", "RBT"], "Another SRG")
    plans = PlanStore(store)
    plans.create(demo_plan(), who="seed")
    users = UserStore(store)
    users.create("admin", PASSWORD, admin=True, display_name="Site Admin")
    for name, role, scope in [
        ("ann", "analyst", {"footprint": "LSC-SRG"}),
        ("bob", "analyst", {"footprint": "LSC-SRG"}),
        ("sig-rxn", "signatory", {"org": "RXN"}),
        ("sig-rxl", "signatory", {"org": "RXL"}),
        ("owner-qe1", "scheme_owner", {"org": "QE1"}),
        ("fpadmin", "footprint_admin", {"footprint": "LSC-SRG"}),
        ("olly", "viewer", {"footprint": "OTHER-SRG"}),
    ]:
        users.create(name, PASSWORD, display_name=name.title())
        users.grant(name, role, **scope)
    store.dispose()


def build_site(url: str) -> Site:
    """The app on a seeded store, with a fake clock for the login rate limit."""
    store = Store(url)
    clock = FakeClock()
    app = create_app(
        url,
        secret_key="test-secret-key",
        secure_cookies=True,
        limiter=LoginRateLimiter(max_failures=5, window_s=900, clock=clock),
    )
    return Site(app, store, PlanStore(store), UserStore(store), clock)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file, built once (argon2 hashing is slow on purpose) and copied."""
    path = tmp_path_factory.mktemp("seeded") / "flowplan.db"
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture()
def site(tmp_path: Path, seeded_sqlite: Path) -> Iterator[Site]:
    """The site on a fresh copy of the seeded SQLite store."""
    target = tmp_path / "flowplan.db"
    shutil.copyfile(seeded_sqlite, target)
    built = build_site(f"sqlite:///{target}")
    yield built
    built.store.dispose()


@pytest.fixture()
def any_site(store_url: str) -> Iterator[Site]:
    """The site on each store backend (SQLite, and PostgreSQL where reachable)."""
    seed(store_url)
    built = build_site(store_url)
    yield built
    built.store.dispose()
