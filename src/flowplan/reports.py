"""What every self-contained HTML report shares: the output folder, the templates, the charts.

The review of pressures (``demand.report``), the simulation report (``sim.report``) and the
plan on a page (``plans.onepage``) are single HTML files with their charts embedded as
``data:image/png;base64`` images.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import jinja2
from matplotlib.figure import Figure

from flowplan.errors import UsageError


def output_folder(path: str | Path) -> Path:
    """Create (if needed) and return a folder for a report's files.

    Raises:
        UsageError: the path is a file, or the folder cannot be created.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file, not a folder: choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create folder {out}: {exc.strerror or exc}") from None
    return out


def template(folder: Path, name: str) -> jinja2.Template:
    """A Jinja2 template with HTML autoescaping and strict undefined variables."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template(name)


def figure_png(figure: Figure, dpi: float | None = None) -> bytes:
    """A matplotlib figure as PNG bytes (at the figure's own dpi unless ``dpi`` is given)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi if dpi is not None else "figure")
    return buffer.getvalue()


def png_base64(png: bytes) -> str:
    """PNG bytes as base64 text for a ``data:image/png;base64,`` URL."""
    return base64.b64encode(png).decode("ascii")
