"""Money as people read it: the currency code, grouped thousands, exactly the currency's decimals."""

from __future__ import annotations

from refundkit.money import format_money


def test_format_money_groups_thousands_with_the_currency_code_and_exact_decimals() -> None:
    assert format_money(123456789, "BRL") == "BRL 1,234,567.89"
    assert format_money(-5, "BRL") == "BRL -0.05"
    assert format_money(1234567, "JPY") == "JPY 1,234,567"
    assert format_money(1234, "KWD") == "KWD 1.234"
    assert format_money(10**20 + 1, "USD") == "USD 1,000,000,000,000,000,000.01"  # no float anywhere
