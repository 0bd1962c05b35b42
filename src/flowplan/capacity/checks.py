"""Input checks shared by the capacity engines: each failure is one CapacityInputError line
that names the input, says what it must be, and quotes what was given."""

from __future__ import annotations

import math
import numbers

from flowplan.errors import CapacityInputError


def got(value: object) -> str:
    """The offending value as the user gave it, for a one-line message."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | numbers.Integral):
        return repr(float(value))
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    return repr(value)


def num(value: float) -> str:
    """A computed quantity shown to six significant figures."""
    return f"{value:.6g}"


def real(name: str, value: object) -> float:
    """``value`` as a finite float, or CapacityInputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CapacityInputError(f"{name} must be a number (got {got(value)})")
    out = float(value)
    if not math.isfinite(out):
        raise CapacityInputError(f"{name} must be a finite number (got {got(value)})")
    return out


def positive(name: str, value: object) -> float:
    """``value`` as a float that is finite and > 0."""
    out = real(name, value)
    if out <= 0:
        raise CapacityInputError(f"{name} must be positive (got {got(value)})")
    return out


def non_negative(name: str, value: object) -> float:
    """``value`` as a float that is finite and ≥ 0."""
    out = real(name, value)
    if out < 0:
        raise CapacityInputError(f"{name} must be zero or more (got {got(value)})")
    return out


def fraction(name: str, value: object) -> float:
    """``value`` as a float strictly between 0 and 1."""
    out = real(name, value)
    if not 0 < out < 1:
        raise CapacityInputError(f"{name} must be between 0 and 1 exclusive (got {got(value)})")
    return out


def whole(name: str, value: object, *, minimum: int) -> int:
    """``value`` as an int ≥ ``minimum`` (ints and numpy integers only; no floats, no bools)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise CapacityInputError(f"{name} must be a whole number (got {got(value)})")
    out = int(value)
    if out < minimum:
        word = "positive" if minimum == 1 else f"at least {minimum}"
        raise CapacityInputError(f"{name} must be {word} (got {out})")
    return out
