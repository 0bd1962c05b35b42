"""Rolling-origin evaluation of the forecasters.

For each series, ``windows`` forecast origins are placed ``step`` periods apart so that the last
window ends at the last observation: the model is fitted on the data up to an origin only and
forecasts ``horizon`` periods after it, which are then compared with what happened.

Metrics, per series and model (each window's error measures are scaled by that window's own
training data, then averaged over the windows):

``mase``
    mean absolute error of the point forecast ÷ the mean absolute error of the in-sample
    seasonal naive forecast (season 7 for days, 52 for weeks, 12 for months; the plain naive
    forecast when the training data is shorter than two seasons). Below 1: better than
    repeating last season, in-sample.
``rmsse``
    root of (mean squared error ÷ mean squared in-sample seasonal naive error).
``coverage_<l>``
    share of the actual values inside the ``l`` % interval (all windows pooled).
``pinball``
    pinball (quantile) loss averaged over the interval bounds as quantiles (0.025, 0.1, 0.9,
    0.975 for levels 80 and 95) and the point forecast as the median, scaled like MASE (÷ the
    in-sample seasonal naive mean absolute error), so that series of different size can be
    averaged.
``fit_seconds``
    mean seconds to fit and forecast one window.

Periods with no actual value are left out of every measure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from flowplan.data.grain import Grain
from flowplan.demand.forecast import (
    LEVELS,
    SEASON_LENGTH,
    BaseForecaster,
    check_grain,
    check_horizon,
    check_levels,
    level_name,
    make_model,
    model_names,
    prepare,
)
from flowplan.errors import UsageError

FloatArray = npt.NDArray[np.float64]

DEFAULT_MODELS: tuple[str, ...] = ("default", "seasonal_naive", "ets", "arima", "mstl")


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest measured.

    Attributes:
        per_series: one row per series and model: ``unique_id, model, windows, mase, rmsse,
            coverage_<l>..., pinball, fit_seconds``.
        summary: one row per model (in the order asked for): ``model, series`` (how many were
            evaluated) and the means over series of the per-series measures (coverage pooled
            over every forecast point).
        forecasts: every forecast made: ``unique_id, model, cutoff, ds, y`` (the actual value)
            and the forecast columns.
        notes: series left out, and why.
    """

    per_series: pd.DataFrame
    summary: pd.DataFrame
    forecasts: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def pinball_loss(actual: FloatArray, quantile: FloatArray, tau: float) -> float:
    """Mean pinball loss of forecasts of the ``tau`` quantile.

    ``max(tau (y − q), (tau − 1)(y − q))`` averaged over the points (NaN actuals skipped).
    """
    y = np.asarray(actual, dtype=np.float64)
    q = np.asarray(quantile, dtype=np.float64)
    ok = np.isfinite(y)
    diff = y[ok] - q[ok]
    if diff.size == 0:
        return math.nan
    return float(np.mean(np.maximum(tau * diff, (tau - 1.0) * diff)))


def seasonal_naive_scale(y: FloatArray, season: int) -> tuple[float, float]:
    """In-sample seasonal naive mean absolute and mean squared error of ``y`` (NaNs skipped).

    The season falls back to 1 (the naive forecast) when ``y`` is shorter than two seasons.
    """
    values = np.asarray(y, dtype=np.float64)
    m = season if len(values) >= 2 * season else 1
    diff = values[m:] - values[:-m]
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return math.nan, math.nan
    return float(np.mean(np.abs(diff))), float(np.mean(diff**2))


@dataclass(frozen=True)
class WindowScore:
    """Error measures of one forecast window.

    Attributes:
        mase: mean absolute error ÷ in-sample seasonal naive mean absolute error.
        rmsse: root of mean squared error ÷ in-sample seasonal naive mean squared error.
        pinball: mean pinball loss over the quantiles, ÷ the same scale as MASE.
        inside: actual values inside each interval, by level.
        points: actual values scored (NaN actuals are left out).
    """

    mase: float
    rmsse: float
    pinball: float
    inside: dict[float, int]
    points: int


def interval_quantiles(levels: Sequence[float]) -> list[tuple[str, float]]:
    """Forecast columns and the quantile each stands for: the point forecast as the median,
    then ``lo_<l>`` as ``(100 − l) / 200`` and ``hi_<l>`` as ``1 − (100 − l) / 200``."""
    out: list[tuple[str, float]] = [("mean", 0.5)]
    for lv in levels:
        out += [
            (f"lo_{level_name(lv)}", (100.0 - lv) / 200.0),
            (f"hi_{level_name(lv)}", 1.0 - (100.0 - lv) / 200.0),
        ]
    return out


