"""``flowplan users ...`` and ``flowplan serve`` on a private store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowplan.cli import app
from flowplan.store.store import Store
from flowplan.store.users import UserStore
from tests.e2e.conftest import run, run_json

PASSWORD = "correct horse battery"


def users_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_users_create_grant_token_list(home: Path) -> None:
    code, out, err = users_cli(
        "users",
        "create",
        "Admin",
        "--admin",
        "--password-stdin",
        "--display-name",
        "Site Admin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert "Created administrator admin." in out
    Store().create_footprint("LSC-SRG", "srg", ["RXN", "QE1"], "LSC")
    code, out, err = users_cli("users", "create", "ann", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err  # prompted twice
    code, out, _ = run("users", "grant", "ann", "--role", "analyst", "--footprint", "LSC-SRG")
    assert code == 0 and "Granted analyst (footprint LSC-SRG) to ann." in out
    code, _, err = run("users", "grant", "ann", "--role", "signatory")
    assert code == 2 and "give --org CODE" in err
    code, _, err = run("users", "grant", "ann", "--role", "signatory", "--org", "ZZZ")
    assert code == 2 and "unknown organisation 'ZZZ'" in err
    code, out, err = run("users", "token", "ann", "--name", "script")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("fpt_")
    account = UserStore(Store()).account_for_token(token)
    assert account is not None and account.username == "ann"
    listed = run_json("users", "list")["users"]
    assert [(u["username"], u["admin"]) for u in listed] == [("admin", True), ("ann", False)]
    assert listed[1]["roles"] == [{"role": "analyst", "org": None, "footprint": "LSC-SRG"}]
    assert listed[0]["display_name"] == "Site Admin"
    code, _, _ = run("users", "token", "ann", "--name", "script", "--revoke")
    assert code == 0
    assert UserStore(Store()).account_for_token(token) is None
    actions = [e.action for e in UserStore(Store()).audit_entries()]
    assert actions.count("user_created") == 2 and "token_revoked" in actions


def test_users_create_refuses_short_password_and_duplicates(home: Path) -> None:
    code, _, err = users_cli("users", "create", "ann", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 10 characters" in err
    assert users_cli("users", "create", "ann", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, _, err = users_cli("users", "create", "ANN", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "already exists" in err


def test_serve_runs_uvicorn_on_the_store(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(web: Any, **kwargs: Any) -> None:
        calls.append({"app": web, **kwargs})

    monkeypatch.setattr("uvicorn.run", fake_run)
    code, out, err = run("serve", "--port", "8123")
    assert code == 0, err
    assert "flowplan users create NAME --admin" in out
    (call,) = calls
    assert (call["host"], call["port"]) == ("127.0.0.1", 8123)
    assert call["app"].state.flowplan.session.secure is False  # plain HTTP on loopback
    code, _, err = run("serve", "--host", "0.0.0.0")
    assert code == 0, err
    assert calls[1]["app"].state.flowplan.session.secure is True
