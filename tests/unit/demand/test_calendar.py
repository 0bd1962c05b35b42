"""England & Wales calendar: bank holidays, the day after, the Christmas period, period counts."""

from __future__ import annotations

import pandas as pd
import pytest

from flowplan.demand.calendar import (
    bank_holidays,
    calendar_features,
    check_calendar,
    christmas_position,
)
from flowplan.errors import UsageError


def test_bank_holidays_2024_are_the_published_england_and_wales_list() -> None:
    got = [d.strftime("%Y-%m-%d") for d in bank_holidays([2024]).index]
    assert got == [
        "2024-01-01",
        "2024-03-29",
        "2024-04-01",
        "2024-05-06",
        "2024-05-27",
        "2024-08-26",
        "2024-12-25",
        "2024-12-26",
    ]


def test_weekend_holidays_give_way_to_their_substitute_weekdays() -> None:
    days = set(bank_holidays([2022]).index)
    assert pd.Timestamp("2022-12-25") not in days  # a Sunday
    assert pd.Timestamp("2022-12-27") in days  # Christmas Day (substitute)
    assert pd.Timestamp("2022-09-19") in days  # one-off: state funeral


def test_no_calendar_has_no_bank_holidays() -> None:
    assert bank_holidays([2024], "none").empty


def test_daily_flags() -> None:
    days = pd.date_range("2025-04-17", "2025-04-23")
    cal = calendar_features(days, "day").set_axis(days.strftime("%m-%d"))
    assert cal["bank_holiday"].to_dict() == {
        "04-17": 0,
        "04-18": 1,  # Good Friday
        "04-19": 0,
        "04-20": 0,
        "04-21": 1,  # Easter Monday
        "04-22": 0,
        "04-23": 0,
    }
    after = cal.index[cal["day_after_bank_holiday"] == 1].tolist()
    assert after == ["04-22"]  # the first working day after the Easter weekend
    assert cal["day_of_week"].tolist() == [3, 4, 5, 6, 0, 1, 2]


def test_christmas_period_runs_from_24_december_to_2_january() -> None:
    days = pd.DatetimeIndex(["2024-12-23", "2024-12-24", "2024-12-31", "2025-01-02", "2025-01-03"])
    assert christmas_position(days).tolist() == [-1, 0, 7, 9, -1]
    cal = calendar_features(days, "day")
    assert cal["christmas_period"].tolist() == [0, 1, 1, 1, 0]


def test_monthly_counts() -> None:
    months = pd.date_range("2024-11-01", "2025-02-01", freq="MS")
    cal = calendar_features(months, "month")
    assert cal["days"].tolist() == [30, 31, 31, 28]
    assert cal["bank_holidays"].tolist() == [0, 2, 1, 0]
    assert cal["christmas_days"].tolist() == [0, 8, 2, 0]
    assert cal["weekend_days"].tolist() == [9, 9, 8, 8]
    assert cal["working_days"].tolist() == [21, 20, 22, 20]
    assert cal["period_of_year"].tolist() == [11, 12, 1, 2]


def test_weekly_counts() -> None:
    weeks = pd.DatetimeIndex(["2024-12-16", "2024-12-23", "2024-12-30"])
    cal = calendar_features(weeks, "week")
    assert cal["days"].tolist() == [7, 7, 7]
    assert cal["bank_holidays"].tolist() == [0, 2, 1]
    assert cal["christmas_days"].tolist() == [0, 6, 4]
    assert cal["working_days"].tolist() == [5, 3, 4]


def test_no_holidays_zeroes_the_holiday_columns() -> None:
    days = pd.date_range("2024-12-20", "2025-01-05")
    cal = calendar_features(days, "day", holidays="none")
    assert cal["bank_holiday"].sum() == 0
    assert cal["christmas_period"].sum() == 0
    assert (cal["christmas_day_index"] == -1).all()


def test_bad_calendar_and_grain() -> None:
    with pytest.raises(UsageError, match=r"^unknown holiday calendar 'wales'; known calendars: "):
        check_calendar("wales")
    with pytest.raises(UsageError, match="by day, week or month; got hour"):
        calendar_features(pd.date_range("2024-01-01", periods=3), "hour")
