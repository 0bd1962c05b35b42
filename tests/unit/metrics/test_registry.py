"""Metric registry: completeness against the planning guidance, consistency with measures.csv,
schema rules of the TOML definitions, and lookup errors.

Provenance of the required lists: shared/docs/DOMAIN.md §3.1 (NHS Constitution standards, from
Everyone Counts: Planning for Patients 2014/15–2018/19, Annex B), §2.4 (BCF metrics, Annex I ¶36
and the local-metric menu of ¶42), §3.2 (UEC 10-point plan §6) and §3.3 (Annex A ambitions).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from importlib import resources

import pytest
from pydantic import ValidationError

from flowplan.data import measures
from flowplan.errors import UsageError
from flowplan.metrics import registry
from flowplan.metrics.registry import (
    MetricDefinition,
    families,
    get,
    load_definitions,
    parse_definitions,
)


def message(text: str) -> str:
    """A regex matching exactly ``text`` as the whole error message."""
    return "^" + re.escape(text) + "$"


def packaged_files() -> dict[str, str]:
    folder = resources.files("flowplan.metrics").joinpath("definitions")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


# --- completeness ---------------------------------------------------------------------------

# Everyone Counts 2014/15–2018/19, Annex B (DOMAIN §3.1): metric id → operational standard (%,
# or a count for the zero-tolerance support measures).
CONSTITUTION_STANDARDS = {
    "constitution.rtt_admitted_18w": 90,
    "constitution.rtt_non_admitted_18w": 95,
    "constitution.rtt_incomplete_18w": 92,
    "constitution.diagnostics_6w": 99,
    "constitution.ae_4h": 95,
    "constitution.cancer_2ww": 93,
    "constitution.cancer_2ww_breast": 93,
    "constitution.cancer_31d_first": 96,
    "constitution.cancer_31d_surgery": 94,
    "constitution.cancer_31d_drugs": 98,
    "constitution.cancer_31d_radiotherapy": 94,
    "constitution.cancer_62d_gp": 85,
    "constitution.cancer_62d_screening": 90,
    "constitution.ambulance_red1_8min": 75,
    "constitution.ambulance_red2_8min": 75,
    "constitution.ambulance_cat_a_19min": 95,
    "constitution.rtt_52w": 0,
    "constitution.trolley_waits_12h": 0,
    "constitution.cpa_7day_follow_up": 95,
    "constitution.handover_15min": 100,
    "constitution.crew_ready_15min": 100,
    "constitution.urgent_ops_cancelled_twice": 0,
    "constitution.cancelled_ops_not_rebooked_28d": 0,
}

# Support measures of Annex B that carry no numeric standard, with the words that say so.
CONSTITUTION_WITHOUT_STANDARD = {
    "constitution.cancer_62d_upgrade": "no operational standard set",
    "constitution.mixed_sex_breaches": "minimise breaches",
    "constitution.handover_over_30min": "over 30 minutes",
    "constitution.handover_over_60min": "over an hour",
}

BCF_NATIONAL = {
    "bcf.permanent_admissions_65plus",
    "bcf.reablement_91_days",
    "bcf.delayed_transfers",
    "bcf.avoidable_emergency_admissions",
    "bcf.patient_experience",
}

# Annex I ¶42: NHS OF 2.1, 2.6i, 3.5 (30 and 120 days); ASCOF 1A, 1H, 1D; PHOF 1.18i, 2.13ii, 2.24i.
BCF_LOCAL_MENU = {
    "bcf.local.nhsof_2_1_supported_ltc",
    "bcf.local.nhsof_2_6i_dementia_diagnosis",
    "bcf.local.nhsof_3_5i_fracture_mobility_30d",
    "bcf.local.nhsof_3_5ii_fracture_mobility_120d",
    "bcf.local.ascof_1a_care_quality_of_life",
    "bcf.local.ascof_1h_mental_health_independent",
    "bcf.local.ascof_1d_carer_quality_of_life",
    "bcf.local.phof_1_18i_social_contact",
    "bcf.local.phof_2_13ii_inactive_adults",
    "bcf.local.phof_2_24i_falls_65plus",
}

# Annex A: the seven ambitions, the ambition-3 parts, the Quality Premium and support measures.
OUTCOME_IDS = {
    "outcome.pyll_amenable",
    "outcome.hrqol_ltc",
    "outcome.avoidable_emergency_admissions",
    "outcome.admissions_chronic_acsc",
    "outcome.admissions_asthma_diabetes_epilepsy_u19",
    "outcome.admissions_acute_not_usually_admitted",
    "outcome.admissions_lrti_children",
    "outcome.older_people_home_91_days",
    "outcome.inpatient_experience",
    "outcome.experience_outside_hospital",
    "outcome.hospital_deaths_problems_in_care",
    "outcome.qp_iapt_access",
    "outcome.iapt_recovery",
    "outcome.dementia_diagnosis_rate",
    "outcome.qp_friends_and_family",
    "outcome.qp_medication_error_reporting",
    "outcome.mrsa",
    "outcome.c_difficile",
}

# UEC 10-point plan §6 (DOMAIN §3.2), the A&E 4-hour % by type and bed occupancy.
UEC_IDS = {
    "uec.initial_assessment_15min",
    "uec.time_to_initial_assessment",
    "uec.ed_12h_from_arrival",
    "uec.crtp_over_1h",
    "uec.dta_over_4h",
    "uec.dta_over_12h",
    "uec.ae_4h_all",
    "uec.ae_4h_type1",
    "uec.ae_4h_type2",
    "uec.ae_4h_other",
    "uec.handover_minutes_lost",
    "uec.handovers_over_30min",
    "uec.handovers_over_60min",
    "uec.sdec_12h_days",
    "uec.frailty_sdec_hours_per_week",
    "uec.ga_bed_occupancy",
    "uec.ctr",
    "uec.los_7plus",
    "uec.los_14plus",
    "uec.los_21plus",
    "uec.weekend_discharges",
    "uec.discharges_before_1700",
}


def test_families_are_the_four_definition_files() -> None:
    assert families() == ["bcf", "constitution", "outcome", "uec"]
    assert sorted(packaged_files()) == [
        "bcf.toml",
        "constitution.toml",
        "outcomes.toml",
        "uec.toml",
    ]


def test_every_id_is_listed_here_and_nothing_else() -> None:
    expected = (
        set(CONSTITUTION_STANDARDS)
        | set(CONSTITUTION_WITHOUT_STANDARD)
        | BCF_NATIONAL
        | BCF_LOCAL_MENU
        | OUTCOME_IDS
        | UEC_IDS
    )
    assert set(registry.registry()) == expected
    counts = Counter(defn.family for defn in registry.registry().values())
    assert counts == {"constitution": 27, "uec": 22, "outcome": 18, "bcf": 15}


@pytest.mark.parametrize(("metric_id", "standard"), sorted(CONSTITUTION_STANDARDS.items()))
def test_constitution_standard_present_with_its_threshold(metric_id: str, standard: int) -> None:
    defn = get(metric_id)
    assert defn.family == "constitution"
    assert defn.standard == standard
    assert defn.standard_text
    assert "Annex B" in defn.source
    # Zero-tolerance counts and "%-not-rebooked" are lower-is-better; the rest higher-is-better.
    expected = "lower_is_better" if standard == 0 else "higher_is_better"
    assert defn.direction == expected


@pytest.mark.parametrize(("metric_id", "words"), sorted(CONSTITUTION_WITHOUT_STANDARD.items()))
def test_constitution_support_measures_without_a_number(metric_id: str, words: str) -> None:
    defn = get(metric_id)
    assert defn.standard is None
    assert words in defn.standard_text


def test_constitution_percentages_are_on_a_0_100_scale() -> None:
    for defn in registry.registry().values():
        if defn.family == "constitution" and defn.unit == "%":
            assert defn.scale == 100, defn.id
            assert defn.standard is None or 0 <= defn.standard <= 100, defn.id


def test_bcf_national_metrics_and_their_rules() -> None:
    bcf = {i for i, d in registry.registry().items() if d.family == "bcf"}
    assert bcf == BCF_NATIONAL | BCF_LOCAL_MENU
    admissions = get("bcf.permanent_admissions_65plus")
    assert (admissions.unit, admissions.scale) == ("per 100,000 population 65+", 100000)
    assert (admissions.period_rule, admissions.default_months) == ("annual", 12)
    reablement = get("bcf.reablement_91_days")
    assert (reablement.unit, reablement.scale, reablement.period_rule) == ("%", 100, "none")
    delayed = get("bcf.delayed_transfers")
    assert delayed.scale == 100000
    assert "per 100,000 population 18+" in delayed.unit
    assert (delayed.period_rule, delayed.default_months) == ("average_per_month", None)
    avoidable = get("bcf.avoidable_emergency_admissions")
    assert (avoidable.unit, avoidable.scale) == ("per 100,000 population", 100000)
    assert all(
        get(i).direction == "lower_is_better"
        for i in BCF_NATIONAL - {"bcf.reablement_91_days", "bcf.patient_experience"}
    )


def test_outcome_levels_named_in_annex_a() -> None:
    assert get("outcome.qp_iapt_access").standard == 15
    assert get("outcome.iapt_recovery").standard == 50
    assert get("outcome.dementia_diagnosis_rate").standard == 67
    assert get("outcome.mrsa").standard == 0
    assert "3.2%" in get("outcome.pyll_amenable").standard_text


def test_uec_measures_wired_as_the_brief_says() -> None:
    ctr = get("uec.ctr")
    assert (ctr.numerator_measure, ctr.denominator_measure) == (
        "not_meeting_criteria_to_reside",
        "ga_beds_occupied",
    )
    assert ctr.unit == "%"
    before_five = get("uec.discharges_before_1700")
    assert (before_five.numerator_measure, before_five.numerator_breakdown) == (
        "discharges",
        "by_1700",
    )
    assert (before_five.denominator_measure, before_five.denominator_breakdown) == (
        "discharges",
        "all",
    )
    occupancy = get("uec.ga_bed_occupancy")
    assert (occupancy.numerator_measure, occupancy.denominator_measure) == (
        "ga_beds_occupied",
        "ga_beds_available",
    )
    assert (occupancy.direction, occupancy.standard, occupancy.unit) == ("lower_is_better", 92, "%")
    for suffix, breakdown in (("all", "all"), ("type1", "1"), ("type2", "2"), ("other", "other")):
        defn = get(f"uec.ae_4h_{suffix}")
        assert defn.complement
        assert defn.numerator_measure == "ae_breaches_4h"
        assert defn.denominator_measure == "ae_attendances"
        assert defn.numerator_breakdown == defn.denominator_breakdown == breakdown


def test_every_named_measure_exists_in_measures_csv() -> None:
    canonical = measures.registry()
    named = 0
    for defn in registry.registry().values():
        for measure, breakdown in (
            (defn.numerator_measure, defn.numerator_breakdown),
            (defn.denominator_measure, defn.denominator_breakdown),
        ):
            if measure is None:
                assert breakdown is None, defn.id
                continue
            named += 1
            assert measure in canonical, (defn.id, measure)
            # measures.csv describes the breakdowns in words; each one used must be named there
            # (the A&E measures say "A&E type", whose labels are 1, 2 and other).
            assert isinstance(breakdown, str) and breakdown, (defn.id, measure)
            text = canonical[measure].breakdowns
            labels = set(re.findall(r"[a-z0-9_]+", text))
            if "A&E type" in text:
                labels |= {"1", "2", "other"}
            assert breakdown in labels, (defn.id, measure, breakdown)
    assert named >= 20


def test_ids_unique_across_and_within_files() -> None:
    ids = [d.id for name, text in packaged_files().items() for d in parse_definitions(name, text)]
    assert len(ids) == len(set(ids)) == len(registry.registry())


def test_fields_valid_for_every_metric() -> None:
    for defn in registry.registry().values():
        assert defn.direction in ("higher_is_better", "lower_is_better", "neutral")
        assert defn.period_rule in ("none", "average_per_month", "annual")
        assert defn.id.startswith(defn.family + ".")
        assert defn.scale > 0
        assert defn.version
        assert defn.source
        assert not (defn.complement and defn.period_rule != "none")
        if defn.unit == "count":
            assert defn.scale == 1 and defn.denominator.startswith("1"), defn.id


def test_versions_are_per_file() -> None:
    by_family = {d.family: d.version for d in registry.registry().values()}
    assert by_family == {
        "constitution": "2014-19.1",
        "uec": "2021.1",
        "bcf": "2014-15.1",
        "outcome": "2014-19.1",
    }


def test_no_policy_number_in_the_engine_code() -> None:
    # Standards live in the TOML files: no threshold of Annex B is a numeric literal in the code.
    thresholds = {75, 85, 90, 92, 93, 94, 95, 96, 98, 99}
    for module in ("registry.py", "compute.py", "check.py"):
        text = resources.files("flowplan.metrics").joinpath(module).read_text(encoding="utf-8")
        literals = {
            node.value
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Constant) and type(node.value) in (int, float)
        }
        assert not literals & thresholds, module


# --- lookup ---------------------------------------------------------------------------------


def test_get_returns_the_definition() -> None:
    defn = get("constitution.ae_4h")
    assert isinstance(defn, MetricDefinition)
    assert defn.complement and defn.scale == 100
    assert (defn.numerator_measure, defn.denominator_measure) == (
        "ae_breaches_4h",
        "ae_attendances",
    )


def test_get_unknown_lists_close_matches() -> None:
    with pytest.raises(
        UsageError,
        match=message(
            "unknown metric 'bcf.delayed_transfer' (see `flowplan metric list`); "
            "did you mean 'bcf.delayed_transfers'?"
        ),
    ):
        get("bcf.delayed_transfer")


def test_get_unknown_matches_the_part_after_the_family() -> None:
    with pytest.raises(
        UsageError,
        match=message(
            "unknown metric 'ae_4h' (see `flowplan metric list`); did you mean "
            "'constitution.ae_4h', 'uec.ae_4h_all' or 'uec.ae_4h_other'?"
        ),
    ):
        get("ae_4h")


def test_get_unknown_without_close_matches() -> None:
    with pytest.raises(
        UsageError, match=message("unknown metric 'zzz' (see `flowplan metric list`)")
    ):
        get("zzz")


def test_registry_is_cached_but_callers_cannot_change_it() -> None:
    first = registry.registry()
    first.pop("constitution.ae_4h")
    assert "constitution.ae_4h" in registry.registry()
    assert registry.registry()["uec.ctr"] is registry.registry()["uec.ctr"]


def test_definitions_are_frozen() -> None:
    defn = get("uec.ctr")
    with pytest.raises(ValidationError):
        defn.scale = 1  # type: ignore[misc]


# --- schema rules ---------------------------------------------------------------------------

HEADER = 'family = "demo"\nversion = "1"\ntitle = "Demo"\nsource = "Somewhere, Annex Z"\n'
METRIC = """
[[metrics]]
id = "demo.ratio"
name = "Ratio"
description = "A ratio."
unit = "%"
numerator = "Things"
denominator = "All things"
scale = 100
direction = "higher_is_better"
grain = "month"
"""


def parse(extra: str = "", header: str = HEADER, metric: str = METRIC) -> list[MetricDefinition]:
    return parse_definitions("demo.toml", header + metric + extra)


def test_minimal_file_takes_family_version_and_source_from_the_file() -> None:
    (defn,) = parse()
    assert (defn.family, defn.version, defn.source) == ("demo", "1", "Somewhere, Annex Z")
    assert (defn.complement, defn.period_rule, defn.default_months) == (False, "none", None)
    assert (defn.standard, defn.standard_text) == (None, "")
    assert defn.numerator_measure is None and defn.numerator_breakdown is None


def test_measure_without_breakdown_means_all() -> None:
    (defn,) = parse('numerator_measure = "discharges"\n')
    assert (defn.numerator_measure, defn.numerator_breakdown) == ("discharges", "all")


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ('colour = "red"\n', "colour: Extra inputs are not permitted"),
        ('numerator_measure = "no_such_measure"\n', "numerator_measure 'no_such_measure' is not"),
        ('denominator_breakdown = "adult"\n', "denominator_breakdown needs denominator_measure"),
        ('complement = true\nperiod_rule = "average_per_month"\n', "complement needs period_rule"),
        ("default_months = 12\n", "default_months only applies"),
        ('period_rule = "annual"\n', "an 'annual' metric needs default_months"),
        ("standard = 90\n", "standard_text must say what the standard is"),
        ('family = "demo"\n', "family are set once per file, not per metric"),
        ('complement = "yes"\n', "complement: Input should be a valid boolean"),
    ],
)
def test_schema_rules(extra: str, rule: str) -> None:
    with pytest.raises(ValueError, match=r"^demo\.toml: metric 1 \('demo\.ratio'\): .*") as info:
        parse(extra)
    assert rule in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ('"higher_is_better"', '"up"', "direction: Input should be 'higher_is_better'"),
        ("scale = 100", "scale = 0", "scale: Input should be greater than 0"),
        ('id = "demo.ratio"', 'id = "demo.Ratio"', "id: String should match pattern"),
        ('grain = "month"', 'grain = "fortnight"', "grain: Input should be 'day'"),
    ],
)
def test_field_values(old: str, new: str, rule: str) -> None:
    with pytest.raises(ValueError, match=r"^demo\.toml: metric 1 ") as info:
        parse(metric=METRIC.replace(old, new))
    assert rule in str(info.value)


def test_standard_needs_a_direction() -> None:
    metric = METRIC.replace('"higher_is_better"', '"neutral"')
    with pytest.raises(ValueError, match="a standard needs a direction other than 'neutral'"):
        parse('standard = 1\nstandard_text = "one"\n', metric=metric)


def test_id_must_start_with_the_family() -> None:
    with pytest.raises(
        ValueError, match=re.escape("id 'demo.ratio' must start with its family 'other.'")
    ):
        parse(header=HEADER.replace('"demo"', '"other"'))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("family = ", "demo.toml: not valid TOML: "),
        (HEADER + 'colour = "red"\n' + METRIC, "demo.toml: unknown top-level key(s): colour"),
        (HEADER.replace('title = "Demo"\n', ""), "demo.toml: top-level 'title' must be"),
        (HEADER, "demo.toml: needs at least one [[metrics]] table"),
        (HEADER + "metrics = [1]\n", "demo.toml: metric 1 is not a table"),
    ],
)
def test_file_rules(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        parse_definitions("demo.toml", text)


def test_duplicate_ids_and_families_rejected_across_files() -> None:
    other = HEADER.replace('"demo"', '"other"') + METRIC.replace("demo.ratio", "other.ratio")
    assert sorted(load_definitions({"a.toml": HEADER + METRIC, "b.toml": other})) == [
        "demo.ratio",
        "other.ratio",
    ]
    with pytest.raises(
        ValueError, match=message("b.toml: family 'demo' is already defined in a.toml")
    ):
        load_definitions({"a.toml": HEADER + METRIC, "b.toml": HEADER + METRIC})
    with pytest.raises(
        ValueError, match=message("a.toml: metric id 'demo.ratio' is defined twice")
    ):
        load_definitions({"a.toml": HEADER + METRIC + METRIC})
