"""``flowplan plan ...``: write, check, sign off, publish and export plans.

A PLAN argument is a stored plan id, or a plan file (``.yaml``/``.yml``/``.json``/``.xlsx``)
for the commands that only read (check, export, onepage, show). Changes go through the
workflow rules (:mod:`flowplan.plans.workflow`) and are saved with an audit entry.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowplan.cli.common import (
    DbOption,
    JsonOption,
    app,
    out,
    parse_date,
    print_json,
    reports_errors,
)
from flowplan.errors import UsageError
from flowplan.plans import workflow
from flowplan.plans.checks import CheckReport, check_plan, render_findings_table
from flowplan.plans.document import dump_plan, load_plan
from flowplan.plans.excel import export_workbook, import_workbook
from flowplan.plans.findings import has_errors
from flowplan.plans.model import Member, Plan, PlanType, Role, plan_json_schema
from flowplan.plans.onepage import render_onepage
from flowplan.plans.requirements import latest_version
from flowplan.plans.tables import TableKind, check_table
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store, login_name

plan_app = typer.Typer(
    help="Plans: write, check, sign off, publish, export (Excel, JSON/YAML, plan on a page).",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan")

PLAN_SUFFIXES = {".yaml", ".yml", ".json", ".xlsx"}
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who is acting (default: the login name).")
]
PlanArg = Annotated[str, typer.Argument(help="A stored plan id, or a plan file.")]
StoredPlanArg = Annotated[str, typer.Argument(help="A stored plan id (see `plan list`).")]


def _looks_like_file(ref: str) -> bool:
    return Path(ref).suffix.lower() in PLAN_SUFFIXES


def read_plan_file(path: Path) -> Plan:
    """A plan from a YAML, JSON or Excel file (validated; errors name the field and value)."""
    if not path.is_file():
        raise UsageError(f"{path}: file not found")
    if path.suffix.lower() == ".xlsx":
        return import_workbook(path)
    return load_plan(path)


def _resolve(ref: str, db: str | None) -> tuple[Plan, PlanStore | None]:
    """The plan a PLAN argument names, and the store it came from (None for a file)."""
    if _looks_like_file(ref):
        return read_plan_file(Path(ref)), None
    plans = PlanStore(Store(db))
    return plans.get(ref), plans


def _check(plan: Plan, plans: PlanStore | None) -> CheckReport:
    """Check a plan; a stored one is compared with its revision at the lock deadline."""
    previous = None
    if plans is not None and plan.lock_deadline is not None:
        previous = plans.as_of(plan.id, plan.lock_deadline)
    return check_plan(plan, previous=previous, today=date.today())


def _save(plans: PlanStore, change: workflow.Change, user: str | None, revision: int) -> int:
    return plans.save(
        change.plan,
        action=change.action,
        detail=change.detail,
        who=user or login_name(),
        expected_revision=revision,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@plan_app.command("new")
@reports_errors
def plan_new(
    plan_type: Annotated[PlanType, typer.Argument(help="Plan type.", case_sensitive=False)],
    footprint: Annotated[str, typer.Option("--footprint", help="Footprint code (stored).")],
    start: Annotated[
        str | None, typer.Option("--start", help="First day (default: 1 April this year).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day (default: a year after --start).")
    ] = None,
    plan_id: Annotated[str | None, typer.Option("--id", help="Plan id (a slug).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Plan title.")] = None,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a draft plan for a stored footprint; its members become the plan's members."""
    store = Store(db)
    found = [f for f in store.footprints() if f["code"] == footprint]
    if not found:
        raise UsageError(
            f"no footprint '{footprint}' in the store; create it with "
            "`flowplan orgs footprint create` or `orgs footprint load`"
        )
    today = date.today()
    first = parse_date(start, "--start") or date(
        today.year if today.month >= 4 else today.year - 1, 4, 1
    )
    last = parse_date(end, "--end") or date(first.year + 1, first.month, first.day) - timedelta(
        days=1
    )
    members = []
    for code in found[0]["members"]:
        org = store.organisation(code)
        members.append(Member(code=code, name=org.get("name") or code, roles=[Role.engaged]))
    plan = Plan(
        id=plan_id or _slug(f"{footprint}-{plan_type}-{first.year}"),
        type=plan_type,
        title=title or f"{found[0]['name'] or footprint} {plan_type.value.replace('_', ' ')} plan",
        footprint=footprint,
        period_start=first,
        period_end=last,
        requirements_version=latest_version(plan_type),
        members=members,
    )
    PlanStore(store).create(plan, who=user)
    if as_json:
        print_json({"id": plan.id, "status": str(plan.status), "members": len(members)})
        return
    out.print(
        f"Created draft plan {plan.id} ({plan_type}) for {footprint} with {len(members)} "
        f"member organisation(s), {first} to {last}."
    )


