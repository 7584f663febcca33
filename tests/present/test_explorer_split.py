"""The desk's Report tab splits gross and refunds when asked: each row's and each Total's parts add up to its gross,
as shown, on a store synced with details from an in-process sandbox."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import refundkit
from refundkit.analytics.report import Report, gross_vs_net_report
from refundkit.analytics.split import GROSS_NOT_SPLIT, GROSS_PARTS, REFUND_PARTS, REFUNDS_NOT_SPLIT
from refundkit.analytics.totals import header
from refundkit.present.explorer import RevenueExplorer


def with_details(source: Any, *args: Any, **options: Any) -> Report:
    """The report the tab asks for, its orders synced with details (so that their totals split gross)."""
    return gross_vs_net_report(source, *args, details=True, **options)


def money(cell: str) -> Decimal:
    """ "BRL 1,234.56" or "BRL -1.50" → the amount."""
    return Decimal(cell.rsplit(maxsplit=1)[-1].replace(",", ""))


def shown(explorer: RevenueExplorer) -> tuple[list[str], list[list[str]]]:
    """The table's headers and its rows (the Total row last), as the page shows them."""
    html = explorer.table.value
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)]
    return heads, [r for r in rows if r]


def test_the_split_toggle_shows_parts_that_add_up_to_gross_on_every_row_and_total(
    small_session: refundkit.Session,
) -> None:
    explorer = RevenueExplorer(
        small_session, first=date(2026, 3, 1), last=date(2026, 4, 30), period="month", report=with_details
    )
    heads, _ = shown(explorer)
    assert "Items" not in heads and len(explorer.chart.outputs) == 1  # off by default: the table as before
    explorer.split.value = True
    heads, rows = shown(explorer)
    gross_words = [header(c) for c in (*(p.name for p in GROSS_PARTS), GROSS_NOT_SPLIT)]
    refund_words = [header(c) for c in (*(p.name for p in REFUND_PARTS), REFUNDS_NOT_SPLIT)]
    assert set(gross_words + refund_words + ["Orders not split"]) <= set(heads)
    assert rows[-1][0] == "Total" and len(rows) == 3  # March, April, and their Total
    items = 0
    for row in rows:
        cell = dict(zip(heads, row, strict=True))
        assert sum(money(cell[h]) for h in gross_words) == money(cell["Gross"]), row
        assert sum(money(cell[h]) for h in refund_words) == money(cell["VTEX refunds"]) + money(
            cell["Offline refunds"]
        ), row
        items += money(cell["Items"]) > 0
    assert items == 3  # the orders synced with details split: not all under Gross not split
    assert len(explorer.chart.outputs) == 2  # and the gross by component, stacked
    explorer.split.value = False
    assert "Items" not in shown(explorer)[0]


def test_the_stacked_chart_of_gross_by_component_adds_up_to_gross(small_session: refundkit.Session) -> None:
    from refundkit.present.charts import gross_split_chart

    rep = with_details(small_session, date(2026, 3, 1), date(2026, 4, 30), by="month", progress=False)
    fig = gross_split_chart(rep.rows, "BRL")
    bars = [t for t in fig.data if t.type == "bar"]
    [line] = [t for t in fig.data if t.type == "scatter"]
    assert {t.name for t in bars} >= {"items", "discounts", "shipping"}
    for i, gross in enumerate(line.y):
        assert round(sum(t.y[i] for t in bars), 2) == round(gross, 2)
    assert fig.layout.barmode == "relative"  # discounts hang below zero, the rest stacks above
