"""The plan assurance rule engine: each rule fires on a plan that breaks exactly it.

Reference figures come from the worked example ``data/demo/plans/lsc_resilience_2015.yaml``,
summed by hand from its rows: funding 3,600,000 + 2,400,000 + 600,000 = £6,600,000; minimum
scheme costs S01–S16 = 180,000 + 65,000 + 1,450,000 + 980,000 + 620,000 + 840,000 + 210,000 +
1,150,000 + 145,000 + 260,000 + 95,000 + 70,000 + 240,000 + 120,000 + 85,000 + 10,000 =
£6,520,000; innovation S17–S19 = 80,000 + 29,000 + 410,000 = £519,000; total £7,039,000; gap
7,039,000 − 6,600,000 = £439,000. Critical path (by hand from the milestone list): M01 (0) →
M02 (45) → M07 (90) → M14 (5) = 140 days; the next longest chain, M01 → M04 → M05 → M06 → M14,
is 0 + 30 + 60 + 40 + 5 = 135 days. The STP figures are worked in ``plans_factory.py``.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from rich.console import Console

from flowplan.plans import (
    FinancialSummaryLine,
    FundingKind,
    FundingLine,
    Plan,
    PlanStatus,
    SchemeCost,
    SignOff,
    TrajectoryPoint,
)
from flowplan.plans.checks import (
    RULES,
    CheckReport,
    RuleCatalogue,
    check_plan,
    parse_catalogue,
    render_findings_table,
    rule_catalogue,
)
from flowplan.plans.findings import Finding, Severity

from .plans_factory import (
    demo_plan,
    milestone,
    restate_totals,
    risk,
    scheme,
    stp_plan,
    summary_rows,
)

TODAY = date(2016, 1, 15)


def notable(report: CheckReport) -> list[Finding]:
    """The findings that are not info (the demo plan has only info findings)."""
    return [f for f in report.findings if f.severity is not Severity.info]


def only(report: CheckReport) -> Finding:
    """The one non-info finding of a report (fails unless there is exactly one)."""
    found = notable(report)
    assert len(found) == 1, [f.line() for f in found]
    return found[0]


def check(
    plan: Plan,
    *,
    previous: Plan | None = None,
    catalogue: RuleCatalogue | None = None,
    rules: list[str] | None = None,
) -> CheckReport:
    """check_plan on ``TODAY`` (after every lock deadline used here)."""
    return check_plan(plan, previous=previous, today=TODAY, catalogue=catalogue, rules=rules)


# --- Catalogue ---------------------------------------------------------------------------------


def test_every_catalogue_rule_has_a_function_and_every_function_an_entry() -> None:
    assert set(rule_catalogue().ids()) == set(RULES)
    assert len(rule_catalogue().ids()) == len(RULES) == 26


def test_packaged_catalogue_matches_the_toml_file() -> None:
    text = resources.files("flowplan.plans").joinpath("rules.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    ids = [r["id"] for r in data["rules"]]
    assert ids == rule_catalogue().ids()
    assert rule_catalogue().get("PLAN-REQ-COVERED").params == {"min_schemes": 1, "min_kpis": 1}
    assert rule_catalogue().get("PLAN-TOTALS").params == {"tolerance_gbp": 1}


def test_every_rule_is_tested_here() -> None:
    text = Path(__file__).read_text(encoding="utf-8")
    untested = [rule_id for rule_id in RULES if f'"{rule_id}"' not in text]
    assert untested == []


def test_catalogue_severity_is_used() -> None:
    catalogue = rule_catalogue()
    changed = RuleCatalogue(
        title=catalogue.title,
        version="test",
        source=catalogue.source,
        rules=tuple(
            spec.model_copy(update={"severity": Severity.warning})
            if spec.id == "PLAN-FUND-GAP-STATED"
            else spec
            for spec in catalogue.rules
        ),
    )
    plan = demo_plan()
    assert plan.stated_totals is not None
    plan.stated_totals.funding_gap_gbp = Decimal(440_000)
    report = check(plan, catalogue=changed)
    assert only(report).severity is Severity.warning
    assert report.passed


def test_thresholds_come_from_the_catalogue() -> None:
    # With 2 KPIs needed per complete scheme, every requirement met only by one-KPI schemes
    # fails: S04 (2 KPIs), S08 (3) and S13 (2) are the demo's only multi-KPI schemes, meeting
    # NE05, NE06, NE10, NE11, EL05, EL09, EL10; the other 26 − 7 = 19 requirements fail.
    catalogue = rule_catalogue()
    changed = catalogue.model_copy(
        update={
            "rules": tuple(
                spec.model_copy(update={"params": {"min_schemes": 1, "min_kpis": 2}})
                if spec.id == "PLAN-REQ-COVERED"
                else spec
                for spec in catalogue.rules
            )
        }
    )
    report = check(demo_plan(), catalogue=changed)
    assert len(report.by_rule("PLAN-REQ-COVERED")) == 19
    assert {f.rule for f in notable(report)} == {"PLAN-REQ-COVERED"}


def test_catalogue_out_of_step_with_functions_is_refused() -> None:
    catalogue = rule_catalogue()
    short = catalogue.model_copy(update={"rules": catalogue.rules[1:]})
    with pytest.raises(ValueError, match="PLAN-REQ-COVERED"):
        check(demo_plan(), catalogue=short)


def test_bad_catalogue_text_is_refused() -> None:
    with pytest.raises(ValueError, match=r"rules\.toml"):
        parse_catalogue('title = "x"\nversion = "1"\nsource = "s"\n[[rules]]\nid = "BAD"\n')


def test_subset_of_rules() -> None:
    report = check(demo_plan(), rules=["PLAN-FUND-GAP"])
    assert [f.rule for f in report.findings] == ["PLAN-FUND-GAP"]
    with pytest.raises(ValueError, match="NOPE"):
        check(demo_plan(), rules=["NOPE"])


# --- The demo plan -----------------------------------------------------------------------------


def test_demo_plan_passes_with_only_info_findings() -> None:
    report = check(demo_plan())
    assert report.passed
    assert notable(report) == []
    assert [f.rule for f in report.findings] == ["PLAN-FUND-GAP", "PLAN-CRIT-PATH"]


def test_demo_figures() -> None:
    report = check(demo_plan())
    assert report.funding_total.by_year == {"2015/16": Decimal(6_600_000)}
    assert report.funding_total.overall == Decimal(6_600_000)
    assert report.scheme_cost_total.overall == Decimal(7_039_000)
    assert report.funding_gap.overall == Decimal(439_000)
    assert report.funding_gap.by_year == {"2015/16": Decimal(439_000)}
    gap = report.by_rule("PLAN-FUND-GAP")[0]
    assert (gap.location, gap.stated, gap.expected) == ("funding_gap", "£439,000", "£439,000")
    assert "scheme cost £7,039,000 − funding £6,600,000" in gap.message
    assert report.funding_gap_text() == (
        "Funding gap £439,000 (scheme cost £7,039,000 − funding £6,600,000)."
    )


def test_demo_critical_path() -> None:
    report = check(demo_plan())
    assert report.critical_path is not None
    assert report.critical_path.critical_path == ("M01", "M02", "M07", "M14")
    assert report.critical_path.duration == 140
    # M01 is a zero-day gate due 2015-04-15; 140 days later is 2015-09-02.
    assert report.programme_start == date(2015, 4, 15)
    assert report.programme_finish == date(2015, 9, 2)
    found = report.by_rule("PLAN-CRIT-PATH")[0]
    assert found.location == "milestones"
    assert found.expected == "140"
    assert "M01 → M02 → M07 → M14: 140 days" in found.message


def test_demo_coverage() -> None:
    coverage = check(demo_plan()).coverage
    assert len(coverage) == 26  # NE01–NE13 and EL01–EL13
    assert coverage["NE01"] == ["S01"]
    assert coverage["EL03"] == ["S01"]
    assert coverage["EL13"] == ["S16"]


def test_as_dict_is_json() -> None:
    data = json.loads(json.dumps(check(demo_plan()).as_dict()))
    assert data["passed"] is True
    assert data["counts"] == {"error": 0, "warning": 0, "info": 2}
    assert data["funding_gap"] == {"by_year": {"2015/16": 439000}, "overall": 439000}
    assert data["critical_path"]["path"] == ["M01", "M02", "M07", "M14"]
    assert data["critical_path"]["duration_days"] == 140
    assert data["critical_path"]["finish"] == "2015-09-02"
    assert data["coverage"]["NE02"] == ["S02"]
    assert data["findings"][0]["rule"] == "PLAN-FUND-GAP"


def test_render_findings_table() -> None:
    plan = demo_plan()
    scheme(plan, "S02").kpis[0].target = 90.0
    table = render_findings_table(check(plan))
    assert [c.header for c in table.columns] == [
        "rule",
        "severity",
        "location",
        "message",
        "stated",
        "expected",
    ]
    assert table.row_count == 3
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert "schemes[S02].kpis[0].target" in text
    assert "PLAN-KPI-DIRECTION" in text


# --- Rule 1: requirements ----------------------------------------------------------------------


def test_requirement_with_no_scheme() -> None:
    plan = demo_plan()
    scheme(plan, "S02").requirements = []
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-REQ-COVERED",
        "requirements[NE02]",
        "0",
        "≥ 1",
    )
    assert "no scheme meets it" in found.message


def test_requirement_met_by_scheme_without_kpi() -> None:
    plan = demo_plan()
    scheme(plan, "S02").kpis = []
    found = only(check(plan))
    assert (found.rule, found.location) == ("PLAN-REQ-COVERED", "requirements[NE02]")
    assert "S02 lacks a KPI" in found.message


def test_requirement_met_by_scheme_without_kpi_or_timeframe() -> None:
    plan = demo_plan()
    s02 = scheme(plan, "S02")
    s02.kpis, s02.start, s02.end = [], None, None
    found = only(check(plan))
    assert "S02 lacks a KPI, a timeframe (start and end, or a KPI target date)" in found.message


def test_requirement_met_by_scheme_without_cost() -> None:
    plan = demo_plan()
    scheme(plan, "S09").costs = []  # S09 alone meets NE12
    restate_totals(plan)
    found = only(check(plan))
    assert (found.rule, found.location) == ("PLAN-REQ-COVERED", "requirements[NE12]")
    assert "S09 lacks an estimated cost" in found.message


def test_requirement_met_by_scheme_without_named_lead() -> None:
    plan = demo_plan()
    scheme(plan, "S16").lead.name = "  "
    found = only(check(plan))
    assert found.location == "requirements[EL13]"
    assert "named accountable officer" in found.message


def test_one_finding_per_requirement() -> None:
    # S01 meets NE01 and EL03 (and nothing else meets them): two findings.
    plan = demo_plan()
    scheme(plan, "S01").kpis = []
    found = notable(check(plan))
    assert [f.location for f in found] == ["requirements[NE01]", "requirements[EL03]"]


# --- Rules 2 and 3: funding gap and totals -----------------------------------------------------


def test_stated_gap_differs() -> None:
    plan = demo_plan()
    assert plan.stated_totals is not None
    plan.stated_totals.funding_gap_gbp = Decimal(440_000)
    found = only(check(plan))
    assert (found.rule, found.severity, found.location, found.stated, found.expected) == (
        "PLAN-FUND-GAP-STATED",
        Severity.error,
        "stated_totals.funding_gap_gbp",
        "£440,000",
        "£439,000",
    )


def test_stated_gap_within_one_pound_passes() -> None:
    plan = demo_plan()
    assert plan.stated_totals is not None
    plan.stated_totals.funding_gap_gbp = Decimal(439_001)
    assert notable(check(plan)) == []


@pytest.mark.parametrize(
    ("field", "stated", "expected"),
    [
        ("total_funding_gbp", 6_600_002, "£6,600,000"),
        ("total_scheme_cost_gbp", 7_000_000, "£7,039,000"),
        ("minimum_requirement_cost_gbp", 6_502_000, "£6,520,000"),
        ("innovation_cost_gbp", 591_000, "£519,000"),
    ],
)
def test_stated_total_differs(field: str, stated: int, expected: str) -> None:
    plan = demo_plan()
    assert plan.stated_totals is not None
    setattr(plan.stated_totals, field, Decimal(stated))
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-TOTALS",
        f"stated_totals.{field}",
        f"£{stated:,}",
        expected,
    )


# --- Rules 4 and 12: cost ranges, funding sources and years ------------------------------------


def test_minimum_above_maximum() -> None:
    plan = demo_plan()
    s03 = scheme(plan, "S03")
    s03.minimum_gbp, s03.maximum_gbp = Decimal(200_000), Decimal(150_000)
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-COST-RANGE",
        "schemes[S03].minimum_gbp",
        "£200,000",
        "≤ £150,000",
    )


def test_minimum_equal_to_maximum_passes() -> None:
    plan = demo_plan()
    s03 = scheme(plan, "S03")
    s03.minimum_gbp = s03.maximum_gbp = Decimal(150_000)
    assert notable(check(plan)) == []


def test_scheme_with_costs_and_no_funding_source() -> None:
    plan = demo_plan()
    scheme(plan, "S03").funding_source = None
    found = only(check(plan))
    assert (found.rule, found.severity, found.location) == (
        "PLAN-FUND-SOURCE",
        Severity.warning,
        "schemes[S03].funding_source",
    )
    assert "£1,450,000" in found.message


def test_funding_source_with_no_funding_line() -> None:
    plan = demo_plan()
    scheme(plan, "S03").funding_source = FundingKind.stf
    found = only(check(plan))
    assert (found.rule, found.location, found.stated) == (
        "PLAN-FUND-SOURCE-KIND",
        "schemes[S03].funding_source",
        "stf",
    )
    assert found.expected == "central_resilience, marginal_tariff, other_local"


def test_funding_line_outside_plan_period() -> None:
    plan = demo_plan()
    plan.funding.append(
        FundingLine(
            kind=FundingKind.other_local,
            description="Next year's contribution",
            amount_gbp=Decimal(0),
            year="2016/17",
        )
    )
    report = check(plan)
    found = only(report)
    assert (found.rule, found.severity, found.location, found.stated, found.expected) == (
        "PLAN-FUND-YEAR",
        Severity.warning,
        "funding[3].year",
        "2016/17",
        "2015/16",
    )
    assert report.funding_total.by_year == {"2015/16": Decimal(6_600_000), "2016/17": Decimal(0)}


def test_scheme_cost_outside_plan_period() -> None:
    plan = demo_plan()
    scheme(plan, "S03").costs.append(SchemeCost(year="2014/15", amount_gbp=Decimal(0)))
    found = only(check(plan))
    assert (found.rule, found.location, found.stated) == (
        "PLAN-COST-YEAR",
        "schemes[S03].costs[1].year",
        "2014/15",
    )


# --- Rule 5: dates -----------------------------------------------------------------------------


def test_scheme_ends_before_it_starts() -> None:
    plan = demo_plan()
    s02 = scheme(plan, "S02")
    s02.start, s02.end = date(2015, 6, 1), date(2015, 5, 1)
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-DATE-ORDER",
        "schemes[S02].end",
        "2015-05-01",
        "≥ 2015-06-01",
    )


def test_scheme_outside_plan_period() -> None:
    plan = demo_plan()
    s19 = scheme(plan, "S19")
    s19.start, s19.end = date(2016, 5, 1), date(2016, 9, 30)
    found = only(check(plan))
    assert (found.rule, found.severity, found.location, found.stated, found.expected) == (
        "PLAN-DATE-PERIOD",
        Severity.warning,
        "schemes[S19].start",
        "2016-05-01",
        "2015-04-01..2016-03-31",
    )


def test_scheme_overlapping_plan_period_passes() -> None:
    plan = demo_plan()
    scheme(plan, "S19").end = date(2016, 9, 30)
    assert notable(check(plan)) == []


def test_kpi_target_date_not_after_baseline_date() -> None:
    plan = demo_plan()
    scheme(plan, "S02").kpis[0].baseline_date = date(2016, 3, 31)
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-DATES",
        "schemes[S02].kpis[0].target_date",
        "2016-03-31",
        "> 2016-03-31",
    )


def test_milestone_due_before_upstream_milestone() -> None:
    # M12 (due 2015-09-30) depends on M11 (no due date), which depends on M09: moving M09 to
    # 2015-10-15 puts M12 before it.
    plan = demo_plan()
    milestone(plan, "M09").due = date(2015, 10, 15)
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-MS-DUE-ORDER",
        "milestones[M12].due",
        "2015-09-30",
        "≥ 2015-10-15 (M09)",
    )


# --- Rule 6: milestones and the critical path --------------------------------------------------


def test_milestone_cycle() -> None:
    plan = demo_plan()
    milestone(plan, "M02").depends_on = ["M01", "M03"]  # M03 depends on M02
    report = check(plan)
    found = only(report)
    assert (found.rule, found.location, found.stated) == (
        "PLAN-MS-CYCLE",
        "milestones[M02].depends_on",
        "M02 → M03 → M02",
    )
    assert report.critical_path is None
    assert report.by_rule("PLAN-CRIT-PATH") == []


def test_critical_path_overruns_plan_period() -> None:
    # M07 from 90 to 400 days: M01 → M02 → M07 → M14 = 0 + 45 + 400 + 5 = 450 days from
    # 2015-04-15, finishing 2016-07-08, after the period end 2016-03-31.
    plan = demo_plan()
    milestone(plan, "M07").duration_days = 400
    report = check(plan)
    found = only(report)
    assert (found.rule, found.severity, found.location, found.stated, found.expected) == (
        "PLAN-CRIT-OVERRUN",
        Severity.warning,
        "milestones[M14]",
        "2016-07-08",
        "≤ 2016-03-31",
    )
    assert report.by_rule("PLAN-CRIT-PATH")[0].expected == "450"


def test_critical_path_from_plan_start_without_dated_first_milestone() -> None:
    # With M01 undated the programme starts with the plan, 2015-04-01; 140 days → 2015-08-19.
    plan = demo_plan()
    milestone(plan, "M01").due = None
    report = check(plan)
    assert notable(report) == []
    assert report.programme_start == date(2015, 4, 1)
    assert report.programme_finish == date(2015, 8, 19)


# --- Rule 7: KPIs ------------------------------------------------------------------------------


def test_percentage_above_100() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].baseline = 105.0  # bed occupancy, %
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-BOUNDS",
        "schemes[S01].kpis[0].baseline",
        "105",
        "0–100",
    )


def test_negative_count() -> None:
    plan = demo_plan()
    scheme(plan, "S13").kpis[1].target = -1.0  # 52-week waiters, a count
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-BOUNDS",
        "schemes[S13].kpis[1].target",
        "-1",
        "≥ 0",
    )


def test_trajectory_value_out_of_bounds() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].trajectory[1].value = -3.0
    found = only(check(plan))
    assert (found.rule, found.location) == (
        "PLAN-KPI-BOUNDS",
        "schemes[S01].kpis[0].trajectory[1].value",
    )


def test_target_in_the_worse_direction() -> None:
    plan = demo_plan()
    scheme(plan, "S02").kpis[0].target = 90.0  # A&E 4 hours, higher is better, baseline 91.8
    found = only(check(plan))
    assert (found.rule, found.severity, found.location, found.stated, found.expected) == (
        "PLAN-KPI-DIRECTION",
        Severity.warning,
        "schemes[S02].kpis[0].target",
        "90",
        "≥ 91.8",
    )


def test_lower_is_better_target_rising() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].target = 96.0  # bed occupancy, lower is better, baseline 95.1
    scheme(plan, "S01").kpis[0].trajectory = []
    found = only(check(plan))
    assert (found.rule, found.expected) == ("PLAN-KPI-DIRECTION", "≤ 95.1")


def test_target_equal_to_baseline_passes() -> None:
    plan = demo_plan()
    scheme(plan, "S02").kpis[0].target = 91.8
    assert notable(check(plan)) == []


def test_baseline_from_numerator_and_denominator() -> None:
    # Weekend discharges %: 150 ÷ 1,000 × 100 = 15.0, but the baseline says 14.0.
    plan = demo_plan()
    kpi = scheme(plan, "S04").kpis[0]
    kpi.numerator, kpi.denominator = 150.0, 1000.0
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-RATIO",
        "schemes[S04].kpis[0].baseline",
        "14",
        "15.00",
    )


def test_baseline_ratios_that_agree_pass() -> None:
    plan = demo_plan()
    # Weekend discharges 14.3% from 1 ÷ 7 × 100 = 14.2857..., within half a unit of 0.1.
    weekend = scheme(plan, "S04").kpis[0]
    weekend.baseline, weekend.numerator, weekend.denominator = 14.3, 1.0, 7.0
    # A&E 4 hours is a complement: 100 × (1 − 82 breaches ÷ 1,000 attendances) = 91.8.
    ae = scheme(plan, "S02").kpis[0]
    ae.numerator, ae.denominator = 82.0, 1000.0
    # Chronic ACSC admissions per 100,000 (annual): 17,170 ÷ 1,700,000 × 100,000 = 1,010.
    acsc = scheme(plan, "S03").kpis[0]
    acsc.numerator, acsc.denominator = 17_170.0, 1_700_000.0
    assert notable(check(plan)) == []


def test_ratio_just_outside_rounding() -> None:
    # 1 ÷ 7 × 100 = 14.2857...; a baseline of 14.2 is 0.0857 away, more than half of 0.1.
    plan = demo_plan()
    weekend = scheme(plan, "S04").kpis[0]
    weekend.baseline, weekend.numerator, weekend.denominator = 14.2, 1.0, 7.0
    found = only(check(plan))
    assert (found.rule, found.stated, found.expected) == ("PLAN-KPI-RATIO", "14.2", "14.29")


def test_trajectory_does_not_end_at_target() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].trajectory[3].value = 92.5
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-TRAJECTORY",
        "schemes[S01].kpis[0].trajectory[3].value",
        "92.5",
        "92",
    )


def test_trajectory_does_not_end_on_target_date() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].trajectory[3].date = date(2016, 3, 30)
    found = only(check(plan))
    assert (found.location, found.stated, found.expected) == (
        "schemes[S01].kpis[0].trajectory[3].date",
        "2016-03-30",
        "2016-03-31",
    )


def test_trajectory_point_outside_plan_period() -> None:
    plan = demo_plan()
    scheme(plan, "S01").kpis[0].trajectory.insert(
        0, TrajectoryPoint(date=date(2015, 3, 31), value=95.1)
    )
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-KPI-TRAJECTORY",
        "schemes[S01].kpis[0].trajectory[0].date",
        "2015-03-31",
        "2015-04-01..2016-03-31",
    )


def test_trajectory_out_of_order() -> None:
    plan = demo_plan()
    points = scheme(plan, "S01").kpis[0].trajectory
    points[1].date, points[2].date = points[2].date, points[1].date
    found = only(check(plan))
    assert (found.location, found.stated, found.expected) == (
        "schemes[S01].kpis[0].trajectory[2].date",
        "2015-09-30",
        "> 2015-12-31",
    )


# --- Rule 8: sign-off --------------------------------------------------------------------------


def _signoff(org: str) -> SignOff:
    return SignOff(org=org, user="chair", at=datetime(2015, 4, 20, 12, 0))


def test_signed_off_plan_missing_signatories() -> None:
    plan = demo_plan()
    plan.status = PlanStatus.signed_off
    plan.signoffs = [_signoff(code) for code in ("QE1", "RXN", "RXL", "RXR", "RTX")]
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-SIGNOFF-MISSING",
        "signoffs",
        "5",
        "7",
    )
    assert "RX7, E10000017" in found.message


def test_published_plan_signed_by_all_passes_and_draft_needs_none() -> None:
    plan = demo_plan()
    plan.status = PlanStatus.published
    plan.signoffs = [_signoff(m.code) for m in plan.members]
    assert notable(check(plan)) == []
    assert notable(check(demo_plan())) == []  # a draft with no sign-offs


def test_signoff_by_non_signatory_member() -> None:
    plan = demo_plan()
    next(m for m in plan.members if m.code == "RX7").signatory = False
    plan.signoffs = [_signoff("RX7")]
    found = only(check(plan))
    assert (found.rule, found.location, found.stated) == (
        "PLAN-SIGNOFF-NOT-SIGNATORY",
        "signoffs[0].org",
        "RX7",
    )
    assert "not a signatory" in found.message


# --- Rule 9: locked years ----------------------------------------------------------------------


def _locked_pair() -> tuple[Plan, Plan]:
    previous = demo_plan()
    previous.locked_years = ["2015/16"]
    previous.lock_deadline = date(2015, 7, 31)
    return previous, previous.model_copy(deep=True)


def test_locked_year_funding_description_changed() -> None:
    previous, plan = _locked_pair()
    plan.funding[0].description = "Central funding, revised"
    found = only(check(plan, previous=previous))
    assert (found.rule, found.location) == ("PLAN-LOCKED-YEAR", "funding[0].description")
    assert found.stated == "Central funding, revised"


def test_locked_year_money_changed() -> None:
    # Other local funding 600,000 → 650,000 with the totals restated to match: the line, the
    # stated total funding (6,600,000 → 6,650,000) and the stated gap (439,000 → 389,000) change.
    previous, plan = _locked_pair()
    plan.funding[2].amount_gbp = Decimal(650_000)
    restate_totals(plan)
    found = notable(check(plan, previous=previous))
    assert {f.rule for f in found} == {"PLAN-LOCKED-YEAR"}
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("funding[2].amount_gbp", "£650,000", "£600,000"),
        ("stated_totals.total_funding_gbp", "£6,650,000", "£6,600,000"),
        ("stated_totals.funding_gap_gbp", "£389,000", "£439,000"),
    ]


def test_locked_year_scheme_cost_changed() -> None:
    previous, plan = _locked_pair()
    scheme(plan, "S03").costs[0].amount_gbp = Decimal(1_500_000)
    found = [f for f in check(plan, previous=previous).findings if f.rule == "PLAN-LOCKED-YEAR"]
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("schemes[S03].costs[0].amount_gbp", "£1,500,000", "£1,450,000")
    ]


def test_changes_before_the_deadline_or_without_previous_pass() -> None:
    previous, plan = _locked_pair()
    plan.funding[0].description = "Central funding, revised"
    assert notable(check_plan(plan, previous=previous, today=date(2015, 7, 31))) == []
    assert notable(check(plan)) == []


def test_unlisting_a_locked_year_does_not_unlock_it() -> None:
    previous, plan = _locked_pair()
    plan.locked_years = []
    plan.funding[0].description = "Central funding, revised"
    assert only(check(plan, previous=previous)).location == "funding[0].description"


def test_unlocked_year_may_change() -> None:
    # A two-year plan with 2015/16 locked: the 2016/17 line may change, and the stated totals
    # (which span both years) are not locked.
    previous = demo_plan()
    previous.period_end = date(2017, 3, 31)
    previous.locked_years = ["2015/16"]
    previous.lock_deadline = date(2015, 7, 31)
    previous.funding.append(
        FundingLine(
            kind=FundingKind.other_local,
            description="2016/17 contribution",
            amount_gbp=Decimal(0),
            year="2016/17",
        )
    )
    plan = previous.model_copy(deep=True)
    plan.funding[3].description = "2016/17 contribution, revised"
    assert notable(check(plan, previous=previous)) == []


def test_locked_financial_summary_row_changed() -> None:
    previous = stp_plan()
    previous.locked_years = ["2020/21"]
    previous.lock_deadline = date(2016, 10, 21)
    plan = previous.model_copy(deep=True)
    assert plan.financial_summary is not None
    row = plan.financial_summary[3]  # STF allocation: solutions 45,000 → 40,000
    row.solutions, row.do_something = Decimal(40_000), Decimal(40_000)
    found = [
        f
        for f in check_plan(plan, previous=previous, today=date(2017, 1, 1)).findings
        if f.rule == "PLAN-LOCKED-YEAR"
    ]
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("financial_summary[3].solutions", "40,000", "45,000"),
        ("financial_summary[3].do_something", "40,000", "45,000"),
    ]


# --- Rule 10: STP financial summary ------------------------------------------------------------


def test_stp_summary_that_adds_up_passes() -> None:
    report = check(stp_plan())
    assert notable(report) == []
    assert report.passed


def test_do_something_is_not_do_nothing_plus_solutions() -> None:
    plan = stp_plan()
    # A summary of one row: only the row rule applies. -50,000 + 30,000 = -20,000, not -19,000.
    plan.financial_summary = summary_rows(
        [(FinancialSummaryLine.commissioner, -50_000, 30_000, -19_000)]
    )
    found = only(check(plan))
    assert (found.rule, found.location, found.stated, found.expected) == (
        "PLAN-FIN-ROW",
        "financial_summary[0].do_something",
        "-19,000",
        "-20,000",
    )


def test_do_something_within_half_a_thousand_passes() -> None:
    plan = stp_plan()
    plan.financial_summary = summary_rows(
        [(FinancialSummaryLine.commissioner, -50_000, 30_000, -19_999.5)]
    )
    assert notable(check(plan)) == []


def test_total_row_is_not_the_sum_of_its_parts() -> None:
    # Total row do nothing -149,000 and do something 1,000 (the row itself adds up:
    # -149,000 + 150,000 = 1,000) but after STF + social care = -150,000 and 0.
    plan = stp_plan()
    assert plan.financial_summary is not None
    total = plan.financial_summary[6]
    total.do_nothing, total.do_something = Decimal(-149_000), Decimal(1_000)
    found = notable(check(plan))
    assert {f.rule for f in found} == {"PLAN-FIN-TOTAL"}
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("financial_summary[6].do_nothing", "-149,000", "-150,000"),
        ("financial_summary[6].do_something", "1,000", "0"),
    ]


def test_footprint_row_is_not_commissioner_plus_provider() -> None:
    plan = stp_plan()
    assert plan.financial_summary is not None
    # Commissioner -51,000 + 31,000 = -20,000 still adds up across, but down the columns
    # commissioner + provider = -131,000 and 86,000, not the footprint's -130,000 and 85,000.
    row = plan.financial_summary[0]
    row.do_nothing, row.solutions = Decimal(-51_000), Decimal(31_000)
    found = notable(check(plan))
    assert [(f.rule, f.location, f.stated, f.expected) for f in found] == [
        ("PLAN-FIN-TOTAL", "financial_summary[2].do_nothing", "-130,000", "-131,000"),
        ("PLAN-FIN-TOTAL", "financial_summary[2].solutions", "85,000", "86,000"),
    ]


# --- Rule 11: risks ----------------------------------------------------------------------------


def test_red_risk_without_mitigation() -> None:
    plan = demo_plan()
    r02 = risk(plan, "R02")  # 3 × 5 = 15: red
    r02.mitigation = ""
    found = only(check(plan))
    assert (found.rule, found.location) == ("PLAN-RISK-RED", "risks[R02].mitigation")
    assert "score 15 = 3 × 5" in found.message


def test_red_risk_with_blank_owner() -> None:
    plan = demo_plan()
    risk(plan, "R01").owner = " "  # 4 × 4 = 16: red
    found = only(check(plan))
    assert (found.rule, found.location) == ("PLAN-RISK-RED", "risks[R01].owner")


def test_amber_risk_without_mitigation_passes() -> None:
    plan = demo_plan()
    risk(plan, "R03").mitigation = ""  # 3 × 4 = 12: amber
    assert notable(check(plan)) == []
