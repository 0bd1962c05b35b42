"""Charts of capacity results, drawn with matplotlib's object API (no global pyplot state)."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.capacity.waitinglist import Projection


def projection_chart(
    projection: Projection, path: str | os.PathLike[str], title: str, *, target_pct: float = 92.0
) -> Path:
    """Write a PNG of a waiting-list projection: list size, % within 18 weeks, 52+ week waits.

    Args:
        projection: the projection to draw (weekly rows).
        path: PNG file to write.
        title: chart title (say which list and which capacity).
        target_pct: the 18-week standard drawn as a reference line, percent.

    Returns:
        The path written.
    """
    frame = projection.frame
    x = frame["date"] if "date" in frame.columns else frame["week"]
    fig = Figure(figsize=(10, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    top, middle, bottom = fig.subplots(3, 1, sharex=True)
    top.plot(x, frame["list_size"], color="#005EB8")
    top.set_ylabel("patients waiting")
    top.set_title(title, fontsize=11)
    middle.plot(x, frame["within_18_pct"], color="#009639")
    middle.axhline(target_pct, color="#DA291C", linestyle="--", linewidth=1)
    middle.set_ylabel("% within 18 weeks")
    middle.set_ylim(0, 100)
    bottom.plot(x, frame["over_52"], color="#ED8B00", label="52+ weeks")
    bottom.plot(x, frame["over_78"], color="#7C2855", label="78+ weeks")
    bottom.set_ylabel("patients")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.set_xlabel("week ending" if "date" in frame.columns else "week")
    for axis in (top, middle, bottom):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
