"""Demand pages: the review of drivers of pressure and forecasts of a stored series.

The review runs :mod:`flowplan.demand.review` on
:func:`~flowplan.store.review_inputs.review_inputs` and writes its report with
:mod:`flowplan.demand.report`; a forecast is :func:`flowplan.demand.forecast.forecast` of a
stored series with 80 % and 95 % prediction intervals. Both are kept in the job registry (a link
to them can be shared) and need the role that runs models; any signed-in user may view them.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from flowplan.data.grain import Grain
from flowplan.demand.forecast import forecast as forecast_engine
from flowplan.demand.report import write_report as write_review_report
from flowplan.demand.review import review as review_engine
from flowplan.errors import FlowplanError
from flowplan.store.review_inputs import review_inputs
from flowplan.store.users import Account
from flowplan.web.charts import Band, Line, line_figure, number, to_json
from flowplan.web.deps import Ctx, RequiredUser, require
from flowplan.web.forms import (
    ORG_CODE,
    FormErrors,
    FormFields,
    FormProblems,
    FormReader,
    error_text,
    render_form,
)
from flowplan.web.routers.analysis.shared import (
    BLUE,
    GREY,
    LIGHT_BLUE,
    RUN_MESSAGE,
    analysis_state,
    fmt,
    job_file_response,
    may_run,
    new_figure,
    png_url,
    render_job,
)

router = APIRouter(include_in_schema=False)

FORECAST_GRAINS = ("day", "week", "month")
FORECAST_MODELS = ("default", "seasonal_naive", "ets", "arima", "mstl")
MAX_HORIZON = {"day": 366, "week": 104, "month": 36}
HISTORY_SHOWN = {"day": 120, "week": 104, "month": 48}
_MEASURE = re.compile(r"^[a-z0-9_]{1,64}$")


class ReviewForm(FormFields):
    """The review form: organisation, footprint, window and occupancy threshold (%)."""

    org: str = Field("", max_length=64)
    footprint: str = Field("", max_length=64)
    start: str = Field("", max_length=32)
    end: str = Field("", max_length=32)
    threshold: str = Field("92", max_length=32)


class ForecastForm(FormFields):
    """The forecast form (and the query of its CSV download)."""

    org: str = Field("", max_length=64)
    measure: str = Field("", max_length=64)
    breakdown: str = Field("", max_length=64)
    grain: str = Field("day", max_length=16)
    horizon: str = Field("28", max_length=16)
    model: str = Field("default", max_length=32)


def _demand_page(
    request: Request,
    ctx: Ctx,
    user: Account,
    *,
    review_values: dict[str, str] | None = None,
    forecast_values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
) -> Response:
    rv = ReviewForm.defaults() | (review_values or {})
    fv = ForecastForm.defaults() | (forecast_values or {})
    org = (fv.get("org") or rv.get("org") or "").strip().upper()
    series: list[dict[str, Any]] = []
    if org and ORG_CODE.match(org):
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
    context = {
        "title": "Demand",
        "org": org,
        "series": series,
        "measures": sorted({s["measure"] for s in series}),
        "footprints": ctx.store.footprints(),
        "review": rv,
        "fc": fv,
        "grains": FORECAST_GRAINS,
        "models": FORECAST_MODELS,
        "can_run": may_run(user),
        "reviews": jobs.jobs("review")[:10],
        "forecasts": jobs.jobs("forecast")[:10],
    }
    return render_form(request, "analysis/demand.html.j2", context, errors=errors)


@router.get("/demand")
def demand_page(
    request: Request, ctx: Ctx, user: RequiredUser, org: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    """The demand forms: review of drivers of pressure and forecast (series of ``org`` listed)."""
    org = org.strip().upper()
    return _demand_page(
        request, ctx, user, review_values={"org": org}, forecast_values={"org": org}
    )


# --- review --------------------------------------------------------------------------------------


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


def _run_review(ctx: Ctx, form: FormReader) -> tuple[str, Any]:
    code = form.code("org", "Organisation")
    start, end = form.day("start", "Start"), form.day("end", "End")
    label = "Occupancy threshold (%)"
    pct = form.number("threshold", label, above=0, maximum=100)
    inputs = review_inputs(ctx.store, code, form.text("footprint") or None, start, end)
    return code, review_engine(inputs, occupancy_threshold=pct / 100.0)


@router.post("/demand/review")
def demand_review(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[ReviewForm, Form()]
) -> Response:
    """Run the review of drivers of pressure for an organisation (and footprint); keep the
    report and tables; go to the results."""
    values = fields.values()
    footprint = fields.footprint.strip()
    require(may_run(user, footprint), RUN_MESSAGE)
    problems = FormProblems()
    ran = problems.check("review", lambda: _run_review(ctx, FormReader(values, "review")))
    if ran is None:
        return _demand_page(request, ctx, user, review_values=values, errors=problems.errors)
    code, result = ran
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
        f"Review of drivers of pressure: {code}" + (f" in {footprint}" if footprint else ""),
        summary,
        params=values,
        folder=folder,
    )
    return RedirectResponse(f"/demand/reviews/{job.id}", status_code=303)


@router.get("/demand/reviews/{job_id}")
def demand_review_result(request: Request, user: RequiredUser, job_id: str) -> Response:
    """A kept review: findings by question, what could not be answered, the report and tables."""
    return render_job(request, job_id, "review", "analysis/review.html.j2")


@router.get("/demand/reviews/{job_id}/{name}")
def demand_review_file(request: Request, user: RequiredUser, job_id: str, name: str) -> Response:
    """The HTML report (``review.html``) or one of the review's CSV tables."""
    return job_file_response(request, job_id, "review", name)


