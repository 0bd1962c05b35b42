"""Password hashing, CSRF tokens, the login rate limiter and the secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowplan.web import security
from flowplan.web.security import (
    LoginRateLimiter,
    csrf_token,
    csrf_valid,
    hash_password,
    resolve_secret_key,
    verify_password,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_password_hash_is_salted_argon2id_and_verifies() -> None:
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert "correct horse battery" not in first
    assert verify_password(first, "correct horse battery")
    assert verify_password(second, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password("not-a-hash", "correct horse battery")


def test_csrf_token_is_stable_per_session_and_checked_exactly() -> None:
    session: dict[str, object] = {}
    token = csrf_token(session)
    assert len(token) >= 40
    assert csrf_token(session) == token  # same session, same token
    assert csrf_valid(session, token)
    assert not csrf_valid(session, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not csrf_valid(session, None)
    assert not csrf_valid(session, "")
    assert not csrf_valid({}, token)  # a session without a token accepts nothing
    other: dict[str, object] = {}
    assert csrf_token(other) != token


def test_rate_limiter_blocks_after_max_failures_until_window_passes() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("Ann", "10.0.0.1") == 0
        limiter.failed("ann", "10.0.0.1")
    assert limiter.retry_after("ann", "10.0.0.1") == 60
    # other usernames and other clients are counted apart
    assert limiter.retry_after("bob", "10.0.0.1") == 0
    assert limiter.retry_after("ann", "10.0.0.2") == 0
    clock.now = 45.0
    assert limiter.retry_after("ANN", "10.0.0.1") == 15
    clock.now = 60.0
    assert limiter.retry_after("ann", "10.0.0.1") == 0  # the oldest failure left the window


def test_rate_limiter_window_slides_and_success_clears() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(max_failures=2, window_s=100, clock=clock)
    limiter.failed("ann", "c")
    clock.now = 50.0
    limiter.failed("ann", "c")
    assert limiter.retry_after("ann", "c") == 50
    clock.now = 100.0  # first failure expired, second still counts
    assert limiter.retry_after("ann", "c") == 0
    limiter.failed("ann", "c")
    assert limiter.retry_after("ann", "c") == 50
    limiter.succeeded("ann", "c")
    assert limiter.retry_after("ann", "c") == 0


def test_rate_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="max_failures"):
        LoginRateLimiter(max_failures=0)
    with pytest.raises(ValueError, match="window_s"):
        LoginRateLimiter(window_s=0)


def test_secret_key_order_and_persistence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWPLAN_HOME", str(tmp_path))
    monkeypatch.delenv(security.ENV_SECRET, raising=False)
    assert resolve_secret_key("given") == "given"
    made = resolve_secret_key()
    path = tmp_path / security.SECRET_FILE
    assert path.read_text(encoding="utf-8") == made
    assert path.stat().st_mode & 0o777 == 0o600
    assert resolve_secret_key() == made  # kept across restarts
    monkeypatch.setenv(security.ENV_SECRET, "from-env")
    assert resolve_secret_key() == "from-env"


def test_session_settings_default_to_secure_lax_cookie() -> None:
    settings = security.SessionSettings()
    assert settings.secure is True
    assert settings.same_site == "lax"
    assert settings.max_age_s == 8 * 3600
