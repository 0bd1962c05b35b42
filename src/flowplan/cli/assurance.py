"""Assurance commands: a system's category (high risk, standard or earned autonomy)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from flowplan.assurance.category import Classification, classify, load_config
from flowplan.cli.common import DbOption, JsonOption, app, out, print_json, reports_errors
from flowplan.errors import UsageError
from flowplan.store.assurance_inputs import AssuranceInputs, assurance_inputs
from flowplan.store.store import Store

assurance_app = typer.Typer(
    help="Assurance: a system's category (high risk, standard, earned autonomy).",
    no_args_is_help=True,
)
app.add_typer(assurance_app, name="assurance")

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str | None, option: str) -> date | None:
    """A ``YYYY-MM`` option as the first day of that month, or a one-line UsageError."""
    if text is None:
        return None
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(f"{option}: not a month (YYYY-MM): {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _payload(result: Classification, got: AssuranceInputs) -> dict[str, Any]:
    standards: dict[str, Any] = {}
    for metric, fig in result.figures.items():
        frame = got.frames[metric]
        counts = {
            pd.Timestamp(p).date(): (float(n), float(d))
            for p, n, d in zip(
                frame["period_start"], frame["numerator"], frame["denominator"], strict=True
            )
        }
        months = []
        for month in result.months:
            entry: dict[str, Any] = {"month": f"{month:%Y-%m}"}
            if month in fig.values:
                numerator, denominator = counts[month]
                entry |= {
                    "value": fig.values[month],
                    "numerator": numerator,
                    "denominator": denominator,
                    "met": month in fig.met,
                }
            else:
                entry |= {"value": None, "met": None, "missing": fig.missing[month]}
            months.append(entry)
        standards[metric] = {
            "label": fig.label,
            "threshold": fig.threshold,
            "months_met": len(fig.met),
            "months_not_met": len(fig.not_met),
            "months_missing": len(fig.missing),
            "months": months,
        }
    return {
        "footprint": result.system,
        "category": result.category.value,
        "category_label": result.category.label,
        "needs_diagnostic": result.needs_diagnostic,
        "finance_flag": result.finance_flag,
        "as_of": f"{result.months[-1]:%Y-%m}",
        "months": [f"{m:%Y-%m}" for m in result.months],
        "reasons": result.reasons,
        "consequence": result.consequence,
        "config_version": result.config_version,
        "standards": standards,
        "basis": got.basis,
    }


def _print(result: Classification, got: AssuranceInputs) -> None:
    head = f"{result.system}: {result.category.label.upper()}"
    if result.needs_diagnostic:
        head += " — a diagnostic of the provider is needed before money is released"
    out.print(head, markup=False)
    months = result.months
    flag = "set" if result.finance_flag else "not set"
    out.print(
        f"months used: {months[0]:%b %Y}–{months[-1]:%b %Y} ({len(months)}), "
        f"config {result.config_version}, finance flag {flag}",
        markup=False,
    )
    out.print("reasons:")
    for line in result.reasons:
        out.print(f"  - {line}", markup=False)
    table = Table(title=escape(f"{result.system} system values by month (✓ met, ✗ not met)"))
    table.add_column("month")
    for fig in result.figures.values():
        table.add_column(escape(f"{fig.label} (≥ {fig.threshold:g})"), justify="right")
    for month in months:
        cells = []
        for fig in result.figures.values():
            if month in fig.values:
                mark = "✓" if month in fig.met else "✗"
                cells.append(f"{fig.values[month]:.2f} {mark}")
            else:
                cells.append(escape(f"missing ({fig.missing[month]})"))
        table.add_row(f"{month:%Y-%m}", *cells)
    out.print(table)
    for line in got.basis:
        out.print(f"basis: {line}", markup=False)


@assurance_app.command("category")
@reports_errors
def assurance_category(
    footprint: Annotated[str, typer.Option(help="Footprint code (the system).")],
    finance_flag: Annotated[
        bool, typer.Option("--finance-flag", help="The system's finances are of concern.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Last month of the look-back, YYYY-MM (default: the latest month with every "
            "standard).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Category configuration TOML (default: the packaged one)."),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Classify a system as high risk, standard or earned autonomy, with the reasons."""
    month = parse_month(as_of, "--as-of")
    rule = load_config(config)
    got = assurance_inputs(Store(db), footprint)
    result = classify(got.history, rule, finance_flag, month)
    if as_json:
        print_json(_payload(result, got))
        return
    _print(result, got)
