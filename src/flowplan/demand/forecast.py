"""Demand forecasters with the statsforecast shape, and flowplan's default model.

Every forecaster takes its settings in ``__init__``, learns from a long frame (``unique_id``,
``ds``, ``y``: one row per series and period) in :meth:`Forecaster.fit` and returns point
forecasts and prediction intervals from :meth:`Forecaster.predict`, as a long frame with columns
``unique_id, ds, mean, lo_80, hi_80, lo_95, hi_95`` (one ``lo_``/``hi_`` pair per level asked
for). Series are daily, weekly (periods start on Mondays) or monthly (periods start on the 1st).

Models (:data:`MODELS`):

``default``
    flowplan's model for hospital demand (:class:`DefaultModel`): a robust regression of the
    log count on calendar effects — day of week, England & Wales bank holidays, the day after
    a bank holiday, each day of the Christmas–New Year period (month-of-year effects for
    months) — over a flexible trend, then an exponentially smoothed local level (and, for days,
    weekday pattern) of the calendar-adjusted series that adapts to level shifts; intervals are
    conformal, calibrated on rolling origins inside the training data by horizon step.
``seasonal_naive``, ``ets``, ``arima``, ``mstl``
    statsforecast's SeasonalNaive, AutoETS, AutoARIMA and MSTL, with the season length set by
    grain (7 for days, 52 for weeks, 12 for months; MSTL adds 365 for days with two years of
    history) and statsforecast's own (normal) prediction intervals.

Counts (the default) are never forecast below zero, and intervals are nested: for levels
80 < 95, ``lo_95 <= lo_80 <= mean <= hi_80 <= hi_95``. The ``mean`` column is the point forecast
(for the default model, the back-transformed centre of the log-scale forecast, which for skewed
counts sits near the median).

Input (:func:`prepare`): dates must be period starts, sorted and unique, values numbers; a gap
(a period with no row, or a row with no value) is kept as a missing period — the default model
skips it, the statsforecast models (which need a complete series) get it filled by linear
interpolation — and a partial first or last period (from a ``periods`` column, as
``Store.read_series`` returns, lower than a full period holds) is dropped. Each action is
reported in the notes returned with the forecast.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter

from flowplan.capacity.staff import DEFAULT_QUANTILES, hour_of_week_profile
from flowplan.data.grain import Grain
from flowplan.demand.calendar import (
    CALENDAR_GRAINS,
    CHRISTMAS_DAYS,
    calendar_features,
    check_calendar,
)
from flowplan.errors import UsageError

FloatArray: TypeAlias = npt.NDArray[np.float64]

LEVELS: tuple[int, ...] = (80, 95)
FORECAST_GRAINS: tuple[Grain, ...] = CALENDAR_GRAINS
# Season length (periods per cycle) by grain, as the statsforecast baselines and MASE use it.
SEASON_LENGTH: dict[Grain, int] = {Grain.DAY: 7, Grain.WEEK: 52, Grain.MONTH: 12}
# Fewest observed periods a series needs before any model will forecast it.
MIN_PERIODS: dict[Grain, int] = {Grain.DAY: 14, Grain.WEEK: 12, Grain.MONTH: 12}
DAYS_PER_YEAR = 365.25
WEEKS_PER_YEAR = DAYS_PER_YEAR / 7.0
GRAIN_WORDS: dict[Grain, tuple[str, str]] = {
    Grain.DAY: ("day", "days"),
    Grain.WEEK: ("week", "weeks"),
    Grain.MONTH: ("month", "months"),
}
ALIGNMENT: dict[Grain, str] = {
    Grain.DAY: "midnight",
    Grain.WEEK: "Mondays, the start of ISO weeks",
    Grain.MONTH: "the 1st of the month",
}


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def check_grain(grain: Grain | str) -> Grain:
    """``grain`` as a :class:`Grain` that can be forecast.

    Raises:
        UsageError: not day, week or month.
    """
    try:
        g = Grain(grain)
    except ValueError:
        g = None
    if g is None or g not in FORECAST_GRAINS:
        known = ", ".join(x.value for x in FORECAST_GRAINS)
        shown = grain.value if isinstance(grain, Grain) else str(grain)
        raise UsageError(f"forecasting works by {known}; got grain {shown!r}")
    return g


def check_horizon(horizon: object) -> int:
    """``horizon`` as a positive whole number of periods.

    Raises:
        UsageError: not a whole number, or not positive.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        if isinstance(horizon, float) and horizon.is_integer():
            horizon = int(horizon)
        else:
            raise UsageError(f"horizon must be a whole number of periods; got {horizon!r}")
    h = int(horizon)
    if h <= 0:
        raise UsageError(f"horizon must be at least 1 period; got {h}")
    return h


def check_levels(level: Sequence[float] | float | None) -> tuple[float, ...]:
    """Interval levels (percent) sorted ascending, without repeats.

    Raises:
        UsageError: a level not strictly between 0 and 100.
    """
    if level is None:
        return ()
    values = [level] if isinstance(level, int | float) else list(level)
    out: list[float] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise UsageError(f"interval levels must be numbers between 0 and 100; got {v!r}")
        fv = float(v)
        if not (0.0 < fv < 100.0) or math.isnan(fv):
            raise UsageError(f"interval levels must be between 0 and 100 (exclusive); got {v:g}")
        out.append(fv)
    return tuple(sorted(set(out)))


def level_name(level: float) -> str:
    """Column suffix of an interval level: 80 → "80", 97.5 → "97.5"."""
    return f"{level:g}"


def interval_columns(levels: Sequence[float]) -> list[str]:
    """Output columns for the levels: ``mean, lo_80, hi_80, lo_95, hi_95`` for (80, 95)."""
    cols = ["mean"]
    for lv in levels:
        cols += [f"lo_{level_name(lv)}", f"hi_{level_name(lv)}"]
    return cols


