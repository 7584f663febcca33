"""Gross split by component (items, discounts, shipping, tax, order changes, other totals), and refunds split the
same way where VTEX or an offline refund's lines say what they were for. Every figure's split columns come from here.

An order's gross is split by VTEX's ``totals`` (their ids, never their localised names), as the local order store
keeps them when synced with details (``refundkit sync --details``): ``Items``, ``Discounts`` (zero or less),
``Shipping``, ``Tax``, ``Change`` (order modifications, as VTEX's own example of an order's totals shows) and every
other id, summed under *other totals* and named in the report's warnings. The split is exact or not made:

* an order is split when the store holds its details and its totals add up, to the unit, to what gross counts for
  it (its value; under the ``reduced`` value reading, its value plus its return invoices, see
  :func:`~refundkit.analytics.frames.charged_totals`);
* otherwise (no details, totals that miss a component, a value changed since the details were read, such as by an
  order change VTEX left out of the totals) its whole gross goes to *gross not split*, and the order is counted in
  *orders not split*. Nothing is dropped: each row's parts plus what is not split are its gross.

Refunds are split where the data allows. A VTEX return invoice whose restitution lists the returned items, none a
compensation and each without freight (``useFreight`` false), is all *refunded items* (at the price paid, discounts
and tax included). An offline refund recorded by item or shipping (``refundkit record --item ... --shipping``) is
split by its lines: its item lines are *refunded items*, its shipping line *refunded shipping* (a partial
``--amount`` scales the lines to it exactly), provided its lines add up exactly to its amount; a reversal takes back
the same parts as its refund. Anything else — a return invoice that includes freight, lists no items or does not
say; a refund made on the payment without an invoice; an offline refund recorded by amount only, or kept in a local
store file written before refunds by item — is *refunds not split*. A refund line's ``part_items_minor`` and
``part_shipping_minor`` (null: unknown) carry the split: :func:`offline_parts` fills them for the ledger's entries.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ..money import Money, format_money
from ..vtex.known import KNOWN_TOTAL_IDS

if TYPE_CHECKING:
    from ..vtex.models import Order

__all__ = [
    "GROSS_NOT_SPLIT",
    "GROSS_PARTS",
    "KNOWN_TOTALS",
    "ORDERS_NOT_SPLIT",
    "ORDER_INPUTS",
    "REFUNDS_NOT_SPLIT",
    "REFUND_PARTS",
    "SPLIT_COLUMNS",
    "SPLIT_TERMS",
    "SUMMED_ORDER_COLUMNS",
    "TOTALS_SCHEMA",
    "UNKNOWN_TOTALS_COLUMNS",
    "Part",
    "offline_parts",
    "order_parts",
    "refund_part_sums",
    "split_lines",
    "totals_row",
    "unknown_totals_line",
    "with_totals",
]


@dataclass(frozen=True)
class Part:
    """One part of a split: ``name`` (its column in the figures, ``*_minor``), ``label`` in words, ``source`` (the
    column it is read from: the store's order column, or a refund line's), ``meaning`` (for the definitions)."""

    name: str
    label: str
    source: str
    meaning: str

    @property
    def stem(self) -> str:
        return self.name.removesuffix("_minor")


#: Gross by component, in order: each an order total of VTEX's, by its id.
GROSS_PARTS: tuple[Part, ...] = (
    Part("gross_items_minor", "items", "items_minor", "VTEX's Items total: the items at their price before discounts."),
    Part(
        "gross_discounts_minor",
        "discounts",
        "discounts_minor",
        "VTEX's Discounts total: promotions and coupons, zero or negative.",
    ),
    Part("gross_shipping_minor", "shipping", "shipping_minor", "VTEX's Shipping total: what the customer paid for it."),
    Part("gross_tax_minor", "tax", "tax_minor", "VTEX's Tax total (zero where prices include tax)."),
    Part(
        "gross_changes_minor",
        "order changes",
        "change_minor",
        "VTEX's Change total: what order modifications (items removed or added after the order was placed) changed; "
        "negative when they lowered the order.",
    ),
    Part(
        "gross_other_minor",
        "other totals",
        "other_totals_minor",
        "the order totals whose id refundkit does not know, summed; the report's warnings name them and count their "
        "orders.",
    ),
)
#: Gross of the orders whose totals do not split it exactly (whole orders), and how many they are.
GROSS_NOT_SPLIT = "gross_not_split_minor"
ORDERS_NOT_SPLIT = "orders_not_split"
#: Refunds by component, where VTEX or the ledger says (see the module); the rest is :data:`REFUNDS_NOT_SPLIT`.
REFUND_PARTS: tuple[Part, ...] = (
    Part(
        "refunds_items_minor",
        "refunded items",
        "part_items_minor",
        "refunds VTEX's return invoices state are for items only (restitution items, no freight), and the item lines "
        "of offline refunds recorded by item, at the price paid (a refund of a lower amount scales its lines down to "
        "it; a reversal takes its refund's back).",
    ),
    Part(
        "refunds_shipping_minor",
        "refunded shipping",
        "part_shipping_minor",
        "the shipping lines of offline refunds recorded with shipping (a reversal takes its refund's back). A VTEX "
        "return invoice that includes freight does not say how much of it was freight: it is under Refunds not split.",
    ),
)
REFUNDS_NOT_SPLIT = "refunds_not_split_minor"

#: The split columns of every figure, in order (integer minor units, but the count).
SPLIT_COLUMNS: tuple[str, ...] = (
    *(p.name for p in GROSS_PARTS),
    GROSS_NOT_SPLIT,
    ORDERS_NOT_SPLIT,
    *(p.name for p in REFUND_PARTS),
    REFUNDS_NOT_SPLIT,
)
#: The columns :func:`order_parts` adds to each order, summed per period wherever gross is summed.
SUMMED_ORDER_COLUMNS: tuple[str, ...] = (*(p.name for p in GROSS_PARTS), GROSS_NOT_SPLIT, ORDERS_NOT_SPLIT)
#: The order columns the split reads (the store's, with details).
ORDER_INPUTS: tuple[str, ...] = ("has_details", *(p.source for p in GROSS_PARTS))
#: VTEX's order totals by id, and the order column each is kept in (``Change``: order modifications, as VTEX's own
#: example of an order's totals shows); every other id is summed into ``other_totals_minor`` and named in
#: ``other_totals_ids``.
KNOWN_TOTALS: dict[str, str] = dict(
    zip(
        KNOWN_TOTAL_IDS,
        ("items_minor", "discounts_minor", "shipping_minor", "tax_minor", "change_minor"),
        strict=True,
    )
)
TOTALS_SCHEMA: dict[str, pl.DataType] = {
    **{c: pl.Int64() for c in KNOWN_TOTALS.values()},
    "other_totals_minor": pl.Int64(),
    "other_totals_ids": pl.List(pl.String()),
}


def totals_row(totals: Mapping[str, Money]) -> dict[str, Any]:
    """An order's ``totals`` (by id) as the order columns of :data:`TOTALS_SCHEMA`: a known id missing reads as
    zero (the split then holds only if the rest adds up to the value)."""
    other = {k: v.minor for k, v in totals.items() if k not in KNOWN_TOTALS}
    return {
        **{column: totals[k].minor if k in totals else 0 for k, column in KNOWN_TOTALS.items()},
        "other_totals_minor": sum(other.values()),
        "other_totals_ids": sorted(other),
    }


def with_totals(orders: pl.DataFrame, full: Mapping[str, Order] | Iterable[Order]) -> pl.DataFrame:
    """``orders`` (one row per order of the list) with the split's columns from the orders read in full among
    ``full`` (``has_details`` true), as the local order store keeps them; the others have none."""
    values = full.values() if isinstance(full, Mapping) else full
    rows = [{"order_id": o.order_id, **totals_row(o.totals)} for o in values]
    schema = {"order_id": pl.String(), **TOTALS_SCHEMA}
    details = pl.DataFrame(rows, schema=schema).unique("order_id", keep="last")
    joined = orders.drop([c for c in ("has_details", *schema) if c in orders.columns and c != "order_id"])
    joined = joined.join(details.with_columns(pl.lit(True).alias("has_details")), on="order_id", how="left")
    return joined.with_columns(pl.col("has_details").fill_null(False))


#: The parts every detailed order has (older store files may lack the others: they read as zero).
_REQUIRED = ("items_minor", "discounts_minor", "shipping_minor", "tax_minor")


def order_parts(columns: Collection[str], total: str = "total_minor") -> list[pl.Expr]:
    """Per order (a frame with ``columns``): each of :data:`SUMMED_ORDER_COLUMNS`. The parts are the order's totals
    when it has details and they add up exactly to ``total`` (what gross counts for it); else the parts are zero,
    :data:`GROSS_NOT_SPLIT` is ``total`` and :data:`ORDERS_NOT_SPLIT` is 1."""
    names = set(columns)
    if not {"has_details", *_REQUIRED} <= names:
        ok = pl.lit(False)
        values = [pl.lit(0, dtype=pl.Int64) for _ in GROSS_PARTS]
    else:
        # a detailed order always has the four; the later ones read as zero in files written before they were kept
        values = [pl.col(p.source) if p.source in _REQUIRED else _or_zero(p.source, names) for p in GROSS_PARTS]
        added = values[0]
        for v in values[1:]:
            added = added + v
        ok = pl.col("has_details").fill_null(False) & pl.all_horizontal(pl.col(c).is_not_null() for c in _REQUIRED)
        ok = ok & (added == pl.col(total)).fill_null(False)
    return [
        *(
            pl.when(ok).then(v).otherwise(0).cast(pl.Int64).alias(p.name)
            for p, v in zip(GROSS_PARTS, values, strict=True)
        ),
        pl.when(ok).then(0).otherwise(pl.col(total)).cast(pl.Int64).alias(GROSS_NOT_SPLIT),
        pl.when(ok).then(0).otherwise(1).cast(pl.Int64).alias(ORDERS_NOT_SPLIT),
    ]


def _or_zero(column: str, names: Collection[str]) -> pl.Expr:
    return pl.col(column).fill_null(0) if column in names else pl.lit(0, dtype=pl.Int64)


def refund_part_sums(amount: str = "amount_minor") -> list[pl.Expr]:
    """Aggregations over refund lines (each with ``part_items_minor`` and ``part_shipping_minor``, null where
    unknown): each of :data:`REFUND_PARTS` and :data:`REFUNDS_NOT_SPLIT`, which together are the sum of
    ``amount``."""
    parts = [pl.col(p.source).fill_null(0).sum().cast(pl.Int64) for p in REFUND_PARTS]
    rest = pl.col(amount).sum().cast(pl.Int64)
    for p in parts:
        rest = rest - p
    return [*(e.alias(p.name) for p, e in zip(REFUND_PARTS, parts, strict=True)), rest.alias(REFUNDS_NOT_SPLIT)]


def offline_parts(columns: Collection[str]) -> list[pl.Expr]:
    """Per ledger entry (a frame with ``columns``: ``amount_minor``, ``signed_minor`` and, when kept, ``lines``): its
    ``part_items_minor`` and ``part_shipping_minor`` from its lines, with the entry's sign (a reversal takes back its
    refund's lines). Both are null (the entry is not split) unless the entry has lines, each of kind ``item`` or
    ``shipping``, whose amounts add up exactly to the entry's amount: an amount-only refund has none, an entry read
    from a file written before lines were kept has null."""
    if "lines" not in columns:
        return [pl.lit(None, dtype=pl.Int64).alias(p.source) for p in REFUND_PARTS]
    kinds = {"part_items_minor": "item", "part_shipping_minor": "shipping"}

    def of_kind(kind: str | None) -> pl.Expr:
        line = pl.element()
        picked = line if kind is None else line.filter(line.struct.field("kind") == kind)
        return pl.col("lines").list.eval(picked.struct.field("amount_minor")).list.sum().cast(pl.Int64)

    sums = {p.source: of_kind(kinds[p.source]) for p in REFUND_PARTS}
    stated = sums["part_items_minor"] + sums["part_shipping_minor"]
    ok = (
        (pl.col("lines").list.len().fill_null(0) > 0) & (stated == of_kind(None)) & (stated == pl.col("amount_minor"))
    ).fill_null(False)
    sign = pl.when(pl.col("signed_minor") < 0).then(-1).otherwise(1)
    return [pl.when(ok).then(v * sign).otherwise(None).cast(pl.Int64).alias(k) for k, v in sums.items()]


#: The order columns :func:`unknown_totals_line` reads (with the status and currency that select the orders).
UNKNOWN_TOTALS_COLUMNS: tuple[str, ...] = ("status", "currency", "other_totals_ids", "other_totals_minor")


def unknown_totals_line(orders: pl.DataFrame) -> str | None:
    """One warning naming the order totals refundkit does not know, with how many orders carry each and their sum
    per currency; ``None`` when there are none. ``orders``: the counted orders (``currency``,
    ``other_totals_ids``, ``other_totals_minor``; a frame without them has none)."""
    if "other_totals_ids" not in orders.columns or not orders.height:
        return None
    odd = orders.filter(pl.col("other_totals_ids").list.len().fill_null(0) > 0)
    if not odd.height:
        return None
    ids = (
        odd.select(pl.col("other_totals_ids").explode().alias("id"))
        .group_by("id")
        .agg(pl.len().alias("n"))
        .sort("n", "id", descending=[True, False])
    )
    named = ", ".join(
        f"{r['id']} ({r['n']:,} {'order' if r['n'] == 1 else 'orders'})" for r in ids.iter_rows(named=True)
    )
    sums = odd.group_by("currency").agg(pl.col("other_totals_minor").fill_null(0).sum().alias("m")).sort("currency")
    money = ", ".join(format_money(r["m"], r["currency"]) for r in sums.iter_rows(named=True))
    return (
        f"{odd.height:,} orders carry order totals refundkit does not know: {named}; {money} in all, under Other "
        "totals where the order's totals add up to its value"
    )


def split_lines(rows: pl.DataFrame) -> str | None:
    """One warning when some orders' gross is split and some is not (``None`` otherwise: all split, or none, as
    when the store was synced without details, which the definitions explain), from figures' rows."""
    if ORDERS_NOT_SPLIT not in rows.columns or rows.select(pl.col(ORDERS_NOT_SPLIT).sum()).item() in (
        0,
        rows.select(pl.col("orders").sum()).item(),
    ):
        return None
    sums = (
        rows.group_by("currency")
        .agg(pl.col(ORDERS_NOT_SPLIT).sum().alias("n"), pl.col(GROSS_NOT_SPLIT).sum().alias("m"))
        .filter(pl.col("n") > 0)
        .sort("currency")
    )
    if not sums.height:
        return None
    parts = "; ".join(
        f"{r['n']:,} {'order' if r['n'] == 1 else 'orders'} for {format_money(r['m'], r['currency'])}"
        for r in sums.iter_rows(named=True)
    )
    return (
        f"gross not split by component: {parts} (orders synced without --details, or whose totals do not add up to "
        "their value): under Gross not split"
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _terms() -> Sequence[tuple[str, str]]:
    return (
        *((_capital(p.label), p.meaning) for p in GROSS_PARTS),
        (
            "Gross not split",
            (
                "the gross of the orders whose totals do not split it exactly: orders synced without details (run "
                "`refundkit sync --details`), or whose totals do not add up to what gross counts for them (a component "
                "missing, or a value that changed after the details were read). Items + Discounts + Shipping + Tax + "
                "Order changes + Other totals + Gross not split = Gross, on every row and every Total."
            ),
        ),
        ("Orders not split", "how many orders make up Gross not split."),
        *((_capital(p.label), p.meaning) for p in REFUND_PARTS),
        (
            "Refunds not split",
            (
                "the refunds whose parts no source states: VTEX return invoices that include freight, list no items or "
                "do not say; VTEX refunds on the payment without a return invoice; offline refunds recorded by amount "
                "only (not by item or shipping), or whose lines do not add up to their amount, and their reversals; "
                "and offline refunds read from a local store file written before refunds by item (a report run "
                "without --no-sync reads its range's again). Discounts and tax are never split out of a refund: an "
                "item refund is at the price paid. Refunded items + Refunded shipping + Refunds not split = VTEX "
                "refunds + Offline refunds."
            ),
        ),
    )


#: Each split column in words and what it means (for the definitions sheet and the README).
SPLIT_TERMS: tuple[tuple[str, str], ...] = tuple(_terms())
