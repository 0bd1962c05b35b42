"""A footprint's system-level A&E 4-hour and RTT values for assurance, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flowplan.assurance.category import Category, CategoryConfig, classify, default_config
from flowplan.data.orgfiles import OrganisationRecord
from flowplan.data.readers import read
from flowplan.errors import UsageError
from flowplan.store.assurance_inputs import AE_METRIC, RTT_METRIC, assurance_inputs
from flowplan.store.store import Store
from tests.integration.store.crafted import write

AE_COLS = (
    "nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
    "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
    "pct_emergency_admissions_over_4hours,date\n"
)
# RXN 90% and RXL 98% in January: the system is 1 − 160 ÷ 4,000 = 96%, not their mean 94%.
# In February 1 − 200 ÷ 4,000 = 95% exactly (at the standard). RXL did not report March.
AE = AE_COLS + (
    "RXN,1000,100,300,30,,,January 2024\n"
    "RXL,3000,60,700,70,,,January 2024\n"
    "RXN,1000,120,300,30,,,February 2024\n"
    "RXL,3000,80,700,70,,,February 2024\n"
    "RXN,1000,10,300,30,,,March 2024\n"
)
FLOWS = (
    "stp20_nhs_code,date,year,month,completed,incomplete,new\n"
    "QE1,2024-01-01,2024,Jan,3000,50000,4000\n"
    "QE1,2024-02-01,2024,Feb,3000,51000,4000\n"
)
WAITS = (
    "stp20_nhs_code,stp20_name,date,year,month,treatment,waits_over_18_weeks,"
    "waits_over_52_weeks\n"
    "QE1,LSC,2024-01-01,2024,Jan,Total,4000,100\n"
    "QE1,LSC,2024-01-01,2024,Jan,Urology Service,1000,10\n"
    "QE1,LSC,2024-02-01,2024,Feb,Total,4100,100\n"
)
OVERVIEW = (
    "month,type_of_wait,count\n"
    "2024-01-01,No. within 18 weeks,930\n"
    "2024-01-01,No. > 18 weeks,70\n"
    "2024-01-01,Total waiting,1000\n"
)


def loaded(store_url: str, tmp_path: Path) -> Store:
    """RXN and RXL A&E, QE1 (an STP) RTT, and footprints FP and NAT."""
    store = Store(store_url)
    store.ingest(
        [
            read("trust_ae", write(tmp_path, "ae.csv", AE)),
            read("rtt_flow_stp", write(tmp_path, "flows.csv", FLOWS)),
            read("rtt_waits_stp", write(tmp_path, "waits.csv", WAITS)),
            read("rtt_overview", write(tmp_path, "overview.csv", OVERVIEW)),
        ]
    )
    store.create_footprint("FP", "srg", ["QE1", "RXN", "RXL", "RYX"])
    store.load_organisations([OrganisationRecord("RYX", None, "trust", None, None, None)])
    store.create_footprint("NAT", "srg", ["E92000001"])
    return store


def test_system_values_sum_counts_across_sites(store_url: str, tmp_path: Path) -> None:
    got = assurance_inputs(loaded(store_url, tmp_path), "FP")
    assert got.members == ["QE1", "RXL", "RXN", "RYX"]
    ae = got.history.series[AE_METRIC]
    assert ae.values == pytest.approx({date(2024, 1, 1): 96.0, date(2024, 2, 1): 95.0})
    assert ae.gaps == {date(2024, 3, 1): "RXL not reported"}
    frame = got.frames[AE_METRIC]
    assert frame["numerator"].tolist() == [160.0, 200.0]
    assert frame["denominator"].tolist() == [4000.0, 4000.0]
    assert set(frame["orgs"]) == {"RXL, RXN"}
    basis = "\n".join(got.basis)
    assert "QE1 left out — areas" in basis
    assert "RYX stores no ae_breaches_4h" in basis
    # RTT from the STP: waiting list − over 18 weeks (Total), ÷ waiting list
    rtt = got.history.series[RTT_METRIC]
    assert rtt.values == pytest.approx(
        {date(2024, 1, 1): 92.0, date(2024, 2, 1): 100 * 46900 / 51000}
    )
    assert got.frames[RTT_METRIC]["numerator"].tolist() == [46000.0, 46900.0]
    assert "rtt_waiting_list [all] − rtt_waiting_over_18w [Total]" in basis
    assert "from the area member(s) QE1" in basis


def test_classified_from_the_store(store_url: str, tmp_path: Path) -> None:
    got = assurance_inputs(loaded(store_url, tmp_path), "FP")
    data = default_config().model_dump()
    data["look_back"] |= {"months": 2, "max_missing_months": 1}
    data["earned_autonomy"]["min_months_met"] = 2
    data["high_risk"]["min_months_not_met"] = 2
    rule = CategoryConfig.model_validate(data)
    # Jan: A&E 96 met, RTT 92.0 met (at); Feb: A&E 95.0 met (at), RTT 91.96 not met
    result = classify(got.history, rule, False)
    assert result.months == [date(2024, 1, 1), date(2024, 2, 1)]
    assert result.category is Category.STANDARD
    assert (len(result.figures[AE_METRIC].met), len(result.figures[RTT_METRIC].met)) == (2, 1)
    # to March: RXL did not report, so A&E March is missing and says why
    march = classify(got.history, rule, False, as_of=date(2024, 3, 1))
    assert march.figures[AE_METRIC].missing == {date(2024, 3, 1): "RXL not reported"}
    assert any("Mar 2024: RXL not reported" in r for r in march.reasons)
    # the packaged 12-month look-back has too few months here
    with pytest.raises(UsageError, match="A&E 4-hour has 10 of 12 months missing"):
        classify(got.history, default_config(), False)


def test_stored_within_18_weeks_is_used_directly(store_url: str, tmp_path: Path) -> None:
    got = assurance_inputs(loaded(store_url, tmp_path), "NAT")
    rtt = got.history.series[RTT_METRIC]
    assert rtt.values == pytest.approx({date(2024, 1, 1): 93.0})
    assert "numerator: E92000001 rtt_waiting_within_18w [all] by month" in got.basis
    assert got.history.series[AE_METRIC].values == {}
    with pytest.raises(UsageError, match=r"no values of constitution\.ae_4h"):
        classify(got.history, default_config(), False)


def test_unknown_footprint(store_url: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown footprint 'NOPE' \(footprints: FP, NAT"):
        assurance_inputs(loaded(store_url, tmp_path), "NOPE")
