"""The generic reader for local extracts: timestamps or periods with a value, to a grain.

A local daily or event-level extract (ED arrivals with their arrival time, a bed-state snapshot
every hour, 111 calls per day) is a CSV with a time column and optionally a value column.
Timestamps that carry a UTC offset are converted to the planning time zone before they are
bucketed, so a day is a local calendar day (23 or 25 hours long on the days the clocks change).
Naive timestamps are taken to be local wall-clock time already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from flowplan.data import measures
from flowplan.data.grain import Grain, floor
from flowplan.data.measures import Aggregation
from flowplan.data.parsed import OBSERVATION_COLUMNS, ParsedFile, QuirkWarning, sha256_of
from flowplan.data.readers.engine import parse_numbers, problems_at, read_text_frame
from flowplan.errors import DataValidationError, Problem, UsageError

OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
SOURCE = "local extract"


@dataclass(frozen=True)
class LocalTable:
    """How to read one local extract.

    Attributes:
        org: organisation code the whole file is about.
        measure: canonical measure name (see ``docs/data.md``); other lower_snake names are
            accepted as local measures.
        time_column: column holding timestamps or period starts.
        value_column: column holding the value; None with ``count_rows`` to count records.
        count_rows: count rows per period instead of aggregating a value.
        grain: period the values are aggregated to.
        tz: IANA time zone of the plan (offset-bearing timestamps are converted to it).
        agg: how values in one period combine (sum, mean, max).
        time_format: ``strptime`` format of the time column; ISO 8601 when None.
        breakdown: breakdown label of the series written.
    """

    org: str
    measure: str
    time_column: str
    value_column: str | None = None
    count_rows: bool = False
    grain: Grain = Grain.DAY
    tz: str = "Europe/London"
    agg: Aggregation = Aggregation.SUM
    time_format: str | None = None
    breakdown: str = "all"

    def check(self) -> None:
        """Reject settings that cannot work, before any file is read.

        Raises:
            UsageError: naming the setting and why.
        """
        if (self.value_column is None) == (not self.count_rows):
            raise UsageError("give exactly one of --value-col COL or --count-rows")
        if not measures.MEASURE_NAME.match(self.measure):
            raise UsageError(f"measure name must be lower_snake_case: {self.measure!r}")
        if not self.org.strip():
            raise UsageError("--org must name an organisation code")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"unknown time zone {self.tz!r} (use an IANA name)") from None
        if self.agg is Aggregation.LAST:
            raise UsageError("--agg must be sum, mean or max")


def parse_local_times(
    text: pd.Series, tz: str, time_format: str | None
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse a column of timestamps to naive local wall-clock time in ``tz``.

    Returns:
        (local, utc, bad, mixed): ``local`` naive local timestamps (NaT where bad); ``utc`` the
        same instants in UTC where the text carried an offset (NaT otherwise); ``bad`` rows that
        did not parse; ``mixed`` rows without an offset in a file whose other rows have one.
    """
    has_offset = text.str.contains(OFFSET, na=False)
    fmt = time_format or "ISO8601"
    local = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    utc = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    mixed = pd.Series(False, index=text.index)
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], utc=True, format=fmt, errors="coerce")
        utc.loc[has_offset] = parsed
        local.loc[has_offset] = parsed.dt.tz_convert(tz).dt.tz_localize(None).astype(local.dtype)
    naive = ~has_offset & text.notna()
    if naive.any():
        parsed_naive = pd.to_datetime(text[naive], format=fmt, errors="coerce")
        if has_offset.any():
            # a naive timestamp among offset-bearing ones is ambiguous; garbage is just garbage
            mixed.loc[naive] = parsed_naive.notna()
        else:
            local.loc[naive] = parsed_naive.astype(local.dtype)
    bad = local.isna() & text.notna() & ~mixed
    return local, utc, bad, mixed


