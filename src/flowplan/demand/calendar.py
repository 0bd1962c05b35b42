"""Calendar effects on hospital demand: England & Wales bank holidays and the Christmas period.

Bank holidays come from the ``holidays`` package (``country_holidays("GB", subdiv="ENG")``,
which is the England & Wales list: Wales shares England's bank holidays). A *bank holiday* here
is a day off work: a listed holiday that falls on a weekday, including substitute ("observed")
days and one-off holidays such as jubilees and state funerals. A listed holiday that falls on a
Saturday or Sunday (Christmas Day 2021, say) is not flagged, because its substitute weekday is.

The *Christmas period* is 24 December to 2 January inclusive, whatever the weekday: hospital
activity runs differently across the whole fortnight, not only on the bank holidays in it.

School holidays are **not available**: term dates in England are set by each of about 150 local
authorities and by thousands of academy trusts, there is no national list, and the ``holidays``
package publishes none for Great Britain. A guessed national calendar would be wrong by a week
for many trusts (Easter and February half-terms move independently of the bank holidays), so
none is used; the annual seasonality terms of the default model absorb the average effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Literal, TypeAlias

import holidays as holidays_lib
import numpy as np
import pandas as pd

from flowplan.data.grain import Grain
from flowplan.errors import UsageError

HolidayCalendar: TypeAlias = Literal["england", "none"]
HOLIDAY_CALENDARS: tuple[str, ...] = ("england", "none")
# First and last day (month, day) of the Christmas–New Year period; it spans the year end.
CHRISTMAS_START: tuple[int, int] = (12, 24)
CHRISTMAS_END: tuple[int, int] = (1, 2)
CHRISTMAS_DAYS = 10
# Grains the calendar (and the forecasters) work at.
CALENDAR_GRAINS: tuple[Grain, ...] = (Grain.DAY, Grain.WEEK, Grain.MONTH)


def check_calendar(name: str) -> HolidayCalendar:
    """``name`` as a holiday calendar.

    Raises:
        UsageError: not one of :data:`HOLIDAY_CALENDARS`.
    """
    if name == "england":
        return "england"
    if name == "none":
        return "none"
    known = ", ".join(HOLIDAY_CALENDARS)
    raise UsageError(f"unknown holiday calendar {name!r}; known calendars: {known}")


@lru_cache(maxsize=64)
def _bank_holidays_of_year(year: int) -> tuple[tuple[date, str], ...]:
    listed = holidays_lib.country_holidays("GB", subdiv="ENG", years=year)
    return tuple(sorted((d, str(n)) for d, n in listed.items() if d.weekday() < 5))


def bank_holidays(years: Iterable[int], calendar: str = "england") -> pd.Series:
    """England & Wales bank holidays (days off work) in the given years.

    Args:
        years: calendar years wanted.
        calendar: "england" for the England & Wales bank holidays, "none" for none.

    Returns:
        Holiday names indexed by date (naive midnight timestamps), sorted; weekend-dated
        holidays are left out in favour of their substitute weekdays.

    Raises:
        UsageError: unknown calendar.
    """
    name = check_calendar(calendar)
    rows: list[tuple[date, str]] = []
    if name == "england":
        for year in sorted(set(years)):
            rows.extend(_bank_holidays_of_year(int(year)))
    index = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in rows], name="date")
    return pd.Series([n for _, n in rows], index=index, name="holiday", dtype=object)


def _as_index(dates: Iterable[object] | pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(dates), dtype=object)))
    if index.tz is not None:
        raise UsageError("calendar dates must be naive local dates, not time-zone aware")
    return index.normalize()


def christmas_position(days: pd.DatetimeIndex) -> np.ndarray:
    """Position of each day in the Christmas period: 0 for 24 Dec … 9 for 2 Jan, -1 outside."""
    month = np.asarray(days.month)
    dom = np.asarray(days.day)
    out = np.full(len(days), -1, dtype=np.int64)
    dec = (month == 12) & (dom >= CHRISTMAS_START[1])
    jan = (month == 1) & (dom <= CHRISTMAS_END[1])
    out[dec] = dom[dec] - CHRISTMAS_START[1]
    out[jan] = dom[jan] - 1 + (31 - CHRISTMAS_START[1] + 1)
    return out


def daily_calendar(days: pd.DatetimeIndex, calendar: str = "england") -> pd.DataFrame:
    """Day-level calendar flags for each day (naive midnight timestamps).

    Columns: ``day_of_week`` (0 = Monday … 6 = Sunday), ``day_of_year`` (1–366), ``weekend``,
    ``bank_holiday`` (a weekday bank holiday), ``day_after_bank_holiday`` (the first working day
    after one or more bank holidays, e.g. the Tuesday after Easter Monday), ``christmas_period``
    (24 Dec–2 Jan) and ``christmas_day_index`` (0 = 24 Dec … 9 = 2 Jan, -1 outside). With
    ``calendar="none"`` the holiday and Christmas flags are all 0 (index -1).

    Raises:
        UsageError: unknown calendar.
    """
    name = check_calendar(calendar)
    dow = np.asarray(days.day_of_week, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "day_of_week": dow,
            "day_of_year": np.asarray(days.day_of_year, dtype=np.int64),
            "weekend": (dow >= 5).astype(np.int64),
        },
        index=days,
    )
    if name == "none" or len(days) == 0:
        frame["bank_holiday"] = 0
        frame["day_after_bank_holiday"] = 0
        frame["christmas_period"] = 0
        frame["christmas_day_index"] = -1
        return frame
    years = range(int(days.year.min()) - 1, int(days.year.max()) + 2)
    holiday_days = bank_holidays(years, name).index
    is_bh = days.isin(holiday_days)
    # The first working day after a run of bank holidays (looking back over weekends).
    working = pd.date_range(holiday_days.min(), holiday_days.max() + pd.Timedelta(days=7))
    off = working.isin(holiday_days) | (working.day_of_week >= 5)
    after: list[pd.Timestamp] = []
    prev_bh = False
    for day, is_off in zip(working, off, strict=True):
        if is_off:
            prev_bh = prev_bh or day in holiday_days
            continue
        if prev_bh:
            after.append(day)
        prev_bh = False
    frame["bank_holiday"] = is_bh.astype(np.int64)
    frame["day_after_bank_holiday"] = days.isin(pd.DatetimeIndex(after)).astype(np.int64)
    position = christmas_position(days)
    frame["christmas_period"] = (position >= 0).astype(np.int64)
    frame["christmas_day_index"] = position
    return frame


def _period_end(starts: pd.DatetimeIndex, grain: Grain) -> pd.DatetimeIndex:
    if grain is Grain.DAY:
        return starts + pd.Timedelta(days=1)
    if grain is Grain.WEEK:
        return starts + pd.Timedelta(days=7)
    return starts + pd.offsets.MonthBegin(1)


def calendar_features(
    dates: Iterable[object] | pd.Series | pd.DatetimeIndex,
    grain: Grain | str,
    holidays: str = "england",
) -> pd.DataFrame:
    """Calendar features of each period, indexed by its start.

    Args:
        dates: period starts (naive; midnight of the day, the Monday of the ISO week, or the
            first of the month).
        grain: "day", "week" or "month".
        holidays: "england" (England & Wales bank holidays and the Christmas period) or "none"
            (no holiday effects: those columns are all 0).

    Returns:
        For days, the columns of :func:`daily_calendar`. For weeks and months, counts of days
        in the period: ``days`` (7 for a week; 28–31 for a month), ``working_days`` (weekdays
        that are not bank holidays), ``weekend_days``, ``bank_holidays``,
        ``days_after_bank_holiday`` and ``christmas_days`` (days of the period inside 24 Dec–2
        Jan), plus ``period_of_year`` (ISO week 1–53, or month 1–12).

    Raises:
        UsageError: unknown grain or calendar.
    """
    g = Grain(grain) if isinstance(grain, str) else grain
    if g not in CALENDAR_GRAINS:
        raise UsageError(f"calendar features are available by day, week or month; got {g.value}")
    check_calendar(holidays)
    starts = _as_index(dates)
    if g is Grain.DAY:
        return daily_calendar(starts, holidays)
    if len(starts) == 0:
        columns = [
            "days",
            "working_days",
            "weekend_days",
            "bank_holidays",
            "days_after_bank_holiday",
            "christmas_days",
            "period_of_year",
        ]
        return pd.DataFrame({c: pd.Series([], dtype=np.int64) for c in columns}, index=starts)
    ends = _period_end(starts, g)
    span = pd.date_range(starts.min(), ends.max() - pd.Timedelta(days=1), freq="D")
    daily = daily_calendar(span, holidays)
    # Cumulative sums let each period's counts be read as a difference (fast for any length).
    cols = {
        "weekend_days": daily["weekend"].to_numpy(),
        "bank_holidays": daily["bank_holiday"].to_numpy(),
        "days_after_bank_holiday": daily["day_after_bank_holiday"].to_numpy(),
        "christmas_days": daily["christmas_period"].to_numpy(),
    }
    first = span[0]
    lo = np.asarray((starts - first).days, dtype=np.int64)
    hi = np.asarray((ends - first).days, dtype=np.int64)
    out = pd.DataFrame(index=starts)
    out["days"] = hi - lo
    for name, values in cols.items():
        cum = np.concatenate([[0], np.cumsum(values)])
        out[name] = cum[hi] - cum[lo]
    out["working_days"] = out["days"] - out["weekend_days"] - out["bank_holidays"]
    out["period_of_year"] = (
        np.asarray(starts.isocalendar().week, dtype=np.int64)
        if g is Grain.WEEK
        else np.asarray(starts.month, dtype=np.int64)
    )
    order = [
        "days",
        "working_days",
        "weekend_days",
        "bank_holidays",
        "days_after_bank_holiday",
        "christmas_days",
        "period_of_year",
    ]
    return out[order]


__all__ = [
    "CALENDAR_GRAINS",
    "CHRISTMAS_DAYS",
    "HOLIDAY_CALENDARS",
    "HolidayCalendar",
    "bank_holidays",
    "calendar_features",
    "check_calendar",
    "christmas_position",
    "daily_calendar",
]
