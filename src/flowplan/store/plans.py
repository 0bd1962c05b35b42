"""Plans in the store: the current document, every revision, and the append-only audit log.

A plan is one validated document (:class:`flowplan.plans.model.Plan`) saved as JSON. Each save
writes a new revision and an audit entry in one transaction; an audit entry is never edited or
deleted (database triggers refuse it). Workflow rules — which status changes are legal, who may
sign, which years are locked — live in :mod:`flowplan.plans.workflow`; this module only records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from flowplan.errors import StoreError, UsageError
from flowplan.plans.model import Plan
from flowplan.store.models import PlanAudit, PlanRecord, PlanRevision
from flowplan.store.store import Store, login_name


@dataclass(frozen=True)
class PlanSummary:
    """One row of ``plan list``."""

    id: str
    type: str
    title: str
    footprint: str
    status: str
    version: int
    revision: int
    updated_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry: who did what to which plan, and when."""

    id: int
    plan_id: str
    at: datetime
    who: str
    action: str
    detail: dict[str, Any]


class PlanStore:
    """Plan documents in a flowplan store.

    Args:
        store: an opened (migrated) store.
    """

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def exists(self, plan_id: str) -> bool:
        """Whether a plan with this id is stored."""
        with self.engine.connect() as conn:
            found = conn.execute(select(PlanRecord.id).where(PlanRecord.id == plan_id)).first()
        return found is not None

    def summaries(self, footprint: str | None = None) -> list[PlanSummary]:
        """Stored plans, newest change first, optionally of one footprint."""
        query = select(PlanRecord).order_by(PlanRecord.updated_at.desc(), PlanRecord.id)
        if footprint:
            query = query.where(PlanRecord.footprint == footprint)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            PlanSummary(
                r.id, r.type, r.title, r.footprint, r.status, r.version, r.revision, r.updated_at
            )
            for r in rows
        ]

    def revision(self, plan_id: str) -> int:
        """The current revision number of a plan.

        Raises:
            UsageError: no such plan.
        """
        with self.engine.connect() as conn:
            current = conn.execute(
                select(PlanRecord.revision).where(PlanRecord.id == plan_id)
            ).scalar_one_or_none()
        if current is None:
            raise UsageError(f"no plan '{plan_id}' in the store (see `flowplan plan list`)")
        return int(current)

    def get(self, plan_id: str, revision: int | None = None) -> Plan:
        """A plan document: the current revision, or an earlier one.

        Raises:
            UsageError: no such plan or revision.
        """
        wanted = revision if revision is not None else self.revision(plan_id)
        with self.engine.connect() as conn:
            document = conn.execute(
                select(PlanRevision.document).where(
                    PlanRevision.plan_id == plan_id, PlanRevision.revision == wanted
                )
            ).scalar_one_or_none()
        if document is None:
            raise UsageError(f"plan '{plan_id}' has no revision {wanted}")
        return Plan.model_validate_json(document)

    def as_of(self, plan_id: str, day: date) -> Plan | None:
        """The plan as it stood at the end of ``day`` (None if it did not exist yet)."""
        end = datetime.combine(day, time.max)
        with self.engine.connect() as conn:
            revision = conn.execute(
                select(func.max(PlanRevision.revision)).where(
                    PlanRevision.plan_id == plan_id, PlanRevision.saved_at <= end
                )
            ).scalar_one_or_none()
        return None if revision is None else self.get(plan_id, int(revision))

    def create(self, plan: Plan, *, who: str | None = None) -> int:
        """Store a new plan as revision 1 and log it.

        Raises:
            UsageError: a plan with this id already exists.
        """
        if self.exists(plan.id):
            raise UsageError(
                f"plan '{plan.id}' already exists; import with --replace to save a new revision"
            )
        self._write(plan, who or login_name(), "created", {"type": str(plan.type)}, None)
        return 1

    def save(
        self,
        plan: Plan,
        *,
        action: str,
        detail: dict[str, Any],
        who: str | None = None,
        expected_revision: int | None = None,
    ) -> int:
        """Save a changed plan as a new revision and log the change, in one transaction.

        Args:
            plan: the new document.
            action: short verb for the audit log (``updated``, ``submitted``, ``signed_off``...).
            detail: what changed (JSON-serialisable).
            who: the user (defaults to the login name).
            expected_revision: the revision the change was made from; if another change was
                saved since, nothing is written and the user is told to reload.

        Returns:
            The new revision number.
        """
        current = self.revision(plan.id)
        if expected_revision is not None and expected_revision != current:
            raise UsageError(
                f"plan '{plan.id}' changed since revision {expected_revision} (now {current}); "
                "reload it and try again"
            )
        return self._write(plan, who or login_name(), action, detail, current)

    def _write(
        self, plan: Plan, who: str, action: str, detail: dict[str, Any], current: int | None
    ) -> int:
        now = datetime.now()
        revision = 1 if current is None else current + 1
        header = {
            "type": str(plan.type),
            "title": plan.title[:255],
            "footprint": plan.footprint,
            "status": str(plan.status),
            "version": plan.version,
            "revision": revision,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                if current is None:
                    conn.execute(insert(PlanRecord).values(id=plan.id, **header))
                else:
                    moved = conn.execute(
                        update(PlanRecord)
                        .where(PlanRecord.id == plan.id, PlanRecord.revision == current)
                        .values(**header)
                    )
                    if moved.rowcount != 1:
                        raise UsageError(
                            f"plan '{plan.id}' changed while saving; reload it and try again"
                        )
                conn.execute(
                    insert(PlanRevision).values(
                        plan_id=plan.id,
                        revision=revision,
                        document=plan.model_dump_json(),
                        saved_at=now,
                        who=who[:128],
                    )
                )
                conn.execute(
                    insert(PlanAudit).values(
                        plan_id=plan.id,
                        at=now,
                        who=who[:128],
                        action=action[:32],
                        detail=json.dumps({"revision": revision, **detail}, default=str),
                    )
                )
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"store write failed, nothing written: {reason}") from None
        return revision

    def audit(self, plan_id: str) -> list[AuditEntry]:
        """The audit log of one plan, oldest first."""
        self.revision(plan_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(PlanAudit).where(PlanAudit.plan_id == plan_id).order_by(PlanAudit.id)
            ).all()
        return [
            AuditEntry(r.id, r.plan_id, r.at, r.who, r.action, json.loads(r.detail)) for r in rows
        ]
