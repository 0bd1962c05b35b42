"""``flowplan scenario ...`` and ``flowplan simulate ...`` end to end (small runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from flowplan.sim import example_scenario, kpi_names, load_scenario
from tests.e2e.conftest import run

# the SimPy reference engine is quick to start (no JIT) for these tiny runs
ENGINE = ("--engine", "simpy", "--executor", "sequential")


def _queue_file(folder: Path, servers: int = 2, name: str = "q.yaml") -> Path:
    code, out, err = run(
        "scenario",
        "queue",
        "--arrival-rate",
        "3",
        "--service-mean",
        "0.5",
        "--servers",
        str(servers),
        "--unit",
        "hour",
    )
    assert code == 0, err
    path = folder / name
    path.write_text(out, encoding="utf-8")
    return path


def test_scenario_example_and_schema(home: Path, tmp_path: Path) -> None:
    code, out, err = run("scenario", "example", "--population", "100000")
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["name"] == "example_100000"
    expected = example_scenario(100_000).wards
    assert expected is not None and doc["wards"]["core_beds"] == expected.core_beds
    path = tmp_path / "example.yaml"
    path.write_text(out, encoding="utf-8")
    assert load_scenario(path).name == "example_100000"
    code, out, err = run("scenario", "schema")
    assert code == 0, err
    schema = json.loads(out)
    assert "wards" in schema["properties"] and "name" in schema["required"]


def test_scenario_queue_and_validate(home: Path, tmp_path: Path) -> None:
    path = _queue_file(tmp_path)
    s = load_scenario(path)
    assert s.queues[0].arrival_rate == 3.0 and s.queues[0].servers == 2
    code, out, err = run("scenario", "validate", str(path))
    assert code == 0, err
    assert "valid scenario 'queue'" in out


def test_bad_scenario_names_the_field(home: Path, tmp_path: Path) -> None:
    path = _queue_file(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["queues"][0]["servers"] = -1
    doc["run"]["colour"] = "blue"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    for args in (("scenario", "validate", str(bad)), ("simulate", str(bad), "--out", "x")):
        code, _, err = run(*args)
        assert code == 2
        lines = err.strip().splitlines()
        assert any("queues[0].servers" in line for line in lines), err
        assert any("run.colour" in line for line in lines), err
        assert all(line.startswith(str(bad)) for line in lines)


def test_simulate_file_writes_four_outputs(home: Path, tmp_path: Path) -> None:
    path = _queue_file(tmp_path)
    out_dir = tmp_path / "run"
    code, out, err = run(
        "simulate",
        str(path),
        "--replications",
        "3",
        "--seed",
        "4",
        "--days",
        "3",
        "--warmup",
        "1",
        *ENGINE,
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "daily.csv",
        "replications.csv",
        "report.html",
        "summary.json",
    ]
    summary = json.loads((out_dir / "summary.json").read_text())
    keys = kpi_names(("queue",))
    assert list(summary) == keys
    assert set(summary["queue.utilisation"]) == {"mean", "ci_low", "ci_high", "n"}
    assert summary["queue.utilisation"]["n"] == 3
    # offered load 3 × 0.5 = 1.5 erlangs on 2 servers: utilisation ≈ 0.75
    assert 0.55 < summary["queue.utilisation"]["mean"] < 0.95
    reps = pd.read_csv(out_dir / "replications.csv")
    assert reps["replication"].tolist() == [0, 1, 2]
    daily = pd.read_csv(out_dir / "daily.csv")
    assert len(daily) == 9 and list(daily.columns[:3]) == ["replication", "day", "date"]
    assert daily["date"].iloc[0] == "2025-01-07"
    html = (out_dir / "report.html").read_text()
    assert "Resource utilisation" in html and "data:image/png;base64," in html
    assert "queue.utilisation" in out
    # `simulate run FILE` is the same command, with the same numbers for the same seed
    again = tmp_path / "again"
    code, _, err = run(
        "simulate",
        "run",
        str(path),
        "--replications",
        "3",
        "--seed",
        "4",
        "--days",
        "3",
        "--warmup",
        "1",
        *ENGINE,
        "--out",
        str(again),
    )
    assert code == 0, err
    assert json.loads((again / "summary.json").read_text()) == summary


def test_simulate_compare(home: Path, tmp_path: Path) -> None:
    base = _queue_file(tmp_path, servers=2, name="base.yaml")
    scheme = _queue_file(tmp_path, servers=3, name="scheme.yaml")
    doc = yaml.safe_load(scheme.read_text())
    doc["name"] = "three_servers"
    scheme.write_text(yaml.safe_dump(doc))
    out_dir = tmp_path / "cmp"
    code, out, err = run(
        "simulate",
        "compare",
        str(base),
        str(scheme),
        "--replications",
        "3",
        "--seed",
        "2",
        "--days",
        "3",
        "--warmup",
        "1",
        *ENGINE,
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    payload = json.loads((out_dir / "comparison.json").read_text())
    effect = payload["schemes"]["three_servers"]
    # common random numbers: identical arrivals, so the arrivals difference is exactly 0
    assert effect["queue.arrivals"]["diff_mean"] == 0.0
    assert effect["queue.arrivals"]["ci_low"] == 0.0
    # a third server cuts the wait and utilisation (1.5 erlangs: 0.75 → 0.5)
    assert effect["queue.mean_wait_hours"]["diff_mean"] < 0
    assert effect["queue.utilisation"]["diff_mean"] == pytest.approx(-0.25, abs=0.08)
    assert f"outputs: {out_dir}/comparison.csv" in out
    table = pd.read_csv(out_dir / "comparison.csv")
    assert set(table["scenario"]) == {"three_servers"}
    assert "Scheme effects" in (out_dir / "report.html").read_text()


def test_bad_options(home: Path, tmp_path: Path) -> None:
    path = _queue_file(tmp_path)
    code, _, err = run("simulate", str(path), "--replications", "many", "--out", "x")
    assert code == 2 and "--replications" in err
    code, _, err = run("simulate", str(path), "--engine", "warp", "--out", "x")
    assert code == 2 and "--engine" in err
