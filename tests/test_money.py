"""Money: integer minor units plus a currency; parsing what people type; formatting; VTEX cents."""

from __future__ import annotations

import operator
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundkit.money import (
    MAX_MINOR,
    AmountError,
    CurrencyMismatch,
    Money,
    currency_exponent,
    format_minor,
    from_vtex_cents,
    parse_amount,
    to_vtex_cents,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.34", "BRL", 1234),
        ("12,34", "BRL", 1234),
        ("12", "BRL", 1200),
        ("12.3", "BRL", 1230),
        ("0,05", "BRL", 5),
        (".5", "BRL", 50),
        (",5", "BRL", 50),
        ("  12.34  ", "BRL", 1234),
        ("1.234,56", "BRL", 123456),
        ("1,234.56", "USD", 123456),
        ("1.234.567,89", "BRL", 123456789),
        ("1,234,567.89", "USD", 123456789),
        ("1 234,56", "EUR", 123456),
        ("1\u00a0234,56", "EUR", 123456),
        ("1'234.56", "CHF", 123456),
        ("1 234", "BRL", 123400),
        ("+12.34", "BRL", 1234),
        ("-12.34", "BRL", -1234),
        ("- 12,34", "BRL", -1234),
        ("-0", "BRL", 0),
        ("1500", "JPY", 1500),
        ("1,500", "KWD", 1500),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("1.234,567", "KWD", 1234567),
    ],
)
def test_parse_amount_reads_what_people_type(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "words"),
    [
        ("12.345", "BRL", "more than 2 decimals"),
        ("12,345", "BRL", "more than 2 decimals"),
        ("1.234", "BRL", "more than 2 decimals"),  # grouping or decimals? refuse rather than guess
        ("1500.5", "JPY", "JPY has none"),
        ("1500.00", "JPY", "JPY has none"),
        ("1.2345", "KWD", "more than 3 decimals"),
        ("0.0001", "KWD", "more than 3 decimals"),
    ],
)
def test_too_many_decimals_for_the_currency_are_refused(text: str, currency: str, words: str) -> None:
    with pytest.raises(AmountError, match=words):
        parse_amount(text, currency)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12a",
        "R$ 12,34",
        "$12",
        "12.34.56",
        "1.234.567",
        "12..3",
        "1e5",
        "1E5",
        "NaN",
        "Infinity",
        "--1",
        "-",
        "+",
        "1-2",
        "12.34-",
        "(12.34)",
        "12,34,56",
        "1,2,3.45",
        "12 34",
        "1 2345",
        "5.",
        "\u0661\u0662",
        "\u221212.34",
        "0x10",
        "1_000",
        "12.34 BRL",
    ],
)
def test_garbage_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(AmountError) as err:
        parse_amount(text, "BRL")
    assert str(err.value)


def test_the_message_says_what_to_type() -> None:
    with pytest.raises(AmountError, match=r"such as 12\.34"):
        parse_amount("twelve", "BRL")
    with pytest.raises(AmountError, match="type an amount"):
        parse_amount("", "BRL")


def test_numbers_that_are_not_text() -> None:
    assert parse_amount(12, "BRL") == 1200
    assert parse_amount(12, "JPY") == 12
    assert parse_amount(Decimal("12.34"), "BRL") == 1234
    assert parse_amount(Decimal("-0.5"), "KWD") == -500
    with pytest.raises(AmountError):
        parse_amount(Decimal("0.005"), "BRL")
    with pytest.raises(AmountError):
        parse_amount(Decimal("NaN"), "BRL")
    with pytest.raises(AmountError):
        parse_amount(True, "BRL")  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(AmountError, match="text"):
        parse_amount(12.34, "BRL")  # type: ignore[arg-type]  # floats never


@pytest.mark.parametrize("currency", ["brl", "BR", "BRLX", "", "12A", None])
def test_currency_codes_are_checked(currency: object) -> None:
    with pytest.raises(AmountError, match="ISO 4217"):
        parse_amount("1", currency)  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(AmountError):
        Money(1, currency)  # type: ignore[arg-type]  # a wrong type on purpose


