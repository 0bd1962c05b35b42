"""Run many replications of a scenario, summarise them with confidence intervals, compare schemes.

Replication ``i`` of a run with master ``seed`` always uses the random streams
``replication_generators(seed, N)[i]`` would give for any ``N > i``: they are derived from
``SeedSequence(seed, spawn_key=(i,))``, which is exactly ``SeedSequence(seed).spawn(N)[i]``.
A replication's KPIs therefore do not depend on how many replications run, in what order, or on
which executor (in-process, a process pool, or a Dask cluster); and two scenarios run with the same
seed share common random numbers, so their paired differences (:func:`compare_runs`) have far less
noise than the difference of two independent runs.

Confidence intervals are Student-t intervals across replications at 95 %:
``mean ± t(0.975, n − 1) × sd / √n`` over the replications where the KPI is finite.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from flowplan.errors import FlowplanError, UsageError
from flowplan.sim.compiled import (
    N_BUILTIN_RNG_STREAMS,
    CompiledScenario,
    compile_scenario,
)
from flowplan.sim.output import Engine, ReplicationOutput
from flowplan.sim.scenario import Scenario

__all__ = [
    "CI_LEVEL",
    "DEFAULT_AUTO_KPIS",
    "AutoStop",
    "RunResult",
    "RunTimings",
    "SimulationError",
    "compare_runs",
    "compare_scenarios",
    "replication_streams",
    "resolve_engine",
    "run_scenario",
    "summarise",
    "t_interval",
]

CI_LEVEL = 0.95
"""Two-sided level of every confidence interval."""

DEFAULT_AUTO_KPIS: tuple[str, ...] = (
    "ward.occupancy_mean_pct",
    "ed.four_hour_pct",
    "ambulance.handover_over_30_pct",
    "ward.nctr_mean",
)
"""KPIs whose precision ``replications="auto"`` controls when none are named (those that are
finite in the scenario; a scenario without them, e.g. a lone queue, uses every finite
``*.utilisation`` and ``*.mean_wait_hours`` KPI instead)."""

EngineName = Literal["fast", "simpy"]
ExecutorName = Literal["process", "sequential", "dask"]
Progress = Callable[[int, int], None]
"""``progress(done, total)``: replications finished and planned so far (``total`` may grow
while ``replications="auto"`` adds batches)."""


class SimulationError(FlowplanError):
    """An engine returned something that breaks the engine contract (a bug, not user input)."""


# --- engines and random streams --------------------------------------------------------------


def resolve_engine(engine: EngineName | str | Engine) -> Engine:
    """The engine function for a name (``fast``: numba; ``simpy``: the reference) or itself.

    Raises:
        UsageError: an unknown name, or the engine's module is not installed/available.
    """
    if callable(engine):
        return engine
    if engine == "fast":
        try:
            from flowplan.sim.fast import run_replication as fast_run
        except ImportError as exc:
            raise UsageError(f"engine fast is not available: {exc}") from None
        return fast_run
    if engine == "simpy":
        try:
            from flowplan.sim.reference import run_replication as simpy_run
        except ImportError as exc:
            raise UsageError(f"engine simpy is not available: {exc}") from None
        return simpy_run
    raise UsageError(f"--engine must be fast or simpy (got {engine!r})")


def _engine_label(engine: str | Engine) -> str:
    return engine if isinstance(engine, str) else getattr(engine, "__name__", "custom")


def replication_streams(seed: int, index: int, n_queues: int = 0) -> list[np.random.Generator]:
    """The random streams of replication ``index`` (0-based) of a run with master ``seed``.

    Equal, draw for draw, to ``replication_generators(seed, N, n_queues)[index]`` for every
    ``N > index`` (``SeedSequence.spawn`` gives child ``i`` the spawn key ``(i,)``).
    """
    child = np.random.SeedSequence(seed, spawn_key=(index,))
    seqs = child.spawn(N_BUILTIN_RNG_STREAMS + 2 * n_queues)
    return [np.random.Generator(np.random.PCG64(s)) for s in seqs]


ChunkResult = list[tuple[int, ReplicationOutput, float]]


def _run_chunk(
    compiled: CompiledScenario, engine: str | Engine, seed: int, indices: Sequence[int]
) -> ChunkResult:
    """Run replications ``indices`` in this process: (index, output, seconds) each."""
    run = resolve_engine(engine)
    out: ChunkResult = []
    for i in indices:
        rngs = replication_streams(seed, i, compiled.n_queues)
        start = time.perf_counter()
        result = run(compiled, rngs)
        out.append((i, result, time.perf_counter() - start))
    return out


# --- statistics --------------------------------------------------------------------------------


def t_interval(values: Iterable[float], level: float = CI_LEVEL) -> tuple[float, float, float, int]:
    """Mean and Student-t confidence interval of the finite values.

    Args:
        values: one value per replication (NaN values are left out).
        level: two-sided confidence level (0.95 = 95 %).

    Returns:
        ``(mean, ci_low, ci_high, n)``; the bounds are NaN when ``n < 2``, the mean NaN when
        ``n = 0``.
    """
    x = np.asarray(list(values), dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def summarise(replications: pd.DataFrame, level: float = CI_LEVEL) -> pd.DataFrame:
    """Per KPI column: mean, ci_low, ci_high, n across replications (Student-t interval).

    Args:
        replications: one row per replication; every column but ``replication`` is a KPI.
        level: two-sided confidence level.

    Returns:
        Frame indexed by ``kpi`` with columns ``mean``, ``ci_low``, ``ci_high``, ``n``.
    """
    rows = []
    for kpi in replications.columns:
        if kpi == "replication":
            continue
        mean, low, high, n = t_interval(replications[kpi].to_numpy(dtype=np.float64), level)
        rows.append({"kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    frame = pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "n"])
    return frame.set_index("kpi")


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTimings:
    """Where the time of a run went.

    Attributes:
        estimate_s: run time predicted after the first replication (seconds; it includes any
            JIT compilation the first replication paid for).
        wall_s: whole run, seconds.
        replication_s: seconds of each replication, in replication order (engine time only).
        workers: parallel workers used (1 = sequential).
        executor: ``sequential``, ``process``, ``dask`` or the executor's class name.
        events: events processed over all replications (as the engine reports them).
    """

    estimate_s: float
    wall_s: float
    replication_s: list[float]
    workers: int
    executor: str
    events: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (per-replication seconds as median and total)."""
        reps = np.asarray(self.replication_s, dtype=np.float64)
        return {
            "estimate_s": round(self.estimate_s, 3),
            "wall_s": round(self.wall_s, 3),
            "replication_s_median": round(float(np.median(reps)), 4) if reps.size else None,
            "replication_s_total": round(float(reps.sum()), 3),
            "workers": self.workers,
            "executor": self.executor,
            "events": self.events,
        }


