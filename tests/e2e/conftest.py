"""Shared set-up for the command-line tests: a private FLOWPLAN_HOME and a wide console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowplan.cli import app


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh FLOWPLAN_HOME (SQLite store) for one test."""
    monkeypatch.setenv("FLOWPLAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLOWPLAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the CLI; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> dict[str, Any]:
    """Invoke a command with --json; its parsed output (the command must succeed)."""
    code, out, err = run(*args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed
