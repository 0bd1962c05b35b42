"""Metric, trajectory, benchmark and SPC commands end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run, run_json

pytestmark = pytest.mark.usefixtures("home")

AE = "nhs_england_operational/england_trust_accidents_emergency.csv"


@pytest.fixture()
def with_ae(home: Path, public_data: Path) -> None:
    assert run("ingest", "trust_ae", str(public_data / AE))[0] == 0


def test_list_show_and_compute() -> None:
    code, out, _ = run("metric", "list", "--family", "bcf")
    assert code == 0
    for metric_id in (
        "bcf.permanent_admissions_65plus",
        "bcf.reablement_91_days",
        "bcf.delayed_transfers",
        "bcf.avoidable_emergency_admissions",
        "bcf.patient_experience",
    ):
        assert metric_id in out
    shown = run_json("metric", "show", "constitution.ae_4h")
    assert (shown["standard"], shown["complement"], shown["scale"]) == (95.0, True, 100.0)
    # BCF "average per month": 1,200 delayed days ÷ 150,000 adults × 100,000 ÷ 6 months
    got = run_json(
        "metric",
        "compute",
        "bcf.delayed_transfers",
        "--numerator",
        "1200",
        "--denominator",
        "150000",
        "--months",
        "6",
    )
    assert got["value"] == pytest.approx(1200 / 150000 * 100000 / 6, rel=1e-12)
    code, _, err = run("metric", "show", "bcf.delayed_transfer")
    assert code == 2
    assert "did you mean 'bcf.delayed_transfers'" in err


def test_check_exit_codes(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text(
        "label,metric_id,value,numerator,denominator,months\n"
        "RF4 type 1,constitution.ae_4h,86.5%,2879,21289,\n"  # 1 − 2879/21289 = 86.476%
        "DTOC,bcf.delayed_transfers,133.3,1200,150000,6\n"
        "DTOC wrong,bcf.delayed_transfers,140,1200,150000,6\n",
        encoding="utf-8",
    )
    code, out, _ = run("metric", "check", str(table))
    assert code == 1
    assert out.splitlines() == [
        f"{table}:2: RF4 type 1 constitution.ae_4h: ok",
        f"{table}:3: DTOC bcf.delayed_transfers: ok",
        f"{table}:4: DTOC wrong bcf.delayed_transfers: MISMATCH stated 140, recomputed 133.33",
        "3 row(s) checked: 2 ok, 1 mismatch(es)",
    ]
    table.write_text(table.read_text().replace("DTOC wrong", "DTOC").replace(",140,", ",133.3,"))
    assert run("metric", "check", str(table))[0] == 0
    code, _, err = run("metric", "check", str(tmp_path / "none.csv"))
    assert (code, err.strip()) == (2, f"{tmp_path / 'none.csv'}:0:: file not found")


@pytest.mark.usefixtures("with_ae")
def test_series_benchmark_and_spc(tmp_path: Path) -> None:
    code, out, _ = run(
        "metric", "series", "constitution.ae_4h", "--org", "RXN", "--from", "2025-07-01", "--csv"
    )
    assert code == 0
    # RXN July 2025: 4,579 of 16,226 attendances over 4 hours (england_trust_accidents_emergency)
    header, row = out.splitlines()
    assert header == "period_start,numerator,denominator,value"
    assert row.startswith("2025-07-01,4579.0,16226.0,")
    assert float(row.split(",")[3]) == pytest.approx(100 * (1 - 4579 / 16226), rel=1e-12)
    bench = run_json("benchmark", "constitution.ae_4h", "--org", "RXN")
    assert bench["value"] == pytest.approx(100 * (1 - 4579 / 16226), rel=1e-12)
    assert bench["national_source"] == "given"
    # golden values from the shipped trust A&E file, July 2025: 141 trusts report attendances;
    # the national value pools their breaches and attendances
    assert (bench["rank"], bench["n"]) == (102, 141)
    assert bench["national"] == pytest.approx(75.1775528372185, rel=1e-9)
    assert bench["ambition"] == pytest.approx(bench["national"], rel=1e-12)  # below national
    assert bench["q25"] < bench["median"] < bench["q75"]
    csv_out = tmp_path / "spc.csv"
    code, out, _ = run(
        "spc", "--org", "RXN", "--metric", "constitution.ae_4h", "--out", str(csv_out)
    )
    assert code == 0
    lines = csv_out.read_text().splitlines()
    assert lines[0] == "date,value,mean,lpl,upl,point_type,special_cause"
    assert len(lines) == 1 + 52  # April 2021 .. July 2025
    assert "Assurance" in out and "consistently fails" in out
    png = tmp_path / "spc.png"
    assert run("spc", "--org", "RXN", "--metric", "constitution.ae_4h", "--out", str(png))[0] == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_spc_from_a_csv(tmp_path: Path) -> None:
    values = [10, 11, 9, 10, 12, 10, 9, 11, 10, 30]  # the last point is far outside the limits
    path = tmp_path / "series.csv"
    path.write_text(
        "month,count\n" + "".join(f"2024-{m:02d}-01,{v}\n" for m, v in enumerate(values, start=1)),
        encoding="utf-8",
    )
    out_csv = tmp_path / "out.csv"
    code, _, err = run(
        "spc",
        "--input",
        str(path),
        "--date-col",
        "month",
        "--value-col",
        "count",
        "--improvement",
        "decrease",
        "--out",
        str(out_csv),
    )
    assert code == 0, err
    last = out_csv.read_text().splitlines()[-1].split(",")
    assert (last[0], last[5], last[6]) == ("2024-10-01", "special_cause_concern", "1")
    bad = tmp_path / "bad.csv"
    bad.write_text("month,count\n2024-01-01,x\n", encoding="utf-8")
    code, _, err = run("spc", "--input", str(bad), "--date-col", "month", "--value-col", "count")
    assert (code, err.strip()) == (2, f"{bad}:2:count: not a number — x")


@pytest.mark.usefixtures("with_ae")
def test_trajectory_build_and_check(tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    code, _, err = run(
        "trajectory",
        "build",
        "--baseline",
        "70",
        "--baseline-date",
        "2025-03-01",
        "--target",
        "2025-07-01=74",
        "--out",
        str(plan),
    )
    assert code == 0, err
    # linear: one point a month from 70 (March) to 74 (July)
    assert plan.read_text().splitlines() == [
        "period_start,planned",
        "2025-04-01,71.0",
        "2025-05-01,72.0",
        "2025-06-01,73.0",
        "2025-07-01,74.0",
    ]
    got = run_json(
        "trajectory",
        "check",
        "--trajectory",
        str(plan),
        "--org",
        "RXN",
        "--metric",
        "constitution.ae_4h",
    )
    # RXN actuals 70.58, 71.03, 69.92, 71.78 (higher is better; amber within 5% short of plan)
    assert [p["rag"] for p in got["periods"]] == ["amber", "amber", "amber", "amber"]
    assert got["summary"]["latest_rag"] == "amber"
    code, _, err = run(
        "trajectory",
        "build",
        "--baseline",
        "70",
        "--baseline-date",
        "2025-03-01",
        "--target",
        "July=74",
    )
    assert (code, err.strip()) == (2, "--target: not an ISO date (YYYY-MM-DD): 'July'")
    code, _, err = run(
        "trajectory",
        "build",
        "--baseline",
        "70",
        "--baseline-date",
        "2025-03-01",
        "--target",
        "2025-07-01",
    )
    assert (code, err.strip()) == (
        2,
        "--target must be DATE=VALUE, e.g. 2025-03-01=95 (got '2025-07-01')",
    )
