"""Reading the CSV file (no VTEX): encodings, separators, headers, malformed lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundkit.errors import InputError
from refundkit.ledger.csvimport import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_refund_csv
from refundkit.money import format_minor, parse_amount

HEADER = ",".join(REQUIRED_COLUMNS)


def rows(data: bytes):
    parsed, warnings = read_refund_csv(data, "f.csv")
    return [row for _, row in parsed], warnings


def test_comma_file() -> None:
    got, warnings = rows(f"{HEADER}\n1-01,12.34,2026-03-01,apace,APC-1,damaged\n".encode())
    assert got == [
        {
            "order_id": "1-01",
            "amount": "12.34",
            "refunded_at": "2026-03-01",
            "source": "apace",
            "external_ref": "APC-1",
            "reason": "damaged",
        }
    ]
    assert warnings == []


def test_semicolon_file_with_bom_decimal_comma_and_crlf() -> None:
    data = (
        "\ufefforder_id;amount;refunded_at;source;external_ref;reason;currency;note\r\n"
        "1-01;1.234,56;2026-03-01;cash;R-1;troca;BRL;ação\r\n"
    )
    got, _ = rows(data.encode("utf-8"))
    assert got[0]["order_id"] == "1-01" and got[0]["amount"] == "1.234,56" and got[0]["note"] == "ação"
    assert parse_amount(got[0]["amount"], "BRL") == 123456


def test_quoted_decimal_comma_in_a_comma_file() -> None:
    got, _ = rows(f'{HEADER}\n1-01,"12,34",2026-03-01,cash,R-1,"a, b"\n'.encode())
    assert got[0]["amount"] == "12,34" and got[0]["reason"] == "a, b"


def test_header_spelling_and_aliases() -> None:
    data = b"Order ID,Amount,Refund Date,Source,Reference,Reason,Extra\n1-01,1,2026-03-01,cash,R,x,y\n"
    got, warnings = rows(data)
    assert set(got[0]) == {"order_id", "amount", "refunded_at", "source", "external_ref", "reason", "extra"}
    assert warnings == ["ignored column(s): extra"]


def test_blank_lines_are_skipped_and_line_numbers_kept() -> None:
    parsed, _ = read_refund_csv(
        f"\n{HEADER}\n\n1-01,1,2026-03-01,cash,R-1,\n,,,,,\n2-01,2,2026-03-01,cash,R-2,\n".encode(), "f.csv"
    )
    assert [(line, row["order_id"]) for line, row in parsed] == [(4, "1-01"), (6, "2-01")]


def test_a_line_with_the_wrong_number_of_fields_is_one_refused_row() -> None:
    parsed, _ = read_refund_csv(
        f"{HEADER}\n1-01,1,2026-03-01,cash,R-1\n2-01,2,2026-03-01,cash,R-2,x\n".encode(), "f.csv"
    )
    assert parsed[0][1]["__error__"].startswith("has 5 fields but the header has 6")
    assert parsed[1][1]["order_id"] == "2-01"
    # an unterminated quote swallows the rest of the file: one refused row, not a crash
    (only,), _ = read_refund_csv(f'{HEADER}\n"unterminated,1,2,3,4,5\n1-01,1,2,3,4,5\n'.encode(), "f.csv")
    assert "has 1 fields but the header has 6" in only[1]["__error__"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"order_id,amount\n", "lacks column(s)"),
        (HEADER.encode() + b"\n", "header but no rows"),
        (b"\xff\xfeo\x00r\x00", "is UTF-16 text"),
        (HEADER.encode() + b"\n1,2,3,4,5,\x81\x8d\n", "neither UTF-8 nor Windows-1252"),
        (b"\xef\xbb\xbf" + HEADER.encode() + b"\n1,2,3,4,5,\xe9\n", "says it is UTF-8 but is not"),
        (HEADER.encode() + b"\n1,2,3,4,5,\x00\n", "holds NUL bytes"),
        (HEADER.encode() + b",reason\n", "more than once"),
    ],
)
def test_file_problems(data: bytes, words: str) -> None:
    with pytest.raises(InputError) as info:
        read_refund_csv(data, "f.csv")
    assert words in str(info.value) and "f.csv" in str(info.value)


def test_a_windows_1252_file_is_read_as_excel_wrote_it() -> None:
    data = "order_id;amount;refunded_at;source;external_ref;reason\r\n1-01;1.234,56;01/03/2026;cash;R-1;devolução\r\n"
    got, _ = rows(data.encode("cp1252"))
    assert got[0]["reason"] == "devolução" and got[0]["amount"] == "1.234,56"


def test_the_missing_columns_are_named() -> None:
    with pytest.raises(InputError) as info:
        read_refund_csv(b"order_id,amount,source\n1,2,3\n", "f.csv")
    msg = str(info.value)
    assert "refunded_at, external_ref, reason" in msg and ", ".join(OPTIONAL_COLUMNS) in msg


@given(
    cents=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=20),
    sep=st.sampled_from([",", ";"]),
    bom=st.booleans(),
    comma_decimal=st.booleans(),
)
def test_any_well_formed_file_reads_back_the_amounts(cents, sep, bom, comma_decimal) -> None:
    lines = [sep.join(REQUIRED_COLUMNS)]
    for i, c in enumerate(cents):
        amount = format_minor(c, "BRL")
        if comma_decimal:
            amount = amount.replace(".", ",")
            if sep == ",":
                amount = f'"{amount}"'
        lines.append(sep.join([f"{i}-01", amount, "2026-03-01", "cash", f"R-{i}", "ok"]))
    data = ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n"
    got, _ = rows(data.encode("utf-8"))
    assert [parse_amount(r["amount"], "BRL") for r in got] == cents
    assert [r["order_id"] for r in got] == [f"{i}-01" for i in range(len(cents))]
