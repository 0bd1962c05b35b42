"""Plans in the store on SQLite and PostgreSQL: revisions, audit log, concurrency, lock baseline."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from flowplan.errors import UsageError
from flowplan.plans import workflow
from flowplan.plans.document import load_plan
from flowplan.plans.model import Plan, PlanStatus
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


@pytest.fixture(scope="module")
def demo() -> Plan:
    return load_plan(DEMO)


def test_create_get_and_list(store_url: str, demo: Plan) -> None:
    plans = PlanStore(Store(store_url))
    assert plans.create(demo, who="analyst") == 1
    assert plans.get(demo.id) == demo  # the whole document round-trips through JSON
    (summary,) = plans.summaries()
    assert (summary.id, summary.status, summary.revision, summary.footprint) == (
        demo.id,
        "draft",
        1,
        "LSC-SRG",
    )
    assert plans.summaries("OTHER") == []
    with pytest.raises(UsageError, match="already exists"):
        plans.create(demo)
    with pytest.raises(UsageError, match="no plan 'nope'"):
        plans.get("nope")


def test_every_change_is_a_revision_with_an_audit_entry(store_url: str, demo: Plan) -> None:
    plans = PlanStore(Store(store_url))
    plans.create(demo, who="analyst")
    edited = demo.model_copy(update={"title": "LSC resilience plan 2015/16 (v2)"})
    change = workflow.update(demo, edited, today=date(2015, 3, 1))
    assert plans.save(change.plan, action=change.action, detail=change.detail, who="analyst") == 2
    submitted = workflow.submit(edited, [])
    plans.save(submitted.plan, action=submitted.action, detail=submitted.detail, who="lead")
    signed = workflow.sign_off(submitted.plan, org="QE1", user="ICB CEO", at=datetime(2015, 3, 9))
    plans.save(signed.plan, action=signed.action, detail=signed.detail, who="ICB CEO")

    assert plans.get(demo.id).status is PlanStatus.submitted
    assert plans.get(demo.id).signoffs[0].org == "QE1"
    assert plans.get(demo.id, revision=1) == demo
    log = plans.audit(demo.id)
    assert [(e.action, e.who, e.detail["revision"]) for e in log] == [
        ("created", "analyst", 1),
        ("updated", "analyst", 2),
        ("submitted", "lead", 3),
        ("signed_off", "ICB CEO", 4),
    ]
    assert log[1].detail["changed"] == ["title"]
    assert log[3].detail["outstanding"] == ["RXN", "RXL", "RXR", "RTX", "RX7", "E10000017"]


def test_audit_log_is_append_only(store_url: str, demo: Plan) -> None:
    store = Store(store_url)
    PlanStore(store).create(demo, who="analyst")
    for statement in ("UPDATE plan_audit SET who = 'mallory'", "DELETE FROM plan_audit"):
        with pytest.raises(SQLAlchemyError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.who for e in PlanStore(store).audit(demo.id)] == ["analyst"]


def test_stale_revision_is_refused_and_nothing_written(store_url: str, demo: Plan) -> None:
    plans = PlanStore(Store(store_url))
    plans.create(demo)
    edited = demo.model_copy(update={"title": "changed"})
    plans.save(edited, action="updated", detail={}, expected_revision=1)
    with pytest.raises(UsageError, match=r"changed since revision 1 \(now 2\)"):
        plans.save(demo, action="updated", detail={}, expected_revision=1)
    assert plans.revision(demo.id) == 2
    assert len(plans.audit(demo.id)) == 2


def test_as_of_gives_the_revision_standing_at_a_day(store_url: str, demo: Plan) -> None:
    store = Store(store_url)
    plans = PlanStore(store)
    plans.create(demo)
    plans.save(demo.model_copy(update={"title": "later"}), action="updated", detail={})
    with store.engine.begin() as conn:  # date the revisions: 1 on 1 June, 2 on 1 August
        conn.execute(text("UPDATE plan_revisions SET saved_at = '2015-06-01' WHERE revision = 1"))
        conn.execute(text("UPDATE plan_revisions SET saved_at = '2015-08-01' WHERE revision = 2"))
    assert plans.as_of(demo.id, date(2015, 5, 31)) is None
    baseline = plans.as_of(demo.id, date(2015, 6, 30))
    assert baseline is not None and baseline.title == demo.title
    later = plans.as_of(demo.id, date(2015, 8, 1))
    assert later is not None and later.title == "later"
