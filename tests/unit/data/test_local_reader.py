"""The generic reader for local extracts (``LocalTable`` + ``read_local_table``).

Every test writes a tiny CSV to ``tmp_path`` and checks what the reader makes of it: the buckets
and values at each grain, the conversion of offset-bearing timestamps to the planning time zone
(including the two days a year the UK clocks change), and the exact problems it reports.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowplan.data.grain import Grain
from flowplan.data.measures import Aggregation
from flowplan.data.parsed import OBSERVATION_COLUMNS, ParsedFile
from flowplan.data.readers import LocalTable, read_local_table
from flowplan.errors import DataValidationError, Problem, UsageError

# ``parse_local_times`` passes a regex with a capturing group to ``Series.str.contains``, and
# pandas warns about it on every call (see the report on src/flowplan/data/readers/local.py:
# the pattern should use a non-capturing group). The warning is not what these tests are about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This pattern is interpreted as a regular expression:UserWarning"
)

NAME = "extract.csv"
FOLD_WARNING = "local hour spans two clock hours at the autumn clock change (combined)"

# UK clock changes in 2024. The clocks go forward at 01:00 UTC (01:00 GMT -> 02:00 BST) on the
# last Sunday of March and back at 01:00 UTC (02:00 BST -> 01:00 GMT) on the last Sunday of
# October: The Summer Time Order 2002 (SI 2002/262, made under the Summer Time Act 1972), and
# gov.uk "When do the clocks change?" (https://www.gov.uk/when-do-the-clocks-change). In 2024 the
# last Sundays were 31 March and 27 October, so the local day of 31 March 2024 has 23 hours and
# that of 27 October 2024 has 25 hours.
SPRING_FORWARD = pd.Timestamp("2024-03-31")
FALL_BACK = pd.Timestamp("2024-10-27")


def write(tmp_path: Path, text: str, name: str = NAME) -> Path:
    """Write ``text`` as a CSV file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_of(column: str, stamps: list[str]) -> str:
    return column + "\n" + "\n".join(stamps) + "\n"


def read(tmp_path: Path, text: str, **options: object) -> ParsedFile:
    """Read ``text`` with a spec built from defaults plus ``options``."""
    spec_args: dict[str, object] = {
        "org": "RXN",
        "measure": "ae_attendances",
        "time_column": "arrived",
    }
    spec_args.update(options)
    spec = LocalTable(**spec_args)  # type: ignore[arg-type]
    return read_local_table(spec, write(tmp_path, text), NAME)


def series(parsed: ParsedFile) -> dict[pd.Timestamp, float]:
    """The observations as {period start: value}."""
    obs = parsed.observations
    return dict(zip(obs["period_start"], obs["value"], strict=True))


def problems_of(tmp_path: Path, text: str, **options: object) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        read(tmp_path, text, **options)
    return info.value.problems


def hourly_utc(start: str, end: str) -> list[str]:
    """One offset-bearing ISO timestamp per UTC hour in [start, end)."""
    stamps = pd.date_range(start, end, freq="h", tz="UTC", inclusive="left")
    return [s.isoformat() for s in stamps]


T = pd.Timestamp


# -- grains and aggregation -------------------------------------------------------------------


def test_count_rows_at_day_grain(tmp_path: Path) -> None:
    text = csv_of(
        "arrived",
        [
            "2024-05-01T08:15:00",
            "2024-05-01T23:59:59",
            "2024-05-02T00:00:00",
            "2024-05-01T12:00:00",
            "2024-05-04T09:00:00",
        ],
    )
    parsed = read(tmp_path, text, count_rows=True)

    assert series(parsed) == {T("2024-05-01"): 3.0, T("2024-05-02"): 1.0, T("2024-05-04"): 1.0}
    obs = parsed.observations
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert set(obs["org_code"]) == {"RXN"}
    assert set(obs["measure"]) == {"ae_attendances"}
    assert set(obs["breakdown"]) == {"all"}
    assert set(obs["grain"]) == {"day"}
    # the row of each period is the first line of the file that fell in it (header = line 1)
    assert obs["row"].tolist() == [2, 4, 6]
    assert parsed.format == "table"
    assert parsed.file == NAME
    assert parsed.rows_read == 5
    assert parsed.rows_rejected == 0
    assert parsed.warnings == []
    assert len(parsed.organisations) == 1
    assert parsed.organisations.iloc[0]["code"] == "RXN"


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        (Aggregation.SUM, {T("2024-05-01"): 12.0, T("2024-05-02"): 7.0}),
        (Aggregation.MEAN, {T("2024-05-01"): 4.0, T("2024-05-02"): 7.0}),
        (Aggregation.MAX, {T("2024-05-01"): 9.0, T("2024-05-02"): 7.0}),
    ],
)
def test_values_aggregated_per_day(
    tmp_path: Path, agg: Aggregation, expected: dict[pd.Timestamp, float]
) -> None:
    text = (
        "arrived,occupied\n"
        "2024-05-01 06:00,1\n"
        "2024-05-01 12:00,9\n"
        "2024-05-01 18:00,2\n"
        "2024-05-02 06:00,7\n"
    )
    parsed = read(tmp_path, text, measure="ga_beds_occupied", value_column="occupied", agg=agg)
    assert series(parsed) == expected


