"""Period starts for every grain and re-aggregation between grains."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowplan.data.grain import Grain, floor, regrain
from flowplan.data.measures import Aggregation


def stamps(*texts: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts), format="ISO8601"))


def floored(grain: Grain, *texts: str) -> list[str]:
    return [t.isoformat(sep=" ") for t in floor(stamps(*texts), grain)]


def test_grains_are_ordered_finest_first() -> None:
    assert [g.value for g in Grain] == ["hour", "day", "week", "month", "quarter"]
    assert [g.rank for g in Grain] == [0, 1, 2, 3, 4]


def test_floor_hour() -> None:
    assert floored(
        Grain.HOUR, "2024-03-31 01:59:59", "2024-10-27 01:00:00", "2024-01-01 00:00"
    ) == [
        "2024-03-31 01:00:00",
        "2024-10-27 01:00:00",
        "2024-01-01 00:00:00",
    ]


def test_floor_day() -> None:
    assert floored(Grain.DAY, "2024-02-29 23:59:59", "2024-03-01 00:00:00") == [
        "2024-02-29 00:00:00",
        "2024-03-01 00:00:00",
    ]


def test_floor_week_starts_on_monday() -> None:
    # 2024-01-01 was a Monday; 2023-12-31 a Sunday; 2024-02-28 a Wednesday
    assert floored(
        Grain.WEEK,
        "2024-01-01 00:00",
        "2024-01-07 23:30",
        "2023-12-31 12:00",
        "2024-02-28 08:00",
        "2024-03-04 00:00",
    ) == [
        "2024-01-01 00:00:00",
        "2024-01-01 00:00:00",
        "2023-12-25 00:00:00",
        "2024-02-26 00:00:00",
        "2024-03-04 00:00:00",
    ]


def test_floor_month() -> None:
    assert floored(Grain.MONTH, "2024-02-29 12:00", "2024-12-31 23:59", "2025-01-01") == [
        "2024-02-01 00:00:00",
        "2024-12-01 00:00:00",
        "2025-01-01 00:00:00",
    ]


def test_floor_quarter_starts_april_july_october_january() -> None:
    assert floored(
        Grain.QUARTER,
        "2024-01-01",
        "2024-03-31 23:59",
        "2024-04-01",
        "2024-06-30",
        "2024-07-15",
        "2024-09-30",
        "2024-10-01",
        "2024-12-31 23:59",
    ) == [
        "2024-01-01 00:00:00",
        "2024-01-01 00:00:00",
        "2024-04-01 00:00:00",
        "2024-04-01 00:00:00",
        "2024-07-01 00:00:00",
        "2024-07-01 00:00:00",
        "2024-10-01 00:00:00",
        "2024-10-01 00:00:00",
    ]


@pytest.mark.parametrize("grain", list(Grain))
def test_floor_keeps_missing_and_is_idempotent(grain: Grain) -> None:
    raw = pd.Series([pd.Timestamp("2023-11-17 13:45"), pd.NaT])
    once = floor(raw, grain)
    assert pd.isna(once.iloc[1])
    assert once.iloc[0] <= raw.iloc[0]
    assert floor(once, grain).iloc[0] == once.iloc[0]


# -- regrain ---------------------------------------------------------------------------------------

# five days across a month end, given out of order so that "last" must sort first
DAYS = pd.DataFrame(
    {
        "period_start": pd.to_datetime(
            ["2024-02-02", "2024-01-30", "2024-02-03", "2024-01-31", "2024-02-01"]
        ),
        "value": [7.0, 1.0, 4.0, 2.0, 3.0],
    }
)


@pytest.mark.parametrize(
    ("how", "january", "february"),
    [
        (Aggregation.SUM, 3.0, 14.0),  # 1 + 2; 3 + 7 + 4
        (Aggregation.MEAN, 1.5, 14.0 / 3),
        (Aggregation.LAST, 2.0, 4.0),  # value on Jan 31; value on Feb 3
        (Aggregation.MAX, 2.0, 7.0),
    ],
)
def test_regrain_days_to_months(how: Aggregation, january: float, february: float) -> None:
    out = regrain(DAYS, Grain.DAY, Grain.MONTH, how)
    assert list(out.columns) == ["period_start", "value", "periods"]
    assert out["period_start"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert out["value"].tolist() == pytest.approx([january, february], rel=1e-12)
    assert out["periods"].tolist() == [2, 3]


def test_regrain_months_to_quarters() -> None:
    months = pd.DataFrame(
        {
            "period_start": pd.to_datetime(
                ["2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"]
            ),
            "value": [10.0, 20.0, 30.0, 40.0],
        }
    )
    out = regrain(months, Grain.MONTH, Grain.QUARTER, Aggregation.LAST)
    assert out.values.tolist() == [
        [pd.Timestamp("2024-01-01"), 10.0, 1],
        [pd.Timestamp("2024-04-01"), 40.0, 3],
    ]


def test_regrain_hours_to_weeks() -> None:
    # Sunday 23:00 belongs to the week before; Monday 00:00 starts the next one
    hours = pd.DataFrame(
        {"period_start": pd.to_datetime(["2024-01-07 23:00", "2024-01-08 00:00"]), "value": [5, 6]}
    )
    out = regrain(hours, Grain.HOUR, Grain.WEEK, Aggregation.SUM)
    assert out.values.tolist() == [
        [pd.Timestamp("2024-01-01"), 5, 1],
        [pd.Timestamp("2024-01-08"), 6, 1],
    ]


def test_regrain_to_the_same_grain_sorts_and_counts_one_each() -> None:
    out = regrain(DAYS, Grain.DAY, Grain.DAY, Aggregation.SUM)
    assert out["value"].tolist() == [1.0, 2.0, 3.0, 7.0, 4.0]
    assert out["periods"].tolist() == [1, 1, 1, 1, 1]
    assert out.index.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("source", "target"),
    [(Grain.MONTH, Grain.DAY), (Grain.DAY, Grain.HOUR), (Grain.QUARTER, Grain.WEEK)],
)
def test_regrain_refuses_a_finer_grain(source: Grain, target: Grain) -> None:
    with pytest.raises(ValueError) as info:
        regrain(DAYS, source, target, Aggregation.SUM)
    assert str(info.value) == (
        f"cannot re-aggregate a {source.value} series to the finer {target.value}"
    )


# -- properties ------------------------------------------------------------------------------------

HOURS_2020_2030 = 24 * 366 * 10


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(0, HOURS_2020_2030), min_size=1, max_size=200),
    values=st.lists(st.integers(0, 10_000), min_size=200, max_size=200),
    grains=st.tuples(st.sampled_from(list(Grain)), st.sampled_from(list(Grain))),
)
def test_regrain_sum_preserves_total_and_counts_every_row(
    offsets: list[int], values: list[int], grains: tuple[Grain, Grain]
) -> None:
    source, target = sorted(grains, key=lambda g: g.rank)
    start = pd.Timestamp("2020-01-01")
    at_source = floor(pd.Series(start + pd.to_timedelta(offsets, unit="h")), source)
    frame = pd.DataFrame(
        {"period_start": at_source, "value": [float(v) for v in values[: len(offsets)]]}
    )
    out = regrain(frame, source, target, Aggregation.SUM)
    assert out["value"].sum() == pytest.approx(frame["value"].sum(), rel=1e-12, abs=1e-9)
    assert int(out["periods"].sum()) == len(frame)
    assert out["period_start"].is_monotonic_increasing
    if target is not source:
        assert out["period_start"].is_unique
        assert (floor(out["period_start"], target) == out["period_start"]).all()
