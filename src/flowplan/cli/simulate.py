"""Simulation commands: ``flowplan scenario ...`` (documents) and ``flowplan simulate ...`` (runs).

``flowplan simulate FILE ...`` runs a scenario file (``simulate run FILE`` is the same), and
``flowplan simulate compare BASE SCHEME ...`` compares schemes with common random numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from flowplan.cli.common import DbOption, app, err, out, reports_errors
from flowplan.errors import UsageError
from flowplan.sim.examples import queue_scenario
from flowplan.sim.scenario import Scenario, dump_scenario, load_scenario, scenario_json_schema

scenario_app = typer.Typer(
    help="Scenario documents: examples, from a trust's data, schema, validation.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(scenario_app, name="scenario")


class _DefaultRunGroup(TyperGroup):
    """A group whose first argument, when it is not a subcommand, is a file for ``run``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


simulate_app = typer.Typer(
    cls=_DefaultRunGroup,
    help="Run a scenario file (flowplan simulate FILE ...) or compare schemes (simulate compare).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(simulate_app, name="simulate")


# --- scenario documents ------------------------------------------------------------------------


@scenario_app.command("example")
@reports_errors
def example_cmd(
    population: Annotated[int, typer.Option(help="Resident population served.")] = 750_000,
    scheme: Annotated[
        list[str] | None,
        typer.Option(
            help="Example scheme to add (repeatable): urgent_community_response, "
            "discharge_to_assess, seven_day_discharge, front_door_streaming."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
) -> None:
    """The example whole-system scenario for a population, as YAML on stdout."""
    from flowplan.sim.examples import EXAMPLE_SCHEMES, example_scenario

    if population <= 0:
        raise UsageError(f"--population must be > 0 (got {population})")
    unknown = [s for s in scheme or [] if s not in EXAMPLE_SCHEMES]
    if unknown:
        raise UsageError(f"--scheme: unknown {', '.join(unknown)}; choose from {EXAMPLE_SCHEMES}")
    _print_scenario(example_scenario(population, scheme or []), fmt)


def _print_scenario(s: Scenario, fmt: str) -> None:
    if fmt not in ("yaml", "json"):
        raise UsageError(f"--format must be yaml or json (got {fmt!r})")
    out.print(dump_scenario(s, "json" if fmt == "json" else "yaml"), markup=False, end="")


@scenario_app.command("queue")
@reports_errors
def queue_cmd(
    arrival_rate: Annotated[float, typer.Option(help="Arrivals per --unit.")],
    service_mean: Annotated[float, typer.Option(help="Mean service time in --unit.")],
    servers: Annotated[int, typer.Option(help="Number of servers.")],
    unit: Annotated[str, typer.Option(help="minute, hour or day.")] = "hour",
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
) -> None:
    """A single M/M/c queue scenario (KPI prefix ``queue``), as YAML on stdout."""
    if unit not in ("minute", "hour", "day"):
        raise UsageError(f"--unit must be minute, hour or day (got {unit!r})")
    if arrival_rate < 0 or service_mean <= 0 or servers < 0:
        raise UsageError("--arrival-rate must be ≥ 0, --service-mean > 0 and --servers ≥ 0")
    u: Literal["minute", "hour", "day"] = unit  # type: ignore[assignment]
    _print_scenario(queue_scenario(arrival_rate, service_mean, servers, u), fmt)


@scenario_app.command("from-data")
@reports_errors
def from_data_cmd(
    org: Annotated[str, typer.Option(help="Trust code, e.g. RXN.")],
    months: Annotated[int, typer.Option(help="Months in the window.")] = 12,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    db: DbOption = None,
) -> None:
    """A scenario scaled to a trust's stored series: YAML on stdout, assumptions on stderr."""
    from flowplan.store.sim_inputs import scenario_from_data
    from flowplan.store.store import Store

    scenario, assumptions = scenario_from_data(Store(db), org, months)
    for line in assumptions:
        err.print(f"assumption: {line}", markup=False)
    _print_scenario(scenario, fmt)


@scenario_app.command("schema")
def schema_cmd() -> None:
    """The JSON Schema of scenario documents."""
    out.print(json.dumps(scenario_json_schema(), indent=2), markup=False)


@scenario_app.command("validate")
@reports_errors
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML, or JSON for .json).")],
) -> None:
    """Check a scenario file: one line per problem naming the field, exit status 2."""
    from flowplan.sim.examples import implied_annual_flows

    s = load_scenario(file)
    out.print(f"{file}: valid scenario {s.name!r}", markup=False)
    flows = implied_annual_flows(s)
    shown = {k: v for k, v in flows.items() if v > 0}
    if shown:
        out.print(
            "implied a year: "
            + ", ".join(
                f"{k} {v:,.0f}" for k, v in shown.items() if k != "occupied_beds_before_delays"
            ),
            markup=False,
        )


# --- runs ----------------------------------------------------------------------------------------

ReplicationsOption = Annotated[
    str, typer.Option("--replications", help="Number of replications, or auto.")
]
SeedOption = Annotated[int | None, typer.Option(help="Master seed (default: the file's run.seed).")]
DaysOption = Annotated[int | None, typer.Option(help="Measured days (default: run.days).")]
WarmupOption = Annotated[int | None, typer.Option(help="Warm-up days (default: run.warmup_days).")]
EngineOption = Annotated[str, typer.Option(help="fast (numba) or simpy (reference).")]
ExecutorOption = Annotated[str, typer.Option(help="process, sequential or dask.")]
SchedulerOption = Annotated[
    str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
]
WorkersOption = Annotated[int | None, typer.Option(help="Parallel workers (default: all cores).")]


def _replications(text: str) -> int | Literal["auto"]:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"--replications must be a whole number or auto (got {text!r})") from None
    if n < 1:
        raise UsageError(f"--replications must be ≥ 1 (got {n})")
    return n


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} must be {' or '.join(choices)} (got {value!r})")


