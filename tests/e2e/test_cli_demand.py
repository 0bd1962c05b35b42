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
