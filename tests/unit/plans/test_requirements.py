"""Requirement lists per plan type: packaged TOML data, counts from the seeds, lookups."""

from __future__ import annotations

import pytest

from flowplan.errors import UsageError
from flowplan.plans import requirements as reqs
from flowplan.plans.model import PlanType

# Counts of the seeds' list items:
# - resilience_capacity_planning_2014-15 Annex A section 2, non-elective template: 13 rows
#   (capacity modelling ... real time system-wide data); elective template: 13 rows (access
#   policy ... Board assurance in Q2), numbered 1-13 in the elective costings template;
# - everyone_counts_planning_2014-19 "Fundamental elements of commissioner plans": 21 rows;
# - everyone_counts Annex I ¶31: six national conditions.
NON_ELECTIVE = 13
ELECTIVE = 13
FUNDAMENTALS = 21
BCF_CONDITIONS = 6


def test_packaged_sets_load_with_version_and_source() -> None:
    sets = reqs.requirement_sets()
    assert set(sets) == {"resilience_capacity", "planning_fundamentals", "bcf", "stp_on_a_page"}
    for req_set in sets.values():
        assert req_set.version
        assert ".txt" in req_set.source  # seed name and line range
        assert "L" in req_set.source


def test_resilience_requirements_counts_and_ids() -> None:
    found = reqs.requirements_for(PlanType.resilience_capacity)
    ne = [r for r in found if r.section == "non_elective"]
    el = [r for r in found if r.section == "elective"]
    assert len(ne) == NON_ELECTIVE
    assert len(el) == ELECTIVE
    assert [r.id for r in ne] == [f"NE{i:02d}" for i in range(1, NON_ELECTIVE + 1)]
    assert [r.id for r in el] == [f"EL{i:02d}" for i in range(1, ELECTIVE + 1)]
    assert all(r.mandatory for r in found)
    assert reqs.requirement("NE12").title == "Cross-system risk stratification"
    assert "2-5 per cent" in reqs.requirement("NE12").guidance
    assert reqs.requirement("EL13").text.startswith("Provide assurance during Q2 2014/15")


@pytest.mark.parametrize("plan_type", [PlanType.operational, PlanType.strategic])
def test_planning_fundamentals_apply_to_operational_and_strategic(plan_type: PlanType) -> None:
    found = reqs.mandatory_requirements(plan_type)
    assert [r.id for r in found] == [f"PF{i:02d}" for i in range(1, FUNDAMENTALS + 1)]
    assert found[11].title == "Meeting the NHS Constitution standards"
    assert reqs.latest_version(plan_type) == "2014-19.1"


def test_bcf_national_conditions() -> None:
    found = reqs.requirements_for(PlanType.bcf)
    assert [r.id for r in found] == [f"BCF-NC{i}" for i in range(1, BCF_CONDITIONS + 1)]
    assert "NHS number" in found[3].title
    assert {r.section for r in found} == {"national_condition"}


def test_stp_on_a_page_has_nothing_mandatory() -> None:
    assert reqs.requirements_for(PlanType.stp_on_a_page)
    assert reqs.mandatory_requirements(PlanType.stp_on_a_page) == []


def test_uncovered_mandatory_lists_what_is_missing() -> None:
    covered = [f"PF{i:02d}" for i in range(1, 21)]
    missing = reqs.uncovered_mandatory(PlanType.operational, None, covered)
    assert [r.id for r in missing] == ["PF21"]


def test_unknown_version_and_requirement_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="no requirement list version '1999'"):
        reqs.requirement_set(PlanType.bcf, "1999")
    with pytest.raises(UsageError, match="unknown requirement 'NE99'"):
        reqs.requirement("NE99")
    with pytest.raises(UsageError, match="unknown plan type"):
        reqs.requirements_for("ccg_plan")


def test_parse_rejects_bad_files() -> None:
    good = 'title = "t"\nversion = "1"\nplan_types = ["bcf"]\nsource = "s"\n'
    entry = (
        '[[requirements]]\nid = "X1"\nsection = "a"\ntitle = "t"\ntext = "x"\nmandatory = true\n'
    )
    assert reqs.parse_requirement_set("x.toml", good + entry).ids() == ["X1"]
    with pytest.raises(ValueError, match=r"x\.toml: unknown top-level key"):
        reqs.parse_requirement_set("x.toml", good + "colour = 1\n")
    with pytest.raises(ValueError, match="appears twice"):
        reqs.parse_requirement_set("x.toml", good + entry + entry)
    with pytest.raises(ValueError, match="plan_types"):
        reqs.parse_requirement_set("x.toml", good.replace('"bcf"', '"ccg"'))
    with pytest.raises(ValueError, match="already in"):
        reqs.load_requirement_sets({"a.toml": good, "b.toml": good})


def test_risk_matrix_bands_cover_every_score() -> None:
    matrix = reqs.risk_matrix()
    assert "risk matrix for risk managers" in matrix.source
    assert "2008" in matrix.source
    assert [matrix.band(s).rag for s in (1, 3, 4, 6, 8, 12, 15, 25)] == [
        "green",
        "green",
        "green",
        "green",
        "amber",
        "amber",
        "red",
        "red",
    ]
    assert matrix.band(5).grading == "moderate"
    with pytest.raises(ValueError, match="outside"):
        matrix.band(26)
