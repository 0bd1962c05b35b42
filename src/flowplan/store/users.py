"""Users of the web application: accounts, scoped roles, API tokens and the web audit log.

Passwords are kept only as argon2id hashes (``argon2-cffi``); API tokens only as the SHA-256 of
a 256-bit random token (a fast hash is enough for a secret that cannot be guessed, and it lets
a token be looked up). Every change here writes a ``web_audit`` entry in the same transaction.

Roles (:class:`UserRole`) are granted everywhere, or scoped to an organisation or a footprint.
Which role may do what is decided by :mod:`flowplan.web.deps` (and, for managing people,
:mod:`flowplan.web.routers.admin`); this module only records. The command line and the web
pages call the same methods; each passes ``context`` (how the change came in: ``via`` cli or
web, the client address), which is added to the audit entry's detail.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from flowplan.errors import UsageError
from flowplan.store.models import (
    ApiToken,
    Footprint,
    FootprintMember,
    Organisation,
    User,
    UserRole,
    WebAudit,
)
from flowplan.store.store import Store

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
#: Shortest password accepted (NCSC guidance favours length over composition rules).
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "fpt_"

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _HASHER.hash("flowplan-timing-equaliser")


class Role(StrEnum):
    """What a user may do (see ``docs/web.md`` for the permissions table)."""

    viewer = "viewer"
    """Sees the draft plans of their footprints."""
    analyst = "analyst"
    """Edits plans and data, runs models, submits plans."""
    scheme_owner = "scheme_owner"
    """Edits the schemes their organisation leads (needs an organisation scope)."""
    signatory = "signatory"
    """Signs plans off for their own organisation only (needs an organisation scope)."""
    footprint_admin = "footprint_admin"
    """Everything an analyst does, plus publishing and reopening (needs a footprint scope)."""


#: Roles that must name the organisation they act for.
ORG_ROLES = frozenset({Role.scheme_owner, Role.signatory})
#: Roles that must name the footprint they administer.
FOOTPRINT_ROLES = frozenset({Role.footprint_admin})


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are stored in the hash)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a malformed hash)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which an API token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Grant:
    """One role of a user and where it applies.

    Attributes:
        role: the role.
        org: organisation code it is scoped to, or None.
        footprint: footprint code it is scoped to, or None.
        footprints: footprints the grant reaches: its footprint, or the footprints its
            organisation is a member of (empty for an unscoped grant).
    """

    role: Role
    org: str | None = None
    footprint: str | None = None
    footprints: frozenset[str] = frozenset()

    @property
    def unscoped(self) -> bool:
        """True when the grant applies everywhere."""
        return self.org is None and self.footprint is None

    def scope_text(self) -> str:
        """``org RXN``, ``footprint LSC-SRG`` or ``everywhere``."""
        if self.org:
            return f"org {self.org}"
        if self.footprint:
            return f"footprint {self.footprint}"
        return "everywhere"


@dataclass(frozen=True)
class Account:
    """A user with their roles (what the web layer calls the principal).

    Attributes:
        id: row id.
        username: sign-in name (lower case).
        display_name: name shown on pages and in sign-offs.
        is_admin: site administrator (manages users; sees and edits every plan).
        active: False when the account is disabled.
        session_epoch: sessions carrying an older epoch are ended.
        created_at: when the account was created.
        grants: the user's roles.
    """

    id: int
    username: str
    display_name: str
    is_admin: bool
    active: bool
    session_epoch: int
    created_at: datetime
    grants: tuple[Grant, ...] = field(default=())

    def has_role(self, role: Role) -> bool:
        """Whether any grant of ``role`` exists (anywhere)."""
        return any(g.role is role for g in self.grants)


@dataclass(frozen=True)
class TokenInfo:
    """An API token's record (never the token itself)."""

    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class WebAuditEntry:
    """One entry of the web audit log."""

    id: int
    at: datetime
    who: str
    action: str
    target: str
    detail: dict[str, Any]


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


#: Extra audit detail a caller passes to say how a change came in (e.g. ``{"via": "cli"}``).
AuditContext = Mapping[str, Any] | None


