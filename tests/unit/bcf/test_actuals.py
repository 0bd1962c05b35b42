"""The strict actuals reader: one line per problem naming file, row, column and rule.

Values are checked with the metric engine: delayed transfers Apr–Dec 2014 (9 months, seed 001
L1427): 25,803 ÷ 940,000 × 100,000 ÷ 9 = 305.0 delayed days per 100,000 18+ a month.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowplan.bcf.actuals import read_actuals
from flowplan.errors import DataValidationError
from tests.unit.bcf import DEMO_ACTUALS, demo_plan

HEADER = "metric,period,numerator,denominator,value\n"


def _lines(tmp_path: Path, text: str, with_plan: bool = True) -> list[str]:
    path = tmp_path / "acts.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as caught:
        read_actuals(path, demo_plan() if with_plan else None)
    return caught.value.lines()


def test_demo_actuals_read() -> None:
    actuals = read_actuals(DEMO_ACTUALS, demo_plan())
    assert len(actuals) == 9
    first = actuals[0]
    assert (first.metric, first.period, first.numerator, first.denominator, first.value) == (
        "bcf.delayed_transfers",
        "apr-2015",
        25803.0,
        940000.0,
        305.0,
    )
    assert first.row == 2
    assert len(read_actuals(DEMO_ACTUALS)) == 9  # without a plan: the config's windows


def test_header_problems(tmp_path: Path) -> None:
    assert _lines(tmp_path, "metric,period,numerator,extra\n") == [
        "acts.csv:1:denominator: required column missing — metric,period,numerator,extra",
        "acts.csv:1:extra: unknown column (expected metric, period, numerator, denominator, value)",
    ]
    assert _lines(tmp_path, "") == ["acts.csv:1:: no header row"]
    assert _lines(tmp_path, HEADER) == [
        "acts.csv:0:: no actuals: the file has a header but no rows"
    ]


def test_row_problems_are_all_reported(tmp_path: Path) -> None:
    text = HEADER + (
        "bcf.delayed_transfer,apr-2015,1,2,\n"
        "constitution.ae_4h,apr-2015,1,2,\n"
        "bcf.delayed_transfers,apr-2016,1,2,\n"
        "bcf.delayed_transfers,apr-2015,-5,0,\n"
        'bcf.delayed_transfers,apr-2015,"25,803",940000,x\n'
        "bcf.delayed_transfers,apr-2015,1,2\n"
    )
    lines = _lines(tmp_path, text)
    assert lines[0].startswith("acts.csv:2:metric: unknown metric 'bcf.delayed_transfer'")
    assert lines[1:] == [
        "acts.csv:3:metric: not a Better Care Fund metric (bcf.*) — constitution.ae_4h",
        "acts.csv:4:period: unknown payment period (one of apr-2015, oct-2015) — apr-2016",
        "acts.csv:5:numerator: must be a number ≥ 0 (plain digits) — -5",
        "acts.csv:5:denominator: must be a number > 0 (plain digits) — 0",
        "acts.csv:6:numerator: must be a number ≥ 0 (plain digits) — 25,803",
        "acts.csv:6:value: must be a number (or blank) — x",
        "acts.csv:6:metric: repeats the bcf.delayed_transfers actual for apr-2015 of row 5"
        " — bcf.delayed_transfers",
        "acts.csv:7:: row has 4 cells, the header 5",
    ]


def test_value_must_be_numerator_over_denominator(tmp_path: Path) -> None:
    text = HEADER + "bcf.delayed_transfers,apr-2015,25803,940000,306.0\n"
    assert _lines(tmp_path, text) == [
        "acts.csv:2:value: is not numerator ÷ denominator as bcf.delayed_transfers defines it"
        " (expected 305.00) — 306.0"
    ]
    # 305 written with no decimals is within half a unit; a blank value is computed
    ok = tmp_path / "ok.csv"
    ok.write_text(
        HEADER
        + "bcf.delayed_transfers,apr-2015,25803,940000,305\n"
        + "bcf.reablement_91_days,oct-2015,870,1000,\n",
        encoding="utf-8",
    )
    assert [a.value for a in read_actuals(ok, demo_plan())] == [305.0, None]


def test_rows_must_match_the_plan(tmp_path: Path) -> None:
    text = HEADER + (
        "bcf.local.nhsof_2_1_supported_ltc,oct-2015,1,2,\n"
        "bcf.reablement_91_days,apr-2015,870,1000,\n"
    )
    assert _lines(tmp_path, text) == [
        "acts.csv:2:metric: not a metric of the plan — bcf.local.nhsof_2_1_supported_ltc",
        "acts.csv:3:period: the plan states no ambition for bcf.reablement_91_days in this"
        " period — apr-2015",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as caught:
        read_actuals(tmp_path / "none.csv")
    assert caught.value.lines() == ["none.csv:0:: file not found"]