@plan_app.command("import")
@reports_errors
def plan_import(
    file: Annotated[Path, typer.Argument(help="Plan file: .yaml, .yml, .json or .xlsx.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Save as a new revision of an existing draft.")
    ] = False,
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Store a plan from a file (a new plan, or with --replace a new revision of a draft)."""
    plan = read_plan_file(file)
    plans = PlanStore(Store(db))
    if not plans.exists(plan.id):
        plans.create(plan, who=user)
        out.print(f"Imported plan {plan.id} (revision 1) from {file.name}.")
        return
    if not replace:
        raise UsageError(
            f"plan '{plan.id}' already exists; use --replace to save {file.name} as its next "
            "revision"
        )
    revision = plans.revision(plan.id)
    change = workflow.update(plans.get(plan.id), plan, today=date.today())
    saved = _save(plans, change, user, revision)
    changed = len(change.detail.get("changed", [])) + int(change.detail.get("more", 0))
    out.print(f"Saved plan {plan.id} revision {saved} ({changed} change(s)).")


@plan_app.command("export")
@reports_errors
def plan_export(
    plan_ref: PlanArg,
    out_file: Annotated[
        Path, typer.Option("--out", help="Output file: .xlsx, .yaml, .yml or .json.")
    ],
    db: DbOption = None,
) -> None:
    """Write a plan as an Excel workbook (resilience-template layout), YAML or JSON."""
    plan, _ = _resolve(plan_ref, db)
    suffix = out_file.suffix.lower()
    if suffix not in PLAN_SUFFIXES:
        raise UsageError(f"--out: use a .xlsx, .yaml, .yml or .json file name, not {out_file}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        export_workbook(plan, out_file)
    else:
        out_file.write_text(
            dump_plan(plan, "json" if suffix == ".json" else "yaml"), encoding="utf-8"
        )
    out.print(f"Wrote {out_file}")


@plan_app.command("list")
@reports_errors
def plan_list(
    footprint: Annotated[str | None, typer.Option("--footprint", help="Only this one.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stored plans, most recently changed first."""
    rows = PlanStore(Store(db)).summaries(footprint)
    if as_json:
        print_json({"plans": [r.__dict__ for r in rows]})
        return
    table = Table(title="Plans")
    for col in ("id", "type", "footprint", "status", "version", "revision", "updated", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.id,
            r.type,
            r.footprint,
            r.status,
            str(r.version),
            str(r.revision),
            r.updated_at.isoformat(sep=" ", timespec="seconds"),
            r.title,
        )
    out.print(table)


@plan_app.command("show")
@reports_errors
def plan_show(plan_ref: PlanArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """A plan's header, counts and money."""
    plan, _ = _resolve(plan_ref, db)
    summary = {
        "id": plan.id,
        "type": str(plan.type),
        "title": plan.title,
        "footprint": plan.footprint,
        "period": [plan.period_start.isoformat(), plan.period_end.isoformat()],
        "status": str(plan.status),
        "version": plan.version,
        "members": len(plan.members),
        "schemes": len(plan.schemes),
        "kpis": sum(len(s.kpis) for s in plan.schemes),
        "milestones": len(plan.milestones),
        "risks": len(plan.risks),
        "funding_gbp": float(plan.total_funding()),
        "scheme_cost_gbp": float(plan.total_scheme_cost()),
        "funding_gap_gbp": float(plan.funding_gap()),
    }
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        out.print(f"{key:>16}  {value}", markup=False)


@plan_app.command("check")
@reports_errors
def plan_check(plan_ref: PlanArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Run the assurance rules; exit status 1 when any finding is an error."""
    plan, plans = _resolve(plan_ref, db)
    report = _check(plan, plans)
    if as_json:
        print_json(report.as_dict())
    else:
        out.print(render_findings_table(report))
        counts = report.counts()
        gap = report.funding_gap_text()
        out.print(
            f"{plan.id}: {counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} note(s). {gap}",
            markup=False,
        )
    if not report.passed:
        raise typer.Exit(1)


@plan_app.command("check-table")
@reports_errors
def plan_check_table(
    file: Annotated[Path, typer.Argument(help="A CSV table pasted from a plan.")],
    kind: Annotated[TableKind, typer.Option("--kind", help="What the table is.")],
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="A budget column of words, not money (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a pasted budget or activity-plan table; exit status 1 when a row is flagged."""
    findings = check_table(file, kind, display=file.name, ignore=ignore or [])
    if as_json:
        print_json(
            {"file": file.name, "kind": str(kind), "findings": [f.as_dict() for f in findings]}
        )
    else:
        for f in findings:
            out.print(f.line(), markup=False)
        out.print(f"{file.name}: {len(findings)} row(s) flagged.", markup=False)
    if has_errors(findings):
        raise typer.Exit(1)


@plan_app.command("submit")
@reports_errors
def plan_submit(plan_id: StoredPlanArg, user: UserOption = None, db: DbOption = None) -> None:
    """Submit a draft for sign-off (refused while its checks report errors)."""
    plans = PlanStore(Store(db))
    revision = plans.revision(plan_id)
    plan = plans.get(plan_id)
    change = workflow.submit(plan, _check(plan, plans).findings)
    _save(plans, change, user, revision)
    waiting = ", ".join(workflow.outstanding(change.plan))
    out.print(f"Submitted plan {plan_id}; waiting for sign-off by {waiting}.")


@plan_app.command("signoff")
@reports_errors
def plan_signoff(
    plan_id: StoredPlanArg,
    org: Annotated[str, typer.Option("--org", help="The signing member organisation's code.")],
    user: UserOption = None,
    note: Annotated[str, typer.Option("--note", help="Comment recorded with it.")] = "",
    db: DbOption = None,
) -> None:
    """Sign a submitted plan off for one member organisation."""
    plans = PlanStore(Store(db))
    revision = plans.revision(plan_id)
    who = user or login_name()
    change = workflow.sign_off(
        plans.get(plan_id),
        org=org,
        user=who,
        at=datetime.now(UTC).replace(microsecond=0),
        note=note,
    )
    _save(plans, change, who, revision)
    remaining = change.detail["outstanding"]
    if remaining:
        out.print(f"{org} signed off {plan_id}; still to sign: {', '.join(remaining)}.")
    else:
        out.print(f"{org} signed off {plan_id}; every member has signed: status signed_off.")


@plan_app.command("publish")
@reports_errors
def plan_publish(plan_id: StoredPlanArg, user: UserOption = None, db: DbOption = None) -> None:
    """Publish a signed-off plan."""
    plans = PlanStore(Store(db))
    revision = plans.revision(plan_id)
    _save(plans, workflow.publish(plans.get(plan_id)), user, revision)
    out.print(f"Published plan {plan_id}.")


@plan_app.command("reopen")
@reports_errors
def plan_reopen(
    plan_id: StoredPlanArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is reopened (audited).")],
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Return a submitted/signed-off/published plan to draft as a new version."""
    plans = PlanStore(Store(db))
    revision = plans.revision(plan_id)
    change = workflow.reopen(plans.get(plan_id), reason=reason)
    _save(plans, change, user, revision)
    out.print(f"Reopened plan {plan_id} as draft version {change.plan.version}; sign-offs cleared.")


@plan_app.command("status")
@reports_errors
def plan_status(plan_id: StoredPlanArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Status and the sign-off panel: who has signed and who has not."""
    plan = PlanStore(Store(db)).get(plan_id)
    panel = workflow.signoff_panel(plan)
    if as_json:
        print_json(
            {
                "id": plan.id,
                "status": str(plan.status),
                "version": plan.version,
                "signoffs": [
                    {
                        "org": s.member.code,
                        "name": s.member.name,
                        "signed": s.signed,
                        "user": s.signoff.user if s.signoff else None,
                        "at": s.signoff.at.isoformat() if s.signoff else None,
                    }
                    for s in panel
                ],
                "outstanding": workflow.outstanding(plan),
            }
        )
        return
    table = Table(title=f"{plan.id}: {plan.status} (version {plan.version})")
    for col in ("organisation", "name", "signed", "by", "at"):
        table.add_column(col)
    for s in panel:
        table.add_row(
            s.member.code,
            s.member.name,
            "yes" if s.signed else "no",
            s.signoff.user if s.signoff else "",
            s.signoff.at.isoformat(sep=" ") if s.signoff else "",
        )
    out.print(table)


@plan_app.command("audit")
@reports_errors
def plan_audit(plan_id: StoredPlanArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The plan's audit log: every change, who made it and when."""
    entries = PlanStore(Store(db)).audit(plan_id)
    if as_json:
        print_json({"id": plan_id, "entries": [e.__dict__ for e in entries]})
        return
    table = Table(title=f"Audit log of {plan_id}")
    for col in ("#", "at", "who", "action", "detail"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            str(e.id),
            e.at.isoformat(sep=" ", timespec="seconds"),
            e.who,
            e.action,
            json.dumps(e.detail, default=str)[:200],
        )
    out.print(table)


@plan_app.command("onepage")
@reports_errors
def plan_onepage(
    plan_ref: PlanArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the HTML and PDF.")],
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
    db: DbOption = None,
) -> None:
    """Render the plan on a page (HTML, and PDF) with its critical-path chart."""
    plan, _ = _resolve(plan_ref, db)
    result = render_onepage(plan, out_dir, pdf=pdf)
    for path in result.paths():
        out.print(f"Wrote {path}")


@plan_app.command("schema")
@reports_errors
def plan_schema() -> None:
    """Print the JSON Schema of a plan document."""
    print_json(plan_json_schema())


__all__ = ["plan_app", "read_plan_file"]
