"""Activity plan: plan = baseline × (1 + growth) − scheme savings per Annex C line (seed 001
L1099–L1114; DOMAIN.md §2.2), the same arithmetic as ``plan check-table --kind activity-plan``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flowplan.finance.activity import (
    MEASURE_LABELS,
    activity_table,
    check_activity,
    expected_plan,
    grown,
    value_gbp,
)
from flowplan.finance.examples import example_part
from flowplan.finance.model import ActivityLine, ActivityMeasure
from flowplan.finance.rules import finance_rules
from flowplan.plans.tables import TableKind, check_table

RULES = finance_rules()


def line(plan: int | None, **kw: object) -> ActivityLine:
    # Non-elective FFCEs: 170,000 × (1 + (1.0 + 1.5)/100) = 174,250; − 5,250 saved = 169,000.
    data: dict[str, object] = {
        "org": "QE1",
        "year": "2015/16",
        "measure": "non_elective",
        "baseline": 170_000,
        "demographic_growth_pct": 1.0,
        "non_demographic_growth_pct": 1.5,
        "scheme_savings": 5_250,
        "price_gbp": 1_600,
        **kw,
    }
    if plan is not None:
        data["plan"] = plan
    return ActivityLine.model_validate(data)


def test_arithmetic_and_value() -> None:
    a = line(169_000)
    assert grown(a) == Decimal(174_250)
    assert expected_plan(a) == Decimal(169_000)
    assert value_gbp(a) == Decimal(270_400_000)  # 169,000 × £1,600
    assert value_gbp(line(None, price_gbp=None)) is None
    assert value_gbp(line(None)) == Decimal(270_400_000)  # computed plan when none stated


def test_every_annex_c_line_is_labelled() -> None:
    assert set(MEASURE_LABELS) == set(ActivityMeasure)
    assert MEASURE_LABELS[ActivityMeasure.ae_type1] == "A&E attendances – Type 1 (L1110)"


def test_plan_within_one_unit_passes_beyond_fails() -> None:
    assert check_activity([line(169_000), line(169_001), line(168_999)], RULES) == []
    (found,) = check_activity([line(169_002)], RULES)
    assert found.rule == "FIN-ACTIVITY"
    assert found.location == "extensions.finance.activity[QE1 2015/16 non_elective].plan"
    assert (found.stated, found.expected) == ("169,002", "169,000")
    assert "Non elective admissions FFCEs (L1105)" in found.message
    assert check_activity([line(None)], RULES) == []  # no stated plan: nothing to check


def test_demo_activity_plan_passes() -> None:
    lines = example_part().activity
    assert len(lines) == 9
    assert check_activity(lines, RULES) == []


def test_table_is_the_check_table_layout(tmp_path: Path) -> None:
    frame = activity_table([line(169_000), line(170_000)])
    path = tmp_path / "activity.csv"
    frame.to_csv(path, index=False)
    found = check_table(path, TableKind.activity_plan)
    assert [(f.rule, f.row) for f in found] == [("ACTIVITY-PLAN", 3)]
