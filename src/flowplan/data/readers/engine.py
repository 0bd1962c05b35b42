"""A declarative reader for the published NHS tables.

Each public format is a :class:`TableFormat`: which column holds the organisation, how the period is
written, which columns become which measures, and the rules the values must obey. One engine reads
them all, so every format gets the same validation and the same error messages.

Every value is read as text first so that a bad cell can be named exactly (``FILE:ROW:COLUMN``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from flowplan.data import measures
from flowplan.data.grain import Grain, floor
from flowplan.data.parsed import (
    LINK_COLUMNS,
    OBSERVATION_COLUMNS,
    ORGANISATION_COLUMNS,
    ParsedFile,
    QuirkWarning,
    sha256_of,
)
from flowplan.data.reference import region_names
from flowplan.errors import DataValidationError, Problem

NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "-"]

# A period parser takes the text frame and returns (timestamps, bad-row mask, column to blame
# on each row).
PeriodParser = Callable[[pd.DataFrame], tuple[pd.Series, pd.Series, pd.Series]]


@dataclass(frozen=True)
class Value:
    """A column that becomes observations of one measure."""

    column: str
    measure: str
    breakdown: str = "all"


@dataclass(frozen=True)
class Rate:
    """A published rate or proportion: validated to lie in [low, high], never stored.

    ``published_pair`` names (numerator, denominator) columns; where the source itself publishes a
    numerator above its denominator (e.g. occupied > available beds) a rate above ``high`` on that
    row is flagged as a warning instead of rejected.
    """

    column: str
    low: float = 0.0
    high: float = 1.0
    published_pair: tuple[str, str] | None = None


@dataclass(frozen=True)
class NotAbove:
    """``smaller`` must not exceed ``larger`` on the same row; ``flag_only`` makes it a warning."""

    smaller: str
    larger: str
    flag_only: bool = False


@dataclass(frozen=True)
class Link:
    """The file is a lookup between organisations rather than a series."""

    from_column: str
    to_column: str
    weight_column: str
    kind: str


@dataclass(frozen=True)
class TableFormat:
    """How to read one published table.

    Attributes:
        name: reader name used on the command line.
        title: one-line description.
        source: publisher, repository and licence.
        grain: grain of the observations.
        period_columns: columns the period is read from.
        parse_period: turns the text frame into period starts (see :data:`PeriodParser`).
        org_type: type given to the organisations the file names.
        org_column: column holding the organisation code.
        fixed_org: (code, name) when the whole file is about one organisation (e.g. England).
        org_code_map: maps organisation names in ``org_column`` to codes (e.g. NHS regions).
        name_column: column holding organisation names, where the file carries them.
        parent_column: column holding the parent organisation code, where the file carries it.
        parent_type: type of the parent organisations.
        values: the columns that become observations.
        breakdown_column: column whose text is the breakdown of every value on the row.
        measure_column: column whose category selects the measure (with ``measure_map``).
        measure_map: category → measure name.
        rates: published rates checked for range.
        checks: pairwise rules between columns.
        leading_zero_measure: flag series whose first periods are all zero (reporting not begun).
        link: set for lookup files that produce organisation links instead of observations.
        extra_columns: other columns that must be present.
    """

    name: str
    title: str
    source: str
    grain: Grain
    org_type: str
    period_columns: tuple[str, ...] = ()
    parse_period: PeriodParser | None = None
    org_column: str | None = None
    fixed_org: tuple[str, str] | None = None
    org_code_map: Mapping[str, str] | None = None
    name_column: str | None = None
    parent_column: str | None = None
    parent_type: str = "region"
    values: tuple[Value, ...] = ()
    breakdown_column: str | None = None
    measure_column: str | None = None
    measure_map: Mapping[str, str] = field(default_factory=dict)
    rates: tuple[Rate, ...] = ()
    checks: tuple[NotAbove, ...] = ()
    leading_zero_measure: str | None = None
    link: Link | None = None
    extra_columns: tuple[str, ...] = ()

    def required_columns(self) -> list[str]:
        """Every column the file must have, in a stable order."""
        cols: list[str] = []
        candidates: list[str | None] = [
            self.org_column,
            *self.period_columns,
            self.breakdown_column,
            self.measure_column,
            self.name_column,
            self.parent_column,
            *(v.column for v in self.values),
            *(r.column for r in self.rates),
            *self.extra_columns,
        ]
        if self.link:
            candidates += [self.link.from_column, self.link.to_column, self.link.weight_column]
        for c in candidates:
            if c and c not in cols:
                cols.append(c)
        return cols

    def measures(self) -> list[str]:
        """Measures this format writes."""
        names = [v.measure for v in self.values] + list(self.measure_map.values())
        return list(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------
# period parsers


def date_column(column: str, fmt: str) -> PeriodParser:
    """Period from one column written with a ``strptime`` format (e.g. ``%Y-%m-%d``, ``%B %Y``)."""

    def parse(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        text = frame[column]
        stamps = pd.to_datetime(text, format=fmt, errors="coerce")
        return stamps, stamps.isna(), pd.Series(column, index=frame.index)

    return parse


def financial_quarter(year_column: str, quarter_column: str) -> PeriodParser:
    """Period from a financial year ``2010/11`` and a quarter ``Q1``..``Q4`` (Q1 = April–June)."""

    def parse(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        year = frame[year_column].str.extract(r"^(\d{4})/(\d{2})$")
        quarter = frame[quarter_column].str.extract(r"^Q([1-4])$")[0]
        first = pd.to_numeric(year[0], errors="coerce")
        q = pd.to_numeric(quarter, errors="coerce")
        bad = first.isna() | q.isna()
        # Q1 starts in April of the first year; Q4 in January of the next.
        calendar_year = first + (q == 4).astype(int)
        month = ((q - 1) * 3 + 4 - 1) % 12 + 1
        stamps = pd.to_datetime(
            pd.DataFrame({"year": calendar_year, "month": month, "day": 1}).where(~bad),
            errors="coerce",
        )
        blame = pd.Series(quarter_column, index=frame.index).where(first.notna(), year_column)
        return stamps, bad, blame

    return parse


# ---------------------------------------------------------------------------------------------
# the engine


def _row_numbers(index: pd.Index) -> np.ndarray:
    """Line numbers in the file for frame positions (header is line 1)."""
    return np.asarray(index, dtype=np.int64) + 2


def read_text_frame(path: Path, display: str) -> pd.DataFrame:
    """Read a CSV with every cell as text; missing cells as NA.

    Raises:
        DataValidationError: the file is missing, empty, or not a CSV.
    """
    if not path.is_file():
        raise DataValidationError([Problem(display, 0, "", "file not found")])
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=NA_VALUES,
            encoding="utf-8-sig",
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(display, 1, "", "file is empty")]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DataValidationError([Problem(display, 0, "", "cannot read file", reason)]) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError([Problem(display, 0, "", "not a readable CSV", msg)]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].str.strip()
    # blank lines carry no data; dropping them keeps the index = line number - 2
    return frame[frame.notna().any(axis=1)]


def problems_at(
    display: str, mask: pd.Series, column: str, rule: str, values: pd.Series
) -> list[Problem]:
    """One Problem per row where ``mask`` is true, quoting that row's value."""
    idx = mask[mask].index
    rows = _row_numbers(idx)
    vals = values.loc[idx].astype(object).where(values.loc[idx].notna(), "")
    return [Problem(display, int(r), column, rule, str(v)) for r, v in zip(rows, vals, strict=True)]


