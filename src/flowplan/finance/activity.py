"""The activity plan: Annex C activity lines, their arithmetic and their value in pounds.

``plan = baseline × (1 + growth/100) − scheme savings`` per activity line and year, where
growth = demographic + non-demographic growth in percentage points (DOMAIN.md §2.2; seed 001
Annex C L1099–L1114 lists the lines). The check is the one ``flowplan plan check-table --kind
activity-plan`` runs (:func:`flowplan.plans.tables.check_activity_plan`, ±1 unit because published
figures are rounded): :func:`activity_table` writes the lines in that table's layout, so the
same CSV can be checked on its own.

Activity links to money through a price per unit (an average tariff): value = plan × price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from flowplan.finance.model import ActivityLine, ActivityMeasure
from flowplan.finance.rules import ROOT, FinanceRules
from flowplan.plans.findings import Finding
from flowplan.plans.tables import check_activity_plan

#: Annex C wording of each activity line (seed 001, line number in brackets).
MEASURE_LABELS: dict[ActivityMeasure, str] = {
    ActivityMeasure.elective_ordinary: "Elective – ordinary admissions FFCEs (L1102)",
    ActivityMeasure.elective_day_case: "Elective – day cases FFCEs (L1103)",
    ActivityMeasure.non_elective: "Non elective admissions FFCEs (L1105)",
    ActivityMeasure.outpatient_first: "All first outpatient attendances, G&A (L1107)",
    ActivityMeasure.outpatient_follow_up: "All subsequent outpatient attendances, G&A (L1108)",
    ActivityMeasure.ae_type1: "A&E attendances – Type 1 (L1110)",
    ActivityMeasure.ae_all_types: "A&E attendances – Total all types (L1111)",
    ActivityMeasure.gp_referrals: "GP written referrals for a first outpatient appointment (L1113)",
    ActivityMeasure.other_referrals: "Other referrals for a first outpatient appointment (L1114)",
}
_HUNDRED = Decimal(100)


def growth_pct(line: ActivityLine) -> Decimal:
    """Total growth: demographic + non-demographic, percentage points."""
    return line.demographic_growth_pct + line.non_demographic_growth_pct


def grown(line: ActivityLine) -> Decimal:
    """Baseline after growth: ``baseline × (1 + growth/100)``, units/year."""
    return line.baseline * (1 + growth_pct(line) / _HUNDRED)


def expected_plan(line: ActivityLine) -> Decimal:
    """The plan the arithmetic gives: baseline after growth − scheme savings, units/year."""
    return grown(line) - line.scheme_savings


def planned(line: ActivityLine) -> Decimal:
    """The stated plan, else the computed one, units/year."""
    return line.plan if line.plan is not None else expected_plan(line)


def value_gbp(line: ActivityLine) -> Decimal | None:
    """Planned activity × price per unit, pounds per year (to the penny); None without a price."""
    if line.price_gbp is None:
        return None
    return (planned(line) * line.price_gbp).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def line_at(line: ActivityLine) -> str:
    """The location of an activity line in the plan document."""
    return f"{ROOT}.activity[{line.org} {line.year} {line.measure}]"


def activity_table(lines: Sequence[ActivityLine]) -> pd.DataFrame:
    """The lines in the ``plan check-table --kind activity-plan`` layout (text cells).

    Columns: activity, org, year, baseline, growth_pct, growth_value, savings, plan.
    """
    rows = [
        {
            "activity": str(line.measure),
            "org": line.org,
            "year": line.year,
            "baseline": format(line.baseline, "f"),
            "growth_pct": format(growth_pct(line), "f"),
            "growth_value": format(grown(line), "f"),
            "savings": format(line.scheme_savings, "f"),
            "plan": "" if line.plan is None else format(line.plan, "f"),
        }
        for line in lines
    ]
    columns = ["activity", "org", "year", "baseline", "growth_pct", "growth_value", "savings"]
    return pd.DataFrame(rows, columns=[*columns, "plan"], dtype=str)


def check_activity(lines: Sequence[ActivityLine], rules: FinanceRules) -> list[Finding]:
    """``FIN-ACTIVITY``: every stated plan = baseline × (1 + growth) − savings (±1 unit).

    Args:
        lines: the activity plan lines.
        rules: the finance rules (for the rule's severity).

    Returns:
        One finding per line whose stated plan is off by more than 1 unit.
    """
    if not lines:
        return []
    frame = activity_table(lines)
    out: list[Finding] = []
    for found in check_activity_plan(frame, "activity plan"):
        line = lines[found.row - 2]
        out.append(
            rules.finding(
                "FIN-ACTIVITY",
                f"{line_at(line)}.plan",
                f"plan ≠ baseline × (1 + growth/100) − scheme savings for "
                f"{MEASURE_LABELS[line.measure]} ({found.message})",
                found.stated,
                found.expected,
            )
        )
    return out