def _audit(
    conn: Connection,
    who: str,
    action: str,
    target: str,
    detail: dict[str, Any],
    context: AuditContext = None,
) -> None:
    detail = {**(context or {}), **detail}
    conn.execute(
        insert(WebAudit).values(
            at=datetime.now(),
            who=who[:128],
            action=action[:64],
            target=target[:255],
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )


class UserStore:
    """Users, roles, tokens and the web audit log in a flowplan store.

    Args:
        store: an opened (migrated) store.
    """

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    # -- accounts -------------------------------------------------------------------------------

    def create(
        self,
        username: str,
        password: str,
        *,
        display_name: str | None = None,
        admin: bool = False,
        who: str = "system",
        context: AuditContext = None,
    ) -> Account:
        """Create an account.

        Args:
            username: sign-in name: 2–64 characters, lower-case letters, digits, ``._@-``.
            password: at least :data:`MIN_PASSWORD_LENGTH` characters.
            display_name: shown on pages (default: the username).
            admin: make the user a site administrator.
            who: who creates it (audit).
            context: added to the audit entry (how the change came in).

        Raises:
            UsageError: bad username or password, or the username is taken.
        """
        name = username.strip().lower()
        if not USERNAME_PATTERN.match(name):
            raise UsageError(
                f"username {username!r}: use 2-64 lower-case letters, digits and . _ @ -"
            )
        check_password_strength(password)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(User).values(
                        username=name,
                        display_name=(display_name or name).strip()[:255] or name,
                        password_hash=hash_password(password),
                        is_admin=admin,
                        active=True,
                        session_epoch=0,
                        created_at=_now(),
                    )
                )
                _audit(conn, who, "user_created", f"user:{name}", {"admin": admin}, context)
        except IntegrityError:
            raise UsageError(f"user {name!r} already exists") from None
        account = self.get(name)
        assert account is not None
        return account

    def get(self, username: str) -> Account | None:
        """The account called ``username`` (any case), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(User).where(User.username == username.strip().lower())
            ).first()
            return None if row is None else self._account(conn, row)

    def by_id(self, user_id: int) -> Account | None:
        """The account with row id ``user_id``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(User).where(User.id == user_id)).first()
            return None if row is None else self._account(conn, row)

    def require(self, username: str) -> Account:
        """The account called ``username``.

        Raises:
            UsageError: no such user.
        """
        account = self.get(username)
        if account is None:
            raise UsageError(f"no user {username!r} (see `flowplan users list`)")
        return account

    def accounts(self) -> list[Account]:
        """Every account, by username."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(User).order_by(User.username)).all()
            return [self._account(conn, r) for r in rows]

    def count(self) -> int:
        """Number of accounts."""
        return len(self.accounts())

    def _account(self, conn: Connection, row: Any) -> Account:
        grants = conn.execute(
            select(UserRole.role, UserRole.org_code, UserRole.footprint_code)
            .where(UserRole.user_id == row.id)
            .order_by(UserRole.id)
        ).all()
        orgs = {g.org_code for g in grants if g.org_code}
        org_footprints: dict[str, set[str]] = {}
        if orgs:
            for fp, org in conn.execute(
                select(FootprintMember.footprint_code, FootprintMember.org_code).where(
                    FootprintMember.org_code.in_(orgs)
                )
            ).all():
                org_footprints.setdefault(org, set()).add(fp)
        made = []
        for g in grants:
            try:
                role = Role(g.role)
            except ValueError:  # a role this version does not know grants nothing
                continue
            reach: set[str] = set()
            if g.footprint_code:
                reach.add(g.footprint_code)
            if g.org_code:
                reach |= org_footprints.get(g.org_code, set())
            made.append(Grant(role, g.org_code, g.footprint_code, frozenset(reach)))
        return Account(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            is_admin=bool(row.is_admin),
            active=bool(row.active),
            session_epoch=int(row.session_epoch),
            created_at=row.created_at,
            grants=tuple(made),
        )

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when ``password`` is right for an active ``username``, else None.

        An unknown user costs the same hash verification as a known one, so timing does not
        tell which usernames exist. An old-parameter hash is upgraded on success.
        """
        name = username.strip().lower()
        with self.engine.connect() as conn:
            row = conn.execute(select(User.password_hash).where(User.username == name)).first()
        if row is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(row.password_hash, password):
            return None
        account = self.get(name)
        if account is None or not account.active:
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            with self.engine.begin() as conn:
                conn.execute(
                    update(User)
                    .where(User.id == account.id)
                    .values(password_hash=hash_password(password))
                )
        return account

    def set_password(
        self, username: str, password: str, *, who: str = "system", context: AuditContext = None
    ) -> None:
        """Change a password and end every session of the user.

        Raises:
            UsageError: no such user, or the password is too short.
        """
        account = self.require(username)
        check_password_strength(password)
        with self.engine.begin() as conn:
            conn.execute(
                update(User)
                .where(User.id == account.id)
                .values(password_hash=hash_password(password), session_epoch=User.session_epoch + 1)
            )
            _audit(conn, who, "password_changed", f"user:{account.username}", {}, context)

    def set_active(
        self, username: str, active: bool, *, who: str = "system", context: AuditContext = None
    ) -> bool:
        """Enable or disable an account (disabling ends its sessions; tokens stop working).

        Returns:
            True when the account changed (False when it already was as asked).

        Raises:
            UsageError: no such user.
        """
        account = self.require(username)
        if account.active == active:
            return False
        with self.engine.begin() as conn:
            conn.execute(
                update(User)
                .where(User.id == account.id)
                .values(active=active, session_epoch=User.session_epoch + 1)
            )
            _audit(
                conn,
                who,
                "user_enabled" if active else "user_disabled",
                f"user:{account.username}",
                {},
                context,
            )
        return True

    def end_sessions(self, user_id: int) -> None:
        """End every web session of a user (their session epoch moves on)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
            )

    # -- roles ----------------------------------------------------------------------------------

    def grant(
        self,
        username: str,
        role: Role | str,
        *,
        org: str | None = None,
        footprint: str | None = None,
        who: str = "system",
        context: AuditContext = None,
    ) -> Grant:
        """Grant a role (idempotent).

        Args:
            username: the user.
            role: the role.
            org: organisation scope (required for scheme_owner and signatory).
            footprint: footprint scope (required for footprint_admin).
            who: who grants it (audit).
            context: added to the audit entry (how the change came in).

        Raises:
            UsageError: unknown user, role, organisation or footprint; a missing or double scope.
        """
        account = self.require(username)
        chosen = _role(role)
        _check_scope(chosen, org, footprint)
        with self.engine.begin() as conn:
            if (
                org
                and conn.execute(select(Organisation.code).where(Organisation.code == org)).first()
                is None
            ):
                raise UsageError(f"unknown organisation {org!r} (load it with `flowplan orgs`)")
            if (
                footprint
                and conn.execute(select(Footprint.code).where(Footprint.code == footprint)).first()
                is None
            ):
                raise UsageError(f"unknown footprint {footprint!r}")
            if not self._grant_rows(conn, account.id, chosen, org, footprint):
                conn.execute(
                    insert(UserRole).values(
                        user_id=account.id,
                        role=str(chosen),
                        org_code=org,
                        footprint_code=footprint,
                    )
                )
                _audit(
                    conn,
                    who,
                    "role_granted",
                    f"user:{account.username}",
                    {"role": str(chosen), "org": org, "footprint": footprint},
                    context,
                )
        refreshed = self.require(username)
        return next(
            g
            for g in refreshed.grants
            if g.role is chosen and g.org == org and g.footprint == footprint
        )

    def revoke(
        self,
        username: str,
        role: Role | str,
        *,
        org: str | None = None,
        footprint: str | None = None,
        who: str = "system",
        context: AuditContext = None,
    ) -> bool:
        """Take a role away; True when it was held."""
        account = self.require(username)
        chosen = _role(role)
        with self.engine.begin() as conn:
            ids = self._grant_rows(conn, account.id, chosen, org, footprint)
            if not ids:
                return False
            conn.execute(delete(UserRole).where(UserRole.id.in_(ids)))
            _audit(
                conn,
                who,
                "role_revoked",
                f"user:{account.username}",
                {"role": str(chosen), "org": org, "footprint": footprint},
                context,
            )
        return True

    @staticmethod
    def _grant_rows(
        conn: Connection, user_id: int, role: Role, org: str | None, footprint: str | None
    ) -> list[int]:
        query = select(UserRole.id).where(UserRole.user_id == user_id, UserRole.role == str(role))
        query = query.where(
            UserRole.org_code.is_(None) if org is None else UserRole.org_code == org
        )
        query = query.where(
            UserRole.footprint_code.is_(None)
            if footprint is None
            else UserRole.footprint_code == footprint
        )
        return [int(i) for i in conn.execute(query).scalars().all()]

    # -- API tokens -----------------------------------------------------------------------------

    def create_token(
        self, username: str, name: str, *, who: str = "system", context: AuditContext = None
    ) -> str:
        """Create an API token and return it in clear — the only time it is ever shown.

        Raises:
            UsageError: unknown user, empty name, or the user already has a token of that name.
        """
        account = self.require(username)
        label = name.strip()
        if not label or len(label) > 64:
            raise UsageError("a token needs a name of 1-64 characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(ApiToken).values(
                        user_id=account.id,
                        name=label,
                        token_hash=token_digest(token),
                        created_at=_now(),
                        last_used_at=None,
                        revoked=False,
                    )
                )
                _audit(
                    conn,
                    who,
                    "token_created",
                    f"user:{account.username}",
                    {"name": label},
                    context,
                )
        except IntegrityError:
            raise UsageError(
                f"user {account.username!r} already has a token named {label!r}"
            ) from None
        return token

    def revoke_token(
        self, username: str, name: str, *, who: str = "system", context: AuditContext = None
    ) -> bool:
        """Revoke a token by name; True when an active one was revoked."""
        account = self.require(username)
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(ApiToken)
                .where(
                    ApiToken.user_id == account.id,
                    ApiToken.name == name,
                    ApiToken.revoked.is_(False),
                )
                .values(revoked=True)
            )
            if moved.rowcount != 1:
                return False
            _audit(conn, who, "token_revoked", f"user:{account.username}", {"name": name}, context)
        return True

    def tokens(self, username: str) -> list[TokenInfo]:
        """A user's tokens (records only), oldest first."""
        account = self.require(username)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ApiToken).where(ApiToken.user_id == account.id).order_by(ApiToken.id)
            ).all()
        return [
            TokenInfo(r.id, account.username, r.name, r.created_at, r.last_used_at, r.revoked)
            for r in rows
        ]

    def account_for_token(self, token: str) -> Account | None:
        """The active account a live token belongs to, or None (its last use is recorded)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(ApiToken.id, ApiToken.user_id).where(
                    ApiToken.token_hash == digest, ApiToken.revoked.is_(False)
                )
            ).first()
            if row is None:
                return None
            conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=_now()))
        account = self.by_id(int(row.user_id))
        return account if account is not None and account.active else None

    # -- web audit ------------------------------------------------------------------------------

    def audit(
        self, who: str, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append one entry to the web audit log."""
        with self.engine.begin() as conn:
            _audit(conn, who, action, target, detail or {})

    def audit_entries(
        self, *, target: str | None = None, action: str | None = None, limit: int = 200
    ) -> list[WebAuditEntry]:
        """Web audit entries, newest first (optionally of one target or action)."""
        query = select(WebAudit).order_by(WebAudit.id.desc()).limit(limit)
        if target is not None:
            query = query.where(WebAudit.target == target)
        if action is not None:
            query = query.where(WebAudit.action == action)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            WebAuditEntry(r.id, r.at, r.who, r.action, r.target, json.loads(r.detail)) for r in rows
        ]


def check_password_strength(password: str) -> None:
    """Refuse a password shorter than :data:`MIN_PASSWORD_LENGTH` characters.

    Raises:
        UsageError: it is too short.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise UsageError(f"unknown role {role!r} (one of {known})") from None


def _check_scope(role: Role, org: str | None, footprint: str | None) -> None:
    if org and footprint:
        raise UsageError("scope a role to an organisation or a footprint, not both")
    if role in ORG_ROLES and not org:
        raise UsageError(f"the {role} role acts for one organisation: give --org CODE")
    if role in FOOTPRINT_ROLES and not footprint:
        raise UsageError(f"the {role} role administers one footprint: give --footprint CODE")


def roles_text(grants: Sequence[Grant]) -> str:
    """``analyst (footprint LSC-SRG), signatory (org RXN)`` — for listings."""
    return ", ".join(f"{g.role} ({g.scope_text()})" for g in grants) or "none"