def parse_numbers(
    frame: pd.DataFrame, column: str, display: str, problems: list[Problem]
) -> pd.Series:
    """A text column as floats; non-empty cells that are not numbers are added to ``problems``."""
    text = frame[column]
    nums = pd.to_numeric(text, errors="coerce")
    bad = nums.isna() & text.notna()
    if bad.any():
        problems += problems_at(display, bad, column, "not a number", text)
    return nums.astype("float64")


def _example(frame: pd.DataFrame, mask: pd.Series, cols: list[str]) -> str:
    first = mask[mask].index[0]
    where = " ".join(str(frame.at[first, c]) for c in cols if c in frame.columns)
    return f"row {int(first) + 2} ({where})" if where else f"row {int(first) + 2}"


def read_table(fmt: TableFormat, path: Path, display: str | None = None) -> ParsedFile:
    """Read and validate one file of a published format.

    Args:
        fmt: the format definition.
        path: the CSV file.
        display: name used in messages (defaults to the path as given).

    Returns:
        The validated long-format observations, organisations and warnings.

    Raises:
        DataValidationError: one or more rules broken; carries every problem found.
    """
    display = display or str(path)
    frame = read_text_frame(path, display)
    missing = [c for c in fmt.required_columns() if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Problem(display, 1, c, "required column missing") for c in missing]
        )
    if frame.empty:
        raise DataValidationError([Problem(display, 2, "", "file has no data rows")])
    if fmt.link is not None:
        return _read_links(fmt, fmt.link, frame, path, display)

    problems: list[Problem] = []
    warnings: list[QuirkWarning] = []
    context_cols = [c for c in (fmt.org_column, *fmt.period_columns) if c]

    # values and rates -------------------------------------------------------------------------
    numbers: dict[str, pd.Series] = {}
    for v in fmt.values:
        if v.column in numbers:
            continue
        nums = parse_numbers(frame, v.column, display, problems)
        numbers[v.column] = nums
        m = measures.get(v.measure)
        if m is not None and m.non_negative:
            neg = nums < 0
            if neg.any():
                problems += problems_at(
                    display, neg, v.column, "count must be a non-negative number", frame[v.column]
                )
    for check in fmt.checks:
        small = numbers.get(check.smaller)
        large = numbers.get(check.larger)
        if small is None:
            small = parse_numbers(frame, check.smaller, display, problems)
        if large is None:
            large = parse_numbers(frame, check.larger, display, problems)
        over = (small > large) & (large >= 0)  # a negative count is reported once, above
        if over.any():
            rule = f"{check.smaller} must not exceed {check.larger}"
            if check.flag_only:
                warnings.append(
                    QuirkWarning(
                        f"published {check.smaller} above {check.larger} (flagged, kept)",
                        check.smaller,
                        int(over.sum()),
                        _example(frame, over, context_cols),
                    )
                )
            else:
                detail = pd.Series(
                    [f"{a:g} > {b:g}" for a, b in zip(small, large, strict=True)],
                    index=frame.index,
                )
                problems += problems_at(display, over, check.smaller, rule, detail)
    for rate in fmt.rates:
        nums = parse_numbers(frame, rate.column, display, problems)
        out = (nums < rate.low) | (nums > rate.high)
        if rate.published_pair:
            num_col, den_col = rate.published_pair
            excused = (
                out
                & (nums > rate.high)
                & (
                    parse_numbers(frame, num_col, display, [])
                    > parse_numbers(frame, den_col, display, [])
                )
            )
            if excused.any():
                warnings.append(
                    QuirkWarning(
                        f"published rate above {rate.high:g} where {num_col} > {den_col} "
                        "(flagged, kept)",
                        rate.column,
                        int(excused.sum()),
                        _example(frame, excused, context_cols),
                    )
                )
            out &= ~excused
        if out.any():
            problems += problems_at(
                display,
                out,
                rate.column,
                f"rate outside [{rate.low:g}, {rate.high:g}]",
                frame[rate.column],
            )

    value_cols = list(dict.fromkeys(v.column for v in fmt.values))
    all_missing = (
        pd.concat([numbers[c].isna() for c in value_cols], axis=1).all(axis=1)
        if value_cols
        else pd.Series(False, index=frame.index)
    )

    # organisation -----------------------------------------------------------------------------
    if fmt.org_column:
        org = frame[fmt.org_column]
        if fmt.org_code_map is not None:
            mapped = org.map(dict(fmt.org_code_map))
            unknown = mapped.isna() & org.notna()
            if unknown.any():
                problems += problems_at(
                    display, unknown, fmt.org_column, "unknown organisation name", org
                )
            org = mapped
        no_org = org.isna() & frame[fmt.org_column].isna()
        skip_rows = no_org & all_missing
        if skip_rows.any():
            warnings.append(
                QuirkWarning(
                    "rows with no organisation code and no values (skipped)",
                    fmt.org_column,
                    int(skip_rows.sum()),
                    _example(frame, skip_rows, list(fmt.period_columns)),
                )
            )
        orphan = no_org & ~all_missing
        if orphan.any():
            problems += problems_at(
                display, orphan, fmt.org_column, "organisation code missing", frame[fmt.org_column]
            )
    else:
        assert fmt.fixed_org is not None, f"format {fmt.name} names no organisation"
        org = pd.Series(fmt.fixed_org[0], index=frame.index, dtype=object)
        skip_rows = pd.Series(False, index=frame.index)

    # period -----------------------------------------------------------------------------------
    assert fmt.parse_period is not None, f"format {fmt.name} has no period parser"
    stamps, bad_period, blame = fmt.parse_period(frame)
    for column in blame[bad_period & ~skip_rows].unique():
        here = bad_period & ~skip_rows & (blame == column)
        text = frame[column]
        if (here & text.notna()).any():
            problems += problems_at(
                display, here & text.notna(), column, "date does not parse", text
            )
        if (here & text.isna()).any():
            problems += problems_at(display, here & text.isna(), column, "date missing", text)
    period = floor(stamps.where(~bad_period), fmt.grain)

    # measure from a category column ------------------------------------------------------------
    row_measure: pd.Series | None = None
    if fmt.measure_column:
        cat = frame[fmt.measure_column]
        row_measure = cat.map(dict(fmt.measure_map))
        unknown = row_measure.isna()
        if unknown.any():
            problems += problems_at(display, unknown, fmt.measure_column, "unknown category", cat)

    breakdown_text: pd.Series | None = None
    if fmt.breakdown_column:
        breakdown_text = frame[fmt.breakdown_column]
        no_bd = breakdown_text.isna() & ~skip_rows
        if no_bd.any():
            problems += problems_at(
                display, no_bd, fmt.breakdown_column, "breakdown missing", breakdown_text
            )

    # duplicate keys ---------------------------------------------------------------------------
    keep = ~skip_rows
    shown = period.dt.strftime("%Y-%m-%d %H:%M" if fmt.grain is Grain.HOUR else "%Y-%m-%d")
    key = pd.DataFrame({"org": org, "period": shown}, index=frame.index)
    if breakdown_text is not None:
        key["breakdown"] = breakdown_text
    if row_measure is not None:
        key["measure"] = row_measure
    dup = key.duplicated(keep="first") & keep
    if dup.any():
        first_row = (
            key[keep]
            .reset_index()
            .groupby(list(key.columns), dropna=False)["index"]
            .transform("min")
        )
        first_row.index = key[keep].index
        text_key = key.astype(object).where(key.notna(), "").astype(str)
        described = text_key.agg(" ".join, axis=1) + (
            " (first on row " + (first_row.reindex(key.index) + 2).astype("Int64").astype(str) + ")"
        )
        problems += problems_at(display, dup, "", "duplicate key in file", described)

    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DataValidationError(problems)

    # missing-value warnings ---------------------------------------------------------------------
    for col in value_cols:
        miss = numbers[col].isna() & keep
        if miss.any():
            warnings.append(
                QuirkWarning(
                    "missing value (not reported; not stored)",
                    col,
                    int(miss.sum()),
                    _example(frame, miss, context_cols),
                )
            )

    # long observations ------------------------------------------------------------------------
    rows = pd.Series(_row_numbers(frame.index), index=frame.index)
    parts = []
    for v in fmt.values:
        part = pd.DataFrame(
            {
                "org_code": org,
                "measure": row_measure if row_measure is not None else v.measure,
                "breakdown": breakdown_text if breakdown_text is not None else v.breakdown,
                "grain": fmt.grain.value,
                "period_start": period,
                "value": numbers[v.column],
                "row": rows,
            }
        )
        parts.append(part[keep & part["value"].notna()])
    observations = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OBSERVATION_COLUMNS)
    )
    observations["period_start"] = pd.to_datetime(observations["period_start"])

    if fmt.leading_zero_measure and not observations.empty:
        warnings += _leading_zero_warnings(observations, fmt.leading_zero_measure)
    if fmt.org_column and not observations.empty:
        warnings += _early_end_warnings(observations)

    return ParsedFile(
        file=display,
        sha256=sha256_of(path),
        format=fmt.name,
        source=fmt.source,
        rows_read=len(frame),
        rows_rejected=int(skip_rows.sum()),
        observations=observations[OBSERVATION_COLUMNS],
        organisations=_organisations(fmt, frame, org, keep),
        warnings=warnings,
    )


