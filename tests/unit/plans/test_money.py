"""Money as plans write it: parsing, resolution and formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowplan.plans.money import MoneyError, format_money, parse_money


@pytest.mark.parametrize(
    ("text", "pounds", "resolution"),
    [
        ("£3.700M", "3700000", "1000"),
        ("£507K", "507000", "1000"),
        ("£ 11,541,476.16", "11541476.16", "0.01"),
        ("£1.2m", "1200000", "100000"),
        ("2,500", "2500", "1"),
        ("£0.5bn", "500000000", "100000000"),
        ("(£1.2M)", "-1200000", "100000"),
        ("-£250K", "-250000", "1000"),
        ("£-40", "-40", "1"),
        ("", "0", "0"),
        ("  ", "0", "0"),
        ("-", "0", "0"),
        (".5K", "500", "100"),
    ],
)
def test_parse_money(text: str, pounds: str, resolution: str) -> None:
    amount = parse_money(text)
    assert amount.pounds == Decimal(pounds)
    assert amount.resolution == Decimal(resolution)


@pytest.mark.parametrize("text", ["£1.2.3M", "twelve", "£1,23", "1M2", "£ K", "12%"])
def test_not_money_is_refused(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount of money"):
        parse_money(text)


@pytest.mark.parametrize(
    ("pounds", "text"),
    [
        (Decimal("3700000"), "£3,700,000"),
        (Decimal("11541476.16"), "£11,541,476.16"),
        (Decimal("-1234"), "-£1,234"),
        (0, "£0"),
        (12.5, "£12.50"),
    ],
)
def test_format_money(pounds: Decimal | int | float, text: str) -> None:
    assert format_money(pounds) == text