def score_window(
    actual: FloatArray,
    forecast: pd.DataFrame,
    train: FloatArray,
    season: int,
    levels: Sequence[float] = LEVELS,
) -> WindowScore:
    """Score one window's forecast against what happened.

    Args:
        actual: the values of the forecast periods (NaN: not observed, left out).
        forecast: ``mean`` and ``lo_<l>``/``hi_<l>`` columns, one row per period of ``actual``.
        train: the training values (for the seasonal naive scale).
        season: season length of the scale (7, 52 or 12).
        levels: interval levels scored.

    Returns:
        The window's measures (NaN where the scale is zero or nothing was observed).
    """
    y = np.asarray(actual, dtype=np.float64)
    ok = np.isfinite(y)
    points = int(ok.sum())
    mae_scale, mse_scale = seasonal_naive_scale(train, season)
    point = forecast["mean"].to_numpy(np.float64)
    err = (y - point)[ok]
    inside: dict[float, int] = {}
    for lv in levels:
        lo = forecast[f"lo_{level_name(lv)}"].to_numpy(np.float64)[ok]
        hi = forecast[f"hi_{level_name(lv)}"].to_numpy(np.float64)[ok]
        inside[lv] = int(np.sum((y[ok] >= lo) & (y[ok] <= hi)))
    if points == 0:
        return WindowScore(math.nan, math.nan, math.nan, inside, 0)
    losses = [
        pinball_loss(y, forecast[col].to_numpy(np.float64), tau)
        for col, tau in interval_quantiles(levels)
    ]
    usable = math.isfinite(mae_scale) and mae_scale > 0
    return WindowScore(
        float(np.mean(np.abs(err))) / mae_scale if usable else math.nan,
        math.sqrt(float(np.mean(err**2)) / mse_scale) if usable else math.nan,
        float(np.mean(losses)) / mae_scale if usable else math.nan,
        inside,
        points,
    )


def _cutoffs(n: int, horizon: int, windows: int, step: int, min_train: int) -> list[int]:
    """Number of training periods for each window, oldest first (those too short left out)."""
    out = []
    for k in range(windows):
        train = n - horizon - (windows - 1 - k) * step
        if train >= min_train:
            out.append(train)
    return out


def _as_series(
    series: Mapping[str, pd.DataFrame] | pd.DataFrame,
) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(series, pd.DataFrame):
        missing = [c for c in ("unique_id", "ds", "y") if c not in series.columns]
        if missing:
            raise UsageError(
                f"a long frame of series needs columns unique_id, ds and y; missing "
                f"{', '.join(missing)}"
            )
        return [
            (str(uid), g[["ds", "y"]].reset_index(drop=True))
            for uid, g in series.groupby("unique_id", sort=True)
        ]
    return [(str(k), v) for k, v in series.items()]


