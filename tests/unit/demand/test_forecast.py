"""Forecasters: output shape, intervals, calendar effects, reproducibility, input handling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import flowplan.demand.forecast as fc
from flowplan.data.grain import Grain
from flowplan.demand.calendar import calendar_features
from flowplan.demand.forecast import (
    MODELS,
    DefaultModel,
    ETSModel,
    forecast,
    hourly_demand_profile,
    level_shifts,
    make_model,
    prepare,
    reporting_gaps,
)
from flowplan.errors import UsageError

COLUMNS = ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
DOW = np.array([1.15, 1.1, 1.05, 1.0, 1.1, 0.6, 0.5])


def daily_counts(
    days: int = 140,
    start: str = "2024-01-01",
    level: float = 80.0,
    bank_holiday: float = 1.0,
    seed: int = 1,
) -> pd.DataFrame:
    """Poisson daily counts with a weekly pattern and a bank-holiday multiplier."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=days, freq="D")
    bh = calendar_features(ds, "day")["bank_holiday"].to_numpy()
    mean = level * DOW[ds.day_of_week] * np.where(bh == 1, bank_holiday, 1.0)
    return pd.DataFrame({"period_start": ds, "value": rng.poisson(mean).astype(float)})


def weekly_counts(weeks: int = 80, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=weeks, freq="7D")
    return pd.DataFrame({"period_start": ds, "value": rng.poisson(500.0, weeks).astype(float)})


