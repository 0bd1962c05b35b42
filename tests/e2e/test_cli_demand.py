"""The review command end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import run

pytestmark = pytest.mark.usefixtures("home")


def test_review_writes_a_report_and_tables(tmp_path: Path, public_data: Path) -> None:
    nhs = public_data / "nhs_england_operational"
    for fmt, name in (
        ("trust_ae", "england_trust_accidents_emergency.csv"),
        ("ga_beds", "england_critical_general_acute_beds.csv"),
    ):
        assert run("ingest", fmt, str(nhs / name))[0] == 0
    out_dir = tmp_path / "review"
    code, out, err = run("review", "--org", "RXN", "--out", str(out_dir))
    assert code == 0, err
    # RXN, Aug 2024 – Jul 2025: 189,875 A&E attendances (england_trust_accidents_emergency.csv)
    assert "189,875" in out
    assert "not answered" in out  # no daily discharges or criteria to reside were loaded
    html = (out_dir / "review.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert sorted(p.suffix for p in out_dir.iterdir()).count(".csv") >= 3
    code, _, err = run("review", "--org", "NOPE", "--out", str(out_dir))
    assert (code, err.strip()) == (2, "unknown organisation 'NOPE'")


def test_forecast_and_backtest_from_a_csv(tmp_path: Path) -> None:
    # 30 weeks of a clean weekly pattern: busy weekdays, quiet weekends
    days = (
        [f"2024-01-{d:02d}" for d in range(1, 32)]
        + [f"2024-02-{d:02d}" for d in range(1, 30)]
        + [f"2024-03-{d:02d}" for d in range(1, 32)]
        + [f"2024-04-{d:02d}" for d in range(1, 31)]
    )
    weekday = [0, 1, 2, 3, 4, 5, 6]
    values = [100 if weekday[i % 7] < 5 else 60 for i in range(len(days))]  # 1 Jan 2024 = Mon
    path = tmp_path / "daily.csv"
    path.write_text(
        "ds,y\n" + "".join(f"{d},{v}\n" for d, v in zip(days, values, strict=True)),
        encoding="utf-8",
    )
    out_csv = tmp_path / "fc.csv"
    code, _, err = run(
        "forecast",
        "--input",
        str(path),
        "--horizon",
        "14",
        "--out",
        str(out_csv),
        "--holidays",
        "none",
    )
    assert code == 0, err
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "ds,mean,lo_80,hi_80,lo_95,hi_95"
    assert len(lines) == 1 + 14
    assert lines[1].startswith("2024-05-01,")
    first = [float(x) for x in lines[1].split(",")[1:]]
    mean, lo80, hi80, lo95, hi95 = first
    assert 0 <= lo95 <= lo80 <= mean <= hi80 <= hi95
    result = tmp_path / "bt.csv"
    code, _, err = run(
        "backtest",
        "--input",
        str(path),
        "--horizon",
        "7",
        "--windows",
        "3",
        "--step",
        "7",
        "--models",
        "default",
        "--models",
        "seasonal_naive",
        "--holidays",
        "none",
        "--out",
        str(result),
    )
    assert code == 0, err
    header = result.read_text().splitlines()[0].split(",")
    assert {"unique_id", "model", "mase", "rmsse", "pinball"} <= set(header)
    code, _, err = run("forecast", "--input", str(path), "--horizon", "0", "--out", str(out_csv))
    assert code == 2 and len(err.strip().splitlines()) == 1
