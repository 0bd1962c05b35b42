"""Shared fixtures: repository data and the two store backends (SQLite always, PostgreSQL when
one is reachable; ``FLOWPLAN_TEST_PG_URL`` names it, and ``.ci/run`` creates a fresh database)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flowplan.store.db import database_url

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO / "data" / "public"
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The bundled public data folder."""
    return PUBLIC


def _try_connect(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver error means "not reachable here"
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database for this test session, or a skip with the reason.

    With FLOWPLAN_TEST_PG_URL the named database is used as it is (CI creates a fresh one per
    run and fails, rather than skips, when it is unreachable). Without it, a fresh database is
    created on the local server and dropped afterwards.
    """
    given = os.environ.get("FLOWPLAN_TEST_PG_URL")
    if given:
        url = database_url(given)
        reason = _try_connect(url)
        if reason:
            if os.environ.get("CI"):
                pytest.fail(f"FLOWPLAN_TEST_PG_URL is set but unreachable: {reason}")
            pytest.skip(f"PostgreSQL at FLOWPLAN_TEST_PG_URL not reachable: {reason}")
        yield url
        return
    reason = _try_connect(DEFAULT_PG_SERVER)
    if reason:
        pytest.skip(
            f"PostgreSQL store tests skipped: no server at 127.0.0.1:5432 ({reason}); "
            "set FLOWPLAN_TEST_PG_URL to run them"
        )
    name = f"flowplan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(DEFAULT_PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(DEFAULT_PG_SERVER).set(database=name).render_as_string(False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_pg(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store URL on each backend (PostgreSQL: a clean schema per test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flowplan.db'}"
    url: str = request.getfixturevalue("pg_url")
    _reset_pg(url)
    return url
