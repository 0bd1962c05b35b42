"""Exceptions users can act on: one type per failure family, each carrying where and which rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place in an input file.

    Attributes:
        file: file name as given by the user.
        row: line number in the file (header = 1); 0 when the problem is about the whole file.
        column: column name, or "" when the problem is about the whole row or file.
        rule: short statement of the rule that was broken.
        value: the offending value as text ("" when there is none).
    """

    file: str
    row: int
    column: str
    rule: str
    value: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.row}:{self.column}: {self.rule}"
        return f"{text} — {self.value}" if self.value != "" else text


class FlowplanError(Exception):
    """Base class of every error flowplan reports to users (never a traceback)."""

    def lines(self) -> list[str]:
        """The one-line messages the CLI prints."""
        return [str(self)]


class ProblemsError(FlowplanError):
    """An error made of one or more located problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = [str(p) for p in self.problems[:MAX_SHOWN]]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(f"... and {hidden} more problem(s) ({len(self.problems)} in all)")
        return shown


class DataValidationError(ProblemsError):
    """An input file broke one or more validation rules; nothing was written."""


class StoreConflictError(ProblemsError):
    """Values in a file conflict with values already stored from another load."""


class UsageError(FlowplanError):
    """A command was asked for something that does not exist or does not make sense."""


class CapacityInputError(UsageError):
    """A capacity calculation was given inputs it cannot use; the message says what to change."""


class StoreError(FlowplanError):
    """The store could not be opened or migrated."""
