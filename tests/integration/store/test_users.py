"""Users in the store on SQLite and PostgreSQL: the operations the ``flowplan users`` commands and
the ``/admin/users`` and ``/account/tokens`` pages share, and their web audit entries."""

from __future__ import annotations

import pytest

from flowplan.errors import UsageError
from flowplan.store.store import Store
from flowplan.store.users import UserStore

PASSWORD = "correct horse battery"
WEB = {"via": "web", "client": "192.0.2.7"}


@pytest.fixture()
def users(store_url: str) -> UserStore:
    store = Store(store_url)
    store.create_footprint("LSC-SRG", "srg", ["RXN", "QE1"], "LSC")
    return UserStore(store)


def test_every_change_is_audited_with_its_context(users: UserStore) -> None:
    users.create("admin", PASSWORD, admin=True, who="setup", context={"via": "cli"})
    users.create("ann", PASSWORD, who="admin", context=WEB)
    users.grant("ann", "signatory", org="RXN", who="admin", context=WEB)
    users.grant("ann", "signatory", org="RXN", who="admin", context=WEB)  # held: no change
    assert users.revoke("ann", "signatory", org="RXN", who="admin", context=WEB)
    assert not users.revoke("ann", "signatory", org="RXN", who="admin", context=WEB)
    assert users.set_active("ann", False, who="admin", context=WEB)
    assert not users.set_active("ann", False, who="admin", context=WEB)  # already disabled
    assert users.set_active("ann", True, who="admin", context=WEB)
    users.set_password("ann", "another long password", who="ann", context=WEB)
    token = users.create_token("ann", "nightly", who="ann", context=WEB)
    assert users.revoke_token("ann", "nightly", who="ann", context=WEB)

    log = list(reversed(users.audit_entries()))
    assert [(e.who, e.action, e.target) for e in log] == [
        ("setup", "user_created", "user:admin"),
        ("admin", "user_created", "user:ann"),
        ("admin", "role_granted", "user:ann"),
        ("admin", "role_revoked", "user:ann"),
        ("admin", "user_disabled", "user:ann"),
        ("admin", "user_enabled", "user:ann"),
        ("ann", "password_changed", "user:ann"),
        ("ann", "token_created", "user:ann"),
        ("ann", "token_revoked", "user:ann"),
    ]
    assert log[0].detail == {"admin": True, "via": "cli"}
    assert log[2].detail == {"role": "signatory", "org": "RXN", "footprint": None, **WEB}
    assert all(e.detail["via"] == "web" and e.detail["client"] == "192.0.2.7" for e in log[1:])
    assert all(token not in str(e.detail) for e in log)


def test_context_cannot_overwrite_what_the_change_records(users: UserStore) -> None:
    users.create("ann", PASSWORD, context={"admin": True, "via": "web"})
    (entry,) = users.audit_entries(action="user_created")
    assert entry.detail == {"admin": False, "via": "web"}


def test_tokens_listed_revoked_and_refused_once_revoked(users: UserStore) -> None:
    users.create("ann", PASSWORD)
    users.create("bob", PASSWORD)
    first = users.create_token("ann", "one")
    users.create_token("ann", "two")
    users.create_token("bob", "one")
    assert [(t.name, t.revoked, t.last_used_at) for t in users.tokens("ann")] == [
        ("one", False, None),
        ("two", False, None),
    ]
    account = users.account_for_token(first)
    assert account is not None and account.username == "ann"
    assert users.tokens("ann")[0].last_used_at is not None
    assert users.revoke_token("ann", "one")
    assert not users.revoke_token("ann", "one")  # already revoked
    assert users.account_for_token(first) is None
    assert [(t.name, t.revoked) for t in users.tokens("ann")] == [("one", True), ("two", False)]
    assert [(t.name, t.revoked) for t in users.tokens("bob")] == [("one", False)]
    with pytest.raises(UsageError, match="already has a token named 'one'"):
        users.create_token("ann", "one")


def test_disabling_ends_sessions_and_stops_tokens(users: UserStore) -> None:
    users.create("ann", PASSWORD)
    token = users.create_token("ann", "script")
    epoch = users.require("ann").session_epoch
    assert users.set_active("ann", False)
    assert users.require("ann").session_epoch == epoch + 1
    assert users.account_for_token(token) is None
    assert users.authenticate("ann", PASSWORD) is None
    assert users.set_active("ann", True)
    assert users.authenticate("ann", PASSWORD) is not None
    with pytest.raises(UsageError, match="no user 'nobody'"):
        users.set_active("nobody", False)
