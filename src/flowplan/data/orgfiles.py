"""Readers for the organisation reference files a user supplies: organisations, footprints and
populations. Each returns plain records or raises one DataValidationError with every problem."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flowplan.errors import DataValidationError, Problem

Rows = list[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class OrganisationRecord:
    """One row of an organisation reference file."""

    code: str
    name: str | None
    type: str | None
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class FootprintRow:
    """One member of one footprint."""

    footprint_code: str
    footprint_name: str | None
    footprint_type: str
    member_code: str


@dataclass(frozen=True)
class PopulationRecord:
    """Population of an organisation in a year and age group."""

    org_code: str
    year: int
    age_group: str
    population: float
    source: str


def read_rows(path: Path, required: list[str], display: str | None = None) -> Rows:
    """(line number, row) pairs of a small CSV, cells stripped; header = line 1.

    Raises:
        DataValidationError: missing file, missing columns or no data rows.
    """
    shown = display or str(path)
    if not path.is_file():
        raise DataValidationError([Problem(shown, 0, "", "file not found")])
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise DataValidationError(
                [Problem(shown, 1, c, "required column missing") for c in missing]
            )
        rows = [
            (reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for row in reader
        ]
    if not rows:
        raise DataValidationError([Problem(shown, 2, "", "file has no data rows")])
    return rows


def _missing(shown: str, rows: Rows, columns: tuple[str, ...]) -> list[Problem]:
    return [
        Problem(shown, line, col, "value missing")
        for line, row in rows
        for col in columns
        if not row.get(col)
    ]


def read_organisations(path: Path, display: str | None = None) -> list[OrganisationRecord]:
    """Columns code, name, type and optionally parent_code, valid_from, valid_to (ISO dates)."""
    shown = display or str(path)
    rows = read_rows(path, ["code", "name", "type"], shown)
    problems = _missing(shown, rows, ("code",))
    records = []
    for line, row in rows:
        dates: dict[str, date | None] = {}
        for key in ("valid_from", "valid_to"):
            text = row.get(key) or ""
            try:
                dates[key] = date.fromisoformat(text) if text else None
            except ValueError:
                problems.append(Problem(shown, line, key, "date does not parse", text))
                dates[key] = None
        start, end = dates["valid_from"], dates["valid_to"]
        if start and end and end < start:
            problems.append(
                Problem(shown, line, "valid_to", "valid_to is before valid_from", row["valid_to"])
            )
        records.append(
            OrganisationRecord(
                code=row.get("code", ""),
                name=row.get("name") or None,
                type=row.get("type") or None,
                parent_code=row.get("parent_code") or None,
                valid_from=start,
                valid_to=end,
            )
        )
    if problems:
        raise DataValidationError(problems)
    return records


def read_footprints(path: Path, display: str | None = None) -> list[FootprintRow]:
    """Columns footprint_code, footprint_type, member_code and optionally footprint_name."""
    shown = display or str(path)
    required = ("footprint_code", "footprint_type", "member_code")
    rows = read_rows(path, list(required), shown)
    problems = _missing(shown, rows, required)
    if problems:
        raise DataValidationError(problems)
    return [
        FootprintRow(
            footprint_code=r["footprint_code"],
            footprint_name=r.get("footprint_name") or None,
            footprint_type=r["footprint_type"],
            member_code=r["member_code"],
        )
        for _, r in rows
    ]


def read_populations(path: Path, display: str | None = None) -> list[PopulationRecord]:
    """Columns org_code, year, population and optionally age_group (default all), source."""
    shown = display or str(path)
    rows = read_rows(path, ["org_code", "year", "population"], shown)
    problems = _missing(shown, rows, ("org_code",))
    records = []
    for line, row in rows:
        year_text, pop_text = row.get("year", ""), row.get("population", "")
        try:
            year = int(year_text)
        except ValueError:
            problems.append(Problem(shown, line, "year", "not a whole year", year_text))
            continue
        try:
            pop = float(pop_text)
        except ValueError:
            problems.append(Problem(shown, line, "population", "not a number", pop_text))
            continue
        if pop < 0:
            problems.append(
                Problem(shown, line, "population", "count must be a non-negative number", pop_text)
            )
        records.append(
            PopulationRecord(
                org_code=row.get("org_code", ""),
                year=year,
                age_group=row.get("age_group") or "all",
                population=pop,
                source=row.get("source") or Path(shown).name,
            )
        )
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DataValidationError(problems)
    return records
