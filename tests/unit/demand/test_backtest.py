"""Rolling-origin backtests: metrics against hand-computed values, windows, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flowplan.demand.backtest import (
    backtest,
    interval_quantiles,
    pinball_loss,
    score_window,
    seasonal_naive_scale,
)
from flowplan.errors import UsageError

PER_SERIES = [
    "unique_id",
    "model",
    "windows",
    "points",
    "mase",
    "rmsse",
    "coverage_80",
    "coverage_95",
    "pinball",
    "fit_seconds",
]


def test_pinball_loss_for_one_quantile() -> None:
    # Under-forecast by 2 at tau 0.9 costs 0.9 × 2; over-forecast by 2 costs 0.1 × 2.
    assert pinball_loss(np.array([10.0]), np.array([8.0]), 0.9) == pytest.approx(1.8)
    assert pinball_loss(np.array([10.0]), np.array([12.0]), 0.9) == pytest.approx(0.2)
    assert pinball_loss(np.array([10.0, np.nan]), np.array([12.0, 0.0]), 0.5) == pytest.approx(1.0)


def test_seasonal_naive_scale_by_hand() -> None:
    y = np.array([1, 2, 3, 4, 5, 6, 7, 2, 2, 4, 4, 6, 6, 8], dtype=float)
    mae, mse = seasonal_naive_scale(y, 7)
    assert mae == pytest.approx(4 / 7)
    assert mse == pytest.approx(4 / 7)
    # Shorter than two seasons: the naive (lag 1) scale.
    assert seasonal_naive_scale(np.array([0.0, 2.0, 4.0, 6.0]), 7) == (2.0, 4.0)


def test_score_window_by_hand() -> None:
    actual = np.array([10.0, 20.0, 30.0, np.nan])
    fc = pd.DataFrame(
        {
            "mean": [12.0, 20.0, 27.0, 5.0],
            "lo_80": [9.0, 21.0, 25.0, 0.0],
            "hi_80": [11.0, 25.0, 35.0, 9.0],
            "lo_95": [5.0, 15.0, 20.0, 0.0],
            "hi_95": [15.0, 30.0, 40.0, 10.0],
        }
    )
    train = np.array([0.0, 2.0, 4.0, 6.0])  # naive scale: MAE 2, MSE 4
    got = score_window(actual, fc, train, 1)
    assert got.points == 3
    assert got.mase == pytest.approx((5 / 3) / 2)
    assert got.rmsse == pytest.approx(math.sqrt((13 / 3) / 4))
    assert got.inside == {80: 2, 95: 3}
    losses = [5 / 6, 1.5 / 3, 1.1 / 3, 0.5 / 3, 0.625 / 3]  # tau 0.5, 0.1, 0.9, 0.025, 0.975
    assert got.pinball == pytest.approx(np.mean(losses) / 2)
    assert interval_quantiles([80, 95]) == [
        ("mean", 0.5),
        ("lo_80", 0.1),
        ("hi_80", 0.9),
        ("lo_95", 0.025),
        ("hi_95", 0.975),
    ]


def repeating_tail(seed: int = 0) -> pd.DataFrame:
    """70 noisy days, then one week's pattern repeated exactly for 8 weeks."""
    rng = np.random.default_rng(seed)
    head = rng.poisson(50, 70).astype(float)
    week = np.array([60.0, 55, 52, 50, 58, 30, 25])
    y = np.concatenate([head, np.tile(week, 8)])
    return pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=len(y)), "y": y})


def test_seasonal_naive_scores_zero_on_an_exactly_repeating_week() -> None:
    result = backtest({"a": repeating_tail()}, "day", 7, 3, 7, models=["seasonal_naive"])
    row = result.per_series.iloc[0]
    assert list(result.per_series.columns) == PER_SERIES
    assert row["windows"] == 3
    assert row["points"] == 21
    assert row["mase"] == 0.0
    assert row["rmsse"] == 0.0
    assert row["coverage_80"] == 1.0
    assert row["coverage_95"] == 1.0
    assert row["fit_seconds"] >= 0.0


def test_windows_end_at_the_last_observation() -> None:
    frame = repeating_tail()
    result = backtest({"a": frame}, "day", 7, 3, 7, models=["seasonal_naive"])
    cutoffs = sorted(result.forecasts["cutoff"].unique())
    last = frame["ds"].iloc[-1]
    assert [pd.Timestamp(c) for c in cutoffs] == [last - pd.Timedelta(days=d) for d in (21, 14, 7)]
    assert result.forecasts["ds"].max() == last
    np.testing.assert_array_equal(
        result.forecasts.sort_values("ds")["y"].to_numpy(), frame["y"].to_numpy()[-21:]
    )


def test_summary_long_frame_and_short_series() -> None:
    long = pd.concat(
        [
            repeating_tail(1).assign(unique_id="a"),
            repeating_tail(2).assign(unique_id="b"),
            repeating_tail(3).iloc[:20].assign(unique_id="short"),
        ],
        ignore_index=True,
    )
    result = backtest(long, "day", 7, 2, 7, models=["default", "seasonal_naive"])
    assert sorted(result.per_series["unique_id"].unique()) == ["a", "b"]
    assert result.summary["model"].tolist() == ["default", "seasonal_naive"]
    assert result.summary["series"].tolist() == [2, 2]
    assert list(result.summary.columns) == [
        "model",
        "series",
        "mase",
        "rmsse",
        "coverage_80",
        "coverage_95",
        "pinball",
        "fit_seconds",
    ]
    assert result.notes == [
        "short: left out, 20 periods are too few for one window of 7 after 14 of training"
    ]
    again = backtest(long, "day", 7, 2, 7, models=["default", "seasonal_naive"])
    pd.testing.assert_frame_equal(
        result.per_series.drop(columns="fit_seconds"), again.per_series.drop(columns="fit_seconds")
    )


def test_arima_smoke_on_a_tiny_monthly_series() -> None:
    rng = np.random.default_rng(4)
    ds = pd.date_range("2021-01-01", periods=30, freq="MS")
    frame = pd.DataFrame({"ds": ds, "y": rng.poisson(3000, 30).astype(float)})
    result = backtest({"m": frame}, "month", 3, 2, 1, models=["arima"])
    assert result.per_series["windows"].tolist() == [2]
    assert np.isfinite(result.per_series["mase"]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": 0}, "windows must be a whole number, at least 1; got 0"),
        ({"step": 0}, "step must be a whole number of periods, at least 1; got 0"),
        ({"horizon": 0}, "horizon must be at least 1 period; got 0"),
        (
            {"models": ["default", "tbats"]},
            "unknown model 'tbats'; known models: default, seasonal_naive, ets, arima, mstl",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"horizon": 7, "windows": 2, "step": 7, "models": ["default"]}
    args.update(kwargs)
    with pytest.raises(UsageError) as info:
        backtest({"a": repeating_tail()}, "day", **args)  # type: ignore[arg-type]
    assert str(info.value) == message