def backtest(
    series: Mapping[str, pd.DataFrame] | pd.DataFrame,
    grain: Grain | str,
    horizon: int,
    windows: int,
    step: int,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    level: Sequence[float] = LEVELS,
    holidays: str = "england",
    counts: bool = True,
    min_train: int | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of ``models`` on each series.

    Args:
        series: series by identifier (each a frame :func:`~flowplan.demand.forecast.prepare`
            accepts), or one long frame ``unique_id, ds, y``.
        grain: "day", "week" or "month".
        horizon: periods forecast from each origin.
        windows: origins per series (fewer where the history is too short; see ``notes``).
        step: periods between consecutive origins.
        models: model names (:data:`~flowplan.demand.forecast.MODELS`).
        level: interval levels, percent.
        holidays: holiday calendar for the default model.
        counts: the series are counts.
        min_train: fewest periods of training data for an origin (default: two seasons for
            days, one year plus one period for weeks and months).

    Returns:
        Per-series and per-model measures, and every forecast.

    Raises:
        UsageError: bad arguments, an unknown model, or a series that fails validation.
    """
    g = check_grain(grain)
    h = check_horizon(horizon)
    if isinstance(windows, bool) or not isinstance(windows, int) or windows < 1:
        raise UsageError(f"windows must be a whole number, at least 1; got {windows!r}")
    n_windows = windows
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise UsageError(f"step must be a whole number of periods, at least 1; got {step!r}")
    levels = check_levels(level)
    known = model_names()
    for name in models:
        if name not in known:
            raise UsageError(f"unknown model {name!r}; known models: {', '.join(known)}")
    season = SEASON_LENGTH[g]
    needed = min_train if min_train is not None else (2 * season if g is Grain.DAY else season + 1)

    rows: list[dict[str, object]] = []
    forecasts: list[pd.DataFrame] = []
    notes: list[str] = []
    for uid, frame in _as_series(series):
        try:
            prepared = prepare(frame, g, counts=counts, min_periods=1)
        except UsageError as exc:
            raise UsageError(f"series {uid}: {exc}") from None
        ds = pd.DatetimeIndex(prepared.frame["ds"])
        y = prepared.frame["y"].to_numpy(np.float64)
        cuts = _cutoffs(len(y), h, n_windows, step, needed)
        if not cuts:
            notes.append(
                f"{uid}: left out, {len(y)} periods are too few for one window of {h} after "
                f"{needed} of training"
            )
            continue
        if len(cuts) < n_windows:
            notes.append(f"{uid}: {len(cuts)} of {n_windows} windows (history too short)")
        for name in models:
            rows.append(
                _evaluate(uid, name, ds, y, cuts, h, levels, g, holidays, counts, forecasts)
            )
    per_series = pd.DataFrame(rows)
    summary = _summarise(per_series, forecasts, list(models), levels)
    all_forecasts = pd.concat(forecasts, ignore_index=True) if forecasts else pd.DataFrame()
    return BacktestResult(per_series, summary, all_forecasts, notes)


def _evaluate(
    uid: str,
    name: str,
    ds: pd.DatetimeIndex,
    y: FloatArray,
    cuts: list[int],
    h: int,
    levels: tuple[float, ...],
    grain: Grain,
    holidays: str,
    counts: bool,
    forecasts: list[pd.DataFrame],
) -> dict[str, object]:
    season = SEASON_LENGTH[grain]
    mase, rmsse, pinball, seconds = [], [], [], []
    inside = {lv: 0 for lv in levels}
    points = 0
    for train in cuts:
        model: BaseForecaster = make_model(name, grain, holidays=holidays, counts=counts)
        t0 = time.perf_counter()
        model.fit_series(uid, ds[:train], y[:train])
        fc = model.predict_series(uid, h, levels)
        seconds.append(time.perf_counter() - t0)
        actual = y[train : train + h]
        fc = fc.iloc[: len(actual)]
        score = score_window(actual, fc, y[:train], season, levels)
        if score.points == 0:
            continue
        mase.append(score.mase)
        rmsse.append(score.rmsse)
        pinball.append(score.pinball)
        for lv in levels:
            inside[lv] += score.inside[lv]
        points += score.points
        forecasts.append(
            fc.assign(unique_id=uid, model=name, cutoff=ds[train - 1], y=actual)[
                ["unique_id", "model", "cutoff", "ds", "y", *fc.columns[1:]]
            ]
        )
    row: dict[str, object] = {
        "unique_id": uid,
        "model": name,
        "windows": len(cuts),
        "points": points,
        "mase": _mean(mase),
        "rmsse": _mean(rmsse),
    }
    for lv in levels:
        row[f"coverage_{level_name(lv)}"] = inside[lv] / points if points else math.nan
    row["pinball"] = _mean(pinball)
    row["fit_seconds"] = _mean(seconds)
    return row


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _summarise(
    per_series: pd.DataFrame,
    forecasts: list[pd.DataFrame],
    models: list[str],
    levels: tuple[float, ...],
) -> pd.DataFrame:
    rows = []
    for name in models:
        part = per_series[per_series["model"] == name] if len(per_series) else per_series
        if len(part) == 0:
            continue
        points = part["points"].to_numpy(np.float64)
        row: dict[str, object] = {
            "model": name,
            "series": len(part),
            "mase": float(part["mase"].mean()),
            "rmsse": float(part["rmsse"].mean()),
        }
        for lv in levels:
            col = f"coverage_{level_name(lv)}"
            cov = part[col].to_numpy(np.float64)
            ok = np.isfinite(cov)
            row[col] = (
                float((cov[ok] * points[ok]).sum() / points[ok].sum()) if ok.any() else math.nan
            )
        row["pinball"] = float(part["pinball"].mean())
        row["fit_seconds"] = float(part["fit_seconds"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "DEFAULT_MODELS",
    "BacktestResult",
    "WindowScore",
    "backtest",
    "interval_quantiles",
    "pinball_loss",
    "score_window",
    "seasonal_naive_scale",
]
