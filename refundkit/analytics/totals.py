"""Totals of a report's rows, one per currency (never adding two), and the report's columns in words.

>>> totals(report.rows)          # doctest: +SKIP
    one row per currency (and per every other key column, such as an account): the sums of its rows

:func:`totals` is the one rule every format's Total rows come from (the CLI table, the CSV with ``--totals``, the
XLSX, the desk and the notebooks): the rows are grouped by every key column, that is every text column but the
period's (currency, and account or any other when present); the integer columns (amounts in minor units,
counts) are summed within each group; the period and anything that cannot be summed (a date, a percentage) is left
out. A total therefore never adds two currencies.

:data:`HEADERS` names the columns in words ("Gross", "VTEX refunds", "Offline refunds", "Net"); the refund columns'
words come from the registry (:mod:`refundkit.analytics.sources`), so a new source gets its header for free.
:data:`TERMS` defines each of those words, for the definitions sheet and the README.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ..money import format_minor
from .sources import REFUND_COLUMNS, SOURCES
from .split import GROSS_NOT_SPLIT, GROSS_PARTS, ORDERS_NOT_SPLIT, REFUND_PARTS, REFUNDS_NOT_SPLIT, SPLIT_TERMS

__all__ = [
    "HEADERS",
    "TERMS",
    "TOTAL",
    "display_totals",
    "header",
    "key_columns",
    "summed_columns",
    "totals",
]

#: The label of a total row in the period column.
TOTAL = "Total"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


#: The report's columns in words, by their name in the rows (``*_minor``) and in the CSV (the stem).
HEADERS: dict[str, str] = {
    "period": "Period",
    "currency": "Currency",
    "account": "Account",
    "orders": "Orders",
    "gross_minor": "Gross",
    "gross": "Gross",
    **{c.name: _capital(c.label) for c in REFUND_COLUMNS},
    **{c.stem: _capital(c.label) for c in REFUND_COLUMNS},
    "net_minor": "Net",
    "net": "Net",
    # gross and refunds split by component (refundkit.analytics.split)
    **{p.name: _capital(p.label) for p in (*GROSS_PARTS, *REFUND_PARTS)},
    **{p.stem: _capital(p.label) for p in (*GROSS_PARTS, *REFUND_PARTS)},
    GROSS_NOT_SPLIT: "Gross not split",
    GROSS_NOT_SPLIT.removesuffix("_minor"): "Gross not split",
    ORDERS_NOT_SPLIT: "Orders not split",
    REFUNDS_NOT_SPLIT: "Refunds not split",
    REFUNDS_NOT_SPLIT.removesuffix("_minor"): "Refunds not split",
    # a period still under way, and a comparison with another range (``--period``, ``--compare``)
    "partial": "Under way",
    "compare_period": "Compared period",
    "compare_orders": "Orders, compared",
    "compare_gross": "Gross, compared",
    "compare_gross_minor": "Gross, compared",
    "gross_change": "Gross change",
    "gross_change_minor": "Gross change",
    "gross_change_pct": "Gross change %",
    "compare_net": "Net, compared",
    "compare_net_minor": "Net, compared",
    "net_change": "Net change",
    "net_change_minor": "Net change",
    "net_change_pct": "Net change %",
}


def _column_terms() -> list[tuple[str, str]]:
    refunds = []
    for c in REFUND_COLUMNS:
        kinds = "; ".join(s.label for s in SOURCES if s.column == c.name)
        refunds.append(
            (_capital(c.label), f"the refunds of these kinds in the period, subtracted from gross: {kinds}.")
        )
    return [
        ("Period", "the period's first day (day, week starting Monday, or month) in the report's time zone."),
        ("Currency", "the currency of every amount in the row; amounts of two currencies are never added."),
        ("Orders", "the number of orders counted in gross that were created in the period."),
        (
            "Gross",
            (
                "the sum of the order values (VTEX's totals: items + discounts, which are negative, + shipping + "
                "tax, and order changes) of the orders created in the period and counted in gross."
            ),
        ),
        *refunds,
        ("Net", "Gross − " + " − ".join(_capital(c.label) for c in REFUND_COLUMNS) + "."),
        *SPLIT_TERMS,
        (TOTAL, "the sum of the rows above it, for one currency: one Total per currency, never across currencies."),
    ]


#: Each header in words and what it means: the definitions sheet's first table, and the README's.
TERMS: tuple[tuple[str, str], ...] = tuple(_column_terms())


def header(column: str) -> str:
    """``column`` in words: from :data:`HEADERS`, else its name without ``_minor``, spaced and capitalised."""
    return HEADERS.get(column) or _capital(column.removesuffix("_minor").replace("_", " "))


def key_columns(rows: pl.DataFrame) -> list[str]:
    """The columns a total is kept apart by: every text column (currency, account...) except the period's own
    (``period``, or a ``period_*`` label such as a running period's mark): a total spans the periods."""
    return [
        name
        for name, dtype in rows.schema.items()
        if dtype == pl.String()
        and name != "period"
        and not name.startswith("period_")
        and not name.endswith("_pct")  # a change in percent shown as text ("12.5%", "n/a") is a figure, not a key
    ]


def summed_columns(rows: pl.DataFrame) -> list[str]:
    """The columns a total adds up: every integer column (amounts in minor units, counts)."""
    return [name for name, dtype in rows.schema.items() if dtype.is_integer()]


def totals(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per group of :func:`key_columns` (so per currency, and per account when there is one), sorted by
    them, with the sum of each of :func:`summed_columns` over that group's rows; an empty frame gives an empty
    frame of the same columns. Money columns need a ``currency`` key: a total never adds two currencies."""
    keys, summed = key_columns(rows), summed_columns(rows)
    if any(c.endswith("_minor") for c in summed) and "currency" not in keys:
        raise ValueError("a total of amounts needs their currency column: currencies are never added")
    if not keys:
        return rows.select([pl.col(c).sum() for c in summed])
    return rows.group_by(keys, maintain_order=False).agg([pl.col(c).sum() for c in summed]).sort(keys)


def display_totals(rows: pl.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The totals of ``rows`` as display rows with the given ``columns`` (those of the report's CSV): ``period``
    reads :data:`TOTAL`, a key column its value, a count its sum, an amount (``X`` beside ``X_minor`` in the rows)
    its sum as exact major-unit text; any other column is empty."""
    out = []
    for t in totals(rows).iter_rows(named=True):
        cur = t.get("currency")
        row: dict[str, Any] = {}
        for c in columns:
            if c == "period":
                row[c] = TOTAL
            elif f"{c}_minor" in t and cur is not None:
                row[c] = format_minor(t[f"{c}_minor"], cur)
            elif c in t:
                row[c] = t[c]
            else:
                row[c] = ""
        out.append(row)
    return out