def _leading_zero_warnings(observations: pd.DataFrame, measure: str) -> list[QuirkWarning]:
    obs = observations[
        (observations["measure"] == measure) & (observations["breakdown"] == "all")
    ].sort_values(["org_code", "period_start"])
    if obs.empty:
        return []
    nonzero_seen = obs.groupby("org_code")["value"].transform(lambda s: (s != 0).cummax())
    leading = obs[~nonzero_seen.astype(bool)]
    if leading.empty:
        return []
    per_org = leading.groupby("org_code").size()
    first = per_org.index[0]
    return [
        QuirkWarning(
            "zero values before the organisation started reporting (kept as published)",
            measure,
            int(per_org.sum()),
            f"{first}: {int(per_org.iloc[0])} leading zero periods; {len(per_org)} organisations",
        )
    ]


def _early_end_warnings(observations: pd.DataFrame) -> list[QuirkWarning]:
    """Organisations whose reporting stops before the file's last period: codes retired by a
    merger, a rename or a closure. Their history is kept; the analyst decides how to join it."""
    last = observations.groupby("org_code")["period_start"].max()
    ended = last[last < last.max()].sort_index().sort_values(kind="stable")
    if ended.empty:
        return []
    return [
        QuirkWarning(
            "organisations whose reporting ends before the file's last period "
            "(merged, renamed or closed?)",
            "",
            len(ended),
            f"{ended.index[0]} last reported {ended.iloc[0].date().isoformat()}",
        )
    ]


