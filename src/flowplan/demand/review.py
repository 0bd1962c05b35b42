"""Independent analytical review of the drivers of pressure: the six questions, answered in numbers.

NHS England's *Operational resilience and capacity planning for 2014/15* (p15, "Independent
analytical review") expects every system to review the drivers of pressure before it plans, and
says what the review should cover (shared/docs/DOMAIN.md §4). This engine answers each question
from the stored series an adapter hands it (:func:`flowplan.store.review_inputs.review_inputs`);
it never opens the store, and it is pure: the same inputs give the same :class:`Review`.

Each answer is a :class:`Finding` whose ``text`` states the number it rests on (its ``value``,
formatted as :attr:`Finding.display`) and names the table (``Review.tables``) it came from. A
question, or part of one, the data cannot answer is listed in its section's ``not_answered``.

Windows. "First" and "last" windows are the first and last 12 calendar months of the series being
compared (daily series: the first and last 12 months of days). Where the series spans fewer than
24 months the two windows would overlap, so its first and second halves are compared instead (an
odd middle period is left out); the finding says which periods it compared.

Methods, by question:

1. **Demand** (A&E attendances, emergency admissions; monthly):
   level: mean a month (and a day: total ÷ calendar days) over the latest 12 months;
   year-on-year change: 12-month totals in consecutive 12-month blocks counted back from the
   latest month (a leading partial block is dropped), each block against the one before, only
   between blocks with all 12 months stored; compound annual growth:
   ``(last 12-month mean ÷ first 12-month mean) ** (1 / years) − 1``, years being the months
   between the two windows' first months ÷ 12 (needs 24 months); trend against season: a
   classical additive decomposition of the values a day (so month lengths are not counted as
   season): trend = centred 2×12 moving average (weights 1/24, 1/12 × 11, 1/24), seasonal index
   of a calendar month = mean of (value − trend) over its months, centred to sum to zero,
   residual = value − trend − season (needs 24 months; interior gaps are filled by straight
   lines for this step only). The shares of variance are each component's variance over the
   months the trend covers, divided by the sum of the three variances (the components are not
   exactly uncorrelated, so this is a share of the sum, not of the series' own variance).
2. **Acuity and complexity** (proxies; monthly, pooled over each window): admission conversion
   = emergency admissions ÷ A&E attendances (the published total counts emergency admissions not
   via A&E too, so it is a proxy); type-1 share = type 1 attendances ÷ attendances of all types
   stored; decision to admit over 4 hours per 100 emergency admissions. First against last window,
   change in percentage points (pp).
3. **Redistribution** (monthly): each footprint site's share of the footprint's attendances and
   admissions in the first and last windows of the months every site reports, and the change in
   pp; the same for the organisation's mix of A&E types (a type not reported in a month counts 0).
4. **Volatility**: coefficient of variation (sample standard deviation ÷ mean) of daily demand
   (daily attendances where a local extract stores them, else daily discharges, the daily flow the
   published sitreps carry) and of monthly attendances; day-of-week amplitude = (max − min) ÷ mean
   of the seven day-of-week means; seasonal amplitude = (max − min) of the seasonal indices ÷ mean
   trend (from the decomposition above); each for the whole window and its first and second
   halves, the change in pp.
5. **Capacity** (monthly sitrep averages): mean G&A beds available and occupied, first against
   last window (% change); occupancy = mean occupied ÷ mean available; share of months whose
   occupancy (occupied ÷ available) is above the threshold (default 92%: NHS England operational
   planning guidance 2022/23 and the UEC recovery delivery plan, January 2023, ask for G&A
   occupancy at or below 92%; a month exactly at the threshold is not above it).
6. **Resource use**: discharges a day (mean of daily values, first against last window; the
   least-squares trend in % of the mean a year); patients not meeting the criteria to reside
   (mean of the daily counts) per 100 G&A beds occupied, over months holding both; weekend
   against weekday discharges (mean a Saturday or Sunday ÷ mean a Monday to Friday); share
   discharged by 17:00 (sum by 17:00 ÷ sum of all discharges, days with both); delayed
   discharges by reason: each reason's mean monthly count as a share of the sum over reasons,
   the top reasons and the share of each group of reasons (the text before the first dash).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.errors import UsageError

if TYPE_CHECKING:
    from flowplan.store.review_inputs import ReviewInputs

__all__ = [
    "DEFAULT_OCCUPANCY_THRESHOLD",
    "QUESTIONS",
    "TOP_REASONS",
    "Finding",
    "Review",
    "Section",
    "format_value",
    "review",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

QUESTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("demand", "The level and drivers of increased demand"),
    ("acuity", "Whether acuity and complexity has actually increased"),
    ("redistribution", "Whether there is any redistribution of demand"),
    ("volatility", "Changes to the volatility of demand"),
    ("capacity", "Reduced capacity in trusts to meet demand"),
    ("resource_use", "Increased resource use in response to demand"),
)
"""The six questions of the review (key, heading), worded and ordered as in the 2014/15 guidance."""

DEFAULT_OCCUPANCY_THRESHOLD: Final = 0.92
"""G&A bed occupancy ceiling: NHS England operational planning guidance 2022/23 and the UEC
recovery delivery plan (January 2023) ask for occupancy at or below 92%."""

TOP_REASONS: Final = 5
"""Delayed-discharge reasons listed in ``delayed_reasons_top``."""

WINDOW_MONTHS: Final = 12
SEASON: Final = 12
WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

METHODS: Final[dict[str, list[str]]] = {
    "demand": [
        "Level: mean a month (and total ÷ calendar days) over the latest 12 months.",
        "Year-on-year: 12-month totals in blocks counted back from the latest month, each "
        "against the block before (complete blocks only).",
        "Compound annual growth: (mean of the last 12 months ÷ mean of the first 12) ^ (1 ÷ "
        "years between the windows' first months) − 1; needs 24 months.",
        "Trend and season: classical additive decomposition of the values a day; trend = "
        "centred 2×12 moving average, seasonal index = mean of (value − trend) by calendar "
        "month, centred; shares = each component's variance ÷ the sum of the three.",
    ],
    "acuity": [
        "Admission conversion = emergency admissions ÷ A&E attendances (a proxy: the total "
        "counts emergency admissions not via A&E too).",
        "Type-1 share = type 1 attendances ÷ attendances of all A&E types stored.",
        "Decision to admit over 4 hours per 100 emergency admissions.",
        "Each pooled over the first and last 12 months (halves under 24 months); change in "
        "percentage points.",
    ],
    "redistribution": [
        "Each site's share of the footprint's attendances and admissions over the months every "
        "site reports, first against last 12 months, change in percentage points; areas (ICB, "
        "STP, region) are left out as they count their trusts' activity again.",
        "The organisation's mix of A&E types, the same way (a type not reported in a month "
        "counts 0).",
    ],
    "volatility": [
        "Coefficient of variation = sample standard deviation ÷ mean, of daily demand (daily "
        "attendances if stored, else daily discharges) and of monthly attendances.",
        "Day-of-week amplitude = (max − min) ÷ mean of the seven day-of-week means.",
        "Seasonal amplitude = (max − min) of the seasonal indices ÷ mean trend.",
        "Each over the whole window and its first and second halves; change in percentage points.",
    ],
    "capacity": [
        "Mean G&A beds available and occupied (monthly sitrep averages), first against last 12 "
        "months.",
        "Occupancy = mean occupied ÷ mean available; a month is above the threshold when its "
        "occupied ÷ available exceeds it (default 92%, NHS England operational planning "
        "guidance 2022/23 and UEC recovery delivery plan 2023).",
    ],
    "resource_use": [
        "Discharges a day: mean of daily values, first against last 12 months; least-squares "
        "trend as % of the mean a year.",
        "Criteria to reside: mean daily patients not meeting the criteria ÷ mean G&A beds "
        "occupied × 100, months holding both.",
        "Weekend ÷ weekday: mean discharges a Saturday or Sunday ÷ mean a Monday to Friday.",
        "Share by 17:00 = discharges by 17:00 ÷ all discharges, days with both.",
        "Delayed discharges: each reason's mean monthly count ÷ the sum over reasons; groups are "
        "the text before the first dash of the published reason.",
    ],
}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

_SIGNED_PERCENT = frozenset({"% a year", "% change"})


def format_value(value: float, unit: str) -> str:
    """A finding's number as its text shows it.

    ``%`` levels as ``12.3%``; ``% a year`` and ``% change`` signed (``+4.2%``); ``pp`` signed
    (``+1.5 pp``); ``ratio`` to two decimals; counts with thousands separators (one decimal
    under 100).

    Args:
        value: the number.
        unit: its unit.

    Returns:
        The formatted number.
    """
    if unit in _SIGNED_PERCENT:
        return f"{value:+.1f}%"
    if unit == "pp":
        return f"{value:+.1f} pp"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


@dataclass(frozen=True)
class Finding:
    """One answer to part of a question, with the number it rests on.

    Attributes:
        question: key of the question (see :data:`QUESTIONS`).
        title: short name of what was measured.
        text: one or two sentences that state ``value`` (as :attr:`display`) and its periods.
        value: the number the finding rests on.
        unit: its unit (``%``, ``% a year``, ``% change``, ``pp``, ``ratio`` or a count unit).
        table_name: the table in :attr:`Review.tables` it is computed from.
    """

    question: str
    title: str
    text: str
    value: float
    unit: str
    table_name: str

    @property
    def display(self) -> str:
        """``value`` formatted as the text shows it."""
        return format_value(self.value, self.unit)


@dataclass(frozen=True)
class Section:
    """The answer to one question of the review.

    Attributes:
        key: question key.
        heading: the question as the guidance words it.
        findings: what the data say.
        not_answered: parts of the question the data could not answer, and why.
        methods: how each number was computed.
    """

    key: str
    heading: str
    findings: list[Finding] = field(default_factory=list)
    not_answered: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Whether the section has at least one finding."""
        return bool(self.findings)