# --- forecast ------------------------------------------------------------------------------------


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
    form = FormReader(values, "forecast")
    org = form.code("org", "Organisation")
    measure = form.text("measure")
    if not _MEASURE.match(measure):
        raise form.problem("measure", "Measure: choose one of the organisation's stored measures")
    grain = form.choice(
        "grain", FORECAST_GRAINS, "Grain must be day, week or month (got {got!r})", fold_case=True
    )
    model = form.choice(
        "model",
        FORECAST_MODELS,
        f"Model must be one of {', '.join(FORECAST_MODELS)}",
        default="default",
    )
    horizon = form.whole(
        "horizon",
        f"Horizon ({grain}s)",
        minimum=1,
        maximum=MAX_HORIZON[grain],
        missing="Horizon: enter the number of periods to forecast",
    )
    return ForecastAsk(org, measure, form.text("breakdown"), grain, horizon, model)


def _forecast_chart(history: pd.DataFrame, table: pd.DataFrame, title: str) -> str:
    figure = new_figure(9, 3.8)
    axis = figure.add_subplot()
    ds = pd.to_datetime(table["ds"])
    for level, alpha in ((95, 0.45), (80, 0.9)):
        if f"lo_{level}" in table:
            axis.fill_between(
                ds,
                table[f"lo_{level}"],
                table[f"hi_{level}"],
                color=LIGHT_BLUE,
                alpha=alpha,
                label=f"{level} % interval",
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
    return png_url(figure)


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
        "rows": [[str(r[0]), *(fmt(v, 4) for v in r[1:])] for r in table.itertuples(index=False)],
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


def _checked_forecast(ctx: Ctx, values: dict[str, str]) -> tuple[ForecastAsk, dict[str, Any]]:
    ask = _forecast_ask(values)
    return ask, _run_forecast(ctx, ask)


@router.post("/demand/forecast")
def demand_forecast(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[ForecastForm, Form()]
) -> Response:
    """Forecast a stored series with 80 % and 95 % prediction intervals; keep it; show it."""
    values = fields.values()
    require(may_run(user), RUN_MESSAGE)
    problems = FormProblems()
    ran = problems.check("forecast", lambda: _checked_forecast(ctx, values))
    if ran is None:
        return _demand_page(request, ctx, user, forecast_values=values, errors=problems.errors)
    ask, result = ran
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
    return render_job(request, job_id, "forecast", "analysis/forecast.html.j2")


@router.get("/demand/forecast.csv")
def demand_forecast_csv(
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[ForecastForm, Query()]
) -> Response:
    """The forecast as CSV (``ds, mean, lo_80, hi_80, lo_95, hi_95``).

    A kept forecast with these parameters is served to any signed-in user; otherwise it is
    worked out, which needs the role that runs models.
    """
    try:
        ask = _forecast_ask(fields.values())
        kept = analysis_state(request).jobs.find("forecast", ask.key)
        if kept is not None:
            table: pd.DataFrame = kept.result["table"]
        else:
            require(
                may_run(user),
                "this forecast has not been run; ask an analyst to run it (" + RUN_MESSAGE + ")",
            )
            table = _run_forecast(ctx, ask)["table"]
    except FlowplanError as exc:  # FormProblem included
        return Response(error_text(exc) + "\n", status_code=422, media_type="text/plain")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    name = f"forecast_{ask.org}_{ask.measure}_{ask.grain}_{ask.horizon}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
