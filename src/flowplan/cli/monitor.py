"""Monitoring commands: ``flowplan monitor plan`` (actual vs plan for every KPI) and
``flowplan escalation`` (OPEL-style daily levels with reasons)."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from flowplan.cli.common import (
    DbOption,
    JsonOption,
    app,
    iso,
    out,
    parse_date,
    print_json,
    reports_errors,
)
from flowplan.errors import UsageError
from flowplan.monitor import kpis as kpi_engine
from flowplan.monitor import opel as opel_engine
from flowplan.plans.document import load_plan
from flowplan.plans.excel import import_workbook
from flowplan.plans.model import Plan
from flowplan.store.monitor_inputs import escalation_indicators, plan_actuals
from flowplan.store.plans import PlanStore
from flowplan.store.store import Store

monitor_app = typer.Typer(
    help="Monitoring: actual vs plan for plan KPIs (RAG, SPC, benefits).", no_args_is_help=True
)
app.add_typer(monitor_app, name="monitor")

DEFAULT_WINDOW_DAYS = 28
"""Days shown by ``escalation`` when neither --from nor --to is given (the latest four weeks)."""

_PLAN_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
_RAG_STYLE = {"green": "green", "amber": "yellow", "red": "red"}
_LEVEL_STYLE = {1: "green", 2: "yellow", 3: "dark_orange", 4: "red"}


def _plan(ref: str, db: str | None) -> tuple[Plan, Store]:
    """The plan a PLAN argument names (stored id or file) and the store to read actuals from."""
    store = Store(db)
    path = Path(ref)
    if path.suffix.lower() in _PLAN_SUFFIXES:
        if not path.is_file():
            raise UsageError(f"{path}: file not found")
        plan = import_workbook(path) if path.suffix.lower() == ".xlsx" else load_plan(path)
        return plan, store
    return PlanStore(store).get(ref), store


def _num(value: Any, spec: str = ",.4g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(float(value), spec)


@monitor_app.command("plan")
@reports_errors
def monitor_plan(
    plan_ref: Annotated[str, typer.Argument(metavar="PLAN", help="Stored plan id or plan file.")],
    org: Annotated[
        str | None,
        typer.Option(help="Organisation or footprint for actuals (default: plan footprint)."),
    ] = None,
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="Ignore actuals after this month (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Actual vs plan for every KPI of a plan: latest actual, planned value, RAG, SPC icons."""
    plan, store = _plan(plan_ref, db)
    day = parse_date(as_at, "--as-at")
    actuals = plan_actuals(store, plan, code=org)
    table = kpi_engine.plan_kpis(plan, actuals, as_at=day)
    benefits = kpi_engine.scheme_benefits(table)
    cfg = kpi_engine.load_config()
    if as_json:
        print_json(
            {
                "plan": plan.id,
                "actuals_from": org or plan.footprint,
                "as_at": day,
                "config_version": cfg.version,
                "kpis": table.to_dict("records"),
                "schemes": benefits.to_dict("records"),
            }
        )
        return
    shown = Table(title=escape(f"{plan.id}: actual vs plan ({org or plan.footprint})"))
    for col in ("scheme", "metric", "latest", "actual", "planned", "variance", "RAG", "SPC"):
        shown.add_column(
            col, justify="right" if col in ("actual", "planned", "variance") else "left"
        )
    record: Any
    for record in table.itertuples(index=False):
        rag = str(record.rag)
        rag_text = f"[{_RAG_STYLE[rag]}]{rag}[/]" if rag in _RAG_STYLE else record.status
        spc = str(record.spc_variation).replace("_", " ")
        if record.spc_assurance:
            spc += f"; {str(record.spc_assurance).replace('_', ' ')}"
        shown.add_row(
            escape(str(record.scheme_id)),
            escape(str(record.metric)),
            iso(record.latest_period) if record.latest_period is not None else "",
            _num(record.actual),
            _num(record.planned),
            _num(record.variance, "+,.4g"),
            rag_text,
            escape(spc),
        )
    out.print(shown)
    with_actuals = int((table["status"] != "no_actuals").sum())
    counts = {r: int((table["rag"] == r).sum()) for r in ("green", "amber", "red")}
    out.print(
        f"{len(table)} KPI(s), {with_actuals} with actuals: {counts['green']} green, "
        f"{counts['amber']} amber, {counts['red']} red (tolerances: kpis.toml {cfg.version})",
        markup=False,
    )
    for record in table.itertuples(index=False):
        if record.note:
            out.print(f"note {record.scheme_id}: {record.note}", markup=False)


@app.command("escalation")
@reports_errors
def escalation(
    org: Annotated[str, typer.Option(help="Organisation or footprint code.")],
    from_: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="Escalation scheme TOML (default: packaged opel.toml).")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """OPEL-style escalation level for each day, with each indicator's band and score.

    Without --from/--to the latest 28 days with data are shown.
    """
    cfg = opel_engine.load_config(config)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    got = escalation_indicators(Store(db), org, config=cfg, start=start, end=end)
    if got.frame.empty:
        raise UsageError(
            f"{org}: no escalation indicator has data"
            + (" in the dates given" if start or end else "")
            + "; "
            + "; ".join(got.basis)
        )
    levels = opel_engine.opel_levels(got.frame, cfg)
    window = "as given"
    if start is None and end is None:
        last = pd.Timestamp(levels["date"].max())
        levels = levels[levels["date"] > last - timedelta(days=DEFAULT_WINDOW_DAYS)]
        window = f"latest {DEFAULT_WINDOW_DAYS} days (use --from/--to for more)"
    levels = levels.reset_index(drop=True)
    summary = opel_engine.level_summary(levels, cfg)
    runs = opel_engine.episodes(levels, cfg)
    if as_json:
        print_json(
            {
                "code": org,
                "config": {"title": cfg.title, "version": cfg.version, "source": cfg.source},
                "from": levels["date"].min(),
                "to": levels["date"].max(),
                "window": window,
                "basis": got.basis,
                "summary": summary.to_dict("records"),
                "episodes": runs.to_dict("records"),
                "days": [
                    {**r, "level": None if pd.isna(r["level"]) else int(r["level"])}
                    for r in levels.to_dict("records")
                ],
            }
        )
        return
    table = Table(title=escape(f"{org}: escalation ({cfg.title}, {cfg.version}); {window}"))
    for col in ("date", "level", "score", "reasons"):
        table.add_column(col, justify="right" if col == "score" else "left", overflow="fold")
    record: Any
    for record in levels.itertuples(index=False):
        if pd.isna(record.level):
            level_text = "-"
        else:
            style = _LEVEL_STYLE.get(int(record.level), "bold")
            level_text = f"[{style}]{escape(str(record.level_name))}[/]"
        table.add_row(
            iso(record.date),
            level_text,
            f"{record.score:g}/{record.max_score:g} ({record.score_pct:.0f}%)",
            escape("\n".join(record.reasons)),
        )
    out.print(table)
    parts = [f"{r.level_name}: {r.days}" for r in summary.itertuples(index=False)]
    out.print(f"days at each level: {', '.join(parts)}; {len(runs)} episode(s)", markup=False)
    for line in got.basis:
        out.print(f"basis: {line}", markup=False)