@dataclass(frozen=True)
class Review:
    """A review of the drivers of pressure for one organisation.

    Attributes:
        org: organisation code.
        org_name: its name where known.
        footprint: footprint its sites were compared across (None when none was given).
        sections: one per question, in the order of :data:`QUESTIONS`.
        tables: the tables the findings rest on, by name.
        basis: the series read and their sources.
        missing: series that were not stored.
        occupancy_threshold: the bed-occupancy ceiling used (fraction).
    """

    org: str
    org_name: str | None
    footprint: str | None
    sections: list[Section]
    tables: dict[str, pd.DataFrame]
    basis: list[str]
    missing: list[str]
    occupancy_threshold: float

    @property
    def findings(self) -> list[Finding]:
        """Every finding, question by question."""
        return [f for s in self.sections for f in s.findings]

    def section(self, key: str) -> Section:
        """The section answering question ``key``.

        Raises:
            UsageError: no such question.
        """
        for sec in self.sections:
            if sec.key == key:
                return sec
        keys = ", ".join(k for k, _ in QUESTIONS)
        raise UsageError(f"no review question {key!r} (one of {keys})")


class _Builder:
    """Collects one section's findings and gaps."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.findings: list[Finding] = []
        self.not_answered: list[str] = []

    def add(self, title: str, text: str, value: float, unit: str, table: str) -> None:
        finding = Finding(self.key, title, text, float(value), unit, table)
        if finding.display not in text:  # pragma: no cover - a programming error
            raise AssertionError(f"finding text lacks its number {finding.display}: {text}")
        self.findings.append(finding)

    def skip(self, what: str) -> None:
        self.not_answered.append(what)

    def done(self) -> Section:
        heading = dict(QUESTIONS)[self.key]
        return Section(self.key, heading, self.findings, self.not_answered, METHODS[self.key])


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def review(
    inputs: ReviewInputs,
    *,
    occupancy_threshold: float = DEFAULT_OCCUPANCY_THRESHOLD,
    top_reasons: int = TOP_REASONS,
) -> Review:
    """Answer the six questions of the review of drivers of pressure.

    Args:
        inputs: the series, from :func:`flowplan.store.review_inputs.review_inputs` or built by
            hand (empty frames for series not stored).
        occupancy_threshold: G&A occupancy ceiling as a fraction, in (0, 1]; default 0.92.
        top_reasons: how many delayed-discharge reasons to list (at least 1).

    Returns:
        The review: a section per question, the tables and the basis.

    Raises:
        UsageError: a frame lacks its columns, the threshold or ``top_reasons`` is out of range,
            or none of the series is stored.
    """
    _check(inputs, occupancy_threshold, top_reasons)
    tables: dict[str, pd.DataFrame] = {}
    sections = [
        _demand(inputs, tables),
        _acuity(inputs, tables),
        _redistribution(inputs, tables),
        _volatility(inputs, tables),
        _capacity(inputs, tables, occupancy_threshold),
        _resource_use(inputs, tables, top_reasons),
    ]
    findings = [f for s in sections for f in s.findings]
    tables["findings"] = pd.DataFrame(
        {
            "question": [f.question for f in findings],
            "title": [f.title for f in findings],
            "value": [f.value for f in findings],
            "unit": [f.unit for f in findings],
            "text": [f.text for f in findings],
            "table": [f.table_name for f in findings],
        }
    )
    return Review(
        org=inputs.org,
        org_name=inputs.org_name,
        footprint=inputs.footprint,
        sections=sections,
        tables=tables,
        basis=list(inputs.basis),
        missing=list(inputs.missing),
        occupancy_threshold=occupancy_threshold,
    )


_FRAMES: Final[dict[str, tuple[str, ...]]] = {
    "attendances": (),
    "attendances_by_type": ("type",),
    "admissions": (),
    "dta_over_4h": (),
    "breaches": (),
    "beds_available": (),
    "beds_occupied": (),
    "daily_attendances": (),
    "discharges": (),
    "discharges_by_1700": (),
    "criteria_to_reside": (),
    "delayed_discharges": ("reason",),
    "footprint_attendances": ("org",),
    "footprint_admissions": ("org",),
}


def _check(inputs: ReviewInputs, threshold: float, top_reasons: int) -> None:
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise UsageError(
            f"occupancy threshold must be a fraction in (0, 1], e.g. 0.92 (got {threshold!r})"
        )
    if isinstance(top_reasons, bool) or not isinstance(top_reasons, int) or top_reasons < 1:
        raise UsageError(f"top reasons must be a whole number of at least 1 (got {top_reasons!r})")
    stored = False
    for name, keys in _FRAMES.items():
        frame = getattr(inputs, name)
        if not isinstance(frame, pd.DataFrame):
            raise UsageError(
                f"review input {name} must be a DataFrame (got {type(frame).__name__})"
            )
        lacking = [c for c in ("period_start", *keys, "value") if c not in frame.columns]
        if lacking:
            raise UsageError(f"review input {name} lacks column(s) {', '.join(lacking)}")
        stored = stored or bool(frame["value"].notna().any())
    if not stored:
        raise UsageError(
            f"{inputs.org}: none of the series the review reads is stored in the window; load "
            "formats trust_ae, ga_beds, discharges, criteria_to_reside, delayed_discharge_reasons"
        )


# --------------------------------------------------------------------------------------------
# Series helpers
# --------------------------------------------------------------------------------------------


def _series(frame: pd.DataFrame, *, monthly: bool) -> pd.Series[float]:
    """A frame as a float series indexed by period start (months floored), gaps dropped."""
    if frame.empty:
        return pd.Series(np.zeros(0), index=pd.DatetimeIndex([]), dtype=float)
    index = pd.DatetimeIndex(pd.to_datetime(frame["period_start"]))
    index = index.to_period("M").to_timestamp() if monthly else index.normalize()
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    out = pd.Series(values, index=index, dtype=float).dropna()
    if out.index.has_duplicates:
        out = out.groupby(level=0).sum()
    return out.sort_index()


def _keyed(frame: pd.DataFrame, key: str, *, monthly: bool) -> pd.DataFrame:
    """A long keyed frame as a wide one: periods × keys (NaN where a key has no value)."""
    if frame.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([]))
    index = pd.DatetimeIndex(pd.to_datetime(frame["period_start"]))
    index = index.to_period("M").to_timestamp() if monthly else index.normalize()
    long = pd.DataFrame(
        {
            "period_start": index,
            "key": frame[key].astype(str).to_numpy(),
            "value": pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float),
        }
    ).dropna(subset=["value"])
    wide = long.pivot_table(index="period_start", columns="key", values="value", aggfunc="sum")
    wide.columns = [str(c) for c in wide.columns]
    return wide.sort_index()


def _month_range(*series: pd.Series[float]) -> pd.DatetimeIndex:
    stamps = [s.index for s in series if len(s)]
    if not stamps:
        return pd.DatetimeIndex([])
    first = min(pd.Timestamp(i.min()) for i in stamps)
    last = max(pd.Timestamp(i.max()) for i in stamps)
    return pd.date_range(first, last, freq="MS")


def _days_in(index: pd.DatetimeIndex) -> FloatArray:
    return np.asarray(index.days_in_month, dtype=float)


def _when(stamp: pd.Timestamp, daily: bool) -> str:
    return f"{stamp.day} {stamp:%b %Y}" if daily else f"{stamp:%b %Y}"


def _label(index: pd.DatetimeIndex, daily: bool) -> str:
    """The span of some periods, e.g. ``Apr 2022–Mar 2023`` or ``1 Apr 2022–31 Mar 2023``."""
    first, last = pd.Timestamp(index.min()), pd.Timestamp(index.max())
    if first == last:
        return _when(first, daily)
    return f"{_when(first, daily)}–{_when(last, daily)}"


def _count(n: int, daily: bool) -> str:
    noun = "day" if daily else "month"
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class _Split:
    """Two windows of a series to compare: first and last 12 months, or halves."""

    first: BoolArray
    last: BoolArray
    first_label: str
    last_label: str
    halves: bool

    @property
    def kind(self) -> str:
        return "first and second halves" if self.halves else "first and last 12 months"


def _positions(index: pd.DatetimeIndex, daily: bool) -> npt.NDArray[np.int64]:
    """Period number of each stamp counted from the first (calendar months or days)."""
    start = pd.Timestamp(index.min())
    if daily:
        return np.asarray((index - start).days, dtype=np.int64)
    years = np.asarray(index.year, dtype=np.int64) - start.year
    months = np.asarray(index.month, dtype=np.int64) - start.month
    return years * 12 + months


def _halves(index: pd.DatetimeIndex, daily: bool) -> _Split | None:
    """First and second halves of the calendar span of ``index`` (an odd middle period out)."""
    if len(index) < 2:
        return None
    pos = _positions(index, daily)
    n = int(pos.max()) + 1
    half = n // 2
    first = pos < half
    last = pos >= n - half
    if half < 1 or not first.any() or not last.any():
        return None
    return _Split(first, last, _label(index[first], daily), _label(index[last], daily), True)


def _split(index: pd.DatetimeIndex, daily: bool) -> _Split | None:
    """The first and last 12 months of ``index``, or its halves where those would overlap."""
    if len(index) < 2:
        return None
    start, stop = pd.Timestamp(index.min()), pd.Timestamp(index.max())
    first = np.asarray(index < start + pd.DateOffset(months=WINDOW_MONTHS))
    last = np.asarray(index > stop - pd.DateOffset(months=WINDOW_MONTHS))
    if (first & last).any() or not first.any() or not last.any():
        return _halves(index, daily)
    return _Split(first, last, _label(index[first], daily), _label(index[last], daily), False)


def _cv(values: FloatArray) -> float:
    """Coefficient of variation in % (sample standard deviation ÷ mean); NaN when undefined."""
    if len(values) < 2:
        return math.nan
    mean = float(np.mean(values))
    if mean == 0:
        return math.nan
    return float(np.std(values, ddof=1)) / mean * 100.0


# --------------------------------------------------------------------------------------------
# Decomposition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decomposition:
    """Classical additive decomposition of a monthly series (values a day)."""

    index: pd.DatetimeIndex
    values: FloatArray
    trend: FloatArray
    detrended: FloatArray
    seasonal: FloatArray
    residual: FloatArray
    indices: FloatArray
    shares: tuple[float, float, float]
    filled: int

    @property
    def covered(self) -> BoolArray:
        return np.asarray(~np.isnan(self.trend))

    def amplitude(self, mask: BoolArray | None = None) -> tuple[float, int, int] | None:
        """Seasonal amplitude in % of the mean trend, with the peak and trough month numbers.

        Over ``mask`` (default all months) the seasonal indices are recomputed from the
        detrended values there; None when a calendar month has none.
        """
        use = self.covered if mask is None else self.covered & mask
        indices = _seasonal_indices(self.detrended, self.index, use)
        if indices is None:
            return None
        level = float(np.mean(self.trend[use]))
        if level == 0:
            return None
        amp = (float(indices.max()) - float(indices.min())) / level * 100.0
        return amp, int(np.argmax(indices)) + 1, int(np.argmin(indices)) + 1


def _seasonal_indices(
    detrended: FloatArray, index: pd.DatetimeIndex, use: BoolArray
) -> FloatArray | None:
    months = np.asarray(index.month, dtype=np.int64)
    out = np.empty(SEASON)
    for m in range(1, SEASON + 1):
        chosen = use & (months == m)
        if not chosen.any():
            return None
        out[m - 1] = float(np.mean(detrended[chosen]))
    centred: FloatArray = out - out.mean()
    return centred


def _decompose(series: pd.Series[float]) -> _Decomposition | None:
    """Trend (centred 2×12 moving average), seasonal indices and residual of values a day.

    Returns None under 24 months (a season cannot be estimated for every calendar month).
    """
    if series.empty:
        return None
    index = pd.date_range(series.index.min(), series.index.max(), freq="MS")
    if len(index) < 2 * SEASON:
        return None
    per_day = (series / _days_in(pd.DatetimeIndex(series.index))).reindex(index)
    known = per_day.notna().to_numpy()
    pos = np.arange(len(index), dtype=float)
    values = np.interp(pos, pos[known], per_day.to_numpy(dtype=float)[known])
    weights = np.r_[0.5, np.ones(SEASON - 1), 0.5] / SEASON
    trend = np.full(len(index), np.nan)
    trend[SEASON // 2 : len(index) - SEASON // 2] = np.convolve(values, weights, mode="valid")
    detrended = values - trend
    covered = ~np.isnan(trend)
    indices = _seasonal_indices(detrended, index, covered)
    if indices is None:  # pragma: no cover - 24 consecutive months cover every calendar month
        return None
    seasonal = indices[np.asarray(index.month, dtype=np.int64) - 1]
    residual = values - trend - seasonal
    parts = [float(np.var(x[covered])) for x in (trend, seasonal, residual)]
    total = sum(parts)
    shares = (
        (parts[0] / total, parts[1] / total, parts[2] / total)
        if total > 0
        else (math.nan, math.nan, math.nan)
    )
    return _Decomposition(
        index=index,
        values=values,
        trend=trend,
        detrended=detrended,
        seasonal=seasonal,
        residual=residual,
        indices=indices,
        shares=shares,
        filled=int((~known).sum()),
    )


# --------------------------------------------------------------------------------------------
# 1. Demand
# --------------------------------------------------------------------------------------------

_DEMAND: Final = (
    ("attendances", "A&E attendances", "attendances"),
    ("admissions", "emergency admissions", "admissions"),
)


def _blocks(series: pd.Series[float]) -> list[tuple[pd.Timestamp, pd.Timestamp, int, float]]:
    """12-month blocks counted back from the latest month: (first, last, months stored, total)."""
    first_stored = pd.Timestamp(series.index.min())
    end = pd.Timestamp(series.index.max())
    out = []
    while True:
        start = end - pd.DateOffset(months=WINDOW_MONTHS - 1)
        if start < first_stored:
            break
        inside = series[(series.index >= start) & (series.index <= end)]
        out.append((start, end, len(inside), float(inside.sum())))
        end = start - pd.DateOffset(months=1)
    return out[::-1]


def _demand(inputs: ReviewInputs, tables: dict[str, pd.DataFrame]) -> Section:
    sec = _Builder("demand")
    series = {
        "attendances": _series(inputs.attendances, monthly=True),
        "admissions": _series(inputs.admissions, monthly=True),
    }
    index = _month_range(*series.values())
    if not len(index):
        sec.skip(
            "Demand: no A&E attendances or emergency admissions stored, so its level and "
            "growth were not measured."
        )
        return sec.done()
    by_month = pd.DataFrame({"period_start": index, "days": _days_in(index)})
    years: list[dict[str, object]] = []
    growth: list[dict[str, object]] = []
    seasonal: dict[str, FloatArray] = {}
    decomposed: dict[str, _Decomposition] = {}
    for name, noun, unit in _DEMAND:
        s = series[name]
        if s.empty:
            sec.skip(f"Demand: no {noun} stored.")
            continue
        by_month[name] = s.reindex(index).to_numpy(dtype=float)
        by_month[f"{name}_per_day"] = by_month[name] / by_month["days"]
        _level(sec, s, noun, unit)
        years.extend(_year_on_year(sec, s, name, noun))
        growth.append(_growth(sec, s, name, noun, unit))
        dec = _decompose(s)
        if dec is None:
            sec.skip(f"Trend and season of {noun}: needs 24 months, {len(s)} stored.")
            continue
        decomposed[name] = dec
        seasonal[name] = dec.indices
        for column, values in (
            ("trend", dec.trend),
            ("seasonal", dec.seasonal),
            ("residual", dec.residual),
        ):
            aligned = pd.Series(values, index=dec.index).reindex(index)
            by_month[f"{name}_per_day_{column}"] = aligned.to_numpy(dtype=float)
    if "attendances" in decomposed:
        _trend_season(sec, decomposed["attendances"], "A&E attendances")
    elif "admissions" in decomposed:
        _trend_season(sec, decomposed["admissions"], "emergency admissions")
    tables["demand_by_month"] = by_month
    tables["demand_by_year"] = pd.DataFrame(
        years,
        columns=["measure", "year", "first_month", "last_month", "months", "total", "yoy_pct"],
    )
    tables["growth"] = pd.DataFrame(
        growth,
        columns=[
            "measure",
            "first_window",
            "last_window",
            "first_mean_a_month",
            "last_mean_a_month",
            "years_apart",
            "cagr_pct",
        ],
    )
    if seasonal:
        tables["seasonal_indices"] = pd.DataFrame(
            {"month": list(MONTH_NAMES)}
            | {f"{k}_per_day": np.round(v, 6) for k, v in seasonal.items()}
        )
    return sec.done()


def _level(sec: _Builder, s: pd.Series[float], noun: str, unit: str) -> None:
    last = pd.Timestamp(s.index.max())
    recent = s[s.index > last - pd.DateOffset(months=WINDOW_MONTHS)]
    rindex = pd.DatetimeIndex(recent.index)
    mean = float(recent.mean())
    per_day = float(recent.sum()) / float(_days_in(rindex).sum())
    text = (
        f"{noun[0].upper()}{noun[1:]} averaged {format_value(mean, unit)} a month "
        f"({per_day:,.0f} a day) over {_label(rindex, False)} ({_count(len(recent), False)})."
    )
    sec.add(f"Level of {noun}", text, mean, f"{unit} a month", "demand_by_month")


def _year_on_year(
    sec: _Builder, s: pd.Series[float], name: str, noun: str
) -> list[dict[str, object]]:
    blocks = _blocks(s)
    rows: list[dict[str, object]] = []
    previous: tuple[int, float] | None = None
    for start, end, months, total in blocks:
        yoy = math.nan
        if previous is not None and months == WINDOW_MONTHS and previous[0] == WINDOW_MONTHS:
            yoy = (total / previous[1] - 1.0) * 100.0 if previous[1] else math.nan
        rows.append(
            {
                "measure": name,
                "year": f"{start:%b %Y}–{end:%b %Y}",
                "first_month": start.date(),
                "last_month": end.date(),
                "months": months,
                "total": total,
                "yoy_pct": yoy,
            }
        )
        previous = (months, total)
    if len(rows) >= 2 and not math.isnan(float(str(rows[-1]["yoy_pct"]))):
        latest, before = rows[-1], rows[-2]
        value = float(str(latest["yoy_pct"]))
        text = (
            f"{noun[0].upper()}{noun[1:]} in the 12 months to {blocks[-1][1]:%b %Y}: "
            f"{blocks[-1][3]:,.0f}, {format_value(value, '% change')} on the 12 months "
            f"{before['year']} ({blocks[-2][3]:,.0f})."
        )
        sec.add(f"Year-on-year change in {noun}", text, value, "% change", "demand_by_year")
    else:
        sec.skip(
            f"Year-on-year change in {noun}: needs two complete 12-month blocks; "
            f"{_count(len(s), False)} stored."
        )
    return rows


def _growth(
    sec: _Builder, s: pd.Series[float], name: str, noun: str, unit: str
) -> dict[str, object]:
    index = pd.DatetimeIndex(s.index)
    split = _split(index, False)
    row: dict[str, object] = {"measure": name}
    if split is None or split.halves:
        sec.skip(
            f"Compound growth of {noun}: needs 24 months for two 12-month windows; "
            f"{_count(len(s), False)} stored ({_label(index, False)})."
        )
        return row
    first_mean = float(s[split.first].mean())
    last_mean = float(s[split.last].mean())
    start_first = pd.Timestamp(index.min())
    start_last = pd.Timestamp(index.max()) - pd.DateOffset(months=WINDOW_MONTHS - 1)
    months_apart = (start_last.year - start_first.year) * 12 + start_last.month - start_first.month
    years = months_apart / 12.0
    row |= {
        "first_window": split.first_label,
        "last_window": split.last_label,
        "first_mean_a_month": first_mean,
        "last_mean_a_month": last_mean,
        "years_apart": years,
    }
    if first_mean <= 0 or last_mean <= 0:
        sec.skip(f"Compound growth of {noun}: a 12-month mean is zero.")
        return row
    cagr = ((last_mean / first_mean) ** (1.0 / years) - 1.0) * 100.0
    row["cagr_pct"] = cagr
    text = (
        f"{noun[0].upper()}{noun[1:]}: compound growth {format_value(cagr, '% a year')} a year "
        f"({_label(index, False)}: {first_mean:,.0f} → {last_mean:,.0f} a month, 12-month "
        f"averages of {split.first_label} and {split.last_label})."
    )
    sec.add(f"Compound growth of {noun}", text, cagr, "% a year", "growth")
    return row


def _trend_season(sec: _Builder, dec: _Decomposition, noun: str) -> None:
    trend_share, season_share, rest = (x * 100.0 for x in dec.shares)
    if math.isnan(trend_share):
        sec.skip(f"Trend and season of {noun}: the series does not vary.")
        return
    covered = pd.DatetimeIndex(dec.index[dec.covered])
    trend = dec.trend[dec.covered]
    filled = f"; {dec.filled} missing months filled by straight lines" if dec.filled else ""
    text = (
        f"Of the month-to-month variation in {noun} a day over {_label(covered, False)}, the "
        f"trend accounts for {format_value(trend_share, '%')}, the season for "
        f"{season_share:.1f}% and the rest for {rest:.1f}%; the trend moved from "
        f"{trend[0]:,.0f} to {trend[-1]:,.0f} a day (classical decomposition{filled})."
    )
    sec.add(f"Trend against season in {noun}", text, trend_share, "%", "demand_by_month")


# --------------------------------------------------------------------------------------------
# 2. Acuity and complexity
# --------------------------------------------------------------------------------------------


def _pooled_change(
    num: pd.Series[float], den: pd.Series[float], scale: float
) -> tuple[float, float, _Split] | None:
    """Ratio × scale pooled over the first and last windows of the months holding both."""
    both = pd.concat([num.rename("n"), den.rename("d")], axis=1, join="inner").dropna()
    both = both[both["d"] > 0]
    split = _split(pd.DatetimeIndex(both.index), False)
    if split is None:
        return None
    first = float(both["n"][split.first].sum()) / float(both["d"][split.first].sum()) * scale
    last = float(both["n"][split.last].sum()) / float(both["d"][split.last].sum()) * scale
    return first, last, split


def _acuity(inputs: ReviewInputs, tables: dict[str, pd.DataFrame]) -> Section:
    sec = _Builder("acuity")
    att = _series(inputs.attendances, monthly=True)
    adm = _series(inputs.admissions, monthly=True)
    dta = _series(inputs.dta_over_4h, monthly=True)
    breaches = _series(inputs.breaches, monthly=True)
    types = _keyed(inputs.attendances_by_type, "type", monthly=True)
    type1 = (
        types["1"] if "1" in types.columns else pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    )
    typed = types.sum(axis=1, min_count=1) if len(types.columns) else type1
    index = _month_range(att, adm, dta, breaches, type1)
    table = pd.DataFrame({"period_start": index})
    for name, s in (
        ("attendances", att),
        ("admissions", adm),
        ("dta_over_4h", dta),
        ("breaches", breaches),
        ("type1_attendances", type1),
        ("all_types_attendances", typed),
    ):
        table[name] = s.reindex(index).to_numpy(dtype=float) if len(s) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        table["conversion_pct"] = table["admissions"] / table["attendances"] * 100.0
        table["dta_per_100_admissions"] = table["dta_over_4h"] / table["admissions"] * 100.0
        table["breaches_pct"] = table["breaches"] / table["attendances"] * 100.0
        table["type1_share_pct"] = table["type1_attendances"] / table["all_types_attendances"] * 100
    tables["acuity_by_month"] = table.replace([np.inf, -np.inf], np.nan)

    got = _pooled_change(adm, att, 100.0)
    if got is None:
        sec.skip(
            "Admission conversion: needs emergency admissions and A&E attendances in the same "
            "months (at least 2)."
        )
    else:
        first, last, split = got
        change = last - first
        text = (
            f"Admission conversion (emergency admissions ÷ A&E attendances) was {last:.1f}% in "
            f"{split.last_label} against {first:.1f}% in {split.first_label}: "
            f"{format_value(change, 'pp')}."
        )
        sec.add("Admission conversion", text, change, "pp", "acuity_by_month")

    got = _pooled_change(type1, typed, 100.0) if len(type1) else None
    if got is None:
        sec.skip(
            "Type-1 share: A&E attendances by type (type 1 among them) are not stored in the "
            "window."
        )
    else:
        first, last, split = got
        change = last - first
        text = (
            f"Type 1 (major emergency department) attendances were {last:.1f}% of attendances "
            f"of all types in {split.last_label} against {first:.1f}% in {split.first_label}: "
            f"{format_value(change, 'pp')}."
        )
        sec.add("Type-1 share of attendances", text, change, "pp", "acuity_by_month")

    got = _pooled_change(dta, adm, 100.0)
    if got is None:
        sec.skip(
            "Decisions to admit over 4 hours: needs trolley waits and emergency admissions in "
            "the same months (at least 2)."
        )
    else:
        first, last, split = got
        unit = "per 100 admissions"
        text = (
            f"Patients waiting over 4 hours from decision to admit: {format_value(last, unit)} "
            f"per 100 emergency admissions in {split.last_label}, against {first:.1f} in "
            f"{split.first_label} ({last - first:+.1f})."
        )
        sec.add("Decision to admit over 4 hours", text, last, unit, "acuity_by_month")
    return sec.done()


# --------------------------------------------------------------------------------------------
# 3. Redistribution
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shares:
    rows: list[dict[str, object]]
    split: _Split
    members: list[str]


def _shares(wide: pd.DataFrame, measure: str, group: str) -> _Shares | None:
    """Each column's share of the row totals, first against last window."""
    if wide.empty or len(wide.columns) < 2:
        return None
    split = _split(pd.DatetimeIndex(wide.index), False)
    if split is None:
        return None
    first_tot = wide[split.first].sum()
    last_tot = wide[split.last].sum()
    first_all, last_all = float(first_tot.sum()), float(last_tot.sum())
    if first_all <= 0 or last_all <= 0:
        return None
    rows: list[dict[str, object]] = []
    for member in wide.columns:
        f_share = float(first_tot[member]) / first_all * 100.0
        l_share = float(last_tot[member]) / last_all * 100.0
        rows.append(
            {
                "measure": measure,
                "group": group,
                "member": member,
                "first_window": split.first_label,
                "first_total": float(first_tot[member]),
                "first_share_pct": f_share,
                "last_window": split.last_label,
                "last_total": float(last_tot[member]),
                "last_share_pct": l_share,
                "change_pp": l_share - f_share,
            }
        )
    return _Shares(rows, split, [str(c) for c in wide.columns])