def test_week_grain_starts_on_monday(tmp_path: Path) -> None:
    # 2024-05-05 is a Sunday, 2024-05-06 a Monday, 2024-05-12 the next Sunday
    text = csv_of(
        "arrived",
        ["2024-05-05T23:00", "2024-05-06T00:00", "2024-05-09T10:00", "2024-05-12T23:59"],
    )
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.WEEK)

    assert series(parsed) == {T("2024-04-29"): 1.0, T("2024-05-06"): 3.0}
    assert all(p.weekday() == 0 for p in parsed.observations["period_start"])
    assert set(parsed.observations["grain"]) == {"week"}


def test_month_grain(tmp_path: Path) -> None:
    text = "arrived,n\n2024-01-31 23:59,5\n2024-02-01 00:00,2\n2024-02-29 12:00,3\n2024-03-15,4\n"
    parsed = read(tmp_path, text, value_column="n", grain=Grain.MONTH)

    assert series(parsed) == {T("2024-01-01"): 5.0, T("2024-02-01"): 5.0, T("2024-03-01"): 4.0}
    assert set(parsed.observations["grain"]) == {"month"}


def test_missing_values_are_skipped_with_a_warning(tmp_path: Path) -> None:
    text = "arrived,n\n2024-05-01,3\n2024-05-01,\n2024-05-02,NA\n2024-05-02,4\n"
    parsed = read(tmp_path, text, value_column="n")

    assert series(parsed) == {T("2024-05-01"): 3.0, T("2024-05-02"): 4.0}
    assert parsed.rows_read == 4
    assert parsed.rows_rejected == 2
    assert [(w.rule, w.column, w.count, w.example) for w in parsed.warnings] == [
        ("missing value (not stored)", "n", 2, "row 3")
    ]


def test_breakdown_label_is_written(tmp_path: Path) -> None:
    parsed = read(tmp_path, "arrived\n2024-05-01\n", count_rows=True, breakdown="type_1")
    assert set(parsed.observations["breakdown"]) == {"type_1"}


# -- time zones -------------------------------------------------------------------------------


def test_utc_offsets_are_converted_to_london_before_bucketing(tmp_path: Path) -> None:
    text = csv_of(
        "arrived",
        [
            # 23:30 UTC on 30 June is 00:30 BST on 1 July
            "2024-06-30T23:30:00+00:00",
            # "Z" is UTC too: 22:30 UTC is 23:30 BST, still 30 June
            "2024-06-30T22:30:00Z",
            # already in BST: 00:10 on 1 July
            "2024-07-01T00:10:00+01:00",
            # 23:30 UTC on 31 December is 23:30 GMT (no summer time in winter)
            "2024-12-31T23:30:00+00:00",
        ],
    )
    parsed = read(tmp_path, text, count_rows=True)

    assert series(parsed) == {T("2024-06-30"): 1.0, T("2024-07-01"): 2.0, T("2024-12-31"): 1.0}


def test_hour_grain_uses_local_wall_clock(tmp_path: Path) -> None:
    text = csv_of("arrived", ["2024-06-30T23:30:00+00:00", "2024-07-01T00:05:00+01:00"])
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.HOUR)
    assert series(parsed) == {T("2024-07-01 00:00"): 2.0}


def test_tz_setting_is_honoured(tmp_path: Path) -> None:
    # 02:00 UTC on 1 July is 22:00 EDT (UTC-4) on 30 June in New York; in London it is 03:00 BST
    # on 1 July. 05:00+01:00 is 04:00 UTC, 00:00 EDT on 1 July.
    text = csv_of("arrived", ["2024-07-01T02:00:00+00:00", "2024-07-01T05:00:00+01:00"])

    new_york = read(tmp_path, text, count_rows=True, tz="America/New_York")
    london = read(tmp_path, text, count_rows=True)

    assert series(new_york) == {T("2024-06-30"): 1.0, T("2024-07-01"): 1.0}
    assert series(london) == {T("2024-07-01"): 2.0}


