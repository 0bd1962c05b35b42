"""Capacity commands: queueing (Erlang), beds to demand and staff to demand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from flowplan.capacity import beds as beds_engine
from flowplan.capacity import queueing, staff
from flowplan.cli.common import (
    DbOption,
    JsonOption,
    app,
    out,
    parse_date,
    print_json,
    reports_errors,
)
from flowplan.data.grain import Grain
from flowplan.data.orgfiles import read_rows
from flowplan.data.tables import ARRIVAL_PROFILE
from flowplan.errors import CapacityInputError, DataValidationError, Problem, UsageError
from flowplan.store.inputs import bed_inputs
from flowplan.store.store import Store

capacity_app = typer.Typer(
    help="Capacity to meet demand: queueing, beds, staff.", no_args_is_help=True
)
app.add_typer(capacity_app, name="capacity")


def _fmt(value: float, digits: int = 4) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "∞"
    return f"{value:,.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"


def _key_value_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, value, unit in rows:
        table.add_row(name, value, unit)
    return table


# -- erlang ---------------------------------------------------------------------------------------


@capacity_app.command("erlang")
@reports_errors
def erlang(
    arrival_rate: Annotated[float, typer.Option(help="Arrivals per unit of time.")],
    service_mean: Annotated[float, typer.Option(help="Mean service time, same time unit.")],
    servers: Annotated[int | None, typer.Option(help="Servers (clinicians, cubicles).")] = None,
    max_mean_wait: Annotated[
        float | None, typer.Option(help="Size servers so the mean wait is at most this.")
    ] = None,
    wait_time: Annotated[
        float | None, typer.Option(help="A wait t: report P(wait > t) (and size with --max-p).")
    ] = None,
    max_p: Annotated[
        float | None, typer.Option("--max-p", help="Size servers so P(wait > t) ≤ this.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """M/M/c queue: utilisation, P(wait), mean wait and queue length, or the servers needed.

    Times come back in the time unit of the inputs (e.g. arrivals per hour and service in hours
    give waits in hours).
    """
    sizing = None
    if servers is None:
        if max_mean_wait is not None:
            servers = queueing.servers_for_mean_wait(arrival_rate, service_mean, max_mean_wait)
            sizing = f"fewest servers with mean wait ≤ {max_mean_wait:g}"
        elif max_p is not None and wait_time is not None:
            servers = queueing.servers_for_wait_probability(
                arrival_rate, service_mean, wait_time, max_p
            )
            sizing = f"fewest servers with P(wait > {wait_time:g}) ≤ {max_p:g}"
        else:
            raise CapacityInputError(
                "give --servers, or --max-mean-wait W, or --max-p P with --wait-time T"
            )
    result = queueing.mmc(arrival_rate, service_mean, servers)
    payload: dict[str, Any] = {
        "servers": result.servers,
        "offered_load": result.offered_load,
        "utilisation": result.utilisation,
        "p_wait": result.p_wait,
        "mean_wait": result.mean_wait,
        "mean_queue_length": result.mean_queue_length,
        "mean_in_system": result.mean_in_system,
        "mean_time_in_system": result.mean_time_in_system,
        "p_block_if_no_queue": queueing.erlang_b(result.servers, result.offered_load),
        "time_unit": "the time unit of --arrival-rate and --service-mean",
    }
    if wait_time is not None:
        payload["wait_time"] = wait_time
        payload["p_wait_longer"] = result.p_wait_longer_than(wait_time)
    if sizing:
        payload["sized_for"] = sizing
    if as_json:
        print_json(payload)
        return
    rows = [
        ("servers", str(result.servers), sizing or "given"),
        ("offered load", _fmt(result.offered_load), "Erlangs (arrival rate × service time)"),
        ("utilisation", f"{result.utilisation:.1%}", "of server time"),
        ("P(wait)", f"{result.p_wait:.4f}", "Erlang C"),
        ("mean wait", _fmt(result.mean_wait), "time unit of the inputs"),
        ("mean queue length", _fmt(result.mean_queue_length), "waiting"),
        ("mean number in system", _fmt(result.mean_in_system), "waiting + in service"),
        ("mean time in system", _fmt(result.mean_time_in_system), "time unit of the inputs"),
    ]
    if wait_time is not None:
        rows.append((f"P(wait > {wait_time:g})", f"{payload['p_wait_longer']:.4f}", ""))
    rows.append(
        ("P(blocked) if no queue", f"{payload['p_block_if_no_queue']:.4f}", "Erlang B (loss)")
    )
    out.print(_key_value_table("M/M/c queue", rows))


# -- beds -----------------------------------------------------------------------------------------


@capacity_app.command("beds")
@reports_errors
def beds(
    admissions_per_day: Annotated[
        float | None, typer.Option(help="Admissions per day (or use --org).")
    ] = None,
    los_days: Annotated[float | None, typer.Option(help="Mean length of stay in days.")] = None,
    org: Annotated[
        str | None, typer.Option(help="Take admissions and beds from this organisation's series.")
    ] = None,
    months: Annotated[int, typer.Option(help="--org: latest months to average.")] = 12,
    occupancy: Annotated[float, typer.Option(help="Target occupancy (fraction).")] = 0.85,
    los_sd: Annotated[float | None, typer.Option(help="SD of the mean LOS, days.")] = None,
    admissions_sd: Annotated[
        float | None, typer.Option(help="SD of admissions per day (--org: from the months).")
    ] = None,
    max_no_bed: Annotated[
        float, typer.Option(help="Queueing view: P(no bed on arrival) at most this.")
    ] = 0.01,
    core_beds: Annotated[
        int | None, typer.Option(help="Core beds for escalation (--org: beds available).")
    ] = None,
    percentile: Annotated[float, typer.Option(help="Escalation: plan for this busy day.")] = 0.95,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the occupancy-vs-delay curve as CSV.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Beds to meet demand: at a target occupancy, by queueing, and escalation beds.

    Demand in admissions per day, length of stay in days, so bed-days per day = mean beds in use.
    """
    basis: list[str] = []
    current: dict[str, float] = {}
    if org is not None:
        got = bed_inputs(Store(db), org, months)
        admissions_per_day = admissions_per_day or got.admissions_per_day
        los_days = los_days or got.implied_los_days
        if admissions_sd is None and len(got.monthly_admissions_per_day) > 1:
            admissions_sd = float(np.std(got.monthly_admissions_per_day, ddof=1))
            basis.append("admissions SD: spread of the monthly admissions per day")
        core_beds = core_beds if core_beds is not None else math.floor(got.beds_available)
        basis += got.basis
        current = {"beds_available": got.beds_available, "beds_occupied": got.beds_occupied}
    if admissions_per_day is None or los_days is None:
        raise CapacityInputError("give --admissions-per-day and --los-days, or --org CODE")
    est = beds_engine.beds_at_occupancy(
        admissions_per_day,
        los_days,
        occupancy,
        los_sd_days=los_sd,
        admissions_sd_per_day=admissions_sd,
    )
    loss = beds_engine.beds_for_no_bed_probability(admissions_per_day, los_days, max_no_bed)
    escalation = (
        beds_engine.escalation_beds(core_beds, est.bed_days_per_day, percentile)
        if core_beds is not None
        else None
    )
    curve = beds_engine.occupancy_delay_curve(admissions_per_day, los_days)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        curve.to_csv(out_file, index=False)
    payload: dict[str, Any] = {
        "org": org,
        "admissions_per_day": admissions_per_day,
        "los_days": los_days,
        "bed_days_per_day": est.bed_days_per_day,
        "target_occupancy": occupancy,
        "beds_low": est.beds_low,
        "beds": est.beds,
        "beds_high": est.beds_high,
        "beds_exact": {"low": est.low, "mean": est.mean, "high": est.high},
        "queueing": {
            "max_p_no_bed": max_no_bed,
            "beds": loss.beds,
            "p_no_bed": loss.p_no_bed,
            "occupancy": loss.occupancy,
        },
        "method": est.method_note,
        "basis": basis,
        **current,
    }
    if escalation is not None:
        payload["escalation"] = {
            "core_beds": escalation.core_beds,
            "percentile": escalation.percentile,
            "percentile_occupied": escalation.percentile_occupied,
            "escalation_beds": escalation.escalation_beds,
            "method": escalation.method,
        }
    if out_file is not None:
        payload["curve_csv"] = str(out_file)
    if as_json:
        print_json(payload)
        return
    rows = [
        ("admissions", _fmt(admissions_per_day), "per day"),
        ("mean length of stay", _fmt(los_days), "days"),
        ("bed-days", _fmt(est.bed_days_per_day), "per day (= mean beds in use)"),
        (
            f"beds at {occupancy:.0%} occupancy",
            f"{est.beds:,} ({est.beds_low:,}–{est.beds_high:,})",
            "beds (low–high)",
        ),
        (
            f"beds so P(no bed) ≤ {max_no_bed:g}",
            f"{loss.beds:,}",
            f"beds; occupancy {loss.occupancy:.1%}",
        ),
    ]
    if current:
        rows.append(("G&A beds available now", _fmt(current["beds_available"]), "beds (mean)"))
        rows.append(("G&A beds occupied now", _fmt(current["beds_occupied"]), "beds (mean)"))
    if escalation is not None:
        rows.append(
            (
                f"escalation beds on a {percentile:.0%} day",
                f"{escalation.escalation_beds:,}",
                f"beds above {escalation.core_beds:,} core ({escalation.method})",
            )
        )
    title = f"Beds to meet demand{f' — {org}' if org else ''}"
    out.print(_key_value_table(title, rows))
    out.print(est.method_note, markup=False)
    for line in basis:
        out.print(f"basis: {line}", markup=False)
    if out_file is not None:
        out.print(f"occupancy-vs-delay curve: {out_file}")


