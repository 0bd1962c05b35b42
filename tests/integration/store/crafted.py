"""Crafted files in the published formats, shared by the store integration tests."""

from __future__ import annotations

from pathlib import Path

BEDS_COLS = (
    "nhs_trust22_code,date,general_acute_beds_available,general_acute_beds_occupied,"
    "general_acute_beds_occupancy_rate,adult_general_acute_beds_available,"
    "adult_general_acute_beds_occupied,adult_general_acute_beds_occupancy_rate,"
    "paediatric_general_acute_beds_available,paediatric_general_acute_beds_occupied,"
    "paediatric_general_acute_beds_occupancy_rate,adult_critical_care_beds_available,"
    "adult_critical_care_beds_occupied,adult_critical_care_occupancy_rate,"
    "paediatric_intensive_cared_beds_available,paediatric_intensive_cared_beds_occupied,"
    "paediatric_intensive_cared_occupancy_rate,neonatal_intensive_care_bed_available,"
    "neonatal_intensive_care_bed_occupied,neonatal_intensive_care_occupancy_rate\n"
)


def beds_row(month: str, available: int, occupied: int, org: str = "RXN") -> str:
    """One ga_beds row with only the G&A totals filled in."""
    return f"{org},{month},{available},{occupied}" + "," * 16 + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
