"""Input checks shared by the metrics engines: one UsageError line naming the input, what it
must be, and what was given."""

from __future__ import annotations

import math
import numbers
from datetime import date, datetime

from flowplan.errors import UsageError

MAX_SHOWN = 60  # longest repr quoted in a message; longer values are named by type


def got(value: object) -> str:
    """The offending value as the user gave it, for a one-line message."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | numbers.Integral):
        return repr(float(value))
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= MAX_SHOWN and "\n" not in text else f"a {type(value).__name__}"


def finite(name: str, value: object) -> float:
    """``value`` as a finite float, or UsageError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UsageError(f"{name} must be a number (got {got(value)})")
    out = float(value)
    if not math.isfinite(out):
        raise UsageError(f"{name} must be a finite number (got {got(value)})")
    return out
