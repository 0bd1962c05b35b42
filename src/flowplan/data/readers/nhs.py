"""The published NHS tables flowplan reads, one :class:`TableFormat` each.

Sources (all open; see ``data/public/SOURCES.md`` for repositories, commits and licences):
NHSRdatasets (CC0), healthyr (MIT), NHSRwaitinglist (MIT), the Health Foundation's
ambulance_and_emergency_care (MIT); the underlying statistics are NHS England's, published under
the Open Government Licence v3.
"""

from __future__ import annotations

from flowplan.data.grain import Grain
from flowplan.data.readers.engine import (
    Link,
    NotAbove,
    Rate,
    TableFormat,
    Value,
    date_column,
    financial_quarter,
)
from flowplan.data.reference import region_codes

ENGLAND = ("E92000001", "England")

OGL = "NHS England statistics, Open Government Licence v3"
NHSR = f"NHSRdatasets (nhs-r-community/NHSRdatasets, CC0); {OGL}"
HEALTHYR = f"healthyr (humaniverse/healthyr, MIT); {OGL}"
WAITINGLIST = f"NHSRwaitinglist (nhs-r-community/NHSRwaitinglist, MIT); {OGL}"
HEALTH_FOUNDATION = (
    f"ambulance_and_emergency_care (HFAnalyticsLab/ambulance_and_emergency_care, MIT); {OGL}"
)


def _ae_values(attendances: str, breaches: str, admissions: str, dta: str) -> tuple[Value, ...]:
    return (
        Value(attendances, "ae_attendances"),
        Value(breaches, "ae_breaches_4h"),
        Value(admissions, "emergency_admissions"),
        Value(dta, "ae_dta_over_4h"),
    )


def _ae_checks(attendances: str, breaches: str, admissions: str, dta: str) -> tuple[NotAbove, ...]:
    return (NotAbove(breaches, attendances), NotAbove(dta, admissions))


NHSR_AE = TableFormat(
    name="nhsr_ae_attendances",
    title="Monthly A&E attendances, 4-hour breaches and admissions by provider and A&E type",
    source=NHSR,
    grain=Grain.MONTH,
    org_type="provider",
    period_columns=("period",),
    parse_period=date_column("period", "%Y-%m-%d"),
    org_column="org_code",
    breakdown_column="type",
    values=(
        Value("attendances", "ae_attendances"),
        Value("breaches", "ae_breaches_4h"),
        Value("admissions", "emergency_admissions"),
    ),
    checks=(NotAbove("breaches", "attendances"),),
)

TRUST_AE = TableFormat(
    name="trust_ae",
    title="Monthly A&E attendances, > 4 h, emergency admissions and > 4 h from decision to admit, "
    "by trust",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="trust",
    period_columns=("date",),
    parse_period=date_column("date", "%B %Y"),
    org_column="nhs_trust22_code",
    values=_ae_values(
        "total_attendances",
        "attendances_over_4hours",
        "total_emergency_admissions",
        "emergency_admissions_over_4hours",
    ),
    rates=(Rate("pct_attendance_over_4hours"), Rate("pct_emergency_admissions_over_4hours")),
    checks=_ae_checks(
        "total_attendances",
        "attendances_over_4hours",
        "total_emergency_admissions",
        "emergency_admissions_over_4hours",
    ),
)

ICB_AE = TableFormat(
    name="icb_ae",
    title="Monthly A&E attendances, > 4 h, emergency admissions and > 4 h from decision to admit, "
    "by ICB",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="icb",
    period_columns=("date",),
    parse_period=date_column("date", "%B %Y"),
    org_column="icb22_code",
    values=TRUST_AE.values,
    rates=TRUST_AE.rates,
    checks=TRUST_AE.checks,
)


def _beds(prefix: str, measure: str, breakdown: str) -> tuple[Value, Value]:
    return (
        Value(f"{prefix}_available", f"{measure}_available", breakdown),
        Value(f"{prefix}_occupied", f"{measure}_occupied", breakdown),
    )