def test_exponents() -> None:
    assert (
        currency_exponent("BRL"),
        currency_exponent("USD"),
        currency_exponent("JPY"),
        currency_exponent("KWD"),
        currency_exponent("CLP"),
        currency_exponent("BHD"),
    ) == (2, 2, 0, 3, 0, 3)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (12345, "BRL", "123.45"),
        (5, "BRL", "0.05"),
        (-5, "BRL", "-0.05"),
        (0, "BRL", "0.00"),
        (-12345, "BRL", "-123.45"),
        (1500, "JPY", "1500"),
        (-1500, "JPY", "-1500"),
        (1234, "KWD", "1.234"),
        (1, "KWD", "0.001"),
        (123456789, "BRL", "1234567.89"),
    ],
)
def test_format_minor(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text
    assert Money(minor, currency).decimal_str() == text
    assert str(Money(minor, currency)) == f"{currency} {text}"


# -- arithmetic ---------------------------------------------------------------------------------------------------
def test_money_adds_subtracts_negates_and_compares_in_one_currency() -> None:
    a, b = Money(1000, "BRL"), Money(250, "BRL")
    assert a + b == Money(1250, "BRL")
    assert a - b == Money(750, "BRL")
    assert -a == Money(-1000, "BRL")
    assert b < a and a > b and a >= Money(1000, "BRL") and b <= Money(250, "BRL")
    assert Money.zero("BRL") == Money(0, "BRL")
    assert Money.parse("12,34", "BRL") == Money(1234, "BRL")


OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@pytest.mark.parametrize("op", list(OPERATORS))
def test_money_refuses_two_currencies(op: str) -> None:
    a, b = Money(1000, "BRL"), Money(1000, "USD")
    with pytest.raises(CurrencyMismatch, match="BRL and USD"):
        OPERATORS[op](a, b)


def test_money_refuses_plain_numbers_and_floats() -> None:
    with pytest.raises(TypeError):
        Money(1000, "BRL") + 5  # type: ignore[operator]  # a wrong operand on purpose
    with pytest.raises(TypeError, match="int of minor units"):
        Money(10.5, "BRL")  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(TypeError):
        Money(True, "BRL")  # type: ignore[arg-type]  # a wrong type on purpose
    assert Money(1000, "BRL") != Money(1000, "USD")


def test_money_is_immutable_and_hashable() -> None:
    m = Money(1, "BRL")
    with pytest.raises(AttributeError):
        m.minor = 2  # type: ignore[misc]  # assigning to a frozen field on purpose
    assert len({Money(1, "BRL"), Money(1, "BRL"), Money(1, "USD")}) == 2


# -- VTEX cents -------------------------------------------------------------------------------------------------------
def test_vtex_cents_conversion() -> None:
    assert from_vtex_cents(2499, "BRL") == 2499
    assert from_vtex_cents(150000, "JPY") == 1500
    assert from_vtex_cents(1234, "KWD") == 12340
    assert to_vtex_cents(1500, "JPY") == 150000
    assert to_vtex_cents(12340, "KWD") == 1234
    with pytest.raises(AmountError, match="whole number of JPY"):
        from_vtex_cents(150050, "JPY")
    with pytest.raises(AmountError, match="cannot be expressed"):
        to_vtex_cents(12345, "KWD")
    for bad in (24.99, "2499", None, True):
        with pytest.raises(AmountError):
            from_vtex_cents(bad, "BRL")  # type: ignore[arg-type]  # a wrong type on purpose


# -- properties -----------------------------------------------------------------------------------------------------
CURRENCIES = st.sampled_from(["JPY", "BRL", "USD", "KWD", "BHD", "CLP"])  # exponents 0, 2 and 3


@given(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), CURRENCIES)
def test_format_then_parse_is_the_identity(minor: int, currency: str) -> None:
    assert parse_amount(format_minor(minor, currency), currency) == minor


@given(st.integers(min_value=MAX_MINOR + 1), CURRENCIES, st.booleans())
def test_amounts_beyond_exact_json_integers_are_refused(minor: int, currency: str, negative: bool) -> None:
    with pytest.raises(AmountError, match=r"too large|characters long"):
        parse_amount(format_minor(-minor if negative else minor, currency), currency)


@given(st.integers(min_value=-(10**15), max_value=10**15), CURRENCIES)
def test_format_with_a_decimal_comma_or_grouping_parses_back(minor: int, currency: str) -> None:
    text = format_minor(minor, currency)
    if currency_exponent(currency):
        assert parse_amount(text.replace(".", ","), currency) == minor
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = digits.partition(".")
    grouped = f"{int(whole):,}" + ("." + frac if frac else "")
    if frac or "," not in grouped:  # "1,500" alone would be read as decimals
        assert parse_amount(sign + grouped, currency) == minor


@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=50), CURRENCIES)
def test_sums_of_money_equal_sums_of_ints(amounts: list[int], currency: str) -> None:
    total = Money.zero(currency)
    for a in amounts:
        total = total + Money(a, currency)
    assert total == Money(sum(amounts), currency)
    assert sum((Money(a, currency) for a in amounts), Money.zero(currency)).minor == sum(amounts)


@given(st.integers(min_value=-(10**12), max_value=10**12), CURRENCIES)
def test_vtex_cents_round_trip(minor: int, currency: str) -> None:
    if currency_exponent(currency) <= 2:
        assert from_vtex_cents(to_vtex_cents(minor, currency), currency) == minor
    else:
        cents = minor // 10
        assert to_vtex_cents(from_vtex_cents(cents, currency), currency) == cents
