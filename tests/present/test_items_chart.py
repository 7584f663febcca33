"""The chart of refunds by item: one currency at a time, the most refunded groups on top, VTEX and offline units
stacked, nothing of another currency."""

from __future__ import annotations

import polars as pl

from refundkit.analytics.items import ITEM_SCHEMA
from refundkit.present.charts import items_chart


def rows() -> pl.DataFrame:
    data = [
        # key, name, currency, sold, vtex, offline, refunded_vtex, refunded_offline
        ("346", "Caneca Azul", "BRL", 10, 1, 2, 8195, 16390),
        ("227", "Camiseta", "BRL", 4, 0, 1, 0, 4990),
        ("500", "Boné", "BRL", 7, 0, 0, 0, 0),
        ("346", "Caneca Azul", "USD", 3, 3, 0, 3000, 0),
    ]
    return pl.DataFrame(
        [
            {
                "key": k,
                "name": n,
                "currency": c,
                "units_sold": s,
                "units_refunded_vtex": v,
                "units_refunded_offline": o,
                "units_refunded": v + o,
                "refund_rate": (v + o) / s,
                "refunded_vtex_minor": rv,
                "refunded_offline_minor": ro,
                "refunded_minor": rv + ro,
            }
            for k, n, c, s, v, o, rv, ro in data
        ],
        schema=ITEM_SCHEMA,
    )


def test_the_chart_shows_one_currencys_refunded_units_most_first() -> None:
    fig = items_chart(rows(), "BRL", by="sku")
    vtex, offline = fig.data
    assert list(vtex.y) == ["Camiseta (227)", "Caneca Azul (346)"]  # plotly draws the first at the bottom
    assert list(vtex.x) == [0, 1] and list(offline.x) == [1, 2]
    assert "BRL 163.90" in str(offline.customdata) and "USD" not in str(fig.data)
    assert "The 2 SKUs with the most units refunded: 4 units refunded of 14 sold" in fig.layout.title.subtitle.text


def test_a_currency_without_refunded_units_says_so() -> None:
    fig = items_chart(rows(), "EUR", by="category")
    assert not fig.data
    assert "No units refunded in EUR" in fig.layout.annotations[0].text
