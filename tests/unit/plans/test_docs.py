"""docs/plans.md lists every assurance rule of the shipped catalogue (and no other)."""

from __future__ import annotations

import re
from pathlib import Path

from flowplan.plans.checks import rule_catalogue

DOC = Path(__file__).resolve().parents[3] / "docs" / "plans.md"


def test_every_rule_is_documented() -> None:
    documented = set(re.findall(r"`(PLAN-[A-Z-]+)`", DOC.read_text(encoding="utf-8")))
    assert documented == set(rule_catalogue().ids())