def _day(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def period_index(start: pd.Timestamp, periods: int, grain: Grain) -> pd.DatetimeIndex:
    """``periods`` consecutive period starts of ``grain`` from ``start``."""
    if grain is Grain.DAY:
        return pd.date_range(start, periods=periods, freq="D")
    if grain is Grain.WEEK:
        return pd.date_range(start, periods=periods, freq="7D")
    return pd.date_range(start, periods=periods, freq="MS")


def next_periods(last: pd.Timestamp, h: int, grain: Grain) -> pd.DatetimeIndex:
    """The ``h`` period starts after ``last``."""
    return period_index(last, h + 1, grain)[1:]


def _aligned(ds: pd.DatetimeIndex, grain: Grain) -> npt.NDArray[np.bool_]:
    day = ds.normalize()
    ok = np.asarray(ds == day)
    if grain is Grain.WEEK:
        ok &= np.asarray(day.day_of_week == 0)
    elif grain is Grain.MONTH:
        ok &= np.asarray(day.day == 1)
    return ok


@dataclass(frozen=True)
class PreparedSeries:
    """A validated series on the full grid of its grain.

    Attributes:
        frame: columns ``ds`` (every period start from the first to the last observed one) and
            ``y`` (float; NaN where a period is missing).
        grain: the series' grain.
        notes: what was done to the input (gaps, partial periods), one sentence each.
    """

    frame: pd.DataFrame
    grain: Grain
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Number of missing periods inside the series."""
        return int(self.frame["y"].isna().sum())


def _columns(frame: pd.DataFrame) -> tuple[str, str]:
    cols = set(map(str, frame.columns))
    if {"ds", "y"} <= cols:
        return "ds", "y"
    if {"period_start", "value"} <= cols:
        return "period_start", "value"
    got = ", ".join(map(str, frame.columns)) or "none"
    raise UsageError(f"the series needs columns period_start and value (or ds and y); got: {got}")


def _parse_dates(raw: pd.Series) -> pd.DatetimeIndex:
    values = list(raw)
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        what = "is missing" if pd.isna(values[i]) else f"is not a date: {_shown(values[i])}"
        raise UsageError(f"date {what} (row {i + 1})")
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        raise UsageError(
            f"dates must be naive local dates, not time-zone aware: {index[0]} (row 1)"
        )
    return index


def _parse_values(raw: pd.Series, ds: pd.DatetimeIndex, counts: bool) -> FloatArray:
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise UsageError(f"values must be numbers: {_shown(raw.iloc[0])} at {_day(ds[0])} (row 1)")
    values = pd.to_numeric(raw, errors="coerce")
    numeric = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    given = ~raw.isna().to_numpy()
    bad = np.flatnonzero(given & np.isnan(numeric))
    if bad.size:
        i = int(bad[0])
        raise UsageError(
            f"values must be numbers: {_shown(raw.iloc[i])} at {_day(ds[i])} (row {i + 1})"
        )
    inf = np.flatnonzero(np.isinf(numeric))
    if inf.size:
        i = int(inf[0])
        raise UsageError(f"values must be finite: {numeric[i]} at {_day(ds[i])} (row {i + 1})")
    if counts:
        neg = np.flatnonzero(numeric < 0)
        if neg.size:
            i = int(neg[0])
            raise UsageError(
                f"counts cannot be negative: {numeric[i]:g} at {_day(ds[i])} (row {i + 1})"
            )
    return numeric


def _period_days(ds: pd.DatetimeIndex, grain: Grain) -> FloatArray:
    if grain is Grain.DAY:
        return np.ones(len(ds))
    if grain is Grain.WEEK:
        return np.full(len(ds), 7.0)
    return np.asarray(ds.days_in_month, dtype=np.float64)


def _partial_edges(
    ds: pd.DatetimeIndex, periods: FloatArray, grain: Grain
) -> tuple[bool, bool, float, FloatArray]:
    """Whether the first / last period hold fewer source periods than a full one."""
    length = _period_days(ds, grain)
    ratio = periods / length
    usable = np.isfinite(ratio)
    if not usable.any():
        return False, False, math.nan, np.full(len(ds), math.nan)
    ref = float(np.median(ratio[usable]))
    expected = np.round(ref * length)
    first = bool(len(ds) > 1 and np.isfinite(periods[0]) and periods[0] < expected[0])
    last = bool(len(ds) > 1 and np.isfinite(periods[-1]) and periods[-1] < expected[-1])
    return first, last, ref, expected


def _unit(ref: float) -> str:
    if abs(ref - 1.0) < 0.05:
        return "days"
    if abs(ref - 24.0) < 1.0:
        return "hours"
    return "source periods"


def prepare(
    frame: pd.DataFrame, grain: Grain | str, *, counts: bool = True, min_periods: int | None = None
) -> PreparedSeries:
    """Validate one series and put it on the full grid of its grain.

    Args:
        frame: columns ``period_start`` and ``value`` (as ``Store.read_series`` returns, with an
            optional ``periods`` column: how many source periods each value combines), or
            ``ds`` and ``y``. Rows are periods; NaN values are missing periods.
        grain: "day", "week" or "month": dates must be the starts of such periods.
        counts: the values are counts, so they cannot be negative.
        min_periods: fewest observed periods wanted (default :data:`MIN_PERIODS` of the grain).

    Returns:
        The series with every period from the first to the last observed one (gaps as NaN), a
        partial first or last period left out, and notes saying what was done.

    Raises:
        UsageError: one line naming the first problem: missing columns, an empty series, a
            value that is not a number (or is infinite, or a negative count), a date that is not
            a date or not a period start, dates not sorted or repeated, or too few observations.
    """
    g = check_grain(grain)
    if not isinstance(frame, pd.DataFrame):
        raise UsageError("the series must be a table (a pandas DataFrame)")
    ds_col, y_col = _columns(frame)
    if len(frame) == 0:
        raise UsageError("the series is empty")
    ds = _parse_dates(frame[ds_col])
    y = _parse_values(frame[y_col], ds, counts)
    aligned = _aligned(ds, g)
    if not aligned.all():
        i = int(np.flatnonzero(~aligned)[0])
        raise UsageError(
            f"dates must be the starts of {GRAIN_WORDS[g][1]} ({ALIGNMENT[g]}): "
            f"{_day(ds[i])} (row {i + 1})"
        )
    stamps = ds.asi8
    back = np.flatnonzero(stamps[1:] < stamps[:-1])
    if back.size:
        i = int(back[0]) + 1
        raise UsageError(
            f"dates are not sorted: {_day(ds[i])} comes after {_day(ds[i - 1])} (row {i + 1})"
        )
    same = np.flatnonzero(stamps[1:] == stamps[:-1])
    if same.size:
        i = int(same[0]) + 1
        rows = np.flatnonzero(stamps == stamps[i]) + 1
        shown = ", ".join(str(r) for r in rows[:5]) + (" ..." if rows.size > 5 else "")
        raise UsageError(
            f"dates are repeated: {_day(ds[i])} appears {rows.size} times (rows {shown})"
        )
    notes: list[str] = []
    one, many = GRAIN_WORDS[g]
    observed = ~np.isnan(y)
    if "periods" in frame.columns and g is not Grain.DAY:
        periods = pd.to_numeric(frame["periods"], errors="coerce").to_numpy(dtype=np.float64)
        first, last, ref, expected = _partial_edges(ds, periods, g)
        unit = _unit(ref)
        keep = np.ones(len(ds), dtype=bool)
        if last:
            notes.append(
                f"the last {one}, {_day(ds[-1])}, is partial ({periods[-1]:g} of "
                f"{expected[-1]:g} {unit}); it was left out"
            )
            keep[-1] = False
        if first:
            notes.append(
                f"the first {one}, {_day(ds[0])}, is partial ({periods[0]:g} of "
                f"{expected[0]:g} {unit}); it was left out"
            )
            keep[0] = False
        ds, y, observed = ds[keep], y[keep], observed[keep]
    if observed.any():
        lo, hi = int(np.flatnonzero(observed)[0]), int(np.flatnonzero(observed)[-1])
        dropped = len(ds) - (hi - lo + 1)
        if dropped:
            notes.append(
                f"{dropped} {one if dropped == 1 else many} with no value at the start or end "
                "of the series were left out"
            )
        ds, y = ds[lo : hi + 1], y[lo : hi + 1]
    else:
        ds, y = ds[:0], y[:0]
    needed = MIN_PERIODS[g] if min_periods is None else min_periods
    n_obs = int((~np.isnan(y)).sum())
    if n_obs < needed:
        raise UsageError(
            f"the series has {n_obs} observed {one if n_obs == 1 else many}; "
            f"forecasting by {one} needs at least {needed}"
        )
    full = period_index(ds[0], _periods_between(ds[0], ds[-1], g) + 1, g)
    series = pd.Series(y, index=ds).reindex(full)
    missing = full[series.isna().to_numpy()]
    if len(missing):
        shown = ", ".join(_day(d) for d in missing[:3]) + (", ..." if len(missing) > 3 else "")
        notes.append(
            f"{len(missing)} missing {one if len(missing) == 1 else many} inside the series "
            f"({shown}) were kept as missing"
        )
    out = pd.DataFrame({"ds": full, "y": series.to_numpy(dtype=np.float64)})
    return PreparedSeries(out, g, notes)


def _periods_between(first: pd.Timestamp, last: pd.Timestamp, grain: Grain) -> int:
    if grain is Grain.DAY:
        return int((last - first).days)
    if grain is Grain.WEEK:
        return int((last - first).days // 7)
    return (last.year - first.year) * 12 + (last.month - first.month)


def _check_long(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise UsageError("fit needs a DataFrame with columns unique_id, ds and y")
    missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
    if missing:
        got = ", ".join(map(str, df.columns)) or "none"
        raise UsageError(
            f"fit needs columns unique_id, ds and y; missing {', '.join(missing)} (got: {got})"
        )
    if len(df) == 0:
        raise UsageError("fit was given no rows")


# --------------------------------------------------------------------------------------------
# The forecaster shape
# --------------------------------------------------------------------------------------------


class Forecaster(Protocol):
    """The statsforecast shape: settings in ``__init__``, then ``fit`` and ``predict``."""

    name: str

    def fit(self, df: pd.DataFrame) -> Self:
        """Learn from a long frame with columns ``unique_id``, ``ds``, ``y``."""
        ...

    def predict(self, h: int, level: Sequence[float] = LEVELS) -> pd.DataFrame:
        """Forecast ``h`` periods past each series' end, with intervals at ``level`` percent."""
        ...


@dataclass
class _Fitted:
    """One fitted series: its grid and the model's state."""

    ds: pd.DatetimeIndex
    y: FloatArray
    state: Any


class BaseForecaster(ABC):
    """Shared machinery: validation, per-series fitting, nested non-negative intervals.

    Args:
        grain: "day", "week" or "month" (the grain of the series it will be fitted to).
        counts: the series are counts: forecasts and interval bounds are clipped at zero and
            negative values are refused.

    Subclasses implement :meth:`fit_series_state` and :meth:`predict_state`.
    """

    name: ClassVar[str] = "base"
    handles_missing: ClassVar[bool] = False

    def __init__(self, grain: Grain | str = Grain.DAY, *, counts: bool = True) -> None:
        self.grain = check_grain(grain)
        self.counts = counts
        self.fitted_: dict[str, _Fitted] = {}
        self.notes_: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(grain={self.grain.value!r}, counts={self.counts})"

    # -- public shape ---------------------------------------------------------------------------

    def fit(self, df: pd.DataFrame) -> Self:
        """Fit every series of a long frame.

        Args:
            df: columns ``unique_id``, ``ds`` (period starts) and ``y`` (values; NaN for a
                missing period), one row per series and period; each series is checked with
                :func:`prepare`.

        Returns:
            self, fitted.

        Raises:
            UsageError: bad input (see :func:`prepare`), with the series named.
        """
        _check_long(df)
        self.fitted_ = {}
        self.notes_ = {}
        for uid, group in df.groupby("unique_id", sort=True):
            key = str(uid)
            try:
                prepared = prepare(group[["ds", "y"]], self.grain, counts=self.counts)
            except UsageError as exc:
                raise UsageError(f"series {key}: {exc}") from None
            self.notes_[key] = list(prepared.notes)
            frame = prepared.frame
            self.fit_series(key, pd.DatetimeIndex(frame["ds"]), frame["y"].to_numpy(np.float64))
        return self

    def predict(self, h: int, level: Sequence[float] | None = LEVELS) -> pd.DataFrame:
        """Forecast ``h`` periods past the end of each fitted series.

        Args:
            h: horizon in periods of the grain (≥ 1).
            level: interval levels in percent (each strictly between 0 and 100).

        Returns:
            Long frame ``unique_id, ds, mean, lo_<l>, hi_<l>, ...`` (levels ascending).

        Raises:
            UsageError: bad horizon or levels, or the model was not fitted.
        """
        horizon = check_horizon(h)
        levels = check_levels(level)
        if not self.fitted_:
            raise UsageError(f"the {self.name} model must be fitted before it can predict")
        frames = [
            self.predict_series(uid, horizon, levels).assign(unique_id=uid) for uid in self.fitted_
        ]
        out = pd.concat(frames, ignore_index=True)
        return out[["unique_id", "ds", *interval_columns(levels)]]

    # -- one series -----------------------------------------------------------------------------

    def fit_series(self, uid: str, ds: pd.DatetimeIndex, y: FloatArray) -> None:
        """Fit one series already on the full grid of the grain (no validation: use ``fit``).

        Args:
            uid: the series' identifier.
            ds: every period start from the first to the last, consecutive.
            y: values (NaN for missing periods), same length as ``ds``.
        """
        values = np.asarray(y, dtype=np.float64)
        self.fitted_[uid] = _Fitted(ds, values, self.fit_series_state(ds, values))

    def predict_series(self, uid: str, h: int, levels: Sequence[float]) -> pd.DataFrame:
        """Forecast one fitted series: frame ``ds, mean, lo_<l>, hi_<l>, ...``."""
        fitted = self.fitted_[uid]
        future = next_periods(fitted.ds[-1], h, self.grain)
        raw = self.predict_state(fitted, future, list(levels))
        return self._finish(future, raw, levels)

    @abstractmethod
    def fit_series_state(self, ds: pd.DatetimeIndex, y: FloatArray) -> Any:
        """Fit one regular series and return the model's state."""

    @abstractmethod
    def predict_state(
        self, fitted: _Fitted, future: pd.DatetimeIndex, levels: list[float]
    ) -> dict[str, FloatArray]:
        """Point forecasts (``mean``) and bounds (``lo_<l>``, ``hi_<l>``) for ``future``."""

    def _finish(
        self, future: pd.DatetimeIndex, raw: Mapping[str, FloatArray], levels: Sequence[float]
    ) -> pd.DataFrame:
        mean = np.asarray(raw["mean"], dtype=np.float64).copy()
        if self.counts:
            mean = np.maximum(mean, 0.0)
        out: dict[str, Any] = {"ds": future, "mean": mean}
        inner_lo, inner_hi = mean, mean
        for lv in levels:  # ascending: each interval must hold the one inside it
            name = level_name(lv)
            lo = np.minimum(np.asarray(raw[f"lo_{name}"], dtype=np.float64), inner_lo)
            hi = np.maximum(np.asarray(raw[f"hi_{name}"], dtype=np.float64), inner_hi)
            if self.counts:
                lo = np.maximum(lo, 0.0)
            out[f"lo_{name}"], out[f"hi_{name}"] = lo, hi
            inner_lo, inner_hi = lo, hi
        return pd.DataFrame(out)


def _interpolated(y: FloatArray) -> FloatArray:
    """Missing values filled by linear interpolation between their neighbours."""
    if not np.isnan(y).any():
        return y
    idx = np.arange(len(y))
    ok = ~np.isnan(y)
    return np.interp(idx, idx[ok], y[ok])


# --------------------------------------------------------------------------------------------
# statsforecast baselines
# --------------------------------------------------------------------------------------------


class _StatsForecastModel(BaseForecaster):
    """A statsforecast model fitted per series (missing periods linearly interpolated)."""

    handles_missing = False

    def season_for(self, n: int) -> int:
        """Season length for a series of ``n`` periods (1 when too short for two seasons)."""
        m = SEASON_LENGTH[self.grain]
        return m if n >= 2 * m else 1

    @abstractmethod
    def make(self, n: int) -> Any:
        """A fresh statsforecast model for a series of ``n`` periods."""

    def fit_series_state(self, ds: pd.DatetimeIndex, y: FloatArray) -> Any:
        model = self.make(len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(_interpolated(y))
        return model

    def predict_state(
        self, fitted: _Fitted, future: pd.DatetimeIndex, levels: list[float]
    ) -> dict[str, FloatArray]:
        sf_levels: list[Any] = [int(lv) if float(lv).is_integer() else lv for lv in levels]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fitted.state.predict(len(future), level=sf_levels or None)
        out = {"mean": np.asarray(got["mean"], dtype=np.float64)}
        for lv, key in zip(levels, sf_levels, strict=True):
            out[f"lo_{level_name(lv)}"] = np.asarray(got[f"lo-{key}"], dtype=np.float64)
            out[f"hi_{level_name(lv)}"] = np.asarray(got[f"hi-{key}"], dtype=np.float64)
        return out


class SeasonalNaiveModel(_StatsForecastModel):
    """statsforecast ``SeasonalNaive``: each period repeats the same period one season back.

    The season is 7 days, 52 weeks or 12 months (the plain naive forecast for a series shorter
    than one season).
    """

    name = "seasonal_naive"

    def season_for(self, n: int) -> int:
        m = SEASON_LENGTH[self.grain]
        return m if n >= m else 1

    def make(self, n: int) -> Any:
        from statsforecast.models import SeasonalNaive

        return SeasonalNaive(season_length=self.season_for(n))


class ETSModel(_StatsForecastModel):
    """statsforecast ``AutoETS`` (error, trend and season chosen by AICc).

    Season 7 for days and 12 for months; weeks are fitted without a season (statsforecast's
    ETS does not take seasons longer than 24), as is any series shorter than two seasons.
    """

    name = "ets"

    def make(self, n: int) -> Any:
        from statsforecast.models import AutoETS

        return AutoETS(season_length=self.season_for(n))


class ARIMAModel(_StatsForecastModel):
    """statsforecast ``AutoARIMA`` (stepwise search by AICc).

    For series longer than 150 periods the search uses the conditional-sum-of-squares
    approximation, as R's ``forecast::auto.arima`` does by default (about 3–8 times faster on
    three years of days, with the same chosen models in our trials).
    """

    name = "arima"

    def make(self, n: int) -> Any:
        from statsforecast.models import AutoARIMA

        return AutoARIMA(season_length=self.season_for(n), approximation=n > 150)


class MSTLModel(_StatsForecastModel):
    """statsforecast ``MSTL``: STL decomposition with several seasons, AutoETS on the rest.

    Seasons: days 7 (and 365 once there are two years of history), weeks 52, months 12; a
    series shorter than two of its shortest season is forecast by non-seasonal AutoETS.
    """

    name = "mstl"

    def seasons_for(self, n: int) -> list[int]:
        """Season lengths used for a series of ``n`` periods (empty: none fits)."""
        m = SEASON_LENGTH[self.grain]
        if n < 2 * m:
            return []
        if self.grain is Grain.DAY and n >= 2 * 365:
            return [7, 365]
        return [m]

    def make(self, n: int) -> Any:
        from statsforecast.models import MSTL, AutoETS

        seasons = self.seasons_for(n)
        if not seasons:
            return AutoETS(season_length=1)
        return MSTL(season_length=seasons if len(seasons) > 1 else seasons[0])


# --------------------------------------------------------------------------------------------
# flowplan's default model
# --------------------------------------------------------------------------------------------

# Grid of smoothing weights for the local level (share of each new period's surprise taken up).
LEVEL_ALPHAS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5)
# Grid of smoothing weights for the drift of the day-of-week pattern (days only).
SEASON_GAMMAS: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1)
# Residuals beyond this many robust standard deviations are clipped before the level sees them.
WINSOR_SD = 3.0
HUBER_K = 1.345
ROBUST_ITERATIONS = 4
# A run of zeros amid values whose median is at least this is a reporting gap, not demand.
ZERO_GAP_MIN = 5.0
# Most horizon steps scored when the smoothing weights are chosen (spread over 1..h).
SCORED_STEPS = 10
# Half-life (periods) of the weights of past periods in the calendar regression (None: equal).
RECENCY_HALF_LIFE: dict[Grain, float | None] = {
    Grain.DAY: 365.0,
    Grain.WEEK: 52.0,
    Grain.MONTH: None,
}
# Whether each calibration refit chooses its own smoothing weights (else the full fit's).
# (Months only: their refits are cheap, and a weight fixed from the full fit made the monthly
# intervals too narrow.)
RESELECT_SMOOTHING: dict[Grain, bool] = {Grain.DAY: False, Grain.WEEK: False, Grain.MONTH: True}
# How many of the best (α, γ) pairs the forecast averages over, by grain.
# (Days: the three best, a small gain on the development series; months: one, as averaging
# made their forecasts worse there.)
SMOOTHING_TOP: dict[Grain, int] = {Grain.DAY: 3, Grain.WEEK: 1, Grain.MONTH: 1}
# Whether calibration refits start from the full fit's robust (Huber) weights. Those weights were
# found with the data after each calibration origin, so reusing them leaks a little of the future
# into the calibration errors and narrows the intervals; months, whose intervals were too narrow
# on every development set, refit their own.
REUSE_ROBUST_WEIGHTS: dict[Grain, bool] = {Grain.DAY: True, Grain.WEEK: True, Grain.MONTH: False}
# Fewest calibration errors for conformal intervals (fewer: normal intervals from the fit).
MIN_CALIBRATION = 20
# Whether lasting level shifts are looked for and modelled as steps (:func:`level_shifts`), by
# grain. (Months: a trust whose discharges went from 8 to 66 a day kept being forecast at the old
# level for months, the smoothed level taking the new values for outliers.)
LEVEL_SHIFTS: dict[Grain, bool] = {Grain.DAY: False, Grain.WEEK: False, Grain.MONTH: True}
# A level shift: the median of up to SHIFT_WINDOW periods after a point differs from the median of
# up to SHIFT_WINDOW before it by at least SHIFT_SD robust standard deviations of the
# period-to-period noise, and the SHIFT_MIN_SIDE periods on each side each show at least half of
# that change; at most SHIFT_MOST shifts per series.
SHIFT_SD = 6.0
SHIFT_WINDOW = 6
SHIFT_MIN_SIDE = 2
SHIFT_MOST = 3
# Lowest residual SD the ridge penalties are scaled by, as a share of the series' own noise
# (robust SD of period-to-period changes ÷ √2), by grain. With a year or so of months the
# regression can fit every point, its residual SD falls to nothing, and so would the penalties
# (and the intervals that fall back on that SD); 0: no floor.
PENALTY_SD_FLOOR: dict[Grain, float] = {Grain.DAY: 0.0, Grain.WEEK: 0.0, Grain.MONTH: 0.5}


