"""Simulation pages: run a scenario in the background, follow its progress, read its results.

A scenario (the example at a population, a trust from its stored data, or YAML pasted into the
page) runs in a background thread (:func:`flowplan.sim.runner.run_scenario`), with the chosen
example schemes run on the same random numbers. The job page polls its progress (htmx, with a
meta-refresh fallback) and then shows the KPIs with 95 % confidence intervals, the scheme
effects (paired differences) and the HTML report. Starting a run (and loading a trust's
scenario) needs the role that runs models; any signed-in user may view runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from flowplan.errors import UsageError
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
from flowplan.store.sim_inputs import scenario_from_data
from flowplan.store.users import Account
from flowplan.web.deps import Ctx, RequiredUser, require
from flowplan.web.forms import FormErrors, FormFields, FormProblems, FormReader, render_form
from flowplan.web.jobs import JobContext, JobsBusy
from flowplan.web.routers.analysis.shared import (
    RUN_MESSAGE,
    AnalysisSettings,
    analysis_state,
    fmt,
    job_file_response,
    job_or_404,
    may_run,
    render_job,
)
from flowplan.web.templating import render

router = APIRouter(include_in_schema=False)

SIM_SOURCES = ("example", "trust", "yaml")
POOL_MIN_REPLICATION_DAYS = 4 * 365
"""Smallest run (replications × measured days, all scenarios) worth starting a process pool."""
HEADLINE_KPIS = (
    "ed.four_hour_pct",
    "ambulance.handover_over_30_pct",
    "ward.occupancy_mean_pct",
    "ward.nctr_mean",
)


class SimulationForm(FormFields):
    """The run form: the scenario's source (and what it needs), run options, schemes."""

    source: str = Field("example", max_length=16)
    population: str = Field("750000", max_length=16)
    org: str = Field("", max_length=32)
    months: str = Field("12", max_length=8)
    scenario_yaml: str = Field("", alias="yaml", max_length=500_000)
    replications: str = Field("10", max_length=16)
    seed: str = Field("", max_length=16)
    days: str = Field("", max_length=16)
    warmup: str = Field("", max_length=16)
    schemes: list[str] = Field(default_factory=list)


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
    errors: FormErrors | None = None,
    assumptions: Sequence[str] = (),
    status_code: int | None = None,
) -> Response:
    state = analysis_state(request)
    context = {
        "title": "Simulation",
        "v": SimulationForm.defaults() | (values or {}),
        "chosen": list(schemes),
        "example_schemes": EXAMPLE_SCHEMES,
        "assumptions": list(assumptions),
        "can_run": may_run(user),
        "limits": state.settings,
        "jobs": state.jobs.jobs("simulation")[:10],
    }
    return render_form(
        request, "analysis/simulation.html.j2", context, errors=errors, status_code=status_code
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
    problems = FormProblems()
    assumptions: list[str] = []
    scenario: Scenario | None = None
    if load == "trust":
        require(may_run(user), RUN_MESSAGE)
        found = problems.check("org", lambda: _trust_scenario(ctx, values))
        if found is not None:
            scenario, assumptions = found
    else:
        limits = analysis_state(request).settings
        scenario = problems.check("population", lambda: _example(values, limits))
    if scenario is not None:
        values |= {"source": "yaml", "yaml": dump_scenario(scenario)}
    return _simulation_page(request, user, values, errors=problems.errors, assumptions=assumptions)


# --- the scenario and options --------------------------------------------------------------------


def _example(values: dict[str, str], limits: AnalysisSettings) -> Scenario:
    people = FormReader(values).whole(
        "population",
        "Population",
        minimum=1000,
        maximum=limits.max_population,
        missing="Population: enter the population served",
    )
    return example_scenario(people)


def _trust_scenario(ctx: Ctx, values: dict[str, str]) -> tuple[Scenario, list[str]]:
    form = FormReader(values, "org")  # the trust and its months of data: one message
    code = form.code("org", "Trust")
    window = form.whole("months", "Months", minimum=1, maximum=60, default=12)
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
) -> tuple[SimAsk | None, FormErrors]:
    """The checked request, or None and every problem by field."""
    problems = FormProblems()
    form = FormReader(values)
    replications = problems.check(
        "replications",
        lambda: form.whole(
            "replications",
            "Replications",
            minimum=1,
            maximum=limits.max_replications,
            default=10,
        ),
    )
    seed = problems.check(
        "seed", lambda: form.optional_whole("seed", "Seed", minimum=0, maximum=2**32 - 1)
    )
    days = problems.check(
        "days", lambda: form.optional_whole("days", "Days", minimum=1, maximum=limits.max_days)
    )
    warmup = problems.check(
        "warmup", lambda: form.optional_whole("warmup", "Warm-up days", minimum=0, maximum=365)
    )
    unknown = [s for s in schemes if s not in EXAMPLE_SCHEMES]
    if unknown:
        problems.add("schemes", f"unknown scheme(s): {', '.join(unknown)}")
    source = problems.check(
        "source",
        lambda: form.choice(
            "source", SIM_SOURCES, "choose the example, a trust from data, or your own YAML"
        ),
    )
    base: Scenario | None = None
    assumptions: list[str] = []
    if source == "example":
        base = problems.check("population", lambda: _example(values, limits))
    elif source == "trust":
        found = problems.check("org", lambda: _trust_scenario(ctx, values))
        if found is not None:
            base, assumptions = found
    elif source == "yaml":
        base = problems.check("yaml", lambda: _yaml_scenario(values["yaml"]))
    if base is None or problems:
        return None, problems.errors
    scheme_runs = {
        name: problems.check("schemes", partial(with_scheme, base, name)) for name in schemes
    }
    checked = {name: run for name, run in scheme_runs.items() if run is not None}
    if problems:
        return None, problems.errors
    return (
        SimAsk(
            base=base,
            schemes=checked,
            replications=replications or 10,
            seed=seed,
            days=days,
            warmup=warmup,
            source=source or "",
            assumptions=assumptions,
        ),
        problems.errors,
    )


