"""`flowplan assurance category` end to end on a crafted store."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowplan.cli.assurance  # noqa: F401  (registers the assurance commands)
from flowplan.assurance.category import default_config
from tests.e2e.conftest import run, run_json
from tests.unit.assurance.test_category import config_toml

pytestmark = pytest.mark.usefixtures("home")

MONTHS = [f"2024-{m:02d}-01" for m in range(1, 13)]
NAMES = "January February March April May June July August September October November December"


@pytest.fixture()
def system(home: Path, tmp_path: Path) -> None:
    """Footprint SYS: RXN and RXL (A&E) and QE1 (an STP, RTT), Jan–Dec 2024.

    A&E: 1 − (40 + 50) ÷ 2,000 = 95.5% every month; RTT: (10,000 − 700) ÷ 10,000 = 93%.
    """
    ae = (
        "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
        "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
        "pct_emergency_admissions_over_4hours,date\n"
    )
    for name in NAMES.split():
        ae += f"RXN,1000,40,300,30,,,{name} 2024\nRXL,1000,50,300,30,,,{name} 2024\n"
    flows = "stp20_nhs_code,date,year,month,completed,incomplete,new\n"
    waits = (
        "stp20_nhs_code,stp20_name,date,year,month,treatment,waits_over_18_weeks,"
        "waits_over_52_weeks\n"
    )
    for month in MONTHS:
        flows += f"QE1,{month},2024,x,1000,10000,1000\n"
        waits += f"QE1,LSC,{month},2024,x,Total,700,10\n"
    files = {"ae.csv": ae, "flows.csv": flows, "waits.csv": waits}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for fmt, name in (
        ("trust_ae", "ae.csv"),
        ("rtt_flow_stp", "flows.csv"),
        ("rtt_waits_stp", "waits.csv"),
    ):
        code, _, err = run("ingest", fmt, str(tmp_path / name))
        assert code == 0, err
    code, _, err = run(
        "orgs", "footprint", "create", "SYS", "--type", "srg", "--members", "RXN,RXL,QE1"
    )
    assert code == 0, err


@pytest.mark.usefixtures("system")
def test_earned_autonomy_with_reasons_and_months() -> None:
    code, out, err = run("assurance", "category", "--footprint", "SYS")
    assert code == 0, err
    assert out.startswith("SYS: EARNED AUTONOMY")
    assert "months used: Jan 2024–Dec 2024 (12)" in out
    assert "standard 95 met in 12 of 12 months" in out
    assert "standard 92 met in 12 of 12 months" in out
    assert "95.50 ✓" in out and "93.00 ✓" in out
    assert "non-recurrent money released without formal sign-off" in out
    assert "basis: constitution.ae_4h: system value = 100 × (1 − Σ breaches ÷ Σ attendances)" in out


@pytest.mark.usefixtures("system")
def test_json_and_the_finance_flag() -> None:
    got = run_json("assurance", "category", "--footprint", "SYS", "--as-of", "2024-12")
    assert (got["category"], got["needs_diagnostic"], got["finance_flag"]) == (
        "earned_autonomy",
        False,
        False,
    )
    assert got["months"][0] == "2024-01" and got["as_of"] == "2024-12"
    ae = got["standards"]["constitution.ae_4h"]
    assert (ae["threshold"], ae["months_met"], ae["months_missing"]) == (95.0, 12, 0)
    assert ae["months"][0] == {
        "month": "2024-01",
        "value": pytest.approx(95.5),
        "numerator": 90.0,
        "denominator": 2000.0,
        "met": True,
    }
    rtt = got["standards"]["constitution.rtt_incomplete_18w"]
    assert rtt["months"][-1]["value"] == pytest.approx(93.0)
    assert rtt["months"][-1]["numerator"] == 9300.0
    flagged = run_json("assurance", "category", "--footprint", "SYS", "--finance-flag")
    assert flagged["category"] == "standard"
    assert any("bars_earned_autonomy → standard" in r for r in flagged["reasons"])


@pytest.mark.usefixtures("system")
def test_a_stricter_config_makes_the_system_high_risk(tmp_path: Path) -> None:
    data = default_config().model_dump()
    data["version"] = "local-1"
    data["standards"][0]["threshold"] = 95.6  # A&E 95.5 is now just below, every month
    path = tmp_path / "strict.toml"
    path.write_text(config_toml(data), encoding="utf-8")
    code, out, err = run("assurance", "category", "--footprint", "SYS", "--config", str(path))
    assert code == 0, err
    assert out.startswith(
        "SYS: HIGH RISK — a diagnostic of the provider is needed before money is released"
    )
    assert "high risk: A&E 4-hour not met in 12 months" in out
    assert "config local-1" in out


@pytest.mark.usefixtures("system")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--footprint", "SYS", "--as-of", "2024-13"], "--as-of: not a month (YYYY-MM): '2024-13'"),
        (["--footprint", "SYS", "--as-of", "Dec 2024"], "--as-of: not a month (YYYY-MM)"),
        (["--footprint", "NOPE"], "unknown footprint 'NOPE'"),
        (
            ["--footprint", "SYS", "--as-of", "2024-06"],
            "SYS: A&E 4-hour has 6 of 12 months missing in Jul 2023–Jun 2024",
        ),
        (["--footprint", "SYS", "--config", "absent.toml"], "absent.toml: cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = run("assurance", "category", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_empty_store_has_no_footprint() -> None:
    code, _, err = run("assurance", "category", "--footprint", "SYS", "--json")
    assert code == 2
    assert "unknown footprint 'SYS' (footprints: none stored" in err
