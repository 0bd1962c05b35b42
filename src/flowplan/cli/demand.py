"""Demand commands: the review of drivers of pressure, forecasting and backtesting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from flowplan.cli.common import DbOption, app, out, parse_date, reports_errors
from flowplan.data.grain import Grain
from flowplan.data.orgfiles import read_rows
from flowplan.demand import backtest as backtest_engine
from flowplan.demand import forecast as forecast_engine
from flowplan.demand.report import write_report
from flowplan.demand.review import review
from flowplan.errors import UsageError
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


def _series_from_csv(path: Path, time_col: str, value_col: str) -> pd.DataFrame:
    rows = read_rows(path, [time_col, value_col])
    return pd.DataFrame(
        {"period_start": [r[time_col] for _, r in rows], "value": [r[value_col] for _, r in rows]}
    )


def _series_from_store(
    store: Store, org: str, measure: str, breakdown: str | None, grain: Grain
) -> tuple[pd.DataFrame, list[str]]:
    frame, used, bd = store.read_series(org, measure, breakdown, grain)
    notes = [f"series: {org} {measure} [{bd}] by {used.value} from the store"]
    return frame[["period_start", "value"]], notes


@app.command("forecast")
@reports_errors
def forecast_cmd(
    horizon: Annotated[int, typer.Option(help="Periods to forecast.")],
    input_csv: Annotated[Path | None, typer.Option("--input", help="CSV with the series.")] = None,
    time_col: Annotated[str, typer.Option(help="--input: date column.")] = "ds",
    value_col: Annotated[str, typer.Option(help="--input: value column.")] = "y",
    org: Annotated[str | None, typer.Option(help="Or: a stored series of this org.")] = None,
    measure: Annotated[str | None, typer.Option(help="With --org: the measure.")] = None,
    breakdown: Annotated[str | None, typer.Option(help="With --org: the breakdown.")] = None,
    grain: Annotated[Grain, typer.Option(help="day, week or month.")] = Grain.DAY,
    level: Annotated[list[float] | None, typer.Option(help="Interval level, percent.")] = None,
    model: Annotated[str, typer.Option(help="default, seasonal_naive, ets, arima or mstl.")] = (
        "default"
    ),
    holidays: Annotated[str, typer.Option(help="england or none.")] = "england",
    out_file: Annotated[Path, typer.Option("--out", help="Forecast CSV.")] = Path(
        "out/forecast.csv"
    ),
    db: DbOption = None,
) -> None:
    """Forecast demand with prediction intervals: columns ds, mean, lo_80, hi_80, lo_95, hi_95."""
    frame, notes = _load_series(input_csv, time_col, value_col, org, measure, breakdown, grain, db)
    result = forecast_engine.forecast(
        frame, grain.value, horizon, level=level or [80, 95], model=model, holidays=holidays
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    table = result.frame.assign(ds=pd.to_datetime(result.frame["ds"]).dt.date.astype(str))
    table.to_csv(out_file, index=False)
    for note in [*notes, *result.notes]:
        out.print(f"note: {note}", markup=False)
    out.print(
        f"{result.model} forecast of {horizon} {grain.value}(s) from "
        f"{table['ds'].iloc[0]} to {table['ds'].iloc[-1]}: {out_file}"
    )


def _load_series(
    input_csv: Path | None,
    time_col: str,
    value_col: str,
    org: str | None,
    measure: str | None,
    breakdown: str | None,
    grain: Grain,
    db: str | None,
) -> tuple[pd.DataFrame, list[str]]:
    if input_csv is not None and org is None:
        return _series_from_csv(input_csv, time_col, value_col), [f"series: {input_csv}"]
    if input_csv is None and org is not None and measure is not None:
        return _series_from_store(Store(db), org, measure, breakdown, grain)
    raise UsageError("give --input CSV (with --time-col, --value-col) or --org CODE --measure M")


@app.command("backtest")
@reports_errors
def backtest_cmd(
    horizon: Annotated[int, typer.Option(help="Periods forecast from each origin.")],
    windows: Annotated[int, typer.Option(help="Rolling origins per series.")] = 12,
    step: Annotated[int, typer.Option(help="Periods between origins.")] = 28,
    org: Annotated[
        list[str] | None, typer.Option(help="Stored series of these orgs (repeatable).")
    ] = None,
    measure: Annotated[str | None, typer.Option(help="The measure of the stored series.")] = None,
    breakdown: Annotated[str | None, typer.Option(help="The breakdown.")] = None,
    input_csv: Annotated[Path | None, typer.Option("--input", help="Or: one series as CSV.")] = (
        None
    ),
    time_col: Annotated[str, typer.Option(help="--input: date column.")] = "ds",
    value_col: Annotated[str, typer.Option(help="--input: value column.")] = "y",
    grain: Annotated[Grain, typer.Option(help="day, week or month.")] = Grain.DAY,
    models: Annotated[list[str] | None, typer.Option("--models", help="Models to compare.")] = None,
    holidays: Annotated[str, typer.Option(help="england or none.")] = "england",
    out_file: Annotated[Path, typer.Option("--out", help="Per-series results CSV.")] = Path(
        "out/backtest.csv"
    ),
    db: DbOption = None,
) -> None:
    """Rolling-origin backtest: MASE, RMSSE, interval coverage, pinball loss and fit time."""
    series: dict[str, pd.DataFrame] = {}
    if input_csv is not None:
        series[input_csv.stem] = _series_from_csv(input_csv, time_col, value_col)
    elif org and measure:
        store = Store(db)
        for code in org:
            series[code], _ = _series_from_store(store, code, measure, breakdown, grain)
    else:
        raise UsageError("give --input CSV, or --org CODE (repeatable) with --measure M")
    result = backtest_engine.backtest(
        series,
        grain.value,
        horizon,
        windows,
        step,
        models or ["default", "seasonal_naive", "ets", "arima", "mstl"],
        holidays=holidays,
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    result.per_series.to_csv(out_file, index=False)
    table = Table(title=f"Backtest: {len(series)} series, horizon {horizon}, {windows} origins")
    for col in result.summary.columns:
        table.add_column(str(col), justify="left" if col == "model" else "right")
    for row in result.summary.itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}", markup=False)
    out.print(f"per-series results: {out_file}")
