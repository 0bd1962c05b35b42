"""The review of drivers of pressure on crafted series whose answers are worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowplan.demand.report import write_report
from flowplan.demand.review import QUESTIONS, Finding, Review, format_value, review
from flowplan.errors import UsageError
from flowplan.store.review_inputs import ReviewInputs

WEEK = [12.0, 10.0, 10.0, 10.0, 14.0, 8.0, 6.0]  # Monday to Sunday; mean 10
SEASON = [5.0, 3.0, 1.0, -1.0, -3.0, -5.0, -5.0, -3.0, -1.0, 1.0, 3.0, 5.0]  # sums to 0


def monthly(start: str, values: Sequence[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period_start": pd.date_range(start, periods=len(values), freq="MS"),
            "value": np.asarray(values, dtype=float),
        }
    )


def daily(start: str, values: Sequence[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period_start": pd.date_range(start, periods=len(values), freq="D"),
            "value": np.asarray(values, dtype=float),
        }
    )


def keyed(key: str, parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(**{key: k}) for k, f in parts.items()], ignore_index=True)[
        ["period_start", key, "value"]
    ]


def finding(result: Review, title: str) -> Finding:
    found = [f for f in result.findings if f.title == title]
    assert found, f"no finding {title!r}: {[f.title for f in result.findings]}"
    return found[0]


def two_years(first: float, second: float) -> pd.DataFrame:
    return monthly("2022-01-01", [first] * 12 + [second] * 12)


def full_inputs() -> ReviewInputs:
    """Every series the review reads, small and exact."""
    return ReviewInputs(
        org="A",
        org_name="Alpha <Hospitals> & Co",
        footprint="FP",
        footprint_members=["A", "B", "C", "D"],
        attendances=monthly("2021-01-01", [1000.0] * 12 + [1100.0] * 12 + [1210.0] * 12),
        admissions=monthly("2021-01-01", [250.0] * 12 + [275.0] * 12 + [363.0] * 12),
        dta_over_4h=monthly("2021-01-01", [50.0] * 24 + [36.3] * 12),
        breaches=monthly("2021-01-01", [100.0] * 36),
        attendances_by_type=keyed(
            "type", {"1": two_years(600.0, 600.0), "other": two_years(400.0, 600.0)}
        ),
        beds_available=monthly("2024-01-01", [100.0] * 4),
        beds_occupied=monthly("2024-01-01", [90.0, 93.0, 92.0, 95.0]),
        discharges=daily("2024-01-01", WEEK * 2),
        discharges_by_1700=daily("2024-01-01", [v / 2 for v in WEEK * 2]),
        criteria_to_reside=daily("2024-01-01", [20.0] * 31 + [30.0] * 29),
        delayed_discharges=keyed(
            "reason",
            {
                "Capacity – X": monthly("2024-06-01", [6.0, 6.0]),
                "Capacity – Y": monthly("2024-06-01", [3.0, 3.0]),
                "Hospital\xa0process – Z": monthly("2024-06-01", [1.0, 1.0]),
            },
        ),
        footprint_attendances=keyed(
            "org",
            {
                "A": two_years(500.0, 500.0),
                "B": two_years(300.0, 200.0),
                "C": two_years(200.0, 300.0),
            },
        ),
        footprint_admissions=keyed(
            "org", {"A": two_years(100.0, 150.0), "B": two_years(100.0, 50.0)}
        ),
        missing=["D ae_attendances [all]: not stored"],
        basis=["crafted for the unit tests"],
    )


# -- 1. demand -----------------------------------------------------------------------------------


def test_year_on_year_and_compound_growth_of_a_crafted_series() -> None:
    # 2021: 1,000 a month; 2022: 1,100; 2023: 1,210 (10% a year)
    got = review(full_inputs())
    years = got.tables["demand_by_year"]
    att = years[years["measure"] == "attendances"].reset_index(drop=True)
    assert att["total"].tolist() == [12_000.0, 13_200.0, 14_520.0]
    assert att["months"].tolist() == [12, 12, 12]
    assert math.isnan(att["yoy_pct"].iloc[0])
    # 13,200 / 12,000 − 1 = 10%; 14,520 / 13,200 − 1 = 10%
    assert att["yoy_pct"].iloc[1:].tolist() == pytest.approx([10.0, 10.0], rel=1e-12)
    growth = got.tables["growth"].set_index("measure")
    # windows Jan–Dec 2021 and Jan–Dec 2023 start 24 months apart: (1,210 / 1,000) ** (1/2) − 1
    assert growth.loc["attendances", "years_apart"] == pytest.approx(2.0)
    assert growth.loc["attendances", "cagr_pct"] == pytest.approx(10.0, rel=1e-12)
    # admissions 250 → 363 a month over 2 years: sqrt(1.452) − 1
    assert growth.loc["admissions", "cagr_pct"] == pytest.approx(
        (math.sqrt(363 / 250) - 1) * 100, rel=1e-12
    )
    cagr = finding(got, "Compound growth of A&E attendances")
    assert cagr.value == pytest.approx(10.0)
    assert (cagr.unit, cagr.table_name) == ("% a year", "growth")
    assert "+10.0% a year" in cagr.text
    assert "Jan 2021–Dec 2023: 1,000 → 1,210 a month" in cagr.text
    yoy = finding(got, "Year-on-year change in A&E attendances")
    assert yoy.value == pytest.approx(10.0)
    assert "14,520, +10.0% on the 12 months Jan 2022–Dec 2022 (13,200)" in yoy.text
    level = finding(got, "Level of A&E attendances")
    # latest 12 months: 1,210 a month; 14,520 over 365 days = 39.8 a day
    assert level.value == pytest.approx(1210.0)
    assert "1,210 a month (40 a day)" in level.text


def test_growth_needs_two_years() -> None:
    got = review(ReviewInputs(org="A", attendances=monthly("2024-01-01", [100.0] * 18)))
    gaps = " ".join(got.section("demand").not_answered)
    assert "Compound growth of A&E attendances: needs 24 months" in gaps
    assert "Year-on-year change in A&E attendances: needs two complete 12-month blocks" in gaps
    assert "Trend and season of A&E attendances: needs 24 months, 18 stored" in gaps


def test_decomposition_recovers_a_linear_trend_and_season() -> None:
    # per day: 100 + 0.5 t + season; the centred 2×12 average keeps a straight line and
    # cancels a season that sums to zero, so the indices come back exactly and nothing is left
    index = pd.date_range("2021-01-01", periods=36, freq="MS")
    t = np.arange(36, dtype=float)
    per_day = 100 + 0.5 * t + np.array(SEASON * 3)
    totals = per_day * np.asarray(index.days_in_month, dtype=float)
    got = review(ReviewInputs(org="A", attendances=monthly("2021-01-01", totals.tolist())))
    indices = got.tables["seasonal_indices"]["attendances_per_day"].to_numpy()
    assert indices == pytest.approx(SEASON, abs=1e-9)
    by_month = got.tables["demand_by_month"]
    covered = by_month["attendances_per_day_trend"].notna().to_numpy()
    assert covered.sum() == 24  # months 7 to 30: six lost at each end
    assert by_month["attendances_per_day_trend"][covered].to_numpy() == pytest.approx(
        100 + 0.5 * t[6:30], abs=1e-9
    )
    assert by_month["attendances_per_day_residual"][covered].to_numpy() == pytest.approx(
        np.zeros(24), abs=1e-9
    )
    # variance of 0.5 t over 24 consecutive months = 0.25 × (24² − 1) / 12; of the season over
    # two whole cycles = mean of its squares = 140 / 12; residual 0
    var_trend = 0.25 * (24**2 - 1) / 12
    var_season = 140 / 12
    share = finding(got, "Trend against season in A&E attendances")
    assert share.value == pytest.approx(var_trend / (var_trend + var_season) * 100, rel=1e-9)
    assert "the trend accounts for 50.7%" in share.text
    assert "the season for 49.3% and the rest for 0.0%" in share.text
    # seasonal amplitude: (5 − −5) ÷ mean trend; whole 100 + 0.5 × 17.5, halves 11.5 and 23.5
    vol = got.tables["volatility"].set_index("metric").loc["seasonal_amplitude_pct"]
    assert vol["whole"] == pytest.approx(10 / 108.75 * 100, rel=1e-9)
    assert vol["first_half"] == pytest.approx(10 / 105.75 * 100, rel=1e-9)
    assert vol["second_half"] == pytest.approx(10 / 111.75 * 100, rel=1e-9)
    amp = finding(got, "Seasonal amplitude of A&E attendances a day")
    assert "peak January, trough June" in amp.text


# -- 2. acuity -----------------------------------------------------------------------------------


def test_conversion_type1_share_and_trolley_waits() -> None:
    got = review(full_inputs())
    # 2021: 250 of 1,000 = 25%; 2023: 363 of 1,210 = 30%
    conversion = finding(got, "Admission conversion")
    assert conversion.value == pytest.approx(5.0, rel=1e-9)
    assert conversion.unit == "pp"
    assert "30.0% in Jan 2023–Dec 2023 against 25.0% in Jan 2021–Dec 2021: +5.0 pp" in (
        conversion.text
    )
    # type 1: 600 of 1,000 in 2022, 600 of 1,200 in 2023
    type1 = finding(got, "Type-1 share of attendances")
    assert type1.value == pytest.approx(-10.0, rel=1e-9)
    assert "50.0% of attendances of all types in Jan 2023–Dec 2023 against 60.0%" in type1.text
    # decision to admit over 4 h: 50 per 250 = 20 per 100; 36.3 per 363 = 10 per 100
    dta = finding(got, "Decision to admit over 4 hours")
    assert dta.value == pytest.approx(10.0, rel=1e-9)
    assert "10.0 per 100 emergency admissions" in dta.text
    assert "against 20.0 in Jan 2021–Dec 2021 (-10.0)" in dta.text
    table = got.tables["acuity_by_month"].set_index("period_start")
    assert table.loc[pd.Timestamp("2021-01-01"), "conversion_pct"] == pytest.approx(25.0)
    assert table.loc[pd.Timestamp("2023-01-01"), "type1_share_pct"] == pytest.approx(50.0)
    assert table.loc[pd.Timestamp("2021-01-01"), "breaches_pct"] == pytest.approx(10.0)


# -- 3. redistribution ---------------------------------------------------------------------------


def test_redistribution_shares_in_percentage_points() -> None:
    got = review(full_inputs())
    table = got.tables["redistribution"]
    sites = table[(table["group"] == "footprint FP") & (table["measure"] == "A&E attendances")]
    shares = sites.set_index("member")
    # 2022: 500 / 300 / 200 of 1,000 a month; 2023: 500 / 200 / 300
    assert shares["first_share_pct"].to_dict() == pytest.approx({"A": 50.0, "B": 30.0, "C": 20.0})
    assert shares["last_share_pct"].to_dict() == pytest.approx({"A": 50.0, "B": 20.0, "C": 30.0})
    assert shares["change_pp"].to_dict() == pytest.approx({"A": 0.0, "B": -10.0, "C": 10.0})
    assert shares.loc["B", "first_total"] == pytest.approx(3600.0)
    own = finding(got, "A's share of A&E attendances in FP")
    assert own.value == pytest.approx(0.0, abs=1e-9)
    assert "50.0% in Jan 2023–Dec 2023 against 50.0% in Jan 2022–Dec 2022" in own.text
    assert "(3 sites; no data for D)" in own.text
    shift = finding(got, "Largest shift of A&E attendances in FP")
    assert shift.value == pytest.approx(-10.0)
    assert "at B: 30.0% → 20.0% (-10.0 pp" in shift.text
    # admissions: A 100 of 200 → 150 of 200
    adm = finding(got, "A's share of emergency admissions in FP")
    assert adm.value == pytest.approx(25.0)
    # types: 1 from 60% to 50%, other from 40% to 50%
    types = table[table["group"] == "A A&E types"].set_index("member")
    assert types["change_pp"].to_dict() == pytest.approx({"1": -10.0, "other": 10.0})


def test_redistribution_without_a_footprint_is_not_answered_between_sites() -> None:
    got = review(ReviewInputs(org="A", attendances=monthly("2024-01-01", [100.0] * 3)))
    section = got.section("redistribution")
    assert not section.answered
    assert any("no footprint given" in line for line in section.not_answered)


# -- 4. volatility -------------------------------------------------------------------------------


def test_coefficient_of_variation_and_day_of_week_amplitude() -> None:
    inputs = ReviewInputs(
        org="A",
        discharges=daily("2024-01-01", WEEK * 2),  # 1 Jan 2024 is a Monday
        attendances=monthly("2024-01-01", [90.0, 110.0, 90.0, 110.0]),
    )
    got = review(inputs)
    vol = got.tables["volatility"]
    cv = vol[(vol["metric"] == "coefficient_of_variation_pct")].set_index("series")
    # deviations from 10 over a week: 2, 0, 0, 0, 4, −2, −4 → squares sum 40, 80 over 14 days;
    # sample sd sqrt(80 / 13); each half is one week: sqrt(40 / 6)
    assert cv.loc["daily_discharges", "whole"] == pytest.approx(
        math.sqrt(80 / 13) / 10 * 100, rel=1e-12
    )
    assert cv.loc["daily_discharges", "first_half"] == pytest.approx(
        math.sqrt(40 / 6) / 10 * 100, rel=1e-12
    )
    assert cv.loc["daily_discharges", "change_pp"] == pytest.approx(0.0, abs=1e-12)
    # monthly 90, 110, 90, 110: sd sqrt(400 / 3), mean 100
    assert cv.loc["monthly_attendances", "whole"] == pytest.approx(math.sqrt(400 / 3), rel=1e-12)
    dow = vol[vol["metric"] == "day_of_week_amplitude_pct"].iloc[0]
    # (Friday 14 − Sunday 6) ÷ mean 10
    assert dow["whole"] == pytest.approx(80.0, rel=1e-12)
    text = finding(got, "Day-of-week amplitude of daily discharges").text
    assert "80.0% in the first half (1 Jan 2024–7 Jan 2024)" in text
    assert "+0.0 pp" in text
    weekday = got.tables["discharges_by_weekday"]
    assert weekday["mean_whole"].tolist() == pytest.approx(WEEK)


# -- 5. capacity ---------------------------------------------------------------------------------


def test_occupancy_and_months_above_the_threshold() -> None:
    inputs = ReviewInputs(
        org="A",
        beds_available=monthly("2024-01-01", [100.0] * 4),
        beds_occupied=monthly("2024-01-01", [90.0, 93.0, 92.0, 95.0]),
    )
    got = review(inputs)
    table = got.tables["capacity_by_month"]
    assert table["occupancy_pct"].tolist() == pytest.approx([90.0, 93.0, 92.0, 95.0])
    # above 92%: 93 and 95; exactly 92 is at the ceiling, not above it
    assert table["above_threshold"].tolist() == [False, True, False, True]
    above = finding(got, "Months above 92% occupancy")
    assert above.value == pytest.approx(50.0)
    assert "50.0% of months (2 of 4, Jan 2024–Apr 2024)" in above.text
    # halves: (90 + 93) / 200 = 91.5%; (92 + 95) / 200 = 93.5%; all four 92.5%
    occupancy = finding(got, "G&A bed occupancy")
    assert occupancy.value == pytest.approx(93.5)
    assert "93.5% in Mar 2024–Apr 2024 against 91.5% in Jan 2024–Feb 2024 (+2.0 pp; 92.5%" in (
        occupancy.text
    )
    occupied = finding(got, "G&A beds occupied")
    assert occupied.value == pytest.approx((93.5 / 91.5 - 1) * 100)
    assert finding(got, "G&A beds available").value == pytest.approx(0.0)
    # the threshold is a parameter: above 90% are 93, 92 and 95
    lower = review(inputs, occupancy_threshold=0.90)
    assert finding(lower, "Months above 90% occupancy").value == pytest.approx(75.0)
    assert lower.occupancy_threshold == 0.90


# -- 6. resource use -----------------------------------------------------------------------------


def test_resource_use() -> None:
    got = review(full_inputs())
    # weekend: (8 + 6) / 2 = 7; weekday: 56 / 5 = 11.2
    weekend = finding(got, "Weekend against weekday discharges")
    assert weekend.value == pytest.approx(7 / 11.2, rel=1e-12)
    # by 17:00: half of every day's discharges
    assert finding(got, "Discharged by 17:00").value == pytest.approx(50.0)
    # criteria to reside: 20 a day in January, 30 in February; beds occupied 90 and 93 in those
    # months (the only ones both hold), so halves: 20 / 90 and 30 / 93 per 100
    ctr = finding(got, "Criteria to reside per 100 occupied beds")
    assert ctr.value == pytest.approx(30 / 93 * 100, rel=1e-12)
    assert "against 22.2 in Jan 2024" in ctr.text
    top = got.tables["delayed_reasons_top"]
    assert top["reason"].tolist()[:3] == ["Capacity – X", "Capacity – Y", "Hospital process – Z"]
    assert top["share_pct"].tolist() == pytest.approx([60.0, 30.0, 10.0])
    reason = finding(got, "Top reason for delayed discharge")
    assert reason.value == pytest.approx(60.0)
    assert "“Capacity – X”: 60.0% of delayed patients" in reason.text
    assert "the top 3 of 3 reasons account for 100.0%" in reason.text
    group = finding(got, "Largest group of delay reasons")
    assert group.value == pytest.approx(90.0)
    assert "then Hospital process 10.0%" in group.text
    two = review(full_inputs(), top_reasons=2)
    assert len(two.tables["delayed_reasons_top"]) == 2
    assert len(two.tables["delayed_reasons"]) == 3


# -- findings, missing data and errors -----------------------------------------------------------


def test_every_finding_states_its_number() -> None:
    got = review(full_inputs())
    assert [s.key for s in got.sections] == [k for k, _ in QUESTIONS]
    assert all(s.answered for s in got.sections)
    for f in got.findings:
        assert f.display in f.text, f
        assert f.table_name in got.tables, f
    assert got.tables["findings"]["text"].tolist() == [f.text for f in got.findings]


def test_format_value() -> None:
    assert format_value(4.2, "% a year") == "+4.2%"
    assert format_value(-1.25, "pp") == "-1.2 pp"
    assert format_value(92.49, "%") == "92.5%"
    assert format_value(15012.4, "attendances a month") == "15,012"
    assert format_value(32.34, "per 100 admissions") == "32.3"
    assert format_value(0.5, "ratio") == "0.50"


def test_missing_series_leave_questions_not_answered_and_the_report_still_renders(
    tmp_path: Path,
) -> None:
    inputs = ReviewInputs(
        org="A",
        attendances=monthly("2024-01-01", [100.0, 120.0, 110.0]),
        missing=["A ga_beds_occupied [all]: not stored", "A discharges [all]: not stored"],
    )
    got = review(inputs)
    answered = {s.key: s.answered for s in got.sections}
    assert answered == {
        "demand": True,
        "acuity": False,
        "redistribution": False,
        "volatility": True,
        "capacity": False,
        "resource_use": False,
    }
    capacity = got.section("capacity")
    assert any("Occupancy: needs G&A beds" in line for line in capacity.not_answered)
    report = write_report(got, tmp_path / "out")
    html = report.html_path.read_text(encoding="utf-8")
    assert html.count("<strong>Not answered.</strong>") == 4
    assert "A ga_beds_occupied [all]: not stored" in html
    assert "data:image/png;base64," in html  # the demand chart still draws


def test_report_writes_html_with_charts_and_every_table_as_csv(tmp_path: Path) -> None:
    got = review(full_inputs())
    out = tmp_path / "review"
    report = write_report(got, out, title="Crafted review")
    assert report.html_path == out / "review.html"
    html = report.html_path.read_text(encoding="utf-8")
    for _, heading in QUESTIONS:
        assert heading in html
    assert html.count('src="data:image/png;base64,') == 8
    assert "<title>Crafted review</title>" in html
    # stored text is escaped, never markup
    assert "Alpha &lt;Hospitals&gt; &amp; Co" in html
    assert "<Hospitals>" not in html
    assert "crafted for the unit tests" in html
    assert {p.name for p in report.csv_paths} == {f"{name}.csv" for name in got.tables}
    assert all(p.is_file() for p in report.csv_paths)
    capacity = pd.read_csv(out / "capacity_by_month.csv")
    assert capacity["period_start"].tolist()[0] == "2024-01-01"
    assert capacity["occupancy_pct"].tolist() == pytest.approx([90.0, 93.0, 92.0, 95.0])
    findings = pd.read_csv(out / "findings.csv")
    assert len(findings) == len(got.findings)


def test_unusable_inputs_raise_one_line_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="none of the series the review reads is stored"):
        review(ReviewInputs(org="A"))
    ok = ReviewInputs(org="A", attendances=monthly("2024-01-01", [1.0]))
    with pytest.raises(UsageError, match=r"occupancy threshold must be a fraction in \(0, 1\]"):
        review(ok, occupancy_threshold=92)
    with pytest.raises(UsageError, match="top reasons must be a whole number"):
        review(ok, top_reasons=0)
    bad = ReviewInputs(org="A", attendances=pd.DataFrame({"period_start": [], "count": []}))
    with pytest.raises(UsageError, match="review input attendances lacks column"):
        review(bad)
    with pytest.raises(UsageError, match="no review question 'beds'"):
        review(ok).section("beds")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        write_report(review(ok), blocker)
