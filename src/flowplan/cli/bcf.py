"""``flowplan bcf ...``: Better Care Fund plans — show the fund, calculate payment for performance.

A PLAN argument is a stored plan id or a plan file (``.yaml``/``.yml``/``.json``/``.xlsx``), as
for ``flowplan plan``; the plan must carry Better Care Fund data (``extensions.bcf``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flowplan.bcf.actuals import read_actuals
from flowplan.bcf.model import BcfData, bcf_data
from flowplan.bcf.payment import (
    PaymentResult,
    calculate_payment,
    load_config,
    money_number,
    percent,
)
from flowplan.cli.common import DbOption, JsonOption, app, out, print_json, reports_errors
from flowplan.cli.plan import PlanArg, _resolve
from flowplan.errors import UsageError
from flowplan.metrics import registry as metric_registry
from flowplan.plans.model import Plan
from flowplan.plans.money import format_money

bcf_app = typer.Typer(
    help="Better Care Fund plans: pooled budget, national conditions, metrics, payment.",
    no_args_is_help=True,
)
app.add_typer(bcf_app, name="bcf")


def _bcf(plan: Plan) -> BcfData:
    data = bcf_data(plan.extensions)
    if data is None:
        raise UsageError(f"plan '{plan.id}' has no Better Care Fund data (extensions.bcf)")
    return data


def _payment_table(result: PaymentResult) -> Table:
    table = Table(title=f"Plan {result.plan_id}: payment for performance ({result.config_version})")
    for name in ("tranche", "date", "amount", "share achieved", "paid", "withheld", "outcome"):
        table.add_column(
            name, justify="right" if name in {"amount", "paid", "withheld"} else "left"
        )
    for t in result.tranches:
        table.add_row(
            t.name,
            t.paid_on.isoformat(),
            format_money(t.amount_gbp),
            percent(t.share_achieved),
            format_money(t.paid_gbp),
            format_money(t.withheld_gbp),
            t.outcome.replace("_", " "),
        )
    table.add_row(
        "Total",
        "",
        format_money(result.pool_gbp),
        "",
        format_money(result.total_paid_gbp),
        format_money(result.total_withheld_gbp),
        "recovery plan required" if result.recovery_plan_required else "",
    )
    return table


@bcf_app.command("payment")
@reports_errors
def bcf_payment(
    plan_ref: PlanArg,
    actuals: Annotated[
        Path | None,
        typer.Option(
            "--actuals",
            help="CSV of actuals: metric,period,numerator,denominator[,value].",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Calculate payment for performance tranche by tranche, step by step."""
    if actuals is None:
        raise UsageError("--actuals FILE.csv is required (metric,period,numerator,denominator)")
    plan, _ = _resolve(plan_ref, db)
    _bcf(plan)
    result = calculate_payment(plan, read_actuals(actuals, plan))
    if as_json:
        print_json(result.as_dict())
        return
    out.print(_payment_table(result))
    for step in result.steps:
        out.print(step, markup=False)