@dataclass(frozen=True)
class _GrainSettings:
    fourier_terms: int
    knot_spacing: int  # periods between bends of the trend
    step_spacing: int  # periods between possible level steps of the trend
    min_train: int  # fewest periods a calibration refit uses
    calibration_step: int  # periods between calibration origins
    calibration_origins: int  # most calibration origins
    season: int  # period of the drifting seasonal state (1: none)
    gammas: tuple[float, ...]


GRAIN_SETTINGS: dict[Grain, _GrainSettings] = {
    Grain.DAY: _GrainSettings(0, 91, 28, 182, 7, 52, 7, SEASON_GAMMAS),
    Grain.WEEK: _GrainSettings(0, 13, 4, 52, 1, 52, 1, (0.0,)),
    Grain.MONTH: _GrainSettings(0, 6, 3, 15, 1, 24, 12, (0.0,)),
}
PERIODS_PER_YEAR: dict[Grain, float] = {
    Grain.DAY: DAYS_PER_YEAR,
    Grain.WEEK: WEEKS_PER_YEAR,
    Grain.MONTH: 12.0,
}
# Prior standard deviations (model scale: log of the count per day) of the coefficients, by grain;
# they set the ridge penalties. Monthly series are short (a few dozen points), so their trend and
# month-of-year effects are held close to a straight line and to zero unless the data insist.
_DAILY_PRIOR: dict[str, float] = {
    "dow": 1.0,
    "bank_holiday": 0.5,
    "after_bank_holiday": 0.3,
    "christmas": 0.3,
    "fourier": 0.05,
    "holiday_share": 3.5,  # weeks: effect of the share of the week's days that are holidays
    "month": 0.05,  # months: month-of-year effect
    "weekday_share": 0.05,  # months: effect of the shares of weekend days and bank holidays
    "hinge": 0.5,  # change of slope at a bend, per year
    "step": 0.1,  # level step
}
PRIOR_SD: dict[Grain, dict[str, float]] = {
    Grain.DAY: _DAILY_PRIOR,
    Grain.WEEK: {**_DAILY_PRIOR, "hinge": 0.2, "step": 0.05},
    Grain.MONTH: {**_DAILY_PRIOR, "hinge": 0.02, "step": 0.01},
}


