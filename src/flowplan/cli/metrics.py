"""Metric commands: the registry, computation, consistency checks, trajectories, benchmarking and
SPC charts."""

from __future__ import annotations

import csv
import sys
from datetime import date
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
from flowplan.data.grain import Grain
from flowplan.data.orgfiles import read_rows
from flowplan.errors import UsageError
from flowplan.metrics import benchmark as bench_engine
from flowplan.metrics import check as check_engine
from flowplan.metrics import compute as compute_engine
from flowplan.metrics import spc as spc_engine
from flowplan.metrics import trajectory as trajectory_engine
from flowplan.metrics.registry import MetricDefinition, families, get, registry
from flowplan.store.inputs import metric_inputs
from flowplan.store.store import Store

metric_app = typer.Typer(
    help="Metrics: definitions, values, published-table checks.", no_args_is_help=True
)
trajectory_app = typer.Typer(
    help="Trajectories: planned paths and actual vs plan.", no_args_is_help=True
)
app.add_typer(metric_app, name="metric")
app.add_typer(trajectory_app, name="trajectory")

SPC_CSV_COLUMNS = ["date", "value", "mean", "lpl", "upl", "point_type", "special_cause"]
IMPROVEMENT = {"higher_is_better": "increase", "lower_is_better": "decrease", "neutral": "neutral"}


def _standard(defn: MetricDefinition) -> str:
    return "" if defn.standard is None else f"{defn.standard:g}"


@metric_app.command("list")
@reports_errors
def metric_list(
    family: Annotated[str | None, typer.Option(help="Only this family.")] = None,
) -> None:
    """List the metric definitions."""
    if family is not None and family not in families():
        raise UsageError(f"unknown family {family!r}; families: {', '.join(families())}")
    table = Table(title="Metrics (flowplan metric show ID)")
    for col in ("id", "name", "unit", "standard", "better", "stored measures"):
        table.add_column(col, overflow="fold")
    for defn in registry().values():
        if family and defn.family != family:
            continue
        stored = " ÷ ".join(m for m in (defn.numerator_measure, defn.denominator_measure) if m)
        table.add_row(
            defn.id,
            defn.name,
            defn.unit,
            _standard(defn),
            defn.direction.replace("_is_better", ""),
            stored,
        )
    out.print(table)


