"""Per-cut KPI actuals from stored local extracts, for an organisation and a footprint, on both
backends. Each file is read as ``flowplan ingest table`` reads it (one measure and cut per file).

Every expected value is worked by hand in the comment beside it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowplan.data.grain import Grain
from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import LocalTable, read_local_table
from flowplan.metrics.registry import get
from flowplan.plans.model import Plan
from flowplan.store.monitor_inputs import metric_actuals, metric_cut_actuals, plan_cut_actuals
from flowplan.store.store import Store

#: (org, measure, breakdown label, {month: value})
ROWS: tuple[tuple[str, str, str, dict[str, float]], ...] = (
    ("RXN", "ae_attendances", "imd_decile_1", {"2024-01-01": 1000, "2024-02-01": 1000}),
    ("RXN", "ae_breaches_4h", "imd_decile_1", {"2024-01-01": 200, "2024-02-01": 100}),
    ("RXL", "ae_attendances", "imd_decile_1", {"2024-01-01": 500}),
    ("RXL", "ae_breaches_4h", "imd_decile_1", {"2024-01-01": 50}),
    ("RXN", "ae_attendances", "ethnicity_white", {"2024-01-01": 800}),
    ("RXN", "ae_breaches_4h", "ethnicity_white", {"2024-01-01": 40}),
    # breaches without attendances to divide by: not used
    ("RXN", "ae_breaches_4h", "ethnicity_black", {"2024-01-01": 5}),
    # a label breaking the convention: not used
    ("RXN", "ae_attendances", "imd_decile_12", {"2024-01-01": 1}),
    # discharges by 17:00 over all discharges, cut with a qualified label
    ("RXN", "discharges", "imd_decile_2", {"2024-01-01": 400}),
    ("RXN", "discharges", "by_1700:imd_decile_2", {"2024-01-01": 100}),
    # a count metric
    ("RXN", "rtt_waiting_over_52w", "imd_decile_1", {"2024-01-01": 30}),
    ("RXL", "rtt_waiting_over_52w", "imd_decile_1", {"2024-01-01": 20}),
    ("RXN", "rtt_waiting_over_52w", "all", {"2024-01-01": 70}),
    ("RXL", "rtt_waiting_over_52w", "all", {"2024-01-01": 40}),
)


def _file(
    tmp_path: Path, index: int, org: str, measure: str, label: str, values: dict[str, float]
) -> ParsedFile:
    path = tmp_path / f"extract_{index}.csv"
    path.write_text(
        "month,value\n" + "".join(f"{m},{v:g}\n" for m, v in values.items()), encoding="utf-8"
    )
    spec = LocalTable(
        org=org,
        measure=measure,
        time_column="month",
        value_column="value",
        grain=Grain.MONTH,
        breakdown=label,
    )
    return read_local_table(spec, path)


@pytest.fixture()
def store(store_url: str, tmp_path: Path) -> Store:
    opened = Store(store_url)
    opened.ingest([_file(tmp_path, i, *row) for i, row in enumerate(ROWS)], who="test")
    opened.create_footprint("FP", "srg", ["RXN", "RXL", "RXR"], "Test footprint")
    return opened


def _values(frame: pd.DataFrame, label: str) -> list[float]:
    return [float(v) for v in frame.loc[frame["breakdown"] == label, "value"]]


def test_one_organisation_per_cut(store: Store) -> None:
    got = metric_cut_actuals(store, "RXN", get("constitution.ae_4h"))
    assert got is not None
    # decile 1: January 100 × (1 − 200 ÷ 1,000) = 80 %, February 100 × (1 − 100 ÷ 1,000) = 90 %
    assert _values(got.frame, "imd_decile_1") == pytest.approx([80.0, 90.0])
    # white: 100 × (1 − 40 ÷ 800) = 95 %
    assert _values(got.frame, "ethnicity_white") == pytest.approx([95.0])
    assert sorted(set(got.frame["breakdown"])) == ["ethnicity_white", "imd_decile_1"]
    assert got.basis == (
        "RXN: ae_breaches_4h [all] ÷ ae_attendances [all] per cut by month; 1 IMD decile(s) and "
        "1 ethnic group(s)"
    )
    assert any("[ethnicity_black]: no ae_attendances [ethnicity_black]" in i for i in got.ignored)
    assert any("[imd_decile_12]" in i and "must be 1 to 10" in i for i in got.ignored)
    assert not got.count


def test_footprint_sums_each_cut_over_its_members(store: Store) -> None:
    got = metric_cut_actuals(store, "FP", get("constitution.ae_4h"))
    assert got is not None
    decile = got.frame[got.frame["breakdown"] == "imd_decile_1"]
    # January: (200 + 50) ÷ (1,000 + 500) → 100 × (1 − 250 ÷ 1,500) = 83.33 %, not the 85 % mean
    # of 80 % and 90 %; February is left out (RXL stores the cut but does not report February)
    assert decile["period_start"].tolist() == [pd.Timestamp("2024-01-01")]
    assert decile["value"].tolist() == pytest.approx([100 * (1 - 250 / 1500)])
    assert (decile["numerator"].iloc[0], decile["denominator"].iloc[0]) == (250.0, 1500.0)
    # white is stored by RXN alone: its own 95 %
    assert _values(got.frame, "ethnicity_white") == pytest.approx([95.0])
    assert "numerators and denominators summed over 2 member(s) (RXL, RXN)" in got.basis
    assert got.basis.endswith("no cuts stored by RXR")


def test_a_qualified_label_cuts_a_breakdown_of_the_measure(store: Store) -> None:
    got = metric_cut_actuals(store, "RXN", get("uec.discharges_before_1700"))
    assert got is not None
    # 100 by 17:00 of 400 discharges in decile 2 = 25 %
    assert _values(got.frame, "imd_decile_2") == pytest.approx([25.0])
    assert "discharges [by_1700] ÷ discharges [all]" in got.basis


def test_count_cuts_and_counts_sum_over_a_footprint(store: Store) -> None:
    rtt_52w = get("constitution.rtt_52w")
    got = metric_cut_actuals(store, "FP", rtt_52w)
    assert got is not None and got.count
    # 30 + 20 = 50 waiters in decile 1
    assert _values(got.frame, "imd_decile_1") == [50.0]
    assert "counts summed over 2 member(s)" in got.basis
    # the whole-population count of the footprint is the sum too: 70 + 40 = 110 (not 55)
    whole = metric_actuals(store, "FP", rtt_52w)
    assert whole.frame is not None
    assert whole.frame["value"].tolist() == [110.0]


def test_nothing_when_no_cut_is_stored(store: Store) -> None:
    assert metric_cut_actuals(store, "RXN", get("uec.ga_bed_occupancy")) is None
    assert metric_cut_actuals(store, "RXR", get("constitution.ae_4h")) is None
    assert metric_cut_actuals(store, "RXN", get("uec.weekend_discharges")) is None


def test_plan_cut_actuals_keeps_only_kpis_with_cuts(store: Store) -> None:
    kpi = {"baseline": 90.0, "target": 95.0, "target_date": "2024-03-31"}
    plan = Plan.model_validate(
        {
            "id": "fp-plan",
            "type": "resilience_capacity",
            "title": "FP plan",
            "footprint": "FP",
            "period_start": "2023-04-01",
            "period_end": "2024-03-31",
            "requirements_version": "2014-15",
            "schemes": [
                {
                    "id": "S01",
                    "title": "A&E",
                    "summary": "s",
                    "section": "minimum",
                    "category": "non_elective",
                    "lead": {
                        "name": "A Lead",
                        "email": "lead@example.nhs.uk",
                        "job_title": "COO",
                        "organisation": "RXN",
                    },
                    "kpis": [
                        {"metric": "constitution.ae_4h", **kpi},
                        {"metric": "uec.ga_bed_occupancy", **kpi},
                        {"metric": "custom", "description": "x", "unit": "y", **kpi},
                    ],
                }
            ],
        }
    )
    got = plan_cut_actuals(store, plan)
    assert list(got) == [("S01", 0)]
    assert got[("S01", 0)].basis.startswith("FP: ")
    assert list(plan_cut_actuals(store, plan, code="RXR")) == []
