"""Refunds by item: units sold, units refunded (on VTEX and offline, apart), the refund rate and the refunded
amount per SKU, product, category or brand, per currency, never adding two.

>>> rep = item_report(rk, "2026-03-01", "2026-03-31", by="category")        # doctest: +SKIP
>>> rep.rows                  # one row per (category, currency): units and amounts (minor units)
>>> rep.notes()               # what the figures leave out, in words: orders without items, refunds without items

The definitions are :data:`ITEM_RULES`. Which orders count, how refunds are dated, attributed and netted of their
reversals are the engine's (:func:`~refundkit.analytics.engine.revenue_figures`): the figures here are the report's
orders and refunds, broken down by item.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import InputError
from ..money import currency_exponent, format_minor, format_money
from ..statuses import left_out
from ..textsafety import neutralise_formula
from ..timeutil import Instant, local_day_bounds, utc_now, zone
from ..version import __version__
from ..vtex.models import allocate
from .engine import DEFAULT_LOOKBACK_DAYS, net_of_reversals, read_store, revenue_figures, sync_for_range
from .engine import value_reading_of as _value_reading_of
from .export import _finish, _header, _major_number, _sheet_name, money_formats
from .report import _attribution, _day
from .sources import SOURCES
from .store import ITEM_TYPE, OrderStore
from .sync import SyncResult, store_of
from .totals import TOTAL, header, totals

__all__ = [
    "BYS",
    "COVERAGE_SCHEMA",
    "DRIVERS_SCHEMA",
    "ITEM_COLUMNS",
    "ITEM_HEADERS",
    "ITEM_RULES",
    "ITEM_SCHEMA",
    "UNKNOWN",
    "ItemFigures",
    "ItemReport",
    "item_figures",
    "item_header",
    "item_report",
    "refund_drivers",
]

#: What the rows can be grouped by.
BYS: tuple[str, ...] = ("sku", "product", "category", "brand")
#: The group of items whose order does not say it (a store file written before these fields, or VTEX sent none).
UNKNOWN = "unknown"
#: The item field each grouping reads.
_FIELD = {"sku": "sku", "product": "product_id", "category": "category", "brand": "brand"}
_KIND = {s.key: s.kind for s in SOURCES}  # "native" (VTEX) | "offline"

#: One row per (group, currency). ``key`` is the SKU, product id, category or brand; ``name`` an item's name (a
#: SKU's; for a product, one of its SKUs'; empty for a category or brand).
ITEM_SCHEMA: dict[str, pl.DataType] = {
    "key": pl.String(),
    "name": pl.String(),
    "currency": pl.String(),
    "units_sold": pl.Int64(),
    "units_refunded_vtex": pl.Int64(),
    "units_refunded_offline": pl.Int64(),
    "units_refunded": pl.Int64(),
    "refund_rate": pl.Float64(),  # units_refunded / units_sold (null when none were sold)
    "refunded_vtex_minor": pl.Int64(),
    "refunded_offline_minor": pl.Int64(),
    "refunded_minor": pl.Int64(),
}
#: The columns of the CSV, JSON and table after the group's: an amount by its stem (``refunded`` for
#: ``refunded_minor``), in major units with its currency's decimals.
ITEM_COLUMNS: tuple[str, ...] = tuple(c.removesuffix("_minor") for c in ITEM_SCHEMA if c != "key")
#: The amounts of a row, by their stem.
_AMOUNTS: tuple[str, ...] = tuple(c.removesuffix("_minor") for c in ITEM_SCHEMA if c.endswith("_minor"))
#: The counts of a row.
_COUNTS: tuple[str, ...] = tuple(c for c, t in ITEM_SCHEMA.items() if t.is_integer() and not c.endswith("_minor"))
#: The columns in words (the table's and the workbook's headers); the others as the report names them.
ITEM_HEADERS: dict[str, str] = {
    "sku": "SKU",
    "units_sold": "Units sold",
    "units_refunded_vtex": "Units refunded on VTEX",
    "units_refunded_offline": "Units refunded offline",
    "units_refunded": "Units refunded",
    "refund_rate": "Refund rate",
    "refunded_vtex": "Refunded on VTEX",
    "refunded_offline": "Refunded offline",
    "refunded": "Refunded",
}


def item_header(column: str) -> str:
    """A column of the analysis by item in words."""
    return ITEM_HEADERS.get(column) or header(column)


#: Per currency: what the per-item figures cover, and what they leave out.
COVERAGE_SCHEMA: dict[str, pl.DataType] = {
    "currency": pl.String(),
    "orders": pl.Int64(),  # orders counted (created in the range, status counted in gross)
    "orders_without_items": pl.Int64(),  # of them, those whose items the store does not hold (no --details)
    "gross_minor": pl.Int64(),
    "gross_without_items_minor": pl.Int64(),
    "gift_units": pl.Int64(),  # units of gift lines (isGift: the customer paid nothing): not units sold
    "refunds": pl.Int64(),  # refunds counted in the range (net of reversals)
    "refunded_minor": pl.Int64(),
    "item_refunded_minor": pl.Int64(),  # the part of it for items (in the rows)
    "amount_only_refunds": pl.Int64(),  # refunds that name no items (an amount only)
    "amount_only_minor": pl.Int64(),
    "not_items_minor": pl.Int64(),  # the rest of refunds that name items: shipping, or an amount beyond the items
}

ITEM_RULES = """\
Rules of the analysis by item (refundkit items)