def _redistribution(inputs: ReviewInputs, tables: dict[str, pd.DataFrame]) -> Section:
    sec = _Builder("redistribution")
    rows: list[dict[str, object]] = []
    if inputs.footprint is None:
        sec.skip(
            "Between sites: no footprint given, so the organisation's share of its system's "
            "demand was not compared (give a footprint)."
        )
    else:
        fp = inputs.footprint
        for frame, noun in (
            (inputs.footprint_attendances, "A&E attendances"),
            (inputs.footprint_admissions, "emergency admissions"),
        ):
            wide = _keyed(frame, "org", monthly=True)
            reporting = wide.dropna(axis=1, how="all")
            absent = sorted(set(inputs.footprint_members) - set(reporting.columns))
            common = reporting.dropna(axis=0, how="any")
            got = _shares(common, noun, f"footprint {fp}")
            if got is None:
                sec.skip(
                    f"Between sites ({noun}): needs at least two sites of {fp} with "
                    "months in common."
                )
                continue
            rows.extend(got.rows)
            _site_findings(sec, got, inputs.org, fp, noun, absent)
    types = _keyed(inputs.attendances_by_type, "type", monthly=True)
    mix = types.dropna(axis=0, how="all").fillna(0.0)
    got = _shares(mix, "A&E attendances", f"{inputs.org} A&E types")
    if got is None:
        sec.skip(
            "Between A&E types: needs attendances of at least two A&E types stored in the window."
        )
    else:
        rows.extend(got.rows)
        moved = max(got.rows, key=lambda r: abs(float(str(r["change_pp"]))))
        change = float(str(moved["change_pp"]))
        text = (
            f"Between A&E types at {inputs.org}, type {moved['member']} moved most: "
            f"{float(str(moved['first_share_pct'])):.1f}% of attendances in "
            f"{got.split.first_label}, {float(str(moved['last_share_pct'])):.1f}% in "
            f"{got.split.last_label} ({format_value(change, 'pp')}; types "
            f"{', '.join(got.members)})."
        )
        sec.add("Shift between A&E types", text, change, "pp", "redistribution")
    tables["redistribution"] = pd.DataFrame(
        rows,
        columns=[
            "measure",
            "group",
            "member",
            "first_window",
            "first_total",
            "first_share_pct",
            "last_window",
            "last_total",
            "last_share_pct",
            "change_pp",
        ],
    )
    return sec.done()