def _organisations(
    fmt: TableFormat, frame: pd.DataFrame, org: pd.Series, keep: pd.Series
) -> pd.DataFrame:
    if fmt.fixed_org is not None:
        code, name = fmt.fixed_org
        return pd.DataFrame(
            [{"code": code, "name": name, "type": fmt.org_type, "parent_code": None}]
        )
    orgs = pd.DataFrame({"code": org}, index=frame.index)
    if fmt.org_code_map is not None and fmt.org_column:
        orgs["name"] = frame[fmt.org_column]
    else:
        orgs["name"] = frame[fmt.name_column] if fmt.name_column else None
    orgs["parent_code"] = frame[fmt.parent_column] if fmt.parent_column else None
    orgs = orgs[keep & orgs["code"].notna()]
    # the last name and parent a file gives for a code win (files run oldest to newest)
    out = orgs.groupby("code", sort=True).agg({"name": "last", "parent_code": "last"}).reset_index()
    out["type"] = fmt.org_type
    out = out.astype(object).where(out.notna(), None)
    parents = out["parent_code"].dropna().unique()
    if len(parents):
        known = region_names() if fmt.parent_type == "region" else {}
        parent_rows = pd.DataFrame(
            {
                "code": parents,
                "name": [known.get(p) for p in parents],
                "type": fmt.parent_type,
                "parent_code": None,
            }
        )
        out = pd.concat([out, parent_rows], ignore_index=True)
    return out[ORGANISATION_COLUMNS]


