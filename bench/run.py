"""flowplan's benchmarks: ingesting the shipped data, and reading one series back.

Run from the repository root with ``python -m bench.run`` (``make bench``). Two measurements, each
with a baseline taken in the same process so that results can be compared across machines of
different speed (the ratio moves much less than the seconds do):

ingest
    Every bundled public file (``flowplan.demo.BUNDLED_FILES``) is read and validated (parse) and
    written (write) to a fresh SQLite store in a temporary folder, file by file as ``flowplan
    demo`` does; repeated with a new store each time. Baselines, timed in the same repetition:
    ``pandas.read_csv`` of the same files with no options and no validation (for parse and the
    total), and the same observations written straight into a bare table of the same shape with
    the database driver alone (for write: sqlite3 ``executemany``, or psycopg ``COPY``). Target:
    median total (parse + write) at most 60 s on a 2-core machine.

series read
    ``Store.read_series`` of the daily discharges of trust RXN (breakdown "all", 1,249 days from
    April 2022 to August 2025) from the store built by the last ingest run, as stored (day) and
    re-aggregated to months. Baseline: the same rows read with the standard library's ``sqlite3``
    (connect, SELECT, fetch, close: the store opens a new SQLite connection per call too), and
    for the month read the same plus a pandas monthly sum. Target: median daily read at most
    50 ms.

With ``FLOWPLAN_BENCH_PG_URL`` set (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) both
are repeated against PostgreSQL: each ingest run gets a database of its own, created through the
server's ``postgres`` maintenance database and dropped afterwards; the database named in the URL
is not touched. Results go to ``bench/results/ingest.json`` and ``bench/results/series_read.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import URL, make_url

from flowplan.data.grain import Grain
from flowplan.data.readers import read
from flowplan.demo import BUNDLED_FILES, repo_data_dir
from flowplan.store.store import Store

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ENV = "FLOWPLAN_BENCH_PG_URL"

INGEST_TARGET_S = 60.0
READ_TARGET_MS = 50.0
TARGET_MACHINE = "2 CPU cores"
ORG, MEASURE, BREAKDOWN = "RXN", "discharges", "all"
LIBRARIES = ("flowplan", "pandas", "numpy", "SQLAlchemy", "alembic", "psycopg")
WARMUP = 3

RAW_SELECT = (
    "SELECT period_start, value FROM observations WHERE series_id = {p} ORDER BY period_start"
)
SERIES_ID = (
    "SELECT id FROM series WHERE org_code = {p} AND measure = {p} AND breakdown = {p} "
    "AND grain = {p}"
)


@dataclass(frozen=True)
class Bundled:
    """One shipped file: its reader, where it is, and how it is named in results."""

    format: str
    path: Path
    name: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


# -- helpers ----------------------------------------------------------------------------------


def bundled_files() -> list[Bundled]:
    """Every bundled public file, checked to exist."""
    public = repo_data_dir() / "public"
    files = [Bundled(fmt, public / rel, f"data/public/{rel}") for fmt, rel in BUNDLED_FILES]
    missing = [f.name for f in files if not f.path.is_file()]
    if missing:
        raise SystemExit(f"bench: bundled data not found: {', '.join(missing)}")
    return files


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """95th percentile (nearest rank), so it is always one of the measured values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    """Milliseconds taken by each of ``n`` calls of ``fn``, after a few untimed warm-up calls."""
    for _ in range(WARMUP):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def ms_summary(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "median_ms": round(median(samples), 3),
        "p95_ms": round(p95(samples), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "n": len(samples),
    }


def rounded(values: Sequence[float], digits: int = 4) -> list[float]:
    return [round(v, digits) for v in values]


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    libraries: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "libraries": libraries,
        "git_commit": _git_commit(),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):
        return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` whole (via a temporary file), so a crash leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


# -- ingest -----------------------------------------------------------------------------------


def read_csv_baseline(files: Sequence[Bundled]) -> dict[str, float]:
    """Seconds ``pandas.read_csv`` takes to parse each file, plain (no dtype, no validation)."""
    out = {}
    for f in files:
        start = time.perf_counter()
        pd.read_csv(f.path)
        out[f.format] = time.perf_counter() - start
    return out


@dataclass(frozen=True)
class RawRows:
    """The observations of one ingest run, ready for the raw write baseline."""

    series_ids: list[int]
    periods: list[datetime]
    period_text: list[str]
    values: list[float]

    @classmethod
    def of(cls, frames: Sequence[pd.DataFrame]) -> RawRows:
        obs = pd.concat([f for f in frames if not f.empty], ignore_index=True)
        keys = pd.MultiIndex.from_frame(obs[["org_code", "measure", "breakdown", "grain"]])
        codes, _ = pd.factorize(keys)
        periods = pd.to_datetime(obs["period_start"])
        return cls(
            series_ids=(codes + 1).tolist(),
            periods=pd.DatetimeIndex(periods).to_pydatetime().tolist(),
            # how SQLAlchemy writes a DateTime to SQLite
            period_text=periods.dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist(),
            values=obs["value"].astype(float).tolist(),
        )


# the shape of the store's observations table: same key, same index on load_id
RAW_TABLE = (
    "CREATE TABLE raw_observations (series_id INTEGER NOT NULL, period_start {ts} NOT NULL, "
    "value {real}, load_id INTEGER NOT NULL, PRIMARY KEY (series_id, period_start))",
    "CREATE INDEX ix_raw_observations_load_id ON raw_observations (load_id)",
)


def raw_write_sqlite(rows: RawRows, db_file: Path) -> float:
    """Seconds for the standard library's sqlite3 to insert the rows in one transaction
    (executemany; same pragmas as the store)."""
    con = sqlite3.connect(db_file, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        for stmt in RAW_TABLE:
            con.execute(stmt.format(ts="DATETIME", real="FLOAT"))
        data = zip(
            rows.series_ids, rows.period_text, rows.values, [1] * len(rows.values), strict=True
        )
        start = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO raw_observations VALUES (?, ?, ?, ?)", data)
        con.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        con.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)


def ingest_all(
    store: Store, files: Sequence[Bundled]
) -> tuple[dict[str, dict[str, float]], list[pd.DataFrame]]:
    """Read, validate and write every file, one transaction per file.

    Returns:
        Timings and counts per format, and the observations read.
    """
    out = {}
    frames = []
    for f in files:
        start = time.perf_counter()
        parsed = read(f.format, f.path, f.name)
        parsed_at = time.perf_counter()
        (report,) = store.ingest([parsed], who="bench")
        written_at = time.perf_counter()
        out[f.format] = {
            "parse_s": parsed_at - start,
            "write_s": written_at - parsed_at,
            "rows_read": report.rows_read,
            "observations": len(parsed.observations),
            "written": report.written,
        }
        frames.append(parsed.observations)
    return out, frames


def ingest_runs(
    files: Sequence[Bundled],
    repeats: int,
    new_store: Callable[[int], Store],
    discard: Callable[[int, Store], None],
    raw_write: Callable[[int, RawRows], float],
) -> tuple[list[dict[str, Any]], Store]:
    """``repeats`` ingest runs, each into a fresh store from ``new_store``, each with the two
    baselines in the same repetition (interleaved, so a slow patch of the machine slows all
    alike): ``read_csv`` before, the raw write of the same observations (``raw_write``) after.

    Every store but the last is handed to ``discard`` when its run is done.

    Returns:
        The runs, and the last run's store, still open (for the series read).
    """
    runs: list[dict[str, Any]] = []
    rows: RawRows | None = None
    for i in range(repeats):
        gc.collect()
        baseline = read_csv_baseline(files)
        gc.collect()
        start = time.perf_counter()
        store = new_store(i)
        setup_s = time.perf_counter() - start
        start = time.perf_counter()
        per_format, frames = ingest_all(store, files)
        total_s = time.perf_counter() - start
        if rows is None:
            rows = RawRows.of(frames)
        del frames
        gc.collect()
        raw_write_s = raw_write(i, rows)
        runs.append(
            {
                "setup_s": setup_s,
                "total_s": total_s,
                "parse_s": sum(p["parse_s"] for p in per_format.values()),
                "write_s": sum(p["write_s"] for p in per_format.values()),
                "observations": sum(int(p["observations"]) for p in per_format.values()),
                "written": sum(int(p["written"]) for p in per_format.values()),
                "per_format": per_format,
                "read_csv": baseline,
                "raw_write_s": raw_write_s,
            }
        )
        if i == repeats - 1:
            return runs, store
        discard(i, store)
    raise AssertionError("unreachable: repeats >= 1")


def summarise_ingest(
    runs: list[dict[str, Any]], files: Sequence[Bundled], raw_write_what: str
) -> dict[str, Any]:
    total = median([r["total_s"] for r in runs])
    read_csv = median([sum(r["read_csv"].values()) for r in runs])
    parse = median([r["parse_s"] for r in runs])
    write = median([r["write_s"] for r in runs])
    raw_write = median([r["raw_write_s"] for r in runs])
    per_format = {}
    for f in files:
        parse_f = median([r["per_format"][f.format]["parse_s"] for r in runs])
        write_f = median([r["per_format"][f.format]["write_s"] for r in runs])
        total_f = median(
            [
                r["per_format"][f.format]["parse_s"] + r["per_format"][f.format]["write_s"]
                for r in runs
            ]
        )
        csv_f = median([r["read_csv"][f.format] for r in runs])
        first = runs[0]["per_format"][f.format]
        per_format[f.format] = {
            "file": f.name,
            "bytes": f.size,
            "rows_read": int(first["rows_read"]),
            "observations": int(first["observations"]),
            "parse_s": round(parse_f, 4),
            "write_s": round(write_f, 4),
            "total_s": round(total_f, 4),
            "read_csv_s": round(csv_f, 4),
            "ratio_ingest_to_read_csv": round(total_f / csv_f, 2) if csv_f else None,
        }
    observations = runs[0]["observations"]
    return {
        "repeats": len(runs),
        "total_s": {"median": round(total, 3), "runs": rounded([r["total_s"] for r in runs], 3)},
        "parse_s": {"median": round(parse, 3), "runs": rounded([r["parse_s"] for r in runs], 3)},
        "write_s": {"median": round(write, 3), "runs": rounded([r["write_s"] for r in runs], 3)},
        "store_setup_s": {
            "median": round(median([r["setup_s"] for r in runs]), 3),
            "note": "creating and migrating the empty store; not part of total_s",
        },
        "observations": observations,
        "observations_written": [r["written"] for r in runs],
        "observations_per_s": round(observations / total),
        "baseline": {
            "what": "pandas.read_csv of the same files, default options, no validation",
            "read_csv_s": {
                "median": round(read_csv, 3),
                "runs": rounded([sum(r["read_csv"].values()) for r in runs], 3),
            },
            "ratio_ingest_to_read_csv": round(total / read_csv, 2),
            "ratio_parse_to_read_csv": round(parse / read_csv, 2),
            "raw_write_what": raw_write_what,
            "raw_write_s": {
                "median": round(raw_write, 3),
                "runs": rounded([r["raw_write_s"] for r in runs], 3),
            },
            "ratio_write_to_raw_write": round(write / raw_write, 2),
        },
        "target": {"total_s_max": INGEST_TARGET_S, "machine": TARGET_MACHINE},
        "pass": total <= INGEST_TARGET_S,
        "per_format": per_format,
    }


# -- series read ------------------------------------------------------------------------------


def series_read(
    store: Store, reps: int, raw_rows: Callable[[], list[Any]], baseline_what: str
) -> dict[str, Any]:
    """Time ``read_series`` by day and by month against a raw read of the same rows."""
    day, grain, breakdown = store.read_series(ORG, MEASURE)
    month, _, _ = store.read_series(ORG, MEASURE, grain=Grain.MONTH)
    rows = raw_rows()
    if breakdown != BREAKDOWN or grain is not Grain.DAY or len(rows) != len(day):
        raise SystemExit(
            f"bench: unexpected series {ORG} {MEASURE}: breakdown {breakdown}, grain {grain}, "
            f"{len(day)} periods from the store, {len(rows)} from the raw query"
        )

    def raw_month() -> pd.DataFrame:
        frame = pd.DataFrame(raw_rows(), columns=["period_start", "value"])
        stamps = pd.to_datetime(frame["period_start"])
        return frame["value"].groupby(stamps.dt.to_period("M")).sum().reset_index()

    if len(raw_month()) != len(month):
        raise SystemExit("bench: raw monthly sum and read_series(grain=month) disagree")

    gc.collect()
    day_ms = time_calls(lambda: store.read_series(ORG, MEASURE), reps)
    month_ms = time_calls(lambda: store.read_series(ORG, MEASURE, grain=Grain.MONTH), reps)
    raw_ms = time_calls(raw_rows, reps)
    raw_month_ms = time_calls(raw_month, reps)
    day_median = median(day_ms)
    return {
        "series": {
            "org": ORG,
            "measure": MEASURE,
            "breakdown": breakdown,
            "grain": grain.value,
            "periods": len(day),
            "first": str(day["period_start"].iloc[0].date()),
            "last": str(day["period_start"].iloc[-1].date()),
            "months": len(month),
        },
        "repetitions": reps,
        "read_series_day": ms_summary(day_ms),
        "read_series_month": ms_summary(month_ms),
        "baseline": {
            "what": baseline_what,
            "raw_select": ms_summary(raw_ms),
            "raw_select_plus_pandas_month": ms_summary(raw_month_ms),
            "ratio_day_to_raw_select": round(day_median / median(raw_ms), 2),
            "ratio_month_to_raw_month": round(median(month_ms) / median(raw_month_ms), 2),
        },
        "target": {"read_series_day_median_ms_max": READ_TARGET_MS, "machine": TARGET_MACHINE},
        "pass": day_median <= READ_TARGET_MS,
    }


def sqlite_raw_reader(db_file: Path) -> Callable[[], list[Any]]:
    with closing(sqlite3.connect(db_file)) as con:
        found = con.execute(SERIES_ID.format(p="?"), (ORG, MEASURE, BREAKDOWN, "day")).fetchone()
    if found is None:
        raise SystemExit(f"bench: no daily {MEASURE} series of {ORG} in the store")
    sql = RAW_SELECT.format(p="?")
    series_id = found[0]

    def rows() -> list[Any]:
        con = sqlite3.connect(db_file)
        try:
            return con.execute(sql, (series_id,)).fetchall()
        finally:
            con.close()

    return rows


# -- SQLite and PostgreSQL runs ---------------------------------------------------------------


def run_sqlite(
    files: Sequence[Bundled], repeats: int, reps: int, workdir: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    def db_file(i: int) -> Path:
        return workdir / f"sqlite-{i}" / "flowplan.db"

    def new_store(i: int) -> Store:
        return Store(f"sqlite:///{db_file(i)}")

    def discard(i: int, store: Store) -> None:
        store.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file(i)}{suffix}").unlink(missing_ok=True)

    def raw_write(i: int, rows: RawRows) -> float:
        return raw_write_sqlite(rows, workdir / f"raw-{i}.db")

    runs, store = ingest_runs(files, repeats, new_store, discard, raw_write)
    try:
        ingest = summarise_ingest(
            runs,
            files,
            "sqlite3 executemany INSERT of the same observations into a bare table of the same "
            "shape (key, index), one transaction, values prepared beforehand",
        )
        what = "sqlite3.connect + SELECT period_start, value of the series + fetchall + close"
        read_result = series_read(store, reps, sqlite_raw_reader(db_file(repeats - 1)), what)
    finally:
        store.dispose()
    return ingest, read_result


@contextmanager
def pg_admin(url: URL) -> Iterator[Any]:
    """An autocommit connection to the server's ``postgres`` maintenance database."""
    import psycopg

    conninfo = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as con:
        yield con


def run_postgres(
    url_text: str, files: Sequence[Bundled], repeats: int, reps: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    import psycopg
    from psycopg import sql

    base = make_url(url_text)
    prefix = f"flowplan_bench_{os.getpid()}"
    created: list[str] = []

    with pg_admin(base) as admin:
        server_version = str(admin.execute("SHOW server_version").fetchone()[0])
        force = " WITH (FORCE)" if admin.info.server_version >= 130000 else ""

    def drop(name: str) -> None:
        with pg_admin(base) as admin:
            stmt = sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(name))
            admin.execute(stmt)
        created.remove(name)

    def new_store(i: int) -> Store:
        name = f"{prefix}_{i}"
        with pg_admin(base) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        url = base.set(drivername="postgresql+psycopg", database=name)
        return Store(url.render_as_string(hide_password=False))

    def discard(i: int, store: Store) -> None:
        store.dispose()
        drop(f"{prefix}_{i}")

    def raw_write(i: int, rows: RawRows) -> float:
        data_url = base.set(drivername="postgresql", database=f"{prefix}_{i}")
        with psycopg.connect(data_url.render_as_string(hide_password=False)) as con:
            for stmt in RAW_TABLE:
                con.execute(stmt.format(ts="TIMESTAMP", real="DOUBLE PRECISION"))
            con.commit()
            start = time.perf_counter()
            with con.cursor() as cur, cur.copy("COPY raw_observations FROM STDIN") as copy:
                for row in zip(rows.series_ids, rows.periods, rows.values, strict=True):
                    copy.write_row((*row, 1))
            con.commit()
            return time.perf_counter() - start

    store: Store | None = None
    try:
        runs, store = ingest_runs(files, repeats, new_store, discard, raw_write)
        ingest = summarise_ingest(
            runs,
            files,
            "psycopg COPY of the same observations into a bare table of the same shape (key, "
            "index), one transaction, values prepared beforehand",
        )
        data_url = base.set(drivername="postgresql", database=created[-1])
        with psycopg.connect(data_url.render_as_string(hide_password=False)) as con:
            found = con.execute(
                SERIES_ID.format(p="%s"), (ORG, MEASURE, BREAKDOWN, "day")
            ).fetchone()
            if found is None:
                raise SystemExit(f"bench: no daily {MEASURE} series of {ORG} in PostgreSQL")
            series_id = found[0]
            select = RAW_SELECT.format(p="%s")

            def rows() -> list[Any]:
                with con.cursor() as cur:
                    cur.execute(select, (series_id,))
                    return cur.fetchall()

            what = (
                "psycopg SELECT period_start, value of the series + fetchall on one open "
                "connection (the store's engine pools its connections)"
            )
            read_result = series_read(store, reps, rows, what)
    finally:
        if store is not None:
            store.dispose()
        for name in list(created):
            drop(name)
    ingest["server_version"] = server_version
    read_result["server_version"] = server_version
    return ingest, read_result


# -- main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="ingest runs (default 3)")
    parser.add_argument("--reads", type=int, default=50, help="timed series reads (default 50)")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.reads < 1:
        parser.error("--repeats and --reads must be at least 1")

    started = time.perf_counter()
    files = bundled_files()
    machine = machine_info()
    print(
        f"flowplan benchmarks: {machine['cpus_usable']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, pandas {machine['libraries']['pandas']}, "
        f"SQLite {machine['sqlite']}"
    )
    total_mb = sum(f.size for f in files) / 1e6
    print(f"ingesting {len(files)} bundled files ({total_mb:.1f} MB) x {args.repeats} ...")

    with tempfile.TemporaryDirectory(prefix="flowplan-bench-") as tmp:
        ingest, reads = run_sqlite(files, args.repeats, args.reads, Path(tmp))

    pg_url = os.environ.get(PG_ENV)
    pg_ingest: dict[str, Any]
    pg_reads: dict[str, Any]
    if pg_url:
        print("repeating against PostgreSQL ...")
        try:
            pg_ingest, pg_reads = run_postgres(pg_url, files, args.repeats, args.reads)
        except Exception as exc:  # report and carry on: the SQLite figures still stand
            reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
            print(f"  PostgreSQL benchmark failed: {reason}", file=sys.stderr)
            pg_ingest = pg_reads = {"error": reason}
    else:
        pg_ingest = pg_reads = {"skipped": f"{PG_ENV} not set"}

    measured = [r for r in (ingest, pg_ingest) if "pass" in r]
    ingest_doc = {
        "benchmark": "ingest all bundled public data into a fresh store",
        "machine": machine,
        "data": {
            "files": len(files),
            "bytes": sum(f.size for f in files),
            "observations": ingest["observations"],
        },
        "target": {"total_s_max": INGEST_TARGET_S, "machine": TARGET_MACHINE},
        "pass": all(r["pass"] for r in measured),
        "sqlite": ingest,
        "postgresql": pg_ingest,
    }
    measured = [r for r in (reads, pg_reads) if "pass" in r]
    reads_doc = {
        "benchmark": "read one daily series of 3 years (Store.read_series)",
        "machine": machine,
        "target": {"read_series_day_median_ms_max": READ_TARGET_MS, "machine": TARGET_MACHINE},
        "pass": all(r["pass"] for r in measured),
        "sqlite": reads,
        "postgresql": pg_reads,
    }
    write_json(RESULTS / "ingest.json", ingest_doc)
    write_json(RESULTS / "series_read.json", reads_doc)

    print_summary(ingest_doc, reads_doc)
    print(f"results in bench/results/ (ingest.json, series_read.json); took {_took(started)}")
    ok = ingest_doc["pass"] and reads_doc["pass"]
    return 1 if args.check and not ok else 0


def _took(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_summary(ingest_doc: dict[str, Any], reads_doc: dict[str, Any]) -> None:
    data = ingest_doc["data"]
    print(
        f"\ningest: {data['files']} files, {data['bytes'] / 1e6:.1f} MB, "
        f"{data['observations']:,} observations (median of {ingest_doc['sqlite']['repeats']} runs)"
    )
    for backend in ("sqlite", "postgresql"):
        r = ingest_doc[backend]
        if "pass" not in r:
            print(f"  {backend:<10}  {r.get('skipped') or r.get('error')}")
            continue
        b = r["baseline"]
        print(
            f"  {backend:<10}  {r['total_s']['median']:6.2f} s  (parse {r['parse_s']['median']:.2f}"
            f" s, write {r['write_s']['median']:.2f} s)  {r['observations_per_s']:,} obs/s  "
            f"target <= {INGEST_TARGET_S:.0f} s: {_verdict(r['pass'])}"
        )
        print(
            f"  {'':<10}  ingest/read_csv {b['ratio_ingest_to_read_csv']:.1f}x, "
            f"parse/read_csv {b['ratio_parse_to_read_csv']:.1f}x, "
            f"write/raw write {b['ratio_write_to_raw_write']:.1f}x "
            f"(read_csv {b['read_csv_s']['median']:.2f} s, "
            f"raw write {b['raw_write_s']['median']:.2f} s)"
        )

    s = reads_doc["sqlite"]["series"]
    print(
        f"\nseries read: {s['org']} {s['measure']} [{s['breakdown']}] by {s['grain']}, "
        f"{s['periods']:,} periods ({s['first']} to {s['last']}), "
        f"{reads_doc['sqlite']['repetitions']} reads"
    )
    for backend in ("sqlite", "postgresql"):
        r = reads_doc[backend]
        if "pass" not in r:
            print(f"  {backend:<10}  {r.get('skipped') or r.get('error')}")
            continue
        d, m, b = r["read_series_day"], r["read_series_month"], r["baseline"]
        print(
            f"  {backend:<10}  day {d['median_ms']:.2f} ms (p95 {d['p95_ms']:.2f}), "
            f"month {m['median_ms']:.2f} ms (p95 {m['p95_ms']:.2f})  "
            f"target <= {READ_TARGET_MS:.0f} ms: {_verdict(r['pass'])}"
        )
        print(
            f"  {'':<10}  day/raw select {b['ratio_day_to_raw_select']:.1f}x "
            f"(raw {b['raw_select']['median_ms']:.2f} ms), month/raw+pandas "
            f"{b['ratio_month_to_raw_month']:.1f}x "
            f"(raw+pandas {b['raw_select_plus_pandas_month']['median_ms']:.2f} ms)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
