"""The command line end to end: exit codes, one-line errors, summaries and CSV output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowplan.data.readers import FORMATS
from flowplan.store.store import Store
from tests.e2e.conftest import run

TRUST_AE = "nhs_england_operational/england_trust_accidents_emergency.csv"
HEADER = (
    "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
    "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
    "pct_emergency_admissions_over_4hours,date\n"
)


def counts(home: Path) -> dict[str, int]:
    return Store(f"sqlite:///{home / 'flowplan.db'}").counts()


def test_formats_lists_every_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run("formats")
    assert code == 0
    for name in [*FORMATS, "table", "los_model", "stranded", "arrival_profile"]:
        assert name in out
    assert "total_attendances" in out


def test_ingest_summary_and_idempotent_reload(home: Path, public_data: Path) -> None:
    path = str(public_data / TRUST_AE)
    code, out, _ = run("ingest", "trust_ae", path)
    assert code == 0
    assert "31,225" in out  # observations written
    assert "7,895" in out  # rows read
    assert "2021-04-01 .. 2025-07-01" in out
    assert "attendances_over_4hours: missing value (not reported; not stored): 354" in out
    code, out, _ = run("ingest", "trust_ae", path)
    assert code == 0
    after = counts(home)
    assert after["observations"] == 31_225
    assert after["loads"] == 2
    code, out, _ = run("loads")
    assert code == 0
    assert "england_trust_accidents_emergency.csv" in out


def test_bad_file_one_line_per_problem_exit_2_store_unchanged(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "RXN,100,10,30,5,,,April 2021\n", encoding="utf-8")
    assert run("ingest", "trust_ae", str(good))[0] == 0
    before = counts(home)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "RXN,200,20,30,5,,,May 2021\n"  # fine on its own: must not be written either
        + "RXL,100,150,30,5,,,May 2021\n"  # breaches above attendances
        + "RXR,-4,0,30,5,,,May 2021\n"  # negative count
        + "RTX,100,10,30,5,,,Mai 2021\n",  # date does not parse
        encoding="utf-8",
    )
    code, out, err = run("ingest", "trust_ae", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:3:attendances_over_4hours: attendances_over_4hours must not exceed "
        "total_attendances — 150 > 100",
        f"{bad}:4:total_attendances: count must be a non-negative number — -4",
        f"{bad}:5:date: date does not parse — Mai 2021",
    ]
    assert "Traceback" not in out + err
    assert counts(home) == before


def test_many_problems_show_twenty_then_a_count(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "".join(f"T{i},x,1,1,1,,,April 2021\n" for i in range(25)), encoding="utf-8"
    )
    code, _, err = run("ingest", "trust_ae", str(bad))
    lines = err.splitlines()
    assert code == 2
    assert len(lines) == 21
    assert lines[0] == f"{bad}:2:total_attendances: not a number — x"
    assert lines[-1] == "... and 5 more problem(s) (25 in all)"


def test_missing_column_and_unknown_format(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cols.csv"
    bad.write_text("nhs_trust22_code,date\nRXN,April 2021\n", encoding="utf-8")
    code, _, err = run("ingest", "trust_ae", str(bad))
    assert code == 2
    assert err.splitlines()[0] == f"{bad}:1:total_attendances: required column missing"
    code, _, err = run("ingest", "no_such_format", str(bad))
    assert code == 2
    assert err.startswith("unknown format 'no_such_format'; known formats: nhsr_ae_attendances")
    code, _, err = run("ingest", "trust_ae", str(tmp_path / "absent.csv"))
    assert (code, err.strip()) == (2, f"{tmp_path / 'absent.csv'}:0:: file not found")


def test_conflict_then_replace(home: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(HEADER + "RXN,100,10,30,5,,,April 2021\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "RXN,101,10,30,5,,,April 2021\n", encoding="utf-8")
    assert run("ingest", "trust_ae", str(first))[0] == 0
    code, _, err = run("ingest", "trust_ae", str(second))
    assert code == 2
    assert err.strip() == (
        f"{second}:2:value: conflicts with the value stored by load 1 (use --replace) — "
        "RXN ae_attendances [all] 2021-04-01: stored 100, file 101"
    )
    code, out, _ = run("ingest", "trust_ae", str(second), "--replace")
    assert code == 0
    code, out, _ = run("series", "show", "RXN", "ae_attendances", "--csv")
    assert out == "period_start,value\n2021-04-01,101\n"


def test_dry_run(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "RXN,100,10,30,5,,,April 2021\n", encoding="utf-8")
    code, out, _ = run("ingest", "trust_ae", str(path), "--dry-run")
    assert code == 0
    assert "Dry run: nothing written" in out
    assert counts(home)["observations"] == 0


def test_series_and_orgs_commands(home: Path, public_data: Path) -> None:
    assert (
        run(
            "ingest",
            "discharges",
            str(public_data / "nhs_england_operational" / "england_trust_discharged_patients.csv"),
        )[0]
        == 0
    )
    code, out, _ = run("series", "list", "--org", "RXN")
    assert code == 0
    assert "discharges" in out and "by_1700" in out and "1249" in out
    code, out, _ = run(
        "series",
        "show",
        "RXN",
        "discharges",
        "--grain",
        "month",
        "--from",
        "2024-01-01",
        "--to",
        "2024-03-01",
        "--csv",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "period_start,value"
    assert [line.split(",")[0] for line in lines[1:]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    code, _, err = run("series", "show", "RXN", "discharges", "--from", "01/01/2024")
    assert (code, err.strip()) == (2, "--from: not an ISO date (YYYY-MM-DD): '01/01/2024'")
    code, _, err = run("series", "show", "RXN", "ae_attendances")
    assert (code, err.strip()) == (2, "no series 'ae_attendances' for organisation 'RXN'")
    code, out, _ = run("orgs", "list", "--type", "trust")
    assert code == 0 and "RXN" in out
    code, out, _ = run("orgs", "show", "RXN")
    assert code == 0 and "type: trust" in out
    code, _, err = run("orgs", "show", "NOPE")
    assert (code, err.strip()) == (2, "unknown organisation 'NOPE'")


def test_footprints_populations_and_org_reference(home: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        "orgs",
        "footprint",
        "create",
        "QE1",
        "--type",
        "icb",
        "--members",
        "RXN,RXL",
        "--name",
        "Lancashire and South Cumbria",
    )
    assert code == 0 and "2 member(s)" in out
    fp = tmp_path / "fp.csv"
    fp.write_text(
        "footprint_code,footprint_type,member_code\nSRG1,srg,RXN\nSRG1,srg,RTX\n", encoding="utf-8"
    )
    assert run("orgs", "footprint", "load", str(fp))[0] == 0
    code, out, _ = run("orgs", "footprint", "list")
    assert "QE1" in out and "RXL, RXN" in out and "SRG1" in out
    pops = tmp_path / "pop.csv"
    pops.write_text("org_code,year,population,age_group\nQE1,2024,1800000,all\n", encoding="utf-8")
    assert run("orgs", "population", "load", str(pops))[0] == 0
    bad = tmp_path / "badpop.csv"
    bad.write_text("org_code,year,population\nQE1,twenty,5\nQE1,2024,-1\n", encoding="utf-8")
    code, _, err = run("orgs", "population", "load", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:2:year: not a whole year — twenty",
        f"{bad}:3:population: count must be a non-negative number — -1",
    ]
    ref = tmp_path / "orgs.csv"
    ref.write_text(
        "code,name,type,parent_code,valid_from,valid_to\n"
        "RXN,Lancashire Teaching Hospitals NHS Foundation Trust,trust,QE1,2005-04-01,\n",
        encoding="utf-8",
    )
    assert run("orgs", "load", str(ref))[0] == 0
    code, out, _ = run("orgs", "show", "RXN")
    assert "Lancashire Teaching Hospitals" in out
    assert "valid: 2005-04-01 .." in out
    assert "footprints: QE1, SRG1" in out


def test_generic_table_ingest(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_text(
        "arrival_time\n2024-03-30T23:30:00+00:00\n2024-03-31T00:30:00+00:00\n"
        "2024-03-31T23:30:00+00:00\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        "ingest",
        "table",
        str(path),
        "--org",
        "RXN",
        "--measure",
        "ae_attendances",
        "--time-col",
        "arrival_time",
        "--count-rows",
        "--grain",
        "day",
    )
    assert code == 0
    code, out, _ = run("series", "show", "RXN", "ae_attendances", "--csv")
    # 23:30 UTC on 30 March is 23:30 GMT; after the clocks go forward 23:30 UTC is 00:30 BST
    assert out == "period_start,value\n2024-03-30,1\n2024-03-31,1\n2024-04-01,1\n"
    code, _, err = run(
        "ingest", "table", str(path), "--org", "RXN", "--measure", "x", "--time-col", "arrival_time"
    )
    assert (code, err.strip()) == (2, "give exactly one of --value-col COL or --count-rows")


def test_demo_builds_a_fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out_dir = tmp_path / "out"
    code, out, _ = run("demo", "--out", str(out_dir))
    assert code == 0
    assert "853,941 observations" in out
    assert (out_dir / "flowplan.db").is_file()
    assert (
        (out_dir / "RXN_ae_attendances_monthly.csv")
        .read_text()
        .startswith("period_start,value\n2021-04-01,14756")
    )
    beds = (out_dir / "RXN_beds_at_occupancy.csv").read_text().splitlines()
    assert beds[0].startswith("org,target_occupancy,admissions_per_day,los_days,")
    # 794.0 beds occupied on average ÷ 0.85 → 935 beds (see tests/e2e/test_cli_capacity.py)
    assert [line.split(",")[6] for line in beds[1:]] == ["993", "935", "883", "864", "836"]
    projection = (out_dir / "QE1_waitinglist_projection.csv").read_text().splitlines()
    assert len(projection) == 1 + 105  # header + weeks 0..104
    assert (out_dir / "QE1_waitinglist_projection.png").read_bytes()[:4] == b"\x89PNG"
    review = (out_dir / "review" / "review.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in review and "redistribution" in review.lower()
    assert (out_dir / "RXN_ae_4h_spc.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run("demo", "--out", str(out_dir))  # runs again from scratch
    assert code == 0 and "853,941 observations" in out


def test_console_script_version() -> None:
    exe = Path(sys.executable).with_name("flowplan")
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "flowplan 0.1.0")


CTR = "nhs_trust22_code,date,do_not_meet_criteria_to_reside\n"
OVERVIEW = "month,type_of_wait,count\n"
REGION = "nhs_region20_name,date,year,month,treatment,waits_over_18_weeks,waits_over_52_weeks\n"


@pytest.mark.parametrize(
    ("fmt", "text", "first_line"),
    [
        ("criteria_to_reside", CTR + "RXN,,5\n", ":2:date: date missing"),
        (
            "criteria_to_reside",
            CTR + "RXN,2024-02-30,5\n",
            ":2:date: date does not parse — 2024-02-30",
        ),
        (
            "criteria_to_reside",
            CTR + ",2024-01-02,5\n",
            ":2:nhs_trust22_code: organisation code missing",
        ),
        (
            "criteria_to_reside",
            CTR + "RXN,2024-01-02,five\n",
            ":2:do_not_meet_criteria_to_reside: not a number — five",
        ),
        (
            "criteria_to_reside",
            CTR + "RXN,2024-01-02,5\nRXN,2024-01-02,6\n",
            ":3:: duplicate key in file — RXN 2024-01-02 (first on row 2)",
        ),
        (
            "trust_ae",
            HEADER + "RXN,100,10,30,5,1.5,,April 2021\n",
            ":2:pct_attendance_over_4hours: rate outside [0, 1] — 1.5",
        ),
        (
            "rtt_overview",
            OVERVIEW + "2024-01-01,No. > 104 weeks,5\n",
            ":2:type_of_wait: unknown category — No. > 104 weeks",
        ),
        (
            "rtt_waits_region",
            REGION + "Wessex,2024-01-01,2024,Jan,Total,5,1\n",
            ":2:nhs_region20_name: unknown organisation name — Wessex",
        ),
        ("criteria_to_reside", "", ":1:: file is empty"),
        ("criteria_to_reside", CTR, ":2:: file has no data rows"),
    ],
)
def test_each_rule_exits_2_with_one_line_and_leaves_the_store(
    home: Path, tmp_path: Path, fmt: str, text: str, first_line: str
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(CTR + "RXN,2024-01-01,4\n", encoding="utf-8")
    assert run("ingest", "criteria_to_reside", str(good))[0] == 0
    before = counts(home)
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    code, out, err = run("ingest", fmt, str(bad))
    assert code == 2
    assert err.splitlines()[0] == f"{bad}{first_line}"
    assert "Traceback" not in out + err
    assert counts(home) == before
