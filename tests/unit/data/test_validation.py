"""One small bad file per validation rule: the exact problems reported, every one of them.

Row numbers are line numbers in the file with the header on line 1; 0 means the whole file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import FORMATS, get_format, read
from flowplan.data.tables import REFERENCE_TABLES
from flowplan.errors import DataValidationError, Problem, ProblemsError, UsageError

F = "bad.csv"  # the name files are shown by in messages

CTR = ["nhs_trust22_code", "date", "do_not_meet_criteria_to_reside"]
DISCHARGES = [
    "nhs_trust22_code",
    "date",
    "discharged_by_1700",
    "discharged_between_1701_2359",
    "discharged_total",
]
TRUST_AE = [
    "nhs_trust22_code",
    "total_attendances",
    "attendances_over_4hours",
    "total_emergency_admissions",
    "emergency_admissions_over_4hours",
    "pct_attendance_over_4hours",
    "pct_emergency_admissions_over_4hours",
    "date",
]
NHSR_AE = ["period", "org_code", "type", "attendances", "breaches", "admissions"]
RTT_OVERVIEW = ["month", "type_of_wait", "count"]
DELAYS = ["nhs_trust22_name", "nhs_trust22_code", "date", "delay_reason", "delay_count"]
RTT_REGION = [
    "nhs_region20_name",
    "date",
    "treatment",
    "waits_over_18_weeks",
    "waits_over_52_weeks",
]
ATTRIBUTION = [
    "nhs_trust22_code_all",
    "nhs_trust22_code_acute",
    "proportion_attendances_attributed_to_acute_trust",
]
GA_GROUPS = [
    ("general_acute_beds", "general_acute_beds_occupancy_rate"),
    ("adult_general_acute_beds", "adult_general_acute_beds_occupancy_rate"),
    ("paediatric_general_acute_beds", "paediatric_general_acute_beds_occupancy_rate"),
    ("adult_critical_care_beds", "adult_critical_care_occupancy_rate"),
    ("paediatric_intensive_cared_beds", "paediatric_intensive_cared_occupancy_rate"),
    ("neonatal_intensive_care_bed", "neonatal_intensive_care_occupancy_rate"),
]
KH03_SECTORS = ["total", "general_acute", "learning_disabilities", "maternity", "mental_illness"]


def write(tmp_path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    path = tmp_path / F
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems(fmt: str, path: Path) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        read(fmt, path, F)
    return info.value.problems


def ga_row(org: str = "RAJ", date: str = "April 2022", **override: object) -> dict[str, object]:
    """A valid ga_beds row: 10 beds available, 5 occupied, rate 0.5 in every group."""
    row: dict[str, object] = {"nhs_trust22_code": org, "date": date}
    for prefix, rate in GA_GROUPS:
        row[f"{prefix}_available"] = 10
        row[f"{prefix}_occupied"] = 5
        row[rate] = 0.5
    row.update(override)
    return row


def kh03_row(year: str = "2010/11", quarter: str = "Q1", **override: object) -> dict[str, object]:
    """A valid KH03 row: 100 beds available, 80 occupied, rate 0.8 in every sector."""
    row: dict[str, object] = {"year": year, "period": quarter}
    for s in KH03_SECTORS:
        row[f"avail_{s}"] = 100
        row[f"occ_{s}"] = 80
        row[f"occrate_{s}"] = 0.8
    row.update(override)
    return row


def write_dicts(tmp_path: Path, rows: Sequence[dict[str, object]]) -> Path:
    header = list(rows[0])
    return write(tmp_path, header, [[r[c] for c in header] for r in rows])


# -- the problem and its message -------------------------------------------------------------------


def test_problem_is_formatted_file_row_column_rule_value() -> None:
    p = Problem("beds.csv", 12, "date", "date does not parse", "2022-13-01")
    assert str(p) == "beds.csv:12:date: date does not parse — 2022-13-01"
    assert str(Problem("beds.csv", 0, "", "file not found")) == "beds.csv:0:: file not found"


def test_problems_error_shows_first_twenty_then_a_count() -> None:
    many = [Problem(F, r, "date", "date missing") for r in range(2, 27)]
    lines = ProblemsError(many).lines()
    assert len(lines) == 21
    assert lines[:20] == [f"bad.csv:{r}:date: date missing" for r in range(2, 22)]
    assert lines[20] == "... and 5 more problem(s) (25 in all)"
    assert str(ProblemsError(many)) == "\n".join(lines)
    assert ProblemsError(many[:20]).lines() == lines[:20]
    assert DataValidationError(many[:1]).lines() == ["bad.csv:2:date: date missing"]


def test_every_problem_in_a_large_file_is_reported(tmp_path: Path) -> None:
    rows = [[f"R{i:02d}", "2022-13-01", 5] for i in range(30)]
    found = problems("criteria_to_reside", write(tmp_path, CTR, rows))
    assert found == [
        Problem(F, r, "date", "date does not parse", "2022-13-01") for r in range(2, 32)
    ]
    with pytest.raises(DataValidationError) as info:
        read("criteria_to_reside", write(tmp_path, CTR, rows), F)
    assert info.value.lines()[-1] == "... and 10 more problem(s) (30 in all)"


def test_problems_of_different_rules_are_all_reported_in_file_order(tmp_path: Path) -> None:
    rows = [
        ["RAJ", 100, 20, 50, 10, 0.2, 0.2, "April 2022"],  # fine
        ["RBK", "lots", 20, 50, 10, 0.2, 0.2, "April 2022"],  # not a number
        ["RC9", 100, 20, 50, 10, 1.5, 0.2, "Apr 2022"],  # rate and date
        ["RD1", 100, -4, 50, 10, 0.2, 0.2, "April 2022"],  # negative count
    ]
    found = problems("trust_ae", write(tmp_path, TRUST_AE, rows))
    assert found == [
        Problem(F, 3, "total_attendances", "not a number", "lots"),
        Problem(F, 4, "date", "date does not parse", "Apr 2022"),
        Problem(F, 4, "pct_attendance_over_4hours", "rate outside [0, 1]", "1.5"),
        Problem(F, 5, "attendances_over_4hours", "count must be a non-negative number", "-4"),
    ]


# -- whole-file rules ------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        read("trust_ae", tmp_path / "absent.csv", "absent.csv")
    assert info.value.problems == [Problem("absent.csv", 0, "", "file not found")]
    assert str(info.value) == "absent.csv:0:: file not found"


def test_file_named_as_given_when_no_display_name(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(DataValidationError) as info:
        read("trust_ae", path)
    assert info.value.problems == [Problem(str(path), 0, "", "file not found")]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / F
    path.write_text("")
    assert problems("trust_ae", path) == [Problem(F, 1, "", "file is empty")]


def test_no_data_rows(tmp_path: Path) -> None:
    assert problems("criteria_to_reside", write(tmp_path, CTR, [])) == [
        Problem(F, 2, "", "file has no data rows")
    ]


def test_not_a_readable_csv(tmp_path: Path) -> None:
    path = write(tmp_path, CTR, [["RAJ", "2022-04-01", 5], ["RAJ", "2022-04-02", 6, 7]])
    assert problems("criteria_to_reside", path) == [
        Problem(
            F,
            0,
            "",
            "not a readable CSV",
            "Error tokenizing data. C error: Expected 3 fields in line 3, saw 4",
        )
    ]


def test_required_columns_missing_on_header_row(tmp_path: Path) -> None:
    path = write(tmp_path, ["nhs_trust22_code", "day", "count"], [["RAJ", "nonsense", "x"]])
    assert problems("criteria_to_reside", path) == [
        Problem(F, 1, "date", "required column missing"),
        Problem(F, 1, "do_not_meet_criteria_to_reside", "required column missing"),
    ]


def test_header_and_cells_are_trimmed(tmp_path: Path) -> None:
    path = tmp_path / F
    path.write_text(
        " nhs_trust22_code , date ,do_not_meet_criteria_to_reside\n RAJ , 2022-04-01 , 7\n"
    )
    parsed = read("criteria_to_reside", path, F)
    assert parsed.observations[["org_code", "value"]].values.tolist() == [["RAJ", 7.0]]


# -- periods ---------------------------------------------------------------------------------------


def test_iso_date_does_not_parse(tmp_path: Path) -> None:
    rows = [["RAJ", "2022-13-01", 5], ["RBK", "2022-04-02", 6], ["RC9", "01/04/2022", 7]]
    assert problems("criteria_to_reside", write(tmp_path, CTR, rows)) == [
        Problem(F, 2, "date", "date does not parse", "2022-13-01"),
        Problem(F, 4, "date", "date does not parse", "01/04/2022"),
    ]


def test_month_name_date_does_not_parse(tmp_path: Path) -> None:
    rows = [
        ["RAJ", 100, 20, 50, 10, 0.2, 0.2, "April 2022"],
        ["RBK", 100, 20, 50, 10, 0.2, 0.2, "Apr 2022"],
        ["RC9", 100, 20, 50, 10, 0.2, 0.2, "2022-04-01"],
    ]
    assert problems("trust_ae", write(tmp_path, TRUST_AE, rows)) == [
        Problem(F, 3, "date", "date does not parse", "Apr 2022"),
        Problem(F, 4, "date", "date does not parse", "2022-04-01"),
    ]


def test_date_missing(tmp_path: Path) -> None:
    rows = [["RAJ", "", 5], ["RBK", "2022-04-02", 6]]
    assert problems("criteria_to_reside", write(tmp_path, CTR, rows)) == [
        Problem(F, 2, "date", "date missing")
    ]


def test_financial_year_does_not_parse(tmp_path: Path) -> None:
    path = write_dicts(tmp_path, [kh03_row(), kh03_row("2010-11", "Q2")])
    assert problems("kh03_beds", path) == [Problem(F, 3, "year", "date does not parse", "2010-11")]


def test_financial_quarter_does_not_parse(tmp_path: Path) -> None:
    path = write_dicts(tmp_path, [kh03_row(), kh03_row("2010/11", "Q5")])
    assert problems("kh03_beds", path) == [Problem(F, 3, "period", "date does not parse", "Q5")]


def test_financial_year_missing(tmp_path: Path) -> None:
    path = write_dicts(tmp_path, [kh03_row(""), kh03_row()])
    assert problems("kh03_beds", path) == [Problem(F, 2, "year", "date missing")]


def test_financial_quarters_start_in_april_july_october_january(tmp_path: Path) -> None:
    rows = [kh03_row("2010/11", q) for q in ("Q1", "Q2", "Q3", "Q4")]
    parsed = read("kh03_beds", write_dicts(tmp_path, rows), F)
    starts = parsed.observations.groupby("row")["period_start"].first()
    assert starts.dt.strftime("%Y-%m-%d").tolist() == [
        "2010-04-01",
        "2010-07-01",
        "2010-10-01",
        "2011-01-01",
    ]


def test_financial_period_problems_name_their_own_column(tmp_path: Path) -> None:
    path = write_dicts(tmp_path, [kh03_row("2010-11", "Q1"), kh03_row("2010/11", "Q5")])
    found = [p for p in problems("kh03_beds", path) if p.rule == "date does not parse"]
    assert found == [
        Problem(F, 2, "year", "date does not parse", "2010-11"),
        Problem(F, 3, "period", "date does not parse", "Q5"),
    ]


# -- values ----------------------------------------------------------------------------------------


def test_not_a_number_and_negative_count(tmp_path: Path) -> None:
    rows = [["RAJ", "2022-04-01", "five"], ["RAJ", "2022-04-02", -3], ["RAJ", "2022-04-03", 2.5e1]]
    col = "do_not_meet_criteria_to_reside"
    assert problems("criteria_to_reside", write(tmp_path, CTR, rows)) == [
        Problem(F, 2, col, "not a number", "five"),
        Problem(F, 3, col, "count must be a non-negative number", "-3"),
    ]


def test_breaches_above_attendances_trust_ae(tmp_path: Path) -> None:
    rows = [
        ["RAJ", 100, 120, 50, 60, 0.5, 0.5, "April 2022"],
        ["RBK", 100, 100, 50, 50, 1.0, 1.0, "April 2022"],  # equal is allowed
    ]
    assert problems("trust_ae", write(tmp_path, TRUST_AE, rows)) == [
        Problem(
            F,
            2,
            "attendances_over_4hours",
            "attendances_over_4hours must not exceed total_attendances",
            "120 > 100",
        ),
        Problem(
            F,
            2,
            "emergency_admissions_over_4hours",
            "emergency_admissions_over_4hours must not exceed total_emergency_admissions",
            "60 > 50",
        ),
    ]


def test_breaches_above_attendances_nhsr_ae(tmp_path: Path) -> None:
    rows = [
        ["2017-03-01", "RF4", "1", 100, 120, 5],
        ["2017-03-01", "RF4", "2", 10, 3, 0],
        ["2017-04-01", "RF4", "1", -5, 3, 0],  # a negative count is reported once, as negative
    ]
    assert problems("nhsr_ae_attendances", write(tmp_path, NHSR_AE, rows)) == [
        Problem(F, 2, "breaches", "breaches must not exceed attendances", "120 > 100"),
        Problem(F, 4, "attendances", "count must be a non-negative number", "-5"),
    ]


@pytest.mark.parametrize("fmt", ["trust_ae", "icb_ae"])
def test_ae_percentage_outside_zero_one(tmp_path: Path, fmt: str) -> None:
    header = [FORMATS[fmt].org_column or "", *TRUST_AE[1:]]
    rows = [
        ["A1", 100, 20, 50, 10, 1.2, 0.2, "April 2022"],
        ["A2", 100, 20, 50, 10, 0.2, -0.1, "April 2022"],
        ["A3", 100, 20, 50, 10, 0.0, 1.0, "April 2022"],
    ]
    assert problems(fmt, write(tmp_path, header, rows)) == [
        Problem(F, 2, "pct_attendance_over_4hours", "rate outside [0, 1]", "1.2"),
        Problem(F, 3, "pct_emergency_admissions_over_4hours", "rate outside [0, 1]", "-0.1"),
    ]


def test_ga_beds_occupied_above_available_is_flagged_and_kept(tmp_path: Path) -> None:
    over = {
        "adult_general_acute_beds_available": 100,
        "adult_general_acute_beds_occupied": 104,
        "adult_general_acute_beds_occupancy_rate": 1.04,
    }
    rows = [ga_row("RAJ"), ga_row("RBK", **over)]
    parsed = read("ga_beds", write_dicts(tmp_path, rows), F)
    assert [(w.column, w.rule, w.count, w.example) for w in parsed.warnings] == [
        (
            "adult_general_acute_beds_occupied",
            "published adult_general_acute_beds_occupied above adult_general_acute_beds_available "
            "(flagged, kept)",
            1,
            "row 3 (RBK April 2022)",
        ),
        (
            "adult_general_acute_beds_occupancy_rate",
            "published rate above 1 where adult_general_acute_beds_occupied > "
            "adult_general_acute_beds_available (flagged, kept)",
            1,
            "row 3 (RBK April 2022)",
        ),
    ]
    obs = parsed.observations
    kept = obs[
        (obs["org_code"] == "RBK")
        & (obs["breakdown"] == "adult")
        & obs["measure"].str.startswith("ga_beds")
    ]
    assert kept.set_index("measure")["value"].to_dict() == {
        "ga_beds_available": 100.0,
        "ga_beds_occupied": 104.0,
    }
    assert len(obs) == 2 * 12  # 6 groups x available/occupied, two trusts


def test_ga_beds_rate_above_one_without_excuse_is_an_error(tmp_path: Path) -> None:
    rows = [
        ga_row("RAJ", adult_general_acute_beds_occupancy_rate=1.1),
        ga_row("RBK", neonatal_intensive_care_occupancy_rate=-0.5),
    ]
    assert problems("ga_beds", write_dicts(tmp_path, rows)) == [
        Problem(F, 2, "adult_general_acute_beds_occupancy_rate", "rate outside [0, 1]", "1.1"),
        Problem(F, 3, "neonatal_intensive_care_occupancy_rate", "rate outside [0, 1]", "-0.5"),
    ]


def test_kh03_occupied_above_available_is_flagged_and_kept(tmp_path: Path) -> None:
    over = {"avail_maternity": 50, "occ_maternity": 55, "occrate_maternity": 1.1}
    rows = [kh03_row("2010/11", "Q1"), kh03_row("2010/11", "Q2", **over)]
    parsed = read("kh03_beds", write_dicts(tmp_path, rows), F)
    assert [(w.column, w.rule, w.count, w.example) for w in parsed.warnings] == [
        (
            "occ_maternity",
            "published occ_maternity above avail_maternity (flagged, kept)",
            1,
            "row 3 (2010/11 Q2)",
        ),
        (
            "occrate_maternity",
            "published rate above 1 where occ_maternity > avail_maternity (flagged, kept)",
            1,
            "row 3 (2010/11 Q2)",
        ),
    ]
    obs = parsed.observations
    q2 = obs[(obs["row"] == 3) & (obs["breakdown"] == "maternity")]
    assert q2.set_index("measure")["value"].to_dict() == {
        "overnight_beds_available": 50.0,
        "overnight_beds_occupied": 55.0,
    }


def test_kh03_rate_above_one_without_excuse_is_an_error(tmp_path: Path) -> None:
    rows = [kh03_row("2010/11", "Q1", occrate_total=1.2)]
    assert problems("kh03_beds", write_dicts(tmp_path, rows)) == [
        Problem(F, 2, "occrate_total", "rate outside [0, 1]", "1.2")
    ]


# -- keys ------------------------------------------------------------------------------------------


def test_duplicate_key_names_the_first_row(tmp_path: Path) -> None:
    rows = [
        ["RAJ", 100, 20, 50, 10, 0.2, 0.2, "April 2022"],
        ["RBK", 100, 20, 50, 10, 0.2, 0.2, "April 2022"],
        ["RAJ", 101, 20, 50, 10, 0.2, 0.2, "April 2022"],
        ["RAJ", 102, 20, 50, 10, 0.2, 0.2, "April 2022"],
        ["RAJ", 100, 20, 50, 10, 0.2, 0.2, "May 2022"],
    ]
    expected = "RAJ 2022-04-01 (first on row 2)"
    assert problems("trust_ae", write(tmp_path, TRUST_AE, rows)) == [
        Problem(F, 4, "", "duplicate key in file", expected),
        Problem(F, 5, "", "duplicate key in file", expected),
    ]


def test_duplicate_key_includes_breakdown_and_period_floored_to_grain(tmp_path: Path) -> None:
    rows = [
        ["2017-03-01", "RF4", "1", 100, 20, 5],
        ["2017-03-01", "RF4", "2", 100, 20, 5],  # another A&E type: a different series
        ["2017-03-15", "RF4", "1", 100, 20, 5],  # same month at monthly grain
    ]
    assert problems("nhsr_ae_attendances", write(tmp_path, NHSR_AE, rows)) == [
        Problem(F, 4, "", "duplicate key in file", "RF4 2017-03-01 1 (first on row 2)")
    ]


def test_duplicate_key_includes_measure_from_category(tmp_path: Path) -> None:
    rows = [
        ["2024-01-01", "Total waiting", 5],
        ["2024-01-01", "No. > 18 weeks", 2],
        ["2024-01-01", "Total waiting", 6],
    ]
    assert problems("rtt_overview", write(tmp_path, RTT_OVERVIEW, rows)) == [
        Problem(
            F,
            4,
            "",
            "duplicate key in file",
            "E92000001 2024-01-01 rtt_waiting_list (first on row 2)",
        )
    ]


@pytest.mark.parametrize(
    ("fmt", "header", "rows", "expected"),
    [
        (
            "criteria_to_reside",
            CTR,
            [["RAJ", "2022-13-01", 5], ["RAJ", "2022-14-01", 6]],
            [
                Problem(F, 2, "date", "date does not parse", "2022-13-01"),
                Problem(F, 3, "date", "date does not parse", "2022-14-01"),
            ],
        ),
        (
            "rtt_overview",
            RTT_OVERVIEW,
            [["2024-01-01", "Bogus", 5], ["2024-01-01", "Bogus", 6]],
            [
                Problem(F, 2, "type_of_wait", "unknown category", "Bogus"),
                Problem(F, 3, "type_of_wait", "unknown category", "Bogus"),
            ],
        ),
        (
            "rtt_waits_region",
            RTT_REGION,
            [["Atlantis", "2024-06-01", "Cardiology", 5, 1]] * 2,
            [
                Problem(F, 2, "nhs_region20_name", "unknown organisation name", "Atlantis"),
                Problem(F, 3, "nhs_region20_name", "unknown organisation name", "Atlantis"),
            ],
        ),
        (
            "delayed_discharge_reasons",
            DELAYS,
            [["Trust A", "RAJ", "2024-06-01", "", 5], ["Trust A", "RAJ", "2024-06-01", "", 6]],
            [
                Problem(F, 2, "delay_reason", "breakdown missing"),
                Problem(F, 3, "delay_reason", "breakdown missing"),
            ],
        ),
    ],
    ids=["bad-dates", "unknown-category", "unknown-region", "missing-breakdown"],
)
def test_rows_with_an_incomplete_key_are_reported_not_crashed_on(
    tmp_path: Path,
    fmt: str,
    header: list[str],
    rows: list[list[object]],
    expected: list[Problem],
) -> None:
    found = problems(fmt, write(tmp_path, header, rows))
    assert [p for p in found if p.rule != "duplicate key in file"] == expected


def test_row_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / F
    path.write_text(",".join(CTR) + "\nRAJ,2022-04-01,5\n\nRAJ,2022-04-02,x\n")
    assert problems("criteria_to_reside", path) == [
        Problem(F, 4, "do_not_meet_criteria_to_reside", "not a number", "x")
    ]


# -- organisations ---------------------------------------------------------------------------------


def test_organisation_code_missing_while_values_present(tmp_path: Path) -> None:
    rows = [["RAJ", "2022-04-01", 1, 2, 3], ["", "2022-04-01", 1, 2, 3]]
    assert problems("discharges", write(tmp_path, DISCHARGES, rows)) == [
        Problem(F, 3, "nhs_trust22_code", "organisation code missing")
    ]


def test_row_without_code_or_values_is_skipped_with_a_warning(tmp_path: Path) -> None:
    rows = [
        ["RAJ", "2022-04-01", 1, 2, 3],
        ["", "2025-01-01", "", "", ""],
        ["", "not a date", "", "", ""],  # skipped rows are not validated further
    ]
    parsed = read("discharges", write(tmp_path, DISCHARGES, rows), F)
    assert parsed.rows_read == 3
    assert parsed.rows_rejected == 2
    assert [(w.column, w.rule, w.count, w.example) for w in parsed.warnings] == [
        (
            "nhs_trust22_code",
            "rows with no organisation code and no values (skipped)",
            2,
            "row 3 (2025-01-01)",
        )
    ]
    assert parsed.observations["row"].tolist() == [2, 2, 2]
    assert parsed.organisations["code"].tolist() == ["RAJ"]


def test_breakdown_missing(tmp_path: Path) -> None:
    rows = [
        ["Trust A", "RAJ", "2024-06-01", "Awaiting care home", 5],
        ["Trust A", "RAJ", "2024-06-01", "", 6],
    ]
    assert problems("delayed_discharge_reasons", write(tmp_path, DELAYS, rows)) == [
        Problem(F, 3, "delay_reason", "breakdown missing")
    ]


def test_names_come_from_the_file(tmp_path: Path) -> None:
    rows = [
        ["Old Name Trust", "RAJ", "2024-06-01", "Awaiting care home", 5],
        ["New Name Trust", "RAJ", "2024-07-01", "Awaiting care home", 6],
    ]
    parsed = read("delayed_discharge_reasons", write(tmp_path, DELAYS, rows), F)
    # the last name a file gives for a code wins (files run oldest to newest)
    assert parsed.organisations.values.tolist() == [["RAJ", "New Name Trust", "trust", None]]
    assert parsed.observations["breakdown"].unique().tolist() == ["Awaiting care home"]


def test_unknown_category(tmp_path: Path) -> None:
    rows = [["2024-01-01", "Total waiting", 5], ["2024-01-01", "No. > 104 weeks", 1]]
    assert problems("rtt_overview", write(tmp_path, RTT_OVERVIEW, rows)) == [
        Problem(F, 3, "type_of_wait", "unknown category", "No. > 104 weeks")
    ]


def test_unknown_organisation_name(tmp_path: Path) -> None:
    rows = [
        ["London", "2024-06-01", "Cardiology", 6, 1],
        ["Atlantis", "2024-06-01", "Cardiology", 5, 1],
    ]
    assert problems("rtt_waits_region", write(tmp_path, RTT_REGION, rows)) == [
        Problem(F, 3, "nhs_region20_name", "unknown organisation name", "Atlantis")
    ]


def test_region_names_become_region_codes(tmp_path: Path) -> None:
    rows = [["London", "2024-06-01", "Cardiology", 6, 1], ["Midlands", "2024-06-01", "ENT", 4, 0]]
    parsed = read("rtt_waits_region", write(tmp_path, RTT_REGION, rows), F)
    assert sorted(parsed.observations["org_code"].unique()) == ["Y56", "Y60"]
    orgs = parsed.organisations.set_index("code")["name"].to_dict()
    assert orgs == {"Y56": "London", "Y60": "Midlands"}


def test_attribution_rules(tmp_path: Path) -> None:
    rows = [
        ["RAJ", "RAJ", 1.0],
        ["RYX", "RAJ", 1.5],
        ["RYY", "RAJ", -0.2],
        ["RYZ", "RAJ", ""],
        ["", "RAJ", 0.5],
        ["RAJ", "RAJ", 1.0],
    ]
    w = "proportion_attendances_attributed_to_acute_trust"
    assert problems("ae_attribution", write(tmp_path, ATTRIBUTION, rows)) == [
        Problem(F, 3, w, "proportion outside [0, 1]", "1.5"),
        Problem(F, 4, w, "proportion outside [0, 1]", "-0.2"),
        Problem(F, 5, w, "value missing"),
        Problem(F, 6, "nhs_trust22_code_all", "organisation code missing"),
        Problem(F, 7, "", "duplicate key in file", "RAJ -> RAJ (first on row 2)"),
    ]


def test_attribution_links(tmp_path: Path) -> None:
    rows = [["RAJ", "RAJ", 1.0], ["RYX", "RAJ", 0.25], ["RYX", "RBK", 0.75]]
    parsed = read("ae_attribution", write(tmp_path, ATTRIBUTION, rows), F)
    assert parsed.links.values.tolist() == [
        ["RAJ", "RAJ", "ae_attribution", 1.0],
        ["RYX", "RAJ", "ae_attribution", 0.25],
        ["RYX", "RBK", "ae_attribution", 0.75],
    ]
    assert parsed.observations.empty
    assert sorted(parsed.organisations["code"]) == ["RAJ", "RBK", "RYX"]


# -- formats ---------------------------------------------------------------------------------------


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        get_format("beds_by_ward")
    known = ", ".join([*FORMATS, "table"])
    assert str(info.value) == f"unknown format 'beds_by_ward'; known formats: {known}"
    assert "kh03_beds" in known
    with pytest.raises(UsageError):
        read("beds_by_ward", tmp_path / F)


# -- warnings --------------------------------------------------------------------------------------


def test_missing_value_and_leading_zero_warnings(tmp_path: Path) -> None:
    rows = [
        ["RAJ", "2022-04-01", 0, 0, 0],
        ["RAJ", "2022-04-02", 0, 0, 0],
        ["RAJ", "2022-04-03", 3, "", 5],
        ["RBK", "2022-04-01", 0, 0, 0],
        ["RBK", "2022-04-02", "", "", 4],
        ["RC9", "2022-04-01", "", "", ""],  # reported as missing, not skipped: it has a code
        ["RC9", "2022-04-02", 0, 2, 2],
        ["RC9", "2022-04-03", 1, 1, 2],
    ]
    parsed = read("discharges", write(tmp_path, DISCHARGES, rows), F)
    assert [(w.column, w.rule, w.count, w.example) for w in parsed.warnings] == [
        (
            "discharged_total",
            "missing value (not reported; not stored)",
            1,
            "row 7 (RC9 2022-04-01)",
        ),
        (
            "discharged_by_1700",
            "missing value (not reported; not stored)",
            2,
            "row 6 (RBK 2022-04-02)",
        ),
        (
            "discharged_between_1701_2359",
            "missing value (not reported; not stored)",
            3,
            "row 4 (RAJ 2022-04-03)",
        ),
        (
            "discharges",
            "zero values before the organisation started reporting (kept as published)",
            3,
            "RAJ: 2 leading zero periods; 2 organisations",
        ),
        (
            "",
            "organisations whose reporting ends before the file's last period "
            "(merged, renamed or closed?)",
            1,
            "RBK last reported 2022-04-02",
        ),
    ]
    assert parsed.rows_rejected == 0
    # 8 rows x 3 values - 6 missing
    assert len(parsed.observations) == 18
    zeros = parsed.observations[
        (parsed.observations["breakdown"] == "all") & (parsed.observations["value"] == 0)
    ]
    assert len(zeros) == 3


def test_file_without_quirks_has_no_warnings(tmp_path: Path) -> None:
    rows = [["RAJ", "2022-04-01", 5], ["RAJ", "2022-04-02", 0]]
    parsed = read("criteria_to_reside", write(tmp_path, CTR, rows), F)
    assert parsed.warnings == []
    assert isinstance(parsed, ParsedFile)
    assert parsed.observations["period_start"].tolist() == [
        pd.Timestamp("2022-04-01"),
        pd.Timestamp("2022-04-02"),
    ]


# -- reference tables ------------------------------------------------------------------------------


def read_reference(name: str, path: Path) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        REFERENCE_TABLES[name].read(path, F)
    return info.value.problems


def test_arrival_profile_hour_ranges(tmp_path: Path) -> None:
    rows = [["6AM-7AM", 2.0], ["7AM-9AM", 3.0], ["noon", 1.0], ["8am-9am", -1], ["11PM-12AM", 4]]
    assert read_reference("arrival_profile", write(tmp_path, ["period", "arrival_rate"], rows)) == [
        Problem(F, 3, "period", "must be a one-hour period such as 6AM-7AM", "7AM-9AM"),
        Problem(F, 4, "period", "must be a one-hour period such as 6AM-7AM", "noon"),
        Problem(F, 5, "arrival_rate", "rate must be non-negative", "-1"),
    ]


def test_arrival_profile_hours(tmp_path: Path) -> None:
    rows = [["12AM-1AM", 1.0], ["11AM-12PM", 2.0], ["12PM-1PM", 3.0], ["11PM-12AM", 4.0]]
    frame = REFERENCE_TABLES["arrival_profile"].read(
        write(tmp_path, ["period", "arrival_rate"], rows), F
    )
    assert frame["period"].tolist() == [0, 11, 12, 23]
    assert frame["arrival_rate"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_arrival_profile_rejects_hours_above_twelve(tmp_path: Path) -> None:
    rows = [["13AM-2AM", 1.0]]
    assert read_reference("arrival_profile", write(tmp_path, ["period", "arrival_rate"], rows)) == [
        Problem(F, 2, "period", "must be a one-hour period such as 6AM-7AM", "13AM-2AM")
    ]


def test_los_model_rules(tmp_path: Path) -> None:
    header = ["ID", "Organisation", "Age", "LOS", "Death"]
    rows = [
        [1, "Trust1", 55, 2, 0],
        [2, "Trust2", 27, 1, 2],
        [3, "", 130, -2, 1],
        ["", "Trust3", 40, 3, "yes"],
    ]
    assert read_reference("los_model", write(tmp_path, header, rows)) == [
        Problem(F, 3, "Death", "must be a whole number in [0, 1]", "2"),
        Problem(F, 4, "Age", "must be a whole number in [0, 120]", "130"),
        Problem(F, 4, "LOS", "must be a whole number in [0, 3650]", "-2"),
        Problem(F, 4, "Organisation", "value missing"),
        Problem(F, 5, "Death", "not a number", "yes"),
        Problem(F, 5, "ID", "value missing"),
    ]


def test_los_model_fractional_length_of_stay(tmp_path: Path) -> None:
    header = ["ID", "Organisation", "Age", "LOS", "Death"]
    rows = [[1, "Trust1", 55, 2.5, 0]]
    assert read_reference("los_model", write(tmp_path, header, rows)) == [
        Problem(F, 2, "LOS", "must be a whole number in [0, 3650]", "2.5")
    ]


def test_reference_table_whole_file_rules(tmp_path: Path) -> None:
    los = REFERENCE_TABLES["los_model"]
    with pytest.raises(DataValidationError) as info:
        los.read(tmp_path / "absent.csv", "absent.csv")
    assert info.value.problems == [Problem("absent.csv", 0, "", "file not found")]
    path = write(tmp_path, ["ID", "Organisation", "Age", "LOS"], [[1, "Trust1", 55, 2]])
    assert read_reference("los_model", path) == [Problem(F, 1, "Death", "required column missing")]
    path = write(tmp_path, ["period", "arrival_rate"], [])
    assert read_reference("arrival_profile", path) == [Problem(F, 2, "", "file has no data rows")]


def test_unreadable_file_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.csv"
    path.write_text("a\n1\n", encoding="utf-8")

    def refuse(*_args: object, **_kwargs: object) -> pd.DataFrame:
        raise PermissionError(13, "Permission denied")

    # root can read any file, so the operating system's refusal is simulated at the read
    monkeypatch.setattr(pd, "read_csv", refuse)
    with pytest.raises(DataValidationError) as info:
        read("trust_ae", path, "locked.csv")
    assert [str(p) for p in info.value.problems] == [
        "locked.csv:0:: cannot read file — Permission denied"
    ]
