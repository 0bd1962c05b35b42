"""Write a review of drivers of pressure as an HTML report with charts, and its tables as CSV.

The page (``review.html``) is rendered from the Jinja2 template ``templates/review.html.j2`` with
autoescaping on, so stored text (organisation names, delay reasons) cannot inject markup. Charts
are PNGs drawn with matplotlib's object API on an Agg canvas (no global pyplot state) and embedded
as ``data:image/png;base64`` images, so the page is one self-contained file. Every table of the
review is written next to it as ``<name>.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.demand.review import QUESTIONS, Review
from flowplan.reports import figure_png, output_folder, png_base64
from flowplan.reports import template as report_template

__all__ = ["HTML_NAME", "Chart", "ReviewReport", "write_report"]

HTML_NAME: Final = "review.html"
TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME: Final = "review.html.j2"

BLUE: Final = "#005EB8"
DARK_BLUE: Final = "#003087"
GREEN: Final = "#009639"
ORANGE: Final = "#ED8B00"
RED: Final = "#DA291C"
GREY: Final = "#768692"
PURPLE: Final = "#7C2855"


@dataclass(frozen=True)
class Chart:
    """One embedded chart.

    Attributes:
        question: key of the question it illustrates.
        caption: what it shows.
        png_base64: the PNG, base64-encoded.
    """

    question: str
    caption: str
    png_base64: str


@dataclass(frozen=True)
class ReviewReport:
    """What :func:`write_report` wrote.

    Attributes:
        html_path: the HTML report.
        csv_paths: one CSV per table of the review, in table order.
    """

    html_path: Path
    csv_paths: list[Path]


def write_report(review: Review, out_dir: str | Path, title: str | None = None) -> ReviewReport:
    """Write the review to ``out_dir``: ``review.html`` and one CSV per table.

    Args:
        review: a review from :func:`flowplan.demand.review.review`.
        out_dir: folder to write (created when missing; files of the same names are replaced).
        title: page title; default "Review of drivers of pressure: ORG (name)".

    Returns:
        The paths written.

    Raises:
        UsageError: ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out = output_folder(out_dir)
    heading = title or _default_title(review)
    csv_paths = [_write_csv(frame, out / f"{name}.csv") for name, frame in review.tables.items()]
    charts = charts_for(review)
    html = _render(review, heading, charts)
    html_path = out / HTML_NAME
    html_path.write_text(html, encoding="utf-8")
    return ReviewReport(html_path=html_path, csv_paths=csv_paths)


def _default_title(review: Review) -> str:
    name = f" ({review.org_name})" if review.org_name else ""
    return f"Review of drivers of pressure: {review.org}{name}"


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A table as CSV: timestamps as ISO dates, floats rounded to 6 decimals."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(6)
    out.to_csv(path, index=False)
    return path


def _render(review: Review, title: str, charts: list[Chart]) -> str:
    template = report_template(TEMPLATE_DIR, TEMPLATE_NAME)
    by_question: dict[str, list[Chart]] = {key: [] for key, _ in QUESTIONS}
    for chart in charts:
        by_question.setdefault(chart.question, []).append(chart)
    tables = [
        {"name": name, "file": f"{name}.csv", "rows": len(frame), "columns": len(frame.columns)}
        for name, frame in review.tables.items()
    ]
    return template.render(
        title=title,
        review=review,
        sections=review.sections,
        charts=by_question,
        tables=tables,
        threshold_pct=f"{review.occupancy_threshold * 100:g}%",
        generated=datetime.now().strftime("%d %b %Y %H:%M"),
    )


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def charts_for(review: Review) -> list[Chart]:
    """Every chart the review's tables support, as embedded PNGs (none for empty tables).

    Args:
        review: the review to draw.

    Returns:
        The charts, question by question.
    """
    makers: tuple[tuple[str, str, Callable[[Review], Figure | None]], ...] = (
        ("demand", "Demand a day by month, with the centred 12-month trend", _demand_chart),
        ("acuity", "Acuity proxies by month", _acuity_chart),
        ("redistribution", "Shares of demand, first and last windows", _shares_chart),
        ("volatility", "Daily discharges by day of the week", _weekday_chart),
        ("volatility", "Seasonal indices of A&E attendances a day", _season_chart),
        ("capacity", "G&A bed occupancy by month", _occupancy_chart),
        ("resource_use", "Discharges and patients not meeting the criteria to reside", _ctr_chart),
        ("resource_use", "Top reasons for delayed discharge", _delay_chart),
    )
    out = []
    for question, caption, make in makers:
        figure = make(review)
        if figure is not None:
            out.append(Chart(question, caption, _png(figure)))
    return out


