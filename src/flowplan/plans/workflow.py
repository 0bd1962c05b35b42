"""The plan workflow: draft → submitted → signed_off → published, sign-off and locked years.

Every function here is pure: it takes a plan and returns a :class:`Change` (the new plan, the
audit action and what changed), or raises :class:`WorkflowError` saying why the step is not
allowed and what to do instead. Adapters (CLI, web) save the change with
:meth:`flowplan.store.plans.PlanStore.save`, which writes the revision and the audit entry in
one transaction.

Rules (DOMAIN.md §1–2): a plan is edited only as a draft; it is submitted only when its
assurance checks have no errors; every signatory member organisation signs off for itself once
(seed 000: "All members of the SRG must be signed up"); when the last one signs, the plan is
``signed_off``; only a signed-off plan is published. Reopening a submitted, signed-off or
published plan returns it to draft as a new version and clears its sign-offs (they were given
to the old content). After ``lock_deadline`` the ``locked_years`` cannot change (seed 001: years
1–2 are locked after the final 2-year plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flowplan.errors import UsageError
from flowplan.plans.checks import check_plan
from flowplan.plans.findings import Finding, Severity
from flowplan.plans.model import Member, Plan, PlanStatus, SignOff

ORDER = (PlanStatus.draft, PlanStatus.submitted, PlanStatus.signed_off, PlanStatus.published)
_ROUTE = " → ".join(str(s) for s in ORDER)
#: Fields only the workflow changes; an edit that touches them is refused.
WORKFLOW_FIELDS = ("status", "signoffs", "version")
#: The assurance rule that guards locked years (flowplan.plans.checks).
LOCKED_YEAR_RULE = "PLAN-LOCKED-YEAR"
#: Most changed paths listed in one audit entry (the rest are counted).
MAX_PATHS = 50


class WorkflowError(UsageError):
    """A workflow step that is not allowed now; the message says why and what to do."""


@dataclass(frozen=True)
class Change:
    """The result of one workflow step: the new plan and its audit-log entry."""

    plan: Plan
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignOffState:
    """One member organisation's place in the sign-off panel."""

    member: Member
    signoff: SignOff | None

    @property
    def signed(self) -> bool:
        """Whether this organisation has signed."""
        return self.signoff is not None


def _require(plan: Plan, step: str, allowed: Sequence[PlanStatus]) -> None:
    if plan.status not in allowed:
        wanted = " or ".join(str(s) for s in allowed)
        raise WorkflowError(
            f"cannot {step} plan '{plan.id}': its status is {plan.status}, it must be {wanted} "
            f"({_ROUTE})"
        )


def signoff_panel(plan: Plan) -> list[SignOffState]:
    """Every signatory member and its sign-off (None when it has not signed), in member order."""
    by_org = {s.org: s for s in plan.signoffs}
    return [SignOffState(m, by_org.get(m.code)) for m in plan.members if m.signatory]


def outstanding(plan: Plan) -> list[str]:
    """Codes of the signatory members that have not signed off."""
    return [s.member.code for s in signoff_panel(plan) if not s.signed]


def submit(plan: Plan, findings: Sequence[Finding]) -> Change:
    """Submit a draft for sign-off; refused while its assurance checks report errors.

    Args:
        plan: the draft.
        findings: the plan's current check findings (``flowplan.plans.checks``).
    """
    _require(plan, "submit", [PlanStatus.draft])
    errors = [f for f in findings if f.severity is Severity.error]
    if errors:
        first = "; ".join(f"{f.rule} at {f.location}" for f in errors[:3])
        more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
        raise WorkflowError(
            f"cannot submit plan '{plan.id}': its checks report {len(errors)} error(s) "
            f"({first}{more}); run `flowplan plan check {plan.id}` and fix them first"
        )
    if not outstanding(plan):
        raise WorkflowError(
            f"cannot submit plan '{plan.id}': it has no signatory member organisation to sign it"
        )
    new = plan.model_copy(update={"status": PlanStatus.submitted})
    return Change(new, "submitted", {"from": str(plan.status), "to": str(new.status)})


