"""The payment-for-performance calculator on worked cases.

Policy (seed 001 = /work/shared/seeds/everyone_counts_planning_2014-19.txt, Annex I):
£1bn of the £3.8bn is linked to outcomes (L1402); April 2015: £250m on four national conditions
and £250m on the local metric + delayed transfers + avoidable emergency admissions; October
2015: £500m on all metrics (L1403, table L1406–L1409); windows per metric (L1424–L1430); each
metric of equal value (L1456); ≥ 70% of ambition → held-back money funds the contingency plan
(L1482), below → recovery plan (L1483, L1485).

The demo plan's pool is £20,000,000, so the tranches are £20,000,000 × 250/1000 = £5,000,000,
£5,000,000 and £20,000,000 × 500/1000 = £10,000,000.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flowplan.bcf.actuals import read_actuals
from flowplan.bcf.payment import (
    Actual,
    PaymentConfig,
    allocate,
    calculate_payment,
    load_config,
    parse_config,
    share_achieved,
)
from flowplan.bcf.report import write_payment_report
from flowplan.errors import UsageError
from tests.unit.bcf import DEMO_ACTUALS, bcf, demo_plan

D = Decimal

# Actuals exactly at every ambition of the demo plan (numerators as in its YAML).
AT_AMBITION = [
    Actual("bcf.delayed_transfers", "apr-2015", 26226, 940000),
    Actual("bcf.avoidable_emergency_admissions", "apr-2015", 11640, 1200000),
    Actual("bcf.local.phof_2_24i_falls_65plus", "apr-2015", 2475, 220000),
    Actual("bcf.permanent_admissions_65plus", "oct-2015", 1452, 220000),
    Actual("bcf.reablement_91_days", "oct-2015", 860, 1000),
    Actual("bcf.delayed_transfers", "oct-2015", 16920, 940000),
    Actual("bcf.avoidable_emergency_admissions", "oct-2015", 11400, 1200000),
    Actual("bcf.patient_experience", "oct-2015", 1632, 2400),
    Actual("bcf.local.phof_2_24i_falls_65plus", "oct-2015", 2420, 220000),
]


def _replace(actuals: list[Actual], metric: str, period: str, numerator: float) -> list[Actual]:
    return [
        Actual(a.metric, a.period, numerator, a.denominator)
        if (a.metric, a.period) == (metric, period)
        else a
        for a in actuals
    ]


def test_tranche_dates_amounts_and_sources_come_from_the_config() -> None:
    config = load_config()
    assert config.version == "2015-16.1"
    assert config.threshold == D("0.70")  # seed 001 L1482
    assert config.national_pool_gbp == D(1_000_000_000)  # L1402
    assert [(t.id, t.paid_on, config.share(t)) for t in config.tranches] == [
        ("apr-2015-conditions", date(2015, 4, 1), D("0.25")),  # £250m of £1bn, L1403/L1407
        ("apr-2015-metrics", date(2015, 4, 1), D("0.25")),  # £250m, L1408
        ("oct-2015-metrics", date(2015, 10, 1), D("0.5")),  # £500m, L1409
    ]
    assert config.tranches[0].conditions == ("BCF-NC2", "BCF-NC3", "BCF-NC5", "BCF-NC6")
    # windows (L1427: delayed transfers Apr–Dec 2014 = 9 months, Jan–Jun 2015 = 6 months)
    window = config.window("bcf.delayed_transfers", "apr-2015")
    assert window is not None and (window.start, window.end, window.months) == (
        date(2014, 4, 1),
        date(2014, 12, 31),
        9,
    )
    assert config.periods_for("bcf.reablement_91_days") == ["oct-2015"]  # N/A in April, L1426
    assert config.periods_for("bcf.local.phof_2_24i_falls_65plus") == ["apr-2015", "oct-2015"]

    result = calculate_payment(demo_plan(), AT_AMBITION)
    assert [(t.paid_on, t.amount_gbp) for t in result.tranches] == [
        (date(2015, 4, 1), D(5_000_000)),
        (date(2015, 4, 1), D(5_000_000)),
        (date(2015, 10, 1), D(10_000_000)),
    ]


def test_all_ambitions_met_pays_the_whole_pool() -> None:
    result = calculate_payment(demo_plan(), AT_AMBITION)
    assert [t.outcome for t in result.tranches] == ["paid_in_full"] * 3
    assert [t.share_achieved for t in result.tranches] == [D(1), D(1), D(1)]
    assert result.total_paid_gbp == D(20_000_000)
    assert result.total_withheld_gbp == 0
    assert not result.recovery_plan_required


def test_the_demo_outcome_step_by_step() -> None:
    plan = demo_plan()
    result = calculate_payment(plan, read_actuals(DEMO_ACTUALS, plan))
    conditions, april, october = result.tranches
    # all four conditions of the April tranche met → £5,000,000 paid
    assert (conditions.paid_gbp, conditions.withheld_gbp) == (D(5_000_000), D(0))
    # April metrics: delayed transfers 325 → 305 against ambition 310: 20/15 → capped 100%;
    # avoidable admissions 2000 → 1964 against 1940: 36/60 = 60% (missed);
    # falls 2300 → 2240 against 2250: 60/50 → 100%. Share = 2.6 / 3 = 86.67% ≥ 70%.
    assert [m.share_achieved for m in april.metrics] == [D(1), D("0.6"), D(1)]
    assert [m.met for m in april.metrics] == [True, False, True]
    assert april.share_achieved.quantize(D("0.0001")) == D("0.8667")
    # paid = £5,000,000 × 2.6/3 = £4,333,333.33; withheld £666,666.67 → contingency plan
    assert (april.paid_gbp, april.withheld_gbp) == (D("4333333.33"), D("666666.67"))
    assert april.outcome == "released_to_contingency"
    # October: 75% (700→670 vs 660), 100%, 30% (325→317.5 vs 300), 100%, 100%, 90%
    assert [m.share_achieved for m in october.metrics] == [
        D("0.75"),
        D(1),
        D("0.3"),
        D(1),
        D(1),
        D("0.9"),
    ]
    # share = 4.95 / 6 = 82.5%; paid £10,000,000 × 0.825 = £8,250,000
    assert october.share_achieved == D("0.825")
    assert (october.paid_gbp, october.withheld_gbp) == (D(8_250_000), D(1_750_000))
    assert result.total_paid_gbp == D("17583333.33")
    assert result.released_to_contingency_gbp == D("2416666.67")
    assert any("86.67% ≥ 70.00%" in s for s in result.steps)
    assert any(
        "improvement delivered 36 of 60 planned → 60.00% achieved" in s for s in result.steps
    )


def test_exactly_70_percent_releases_the_held_back_money() -> None:
    # October with shares 1, 1, 0.2, 1, 1, 0: Σ = 4.2 = 0.70 × 6 exactly.
    # delayed transfers: 325 → 320 against 300 = 5/25 = 20% (numerator 320 × 9.4 × 6 = 18,048);
    # falls: 2300 → 2300 = 0% (numerator 2300 × 2.2 ÷ 2 = 2,530).
    actuals = _replace(AT_AMBITION, "bcf.delayed_transfers", "oct-2015", 18048)
    actuals = _replace(actuals, "bcf.local.phof_2_24i_falls_65plus", "oct-2015", 2530)
    october = calculate_payment(demo_plan(), actuals).tranches[2]
    assert [m.share_achieved for m in october.metrics] == [D(1), D(1), D("0.2"), D(1), D(1), D(0)]
    assert october.share_achieved == D("0.7")
    assert october.outcome == "released_to_contingency"
    # paid £10,000,000 × 0.7 = £7,000,000; the £3,000,000 withheld funds the contingency plan
    assert (october.paid_gbp, october.withheld_gbp) == (D(7_000_000), D(3_000_000))


def test_just_below_70_percent_needs_a_recovery_plan() -> None:
    # delayed transfers 325 → 320.01 against 300: 4.99 / 25 = 19.96%; Σ = 4.1996 → 69.99%
    actuals = _replace(AT_AMBITION, "bcf.delayed_transfers", "oct-2015", 320.01 * 56.4)
    actuals = _replace(actuals, "bcf.local.phof_2_24i_falls_65plus", "oct-2015", 2530)
    result = calculate_payment(demo_plan(), actuals)
    october = result.tranches[2]
    assert october.metrics[2].share_achieved == D("0.1996")
    assert october.outcome == "recovery_plan"
    # paid £10,000,000 × 4.1996 / 6 = £6,999,333.33; withheld £3,000,666.67
    assert (october.paid_gbp, october.withheld_gbp) == (D("6999333.33"), D("3000666.67"))
    assert result.recovery_plan_required
    assert result.recovery_plan_gbp == D("3000666.67")
    assert any("69.99% < 70.00%: a recovery plan is required" in s for s in result.steps)


def test_a_condition_not_met_withholds_its_equal_part() -> None:
    def change(data: dict[str, Any]) -> None:
        bcf(data)["conditions"][2]["status"] = "not_met"  # BCF-NC3, in the April tranche
        bcf(data)["conditions"][3]["status"] = "not_met"  # BCF-NC4, in no tranche

    conditions = calculate_payment(demo_plan(change), AT_AMBITION).tranches[0]
    # 3 of 4 conditions: £5,000,000 ÷ 4 = £1,250,000 each; paid £3,750,000
    assert [(c.id, c.status, c.paid_gbp) for c in conditions.conditions] == [
        ("BCF-NC2", "met", D(1_250_000)),
        ("BCF-NC3", "not_met", D(0)),
        ("BCF-NC5", "met", D(1_250_000)),
        ("BCF-NC6", "met", D(1_250_000)),
    ]
    assert conditions.share_achieved == D("0.75")
    assert (conditions.paid_gbp, conditions.withheld_gbp) == (D(3_750_000), D(1_250_000))
    assert conditions.outcome == "conditions_not_met"


def test_equal_weights_split_the_tranche_to_the_penny() -> None:
    plan = demo_plan()
    result = calculate_payment(plan, read_actuals(DEMO_ACTUALS, plan))
    april, october = result.tranches[1], result.tranches[2]
    # £5,000,000 ÷ 3 = £1,666,666.666…: largest remainder gives .67, .67, .66
    assert [m.value_gbp for m in april.metrics] == [
        D("1666666.67"),
        D("1666666.67"),
        D("1666666.66"),
    ]
    assert sum(m.value_gbp for m in october.metrics) == D(10_000_000)
    # paid split in proportion to the shares: 1 : 0.6 : 1 of £4,333,333.33
    assert [m.paid_gbp for m in april.metrics] == [
        D("1666666.67"),
        D("1000000.00"),
        D("1666666.66"),
    ]
    assert sum(m.paid_gbp for m in october.metrics) == october.paid_gbp
    assert allocate(D(100), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    assert allocate(D(100), [D(0), D(0)]) == [D(0), D(0)]


def test_share_achieved_by_direction_cap_and_floor() -> None:
    config = load_config()
    assert share_achieved(100.0, 80.0, 90.0, False, config) == D("0.5")  # lower is better
    assert share_achieved(80.0, 90.0, 87.0, True, config) == D("0.7")  # higher is better
    assert share_achieved(100.0, 80.0, 70.0, False, config) == D(1)  # over-delivery capped
    assert share_achieved(100.0, 80.0, 110.0, False, config) == D(0)  # deterioration floored
    assert share_achieved(50.0, 50.0, 50.0, True, config) == D(1)  # hold the line, held
    assert share_achieved(50.0, 50.0, 49.0, True, config) == D(0)


def test_missing_actuals_count_zero_and_an_unreported_period_is_not_assessed() -> None:
    april_only = [a for a in AT_AMBITION if a.period == "apr-2015"][1:]
    result = calculate_payment(demo_plan(), april_only)
    april, october = result.tranches[1], result.tranches[2]
    assert april.metrics[0].note == "no actual for apr-2015"
    assert april.metrics[0].share_achieved == 0
    assert april.share_achieved.quantize(D("0.0001")) == D("0.6667")  # 2 of 3 → 66.67% < 70%
    assert april.outcome == "recovery_plan"
    assert october.outcome == "not_assessed"
    assert (october.paid_gbp, october.withheld_gbp) == (D(0), D(10_000_000))


def test_threshold_is_configuration_not_code() -> None:
    text = (
        (DEMO_ACTUALS.parents[3] / "src" / "flowplan" / "bcf" / "config.toml")
        .read_text(encoding="utf-8")
        .replace("threshold = 0.70", "threshold = 0.90")
        .replace('version = "2015-16.1"', 'version = "test"')
    )
    config = parse_config(text)
    plan = demo_plan(lambda d: bcf(d)["payment_for_performance"].pop("config_version"))
    result = calculate_payment(plan, read_actuals(DEMO_ACTUALS, plan), config)
    assert result.tranches[2].outcome == "recovery_plan"  # 82.5% < 90%


def test_config_errors_and_a_pinned_version_are_refused() -> None:
    text = (DEMO_ACTUALS.parents[3] / "src" / "flowplan" / "bcf" / "config.toml").read_text(
        encoding="utf-8"
    )
    with pytest.raises(ValueError, match="the tranches add up to 1250000000"):
        parse_config(
            text.replace("national_amount_gbp = 500000000", "national_amount_gbp = 750000000")
        )
    with pytest.raises(ValueError, match="9 months but the dates span 8"):
        parse_config(text.replace("end = 2014-12-31", "end = 2014-11-30"))
    other = PaymentConfig.model_validate({**load_config().model_dump(), "version": "other"})
    with pytest.raises(UsageError, match=r"agreed under BCF payment configuration 2015-16\.1"):
        calculate_payment(demo_plan(), AT_AMBITION, other)
    with pytest.raises(UsageError, match="more than one actual"):
        calculate_payment(demo_plan(), [*AT_AMBITION, AT_AMBITION[0]])


def test_result_as_json() -> None:
    plan = demo_plan()
    data = calculate_payment(plan, read_actuals(DEMO_ACTUALS, plan)).as_dict()
    first = data["tranches"][1]
    assert {k: first[k] for k in ("name", "amount", "paid", "withheld", "date")} == {
        "name": "April 2015: local metric, delayed transfers, avoidable emergency admissions",
        "amount": 5000000,
        "paid": 4333333.33,
        "withheld": 666666.67,
        "date": "2015-04-01",
    }
    assert round(first["share_achieved"], 4) == 0.8667
    assert data["total_paid"] == 17583333.33
    assert data["recovery_plan_required"] is False


def test_payment_report_files(tmp_path: Path) -> None:
    table, text = write_payment_report(demo_plan(), DEMO_ACTUALS, tmp_path / "out")
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    tranches = [r for r in rows if r["kind"] == "tranche"]
    assert [(r["tranche"], r["paid_gbp"], r["withheld_gbp"], r["outcome"]) for r in tranches] == [
        ("apr-2015-conditions", "5000000.00", "0.00", "paid_in_full"),
        ("apr-2015-metrics", "4333333.33", "666666.67", "released_to_contingency"),
        ("oct-2015-metrics", "8250000.00", "1750000.00", "released_to_contingency"),
    ]
    missed = [r["item"] for r in rows if r["outcome"] == "missed"]
    assert missed == ["bcf.avoidable_emergency_admissions", "bcf.delayed_transfers"]
    assert "Total paid £17,583,333.33" in text.read_text(encoding="utf-8")
