"""The demo job: a fresh SQLite store built from the bundled public data, and a tour of it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowplan.bcf.actuals import read_actuals
from flowplan.bcf.payment import calculate_payment
from flowplan.bcf.report import write_payment_report
from flowplan.capacity.beds import beds_at_occupancy, occupancy_delay_curve
from flowplan.capacity.charts import projection_chart
from flowplan.capacity.waitinglist import project, spread_total
from flowplan.data.grain import Grain
from flowplan.data.orgfiles import read_footprints
from flowplan.data.readers import read
from flowplan.demand.forecast import forecast
from flowplan.demand.report import write_report
from flowplan.demand.review import review
from flowplan.errors import UsageError
from flowplan.finance.bridge import plan_bridge, write_bridge
from flowplan.metrics.compute import compute_series
from flowplan.metrics.registry import get as get_metric
from flowplan.metrics.spc import spc, spc_chart
from flowplan.plans.checks import CheckReport, check_plan
from flowplan.plans.document import load_plan
from flowplan.plans.excel import export_workbook
from flowplan.plans.model import Plan
from flowplan.plans.money import format_money
from flowplan.plans.onepage import render_onepage
from flowplan.sim.report import write_run
from flowplan.sim.runner import run_scenario
from flowplan.store.inputs import bed_inputs, metric_inputs, rtt_inputs
from flowplan.store.plans import PlanStore
from flowplan.store.review_inputs import review_inputs
from flowplan.store.sim_inputs import comparison_notes, observed_comparison, scenario_from_data
from flowplan.store.store import Store

# Every bundled public file and the reader for it, relative to ``data/public``.
BUNDLED_FILES: tuple[tuple[str, str], ...] = (
    ("nhsr_ae_attendances", "nhsr_ae_attendances/ae_attendances.csv"),
    ("trust_ae", "nhs_england_operational/england_trust_accidents_emergency.csv"),
    ("icb_ae", "nhs_england_operational/england_icb_accidents_emergency.csv"),
    ("ga_beds", "nhs_england_operational/england_critical_general_acute_beds.csv"),
    ("discharges", "nhs_england_operational/england_trust_discharged_patients.csv"),
    ("criteria_to_reside", "nhs_england_operational/england_trust_criteria_to_reside.csv"),
    ("delayed_discharge_reasons", "nhs_england_operational/england_delayed_discharge_reasons.csv"),
    ("rtt_flow_stp", "nhs_england_operational/england_rtt_flow_stp.csv"),
    ("rtt_waits_stp", "nhs_england_operational/england_rtt_stp.csv"),
    ("rtt_waits_region", "nhs_england_operational/england_rtt_region.csv"),
    ("rtt_overview", "nhs_england_operational/england_rtt_overview.csv"),
    (
        "rtt_clock_starts",
        "england_rtt_new_clock_starts/rtt_new_clock_starts_provider_specialty.csv",
    ),
    ("kh03_beds", "england_kh03_overnight_beds_quarterly/england_overnight_beds_kh03.csv"),
    ("ae_attribution", "nhs_england_operational/england_ae_acute_trust_attribution.csv"),
)

EXAMPLE_ORG = "RXN"
EXAMPLE_STP = "QE1"
EXAMPLE_FOOTPRINT = "LSC-SRG"


def repo_data_dir() -> Path:
    """The repository's ``data`` folder (``FLOWPLAN_DATA`` overrides it)."""
    env = os.environ.get("FLOWPLAN_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def run_demo(out_dir: Path, data_dir: Path | None, console: Console) -> Store:
    """Build ``out_dir/flowplan.db`` afresh from the bundled data and print a tour.

    Raises:
        UsageError: the bundled data cannot be found.
    """
    data = data_dir or repo_data_dir()
    public = data / "public"
    if not public.is_dir():
        raise UsageError(f"bundled data not found at {public} (give --data DIR)")
    out_dir.mkdir(parents=True, exist_ok=True)
    db_file = out_dir / "flowplan.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    store = Store(f"sqlite:///{db_file.resolve()}")

    table = Table(title=f"Bundled public data → {db_file}")
    for col in ("format", "file", "rows read", "observations", "series", "warnings"):
        table.add_column(col)
    with console.status("ingesting the bundled public data ...") as status:
        for fmt, rel in BUNDLED_FILES:
            status.update(f"ingesting {rel} ...")
            parsed = read(fmt, public / rel, f"data/public/{rel}")
            (report,) = store.ingest([parsed], who="demo")
            table.add_row(
                fmt,
                Path(rel).name,
                f"{report.rows_read:,}",
                f"{report.written:,}",
                f"{report.series:,}",
                str(len(report.warnings)),
            )
    console.print(table)

    footprints = data / "demo" / "footprints.csv"
    if footprints.is_file():
        for code, n in store.load_footprints(read_footprints(footprints)).items():
            console.print(f"example footprint {code}: {n} members (from {footprints.name})")

    counts = store.counts()
    console.print("store holds " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
    frame, grain, breakdown = store.read_series(EXAMPLE_ORG, "ae_attendances")
    example_csv = out_dir / f"{EXAMPLE_ORG}_ae_attendances_monthly.csv"
    frame[["period_start", "value"]].assign(
        period_start=frame["period_start"].dt.date.astype(str)
    ).to_csv(example_csv, index=False)
    daily, _, _ = store.read_series(EXAMPLE_ORG, "discharges")
    monthly, _, _ = store.read_series(EXAMPLE_ORG, "discharges", grain=Grain.MONTH)
    console.print(
        f"example: {EXAMPLE_ORG} A&E attendances by {grain.value} {escape(f'[{breakdown}]')}: "
        f"{len(frame)} months, latest {frame['value'].iloc[-1]:,.0f}; "
        f"daily discharges: {len(daily):,} days"
    )
    recent = Table(title=f"{EXAMPLE_ORG} discharges by month (sum of daily sitrep), last 6 months")
    recent.add_column("month")
    recent.add_column("discharges", justify="right")
    recent.add_column("days reported", justify="right")
    for p, v, n in monthly.tail(6).itertuples(index=False):
        recent.add_row(p.strftime("%b %Y"), f"{v:,.0f}", str(n))
    console.print(recent)
    beds_csv, curve_csv = _beds_outputs(store, out_dir, console)
    projection_csv, projection_png = _waitinglist_outputs(store, out_dir, console)
    spc_csv, spc_png = _spc_outputs(store, out_dir, console)
    review_html = _review_outputs(store, out_dir, console)
    forecast_csv = _forecast_outputs(store, out_dir, console)
    plan_paths = _plan_outputs(store, data, out_dir, console)
    sim_report = _simulation_outputs(store, out_dir, console)

    console.print("\n[bold]Outputs[/bold]")
    console.print(f"  store:                 {db_file.resolve()}")
    console.print(f"  example series CSV:    {example_csv.resolve()}")
    console.print(f"  beds at occupancy:     {beds_csv.resolve()}")
    console.print(f"  occupancy vs delay:    {curve_csv.resolve()}")
    console.print(f"  waiting-list forecast: {projection_csv.resolve()}")
    console.print(f"  waiting-list chart:    {projection_png.resolve()}")
    console.print(f"  SPC chart (A&E 4h):    {spc_png.resolve()}")
    console.print(f"  SPC table (A&E 4h):    {spc_csv.resolve()}")
    console.print(f"  review of pressures:   {review_html.resolve()}")
    console.print(f"  6-week forecast:       {forecast_csv.resolve()}")
    console.print(f"  plans and checks:      {(out_dir / 'plan').resolve()}")
    console.print(f"  plan workbook:         {plan_paths['workbook'].resolve()}")
    console.print(f"  plan on a page (HTML): {plan_paths['html'].resolve()}")
    console.print(f"  plan on a page (PDF):  {plan_paths['pdf'].resolve()}")
    console.print(f"  finance bridge chart:  {plan_paths['bridge'].resolve()}")
    console.print(f"  BCF payment (steps):   {plan_paths['bcf_payment'].resolve()}")
    console.print(f"  UEC simulation report: {sim_report.resolve()}")
    console.print("\n[bold]Try[/bold]")
    home = out_dir.resolve()
    console.print(f"  export FLOWPLAN_HOME={home}")
    console.print("  .venv/bin/flowplan series list --org RXN")
    console.print("  .venv/bin/flowplan series show RXN discharges --grain month --from 2024-01-01")
    console.print("  .venv/bin/flowplan capacity beds --org RXN --occupancy 0.92")
    console.print(
        "  .venv/bin/flowplan waitinglist solve --stp QE1 --target within_18 --level 0.92"
    )
    console.print("  .venv/bin/flowplan benchmark constitution.ae_4h --org RXN")
    console.print("  .venv/bin/flowplan metric list --family bcf")
    console.print(f"  .venv/bin/flowplan plan check {EXAMPLE_PLAN_ID}")
    console.print(f"  .venv/bin/flowplan plan status {EXAMPLE_PLAN_ID}")
    console.print(
        f"  .venv/bin/flowplan bcf payment lancashire-bcf-2015 --actuals data/{EXAMPLE_BCF_ACTUALS}"
    )
    console.print("  .venv/bin/flowplan assurance category --footprint LSC-SRG")
    console.print("\n[bold]Open the web workspace on this store[/bold] (same FLOWPLAN_HOME)")
    console.print("  .venv/bin/flowplan users create admin --admin")
    console.print(
        "  .venv/bin/flowplan serve --port 8000   # then open http://127.0.0.1:8000/login"
    )
    console.print("\n[bold]Simulate[/bold]")
    console.print("  .venv/bin/flowplan scenario example > s.yaml")
    console.print("  .venv/bin/flowplan simulate s.yaml --replications 20 --seed 1 --out out/sim")
    return store


OCCUPANCIES = (0.80, 0.85, 0.90, 0.92, 0.95)


def _beds_outputs(store: Store, out_dir: Path, console: Console) -> tuple[Path, Path]:
    """Beds for the demo trust at a range of target occupancies, and the occupancy-delay curve."""
    got = bed_inputs(store, EXAMPLE_ORG)
    sd = float(pd.Series(got.monthly_admissions_per_day).std(ddof=1))
    rows = []
    for occupancy in OCCUPANCIES:
        est = beds_at_occupancy(
            got.admissions_per_day, got.implied_los_days, occupancy, admissions_sd_per_day=sd
        )
        rows.append(
            {
                "org": EXAMPLE_ORG,
                "target_occupancy": occupancy,
                "admissions_per_day": round(got.admissions_per_day, 3),
                "los_days": round(got.implied_los_days, 3),
                "bed_days_per_day": round(est.bed_days_per_day, 2),
                "beds_low": est.beds_low,
                "beds": est.beds,
                "beds_high": est.beds_high,
                "beds_available_now": round(got.beds_available, 1),
            }
        )
    table = pd.DataFrame(rows)
    beds_csv = out_dir / f"{EXAMPLE_ORG}_beds_at_occupancy.csv"
    table.to_csv(beds_csv, index=False)
    curve_csv = out_dir / f"{EXAMPLE_ORG}_occupancy_delay_curve.csv"
    occupancy_delay_curve(got.admissions_per_day, got.implied_los_days).to_csv(
        curve_csv, index=False
    )
    show = Table(
        title=f"{EXAMPLE_ORG} G&A beds to meet emergency demand "
        f"({got.admissions_per_day:,.1f} admissions/day × {got.implied_los_days:.2f} days)"
    )
    for col in ("target occupancy", "beds (low–high)", "available now"):
        show.add_column(col, justify="right")
    for r in rows:
        show.add_row(
            f"{r['target_occupancy']:.0%}",
            f"{r['beds']:,} ({r['beds_low']:,}–{r['beds_high']:,})",
            f"{r['beds_available_now']:,.0f}",
        )
    console.print(show)
    return beds_csv, curve_csv


def _waitinglist_outputs(store: Store, out_dir: Path, console: Console) -> tuple[Path, Path]:
    """A 104-week projection of the demo STP's waiting list at its recent flows."""
    got = rtt_inputs(store, EXAMPLE_STP)
    initial = spread_total(got.waiting_list, over_18=got.over_18, over_52=got.over_52)
    projection = project(
        initial,
        got.referrals_per_week,
        got.capacity_per_week,
        104,
        removal_rate=got.removal_rate,
        start_date=(got.as_at + pd.offsets.MonthEnd(0)).date(),
    )
    csv_path = out_dir / f"{EXAMPLE_STP}_waitinglist_projection.csv"
    png_path = out_dir / f"{EXAMPLE_STP}_waitinglist_projection.png"
    projection.frame.to_csv(csv_path, index=False)
    projection_chart(
        projection,
        png_path,
        f"{got.label}: {got.capacity_per_week:,.0f} clock stops/week vs "
        f"{got.referrals_per_week:,.0f} referrals/week",
    )
    last = projection.frame.iloc[-1]
    console.print(
        f"{got.label} waiting list: {got.waiting_list:,.0f} now → {last['list_size']:,.0f} in "
        f"104 weeks at recent flows; {last['within_18_pct']:.1f}% within 18 weeks"
        + (
            " (queue load above 1: unsustainable without removals)"
            if projection.unsustainable
            else ""
        )
    )
    return csv_path, png_path


def _spc_outputs(store: Store, out_dir: Path, console: Console) -> tuple[Path, Path]:
    """An SPC chart of the demo trust's A&E 4-hour performance, to Making Data Count rules."""
    defn = get_metric("constitution.ae_4h")
    assert defn.numerator_measure and defn.denominator_measure
    got = metric_inputs(store, EXAMPLE_ORG, defn.numerator_measure, defn.denominator_measure)
    frame = compute_series(defn, got.numerator, got.denominator)
    result = spc(
        frame["period_start"],
        frame["value"],
        improvement="increase",
        target=defn.standard,
    )
    csv_path = out_dir / f"{EXAMPLE_ORG}_ae_4h_spc.csv"
    png_path = out_dir / f"{EXAMPLE_ORG}_ae_4h_spc.png"
    columns = ["date", "value", "mean", "lpl", "upl", "point_type", "special_cause"]
    result.frame[columns].to_csv(csv_path, index=False)
    spc_chart(result, png_path, f"{EXAMPLE_ORG} A&E: % within 4 hours of arrival, all types")
    standard = "" if defn.standard is None else f" against the {defn.standard:g}% standard"
    console.print(
        f"{EXAMPLE_ORG} A&E 4-hour performance: mean {result.frame['mean'].iloc[-1]:.1f}%, "
        f"variation {result.variation.replace('_', ' ')}, assurance "
        f"{(result.assurance or 'none').replace('_', ' ')}{standard}"
    )
    return csv_path, png_path


def _review_outputs(store: Store, out_dir: Path, console: Console) -> Path:
    """The review of the drivers of pressure for the demo trust within its example footprint."""
    inputs = review_inputs(store, EXAMPLE_ORG, EXAMPLE_FOOTPRINT)
    result = review(inputs)
    report = write_report(result, out_dir / "review")
    answered = sum(1 for section in result.sections if section.answered)
    console.print(
        f"{EXAMPLE_ORG} review of the drivers of pressure: {len(result.findings)} findings, "
        f"{answered} of {len(result.sections)} questions answered"
    )
    return report.html_path


FORECAST_DAYS = 42


def _forecast_outputs(store: Store, out_dir: Path, console: Console) -> Path:
    """A 6-week daily forecast of the demo trust's discharges with 80% and 95% intervals."""
    frame, _, _ = store.read_series(EXAMPLE_ORG, "discharges")
    result = forecast(frame[["period_start", "value"]], "day", FORECAST_DAYS)
    path = out_dir / f"{EXAMPLE_ORG}_discharges_forecast.csv"
    table = result.frame.assign(ds=pd.to_datetime(result.frame["ds"]).dt.date.astype(str))
    table.to_csv(path, index=False)
    console.print(
        f"{EXAMPLE_ORG} discharges forecast ({result.model} model): {FORECAST_DAYS} days from "
        f"{table['ds'].iloc[0]}, mean {table['mean'].mean():,.0f} a day"
    )
    return path


EXAMPLE_PLAN = Path("demo") / "plans" / "lsc_resilience_2015.yaml"
EXAMPLE_PLAN_ID = "lsc-resilience-2015"
EXAMPLE_BCF_PLAN = Path("demo") / "plans" / "lancashire_bcf_2015.yaml"
EXAMPLE_BCF_ACTUALS = Path("demo") / "plans" / "lancashire_bcf_2015_actuals.csv"


def _plan_outputs(store: Store, data: Path, out_dir: Path, console: Console) -> dict[str, Path]:
    """The worked example plans: stored, checked, exported to Excel and rendered.

    The resilience plan is checked, exported as a workbook, rendered on a page and its finance
    bridge drawn; the BCF plan is checked and its payment for performance calculated.
    """
    plans = PlanStore(store)
    plan_dir = out_dir / "plan"
    plan_dir.mkdir(parents=True, exist_ok=True)
    plan = load_plan(data / EXAMPLE_PLAN)
    plans.create(plan, who="demo")
    report = _report_check(plan, plan_dir, console)
    workbook = export_workbook(plan, plan_dir / f"{plan.id}.xlsx")
    page = render_onepage(plan, plan_dir)
    if page.pdf_path is None:  # render_onepage writes the PDF unless asked not to
        raise UsageError(f"plan on a page: no PDF was written to {plan_dir}")
    bridge = write_bridge(plan_bridge(plan.extensions.get("finance")), plan_dir)
    console.print(
        f"  {report.funding_gap_text()} Finance bridge {bridge.bars[0].label} → "
        f"{bridge.bars[-1].label}: {bridge.png.name}"
    )

    bcf = load_plan(data / EXAMPLE_BCF_PLAN)
    plans.create(bcf, who="demo")
    _report_check(bcf, plan_dir, console)
    payment_csv, payment_txt = write_payment_report(bcf, data / EXAMPLE_BCF_ACTUALS, plan_dir)
    result = calculate_payment(bcf, read_actuals(data / EXAMPLE_BCF_ACTUALS, bcf))
    console.print(
        f"  BCF payment for performance: {format_money(result.total_paid_gbp)} paid, "
        f"{format_money(result.total_withheld_gbp)} withheld over {len(result.tranches)} "
        f"tranches ({payment_txt.name})"
    )
    return {
        "workbook": workbook,
        "html": page.html_path,
        "pdf": page.pdf_path,
        "bridge": bridge.png,
        "bcf_payment": payment_txt,
        "bcf_payment_csv": payment_csv,
    }


def _report_check(plan: Plan, plan_dir: Path, console: Console) -> CheckReport:
    """Check a plan, write the report as JSON beside it and print one line."""
    report = check_plan(plan)
    path = plan_dir / f"{plan.id}-check.json"
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str), encoding="utf-8")
    counts = report.counts()
    path_text = " → ".join(report.critical_path.critical_path) if report.critical_path else "none"
    console.print(
        f"plan {plan.id} ({plan.type}): {len(plan.schemes)} schemes, {counts['error']} "
        f"error(s), {counts['warning']} warning(s); critical path {path_text}; "
        f"check report {path.name}"
    )
    return report


SIM_REPLICATIONS = 8
SIM_SEED = 20_151_101


def _simulation_outputs(store: Store, out_dir: Path, console: Console) -> Path:
    """A year of the demo trust's urgent care flow, simulated from its stored series and set
    beside the observed occupancy and criteria-to-reside counts."""
    scenario, assumptions = scenario_from_data(store, EXAMPLE_ORG)
    result = run_scenario(scenario, replications=SIM_REPLICATIONS, seed=SIM_SEED, engine="fast")
    observed = observed_comparison(store, EXAMPLE_ORG, result)
    report = write_run(
        result,
        out_dir / "sim",
        observed=observed,
        notes=[f"scenario from the stored series of {EXAMPLE_ORG}", *assumptions],
        observed_notes=comparison_notes(observed),
    )
    occupancy = result.summary.loc["ward.occupancy_mean_pct"]
    console.print(
        f"{EXAMPLE_ORG} UEC simulation: {result.n} replications × {result.days} days in "
        f"{result.timings.wall_s:.1f} s; G&A occupancy {occupancy['mean']:.1f}% "
        f"(95% CI {occupancy['ci_low']:.1f}–{occupancy['ci_high']:.1f})"
    )
    return report
