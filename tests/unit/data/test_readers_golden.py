"""Golden numbers for every bundled public file, read through the real readers.

Every literal below was computed once, independently of flowplan, with the standard ``csv`` module
on the raw files (parse each row, apply the documented column → measure mapping, drop missing
values, sum with ``math.fsum``) and then checked against what the readers produce. Row counts are
as stated in ``data/public/<folder>/README.md`` for each file. Sums are compared with a relative
tolerance of 1e-9; counts and dates exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from flowplan.data.parsed import ParsedFile
from flowplan.data.readers import FORMATS, read
from flowplan.data.tables import REFERENCE_TABLES
from flowplan.demo import BUNDLED_FILES

PUBLIC = Path(__file__).resolve().parents[3] / "data" / "public"
FILES = dict(BUNDLED_FILES)
REL = 1e-9
MISSING = "missing value (not reported; not stored)"
SKIPPED = "rows with no organisation code and no values (skipped)"
LEADING_ZERO = "zero values before the organisation started reporting (kept as published)"
ENDED = (
    "organisations whose reporting ends before the file's last period (merged, renamed or closed?)"
)


@dataclass(frozen=True)
class Golden:
    """What one bundled file must read as."""

    rows_read: int
    observations: int
    series: int
    organisations: int
    first: str | None
    last: str | None
    sums: dict[str, float]
    counts: dict[str, int]
    rows_rejected: int = 0
    # (column, rule, count) of every warning, in the order the reader reports them
    warnings: list[tuple[str, str, int]] = field(default_factory=list)


GOLDEN: dict[str, Golden] = {
    # nhsr_ae_attendances/ae_attendances.csv; 12,765 rows as stated in
    # data/public/nhsr_ae_attendances/README.md; 274 providers x A&E type, 2016-04 .. 2019-03
    "nhsr_ae_attendances": Golden(
        rows_read=12765,
        observations=38295,
        series=1284,
        organisations=274,
        first="2016-04-01",
        last="2019-03-01",
        sums={
            "ae_attendances": 72019402.0,
            "ae_breaches_4h": 8295237.0,
            "emergency_admissions": 13493280.0,
        },
        counts={"ae_attendances": 12765, "ae_breaches_4h": 12765, "emergency_admissions": 12765},
        warnings=[("", ENDED, 48)],
    ),
    # nhs_england_operational/england_trust_accidents_emergency.csv; 7,895 rows as stated in
    # data/public/nhs_england_operational/README.md
    "trust_ae": Golden(
        rows_read=7895,
        observations=31225,
        series=628,
        organisations=157,
        first="2021-04-01",
        last="2025-07-01",
        sums={
            "ae_attendances": 106090225.0,
            "ae_breaches_4h": 28177473.0,
            "ae_dta_over_4h": 6588418.0,
            "emergency_admissions": 27194085.0,
        },
        counts={
            "ae_attendances": 7895,
            "ae_breaches_4h": 7541,
            "ae_dta_over_4h": 7894,
            "emergency_admissions": 7895,
        },
        warnings=[
            ("attendances_over_4hours", MISSING, 354),
            ("emergency_admissions_over_4hours", MISSING, 1),
            ("", ENDED, 7),
        ],
    ),
    # nhs_england_operational/england_icb_accidents_emergency.csv; 1,680 rows as stated in
    # data/public/nhs_england_operational/README.md
    "icb_ae": Golden(
        rows_read=1680,
        observations=6720,
        series=168,
        organisations=42,
        first="2022-04-01",
        last="2025-07-01",
        sums={
            "ae_attendances": 88488222.0,
            "ae_breaches_4h": 23352471.0,
            "ae_dta_over_4h": 5402911.0,
            "emergency_admissions": 21191741.0,
        },
        counts={
            "ae_attendances": 1680,
            "ae_breaches_4h": 1680,
            "ae_dta_over_4h": 1680,
            "emergency_admissions": 1680,
        },
    ),
    # nhs_england_operational/england_critical_general_acute_beds.csv; 5,557 rows as stated in
    # data/public/nhs_england_operational/README.md
    "ga_beds": Golden(
        rows_read=5557,
        observations=63297,
        series=1644,
        organisations=137,
        first="2022-04-01",
        last="2025-08-01",
        sums={
            "critical_care_beds_available": 250086.0,
            "critical_care_beds_occupied": 187355.0,
            "ga_beds_available": 8253578.0,
            "ga_beds_occupied": 7688289.0,
        },
        counts={
            "critical_care_beds_available": 15331,
            "critical_care_beds_occupied": 15220,
            "ga_beds_available": 16373,
            "ga_beds_occupied": 16373,
        },
        warnings=[
            (
                "adult_general_acute_beds_occupied",
                "published adult_general_acute_beds_occupied above "
                "adult_general_acute_beds_available (flagged, kept)",
                3,
            ),
            (
                "adult_general_acute_beds_occupancy_rate",
                "published rate above 1 where adult_general_acute_beds_occupied > "
                "adult_general_acute_beds_available (flagged, kept)",
                3,
            ),
            ("adult_general_acute_beds_available", MISSING, 31),
            ("adult_general_acute_beds_occupied", MISSING, 31),
            ("paediatric_general_acute_beds_available", MISSING, 267),
            ("paediatric_general_acute_beds_occupied", MISSING, 267),
            ("adult_critical_care_beds_available", MISSING, 55),
            ("adult_critical_care_beds_occupied", MISSING, 93),
            ("paediatric_intensive_cared_beds_available", MISSING, 908),
            ("paediatric_intensive_cared_beds_occupied", MISSING, 942),
            ("neonatal_intensive_care_bed_available", MISSING, 377),
            ("neonatal_intensive_care_bed_occupied", MISSING, 416),
            ("", ENDED, 3),
        ],
    ),
    # nhs_england_operational/england_trust_discharged_patients.csv; 149,482 rows as stated in
    # data/public/nhs_england_operational/README.md, of which 243 (one a day from 2025-01-01)
    # carry no trust code and no values
    "discharges": Golden(
        rows_read=149482,
        rows_rejected=243,
        observations=250995,
        series=363,
        organisations=121,
        first="2022-04-01",
        last="2025-08-31",
        sums={"discharges": 16209803.0},
        counts={"discharges": 250995},
        warnings=[
            ("nhs_trust22_code", SKIPPED, 243),
            ("discharged_total", MISSING, 1274),
            ("discharged_by_1700", MISSING, 97724),
            ("discharged_between_1701_2359", MISSING, 97724),
            # RAJ 2 days, RDU 1, RJ6 2
            ("discharges", LEADING_ZERO, 5),
            ("", ENDED, 4),
        ],
    ),
    # nhs_england_operational/england_trust_criteria_to_reside.csv; 149,482 rows as stated in
    # data/public/nhs_england_operational/README.md, 243 of them blank
    "criteria_to_reside": Golden(
        rows_read=149482,
        rows_rejected=243,
        observations=147965,
        series=121,
        organisations=121,
        first="2022-04-01",
        last="2025-08-31",
        sums={"not_meeting_criteria_to_reside": 28246272.0},
        counts={"not_meeting_criteria_to_reside": 147965},
        warnings=[
            ("nhs_trust22_code", SKIPPED, 243),
            ("do_not_meet_criteria_to_reside", MISSING, 1274),
            # RDU 1 day, RJ6 2
            ("not_meeting_criteria_to_reside", LEADING_ZERO, 3),
            ("", ENDED, 4),
        ],
    ),
    # nhs_england_operational/england_delayed_discharge_reasons.csv; 52,651 rows as stated in
    # data/public/nhs_england_operational/README.md; 37 delay reasons
    "delayed_discharge_reasons": Golden(
        rows_read=52651,
        observations=52392,
        series=4403,
        organisations=119,
        first="2024-06-01",
        last="2025-05-01",
        sums={"delayed_discharges": 106752.0},
        counts={"delayed_discharges": 52392},
        warnings=[("delay_count", MISSING, 259), ("", ENDED, 1)],
    ),
    # nhs_england_operational/england_rtt_flow_stp.csv; 2,478 rows as stated in
    # data/public/nhs_england_operational/README.md
    "rtt_flow_stp": Golden(
        rows_read=2478,
        observations=7434,
        series=126,
        organisations=42,
        first="2020-04-01",
        last="2025-02-01",
        sums={
            "rtt_clock_starts": 92466318.0,
            "rtt_completed": 76986899.0,
            "rtt_waiting_list": 443628548.0,
        },
        counts={"rtt_clock_starts": 2478, "rtt_completed": 2478, "rtt_waiting_list": 2478},
    ),
    # nhs_england_operational/england_rtt_stp.csv; 55,273 rows as stated in
    # data/public/nhs_england_operational/README.md; 43 treatment functions
    "rtt_waits_stp": Golden(
        rows_read=55273,
        observations=110546,
        series=3552,
        organisations=42,
        first="2020-04-01",
        last="2025-02-01",
        sums={"rtt_waiting_over_18w": 417394480.0, "rtt_waiting_over_52w": 58998798.0},
        counts={"rtt_waiting_over_18w": 55273, "rtt_waiting_over_52w": 55273},
    ),
    # nhs_england_operational/england_rtt_region.csv; 11,676 rows as stated in
    # data/public/nhs_england_operational/README.md; the 7 NHS England regions by name
    "rtt_waits_region": Golden(
        rows_read=11676,
        observations=23352,
        series=602,
        organisations=7,
        first="2019-01-01",
        last="2025-02-01",
        sums={"rtt_waiting_over_18w": 460643788.0, "rtt_waiting_over_52w": 59198926.0},
        counts={"rtt_waiting_over_18w": 11676, "rtt_waiting_over_52w": 11676},
    ),
    # nhs_england_operational/england_rtt_overview.csv; 808 rows (202 months x 4 kinds of wait)
    # as stated in data/public/nhs_england_operational/README.md
    "rtt_overview": Golden(
        rows_read=808,
        observations=808,
        series=4,
        organisations=1,
        first="2007-08-01",
        last="2024-05-01",
        sums={
            "rtt_waiting_list": 794508801.0,
            "rtt_waiting_over_18w": 180487212.0,
            "rtt_waiting_over_52w": 20469092.0,
            "rtt_waiting_within_18w": 614021589.0,
        },
        counts={
            "rtt_waiting_list": 202,
            "rtt_waiting_over_18w": 202,
            "rtt_waiting_over_52w": 202,
            "rtt_waiting_within_18w": 202,
        },
    ),
    # england_rtt_new_clock_starts/rtt_new_clock_starts_provider_specialty.csv; 120,432 rows as
    # stated in data/public/england_rtt_new_clock_starts/README.md (its date range 2022-10-31 ..
    # 2025-05-31 is the month-end report date; periods start on arrival_since, the 1st).
    # Organisations: 171 providers and their 7 parent regions.
    "rtt_clock_starts": Golden(
        rows_read=120432,
        observations=120432,
        series=4104,
        organisations=178,
        first="2022-10-01",
        last="2025-05-01",
        sums={"rtt_clock_starts": 98442922.0},
        counts={"rtt_clock_starts": 120432},
        warnings=[("", ENDED, 19)],
    ),
    # england_kh03_overnight_beds_quarterly/england_overnight_beds_kh03.csv; 48 rows (2010/11 Q1
    # .. 2021/22 Q4) as stated in data/public/england_kh03_overnight_beds_quarterly/README.md
    "kh03_beds": Golden(
        rows_read=48,
        observations=480,
        series=10,
        organisations=1,
        first="2010-04-01",
        last="2022-01-01",
        sums={
            "overnight_beds_available": 12672254.886383448,
            "overnight_beds_occupied": 10899599.787883304,
        },
        counts={"overnight_beds_available": 240, "overnight_beds_occupied": 240},
    ),
    # nhs_england_operational/england_ae_acute_trust_attribution.csv; 215 rows as stated in
    # data/public/nhs_england_operational/README.md; a lookup, so links and no observations
    "ae_attribution": Golden(
        rows_read=215,
        observations=0,
        series=0,
        organisations=197,
        first=None,
        last=None,
        sums={},
        counts={},
    ),
}


@cache
def parsed(fmt: str) -> ParsedFile:
    """Each bundled file is parsed once for the whole module."""
    rel = FILES[fmt]
    return read(fmt, PUBLIC / rel, f"data/public/{rel}")


@cache
def reference(name: str, rel: str) -> pd.DataFrame:
    return REFERENCE_TABLES[name].read(PUBLIC / rel, f"data/public/{rel}")


def test_every_format_has_a_bundled_file_and_golden_numbers() -> None:
    assert len(BUNDLED_FILES) == 14
    assert set(FILES) == set(FORMATS) == set(GOLDEN)
    for rel in FILES.values():
        assert (PUBLIC / rel).is_file(), rel


@pytest.mark.parametrize("fmt", list(GOLDEN))
def test_rows_and_shape(fmt: str) -> None:
    gold, p = GOLDEN[fmt], parsed(fmt)
    assert p.format == fmt
    assert p.file == f"data/public/{FILES[fmt]}"
    assert p.rows_read == gold.rows_read
    assert p.rows_rejected == gold.rows_rejected
    assert len(p.observations) == gold.observations
    assert p.series_count() == gold.series
    assert len(p.organisations) == gold.organisations
    assert p.organisations["code"].is_unique


@pytest.mark.parametrize("fmt", list(GOLDEN))
def test_period_range(fmt: str) -> None:
    gold, p = GOLDEN[fmt], parsed(fmt)
    if gold.first is None:
        assert p.period_range() is None
        return
    assert p.period_range() == (pd.Timestamp(gold.first), pd.Timestamp(gold.last))
    assert p.grains == {FORMATS[fmt].grain}


@pytest.mark.parametrize("fmt", list(GOLDEN))
def test_sums_and_counts_per_measure(fmt: str) -> None:
    gold, p = GOLDEN[fmt], parsed(fmt)
    by_measure = p.observations.groupby("measure")["value"]
    assert by_measure.size().to_dict() == gold.counts
    sums = by_measure.sum().to_dict()
    assert sorted(sums) == sorted(gold.sums)
    for measure, total in gold.sums.items():
        assert sums[measure] == pytest.approx(total, rel=REL), measure
    assert not p.observations["value"].isna().any()


@pytest.mark.parametrize("fmt", list(GOLDEN))
def test_warnings(fmt: str) -> None:
    gold, p = GOLDEN[fmt], parsed(fmt)
    assert [(w.column, w.rule, w.count) for w in p.warnings] == gold.warnings


def test_row_of_each_observation_is_its_line_in_the_file() -> None:
    # ae_attendances.csv line 2: 2017-03-01,RF4,1,21289.0,2879.0,5060.0
    obs = parsed("nhsr_ae_attendances").observations
    line2 = obs[obs["row"] == 2].set_index("measure")
    assert line2["org_code"].unique().tolist() == ["RF4"]
    assert line2["breakdown"].unique().tolist() == ["1"]
    assert line2["period_start"].unique().tolist() == [pd.Timestamp("2017-03-01")]
    assert line2["value"].to_dict() == {
        "ae_attendances": 21289.0,
        "ae_breaches_4h": 2879.0,
        "emergency_admissions": 5060.0,
    }


def test_warning_examples_name_the_first_row() -> None:
    # first rows found independently in the raw files
    trust = {w.column: w.example for w in parsed("trust_ae").warnings}
    assert trust["attendances_over_4hours"] == "row 2 (RC9 April 2021)"
    assert trust["emergency_admissions_over_4hours"] == "row 598 (RTQ July 2021)"
    ga = parsed("ga_beds").warnings
    assert ga[0].example == "row 353 (RN3 June 2022)"
    discharges = {w.rule: w.example for w in parsed("discharges").warnings}
    assert discharges[SKIPPED] == "row 124225 (2025-01-01)"
    assert discharges[LEADING_ZERO] == "RAJ: 2 leading zero periods; 3 organisations"
    # the organisation that stopped reporting first (RA4 stops on 2023-04-30 in the daily files)
    assert discharges[ENDED] == "RA4 last reported 2023-04-30"
    ended = {
        fmt: {w.rule: w.example for w in parsed(fmt).warnings}[ENDED]
        for fmt in ("trust_ae", "ga_beds", "delayed_discharge_reasons", "rtt_clock_starts")
    }
    assert ended == {
        "trust_ae": "RTV last reported 2021-05-01",
        "ga_beds": "RA4 last reported 2023-07-01",
        "delayed_discharge_reasons": "RAP last reported 2024-12-01",
        "rtt_clock_starts": "RA4 last reported 2023-03-01",
    }


def test_breakdowns() -> None:
    ae = parsed("nhsr_ae_attendances").observations
    assert sorted(ae["breakdown"].unique()) == ["1", "2", "other"]
    ga = parsed("ga_beds").observations
    assert sorted(ga[ga["measure"] == "ga_beds_occupied"]["breakdown"].unique()) == [
        "adult",
        "all",
        "paediatric",
    ]
    assert sorted(ga[ga["measure"] == "critical_care_beds_occupied"]["breakdown"].unique()) == [
        "adult",
        "neonatal",
        "paediatric_intensive",
    ]
    dis = parsed("discharges").observations
    assert dis.groupby("breakdown").size().to_dict() == {
        # 149,482 rows - 243 blank - missing values of each column
        "after_1700": 149482 - 243 - 97724,
        "all": 149482 - 243 - 1274,
        "by_1700": 149482 - 243 - 97724,
    }
    assert parsed("delayed_discharge_reasons").observations["breakdown"].nunique() == 37
    assert parsed("rtt_waits_stp").observations["breakdown"].nunique() == 43
    assert parsed("rtt_waits_region").observations["breakdown"].nunique() == 43
    kh03 = parsed("kh03_beds").observations
    assert kh03.groupby("breakdown").size().to_dict() == {
        "all": 96,
        "general_acute": 96,
        "learning_disabilities": 96,
        "maternity": 96,
        "mental_illness": 96,
    }


def test_organisation_types_and_parents() -> None:
    regions = parsed("rtt_waits_region").organisations.set_index("code")
    assert sorted(regions.index) == ["Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"]
    assert regions.loc["Y56", "name"] == "London"
    assert set(regions["type"]) == {"region"}
    starts = parsed("rtt_clock_starts").organisations
    assert starts["type"].value_counts().to_dict() == {"provider": 171, "region": 7}
    assert set(starts.loc[starts["type"] == "provider", "parent_code"]) <= set(regions.index)
    (england,) = parsed("kh03_beds").organisations.itertuples(index=False)
    assert (england.code, england.name, england.type) == ("E92000001", "England", "country")
    assert parsed("rtt_overview").organisations["code"].tolist() == ["E92000001"]


def test_rtt_overview_total_is_within_plus_over_18_weeks() -> None:
    obs = parsed("rtt_overview").observations
    wide = obs.pivot(index="period_start", columns="measure", values="value")
    assert len(wide) == 202
    total = wide["rtt_waiting_within_18w"] + wide["rtt_waiting_over_18w"]
    assert (wide["rtt_waiting_list"] == total).all()
    assert (wide["rtt_waiting_over_52w"] <= wide["rtt_waiting_over_18w"]).all()


def test_kh03_quarters_are_financial() -> None:
    obs = parsed("kh03_beds").observations
    first_year = obs[obs["period_start"] < pd.Timestamp("2011-04-01")]
    assert sorted(first_year["period_start"].dt.strftime("%Y-%m-%d").unique()) == [
        "2010-04-01",
        "2010-07-01",
        "2010-10-01",
        "2011-01-01",
    ]
    # 2010/11 Q1, total beds (first data row of the file)
    q1 = obs[(obs["row"] == 2) & (obs["breakdown"] == "all")].set_index("measure")["value"]
    assert q1["overnight_beds_available"] == pytest.approx(144454.87362637362, rel=REL)
    assert q1["overnight_beds_occupied"] == pytest.approx(122551.22648351648, rel=REL)


def test_ae_attribution_links() -> None:
    p = parsed("ae_attribution")
    links = p.links
    assert len(links) == 215
    assert set(links["kind"]) == {"ae_attribution"}
    assert links["weight"].sum() == pytest.approx(197.0, rel=REL)
    assert links["weight"].min() == pytest.approx(0.0789286847233342, rel=REL)
    assert links["weight"].max() == 1.0
    assert links["from_code"].nunique() == 197
    assert links["to_code"].nunique() == 124
    # every provider's attendances are attributed in full
    per_provider = links.groupby("from_code")["weight"].sum()
    assert per_provider.to_numpy() == pytest.approx([1.0] * 197, rel=1e-6)


# -- reference tables ------------------------------------------------------------------------------


def test_los_model() -> None:
    # nhsr_los_and_stranded/LOS_model.csv; 300 rows as stated in
    # data/public/nhsr_los_and_stranded/README.md
    frame = reference("los_model", "nhsr_los_and_stranded/LOS_model.csv")
    assert list(frame.columns) == ["ID", "Organisation", "Age", "LOS", "Death"]
    assert len(frame) == 300
    assert int(frame["ID"].sum()) == 45150
    assert int(frame["Age"].sum()) == 15197
    assert int(frame["LOS"].sum()) == 1481
    assert int(frame["Death"].sum()) == 53
    assert frame["Organisation"].nunique() == 10
    assert (int(frame["Age"].min()), int(frame["Age"].max())) == (5, 95)
    assert (int(frame["LOS"].min()), int(frame["LOS"].max())) == (1, 18)
    assert str(frame["LOS"].dtype) == "Int64"


def test_arrival_profile() -> None:
    # treat_sim_nspp_arrival_profile/ed_arrivals.csv; 18 rows (06:00-24:00) as stated in
    # data/public/treat_sim_nspp_arrival_profile/README.md
    frame = reference("arrival_profile", "treat_sim_nspp_arrival_profile/ed_arrivals.csv")
    assert len(frame) == 18
    assert frame["period"].tolist() == list(range(6, 24))
    assert frame["arrival_rate"].sum() == pytest.approx(227.13333333333335, rel=REL)
    assert frame["arrival_rate"].max() == pytest.approx(31.4, rel=REL)
    assert frame["arrival_rate"].iloc[0] == pytest.approx(2.36666666666667, rel=REL)


def test_stranded() -> None:
    # nhsr_los_and_stranded/stranded_data.csv; 768 rows as stated in
    # data/public/nhsr_los_and_stranded/README.md (310 Stranded, 458 Not Stranded). Its last 69
    # rows (lines 701-769) leave periods_of_previous_care blank (the README types the column as
    # "object" for that reason).
    rel = "nhsr_los_and_stranded/stranded_data.csv"
    frame = reference("stranded", rel)
    assert len(frame) == 768
    assert frame["stranded.label"].value_counts().to_dict() == {
        "Not Stranded": 458,
        "Stranded": 310,
    }
    assert int(frame["age"].sum()) == 40435
    assert int(frame["care.home.referral"].sum()) == 391
    assert int(frame["medicallysafe"].sum()) == 363
    assert int(frame["hcop"].sum()) == 385
    assert int(frame["mental_health_care"].sum()) == 387
    assert int(frame["periods_of_previous_care"].isna().sum()) == 69
    assert int(frame["periods_of_previous_care"].sum()) == 1111
    assert frame["admit_date"].min() == pd.Timestamp("2020-12-02")
    assert frame["admit_date"].max() == pd.Timestamp("2021-02-10")
    assert frame["frailty_index"].value_counts().to_dict() == {
        "No index item": 371,
        "Fall patient history": 135,
        "Activity Limitation": 132,
        "Mobility problems": 130,
    }
