"""Reading amounts and dates in a file's own dialect (no VTEX): exact amounts, refusals rather than guesses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundkit.errors import InputError
from refundkit.ledger.csvdialect import AmbiguousDates, CsvDialect, locale_date_format, read_amounts, read_dates
from refundkit.money import Money, parse_amount


@pytest.mark.parametrize(
    ("delimiter", "typed", "read"),
    [
        (";", ["1.234,56", "12,5", "7", "-3,00"], ["1234.56", "12.5", "7", "-3.00"]),
        (";", ["1.234", "1.234.567"], ["1234", "1234567"]),  # a ';' file writes a decimal comma: the dot groups
        (";", ["10.50", "1.234"], ["10.50", "1.234"]),  # its amounts show a decimal point: that is its mark
        (",", ["1,234.56", "1,234", "0.5"], ["1234.56", "1234", "0.5"]),
        (",", ["12,34", "1.234"], ["12.34", "1234"]),  # a quoted decimal comma in a ',' file
    ],
)
def test_amounts_are_read_in_the_files_decimal_mark(delimiter: str, typed: list[str], read: list[str]) -> None:
    _, got, problems = read_amounts(typed, delimiter)
    assert got == read and problems == [None] * len(typed)


def test_an_amount_that_reads_both_ways_is_refused_when_the_file_shows_both_marks() -> None:
    mark, got, problems = read_amounts(["12,50", "3.50", "1.234", "9"], ";")
    assert mark is None and got[:2] == ["12.50", "3.50"] and got[2] is None and got[3] == "9"
    assert problems[2] is not None and "such as 1234,00 or 1234.00 for 1234" in problems[2]


def test_an_amount_garbled_for_its_mark_is_refused_in_words() -> None:
    _, got, problems = read_amounts(["1.23,45", "12,5"], ";")
    assert got[0] is None and problems[0] is not None and "a decimal comma, such as 1.234,56" in problems[0]


@given(st.integers(min_value=1, max_value=10**13))
def test_a_pt_br_amount_reads_back_exactly(minor: int) -> None:
    whole, cents = divmod(minor, 100)
    typed = f"{whole:,}".replace(",", ".") + f",{cents:02d}"
    _, [got], _ = read_amounts([typed], ";")
    assert got is not None and parse_amount(got, "BRL") == minor
    assert CsvDialect(";", ",").amount(Money(minor, "BRL")) == f"{whole},{cents:02d}"


def test_dates_follow_the_order_the_file_shows() -> None:
    order, got, problems, warning = read_dates([(2, "13/04/2026"), (3, "02/04/2026"), (4, "2026-04-01")], "f.csv")
    assert order == "dd/mm/yyyy" and got == ["2026-04-13", "2026-04-02", "2026-04-01"] and warning is None
    assert problems == [None, None, None]
    order, got, _, _ = read_dates([(2, "04/13/2026"), (3, "04.02.2026")], "f.csv")
    assert order == "mm/dd/yyyy" and got == ["2026-04-13", "2026-04-02"]


def test_dates_that_read_both_ways_need_a_format_or_a_locale() -> None:
    values = [(2, "01/02/2026"), (3, "03/04/2026")]
    with pytest.raises(AmbiguousDates, match=r"01/02/2026 on line 2.*--date-format"):
        read_dates(values, "f.csv")
    assert read_dates(values, "f.csv", date_format="mm/dd/yyyy")[1] == ["2026-01-02", "2026-03-04"]
    order, got, _, warning = read_dates(values, "f.csv", locale="pt-BR")
    assert order == "dd/mm/yyyy" and got == ["2026-02-01", "2026-04-03"] and warning and "pt-BR" in warning
    with pytest.raises(InputError, match="dd/mm/yyyy or mm/dd/yyyy"):
        read_dates(values, "f.csv", date_format="yyyy/mm/dd")


def test_a_date_that_cannot_be_read_refuses_its_row_only() -> None:
    _, got, problems, _ = read_dates(
        [(2, "31/02/2026"), (3, "13/04/26"), (4, "13/04/2026 14:30"), (5, "14/04/2026")], "f.csv"
    )
    assert got[3] == "2026-04-14" and got[:3] == [None, None, None]
    assert problems[0] and "not a real date" in problems[0]
    assert problems[1] and "year in full" in problems[1]
    assert problems[2] and "no time zone" in problems[2]


@pytest.mark.parametrize(
    ("locale", "order"),
    [("pt-BR", "dd/mm/yyyy"), ("es_AR", "dd/mm/yyyy"), ("en-US", "mm/dd/yyyy"), ("en-GB", "dd/mm/yyyy"), ("en", None)],
)
def test_a_locale_names_its_date_order(locale: str, order: str | None) -> None:
    assert locale_date_format(locale) == order
