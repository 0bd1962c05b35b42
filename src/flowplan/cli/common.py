"""What every command shares: the root app, the consoles, the error contract and small helpers.

Every error a user can cause is printed as one line per problem (``FILE:ROW:COLUMN: rule — value``
for input files) on standard error with exit status 2; nothing is half-written.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import pandas as pd
import typer
from rich.console import Console

from flowplan import __version__
from flowplan.errors import FlowplanError, UsageError

app = typer.Typer(
    help="flowplan — operational resilience and capacity planning for health and care systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: FLOWPLAN_DATABASE_URL, else SQLite under FLOWPLAN_HOME).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON, for scripts.")]


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn flowplan errors into one line per problem on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FlowplanError as exc:
            for line in exc.lines():
                err.print(line, markup=False)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"flowplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """flowplan — operational resilience and capacity planning for health and care systems."""


def iso(value: Any) -> str:
    """A date or timestamp as ISO text (date only at midnight); "" for missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value)
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")


def parse_date(text: str | None, option: str) -> date | None:
    """An ISO date option, or a one-line UsageError naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: not an ISO date (YYYY-MM-DD): {text!r}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | date):
        return iso(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def print_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as JSON on stdout (non-finite numbers become null)."""
    out.print(
        json.dumps(_jsonable(payload), indent=2, ensure_ascii=False), markup=False, soft_wrap=True
    )
