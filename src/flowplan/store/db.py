"""Where the store lives and how it is opened: SQLite by default, PostgreSQL by URL.

``FLOWPLAN_DATABASE_URL`` selects the database (``postgresql://...`` uses psycopg 3). Without it the
store is ``sqlite:///<FLOWPLAN_HOME>/flowplan.db`` with ``FLOWPLAN_HOME`` defaulting to
``~/.flowplan``. Migrations run automatically the first time a store is opened.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from flowplan.errors import StoreError

ENV_URL = "FLOWPLAN_DATABASE_URL"
ENV_HOME = "FLOWPLAN_HOME"


def home_dir() -> Path:
    """The data directory (``FLOWPLAN_HOME`` or ``~/.flowplan``)."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".flowplan").expanduser()


def database_url(url: str | None = None) -> str:
    """The database URL to use: ``url`` if given, else ``FLOWPLAN_DATABASE_URL``, else SQLite."""
    chosen = url or os.environ.get(ENV_URL)
    if not chosen:
        return f"sqlite:///{home_dir() / 'flowplan.db'}"
    # plain postgresql:// URLs use psycopg 3, the driver flowplan installs
    for prefix in ("postgresql://", "postgres://"):
        if chosen.startswith(prefix):
            return "postgresql+psycopg://" + chosen[len(prefix) :]
    return chosen


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (creating the SQLite file's folder when needed).

    Raises:
        StoreError: the URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise StoreError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("flowplan.store") / "migrations"))
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of flowplan."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the database up to the newest schema (no-op when it is already there).

    Raises:
        StoreError: the database cannot be reached or migrated.
    """
    try:
        if current_revision(engine) == head_revision():
            return
        cfg = _alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open the store at {engine.url!r}: {reason}") from None
