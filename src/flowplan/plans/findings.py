"""What an assurance check reports: findings with a rule id, a severity and a location."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


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
