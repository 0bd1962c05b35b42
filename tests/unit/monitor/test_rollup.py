"""Roll-ups sum numerators and denominators; they never average percentages."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flowplan.errors import UsageError
from flowplan.metrics.registry import get
from flowplan.monitor.rollup import by_breakdown, rollup


def _frame(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["org", "period_start", "numerator", "denominator"])


def test_footprint_rate_is_96_percent_not_the_mean_of_percentages() -> None:
    # 270 of 300 seen in 4 hours (90%) and 2,610 of 2,700 (96.67%):
    # (270 + 2,610) ÷ (300 + 2,700) = 2,880 ÷ 3,000 = 96%; the mean of 90% and 96.67% is 93.33%.
    values = _frame([("A", "2025-01-01", 270, 300), ("B", "2025-01-01", 2610, 2700)])
    got = rollup(values, {"FP": ["A", "B"]}, scale=100)
    row = got.iloc[0]
    assert (row["numerator"], row["denominator"]) == (2880.0, 3000.0)
    assert row["value"] == pytest.approx(96.0, abs=1e-12)
    assert row["mean_of_member_values"] == pytest.approx((90 + 2610 / 2700 * 100) / 2)
    assert row["mean_of_member_values"] == pytest.approx(93.3333333, abs=1e-6)
    assert (row["orgs_reporting"], row["orgs_expected"], row["missing"]) == (2, 2, "")


def test_metric_rule_applies_to_the_sums() -> None:
    # constitution.ae_4h is a complement: 100 × (1 − breaches ÷ attendances).
    # Breaches 30 of 300 and 90 of 2,700 → 120 of 3,000 → 96%.
    values = _frame([("A", "2025-01-01", 30, 300), ("B", "2025-01-01", 90, 2700)])
    got = rollup(values, {"FP": ["A", "B"]}, defn=get("constitution.ae_4h"))
    assert got["value"].iloc[0] == pytest.approx(96.0, abs=1e-12)
    assert got["mean_of_member_values"].iloc[0] == pytest.approx((90 + 2610 / 2700 * 100) / 2)


def test_missing_members_are_named_and_complete_drops_the_period() -> None:
    values = _frame(
        [
            ("A", "2025-01-01", 10, 100),
            ("B", "2025-01-01", 30, 100),
            ("A", "2025-02-01", 10, 100),
            ("Z", "2025-02-01", 99, 100),  # in no footprint: ignored
        ]
    )
    got = rollup(values, {"FP": ["A", "B"]}, scale=100)
    assert got["value"].tolist() == [20.0, 10.0]
    assert got["orgs_reporting"].tolist() == [2, 1]
    assert got["missing"].tolist() == ["", "B"]
    complete = rollup(values, {"FP": ["A", "B"]}, scale=100, complete=True)
    assert complete["period_start"].tolist() == [pd.Timestamp("2025-01-01")]


def test_breakdowns_roll_up_separately() -> None:
    values = pd.DataFrame(
        {
            "org": ["A", "A", "B", "B"],
            "period_start": ["2025-01-01"] * 4,
            "breakdown": ["decile 1", "decile 10", "decile 1", "decile 10"],
            "numerator": [5, 1, 15, 3],
            "denominator": [100, 100, 100, 300],
        }
    )
    got = rollup(values, {"FP": ["A", "B"]}, scale=100)
    assert got["breakdown"].tolist() == ["decile 1", "decile 10"]
    assert got["value"].tolist() == pytest.approx([10.0, 1.0])
    cut = by_breakdown(values[values["org"] == "B"].drop(columns="org"), scale=100)
    assert cut.set_index("breakdown")["value"].to_dict() == pytest.approx(
        {"all (sum)": 18 / 400 * 100, "decile 1": 15.0, "decile 10": 1.0}
    )


def test_zero_denominator_gives_nan_and_bad_input_is_refused() -> None:
    got = rollup(_frame([("A", "2025-01-01", 0, 0)]), {"FP": ["A"]}, scale=100)
    assert math.isnan(got["value"].iloc[0])
    with pytest.raises(UsageError, match="missing denominator"):
        rollup(pd.DataFrame({"org": [], "period_start": [], "numerator": []}), {"FP": ["A"]})
    with pytest.raises(UsageError, match="more than one row for A 2025-01-01"):
        rollup(_frame([("A", "2025-01-01", 1, 2), ("A", "2025-01-01", 1, 2)]), {"FP": ["A"]})
    with pytest.raises(UsageError, match="footprint FP has no members"):
        rollup(_frame([("A", "2025-01-01", 1, 2)]), {"FP": []})