def _png(figure: Figure) -> str:
    return png_base64(figure_png(figure))


def _figure(rows: int, height: float = 3.0, *, share: bool = True) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(9.0, max(3.2, height * rows)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, 1, sharex=share, squeeze=False)
    return figure, [a for a in axes[:, 0]]


def _has(frame: pd.DataFrame | None, *columns: str) -> bool:
    if frame is None or frame.empty:
        return False
    return all(c in frame.columns and bool(frame[c].notna().any()) for c in columns)


def _demand_chart(review: Review) -> Figure | None:
    table = review.tables.get("demand_by_month")
    panels = [
        (name, noun, colour)
        for name, noun, colour in (
            ("attendances", "A&E attendances a day", BLUE),
            ("admissions", "emergency admissions a day", GREEN),
        )
        if _has(table, f"{name}_per_day")
    ]
    if table is None or not panels:
        return None
    figure, axes = _figure(len(panels))
    x = table["period_start"].to_numpy()
    for axis, (name, noun, colour) in zip(axes, panels, strict=True):
        axis.plot(x, table[f"{name}_per_day"].to_numpy(), color=colour, marker="o", ms=3)
        trend = f"{name}_per_day_trend"
        if _has(table, trend):
            axis.plot(x, table[trend].to_numpy(), color=DARK_BLUE, linestyle="--", label="trend")
            axis.legend(loc="upper left", fontsize=8)
        axis.set_ylabel(noun, fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].set_title(f"{review.org}: demand by month", loc="left", fontsize=11)
    return figure


def _acuity_chart(review: Review) -> Figure | None:
    table = review.tables.get("acuity_by_month")
    specs = (
        ("conversion_pct", "admission conversion %", BLUE),
        ("dta_per_100_admissions", "DTA > 4 h per 100 admissions", ORANGE),
        ("type1_share_pct", "type-1 share of attendances %", PURPLE),
    )
    panels = [s for s in specs if _has(table, s[0])]
    if table is None or not panels:
        return None
    figure, axes = _figure(len(panels), height=2.4, share=False)
    for axis, (column, label, colour) in zip(axes, panels, strict=True):
        part = table[table[column].notna()]  # the proxies may come from different years
        axis.plot(
            part["period_start"].to_numpy(), part[column].to_numpy(), color=colour, marker="o", ms=3
        )
        axis.set_ylabel(label, fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].set_title(f"{review.org}: acuity and complexity proxies", loc="left", fontsize=11)
    return figure


