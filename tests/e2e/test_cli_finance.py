"""``flowplan finance ...``: allocate, marginal-tariff, bridge, rules — outputs and error lines."""

from __future__ import annotations

from pathlib import Path

import flowplan.cli.finance  # noqa: F401  (registers the finance commands)
from tests.e2e.conftest import run, run_json

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


def _pops(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pops.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_allocate_json(home: Path, tmp_path: Path) -> None:
    pops = _pops(tmp_path, "org,population\n00Q,500000\n00R,300000\n00X,200000\n")
    got = run_json(
        "finance",
        "allocate",
        "--pot",
        "£3.7M",
        "--populations",
        str(pops),
        "--top-slice",
        "£200K",
    )
    assert got["allocations"] == {"00Q": 1_750_000, "00R": 1_050_000, "00X": 700_000}
    assert got["top_slice"] == 200_000


def test_allocate_weights_and_table(home: Path, tmp_path: Path) -> None:
    pops = _pops(tmp_path, "org,population,weight\nA,1,1\nB,1,1\nC,1,1\n")
    assert run_json("finance", "allocate", "--pot", "100", "--populations", str(pops))[
        "allocations"
    ] == {"A": 34, "B": 33, "C": 33}
    code, out, _ = run("finance", "allocate", "--pot", "100", "--populations", str(pops))
    assert code == 0
    assert "£34" in out and "largest remainder" in out


def test_allocate_bad_input_is_one_line_exit_2(home: Path, tmp_path: Path) -> None:
    pops = _pops(tmp_path, "org,population,weight\nA,lots,1\nB,10,-2\n")
    code, _, err = run("finance", "allocate", "--pot", "100", "--populations", str(pops))
    assert code == 2
    assert err.splitlines() == [
        f"{pops}:2:population: must be a whole number ≥ 0 — lots",
        f"{pops}:3:weight: must be a positive number — -2",
    ]
    missing = _pops(tmp_path, "code,people\nA,1\n")
    code, _, err = run("finance", "allocate", "--pot", "100", "--populations", str(missing))
    assert code == 2
    assert err.splitlines()[0] == (
        f"{missing}:1:org: required column is missing — columns are: code, people"
    )
    good = _pops(tmp_path, "org,population\nA,1\n")
    code, _, err = run("finance", "allocate", "--pot", "three", "--populations", str(good))
    assert (code, err.strip()) == (2, "--pot: not an amount of money: 'three'")
    code, _, err = run(
        "finance", "allocate", "--pot", "10", "--top-slice", "20", "--populations", str(good)
    )
    assert code == 2 and "the top-slice must not exceed the pot" in err


def test_marginal_tariff(home: Path) -> None:
    got = run_json(
        "finance", "marginal-tariff", "--baseline-value", "£48M", "--actual-value", "£51.5M"
    )
    assert (got["above_baseline"], got["paid"], got["retained"]) == (
        3_500_000,
        1_050_000,
        2_450_000,
    )
    code, out, _ = run(
        "finance", "marginal-tariff", "--baseline-value", "48000000", "--actual-value", "51500000"
    )
    assert code == 0 and "Retained (70%) for demand management: £2,450,000" in out
    code, _, err = run("finance", "marginal-tariff", "--baseline-value", "x", "--actual-value", "1")
    assert (code, err.strip()) == (2, "--baseline-value: not an amount of money: 'x'")


def test_bridge_writes_png_and_csv(home: Path, tmp_path: Path) -> None:
    got = run_json("finance", "bridge", str(DEMO), "--out", str(tmp_path / "out"))
    png = Path(got["png"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert Path(got["csv"]).read_text(encoding="utf-8").startswith("year,line,do_nothing_gbp")
    assert got["bars"][0]["label"] == "Do nothing"
    assert got["bars"][-1]["end"] == 2_000_000
    code, out, _ = run(
        "finance", "bridge", str(DEMO), "--out", str(tmp_path / "o2"), "--line", "provider"
    )
    assert code == 0 and "Provider efficiency: £40,000,000" in out


def test_bridge_errors(home: Path, tmp_path: Path) -> None:
    code, _, err = run("finance", "bridge", str(tmp_path / "nope.yaml"), "--out", str(tmp_path))
    assert code == 2 and "file not found" in err
    code, _, err = run("finance", "bridge", "no-such-plan", "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1


def test_rules(home: Path) -> None:
    got = run_json("finance", "rules", "--year", "2015/16", "--org-type", "ccg")
    assert {(r["rule"], r["min_pct"]) for r in got["rules"]} == {
        ("FIN-CONTINGENCY", 0.5),
        ("FIN-SURPLUS", 1.0),
        ("FIN-NON-RECURRENT", 1.0),
    }
    code, out, _ = run("finance", "rules", "--year", "2014/15")
    assert code == 0 and "FIN-TRANSFORMATION" in out and "seed 001 L842" in out
    code, _, err = run("finance", "rules", "--year", "2015")
    assert (code, err.strip()) == (
        2,
        "--year: not a financial year (YYYY/YY, e.g. 2015/16): '2015'",
    )