def _site_findings(
    sec: _Builder, got: _Shares, org: str, fp: str, noun: str, absent: list[str]
) -> None:
    by_member = {str(r["member"]): r for r in got.rows}
    left_out = f"; no data for {', '.join(absent)}" if absent else ""
    sites = f"{len(got.members)} sites{left_out}"
    if org in by_member:
        r = by_member[org]
        change = float(str(r["change_pp"]))
        text = (
            f"{org}'s share of {fp} {noun} was {float(str(r['last_share_pct'])):.1f}% in "
            f"{got.split.last_label} against {float(str(r['first_share_pct'])):.1f}% in "
            f"{got.split.first_label}: {format_value(change, 'pp')} ({sites})."
        )
        sec.add(f"{org}'s share of {noun} in {fp}", text, change, "pp", "redistribution")
    else:
        sec.skip(f"{org}'s share of {fp} {noun}: {org} has no months in common with the others.")
    moved = max(got.rows, key=lambda r: abs(float(str(r["change_pp"]))))
    if str(moved["member"]) != org:
        change = float(str(moved["change_pp"]))
        text = (
            f"The largest shift in {fp} {noun} was at {moved['member']}: "
            f"{float(str(moved['first_share_pct'])):.1f}% → "
            f"{float(str(moved['last_share_pct'])):.1f}% ({format_value(change, 'pp')}; "
            f"{got.split.first_label} against {got.split.last_label})."
        )
        sec.add(f"Largest shift of {noun} in {fp}", text, change, "pp", "redistribution")