def _show_data(plan: Plan, data: BcfData) -> dict[str, Any]:
    """The fund as JSON-ready data: pooled budget by year × scheme × organisation, conditions,
    metrics."""
    budget: dict[str, Any] = {}
    for year in data.years():
        lines = [x for x in data.pooled_budget if x.year == year]
        schemes = list(dict.fromkeys(x.scheme for x in lines))
        orgs = list(dict.fromkeys(x.organisation for x in lines))
        rows = []
        for sid in schemes:
            mine = [x for x in lines if x.scheme == sid]
            scheme = plan.scheme(sid)
            rows.append(
                {
                    "scheme": sid,
                    "title": scheme.title if scheme is not None else "",
                    "by_organisation": {
                        org: money_number(
                            sum((x.proposed_gbp for x in mine if x.organisation == org), Decimal(0))
                        )
                        for org in orgs
                    },
                    "minimum": money_number(sum((x.minimum_gbp for x in mine), Decimal(0))),
                    "proposed": money_number(sum((x.proposed_gbp for x in mine), Decimal(0))),
                    "maximum": money_number(sum((x.maximum_gbp for x in mine), Decimal(0))),
                }
            )
        allocation = next((a.amount_gbp for a in data.minimum_allocation if a.year == year), None)
        budget[year] = {
            "schemes": rows,
            "by_organisation": {org: money_number(data.pooled_total(year, org)) for org in orgs},
            "minimum": money_number(data.pooled_total(year, column="minimum")),
            "proposed": money_number(data.pooled_total(year)),
            "maximum": money_number(data.pooled_total(year, column="maximum")),
            "national_minimum_allocation": (
                None if allocation is None else money_number(allocation)
            ),
        }
    registry = metric_registry.registry()
    return {
        "plan_id": plan.id,
        "pooled_budget": budget,
        "conditions": [
            {"id": c.id, "status": str(c.status), "evidence": c.evidence} for c in data.conditions
        ],
        "metrics": [
            {
                "metric": m.metric,
                "unit": registry[m.metric].unit if m.metric in registry else "",
                "baseline": m.baseline.value,
                "ambitions": {a.period: a.value for a in m.ambitions},
            }
            for m in data.metrics
        ],
        "contingency": money_number(data.contingency_gbp),
        "pool": money_number(data.payment_for_performance.pool_gbp),
    }


@bcf_app.command("show")
@reports_errors
def bcf_show(plan_ref: PlanArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the pooled budget by scheme × organisation, the conditions and the metrics."""
    plan, _ = _resolve(plan_ref, db)
    data = _bcf(plan)
    shown = _show_data(plan, data)
    if as_json:
        print_json(shown)
        return
    for year, part in shown["pooled_budget"].items():
        orgs = list(part["by_organisation"])
        table = Table(title=f"Pooled budget {year} (proposed, £)")
        table.add_column("scheme")
        table.add_column("title")
        for name in [*orgs, "proposed", "minimum", "maximum"]:
            table.add_column(name, justify="right")
        for row in part["schemes"]:
            table.add_row(
                row["scheme"],
                row["title"],
                *[format_money(row["by_organisation"][o]) for o in orgs],
                format_money(row["proposed"]),
                format_money(row["minimum"]),
                format_money(row["maximum"]),
            )
        table.add_row(
            "Total",
            "",
            *[format_money(part["by_organisation"][o]) for o in orgs],
            format_money(part["proposed"]),
            format_money(part["minimum"]),
            format_money(part["maximum"]),
        )
        out.print(table)
        if part["national_minimum_allocation"] is not None:
            out.print(
                f"National minimum allocation {year}:"
                f" {format_money(part['national_minimum_allocation'])}"
            )
    conditions = Table(title="National conditions")
    for name in ("id", "status", "evidence"):
        conditions.add_column(name, overflow="fold")
    for c in shown["conditions"]:
        conditions.add_row(c["id"], c["status"], c["evidence"])
    out.print(conditions)
    stated = {p for m in shown["metrics"] for p in m["ambitions"]}
    known = load_config().period_ids()
    periods = [p for p in known if p in stated] + sorted(stated - set(known))
    metrics = Table(title="Metrics (baseline and ambition per payment period)")
    for name in ["metric", "unit", "baseline", *periods]:
        metrics.add_column(name, justify="left" if name in {"metric", "unit"} else "right")
    for m in shown["metrics"]:
        metrics.add_row(
            m["metric"],
            m["unit"],
            f"{m['baseline']:g}",
            *[f"{m['ambitions'][p]:g}" if p in m["ambitions"] else "—" for p in periods],
        )
    out.print(metrics)
    out.print(
        f"Payment-for-performance pool {format_money(shown['pool'])};"
        f" contingency {format_money(shown['contingency'])}"
    )