* One row per group (SKU, product, category or brand) and currency; currencies are never added together.
* Units sold: the units of the orders created in the range that gross counts (the report's status rule), read from
  the orders' items; a gift (isGift: the customer paid nothing for it) is not a unit sold, and the notes count
  them (a store file written before refundkit kept isGift cannot tell a gift: it counts as sold). An order's items
  are in the store only when it was synced with --details; orders without them are counted and named in the notes
  (how many, and their share of gross), never in the units.
* Units refunded on VTEX: the units the return invoices list. Units refunded offline: the item lines of the
  refunds recorded in the ledger. A reversal gives its refund's units back. Refunds are dated, attributed and
  counted as in `refundkit report` (refund-date or order-date view).
* Refund rate: units refunded / units sold, in that group and currency. It is given only where every order counted
  in that currency has its items in the store: where some have not, their units sold are unknown while the orders
  with a return invoice are read in full, so a rate would be too high; the rate is then n/a and the notes say why.
* Refunded: the amounts of those units (a return invoice that gives no amount per item has its amount spread over
  its units by their price); a refund that names no item (an amount only), and the part of a refund that is not for
  items (shipping), are in the notes, not in the rows.
* Category (the last of the item's categories), brand and product come from the order's items as VTEX sent them;
  where the order does not say (or the store was written before refundkit kept them) the group is "unknown".
"""


# -- the figures -----------------------------------------------------------------------------------------------------
@dataclass
class ItemFigures:
    """What :func:`item_figures` found: ``rows`` (:data:`ITEM_SCHEMA`), ``coverage`` (:data:`COVERAGE_SCHEMA`),
    ``refunded_items`` (one row per item line of a counted refund: ``order_id, refund_id, currency, kind, sku,
    unique_id, quantity, amount_minor`` and the group's ``key``, ``name``), ``warnings``."""

    by: str
    rows: pl.DataFrame
    coverage: pl.DataFrame
    refunded_items: pl.DataFrame
    amount_only: pl.DataFrame  # the refund lines (engine.REFUND_LINES_SCHEMA) that name no items
    orders: pl.DataFrame  # the orders read (every column the store has), for estimates
    warnings: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What the rows leave out, per currency, in plain words: always said, never silent."""
        return coverage_notes(self.coverage)


def _group(column: str) -> pl.Expr:
    """An item field as a group: null or empty is :data:`UNKNOWN`."""
    col = pl.col(column).cast(pl.String)
    return pl.when(col.is_null() | (col.str.strip_chars() == "")).then(pl.lit(UNKNOWN)).otherwise(col)


def _order_items(orders: pl.DataFrame) -> pl.DataFrame:
    """One row per item line of the orders that carry items (``order_id, currency, line, sku, name, quantity,
    unit_price_minor, unique_id, product_id, brand, category, paid_minor``)."""
    fields = ("sku", "name", "quantity", "unit_price_minor", "unique_id", "product_id", "brand", "category")
    schema = {
        "order_id": pl.String(),
        "currency": pl.String(),
        "line": pl.Int64(),
        **{f: pl.Int64() if f in ("quantity", "unit_price_minor") else pl.String() for f in fields},
        "paid_minor": pl.Int64(),
        "is_gift": pl.Boolean(),
    }
    if "items" not in orders.columns or not orders.height:
        return pl.DataFrame(schema=schema)
    lines = (
        orders.select("order_id", "currency", "items")
        .filter(pl.col("items").is_not_null())
        .with_columns(pl.int_ranges(pl.col("items").list.len()).alias("line"))
        .explode("items", "line")
        .filter(pl.col("items").is_not_null())
        .unnest("items")
    )
    for f in (*fields, "paid_minor", "is_gift"):
        if f not in lines.columns:  # a frame built before the field existed
            lines = lines.with_columns(pl.lit(None, dtype=schema[f]).alias(f))
    return lines.select([pl.col(c).cast(t) for c, t in schema.items()])


def _has_items() -> pl.Expr:
    return pl.col("items").is_not_null() & (pl.col("items").list.len() > 0)


def item_figures(
    orders: pl.DataFrame,
    native: pl.DataFrame,
    offline: pl.DataFrame,
    *,
    by: str = "sku",
    attribution: str = "refund_date",
    tz: str = "UTC",
    start: Instant | None = None,
    end: Instant | None = None,
    currency: str | None = None,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    value_reading: str = "kept",
) -> ItemFigures:
    """Units sold and refunded, the refund rate and the refunded amounts per group ``by`` (:data:`BYS`) and
    currency, of the orders created in ``[start, end)`` and the refunds dated (or attributed) in it.

    Inputs: the store's frames (:func:`~refundkit.analytics.engine.read_store` with every column): ``orders`` with
    ``items`` and ``has_details``, ``native`` with the units each return invoice lists (``items``), ``offline`` with
    each entry's ``lines``; frames without those columns count as naming no items. The orders and refunds counted
    are those of :func:`~refundkit.analytics.engine.revenue_figures` with the same options."""
    if by not in BYS:
        raise InputError(f"by {by!r} is not one of {', '.join(BYS)}")
    figures = revenue_figures(
        orders,
        native,
        offline,
        period="month",
        attribution=attribution,
        tz=tz,
        start=start,
        end=end,
        currency=currency,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        value_reading=value_reading,
        fill=False,
    )
    counted = figures.orders if figures.orders is not None else orders.clear()
    if "items" not in counted.columns:
        counted = counted.with_columns(pl.lit(None, dtype=pl.List(ITEM_TYPE)).alias("items"))
    refunds = net_of_reversals(figures.refunds)
    lines = _order_items(counted)
    gift = pl.col("is_gift").fill_null(False)
    sold_lines, gifts = lines.filter(~gift), lines.filter(gift)
    refunded, amount_only, not_items = _refunded_items(refunds, orders, native, offline)
    rows = _rows(by, sold_lines, _attributes(refunded, orders))
    coverage = _coverage(
        counted, gifts, refunds=refunds, refunded=refunded, amount_only=amount_only, not_items=not_items
    )
    partial = partial_currencies(coverage)
    if partial:  # units sold are known for some orders only: a rate would be biased, so none is given
        rows = rows.with_columns(
            pl.when(pl.col("currency").is_in(partial)).then(None).otherwise(pl.col("refund_rate")).alias("refund_rate")
        )
    return ItemFigures(by, rows, coverage, refunded, amount_only, orders, list(figures.warnings))


_REFUNDED_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "refund_id": pl.String(),
    "currency": pl.String(),
    "kind": pl.String(),  # "vtex" | "offline"
    "sku": pl.String(),
    "unique_id": pl.String(),
    "line_index": pl.Int64(),  # the order line's position, when the refund names it
    "line_name": pl.String(),  # the name the refund's line gives (offline refunds)
    "quantity": pl.Int64(),  # negative for a reversal whose refund is not counted with it
    "amount_minor": pl.Int64(),
}


def _refunded_items(
    refunds: pl.DataFrame, orders: pl.DataFrame, native: pl.DataFrame, offline: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The item lines of the counted refund lines (one row per item and refund, :data:`_REFUNDED_SCHEMA`), the
    refund lines that name no item, and per refund line the amount not for items (``refund_id, currency,
    amount_minor``)."""
    returned: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if "items" in native.columns:
        for r in native.select("order_id", "invoice_number", "items").iter_rows(named=True):
            if r["items"]:
                returned[(r["order_id"], r["invoice_number"])] = r["items"]
    entry_lines: dict[str, list[dict[str, Any]]] = {}
    if "lines" in offline.columns:
        for r in offline.select("entry_id", "lines").iter_rows(named=True):
            items = [x for x in (r["lines"] or []) if x.get("kind") == "item" and x.get("quantity")]
            if items:
                entry_lines[r["entry_id"]] = items
    prices = _line_prices(orders, set(refunds.get_column("order_id").to_list()))
    out: list[dict[str, Any]] = []
    none: list[int] = []
    rest: list[dict[str, Any]] = []
    for i, r in enumerate(refunds.iter_rows(named=True)):
        kind = "vtex" if _KIND.get(r["refund_source"]) == "native" else "offline"
        lines: list[dict[str, Any]]
        if kind == "vtex":
            sign, listed = 1, returned.get((r["order_id"], r["refund_id"]))
            lines = _spread(listed, r["amount_minor"], prices.get(r["order_id"], {})) if listed else []
        else:
            sign = -1 if r["kind"] == "reversal" else 1
            # a reversal gives back its refund's units (its own lines when the refund's are not at hand)
            given = (entry_lines.get(r["reverses"] or "") if sign == -1 else None) or entry_lines.get(r["refund_id"])
            lines = [{**x, "amount_minor": sign * x["amount_minor"]} for x in given or []]
        if not lines:
            none.append(i)
            continue
        for x in lines:
            out.append(
                {
                    "order_id": r["order_id"],
                    "refund_id": r["refund_id"],
                    "currency": r["currency"],
                    "kind": kind,
                    "sku": x["sku"],
                    "unique_id": x.get("unique_id") or "",
                    "line_index": x.get("line_index"),
                    "line_name": x.get("name"),
                    "quantity": sign * x["quantity"],
                    "amount_minor": x["amount_minor"],
                }
            )
        left = r["amount_minor"] - sum(x["amount_minor"] for x in lines)
        if left:
            rest.append({"refund_id": r["refund_id"], "currency": r["currency"], "amount_minor": left})
    refunded = pl.DataFrame(out, schema=_REFUNDED_SCHEMA)
    amount_only = refunds.with_row_index("_i").filter(pl.col("_i").is_in(none)).drop("_i")
    rest_df = pl.DataFrame(rest, schema={"refund_id": pl.String(), "currency": pl.String(), "amount_minor": pl.Int64()})
    return refunded, amount_only, rest_df


def _line_prices(orders: pl.DataFrame, ids: set[str]) -> dict[str, dict[str, int]]:
    """Per order (of ``ids``), the price of one unit of each line, by uniqueId and by SKU (its first line)."""
    if not ids or "items" not in orders.columns:
        return {}
    lines = _order_items(orders.filter(pl.col("order_id").is_in(list(ids))))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in lines.iter_rows(named=True):
        qty = r["quantity"] or 0
        unit = r["paid_minor"] // qty if r["paid_minor"] is not None and qty > 0 else r["unit_price_minor"]
        if unit is None:
            continue
        if r["unique_id"]:
            out[r["order_id"]].setdefault(r["unique_id"], unit)
        out[r["order_id"]].setdefault(r["sku"], unit)
    return out


def _spread(items: list[dict[str, Any]], amount: int, prices: dict[str, int]) -> list[dict[str, Any]]:
    """A return invoice's items with an amount each: VTEX's where it gives one; the rest of the invoice's amount
    spread over the others by their units' price (their number of units where the order's price is not known)."""
    lines = [dict(x) for x in items if x.get("quantity")]
    unknown = [x for x in lines if x.get("amount_minor") is None]
    if unknown:
        known = sum(x["amount_minor"] for x in lines if x.get("amount_minor") is not None)
        weights = [x["quantity"] * prices.get(x.get("unique_id") or "", prices.get(x["sku"], 0)) for x in unknown]
        if not any(weights):
            weights = [x["quantity"] for x in unknown]
        for x, part in zip(unknown, allocate(max(0, amount - known), weights), strict=True):
            x["amount_minor"] = part
    return lines


def _attributes(refunded: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """``refunded`` with each line's item fields (``name, product_id, brand, category``) from its order's line: the
    one of its uniqueId, else of its position, else the SKU's first line; null where the order has no items."""
    ids = refunded.get_column("order_id").unique()
    lines = _order_items(orders.filter(pl.col("order_id").is_in(ids.implode())) if ids.len() else orders.clear())
    info = ["name", "product_id", "brand", "category"]
    ways = [
        ("unique_id", lines.filter(pl.col("unique_id").fill_null("") != "")),
        ("line_index", lines.rename({"line": "line_index"})),
        ("sku", lines.sort("line")),
    ]
    out = refunded
    for i, (key, lines_by) in enumerate(ways):
        found = lines_by.unique(["order_id", key], keep="first").select(
            "order_id", key, *(pl.col(c).alias(f"{c}_{i}") for c in info)
        )
        out = out.join(found, on=["order_id", key], how="left")
    out = out.with_columns(pl.coalesce(*(f"{c}_{i}" for i in range(len(ways)))).alias(c) for c in info)
    out = out.drop(f"{c}_{i}" for c in info for i in range(len(ways)))
    return out.with_columns(pl.coalesce("name", pl.col("line_name").replace("", None)).alias("name"))


def _rows(by: str, sold_lines: pl.DataFrame, refunded: pl.DataFrame) -> pl.DataFrame:
    key = _group(_FIELD[by]).alias("key")
    name = pl.col("name").drop_nulls().first() if by in ("sku", "product") else pl.lit(None, dtype=pl.String)
    sold = sold_lines.group_by(key, "currency").agg(
        name.alias("name_sold"), pl.col("quantity").sum().cast(pl.Int64).alias("units_sold")
    )
    back = refunded.group_by(key, "currency").agg(
        name.alias("name_back"),
        *(
            pl.col(col).filter(pl.col("kind") == k).sum().cast(pl.Int64).alias(f"{what}_{k}")
            for k in ("vtex", "offline")
            for col, what in (("quantity", "units"), ("amount_minor", "refunded"))
        ),
    )
    out = sold.join(back, on=["key", "currency"], how="full", coalesce=True)
    zero = ["units_sold", "units_vtex", "units_offline", "refunded_vtex", "refunded_offline"]
    out = out.with_columns(pl.col(c).fill_null(0) for c in zero).select(
        "key",
        pl.coalesce("name_sold", "name_back").alias("name"),
        "currency",
        "units_sold",
        pl.col("units_vtex").alias("units_refunded_vtex"),
        pl.col("units_offline").alias("units_refunded_offline"),
        (pl.col("units_vtex") + pl.col("units_offline")).alias("units_refunded"),
        pl.when(pl.col("units_sold") > 0)
        .then((pl.col("units_vtex") + pl.col("units_offline")) / pl.col("units_sold"))
        .alias("refund_rate"),
        pl.col("refunded_vtex").alias("refunded_vtex_minor"),
        pl.col("refunded_offline").alias("refunded_offline_minor"),
        (pl.col("refunded_vtex") + pl.col("refunded_offline")).alias("refunded_minor"),
    )
    out = out.select([pl.col(c).cast(t) for c, t in ITEM_SCHEMA.items()])
    return out.sort(
        ["currency", "units_refunded", "units_sold", "key"], descending=[False, True, True, False], nulls_last=True
    )


def _coverage(
    counted: pl.DataFrame,
    gifts: pl.DataFrame,
    *,
    refunds: pl.DataFrame,
    refunded: pl.DataFrame,
    amount_only: pl.DataFrame,
    not_items: pl.DataFrame,
) -> pl.DataFrame:
    lacking = ~_has_items()
    orders = counted.group_by("currency").agg(
        pl.len().cast(pl.Int64).alias("orders"),
        lacking.sum().cast(pl.Int64).alias("orders_without_items"),
        pl.col("total_minor").sum().cast(pl.Int64).alias("gross_minor"),
        pl.col("total_minor").filter(lacking).sum().cast(pl.Int64).alias("gross_without_items_minor"),
    )
    parts = [
        orders,
        gifts.group_by("currency").agg(pl.col("quantity").sum().alias("gift_units")),
        refunds.group_by("currency").agg(
            pl.len().cast(pl.Int64).alias("refunds"), pl.col("amount_minor").sum().alias("refunded_minor")
        ),
        refunded.group_by("currency").agg(pl.col("amount_minor").sum().alias("item_refunded_minor")),
        amount_only.group_by("currency").agg(
            pl.len().cast(pl.Int64).alias("amount_only_refunds"),
            pl.col("amount_minor").sum().alias("amount_only_minor"),
        ),
        not_items.group_by("currency").agg(pl.col("amount_minor").sum().alias("not_items_minor")),
    ]
    out = parts[0]
    for p in parts[1:]:
        out = out.join(p, on="currency", how="full", coalesce=True)
    out = out.with_columns(pl.col(c).fill_null(0) for c in COVERAGE_SCHEMA if c != "currency")
    return out.select([pl.col(c).cast(t) for c, t in COVERAGE_SCHEMA.items()]).sort("currency")


def partial_currencies(coverage: pl.DataFrame) -> list[str]:
    """The currencies where some order counted has no items in the store: their refund rates are not given."""
    return coverage.filter(pl.col("orders_without_items") > 0).get_column("currency").to_list()


def _pct(part: int, whole: int) -> str:
    return "0%" if not whole else f"{100 * part / whole:.1f}%"


def coverage_notes(coverage: pl.DataFrame) -> list[str]:
    """Per currency: how many orders (and what share of gross) have no items in the store, and which refunds name
    no items. Said every time, also when it is none."""
    notes = []
    for c in coverage.iter_rows(named=True):
        cur = c["currency"]
        notes.append(
            f"{cur}: {c['orders_without_items']:,} of {c['orders']:,} orders counted "
            f"({_pct(c['gross_without_items_minor'], c['gross_minor'])} of gross, "
            f"{format_money(c['gross_without_items_minor'], cur)}) have no items in the store: their units are not "
            "in the figures"
            + (
                "; so the refund rates are n/a, as the orders with a return invoice are read in full and the others "
                "not, which would make a rate too high (sync the range with details: `refundkit items` does, "
                "unless --no-details or --no-sync)"
                if c["orders_without_items"]
                else ""
            )
            + (
                f"; {c['gift_units']:,} units of gifts (the customer paid nothing for them) are not units sold"
                if c["gift_units"]
                else ""
            )
        )
        notes.append(
            f"{cur}: {c['amount_only_refunds']:,} refunds for {format_money(c['amount_only_minor'], cur)} name no "
            f"items (an amount only), and {format_money(c['not_items_minor'], cur)} of the refunds that name items "
            "is not for items (shipping, or more than the items): neither is in the rows"
        )
    if not notes:
        notes.append("no order was counted and no refund was dated in this range")
    return notes


# -- over the store ------------------------------------------------------------------------------------------------
@dataclass
class ItemReport:
    """The analysis by item of a range over the local order store: :attr:`figures` and what explains them."""

    figures: ItemFigures
    parameters: dict[str, Any]
    definitions: str = ITEM_RULES
    warnings: list[str] = field(default_factory=list)
    sync: SyncResult | None = None

    @property
    def by(self) -> str:
        return self.figures.by

    @property
    def rows(self) -> pl.DataFrame:
        return self.figures.rows

    @property
    def coverage(self) -> pl.DataFrame:
        return self.figures.coverage

    def notes(self) -> list[str]:
        return self.figures.notes()

    @property
    def columns(self) -> list[str]:
        """The columns of :meth:`display_rows`: the group (named as ``by``), then :data:`ITEM_COLUMNS` (``name``
        only for a SKU or a product)."""
        rest = [c for c in ITEM_COLUMNS if c != "name" or self.by in ("sku", "product")]
        return [self.by, *rest]

    def _display(self, raw: dict[str, Any], first: str, *, percent: bool) -> dict[str, Any]:
        cur = raw["currency"]
        row: dict[str, Any] = {self.by: first}
        for c in self.columns[1:]:
            if c in _AMOUNTS:
                row[c] = format_minor(raw[f"{c}_minor"], cur)
            elif c == "refund_rate":
                v = raw.get(c)
                row[c] = (
                    ("n/a" if v is None else f"{100 * v:.1f}%") if percent else (None if v is None else round(v, 6))
                )
            else:
                row[c] = raw.get(c, "")
        return row

    def display_rows(self, *, percent: bool = False) -> list[dict[str, Any]]:
        """The rows with the group named as ``by``; amounts as exact major-unit text (``100.00`` for BRL 100.00,
        the currency's decimals written from the integers); the rate a number (CSV, JSON), or with ``percent`` a
        percent (the table); null or n/a where it is not known."""
        return [self._display(r, r["key"], percent=percent) for r in self.rows.iter_rows(named=True)]

    def total_rows(self) -> list[dict[str, Any]]:
        """Per currency (never across currencies): the sums of the rows' counts and amounts (minor units) and the
        rate of those sums (null where none were sold or the currency's rates are not given)."""
        summed = ["currency", *(c for c, t in ITEM_SCHEMA.items() if t.is_integer())]
        partial = set(partial_currencies(self.coverage))
        out = []
        for t in totals(self.rows.select(summed)).iter_rows(named=True):
            known = t["units_sold"] and t["currency"] not in partial
            out.append({**t, "refund_rate": t["units_refunded"] / t["units_sold"] if known else None})
        return out

    def totals(self, *, percent: bool = False) -> list[dict[str, Any]]:
        """One Total row per currency, in the columns of :meth:`display_rows`."""
        return [self._display(t, TOTAL, percent=percent) for t in self.total_rows()]

    def json_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The rows and the totals as JSON gives them: as :meth:`display_rows` (amounts as exact decimal text) and,
        as the report's JSON does, the currency's ``decimals`` and each amount in integer minor units."""

        def raw(r: dict[str, Any]) -> dict[str, Any]:
            return {"decimals": currency_exponent(r["currency"]), **{f"{a}_minor": r[f"{a}_minor"] for a in _AMOUNTS}}

        rows = [{**d, **raw(r)} for d, r in zip(self.display_rows(), self.rows.iter_rows(named=True), strict=True)]
        sums = [{**d, **raw(t)} for d, t in zip(self.totals(), self.total_rows(), strict=True)]
        return rows, sums


def item_report(
    source: Any,
    start: date | str,
    end: date | str,
    *,
    by: str = "sku",
    attribution: str = "refund_date",
    tz: str = "UTC",
    currency: str | None = None,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    sync: bool = True,
    refresh: bool = False,
    details: bool = False,
    store: OrderStore | None = None,
    progress: bool | None = None,
    now: Instant | None = None,
) -> ItemReport:
    """The analysis by item (:func:`item_figures`) of the local days ``start`` to ``end`` (both included) in
    ``tz``, over the store of ``source`` (a session, a client, or an :class:`OrderStore`, read as it is).

    ``source`` a session: the store is synced first like the report's (``details=True`` also reads every order of
    the range in full, one VTEX call an order, once, for its items); ``sync=False`` reads the store as it is."""
    if by not in BYS:
        raise InputError(f"by {by!r} is not one of {', '.join(BYS)}")
    view = _attribution(attribution)
    try:
        zone(tz)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise InputError(f"the end {last} is before the start {first}")
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InputError(f"currency {currency!r} is not a three-letter code such as BRL")
    if lookback_days < 0:
        raise InputError("lookback_days cannot be negative")
    cur = currency.upper() if currency else None
    lo, hi = local_day_bounds(first, last, tz)
    earliest = lo - timedelta(days=lookback_days)
    st = store_of(source, store)
    warnings: list[str] = []
    result: SyncResult | None = None
    calls_sync = sync and not isinstance(source, OrderStore)
    if calls_sync:
        if details:  # details for the range itself; the look-back needs the list fields only
            warnings += sync_for_range(source, st, lo, hi, details=True, refresh=refresh, progress=progress).warnings
        result = sync_for_range(source, st, earliest, hi, details=False, refresh=refresh, progress=progress)
        warnings += [w for w in result.warnings if w not in warnings]
    reading, _ = _value_reading_of(source, st)
    orders, native, offline, state, _ = st.repairing(
        lambda: read_store(st, earliest, hi, columns=None, refunds_since=earliest), repair=calls_sync
    )
    warnings += [n for n in st.notices if n not in warnings]
    if not calls_sync and state.synced_at is None:
        warnings.append(f"the store at {st.path} has never been synced: run `refundkit sync` first")
    figures = item_figures(
        orders,
        native,
        offline,
        by=by,
        attribution=view,
        tz=tz,
        start=lo,
        end=hi,
        currency=cur,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        value_reading=reading,
    )
    parameters: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "attribution": view.replace("_", "-"),
        "tz": tz,
        "currency": cur,
        "account": st.account,
        "include_canceled": include_canceled,
        "include_payment_pending": include_payment_pending,
        "left_out_statuses": left_out(include_canceled, include_payment_pending),
        "lookback_days": lookback_days,
        "generated_at": (now or utc_now()).isoformat(0),
        "data_as_of": None if state.synced_at is None else Instant(state.synced_at).isoformat(0),
        "synced_now": calls_sync,
        "refundkit_version": __version__,
    }
    return ItemReport(figures, parameters, warnings=warnings + figures.warnings, sync=result)


# -- refund drivers: exact where the refunds name items, estimated where they give an amount only ------------------
DRIVERS_SCHEMA: dict[str, pl.DataType] = {
    "currency": pl.String(),
    "sku": pl.String(),
    "name": pl.String(),
    "units_refunded": pl.Int64(),  # exact: units the refunds name
    "exact_minor": pl.Int64(),  # the amounts of those units
    "estimated_minor": pl.Int64(),  # amount-only refunds spread over their order's items by what each line paid
    "refunded_minor": pl.Int64(),  # exact + estimated
}
DRIVERS_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "currency": pl.String(),
    "refunded_minor": pl.Int64(),  # every refund counted in the range (net of reversals)
    "exact_minor": pl.Int64(),
    "estimated_minor": pl.Int64(),
    "unattributed_minor": pl.Int64(),  # amount-only refunds of orders without items, and what is not for items
}


@dataclass
class RefundDrivers:
    """Refunded amounts per SKU (:data:`DRIVERS_SCHEMA`) and, per currency, what part of the refunds is exact, what
    part estimated and what part could not be tied to a SKU (:data:`DRIVERS_SUMMARY_SCHEMA`)."""

    rows: pl.DataFrame
    summary: pl.DataFrame

    def sentences(self) -> list[str]:
        """The summary in words, computed from its figures."""
        out = []
        for s in self.summary.iter_rows(named=True):
            cur, total = s["currency"], s["refunded_minor"]
            out.append(
                f"{cur}: of {format_money(total, cur)} refunded, {format_money(s['exact_minor'], cur)} "
                f"({_pct(s['exact_minor'], total)}) is exact per SKU (the refunds name their items), "
                f"{format_money(s['estimated_minor'], cur)} ({_pct(s['estimated_minor'], total)}) is estimated "
                "(refunds of an amount only, spread over their order's items by what each line paid), and "
                f"{format_money(s['unattributed_minor'], cur)} ({_pct(s['unattributed_minor'], total)}) is tied to "
                "no SKU (an amount only on an order whose items are not synced, or shipping)"
            )
        return out or ["no refund was dated in this range"]


def refund_drivers(figures: ItemFigures, *, limit: int | None = 10) -> RefundDrivers:
    """Refund drivers per SKU: the exact item refunds of ``figures`` (an :func:`item_figures` by ``sku``, or any
    ``by``: the refunded lines are the same), and for refunds that name no items (an amount only) an estimate: the
    amount spread over its order's items in proportion to what each line paid. At most ``limit`` SKUs per currency
    (``None``: all), the most refunded first; the summary covers every refund."""
    exact = _attributes(figures.refunded_items, figures.orders)
    est_rows: list[dict[str, Any]] = []
    unattributed: dict[str, int] = defaultdict(int)
    only = figures.amount_only
    ids = set(only.get_column("order_id").to_list())
    lines = _order_items(figures.orders.filter(pl.col("order_id").is_in(list(ids)))) if ids else None
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if lines is not None:
        for r in lines.iter_rows(named=True):
            by_order[r["order_id"]].append(r)
    for r in only.iter_rows(named=True):
        items = by_order.get(r["order_id"])
        if not items:
            unattributed[r["currency"]] += r["amount_minor"]
            continue
        weights = [
            x["paid_minor"] if x["paid_minor"] is not None else (x["unit_price_minor"] or 0) * (x["quantity"] or 0)
            for x in items
        ]
        for x, part in zip(items, allocate(r["amount_minor"], [max(0, w) for w in weights]), strict=True):
            est_rows.append({"currency": r["currency"], "sku": x["sku"], "name": x["name"], "amount_minor": part})
    for r in figures.coverage.iter_rows(named=True):
        unattributed[r["currency"]] += r["not_items_minor"]
    est = pl.DataFrame(
        est_rows, schema={"currency": pl.String(), "sku": pl.String(), "name": pl.String(), "amount_minor": pl.Int64()}
    )
    ex = exact.group_by("currency", "sku").agg(
        pl.col("name").drop_nulls().first().alias("name_x"),
        pl.col("quantity").sum().cast(pl.Int64).alias("units_refunded"),
        pl.col("amount_minor").sum().cast(pl.Int64).alias("exact_minor"),
    )
    es = est.group_by("currency", "sku").agg(
        pl.col("name").drop_nulls().first().alias("name_e"), pl.col("amount_minor").sum().alias("estimated_minor")
    )
    rows = ex.join(es, on=["currency", "sku"], how="full", coalesce=True).with_columns(
        pl.coalesce("name_x", "name_e").alias("name"),
        pl.col("units_refunded").fill_null(0),
        pl.col("exact_minor").fill_null(0),
        pl.col("estimated_minor").fill_null(0),
    )
    rows = rows.with_columns((pl.col("exact_minor") + pl.col("estimated_minor")).alias("refunded_minor"))
    rows = rows.select([pl.col(c).cast(t) for c, t in DRIVERS_SCHEMA.items()]).sort(
        ["currency", "refunded_minor", "sku"], descending=[False, True, False]
    )
    summary = figures.coverage.select(
        "currency",
        "refunded_minor",
        pl.col("item_refunded_minor").alias("exact_minor"),
    ).join(
        est.group_by("currency").agg(pl.col("amount_minor").sum().alias("estimated_minor")), on="currency", how="left"
    )
    summary = summary.with_columns(
        pl.col("estimated_minor").fill_null(0),
        pl.col("currency")
        .replace_strict(dict(unattributed), default=0, return_dtype=pl.Int64)
        .alias("unattributed_minor"),
    )
    summary = summary.select([pl.col(c).cast(t) for c, t in DRIVERS_SUMMARY_SCHEMA.items()])
    if limit is not None:
        rows = rows.group_by("currency", maintain_order=True).head(limit)
    return RefundDrivers(rows, summary)


# -- the workbook ------------------------------------------------------------------------------------------------------
def items_xlsx(reports: dict[str, ItemReport]) -> bytes:
    """A workbook of analyses by item (one per account name): one sheet per account and currency ("Items BRL", or
    "Items main BRL" for several) with headers in words, amounts as numbers in the currency's format, the rate a
    percent, and a Total row of ``SUM`` formulas over exactly its rows (no column holds two currencies); then a
    "Notes" sheet: the notes, the coverage, the parameters and the definitions."""
    import xlsxwriter  # noqa: PLC0415  (only XLSX exports need it)
    from xlsxwriter.utility import xl_range  # noqa: PLC0415  (only XLSX exports need it)

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1})
    total_fmt = wb.add_format({"bold": True, "top": 1})
    rate_fmt = wb.add_format({"num_format": "0.0%"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    money = money_formats(wb)
    several = len(reports) > 1
    taken: set[str] = set()

    def cell(ws: Any, at: tuple[int, int], c: str, r: dict[str, Any], fmt: Any = None) -> None:
        i, j = at
        cur = r["currency"]
        if c in _AMOUNTS:
            ws.write_number(i, j, _major_number(r[f"{c}_minor"], cur), money(cur))
        elif c == "refund_rate":
            ws.write_number(i, j, r[c], rate_fmt) if r[c] is not None else ws.write_string(i, j, "n/a", fmt)
        elif c in _COUNTS:
            ws.write_number(i, j, r[c], fmt)
        else:
            ws.write_string(i, j, neutralise_formula(str(r.get(c) or "")), fmt)

    for name, rep in reports.items():
        columns = rep.columns
        raw = [{**r, rep.by: r["key"]} for r in rep.rows.iter_rows(named=True)]
        for total in rep.total_rows():
            cur = total["currency"]
            part = [r for r in raw if r["currency"] == cur]
            ws = wb.add_worksheet(_sheet_name(["Items", *([name] if several else []), cur], taken))
            _header(ws, [item_header(c) for c in columns], bold)
            for i, r in enumerate(part, start=1):
                for j, c in enumerate(columns):
                    cell(ws, (i, j), c, r)
            last = len(part) + 1
            ws.write_string(last, 0, TOTAL, total_fmt)
            for j, c in enumerate(columns[1:], start=1):
                formula = f"=SUM({xl_range(1, j, last - 1, j)})"
                if c in _AMOUNTS:
                    ws.write_formula(last, j, formula, money(cur), _major_number(total[f"{c}_minor"], cur))
                elif c in _COUNTS:
                    ws.write_formula(last, j, formula, total_fmt, total[c])
                elif c == "refund_rate":
                    cell(ws, (last, j), c, total, total_fmt)
                elif c == "currency":
                    ws.write_string(last, j, cur, total_fmt)
            _finish(ws, len(part), len(columns), [16, *(18 for _ in columns[1:])])
    if not taken:  # nothing counted: the headers still say what the columns are
        ws = wb.add_worksheet("Items")
        first = next(iter(reports.values()))
        _header(ws, [item_header(c) for c in first.columns], bold)
        _finish(ws, 0, len(first.columns), [16, *(18 for _ in first.columns[1:])])
    wn = wb.add_worksheet("Notes")
    row = 0
    for name, rep in reports.items():
        for n in rep.notes():
            wn.write_string(row, 0, neutralise_formula(f"{name}: {n}" if several else n), wrap)
            row += 1
    row += 1
    cover = [*(["account"] if several else []), *COVERAGE_SCHEMA]
    wn.write_row(row, 0, [item_header(c) for c in cover], bold)
    for name, rep in reports.items():
        for cov in rep.coverage.iter_rows(named=True):
            row += 1
            values = [*([name] if several else []), *cov.values()]
            for j, (col, v) in enumerate(zip(cover, values, strict=True)):
                if col.endswith("_minor"):
                    wn.write_number(row, j, _major_number(v, cov["currency"]), money(cov["currency"]))
                elif isinstance(v, int):
                    wn.write_number(row, j, v)
                else:
                    wn.write_string(row, j, neutralise_formula(str(v)))
    row += 2
    for k, v in next(iter(reports.values())).parameters.items():
        text = ", ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v)
        wn.write_string(row, 0, k)
        wn.write_string(row, 1, neutralise_formula(text))
        row += 1
    row += 1
    for line in ITEM_RULES.splitlines():
        wn.write_string(row, 0, neutralise_formula(line))
        row += 1
    wn.set_column(0, 0, 100)
    wn.set_column(1, len(cover), 18)
    wb.close()
    return buffer.getvalue()
