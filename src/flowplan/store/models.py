"""Store tables (SQLAlchemy 2 declarative models). Schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every flowplan table."""


class Organisation(Base):
    """A trust, ICB, STP, region, council, ... identified by its code."""

    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), default="unknown")
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class OrgLink(Base):
    """A weighted relation between two organisations (e.g. A&E activity attributed to a trust)."""

    __tablename__ = "org_links"
    __table_args__ = (UniqueConstraint("from_code", "to_code", "kind", name="uq_org_links"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    to_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    weight: Mapped[float] = mapped_column(Float)


class Footprint(Base):
    """A group of organisations that plans together: ICB, STP, SRG, unit of planning, region."""

    __tablename__ = "footprints"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32))


class FootprintMember(Base):
    """Membership of an organisation in a footprint."""

    __tablename__ = "footprint_members"

    footprint_code: Mapped[str] = mapped_column(
        ForeignKey("footprints.code", ondelete="CASCADE"), primary_key=True
    )
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), primary_key=True)


class Population(Base):
    """Resident or registered population of an organisation in a year, by age group."""

    __tablename__ = "populations"

    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    age_group: Mapped[str] = mapped_column(String(16), primary_key=True, default="all")
    population: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(255))


class Load(Base):
    """One ingestion of one file. Every observation points to the load that wrote it."""

    __tablename__ = "loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(512))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)
    rows_replaced: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    replace: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    who: Mapped[str] = mapped_column(String(128))


class Series(Base):
    """The key of a time series: organisation, measure, breakdown and grain."""

    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("org_code", "measure", "breakdown", "grain", name="uq_series_key"),
        Index("ix_series_measure", "measure"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    measure: Mapped[str] = mapped_column(String(64))
    breakdown: Mapped[str] = mapped_column(String(255), default="all")
    grain: Mapped[str] = mapped_column(String(16))


class Observation(Base):
    """One value of one series for one period (long format)."""

    __tablename__ = "observations"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    period_start: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.id"), index=True)


class PlanRecord(Base):
    """The current revision of one plan: header columns for listing plus the whole document.

    The plan document (``flowplan.plans.model.Plan``) is validated by pydantic at the boundary
    and stored as JSON; the header columns repeat what listing and access checks need.
    """

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    footprint: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PlanRevision(Base):
    """Every saved revision of a plan document (kept, never edited)."""

    __tablename__ = "plan_revisions"

    plan_id: Mapped[str] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(DateTime)
    who: Mapped[str] = mapped_column(String(128))


class PlanAudit(Base):
    """Append-only audit log of plan changes: who, when, what (database triggers refuse edits)."""

    __tablename__ = "plan_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    who: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class User(Base):
    """A person who signs in to the web application (or uses an API token).

    The password is stored only as an argon2 hash. ``session_epoch`` is copied into each web
    session; raising it (logout, password change) ends every session of the user.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UserRole(Base):
    """One role granted to a user, optionally scoped to an organisation or a footprint.

    No scope means everywhere; an organisation scope also reaches the footprints the
    organisation is a member of.
    """

    __tablename__ = "user_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str | None] = mapped_column(String(32))
    footprint_code: Mapped[str | None] = mapped_column(String(32))


class ApiToken(Base):
    """An API token for scripts; only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_tokens_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebAudit(Base):
    """Append-only log of web and user-management events: who, when, what, to which target.

    Plan changes are logged in ``plan_audit`` with their revision; this log holds sign-ins,
    sign-outs, refused sign-ins, users, roles and tokens (database triggers refuse edits).
    """

    __tablename__ = "web_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    who: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), index=True)
    detail: Mapped[str] = mapped_column(Text)
