"""``flowplan monitor plan`` and ``flowplan escalation`` end to end on a crafted store.

The plan is the worked example (data/demo/plans/lsc_resilience_2015.yaml): S01 plans G&A bed
occupancy from 95.1% (March 2015) to 94.5% (June 2015), so May 2015 plans 94.7%. RAG tolerances
are kpis.toml 2025-26.1; escalation thresholds opel.toml 2025-26.1 (sources in the files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import flowplan.cli.monitor  # noqa: F401  (registers monitor and escalation)
from tests.e2e.conftest import run, run_json
from tests.integration.store.crafted import BEDS_COLS, write

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"

pytestmark = pytest.mark.usefixtures("home")


def _beds(org: str, month: str, available: int, occupied: int, adult_occupied: int) -> str:
    return f"{org},{month},{available},{occupied},,{available},{adult_occupied}," + "," * 12 + "\n"


@pytest.fixture()
def data(home: Path, tmp_path: Path) -> None:
    """Crafted beds and criteria-to-reside files ingested into the test's own FLOWPLAN_HOME."""
    assert home.name == "home"
    beds = (
        BEDS_COLS
        + _beds("RXN", "April 2015", 1000, 950, 900)
        + _beds("RXN", "May 2015", 1000, 947, 900)
        + _beds("RXL", "May 2015", 1000, 800, 800)
    )
    ctr = "nhs_trust22_code,date,do_not_meet_criteria_to_reside\nRXN,2015-05-30,180\n"
    ctr += "RXN,2015-05-31,90\n"
    for fmt, name, text in (("ga_beds", "beds.csv", beds), ("criteria_to_reside", "c.csv", ctr)):
        code, _, err = run("ingest", fmt, str(write(tmp_path, name, text)))
        assert code == 0, err


@pytest.mark.usefixtures("data")
def test_monitor_plan_from_a_file_and_from_the_store() -> None:
    got = run_json("monitor", "plan", str(DEMO), "--org", "RXN")
    assert (got["plan"], got["actuals_from"], got["config_version"]) == (
        "lsc-resilience-2015",
        "RXN",
        "2025-26.1",
    )
    s01 = next(k for k in got["kpis"] if k["scheme_id"] == "S01")
    # May 2015: 947 ÷ 1,000 = 94.7% against a plan of 94.7%: on plan → green
    assert (s01["latest_period"], s01["rag"]) == ("2015-05-01", "green")
    assert s01["actual"] == pytest.approx(94.7, abs=1e-9)
    assert s01["planned"] == pytest.approx(94.7, abs=1e-9)
    assert s01["spc_points"] == 2 and s01["spc_variation"] == ""
    assert next(s for s in got["schemes"] if s["scheme_id"] == "S01")["rag"] == "green"
    # April: 95% against 94.9% planned → 0.105% worse → amber (as-at cuts May off)
    april = run_json("monitor", "plan", str(DEMO), "--org", "RXN", "--as-at", "2015-04-30")
    s01 = next(k for k in april["kpis"] if k["scheme_id"] == "S01")
    assert (s01["actual"], s01["rag"]) == (pytest.approx(95.0, abs=1e-9), "amber")

    code, _, err = run("plan", "import", str(DEMO), "--user", "analyst")
    assert code == 0, err
    code, out, err = run("monitor", "plan", "lsc-resilience-2015", "--org", "RXN")
    assert code == 0, err
    assert "S01" in out and "green" in out
    assert "23 KPI(s), 1 with actuals: 1 green, 0 amber, 0 red" in out


@pytest.mark.usefixtures("data")
def test_escalation_levels_with_reasons() -> None:
    got = run_json("escalation", "--org", "RXN", "--from", "2015-05-30", "--to", "2015-05-31")
    assert got["config"]["version"] == "2025-26.1"
    days = got["days"]
    assert [d["date"] for d in days] == ["2015-05-30", "2015-05-31"]
    # 30 May: occupancy 94.7% (band 3: 2 × 3 = 6), NCTR 180 ÷ 900 = 20% (edge → band 4:
    # 3 × 2 = 6): 12 of 15 points = 80% → OPEL 4. 31 May: NCTR 10% (band 2: 2) → 8 of 15 =
    # 53.3% → OPEL 3.
    assert [d["level"] for d in days] == [4, 3]
    assert [d["score"] for d in days] == [12.0, 8.0]
    assert days[0]["reasons"][1] == (
        "Beds occupied by patients not meeting the criteria to reside 20 % of adult G&A beds "
        "occupied → band 4 of 4 (≥ 20): score 3 × weight 2 = 6 points"
    )
    assert [s["days"] for s in got["summary"]] == [0, 0, 1, 1]

    code, out, err = run("escalation", "--org", "RXN")
    assert code == 0, err
    assert "latest 28 days" in out
    assert "days at each level: OPEL 1: 0, OPEL 2: 0, OPEL 3: 27, OPEL 4: 1" in out


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    code, _, err = run("escalation", "--org", "NOPE")
    assert code == 2
    assert "no stored series for 'NOPE'" in err
    code, _, err = run("monitor", "plan", str(tmp_path / "absent.yaml"))
    assert (code, err.strip().endswith("file not found")) == (2, True)
    bad = write(tmp_path, "bad.toml", 'title = "x"\n')
    code, _, err = run("escalation", "--org", "RXN", "--config", str(bad))
    assert code == 2
    assert "bad.toml: version: Field required" in err
