"""What a reader hands to the store: typed, validated, long-format data plus its warnings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowplan.data.grain import Grain

OBSERVATION_COLUMNS = ["org_code", "measure", "breakdown", "grain", "period_start", "value", "row"]
ORGANISATION_COLUMNS = ["code", "name", "type", "parent_code"]
LINK_COLUMNS = ["from_code", "to_code", "kind", "weight"]


@dataclass(frozen=True)
class QuirkWarning:
    """A known quirk of the source, reported with a count and never silently changed.

    Attributes:
        rule: what was seen, e.g. "missing value (not reported)".
        column: the column concerned ("" for the whole row).
        count: how many rows (or series) show it.
        example: one place it occurs, e.g. "row 12 (RAJ 2022-04-01)".
    """

    rule: str
    column: str
    count: int
    example: str = ""

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        tail = f" (e.g. {self.example})" if self.example else ""
        return f"{where}{self.rule}: {self.count}{tail}"


@dataclass
class ParsedFile:
    """One input file, read and validated.

    Attributes:
        file: file name as shown to the user.
        sha256: hex digest of the file's bytes.
        format: reader name.
        source: citation of the publisher / repository and licence.
        rows_read: data rows in the file (header excluded).
        rows_rejected: rows skipped because they carry neither an organisation code nor any
            value (blank rows a publisher left in); rows with a code but missing values are
            kept and their missing values counted in ``warnings``.
        observations: columns ``OBSERVATION_COLUMNS``; ``period_start`` naive local timestamps;
            ``row`` the line number the value came from.
        organisations: organisations named by the file (``ORGANISATION_COLUMNS``).
        links: relations between organisations (``LINK_COLUMNS``), e.g. A&E attribution.
        warnings: known quirks found in the file.
    """

    file: str
    sha256: str
    format: str
    source: str
    rows_read: int
    rows_rejected: int
    observations: pd.DataFrame
    organisations: pd.DataFrame
    links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LINK_COLUMNS))
    warnings: list[QuirkWarning] = field(default_factory=list)

    @property
    def grains(self) -> set[Grain]:
        """The grains present in the observations."""
        return {Grain(g) for g in self.observations["grain"].unique()}

    def period_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last period start, or None when there are no observations."""
        if self.observations.empty:
            return None
        col = self.observations["period_start"]
        return pd.Timestamp(col.min()), pd.Timestamp(col.max())

    def series_count(self) -> int:
        """Number of distinct series (organisation, measure, breakdown, grain) in the file."""
        keys = ["org_code", "measure", "breakdown", "grain"]
        return int(self.observations[keys].drop_duplicates().shape[0])


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
