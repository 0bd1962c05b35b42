"""Plan workflow: legal and illegal status transitions, sign-off, reopening, locked years."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from flowplan.plans.document import load_plan
from flowplan.plans.findings import Finding, Severity
from flowplan.plans.model import Plan, PlanStatus
from flowplan.plans.workflow import (
    WorkflowError,
    changed_paths,
    locked_year_findings,
    outstanding,
    publish,
    reopen,
    sign_off,
    signoff_panel,
    submit,
    update,
)

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"
SIGNATORIES = ["QE1", "RXN", "RXL", "RXR", "RTX", "RX7", "E10000017"]
AT = datetime(2015, 3, 20, 10, 30)


@pytest.fixture(scope="module")
def demo() -> Plan:
    return load_plan(DEMO)


def signed_by_all(plan: Plan) -> Plan:
    current = submit(plan, []).plan
    for org in SIGNATORIES:
        current = sign_off(current, org=org, user=f"director of {org}", at=AT).plan
    return current


def test_demo_signatories(demo: Plan) -> None:
    assert [s.member.code for s in signoff_panel(demo)] == SIGNATORIES
    assert outstanding(demo) == SIGNATORIES


def test_full_route_draft_to_published(demo: Plan) -> None:
    submitted = submit(demo, [])
    assert (submitted.action, submitted.plan.status) == ("submitted", PlanStatus.submitted)
    current = submitted.plan
    for i, org in enumerate(SIGNATORIES):
        change = sign_off(current, org=org, user="A. Director", at=AT, note="board 19 March")
        current = change.plan
        assert change.detail["outstanding"] == SIGNATORIES[i + 1 :]
        expected = PlanStatus.signed_off if i == len(SIGNATORIES) - 1 else PlanStatus.submitted
        assert current.status is expected
    assert current.signoffs[0].note == "board 19 March"
    published = publish(current)
    assert published.plan.status is PlanStatus.published
    assert published.detail == {"from": "signed_off", "to": "published"}


@pytest.mark.parametrize(
    ("step", "status", "message"),
    [
        (
            "publish",
            PlanStatus.draft,
            "cannot publish plan 'lsc-resilience-2015': its status is "
            "draft, it must be signed_off (draft → submitted → signed_off → published)",
        ),
        ("publish", PlanStatus.submitted, "its status is submitted, it must be signed_off"),
        (
            "submit",
            PlanStatus.submitted,
            "cannot submit plan 'lsc-resilience-2015': its status is submitted, it must be draft",
        ),
        ("submit", PlanStatus.published, "its status is published, it must be draft"),
        (
            "sign",
            PlanStatus.draft,
            "cannot sign off plan 'lsc-resilience-2015': its status is draft, it must be submitted",
        ),
        ("sign", PlanStatus.signed_off, "its status is signed_off, it must be submitted"),
        (
            "reopen",
            PlanStatus.draft,
            "cannot reopen plan 'lsc-resilience-2015': its status is "
            "draft, it must be submitted or signed_off or published",
        ),
    ],
)
def test_illegal_transitions_are_refused(
    demo: Plan, step: str, status: PlanStatus, message: str
) -> None:
    plan = demo.model_copy(update={"status": status})
    with pytest.raises(WorkflowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        if step == "publish":
            publish(plan)
        elif step == "submit":
            submit(plan, [])
        elif step == "sign":
            sign_off(plan, org="QE1", user="x", at=AT)
        else:
            reopen(plan, reason="typo")


def test_submit_refused_while_checks_report_errors(demo: Plan) -> None:
    findings = [
        Finding("PLAN-REQ-COVERED", Severity.error, "requirements[NE03]", "no scheme"),
        Finding("PLAN-FUNDING-GAP", Severity.info, "funding", "gap £439,000"),
    ]
    with pytest.raises(WorkflowError, match=r"1 error\(s\) \(PLAN-REQ-COVERED at requirements"):
        submit(demo, findings)
    assert submit(demo, findings[1:]).plan.status is PlanStatus.submitted


def test_sign_off_only_by_signatory_members_once(demo: Plan) -> None:
    submitted = submit(demo, []).plan
    with pytest.raises(WorkflowError, match=r"RA4 cannot sign off .* not a signatory member"):
        sign_off(submitted, org="RA4", user="x", at=AT)
    not_signatory = submitted.model_copy(
        update={
            "members": [
                m.model_copy(update={"signatory": False}) if m.code == "RX7" else m
                for m in submitted.members
            ]
        }
    )
    with pytest.raises(WorkflowError, match="RX7 cannot sign off"):
        sign_off(not_signatory, org="RX7", user="x", at=AT)
    once = sign_off(submitted, org="QE1", user="x", at=AT).plan
    with pytest.raises(WorkflowError, match="QE1 has already signed off"):
        sign_off(once, org="QE1", user="y", at=AT)


def test_reopen_clears_signoffs_and_bumps_version(demo: Plan) -> None:
    signed = signed_by_all(demo)
    change = reopen(signed, reason="refresh after winter review")
    assert change.plan.status is PlanStatus.draft
    assert change.plan.signoffs == []
    assert change.plan.version == demo.version + 1
    assert change.detail["cleared"] == SIGNATORIES
    with pytest.raises(WorkflowError, match="say why"):
        reopen(signed, reason=" ")


def test_update_records_changed_paths(demo: Plan) -> None:
    scheme = demo.schemes[2]
    edited_scheme = scheme.model_copy(update={"title": scheme.title + " (revised)"})
    schemes = [edited_scheme if s.id == scheme.id else s for s in demo.schemes]
    new = demo.model_copy(update={"schemes": schemes})
    change = update(demo, new, today=date(2015, 3, 1))
    assert change.action == "updated"
    assert change.detail == {"changed": [f"schemes[{scheme.id}].title"]}


def test_update_refuses_workflow_fields_and_non_drafts(demo: Plan) -> None:
    with pytest.raises(WorkflowError, match="cannot change status"):
        update(demo, demo.model_copy(update={"status": PlanStatus.published}), today=AT.date())
    submitted = submit(demo, []).plan
    with pytest.raises(WorkflowError, match=r"cannot edit plan .* its status is submitted"):
        update(submitted, submitted, today=AT.date())


def test_locked_years_are_immutable_after_the_deadline(demo: Plan) -> None:
    locked = demo.model_copy(
        update={"lock_deadline": date(2015, 6, 30), "locked_years": ["2015/16"]}
    )
    line = locked.funding[0]
    funding = [line.model_copy(update={"amount_gbp": line.amount_gbp + Decimal(1000)})]
    moved = locked.model_copy(update={"funding": funding + locked.funding[1:]})
    (finding,) = locked_year_findings(locked, moved, today=date(2015, 7, 1))
    assert finding.location == "funding[0].amount_gbp"
    assert locked_year_findings(locked, moved, today=date(2015, 6, 30)) == []
    # before the deadline the edit is allowed; after it, refused naming the field
    assert update(locked, moved, today=date(2015, 6, 30)).action == "updated"
    with pytest.raises(
        WorkflowError,
        match=r"has locked 2015/16 \(deadline 2015-06-30\): cannot change funding\[0\].amount_gbp",
    ):
        update(locked, moved, today=date(2015, 7, 1))
    # a change outside the money of the locked year is still allowed
    renamed = locked.model_copy(update={"title": "Renamed"})
    assert update(locked, renamed, today=date(2016, 1, 1)).detail == {"changed": ["title"]}


def test_changed_paths_match_lists_by_id() -> None:
    old = {"schemes": [{"id": "S1", "cost": 1}, {"id": "S2", "cost": 2}], "title": "a"}
    new = {"schemes": [{"id": "S0", "cost": 0}, {"id": "S1", "cost": 1}, {"id": "S2", "cost": 3}]}
    assert changed_paths(old, new) == ["schemes[S2].cost", "schemes[S0]", "title"]
    assert changed_paths(old, old) == []
