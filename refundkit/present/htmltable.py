"""Frames shown whole as HTML tables with money as money (their download links: ``formkit.download_link``)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import polars as pl

from ..analytics.sources import REFUND_COLUMNS
from ..analytics.totals import TOTAL, header, totals
from ..money import format_money

__all__ = ["MoneyTable", "money_table"]

#: Columns of other tables (trends, drill-downs) in words; the report's columns are :func:`header`'s.
_HEADERS = {
    "refunded_minor": "Refunded",
    **{c.stem: f"{header(c.name)} (count)" for c in REFUND_COLUMNS},
    "amount_minor": "Amount",
    "total_minor": "Order total",
}


class MoneyTable:
    """A frame shown whole as an HTML table, headers in words, every ``*_minor`` amount as money (``BRL
    1,234.56``), rates as percentages; with ``totals``, one Total row per currency under the rows
    (:func:`refundkit.analytics.totals.totals`, never adding two currencies). ``row_attributes``: markup added to
    each row's ``<tr>``, one per row of ``df`` (such as what a click on it does). Rendered by JupyterLab, Voilà and
    saved notebooks (``_repr_html_``)."""

    def __init__(
        self,
        df: pl.DataFrame,
        *,
        max_height: str = "32em",
        caption: str = "",
        totals: bool = False,
        row_attributes: Sequence[str] = (),
    ) -> None:
        self.df = df
        self.max_height = max_height
        self.caption = caption
        self.with_totals = totals
        self.row_attributes = list(row_attributes)

    def rows(self) -> list[list[str]]:
        """The cells as text, as the table shows them."""
        return [self._cells(row) for row in self.df.iter_rows(named=True)]

    def total_rows(self) -> list[list[str]]:
        """The Total rows' cells as text (none without ``totals``): the first column reads Total, a column that is
        not added up is empty."""
        if not self.with_totals:
            return []
        out = []
        for t in totals(self.df).iter_rows(named=True):
            cells = self._cells(t)
            first = self.df.columns[0] if self.df.columns else ""
            out.append(
                [
                    TOTAL if name == first and name not in t else cell
                    for name, cell in zip(self.df.columns, cells, strict=True)
                ]
            )
        return out

    def _cells(self, row: dict[str, Any]) -> list[str]:
        cells = []
        for name in self.df.columns:
            if name not in row:
                cells.append("")
                continue
            value = row[name]
            if value is None:
                cells.append("—")
            elif name.endswith("_minor") and "currency" in row:
                cells.append(format_money(int(value), str(row["currency"])))
            elif name.endswith(("_rate", "_share")) or name == "share":
                cells.append(f"{float(value) * 100:.1f}%")
            elif isinstance(value, float):
                cells.append(f"{value:,.1f}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        return cells

    def headers(self) -> list[str]:
        return [_HEADERS.get(c) or header(c) for c in self.df.columns]

    def _repr_html_(self) -> str:
        numeric = [dtype.is_numeric() or name.endswith("_minor") for name, dtype in self.df.schema.items()]
        head = "".join(
            f'<th style="text-align:{"right" if n else "left"}">{escape(h)}</th>'
            for h, n in zip(self.headers(), numeric, strict=True)
        )

        def tr(cells: list[str], opening: str = "<tr>") -> str:
            return (
                opening
                + "".join(
                    f'<td style="text-align:{"right" if n else "left"};white-space:nowrap">{escape(c)}</td>'
                    for c, n in zip(cells, numeric, strict=True)
                )
                + "</tr>"
            )

        extra = self.row_attributes or [""] * self.df.height
        body = "".join(tr(cells, f"<tr {x}>" if x else "<tr>") for cells, x in zip(self.rows(), extra, strict=True))
        foot = "".join(
            tr(cells, "<tr class='refundkit-total' style='font-weight:bold;border-top:2px solid #888'>")
            for cells in self.total_rows()
        )
        caption = f"<caption style='caption-side:top;text-align:left'>{escape(self.caption)}</caption>"
        count = (
            f"<div style='color:#555;font-size:90%'>{self.df.height:,} row{'s' if self.df.height != 1 else ''}</div>"
        )
        return (
            f'<div class="refundkit-table" style="max-height:{self.max_height};overflow:auto">'
            f"<table>{caption if self.caption else ''}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"{f'<tfoot>{foot}</tfoot>' if foot else ''}</table>"
            f"</div>{count}"
        )

    @property
    def html(self) -> str:
        return self._repr_html_()


def money_table(
    df: pl.DataFrame,
    *,
    max_height: str = "32em",
    caption: str = "",
    totals: bool = False,
    row_attributes: Sequence[str] = (),
) -> MoneyTable:
    """``df`` shown whole, amounts as money: ``money_table(report.rows)`` in a notebook cell; ``totals=True``
    adds one Total row per currency under the rows."""
    return MoneyTable(df, max_height=max_height, caption=caption, totals=totals, row_attributes=row_attributes)