# --------------------------------------------------------------------------------------------
# 4. Volatility
# --------------------------------------------------------------------------------------------


def _dow_means(s: pd.Series[float]) -> FloatArray | None:
    """Mean by day of week (Monday first); None unless every day of the week is present."""
    if s.empty:
        return None
    days = np.asarray(pd.DatetimeIndex(s.index).dayofweek, dtype=np.int64)
    values = s.to_numpy(dtype=float)
    out = np.empty(7)
    for d in range(7):
        chosen = days == d
        if not chosen.any():
            return None
        out[d] = float(values[chosen].mean())
    return out


def _dow_amplitude(means: FloatArray | None) -> float:
    if means is None:
        return math.nan
    mean = float(means.mean())
    return (float(means.max()) - float(means.min())) / mean * 100.0 if mean else math.nan


def _volatility(inputs: ReviewInputs, tables: dict[str, pd.DataFrame]) -> Section:
    sec = _Builder("volatility")
    rows: list[dict[str, object]] = []
    daily = _series(inputs.daily_attendances, monthly=False)
    daily_noun, daily_name = "daily A&E attendances", "daily_attendances"
    if daily.empty:
        daily = _series(inputs.discharges, monthly=False)
        daily_noun, daily_name = "daily discharges", "daily_discharges"
    if daily.empty:
        sec.skip("Daily volatility: neither daily attendances nor daily discharges are stored.")
    else:
        index = pd.DatetimeIndex(daily.index)
        halves = _halves(index, True)
        row = _vol_row("coefficient_of_variation_pct", daily_name, index, halves, True)
        values = np.asarray(daily.to_numpy(), dtype=np.float64)
        row |= _vol_values(_cv, values, halves)
        rows.append(row)
        _vol_finding(sec, "Coefficient of variation", daily_noun, row, len(daily), True)
        row = _vol_row("day_of_week_amplitude_pct", daily_name, index, halves, True)
        row["whole"] = _dow_amplitude(_dow_means(daily))
        if halves is not None:
            row["first_half"] = _dow_amplitude(_dow_means(daily[halves.first]))
            row["second_half"] = _dow_amplitude(_dow_means(daily[halves.last]))
            row["change_pp"] = float(str(row["second_half"])) - float(str(row["first_half"]))
        rows.append(row)
        if math.isnan(float(str(row["whole"]))):
            sec.skip(f"Day-of-week amplitude of {daily_noun}: not every day of the week stored.")
        else:
            _vol_finding(sec, "Day-of-week amplitude", daily_noun, row, len(daily), True)

    monthly = _series(inputs.attendances, monthly=True)
    if len(monthly) < 2:
        sec.skip("Monthly volatility: fewer than 2 months of A&E attendances stored.")
    else:
        index = pd.DatetimeIndex(monthly.index)
        halves = _halves(index, False)
        row = _vol_row("coefficient_of_variation_pct", "monthly_attendances", index, halves, False)
        row |= _vol_values(_cv, np.asarray(monthly.to_numpy(), dtype=np.float64), halves)
        rows.append(row)
        _vol_finding(
            sec, "Coefficient of variation", "monthly A&E attendances", row, len(monthly), False
        )
    dec = _decompose(monthly)
    if dec is None:
        sec.skip(f"Seasonal amplitude of A&E attendances: needs 24 months; {len(monthly)} stored.")
    else:
        whole = dec.amplitude()
        halves = _halves(dec.index, False)
        row = _vol_row("seasonal_amplitude_pct", "monthly_attendances", dec.index, halves, False)
        row["whole"] = whole[0] if whole else math.nan
        if halves is not None:
            first, second = dec.amplitude(halves.first), dec.amplitude(halves.last)
            if first is not None and second is not None:
                row |= {
                    "first_half": first[0],
                    "second_half": second[0],
                    "change_pp": second[0] - first[0],
                }
        rows.append(row)
        if whole is not None:
            peak, trough = MONTH_NAMES[whole[1] - 1], MONTH_NAMES[whole[2] - 1]
            _vol_finding(
                sec,
                "Seasonal amplitude",
                "A&E attendances a day",
                row,
                len(monthly),
                False,
                extra=f"; peak {peak}, trough {trough}",
            )
    tables["volatility"] = pd.DataFrame(
        rows,
        columns=[
            "metric",
            "series",
            "whole_window",
            "whole",
            "first_half_window",
            "first_half",
            "second_half_window",
            "second_half",
            "change_pp",
        ],
    )
    return sec.done()