def monthly_counts(months: int = 36, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2021-01-01", periods=months, freq="MS")
    season = 1.0 + 0.08 * np.sin(2 * np.pi * (ds.month.to_numpy() - 1) / 12)
    mean = 400.0 * ds.days_in_month.to_numpy() * season
    return pd.DataFrame({"period_start": ds, "value": rng.poisson(mean).astype(float)})


SERIES: dict[str, Callable[[], pd.DataFrame]] = {
    "day": daily_counts,
    "week": weekly_counts,
    "month": monthly_counts,
}
HORIZON = {"day": 14, "week": 6, "month": 4}
CASES = [
    ("default", "day"),
    ("default", "week"),
    ("default", "month"),
    ("seasonal_naive", "day"),
    ("seasonal_naive", "week"),
    ("seasonal_naive", "month"),
    ("ets", "day"),
    ("ets", "week"),
    ("ets", "month"),
    ("mstl", "day"),
    ("mstl", "week"),
    ("mstl", "month"),
    ("arima", "month"),  # AutoARIMA only on one tiny series: it is slow
]


def assert_nested(frame: pd.DataFrame) -> None:
    assert (frame["lo_95"] <= frame["lo_80"]).all()
    assert (frame["lo_80"] <= frame["mean"]).all()
    assert (frame["mean"] <= frame["hi_80"]).all()
    assert (frame["hi_80"] <= frame["hi_95"]).all()
    assert (frame[COLUMNS[1:]] >= 0).all().all()


@pytest.mark.parametrize(("model", "grain"), CASES)
def test_output_shape_columns_and_nesting(model: str, grain: str) -> None:
    frame = SERIES[grain]()
    h = HORIZON[grain]
    result = forecast(frame, grain, h, model=model)
    out = result.frame
    assert list(out.columns) == COLUMNS
    assert len(out) == h
    last = frame["period_start"].iloc[-1]
    step = {"day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7)}.get(grain)
    first = last + step if step is not None else last + pd.offsets.MonthBegin(1)
    assert out["ds"].iloc[0] == first
    assert out["ds"].is_monotonic_increasing
    assert np.isfinite(out[COLUMNS[1:]].to_numpy()).all()
    assert_nested(out)
    assert result.model == model


def test_statsforecast_shape_long_frames() -> None:
    a = daily_counts(seed=4).rename(columns={"period_start": "ds", "value": "y"})
    b = daily_counts(seed=5, level=20.0).rename(columns={"period_start": "ds", "value": "y"})
    df = pd.concat([a.assign(unique_id="A"), b.assign(unique_id="B")], ignore_index=True)
    for cls in (DefaultModel, ETSModel):
        out = cls("day").fit(df).predict(7, level=[80, 95])
        assert list(out.columns) == ["unique_id", *COLUMNS]
        assert out["unique_id"].tolist() == ["A"] * 7 + ["B"] * 7
        assert (
            out.groupby("unique_id")["mean"].mean()["A"]
            > out.groupby("unique_id")["mean"].mean()["B"]
        )


def test_levels_name_the_columns() -> None:
    out = forecast(daily_counts(), "day", 7, level=[50, 97.5]).frame
    assert list(out.columns) == ["ds", "mean", "lo_50", "hi_50", "lo_97.5", "hi_97.5"]
    assert (out["lo_97.5"] <= out["lo_50"]).all()


def test_small_counts_are_never_negative() -> None:
    rng = np.random.default_rng(7)
    ds = pd.date_range("2024-01-01", periods=120)
    frame = pd.DataFrame({"ds": ds, "y": rng.poisson(0.8, 120).astype(float)})
    for model in ("default", "seasonal_naive", "ets"):
        out = forecast(frame, "day", 14, model=model).frame
        assert_nested(out)
        assert out["lo_95"].min() == 0.0


def test_bank_holiday_effect_is_recovered() -> None:
    # Three years ending on Sunday 6 April 2025; bank holidays run at 70 % of a normal day.
    frame = daily_counts(days=1190, start="2022-01-03", level=200.0, bank_holiday=0.7, seed=11)
    assert frame["period_start"].iloc[-1] == pd.Timestamp("2025-04-06")
    out = forecast(frame, "day", 28).frame.set_index("ds")["mean"]
    good_friday = out["2025-04-18"] / out["2025-04-11"]
    easter_monday = out["2025-04-21"] / out["2025-04-14"]
    assert good_friday == pytest.approx(0.7, abs=0.05)
    assert easter_monday == pytest.approx(0.7, abs=0.05)
    # Without the calendar the model cannot know.
    plain = forecast(frame, "day", 28, holidays="none").frame.set_index("ds")["mean"]
    assert plain["2025-04-21"] / plain["2025-04-14"] == pytest.approx(1.0, abs=0.05)


def test_intervals_are_calibrated_roughly_on_a_stable_series() -> None:
    frame = daily_counts(days=600, level=100.0, seed=21)
    train, test = frame.iloc[:-28], frame.iloc[-28:]["value"].to_numpy()
    out = forecast(train, "day", 28).frame
    inside_95 = ((test >= out["lo_95"]) & (test <= out["hi_95"])).mean()
    assert inside_95 >= 0.8


def test_reproducible() -> None:
    frame = daily_counts(days=300, seed=9)
    for model in ("default", "ets"):
        first = forecast(frame, "day", 21, model=model).frame
        second = forecast(frame.copy(), "day", 21, model=model).frame
        pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_gaps_are_kept_missing_and_noted() -> None:
    frame = daily_counts(days=120)
    holed = frame.drop(index=[50, 51, 52]).reset_index(drop=True)
    holed.loc[80, "value"] = np.nan
    result = forecast(holed, "day", 7)
    assert result.notes == [
        "4 missing days inside the series (2024-02-20, 2024-02-21, 2024-02-22, ...) were kept "
        "as missing",
        "the default model skips missing periods",
    ]
    assert len(result.frame) == 7
    ets = forecast(holed, "day", 7, model="ets", holidays="none")
    assert ets.notes[-1] == (
        "the ets model needs a complete series: missing periods were filled by linear interpolation"
    )
    prepared = prepare(holed, "day")
    assert len(prepared.frame) == 120
    assert prepared.missing == 4


def test_partial_last_month_is_dropped_and_noted() -> None:
    frame = monthly_counts(months=30)
    frame["periods"] = frame["period_start"].dt.days_in_month
    frame.loc[len(frame) - 1, ["value", "periods"]] = [5000.0, 12]
    result = forecast(frame, "month", 3)
    last = frame["period_start"].iloc[-1]
    assert result.notes == [
        f"the last month, {last.date()}, is partial (12 of 30 days); it was left out"
    ]
    assert result.frame["ds"].iloc[0] == last  # the partial month is forecast in full
    assert result.frame["mean"].iloc[0] > 10_000


def test_partial_last_week_is_dropped() -> None:
    frame = weekly_counts(weeks=40)
    frame["periods"] = 7
    frame.loc[39, "periods"] = 3
    prepared = prepare(frame, "week")
    assert len(prepared.frame) == 39
    assert prepared.notes == [
        "the last week, 2023-10-02, is partial (3 of 7 days); it was left out"
    ]


def test_reporting_gap_zeros_are_found() -> None:
    y = np.array([50.0, 60, 55, 0, 0, 0, 58, 61, 0, 57], dtype=float)
    assert reporting_gaps(y, window=5).tolist() == [False] * 3 + [True] * 3 + [False] * 2 + [
        True,
        False,
    ]
    small = np.array([2.0, 1, 0, 3, 1, 0, 2, 1])  # zeros are plausible among small counts
    assert not reporting_gaps(small, window=5).any()
    closed = np.array([50.0, 60, 55, 58, 0, 0, 0, 0, 0, 0])  # a long run at the end is kept
    assert not reporting_gaps(closed, window=5).any()


@pytest.mark.parametrize(
    ("frame", "grain", "message"),
    [
        (
            pd.DataFrame({"ds": ["2024-01-01", "2024-01-02", "2024-01-03"], "y": [1, 2, "abc"]}),
            "day",
            "values must be numbers: 'abc' at 2024-01-03 (row 3)",
        ),
        (
            pd.DataFrame({"ds": ["2024-01-01", "2024-01-03", "2024-01-02"], "y": [1, 2, 3]}),
            "day",
            "dates are not sorted: 2024-01-02 comes after 2024-01-03 (row 3)",
        ),
        (
            pd.DataFrame({"ds": ["2024-01-01", "2024-01-02", "2024-01-02"], "y": [1, 2, 3]}),
            "day",
            "dates are repeated: 2024-01-02 appears 2 times (rows 2, 3)",
        ),
        (
            pd.DataFrame({"ds": ["2024-01-01", "not a date"], "y": [1, 2]}),
            "day",
            "date is not a date: 'not a date' (row 2)",
        ),
        (
            pd.DataFrame({"ds": ["2024-01-01", "2024-02-05"], "y": [1, 2]}),
            "month",
            "dates must be the starts of months (the 1st of the month): 2024-02-05 (row 2)",
        ),
        (
            pd.DataFrame({"ds": ["2024-01-01", "2024-01-02"], "y": [1, -2]}),
            "day",
            "counts cannot be negative: -2 at 2024-01-02 (row 2)",
        ),
        (
            pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=5), "y": range(5)}),
            "day",
            "the series has 5 observed days; forecasting by day needs at least 14",
        ),
        (
            pd.DataFrame({"date": ["2024-01-01"], "count": [1]}),
            "day",
            "the series needs columns period_start and value (or ds and y); got: date, count",
        ),
        (pd.DataFrame({"ds": [], "y": []}), "day", "the series is empty"),
        (
            pd.DataFrame({"ds": ["2024-01-01"], "y": [1]}),
            "hour",
            "forecasting works by day, week, month; got grain 'hour'",
        ),
    ],
)
def test_bad_input_is_refused_with_one_line(frame: pd.DataFrame, grain: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        forecast(frame, grain, 7)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be at least 1 period; got 0"),
        ({"horizon": -3}, "horizon must be at least 1 period; got -3"),
        ({"horizon": 2.5}, "horizon must be a whole number of periods; got 2.5"),
        (
            {"horizon": 7, "level": [80, 100]},
            "interval levels must be between 0 and 100 (exclusive); got 100",
        ),
        (
            {"horizon": 7, "model": "prophet"},
            "unknown model 'prophet'; known models: default, seasonal_naive, ets, arima, mstl",
        ),
        (
            {"horizon": 7, "holidays": "scotland"},
            "unknown holiday calendar 'scotland'; known calendars: england, none",
        ),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as info:
        forecast(daily_counts(), "day", **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_predict_before_fit_and_bad_long_frame() -> None:
    with pytest.raises(UsageError, match="must be fitted before it can predict"):
        DefaultModel("day").predict(7)
    with pytest.raises(UsageError, match=r"^fit needs columns unique_id, ds and y; missing y"):
        DefaultModel("day").fit(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"]}))
    bad = pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2024-01-02", "2024-01-01"], "y": [1, 2]})
    with pytest.raises(UsageError, match=r"^series a: dates are not sorted"):
        DefaultModel("day").fit(bad)


def test_registry() -> None:
    assert list(MODELS) == ["default", "seasonal_naive", "ets", "arima", "mstl"]
    assert make_model("mstl", "month").name == "mstl"
    assert repr(make_model("default", "week")) == (
        "DefaultModel(grain='week', holidays='england', counts=True)"
    )


def test_hour_of_week_profile_scaled_to_a_forecast() -> None:
    rng = np.random.default_rng(5)
    hours = pd.date_range("2024-01-01", periods=24 * 7 * 8, freq="h")
    shape = 1.0 + 0.8 * np.sin(np.pi * hours.hour.to_numpy() / 24.0)
    hourly = pd.Series(rng.poisson(4.0 * shape).astype(float), index=hours)
    observed = hourly_demand_profile(hourly, quantiles=(0.5, 0.9))
    assert list(observed.columns) == ["mean", "q50", "q90", "n_weeks"]
    assert len(observed) == 168
    daily = hourly.resample("D").sum()
    doubled = pd.DataFrame(
        {"ds": pd.date_range("2024-02-26", periods=14), "mean": 2.0 * daily.iloc[:14].to_numpy()}
    )
    scaled = hourly_demand_profile(hourly, doubled, quantiles=(0.5, 0.9))
    assert scaled["scale"].between(1.7, 2.3).all()
    assert (scaled["q90"] >= scaled["q50"]).all()
    np.testing.assert_allclose(scaled["mean"], observed["mean"] * scaled["scale"])
    recent = hourly_demand_profile(hourly, recent_weeks=2)
    assert recent["n_weeks"].max() == 2


def test_daily_forecast_averages_the_three_best_smoothing_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = daily_counts(days=400, level=60.0, seed=13)
    model = DefaultModel("day")
    d = np.log(frame["value"].to_numpy() + 1.0)
    pairs = model._choose_smoothing(d, 28)
    assert len(pairs) == 3 and len(set(pairs)) == 3
    averaged = forecast(frame, "day", 28).frame
    singles = []
    for top in (1, 2, 3):
        monkeypatch.setitem(fc.SMOOTHING_TOP, Grain.DAY, top)
        singles.append(forecast(frame, "day", 28).frame["mean"].to_numpy())
    monkeypatch.setitem(fc.SMOOTHING_TOP, Grain.DAY, 3)
    np.testing.assert_allclose(averaged["mean"].to_numpy(), singles[2])
    # Averaging three pairs moves the forecast away from the single best pair's, but the
    # daily mean level stays within 1 % of it.
    assert not np.allclose(singles[0], singles[2])
    assert abs(singles[2].mean() / singles[0].mean() - 1.0) < 0.01
    out = averaged
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()


def test_monthly_calibration_refits_find_their_own_robust_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = monthly_counts(months=48, seed=5)
    frame.loc[30, "value"] *= 1.6  # one month far out of line
    own = forecast(frame, "month", 6).frame
    monkeypatch.setitem(fc.REUSE_ROBUST_WEIGHTS, Grain.MONTH, True)
    reused = forecast(frame, "month", 6).frame
    np.testing.assert_allclose(own["mean"], reused["mean"])
    width_own = (own["hi_95"] - own["lo_95"]).to_numpy()
    width_reused = (reused["hi_95"] - reused["lo_95"]).to_numpy()
    # The refits see the outlier at full weight: larger calibration errors, wider intervals.
    assert (width_own > width_reused).all()


def test_level_shifts_are_lasting_steps_not_outliers() -> None:
    noise = np.random.default_rng(7).normal(0.0, 0.05, 40)
    assert level_shifts(noise) == []
    step = noise.copy()
    step[20:] += 0.5  # ten noise SDs, from period 20 on
    assert level_shifts(step) == [20]
    small = noise.copy()
    small[20:] += 0.15  # three noise SDs: not a shift
    assert level_shifts(small) == []
    spike = noise.copy()
    spike[15] += 1.0  # one period far out of line is an outlier, not a shift
    assert level_shifts(spike) == []
    spike[15] -= 1.0
    spike[1] -= 1.0  # nor where it leaves a short window on one side
    assert level_shifts(spike) == []
    late = noise.copy()
    late[38:] += 0.5  # two periods at the new level are enough ...
    assert level_shifts(late) == [38]
    last = noise.copy()
    last[39:] += 0.5  # ... one is not
    assert level_shifts(last) == []
    part_way = noise.copy()
    part_way[20] += 0.25  # a month half at the old level and half at the new
    part_way[21:] += 0.5
    assert level_shifts(part_way) == [20]
    two = noise.copy()
    two[10:] += 0.5
    two[30:] -= 0.8
    assert level_shifts(two) == [10, 30]
    gappy = step.copy()
    gappy[[5, 21]] = np.nan  # missing periods are skipped
    assert level_shifts(gappy) == [20]


def monthly_with_shift() -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray]:
    """27 months at about 300 a day, then 3 at about 1,500 (a service moved in)."""
    ds = pd.date_range("2022-04-01", periods=30, freq="MS")
    per_day = np.where(np.arange(30) < 27, 300.0, 1500.0)
    rng = np.random.default_rng(11)
    y = rng.normal(per_day * ds.days_in_month.to_numpy(), 0.03 * per_day * 30)
    future = pd.date_range("2024-10-01", periods=6, freq="MS")
    return (
        pd.DataFrame({"period_start": ds, "value": np.round(y)}),
        future,
        1500.0 * np.asarray(future.days_in_month, dtype=float),
    )


def test_monthly_forecast_takes_up_a_lasting_level_shift(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame, future, expected = monthly_with_shift()
    out = forecast(frame, "month", 6).frame
    assert list(out["ds"]) == list(future)
    assert np.all(np.abs(out["mean"].to_numpy() / expected - 1.0) < 0.1)
    # Without the step the smoothed level takes the new months for outliers and stays near
    # the old level (about 14,000 a month here, against 45,000).
    monkeypatch.setitem(fc.LEVEL_SHIFTS, Grain.MONTH, False)
    old = forecast(frame, "month", 6).frame
    assert (old["mean"].to_numpy() < 0.4 * expected).all()


def test_short_monthly_series_keep_honest_interval_widths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 14 months of about 12,000 (Poisson noise alone: ±1.8 % for 95 %): the regression has
    # nearly as many coefficients as months and fits them almost exactly.
    frame = monthly_counts(months=14, seed=3)
    out = forecast(frame, "month", 6).frame
    width = ((out["hi_95"] - out["lo_95"]) / out["mean"]).to_numpy()
    assert (width > 2 * 1.96 / np.sqrt(12_000.0)).all()
    # Without the floor the residual SD, the penalties and so the intervals collapse.
    monkeypatch.setitem(fc.PENALTY_SD_FLOOR, Grain.MONTH, 0.0)
    collapsed = forecast(frame, "month", 6).frame
    narrow = ((collapsed["hi_95"] - collapsed["lo_95"]) / collapsed["mean"]).to_numpy()
    assert (narrow < 0.01).all()
