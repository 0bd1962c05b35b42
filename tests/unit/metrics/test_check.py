"""Consistency check of published tables: parsing stated values, the half-unit rounding rule
(with its exact boundary), custom ratios, months overrides, and every unreadable input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowplan.errors import DataValidationError, Problem, UsageError
from flowplan.metrics.check import (
    CheckResult,
    check_rows,
    parse_stated,
    read_check_file,
    tolerance_for,
)

FILE = "table.csv"


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


def row(
    metric_id: str, value: str, numerator: str, denominator: str, **extra: str
) -> dict[str, str]:
    return {
        "metric_id": metric_id,
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        **extra,
    }


def problems(rows: list[dict[str, str]]) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        check_rows(rows, FILE)
    return info.value.problems


# --- parse_stated ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "decimals"),
    [
        ("12", 12.0, 0),
        ("12.3", 12.3, 1),
        ("12.30", 12.3, 2),
        ("0.05", 0.05, 2),
        (".5", 0.5, 1),
        ("12.", 12.0, 0),
        ("86.48%", 86.48, 2),
        ("86.48 %", 86.48, 2),
        ("£1,250.00", 1250.0, 2),
        ("£ 1 250", 1250.0, 0),
        ("1,234", 1234.0, 0),
        ("1,234,567.891", 1234567.891, 3),
        ("12\u00a0345", 12345.0, 0),  # non-breaking space as thousands separator
        ("12\u202f345.6", 12345.6, 1),  # narrow no-break space
        ("-3.5", -3.5, 1),
        ("\u22123.5", -3.5, 1),  # Unicode minus sign
        ("-£1,000", -1000.0, 0),
        ("(1,234.5)", -1234.5, 1),
        ("(£250)", -250.0, 0),
        ("(4.2%)", -4.2, 1),
        ("  7  ", 7.0, 0),
        ("1 234 567", 1234567.0, 0),
        ("- 3", -3.0, 0),
        ("( 12.5 % )", -12.5, 1),
        ("0", 0.0, 0),
    ],
)
def test_parse_stated(text: str, value: float, decimals: int) -> None:
    parsed = parse_stated(text)
    assert parsed[0] == pytest.approx(value, rel=1e-15)
    assert parsed[1] == decimals


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "12,34",
        "12 0",
        "1 23",
        "1,2345",
        "12.3.4",
        "--3",
        "(-3)",
        "£12%",
        "12£",
        "%12",
        "1e5",
        "(12",
        "n/a",
        "1" * 400,
    ],
)
def test_parse_stated_rejects(text: str) -> None:
    expected = (
        f"not a number: '{text.strip()}' (digits with an optional decimal point, thousands "
        "separators, %, £, a leading minus or parentheses)"
    )
    with pytest.raises(UsageError, match=message(expected)):
        parse_stated(text)


def test_tolerance_is_half_a_unit_of_the_last_place() -> None:
    assert tolerance_for(0) == 0.5
    assert tolerance_for(1) == pytest.approx(0.05)
    assert tolerance_for(2) == pytest.approx(0.005)
    # The examples of the rule: "12.3" → 0.05, "12" → 0.5, "1,234" → 0.5.
    rows = [
        row("custom", "12.3", "12.3", "1", scale="1"),
        row("custom", "12", "12", "1", scale="1"),
        row("custom", "1,234", "1234.5", "1", scale="1"),
        row("custom", "1,234", "1234.51", "1", scale="1"),
    ]
    results = check_rows(rows, FILE)
    assert [r.tolerance for r in results] == pytest.approx([0.05, 0.5, 0.5, 0.5])
    assert [r.ok for r in results] == [True, True, True, False]


# --- consistent and inconsistent rows ---------------------------------------------------------


def test_consistent_rows_pass() -> None:
    rows = [
        # NHSRdatasets ae_attendances RF4 2017-03 type 1: 100 × (1 − 2879 ÷ 21289) = 86.4766%.
        row("uec.ae_4h_type1", "86.48%", "2,879", "21,289", label="RF4 type 1 Mar 2017"),
        row("uec.ae_4h_type1", "86.5", "2879", "21289"),
        row("uec.ae_4h_type1", "86", "2879", "21289"),
        # BCF delayed transfers Jan–Jun 2015: 1200 ÷ 150000 × 100000 ÷ 6 = 133.33 per month.
        row("bcf.delayed_transfers", "133.3", "1,200", "150,000", months="6"),
        # 450 ÷ 90000 × 100000 = 500 permanent admissions per 100,000 population 65+.
        row("bcf.permanent_admissions_65plus", "500.0", "450", "90 000"),
    ]
    results = check_rows(rows, FILE)
    assert [r.ok for r in results] == [True] * 5
    assert [r.message for r in results] == ["ok"] * 5
    assert [r.row for r in results] == [2, 3, 4, 5, 6]
    first = results[0]
    assert first == CheckResult(
        row=2,
        label="RF4 type 1 Mar 2017",
        metric_id="uec.ae_4h_type1",
        stated=86.48,
        recomputed=pytest.approx(100 * 18410 / 21289),  # type: ignore[arg-type]
        ok=True,
        tolerance=pytest.approx(0.005),  # type: ignore[arg-type]
        message="ok",
    )
    assert [r.tolerance for r in results[1:]] == pytest.approx([0.05, 0.5, 0.05, 0.05])
    assert results[1].label == ""


def test_row_off_by_more_than_the_rounding_rule_fails() -> None:
    results = check_rows(
        [
            row("uec.ae_4h_type1", "86.55", "2879", "21289"),  # off by 0.073 > 0.005
            row("uec.ae_4h_type1", "87", "2879", "21289"),  # off by 0.52 > 0.5
            row("bcf.delayed_transfers", "133.4", "1200", "150000", months="6"),  # 0.067 > 0.05
        ],
        FILE,
    )
    assert [r.ok for r in results] == [False, False, False]
    assert [r.message for r in results] == [
        "MISMATCH stated 86.55, recomputed 86.4766",
        "MISMATCH stated 87, recomputed 86.48",
        "MISMATCH stated 133.4, recomputed 133.333",
    ]


def test_exactly_half_a_unit_away_passes_and_just_beyond_fails() -> None:
    # custom 249 ÷ 20 × 1 = 12.45 exactly: "12.4" and "12.5" are both valid roundings of it
    # (|diff| = 0.05 = tolerance); 1 ÷ 8 × 100 = 12.5 exactly: "12" and "13" both pass.
    results = check_rows(
        [
            row("custom", "12.4", "249", "20", scale="1"),
            row("custom", "12.5", "249", "20", scale="1"),
            row("custom", "12", "1", "8", scale="100"),
            row("custom", "13", "1", "8", scale="100"),
            # 124500001 ÷ 10000000 = 12.4500001: 1e-7 beyond the boundary of "12.4".
            row("custom", "12.4", "124500001", "10000000", scale="1"),
            row("custom", "12.44", "249", "20", scale="1"),  # 0.01 > 0.005
        ],
        FILE,
    )
    assert [r.ok for r in results] == [True, True, True, True, False, False]
    assert results[4].message == "MISMATCH stated 12.4, recomputed 12.450"
    assert results[5].message == "MISMATCH stated 12.44, recomputed 12.4500"


def test_percent_pound_and_separators_in_every_column() -> None:
    results = check_rows(
        [
            row("custom", "£1,250.00", "£2,500,000", "2,000", scale="1", label="cost per bed"),
            row("uec.ga_bed_occupancy", "92.0%", "736", "800"),
            row("custom", "(5.0%)", "(50)", "1 000", scale="100", label="variance"),
        ],
        FILE,
    )
    assert [r.ok for r in results] == [True, True, True]
    assert [r.stated for r in results] == [1250.0, 92.0, -5.0]
    assert [r.metric_id for r in results] == ["custom", "uec.ga_bed_occupancy", "custom"]


def test_custom_with_scale_and_months() -> None:
    # £2,500,000 a year over 2,000 beds, per month: 2500000 ÷ 2000 × 1 ÷ 12 = 104.17.
    (result,) = check_rows(
        [row("custom", "104.17", "2500000", "2000", scale="1", months="12")], FILE
    )
    assert result.ok
    assert result.recomputed == pytest.approx(1250 / 12)


def test_months_override_the_definition_default() -> None:
    # Annual metric: 225 admissions in 6 months annualise to 500 per 100,000 (default 12 → 250).
    results = check_rows(
        [
            row("bcf.permanent_admissions_65plus", "500", "225", "90000", months="6"),
            row("bcf.permanent_admissions_65plus", "250", "225", "90000"),
            row("bcf.delayed_transfers", "133.33", "1800", "150000", months="9"),
        ],
        FILE,
    )
    assert [r.ok for r in results] == [True, True, True]


def test_scale_overrides_the_definition() -> None:
    # 450 ÷ 90000 per 1,000 = 5.0 (the definition's 100,000 would give 500).
    (result,) = check_rows(
        [row("bcf.permanent_admissions_65plus", "5.0", "450", "90000", scale="1000")], FILE
    )
    assert result.ok and result.recomputed == pytest.approx(5.0)


def test_empty_table_gives_no_results() -> None:
    assert check_rows([], FILE) == []


# --- unreadable rows -------------------------------------------------------------------------


def test_every_bad_row_reported_with_place_and_rule() -> None:
    rows = [
        row("uec.ae_4h_type1", "86.48", "2879", "21289"),  # line 2: fine
        row("uec.ae_4h_typ1", "86.48", "2879", "21289"),  # line 3: unknown id
        row("custom", "12", "1", "8"),  # line 4: custom without scale
        row("uec.ctr", "15", "120", "0"),  # line 5: denominator 0
        row("uec.ctr", "fifteen", "12 0", "800"),  # line 6: two bad numbers ("12 0" is no grouping)
        row("", "", "1", "2"),  # line 7: missing id and value
        row("bcf.delayed_transfers", "133.3", "1200", "150000"),  # line 8: months needed
        row("bcf.delayed_transfers", "133.3", "1200", "150000", months="1.5"),  # line 9
        row("custom", "12", "1", "8", scale="-1"),  # line 10: scale not positive
        row("zzz", "1", "1", "1"),  # line 11: unknown id, no close match
        {"metric_id": "uec.ctr", "value": "15"},  # line 12: numerator, denominator missing
    ]
    found = problems(rows)
    assert [str(p) for p in found] == [
        "table.csv:3:metric_id: unknown metric (see `flowplan metric list`); did you mean "
        "'uec.ae_4h_type1'? — uec.ae_4h_typ1",
        "table.csv:4:scale: a custom metric needs a scale",
        "table.csv:5:denominator: denominator is 0 — 0",
        "table.csv:6:value: not a number — fifteen",
        "table.csv:6:numerator: not a number — 12 0",
        "table.csv:7:metric_id: value missing",
        "table.csv:7:value: value missing",
        "table.csv:8:months: months needed: 'bcf.delayed_transfers' is an average per month with "
        "no default",
        "table.csv:9:months: months must be a positive whole number — 1.5",
        "table.csv:10:scale: scale must be a positive number — -1",
        "table.csv:11:metric_id: unknown metric (see `flowplan metric list`) — zzz",
        "table.csv:12:numerator: value missing",
        "table.csv:12:denominator: value missing",
    ]
    assert found[0] == Problem(
        FILE,
        3,
        "metric_id",
        "unknown metric (see `flowplan metric list`); did you mean 'uec.ae_4h_type1'?",
        "uec.ae_4h_typ1",
    )


def test_zero_denominator_written_differently_is_still_zero() -> None:
    assert [str(p) for p in problems([row("uec.ctr", "1", "1", "0.00")])] == [
        "table.csv:2:denominator: denominator is 0 — 0.00"
    ]


def test_bad_scale_text_and_months_zero() -> None:
    found = problems([row("custom", "1", "1", "1", scale="lots", months="0")])
    assert [str(p) for p in found] == [
        "table.csv:2:scale: not a number — lots",
        "table.csv:2:months: months must be a positive whole number — 0",
    ]


# --- files -----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "stated.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_read_check_file_with_bom_quotes_and_optional_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "metric_id,label,value,numerator,denominator,months,scale\n"
        'uec.ae_4h_type1,RF4 Mar 2017,86.48%,"2,879","21,289",,\n'
        'bcf.delayed_transfers,"Jan–Jun 2015",133.33,"1,200","150,000",6,\n'
        'custom,cost per bed,"£1,250",2500000,2000,,1\n',
        encoding="utf-8-sig",
    )
    results = read_check_file(path)
    assert [(r.row, r.label, r.ok) for r in results] == [
        (2, "RF4 Mar 2017", True),
        (3, "Jan–Jun 2015", True),
        (4, "cost per bed", True),
    ]


def test_read_check_file_reports_mismatch_with_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "metric_id,value,numerator,denominator\n"
        "uec.ctr,15.0,120,800\n"
        "\n"  # blank lines are skipped but still counted
        "uec.ctr,16.0,120,800\n",
    )
    results = read_check_file(str(path))
    assert [(r.row, r.ok, r.message) for r in results] == [
        (2, True, "ok"),
        (4, False, "MISMATCH stated 16.0, recomputed 15.000"),
    ]


def test_read_check_file_bad_rows_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "metric_id,value,numerator,denominator\nnope,1,1,1\n")
    with pytest.raises(
        DataValidationError,
        match=message(f"{path}:2:metric_id: unknown metric (see `flowplan metric list`) — nope"),
    ):
        read_check_file(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metric_id,value\nuec.ctr,15\n",
            [
                "{p}:1:numerator: required column missing",
                "{p}:1:denominator: required column missing",
            ],
        ),
        (
            "",
            [
                f"{{p}}:1:{c}: required column missing"
                for c in ("metric_id", "value", "numerator", "denominator")
            ],
        ),
        ("metric_id,value,numerator,denominator\n", ["{p}:2:: file has no data rows"]),
    ],
)
def test_read_check_file_structure_errors(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataValidationError) as info:
        read_check_file(path)
    assert info.value.lines() == [e.format(p=path) for e in expected]


def test_read_check_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"
    with pytest.raises(DataValidationError, match=message(f"{missing}:0:: file not found")):
        read_check_file(missing)


def test_read_check_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("metric_id,value,numerator,denominator\ncustom,£1,1,1\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=message(f"{path}:0:: file is not UTF-8 text")):
        read_check_file(path)
