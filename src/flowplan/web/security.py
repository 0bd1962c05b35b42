"""Security measures of the web application: passwords, session cookies, CSRF, login rate limit.

* Passwords: argon2id (:func:`hash_password`, :func:`verify_password`, from the user store).
* Sessions: a signed cookie (``itsdangerous`` via Starlette's ``SessionMiddleware``) holding the
  user id, the account's session epoch and the CSRF token; HttpOnly, SameSite=Lax, Secure when
  configured, 8 hours. Logging out moves the account's epoch on, ending every copy of the cookie.
* CSRF: one random token per session, sent back by every form (hidden field ``csrf_token``) or
  script (header ``X-CSRF-Token``) on every unsafe request; missing or wrong → 403. Requests
  authenticated by an API token (``Authorization: Bearer``) carry no cookie and need none.
* Login: at most ``max_failures`` failed attempts per username and client address within
  ``window_s`` seconds; more → 429 until the window passes (a success clears the count).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowplan.store.db import home_dir
from flowplan.store.users import hash_password, verify_password

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "LoginRateLimiter",
    "SessionSettings",
    "csrf_token",
    "csrf_valid",
    "hash_password",
    "resolve_secret_key",
    "verify_password",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_CSRF_KEY = "csrf"
ENV_SECRET = "FLOWPLAN_SECRET_KEY"
SECRET_FILE = "web_secret_key"


@dataclass(frozen=True)
class SessionSettings:
    """How the session cookie is set.

    Attributes:
        cookie_name: the cookie's name.
        max_age_s: lifetime in seconds.
        same_site: SameSite attribute (``lax``: sent on top-level navigation only).
        secure: set the Secure attribute (the cookie travels over HTTPS only).
    """

    cookie_name: str = "flowplan_session"
    max_age_s: int = 8 * 3600
    same_site: str = "lax"
    secure: bool = True


def resolve_secret_key(given: str | None = None) -> str:
    """The key that signs session cookies.

    ``given`` if set, else ``FLOWPLAN_SECRET_KEY``, else a random key kept in
    ``FLOWPLAN_HOME/web_secret_key`` (created with mode 0600), so sessions survive restarts.
    """
    if given:
        return given
    env = os.environ.get(ENV_SECRET)
    if env:
        return env
    path: Path = home_dir() / SECRET_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get(SESSION_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF_KEY] = token
    return token


def csrf_valid(session: MutableMapping[str, Any], sent: str | None) -> bool:
    """Whether ``sent`` is the session's CSRF token (constant-time comparison)."""
    expected = session.get(SESSION_CSRF_KEY)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


class LoginRateLimiter:
    """Counts failed logins per (username, client) in a sliding window.

    Kept in memory: ``flowplan serve`` runs one process. Behind several worker processes each
    counts on its own, so the effective limit is multiplied by the number of workers.

    Args:
        max_failures: failures allowed within the window; the next attempt is refused.
        window_s: the window, in seconds.
        clock: seconds since an arbitrary epoch (injected by tests).
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1 or window_s <= 0:
            raise ValueError("max_failures must be ≥ 1 and window_s > 0")
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return username.strip().lower(), client

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until another attempt is allowed (0 when allowed now)."""
        now = self._clock()
        with self._lock:
            times = self._recent(self._key(username, client), now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window_s - now + 0.999))

    def failed(self, username: str, client: str) -> None:
        """Record a failed attempt."""
        now = self._clock()
        with self._lock:
            key = self._key(username, client)
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, client: str) -> None:
        """Forget the failures of a (username, client) after a successful login."""
        with self._lock:
            self._failures.pop(self._key(username, client), None)