def _vol_row(
    metric: str, series: str, index: pd.DatetimeIndex, halves: _Split | None, daily: bool
) -> dict[str, object]:
    return {
        "metric": metric,
        "series": series,
        "whole_window": _label(index, daily),
        "first_half_window": halves.first_label if halves else "",
        "second_half_window": halves.last_label if halves else "",
        "first_half": math.nan,
        "second_half": math.nan,
        "change_pp": math.nan,
    }


def _vol_values(
    stat: Callable[[FloatArray], float], values: FloatArray, halves: _Split | None
) -> dict[str, object]:
    out: dict[str, object] = {"whole": stat(values)}
    if halves is not None:
        first, second = stat(values[halves.first]), stat(values[halves.last])
        out |= {"first_half": first, "second_half": second, "change_pp": second - first}
    return out


def _vol_finding(
    sec: _Builder,
    title: str,
    noun: str,
    row: dict[str, object],
    n: int,
    daily: bool,
    extra: str = "",
) -> None:
    whole = float(str(row["whole"]))
    change = float(str(row["change_pp"]))
    span = f"{row['whole_window']}, {_count(n, daily)}"
    if math.isnan(whole):
        sec.skip(f"{title} of {noun}: undefined (mean zero or too few values).")
        return
    if math.isnan(change):
        text = f"{title} of {noun}: {format_value(whole, '%')} ({span}{extra})."
        sec.add(f"{title} of {noun}", text, whole, "%", "volatility")
        return
    first, second = float(str(row["first_half"])), float(str(row["second_half"]))
    text = (
        f"{title} of {noun}: {first:.1f}% in the first half ({row['first_half_window']}) and "
        f"{second:.1f}% in the second ({row['second_half_window']}), "
        f"{format_value(change, 'pp')}; {whole:.1f}% over the whole window ({span}{extra})."
    )
    sec.add(f"{title} of {noun}", text, change, "pp", "volatility")


