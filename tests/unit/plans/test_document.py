"""Plan documents: YAML/JSON round trips, the demo plan, and located problems for bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowplan.errors import ProblemsError, UsageError
from flowplan.plans import (
    Plan,
    PlanType,
    PlanValidationError,
    SchemeSection,
    dump_plan,
    integrity_problems,
    load_plan,
    mandatory_requirements,
    parse_plan,
    requirements_for,
    save_plan,
)
from flowplan.plans.document import field_path
from flowplan.plans.requirements import uncovered_mandatory

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "data" / "demo" / "plans" / "lsc_resilience_2015.yaml"


@pytest.fixture(scope="module")
def demo() -> Plan:
    return load_plan(DEMO)


@pytest.fixture
def demo_data() -> dict[str, Any]:
    data = yaml.safe_load(dump_plan(load_plan(DEMO), "yaml"))
    assert isinstance(data, dict)
    return data


def _problems(data: dict[str, Any], tmp_path: Path, name: str = "bad.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(PlanValidationError) as exc:
        load_plan(path)
    assert isinstance(exc.value, ProblemsError)
    return exc.value.lines()


# --- The demo plan -----------------------------------------------------------------------------


def test_demo_plan_loads_and_is_clean(demo: Plan) -> None:
    assert demo.id == "lsc-resilience-2015"
    assert demo.type is PlanType.resilience_capacity
    assert demo.footprint == "LSC-SRG"
    assert {"RXL", "RXN", "RXR", "RTX", "QE1"} <= {m.code for m in demo.members}
    assert integrity_problems(demo, DEMO.name) == []


def test_demo_plan_covers_every_mandatory_requirement(demo: Plan) -> None:
    mandatory = mandatory_requirements(demo.type, demo.requirements_version)
    assert len(mandatory) == 26
    assert (
        uncovered_mandatory(demo.type, demo.requirements_version, demo.covered_requirements()) == []
    )
    for req in mandatory:
        schemes = [s for s in demo.schemes if req.id in s.requirements]
        assert schemes, req.id
        for scheme in schemes:
            assert scheme.section is SchemeSection.minimum
            assert scheme.kpis and scheme.costs and scheme.end is not None, scheme.id
            assert scheme.lead.email.endswith("@example.org")


def test_demo_plan_totals_add_up_and_show_a_gap(demo: Plan) -> None:
    stated = demo.stated_totals
    assert stated is not None
    assert stated.total_funding_gbp == demo.total_funding()
    assert stated.total_scheme_cost_gbp == demo.total_scheme_cost()
    assert stated.minimum_requirement_cost_gbp == demo.total_scheme_cost(
        section=SchemeSection.minimum
    )
    assert stated.innovation_cost_gbp == demo.total_scheme_cost(section=SchemeSection.innovation)
    assert stated.funding_gap_gbp == demo.funding_gap()
    assert demo.funding_gap() > 0
    assert {f.kind.value for f in demo.funding} == {
        "central_resilience",
        "marginal_tariff",
        "other_local",
    }


def test_demo_plan_has_the_supporting_parts(demo: Plan) -> None:
    assert any(s.section is SchemeSection.innovation for s in demo.schemes)
    assert {r.rag for r in demo.risks} == {"red", "amber", "green"}
    assert [s.id for s in demo.sections] == ["1.1", "1.2", "1.3"]
    assert demo.priorities and demo.enablers and demo.interdependencies
    assert any(m.depends_on for m in demo.milestones)
    known = {r.id for r in requirements_for(demo.type)}
    assert demo.covered_requirements() <= known


# --- Round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_gives_an_equal_model(demo: Plan, fmt: Any) -> None:
    text = dump_plan(demo, fmt)
    again = parse_plan(text, fmt)
    assert again == demo
    assert dump_plan(again, fmt) == text


def test_json_writes_money_as_numbers_and_dates_as_text(demo: Plan) -> None:
    data = json.loads(dump_plan(demo, "json"))
    assert data["funding"][0]["amount_gbp"] == 3600000
    assert data["period_start"] == "2015-04-01"


@pytest.mark.parametrize("name", ["plan.yaml", "plan.yml", "plan.json"])
def test_save_and_load_by_suffix(demo: Plan, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    save_plan(demo, path)
    assert load_plan(path) == demo


def test_unknown_suffix_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.yaml, \.yml or \.json"):
        load_plan(tmp_path / "plan.txt")


# --- Bad input: one located problem each -------------------------------------------------------


def test_unknown_requirement_id(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][2]["requirements"].append("NE99")
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:schemes[2].requirements[2]: unknown requirement id for a"
        " resilience_capacity plan (requirements 2014-15.1) — NE99"
    ]


def test_kpi_with_unknown_metric(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][2]["kpis"][0]["metric"] = "constitution.ae_4hr"
    (line,) = _problems(demo_data, tmp_path)
    assert line.startswith("bad.yaml:0:schemes[2].kpis[0].metric: unknown metric")
    assert "did you mean 'constitution.ae_4h'" in line
    assert line.endswith("— constitution.ae_4hr")


def test_cost_given_as_text(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][2]["costs"][0]["amount_gbp"] = "£1.2m"
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:schemes[2].costs[0].amount_gbp: amount must be a number in pounds, not text"
        " — £1.2m"
    ]


def test_impossible_date_names_field_and_value(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace(
        "due: 2015-09-30, owner: Chris Imaginary}", "due: 7 March 20014, owner: Chris Imaginary}", 1
    )
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanValidationError) as exc:
        load_plan(path)
    assert exc.value.lines() == [
        "plan.yaml:0:milestones[8].due: not a valid date: expected YYYY-MM-DD — 7 March 20014"
    ]


def test_no_such_day(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][0]["end"] = "2015-02-30"
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:schemes[0].end: impossible date (no such day) — 2015-02-30"
    ]


def test_milestone_dependency_on_unknown_milestone(
    demo_data: dict[str, Any], tmp_path: Path
) -> None:
    demo_data["milestones"][1]["depends_on"].append("M99")
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:milestones[1].depends_on[1]: unknown milestone — M99"
    ]


def test_milestone_cycle(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["milestones"][0]["depends_on"] = ["M14"]
    (line,) = _problems(demo_data, tmp_path)
    assert line.startswith("bad.yaml:0:milestones: milestone dependencies form a cycle — ")
    assert "M14" in line and "M01" in line


def test_a_schedule_that_runs_off_the_calendar_is_a_problem_not_a_crash(
    demo_data: dict[str, Any], tmp_path: Path
) -> None:
    # M02 follows M01 (15 Apr 2015): 4,000,000 days later is past 31 Dec 9999, the last date
    # Python's calendar has, so the programme's finish cannot be a date.
    demo_data["milestones"][1]["duration_days"] = 4_000_000
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:milestones[1].duration_days: the schedule runs outside the calendar — 4000000"
    ]


def test_scheme_lead_not_a_member(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][4]["lead"]["organisation"] = "RXQ"
    assert _problems(demo_data, tmp_path) == [
        "bad.yaml:0:schemes[4].lead.organisation: scheme lead's organisation is not a plan"
        " member — RXQ"
    ]


def test_extra_key_and_bad_email_are_all_reported(
    demo_data: dict[str, Any], tmp_path: Path
) -> None:
    demo_data["schemes"][0]["colour"] = "red"
    demo_data["schemes"][1]["lead"]["email"] = "sam.sample@"
    demo_data["risks"][0]["likelihood"] = 6
    lines = _problems(demo_data, tmp_path)
    assert "bad.yaml:0:schemes[0].colour: unknown field (not allowed here) — red" in lines
    assert any(
        line.startswith("bad.yaml:0:schemes[1].lead.email: not an email address")
        and line.endswith("— sam.sample@")
        for line in lines
    )
    assert any(line.startswith("bad.yaml:0:risks[0].likelihood:") for line in lines)
    assert len(lines) == 3


def test_duplicate_ids_and_unknown_references(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["schemes"][1]["id"] = "S01"
    demo_data["risks"][0]["scheme"] = "S99"
    demo_data["priorities"][0]["initiatives"].append("S98")
    demo_data["interdependencies"][0]["to_workstream"] = "Estates"
    lines = _problems(demo_data, tmp_path)
    assert "bad.yaml:0:schemes[1].id: scheme id appears more than once — S01" in lines
    assert "bad.yaml:0:risks[0].scheme: unknown scheme — S99" in lines
    assert "bad.yaml:0:priorities[0].initiatives[4]: unknown scheme — S98" in lines
    assert (
        "bad.yaml:0:interdependencies[0].to_workstream: workstream is not in the plan's"
        " workstreams — Estates"
    ) in lines


def test_unknown_requirements_version(demo_data: dict[str, Any], tmp_path: Path) -> None:
    demo_data["requirements_version"] = "2099-00.1"
    (line,) = _problems(demo_data, tmp_path)
    assert line.startswith("bad.yaml:0:requirements_version: no requirement list version")
    assert line.endswith("— 2099-00.1")


def test_missing_field(demo_data: dict[str, Any], tmp_path: Path) -> None:
    del demo_data["title"]
    assert _problems(demo_data, tmp_path) == ["bad.yaml:0:title: required field missing"]


def test_syntax_errors_and_wrong_top_level(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "a.yaml"
    bad_yaml.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(PlanValidationError, match=r"a\.yaml:\d+:: not valid YAML"):
        load_plan(bad_yaml)
    bad_json = tmp_path / "b.json"
    bad_json.write_text('{"id": ', encoding="utf-8")
    with pytest.raises(PlanValidationError, match=r"b\.json:1:: not valid JSON"):
        load_plan(bad_json)
    listed = tmp_path / "c.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PlanValidationError, match="must be a mapping of fields — list"):
        load_plan(listed)
    with pytest.raises(PlanValidationError, match="file not found"):
        load_plan(tmp_path / "missing.yaml")


def test_field_path() -> None:
    assert field_path(("schemes", 2, "kpis", 0, "metric")) == "schemes[2].kpis[0].metric"
    assert field_path(("title",)) == "title"
    assert field_path(()) == ""


def test_json_problem_paths_match_yaml(demo: Plan, tmp_path: Path) -> None:
    data = json.loads(dump_plan(demo, "json"))
    broken = copy.deepcopy(data)
    broken["schemes"][3]["costs"][0]["amount_gbp"] = "980k"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(PlanValidationError) as exc:
        load_plan(path)
    (problem,) = exc.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "p.json",
        0,
        "schemes[3].costs[0].amount_gbp",
        "980k",
    )
