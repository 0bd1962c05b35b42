"""Pages with forms: the fields a form sends, reading them, and sending the form back with errors.

A page declares its form as a :class:`FormFields` model (text fields with their defaults and
length limits; a route takes it as ``Annotated[MyForm, Form()]``). Its values are read with a
:class:`FormReader`: each ``number``/``whole``/``code``/``day``/``choice`` reading raises a
:class:`FormProblem` whose message names the field (``"Target occupancy (%) must be at most 100
(got 120)"``). :class:`FormProblems` collects the problems of one or more checks by field, and
:func:`render_form` renders the page with them beside their fields (template variable
``errors``: field → messages), answering 422 when there are any. A page that stops at the first
problem keys its reader to the form's name; one that shows every problem keys each to its field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import Any, TypedDict, TypeVar, Unpack

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from flowplan.errors import FlowplanError
from flowplan.web.templating import render

__all__ = [
    "ORG_CODE",
    "FormErrors",
    "FormFields",
    "FormProblem",
    "FormProblems",
    "FormReader",
    "error_text",
    "render_form",
]

T = TypeVar("T")
FormErrors = dict[str, list[str]]
"""Problems with a form: field (or form) name → its one-line messages."""
ORG_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
"""What an organisation, STP or footprint code looks like."""


class Bounds(TypedDict, total=False):
    """Limits of a number field: at least ``minimum``, more than ``above``, at most ``maximum``."""

    minimum: float
    above: float
    maximum: float


class FormProblem(FlowplanError):
    """One bad form field: which field (or form) it belongs to, and a one-line message."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def error_lines(exc: FlowplanError) -> list[str]:
    """The non-blank lines of a flowplan error's message, stripped."""
    return [line.strip() for line in exc.lines() if line.strip()]


def error_text(exc: FlowplanError) -> str:
    """A flowplan error's message on one line."""
    return " ".join(error_lines(exc))


class FormFields(BaseModel):
    """The fields a form sends, as typed (so the form comes back as typed), with defaults."""

    def values(self) -> dict[str, str]:
        """The text fields by their names in the form."""
        dumped = self.model_dump(by_alias=True)
        return {name: value for name, value in dumped.items() if isinstance(value, str)}

    @classmethod
    def defaults(cls) -> dict[str, str]:
        """The text fields of an empty form."""
        return cls().values()


class FormProblems:
    """Problems with a form, collected by field so the page can show all of them."""

    def __init__(self) -> None:
        self.errors: FormErrors = {}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, name: str, *messages: str) -> None:
        """Note ``messages`` under field (or form) ``name``."""
        self.errors.setdefault(name, []).extend(messages)

    def check(self, name: str, work: Callable[[], T]) -> T | None:
        """``work()``, or None once its problem is noted: a :class:`FormProblem` under its own
        field, any other flowplan error under ``name``."""
        try:
            return work()
        except FormProblem as exc:
            self.add(exc.field, exc.message)
        except FlowplanError as exc:
            self.add(name, *error_lines(exc))
        return None


class FormReader:
    """Reads the fields of one submitted form, one at a time.

    Args:
        values: the form's fields by name.
        key: the name its problems go under (one message for the whole form); None puts each
            problem under its own field.
    """

    def __init__(self, values: Mapping[str, str], key: str | None = None) -> None:
        self.values = values
        self.key = key

    def text(self, name: str) -> str:
        """A field as typed, stripped ("" when the form has no such field)."""
        return self.values.get(name, "").strip()

    def problem(self, name: str, message: str) -> FormProblem:
        """A problem with field ``name`` (to raise)."""
        return FormProblem(self.key or name, message)

    def optional_number(self, name: str, label: str, **bounds: Unpack[Bounds]) -> float | None:
        """A number (thousands separators and ``%`` ignored); None for an empty field.

        Raises:
            FormProblem: not a finite number, or outside the bounds.
        """
        text = self.text(name)
        cleaned = text.replace(",", "").replace("%", "")
        if not cleaned:
            return None
        try:
            value = float(cleaned)
        except ValueError:
            raise self.problem(name, f"{label}: enter a number (got {text!r})") from None
        if not math.isfinite(value):
            raise self.problem(name, f"{label}: enter a finite number (got {text!r})")
        minimum, above, maximum = bounds.get("minimum"), bounds.get("above"), bounds.get("maximum")
        if minimum is not None and value < minimum:
            raise self.problem(name, f"{label} must be at least {minimum:g} (got {value:g})")
        if above is not None and value <= above:
            raise self.problem(name, f"{label} must be more than {above:g} (got {value:g})")
        if maximum is not None and value > maximum:
            raise self.problem(name, f"{label} must be at most {maximum:g} (got {value:g})")
        return value

    def number(
        self,
        name: str,
        label: str,
        *,
        default: float | None = None,
        missing: str | None = None,
        **bounds: Unpack[Bounds],
    ) -> float:
        """A number; ``default`` for an empty field, else a problem (``missing``, or
        "<label>: enter a value")."""
        return self._given(
            name, label, self.optional_number(name, label, **bounds), default, missing
        )

    def optional_whole(self, name: str, label: str, **bounds: Unpack[Bounds]) -> int | None:
        """A whole number; None for an empty field."""
        value = self.optional_number(name, label, **bounds)
        if value is None:
            return None
        if value != int(value):
            raise self.problem(name, f"{label}: enter a whole number (got {self.text(name)!r})")
        return int(value)

    def whole(
        self,
        name: str,
        label: str,
        *,
        default: int | None = None,
        missing: str | None = None,
        **bounds: Unpack[Bounds],
    ) -> int:
        """A whole number; ``default`` for an empty field, else a problem (as :meth:`number`)."""
        return self._given(
            name, label, self.optional_whole(name, label, **bounds), default, missing
        )

    def _given(
        self, name: str, label: str, value: T | None, default: T | None, missing: str | None
    ) -> T:
        if value is not None:
            return value
        if default is not None:
            return default
        raise self.problem(name, missing or f"{label}: enter a value")

    def code(self, name: str, label: str, *, required: bool = True) -> str:
        """An organisation (or STP, footprint) code, upper case; "" for an empty optional one."""
        text = self.text(name)
        if not text:
            if required:
                raise self.problem(name, f"{label}: enter an organisation code")
            return ""
        if not ORG_CODE.match(text):
            raise self.problem(name, f"{label}: {text!r} is not an organisation code")
        return text.upper()

    def day(self, name: str, label: str) -> date | None:
        """A date as YYYY-MM-DD; None for an empty field."""
        text = self.text(name)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.problem(name, f"{label}: enter a date as YYYY-MM-DD") from None

    def choice(
        self,
        name: str,
        options: Collection[str],
        message: str,
        *,
        default: str | None = None,
        fold_case: bool = False,
    ) -> str:
        """One of ``options`` (``default`` for an empty field; lower case with ``fold_case``).

        Raises:
            FormProblem: ``message``, formatted with ``got`` (what was typed).
        """
        value = self.text(name)
        value = value.lower() if fold_case else value
        if not value and default is not None:
            return default
        if value not in options:
            raise self.problem(name, message.format(got=value))
        return value


def render_form(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    errors: Mapping[str, Sequence[str]] | None = None,
    status_code: int | None = None,
) -> Response:
    """A page of forms with ``errors`` beside their fields (template variable ``errors``).

    The status is ``status_code`` when given, else 422 when there are errors and 200 otherwise.
    """
    shown = {name: list(messages) for name, messages in (errors or {}).items()}
    status = status_code if status_code is not None else (422 if shown else 200)
    return render(request, template, {**context, "errors": shown}, status_code=status)