# -- staff ----------------------------------------------------------------------------------------


def _profile_from_csv(path: Path) -> np.ndarray:
    """Arrival rates per hour from a CSV: the hour-of-day profile format (period, arrival_rate),
    or 24 or 168 rows of ``arrival_rate`` in order."""
    rows = read_rows(path, ["arrival_rate"])
    header = set(rows[0][1])
    if "period" in header:
        frame = ARRIVAL_PROFILE.read(path)
        by_hour = np.zeros(24)
        for hour, rate in zip(frame["period"], frame["arrival_rate"], strict=True):
            by_hour[int(hour)] = float(rate)
        return by_hour
    values = []
    problems = []
    for line, row in rows:
        try:
            values.append(float(row["arrival_rate"]))
        except ValueError:
            problems.append(
                Problem(str(path), line, "arrival_rate", "not a number", row["arrival_rate"])
            )
    if problems:
        raise DataValidationError(problems)
    if len(values) not in (24, 168):
        raise DataValidationError(
            [
                Problem(
                    str(path),
                    0,
                    "arrival_rate",
                    "need 24 (hour of day) or 168 (hour of week) rows",
                    str(len(values)),
                )
            ]
        )
    return np.asarray(values, dtype=float)


@capacity_app.command("staff")
@reports_errors
def staff_cmd(
    service_minutes: Annotated[float, typer.Option(help="Mean assessment time, minutes.")],
    profile: Annotated[
        Path | None, typer.Option(help="CSV of arrival rates per hour (24 or 168 rows).")
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="Use this organisation's hourly series instead.")
    ] = None,
    measure: Annotated[str, typer.Option(help="--org: the hourly arrivals measure.")] = (
        "ae_attendances"
    ),
    from_: Annotated[str | None, typer.Option("--from", help="--org: first day used.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="--org: last day used.")] = None,
    target_wait: Annotated[float, typer.Option(help="Time-to-assessment target, minutes.")] = 15.0,
    target_probability: Annotated[
        float, typer.Option(help="Share of patients assessed within the target.")
    ] = 0.95,
    method: Annotated[str, typer.Option(help="mol (default), lag or sipp.")] = "mol",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the rota CSV and chart.")] = (
        Path("out")
    ),
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Clinicians per hour of the week to meet a time-to-assessment target.

    Arrival rates are per hour; service and target times in minutes. Writes the rota as CSV and a
    chart (PNG) to --out.
    """
    if method not in ("mol", "lag", "sipp"):
        raise CapacityInputError(f"--method must be mol, lag or sipp (got {method!r})")
    if (profile is None) == (org is None):
        raise CapacityInputError("give exactly one of --profile CSV or --org CODE")
    label: str
    if profile is not None:
        rates = _profile_from_csv(profile)
        label = profile.stem
    else:
        assert org is not None
        start, end = parse_date(from_, "--from"), parse_date(to, "--to")
        frame, grain, _ = Store(db).read_series(org, measure, grain=Grain.HOUR)
        if grain is not Grain.HOUR:
            raise UsageError(f"{org} {measure} is not stored by hour")
        series = pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["period_start"]))
        weekly = staff.hour_of_week_profile(
            series,
            start=pd.Timestamp(start) if start else None,
            end=pd.Timestamp(end) + pd.Timedelta(hours=23) if end else None,
        )
        rates = weekly["mean"].to_numpy(dtype=float)
        label = f"{org}_{measure}"
    plan = staff.staff_required(
        rates,
        service_minutes,
        target_wait_minutes=target_wait,
        target_probability=target_probability,
        method=method,  # type: ignore[arg-type]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{label}_rota.csv"
    png_path = out_dir / f"{label}_rota.png"
    plan.table.to_csv(csv_path, index=False)
    staff.rota_chart(plan, png_path)
    if as_json:
        print_json(
            {
                "method": plan.method,
                "peak_clinicians": plan.peak_clinicians,
                "clinician_hours_per_week": plan.clinician_hours_per_week,
                "arrivals_per_week": plan.arrivals_per_week,
                "clinicians_by_hour_of_week": plan.table["clinicians"].tolist(),
                "rota_csv": csv_path,
                "chart_png": png_path,
            }
        )
        return
    days = list(dict.fromkeys(plan.table["day"]))
    clinicians = plan.table["clinicians"].to_numpy(dtype=int).reshape(len(days), 24)
    table = Table(
        title=f"Clinicians on duty by hour ({plan.method}; assess {target_probability:.0%} "
        f"within {target_wait:g} min; service {service_minutes:g} min)"
    )
    table.add_column("hour")
    for day in days:
        table.add_column(day, justify="right")
    for hour in range(24):
        table.add_row(f"{hour:02d}:00", *(str(clinicians[d, hour]) for d in range(len(days))))
    out.print(table)
    out.print(
        f"peak {plan.peak_clinicians} clinicians; {plan.clinician_hours_per_week:,} "
        f"clinician-hours per week for {plan.arrivals_per_week:,.0f} arrivals per week"
    )
    out.print(plan.assumptions, markup=False)
    out.print(f"rota: {csv_path}\nchart: {png_path}")