def test_naive_timestamps_are_local_time(tmp_path: Path) -> None:
    # no offset: taken as wall-clock time in the plan's zone and never shifted, whatever the zone
    text = csv_of("arrived", ["2024-06-30 23:30", "2024-07-01 00:30"])
    for tz in ("Europe/London", "America/New_York", "UTC"):
        parsed = read(tmp_path, text, count_rows=True, tz=tz, grain=Grain.HOUR)
        assert series(parsed) == {T("2024-06-30 23:00"): 1.0, T("2024-07-01 00:00"): 1.0}


def test_time_format(tmp_path: Path) -> None:
    text = "arrived,n\n30/06/2024 23:30,2\n01/07/2024 00:30,3\n01/07/2024 09:15,4\n"
    parsed = read(tmp_path, text, value_column="n", time_format="%d/%m/%Y %H:%M")
    assert series(parsed) == {T("2024-06-30"): 2.0, T("2024-07-01"): 7.0}


def test_time_format_with_offset(tmp_path: Path) -> None:
    text = "arrived\n30/06/2024 23:30 +0000\n30/06/2024 23:30 +0100\n"
    parsed = read(tmp_path, text, count_rows=True, time_format="%d/%m/%Y %H:%M %z")
    assert series(parsed) == {T("2024-06-30"): 1.0, T("2024-07-01"): 1.0}


# -- the UK clock changes ---------------------------------------------------------------------


def test_daily_counts_on_spring_forward_day(tmp_path: Path) -> None:
    # one event every UTC hour from 29 March to 2 April 2024
    text = csv_of("arrived", hourly_utc("2024-03-29", "2024-04-02"))
    got = series(read(tmp_path, text, count_rows=True))

    assert got[SPRING_FORWARD - timedelta(days=1)] == 24
    assert got[SPRING_FORWARD] == 23
    assert got[SPRING_FORWARD + timedelta(days=1)] == 24
    assert sum(got.values()) == 4 * 24


def test_daily_counts_on_fall_back_day(tmp_path: Path) -> None:
    # one event every UTC hour from 25 to 29 October 2024
    text = csv_of("arrived", hourly_utc("2024-10-25", "2024-10-29"))
    got = series(read(tmp_path, text, count_rows=True))

    assert got[FALL_BACK - timedelta(days=1)] == 24
    assert got[FALL_BACK] == 25
    assert got[FALL_BACK + timedelta(days=1)] == 24
    assert sum(got.values()) == 4 * 24


def test_hour_grain_on_fall_back_day_combines_the_repeated_hour(tmp_path: Path) -> None:
    # 00:00 and 01:00 UTC on 27 October 2024 are both 01:xx local (BST, then GMT)
    text = csv_of("arrived", hourly_utc("2024-10-26T22:00", "2024-10-27T04:00"))
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.HOUR)

    assert series(parsed) == {
        T("2024-10-26 23:00"): 1.0,
        T("2024-10-27 00:00"): 1.0,
        T("2024-10-27 01:00"): 2.0,
        T("2024-10-27 02:00"): 1.0,
        T("2024-10-27 03:00"): 1.0,
    }
    assert [(w.rule, w.column, w.count, w.example) for w in parsed.warnings] == [
        (FOLD_WARNING, "arrived", 1, "2024-10-27 01:00:00")
    ]


def test_hour_grain_over_the_whole_fall_back_day(tmp_path: Path) -> None:
    text = csv_of("arrived", hourly_utc("2024-10-26T23:00", "2024-10-28T00:00"))
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.HOUR)
    got = series(parsed)

    day = {p: v for p, v in got.items() if p.normalize() == FALL_BACK}
    assert len(day) == 24  # 24 local hour buckets ...
    assert sum(day.values()) == 25  # ... holding 25 clock hours
    assert day[FALL_BACK + timedelta(hours=1)] == 2
    assert [w.rule for w in parsed.warnings] == [FOLD_WARNING]


def test_hour_grain_on_spring_forward_day_has_no_0100_bucket(tmp_path: Path) -> None:
    text = csv_of("arrived", hourly_utc("2024-03-30T23:00", "2024-04-01T00:00"))
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.HOUR)
    got = series(parsed)

    day = sorted(p for p in got if p.normalize() == SPRING_FORWARD)
    assert len(day) == 23
    assert SPRING_FORWARD + timedelta(hours=1) not in got
    assert day[:3] == [SPRING_FORWARD, SPRING_FORWARD + timedelta(hours=2), T("2024-03-31 03:00")]
    assert set(got.values()) == {1.0}
    assert parsed.warnings == []


