"""Choosing and opening the store."""

from pathlib import Path

import pytest

from flowplan.errors import StoreError
from flowplan.store import db
from flowplan.store.store import Store


def test_default_url_is_sqlite_under_flowplan_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWPLAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("FLOWPLAN_HOME", str(tmp_path / "h"))
    assert db.database_url() == f"sqlite:///{tmp_path / 'h' / 'flowplan.db'}"
    store = Store()
    assert store.backend == "sqlite"
    assert (tmp_path / "h" / "flowplan.db").is_file()


def test_home_defaults_to_dot_flowplan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWPLAN_HOME", raising=False)
    assert db.home_dir() == Path.home() / ".flowplan"


def test_database_url_env_selects_postgresql_with_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWPLAN_DATABASE_URL", "postgresql://u@h:5432/d")
    assert db.database_url() == "postgresql+psycopg://u@h:5432/d"
    assert db.database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_urls_are_store_errors() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        db.make_engine("not a url")
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        db.make_engine("mysql://u@h/d")


def test_unreachable_postgresql_is_one_line_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        Store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
