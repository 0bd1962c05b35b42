"""Demand commands: the review of drivers of pressure, forecasting and backtesting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowplan.cli.common import DbOption, app, out, parse_date, reports_errors
from flowplan.demand.report import write_report
from flowplan.demand.review import review
from flowplan.store.review_inputs import review_inputs
from flowplan.store.store import Store


@app.command("review")
@reports_errors
def review_cmd(
    org: Annotated[str, typer.Option(help="Organisation to review.")],
    footprint: Annotated[
        str | None, typer.Option(help="Footprint, for redistribution between its sites.")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    occupancy_threshold: Annotated[
        float, typer.Option(help="Bed occupancy treated as too high (fraction).")
    ] = 0.92,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report and tables.")] = (
        Path("out/review")
    ),
    db: DbOption = None,
) -> None:
    """Review of the drivers of pressure: an HTML report with findings, and CSV tables.

    Covers the six questions: level and growth of demand, acuity, redistribution between sites,
    volatility, capacity, and resource use. Each finding states the number it rests on.
    """
    inputs = review_inputs(
        Store(db), org, footprint, parse_date(from_, "--from"), parse_date(to, "--to")
    )
    result = review(inputs, occupancy_threshold=occupancy_threshold)
    report = write_report(result, out_dir)
    for section in result.sections:
        out.print(f"[bold]{section.heading}[/bold]")
        for finding in section.findings:
            out.print(f"  • {finding.text}", markup=False)
        for gap in section.not_answered:
            out.print(f"  not answered: {gap}", markup=False)
    out.print(f"report: {report.html_path}")
    out.print(f"tables: {len(report.csv_paths)} CSV file(s) in {out_dir}")
