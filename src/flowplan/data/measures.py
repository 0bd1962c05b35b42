"""Canonical measure names: the vocabulary of the observations table.

The registry is data (``measures.csv`` shipped in the package); ``docs/data.md`` documents it and a
test keeps the two in step.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class Aggregation(StrEnum):
    """How values of one measure combine when re-aggregated to a coarser grain."""

    SUM = "sum"  # flows: attendances in a month = sum of daily attendances
    MEAN = "mean"  # averaged stocks: beds occupied in a month = mean of daily counts
    LAST = "last"  # end-of-period snapshots: waiting list at the end of the quarter
    MAX = "max"


@dataclass(frozen=True)
class Measure:
    """One canonical measure."""

    name: str
    unit: str
    kind: str  # "flow" (counted over a period) or "stock" (a level at a time)
    aggregation: Aggregation
    non_negative: bool
    breakdowns: str
    description: str


MEASURE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def registry() -> dict[str, Measure]:
    """All canonical measures by name, read from the packaged definitions."""
    text = resources.files("flowplan.data").joinpath("measures.csv").read_text(encoding="utf-8")
    out: dict[str, Measure] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["name"]] = Measure(
            name=row["name"],
            unit=row["unit"],
            kind=row["kind"],
            aggregation=Aggregation(row["aggregation"]),
            non_negative=row["non_negative"] == "true",
            breakdowns=row["breakdowns"],
            description=row["description"],
        )
    return out


def get(name: str) -> Measure | None:
    """The measure called ``name``, or None when it is not a canonical one."""
    return registry().get(name)


def aggregation_of(name: str) -> Aggregation:
    """How a measure re-aggregates; measures outside the registry are treated as flows (sum)."""
    measure = get(name)
    return measure.aggregation if measure else Aggregation.SUM
