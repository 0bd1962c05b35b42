"""What an assurance check reports: findings with a rule id, a severity and a location."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar


class Severity(StrEnum):
    """How much a finding matters: errors fail the check (exit status 1), warnings do not."""

    error = "error"
    warning = "warning"
    info = "info"


@dataclass(frozen=True)
class Finding:
    """One result of one rule at one place.

    Attributes:
        rule: stable rule id, e.g. ``PLAN-REQ-001`` or ``TABLE-TOTAL``.
        severity: error, warning or info.
        location: where in the plan or table, e.g. ``schemes[S03].kpis[0]`` or ``row 7``.
        message: what is wrong, in words an analyst can act on.
        stated: the value the plan or table states, as text ("" when none).
        expected: the value the rule expects, as text ("" when none).
        row: the file line of a pasted table (header = 1); 0 for plan findings.
    """

    rule: str
    severity: Severity
    location: str
    message: str
    stated: str = ""
    expected: str = ""
    row: int = 0

    def line(self) -> str:
        """One line: ``LOCATION: message — stated X, expected Y``."""
        text = f"{self.location}: {self.message}"
        if self.stated or self.expected:
            text += f" — stated {self.stated}, expected {self.expected}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity is Severity.error for f in findings)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings of each severity (every severity present, zero when none)."""
    counts = {str(s): 0 for s in Severity}
    for f in findings:
        counts[str(f.severity)] += 1
    return counts


def number_text(value: float) -> str:
    """A stated number as text: ``92``, ``91.8``, ``0.05``."""
    return f"{value:g}" if math.isfinite(value) else str(value)


def decimal_places(value: float) -> int:
    """Decimal places a float is written with (``91.8`` → 1, ``92.0`` → 0, ``1e-05`` → 5)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        mantissa, exponent = text.lower().split("e")
        places = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return max(0, places - int(exponent))
    return len(text.partition(".")[2].rstrip("0"))


C = TypeVar("C")


class RuleRegistry(Generic[C]):
    """Rule functions by catalogue id, in registration order (the order findings come in).

    Each rule set (plan, finance, BCF) has one registry; ``@registry.rule("ID")`` registers a
    function of the set's context that returns findings.
    """

    def __init__(self) -> None:
        self.rules: dict[str, Callable[[C], list[Finding]]] = {}

    def rule(
        self, rule_id: str
    ) -> Callable[[Callable[[C], list[Finding]]], Callable[[C], list[Finding]]]:
        """Register a rule function under its catalogue id."""

        def register(func: Callable[[C], list[Finding]]) -> Callable[[C], list[Finding]]:
            if rule_id in self.rules:
                raise ValueError(f"rule {rule_id} is registered twice")
            self.rules[rule_id] = func
            return func

        return register