@dataclass(frozen=True)
class AutoStop:
    """How ``replications="auto"`` ended.

    Attributes:
        kpis: the KPIs whose precision was controlled.
        tolerance: the half-width wanted (fraction of the mean when ``relative``, else KPI units).
        relative: whether ``tolerance`` is relative to the mean.
        reached: True when every KPI met the tolerance; False when ``max_replications`` stopped it.
        half_widths: final 95 % CI half-width of each KPI (KPI units).
    """

    kpis: tuple[str, ...]
    tolerance: float
    relative: bool
    reached: bool
    half_widths: dict[str, float]


@dataclass(frozen=True)
class RunResult:
    """Replications of one scenario and their summary.

    Attributes:
        name: the scenario name.
        seed: master seed used.
        replications: one row per replication: ``replication`` then one column per KPI.
        daily: one row per replication and measured day: ``replication``, ``day`` (0 = first
            measured day), ``date``, then the KPI columns.
        summary: indexed by KPI: ``mean``, ``ci_low``, ``ci_high`` (95 % Student-t across
            replications), ``n`` (replications where the KPI is defined).
        timings: where the time went.
        engine: engine name.
        days: measured days.
        warmup_days: warm-up days.
        auto: how ``replications="auto"`` stopped (None for a fixed number).
        kpis: KPI names in canonical order.
    """

    name: str
    seed: int
    replications: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    timings: RunTimings
    engine: str
    days: int
    warmup_days: int
    auto: AutoStop | None = None
    kpis: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of replications run."""
        return len(self.replications)

    def summary_dict(self) -> dict[str, dict[str, float | int | None]]:
        """``{kpi: {mean, ci_low, ci_high, n}}`` with NaN as None (for JSON)."""
        out: dict[str, dict[str, float | int | None]] = {}
        for kpi, row in self.summary.iterrows():
            out[str(kpi)] = {
                "mean": _finite_or_none(row["mean"]),
                "ci_low": _finite_or_none(row["ci_low"]),
                "ci_high": _finite_or_none(row["ci_high"]),
                "n": int(num(row["n"])),
            }
        return out


def num(value: object) -> float:
    """A table cell as a float (pandas cells are typed loosely)."""
    return float(cast(Any, value))


def _finite_or_none(value: object) -> float | None:
    x = num(value)
    return x if math.isfinite(x) else None


# --- executors ---------------------------------------------------------------------------------


@dataclass
class _Backend:
    """An executor to submit chunks to, the compiled argument to pass, and how to clean up."""

    executor: Executor | None
    label: str
    workers: int
    compiled_arg: Any
    close: Callable[[], None]


def _open_backend(
    executor: Executor | ExecutorName | None,
    workers: int | None,
    scheduler: str | None,
    compiled: CompiledScenario,
) -> _Backend:
    cpus = os.cpu_count() or 1
    if isinstance(executor, Executor):
        n = workers or getattr(executor, "_max_workers", None) or cpus
        return _Backend(executor, type(executor).__name__, int(n), compiled, lambda: None)
    if executor == "sequential" or (executor in (None, "process") and workers == 1):
        return _Backend(None, "sequential", 1, compiled, lambda: None)
    if executor in (None, "process"):
        n = workers or cpus
        pool = ProcessPoolExecutor(max_workers=n)
        return _Backend(pool, "process", n, compiled, lambda: pool.shutdown(cancel_futures=True))
    if executor == "dask":
        return _open_dask(scheduler, workers, compiled)
    raise UsageError(f"--executor must be process, sequential or dask (got {executor!r})")


def _open_dask(scheduler: str | None, workers: int | None, compiled: CompiledScenario) -> _Backend:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise UsageError(f"executor dask needs the distributed package: {exc}") from None
    dist: Any = distributed
    cluster: Any = None
    client: Any
    try:
        if scheduler:
            client = dist.Client(scheduler, timeout="20s")
        else:
            cluster = dist.LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = dist.Client(cluster)
    except OSError as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot connect to Dask: {exc}") from None
    n = workers or max(1, sum(client.nthreads().values()))
    # the compiled arrays go to every worker once, not once per task
    compiled_arg = client.scatter(compiled, broadcast=True, hash=False)

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return _Backend(client.get_executor(pure=False), "dask", int(n), compiled_arg, close)


def _chunks(indices: Sequence[int], workers: int) -> list[list[int]]:
    """Split indices into about four chunks per worker (whole compiled sent once per chunk)."""
    size = max(1, math.ceil(len(indices) / (4 * max(1, workers))))
    return [list(indices[k : k + size]) for k in range(0, len(indices), size)]


# --- the runner --------------------------------------------------------------------------------


def _compiled(
    scenario: Scenario | CompiledScenario, days: int | None, warmup: int | None
) -> CompiledScenario:
    if isinstance(scenario, CompiledScenario):
        if (days is not None and days != scenario.days) or (
            warmup is not None and warmup != scenario.warmup_days
        ):
            raise UsageError(
                "days/warmup cannot change a compiled scenario; pass the Scenario instead"
            )
        return scenario
    return compile_scenario(scenario, days, warmup)


def _check_output(compiled: CompiledScenario, keys: Sequence[str], out: ReplicationOutput) -> None:
    if tuple(out.keys) != tuple(keys):
        raise SimulationError("the engine returned KPI keys other than kpi_names(queue_names)")
    if out.overall.shape != (len(keys),) or out.daily.shape != (compiled.days, len(keys)):
        raise SimulationError(
            f"the engine returned arrays of shape {out.overall.shape} and {out.daily.shape}; "
            f"expected ({len(keys)},) and ({compiled.days}, {len(keys)})"
        )


def _auto_kpis(requested: Sequence[str] | None, first: pd.DataFrame) -> tuple[str, ...]:
    """The KPIs ``auto`` controls: requested ones, or the finite defaults (see module docs)."""
    finite = [c for c in first.columns if c != "replication" and first[c].notna().all()]
    if requested:
        unknown = [k for k in requested if k not in first.columns]
        if unknown:
            raise UsageError(f"--auto-kpi: unknown KPI(s) {', '.join(unknown)}")
        return tuple(requested)
    chosen = [k for k in DEFAULT_AUTO_KPIS if k in finite]
    if not chosen:
        chosen = [c for c in finite if c.endswith((".utilisation", ".mean_wait_hours"))]
    return tuple(chosen)


def _half_widths(frame: pd.DataFrame, kpis: Sequence[str]) -> dict[str, float]:
    out = {}
    for k in kpis:
        mean, low, high, _ = t_interval(frame[k].to_numpy(dtype=np.float64))
        out[k] = (high - low) / 2.0 if math.isfinite(low) else math.inf
        if not math.isfinite(mean):
            out[k] = math.inf
    return out


def _met(frame: pd.DataFrame, hw: Mapping[str, float], tolerance: float, relative: bool) -> bool:
    for k, h in hw.items():
        if relative:
            mean = float(frame[k].mean())
            if not h <= tolerance * abs(mean) and h != 0.0:
                return False
        elif not h <= tolerance:
            return False
    return True


def run_scenario(
    scenario: Scenario | CompiledScenario,
    *,
    replications: int | Literal["auto"] | None = None,
    seed: int | None = None,
    days: int | None = None,
    warmup: int | None = None,
    engine: EngineName | str | Engine = "fast",
    executor: Executor | ExecutorName | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    on_estimate: Callable[[float], None] | None = None,
    auto_kpis: Sequence[str] | None = None,
    auto_tolerance: float = 0.01,
    auto_relative: bool = True,
    auto_min: int = 10,
    max_replications: int = 200,
) -> RunResult:
    """Run replications of a scenario and summarise them.

    Replication 0 runs first in this process and is timed; ``on_estimate`` then gets the
    predicted run time (seconds) = its time × ⌈remaining replications ÷ workers⌉ (for ``auto``:
    up to ``auto_min``). The others run on the executor in chunks; results are identical
    whichever executor runs them.

    Args:
        scenario: a validated scenario, or one already compiled.
        replications: a number, ``"auto"``, or None for ``scenario.run.replications``.
            ``auto`` runs ``auto_min`` replications, then batches until the 95 % CI half-width
            of every ``auto_kpis`` KPI is ≤ ``auto_tolerance`` × |mean| (``auto_relative``) or
            ≤ ``auto_tolerance`` in the KPI's own units (absolute), or ``max_replications`` ran.
        seed: master seed (default ``run.seed`` of the scenario).
        days: measured days (default the scenario's ``run.days``; Scenario only).
        warmup: warm-up days (default ``run.warmup_days``; Scenario only).
        engine: ``fast`` (numba), ``simpy`` (reference) or an :data:`Engine` function (it must
            be importable by name in worker processes).
        executor: a ``concurrent.futures.Executor`` to use as given, or ``process`` (default: a
            process pool of ``workers`` or all cores), ``sequential`` (this process), ``dask``
            (a ``distributed`` cluster at ``scheduler``, or a local one when None).
        workers: parallel workers (process pool size; 1 = sequential).
        scheduler: Dask scheduler address (``tcp://host:8786``) for ``executor="dask"``.
        progress: ``progress(done, total)`` after each finished chunk.
        on_estimate: called once with the predicted run time in seconds.
        auto_kpis: KPIs ``auto`` controls (default :data:`DEFAULT_AUTO_KPIS`, see there).
        auto_tolerance: wanted CI half-width (fraction of the mean, or KPI units).
        auto_relative: whether ``auto_tolerance`` is relative to the mean.
        auto_min: replications of the first ``auto`` batch (at least 2).
        max_replications: cap of ``auto``.

    Returns:
        The replications, daily values and summary.

    Raises:
        UsageError: bad arguments (replications < 1, unknown engine/executor/KPI).
        SimulationError: the engine broke its contract.
    """
    started = time.perf_counter()
    compiled = _compiled(scenario, days, warmup)
    seed = compiled.seed if seed is None else int(seed)
    if seed < 0:
        raise UsageError(f"--seed must be ≥ 0 (got {seed})")
    auto = replications == "auto"
    if replications is None:
        target = compiled.replications
    elif auto:
        if max_replications < 2 or auto_tolerance <= 0:
            raise UsageError("auto replications need max_replications ≥ 2 and a tolerance > 0")
        target = min(max(2, auto_min), max_replications)
    elif isinstance(replications, int) and not isinstance(replications, bool):
        target = replications
    else:
        raise UsageError(f"--replications must be a whole number or auto (got {replications!r})")
    if target < 1:
        raise UsageError(f"--replications must be ≥ 1 (got {target})")
    keys = compiled.kpi_names()
    outputs: dict[int, ReplicationOutput] = {}
    seconds: dict[int, float] = {}

    first = _run_chunk(compiled, engine, seed, [0])
    for i, res, s in first:
        _check_output(compiled, keys, res)
        outputs[i], seconds[i] = res, s
    backend = _open_backend(executor, workers, scheduler, compiled) if target > 1 else None
    n_workers = backend.workers if backend else 1
    estimate = seconds[0] * (1 + math.ceil((target - 1) / n_workers))
    if on_estimate is not None:
        on_estimate(estimate)
    if progress is not None:
        progress(1, target)
    auto_stop: AutoStop | None = None
    try:
        if backend is not None:
            _run_batch(
                backend,
                compiled,
                engine,
                seed,
                range(1, target),
                outputs,
                seconds,
                keys,
                progress,
                target,
            )
        if auto:
            chosen = _auto_kpis(auto_kpis, _frame(outputs, keys))
            while True:
                frame = _frame(outputs, keys)
                hw = _half_widths(frame, chosen)
                reached = _met(frame, hw, auto_tolerance, auto_relative)
                n = len(outputs)
                if reached or n >= max_replications or backend is None:
                    auto_stop = AutoStop(chosen, auto_tolerance, auto_relative, reached, hw)
                    break
                wanted = _replications_wanted(frame, hw, auto_tolerance, auto_relative)
                step = max(wanted - n, n_workers, 2)
                nxt = min(max_replications, n + step)
                _run_batch(
                    backend,
                    compiled,
                    engine,
                    seed,
                    range(n, nxt),
                    outputs,
                    seconds,
                    keys,
                    progress,
                    nxt,
                )
    finally:
        if backend is not None:
            backend.close()

    reps = _frame(outputs, keys)
    daily = _daily(compiled, outputs, keys)
    order = sorted(outputs)
    timings = RunTimings(
        estimate_s=estimate,
        wall_s=time.perf_counter() - started,
        replication_s=[seconds[i] for i in order],
        workers=n_workers,
        executor=backend.label if backend else "sequential",
        events=int(sum(outputs[i].events for i in order)),
    )
    return RunResult(
        name=compiled.name,
        seed=seed,
        replications=reps,
        daily=daily,
        summary=summarise(reps),
        timings=timings,
        engine=_engine_label(engine),
        days=compiled.days,
        warmup_days=compiled.warmup_days,
        auto=auto_stop,
        kpis=tuple(keys),
    )


def _replications_wanted(
    frame: pd.DataFrame, hw: Mapping[str, float], tolerance: float, relative: bool
) -> int:
    """Replications projected to meet the tolerance: n × (half-width ÷ target)², the worst KPI."""
    n = len(frame)
    wanted = n
    for k, h in hw.items():
        goal = tolerance * abs(float(frame[k].mean())) if relative else tolerance
        if goal <= 0 or not math.isfinite(h):
            return n * 2
        wanted = max(wanted, math.ceil(n * (h / goal) ** 2))
    return wanted


def _run_batch(
    backend: _Backend,
    compiled: CompiledScenario,
    engine: str | Engine,
    seed: int,
    indices: Sequence[int],
    outputs: dict[int, ReplicationOutput],
    seconds: dict[int, float],
    keys: Sequence[str],
    progress: Progress | None,
    total: int,
) -> None:
    indices = list(indices)
    if not indices:
        return
    if backend.executor is None:
        for i in indices:
            for j, res, s in _run_chunk(compiled, engine, seed, [i]):
                _check_output(compiled, keys, res)
                outputs[j], seconds[j] = res, s
            if progress is not None:
                progress(len(outputs), total)
        return
    futures: list[Future[ChunkResult]] = [
        backend.executor.submit(_run_chunk, backend.compiled_arg, engine, seed, chunk)
        for chunk in _chunks(indices, backend.workers)
    ]
    for fut in as_completed(futures):
        for j, res, s in fut.result():
            _check_output(compiled, keys, res)
            outputs[j], seconds[j] = res, s
        if progress is not None:
            progress(len(outputs), total)


def _frame(outputs: Mapping[int, ReplicationOutput], keys: Sequence[str]) -> pd.DataFrame:
    order = sorted(outputs)
    values = np.vstack([outputs[i].overall for i in order]) if order else np.empty((0, len(keys)))
    frame = pd.DataFrame(values, columns=list(keys))
    frame.insert(0, "replication", np.asarray(order, dtype=np.int64))
    return frame


def _daily(
    compiled: CompiledScenario, outputs: Mapping[int, ReplicationOutput], keys: Sequence[str]
) -> pd.DataFrame:
    order = sorted(outputs)
    days = compiled.days
    first: date = compiled.date_of_day(compiled.warmup_days)
    dates = [first + timedelta(days=d) for d in range(days)]
    values = np.vstack([outputs[i].daily for i in order])
    frame = pd.DataFrame(values, columns=list(keys))
    frame.insert(0, "date", pd.to_datetime(dates * len(order)))
    frame.insert(0, "day", np.tile(np.arange(days, dtype=np.int64), len(order)))
    frame.insert(0, "replication", np.repeat(np.asarray(order, dtype=np.int64), days))
    return frame


# --- scheme comparison --------------------------------------------------------------------------


def compare_runs(base: RunResult, others: Mapping[str, RunResult]) -> pd.DataFrame:
    """Paired differences of every KPI, other − base, replication by replication.

    Runs made with the same seed share common random numbers, so replication ``i`` of each
    differs only by the scenario; the 95 % Student-t interval of the paired differences is far
    narrower than that of two independent runs.

    Args:
        base: the base run.
        others: runs to compare with it, by label (same seed and replications).

    Returns:
        One row per (scenario, KPI): ``scenario``, ``kpi``, ``base_mean``, ``mean`` (of the
        scenario), ``diff_mean``, ``ci_low``, ``ci_high`` (of the difference), ``n`` (paired
        replications where both are finite), ``pct_change`` (100 × diff ÷ base mean; NaN at 0).

    Raises:
        UsageError: the runs used different seeds or replications.
    """
    rows: list[dict[str, Any]] = []
    b = base.replications.set_index("replication")
    for label, run in others.items():
        if run.seed != base.seed:
            raise UsageError(f"{label}: seed {run.seed} differs from the base's {base.seed}")
        o = run.replications.set_index("replication")
        common = b.index.intersection(o.index)
        if len(common) != len(b.index) or len(common) != len(o.index):
            raise UsageError(f"{label}: replications differ from the base's")
        for kpi in base.kpis:
            if kpi not in o.columns:
                continue
            bv = b.loc[common, kpi].to_numpy(dtype=np.float64)
            ov = o.loc[common, kpi].to_numpy(dtype=np.float64)
            mean, low, high, n = t_interval(ov - bv)
            base_mean = float(np.nanmean(bv)) if np.isfinite(bv).any() else math.nan
            other_mean = float(np.nanmean(ov)) if np.isfinite(ov).any() else math.nan
            pct = 100.0 * mean / base_mean if base_mean and math.isfinite(base_mean) else math.nan
            rows.append(
                {
                    "scenario": label,
                    "kpi": kpi,
                    "base_mean": base_mean,
                    "mean": other_mean,
                    "diff_mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "pct_change": pct,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "kpi",
            "base_mean",
            "mean",
            "diff_mean",
            "ci_low",
            "ci_high",
            "n",
            "pct_change",
        ],
    )


def scenario_label(scenario: Scenario | CompiledScenario, taken: Iterable[str] = ()) -> str:
    """The scenario's name, made unique against ``taken`` with a ``_2``, ``_3``… suffix."""
    name = scenario.name
    used = set(taken)
    if name not in used:
        return name
    k = 2
    while f"{name}_{k}" in used:
        k += 1
    return f"{name}_{k}"


def compare_scenarios(
    base: Scenario | CompiledScenario,
    others: Sequence[Scenario | CompiledScenario] | Mapping[str, Scenario | CompiledScenario],
    *,
    replications: int,
    seed: int | None = None,
    **run_options: Any,
) -> pd.DataFrame:
    """Run the base and each other scenario with the same seed; paired KPI differences.

    Args:
        base: the base scenario.
        others: schemes (scenarios) to compare, a list (labelled by name) or a mapping by label.
        replications: replications of every run (the same for all: pairs need equal counts).
        seed: master seed shared by every run (default: the base's ``run.seed``).
        **run_options: passed to :func:`run_scenario` (``days``, ``warmup``, ``engine``,
            ``executor``, ``workers``, ``scheduler``, ``progress``).

    Returns:
        :func:`compare_runs` of the runs.
    """
    if isinstance(replications, bool) or not isinstance(replications, int):
        raise UsageError("compare needs a fixed number of replications (not auto)")
    base_run = run_scenario(base, replications=replications, seed=seed, **run_options)
    labelled: dict[str, Scenario | CompiledScenario] = {}
    if isinstance(others, Mapping):
        labelled = dict(others)
    else:
        for other in others:
            labelled[scenario_label(other, [base_run.name, *labelled])] = other
    runs = {
        label: run_scenario(s, replications=replications, seed=base_run.seed, **run_options)
        for label, s in labelled.items()
    }
    return compare_runs(base_run, runs)
