"""Totals per currency in every export, never adding two currencies, and the report's columns in words."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report
from refundkit.analytics.export import export_csv, export_xlsx
from refundkit.analytics.report import CSV_COLUMNS
from refundkit.analytics.sources import REFUND_COLUMNS
from refundkit.analytics.totals import TERMS, header, totals
from tests.analytics.test_report_figures import TZ, build_store
from tests.xlsx_cells import grid, read_xlsx, ref

WORDS = [
    "Period",
    "Currency",
    "Orders",
    "Gross",
    "VTEX refunds",
    "Offline refunds",
    "Net",
    "Items",
    "Discounts",
    "Shipping",
    "Tax",
    "Order changes",
    "Other totals",
    "Gross not split",
    "Orders not split",
    "Refunded items",
    "Refunded shipping",
    "Refunds not split",
]
#: The columns that count orders rather than money.
COUNTS = {"Orders", "Orders not split"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    return build_store(tmp_path_factory.mktemp("handmade-totals"))


def by_currency(csv_text: str) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = defaultdict(list)
    for line in csv_text.splitlines()[1:]:
        cells = line.split(",")
        rows[cells[1]].append(cells)
    return rows


def test_totals_group_by_every_key_column_and_never_add_two_currencies() -> None:
    rows = pl.DataFrame(
        {
            "period": [date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 1), date(2026, 3, 1), date(2026, 4, 1)],
            "account": ["a", "a", "a", "b", "b"],
            "currency": ["BRL", "BRL", "USD", "BRL", "BRL"],
            "orders": [1, 2, 3, 4, 5],
            "gross_minor": [100, 200, 300, 400, 500],
            "change_rate": [0.1, 0.2, 0.3, 0.4, 0.5],
        }
    )
    got = totals(rows)
    assert got.columns == ["account", "currency", "orders", "gross_minor"]  # no period, nothing that cannot be added
    assert got.rows() == [("a", "BRL", 3, 300), ("a", "USD", 3, 300), ("b", "BRL", 9, 900)]
    assert totals(rows.clear()).columns == ["account", "currency", "orders", "gross_minor"]
    # a period written as text (a label, a running period's mark) is still the period: totals span it
    labelled = rows.with_columns(
        pl.col("period").cast(pl.String), period_label=pl.col("period").cast(pl.String) + " (to date)"
    )
    assert totals(labelled).rows() == got.rows()
    with pytest.raises(ValueError, match="currenc"):
        totals(rows.drop("currency", "account"))


def test_headers_are_words_and_the_refund_columns_come_from_the_registry() -> None:
    assert [header(c) for c in CSV_COLUMNS] == WORDS
    assert [header(c.name) for c in REFUND_COLUMNS] == ["VTEX refunds", "Offline refunds"]
    assert [word for word, _ in TERMS] == [*WORDS, "Total"]  # the definitions define exactly the headers


def test_csv_without_totals_is_unchanged_and_with_totals_ends_in_one_total_per_currency(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="week", tz=TZ)
    plain = export_csv(rep)
    assert plain is not None
    # byte for byte what the CSV was before totals existed: the header and the rows only
    assert (
        plain
        == "\n".join([",".join(CSV_COLUMNS)] + [",".join(str(v) for v in r.values()) for r in rep.display_rows()])
        + "\n"
    )
    assert "Total" not in plain
    text = export_csv(rep, with_totals=True)
    assert text is not None and text.startswith(plain)
    extra = text.removeprefix(plain).splitlines()
    assert [line.split(",")[:2] for line in extra] == [["Total", "BRL"], ["Total", "USD"]]
    for cur, cells in by_currency(plain).items():
        [total] = [line.split(",") for line in extra if line.split(",")[1] == cur]
        assert int(total[2]) == sum(int(r[2]) for r in cells)
        for i in range(3, len(CSV_COLUMNS)):
            if WORDS[i] in COUNTS:
                assert int(total[i]) == sum(int(r[i]) for r in cells)
                continue
            assert Decimal(total[i]) == sum(Decimal(r[i]) for r in cells), (cur, CSV_COLUMNS[i])
    assert extra[0].split(",")[3:7] == ["230.00", "25.00", "35.00", "170.00"]  # the hand-computed month


def test_xlsx_has_one_table_per_currency_ending_in_a_sum_of_exactly_its_rows(store: OrderStore, tmp_path: Path) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="week", tz=TZ)
    out = tmp_path / "r.xlsx"
    export_xlsx(rep, out)
    book = read_xlsx(out)
    assert list(book)[:2] == ["Report BRL", "Report USD"] and "Definitions" in book
    expected = by_currency(export_csv(rep) or "")
    for cur in ("BRL", "USD"):
        rows = grid(book[f"Report {cur}"])
        assert [c.value if c else None for c in rows[0]] == WORDS
        body, total = rows[1:-1], rows[-1]
        assert len(body) == len(expected[cur])
        assert all(r[1] is not None and r[1].value == cur for r in body)  # the currency column holds one currency
        for j in range(3, len(WORDS)):  # every money cell is in this currency's format
            if WORDS[j] in COUNTS:
                continue
            assert all(r[j] is not None and f'"{cur}"' in r[j].number_format for r in [*body, total])
        assert total[0] is not None and total[0].value == "Total"
        for j in range(2, len(WORDS)):
            cell = total[j]
            assert cell is not None and cell.formula is not None
            first, last = cell.formula.removeprefix("SUM(").removesuffix(")").split(":")
            assert (ref(first), ref(last)) == ((1, j), (len(body), j)), "exactly this table's rows"
            values = [c.value for c in (r[j] for r in body) if c is not None]
            assert all(isinstance(v, (int, float) if WORDS[j] in COUNTS else float) for v in values)
            summed = sum((Decimal(str(v)) for v in values), Decimal(0))
            assert Decimal(str(cell.value)) == summed  # what SUM computes is the value stored
            assert summed == sum((Decimal(r[j]) for r in expected[cur]), Decimal(0))  # the rows' exact sum
    definitions = grid(book["Definitions"])
    assert [(r[0].value, r[1].value) for r in definitions[1 : 1 + len(TERMS)] if r[0] and r[1]] == list(TERMS)


def test_an_empty_report_still_has_a_report_sheet_under_headers_in_words(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-06-01", "2026-06-02", by="day", tz=TZ)
    assert rep.rows.height == 0
    buf = io.BytesIO()
    export_xlsx(rep, buf)
    book = read_xlsx(buf.getvalue())
    assert [c.value if c else None for c in grid(book["Report"])[0]] == WORDS
    assert export_csv(rep, with_totals=True) == ",".join(CSV_COLUMNS) + "\n"


def test_a_change_in_percent_shown_as_text_is_no_key_of_the_totals() -> None:
    """The explorer shows a comparison's percent as text ("12.5%", "n/a"): the rows of one currency still end in
    one Total, whatever their percents."""
    rows = pl.DataFrame(
        {
            "period": ["2026-01-01", "2026-02-01", "2026-01-01"],
            "currency": ["BRL", "BRL", "USD"],
            "gross_minor": [1000, 2000, 500],
            "gross_change_pct": ["10.0%", "n/a", "5.0%"],
        }
    )
    out = totals(rows)
    assert out.select("currency", "gross_minor").rows() == [("BRL", 3000), ("USD", 500)]
