"""Time grains of series and moving between them.

Periods are identified by their start as a naive local wall-clock timestamp: an hour by its
first minute, a day by midnight, a week by Monday midnight (ISO weeks), a month by its first day,
a quarter by the first day of January, April, July or October (NHS financial quarters).
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd

from flowplan.data.measures import Aggregation


class Grain(StrEnum):
    """Period length of a series, finest first."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"

    @property
    def rank(self) -> int:
        """0 for the finest grain, increasing with period length."""
        return list(Grain).index(self)


def floor(stamps: pd.Series, grain: Grain) -> pd.Series:
    """Start of the period of ``grain`` that holds each naive timestamp."""
    ts = pd.to_datetime(stamps)
    if grain is Grain.HOUR:
        return ts.dt.floor("h")
    day = ts.dt.normalize()
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    if grain is Grain.MONTH:
        return ts.dt.to_period("M").dt.start_time
    return ts.dt.to_period("Q").dt.start_time


def regrain(frame: pd.DataFrame, source: Grain, target: Grain, how: Aggregation) -> pd.DataFrame:
    """Re-aggregate a series to a coarser grain.

    Args:
        frame: columns ``period_start`` (naive timestamps at ``source`` grain) and ``value``.
        source: grain of ``frame``.
        target: grain wanted; must be the same as or coarser than ``source``.
        how: how values combine (sum for flows, mean for averaged stocks, last for snapshots).

    Returns:
        Columns ``period_start``, ``value`` and ``periods`` (how many source periods were combined,
        so a caller can see incomplete edge periods), sorted by period.

    Raises:
        ValueError: when ``target`` is finer than ``source``.
    """
    if target.rank < source.rank:
        raise ValueError(f"cannot re-aggregate a {source.value} series to the finer {target.value}")
    ordered = frame.sort_values("period_start")
    if target is source:
        out = ordered[["period_start", "value"]].copy()
        out["periods"] = 1
        return out.reset_index(drop=True)
    keys = floor(ordered["period_start"], target).rename("period_start")
    grouped = ordered["value"].groupby(keys)
    out = pd.DataFrame({"value": grouped.agg(how.value), "periods": grouped.size()})
    return out.reset_index()