_BED_GROUPS = (
    ("general_acute_beds", "general_acute_beds_occupancy_rate", "ga_beds", "all"),
    ("adult_general_acute_beds", "adult_general_acute_beds_occupancy_rate", "ga_beds", "adult"),
    (
        "paediatric_general_acute_beds",
        "paediatric_general_acute_beds_occupancy_rate",
        "ga_beds",
        "paediatric",
    ),
    (
        "adult_critical_care_beds",
        "adult_critical_care_occupancy_rate",
        "critical_care_beds",
        "adult",
    ),
    (
        "paediatric_intensive_cared_beds",
        "paediatric_intensive_cared_occupancy_rate",
        "critical_care_beds",
        "paediatric_intensive",
    ),
)

GA_BEDS = TableFormat(
    name="ga_beds",
    title="Monthly G&A (all/adult/paediatric) and critical care beds available and occupied, "
    "by trust",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="trust",
    period_columns=("date",),
    parse_period=date_column("date", "%B %Y"),
    org_column="nhs_trust22_code",
    values=tuple(v for p, _, m, b in _BED_GROUPS for v in _beds(p, m, b))
    + (
        Value("neonatal_intensive_care_bed_available", "critical_care_beds_available", "neonatal"),
        Value("neonatal_intensive_care_bed_occupied", "critical_care_beds_occupied", "neonatal"),
    ),
    rates=tuple(
        Rate(rate, published_pair=(f"{p}_occupied", f"{p}_available"))
        for p, rate, _, _ in _BED_GROUPS
    )
    + (
        Rate(
            "neonatal_intensive_care_occupancy_rate",
            published_pair=(
                "neonatal_intensive_care_bed_occupied",
                "neonatal_intensive_care_bed_available",
            ),
        ),
    ),
    checks=tuple(
        NotAbove(f"{p}_occupied", f"{p}_available", flag_only=True) for p, *_ in _BED_GROUPS
    )
    + (
        NotAbove(
            "neonatal_intensive_care_bed_occupied",
            "neonatal_intensive_care_bed_available",
            flag_only=True,
        ),
    ),
)

DISCHARGES = TableFormat(
    name="discharges",
    title="Daily patients discharged (by 17:00, 17:01–23:59, total), by trust",
    source=HEALTHYR,
    grain=Grain.DAY,
    org_type="trust",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="nhs_trust22_code",
    values=(
        Value("discharged_total", "discharges", "all"),
        Value("discharged_by_1700", "discharges", "by_1700"),
        Value("discharged_between_1701_2359", "discharges", "after_1700"),
    ),
    checks=(
        NotAbove("discharged_by_1700", "discharged_total"),
        NotAbove("discharged_between_1701_2359", "discharged_total"),
    ),
    leading_zero_measure="discharges",
)

CRITERIA_TO_RESIDE = TableFormat(
    name="criteria_to_reside",
    title="Daily patients no longer meeting the criteria to reside, by trust",
    source=HEALTHYR,
    grain=Grain.DAY,
    org_type="trust",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="nhs_trust22_code",
    values=(Value("do_not_meet_criteria_to_reside", "not_meeting_criteria_to_reside"),),
    leading_zero_measure="not_meeting_criteria_to_reside",
)

DELAYED_DISCHARGE_REASONS = TableFormat(
    name="delayed_discharge_reasons",
    title="Monthly delayed-discharge patients by reason, by trust",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="trust",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="nhs_trust22_code",
    name_column="nhs_trust22_name",
    breakdown_column="delay_reason",
    values=(Value("delay_count", "delayed_discharges"),),
)

RTT_FLOW_STP = TableFormat(
    name="rtt_flow_stp",
    title="Monthly RTT new clock starts, completed pathways and waiting list, by STP",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="stp",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="stp20_nhs_code",
    values=(
        Value("new", "rtt_clock_starts"),
        Value("completed", "rtt_completed"),
        Value("incomplete", "rtt_waiting_list"),
    ),
)

_WAITS = (
    Value("waits_over_18_weeks", "rtt_waiting_over_18w"),
    Value("waits_over_52_weeks", "rtt_waiting_over_52w"),
)

RTT_WAITS_STP = TableFormat(
    name="rtt_waits_stp",
    title="Monthly RTT waits over 18 and 52 weeks by treatment function, by STP",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="stp",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="stp20_nhs_code",
    name_column="stp20_name",
    breakdown_column="treatment",
    values=_WAITS,
    checks=(NotAbove("waits_over_52_weeks", "waits_over_18_weeks"),),
)

