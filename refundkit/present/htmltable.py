"""Frames shown whole as HTML tables with money as money (their download links: ``formkit.download_link``)."""

from __future__ import annotations

from html import escape

import polars as pl

from ..analytics.sources import REFUND_COLUMNS
from ..money import format_money

__all__ = ["MoneyTable", "money_table"]

_HEADERS = {
    "gross_minor": "gross",
    **{c.name: c.label for c in REFUND_COLUMNS},
    "net_minor": "net",
    "refunded_minor": "refunded",
    **{c.stem: f"{c.label} (count)" for c in REFUND_COLUMNS},
    "amount_minor": "amount",
    "total_minor": "total",
}


class MoneyTable:
    """A frame shown whole as an HTML table, every ``*_minor`` amount as money (``BRL 1,234.56``), rates as
    percentages; rendered by JupyterLab, Voilà and saved notebooks (``_repr_html_``)."""

    def __init__(self, df: pl.DataFrame, *, max_height: str = "32em", caption: str = "") -> None:
        self.df = df
        self.max_height = max_height
        self.caption = caption

    def rows(self) -> list[list[str]]:
        """The cells as text, as the table shows them."""
        names = self.df.columns
        out = []
        for row in self.df.iter_rows(named=True):
            cells = []
            for name in names:
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
            out.append(cells)
        return out

    def headers(self) -> list[str]:
        return [_HEADERS.get(c, c.removesuffix("_minor").replace("_", " ")) for c in self.df.columns]

    def _repr_html_(self) -> str:
        numeric = [dtype.is_numeric() or name.endswith("_minor") for name, dtype in self.df.schema.items()]
        head = "".join(
            f'<th style="text-align:{"right" if n else "left"}">{escape(h)}</th>'
            for h, n in zip(self.headers(), numeric, strict=True)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:{"right" if n else "left"};white-space:nowrap">{escape(c)}</td>'
                for c, n in zip(cells, numeric, strict=True)
            )
            + "</tr>"
            for cells in self.rows()
        )
        caption = f"<caption style='caption-side:top;text-align:left'>{escape(self.caption)}</caption>"
        count = (
            f"<div style='color:#555;font-size:90%'>{self.df.height:,} row{'s' if self.df.height != 1 else ''}</div>"
        )
        return (
            f'<div class="refundkit-table" style="max-height:{self.max_height};overflow:auto">'
            f"<table>{caption if self.caption else ''}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"</div>{count}"
        )

    @property
    def html(self) -> str:
        return self._repr_html_()


def money_table(df: pl.DataFrame, *, max_height: str = "32em", caption: str = "") -> MoneyTable:
    """``df`` shown whole, amounts as money: ``money_table(report.rows)`` in a notebook cell."""
    return MoneyTable(df, max_height=max_height, caption=caption)
