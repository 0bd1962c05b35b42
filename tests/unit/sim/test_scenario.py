"""Scenario validation (one located message per broken rule), load/dump and the example."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowplan.errors import UsageError
from flowplan.sim import (
    EXAMPLE_SCHEMES,
    ScenarioError,
    dump_scenario,
    example_scenario,
    implied_annual_flows,
    load_scenario,
    parse_scenario_text,
    queue_scenario,
    scenario_json_schema,
    validate_scenario,
)
from flowplan.sim.scenario import scenario_to_dict

BASE = scenario_to_dict(example_scenario())


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def lines_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, file="s.yaml")
    return info.value.lines()


def test_example_round_trips_yaml_and_json(tmp_path: Path) -> None:
    s = example_scenario(schemes=EXAMPLE_SCHEMES)
    assert parse_scenario_text(dump_scenario(s)) == s
    assert parse_scenario_text(dump_scenario(s, "json"), "json") == s
    (tmp_path / "s.yaml").write_text(dump_scenario(s), encoding="utf-8")
    (tmp_path / "s.json").write_text(dump_scenario(s, "json"), encoding="utf-8")
    assert load_scenario(tmp_path / "s.yaml") == s
    assert load_scenario(tmp_path / "s.json") == s


def test_example_implied_annual_volumes() -> None:
    # Brief: ≈ 260,000 type 1 ED attendances a year for 750,000 people (≈ 347 per 1,000).
    flows = implied_annual_flows(example_scenario(750_000))
    assert flows["ed_attendances"] == pytest.approx(260_000, rel=0.05)
    # all types ≈ 480 per 1,000 (England 2023-24: ~ 26m attendances / ~ 57m people ≈ 460)
    assert flows["all_type_attendances"] / 750 == pytest.approx(480, rel=0.1)
    # type 1 admission conversion ≈ 30 %, and scaling with population is linear
    assert flows["admissions"] / flows["ed_attendances"] == pytest.approx(0.32, abs=0.03)
    double = implied_annual_flows(example_scenario(1_500_000))
    assert double["ed_attendances"] == pytest.approx(2 * flows["ed_attendances"], rel=1e-9)


def test_example_bed_base_leaves_room_for_delays() -> None:
    s = example_scenario(750_000)
    assert s.wards is not None
    # G&A 2.2 per 1,000 × 71 % non-elective share ⇒ 1,172 core beds for 750k (1,171.5 rounded)
    assert s.wards.core_beds == 1172
    load = implied_annual_flows(s)["occupied_beds_before_delays"] / s.wards.core_beds
    # before discharge delays ≈ 87 %; P0 waits and P1–P3 delays bring the simulated mean
    # occupancy to about 92 % (docs/simulation.md §10)
    assert 0.85 <= load <= 0.89


def test_queue_scenario_units() -> None:
    q = queue_scenario(arrival_rate=30, service_mean=5, servers=3, unit="minute")
    assert q.queues[0].name == "queue"
    assert q.queues[0].arrival_rate == pytest.approx(1800.0)
    assert q.queues[0].service.mean() == pytest.approx(5 / 60)


def test_error_is_usage_error_with_file_lines(tmp_path: Path) -> None:
    data = base()
    data["ambulance"]["dispositions"] = {
        "hear_and_treat": 0.1,
        "see_and_treat": 0.3,
        "see_and_convey": 0.5,
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_scenario(path)
    assert isinstance(info.value, ScenarioError)
    assert info.value.lines() == [
        f"{path}: ambulance.dispositions: probabilities sum to 0.9, must be 1"
    ]


def test_unknown_key() -> None:
    data = base()
    data["ed"]["cubicals"] = 3
    assert lines_of(data) == ["s.yaml: ed.cubicals: unknown key (not in the scenario schema) — 3"]


def test_probabilities_must_sum_to_one() -> None:
    data = base()
    data["nhs111"]["dispositions"]["ed"] = 0.2
    assert lines_of(data) == ["s.yaml: nhs111.dispositions: probabilities sum to 1.09, must be 1"]
    data = base()
    data["wards"]["pathway_mix"] = {"p0": 0.8, "p1": 0.1}
    assert lines_of(data) == ["s.yaml: wards.pathway_mix: probabilities sum to 0.9, must be 1"]


def test_negative_capacity() -> None:
    data = base()
    data["ed"]["cubicles"] = -1
    data["utc"]["clinicians"] = [1] * 23 + [-2]
    assert lines_of(data) == [
        "s.yaml: utc.clinicians: must be ≥ 0 (a capacity cannot be negative), got -2",
        "s.yaml: ed.cubicles: must be ≥ 0 — -1",
    ]


def test_profile_of_wrong_length() -> None:
    data = base()
    data["demand"]["ed_walk_in"]["hourly"] = [1 / 23] * 23
    data["nhs111"]["handlers"] = [3] * 12
    data["demand"]["calls_999"]["dow"] = [1.0] * 6 + [1.5]
    got = lines_of(data)
    assert "s.yaml: demand.ed_walk_in.hourly: needs 24 values, got 23" in "\n".join(got)
    assert any(
        line.startswith("s.yaml: demand.calls_999.dow: multipliers have mean 1.07142857")
        for line in got
    )
    assert any(
        line.startswith("s.yaml: nhs111.handlers: an hour-of-day capacity needs 24 values, got 12")
        for line in got
    )


def test_surge_end_before_start() -> None:
    data = base()
    data["demand"]["surges"] = [
        {
            "name": "flu",
            "start": "2025-12-10",
            "end": "2025-12-01",
            "streams": ["ed_walk_in"],
            "uplift_pct": 10,
        }
    ]
    got = lines_of(data)
    assert got[0].startswith("s.yaml: demand.surges[0]: end 2025-12-01 is before start 2025-12-10")


def test_no_exit_sdec_admit_without_beds() -> None:
    data = base()
    data["wards"]["core_beds"] = 0
    data["wards"]["escalation_beds"] = 0
    data["demand"].pop("direct_admissions")
    data["ed"]["admit"] = 0.0
    assert lines_of(data) == [
        "s.yaml: sdec.admit: > 0 but wards have no beds (core_beds + escalation_beds = 0): "
        "a patient could never leave — 0.25"
    ]
    data["wards"]["escalation_beds"] = 5  # escalation alone is a way out
    validate_scenario(data)


def test_no_exit_111_ed_disposition_without_cubicles() -> None:
    data = base()
    data["ed"]["cubicles"] = 0
    got = lines_of(data)
    assert (
        "s.yaml: front_door.nhs111_ed.ed: > 0 but ED has zero cubicles: a patient could never "
        "leave — 0.85" in got
    )
    assert any(
        line.startswith(
            "s.yaml: ambulance.dispositions.see_and_convey: > 0 but ED has zero cubicles"
        )
        for line in got
    )


def test_no_exit_missing_sections_and_pathway_capacity() -> None:
    data = base()
    data.pop("ambulance")
    data["discharge"]["p3_placements_per_day"] = 0
    got = lines_of(data)
    assert (
        "s.yaml: demand.calls_999: the stream needs a ambulance section: a patient could "
        "never leave" in got
    )
    assert (
        "s.yaml: nhs111.dispositions.ambulance: > 0 but there is no ambulance section: a "
        "patient could never leave — 0.11" in got
    )
    assert (
        "s.yaml: discharge.p3_placements_per_day: is 0 but wards.pathway_mix.p3 > 0: a "
        "patient could never leave — 0.0" in got
    )


def test_scheme_rules() -> None:
    data = base()
    data["schemes"] = [
        {
            "name": "x",
            "start": "2025-06-01",
            "overrides": [{"path": "ed.treatment_time", "multiply": 0.9}],
        }
    ]
    assert lines_of(data) == [
        "s.yaml: schemes[0].overrides[0].path: not a scheme-able parameter (see "
        "docs/simulation.md) — ed.treatment_time"
    ]
    data["schemes"] = [
        {
            "name": "x",
            "start": "2025-06-01",
            "overrides": [{"path": "ed.admit", "value": 0.3, "multiply": 2}],
        }
    ]
    assert lines_of(data) == [
        "s.yaml: schemes[0].overrides[0]: give exactly one of value or multiply"
    ]
    data["schemes"] = [
        {
            "name": "x",
            "start": "2025-06-01",
            "overrides": [{"path": "ambulance.dispositions.see_and_treat", "value": 0.5}],
        }
    ]
    assert lines_of(data) == [
        "s.yaml: schemes (in force from 2025-06-01): ambulance.dispositions: probabilities sum "
        "to 1.19, must be 1"
    ]
    data["schemes"] = [
        {"name": "x", "start": "2025-06-01", "overrides": [{"path": "ed.cubicles", "multiply": 0}]}
    ]
    assert any(
        "schemes (in force from 2025-06-01): front_door.walk_in.ed: > 0 but ED has zero "
        "cubicles" in line
        for line in lines_of(data)
    )


def test_effective_scenario_applies_schemes_in_order() -> None:
    data = base()
    data["schemes"] = [
        {
            "name": "a",
            "start": "2025-06-01",
            "overrides": [
                {"path": "ed.cubicles", "value": 120},
                {"path": "ed.clinicians", "multiply": 1.5},
            ],
        },
        {
            "name": "b",
            "start": "2025-07-01",
            "overrides": [{"path": "ed.cubicles", "multiply": 0.5}],
        },
    ]
    s = validate_scenario(data)
    before, june, july = (
        s.effective(d)
        for d in (s.start_date, s.start_date.replace(month=6), s.start_date.replace(month=7))
    )
    assert [x.ed.cubicles for x in (before, june, july) if x.ed] == [105, 120, 60]
    assert june.ed is not None and before.ed is not None
    assert june.ed.clinicians == [int(v * 1.5 + 0.5) for v in before.ed.clinicians]  # type: ignore[union-attr]
    assert [d for d, _ in s.scheme_epochs()] == [None, date(2025, 6, 1), date(2025, 7, 1)]


def test_volumes_csv(tmp_path: Path) -> None:
    data = base()
    data["demand"]["ed_walk_in"]["volumes_csv"] = "missing.csv"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.yaml")
    assert info.value.lines() == [
        f"{tmp_path / 's.yaml'}: demand.ed_walk_in.volumes_csv: file not found — "
        f"{tmp_path / 'missing.csv'}"
    ]
    (tmp_path / "missing.csv").write_text("ds,mean\n2025-04-07,500\n2025-04-08,x\n")
    with pytest.raises(ScenarioError, match=r"missing.csv:3: mean is not a number — x"):
        load_scenario(tmp_path / "s.yaml")
    (tmp_path / "missing.csv").write_text("ds,mean\n2025-04-07,500\n2025-04-08,510.5\n")
    s = load_scenario(tmp_path / "s.yaml")
    assert s.stream_volumes("ed_walk_in")[s.start_date] == 500.0


def test_unparsable_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"s.yaml: \(scenario\): cannot parse the file"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.yaml")


def test_json_schema() -> None:
    schema = scenario_json_schema()
    assert schema["additionalProperties"] is False
    assert {"demand", "ed", "wards", "queues", "schemes", "census"} <= set(schema["properties"])
    assert schema["required"] == ["name", "start_date"]
    json.dumps(schema)  # serialisable