def _read_links(
    fmt: TableFormat, link: Link, frame: pd.DataFrame, path: Path, display: str
) -> ParsedFile:
    problems: list[Problem] = []
    for col in (link.from_column, link.to_column):
        miss = frame[col].isna()
        if miss.any():
            problems += problems_at(display, miss, col, "organisation code missing", frame[col])
    weight = parse_numbers(frame, link.weight_column, display, problems)
    out = weight.notna() & ((weight < 0) | (weight > 1))
    if out.any():
        problems += problems_at(
            display, out, link.weight_column, "proportion outside [0, 1]", frame[link.weight_column]
        )
    no_weight = weight.isna() & frame[link.weight_column].isna()
    if no_weight.any():
        problems += problems_at(
            display, no_weight, link.weight_column, "value missing", frame[link.weight_column]
        )
    pair = [link.from_column, link.to_column]
    dup = frame.duplicated(pair)
    if dup.any():
        first = frame.reset_index().groupby(pair, dropna=False)["index"].transform("min")
        first.index = frame.index
        described = (
            frame[link.from_column]
            + " -> "
            + frame[link.to_column]
            + " (first on row "
            + (first + 2).astype(str)
            + ")"
        )
        problems += problems_at(display, dup, "", "duplicate key in file", described)
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DataValidationError(problems)
    links = pd.DataFrame(
        {
            "from_code": frame[link.from_column],
            "to_code": frame[link.to_column],
            "kind": link.kind,
            "weight": weight,
        }
    )
    codes = pd.unique(pd.concat([links["from_code"], links["to_code"]]))
    orgs = pd.DataFrame({"code": codes, "name": None, "type": fmt.org_type, "parent_code": None})
    return ParsedFile(
        file=display,
        sha256=sha256_of(path),
        format=fmt.name,
        source=fmt.source,
        rows_read=len(frame),
        rows_rejected=0,
        observations=pd.DataFrame(columns=OBSERVATION_COLUMNS),
        organisations=orgs[ORGANISATION_COLUMNS],
        links=links[LINK_COLUMNS],
        warnings=[],
    )