def test_no_fold_warning_at_day_grain_or_for_naive_stamps(tmp_path: Path) -> None:
    offset = csv_of("arrived", hourly_utc("2024-10-27T00:00", "2024-10-27T02:00"))
    assert read(tmp_path, offset, count_rows=True).warnings == []

    # naive local stamps carry no clue to which 01:xx they were: nothing to warn about
    naive = csv_of("arrived", ["2024-10-27 01:10", "2024-10-27 01:50"])
    parsed = read(tmp_path, naive, count_rows=True, grain=Grain.HOUR)
    assert series(parsed) == {T("2024-10-27 01:00"): 2.0}
    assert parsed.warnings == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2023, 1, 1),
            max_value=datetime(2025, 12, 31),
            timezones=st.just(UTC),
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata"]),
)
def test_count_rows_matches_the_local_calendar_day(
    tmp_path: Path, instants: list[datetime], tz: str
) -> None:
    stamps = [i.isoformat() for i in instants]
    parsed = read(tmp_path, csv_of("arrived", stamps), count_rows=True, tz=tz)

    local_days = (
        pd.Series(pd.to_datetime(stamps, utc=True, format="ISO8601")).dt.tz_convert(tz).dt.date
    )
    expected = {T(d): float(n) for d, n in local_days.value_counts().items()}
    assert series(parsed) == expected


# -- problems ---------------------------------------------------------------------------------


def test_unparsable_timestamp(tmp_path: Path) -> None:
    text = csv_of("arrived", ["2024-05-01T08:00", "yesterday", "2024-13-01T00:00"])
    assert problems_of(tmp_path, text, count_rows=True) == [
        Problem(NAME, 3, "arrived", "timestamp does not parse (expected ISO 8601)", "yesterday"),
        Problem(
            NAME, 4, "arrived", "timestamp does not parse (expected ISO 8601)", "2024-13-01T00:00"
        ),
    ]


def test_timestamp_not_matching_time_format(tmp_path: Path) -> None:
    text = csv_of("arrived", ["01/05/2024 08:00", "2024-05-01 08:00"])
    assert problems_of(tmp_path, text, count_rows=True, time_format="%d/%m/%Y %H:%M") == [
        Problem(
            NAME,
            3,
            "arrived",
            "timestamp does not parse (expected %d/%m/%Y %H:%M)",
            "2024-05-01 08:00",
        )
    ]


def test_rows_without_offset_mixed_with_rows_with_offset(tmp_path: Path) -> None:
    text = csv_of(
        "arrived",
        ["2024-05-01T08:00:00+01:00", "2024-05-01T09:00:00", "2024-05-01T10:00:00Z"],
    )
    assert problems_of(tmp_path, text, count_rows=True) == [
        Problem(
            NAME,
            3,
            "arrived",
            "timestamp has no UTC offset while other rows have one",
            "2024-05-01T09:00:00",
        )
    ]


def test_missing_timestamp(tmp_path: Path) -> None:
    text = "arrived,n\n2024-05-01,1\n,2\n2024-05-02,3\n"
    assert problems_of(tmp_path, text, value_column="n") == [
        Problem(NAME, 3, "arrived", "timestamp missing", "")
    ]


def test_value_not_a_number(tmp_path: Path) -> None:
    text = "arrived,n\n2024-05-01,1\n2024-05-02,many\n2024-05-03,1.5\n"
    assert problems_of(tmp_path, text, value_column="n") == [
        Problem(NAME, 3, "n", "not a number", "many")
    ]


def test_negative_value_of_a_non_negative_measure(tmp_path: Path) -> None:
    text = "arrived,n\n2024-05-01,1\n2024-05-02,-3\n"
    assert problems_of(tmp_path, text, value_column="n", measure="ae_attendances") == [
        Problem(NAME, 3, "n", "count must be a non-negative number", "-3")
    ]


def test_every_problem_is_reported_in_row_order(tmp_path: Path) -> None:
    text = "arrived,n\nsoon,1\n2024-05-02,x\n,2\n2024-05-04,-1\n"
    assert problems_of(tmp_path, text, value_column="n") == [
        Problem(NAME, 2, "arrived", "timestamp does not parse (expected ISO 8601)", "soon"),
        Problem(NAME, 3, "n", "not a number", "x"),
        Problem(NAME, 4, "arrived", "timestamp missing", ""),
        Problem(NAME, 5, "n", "count must be a non-negative number", "-1"),
    ]


