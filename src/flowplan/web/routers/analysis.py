"""Analysis pages: demand (review, forecast), capacity calculators and simulation runs.

Every page calls the flowplan engines and nothing else:

* **Demand** — the review of drivers of pressure (:mod:`flowplan.demand.review` on
  :func:`~flowplan.store.review_inputs.review_inputs`, written by :mod:`flowplan.demand.report`)
  and forecasts of a stored series (:func:`flowplan.demand.forecast.forecast`). Results are kept
  in the job registry (:mod:`flowplan.web.jobs`) so a link to them can be shared.
* **Capacity** — beds at a target occupancy from stored demand (:mod:`flowplan.capacity.beds`
  with :func:`~flowplan.store.inputs.bed_inputs`), clinicians by hour to meet a
  time-to-assessment target (:mod:`flowplan.capacity.staff`) and waiting-list targets and an
  STP's projection (:mod:`flowplan.capacity.waitinglist` with
  :func:`~flowplan.store.inputs.rtt_inputs`). Bad input: the form comes back with the engine's
  one-line message.
* **Simulation** — a scenario (the example at a population, a trust from its stored data, or
  YAML pasted into the page) runs in a background thread
  (:func:`flowplan.sim.runner.run_scenario`); the job page polls its progress (htmx, with a
  meta-refresh fallback) and then shows the KPIs with 95 % confidence intervals, the scheme
  effects (paired differences, common random numbers) and the HTML report.

Who may do what: any signed-in user may open the pages, use the capacity calculators (they
change nothing) and view kept results; running a review, a forecast or a simulation needs an
analyst or footprint admin (:func:`~flowplan.web.deps.can_run_models`).
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowplan.capacity import beds as beds_engine
from flowplan.capacity import staff as staff_engine
from flowplan.capacity import waitinglist as wl
from flowplan.capacity.charts import projection_chart
from flowplan.data.grain import Grain
from flowplan.demand.forecast import forecast as forecast_engine
from flowplan.demand.report import write_report as write_review_report
from flowplan.demand.review import review as review_engine
from flowplan.errors import FlowplanError, UsageError
from flowplan.reports import figure_png, png_base64
from flowplan.sim import (
    EXAMPLE_SCHEMES,
    Scenario,
    ScenarioError,
    ScenarioProblem,
    dump_scenario,
    example_scenario,
    example_scheme,
    validate_scenario,
)
from flowplan.sim.compiled import SYSTEM_KPIS
from flowplan.sim.report import KPI_LABELS, kpi_applies, write_frame, write_report, write_run
from flowplan.sim.runner import RunResult, compare_runs, num, run_scenario, scenario_label
from flowplan.store.inputs import bed_inputs, rtt_inputs
from flowplan.store.review_inputs import review_inputs
from flowplan.store.sim_inputs import scenario_from_data
from flowplan.store.users import Account
from flowplan.web.charts import Band, Line, line_figure, number, to_json
from flowplan.web.deps import Ctx, Forbidden, NotFound, RequiredUser, can_run_models, require
from flowplan.web.jobs import Job, JobContext, JobRegistry, JobsBusy, JobStatus
from flowplan.web.templating import render

__all__ = ["AnalysisSettings", "AnalysisState", "configure", "router", "state_of"]

router = APIRouter(include_in_schema=False)

ENV_EXECUTOR = "FLOWPLAN_SIM_EXECUTOR"
ENV_WORKERS = "FLOWPLAN_SIM_WORKERS"
RUN_MESSAGE = "only analysts and footprint admins may run models"
FORECAST_GRAINS = ("day", "week", "month")
FORECAST_MODELS = ("default", "seasonal_naive", "ets", "arima", "mstl")
MAX_HORIZON = {"day": 366, "week": 104, "month": 36}
HISTORY_SHOWN = {"day": 120, "week": 104, "month": 48}
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(csv|html|json)$")
_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
POOL_MIN_REPLICATION_DAYS = 4 * 365
"""Smallest run (replications × measured days, all scenarios) worth starting a process pool."""
HEADLINE_KPIS = (
    "ed.four_hour_pct",
    "ambulance.handover_over_30_pct",
    "ward.occupancy_mean_pct",
    "ward.nctr_mean",
)
TARGET_LABELS = {
    "target_mean_wait": ("Target mean wait", "weeks"),
    "target_queue_size": ("Target queue size", "patients"),
    "target_capacity": ("Target capacity", "patients per week"),
    "relief_capacity": ("Relief capacity", "patients per week"),
    "queue_load": ("Queue load", "demand ÷ capacity"),
    "pressure": ("Waiting-list pressure", "2 × mean wait ÷ target wait"),
}
BLUE, LIGHT_BLUE, RED, GREEN, GREY = "#005EB8", "#9EC3EA", "#DA291C", "#009639", "#768692"


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


# --- small helpers -------------------------------------------------------------------------------


class FormProblem(FlowplanError):
    """One bad form field: which field, and a one-line message."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _parse_number(
    text: str,
    name: str,
    label: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> float | None:
    """A number from a form field; None for an empty field.

    Raises:
        FormProblem: not a number, or outside the bounds.
    """
    cleaned = text.strip().replace(",", "").replace("%", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise FormProblem(name, f"{label}: enter a number (got {text.strip()!r})") from None
    if not math.isfinite(value):
        raise FormProblem(name, f"{label}: enter a finite number (got {text.strip()!r})")
    if minimum is not None and value < minimum:
        raise FormProblem(name, f"{label} must be at least {minimum:g} (got {value:g})")
    if above is not None and value <= above:
        raise FormProblem(name, f"{label} must be more than {above:g} (got {value:g})")
    if maximum is not None and value > maximum:
        raise FormProblem(name, f"{label} must be at most {maximum:g} (got {value:g})")
    return value


def _need(value: float | None, name: str, label: str) -> float:
    if value is None:
        raise FormProblem(name, f"{label}: enter a value")
    return value


def _whole(
    text: str,
    name: str,
    label: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number from a form field; None for an empty field."""
    value = _parse_number(text, name, label, minimum=minimum, maximum=maximum)
    if value is None:
        return None
    if value != int(value):
        raise FormProblem(name, f"{label}: enter a whole number (got {text.strip()!r})")
    return int(value)


def _code(text: str, name: str, label: str, *, required: bool = True) -> str:
    code = text.strip().upper()
    if not code:
        if required:
            raise FormProblem(name, f"{label}: enter an organisation code")
        return ""
    if not _CODE.match(code):
        raise FormProblem(name, f"{label}: {text.strip()!r} is not an organisation code")
    return code


def _error_text(exc: FlowplanError) -> str:
    return " ".join(line.strip() for line in exc.lines() if line.strip())


def _fmt(value: Any, digits: int = 3) -> str:
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


def _new_figure(width: float = 8.0, height: float = 3.6) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png_url(figure: Figure) -> str:
    """A matplotlib figure as a ``data:image/png;base64`` URL (charts are inline images)."""
    return "data:image/png;base64," + png_base64(figure_png(figure))


def _png_file_url(draw: Callable[[Path], Path]) -> str:
    """Run a chart function that writes a PNG file and return the PNG as a data URL."""
    with tempfile.TemporaryDirectory(prefix="flowplan-chart-") as folder:
        path = draw(Path(folder) / "chart.png")
        return "data:image/png;base64," + png_base64(path.read_bytes())


def _may_run(user: Account, footprint: str | None = None) -> bool:
    return can_run_models(user, footprint or None)


def _job_or_404(request: Request, job_id: str, kind: str) -> Job:
    job = analysis_state(request).jobs.get(job_id)
    if job is None or job.kind != kind:
        raise NotFound(f"no such {kind} (results are kept for a while only; run it again)")
    return job


def _job_file(job: Job, name: str) -> Path:
    """A file of a job's folder, by its plain name only (no paths)."""
    if job.folder is None or not _FILE_NAME.match(name):
        raise NotFound(f"no file {name!r}")
    path = job.folder / name
    if not path.is_file() or path.resolve().parent != job.folder.resolve():
        raise NotFound(f"no file {name!r}")
    return path


def _file_response(path: Path) -> FileResponse:
    if path.suffix == ".html":
        return FileResponse(path, media_type="text/html; charset=utf-8")
    media = "text/csv; charset=utf-8" if path.suffix == ".csv" else "application/json"
    return FileResponse(path, media_type=media, filename=path.name)


# =================================================================================================
# Demand
# =================================================================================================

REVIEW_DEFAULTS = {"org": "", "footprint": "", "start": "", "end": "", "threshold": "92"}
FORECAST_DEFAULTS = {
    "org": "",
    "measure": "",
    "breakdown": "",
    "grain": "day",
    "horizon": "28",
    "model": "default",
}


def _demand_page(
    request: Request,
    ctx: Ctx,
    user: Account,
    *,
    review_values: dict[str, str] | None = None,
    forecast_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rv = REVIEW_DEFAULTS | (review_values or {})
    fv = FORECAST_DEFAULTS | (forecast_values or {})
    org = (fv.get("org") or rv.get("org") or "").strip().upper()
    series: list[dict[str, Any]] = []
    if org and _CODE.match(org):
        series = [
            {
                "measure": s.measure,
                "breakdown": s.breakdown,
                "grain": s.grain,
                "count": s.count,
                "first": s.first.date(),
                "last": s.last.date(),
            }
            for s in ctx.store.series_list(org)
        ]
    jobs = analysis_state(request).jobs
    return render(
        request,
        "analysis/demand.html.j2",
        {
            "title": "Demand",
            "org": org,
            "series": series,
            "measures": sorted({s["measure"] for s in series}),
            "footprints": ctx.store.footprints(),
            "review": rv,
            "fc": fv,
            "errors": errors or {},
            "grains": FORECAST_GRAINS,
            "models": FORECAST_MODELS,
            "can_run": _may_run(user),
            "reviews": jobs.jobs("review")[:10],
            "forecasts": jobs.jobs("forecast")[:10],
        },
        status_code=status_code,
    )


@router.get("/demand")
def demand_page(
    request: Request, ctx: Ctx, user: RequiredUser, org: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    """The demand forms: review of drivers of pressure and forecast (series of ``org`` listed)."""
    org = org.strip().upper()
    return _demand_page(
        request, ctx, user, review_values={"org": org}, forecast_values={"org": org}
    )


def _review_summary(result: Any) -> dict[str, Any]:
    """The parts of a review the results page shows (plain data)."""
    return {
        "org": result.org,
        "org_name": result.org_name,
        "footprint": result.footprint,
        "sections": [
            {
                "heading": s.heading,
                "findings": [{"title": f.title, "text": f.text} for f in s.findings],
                "not_answered": list(s.not_answered),
                "methods": list(s.methods),
            }
            for s in result.sections
        ],
        "basis": list(result.basis),
        "missing": list(result.missing),
        "occupancy_threshold": result.occupancy_threshold,
    }


@router.post("/demand/review")
def demand_review(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: Annotated[str, Form(max_length=64)] = "",
    footprint: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=32)] = "",
    end: Annotated[str, Form(max_length=32)] = "",
    threshold: Annotated[str, Form(max_length=32)] = "92",
) -> Response:
    """Run the review of drivers of pressure for an organisation (and footprint); keep the
    report and tables; go to the results."""
    values = {"org": org, "footprint": footprint, "start": start, "end": end}
    values["threshold"] = threshold
    require(_may_run(user, footprint.strip()), RUN_MESSAGE)
    try:
        code = _code(org, "review", "Organisation")
        window = [_date(start, "Start"), _date(end, "End")]
        pct = _need(
            _parse_number(threshold, "review", "Occupancy threshold (%)", above=0, maximum=100),
            "review",
            "Occupancy threshold (%)",
        )
        inputs = review_inputs(ctx.store, code, footprint.strip() or None, window[0], window[1])
        result = review_engine(inputs, occupancy_threshold=pct / 100.0)
    except FlowplanError as exc:  # FormProblem included
        return _demand_page(
            request,
            ctx,
            user,
            review_values=values,
            errors={"review": _error_text(exc)},
            status_code=422,
        )
    jobs = analysis_state(request).jobs
    folder = jobs.new_folder()
    try:
        report = write_review_report(result, folder)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    summary = _review_summary(result)
    summary["report"] = report.html_path.name
    summary["tables"] = [p.name for p in report.csv_paths]
    job = jobs.add(
        "review",
        user.username,
        f"Review of drivers of pressure: {code}"
        + (f" in {footprint.strip()}" if footprint.strip() else ""),
        summary,
        params=values,
        folder=folder,
    )
    return RedirectResponse(f"/demand/reviews/{job.id}", status_code=303)


def _date(text: str, label: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormProblem("review", f"{label}: enter a date as YYYY-MM-DD") from None


@router.get("/demand/reviews/{job_id}")
def demand_review_result(request: Request, user: RequiredUser, job_id: str) -> Response:
    """A kept review: findings by question, what could not be answered, the report and tables."""
    job = _job_or_404(request, job_id, "review")
    return render(
        request, "analysis/review.html.j2", {"title": job.title, "job": job, "r": job.result}
    )


@router.get("/demand/reviews/{job_id}/{name}")
def demand_review_file(request: Request, user: RequiredUser, job_id: str, name: str) -> Response:
    """The HTML report (``review.html``) or one of the review's CSV tables."""
    job = _job_or_404(request, job_id, "review")
    return _file_response(_job_file(job, name))


@dataclass(frozen=True)
class ForecastAsk:
    """A forecast request, checked."""

    org: str
    measure: str
    breakdown: str
    grain: str
    horizon: int
    model: str

    @property
    def key(self) -> Hashable:
        """The look-up key of a kept forecast."""
        return (self.org, self.measure, self.breakdown, self.grain, self.horizon, self.model)

    def query(self) -> str:
        """URL query of the CSV download."""
        from urllib.parse import urlencode

        return urlencode(
            {
                "org": self.org,
                "measure": self.measure,
                "breakdown": self.breakdown,
                "grain": self.grain,
                "horizon": self.horizon,
                "model": self.model,
            }
        )


def _forecast_ask(values: dict[str, str]) -> ForecastAsk:
    org = _code(values.get("org", ""), "forecast", "Organisation")
    measure = values.get("measure", "").strip()
    if not re.match(r"^[a-z0-9_]{1,64}$", measure):
        raise FormProblem("forecast", "Measure: choose one of the organisation's stored measures")
    grain = values.get("grain", "day").strip().lower()
    if grain not in FORECAST_GRAINS:
        raise FormProblem("forecast", f"Grain must be day, week or month (got {grain!r})")
    model = values.get("model", "default").strip() or "default"
    if model not in FORECAST_MODELS:
        raise FormProblem("forecast", f"Model must be one of {', '.join(FORECAST_MODELS)}")
    horizon = _whole(
        values.get("horizon", ""),
        "forecast",
        f"Horizon ({grain}s)",
        minimum=1,
        maximum=MAX_HORIZON[grain],
    )
    if horizon is None:
        raise FormProblem("forecast", "Horizon: enter the number of periods to forecast")
    breakdown = values.get("breakdown", "").strip()
    return ForecastAsk(org, measure, breakdown, grain, horizon, model)


def _forecast_chart(history: pd.DataFrame, table: pd.DataFrame, title: str) -> str:
    figure = _new_figure(9, 3.8)
    axis = figure.add_subplot()
    ds = pd.to_datetime(table["ds"])
    if "lo_95" in table:
        axis.fill_between(
            ds,
            table["lo_95"],
            table["hi_95"],
            color=LIGHT_BLUE,
            alpha=0.45,
            label="95 % interval",
            linewidth=0,
        )
    if "lo_80" in table:
        axis.fill_between(
            ds,
            table["lo_80"],
            table["hi_80"],
            color=LIGHT_BLUE,
            alpha=0.9,
            label="80 % interval",
            linewidth=0,
        )
    axis.plot(
        pd.to_datetime(history["period_start"]),
        history["value"],
        color=GREY,
        linewidth=1,
        label="observed",
    )
    axis.plot(ds, table["mean"], color=BLUE, linewidth=1.5, label="forecast (mean)")
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return _png_url(figure)


def _forecast_figure(history: pd.DataFrame, table: pd.DataFrame, title: str) -> str:
    """The forecast as a Plotly figure (JSON for ``data-plot``): observed, mean, 80 % band."""
    observed = [number(v) for v in history["value"]]
    gap_future: list[float | None] = [None] * len(table)
    gap_past: list[float | None] = [None] * len(history)
    x = [*history["period_start"], *pd.to_datetime(table["ds"])]
    figure = line_figure(
        x,
        [
            Line("Observed", [*observed, *gap_future], colour=GREY),
            Line("Forecast (mean)", [*gap_past, *(number(v) for v in table["mean"])]),
        ],
        title=title,
        band=Band(
            "80 % prediction interval",
            [*gap_past, *(number(v) for v in table["lo_80"])],
            [*gap_past, *(number(v) for v in table["hi_80"])],
        ),
    )
    return to_json(figure)


def _run_forecast(ctx: Ctx, ask: ForecastAsk) -> dict[str, Any]:
    frame, used, breakdown = ctx.store.read_series(
        ask.org, ask.measure, ask.breakdown or None, Grain(ask.grain)
    )
    series = frame[["period_start", "value"]]
    result = forecast_engine(series, ask.grain, ask.horizon, level=[80, 95], model=ask.model)
    table = result.frame.copy()
    table["ds"] = pd.to_datetime(table["ds"]).dt.date.astype(str)
    history = series.tail(HISTORY_SHOWN[ask.grain])
    title = f"{ask.org} {ask.measure} [{breakdown}] by {used.value}: {result.model} forecast"
    return {
        "table": table,
        "columns": list(table.columns),
        "rows": [[str(r[0]), *(_fmt(v, 4) for v in r[1:])] for r in table.itertuples(index=False)],
        "notes": [
            f"series: {ask.org} {ask.measure} [{breakdown}] by {used.value} from the store, "
            f"{len(series)} periods to {series['period_start'].max():%d %b %Y}",
            *result.notes,
        ],
        "model": result.model,
        "breakdown": breakdown,
        "chart": _forecast_chart(history, table, title),
        "figure": _forecast_figure(history, table, title),
        "query": ask.query(),
    }


@router.post("/demand/forecast")
def demand_forecast(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: Annotated[str, Form(max_length=64)] = "",
    measure: Annotated[str, Form(max_length=64)] = "",
    breakdown: Annotated[str, Form(max_length=64)] = "",
    grain: Annotated[str, Form(max_length=16)] = "day",
    horizon: Annotated[str, Form(max_length=16)] = "28",
    model: Annotated[str, Form(max_length=32)] = "default",
) -> Response:
    """Forecast a stored series with 80 % and 95 % prediction intervals; keep it; show it."""
    values = {"org": org, "measure": measure, "breakdown": breakdown, "grain": grain}
    values |= {"horizon": horizon, "model": model}
    require(_may_run(user), RUN_MESSAGE)
    try:
        ask = _forecast_ask(values)
        result = _run_forecast(ctx, ask)
    except FlowplanError as exc:  # FormProblem included
        return _demand_page(
            request,
            ctx,
            user,
            forecast_values=values,
            errors={"forecast": _error_text(exc)},
            status_code=422,
        )
    job = analysis_state(request).jobs.add(
        "forecast",
        user.username,
        f"Forecast of {ask.org} {ask.measure}: {ask.horizon} {ask.grain}(s)",
        result,
        params=values,
        key=ask.key,
    )
    return RedirectResponse(f"/demand/forecasts/{job.id}", status_code=303)


@router.get("/demand/forecasts/{job_id}")
def demand_forecast_result(request: Request, user: RequiredUser, job_id: str) -> Response:
    """A kept forecast: table, chart, notes and the CSV download."""
    job = _job_or_404(request, job_id, "forecast")
    return render(
        request, "analysis/forecast.html.j2", {"title": job.title, "job": job, "r": job.result}
    )


@router.get("/demand/forecast.csv")
def demand_forecast_csv(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: Annotated[str, Query(max_length=64)] = "",
    measure: Annotated[str, Query(max_length=64)] = "",
    breakdown: Annotated[str, Query(max_length=64)] = "",
    grain: Annotated[str, Query(max_length=16)] = "day",
    horizon: Annotated[str, Query(max_length=16)] = "28",
    model: Annotated[str, Query(max_length=32)] = "default",
) -> Response:
    """The forecast as CSV (``ds, mean, lo_80, hi_80, lo_95, hi_95``).

    A kept forecast with these parameters is served to any signed-in user; otherwise it is
    worked out, which needs the role that runs models.
    """
    values = {"org": org, "measure": measure, "breakdown": breakdown, "grain": grain}
    values |= {"horizon": horizon, "model": model}
    try:
        ask = _forecast_ask(values)
    except FormProblem as exc:
        return Response(exc.message + "\n", status_code=422, media_type="text/plain")
    kept = analysis_state(request).jobs.find("forecast", ask.key)
    if kept is not None:
        table: pd.DataFrame = kept.result["table"]
    else:
        if not _may_run(user):
            raise Forbidden(
                "this forecast has not been run; ask an analyst to run it (" + RUN_MESSAGE + ")"
            )
        try:
            table = _run_forecast(ctx, ask)["table"]
        except FlowplanError as exc:
            return Response(_error_text(exc) + "\n", status_code=422, media_type="text/plain")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    name = f"forecast_{ask.org}_{ask.measure}_{ask.grain}_{ask.horizon}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# =================================================================================================
# Capacity
# =================================================================================================

CAPACITY_DEFAULTS: dict[str, dict[str, str]] = {
    "beds": {
        "org": "",
        "months": "12",
        "occupancy": "92",
        "admissions_per_day": "",
        "los_days": "",
        "max_no_bed": "1",
    },
    "staff": {
        "profile": "",
        "org": "",
        "measure": "ae_attendances",
        "service_minutes": "20",
        "target_wait": "15",
        "target_probability": "95",
        "method": "mol",
    },
    "targets": {
        "demand": "",
        "target_wait": "18",
        "factor": "4",
        "cv_demand": "1",
        "cv_capacity": "1",
        "queue_size": "",
        "time_to_target": "",
        "mean_wait": "",
        "capacity": "",
    },
    "projection": {
        "stp": "",
        "specialty": "",
        "referrals": "",
        "capacity": "",
        "weeks": "104",
    },
}
STAFF_METHODS = ("mol", "lag", "sipp")


def _capacity_page(
    request: Request,
    calculator: str | None = None,
    values: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    forms = {name: dict(defaults) for name, defaults in CAPACITY_DEFAULTS.items()}
    if calculator is not None and values is not None:
        forms[calculator] |= values
    return render(
        request,
        "analysis/capacity.html.j2",
        {
            "title": "Capacity",
            "forms": forms,
            "calculator": calculator,
            "result": result,
            "errors": {calculator: error} if calculator and error else {},
            "methods": STAFF_METHODS,
        },
        status_code=status_code,
    )


def _capacity_answer(
    request: Request,
    calculator: str,
    values: dict[str, str],
    compute: Callable[[dict[str, str]], dict[str, Any]],
) -> Response:
    try:
        result = compute(values)
    except FlowplanError as exc:  # FormProblem included
        return _capacity_page(request, calculator, values, error=_error_text(exc), status_code=422)
    return _capacity_page(request, calculator, values, result=result)


@router.get("/capacity")
def capacity_page(request: Request, user: RequiredUser) -> Response:
    """The three calculators: beds at an occupancy, staffing by hour, waiting lists."""
    return _capacity_page(request)


def _beds_chart(curve: pd.DataFrame, beds: int, occupancy: float, available: float | None) -> str:
    figure = _new_figure(8, 3.4)
    axis = figure.add_subplot()
    axis.plot(curve["beds"], 100 * curve["p_no_bed"], color=BLUE, linewidth=1.5)
    axis.axvline(
        beds,
        color=GREEN,
        linestyle="--",
        linewidth=1,
        label=f"{beds:,} beds: {occupancy:.0%} occupancy",
    )
    if available is not None:
        axis.axvline(
            available,
            color=RED,
            linestyle=":",
            linewidth=1,
            label=f"{available:,.0f} beds available now",
        )
    axis.set_xlabel("beds")
    axis.set_ylabel("P(no bed on arrival), %")
    axis.set_title("Chance an admission finds every bed full (Erlang B)", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return _png_url(figure)


def _beds(ctx: Ctx, values: dict[str, str]) -> dict[str, Any]:
    org = _code(values.get("org", ""), "beds", "Organisation", required=False)
    occupancy_pct = _need(
        _parse_number(
            values.get("occupancy", ""), "beds", "Target occupancy (%)", above=0, maximum=100
        ),
        "beds",
        "Target occupancy (%)",
    )
    months = _whole(values.get("months", ""), "beds", "Months", minimum=1, maximum=120) or 12
    admissions = _parse_number(
        values.get("admissions_per_day", ""), "beds", "Admissions per day", minimum=0
    )
    los = _parse_number(values.get("los_days", ""), "beds", "Length of stay (days)", above=0)
    max_no_bed_pct = _parse_number(
        values.get("max_no_bed", ""), "beds", "P(no bed) at most (%)", above=0, maximum=100
    )
    basis: list[str] = []
    current: dict[str, float] = {}
    admissions_sd: float | None = None
    core_beds: int | None = None
    if org:
        got = bed_inputs(ctx.store, org, months)
        admissions = admissions if admissions is not None else got.admissions_per_day
        los = los if los is not None else got.implied_los_days
        if len(got.monthly_admissions_per_day) > 1:
            admissions_sd = float(np.std(got.monthly_admissions_per_day, ddof=1))
            basis.append("admissions SD: spread of the monthly admissions per day")
        core_beds = math.floor(got.beds_available)
        basis = list(got.basis) + basis
        current = {"available": got.beds_available, "occupied": got.beds_occupied}
    if admissions is None or los is None:
        raise FormProblem(
            "beds",
            "give an organisation with stored demand, or admissions per day and length of stay",
        )
    occupancy = occupancy_pct / 100.0
    max_no_bed = (max_no_bed_pct or 1.0) / 100.0
    est = beds_engine.beds_at_occupancy(
        admissions, los, occupancy, admissions_sd_per_day=admissions_sd
    )
    loss = beds_engine.beds_for_no_bed_probability(admissions, los, max_no_bed)
    curve = beds_engine.occupancy_delay_curve(admissions, los)
    rows = [
        ("Emergency admissions", _fmt(admissions, 4), "per day"),
        ("Mean length of stay", _fmt(los, 3), "days"),
        ("Bed-days", _fmt(est.bed_days_per_day, 4), "per day (= mean beds in use)"),
        (
            f"Beds at {occupancy_pct:g} % occupancy",
            f"{est.beds:,} ({est.beds_low:,}–{est.beds_high:,})",
            "beds (low–high)",
        ),
        (
            f"Beds so P(no bed) ≤ {max_no_bed:.1%}",
            f"{loss.beds:,}",
            f"beds; occupancy {loss.occupancy:.1%}",
        ),
    ]
    if current:
        rows.append(("G&A beds available now", _fmt(current["available"], 4), "beds (mean)"))
        rows.append(("G&A beds occupied now", _fmt(current["occupied"], 4), "beds (mean)"))
    if core_beds is not None:
        esc = beds_engine.escalation_beds(core_beds, est.bed_days_per_day, 0.95)
        rows.append(
            (
                "Escalation beds on a 95th-percentile day",
                f"{esc.escalation_beds:,}",
                f"beds above {esc.core_beds:,} core ({esc.method})",
            )
        )
    return {
        "title": f"Beds to meet demand{f' — {org}' if org else ''}",
        "headline": f"{est.beds:,} beds at {occupancy_pct:g} % occupancy",
        "rows": rows,
        "notes": [est.method_note, *basis],
        "chart": _beds_chart(curve, est.beds, occupancy, current.get("available")),
        "chart_alt": "Chance of no bed on arrival against the number of beds",
    }


@router.post("/capacity/beds")
def capacity_beds(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    org: Annotated[str, Form(max_length=64)] = "",
    months: Annotated[str, Form(max_length=16)] = "12",
    occupancy: Annotated[str, Form(max_length=16)] = "92",
    admissions_per_day: Annotated[str, Form(max_length=32)] = "",
    los_days: Annotated[str, Form(max_length=32)] = "",
    max_no_bed: Annotated[str, Form(max_length=16)] = "1",
) -> Response:
    """Beds to meet demand at a target occupancy (from stored demand, or given figures)."""
    values = {"org": org, "months": months, "occupancy": occupancy}
    values |= {"admissions_per_day": admissions_per_day, "los_days": los_days}
    values["max_no_bed"] = max_no_bed
    return _capacity_answer(request, "beds", values, lambda v: _beds(ctx, v))


def _profile(text: str) -> np.ndarray:
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    values = []
    for position, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise FormProblem(
                "staff", f"Arrival profile: value {position} ({part!r}) is not a number"
            ) from None
        values.append(value)
    if len(values) not in (24, 168):
        raise FormProblem(
            "staff",
            "Arrival profile: give 24 arrival rates per hour (hour of day, 00:00 first) or 168 "
            f"(hour of week, Monday 00:00 first); got {len(values)}",
        )
    return np.asarray(values, dtype=float)


def _staff(ctx: Ctx, values: dict[str, str]) -> dict[str, Any]:
    method = values.get("method", "mol").strip()
    if method not in STAFF_METHODS:
        raise FormProblem("staff", f"Method must be mol, lag or sipp (got {method!r})")
    service = _need(
        _parse_number(
            values.get("service_minutes", ""), "staff", "Service time (minutes)", above=0
        ),
        "staff",
        "Service time (minutes)",
    )
    target = _need(
        _parse_number(values.get("target_wait", ""), "staff", "Target wait (minutes)", minimum=0),
        "staff",
        "Target wait (minutes)",
    )
    probability = _need(
        _parse_number(
            values.get("target_probability", ""),
            "staff",
            "Assessed within target (%)",
            above=0,
            maximum=100,
        ),
        "staff",
        "Assessed within target (%)",
    )
    org = _code(values.get("org", ""), "staff", "Organisation", required=False)
    text = values.get("profile", "")
    if bool(org) == bool(text.strip()):
        raise FormProblem(
            "staff",
            "give an arrival profile (24 or 168 rates per hour) or an organisation whose "
            "hourly arrivals are stored, not both",
        )
    basis: list[str] = []
    if org:
        measure = values.get("measure", "").strip() or "ae_attendances"
        frame, grain, _ = ctx.store.read_series(org, measure, grain=Grain.HOUR)
        if grain is not Grain.HOUR:
            raise FormProblem("staff", f"{org} {measure} is not stored by hour")
        series = pd.Series(frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["period_start"]))
        rates = staff_engine.hour_of_week_profile(series)["mean"].to_numpy(dtype=float)
        basis.append(f"arrival rates: mean of {org} {measure} by hour of the week")
    else:
        rates = _profile(text)
        basis.append(f"arrival rates: the {len(rates)} rates per hour given")
    plan = staff_engine.staff_required(
        rates,
        service,
        target_wait_minutes=target,
        target_probability=probability / 100.0,
        method=method,  # type: ignore[arg-type]
    )
    days = list(dict.fromkeys(plan.table["day"]))
    clinicians = plan.table["clinicians"].to_numpy(dtype=int).reshape(len(days), 24)
    return {
        "title": (
            f"Clinicians by hour ({plan.method}; {probability:g} % assessed within {target:g} "
            f"min; service {service:g} min)"
        ),
        "headline": f"peak {plan.peak_clinicians} clinicians on duty",
        "rows": [
            (
                "Peak clinicians",
                str(plan.peak_clinicians),
                "clinicians on duty in the busiest hour",
            ),
            ("Clinician-hours", f"{plan.clinician_hours_per_week:,}", "per week"),
            ("Arrivals", _fmt(plan.arrivals_per_week), "per week"),
        ],
        "rota_days": days,
        "rota": [
            [f"{hour:02d}:00", *(int(clinicians[d, hour]) for d in range(len(days)))]
            for hour in range(24)
        ],
        "notes": [plan.assumptions, *basis],
        "chart": _png_file_url(lambda path: staff_engine.rota_chart(plan, path)),
        "chart_alt": "Arrivals and clinicians on duty by hour of the week",
    }


@router.post("/capacity/staff")
def capacity_staff(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    profile: Annotated[str, Form(max_length=20_000)] = "",
    org: Annotated[str, Form(max_length=64)] = "",
    measure: Annotated[str, Form(max_length=64)] = "ae_attendances",
    service_minutes: Annotated[str, Form(max_length=16)] = "20",
    target_wait: Annotated[str, Form(max_length=16)] = "15",
    target_probability: Annotated[str, Form(max_length=16)] = "95",
    method: Annotated[str, Form(max_length=16)] = "mol",
) -> Response:
    """Clinicians per hour of the week to meet a time-to-assessment target."""
    values = {"profile": profile, "org": org, "measure": measure}
    values |= {"service_minutes": service_minutes, "target_wait": target_wait}
    values |= {"target_probability": target_probability, "method": method}
    return _capacity_answer(request, "staff", values, lambda v: _staff(ctx, v))


def _targets_chart(demand: float, result: dict[str, float | None], capacity: float | None) -> str:
    figure = _new_figure(8, 3.2)
    axis = figure.add_subplot()
    bars: list[tuple[str, float, str]] = [("demand", demand, GREY)]
    if capacity is not None:
        bars.append(("current capacity", capacity, RED))
    bars.append(("target capacity", float(result["target_capacity"] or 0.0), BLUE))
    if result.get("relief_capacity") is not None:
        bars.append(("relief capacity", float(result["relief_capacity"] or 0.0), GREEN))
    labels = [b[0] for b in bars]
    axis.barh(labels, [b[1] for b in bars], color=[b[2] for b in bars])
    for i, (_, value, _) in enumerate(bars):
        axis.text(value, i, f" {value:,.1f}", va="center", fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("patients per week")
    axis.set_title("Weekly flows: demand and the capacity the targets need", fontsize=10)
    axis.grid(alpha=0.3, axis="x")
    figure.tight_layout()
    return _png_url(figure)


def _targets(values: dict[str, str]) -> dict[str, Any]:
    def get(name: str, label: str, **bounds: float) -> float | None:
        return _parse_number(values.get(name, ""), "targets", label, **bounds)

    demand = _need(get("demand", "Demand (per week)", minimum=0), "targets", "Demand (per week)")
    target_wait = _need(
        get("target_wait", "Target wait (weeks)", above=0), "targets", "Target wait (weeks)"
    )
    factor = get("factor", "Factor", above=0) or 4.0
    cv_demand = get("cv_demand", "CV of demand", minimum=0)
    cv_capacity = get("cv_capacity", "CV of capacity", minimum=0)
    queue_size = get("queue_size", "Queue size (patients)", minimum=0)
    time_to_target = get("time_to_target", "Time to target (weeks)", above=0)
    mean_wait = get("mean_wait", "Current mean wait (weeks)", minimum=0)
    capacity = get("capacity", "Current capacity (per week)", above=0)
    result = wl.targets(
        demand,
        target_wait,
        factor=factor,
        cv_demand=1.0 if cv_demand is None else cv_demand,
        cv_capacity=1.0 if cv_capacity is None else cv_capacity,
        queue_size=queue_size,
        time_to_target=time_to_target,
        mean_wait=mean_wait,
        capacity=capacity,
    )
    rows = []
    for key, value in result.items():
        name, unit = TARGET_LABELS[key]
        rows.append((name, "–" if value is None else f"{value:,.4g}", unit))
    notes = [
        f"demand {demand:g} clock starts per week; target wait {target_wait:g} weeks; target mean "
        f"wait = target wait ÷ {factor:g} (NHS waiting-list rule of thumb)",
        "target capacity = demand + (CV of demand² + CV of capacity²) ÷ 2 × factor ÷ target wait",
    ]
    if result["relief_capacity"] is not None:
        notes.append("relief capacity = demand + (queue size − target queue size) ÷ time to target")
    load = result.get("queue_load")
    if load is not None and load >= 1:
        notes.insert(0, f"unsustainable: queue load {load:.3g} ≥ 1, the list grows without limit")
    return {
        "title": f"Waiting-list targets: demand {demand:g}/week, target {target_wait:g} weeks",
        "headline": (
            f"target queue size {result['target_queue_size']:,.0f} patients; target capacity "
            f"{result['target_capacity']:,.2f} per week"
        ),
        "rows": rows,
        "notes": notes,
        "chart": _targets_chart(demand, result, capacity),
        "chart_alt": "Demand and the weekly capacity the targets need",
    }


@router.post("/capacity/waitinglist/targets")
def capacity_targets(
    request: Request,
    user: RequiredUser,
    demand: Annotated[str, Form(max_length=32)] = "",
    target_wait: Annotated[str, Form(max_length=32)] = "18",
    factor: Annotated[str, Form(max_length=32)] = "4",
    cv_demand: Annotated[str, Form(max_length=32)] = "1",
    cv_capacity: Annotated[str, Form(max_length=32)] = "1",
    queue_size: Annotated[str, Form(max_length=32)] = "",
    time_to_target: Annotated[str, Form(max_length=32)] = "",
    mean_wait: Annotated[str, Form(max_length=32)] = "",
    capacity: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Queueing targets of a waiting list (patients per week; weeks)."""
    values = {"demand": demand, "target_wait": target_wait, "factor": factor}
    values |= {"cv_demand": cv_demand, "cv_capacity": cv_capacity, "queue_size": queue_size}
    values |= {"time_to_target": time_to_target, "mean_wait": mean_wait, "capacity": capacity}
    return _capacity_answer(request, "targets", values, _targets)


def _projection(ctx: Ctx, values: dict[str, str]) -> dict[str, Any]:
    stp = _code(values.get("stp", ""), "projection", "STP")
    specialty = values.get("specialty", "").strip() or None
    referrals = _parse_number(
        values.get("referrals", ""), "projection", "Referrals per week", minimum=0
    )
    capacity = _parse_number(
        values.get("capacity", ""), "projection", "Capacity per week", minimum=0
    )
    weeks = _whole(values.get("weeks", ""), "projection", "Weeks", minimum=1, maximum=260) or 104
    got = rtt_inputs(ctx.store, stp, specialty)
    if got.over_18 is None and got.over_52 is None:
        raise FormProblem(
            "projection",
            f"{stp}: waits over 18 and 52 weeks are not stored (load format rtt_waits_stp), so "
            "the list cannot be spread by weeks waited",
        )
    initial = wl.spread_total(got.waiting_list, over_18=got.over_18, over_52=got.over_52)
    refs = referrals if referrals is not None else got.referrals_per_week
    cap = capacity if capacity is not None else got.capacity_per_week
    start = (got.as_at + pd.offsets.MonthEnd(0)).date()
    projection = wl.project(
        initial, refs, cap, weeks, removal_rate=got.removal_rate, start_date=start
    )
    frame = projection.frame
    first, last = frame.iloc[0], frame.iloc[-1]
    title = f"{got.label}: capacity {cap:,.0f}/week, referrals {refs:,.0f}/week"
    rows = [
        ("Patients waiting", _fmt(num(first["list_size"])), _fmt(num(last["list_size"]))),
        (
            "% within 18 weeks",
            f"{num(first['within_18_pct']):.1f}",
            f"{num(last['within_18_pct']):.1f}",
        ),
    ]
    for col, name in (("over_52", "52+ weeks"), ("over_65", "65+ weeks"), ("over_78", "78+ weeks")):
        rows.append((name, _fmt(num(first[col])), _fmt(num(last[col]))))
    notes = [
        f"referrals {refs:,.1f}/week, capacity {cap:,.1f}/week, removals {got.removal_rate:.3%} of "
        f"the list a week; queue load {projection.load:.3f}; clearance time "
        f"{projection.clearance_time_weeks:.1f} weeks",
        f"clinical priority takes {wl.DEFAULT_PRIORITY_SHARE:.0%} of clock stops, the rest go "
        "longest wait first (an assumption)",
        *got.basis,
        "starting list spread by weeks waited to match the published total",
    ]
    if projection.unsustainable:
        notes.insert(0, f"unsustainable: {projection.message}")
    return {
        "title": f"Waiting-list projection — {got.label}",
        "headline": (
            f"{_fmt(num(last['list_size']))} patients waiting after {weeks} weeks "
            f"({num(last['within_18_pct']):.1f} % within 18 weeks)"
        ),
        "projection_rows": rows,
        "weeks": weeks,
        "notes": notes,
        "chart": _png_file_url(lambda path: projection_chart(projection, path, title)),
        "chart_alt": "Projected list size, share within 18 weeks and long waits by week",
    }


@router.post("/capacity/waitinglist/projection")
def capacity_projection(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    stp: Annotated[str, Form(max_length=64)] = "",
    specialty: Annotated[str, Form(max_length=128)] = "",
    referrals: Annotated[str, Form(max_length=32)] = "",
    capacity: Annotated[str, Form(max_length=32)] = "",
    weeks: Annotated[str, Form(max_length=16)] = "104",
) -> Response:
    """Project an STP's stored waiting list week by week (patients; weeks)."""
    values = {"stp": stp, "specialty": specialty, "referrals": referrals}
    values |= {"capacity": capacity, "weeks": weeks}
    return _capacity_answer(request, "projection", values, lambda v: _projection(ctx, v))


# =================================================================================================
# Simulation
# =================================================================================================

SIM_DEFAULTS = {
    "source": "example",
    "population": "750000",
    "org": "",
    "months": "12",
    "yaml": "",
    "replications": "10",
    "seed": "",
    "days": "",
    "warmup": "",
}
SIM_SOURCES = ("example", "trust", "yaml")


@dataclass
class SimAsk:
    """A simulation request, checked: the base scenario, the scheme scenarios, run options."""

    base: Scenario
    schemes: dict[str, Scenario]
    replications: int
    seed: int | None
    days: int | None
    warmup: int | None
    source: str
    assumptions: list[str] = field(default_factory=list)


def _simulation_page(
    request: Request,
    user: Account,
    values: dict[str, str] | None = None,
    schemes: Sequence[str] = (),
    errors: dict[str, list[str]] | None = None,
    assumptions: Sequence[str] = (),
    status_code: int = 200,
) -> Response:
    state = analysis_state(request)
    return render(
        request,
        "analysis/simulation.html.j2",
        {
            "title": "Simulation",
            "v": SIM_DEFAULTS | (values or {}),
            "chosen": list(schemes),
            "example_schemes": EXAMPLE_SCHEMES,
            "errors": errors or {},
            "assumptions": list(assumptions),
            "can_run": _may_run(user),
            "limits": state.settings,
            "jobs": state.jobs.jobs("simulation")[:10],
        },
        status_code=status_code,
    )


@router.get("/simulation")
def simulation_page(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    load: Annotated[str, Query(max_length=16)] = "",
    population: Annotated[str, Query(max_length=16)] = "750000",
    org: Annotated[str, Query(max_length=32)] = "",
    months: Annotated[str, Query(max_length=8)] = "12",
) -> Response:
    """The run form; ``load=example`` or ``load=trust`` fills the YAML editor with that scenario
    (a trust's scenario is calibrated with short runs, so it needs the role that runs models)."""
    values = {"population": population, "org": org, "months": months}
    if load not in ("example", "trust"):
        return _simulation_page(request, user, values)
    errors: dict[str, list[str]] = {}
    assumptions: list[str] = []
    try:
        limits = analysis_state(request).settings
        if load == "trust":
            require(_may_run(user), RUN_MESSAGE)
            scenario, assumptions = _trust_scenario(ctx, org, months)
        else:
            scenario = _example(population, limits)
        values |= {"source": "yaml", "yaml": dump_scenario(scenario)}
    except FormProblem as exc:
        errors[exc.field] = [exc.message]
    except FlowplanError as exc:
        errors["org" if load == "trust" else "population"] = exc.lines()
    return _simulation_page(
        request,
        user,
        values,
        errors=errors,
        assumptions=assumptions,
        status_code=422 if errors else 200,
    )


def _example(population: str, limits: AnalysisSettings) -> Scenario:
    people = _whole(
        population, "population", "Population", minimum=1000, maximum=limits.max_population
    )
    if people is None:
        raise FormProblem("population", "Population: enter the population served")
    return example_scenario(people)


def _trust_scenario(ctx: Ctx, org: str, months: str) -> tuple[Scenario, list[str]]:
    code = _code(org, "org", "Trust")
    window = _whole(months, "org", "Months", minimum=1, maximum=60) or 12
    return scenario_from_data(ctx.store, code, window)


def _yaml_scenario(text: str) -> Scenario:
    """A scenario from pasted YAML (or JSON); volume files are refused (no server files).

    Raises:
        ScenarioError: unparsable, not a mapping, or breaks a rule (one line per problem).
    """
    file = "scenario"
    if not text.strip():
        raise ScenarioError([ScenarioProblem("", "paste a scenario document")], file)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = ScenarioProblem("", f"cannot parse the YAML{where}", first)
        raise ScenarioError([problem], file) from None
    if not isinstance(data, dict):
        raise ScenarioError([ScenarioProblem("", "the document must be a mapping")], file)
    demand = data.get("demand")
    if isinstance(demand, dict):
        problems = [
            ScenarioProblem(
                f"demand.{name}.volumes_csv",
                "volume files cannot be read in the web editor; use daily_mean instead",
                str(stream.get("volumes_csv")),
            )
            for name, stream in demand.items()
            if isinstance(stream, dict) and stream.get("volumes_csv") not in (None, "")
        ]
        if problems:
            raise ScenarioError(problems, file)
    return validate_scenario(data, file)


def with_scheme(base: Scenario, name: str) -> Scenario:
    """``base`` with example scheme ``name`` added (in force from the start), validated.

    Raises:
        UsageError: the scheme does not fit the scenario (e.g. it has no ambulance section).
        ScenarioError: the scheme breaks a rule of the scenario.
    """
    try:
        scheme = example_scheme(name, base)
    except ValueError as exc:
        raise UsageError(f"scheme {name}: {exc}") from None
    data = base.model_copy(update={"schemes": [*base.schemes, scheme]}).model_dump()
    data["name"] = f"{base.name} + {name}"
    return validate_scenario(data, f"scheme {name}")


def _sim_ask(
    ctx: Ctx, values: dict[str, str], schemes: Sequence[str], limits: AnalysisSettings
) -> tuple[SimAsk | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}

    def field_check(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except FormProblem as exc:
            errors.setdefault(exc.field, []).append(exc.message)
            return None

    replications = field_check(
        lambda: _whole(
            values["replications"],
            "replications",
            "Replications",
            minimum=1,
            maximum=limits.max_replications,
        )
    )
    seed = field_check(lambda: _whole(values["seed"], "seed", "Seed", minimum=0, maximum=2**32 - 1))
    days = field_check(
        lambda: _whole(values["days"], "days", "Days", minimum=1, maximum=limits.max_days)
    )
    warmup = field_check(
        lambda: _whole(values["warmup"], "warmup", "Warm-up days", minimum=0, maximum=365)
    )
    unknown = [s for s in schemes if s not in EXAMPLE_SCHEMES]
    if unknown:
        errors["schemes"] = [f"unknown scheme(s): {', '.join(unknown)}"]
    source = values["source"]
    base: Scenario | None = None
    assumptions: list[str] = []
    if source not in SIM_SOURCES:
        errors["source"] = ["choose the example, a trust from data, or your own YAML"]
    elif source == "example":
        base = field_check(lambda: _example(values["population"], limits))
    elif source == "trust":
        try:
            found = field_check(lambda: _trust_scenario(ctx, values["org"], values["months"]))
            if found is not None:
                base, assumptions = found
        except FlowplanError as exc:
            errors.setdefault("org", []).extend(exc.lines())
    else:
        try:
            base = _yaml_scenario(values["yaml"])
        except ScenarioError as exc:
            errors["yaml"] = exc.lines()
    if base is None or errors:
        return None, errors
    scheme_runs: dict[str, Scenario] = {}
    for name in schemes:
        try:
            scheme_runs[name] = with_scheme(base, name)
        except FlowplanError as exc:
            errors.setdefault("schemes", []).extend(exc.lines())
    if errors:
        return None, errors
    return (
        SimAsk(
            base=base,
            schemes=scheme_runs,
            replications=replications or 10,
            seed=seed,
            days=days,
            warmup=warmup,
            source=source,
            assumptions=assumptions,
        ),
        errors,
    )


def _kpi_row(summary: pd.DataFrame, kpi: str) -> dict[str, str]:
    row = summary.loc[kpi]
    low, high = num(row["ci_low"]), num(row["ci_high"])
    return {
        "kpi": kpi,
        "label": KPI_LABELS.get(kpi, kpi),
        "mean": _fmt(num(row["mean"])),
        "ci": f"{_fmt(low)} to {_fmt(high)}" if math.isfinite(low) else "–",
        "n": str(int(num(row["n"]))),
    }


def _effect_rows(table: pd.DataFrame, shown: Sequence[str]) -> list[dict[str, str]]:
    rows = []
    for r in table.itertuples(index=False):
        kpi = str(r.kpi)
        if kpi not in shown or int(num(r.n)) == 0:
            continue
        diff, low, high = num(r.diff_mean), num(r.ci_low), num(r.ci_high)
        signed: Callable[[float], str] = lambda x: (  # noqa: E731
            f"{x:+,.3g}" if math.isfinite(x) else "–"
        )
        clear = math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)
        pct = num(r.pct_change)
        rows.append(
            {
                "scheme": str(r.scenario),
                "kpi": kpi,
                "label": KPI_LABELS.get(kpi, kpi),
                "base": _fmt(num(r.base_mean)),
                "scheme_mean": _fmt(num(r.mean)),
                "diff": signed(diff),
                "ci": f"{signed(low)} to {signed(high)}" if math.isfinite(low) else "–",
                "pct": f"{pct:+.1f} %" if math.isfinite(pct) else "–",
                "clear": "yes" if clear else "no",
            }
        )
    return rows


def _executor(
    settings: AnalysisSettings, replication_days: int
) -> tuple[Executor | Literal["sequential"], Callable[[], None]]:
    """The executor of a run: a spawned process pool for runs worth its start-up (a few
    seconds), else the job's own thread."""
    if settings.executor == "sequential" or replication_days < POOL_MIN_REPLICATION_DAYS:
        return "sequential", lambda: None
    workers = settings.workers or min(8, os.cpu_count() or 1)
    if workers <= 1:
        return "sequential", lambda: None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    return pool, lambda: pool.shutdown(cancel_futures=True)


def _simulate(ask: SimAsk, settings: AnalysisSettings, ctx: JobContext) -> dict[str, Any]:
    """The work of a simulation job: base run, scheme runs (same seed), files, summary."""
    runs_total = 1 + len(ask.schemes)
    total = ask.replications * runs_total
    ctx.progress(0, total)
    days = ask.days if ask.days is not None else ask.base.run.days
    executor, close = _executor(settings, ask.replications * days * runs_total)
    try:

        def one(scenario: Scenario, index: int, seed: int | None) -> RunResult:
            offset = index * ask.replications

            def progress(done: int, _total: int) -> None:
                ctx.progress(offset + done, total)

            ctx.stage(f"simulating {scenario.name} ({index + 1} of {runs_total})")
            return run_scenario(
                scenario,
                replications=ask.replications,
                seed=seed,
                days=ask.days,
                warmup=ask.warmup,
                executor=executor,
                progress=progress,
            )

        base_run = one(ask.base, 0, ask.seed)
        runs: dict[str, RunResult] = {}
        for index, scenario in enumerate(ask.schemes.values(), start=1):
            label = scenario_label(scenario, [base_run.name, *runs])
            runs[label] = one(scenario, index, base_run.seed)
    finally:
        close()
    ctx.stage("writing the report")
    folder = ctx.folder
    assert folder is not None
    notes = [f"scenario: {ask.base.name} ({ask.source})", *ask.assumptions]
    write_run(base_run, folder, notes=notes)
    comparison = compare_runs(base_run, runs) if runs else None
    if comparison is not None:
        write_frame(comparison, folder / "comparison.csv")
        write_report(
            base_run,
            folder,
            title=f"Scheme comparison against {base_run.name}",
            comparison=comparison,
            notes=[*notes, *(f"scheme: {label}" for label in runs)],
        )
    system = [k for k in SYSTEM_KPIS if k in base_run.kpis and kpi_applies(base_run, k)]
    headline = [k for k in HEADLINE_KPIS if k in system]
    if not headline:  # a queue scenario: its resources' waits and utilisation
        headline = [
            k
            for k in base_run.kpis
            if k.endswith((".utilisation", ".mean_wait_hours")) and kpi_applies(base_run, k)
        ][:8]
    others = [k for k in base_run.kpis if k not in headline and kpi_applies(base_run, k)]
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "report.html")
    return {
        "name": base_run.name,
        "n": base_run.n,
        "days": base_run.days,
        "warmup_days": base_run.warmup_days,
        "seed": base_run.seed,
        "headline": [_kpi_row(base_run.summary, k) for k in headline],
        "all": [_kpi_row(base_run.summary, k) for k in others],
        "effects": _effect_rows(comparison, system or headline) if comparison is not None else [],
        "schemes": list(runs),
        "wall_s": f"{base_run.timings.wall_s:.1f}",
        "files": files,
        "assumptions": list(ask.assumptions),
    }


@router.post("/simulation/run")
def simulation_run(
    request: Request,
    ctx: Ctx,
    user: RequiredUser,
    source: Annotated[str, Form(max_length=16)] = "example",
    population: Annotated[str, Form(max_length=16)] = "750000",
    org: Annotated[str, Form(max_length=32)] = "",
    months: Annotated[str, Form(max_length=8)] = "12",
    scenario_yaml: Annotated[str, Form(alias="yaml", max_length=500_000)] = "",
    replications: Annotated[str, Form(max_length=16)] = "10",
    seed: Annotated[str, Form(max_length=16)] = "",
    days: Annotated[str, Form(max_length=16)] = "",
    warmup: Annotated[str, Form(max_length=16)] = "",
    schemes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Check the scenario and options, start the run in the background, go to its page."""
    require(_may_run(user), RUN_MESSAGE)
    values = {"source": source, "population": population, "org": org, "months": months}
    values |= {"yaml": scenario_yaml, "replications": replications, "seed": seed}
    values |= {"days": days, "warmup": warmup}
    chosen = list(dict.fromkeys(schemes or []))
    state = analysis_state(request)
    ask, errors = _sim_ask(ctx, values, chosen, state.settings)
    if ask is None:
        return _simulation_page(request, user, values, chosen, errors, status_code=422)
    settings = state.settings
    title = f"Simulation of {ask.base.name}: {ask.replications} replication(s)" + (
        f", schemes {', '.join(ask.schemes)}" if ask.schemes else ""
    )
    params = {
        "source": source,
        "replications": ask.replications,
        "seed": ask.seed if ask.seed is not None else ask.base.run.seed,
        "days": ask.days if ask.days is not None else ask.base.run.days,
        "warmup": ask.warmup if ask.warmup is not None else ask.base.run.warmup_days,
        "schemes": list(ask.schemes),
    }
    try:
        job = state.jobs.submit(
            "simulation",
            user.username,
            title,
            lambda context: _simulate(ask, settings, context),
            params=params,
        )
    except JobsBusy as exc:
        return _simulation_page(
            request, user, values, chosen, {"run": exc.lines()}, ask.assumptions, status_code=503
        )
    return RedirectResponse(f"/simulation/jobs/{job.id}", status_code=303)


@router.get("/simulation/jobs/{job_id}")
def simulation_job(request: Request, user: RequiredUser, job_id: str) -> Response:
    """A run: progress while it runs (polled), then KPIs with CIs, scheme effects, the report."""
    job = _job_or_404(request, job_id, "simulation")
    return render(
        request, "analysis/job.html.j2", {"title": job.title, "job": job, "r": job.result}
    )


@router.get("/simulation/jobs/{job_id}/progress")
def simulation_job_progress(request: Request, user: RequiredUser, job_id: str) -> Response:
    """The progress fragment (htmx polls it every second); when the run has ended it asks the
    page to reload (``HX-Refresh``) to show the results."""
    job = _job_or_404(request, job_id, "simulation")
    response = render(request, "analysis/_progress.html.j2", {"job": job})
    if job.status.finished:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/simulation/jobs/{job_id}/report")
def simulation_job_report(request: Request, user: RequiredUser, job_id: str) -> Response:
    """The run's HTML report (KPIs, daily charts, scheme table when schemes were compared)."""
    job = _job_or_404(request, job_id, "simulation")
    if job.status is not JobStatus.done:
        raise NotFound("the run has not finished; its report is not written yet")
    return _file_response(_job_file(job, "report.html"))


@router.get("/simulation/jobs/{job_id}/files/{name}")
def simulation_job_file(request: Request, user: RequiredUser, job_id: str, name: str) -> Response:
    """A file of a finished run: summary.json, replications.csv, daily.csv, comparison.csv."""
    job = _job_or_404(request, job_id, "simulation")
    if job.status is not JobStatus.done:
        raise NotFound("the run has not finished")
    return _file_response(_job_file(job, name))
