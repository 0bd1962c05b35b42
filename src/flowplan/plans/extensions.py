"""Plan extensions: parts of a plan owned by later modules (finance, the Better Care Fund).

A plan's ``extensions`` is a mapping from an extension name to that part's data. The core plan
model neither reads nor checks it; each extension registers here:

* ``validate(data, path)`` → the extension's problems as (field path, rule, value) — run when a
  plan is loaded, so a bad extension is refused like any other bad field;
* ``check(plan, today)`` → assurance findings — run by ``check_plan`` after the core rules.

The built-in extensions are the modules in :data:`BUILTIN`; :func:`registered` imports them on
first use (so ``flowplan.plans`` does not import its own extensions at import time, which would
be circular). An unknown extension name is an integrity problem: a typo must not silently drop
a plan's money.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flowplan.errors import Problem
from flowplan.plans.findings import Finding

if TYPE_CHECKING:
    from flowplan.plans.model import Plan

#: Modules that register the built-in extensions (imported on first use).
BUILTIN: tuple[str, ...] = ("flowplan.finance.extension", "flowplan.bcf.extension")


@dataclass(frozen=True)
class ExtensionProblem:
    """One problem in an extension's data: the field path below the extension, rule and value."""

    path: str
    rule: str
    value: str = ""


@dataclass(frozen=True)
class SheetCodec:
    """How an extension appears in the plan workbook: its own sheets, written and read back.

    Attributes:
        sheets: the sheet names it owns (the first one marks its presence on import).
        write: writes the extension's data as those sheets into an openpyxl workbook.
        read: reads them back from an openpyxl workbook → (data, problems); each problem has
            the workbook ``file`` name, the sheet row and ``SHEET!HEADER`` as its column.
    """

    sheets: tuple[str, ...]
    write: Callable[[Any, Any], None]
    read: Callable[[Any, str], tuple[Any, list[Problem]]]


@dataclass(frozen=True)
class Extension:
    """A registered plan extension.

    Attributes:
        name: its key in ``Plan.extensions``.
        title: what it holds, in words.
        validate: the problems in its data (empty when valid).
        check: its assurance findings for a plan.
        workbook: its sheets in the plan workbook; None → carried as JSON on the Header sheet.
    """

    name: str
    title: str
    validate: Callable[[Any], list[ExtensionProblem]]
    check: Callable[[Plan, date], list[Finding]]
    workbook: SheetCodec | None = None


_REGISTRY: dict[str, Extension] = {}
_loaded = False


def register(extension: Extension) -> None:
    """Register an extension (once per name)."""
    existing = _REGISTRY.get(extension.name)
    if existing is not None and existing is not extension:
        raise ValueError(f"plan extension '{extension.name}' is registered twice")
    _REGISTRY[extension.name] = extension


def registered() -> dict[str, Extension]:
    """Every registered extension by name (the built-ins are imported on first call)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN:
            importlib.import_module(module)
    return dict(_REGISTRY)


def extension_problems(extensions: dict[str, Any]) -> list[ExtensionProblem]:
    """Problems in a plan's extensions: unknown names, and each extension's own problems.

    Paths are relative to ``extensions`` (``bcf.pooled_budget[2].amount_gbp``).
    """
    known = registered()
    problems: list[ExtensionProblem] = []
    for name, data in extensions.items():
        extension = known.get(name)
        if extension is None:
            names = ", ".join(sorted(known)) or "none"
            problems.append(ExtensionProblem(name, f"unknown plan extension (known: {names})"))
            continue
        for p in extension.validate(data):
            path = f"{name}.{p.path}" if p.path else name
            problems.append(ExtensionProblem(path, p.rule, p.value))
    return problems


def extension_findings(plan: Plan, today: date) -> list[Finding]:
    """The assurance findings of every extension the plan uses, in extension order."""
    known = registered()
    findings: list[Finding] = []
    for name in plan.extensions:
        extension = known.get(name)
        if extension is not None:
            findings.extend(extension.check(plan, today))
    return findings