def _shares_chart(review: Review) -> Figure | None:
    table = review.tables.get("redistribution")
    if table is None or table.empty:
        return None
    groups = list(table.groupby(["group", "measure"], sort=False))
    figure = Figure(figsize=(9.0, 2.6 * len(groups) + 0.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(groups), 1, squeeze=False)[:, 0]
    for axis, ((group, measure), part) in zip(axes, groups, strict=True):
        pos = np.arange(len(part))
        first_label = str(part["first_window"].iloc[0])
        last_label = str(part["last_window"].iloc[0])
        axis.barh(pos - 0.2, part["first_share_pct"].to_numpy(), 0.4, color=GREY, label=first_label)
        axis.barh(pos + 0.2, part["last_share_pct"].to_numpy(), 0.4, color=BLUE, label=last_label)
        axis.set_yticks(pos, [str(m) for m in part["member"]])
        axis.invert_yaxis()
        axis.set_xlabel("% share", fontsize=9)
        axis.set_title(f"{group}: {measure}", loc="left", fontsize=10)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        axis.grid(axis="x", alpha=0.3)
    return figure


def _weekday_chart(review: Review) -> Figure | None:
    table = review.tables.get("discharges_by_weekday")
    if not _has(table, "mean_whole") or table is None:
        return None
    figure, (axis,) = _figure(1)
    pos = np.arange(len(table))
    series = [c for c in ("mean_first", "mean_last") if _has(table, c)]
    if len(series) == 2:
        for offset, column, colour, label in (
            (-0.2, "mean_first", GREY, str(table["first_window"].iloc[0])),
            (0.2, "mean_last", BLUE, str(table["last_window"].iloc[0])),
        ):
            axis.bar(pos + offset, table[column].to_numpy(), 0.4, color=colour, label=label)
        axis.legend(fontsize=8)
    else:
        axis.bar(pos, table["mean_whole"].to_numpy(), 0.6, color=BLUE)
    axis.set_xticks(pos, [str(d)[:3] for d in table["weekday"]])
    axis.set_ylabel("mean discharges a day", fontsize=9)
    axis.set_title(f"{review.org}: daily discharges by day of the week", loc="left", fontsize=11)
    axis.grid(axis="y", alpha=0.3)
    return figure


def _season_chart(review: Review) -> Figure | None:
    table = review.tables.get("seasonal_indices")
    column = "attendances_per_day"
    if not _has(table, column) or table is None:
        return None
    figure, (axis,) = _figure(1)
    values = table[column].to_numpy(dtype=float)
    colours = [BLUE if v >= 0 else ORANGE for v in values]
    pos = np.arange(len(table))
    axis.bar(pos, values, color=colours)
    axis.axhline(0, color=GREY, linewidth=0.8)
    axis.set_xticks(pos, [str(m)[:3] for m in table["month"]])
    axis.set_ylabel("attendances a day above trend", fontsize=9)
    axis.set_title(f"{review.org}: seasonal indices (additive)", loc="left", fontsize=11)
    axis.grid(axis="y", alpha=0.3)
    return figure


def _occupancy_chart(review: Review) -> Figure | None:
    table = review.tables.get("capacity_by_month")
    if not _has(table, "occupancy_pct") or table is None:
        return None
    figure, (top, bottom) = _figure(2)
    x = table["period_start"].to_numpy()
    limit = review.occupancy_threshold * 100.0
    occupancy = table["occupancy_pct"].to_numpy(dtype=float)
    top.plot(x, occupancy, color=BLUE, marker="o", ms=3, label="occupancy")
    above = occupancy > limit
    top.scatter(x[above], occupancy[above], color=RED, s=18, zorder=3, label=f"above {limit:g}%")
    top.axhline(limit, color=RED, linestyle="--", linewidth=1.2, label=f"{limit:g}% ceiling")
    top.set_ylabel("G&A occupancy %", fontsize=9)
    top.legend(loc="lower left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(x, table["beds_available"].to_numpy(), color=GREY, label="available")
    bottom.plot(x, table["beds_occupied"].to_numpy(), color=BLUE, label="occupied")
    bottom.set_ylabel("G&A beds", fontsize=9)
    bottom.legend(loc="lower left", fontsize=8)
    bottom.grid(alpha=0.3)
    top.set_title(f"{review.org}: G&A beds and occupancy", loc="left", fontsize=11)
    return figure


def _ctr_chart(review: Review) -> Figure | None:
    table = review.tables.get("resource_use")
    specs = (
        ("discharges_per_day", "discharges a day", BLUE),
        ("ctr_per_100_occupied_beds", "not meeting criteria\nper 100 occupied beds", ORANGE),
    )
    panels = [s for s in specs if _has(table, s[0])]
    if table is None or not panels:
        return None
    figure, axes = _figure(len(panels), height=2.6)
    x = table["period_start"].to_numpy()
    for axis, (column, label, colour) in zip(axes, panels, strict=True):
        axis.plot(x, table[column].to_numpy(), color=colour, marker="o", ms=3)
        axis.set_ylabel(label, fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].set_title(f"{review.org}: resource use by month", loc="left", fontsize=11)
    return figure


def _delay_chart(review: Review) -> Figure | None:
    table = review.tables.get("delayed_reasons_top")
    if not _has(table, "share_pct") or table is None:
        return None
    figure = Figure(figsize=(9.0, 0.55 * len(table) + 1.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    pos = np.arange(len(table))
    axis.barh(pos, table["share_pct"].to_numpy(dtype=float), color=BLUE)
    axis.set_yticks(pos, [_wrap(str(r)) for r in table["reason"]], fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("% of delayed patients", fontsize=9)
    axis.set_title(f"{review.org}: top reasons for delayed discharge", loc="left", fontsize=11)
    axis.grid(axis="x", alpha=0.3)
    return figure


def _wrap(text: str, width: int = 60) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    shown = lines[:3]
    if len(lines) > 3:
        shown[-1] += " …"
    return "\n".join(shown)