@dataclass
class _Design:
    """Calendar columns for a span of periods."""

    calendar: FloatArray  # (n, p): effects carried into the forecast
    keys: list[str]  # (p,) which prior standard deviation (PRIOR_SD key) each column takes
    exposure: FloatArray  # (n,) days per period (1 for days)

    def prior(self, sd: Mapping[str, float]) -> FloatArray:
        """Prior standard deviations of the columns."""
        return np.asarray([sd[key] for key in self.keys], dtype=np.float64)


def _calendar_design(ds: pd.DatetimeIndex, grain: Grain, holidays: str, k: int) -> _Design:
    cal = calendar_features(ds, grain, holidays)
    cols: list[FloatArray] = []
    prior: list[str] = []
    if grain is Grain.DAY:
        dow = cal["day_of_week"].to_numpy()
        for d in range(1, 7):
            cols.append((dow == d).astype(np.float64))
            prior.append("dow")
        if holidays != "none":
            cols.append(cal["bank_holiday"].to_numpy(np.float64))
            prior.append("bank_holiday")
            cols.append(cal["day_after_bank_holiday"].to_numpy(np.float64))
            prior.append("after_bank_holiday")
            pos = cal["christmas_day_index"].to_numpy()
            for i in range(CHRISTMAS_DAYS):
                cols.append((pos == i).astype(np.float64))
                prior.append("christmas")
        year_frac = (cal["day_of_year"].to_numpy(np.float64) - 1.0) / DAYS_PER_YEAR
        exposure = np.ones(len(ds))
    elif grain is Grain.WEEK:
        days = cal["days"].to_numpy(np.float64)
        if holidays != "none":
            for name in ("bank_holidays", "days_after_bank_holiday", "christmas_days"):
                cols.append(cal[name].to_numpy(np.float64) / days)
                prior.append("holiday_share")
        mid = ds + pd.Timedelta(days=3.5)
        year_frac = (np.asarray(mid.day_of_year, dtype=np.float64) - 1.0) / DAYS_PER_YEAR
        exposure = days
    else:
        days = cal["days"].to_numpy(np.float64)
        month = cal["period_of_year"].to_numpy()
        for m in range(2, 13):
            cols.append((month == m).astype(np.float64))
            prior.append("month")
        cols.append(cal["weekend_days"].to_numpy(np.float64) / days - 2.0 / 7.0)
        prior.append("weekday_share")
        if holidays != "none":
            cols.append(cal["bank_holidays"].to_numpy(np.float64) / days)
            prior.append("weekday_share")
        year_frac = np.zeros(len(ds))
        exposure = days
    for j in range(1, k + 1):
        cols.append(np.sin(2.0 * np.pi * j * year_frac))
        cols.append(np.cos(2.0 * np.pi * j * year_frac))
        prior += ["fourier", "fourier"]
    matrix = np.column_stack(cols) if cols else np.zeros((len(ds), 0))
    return _Design(matrix, prior, exposure)


