"""Plotly figure dicts for the web pages (pure: no I/O, no Plotly import on the server).

Each helper returns a figure as a plain dict (``data``, ``layout``, ``config``); :func:`to_json`
writes it for a ``<div data-plot="…">`` that ``static/flowplan-charts.js`` draws with the vendored
Plotly (no inline script: the Content-Security-Policy allows scripts from this server only).
Every page also shows the numbers in a table, so nothing depends on JavaScript.

* :func:`spc_figure`: an XmR chart from :func:`flowplan.metrics.spc.spc` — the values, points
  coloured by special cause (Making Data Count palette, :data:`flowplan.metrics.spc.COLOURS`),
  the mean, the process limits (broken at each rebase) and the target.
* :func:`line_figure`: one or more lines over dates, optionally with a shaded band.
* :func:`level_step_figure`: a level by day as a step line (escalation history).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from flowplan.metrics.spc import COLOURS, SpcResult

Figure = dict[str, Any]
"""A Plotly figure: ``{"data": [...], "layout": {...}, "config": {...}}``."""

POINT_LABELS: dict[str, str] = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral": "Special cause: neither better nor worse",
}
"""Legend text of each SPC point type."""

LINE_COLOURS: tuple[str, ...] = ("#005EB8", "#DA291C", "#009639", "#ED8B00", "#330072", "#425563")
"""NHS identity colours for plain lines, in order."""

CONFIG: dict[str, Any] = {"responsive": True, "displaylogo": False}
_FONT = {"family": "Arial, sans-serif", "size": 13}


@dataclass(frozen=True)
class Line:
    """One line of :func:`line_figure`.

    Attributes:
        name: legend text.
        y: values (None or NaN for a gap).
        dash: Plotly dash style (``solid``, ``dash``, ``dot``).
        colour: line colour (default: the next of :data:`LINE_COLOURS`).
    """

    name: str
    y: Sequence[float | None]
    dash: str = "solid"
    colour: str | None = None


@dataclass(frozen=True)
class Band:
    """A shaded range of :func:`line_figure` (for example an 80 % interval).

    Attributes:
        name: legend text.
        lower: lower edge per x value.
        upper: upper edge per x value.
    """

    name: str
    lower: Sequence[float | None]
    upper: Sequence[float | None]


def number(value: object) -> float | None:
    """A finite float, or None for a blank, NaN or infinite value (JSON has no NaN)."""
    if value is None:
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def day(value: object) -> str:
    """ISO date text of a date, datetime or timestamp (``2025-03-01``)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def _layout(title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "font": _FONT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "hovermode": "x unified",
        "xaxis": {"type": "date", "showgrid": False},
        "yaxis": {"title": {"text": y_title}, "zeroline": False},
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        **extra,
    }


def _segmented(frame: pd.DataFrame, column: str) -> tuple[list[str | None], list[float | None]]:
    """x and y of a per-segment line, with a gap (None) where a segment starts again."""
    xs: list[str | None] = []
    ys: list[float | None] = []
    previous: object = None
    for when, value, segment in zip(frame["date"], frame[column], frame["segment"], strict=True):
        if previous is not None and segment != previous:
            xs.append(None)
            ys.append(None)
        xs.append(day(when))
        ys.append(number(value))
        previous = segment
    return xs, ys


