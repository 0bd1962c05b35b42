"""Organisation, footprint and population reference files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flowplan.data.orgfiles import (
    FootprintRow,
    OrganisationRecord,
    PopulationRecord,
    read_footprints,
    read_organisations,
    read_populations,
)
from flowplan.errors import DataValidationError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ref.csv"
    path.write_text(text, encoding="utf-8")
    return path


def problems(func: object, path: Path) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        func(path, "ref.csv")  # type: ignore[operator]
    return [str(p) for p in info.value.problems]


def test_organisations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "code,name,type,parent_code,valid_from,valid_to\n"
        "RA4,Yeovil District Hospital NHS Foundation Trust,trust,,1991-04-01,2023-03-31\n"
        "RXN, Lancashire Teaching Hospitals ,trust,QE1,,\n",
    )
    assert read_organisations(path) == [
        OrganisationRecord(
            "RA4",
            "Yeovil District Hospital NHS Foundation Trust",
            "trust",
            None,
            date(1991, 4, 1),
            date(2023, 3, 31),
        ),
        OrganisationRecord("RXN", "Lancashire Teaching Hospitals", "trust", "QE1", None, None),
    ]


def test_organisation_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "code,name,type,valid_from,valid_to\n"
        ",No code,trust,,\n"
        "RA4,Yeovil,trust,01/04/1991,\n"
        "RA9,Torbay,trust,2020-01-01,2019-12-31\n",
    )
    assert problems(read_organisations, path) == [
        "ref.csv:2:code: value missing",
        "ref.csv:3:valid_from: date does not parse — 01/04/1991",
        "ref.csv:4:valid_to: valid_to is before valid_from — 2019-12-31",
    ]


def test_footprints(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "footprint_code,footprint_name,footprint_type,member_code\n"
        "QE1,Lancashire and South Cumbria,icb,RXN\nQE1,,icb,RXL\n",
    )
    assert read_footprints(path) == [
        FootprintRow("QE1", "Lancashire and South Cumbria", "icb", "RXN"),
        FootprintRow("QE1", None, "icb", "RXL"),
    ]
    bad = write(tmp_path, "footprint_code,footprint_type,member_code\nQE1,icb,\n")
    assert problems(read_footprints, bad) == ["ref.csv:2:member_code: value missing"]
    cols = write(tmp_path, "footprint_code,member_code\nQE1,RXN\n")
    assert problems(read_footprints, cols) == ["ref.csv:1:footprint_type: required column missing"]


def test_populations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "org_code,year,population,age_group,source\n"
        "E38000227,2024,1800000,all,ONS mid-year estimates\nE38000227,2024,370000,65+,\n",
    )
    assert read_populations(path, "ref.csv") == [
        PopulationRecord("E38000227", 2024, "all", 1_800_000.0, "ONS mid-year estimates"),
        PopulationRecord("E38000227", 2024, "65+", 370_000.0, "ref.csv"),
    ]
    bad = write(tmp_path, "org_code,year,population\n,2024,5\nX,2024.5,5\nX,2024,many\nX,2024,-3\n")
    assert problems(read_populations, bad) == [
        "ref.csv:2:org_code: value missing",
        "ref.csv:3:year: not a whole year — 2024.5",
        "ref.csv:4:population: not a number — many",
        "ref.csv:5:population: count must be a non-negative number — -3",
    ]
    empty = write(tmp_path, "org_code,year,population\n")
    assert problems(read_populations, empty) == ["ref.csv:2:: file has no data rows"]
    assert problems(read_populations, tmp_path / "none.csv") == ["ref.csv:0:: file not found"]
