"""Data commands: formats, ingest, loads, organisations, footprints, populations, series, demo."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flowplan.cli.common import DbOption, app, err, iso, out, parse_date, reports_errors
from flowplan.data import orgfiles
from flowplan.data.grain import Grain
from flowplan.data.measures import Aggregation
from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import (
    FORMATS,
    LOCAL_FORMAT,
    LocalTable,
    get_format,
    read,
    read_local_table,
)
from flowplan.data.tables import REFERENCE_TABLES
from flowplan.errors import DataValidationError, Problem, UsageError
from flowplan.store.store import IngestReport, Store

orgs_app = typer.Typer(help="Organisations, footprints and populations.", no_args_is_help=True)
footprint_app = typer.Typer(
    help="Footprints: ICB / STP / SRG / region groupings.", no_args_is_help=True
)
population_app = typer.Typer(help="Populations by organisation and year.", no_args_is_help=True)
series_app = typer.Typer(help="Stored time series.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
orgs_app.add_typer(footprint_app, name="footprint")
orgs_app.add_typer(population_app, name="population")
app.add_typer(series_app, name="series")

PROGRESS_THRESHOLD = 50_000


# -- formats and ingestion ------------------------------------------------------------------------


@app.command()
def formats() -> None:
    """List every reader with the columns it expects."""
    table = Table(title="Published formats (flowplan ingest FORMAT FILE...)")
    table.add_column("format", no_wrap=True)
    for col in ("grain", "what", "expected columns", "measures"):
        table.add_column(col, overflow="fold")
    for fmt in FORMATS.values():
        table.add_row(
            fmt.name,
            fmt.grain.value if fmt.link is None else "lookup",
            fmt.title,
            ", ".join(fmt.required_columns()),
            ", ".join(fmt.measures()) or "(organisation links)",
        )
    table.add_row(
        LOCAL_FORMAT,
        "hour/day/week/month",
        "Local extract: timestamps or periods with a value, aggregated to a grain",
        "--time-col COL, and --value-col COL or --count-rows",
        "--measure NAME",
    )
    out.print(table)
    ref = Table(title="Reference tables (read by the modelling commands; not stored as series)")
    ref.add_column("name", no_wrap=True)
    for col in ("what", "expected columns"):
        ref.add_column(col, overflow="fold")
    for spec in REFERENCE_TABLES.values():
        ref.add_row(spec.name, spec.title, ", ".join(spec.columns))
    out.print(ref)


@app.command()
@reports_errors
def ingest(
    format: Annotated[str, typer.Argument(help="Reader name (see `flowplan formats`).")],
    files: Annotated[list[Path], typer.Argument(help="Files to ingest.")],
    dry_run: Annotated[bool, typer.Option(help="Validate and report; write nothing.")] = False,
    replace: Annotated[
        bool, typer.Option(help="Overwrite stored values that the files contradict.")
    ] = False,
    org: Annotated[str | None, typer.Option(help="table: organisation code.")] = None,
    measure: Annotated[str | None, typer.Option(help="table: measure name.")] = None,
    time_col: Annotated[str | None, typer.Option(help="table: time column.")] = None,
    value_col: Annotated[str | None, typer.Option(help="table: value column.")] = None,
    count_rows: Annotated[bool, typer.Option(help="table: count rows per period.")] = False,
    grain: Annotated[Grain, typer.Option(help="table: grain to aggregate to.")] = Grain.DAY,
    tz: Annotated[str, typer.Option(help="table: planning time zone.")] = "Europe/London",
    agg: Annotated[Aggregation, typer.Option(help="table: sum, mean or max.")] = Aggregation.SUM,
    time_format: Annotated[
        str | None, typer.Option(help="table: strptime format of the time column (default ISO).")
    ] = None,
    breakdown: Annotated[str, typer.Option(help="table: breakdown label.")] = "all",
    db: DbOption = None,
) -> None:
    """Validate files and write them to the store in one transaction.

    Reloading a file is idempotent; a value that contradicts a stored one is an error unless
    --replace is given. Any problem: one line per problem, exit status 2, nothing written.
    """
    if format == LOCAL_FORMAT:
        if org is None or measure is None or time_col is None:
            raise UsageError("table: --org, --measure and --time-col are required")
        spec = LocalTable(
            org=org,
            measure=measure,
            time_column=time_col,
            value_column=value_col,
            count_rows=count_rows,
            grain=grain,
            tz=tz,
            agg=agg,
            time_format=time_format,
            breakdown=breakdown,
        )
        spec.check()
    else:
        get_format(format)  # an unknown name is a one-line UsageError listing the known ones

    parsed: list[ParsedFile] = []
    problems: list[Problem] = []
    for path in files:
        try:
            if format == LOCAL_FORMAT:
                parsed.append(read_local_table(spec, path, str(path)))
            else:
                parsed.append(read(format, path, str(path)))
        except DataValidationError as exc:
            problems += exc.problems
    if problems:
        raise DataValidationError(problems)

    store = Store(db)
    total = sum(len(p.observations) for p in parsed)
    if total >= PROGRESS_THRESHOLD and err.is_terminal:
        with Progress(
            TextColumn("writing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("write", total=total)
            reports = store.ingest(
                parsed,
                replace=replace,
                dry_run=dry_run,
                progress=lambda n: bar.update(task, completed=n),
            )
    else:
        reports = store.ingest(parsed, replace=replace, dry_run=dry_run)
    _print_reports(reports, dry_run)


def _print_reports(reports: list[IngestReport], dry_run: bool) -> None:
    title = "Dry run: nothing written" if dry_run else "Ingested"
    rows = [
        {
            "file": Path(r.file).name,
            "format": r.format,
            "load": "-" if dry_run else str(r.load_id),
            "rows read": f"{r.rows_read:,}",
            "written": f"{r.written:,}",
            "unchanged": f"{r.unchanged:,}",
            "replaced": f"{r.replaced:,}",
            "rejected": f"{r.rows_rejected:,}",
            "series": f"{r.series:,}",
            "periods": f"{iso(r.period[0])} .. {iso(r.period[1])}" if r.period else "-",
        }
        for r in reports
    ]
    if out.width >= 140:
        table = Table(title=title)
        for col in rows[0]:
            table.add_column(
                col, justify="left" if col in ("file", "format", "periods") else "right"
            )
        for row in rows:
            table.add_row(*row.values())
        out.print(table)
    else:  # narrow terminal: one key/value block per file
        for row in rows:
            block = Table(title=f"{title}: {row.pop('file')}", show_header=False)
            block.add_column("", style="bold")
            block.add_column("", justify="right")
            for key, value in row.items():
                block.add_row(key, value)
            out.print(block)
    for r in reports:
        for w in r.warnings:
            out.print(f"warning: {r.file}: {w}", markup=False)


@app.command()
@reports_errors
def loads(
    limit: Annotated[int, typer.Option(help="How many loads to show.")] = 20,
    db: DbOption = None,
) -> None:
    """Show the most recent loads (one row per ingested file)."""
    table = Table(title="Loads (newest first)")
    for col in (
        "id",
        "file",
        "format",
        "sha256",
        "read",
        "written",
        "unchanged",
        "replaced",
        "rejected",
        "finished",
        "who",
    ):
        table.add_column(col)
    for ld in Store(db).loads(limit):
        table.add_row(
            str(ld["id"]),
            Path(ld["file_name"]).name,
            ld["format"],
            ld["sha256"][:12],
            f"{ld['rows_read']:,}",
            f"{ld['rows_written']:,}",
            f"{ld['rows_unchanged']:,}",
            f"{ld['rows_replaced']:,}",
            f"{ld['rows_rejected']:,}",
            ld["finished_at"].isoformat(sep=" ", timespec="seconds"),
            ld["who"],
        )
    out.print(table)


# -- organisations ---------------------------------------------------------------------------------


@orgs_app.command("list")
@reports_errors
def orgs_list(
    type: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
    db: DbOption = None,
) -> None:
    """List organisations with their type, parent and number of series."""
    rows = Store(db).organisations(type)
    table = Table(title=f"Organisations ({len(rows)})")
    for col in ("code", "name", "type", "parent", "series"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["code"], r["name"] or "", r["type"], r["parent_code"] or "", str(r["series"])
        )
    out.print(table)


@orgs_app.command("show")
@reports_errors
def orgs_show(code: str, db: DbOption = None) -> None:
    """Show one organisation: parent, children, footprints, links, populations and series."""
    info = Store(db).organisation(code)
    out.print(f"[bold]{info['code']}[/bold] {info['name'] or ''}")
    out.print(f"type: {info['type']}   parent: {info['parent_code'] or '-'}")
    out.print(f"valid: {iso(info['valid_from']) or '-'} .. {iso(info['valid_to']) or '-'}")
    if info["children"]:
        out.print(f"children ({len(info['children'])}): {', '.join(info['children'])}")
    if info["footprints"]:
        out.print(f"footprints: {', '.join(info['footprints'])}")
    for frm, to, kind, weight in info["links"]:
        out.print(f"link: {frm} -> {to} ({kind}, weight {weight:.3f})")
    for year, age, pop in info["populations"]:
        out.print(f"population {year} [{age}]: {pop:,.0f}")
    _print_series_table(info["series"], f"Series of {code}")


@orgs_app.command("load")
@reports_errors
def orgs_load(file: Path, db: DbOption = None) -> None:
    """Load organisations from a CSV: code, name, type[, parent_code, valid_from, valid_to]."""
    n = Store(db).load_organisations(orgfiles.read_organisations(file))
    out.print(f"{n} organisation(s) loaded from {file}")


@footprint_app.command("create")
@reports_errors
def footprint_create(
    code: str,
    type: Annotated[str, typer.Option("--type", help="icb, stp, srg, region, ...")],
    members: Annotated[str, typer.Option(help="Comma-separated organisation codes.")],
    name: Annotated[str | None, typer.Option(help="Footprint name.")] = None,
    replace: Annotated[bool, typer.Option(help="Redefine an existing footprint.")] = False,
    db: DbOption = None,
) -> None:
    """Define a footprint and its member organisations."""
    codes = [m.strip() for m in members.split(",") if m.strip()]
    Store(db).create_footprint(code, type, codes, name, replace=replace)
    out.print(f"footprint {code} ({type}) with {len(codes)} member(s): {', '.join(codes)}")


@footprint_app.command("load")
@reports_errors
def footprint_load(
    file: Path,
    replace: Annotated[bool, typer.Option(help="Redefine existing footprints.")] = False,
    db: DbOption = None,
) -> None:
    """Define footprints from a CSV.

    Columns: footprint_code, footprint_type, member_code and optionally footprint_name.
    """
    counts = Store(db).load_footprints(orgfiles.read_footprints(file), replace=replace)
    for code, n in counts.items():
        out.print(f"footprint {code}: {n} member(s)")


@footprint_app.command("list")
@reports_errors
def footprint_list(db: DbOption = None) -> None:
    """List footprints and their members."""
    table = Table(title="Footprints")
    for col in ("code", "name", "type", "members"):
        table.add_column(col, overflow="fold")
    for fp in Store(db).footprints():
        table.add_row(fp["code"], fp["name"] or "", fp["type"], ", ".join(fp["members"]))
    out.print(table)


@population_app.command("load")
@reports_errors
def population_load(
    file: Path,
    replace: Annotated[bool, typer.Option(help="Overwrite stored populations.")] = False,
    db: DbOption = None,
) -> None:
    """Load populations from a CSV: org_code, year, population[, age_group, source]."""
    n = Store(db).load_populations(orgfiles.read_populations(file), replace=replace)
    out.print(f"{n} population(s) loaded from {file}")


# -- series ----------------------------------------------------------------------------------------


def _print_series_table(series: list[Any], title: str) -> None:
    table = Table(title=f"{title} ({len(series)})")
    for col in ("org", "measure", "breakdown", "grain", "periods", "first", "last"):
        table.add_column(col, overflow="fold")
    for s in series:
        table.add_row(
            s.org_code, s.measure, s.breakdown, s.grain, str(s.count), iso(s.first), iso(s.last)
        )
    out.print(table)


@series_app.command("list")
@reports_errors
def series_list(
    org: Annotated[str | None, typer.Option(help="Organisation code.")] = None,
    measure: Annotated[str | None, typer.Option(help="Measure name.")] = None,
    db: DbOption = None,
) -> None:
    """List stored series with their extent."""
    _print_series_table(Store(db).series_list(org, measure), "Series")


@series_app.command("show")
@reports_errors
def series_show(
    org: str,
    measure: str,
    breakdown: Annotated[str | None, typer.Option(help="Breakdown (default: all).")] = None,
    grain: Annotated[Grain | None, typer.Option(help="Re-aggregate to this coarser grain.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First period (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last period (YYYY-MM-DD).")] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Write period_start,value as CSV to stdout.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Show one series, optionally re-aggregated (hour → day → week → month → quarter)."""
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    frame, used, bd = Store(db).read_series(org, measure, breakdown, grain, start, end)
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["period_start", "value"])
        for p, v in zip(frame["period_start"], frame["value"], strict=True):
            writer.writerow([iso(p), repr(float(v)) if v % 1 else str(int(v))])
        return
    table = Table(title=escape(f"{org} {measure} [{bd}] by {used.value}"))
    table.add_column("period_start")
    table.add_column("value", justify="right")
    table.add_column("periods combined", justify="right")
    for p, v, n in zip(frame["period_start"], frame["value"], frame["periods"], strict=True):
        table.add_row(iso(p), f"{v:,.2f}".rstrip("0").rstrip("."), str(n))
    out.print(table)


# -- store and demo --------------------------------------------------------------------------------


@app.command()
@reports_errors
def info(db: DbOption = None) -> None:
    """Show where the store is, its schema revision and what it holds."""
    from flowplan.store import db as dbmod

    store = Store(db)
    out.print(f"store: {store.url}")
    out.print(f"schema revision: {dbmod.current_revision(store.engine)}")
    for name, n in store.counts().items():
        out.print(f"{name}: {n:,}")


@app.command()
@reports_errors
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo store and outputs.")
    ] = Path("out"),
    data_dir: Annotated[
        Path | None, typer.Option("--data", help="Folder of the bundled public data.")
    ] = None,
) -> None:
    """Build a fresh SQLite store from the bundled public data and show what is there."""
    from flowplan.demo import run_demo

    run_demo(out_dir, data_dir, out)
