"""Capacity and waiting-list commands end to end: JSON contracts, files written, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run, run_json

PUBLIC = Path(__file__).resolve().parents[2] / "data" / "public"


pytestmark = pytest.mark.usefixtures("home")


def test_erlang_json_matches_the_mm2_closed_form() -> None:
    # M/M/2, λ = 1, E[S] = 1: a = 1, ρ = 0.5, C(2, 1) = 1/3, Wq = C/(cμ − λ) = 1/3, Lq = 1/3
    # (Kleinrock, Queueing Systems vol. 1, §3.5).
    got = run_json(
        "capacity", "erlang", "--arrival-rate", "1", "--service-mean", "1", "--servers", "2"
    )
    assert got["utilisation"] == pytest.approx(0.5, rel=1e-12)
    assert got["p_wait"] == pytest.approx(1 / 3, rel=1e-12)
    assert got["mean_wait"] == pytest.approx(1 / 3, rel=1e-12)
    assert got["mean_queue_length"] == pytest.approx(1 / 3, rel=1e-12)


def test_erlang_sizes_servers_and_reports_errors() -> None:
    # λ = 6/h, E[S] = 1/3 h → a = 2; P(wait > 0.25 h) is 0.21 with 3 servers, 0.039 with 4
    got = run_json(
        "capacity",
        "erlang",
        "--arrival-rate",
        "6",
        "--service-mean",
        "0.333333333333",
        "--max-p",
        "0.05",
        "--wait-time",
        "0.25",
    )
    assert got["servers"] == 4
    assert got["p_wait_longer"] == pytest.approx(0.0388, abs=1e-4)
    code, _, err = run(
        "capacity", "erlang", "--arrival-rate", "6", "--service-mean", "1", "--servers", "3"
    )
    assert code == 2
    assert err.strip() == (
        "offered load 6 ≥ 3 servers: the queue grows without limit; add servers or reduce demand"
    )
    code, _, err = run("capacity", "erlang", "--arrival-rate", "6", "--service-mean", "1")
    assert (code, err.strip()) == (
        2,
        "give --servers, or --max-mean-wait W, or --max-p P with --wait-time T",
    )


def test_beds_json_and_curve(tmp_path: Path) -> None:
    curve = tmp_path / "curve.csv"
    got = run_json(
        "capacity",
        "beds",
        "--admissions-per-day",
        "40",
        "--los-days",
        "5",
        "--core-beds",
        "220",
        "--out",
        str(curve),
    )
    # 40 × 5 = 200 bed-days a day; ÷ 0.85 = 235.3 → 236 beds
    assert got["bed_days_per_day"] == pytest.approx(200.0)
    assert got["beds"] == 236
    assert got["queueing"]["beds"] > 200  # type: ignore[index]
    # the 95th percentile of Poisson(200) is 224 (scipy.stats.poisson.ppf(0.95, 200))
    assert got["escalation"]["percentile_occupied"] == 224  # type: ignore[index]
    assert got["escalation"]["escalation_beds"] == 4  # type: ignore[index]
    assert curve.read_text().splitlines()[0] == "beds,occupancy,p_no_bed,p_wait,mean_wait_hours"
    code, _, err = run(
        "capacity", "beds", "--admissions-per-day", "40", "--los-days", "5", "--occupancy", "1.2"
    )
    assert code == 2
    assert "occupancy" in err and len(err.strip().splitlines()) == 1


def test_beds_from_the_store(public_data: Path) -> None:
    nhs = public_data / "nhs_england_operational"
    assert run("ingest", "trust_ae", str(nhs / "england_trust_accidents_emergency.csv"))[0] == 0
    assert run("ingest", "ga_beds", str(nhs / "england_critical_general_acute_beds.csv"))[0] == 0
    got = run_json("capacity", "beds", "--org", "RXN")
    # RXN, Aug 2024 – Jul 2025: 53,714 emergency admissions over 365 days; 794.0 G&A beds
    # occupied on average (golden values from the shipped files)
    assert got["admissions_per_day"] == pytest.approx(147.16164383561645, rel=1e-9)
    assert got["los_days"] == pytest.approx(794.0054794520548 / 147.16164383561645, rel=1e-9)
    assert got["beds"] == 935


def test_staff_from_a_profile(tmp_path: Path) -> None:
    got = run_json(
        "capacity",
        "staff",
        "--profile",
        str(PUBLIC / "treat_sim_nspp_arrival_profile" / "ed_arrivals.csv"),
        "--service-minutes",
        "20",
        "--method",
        "sipp",
        "--out",
        str(tmp_path),
    )
    clinicians = got["clinicians_by_hour_of_week"]
    assert isinstance(clinicians, list) and len(clinicians) == 168
    assert clinicians[:6] == [0] * 6  # the centre is shut 00:00-06:00 in the profile
    assert Path(str(got["rota_csv"])).read_text().startswith("hour_of_week,day,hour,")
    assert Path(str(got["chart_png"])).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run("capacity", "staff", "--service-minutes", "20")
    assert (code, err.strip()) == (2, "give exactly one of --profile CSV or --org CODE")


def test_waitinglist_targets_reproduce_nhsr_waitinglist() -> None:
    # NHSRwaitinglist documentation: calc_target_queue_size(30, 52) = 390,
    # calc_relief_capacity(30, 1200, 390, 26) = 61.153846, calc_queue_load(30, 27) = 1.1111111,
    # calc_waiting_list_pressure(63, 52) = 2.4230769
    got = run_json(
        "waitinglist",
        "targets",
        "--demand",
        "30",
        "--target-wait",
        "52",
        "--queue-size",
        "1200",
        "--time-to-target",
        "26",
        "--mean-wait",
        "63",
        "--capacity",
        "27",
    )
    assert got["target_mean_wait"] == pytest.approx(13.0)
    assert got["target_queue_size"] == pytest.approx(390.0)
    assert got["relief_capacity"] == pytest.approx(61.153846, rel=1e-7)
    assert got["queue_load"] == pytest.approx(1.1111111, rel=1e-7)
    assert got["pressure"] == pytest.approx(2.4230769, rel=1e-7)
    bare = run_json("waitinglist", "targets", "--demand", "30", "--target-wait", "52")
    assert bare["relief_capacity"] is None and bare["pressure"] is None


def write_list(tmp_path: Path) -> Path:
    path = tmp_path / "list.csv"
    rows = "".join(f"{w},{10}\n" for w in range(30)) + "104+,5\n"
    path.write_text("weeks_waited,patients\n" + rows, encoding="utf-8")
    return path


def test_project_and_solve_from_a_csv_list(tmp_path: Path) -> None:
    path = write_list(tmp_path)
    got = run_json(
        "waitinglist",
        "project",
        "--input",
        str(path),
        "--referrals",
        "50",
        "--capacity",
        "50",
        "--weeks",
        "52",
        "--out",
        str(tmp_path),
    )
    assert got["list_size_start"] == pytest.approx(305.0)
    # demand = capacity and no removals: the list size is conserved
    assert got["list_size_end"] == pytest.approx(305.0, rel=1e-9)
    assert got["unsustainable"] is False
    frame = Path(str(got["csv"])).read_text().splitlines()
    assert len(frame) == 1 + 53  # header + weeks 0..52
    solved = run_json(
        "waitinglist",
        "solve",
        "--input",
        str(path),
        "--referrals",
        "50",
        "--target",
        "zero_52",
        "--by-week",
        "4",
        "--weeks",
        "8",
        "--out",
        str(tmp_path),
    )
    assert solved["achieved"] < 0.5  # type: ignore[operator]
    assert solved["below_meets"] is False
    code, _, err = run("waitinglist", "project", "--input", str(path), "--out", str(tmp_path))
    assert (code, err.strip()) == (2, "--input needs --referrals (clock starts per week)")
    bad = tmp_path / "bad.csv"
    bad.write_text("weeks_waited,patients\nten,5\n3,-1\n", encoding="utf-8")
    code, _, err = run(
        "waitinglist", "project", "--input", str(bad), "--referrals", "5", "--out", str(tmp_path)
    )
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:2:weeks_waited: not a whole number of weeks — ten",
        f"{bad}:3:patients: count must be a non-negative number — -1",
    ]


def test_project_an_stp_from_the_store(tmp_path: Path, public_data: Path) -> None:
    nhs = public_data / "nhs_england_operational"
    assert run("ingest", "rtt_flow_stp", str(nhs / "england_rtt_flow_stp.csv"))[0] == 0
    assert run("ingest", "rtt_waits_stp", str(nhs / "england_rtt_stp.csv"))[0] == 0
    got = run_json(
        "waitinglist", "project", "--stp", "QE1", "--weeks", "26", "--out", str(tmp_path)
    )
    # QE1 at the end of February 2025: 254,683 incomplete pathways (england_rtt_flow_stp.csv)
    assert got["list_size_start"] == pytest.approx(254_683.0, rel=1e-9)
    assert got["unsustainable"] is True  # clock starts exceed clock stops over the year
    assert Path(str(got["chart"])).read_bytes()[:4] == b"\x89PNG"


def test_staff_from_a_stored_hourly_series(tmp_path: Path) -> None:
    # two weeks of hourly arrivals: 6 an hour 08:00-19:59, 1 an hour otherwise, every day
    hours = [f"2024-03-{d:02d}T{h:02d}:00:00" for d in range(4, 18) for h in range(24)]
    counts = [6 if 8 <= int(stamp[11:13]) < 20 else 1 for stamp in hours]
    path = tmp_path / "hourly.csv"
    path.write_text(
        "hour,arrivals\n" + "".join(f"{s},{c}\n" for s, c in zip(hours, counts, strict=True)),
        encoding="utf-8",
    )
    code, _, err = run(
        "ingest",
        "table",
        str(path),
        "--org",
        "RXN",
        "--measure",
        "ae_attendances",
        "--time-col",
        "hour",
        "--value-col",
        "arrivals",
        "--grain",
        "hour",
    )
    assert code == 0, err
    got = run_json(
        "capacity",
        "staff",
        "--org",
        "RXN",
        "--service-minutes",
        "20",
        "--method",
        "sipp",
        "--out",
        str(tmp_path),
    )
    clinicians = got["clinicians_by_hour_of_week"]
    assert isinstance(clinicians, list)
    # λ = 6/h, E[S] = 20 min: a = 2 Erlangs, 4 clinicians meet 95% within 15 minutes (C(4, 2) =
    # 4/23, P(wait > 15 min) = 4/23·e^(−1.5) = 0.039); λ = 1/h: a = 1/3, 1 clinician gives
    # P(wait > 15 min) = (1/3)·e^(−0.5) = 0.20 > 5%, 2 clinicians meet it
    assert clinicians[8:20] == [4] * 12
    assert clinicians[0:8] == [2] * 8
    assert got["arrivals_per_week"] == pytest.approx(7 * (12 * 6 + 12 * 1))
