"""Tables shown whole with money as money."""

from __future__ import annotations

from datetime import date

import polars as pl

from refundkit.present.htmltable import money_table


def test_a_money_table_shows_every_row_and_amounts_as_money_never_cents() -> None:
    df = pl.DataFrame(
        {
            "period": [date(2026, 3, d) for d in range(1, 31)],
            "currency": ["BRL"] * 29 + ["JPY"],
            "orders": [1234] * 30,
            "gross_minor": [123456789] * 29 + [1500],
            "value_rate": [0.2125] * 29 + [None],
        }
    )
    table = money_table(df)
    assert table.headers() == ["Period", "Currency", "Orders", "Gross", "Value rate"]
    rows = table.rows()
    assert len(rows) == 30  # whole: no "…" row in the middle
    assert rows[0] == ["2026-03-01", "BRL", "1,234", "BRL 1,234,567.89", "21.2%"]
    assert rows[-1] == ["2026-03-30", "JPY", "1,234", "JPY 1,500", "—"]
    html = table.html
    assert html.count("<tr>") == 31 and "123456789" not in html and "30 rows" in html


def test_a_report_table_ends_in_one_total_row_per_currency_under_headers_in_words() -> None:
    df = pl.DataFrame(
        {
            "period": [date(2026, 3, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 4, 1)],
            "currency": ["BRL", "USD", "BRL", "USD"],
            "orders": [2, 1, 3, 4],
            "gross_minor": [10050, 700, 20025, 1],
            "native_refunds_share": [0.5, 0.1, 0.2, 0.3],
        }
    )
    table = money_table(df, totals=True)
    assert table.headers()[:4] == ["Period", "Currency", "Orders", "Gross"]
    # added up here: BRL 100.50 + 200.25, USD 7.00 + 0.01; a share is not added up
    assert table.total_rows() == [["Total", "BRL", "5", "BRL 300.75", ""], ["Total", "USD", "5", "USD 7.01", ""]]
    html = table.html
    assert html.count("refundkit-total") == 2 and "<tfoot>" in html and "4 rows" in html
    assert money_table(df).total_rows() == [] and "<tfoot>" not in money_table(df).html