RTT_WAITS_REGION = TableFormat(
    name="rtt_waits_region",
    title="Monthly RTT waits over 18 and 52 weeks by treatment function, by NHS region",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="region",
    period_columns=("date",),
    parse_period=date_column("date", "%Y-%m-%d"),
    org_column="nhs_region20_name",
    org_code_map=region_codes(),
    breakdown_column="treatment",
    values=_WAITS,
    checks=RTT_WAITS_STP.checks,
)

RTT_OVERVIEW = TableFormat(
    name="rtt_overview",
    title="Monthly national RTT waiting list within / over 18 and over 52 weeks, England",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="country",
    period_columns=("month",),
    parse_period=date_column("month", "%Y-%m-%d"),
    fixed_org=ENGLAND,
    measure_column="type_of_wait",
    measure_map={
        "No. within 18 weeks": "rtt_waiting_within_18w",
        "No. > 18 weeks": "rtt_waiting_over_18w",
        "No. > 52 weeks": "rtt_waiting_over_52w",
        "Total waiting": "rtt_waiting_list",
    },
    values=(Value("count", "rtt_waiting_list"),),
)

RTT_CLOCK_STARTS = TableFormat(
    name="rtt_clock_starts",
    title="Monthly new RTT clock starts (referrals) by provider and treatment function",
    source=WAITINGLIST,
    grain=Grain.MONTH,
    org_type="provider",
    period_columns=("arrival_since",),
    parse_period=date_column("arrival_since", "%Y-%m-%d"),
    org_column="Provider_Code",
    name_column="Provider_Name",
    parent_column="Region_Code",
    parent_type="region",
    breakdown_column="Treatment_Function_Code",
    values=(Value("Number_of_new_RTT_clock_starts_during_the_month", "rtt_clock_starts"),),
    extra_columns=("Treatment_Function", "report_date"),
)

_KH03_SECTORS = (
    ("total", "all"),
    ("general_acute", "general_acute"),
    ("learning_disabilities", "learning_disabilities"),
    ("maternity", "maternity"),
    ("mental_illness", "mental_illness"),
)

KH03 = TableFormat(
    name="kh03_beds",
    title="KH03 quarterly average overnight beds available and occupied by sector, England",
    source=HEALTH_FOUNDATION,
    grain=Grain.QUARTER,
    org_type="country",
    period_columns=("year", "period"),
    parse_period=financial_quarter("year", "period"),
    fixed_org=ENGLAND,
    values=tuple(
        v
        for col, bd in _KH03_SECTORS
        for v in (
            Value(f"avail_{col}", "overnight_beds_available", bd),
            Value(f"occ_{col}", "overnight_beds_occupied", bd),
        )
    ),
    rates=tuple(
        Rate(f"occrate_{col}", published_pair=(f"occ_{col}", f"avail_{col}"))
        for col, _ in _KH03_SECTORS
    ),
    checks=tuple(
        NotAbove(f"occ_{col}", f"avail_{col}", flag_only=True) for col, _ in _KH03_SECTORS
    ),
)

AE_ATTRIBUTION = TableFormat(
    name="ae_attribution",
    title="Non-acute A&E providers attributed to acute trusts, with the share of attendances",
    source=HEALTHYR,
    grain=Grain.MONTH,
    org_type="trust",
    link=Link(
        "nhs_trust22_code_all",
        "nhs_trust22_code_acute",
        "proportion_attendances_attributed_to_acute_trust",
        "ae_attribution",
    ),
)

PUBLISHED_FORMATS: tuple[TableFormat, ...] = (
    NHSR_AE,
    TRUST_AE,
    ICB_AE,
    GA_BEDS,
    DISCHARGES,
    CRITERIA_TO_RESIDE,
    DELAYED_DISCHARGE_REASONS,
    RTT_FLOW_STP,
    RTT_WAITS_STP,
    RTT_WAITS_REGION,
    RTT_OVERVIEW,
    RTT_CLOCK_STARTS,
    KH03,
    AE_ATTRIBUTION,
)