def _ambiguous(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local times that occur twice (the repeated hour when the clocks go back)."""
    early = naive.dt.tz_localize(tz, ambiguous=True, nonexistent="NaT")
    late = naive.dt.tz_localize(tz, ambiguous=False, nonexistent="NaT")
    twice: pd.Series = early.notna() & (early != late)
    return twice


def read_local_table(spec: LocalTable, path: Path, display: str | None = None) -> ParsedFile:
    """Read a local extract and aggregate it to ``spec.grain``.

    Raises:
        UsageError: the settings cannot work.
        DataValidationError: the file breaks a rule; carries every problem found.
    """
    spec.check()
    display = display or str(path)
    frame = read_text_frame(path, display)
    wanted = [spec.time_column] + ([spec.value_column] if spec.value_column else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Problem(display, 1, c, "required column missing") for c in missing]
        )
    if frame.empty:
        raise DataValidationError([Problem(display, 2, "", "file has no data rows")])

    problems: list[Problem] = []
    text = frame[spec.time_column]
    local, utc, bad, mixed = parse_local_times(text, spec.tz, spec.time_format)
    expected = spec.time_format or "ISO 8601"
    if bad.any():
        problems += problems_at(
            display, bad, spec.time_column, f"timestamp does not parse (expected {expected})", text
        )
    if mixed.any():
        problems += problems_at(
            display,
            mixed,
            spec.time_column,
            "timestamp has no UTC offset while other rows have one",
            text,
        )
    no_time = text.isna()
    if no_time.any():
        problems += problems_at(display, no_time, spec.time_column, "timestamp missing", text)

    warnings: list[QuirkWarning] = []
    if spec.value_column:
        values = parse_numbers(frame, spec.value_column, display, problems)
        measure = measures.get(spec.measure)
        if measure is not None and measure.non_negative:
            neg = values < 0
            if neg.any():
                problems += problems_at(
                    display,
                    neg,
                    spec.value_column,
                    "count must be a non-negative number",
                    frame[spec.value_column],
                )
        miss = values.isna() & frame[spec.value_column].isna()
        if miss.any():
            first = int(miss[miss].index[0]) + 2
            warnings.append(
                QuirkWarning(
                    "missing value (not stored)", spec.value_column, int(miss.sum()), f"row {first}"
                )
            )
    else:
        values = pd.Series(1.0, index=frame.index)
        miss = pd.Series(False, index=frame.index)

    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DataValidationError(problems)

    if measures.get(spec.measure) is None:
        warnings.append(
            QuirkWarning(f"'{spec.measure}' is not a canonical measure (stored as local)", "", 1)
        )

    keep = ~miss
    period = floor(local[keep], spec.grain)
    rows = pd.Series(frame.index[keep] + 2, index=period.index)
    grouped = values[keep].groupby(period)
    how = "size" if spec.count_rows else spec.agg.value
    agg = grouped.size().astype(float) if how == "size" else grouped.agg(how)
    first_row = rows.groupby(period).min()

    naive_local = local[keep & utc.isna()]
    if not naive_local.empty:
        localized = naive_local.dt.tz_localize(spec.tz, nonexistent="NaT", ambiguous="NaT")
        gap = localized.isna() & ~_ambiguous(naive_local, spec.tz)
        if gap.any():
            first = int(gap[gap].index[0]) + 2
            warnings.append(
                QuirkWarning(
                    "local time that does not exist (clocks went forward; kept as written)",
                    spec.time_column,
                    int(gap.sum()),
                    f"row {first}",
                )
            )

    if spec.grain is Grain.HOUR and utc[keep].notna().any():
        clock_hours = utc[keep].dt.floor("h").groupby(period).nunique()
        folded = clock_hours[clock_hours > 1]
        if not folded.empty:
            warnings.append(
                QuirkWarning(
                    "local hour spans two clock hours at the autumn clock change (combined)",
                    spec.time_column,
                    len(folded),
                    str(folded.index[0]),
                )
            )

    observations = pd.DataFrame(
        {
            "org_code": spec.org,
            "measure": spec.measure,
            "breakdown": spec.breakdown,
            "grain": spec.grain.value,
            "period_start": pd.to_datetime(agg.index),
            "value": agg.to_numpy(dtype=float),
            "row": first_row.reindex(agg.index).to_numpy(),
        }
    )
    organisations = pd.DataFrame(
        [{"code": spec.org, "name": None, "type": "unknown", "parent_code": None}]
    )
    return ParsedFile(
        file=display,
        sha256=sha256_of(path),
        format="table",
        source=SOURCE,
        rows_read=len(frame),
        rows_rejected=int(miss.sum()),
        observations=observations[OBSERVATION_COLUMNS],
        organisations=organisations,
        warnings=warnings,
    )
