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
    assert table.headers() == ["period", "currency", "orders", "gross", "value rate"]
    rows = table.rows()
    assert len(rows) == 30  # whole: no "…" row in the middle
    assert rows[0] == ["2026-03-01", "BRL", "1,234", "BRL 1,234,567.89", "21.2%"]
    assert rows[-1] == ["2026-03-30", "JPY", "1,234", "JPY 1,500", "—"]
    html = table.html
    assert html.count("<tr>") == 31 and "123456789" not in html and "30 rows" in html