class _Bar:
    """A Rich progress bar on stderr fed by the runner's callbacks."""

    def __init__(self, label: str) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task = self.progress.add_task(label, total=None)

    def estimate(self, seconds: float) -> None:
        err.print(f"estimated run time: {_duration(seconds)}", markup=False)

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def __enter__(self) -> _Bar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _run_options(
    engine: str, executor: str, scheduler: str | None, workers: int | None
) -> dict[str, Any]:
    _check_choice("--engine", engine, ("fast", "simpy"))
    _check_choice("--executor", executor, ("process", "sequential", "dask"))
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be ≥ 1 (got {workers})")
    if scheduler is not None and executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    return {"engine": engine, "executor": executor, "scheduler": scheduler, "workers": workers}


def _num(value: object) -> float:
    """A pandas cell as a float."""
    return float(cast(Any, value))


def _json_value(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _mkdir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file, not a folder: choose another --out")
    path.mkdir(parents=True, exist_ok=True)


@simulate_app.command("run")
@reports_errors
def run_cmd(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML, or JSON for .json).")],
    replications: ReplicationsOption = "10",
    seed: SeedOption = None,
    days: DaysOption = None,
    warmup: WarmupOption = None,
    engine: EngineOption = "fast",
    executor: ExecutorOption = "process",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    tolerance: Annotated[
        float, typer.Option(help="auto: CI half-width wanted, fraction of the mean.")
    ] = 0.01,
    absolute: Annotated[
        bool, typer.Option("--absolute", help="auto: --tolerance in the KPI's units instead.")
    ] = False,
    auto_kpi: Annotated[
        list[str] | None, typer.Option(help="auto: KPI to control (repeatable).")
    ] = None,
    max_replications: Annotated[int, typer.Option(help="auto: most replications.")] = 200,
    observed_org: Annotated[
        str | None,
        typer.Option(help="Add observed occupancy and NCTR of this trust to the report."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
        "out/simulate"
    ),
    db: DbOption = None,
) -> None:
    """Run a scenario: summary.json, replications.csv, daily.csv and report.html in --out.

    summary.json maps every KPI to its mean, 95 % confidence interval (Student t across
    replications) and n. With --replications auto, batches run until the CI half-width of the
    controlled KPIs is within --tolerance × mean (or --tolerance itself with --absolute).
    """
    from flowplan.sim.report import write_run
    from flowplan.sim.runner import run_scenario

    reps = _replications(replications)
    options = _run_options(engine, executor, scheduler, workers)
    scenario = load_scenario(file)
    _mkdir(out_dir)
    with _Bar(f"simulating {scenario.name}") as bar:
        result = run_scenario(
            scenario,
            replications=reps,
            seed=seed,
            days=days,
            warmup=warmup,
            progress=bar.update,
            on_estimate=bar.estimate,
            auto_kpis=auto_kpi or None,
            auto_tolerance=tolerance,
            auto_relative=not absolute,
            max_replications=max_replications,
            **options,
        )
    observed = None
    observed_notes: list[str] = []
    if observed_org is not None:
        from flowplan.store.sim_inputs import comparison_notes, observed_comparison
        from flowplan.store.store import Store

        observed = observed_comparison(Store(db), observed_org, result)
        observed_notes = comparison_notes(observed)
    notes = [f"scenario file: {file}"]
    if result.auto is not None:
        notes.append(_auto_text(result.auto))
    report = write_run(
        result, out_dir, observed=observed, notes=notes, observed_notes=observed_notes
    )
    _print_headline(result)
    if result.auto is not None:
        out.print(_auto_text(result.auto), markup=False)
    t = result.timings
    out.print(
        f"{result.n} replication(s) × {result.days} day(s) in {t.wall_s:.1f} s "
        f"(estimate {t.estimate_s:.1f} s; {t.workers} worker(s), {t.executor})",
        markup=False,
    )
    out.print(f"outputs: {out_dir}/summary.json, replications.csv, daily.csv; report: {report}")


def _auto_text(auto: Any) -> str:
    goal = f"{auto.tolerance:.2%} of the mean" if auto.relative else f"{auto.tolerance:g}"
    status = "reached" if auto.reached else "not reached (maximum replications)"
    return f"auto replications: CI half-width within {goal} for {', '.join(auto.kpis)}: {status}"


HEADLINE_KPIS = (
    "ed.four_hour_pct",
    "ambulance.handover_over_30_pct",
    "ward.occupancy_mean_pct",
    "ward.nctr_mean",
)


def _print_headline(result: Any) -> None:
    from flowplan.sim.report import KPI_LABELS, kpi_applies

    s = result.summary
    shown = [k for k in HEADLINE_KPIS if kpi_applies(result, k)]
    if not shown:
        busy = [
            str(k)[: -len(".arrivals")]
            for k in s.index
            if str(k).endswith(".arrivals") and _num(s.loc[k, "mean"]) > 0
        ]
        shown = [f"{r}.{suffix}" for r in busy for suffix in ("utilisation", "mean_wait_hours")]
    for k in shown:
        r = s.loc[k]
        if not math.isfinite(_num(r["mean"])):
            continue
        ci = (
            f" (95% CI {r['ci_low']:.3g} to {r['ci_high']:.3g})"
            if math.isfinite(_num(r["ci_low"]))
            else ""
        )
        out.print(f"{KPI_LABELS.get(k, k)}: {r['mean']:.3g}{ci}", markup=False)


@simulate_app.command("compare")
@reports_errors
def compare_cmd(
    base: Annotated[Path, typer.Argument(help="Base scenario file.")],
    schemes: Annotated[list[Path], typer.Argument(help="Scenario files with the schemes.")],
    replications: Annotated[int, typer.Option(help="Replications of every run.")] = 10,
    seed: SeedOption = None,
    days: DaysOption = None,
    warmup: WarmupOption = None,
    engine: EngineOption = "fast",
    executor: ExecutorOption = "process",
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
        "out/compare"
    ),
) -> None:
    """Scheme effects: paired differences (scheme − base) with 95 % CIs for every KPI.

    Every run uses the same seed, so replication i of each sees the same random numbers (common
    random numbers). Writes comparison.csv, comparison.json and report.html to --out.
    """
    from flowplan.sim.report import write_frame, write_report
    from flowplan.sim.runner import RunResult, compare_runs, run_scenario, scenario_label

    if replications < 1:
        raise UsageError(f"--replications must be ≥ 1 (got {replications})")
    options = _run_options(engine, executor, scheduler, workers)
    base_s = load_scenario(base)
    others = [load_scenario(f) for f in schemes]
    _mkdir(out_dir)
    runs: dict[str, RunResult] = {}

    def one(s: Scenario, label: str, seed_: int | None) -> RunResult:
        with _Bar(f"simulating {label}") as bar:
            return run_scenario(
                s,
                replications=replications,
                seed=seed_,
                days=days,
                warmup=warmup,
                progress=bar.update,
                on_estimate=bar.estimate,
                **options,
            )

    base_run = one(base_s, base_s.name, seed)
    for s in others:
        label = scenario_label(s, [base_run.name, *runs])
        runs[label] = one(s, label, base_run.seed)
    table = compare_runs(base_run, runs)
    write_frame(table, out_dir / "comparison.csv")
    payload: dict[str, Any] = {
        "base": base_run.name,
        "seed": base_run.seed,
        "replications": replications,
        "schemes": {
            label: {
                str(r.kpi): {
                    k: _json_value(float(getattr(r, k)))
                    for k in ("base_mean", "mean", "diff_mean", "ci_low", "ci_high")
                }
                | {"n": int(_num(r.n))}
                for r in table[table["scenario"] == label].itertuples(index=False)
            }
            for label in runs
        },
    }
    (out_dir / "comparison.json").write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    report = write_report(
        base_run,
        out_dir,
        title=f"Scheme comparison against {base_run.name}",
        comparison=table,
        notes=[f"base: {base}", *(f"scheme: {f}" for f in schemes)],
    )
    _print_effects(table)
    out.print(f"outputs: {out_dir}/comparison.csv, comparison.json; report: {report}")


def _print_effects(table: pd.DataFrame) -> None:
    fmt: Callable[[float], str] = lambda x: f"{x:+.3g}" if math.isfinite(x) else "–"  # noqa: E731
    for r in table.itertuples(index=False):
        if str(r.kpi) not in HEADLINE_KPIS or int(_num(r.n)) == 0:
            continue
        out.print(
            f"{r.scenario}: {r.kpi} {fmt(_num(r.diff_mean))} "
            f"(95% CI {fmt(_num(r.ci_low))} to {fmt(_num(r.ci_high))})",
            markup=False,
        )
