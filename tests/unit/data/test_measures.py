"""The measure registry: loaded from the packaged CSV, used by every format, documented."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest

from flowplan.data import measures
from flowplan.data.measures import Aggregation
from flowplan.data.readers import FORMATS, LOCAL_FORMAT
from flowplan.data.tables import REFERENCE_TABLES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "data.md"
LOWER_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_registry_loads_every_row_of_the_csv() -> None:
    reg = measures.registry()
    assert len(reg) == 23
    assert all(name == m.name for name, m in reg.items())
    assert measures.registry() is reg  # read once


def test_a_measure_carries_its_definition() -> None:
    wl = measures.registry()["rtt_waiting_list"]
    assert (wl.unit, wl.kind, wl.aggregation, wl.non_negative) == (
        "pathways",
        "stock",
        Aggregation.LAST,
        True,
    )
    att = measures.registry()["ae_attendances"]
    assert (att.unit, att.kind, att.aggregation) == ("attendances", "flow", Aggregation.SUM)
    assert att.breakdowns == "A&E type (1, 2, other) or all"
    beds = measures.registry()["ga_beds_occupied"]
    assert (beds.kind, beds.aggregation) == ("stock", Aggregation.MEAN)


def test_unknown_measures() -> None:
    assert measures.get("beds_by_ward") is None
    assert measures.aggregation_of("beds_by_ward") is Aggregation.SUM
    assert measures.aggregation_of("rtt_waiting_over_52w") is Aggregation.LAST


def test_kinds_and_aggregations_are_consistent() -> None:
    for m in measures.registry().values():
        assert m.kind in {"flow", "stock"}, m.name
        if m.kind == "flow":
            assert m.aggregation is Aggregation.SUM, m.name
        else:
            assert m.aggregation in {Aggregation.MEAN, Aggregation.LAST}, m.name
        assert m.unit, m.name
        assert m.description, m.name
        assert m.breakdowns, m.name


def test_names_are_lower_snake() -> None:
    for name in measures.registry():
        assert LOWER_SNAKE.match(name), name
        assert measures.MEASURE_NAME.match(name), name
    assert not measures.MEASURE_NAME.match("AE_attendances")
    assert not measures.MEASURE_NAME.match("1st_attendances")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_measure_a_format_writes_is_registered(fmt: str) -> None:
    written = FORMATS[fmt].measures()
    assert [m for m in written if measures.get(m) is None] == []
    if FORMATS[fmt].link is None:
        assert written, fmt


def test_docs_mention_every_measure_format_and_reference_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    names = [
        *measures.registry(),
        *FORMATS,
        LOCAL_FORMAT,
        *REFERENCE_TABLES,
    ]
    missing = [n for n in names if f"`{n}`" not in text]
    assert missing == []


def test_every_registry_row_has_seven_fields() -> None:
    text = resources.files("flowplan.data").joinpath("measures.csv").read_text(encoding="utf-8")
    widths = {row[0]: len(row) for row in csv.reader(text.splitlines())}
    assert {name: n for name, n in widths.items() if n != 7} == {}
    delayed = measures.registry()["delayed_discharges"]
    assert delayed.description.endswith("by reason (acute discharge sitrep)")


def _listed(breakdowns: str) -> set[str] | None:
    """The breakdown names a registry entry lists, or None when it describes them in words."""
    parts = [p.strip() for p in breakdowns.split(",")]
    return set(parts) if all(LOWER_SNAKE.match(p) for p in parts) else None


@pytest.mark.parametrize(
    "fmt",
    [name for name in FORMATS],
)
def test_fixed_breakdowns_are_the_ones_the_registry_lists(fmt: str) -> None:
    for value in FORMATS[fmt].values:
        measure = measures.registry()[value.measure]
        listed = _listed(measure.breakdowns)
        if listed is not None:
            assert value.breakdown in listed | {"all"}, (value.column, value.breakdown)
