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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import InputError
from ..money import format_minor, format_money
from ..statuses import left_out
from ..timeutil import Instant, local_day_bounds, utc_now, zone
from ..version import __version__
from ..vtex.models import allocate
from .engine import DEFAULT_LOOKBACK_DAYS, net_of_reversals, read_store, revenue_figures, sync_for_range
from .engine import value_reading_of as _value_reading_of
from .report import _attribution, _day
from .sources import SOURCES
from .store import ITEM_TYPE, OrderStore
from .sync import SyncResult, store_of

__all__ = [
    "BYS",
    "COVERAGE_SCHEMA",
    "DRIVERS_SCHEMA",
    "ITEM_COLUMNS",
    "ITEM_RULES",
    "ITEM_SCHEMA",
    "UNKNOWN",
    "ItemFigures",
    "ItemReport",
    "item_figures",
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
#: The columns of the CSV and JSON after the group's (amounts in minor units, beside ``currency``).
ITEM_COLUMNS: tuple[str, ...] = tuple(c for c in ITEM_SCHEMA if c != "key")

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
* Refund rate: units refunded / units sold, in that group and currency.
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
            + (" (sync the range with --details to read them)" if c["orders_without_items"] else "")
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

    def display_rows(self, *, money: bool = False) -> list[dict[str, Any]]:
        """The rows with the group named as ``by``; amounts in minor units beside ``currency`` (CSV, JSON), or with
        ``money`` as exact major-unit text (the table); the rate as a number (CSV, JSON) or a percent (table)."""
        out = []
        for r in self.rows.iter_rows(named=True):
            cur = r["currency"]
            row: dict[str, Any] = {self.by: r["key"]}
            for c in self.columns[1:]:
                v = r[c]
                if money and c.endswith("_minor"):
                    v = format_minor(v, cur)
                elif c == "refund_rate":
                    v = ("n/a" if v is None else f"{100 * v:.1f}%") if money else (None if v is None else round(v, 6))
                row[c] = v
            out.append(row)
        return out

    def totals(self, *, money: bool = False) -> list[dict[str, Any]]:
        """One Total row per currency (never across currencies), in the columns of :meth:`display_rows`."""
        out = []
        summed = [c for c, t in ITEM_SCHEMA.items() if t.is_integer()]
        agg = self.rows.group_by("currency").agg(pl.col(c).sum() for c in summed).sort("currency")
        for t in agg.iter_rows(named=True):
            cur = t["currency"]
            row: dict[str, Any] = {self.by: "Total", "currency": cur}
            for c in self.columns[1:]:
                if c in summed:
                    row[c] = format_minor(t[c], cur) if money and c.endswith("_minor") else t[c]
                elif c == "refund_rate":
                    rate = t["units_refunded"] / t["units_sold"] if t["units_sold"] else None
                    row[c] = ("n/a" if rate is None else f"{100 * rate:.1f}%") if money else rate
                elif c != "currency":
                    row[c] = ""
            out.append(row)
        return out


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
