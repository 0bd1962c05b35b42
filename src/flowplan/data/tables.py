"""Reference tables that are not time series: patient-level length-of-stay records and
arrival-rate profiles. They are read and validated here and handed to the modelling engines
(length-of-stay fitting, arrival generation) as typed frames; they are not stored as series.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flowplan.data.readers.engine import parse_numbers, problems_at, read_text_frame
from flowplan.errors import DataValidationError, Problem

Check = Callable[[pd.DataFrame, str, list[Problem]], pd.Series]


def _integer(low: float, high: float, optional: bool = False) -> Check:
    def check(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
        display = str(frame.attrs["file"])
        nums = parse_numbers(frame, column, display, problems)
        bad = nums.notna() & ((nums < low) | (nums > high) | (nums % 1 != 0))
        if bad.any():
            problems += problems_at(
                display,
                bad,
                column,
                f"must be a whole number in [{low:g}, {high:g}]",
                frame[column],
            )
        missing = frame[column].isna()
        if missing.any() and not optional:
            problems += problems_at(display, missing, column, "value missing", frame[column])
        return nums.where(~bad).astype("Int64")

    return check


def _rate(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
    display = str(frame.attrs["file"])
    nums = parse_numbers(frame, column, display, problems)
    bad = nums < 0
    if bad.any():
        problems += problems_at(display, bad, column, "rate must be non-negative", frame[column])
    return nums


def _category(*allowed: str) -> Check:
    def check(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
        display = str(frame.attrs["file"])
        bad = ~frame[column].isin(allowed)
        if bad.any():
            problems += problems_at(
                display, bad, column, f"must be one of {', '.join(allowed)}", frame[column]
            )
        return frame[column]

    return check


def _text(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
    display = str(frame.attrs["file"])
    missing = frame[column].isna()
    if missing.any():
        problems += problems_at(display, missing, column, "value missing", frame[column])
    return frame[column]


def _date(fmt: str) -> Check:
    def check(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
        display = str(frame.attrs["file"])
        stamps = pd.to_datetime(frame[column], format=fmt, errors="coerce")
        bad = stamps.isna()
        if bad.any():
            problems += problems_at(display, bad, column, "date does not parse", frame[column])
        return stamps

    return check


HOUR_RANGE = re.compile(r"^(\d{1,2})(AM|PM)-(\d{1,2})(AM|PM)$")


def _hour_of_day(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
    """'6AM-7AM' → 6; '11PM-12AM' → 23. Each period must be one hour long."""
    display = str(frame.attrs["file"])
    parts = frame[column].str.upper().str.extract(HOUR_RANGE.pattern)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[2], errors="coerce")
    start = first % 12 + (parts[1] == "PM") * 12
    end = second % 12 + (parts[3] == "PM") * 12
    on_clock = first.between(1, 12) & second.between(1, 12)  # 12-hour clock: 1AM .. 12PM
    bad = start.isna() | ~on_clock | ((end - start) % 24 != 1)
    if bad.any():
        problems += problems_at(
            display, bad, column, "must be a one-hour period such as 6AM-7AM", frame[column]
        )
    return start.where(~bad).astype("Int64")


@dataclass(frozen=True)
class ReferenceTable:
    """A validated non-series table."""

    name: str
    title: str
    columns: dict[str, Check]
    source: str

    def read(self, path: Path, display: str | None = None) -> pd.DataFrame:
        """Read and validate the table; columns keep their names, values their types.

        Raises:
            DataValidationError: every problem found.
        """
        display = display or str(path)
        frame = read_text_frame(path, display)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataValidationError(
                [Problem(display, 1, c, "required column missing") for c in missing]
            )
        if frame.empty:
            raise DataValidationError([Problem(display, 2, "", "file has no data rows")])
        frame.attrs["file"] = display
        problems: list[Problem] = []
        result = pd.DataFrame(
            {col: check(frame, col, problems) for col, check in self.columns.items()}
        )
        if problems:
            problems.sort(key=lambda p: (p.row, p.column))
            raise DataValidationError(problems)
        return result


NHSR_CC0 = "NHSRdatasets (nhs-r-community/NHSRdatasets, CC0); synthetic"

LOS_MODEL = ReferenceTable(
    name="los_model",
    title="Patient-level length of stay with age and death (synthetic)",
    columns={
        "ID": _integer(0, 1e12),
        "Organisation": _text,
        "Age": _integer(0, 120),
        "LOS": _integer(0, 3650),
        "Death": _integer(0, 1),
    },
    source=NHSR_CC0,
)

STRANDED = ReferenceTable(
    name="stranded",
    title="Admissions labelled stranded (length of stay ≥ 7 days) with risk factors (synthetic)",
    columns={
        "stranded.label": _category("Stranded", "Not Stranded"),
        "age": _integer(0, 120),
        "care.home.referral": _integer(0, 1),
        "medicallysafe": _integer(0, 1),
        "hcop": _integer(0, 1),
        "mental_health_care": _integer(0, 1),
        "periods_of_previous_care": _integer(0, 1000, optional=True),
        "admit_date": _date("%d/%m/%Y"),
        "frailty_index": _text,
    },
    source=NHSR_CC0,
)

ARRIVAL_PROFILE = ReferenceTable(
    name="arrival_profile",
    title="Hour-of-day arrival rates (arrivals per hour) of an urgent treatment centre",
    columns={"period": _hour_of_day, "arrival_rate": _rate},
    source="treat-sim 3.0.0 (TomMonks/treatment-centre-sim, MIT); illustrative (Nelson 2013)",
)

REFERENCE_TABLES: dict[str, ReferenceTable] = {
    t.name: t for t in (LOS_MODEL, STRANDED, ARRIVAL_PROFILE)
}