def test_missing_value_column(tmp_path: Path) -> None:
    text = "arrived,count\n2024-05-01,1\n"
    assert problems_of(tmp_path, text, value_column="n") == [
        Problem(NAME, 1, "n", "required column missing")
    ]


def test_missing_time_column(tmp_path: Path) -> None:
    text = "when,n\n2024-05-01,1\n"
    assert problems_of(tmp_path, text, value_column="n") == [
        Problem(NAME, 1, "arrived", "required column missing")
    ]


def test_file_without_data_rows(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "arrived\n", count_rows=True) == [
        Problem(NAME, 2, "", "file has no data rows")
    ]


def test_display_name_defaults_to_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "arrived\nnever\n")
    spec = LocalTable(org="RXN", measure="ae_attendances", time_column="arrived", count_rows=True)
    with pytest.raises(DataValidationError) as info:
        read_local_table(spec, path)
    assert [p.file for p in info.value.problems] == [str(path)]


# -- settings that cannot work ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"value_column": "n", "count_rows": True}, "give exactly one of --value-col"),
        ({}, "give exactly one of --value-col"),
        ({"count_rows": True, "tz": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"count_rows": True, "tz": "not a zone"}, "unknown time zone"),
        ({"count_rows": True, "measure": "A&E attendances"}, "lower_snake_case"),
        ({"count_rows": True, "measure": "AeAttendances"}, "lower_snake_case"),
        ({"count_rows": True, "org": "  "}, "--org must name an organisation code"),
        ({"value_column": "n", "agg": Aggregation.LAST}, "--agg must be sum, mean or max"),
    ],
)
def test_settings_that_cannot_work(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    # the file is fine: the settings are rejected before it matters
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        read(tmp_path, "arrived,n\n2024-05-01,1\n", **options)


def test_settings_are_checked_before_the_file_is_read(tmp_path: Path) -> None:
    spec = LocalTable(org="RXN", measure="ae_attendances", time_column="arrived")
    with pytest.raises(UsageError):
        read_local_table(spec, tmp_path / "does-not-exist.csv")


# -- measures ---------------------------------------------------------------------------------


def test_non_canonical_measure_is_accepted_with_a_warning(tmp_path: Path) -> None:
    text = "arrived,n\n2024-05-01,2\n2024-05-01,-1\n"
    parsed = read(tmp_path, text, measure="ward_moves", value_column="n")

    # a local measure has no registered rules, so a negative value is allowed
    assert series(parsed) == {T("2024-05-01"): 1.0}
    assert set(parsed.observations["measure"]) == {"ward_moves"}
    assert [(w.rule, w.column, w.count) for w in parsed.warnings] == [
        ("'ward_moves' is not a canonical measure (stored as local)", "", 1)
    ]


def test_canonical_measure_has_no_warning(tmp_path: Path) -> None:
    parsed = read(tmp_path, "arrived,n\n2024-05-01,2\n", value_column="n")
    assert parsed.warnings == []


def test_garbage_among_offset_rows_is_reported_as_unparsable(tmp_path: Path) -> None:
    text = csv_of("arrived", ["2024-06-30T23:30:00+00:00", "banana", "2024-06-30 23:30"])
    assert problems_of(tmp_path, text, count_rows=True) == [
        Problem(NAME, 3, "arrived", "timestamp does not parse (expected ISO 8601)", "banana"),
        Problem(
            NAME,
            4,
            "arrived",
            "timestamp has no UTC offset while other rows have one",
            "2024-06-30 23:30",
        ),
    ]


def test_naive_time_in_the_spring_forward_gap_is_flagged(tmp_path: Path) -> None:
    # 01:00-02:00 on 31 March 2024 does not exist in Europe/London; 01:30 on 27 October 2024
    # exists twice (ambiguous, not flagged); 01:30 on 28 October is ordinary
    text = csv_of("arrived", ["2024-03-31 01:30", "2024-10-27 01:30", "2024-10-28 01:30"])
    parsed = read(tmp_path, text, count_rows=True, grain=Grain.HOUR)
    gap = [w for w in parsed.warnings if "does not exist" in w.rule]
    assert [(w.count, w.example) for w in gap] == [(1, "row 2")]
    assert len(parsed.observations) == 3  # kept as written, never silently moved
