"""The BCF assurance rules (bcf/rules.toml) on the demo plan and on broken copies of it.

Demo figures (data/demo/plans/lancashire_bcf_2015.yaml): proposed pooled budget 2015/16
£79,000,000 (QE1 £70,000,000 + E10000017 £9,000,000), minimum £74,700,000, maximum
£83,600,000; national minimum allocation £76,000,000 (seed 001 ¶22 L1369); contingency
£1,500,000 = risks R01 £800,000 + R02 £400,000 + R03 £300,000.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flowplan.bcf.rules import RULES, check_bcf, rule_catalogue
from flowplan.plans.checks import check_plan
from flowplan.plans.findings import Finding, Severity
from tests.unit.bcf import bcf, demo_plan, metric


def _findings(rule: str, change: Any) -> list[Finding]:
    return check_bcf(demo_plan(change), rules=[rule])


def test_catalogue_and_rule_functions_agree() -> None:
    catalogue = rule_catalogue()
    assert set(catalogue.ids()) == set(RULES)
    assert all(r.id.startswith("BCF-") and r.basis for r in catalogue.rules)


def test_demo_plan_passes_the_bcf_and_core_rules() -> None:
    plan = demo_plan()
    assert check_bcf(plan) == []
    report = check_plan(plan, today=date(2015, 6, 1))
    assert [f.rule for f in report.findings if f.severity is Severity.error] == []
    assert report.passed


def test_budget_total_is_the_sum_of_its_lines() -> None:
    def change(d: dict[str, Any]) -> None:
        bcf(d)["stated_totals"][1]["proposed_gbp"] = 69_000_000  # QE1 lines sum to 70,000,000

    (f,) = _findings("BCF-BUDGET-TOTAL", change)
    assert f.location == "extensions.bcf.stated_totals[1].proposed_gbp"
    assert (f.stated, f.expected) == ("£69,000,000", "£70,000,000")
    assert f.severity is Severity.error


def test_budget_range_minimum_proposed_maximum() -> None:
    def change(d: dict[str, Any]) -> None:
        bcf(d)["pooled_budget"][0]["proposed_gbp"] = 700_000  # max 600,000
        bcf(d)["pooled_budget"][1]["minimum_gbp"] = 27_000_000  # above max 26,000,000

    found = _findings("BCF-BUDGET-RANGE", change)
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("extensions.bcf.pooled_budget[0].proposed_gbp", "£700,000", "≤ £600,000"),
        ("extensions.bcf.pooled_budget[1].proposed_gbp", "£25,000,000", "≥ £27,000,000"),
        ("extensions.bcf.pooled_budget[1].minimum_gbp", "£27,000,000", "≤ £26,000,000"),
    ]


def test_budget_references() -> None:
    def change(d: dict[str, Any]) -> None:
        line = bcf(d)["pooled_budget"][0]
        line.update(scheme="S99", organisation="RW5", lead_provider="RX7", year="2016/17")

    found = _findings("BCF-BUDGET-REF", change)
    assert [(f.location.rsplit(".", 1)[1], f.stated) for f in found] == [
        ("scheme", "S99"),
        ("organisation", "RW5"),
        ("lead_provider", "RX7"),
        ("year", "2016/17"),
    ]


def test_scheme_cost_matches_its_pooled_lines() -> None:
    def change(d: dict[str, Any]) -> None:
        d["schemes"][3]["costs"][0]["amount_gbp"] = 3_000_000  # S04 lines: 1.2m + 2.0m

    (f,) = _findings("BCF-SCHEME-COST", change)
    assert (f.location, f.stated, f.expected) == ("schemes[S04].costs", "£3,000,000", "£3,200,000")
    assert f.severity is Severity.warning


def test_pooled_budget_reaches_the_national_minimum_allocation() -> None:
    def change(d: dict[str, Any]) -> None:
        bcf(d)["minimum_allocation"][0]["amount_gbp"] = 80_000_000

    (f,) = _findings("BCF-MIN-ALLOCATION", change)
    assert (f.stated, f.expected) == ("£79,000,000", "≥ £80,000,000")
    assert "short by £1,000,000" in f.message


def test_six_conditions_each_once_with_evidence() -> None:
    def change(d: dict[str, Any]) -> None:
        conditions = bcf(d)["conditions"]
        conditions.pop(3)  # BCF-NC4
        conditions.append({"id": "BCF-NC9", "status": "met", "evidence": "x"})
        conditions[0]["evidence"] = ""
        conditions[1]["status"] = "not_met"

    plan = demo_plan(change)
    found = check_bcf(plan, rules=["BCF-CONDITIONS", "BCF-CONDITION-EVIDENCE"])
    assert [(f.rule, f.location, f.stated) for f in found] == [
        ("BCF-CONDITIONS", "extensions.bcf.conditions[BCF-NC4]", "0"),
        ("BCF-CONDITIONS", "extensions.bcf.conditions[BCF-NC9]", "BCF-NC9"),
        ("BCF-CONDITION-EVIDENCE", "extensions.bcf.conditions[BCF-NC1].evidence", ""),
    ]
    (not_met,) = check_bcf(plan, rules=["BCF-CONDITION-NOT-MET"])
    assert not_met.message == (
        "national condition BCF-NC2 is not met; tranche(s) at risk: apr-2015-conditions"
    )


def test_five_national_and_one_local_metric() -> None:
    def change(d: dict[str, Any]) -> None:
        metrics = bcf(d)["metrics"]
        metrics.pop(4)  # bcf.patient_experience
        metrics.append({**metrics[-1], "metric": "bcf.local.nhsof_2_6i_dementia_diagnosis"})

    found = _findings("BCF-METRICS-SET", change)
    assert [(f.message, f.stated, f.expected) for f in found] == [
        ("national metric missing", "", "bcf.patient_experience"),
        (
            "wrong number of local metrics (seed 001 ¶41 L1432: one additional indicator)",
            "2 (bcf.local.phof_2_24i_falls_65plus, bcf.local.nhsof_2_6i_dementia_diagnosis)",
            "1",
        ),
    ]


def test_ambitions_per_payment_period() -> None:
    def change(d: dict[str, Any]) -> None:
        metric(d, "bcf.delayed_transfers")["ambitions"].pop(0)  # apr-2015
        reablement = metric(d, "bcf.reablement_91_days")
        reablement["ambitions"].append({**reablement["ambitions"][0], "period": "apr-2015"})

    plan = demo_plan(change)
    (missing,) = check_bcf(plan, rules=["BCF-AMBITION-MISSING"])
    assert missing.location == "extensions.bcf.metrics[bcf.delayed_transfers].ambitions[apr-2015]"
    (unused,) = check_bcf(plan, rules=["BCF-AMBITION-UNUSED"])
    assert unused.location == "extensions.bcf.metrics[bcf.reablement_91_days].ambitions[apr-2015]"
    assert (unused.stated, unused.expected) == ("apr-2015", "oct-2015")


def test_values_are_numerator_over_denominator_by_the_metric_engine() -> None:
    def change(d: dict[str, Any]) -> None:
        # 1540 ÷ 220,000 × 100,000 = 700 (annual), not 710
        metric(d, "bcf.permanent_admissions_65plus")["baseline"]["value"] = 710.0
        # 16,920 ÷ 940,000 × 100,000 ÷ 6 months (Jan–Jun 2015) = 300 delayed days a month;
        # read as 9 months it would be 200
        metric(d, "bcf.delayed_transfers")["ambitions"][1]["months"] = 9
        # an average per month needs its months: the baseline states none
        metric(d, "bcf.delayed_transfers")["baseline"].pop("months")

    found = _findings("BCF-VALUE", change)
    assert [(f.location, f.stated, f.expected) for f in found] == [
        ("extensions.bcf.metrics[bcf.permanent_admissions_65plus].baseline.value", "710", "700.00"),
        ("extensions.bcf.metrics[bcf.delayed_transfers].baseline.months", "", ""),
        (
            "extensions.bcf.metrics[bcf.delayed_transfers].ambitions[oct-2015].value",
            "300",
            "200.00",
        ),
    ]
    assert "give the months the numerator covers" in found[1].message


def test_ambition_direction() -> None:
    def change(d: dict[str, Any]) -> None:
        ambition = metric(d, "bcf.reablement_91_days")["ambitions"][0]
        ambition.update(numerator=800, value=80.0)  # baseline 82%: worse

    (f,) = _findings("BCF-AMBITION-DIRECTION", change)
    assert (f.stated, f.expected, f.severity) == ("80", "≥ 82", Severity.warning)


def test_contingency_covers_the_valued_risks() -> None:
    (f,) = _findings("BCF-CONTINGENCY", lambda d: bcf(d).update(contingency_gbp=1_000_000))
    assert (f.stated, f.expected) == ("£1,000,000", "≥ £1,500,000")
    assert "(R01, R02, R03)" in f.message

    def unvalued(d: dict[str, Any]) -> None:
        for risk in d["risks"]:
            risk.pop("contingency_gbp", None)

    (w,) = _findings("BCF-RISK-REGISTER", unvalued)
    assert (w.stated, w.expected, w.severity) == ("0", "≥ 1", Severity.warning)


def test_pool_and_configuration_version() -> None:
    def change(d: dict[str, Any]) -> None:
        bcf(d)["payment_for_performance"].update(pool_gbp=80_000_000, config_version="1999")

    plan = demo_plan(change)
    (pool,) = check_bcf(plan, rules=["BCF-P4P-POOL"])
    assert (pool.stated, pool.expected) == ("£80,000,000", "≤ £76,000,000")
    (version,) = check_bcf(plan, rules=["BCF-CONFIG-VERSION"])
    assert (version.stated, version.expected) == ("1999", "2015-16.1")


def test_bcf_findings_join_the_full_plan_check() -> None:
    plan = demo_plan(lambda d: bcf(d).update(contingency_gbp=0))
    report = check_plan(plan, today=date(2015, 6, 1))
    assert [f.rule for f in report.findings if f.severity is Severity.error] == ["BCF-CONTINGENCY"]
    assert not report.passed
