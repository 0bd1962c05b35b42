"""Tests of the Better Care Fund extension; helpers to vary the demo BCF plan."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from flowplan.plans.document import parse_plan
from flowplan.plans.model import Plan

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "data" / "demo" / "plans" / "lancashire_bcf_2015.yaml"
DEMO_ACTUALS = REPO / "data" / "demo" / "plans" / "lancashire_bcf_2015_actuals.csv"


@cache
def _demo_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return data


def demo_data() -> dict[str, Any]:
    """A fresh copy of the demo plan's data (the YAML as parsed)."""
    return copy.deepcopy(_demo_data())


def demo_plan(change: Callable[[dict[str, Any]], None] | None = None) -> Plan:
    """The demo BCF plan, after ``change`` edits its data (``data["extensions"]["bcf"]`` ...)."""
    data = demo_data()
    if change is not None:
        change(data)
    return parse_plan(yaml.safe_dump(data, sort_keys=False), "yaml", "plan.yaml")


def bcf(data: dict[str, Any]) -> dict[str, Any]:
    """The ``extensions.bcf`` part of plan data."""
    part: dict[str, Any] = data["extensions"]["bcf"]
    return part


def metric(data: dict[str, Any], metric_id: str) -> dict[str, Any]:
    """One metric of the plan data's BCF part."""
    return next(m for m in bcf(data)["metrics"] if m["metric"] == metric_id)