@dataclass
class _Trend:
    """Trend columns: intercept, slope, bends (hinges) and level steps."""

    matrix: FloatArray  # (n, p)
    keys: list[str]  # (p,) PRIOR_SD key of each column ("": not penalised)
    position: FloatArray  # (p,) period at which each column starts to act (-1: always)
    margin: FloatArray  # (p,) periods of data a column needs after its position

    def prior(self, sd: Mapping[str, float]) -> FloatArray:
        """Prior standard deviations of the columns (inf: not penalised)."""
        return np.asarray([sd[k] if k else np.inf for k in self.keys], dtype=np.float64)


def _trend_design(n_train: int, n_total: int, per_year: float, bend: int, step: int) -> _Trend:
    t = np.arange(n_total, dtype=np.float64)
    knots = np.arange(bend, n_train - bend // 2, bend, dtype=np.float64)
    jumps = np.arange(step, n_train - step // 2, step, dtype=np.float64)
    hinges = np.maximum(t[:, None] - knots[None, :], 0.0) / per_year
    steps = (t[:, None] >= jumps[None, :]).astype(np.float64)
    matrix = np.column_stack([np.ones_like(t), t / per_year, hinges, steps])
    keys = ["", ""] + ["hinge"] * len(knots) + ["step"] * len(jumps)
    position = np.concatenate([[-1.0, -1.0], knots, jumps])
    margin = np.concatenate(
        [[0.0, 0.0], np.full(len(knots), bend // 2), np.full(len(jumps), step // 2)]
    )
    return _Trend(matrix, keys, position, margin)


def reporting_gaps(y: FloatArray, window: int = 28) -> npt.NDArray[np.bool_]:
    """Zeros in a count series that are reporting gaps rather than true zeros.

    A run of consecutive zeros is a gap when the median of the non-zero values in the
    ``window`` periods before it and the ``window`` periods after it is at least
    :data:`ZERO_GAP_MIN` (a whole run of zeros would then be implausible as counts). A run that
    reaches the end of the series counts only while it is shorter than ``window`` periods
    (a longer one may be a service that has closed).

    Args:
        y: the series (NaN for missing periods).
        window: periods looked at on either side of a run.

    Returns:
        True where a zero is a reporting gap.
    """
    values = np.asarray(y, dtype=np.float64)
    zero = values == 0.0
    gaps = np.zeros(len(values), dtype=bool)
    if not zero.any():
        return gaps
    edges = np.diff(np.concatenate([[0], zero.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # one past the run
    for a, b in zip(starts, ends, strict=True):
        if b == len(values) and b - a >= window:
            continue
        near = np.concatenate([values[max(0, a - window) : a], values[b : b + window]])
        near = near[np.isfinite(near) & (near > 0.0)]
        if near.size >= 3 and float(np.median(near)) >= ZERO_GAP_MIN:
            gaps[a:b] = True
    return gaps


def _robust_ridge(
    x: FloatArray,
    z: FloatArray,
    precision: FloatArray,
    iterations: int,
    weights: FloatArray | None = None,
    recency: FloatArray | None = None,
    floor: float = 0.0,
) -> tuple[FloatArray, FloatArray, float]:
    """Huber-weighted ridge regression: coefficients, robust weights, robust residual SD.

    ``precision`` holds ``1 / prior_sd²`` per coefficient (0: not penalised); the penalty is
    scaled by the residual variance, as in a Gaussian prior on the coefficients. The residual
    SD is kept at least ``floor`` × the robust SD of the changes of ``z`` ÷ √2.
    """
    n, p = x.shape
    w = np.ones(n) if weights is None else weights
    diffs = np.diff(z)
    sigma = float(1.4826 * np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0)
    sigma = max(sigma, 1e-3)
    lowest = max(sigma * floor, 1e-3)
    beta: FloatArray = np.zeros(p)
    for _ in range(max(1, iterations)):
        xw = x * (w if recency is None else w * recency)[:, None]
        gram = xw.T @ x + np.diag(precision * sigma**2 + 1e-9)
        beta = np.asarray(np.linalg.solve(gram, xw.T @ z), dtype=np.float64)
        r = z - x @ beta
        sigma = max(1.4826 * float(np.median(np.abs(r))), lowest)
        w = np.minimum(1.0, HUBER_K * sigma / np.maximum(np.abs(r), 1e-12))
    return beta, w, sigma


def level_shifts(
    a: FloatArray,
    threshold: float = SHIFT_SD,
    window: int = SHIFT_WINDOW,
    min_side: int = SHIFT_MIN_SIDE,
    most: int = SHIFT_MOST,
) -> list[int]:
    """Positions where a series moves to a new level and stays there.

    A shift at position ``t`` (the first period at the new level): the median of the up to
    ``window`` observed values from ``t`` differs from the median of the up to ``window``
    before it by at least ``threshold`` robust standard deviations of the period-to-period
    noise (the MAD of the changes ÷ √2), and each of the ``min_side`` values on either side of
    ``t`` is at least half that far from the other side's median, in the direction of the
    change — so one period far out of line is never a shift, while a period part-way between
    the two levels (a change in the middle of a month) does not hide one. The largest such
    change is taken, removed from the values after it, and the search repeated, up to
    ``most`` shifts.

    Args:
        a: the series (the default model passes the calendar-adjusted log series); NaN:
            missing, skipped.
        threshold: the smallest change, in noise standard deviations.
        window: values compared on each side.
        min_side: values on each side that must each show (half) the change.
        most: most shifts returned.

    Returns:
        Positions (indexes into ``a``) of the shifts, ascending.
    """
    idx = np.flatnonzero(np.isfinite(a))
    v = np.asarray(a, dtype=np.float64)[idx]
    n = len(v)
    if n < 2 * min_side + 2:
        return []
    diffs = np.diff(v)
    noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0)
    noise = max(noise, 1e-3)
    starts = np.arange(min_side, n - min_side + 1)
    near = np.arange(min_side)
    found: list[int] = []
    for _ in range(most):
        pad = np.concatenate([np.full(window, np.nan), v, np.full(window, np.nan)])
        windows = np.lib.stride_tricks.sliding_window_view(pad, window)
        before = np.nanmedian(windows[starts], axis=1)  # v[t - window : t]
        after = np.nanmedian(windows[starts + window], axis=1)  # v[t : t + window]
        change = after - before
        sign = np.sign(change)
        first_after = v[starts[:, None] + near[None, :]]
        last_before = v[starts[:, None] - 1 - near[None, :]]
        held = np.minimum(
            (sign[:, None] * (first_after - before[:, None])).min(axis=1),
            (sign[:, None] * (after[:, None] - last_before)).min(axis=1),
        )
        size = np.where(held >= 0.5 * threshold * noise, np.abs(change), 0.0)
        best = int(np.argmax(size))
        if float(size[best]) < threshold * noise:
            break
        t = int(starts[best])
        v[t:] -= change[best]
        found.append(int(idx[t]))
    return sorted(found)


def _smooth(d: FloatArray, alpha: float, gamma: float, m: int) -> tuple[FloatArray, FloatArray]:
    """Local level and drifting seasonal state of ``d`` after each period (additive
    Holt–Winters without trend, started at zero), computed as linear filters.

    Level ``ℓ_t = ℓ_{t−1} + α e_t`` and season ``s_t = s_{t−m} + γ e_t`` where
    ``e_t = d_t − ℓ_{t−1} − s_{t−m}`` is the one-step surprise.
    """
    if gamma <= 0.0 or m <= 1:
        level: FloatArray = lfilter([alpha], [1.0, alpha - 1.0], d)
        return level, np.zeros_like(d)
    den = np.zeros(m + 2)
    den[0], den[1] = 1.0, alpha - 1.0
    den[m] += gamma - 1.0
    den[m + 1] += 1.0 - alpha - gamma
    num = np.zeros(m + 2)
    num[0], num[1], num[m], num[m + 1] = 1.0, -1.0, -1.0, 1.0
    surprise = lfilter(num, den, d)
    level = lfilter([alpha], [1.0, -1.0], surprise)
    lag = np.zeros(m + 1)
    lag[0], lag[m] = 1.0, -1.0
    season: FloatArray = lfilter([gamma], lag, surprise)
    return level, season


def _season_lag(k: int, m: int) -> int:
    """How far back from a target ``k`` steps ahead its seasonal state was last updated."""
    return m * math.ceil(k / m) if m > 1 else 0


@dataclass
class _CoreFit:
    """The default model fitted to one stretch of one series (model scale)."""

    beta_calendar: FloatArray
    base: FloatArray  # (h,) level + seasonal state for steps 1..h
    sigma: float
    weights: FloatArray
    alpha: float  # mean level smoothing weight
    smoothing: tuple[tuple[float, float], ...]  # the (α, γ) pairs averaged
    z: FloatArray  # the model-scale series used (reporting-gap zeros set to NaN)


class DefaultModel(BaseForecaster):
    """flowplan's default model for hospital demand (counts by day, week or month).

    Design, on ``z = log(y + 1) − log(days in the period)`` (the identity scale, per day, when
    ``counts`` is false):

    1. **Calendar regression.** ``z`` is regressed on day-of-week effects, England & Wales bank
       holidays, the first working day after a bank holiday and one effect for each day of the
       Christmas–New Year period (24 Dec–2 Jan) — for weeks, the shares of the week's days that
       are such days; for months, month-of-year effects and the shares of weekend days and bank
       holidays — together with a trend: intercept, slope, piecewise-linear bends every
       quarter (days), 13 weeks or 6 months, and possible level steps every 28 days, 4 weeks
       or 3 months. Coefficients are shrunk towards zero by ridge penalties set as prior
       standard deviations on the log scale (:data:`PRIOR_SD`; months get a nearly straight
       trend and small month effects, as their histories are short) and fitted by iteratively
       reweighted least squares with Huber weights; for days and weeks the past is weighted
       with a one-year half-life (:data:`RECENCY_HALF_LIFE`). Annual Fourier terms are
       available (``fourier_terms``) but off by default: on three years of daily history they
       learned one-off events and made forecasts worse. Runs of zeros amid larger values are
       reporting gaps (:func:`reporting_gaps`) and are treated as missing. For months, the
       residual SD that scales the penalties is kept at least half the series' own
       period-to-period noise (:data:`PENALTY_SD_FLOOR`: with a year or so of history the
       regression would otherwise fit every month and drop its penalties), and a lasting level
       shift in the calendar-adjusted series (:func:`level_shifts`, :data:`LEVEL_SHIFTS`: a
       move of at least 6 noise SDs, seen in at least two months on each side) becomes an
       unpenalised step in the trend, which the level carries forward rather than smoothing
       it away.
    2. **Adaptive level.** The calendar-adjusted series (trend plus residual; residuals clipped
       at ±3 robust standard deviations; missing periods filled from the trend) is smoothed
       exponentially — a local level, and for days also a slowly drifting day-of-week
       correction (additive Holt–Winters without trend). The two smoothing weights are chosen
       from :data:`LEVEL_ALPHAS` and :data:`SEASON_GAMMAS` to minimise the mean absolute error
       of ``1..h``-step forecasts over the training data, so the level follows a shift, and
       the weekly pattern a change in working practice, as fast as the history says it should;
       for days the forecasts of the three best pairs are averaged (:data:`SMOOTHING_TOP`).
    3. **Forecast.** level (+ the steps of level shifts) + weekday correction + calendar
       effects of each future period, transformed back (``exp(·) × days − 1``), clipped at zero.
    4. **Conformal intervals.** Steps 1–3 are repeated at up to 52 (days, weeks) or 24
       (months) rolling origins inside the training data, each using only the data before it
       (daily origins one week apart, so that each falls on the same weekday as the real
       one; for months each refit also finds its own robust weights,
       :data:`REUSE_ROBUST_WEIGHTS`). Their model-scale errors by horizon step are divided by a
       fitted error spread ``s(k) = sqrt(a + b k)`` and pooled; the interval bounds are the
       split-conformal quantiles of the pooled scaled errors, times ``s(k)``, around the
       forecast.

    Args:
        grain: "day", "week" or "month".
        holidays: "england" (bank holidays, the day after, the Christmas period) or "none".
        counts: the series are counts (log scale, non-negative forecasts); false for series
            that can be negative (identity scale).
        fourier_terms: pairs of annual sine/cosine terms for days and weeks (default 0).
        calibration_origins: most rolling origins used for the intervals (default 52 for days
            and weeks, 24 for months).
    """

    name = "default"
    handles_missing = True

    def __init__(
        self,
        grain: Grain | str = Grain.DAY,
        *,
        holidays: str = "england",
        counts: bool = True,
        fourier_terms: int | None = None,
        calibration_origins: int | None = None,
    ) -> None:
        super().__init__(grain, counts=counts)
        self.holidays = check_calendar(holidays)
        base = GRAIN_SETTINGS[self.grain]
        self.settings = _GrainSettings(
            base.fourier_terms if fourier_terms is None else fourier_terms,
            base.knot_spacing,
            base.step_spacing,
            base.min_train,
            base.calibration_step,
            base.calibration_origins if calibration_origins is None else calibration_origins,
            base.season,
            base.gammas,
        )

    def __repr__(self) -> str:
        return (
            f"DefaultModel(grain={self.grain.value!r}, holidays={self.holidays!r}, "
            f"counts={self.counts})"
        )

    # -- scale ----------------------------------------------------------------------------------

    def _to_scale(self, y: FloatArray, exposure: FloatArray) -> FloatArray:
        if self.counts:
            return np.log(y + 1.0) - np.log(exposure)
        return y / exposure

    def _from_scale(self, z: FloatArray, exposure: FloatArray) -> FloatArray:
        if self.counts:
            return np.exp(z + np.log(exposure)) - 1.0
        return z * exposure

    # -- fitting --------------------------------------------------------------------------------

    def fit_series_state(self, ds: pd.DatetimeIndex, y: FloatArray) -> Any:
        return None

    def _core(
        self,
        x_trend: FloatArray,
        prior_trend: FloatArray,
        x_cal: FloatArray,
        prior_cal: FloatArray,
        z: FloatArray,
        h: int,
        smoothing: tuple[tuple[float, float], ...] | None,
        iterations: int,
        weights: FloatArray | None = None,
    ) -> _CoreFit:
        """Steps 1–3 on one stretch (rows with NaN ``z`` are skipped in the regression)."""
        x = np.hstack([x_trend, x_cal])
        precision = 1.0 / np.concatenate([prior_trend, prior_cal]) ** 2
        obs = ~np.isnan(z)
        w0 = None if weights is None else weights[obs]
        half_life = RECENCY_HALF_LIFE[self.grain]
        recency = None
        if half_life is not None:
            age = (len(z) - 1 - np.arange(len(z)))[obs]
            recency = 0.5 ** (age / half_life)
        floor = PENALTY_SD_FLOOR[self.grain]
        beta, w_obs, sigma = _robust_ridge(
            x[obs], z[obs], precision, iterations, w0, recency, floor
        )
        p_t = x_trend.shape[1]
        # Lasting level shifts become unpenalised steps, kept out of the smoothed level.
        shifted = np.zeros_like(z)
        found = level_shifts(z - x_cal @ beta[p_t:]) if LEVEL_SHIFTS[self.grain] else []
        if found:
            n_steps = len(found)
            t = np.arange(len(z))
            steps = np.column_stack([(t >= at).astype(np.float64) for at in found])
            x = np.hstack([x_trend, steps, x_cal])
            precision = np.concatenate([precision[:p_t], np.zeros(n_steps), precision[p_t:]])
            beta, w_obs, sigma = _robust_ridge(
                x[obs], z[obs], precision, iterations, w0, recency, floor
            )
            shifted = steps @ beta[p_t : p_t + n_steps]
            resid = np.zeros_like(z)
            resid[obs] = z[obs] - (x[obs] @ beta)
            beta = np.concatenate([beta[:p_t], beta[p_t + n_steps :]])
        else:
            resid = np.zeros_like(z)
            resid[obs] = z[obs] - (x[obs] @ beta)
        trend = x_trend @ beta[:p_t]
        clip = WINSOR_SD * sigma
        d = trend - trend[0] + np.clip(resid, -clip, clip)
        m = self.settings.season
        if smoothing is None:
            smoothing = self._choose_smoothing(d, h)
        n = len(z)
        base = np.zeros(h)
        for alpha, gamma in smoothing:
            level, season = _smooth(d, alpha, gamma, m)
            base += trend[0] + level[-1] + shifted[-1]
            if gamma > 0.0:
                base += np.array([season[n - 1 + k - _season_lag(k, m)] for k in range(1, h + 1)])
        base /= len(smoothing)
        weights_full = np.ones(n)
        weights_full[obs] = w_obs
        alpha = float(np.mean([a for a, _ in smoothing]))
        return _CoreFit(beta[p_t:], base, sigma, weights_full, alpha, smoothing, z)

    def _choose_smoothing(self, d: FloatArray, h: int) -> tuple[tuple[float, float], ...]:
        """The (α, γ) pairs with the lowest in-sample mean absolute error of 1..h-step
        forecasts (the best :data:`SMOOTHING_TOP` of them, best first)."""
        n = len(d)
        m = self.settings.season
        first = max(self.settings.min_train // 2, n // 3, m)
        horizon = min(h, n - first - 1)
        if horizon < 1:
            return ((0.1, 0.0),)
        steps = np.unique(np.round(np.geomspace(1, horizon, SCORED_STEPS)).astype(np.int64))
        scored: list[tuple[float, float, float]] = []
        for gamma in self.settings.gammas:
            for alpha in LEVEL_ALPHAS:
                level, season = _smooth(d, alpha, gamma, m)
                total, count = 0.0, 0
                for k in steps:
                    origin = np.arange(first, n - k)
                    pred = level[origin]
                    if gamma > 0.0:
                        pred = pred + season[origin + k - _season_lag(int(k), m)]
                    err = d[origin + k] - pred
                    total += float(np.abs(err).sum())
                    count += err.size
                scored.append((total / max(count, 1), alpha, gamma))
        scored.sort(key=lambda row: row[0])
        return tuple((a, g) for _, a, g in scored[: SMOOTHING_TOP[self.grain]])

    def predict_state(
        self, fitted: _Fitted, future: pd.DatetimeIndex, levels: list[float]
    ) -> dict[str, FloatArray]:
        h = len(future)
        n = len(fitted.ds)
        s = self.settings
        span = pd.DatetimeIndex(fitted.ds.append(future))
        design = _calendar_design(span, self.grain, self.holidays, s.fourier_terms)
        per_year = PERIODS_PER_YEAR[self.grain]
        trend = _trend_design(n, n + h, per_year, s.knot_spacing, s.step_spacing)
        x_cal = design.calendar
        y = fitted.y
        if self.counts:
            y = np.where(reporting_gaps(y, s.step_spacing), np.nan, y)
        z = self._to_scale(y, design.exposure[:n])
        sd = PRIOR_SD[self.grain]
        prior_cal, prior_trend = design.prior(sd), trend.prior(sd)
        core = self._core(
            trend.matrix[:n], prior_trend, x_cal[:n], prior_cal, z, h, None, ROBUST_ITERATIONS
        )
        err, step = self._calibration_errors(trend, prior_trend, x_cal, prior_cal, h, core)
        spread, lo_q, hi_q = self._interval_quantiles(err, step, h, core, levels)
        centre = core.base + x_cal[n:] @ core.beta_calendar
        exposure = design.exposure[n:]
        out = {"mean": self._from_scale(centre, exposure)}
        for i, lv in enumerate(levels):
            name = level_name(lv)
            out[f"lo_{name}"] = self._from_scale(centre + spread * lo_q[i], exposure)
            out[f"hi_{name}"] = self._from_scale(centre + spread * hi_q[i], exposure)
        return out

    def _calibration_errors(
        self,
        trend: _Trend,
        prior_trend: FloatArray,
        x_cal: FloatArray,
        prior_cal: FloatArray,
        h: int,
        core: _CoreFit,
    ) -> tuple[FloatArray, FloatArray]:
        """Model-scale errors (and their horizon steps) of forecasts from rolling origins
        inside the training data, each fitted only on the data before it."""
        z = core.z
        n = len(z)
        s = self.settings
        errors: list[FloatArray] = []
        steps: list[FloatArray] = []
        for j in range(1, s.calibration_origins + 1):
            m = n - s.calibration_step * j  # periods of training data
            if m < s.min_train:
                break
            upto = min(n, m + h)
            actual = z[m:upto]
            ok = np.isfinite(actual)
            if not ok.any():
                continue
            used = trend.position < m - trend.margin
            fit = self._core(
                trend.matrix[:m, used],
                prior_trend[used],
                x_cal[:m],
                prior_cal,
                z[:m],
                upto - m,
                None if RESELECT_SMOOTHING[self.grain] else core.smoothing,
                1,
                core.weights[:m] if REUSE_ROBUST_WEIGHTS[self.grain] else None,
            )
            pred = fit.base + x_cal[m:upto] @ fit.beta_calendar
            errors.append((actual - pred)[ok])
            steps.append(np.arange(1, upto - m + 1, dtype=np.float64)[ok])
        if not errors:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(errors), np.concatenate(steps)

    def _interval_quantiles(
        self, err: FloatArray, step: FloatArray, h: int, core: _CoreFit, levels: list[float]
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Error spread by step and conformal quantiles of the scaled errors, per level."""
        k = np.arange(1, h + 1, dtype=np.float64)
        if err.size < MIN_CALIBRATION:
            # Too little history to calibrate: a local-level spread from the residual SD.
            spread = core.sigma * np.sqrt(1.0 + core.alpha**2 * (k - 1.0))
            quant = np.array([_normal_quantile(0.5 + lv / 200.0) for lv in levels])
            return spread, -quant, quant
        spread = _spread_by_step(err, step, k)
        scores = err / np.interp(step, k, spread)
        lo_q = np.array([_conformal_quantile(scores, (100.0 - lv) / 200.0) for lv in levels])
        hi_q = np.array([_conformal_quantile(scores, 1.0 - (100.0 - lv) / 200.0) for lv in levels])
        return spread, lo_q, hi_q


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def _spread_by_step(err: FloatArray, step: FloatArray, k: FloatArray) -> FloatArray:
    """sqrt(a + b k) fitted to the squared errors by step (a, b ≥ 0)."""
    sq = err**2
    design = np.column_stack([np.ones_like(step), step])
    coef, *_ = np.linalg.lstsq(design, sq, rcond=None)
    a, b = float(coef[0]), float(coef[1])
    if b < 0.0:
        a, b = float(sq.mean()), 0.0
    elif a < 0.0:
        a = 0.0
        b = float((sq * step).sum() / (step**2).sum())
    floor = max(float(np.sqrt(np.mean(sq))) * 0.05, 1e-6)
    return np.asarray(np.maximum(np.sqrt(a + b * k), floor), dtype=np.float64)


def _conformal_quantile(scores: FloatArray, p: float) -> float:
    """Split-conformal quantile of ``scores``: the ⌈(n + 1) p⌉-th smallest for p ≥ ½, the
    ⌊(n + 1) p⌋-th smallest for p < ½ (clamped to the sample)."""
    n = scores.size
    ordered = np.sort(scores)
    rank = min(n, math.ceil((n + 1) * p)) if p >= 0.5 else max(1, math.floor((n + 1) * p))
    return float(ordered[rank - 1])


# --------------------------------------------------------------------------------------------
# Registry and the one-call forecast
# --------------------------------------------------------------------------------------------

MODELS: dict[str, type[BaseForecaster]] = {
    "default": DefaultModel,
    "seasonal_naive": SeasonalNaiveModel,
    "ets": ETSModel,
    "arima": ARIMAModel,
    "mstl": MSTLModel,
}


def model_names() -> list[str]:
    """Names of the models, default first."""
    return list(MODELS)


def make_model(
    name: str, grain: Grain | str, *, holidays: str = "england", counts: bool = True
) -> BaseForecaster:
    """A fresh forecaster called ``name`` for series of ``grain``.

    Raises:
        UsageError: unknown model name, grain or holiday calendar.
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None
    if cls is DefaultModel:
        return DefaultModel(grain, holidays=holidays, counts=counts)
    check_calendar(holidays)
    return cls(grain, counts=counts)


@dataclass(frozen=True)
class ForecastResult:
    """One series' forecast.

    Attributes:
        frame: ``ds, mean, lo_<l>, hi_<l>, ...`` (levels ascending), one row per future period.
        notes: what was done to the input and how the model treated it, one sentence each.
        model: the model's name.
        grain: the series' grain.
    """

    frame: pd.DataFrame
    notes: list[str]
    model: str
    grain: Grain


def forecast(
    frame: pd.DataFrame,
    grain: Grain | str,
    horizon: int,
    level: Sequence[float] | None = LEVELS,
    model: str = "default",
    holidays: str = "england",
    *,
    counts: bool = True,
) -> ForecastResult:
    """Forecast one series ``horizon`` periods past its last observation.

    Args:
        frame: the series (see :func:`prepare`: ``period_start``/``value`` or ``ds``/``y``).
        grain: "day", "week" or "month".
        horizon: periods to forecast (≥ 1).
        level: interval levels, percent (default 80 and 95).
        model: a name from :data:`MODELS`.
        holidays: "england" or "none" (used by the default model; the statsforecast models
            have no calendar).
        counts: the values are counts (no negative values or forecasts).

    Returns:
        The forecast frame with notes.

    Raises:
        UsageError: bad input or arguments, one line each.
    """
    h = check_horizon(horizon)
    levels = check_levels(level)
    forecaster = make_model(model, grain, holidays=holidays, counts=counts)
    prepared = prepare(frame, forecaster.grain, counts=counts)
    notes = list(prepared.notes)
    if prepared.missing:
        notes.append(
            "the default model skips missing periods"
            if forecaster.handles_missing
            else f"the {forecaster.name} model needs a complete series: missing periods were "
            "filled by linear interpolation"
        )
    y = prepared.frame["y"].to_numpy(np.float64)
    if isinstance(forecaster, DefaultModel) and counts:
        gaps = int(reporting_gaps(y, forecaster.settings.step_spacing).sum())
        if gaps:
            one, many = GRAIN_WORDS[forecaster.grain]
            notes.append(
                f"{gaps} zero {one if gaps == 1 else many} amid values of at least "
                f"{ZERO_GAP_MIN:g} look like reporting gaps: the default model treats them as "
                "missing"
            )
    if model != "default" and holidays != "none":
        notes.append(f"the {forecaster.name} model has no calendar: holidays are not modelled")
    ds = pd.DatetimeIndex(prepared.frame["ds"])
    forecaster.fit_series("series", ds, y)
    out = forecaster.predict_series("series", h, levels)
    return ForecastResult(out.reset_index(drop=True), notes, forecaster.name, forecaster.grain)


# --------------------------------------------------------------------------------------------
# Hour-of-week profile for staffing
# --------------------------------------------------------------------------------------------


def hourly_demand_profile(
    hourly: pd.Series,
    daily_forecast: pd.DataFrame | None = None,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    recent_weeks: int | None = None,
) -> pd.DataFrame:
    """Arrivals per hour for each of the 168 hours of the week, with quantiles, for staffing.

    The profile itself is :func:`flowplan.capacity.staff.hour_of_week_profile` (mean and
    quantiles over the observed weeks of each hour of the week). With a daily forecast it is
    scaled to the forecast: every hour of a weekday is multiplied by the forecast mean per day
    for that weekday over the horizon ÷ the observed mean per day for that weekday (the sum of
    its 24 hourly means), so the hour-of-day shape is kept and the daily volume follows the
    forecast (a weekday the horizon does not reach takes the mean scale of the others).

    Args:
        hourly: hourly counts indexed by naive local hour, or arrival timestamps (see
            ``hour_of_week_profile``).
        daily_forecast: a daily forecast frame with ``ds`` and ``mean`` (``ForecastResult.frame``
            of a daily series of the same arrivals), or None for the observed profile.
        quantiles: probabilities for the quantile columns (0.9 → ``q90``).
        recent_weeks: use only the last this many weeks of data (default: all).

    Returns:
        168 rows indexed by ``hour_of_week`` (0 = Monday 00:00–01:00) with ``mean``, one
        ``q..`` column per quantile and ``n_weeks``, all in arrivals per hour; with a forecast
        also ``scale`` (the weekday's forecast ÷ observed volume).

    Raises:
        UsageError: bad hourly data (fewer than one full week, negative counts, ...), a bad
            ``recent_weeks``, or a forecast frame without ``ds`` and ``mean``.
    """
    start: pd.Timestamp | None = None
    if recent_weeks is not None:
        if isinstance(recent_weeks, bool) or not isinstance(recent_weeks, int) or recent_weeks < 1:
            raise UsageError(
                f"recent_weeks must be a whole number of weeks, at least 1; got {recent_weeks!r}"
            )
        if pd.api.types.is_datetime64_any_dtype(hourly.dtype):
            last = pd.Timestamp(pd.to_datetime(hourly).max())
        else:
            last = pd.Timestamp(pd.DatetimeIndex(hourly.index).max())
        start = last.floor("h") + pd.Timedelta(hours=1) - pd.Timedelta(weeks=recent_weeks)
    profile = hour_of_week_profile(hourly, quantiles=quantiles, start=start)
    if daily_forecast is None:
        return profile
    if not {"ds", "mean"} <= set(map(str, daily_forecast.columns)) or len(daily_forecast) == 0:
        raise UsageError("the daily forecast needs rows with columns ds and mean")
    days = pd.DatetimeIndex(pd.to_datetime(daily_forecast["ds"]))
    per_weekday = (
        pd.Series(daily_forecast["mean"].to_numpy(np.float64), index=days.day_of_week)
        .groupby(level=0)
        .mean()
    )
    observed = profile["mean"].to_numpy(np.float64).reshape(7, 24).sum(axis=1)
    scale = np.full(7, np.nan)
    for d in range(7):
        if d in per_weekday.index and observed[d] > 0:
            scale[d] = float(per_weekday.loc[d]) / observed[d]
    fill = float(np.nanmean(scale)) if np.isfinite(scale).any() else 1.0
    scale = np.where(np.isfinite(scale), scale, fill)
    by_hour = np.repeat(scale, 24)
    out = profile.copy()
    for col in out.columns:
        if col != "n_weeks":
            out[col] = out[col].to_numpy(np.float64) * by_hour
    out["scale"] = by_hour
    return out


__all__ = [
    "FORECAST_GRAINS",
    "LEVELS",
    "MODELS",
    "SEASON_LENGTH",
    "ARIMAModel",
    "BaseForecaster",
    "DefaultModel",
    "ETSModel",
    "ForecastResult",
    "Forecaster",
    "MSTLModel",
    "PreparedSeries",
    "SeasonalNaiveModel",
    "check_grain",
    "check_horizon",
    "check_levels",
    "forecast",
    "hourly_demand_profile",
    "interval_columns",
    "level_name",
    "level_shifts",
    "make_model",
    "model_names",
    "next_periods",
    "prepare",
    "reporting_gaps",
]
