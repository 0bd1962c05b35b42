"""Web workspace benchmark: the dashboard under 20 concurrent users.

Run from the repository root with ``python -m bench.web`` (``make bench`` runs it last). Steps:

1. Build the demo store afresh in a temporary folder (``flowplan.demo.run_demo``, as ``flowplan
   demo`` does: every bundled file ingested into SQLite, the demo plan stored; ~25-40 s) and
   create a viewer there.
2. Start ``flowplan serve`` (uvicorn, one process, as shipped) on a free loopback port in a
   subprocess, and sign the viewer in through the login form (CSRF token from the form, session
   cookie).
3. From a second process (an asyncio httpx client; one connection per user, no think time),
   20 users request ``/dashboard?org=RXN`` repeatedly: each first makes untimed warm-up
   requests, then all start together and each makes 15 timed requests (300 in all; new requests
   stop after 120 s). Every response must be a 200 that is the dashboard page; anything else is
   an error. Reported: median, 95th and 99th percentile latency, throughput and errors.
   Target: 95th percentile at most 300 ms.
4. Step 3 and the baseline below are repeated in 3 rounds (``--repeats``), alternating, and the
   round with the median 95th percentile is reported (all rounds' 95th percentiles are kept):
   on 2 shared cores one stall of the server (other work on the machine) delays every request in
   flight and moves a single round's 95th percentile by 200 ms or more.

Baselines, in the same run and under the same load: the stylesheet ``/static/flowplan.css`` (a
static file: the server's own floor), reported as the ratio of the 95th percentiles; and the
dashboard with a single user (its latency without queueing). Results go to
``bench/results/web.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench.run import RESULTS, machine_info, median, write_json
from flowplan.demo import run_demo
from flowplan.store.users import UserStore

TARGET_P95_MS = 300.0
HOST = "127.0.0.1"
ORG = "RXN"
DASHBOARD = f"/dashboard?org={ORG}"
DASHBOARD_MARKER = f"Dashboard — {ORG}"
BASELINE = "/static/flowplan.css"
BASELINE_MARKER = "{"
VIEWER = "bench-viewer"
PASSWORD = "bench password, not secret"
USERS = 20
REQUESTS_PER_USER = 15
WARMUP_PER_USER = 2
CAP_S = 120.0
SEQUENTIAL_REQUESTS = 20
ROUNDS = 3
SERVER_START_TIMEOUT_S = 60.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Load:
    """One load run: who asks for what, how often, for how long at most.

    Attributes:
        base_url: the server, e.g. ``http://127.0.0.1:8123``.
        path: the page requested.
        marker: text every good response contains.
        cookies: the signed-in session.
        users: concurrent users (one connection each).
        requests_per_user: timed requests of each user.
        warmup_per_user: untimed requests of each user first.
        cap_s: no new timed request starts after this many seconds.
    """

    base_url: str
    path: str
    marker: str
    cookies: dict[str, str]
    users: int
    requests_per_user: int
    warmup_per_user: int
    cap_s: float


# -- figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` percentile (nearest rank), so it is always one of the measured values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100.0 * len(ordered)) - 1)]


def median_round(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run whose p95 is the median of the runs' (the lower middle one for an even count), so
    that the figures reported together come from one run."""
    measured = [r for r in runs if "p95_ms" in r]
    if not measured:
        return runs[0]
    ordered = sorted(measured, key=lambda r: float(r["p95_ms"]))
    return ordered[(len(ordered) - 1) // 2]


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Latency figures (ms) and throughput of one load run."""
    samples: list[float] = run["latencies_ms"]
    out: dict[str, Any] = {
        "requests_ok": len(samples),
        "errors": run["errors"],
        "error_kinds": run["error_kinds"],
        "stopped_by_time_cap": run["stopped_by_time_cap"],
        "wall_s": round(run["wall_s"], 3),
        "throughput_rps": round(len(samples) / run["wall_s"], 2) if run["wall_s"] else None,
        "response_bytes": run["response_bytes"],
    }
    if samples:
        out.update(
            median_ms=round(median(samples), 1),
            p95_ms=round(percentile(samples, 95), 1),
            p99_ms=round(percentile(samples, 99), 1),
            min_ms=round(min(samples), 1),
            max_ms=round(max(samples), 1),
            mean_ms=round(sum(samples) / len(samples), 1),
        )
    return out


# -- the load (runs in a second process) -------------------------------------------------------


def run_load(load: Load) -> dict[str, Any]:
    """Run ``load`` (in this process, with asyncio); latencies of the good responses in ms."""
    return asyncio.run(_load(load))


async def _load(load: Load) -> dict[str, Any]:
    latencies: list[float] = []
    kinds: dict[str, int] = {}
    sizes: list[int] = []
    capped = False
    ready = asyncio.Barrier(load.users + 1)
    deadline = math.inf

    async def one(client: httpx.AsyncClient, timed: bool) -> None:
        start = time.perf_counter()
        try:
            response = await client.get(load.path)
            elapsed = (time.perf_counter() - start) * 1000.0
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
        else:
            if response.status_code == 200 and load.marker in response.text:
                if timed:
                    sizes.append(len(response.content))
                    latencies.append(elapsed)
                return
            kind = f"HTTP {response.status_code}"
        if timed:  # warm-up failures are not counted (a bad setup shows in the timed part)
            kinds[kind] = kinds.get(kind, 0) + 1

    async def user() -> None:
        nonlocal capped
        async with httpx.AsyncClient(
            base_url=load.base_url,
            cookies=load.cookies,
            timeout=60.0,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=1),
        ) as client:
            for _ in range(load.warmup_per_user):
                await one(client, timed=False)
            await ready.wait()
            for _ in range(load.requests_per_user):
                if time.perf_counter() > deadline:
                    capped = True
                    break
                await one(client, timed=True)

    tasks = [asyncio.create_task(user()) for _ in range(load.users)]
    await ready.wait()  # every user has warmed up
    started = time.perf_counter()
    deadline = started + load.cap_s
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    return {
        "latencies_ms": latencies,
        "errors": sum(kinds.values()),
        "error_kinds": kinds,
        "stopped_by_time_cap": capped,
        "wall_s": wall,
        "response_bytes": int(median(sizes)) if sizes else None,
    }


# -- the server --------------------------------------------------------------------------------


def build_store(folder: Path) -> tuple[str, float]:
    """The demo store in ``folder`` with a viewer; its URL and the seconds the build took."""
    start = time.perf_counter()
    store = run_demo(folder, None, Console(file=io.StringIO()))
    seconds = time.perf_counter() - start
    users = UserStore(store)
    users.create(VIEWER, PASSWORD, display_name="Benchmark Viewer")
    users.grant(VIEWER, "viewer")
    store.dispose()
    return f"sqlite:///{(folder / 'flowplan.db').resolve()}", seconds


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(db_url: str, port: int, home: Path, log: Path) -> subprocess.Popen[bytes]:
    """``flowplan serve`` on the loopback port (plain HTTP: cookies not marked Secure)."""
    command = [
        sys.executable,
        "-c",
        "from flowplan.cli import main; main()",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--db",
        db_url,
    ]
    env = {**os.environ, "FLOWPLAN_HOME": str(home)}
    env.pop("FLOWPLAN_DATABASE_URL", None)
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds until the server answers ``/login``."""
    start = time.perf_counter()
    while time.perf_counter() - start < SERVER_START_TIMEOUT_S:
        if server.poll() is not None:
            raise SystemExit(f"bench.web: the server exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/login", timeout=2.0).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench.web: no answer after {SERVER_START_TIMEOUT_S:g} s")


def sign_in(base_url: str) -> dict[str, str]:
    """The viewer's session cookies, from the login form (CSRF token and all)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30.0) as client:
        form = client.get("/login")
        match = _CSRF.search(form.text)
        if match is None:
            raise SystemExit("bench.web: no CSRF token on the login form")
        done = client.post(
            "/login",
            data={"username": VIEWER, "password": PASSWORD, "csrf_token": match.group(1)},
        )
        if done.status_code != 303:
            raise SystemExit(f"bench.web: sign-in failed ({done.status_code})")
        page = client.get(DASHBOARD)
        if page.status_code != 200 or DASHBOARD_MARKER not in page.text:
            raise SystemExit(f"bench.web: the dashboard did not load ({page.status_code})")
        return dict(client.cookies)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=USERS, help=f"default {USERS}")
    parser.add_argument(
        "--requests", type=int, default=REQUESTS_PER_USER, help="timed requests per user"
    )
    parser.add_argument("--cap", type=float, default=CAP_S, help="time cap of a run (s)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=ROUNDS,
        help=f"load rounds (median reported), default {ROUNDS}",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="flowplan-bench-web-") as tmp:
        folder = Path(tmp)
        print("building the demo store ...", flush=True)
        db_url, build_s = build_store(folder / "demo")
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        log = folder / "server.log"
        server = start_server(db_url, port, folder, log)
        try:
            start_s = wait_until_up(base_url, server, log)
            cookies = sign_in(base_url)

            def load(path: str, marker: str, users: int, requests: int) -> Load:
                return Load(
                    base_url, path, marker, cookies, users, requests, WARMUP_PER_USER, args.cap
                )

            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
                for i in range(1, args.repeats + 1):
                    print(
                        f"round {i}/{args.repeats}: dashboard, {args.users} users × "
                        f"{args.requests} requests; then the stylesheet under the same load ...",
                        flush=True,
                    )
                    rounds.append(
                        (
                            summary(
                                pool.submit(
                                    run_load,
                                    load(DASHBOARD, DASHBOARD_MARKER, args.users, args.requests),
                                ).result()
                            ),
                            summary(
                                pool.submit(
                                    run_load,
                                    load(BASELINE, BASELINE_MARKER, args.users, args.requests),
                                ).result()
                            ),
                        )
                    )
                print("dashboard, one user ...", flush=True)
                single = summary(
                    pool.submit(
                        run_load, load(DASHBOARD, DASHBOARD_MARKER, 1, SEQUENTIAL_REQUESTS)
                    ).result()
                )
        finally:
            stop(server)

    dashboard = median_round([d for d, _ in rounds])
    baseline = median_round([b for _, b in rounds])
    ok = all(d["requests_ok"] > 0 and d["errors"] == 0 for d, _ in rounds)
    passed = ok and dashboard["p95_ms"] <= TARGET_P95_MS
    ratio = (
        round(dashboard["p95_ms"] / baseline["p95_ms"], 1)
        if ok and baseline.get("p95_ms")
        else None
    )
    doc = {
        "benchmark": "web workspace: the dashboard under concurrent users",
        "machine": machine_info(),
        "setup": {
            "server": "flowplan serve (uvicorn, one process) on 127.0.0.1, plain HTTP",
            "store": "SQLite, the demo store built afresh (flowplan.demo.run_demo)",
            "store_build_s": round(build_s, 1),
            "server_start_s": round(start_s, 1),
            "client": "a second process: asyncio httpx, one connection per user, no think time",
            "signed_in_as": "a viewer (session cookie from the login form)",
            "users": args.users,
            "requests_per_user": args.requests,
            "warmup_requests_per_user": WARMUP_PER_USER,
            "time_cap_s": args.cap,
            # other work on the machine inflates every figure: 1-minute load before and after
            "load_average_1m_before": round(load_before[0], 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        },
        "target": {"what": f"p95 of GET {DASHBOARD}", "p95_ms_max": TARGET_P95_MS},
        "rounds": args.repeats,
        "dashboard": {"path": DASHBOARD, **dashboard},
        "baseline_static": {"path": BASELINE, **baseline},
        "p95_ms_by_round": {
            "dashboard": [d.get("p95_ms") for d, _ in rounds],
            "baseline_static": [b.get("p95_ms") for _, b in rounds],
        },
        "dashboard_one_user": {"path": DASHBOARD, **single},
        "p95_ratio_dashboard_to_static": ratio,
        "pass": passed,
    }
    write_json(RESULTS / "web.json", doc)
    if ok:
        print(
            f"dashboard, {args.users} users: median {dashboard['median_ms']:.0f} ms, "
            f"p95 {dashboard['p95_ms']:.0f} ms, p99 {dashboard['p99_ms']:.0f} ms, "
            f"{dashboard['throughput_rps']:.1f} requests/s, {dashboard['errors']} errors — "
            f"target p95 ≤ {TARGET_P95_MS:g} ms: {'PASS' if passed else 'FAIL'}"
        )
        print(
            f"baseline {BASELINE}: p95 {baseline.get('p95_ms', math.nan):.1f} ms "
            f"(dashboard / baseline p95: {ratio}); dashboard with one user: median "
            f"{single.get('median_ms', math.nan):.0f} ms"
        )
    else:
        print(f"dashboard: {dashboard['errors']} errors {dashboard['error_kinds']} — FAIL")
    print(f"results in {Path('bench/results/web.json')}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