# --- the run -------------------------------------------------------------------------------------


def _kpi_row(summary: pd.DataFrame, kpi: str) -> dict[str, str]:
    row = summary.loc[kpi]
    low, high = num(row["ci_low"]), num(row["ci_high"])
    return {
        "kpi": kpi,
        "label": KPI_LABELS.get(kpi, kpi),
        "mean": fmt(num(row["mean"])),
        "ci": f"{fmt(low)} to {fmt(high)}" if math.isfinite(low) else "–",
        "n": str(int(num(row["n"]))),
    }


def _signed(x: float) -> str:
    return f"{x:+,.3g}" if math.isfinite(x) else "–"


def _effect_rows(table: pd.DataFrame, shown: Sequence[str]) -> list[dict[str, str]]:
    rows = []
    for r in table.itertuples(index=False):
        kpi = str(r.kpi)
        if kpi not in shown or int(num(r.n)) == 0:
            continue
        diff, low, high = num(r.diff_mean), num(r.ci_low), num(r.ci_high)
        clear = math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)
        pct = num(r.pct_change)
        rows.append(
            {
                "scheme": str(r.scenario),
                "kpi": kpi,
                "label": KPI_LABELS.get(kpi, kpi),
                "base": fmt(num(r.base_mean)),
                "scheme_mean": fmt(num(r.mean)),
                "diff": _signed(diff),
                "ci": f"{_signed(low)} to {_signed(high)}" if math.isfinite(low) else "–",
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
    request: Request, ctx: Ctx, user: RequiredUser, fields: Annotated[SimulationForm, Form()]
) -> Response:
    """Check the scenario and options, start the run in the background, go to its page."""
    require(may_run(user), RUN_MESSAGE)
    values = fields.values()
    chosen = list(dict.fromkeys(fields.schemes))
    state = analysis_state(request)
    settings = state.settings
    ask, errors = _sim_ask(ctx, values, chosen, settings)
    if ask is None:
        return _simulation_page(request, user, values, chosen, errors)
    title = f"Simulation of {ask.base.name}: {ask.replications} replication(s)" + (
        f", schemes {', '.join(ask.schemes)}" if ask.schemes else ""
    )
    params = {
        "source": fields.source,
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
        busy = {"run": exc.lines()}
        return _simulation_page(
            request, user, values, chosen, busy, ask.assumptions, status_code=503
        )
    return RedirectResponse(f"/simulation/jobs/{job.id}", status_code=303)


@router.get("/simulation/jobs/{job_id}")
def simulation_job(request: Request, user: RequiredUser, job_id: str) -> Response:
    """A run: progress while it runs (polled), then KPIs with CIs, scheme effects, the report."""
    return render_job(request, job_id, "simulation", "analysis/job.html.j2")


@router.get("/simulation/jobs/{job_id}/progress")
def simulation_job_progress(request: Request, user: RequiredUser, job_id: str) -> Response:
    """The progress fragment (htmx polls it every second); when the run has ended it asks the
    page to reload (``HX-Refresh``) to show the results."""
    job = job_or_404(request, job_id, "simulation")
    response = render(request, "analysis/_progress.html.j2", {"job": job})
    if job.status.finished:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/simulation/jobs/{job_id}/report")
def simulation_job_report(request: Request, user: RequiredUser, job_id: str) -> Response:
    """The run's HTML report (KPIs, daily charts, scheme table when schemes were compared)."""
    unfinished = "the run has not finished; its report is not written yet"
    return job_file_response(request, job_id, "simulation", "report.html", unfinished=unfinished)


@router.get("/simulation/jobs/{job_id}/files/{name}")
def simulation_job_file(request: Request, user: RequiredUser, job_id: str, name: str) -> Response:
    """A file of a finished run: summary.json, replications.csv, daily.csv, comparison.csv."""
    unfinished = "the run has not finished"
    return job_file_response(request, job_id, "simulation", name, unfinished=unfinished)