@metric_app.command("show")
@reports_errors
def metric_show(metric_id: str, as_json: JsonOption = False) -> None:
    """Show one metric's full definition."""
    defn = get(metric_id)
    fields = defn.model_dump()
    if as_json:
        print_json(fields)
        return
    table = Table(title=escape(f"{defn.id} — {defn.name}"), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in fields.items():
        if value is not None and key not in ("id", "name"):
            table.add_row(key, escape(str(value)))
    out.print(table)


@metric_app.command("compute")
@reports_errors
def metric_compute(
    metric_id: str,
    numerator: Annotated[float, typer.Option(help="Numerator, in its own unit.")],
    denominator: Annotated[float, typer.Option(help="Denominator, in its own unit.")],
    months: Annotated[int | None, typer.Option(help="Months the numerator covers.")] = None,
    scale: Annotated[float | None, typer.Option(help="Override the definition's scale.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Value = numerator ÷ denominator × scale (÷ months for "average per month" metrics)."""
    if metric_id == "custom":
        if scale is None:
            raise UsageError("custom metrics need --scale")
        value = compute_engine.compute_custom(numerator, denominator, scale, months)
        unit = f"× {scale:g}"
    else:
        defn = get(metric_id)
        value = compute_engine.compute(defn, numerator, denominator, months, scale)
        unit = defn.unit
    if as_json:
        print_json({"metric_id": metric_id, "value": value, "unit": unit})
        return
    out.print(f"{metric_id}: {value:,.6g} {unit}", markup=False)


def _metric_frame(
    store: Store, defn: MetricDefinition, org: str, grain: Grain | None
) -> tuple[pd.DataFrame, Grain, list[str]]:
    if not defn.numerator_measure or not defn.denominator_measure:
        raise UsageError(
            f"{defn.id} has no stored measures for both numerator and denominator; "
            "compute it with `flowplan metric compute`"
        )
    got = metric_inputs(
        store,
        org,
        defn.numerator_measure,
        defn.denominator_measure,
        numerator_breakdown=defn.numerator_breakdown,
        denominator_breakdown=defn.denominator_breakdown,
        grain=grain,
    )
    frame = compute_engine.compute_series(defn, got.numerator, got.denominator)
    return frame, got.grain, got.basis


@metric_app.command("series")
@reports_errors
def metric_series(
    metric_id: str,
    org: Annotated[str, typer.Option(help="Organisation code.")],
    grain: Annotated[Grain | None, typer.Option(help="Grain (default: as stored).")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First period (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last period (YYYY-MM-DD).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    db: DbOption = None,
) -> None:
    """A metric over time from the stored numerator and denominator series."""
    defn = get(metric_id)
    frame, used, basis = _metric_frame(Store(db), defn, org, grain)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    if start:
        frame = frame[frame["period_start"] >= pd.Timestamp(start)]
    if end:
        frame = frame[frame["period_start"] <= pd.Timestamp(end)]
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["period_start", "numerator", "denominator", "value"])
        for row in frame.itertuples(index=False):
            writer.writerow([iso(row.period_start), row.numerator, row.denominator, row.value])
        return
    table = Table(title=escape(f"{org} {defn.id} ({defn.unit}) by {used.value}"))
    for col in ("period_start", "numerator", "denominator", "value"):
        table.add_column(col, justify="left" if col == "period_start" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(
            iso(row.period_start),
            f"{row.numerator:,.6g}",
            f"{row.denominator:,.6g}",
            f"{row.value:,.4g}",
        )
    out.print(table)
    for line in basis:
        out.print(f"basis: {line}", markup=False)


@metric_app.command("check")
@reports_errors
def metric_check(file: Path) -> None:
    """Recompute each row of a published table and flag values that do not match.

    Columns metric_id, value, numerator, denominator and optionally label, months, scale. Exit
    status 1 when any row mismatches, 2 when the file cannot be read.
    """
    results = check_engine.read_check_file(file)
    bad = 0
    for r in results:
        label = f" {r.label}" if r.label else ""
        out.print(f"{file}:{r.row}:{label} {r.metric_id}: {r.message}", markup=False)
        bad += 0 if r.ok else 1
    out.print(f"{len(results)} row(s) checked: {len(results) - bad} ok, {bad} mismatch(es)")
    if bad:
        raise typer.Exit(1)


# -- trajectories ---------------------------------------------------------------------------------


def _targets(pairs: list[str]) -> list[tuple[date, float]]:
    out_pairs = []
    for pair in pairs:
        when, sep, value = pair.partition("=")
        day = parse_date(when, "--target") if sep else None
        try:
            number = float(value)
        except ValueError:
            number = None
        if day is None or number is None:
            raise UsageError(f"--target must be DATE=VALUE, e.g. 2025-03-01=95 (got {pair!r})")
        out_pairs.append((day, number))
    return out_pairs


def _read_period_values(path: Path, column: str) -> pd.DataFrame:
    rows = read_rows(path, ["period_start", column])
    frame = pd.DataFrame([r for _, r in rows])
    frame["period_start"] = pd.to_datetime(frame["period_start"], errors="coerce")
    frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if frame["period_start"].isna().any():
        line = rows[int(frame["period_start"].isna().to_numpy().argmax())][0]
        raise UsageError(f"{path}:{line}:period_start: date does not parse")
    return frame


@trajectory_app.command("build")
@reports_errors
def trajectory_build(
    baseline: Annotated[float, typer.Option(help="Baseline value.")],
    baseline_date: Annotated[str, typer.Option(help="Baseline period (YYYY-MM-DD).")],
    target: Annotated[list[str], typer.Option(help="DATE=VALUE; repeat for several.")],
    grain: Annotated[str, typer.Option(help="month, quarter or year (April).")] = "month",
    shape: Annotated[str, typer.Option(help="linear, stepped or seasonal.")] = "linear",
    org: Annotated[str | None, typer.Option(help="seasonal: history of this org.")] = None,
    metric: Annotated[str | None, typer.Option(help="seasonal: history of this metric.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the path as CSV.")] = None,
    db: DbOption = None,
) -> None:
    """A planned path from a baseline through targets (linear, stepped or seasonal)."""
    start = parse_date(baseline_date, "--baseline-date")
    assert start is not None
    history = None
    if shape == "seasonal":
        if org is None or metric is None:
            raise UsageError("--shape seasonal needs --org and --metric for the history")
        history, _, _ = _metric_frame(Store(db), get(metric), org, Grain.MONTH)
        history = history[["period_start", "value"]]
    path = trajectory_engine.build(
        baseline,
        start,
        _targets(target),
        grain=grain,  # type: ignore[arg-type]
        shape=shape,  # type: ignore[arg-type]
        seasonal_history=history,
    )
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        path[["period_start", "planned"]].assign(
            period_start=path["period_start"].dt.date.astype(str)
        ).to_csv(out_file, index=False)
    table = Table(title=f"Trajectory ({shape}, by {grain})")
    for col in ("period_start", "planned", "target"):
        table.add_column(col, justify="left" if col == "period_start" else "right")
    for row in path.itertuples(index=False):
        table.add_row(iso(row.period_start), f"{row.planned:,.4g}", "●" if row.is_target else "")
    out.print(table)
    if out_file is not None:
        out.print(f"trajectory: {out_file}")


@trajectory_app.command("check")
@reports_errors
def trajectory_check(
    trajectory: Annotated[Path, typer.Option(help="CSV of period_start, planned.")],
    actuals: Annotated[
        Path | None, typer.Option(help="CSV of period_start, value (or use --org/--metric).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Actuals from this org's stored data.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric id (direction, actuals).")] = None,
    direction: Annotated[
        str | None, typer.Option(help="higher_is_better, lower_is_better or neutral.")
    ] = None,
    green_tolerance: Annotated[float, typer.Option(help="Shortfall still green.")] = 0.0,
    amber_tolerance: Annotated[float, typer.Option(help="Shortfall still amber.")] = 0.05,
    absolute: Annotated[
        bool, typer.Option(help="Tolerances in the metric's units, not fractions of plan.")
    ] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the RAG table.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Actual vs plan for each period, RAG-rated with tolerances."""
    defn = get(metric) if metric else None
    direction = direction or (defn.direction if defn else None)
    if direction is None:
        raise UsageError("give --direction or --metric")
    plan = _read_period_values(trajectory, "planned")
    if actuals is not None:
        actual = _read_period_values(actuals, "value")
    elif org is not None and defn is not None:
        actual, _, _ = _metric_frame(Store(db), defn, org, Grain.MONTH)
    else:
        raise UsageError("give --actuals CSV, or --org with --metric")
    rated = trajectory_engine.check(
        plan[["period_start", "planned"]],
        actual[["period_start", "value"]],
        direction=direction,
        green_tolerance=green_tolerance,
        amber_tolerance=amber_tolerance,
        relative=not absolute,
    )
    summary = trajectory_engine.summary(rated)
    if out_file is not None:
        rated.to_csv(out_file, index=False)
    if as_json:
        print_json({"summary": dict(summary), "periods": rated.to_dict("records")})
        return
    table = Table(title="Actual vs plan")
    for col in ("period_start", "planned", "actual", "variance", "RAG"):
        table.add_column(col, justify="left" if col in ("period_start", "RAG") else "right")
    colours = {"green": "green", "amber": "yellow", "red": "red"}
    record: Any
    for record in rated.itertuples(index=False):
        rag = str(record.rag)
        shown = f"[{colours[rag]}]{rag}[/]" if rag in colours else ""
        actual_text = "" if pd.isna(record.actual) else f"{record.actual:,.4g}"
        variance = "" if pd.isna(record.variance) else f"{record.variance:+,.4g}"
        table.add_row(
            iso(record.period_start), f"{record.planned:,.4g}", actual_text, variance, shown
        )
    out.print(table)
    out.print(
        f"{summary['periods_compared']} period(s) compared: {summary['green']} green, "
        f"{summary['amber']} amber, {summary['red']} red; latest {summary['latest_rag'] or '-'}"
    )


# -- benchmarking ---------------------------------------------------------------------------------


@app.command("benchmark")
@reports_errors
def benchmark_cmd(
    metric_id: str,
    org: Annotated[str, typer.Option(help="The organisation to benchmark.")],
    footprint: Annotated[
        str | None, typer.Option(help="Peers: members of this footprint (default: same type).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Period start (YYYY-MM-DD; default: latest for the org).")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Spine chart row for one organisation among its peers, and its ambition.

    The national value is computed from the summed numerators and denominators of every
    organisation of the same type with data for the period (England as published by that type).
    """
    defn = get(metric_id)
    store = Store(db)
    me = store.organisation(org)
    if footprint is not None:
        members = next((f["members"] for f in store.footprints() if f["code"] == footprint), None)
        if members is None:
            raise UsageError(f"unknown footprint {footprint!r}")
        peers = sorted(set(members) | {org})
    else:
        peers = [o["code"] for o in store.organisations(me["type"])]
    national_orgs = [o["code"] for o in store.organisations(me["type"])]
    own, _, _ = _metric_frame(store, defn, org, Grain.MONTH)
    when = pd.Timestamp(parse_date(period, "--period") or own["period_start"].max())
    values: dict[str, float] = {}
    num_total = den_total = 0.0
    for code in sorted(set(peers) | set(national_orgs)):
        try:
            frame, _, _ = _metric_frame(store, defn, code, Grain.MONTH)
        except UsageError:
            continue
        at = frame[frame["period_start"] == when]
        if at.empty:
            continue
        if code in national_orgs:
            num_total += float(at["numerator"].iloc[0])
            den_total += float(at["denominator"].iloc[0])
        if code in peers:
            values[code] = float(at["value"].iloc[0])
    if org not in values:
        raise UsageError(f"{org} has no {defn.id} value for {when:%Y-%m}")
    national = compute_engine.compute(defn, num_total, den_total) if den_total > 0 else None
    row = bench_engine.spine(values, org, direction=defn.direction, national=national)
    payload: dict[str, Any] = {"metric_id": defn.id, "period": when.date(), **vars(row)}
    if as_json:
        print_json(payload)
        return
    table = Table(
        title=escape(f"{defn.id} — {org} among {row.n} peers, {when:%b %Y}"), show_header=False
    )
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    shown = [
        ("value", row.value),
        ("national", row.national),
        ("median", row.median),
        ("25th percentile", row.q25),
        ("75th percentile", row.q75),
        ("variance vs national %", row.variance_pct),
    ]
    for name, value in shown:
        table.add_row(name, "-" if value is None else f"{value:,.4g}")
    table.add_row("rank", "-" if row.rank is None else f"{row.rank} of {row.n}")
    table.add_row("ambition", "-" if row.ambition is None else f"{row.ambition:,.4g}")
    out.print(table)
    if row.ambition_reason:
        out.print(row.ambition_reason, markup=False)


# -- SPC ------------------------------------------------------------------------------------------


@app.command("spc")
@reports_errors
def spc_cmd(
    input_csv: Annotated[
        Path | None, typer.Option("--input", help="CSV with dates and values.")
    ] = (None),
    date_col: Annotated[str, typer.Option(help="Date column.")] = "date",
    value_col: Annotated[str, typer.Option(help="Value column.")] = "value",
    org: Annotated[str | None, typer.Option(help="Or: a stored metric of this org.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric id, with --org.")] = None,
    improvement: Annotated[
        str | None, typer.Option(help="increase, decrease or neutral (default from the metric).")
    ] = None,
    target: Annotated[float | None, typer.Option(help="Target, for assurance.")] = None,
    baseline: Annotated[int | None, typer.Option(help="Fix limits on the first N points.")] = None,
    rebase: Annotated[list[str] | None, typer.Option(help="Rebase at DATE (repeatable).")] = None,
    screen_outliers: Annotated[
        bool, typer.Option(help="Screen moving-range outliers (3.267 × mean MR).")
    ] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="FILE.csv, FILE.png, FILE.svg or FILE.html.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Chart title.")] = None,
    db: DbOption = None,
) -> None:
    """XmR chart to NHS Making Data Count rules: limits, special causes, icons."""
    label: str
    if input_csv is not None:
        rows = read_rows(input_csv, [date_col, value_col])
        dates = [r[date_col] for _, r in rows]
        try:
            values = [float(r[value_col].replace(",", "").rstrip("%")) for _, r in rows]
        except ValueError:
            bad = next(
                (line, r[value_col])
                for line, r in rows
                if not _is_number(r[value_col].replace(",", "").rstrip("%"))
            )
            raise UsageError(f"{input_csv}:{bad[0]}:{value_col}: not a number — {bad[1]}") from None
        label = input_csv.stem
    elif org is not None and metric is not None:
        defn = get(metric)
        frame, _, _ = _metric_frame(Store(db), defn, org, Grain.MONTH)
        dates = [d.date().isoformat() for d in frame["period_start"]]
        values = frame["value"].tolist()
        improvement = improvement or IMPROVEMENT[defn.direction]
        target = target if target is not None else defn.standard
        label = f"{org} {defn.name} ({defn.unit})"
    else:
        raise UsageError("give --input CSV, or --org CODE with --metric ID")
    result = spc_engine.spc(
        dates,
        values,
        improvement=(improvement or "neutral"),  # type: ignore[arg-type]
        target=target,
        baseline=baseline,
        rebase=[parse_date(r, "--rebase") or date.min for r in (rebase or [])],
        screen_outliers=screen_outliers,
    )
    frame = result.frame
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if out_file.suffix.lower() == ".csv":
            frame[SPC_CSV_COLUMNS].assign(
                date=pd.to_datetime(frame["date"]).dt.date.astype(str),
                special_cause=frame["special_cause"].astype(int),
            ).to_csv(out_file, index=False)
        else:
            spc_engine.spc_chart(result, out_file, title or label)
    table = Table(title=escape(f"SPC: {label}"))
    for col in ("date", "value", "mean", "lpl", "upl", "point type"):
        table.add_column(col, justify="left" if col in ("date", "point type") else "right")
    for row in frame.itertuples(index=False):
        kind = str(row.point_type).replace("special_cause_", "special: ").replace("_", " ")
        table.add_row(
            iso(row.date),
            f"{row.value:,.4g}",
            f"{row.mean:,.4g}",
            f"{row.lpl:,.4g}",
            f"{row.upl:,.4g}",
            kind,
        )
    out.print(table)
    out.print(result.icon_meanings(), markup=False)
    if out_file is not None:
        out.print(f"written: {out_file}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