# --------------------------------------------------------------------------------------------
# 5. Capacity
# --------------------------------------------------------------------------------------------


def _capacity(inputs: ReviewInputs, tables: dict[str, pd.DataFrame], threshold: float) -> Section:
    sec = _Builder("capacity")
    available = _series(inputs.beds_available, monthly=True)
    occupied = _series(inputs.beds_occupied, monthly=True)
    both = pd.concat(
        [available.rename("beds_available"), occupied.rename("beds_occupied")],
        axis=1,
        join="inner",
    ).dropna()
    both = both[both["beds_available"] > 0]
    table = pd.DataFrame(
        {
            "period_start": pd.DatetimeIndex(both.index),
            "beds_available": both["beds_available"].to_numpy(dtype=float),
            "beds_occupied": both["beds_occupied"].to_numpy(dtype=float),
        }
    )
    table["occupancy_pct"] = table["beds_occupied"] / table["beds_available"] * 100.0
    # compared as fractions, so a month exactly at the threshold (92 of 100 beds) is not above
    table["above_threshold"] = table["beds_occupied"] / table["beds_available"] > threshold
    tables["capacity_by_month"] = table
    for s, noun in ((available, "available"), (occupied, "occupied")):
        split = _split(pd.DatetimeIndex(s.index), False)
        if split is None:
            sec.skip(f"G&A beds {noun}: fewer than 2 months stored.")
            continue
        first, last = float(s[split.first].mean()), float(s[split.last].mean())
        change = (last / first - 1.0) * 100.0 if first else math.nan
        if math.isnan(change):
            sec.skip(f"G&A beds {noun}: none in the first window.")
            continue
        text = (
            f"G&A beds {noun} averaged {last:,.0f} in {split.last_label} against {first:,.0f} in "
            f"{split.first_label}: {format_value(change, '% change')}."
        )
        sec.add(f"G&A beds {noun}", text, change, "% change", "capacity_by_month")
    if table.empty:
        sec.skip("Occupancy: needs G&A beds available and occupied in the same months.")
        return sec.done()
    index = pd.DatetimeIndex(table["period_start"])
    split = _split(index, False)
    occ_all = float(table["beds_occupied"].mean()) / float(table["beds_available"].mean()) * 100
    if split is not None:
        sub_first, sub_last = table[split.first], table[split.last]
        first = float(sub_first["beds_occupied"].mean()) / float(sub_first["beds_available"].mean())
        last = float(sub_last["beds_occupied"].mean()) / float(sub_last["beds_available"].mean())
        text = (
            f"G&A bed occupancy was {format_value(last * 100, '%')} in {split.last_label} "
            f"against {first * 100:.1f}% in {split.first_label} "
            f"({(last - first) * 100:+.1f} pp; {occ_all:.1f}% over {_label(index, False)})."
        )
        sec.add("G&A bed occupancy", text, last * 100, "%", "capacity_by_month")
    else:
        text = f"G&A bed occupancy was {format_value(occ_all, '%')} in {_label(index, False)}."
        sec.add("G&A bed occupancy", text, occ_all, "%", "capacity_by_month")
    above = int(table["above_threshold"].sum())
    share = above / len(table) * 100.0
    limit = f"{threshold * 100:g}%"
    detail = ""
    if split is not None:
        detail = (
            f"; {int(table['above_threshold'][split.first].sum())} of {int(split.first.sum())} in "
            f"{split.first_label}, {int(table['above_threshold'][split.last].sum())} of "
            f"{int(split.last.sum())} in {split.last_label}"
        )
    text = (
        f"{format_value(share, '%')} of months ({above} of {len(table)}, {_label(index, False)}) "
        f"had G&A occupancy above {limit}, the NHS planning ceiling{detail}."
    )
    sec.add(f"Months above {limit} occupancy", text, share, "%", "capacity_by_month")
    return sec.done()


# --------------------------------------------------------------------------------------------
# 6. Resource use
# --------------------------------------------------------------------------------------------

_DASH = re.compile(r"\s*[–—-]\s*")


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _reason_group(reason: str) -> str:
    parts = _DASH.split(_clean(reason), maxsplit=1)
    return parts[0] if len(parts) > 1 else "Other"


def _resource_use(
    inputs: ReviewInputs, tables: dict[str, pd.DataFrame], top_reasons: int
) -> Section:
    sec = _Builder("resource_use")
    discharges = _series(inputs.discharges, monthly=False)
    by_1700 = _series(inputs.discharges_by_1700, monthly=False)
    ctr = _series(inputs.criteria_to_reside, monthly=False)
    occupied = _series(inputs.beds_occupied, monthly=True)
    _discharge_findings(sec, discharges, tables)
    _by_1700_finding(sec, discharges, by_1700)
    _ctr_finding(sec, ctr, occupied)
    _monthly_resource_table(tables, discharges, by_1700, ctr, occupied)
    _delay_findings(sec, inputs.delayed_discharges, tables, top_reasons)
    return sec.done()


def _weekend_ratio(s: pd.Series[float]) -> float:
    days = np.asarray(pd.DatetimeIndex(s.index).dayofweek, dtype=np.int64)
    values = s.to_numpy(dtype=float)
    weekend, weekday = values[days >= 5], values[days < 5]
    if not len(weekend) or not len(weekday) or float(weekday.mean()) == 0:
        return math.nan
    return float(weekend.mean()) / float(weekday.mean())


def _discharge_findings(
    sec: _Builder, discharges: pd.Series[float], tables: dict[str, pd.DataFrame]
) -> None:
    if discharges.empty:
        sec.skip("Discharges: no daily discharges stored.")
        return
    index = pd.DatetimeIndex(discharges.index)
    split = _split(index, True)
    weekday_rows: dict[str, object] = {"weekday": list(WEEKDAYS)}
    whole = _dow_means(discharges)
    weekday_rows["mean_whole"] = whole if whole is not None else [math.nan] * 7
    if split is not None:
        for label, mask, window in (
            ("first", split.first, split.first_label),
            ("last", split.last, split.last_label),
        ):
            means = _dow_means(discharges[mask])
            weekday_rows[f"mean_{label}"] = means if means is not None else [math.nan] * 7
            weekday_rows[f"{label}_window"] = window
    tables["discharges_by_weekday"] = pd.DataFrame(weekday_rows)
    if split is None:
        sec.skip("Discharges a day: fewer than 2 days stored.")
        return
    first = float(discharges[split.first].mean())
    last = float(discharges[split.last].mean())
    years = np.asarray((index - index.min()).days, dtype=float) / 365.25
    slope = float(np.polyfit(years, discharges.to_numpy(dtype=float), 1)[0])
    mean = float(discharges.mean())
    trend = slope / mean * 100.0 if mean else math.nan
    change = (last / first - 1.0) * 100.0 if first else math.nan
    if not math.isnan(change):
        text = (
            f"Discharges averaged {last:,.1f} a day in {split.last_label} against {first:,.1f} "
            f"in {split.first_label}: {format_value(change, '% change')} (straight-line trend "
            f"{trend:+.1f}% of the mean a year over {_label(index, True)})."
        )
        sec.add("Discharges a day", text, change, "% change", "resource_use")
    ratio_last = _weekend_ratio(discharges[split.last])
    ratio_first = _weekend_ratio(discharges[split.first])
    if math.isnan(ratio_last):
        sec.skip("Weekend discharges: no weekend and weekday days in the latest window.")
        return
    text = (
        f"A weekend day saw {format_value(ratio_last, 'ratio')} of a weekday's discharges in "
        f"{split.last_label} (mean Saturday or Sunday ÷ mean Monday to Friday), against "
        f"{ratio_first:.2f} in {split.first_label}."
    )
    sec.add(
        "Weekend against weekday discharges", text, ratio_last, "ratio", "discharges_by_weekday"
    )


