"""Money as plans write it: ``£3.700M``, ``£507K``, ``£ 11,541,476.16``, ``(£1.2M)``, blank.

Amounts are :class:`~decimal.Decimal` pounds so that rows add up exactly. A parsed amount also
knows its *resolution* — the value of one unit in its last written digit (``£3.700M`` → £1,000;
``£507K`` → £1,000; ``£11,541,476.16`` → £0.01) — which sets how closely a stated total can be
expected to match the sum of its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_SUFFIX = {"": Decimal(1), "K": Decimal(1_000), "M": Decimal(1_000_000), "BN": Decimal(10) ** 9}
_MONEY = re.compile(
    r"""^(?P<neg>-)?\s*£?\s*(?P<neg2>-)?\s*
        (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        \s*(?P<suffix>k|m|bn)?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Amount:
    """A parsed amount of money.

    Attributes:
        pounds: the value in pounds.
        resolution: pounds per unit of the last written digit (0 for a blank, read as £0).
    """

    pounds: Decimal
    resolution: Decimal


class MoneyError(ValueError):
    """Text that is not an amount of money."""


def parse_money(text: str) -> Amount:
    """Read one amount of money.

    Accepts an optional ``£``, thousands separators, a ``K``/``M``/``bn`` suffix (any case), a
    leading minus or accounting parentheses for negatives; a blank (or ``-`` alone) is £0.

    Raises:
        MoneyError: the text is not an amount.
    """
    raw = text.strip()
    if raw in {"", "-", "–", "—"}:
        return Amount(Decimal(0), Decimal(0))
    negative = raw.startswith("(") and raw.endswith(")")
    body = raw[1:-1].strip() if negative else raw
    match = _MONEY.match(body)
    if match is None:
        raise MoneyError(f"not an amount of money: {text!r}")
    if match["neg"] or match["neg2"]:
        negative = not negative
    number = match["num"].replace(",", "")
    scale = _SUFFIX[(match["suffix"] or "").upper()]
    try:
        value = Decimal(number) * scale
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise MoneyError(f"not an amount of money: {text!r}") from exc
    decimals = len(number.split(".")[1]) if "." in number else 0
    resolution = scale / (Decimal(10) ** decimals)
    return Amount(-value if negative else value, resolution)


def to_decimal(value: object, subject: str = "", unit: str = "") -> Decimal:
    """A Decimal from a number, for strict model fields: text and booleans are refused.

    Args:
        value: an int, float or Decimal.
        subject: what the value is, starting the error message (``amount``), or "".
        unit: the unit the message asks for (`` in pounds``), or "".

    Raises:
        ValueError: text, a boolean, another type or a non-finite number.
    """
    lead = f"{subject} must" if subject else "must"
    if isinstance(value, bool | str):
        raise ValueError(f"{lead} be a number{unit}, not text")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError(f"{lead} be a number{unit}")
    if not result.is_finite():
        raise ValueError(f"{lead} be a finite number")
    return result


def decimal_number(value: Decimal) -> int | float:
    """A Decimal as a JSON/YAML/Excel number: an int when whole, else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def format_money(pounds: Decimal | float | int) -> str:
    """Pounds as ``£1,234,567`` (pence shown only when there are any; negatives ``-£1,234``)."""
    value = Decimal(str(pounds))
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == value.to_integral_value():
        return f"{sign}£{int(value):,}"
    return f"{sign}£{value:,.2f}"