def sign_off(plan: Plan, *, org: str, user: str, at: datetime, note: str = "") -> Change:
    """Record one member organisation's sign-off; the last one makes the plan ``signed_off``.

    Args:
        plan: a submitted plan.
        org: the signing organisation's code; it must be a signatory member.
        user: who signs for it.
        at: when.
        note: optional comment.
    """
    _require(plan, "sign off", [PlanStatus.submitted])
    member = plan.member(org)
    if member is None or not member.signatory:
        signatories = ", ".join(s.member.code for s in signoff_panel(plan))
        raise WorkflowError(
            f"{org} cannot sign off plan '{plan.id}': it is not a signatory member "
            f"(signatories: {signatories})"
        )
    if any(s.org == org for s in plan.signoffs):
        raise WorkflowError(f"{org} has already signed off plan '{plan.id}'")
    signoffs = [*plan.signoffs, SignOff(org=org, user=user, at=at, note=note)]
    new = plan.model_copy(update={"signoffs": signoffs})
    remaining = outstanding(new)
    detail: dict[str, Any] = {"org": org, "user": user, "outstanding": remaining}
    if not remaining:
        new = new.model_copy(update={"status": PlanStatus.signed_off})
        detail["to"] = str(PlanStatus.signed_off)
    return Change(new, "signed_off", detail)


def publish(plan: Plan) -> Change:
    """Publish a plan every signatory has signed off."""
    _require(plan, "publish", [PlanStatus.signed_off])
    missing = outstanding(plan)
    if missing:  # a signed_off plan always has every sign-off; guard a hand-edited document
        raise WorkflowError(
            f"cannot publish plan '{plan.id}': not signed off by {', '.join(missing)}"
        )
    new = plan.model_copy(update={"status": PlanStatus.published})
    return Change(new, "published", {"from": str(plan.status), "to": str(new.status)})


def reopen(plan: Plan, *, reason: str) -> Change:
    """Return a submitted, signed-off or published plan to draft as a new version.

    The sign-offs are cleared: they were given to the content being changed.
    """
    _require(plan, "reopen", [PlanStatus.submitted, PlanStatus.signed_off, PlanStatus.published])
    if not reason.strip():
        raise WorkflowError("say why the plan is reopened (--reason)")
    new = plan.model_copy(
        update={"status": PlanStatus.draft, "signoffs": [], "version": plan.version + 1}
    )
    cleared = [s.org for s in plan.signoffs]
    return Change(
        new,
        "reopened",
        {"from": str(plan.status), "version": new.version, "reason": reason, "cleared": cleared},
    )


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Where two plan documents (as JSON data) differ: ``schemes[S03].costs`` style paths.

    Lists of objects with an ``id`` are matched by id, so inserting a scheme reports that
    scheme rather than every later one.
    """
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(old.keys() | new.keys()):
            sub = f"{prefix}.{key}" if prefix else str(key)
            paths.extend(changed_paths(old.get(key), new.get(key), sub))
        return paths
    if isinstance(old, list) and isinstance(new, list):
        keyed = all(isinstance(x, dict) and "id" in x for x in [*old, *new])
        if keyed:
            before = {x["id"]: x for x in old}
            after = {x["id"]: x for x in new}
            paths = []
            for key in [*before, *(k for k in after if k not in before)]:
                paths.extend(changed_paths(before.get(key), after.get(key), f"{prefix}[{key}]"))
            if not paths:  # same items, new order
                paths.append(prefix)
            return paths
    return [prefix or "."]


def locked_year_findings(old: Plan, new: Plan, *, today: date) -> list[Finding]:
    """The changes from ``old`` to ``new`` that the locked-years rule refuses on ``today``."""
    return check_plan(new, previous=old, today=today, rules=[LOCKED_YEAR_RULE]).findings


def update(old: Plan, new: Plan, *, today: date) -> Change:
    """An edit of a draft plan's content.

    Raises:
        WorkflowError: the plan is not a draft, the edit touches the workflow fields, or it
            changes a locked year after the deadline.
    """
    if new.id != old.id:
        raise WorkflowError(f"an update cannot change the plan id ('{old.id}' → '{new.id}')")
    _require(old, "edit", [PlanStatus.draft])
    touched = [f for f in WORKFLOW_FIELDS if getattr(old, f) != getattr(new, f)]
    if touched:
        raise WorkflowError(
            f"an edit cannot change {', '.join(touched)} of plan '{old.id}'; "
            "use plan submit / signoff / publish / reopen"
        )
    locked = [f.location for f in locked_year_findings(old, new, today=today)]
    if locked:
        raise WorkflowError(
            f"plan '{old.id}' has locked {', '.join(old.locked_years)} "
            f"(deadline {old.lock_deadline}): cannot change {', '.join(locked[:5])}"
            + (f" and {len(locked) - 5} more" if len(locked) > 5 else "")
        )
    paths = changed_paths(old.model_dump(mode="json"), new.model_dump(mode="json"))
    detail: dict[str, Any] = {"changed": paths[:MAX_PATHS]}
    if len(paths) > MAX_PATHS:
        detail["more"] = len(paths) - MAX_PATHS
    return Change(new, "updated", detail)
