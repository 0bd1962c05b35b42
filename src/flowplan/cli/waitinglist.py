"""Waiting-list commands: queueing targets, stock-and-flow projection and capacity solving."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from flowplan.capacity import waitinglist as wl
from flowplan.capacity.charts import projection_chart
from flowplan.cli.common import DbOption, JsonOption, app, out, print_json, reports_errors
from flowplan.data.orgfiles import read_rows
from flowplan.errors import CapacityInputError, DataValidationError, Problem
from flowplan.store.inputs import rtt_inputs
from flowplan.store.store import Store

waitinglist_app = typer.Typer(
    help="Elective (RTT) waiting lists: targets, projection, capacity to meet a standard.",
    no_args_is_help=True,
)
app.add_typer(waitinglist_app, name="waitinglist")

TARGET_LABELS = {
    "target_mean_wait": ("target mean wait", "weeks"),
    "target_queue_size": ("target queue size", "patients"),
    "target_capacity": ("target capacity", "patients per week"),
    "relief_capacity": ("relief capacity", "patients per week"),
    "queue_load": ("queue load", "demand ÷ capacity"),
    "pressure": ("waiting-list pressure", "2 × mean wait ÷ target wait"),
}


@waitinglist_app.command("targets")
@reports_errors
def targets(
    demand: Annotated[float, typer.Option(help="Referrals (clock starts) per week.")],
    target_wait: Annotated[float, typer.Option(help="Target wait in weeks (e.g. 18 or 52).")],
    factor: Annotated[float, typer.Option(help="Target wait ÷ target mean wait.")] = 4.0,
    cv_demand: Annotated[float, typer.Option(help="Coefficient of variation of demand.")] = 1.0,
    cv_capacity: Annotated[float, typer.Option(help="Coefficient of variation of capacity.")] = 1.0,
    queue_size: Annotated[float | None, typer.Option(help="Current list size, patients.")] = None,
    time_to_target: Annotated[
        float | None, typer.Option(help="Weeks to reach the target queue size.")
    ] = None,
    mean_wait: Annotated[float | None, typer.Option(help="Current mean wait, weeks.")] = None,
    capacity: Annotated[
        float | None, typer.Option(help="Current capacity per week (for the queue load).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Queueing targets for a waiting list (per week, weeks), as NHS waiting-list analysts use."""
    result = wl.targets(
        demand,
        target_wait,
        factor=factor,
        cv_demand=cv_demand,
        cv_capacity=cv_capacity,
        queue_size=queue_size,
        time_to_target=time_to_target,
        mean_wait=mean_wait,
        capacity=capacity,
    )
    if as_json:
        print_json(result)
        return
    table = Table(
        title=f"Waiting-list targets: demand {demand:g}/week, target {target_wait:g} weeks"
    )
    for col in ("measure", "value", "unit"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for key, value in result.items():
        name, unit = TARGET_LABELS[key]
        table.add_row(name, "-" if value is None else f"{value:,.4g}", unit)
    out.print(table)
    load = result.get("queue_load")
    if load is not None and load >= 1:
        out.print(f"unsustainable: queue load {load:.3g} ≥ 1, the list grows without limit")


@dataclass(frozen=True)
class _ListInputs:
    label: str
    initial: np.ndarray
    referrals: float
    capacity: float
    removal_rate: float
    start: date | None
    basis: list[str]


WEEK_LABEL = re.compile(r"^(\d+)\+?$")


def _initial_from_csv(path: Path) -> np.ndarray:
    """A list by weeks waited from a CSV: weeks_waited (0, 1, ..., or 104+), patients."""
    rows = read_rows(path, ["weeks_waited", "patients"])
    counts = np.zeros(wl.N_BUCKETS)
    problems: list[Problem] = []
    for line, row in rows:
        match = WEEK_LABEL.match(row["weeks_waited"])
        if not match:
            problems.append(
                Problem(
                    str(path),
                    line,
                    "weeks_waited",
                    "not a whole number of weeks",
                    row["weeks_waited"],
                )
            )
            continue
        try:
            patients = float(row["patients"])
        except ValueError:
            problems.append(Problem(str(path), line, "patients", "not a number", row["patients"]))
            continue
        if patients < 0:
            problems.append(
                Problem(
                    str(path),
                    line,
                    "patients",
                    "count must be a non-negative number",
                    row["patients"],
                )
            )
            continue
        counts[min(int(match.group(1)), wl.TOP)] += patients
    if problems:
        raise DataValidationError(problems)
    return counts


def _list_inputs(
    input_csv: Path | None,
    stp: str | None,
    specialty: str | None,
    referrals: float | None,
    capacity: float | None,
    removal_rate: float | None,
    db: str | None,
) -> _ListInputs:
    if (input_csv is None) == (stp is None):
        raise CapacityInputError("give exactly one of --input CSV or --stp CODE")
    if input_csv is not None:
        if referrals is None:
            raise CapacityInputError("--input needs --referrals (clock starts per week)")
        initial = _initial_from_csv(input_csv)
        return _ListInputs(
            label=input_csv.stem,
            initial=initial,
            referrals=referrals,
            capacity=capacity if capacity is not None else referrals,
            removal_rate=removal_rate or 0.0,
            start=None,
            basis=[f"starting list: {input_csv} ({initial.sum():,.0f} patients)"],
        )
    assert stp is not None
    got = rtt_inputs(Store(db), stp, specialty)
    initial = wl.spread_total(got.waiting_list, over_18=got.over_18, over_52=got.over_52)
    basis = list(got.basis)
    basis.append(
        "starting list spread by weeks waited to match the published total"
        + (", over-18 and over-52-week counts" if got.over_18 is not None else "")
    )
    month_end = (got.as_at + pd.offsets.MonthEnd(0)).date()  # the list is a month-end count
    return _ListInputs(
        label=got.label,
        initial=initial,
        referrals=referrals if referrals is not None else got.referrals_per_week,
        capacity=capacity if capacity is not None else got.capacity_per_week,
        removal_rate=removal_rate if removal_rate is not None else got.removal_rate,
        start=month_end,
        basis=basis,
    )


def _summary(projection: wl.Projection) -> dict[str, Any]:
    first, last = projection.frame.iloc[0], projection.frame.iloc[-1]
    return {
        "weeks": int(last["week"]),
        "list_size_start": float(first["list_size"]),
        "list_size_end": float(last["list_size"]),
        "within_18_pct_start": float(first["within_18_pct"]),
        "within_18_pct_end": float(last["within_18_pct"]),
        "over_52_end": float(last["over_52"]),
        "over_65_end": float(last["over_65"]),
        "over_78_end": float(last["over_78"]),
        "clearance_time_weeks": projection.clearance_time_weeks,
        "queue_load": projection.load,
        "unsustainable": projection.unsustainable,
    }


def _print_summary(
    title: str, inputs: _ListInputs, projection: wl.Projection, capacity: float
) -> None:
    s = _summary(projection)
    table = Table(title=title)
    for col in ("", "start", f"after {s['weeks']} weeks"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("patients waiting", f"{s['list_size_start']:,.0f}", f"{s['list_size_end']:,.0f}")
    table.add_row(
        "% within 18 weeks", f"{s['within_18_pct_start']:.1f}", f"{s['within_18_pct_end']:.1f}"
    )
    frame = projection.frame
    for col, name in (("over_52", "52+ weeks"), ("over_65", "65+ weeks"), ("over_78", "78+ weeks")):
        table.add_row(name, f"{frame[col].iloc[0]:,.0f}", f"{frame[col].iloc[-1]:,.0f}")
    out.print(table)
    out.print(
        f"referrals {inputs.referrals:,.1f}/week, capacity {capacity:,.1f}/week, removals "
        f"{inputs.removal_rate:.3%} of the list/week; queue load {s['queue_load']:.3f}; "
        f"clearance time {s['clearance_time_weeks']:.1f} weeks"
    )
    if projection.unsustainable:
        out.print(f"UNSUSTAINABLE: {projection.message}", markup=False)
        if inputs.removal_rate > 0:
            steady = (inputs.referrals - capacity) / inputs.removal_rate
            out.print(
                f"  only validation removals ({inputs.removal_rate:.3%} of the list a week) hold "
                f"it in check: the list would settle near {steady:,.0f} patients",
                markup=False,
            )
    for line in inputs.basis:
        out.print(f"basis: {line}", markup=False)


def _write(projection: wl.Projection, out_dir: Path, stem: str, title: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")
    csv_path = out_dir / f"{stem}.csv"
    png_path = out_dir / f"{stem}.png"
    projection.frame.to_csv(csv_path, index=False)
    projection_chart(projection, png_path, title)
    return csv_path, png_path


InputOption = Annotated[
    Path | None, typer.Option("--input", help="Starting list: CSV of weeks_waited, patients.")
]
StpOption = Annotated[str | None, typer.Option(help="Use this STP's stored RTT data.")]
SpecialtyOption = Annotated[
    str | None, typer.Option(help="--stp: one treatment function, as stored.")
]
ReferralsOption = Annotated[
    float | None, typer.Option(help="Referrals per week (--stp: recent mean).")
]
RemovalOption = Annotated[
    float | None,
    typer.Option(help="Share of the list removed per week by validation (--stp: implied)."),
]
PriorityOption = Annotated[
    float,
    typer.Option(
        help="Share of clock stops by clinical priority (rest longest-wait-first); an assumption."
    ),
]
WeeksOption = Annotated[int, typer.Option(help="Weeks to project.")]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for the CSV and chart.")]


@waitinglist_app.command("project")
@reports_errors
def project(
    input_csv: InputOption = None,
    stp: StpOption = None,
    specialty: SpecialtyOption = None,
    referrals: ReferralsOption = None,
    capacity: Annotated[
        float | None, typer.Option(help="Clock stops per week (--stp: recent mean).")
    ] = None,
    removal_rate: RemovalOption = None,
    priority_share: PriorityOption = wl.DEFAULT_PRIORITY_SHARE,
    weeks: WeeksOption = 104,
    out_dir: OutOption = Path("out"),
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Project a waiting list week by week by weeks waited (patients per week; weeks)."""
    inputs = _list_inputs(input_csv, stp, specialty, referrals, capacity, removal_rate, db)
    projection = wl.project(
        inputs.initial,
        inputs.referrals,
        inputs.capacity,
        weeks,
        removal_rate=inputs.removal_rate,
        priority_share=priority_share,
        start_date=inputs.start,
    )
    title = (
        f"{inputs.label}: capacity {inputs.capacity:,.0f}/week, "
        f"referrals {inputs.referrals:,.0f}/week"
    )
    csv_path, png_path = _write(projection, out_dir, f"{inputs.label}_projection", title)
    if as_json:
        print_json(
            {
                **_summary(projection),
                "referrals_per_week": inputs.referrals,
                "capacity_per_week": inputs.capacity,
                "removal_rate": inputs.removal_rate,
                "message": projection.message,
                "csv": csv_path,
                "chart": png_path,
                "basis": inputs.basis,
            }
        )
        return
    _print_summary(f"Waiting-list projection — {inputs.label}", inputs, projection, inputs.capacity)
    out.print(f"projection: {csv_path}\nchart: {png_path}")


@waitinglist_app.command("solve")
@reports_errors
def solve(
    input_csv: InputOption = None,
    stp: StpOption = None,
    specialty: SpecialtyOption = None,
    referrals: ReferralsOption = None,
    target: Annotated[str, typer.Option(help="within_18 or zero_52.")] = "within_18",
    level: Annotated[float, typer.Option(help="within_18: share within 18 weeks.")] = 0.92,
    by_week: Annotated[
        int | None, typer.Option(help="Week by which the standard is met (default --weeks).")
    ] = None,
    removal_rate: RemovalOption = None,
    priority_share: PriorityOption = wl.DEFAULT_PRIORITY_SHARE,
    weeks: WeeksOption = 104,
    tolerance: Annotated[float, typer.Option(help="Precision, patients per week.")] = 0.1,
    out_dir: OutOption = Path("out"),
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The weekly capacity (clock stops per week) needed to meet a standard by a given week."""
    if target not in ("within_18", "zero_52"):
        raise CapacityInputError(f"--target must be within_18 or zero_52 (got {target!r})")
    inputs = _list_inputs(input_csv, stp, specialty, referrals, None, removal_rate, db)
    solution = wl.solve_capacity(
        inputs.initial,
        inputs.referrals,
        weeks,
        target=target,  # type: ignore[arg-type]
        level=level,
        by_week=by_week,
        removal_rate=inputs.removal_rate,
        priority_share=priority_share,
        tolerance=tolerance,
        start_date=inputs.start,
    )
    standard = f"{level:.0%} within 18 weeks" if target == "within_18" else "no 52-week waits"
    title = (
        f"{inputs.label}: {solution.capacity:,.1f}/week reaches {standard} "
        f"by week {solution.by_week}"
    )
    csv_path, png_path = _write(solution.projection, out_dir, f"{inputs.label}_solve", title)
    payload = {
        "target": target,
        "level": level if target == "within_18" else None,
        "by_week": solution.by_week,
        "capacity_per_week": solution.capacity,
        "achieved": solution.achieved,
        "below_capacity": solution.below_capacity,
        "below_meets": solution.below_meets,
        "current_capacity_per_week": None if input_csv else inputs.capacity,
        "referrals_per_week": inputs.referrals,
        "removal_rate": inputs.removal_rate,
        "csv": csv_path,
        "chart": png_path,
        "basis": inputs.basis,
    }
    if as_json:
        print_json(payload)
        return
    out.print(
        f"[bold]{solution.capacity:,.1f} clock stops per week[/bold] reach {standard} by week "
        f"{solution.by_week} (achieved {solution.achieved:,.2f}); "
        f"{solution.below_capacity:,.1f}/week does not."
    )
    if not input_csv:
        gap = solution.capacity - inputs.capacity
        out.print(f"current capacity {inputs.capacity:,.1f}/week: a gap of {gap:+,.1f}/week")
    _print_summary(
        f"At {solution.capacity:,.1f} per week — {inputs.label}",
        inputs,
        solution.projection,
        solution.capacity,
    )
    out.print(f"projection: {csv_path}\nchart: {png_path}")
