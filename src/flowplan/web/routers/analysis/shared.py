"""What the analysis pages share: their settings, the job registry, kept results and charts.

Results (reviews, forecasts, simulation runs) are kept in the app's job registry
(:mod:`flowplan.web.jobs`) so a link to them can be shared; :func:`configure` sets the registry
and the limits of simulation runs (:class:`AnalysisSettings`) on an app, :func:`state_of` reads
them back.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.reports import figure_png, png_base64
from flowplan.store.users import Account
from flowplan.web.deps import NotFound, can_run_models
from flowplan.web.jobs import Job, JobRegistry, JobStatus
from flowplan.web.templating import render

ENV_EXECUTOR = "FLOWPLAN_SIM_EXECUTOR"
ENV_WORKERS = "FLOWPLAN_SIM_WORKERS"
RUN_MESSAGE = "only analysts and footprint admins may run models"
BLUE, LIGHT_BLUE, RED, GREEN, GREY = "#005EB8", "#9EC3EA", "#DA291C", "#009639", "#768692"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(csv|html|json)$")


# --- settings and state --------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisSettings:
    """Limits and the executor of the analysis pages.

    Attributes:
        executor: ``process`` (a pool of ``workers`` processes, started by spawning) or
            ``sequential`` (the job's own thread).
        workers: processes of the pool (default: the CPU count, at most 8).
        max_replications: most replications one web run may ask for.
        max_days: most measured days one web run may ask for.
        max_population: largest population of the example scenario.
    """

    executor: str = "process"
    workers: int | None = None
    max_replications: int = 50
    max_days: int = 730
    max_population: int = 10_000_000

    @classmethod
    def from_env(cls) -> AnalysisSettings:
        """Settings from ``FLOWPLAN_SIM_EXECUTOR`` and ``FLOWPLAN_SIM_WORKERS`` (if set)."""
        executor = os.environ.get(ENV_EXECUTOR, "process").strip().lower() or "process"
        if executor not in ("process", "sequential"):
            executor = "process"
        workers_text = os.environ.get(ENV_WORKERS, "").strip()
        workers = int(workers_text) if workers_text.isdigit() and int(workers_text) > 0 else None
        return cls(executor=executor, workers=workers)


@dataclass
class AnalysisState:
    """What the analysis pages keep on the app: their settings and the job registry."""

    settings: AnalysisSettings
    jobs: JobRegistry


_STATE_LOCK = threading.Lock()


def configure(
    app: FastAPI,
    settings: AnalysisSettings | None = None,
    jobs: JobRegistry | None = None,
) -> AnalysisState:
    """Set the analysis pages' settings and job registry on ``app`` (tests, ``flowplan serve``).

    Without a call the pages use :meth:`AnalysisSettings.from_env` and a new registry.
    """
    state = AnalysisState(settings or AnalysisSettings.from_env(), jobs or JobRegistry())
    app.state.flowplan_analysis = state
    return state


def state_of(app: FastAPI) -> AnalysisState:
    """The analysis state of ``app`` (created from the environment on first use)."""
    state: AnalysisState | None = getattr(app.state, "flowplan_analysis", None)
    if state is None:
        with _STATE_LOCK:
            state = getattr(app.state, "flowplan_analysis", None)
            if state is None:
                state = configure(app)
    return state


def analysis_state(request: Request) -> AnalysisState:
    """The analysis state of the request's app."""
    return state_of(request.app)


def may_run(user: Account, footprint: str | None = None) -> bool:
    """Whether ``user`` may run reviews, forecasts and simulations (of ``footprint``)."""
    return can_run_models(user, footprint or None)


# --- kept results --------------------------------------------------------------------------------


def job_or_404(request: Request, job_id: str, kind: str) -> Job:
    """The kept job ``job_id`` of ``kind``.

    Raises:
        NotFound: no such job of that kind (or it has been forgotten).
    """
    job = analysis_state(request).jobs.get(job_id)
    if job is None or job.kind != kind:
        raise NotFound(f"no such {kind} (results are kept for a while only; run it again)")
    return job


def render_job(request: Request, job_id: str, kind: str, template: str) -> Response:
    """The page of a kept job (template variables ``job`` and ``r``, its result)."""
    job = job_or_404(request, job_id, kind)
    return render(request, template, {"title": job.title, "job": job, "r": job.result})


def job_file_response(
    request: Request, job_id: str, kind: str, name: str, *, unfinished: str | None = None
) -> FileResponse:
    """A file of a kept job's folder, by its plain name only (no paths): HTML shown, CSV and
    JSON downloaded.

    Args:
        unfinished: with this message, the file is refused (404) until the job is done.

    Raises:
        NotFound: no such job, file, or (with ``unfinished``) the job is not done.
    """
    job = job_or_404(request, job_id, kind)
    if unfinished is not None and job.status is not JobStatus.done:
        raise NotFound(unfinished)
    if job.folder is None or not _FILE_NAME.match(name):
        raise NotFound(f"no file {name!r}")
    path = job.folder / name
    if not path.is_file() or path.resolve().parent != job.folder.resolve():
        raise NotFound(f"no file {name!r}")
    if path.suffix == ".html":
        return FileResponse(path, media_type="text/html; charset=utf-8")
    media = "text/csv; charset=utf-8" if path.suffix == ".csv" else "application/json"
    return FileResponse(path, media_type=media, filename=path.name)


# --- numbers and charts --------------------------------------------------------------------------


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: '–' for None/NaN/inf, thousands separators, ``digits`` figures."""
    if value is None:
        return "–"
    x = float(value)
    if not math.isfinite(x):
        return "∞" if x > 0 else "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) < 1:
        return f"{x:.{digits}g}"
    return f"{x:,.{max(1, digits - 2)}f}"


def new_figure(width: float = 8.0, height: float = 3.6) -> Figure:
    """A matplotlib figure drawn off-screen (Agg)."""
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def png_url(figure: Figure) -> str:
    """A matplotlib figure as a ``data:image/png;base64`` URL (charts are inline images)."""
    return "data:image/png;base64," + png_base64(figure_png(figure))


def png_file_url(draw: Callable[[Path], Path]) -> str:
    """Run a chart function that writes a PNG file and return the PNG as a data URL."""
    with tempfile.TemporaryDirectory(prefix="flowplan-chart-") as folder:
        path = draw(Path(folder) / "chart.png")
        return "data:image/png;base64," + png_base64(path.read_bytes())
