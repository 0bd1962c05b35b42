"""Readers: one per public format, plus the generic reader for local extracts."""

from __future__ import annotations

from pathlib import Path

from flowplan.data.parsed import ParsedFile
from flowplan.data.readers.engine import TableFormat, read_table
from flowplan.data.readers.local import LocalTable, read_local_table
from flowplan.data.readers.nhs import PUBLISHED_FORMATS
from flowplan.errors import UsageError

FORMATS: dict[str, TableFormat] = {f.name: f for f in PUBLISHED_FORMATS}
LOCAL_FORMAT = "table"


def get_format(name: str) -> TableFormat:
    """The published format called ``name``.

    Raises:
        UsageError: no such format (the message lists the known ones).
    """
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join([*FORMATS, LOCAL_FORMAT])
        raise UsageError(f"unknown format {name!r}; known formats: {known}") from None


def read(name: str, path: Path, display: str | None = None) -> ParsedFile:
    """Read and validate one file of the published format ``name``."""
    return read_table(get_format(name), path, display)


__all__ = [
    "FORMATS",
    "LOCAL_FORMAT",
    "LocalTable",
    "TableFormat",
    "get_format",
    "read",
    "read_local_table",
    "read_table",
]