def _by_1700_finding(
    sec: _Builder, discharges: pd.Series[float], by_1700: pd.Series[float]
) -> None:
    both = pd.concat([by_1700.rename("early"), discharges.rename("all")], axis=1, join="inner")
    both = both.dropna()
    if both.empty or float(both["all"].sum()) == 0:
        sec.skip("Discharges by 17:00: the split by time of day is not stored in the window.")
        return
    share = float(both["early"].sum()) / float(both["all"].sum()) * 100.0
    index = pd.DatetimeIndex(both.index)
    text = (
        f"{format_value(share, '%')} of patients discharged left by 17:00 over "
        f"{_label(index, True)} ({_count(len(both), True)} with the split published)."
    )
    sec.add("Discharged by 17:00", text, share, "%", "resource_use")


def _ctr_monthly(ctr: pd.Series[float]) -> pd.Series[float]:
    if ctr.empty:
        return ctr
    months = pd.DatetimeIndex(ctr.index).to_period("M").to_timestamp()
    return ctr.groupby(months).mean()


def _ctr_finding(sec: _Builder, ctr: pd.Series[float], occupied: pd.Series[float]) -> None:
    if ctr.empty:
        sec.skip("Criteria to reside: patients not meeting the criteria are not stored.")
        return
    got = _pooled_change(_ctr_monthly(ctr), occupied, 100.0)
    if got is None:
        sec.skip(
            "Criteria to reside per 100 occupied beds: needs G&A beds occupied in the same "
            "months (at least 2)."
        )
        return
    first, last, split = got
    unit = "per 100 occupied beds"
    text = (
        f"Patients not meeting the criteria to reside: {format_value(last, unit)} per 100 G&A "
        f"beds occupied in {split.last_label}, against {first:.1f} in {split.first_label} "
        f"({last - first:+.1f})."
    )
    sec.add("Criteria to reside per 100 occupied beds", text, last, unit, "resource_use")


def _monthly_resource_table(
    tables: dict[str, pd.DataFrame],
    discharges: pd.Series[float],
    by_1700: pd.Series[float],
    ctr: pd.Series[float],
    occupied: pd.Series[float],
) -> None:
    def monthly(s: pd.Series[float], how: str) -> pd.Series[float]:
        if s.empty:
            return s
        months = pd.DatetimeIndex(s.index).to_period("M").to_timestamp()
        return s.groupby(months).agg(how)

    def weekend(s: pd.Series[float], want: bool) -> pd.Series[float]:
        if s.empty:
            return s
        chosen = (np.asarray(pd.DatetimeIndex(s.index).dayofweek) >= 5) == want
        return monthly(s[chosen], "mean")

    ctr_m = _ctr_monthly(ctr)
    index = _month_range(monthly(discharges, "mean"), ctr_m, occupied)
    table = pd.DataFrame({"period_start": index})
    for name, s in (
        ("discharges_per_day", monthly(discharges, "mean")),
        ("days_reported", monthly(discharges, "count")),
        ("weekend_per_day", weekend(discharges, True)),
        ("weekday_per_day", weekend(discharges, False)),
        ("discharged_by_1700", monthly(by_1700, "sum")),
        ("not_meeting_criteria_to_reside", ctr_m),
        ("beds_occupied", occupied),
    ):
        table[name] = s.reindex(index).to_numpy(dtype=float) if len(s) else np.nan
    discharged = monthly(discharges[discharges.index.isin(by_1700.index)], "sum")
    table["discharges_with_split"] = (
        discharged.reindex(index).to_numpy(dtype=float) if len(discharged) else np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        table["weekend_weekday_ratio"] = table["weekend_per_day"] / table["weekday_per_day"]
        table["share_by_1700_pct"] = (
            table["discharged_by_1700"] / table["discharges_with_split"] * 100.0
        )
        table["ctr_per_100_occupied_beds"] = (
            table["not_meeting_criteria_to_reside"] / table["beds_occupied"] * 100.0
        )
    tables["resource_use"] = table.replace([np.inf, -np.inf], np.nan)


def _delay_findings(
    sec: _Builder, frame: pd.DataFrame, tables: dict[str, pd.DataFrame], top_reasons: int
) -> None:
    wide = _keyed(frame, "reason", monthly=True)
    columns = ["rank", "reason", "group", "mean_patients", "share_pct"]
    if wide.empty:
        tables["delayed_reasons_top"] = pd.DataFrame(columns=columns)
        sec.skip("Delayed discharges: reasons for delay are not stored in the window.")
        return
    means = wide.fillna(0.0).mean()
    total = float(means.sum())
    if total <= 0:
        tables["delayed_reasons_top"] = pd.DataFrame(columns=columns)
        sec.skip("Delayed discharges: no delayed patients recorded in the window.")
        return
    ranked = pd.DataFrame(
        {
            "reason": [_clean(str(r)) for r in means.index],
            "group": [_reason_group(str(r)) for r in means.index],
            "mean_patients": means.to_numpy(dtype=float),
        }
    )
    ranked["share_pct"] = ranked["mean_patients"] / total * 100.0
    ranked = ranked.sort_values(["mean_patients", "reason"], ascending=[False, True])
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    ranked = ranked.reset_index(drop=True)
    tables["delayed_reasons"] = ranked
    top = ranked.head(top_reasons).reset_index(drop=True)
    tables["delayed_reasons_top"] = top
    window = _label(pd.DatetimeIndex(wide.index), False)
    first = top.iloc[0]
    text = (
        f"The most common reason for delay was “{first['reason']}”: "
        f"{format_value(float(first['share_pct']), '%')} of delayed patients "
        f"({float(first['mean_patients']):,.1f} a month on average, {window}); the top "
        f"{len(top)} of {len(ranked)} reasons account for {float(top['share_pct'].sum()):.1f}%."
    )
    sec.add(
        "Top reason for delayed discharge",
        text,
        float(first["share_pct"]),
        "%",
        "delayed_reasons_top",
    )
    groups = ranked.groupby("group")["share_pct"].sum().sort_values(ascending=False)
    tables["delayed_reason_groups"] = pd.DataFrame(
        {"group": [str(g) for g in groups.index], "share_pct": groups.to_numpy(dtype=float)}
    )
    if len(groups) > 1:
        name, share = str(groups.index[0]), float(groups.iloc[0])
        others = ", ".join(f"{g} {s:.1f}%" for g, s in list(groups.items())[1:4])
        text = (
            f"{name} reasons held {format_value(share, '%')} of delayed patients ({window}); "
            f"then {others}."
        )
        sec.add("Largest group of delay reasons", text, share, "%", "delayed_reason_groups")
