"""Write a simulation run (and optional scheme comparison, observed comparison) as one HTML page.

The page (``report.html``) is rendered from ``templates/report.html.j2`` with autoescaping on.
Charts are PNGs drawn with matplotlib's object API on an Agg canvas (no global pyplot state) and
embedded as ``data:image/png;base64`` images, so the page is one self-contained file. Daily charts
show the median across replications with a band from the 5th to the 95th percentile.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.reports import figure_png, output_folder, png_base64
from flowplan.reports import template as report_template
from flowplan.sim.compiled import RESOURCE_KPI_SUFFIXES, SYSTEM_KPIS
from flowplan.sim.runner import RunResult, num

__all__ = ["HTML_NAME", "KPI_LABELS", "SimChart", "render_report", "write_report"]

HTML_NAME: Final = "report.html"
TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME: Final = "report.html.j2"

BLUE: Final = "#005EB8"
LIGHT_BLUE: Final = "#9EC3EA"
RED: Final = "#DA291C"
GREY: Final = "#768692"

KPI_LABELS: Final[dict[str, str]] = {
    "ed.four_hour_pct": "ED attendances within 4 hours (%)",
    "all_types.four_hour_pct": "All-type attendances within 4 hours (%)",
    "ed.twelve_hour_pct": "ED attendances over 12 hours (%)",
    "ed.time_to_assessment_mean_hours": "ED time to initial assessment, mean (hours)",
    "ed.time_to_assessment_p95_hours": "ED time to initial assessment, 95th percentile (hours)",
    "ed.crtp_over_1h_pct": "Admitted ED patients waiting > 1 h from decision (%)",
    "ed.boarded": "Admitted ED patients who waited for a bed (count)",
    "ambulance.handover_over_30_pct": "Handovers over 30 minutes (%)",
    "ambulance.handover_over_60_pct": "Handovers over 60 minutes (%)",
    "ambulance.lost_hours": "Ambulance hours lost to handover delays (hours)",
    "ambulance.response_mean_minutes": "Ambulance response, mean (minutes)",
    "ambulance.conveyance_pct": "Incidents conveyed to ED (%)",
    "ward.occupancy_mean_pct": "G&A bed occupancy, mean (%)",
    "ward.hours_over_92_pct": "Time with G&A occupancy over 92 % (%)",
    "ward.hours_at_100_pct": "Time with G&A beds full (%)",
    "ward.escalation_beds_used_mean": "Escalation beds in use, mean (beds)",
    "ward.nctr_mean": "Patients not meeting criteria to reside, mean (patients)",
    "ward.delayed_bed_days_p1": "Delayed bed days, pathway 1 (days)",
    "ward.delayed_bed_days_p2": "Delayed bed days, pathway 2 (days)",
    "ward.delayed_bed_days_p3": "Delayed bed days, pathway 3 (days)",
    "p1.queue_mean": "Patients waiting for a P1 start, mean",
    "p2.queue_mean": "Patients waiting for a P2 bed, mean",
    "p3.queue_mean": "Patients waiting for a P3 placement, mean",
    "nhs111.abandon_pct": "111 calls abandoned (%)",
}
"""Readable names (with units) of the whole-system KPIs."""

DAILY_CHARTS: Final[tuple[tuple[str, str, float | None], ...]] = (
    ("ward.occupancy_mean_pct", "G&A bed occupancy (%)", 92.0),
    ("ed.four_hour_pct", "ED attendances within 4 hours (%)", 78.0),
    ("ambulance.handover_over_30_pct", "Handovers over 30 minutes (%)", None),
    ("ward.nctr_mean", "Patients not meeting criteria to reside", None),
)
"""(KPI, caption, reference line) of the daily charts; the lines are the 92 % occupancy planning
threshold and the 78 % four-hour interim standard for 2024/25 to 2025/26."""


@dataclass(frozen=True)
class SimChart:
    """One embedded chart: caption and base64 PNG."""

    caption: str
    png_base64: str


_PREFIX_RESOURCE: Final[dict[str, str]] = {
    "ward": "ward.beds",
    "p1": "ward.beds",
    "p2": "ward.beds",
    "p3": "ward.beds",
    "nhs111": "nhs111.handlers",
    "ambulance": "ambulance.vehicles",
    "ed": "ed.cubicles",
}


def kpi_applies(run: RunResult, kpi: str) -> bool:
    """Whether a KPI means something in this run: defined in some replication and, for a
    whole-system KPI, its service saw patients (arrivals or occupants at the start)."""
    s = run.summary
    if kpi not in s.index or int(num(s.loc[kpi, "n"])) == 0:
        return False
    resource = _PREFIX_RESOURCE.get(kpi.split(".", 1)[0])
    if resource is None or kpi.startswith(resource + "."):
        return True
    seen = 0.0
    for suffix in ("arrivals", "in_system_start"):
        key = f"{resource}.{suffix}"
        if key in s.index and math.isfinite(num(s.loc[key, "mean"])):
            seen += num(s.loc[key, "mean"])
    return seen > 0


def _label(kpi: str) -> str:
    return KPI_LABELS.get(kpi, kpi)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    x = float(value)
    if not math.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:,.{max(1, digits - 2)}f}"


def _png(figure: Figure) -> str:
    return png_base64(figure_png(figure))


def _daily_chart(daily: pd.DataFrame, kpi: str, caption: str, ref: float | None) -> Figure | None:
    if kpi not in daily.columns or not daily[kpi].notna().any():
        return None
    wide = daily.pivot_table(index="date", columns="replication", values=kpi, aggfunc="mean")
    values = wide.to_numpy(dtype=np.float64)
    dates = pd.to_datetime(wide.index)
    with np.errstate(all="ignore"):
        median = np.nanmedian(values, axis=1)
        low = np.nanpercentile(values, 5, axis=1)
        high = np.nanpercentile(values, 95, axis=1)
    figure = Figure(figsize=(9.0, 3.0), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.fill_between(dates, low, high, color=LIGHT_BLUE, alpha=0.6, label="5th–95th percentile")
    ax.plot(dates, median, color=BLUE, linewidth=1.2, label="median of replications")
    if ref is not None:
        ax.axhline(ref, color=RED, linestyle="--", linewidth=1.0, label=f"{ref:g}")
    ax.set_title(caption, fontsize=10)
    ax.grid(True, color="#e8edee", linewidth=0.6)
    ax.legend(fontsize=8, loc="best")
    figure.autofmt_xdate()
    return figure


def daily_charts(run: RunResult) -> list[SimChart]:
    """The daily charts with data (queue charts when the system KPIs are all undefined)."""
    specs: list[tuple[str, str, float | None]] = list(DAILY_CHARTS)
    out: list[SimChart] = []
    for kpi, caption, ref in specs:
        if not kpi_applies(run, kpi):
            continue
        fig = _daily_chart(run.daily, kpi, caption, ref)
        if fig is not None:
            out.append(SimChart(f"{caption}, by day", _png(fig)))
    if not out:
        for resource in _resources(run):
            for suffix, text in (("utilisation", "utilisation"), ("mean_queue_length", "queue")):
                fig = _daily_chart(run.daily, f"{resource}.{suffix}", f"{resource} {text}", None)
                if fig is not None:
                    out.append(SimChart(f"{resource} {text}, by day", _png(fig)))
    return out


def _resources(run: RunResult) -> list[str]:
    return [k[: -len(".utilisation")] for k in run.kpis if k.endswith(".utilisation")]


def _summary_rows(run: RunResult, kpis: Sequence[str]) -> list[dict[str, str]]:
    rows = []
    for kpi in kpis:
        if kpi not in run.summary.index:
            continue
        if not kpi_applies(run, kpi):
            continue
        r = run.summary.loc[kpi]
        rows.append(
            {
                "kpi": kpi,
                "label": _label(kpi),
                "mean": _fmt(r["mean"]),
                "ci": f"{_fmt(r['ci_low'])} to {_fmt(r['ci_high'])}",
                "n": str(int(num(r["n"]))),
            }
        )
    return rows


def _resource_rows(run: RunResult) -> list[dict[str, str]]:
    rows = []
    s = run.summary
    for res in _resources(run):
        arrivals = num(s.loc[f"{res}.arrivals", "mean"])
        util = s.loc[f"{res}.utilisation"]
        if not (arrivals > 0) and not math.isfinite(num(util["mean"])):
            continue
        rows.append(
            {
                "resource": res,
                "utilisation": _fmt(util["mean"]),
                "ci": f"{_fmt(util['ci_low'])} to {_fmt(util['ci_high'])}",
                "wait": _fmt(s.loc[f"{res}.mean_wait_hours", "mean"]),
                "queue": _fmt(s.loc[f"{res}.mean_queue_length", "mean"]),
                "arrivals": _fmt(arrivals),
            }
        )
    return rows


def _comparison_rows(comparison: pd.DataFrame) -> list[dict[str, str]]:
    rows = []
    resource_kpis = {f".{s}" for s in RESOURCE_KPI_SUFFIXES} - {".utilisation", ".mean_wait_hours"}
    for r in comparison.itertuples(index=False):
        kpi = str(r.kpi)
        if int(num(r.n)) == 0 or any(kpi.endswith(s) for s in resource_kpis):
            continue
        low, high = num(r.ci_low), num(r.ci_high)
        significant = math.isfinite(low) and (low > 0 or high < 0)
        rows.append(
            {
                "scenario": str(r.scenario),
                "kpi": kpi,
                "label": _label(kpi),
                "base": _fmt(r.base_mean),
                "scheme": _fmt(r.mean),
                "diff": _fmt(r.diff_mean),
                "ci": f"{_fmt(low)} to {_fmt(high)}",
                "significant": "yes" if significant else "no",
            }
        )
    return rows


def _observed_rows(observed: pd.DataFrame) -> list[dict[str, str]]:
    labels = {"occupancy_pct": "G&A occupancy (%)", "nctr": "Not meeting criteria to reside"}
    return [
        {
            "measure": labels.get(str(r.measure), str(r.measure)),
            "month": str(r.month),
            "observed": _fmt(r.observed),
            "simulated": _fmt(r.simulated),
            "range": f"{_fmt(r.sim_low)} to {_fmt(r.sim_high)}",
            "difference": _fmt(r.difference),
            "pct": _fmt(r.pct_difference, 2),
        }
        for r in observed.itertuples(index=False)
    ]


def render_report(
    run: RunResult,
    *,
    title: str | None = None,
    comparison: pd.DataFrame | None = None,
    observed: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    observed_notes: Sequence[str] = (),
) -> str:
    """The report page as HTML text (see :func:`write_report`)."""
    template = report_template(TEMPLATE_DIR, TEMPLATE_NAME)
    system = [k for k in SYSTEM_KPIS if k in run.kpis]
    first = pd.Timestamp(run.daily["date"].min()) if len(run.daily) else None
    last = pd.Timestamp(run.daily["date"].max()) if len(run.daily) else None
    not_defined = [k for k in system if not kpi_applies(run, k)]
    return template.render(
        title=title or f"Simulation of {run.name}",
        run=run,
        period=(f"{first:%d %b %Y} to {last:%d %b %Y}" if first is not None else ""),
        timings=run.timings.as_dict(),
        auto=run.auto,
        summary_rows=_summary_rows(run, system),
        not_defined=not_defined,
        resource_rows=_resource_rows(run),
        charts=daily_charts(run),
        comparison_rows=_comparison_rows(comparison) if comparison is not None else [],
        observed_rows=_observed_rows(observed) if observed is not None else [],
        observed_notes=list(observed_notes),
        notes=list(notes),
        generated=datetime.now().strftime("%d %b %Y %H:%M"),
    )


def write_report(
    run: RunResult,
    out_dir: str | Path,
    *,
    title: str | None = None,
    comparison: pd.DataFrame | None = None,
    observed: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    observed_notes: Sequence[str] = (),
) -> Path:
    """Write ``out_dir/report.html`` for a run.

    Args:
        run: the run (its summary, daily values and timings).
        out_dir: folder (created when missing).
        title: page title (default "Simulation of NAME").
        comparison: :func:`flowplan.sim.runner.compare_runs` output, for the scheme table.
        observed: :func:`flowplan.store.sim_inputs.observed_comparison` output.
        notes: lines for the "Assumptions and notes" section.
        observed_notes: lines under the observed-vs-simulated table (how close, why not closer).

    Returns:
        The path of the page.

    Raises:
        UsageError: ``out_dir`` is a file or cannot be created.
    """
    out = output_folder(out_dir)
    html = render_report(
        run,
        title=title,
        comparison=comparison,
        observed=observed,
        notes=notes,
        observed_notes=observed_notes,
    )
    path = out / HTML_NAME
    path.write_text(html, encoding="utf-8")
    return path


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write a result frame as CSV with dates as ``YYYY-MM-DD``."""
    table = frame.copy()
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%d")
    table.to_csv(path, index=False)


def write_run(
    run: RunResult,
    out_dir: Path,
    *,
    observed: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
    observed_notes: Sequence[str] = (),
) -> Path:
    """Write a run's outputs: ``summary.json`` (KPI → mean, ci_low, ci_high, n),
    ``replications.csv``, ``daily.csv``, ``observed.csv`` (when given) and ``report.html``.

    Returns:
        The report's path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if observed is not None:
        write_frame(observed, out_dir / "observed.csv")
    (out_dir / "summary.json").write_text(
        json.dumps(run.summary_dict(), indent=2) + "\n", encoding="utf-8"
    )
    write_frame(run.replications, out_dir / "replications.csv")
    write_frame(run.daily, out_dir / "daily.csv")
    return write_report(run, out_dir, observed=observed, notes=notes, observed_notes=observed_notes)
