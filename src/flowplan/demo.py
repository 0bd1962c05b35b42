"""The demo job: a fresh SQLite store built from the bundled public data, and a tour of it."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowplan.data.grain import Grain
from flowplan.data.orgfiles import read_footprints
from flowplan.data.readers import read
from flowplan.errors import UsageError
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
    console.print("\n[bold]Outputs[/bold]")
    console.print(f"  store:        {db_file.resolve()}")
    console.print(f"  example CSV:  {example_csv.resolve()}")
    console.print("\n[bold]Try[/bold]")
    home = out_dir.resolve()
    console.print(f"  export FLOWPLAN_HOME={home}")
    console.print("  .venv/bin/flowplan series list --org RXN")
    console.print("  .venv/bin/flowplan series show RXN discharges --grain month --from 2024-01-01")
    console.print("  .venv/bin/flowplan orgs show QE1")
    return store