def spc_figure(result: SpcResult, *, title: str, unit: str = "") -> Figure:
    """An XmR chart of an SPC result, to Making Data Count conventions.

    Args:
        result: the chart from :func:`flowplan.metrics.spc.spc`.
        title: chart title.
        unit: the value's unit (y-axis title).

    Returns:
        The figure: a grey line through the values, points coloured by their point type (one
        legend entry per type present), the mean (black), the process limits (grey dashes) and
        the target (red dashes) when there is one.
    """
    frame = result.frame
    dates = [day(d) for d in frame["date"]]
    values = [number(v) for v in frame["value"]]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Value",
            "x": dates,
            "y": values,
            "line": {"color": COLOURS["common_cause"], "width": 2},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    ]
    types = [str(t) for t in frame["point_type"]]
    for point_type, label in POINT_LABELS.items():
        picked = [i for i, t in enumerate(types) if t == point_type]
        if not picked:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": [dates[i] for i in picked],
                "y": [values[i] for i in picked],
                "marker": {"color": COLOURS[point_type], "size": 8},
            }
        )
    mean_x, mean_y = _segmented(frame, "mean")
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Mean",
            "x": mean_x,
            "y": mean_y,
            "line": {"color": COLOURS["mean"], "width": 1.5},
        }
    )
    for column, name in (("upl", "Upper process limit"), ("lpl", "Lower process limit")):
        xs, ys = _segmented(frame, column)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": xs,
                "y": ys,
                "line": {"color": COLOURS["limits"], "width": 1.5, "dash": "dash"},
            }
        )
    if result.target is not None and dates:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Target {result.target:g}",
                "x": [dates[0], dates[-1]],
                "y": [result.target, result.target],
                "line": {"color": COLOURS["target"], "width": 1.5, "dash": "dot"},
            }
        )
    return {"data": data, "layout": _layout(title, unit), "config": CONFIG}


def line_figure(
    x: Sequence[object],
    lines: Sequence[Line],
    *,
    title: str,
    y_title: str = "",
    band: Band | None = None,
) -> Figure:
    """Lines over dates, with an optional shaded band drawn beneath them.

    Args:
        x: the dates (dates, datetimes, timestamps or ISO text).
        lines: the lines, each with one value per date.
        title: chart title.
        y_title: y-axis title.
        band: a shaded range, one lower and one upper value per date.

    Returns:
        The figure.
    """
    dates = [day(d) for d in x]
    data: list[dict[str, Any]] = []
    if band is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{band.name} (lower)",
                "x": dates,
                "y": [number(v) for v in band.lower],
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": band.name,
                "x": dates,
                "y": [number(v) for v in band.upper],
                "fill": "tonexty",
                "fillcolor": "rgba(0, 94, 184, 0.15)",
                "line": {"width": 0},
            }
        )
    for index, line in enumerate(lines):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": line.name,
                "x": dates,
                "y": [number(v) for v in line.y],
                "line": {
                    "color": line.colour or LINE_COLOURS[index % len(LINE_COLOURS)],
                    "width": 2,
                    "dash": line.dash,
                },
            }
        )
    return {"data": data, "layout": _layout(title, y_title), "config": CONFIG}


def level_step_figure(
    dates: Sequence[object],
    levels: Sequence[int | None],
    names: Mapping[int, str],
    *,
    title: str,
) -> Figure:
    """A level by day as a step line, the y axis labelled with the level names.

    Args:
        dates: one date per day.
        levels: the day's level (None: no level that day, drawn as a gap).
        names: level → display name ("OPEL 3"); every level on the axis.
        title: chart title.

    Returns:
        The figure.
    """
    ticks = sorted(names)
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Level",
            "x": [day(d) for d in dates],
            "y": [None if lv is None else int(lv) for lv in levels],
            "line": {"shape": "hv", "color": LINE_COLOURS[0], "width": 2},
            "text": [names.get(int(lv), "") if lv is not None else "no level" for lv in levels],
            "hovertemplate": "%{x}: %{text}<extra></extra>",
        }
    ]
    layout = _layout(title, "Level")
    layout["yaxis"] = {
        "title": {"text": "Level"},
        "tickvals": ticks,
        "ticktext": [names[t] for t in ticks],
        "range": [min(ticks, default=1) - 0.5, max(ticks, default=4) + 0.5],
    }
    layout["showlegend"] = False
    return {"data": data, "layout": layout, "config": CONFIG}


def to_json(figure: Figure) -> str:
    """The figure as compact JSON for a ``data-plot`` attribute (NaN and infinities refused)."""
    return json.dumps(figure, separators=(",", ":"), allow_nan=False)
