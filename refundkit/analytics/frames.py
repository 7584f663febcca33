"""Polars frames of orders, offline refunds (ledger entries) and VTEX-native refunds (return invoices).

Every frame has a fixed schema, also when it has no rows, so reports and charts never special-case "no data".
Money stays in integer minor units (``Int64``) next to its ``currency``; :func:`with_major` adds amounts in major
units as *text* for people to read, never as floats to compute with. Timestamps are ``Datetime("ns", "UTC")`` built
from :attr:`Instant.ns <refundkit.timeutil.Instant.ns>`, so the 100 ns digits VTEX writes survive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from ..money import format_minor
from ..timeutil import Instant

if TYPE_CHECKING:  # types only: a report from the store loads neither the ledger nor VTEX's models
    from ..ledger.model import LedgerEntry
    from ..vtex.models import Order, OrderSummary

__all__ = [
    "GATEWAY_REFUND",
    "LINE_TYPE",
    "NATIVE_REFUNDS_SCHEMA",
    "ORDERS_SCHEMA",
    "REFUNDS_SCHEMA",
    "UTC_NS",
    "charged_totals",
    "entry_lines",
    "native_refunds_frame",
    "native_rows",
    "orders_frame",
    "refunds_frame",
    "with_major",
]

#: The one timestamp type of every frame: nanoseconds, UTC.
UTC_NS = pl.Datetime("ns", "UTC")

ORDERS_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "created_at": UTC_NS,
    "status": pl.String(),
    "currency": pl.String(),
    "total_minor": pl.Int64(),
    "sales_channel": pl.String(),
    "payment_names": pl.String(),
}

#: An offline refund's line (ledger ``RefundLine``): an item's units, or shipping (quantity 0).
LINE_TYPE = pl.Struct(
    {
        "kind": pl.String(),  # "item" | "shipping"
        "sku": pl.String(),
        "unique_id": pl.String(),
        "name": pl.String(),
        "quantity": pl.Int64(),
        "amount_minor": pl.Int64(),
        "line_index": pl.Int64(),  # the order line's position in items[] (null: not said)
    }
)

REFUNDS_SCHEMA: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "order_id": pl.String(),
    "kind": pl.String(),  # an EntryKind: "refund" | "reversal"
    "amount_minor": pl.Int64(),  # always positive
    "signed_minor": pl.Int64(),  # what the entry adds to offline refunds: refund +, reversal −
    "currency": pl.String(),
    "refunded_at": UTC_NS,  # when the money went back (a reversal: when it was recorded)
    "source": pl.String(),
    "external_ref": pl.String(),
    "reason": pl.String(),
    "recorded_by": pl.String(),
    "recorded_at": UTC_NS,
    "reverses": pl.String(),  # a reversal: the refund it undoes
    "reversed_refunded_at": UTC_NS,  # a reversal: refunded_at of that refund, when it is in the same list
    "over_refund": pl.Boolean(),
    "note_status": pl.String(),  # a NoteStatus: "posted" | "pending" (the order note is not written yet)
    # what the entry was for, by item and shipping (a reversal: its refund's lines); []: an amount only; null: read
    # from a store file written before lines were kept. The report splits the entry by them (analytics.split)
    "lines": pl.List(LINE_TYPE),
}

NATIVE_REFUNDS_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "invoice_number": pl.String(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "issued_at": UTC_NS,  # may be null: VTEX does not require an issuance date
    "order_created_at": UTC_NS,
    # what of the amount was for items, when VTEX says (a return invoice whose restitution lists items without
    # freight: all of it); null when it does not: the refund is then not split (refundkit.analytics.split)
    "part_items_minor": pl.Int64(),
}


def _instants(values: Iterable[Instant | None]) -> list[int | None]:
    return [None if v is None else v.ns for v in values]


def _frame(columns: Mapping[str, list[Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Build a frame column by column; timestamps arrive as ``int`` nanoseconds and are cast exactly."""
    data = {}
    for name, dtype in schema.items():
        values = columns[name]
        if dtype == UTC_NS:
            data[name] = pl.Series(name, values, dtype=pl.Int64).cast(UTC_NS)
        else:
            data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data)


def orders_frame(orders: Iterable[OrderSummary]) -> pl.DataFrame:
    """One row per order of the OMS list: ``order_id, created_at, status, currency, total_minor, sales_channel,
    payment_names``. ``total_minor`` is the order total VTEX lists (``totalValue``), in minor units."""
    rows = list(orders)
    return _frame(
        {
            "order_id": [o.order_id for o in rows],
            "created_at": _instants(o.created_at for o in rows),
            "status": [o.status for o in rows],
            "currency": [o.currency for o in rows],
            "total_minor": [o.total.minor for o in rows],
            "sales_channel": [o.sales_channel for o in rows],
            "payment_names": [o.payment_names for o in rows],
        },
        ORDERS_SCHEMA,
    )


def refunds_frame(entries: Iterable[LedgerEntry]) -> pl.DataFrame:
    """One row per ledger entry (offline refunds and their reversals).

    ``amount_minor`` is positive for both kinds; ``signed_minor`` is what the entry adds to the order's offline
    refunds (a refund adds, a reversal takes its refund's amount back). ``reversed_refunded_at`` is, for a reversal,
    the date of the refund it undoes when that refund is in ``entries`` too (reports can then net the mistake out
    where it was made).
    """
    rows = list(entries)
    refunded_at = {e.entry_id: e.refunded_at for e in rows if e.kind == "refund"}  # EntryKind.REFUND
    return _frame(
        {
            "entry_id": [e.entry_id for e in rows],
            "order_id": [e.order_id for e in rows],
            "kind": [str(e.kind) for e in rows],
            "amount_minor": [e.amount.minor for e in rows],
            "signed_minor": [e.signed.minor for e in rows],
            "currency": [e.amount.currency for e in rows],
            "refunded_at": _instants(e.refunded_at for e in rows),
            "source": [e.source for e in rows],
            "external_ref": [e.external_ref for e in rows],
            "reason": [e.reason for e in rows],
            "recorded_by": [e.recorded_by for e in rows],
            "recorded_at": _instants(e.recorded_at for e in rows),
            "reverses": [e.reverses for e in rows],
            "reversed_refunded_at": _instants(refunded_at.get(e.reverses) if e.reverses else None for e in rows),
            "over_refund": [e.over_refund for e in rows],
            "note_status": [str(e.note_status) for e in rows],
            "lines": [entry_lines(e) for e in rows],
        },
        REFUNDS_SCHEMA,
    )


def entry_lines(entry: LedgerEntry) -> list[dict[str, Any]]:
    """A ledger entry's lines as values of :data:`LINE_TYPE`."""
    return [
        {
            "kind": line.kind,
            "sku": line.sku,
            "unique_id": line.unique_id,
            "name": line.name,
            "quantity": line.quantity,
            "amount_minor": line.amount.minor,
            "line_index": line.line_index,
        }
        for line in entry.lines
    ]


#: ``invoice_number`` of the row that stands for refunds made on the payment without a return invoice.
GATEWAY_REFUND = "payment refund (no invoice)"


def native_rows(orders: Iterable[Order]) -> list[dict[str, Any]]:
    """One row per refund VTEX made on the given full orders, each counted once (README "VTEX's own refunds"):
    a return invoice at its refunded amount (its restitution when VTEX sent one — the same money, never added), and,
    when the order's payment transaction was read, one row :data:`GATEWAY_REFUND` for what the gateway refunded that
    no return invoice or order change explains — the order's *share* when its order group shares the transaction,
    so the group's refund is never counted twice — dated by the transaction's last refund (``refundingDate``, read
    as UTC). Order changes have no row: they already lowered the order's value, which is what gross counts.

    Each row also has ``items``: the units a return invoice lists (``sku, unique_id, quantity, amount_minor,
    line_index``), which the order store keeps (not a column of :data:`NATIVE_REFUNDS_SCHEMA`)."""
    rows: list[dict[str, Any]] = []
    for o in orders:
        for inv in o.return_invoices:
            rows.append(
                {
                    "order_id": o.order_id,
                    "invoice_number": inv.invoice_number,
                    "amount_minor": inv.refunded.minor,
                    "currency": inv.refunded.currency,
                    "issued_at": None if inv.issued_at is None else inv.issued_at.ns,
                    "order_created_at": o.created_at.ns,
                    "part_items_minor": inv.refunded.minor if inv.items_only else None,
                    "items": [
                        {
                            "sku": i.sku,
                            "unique_id": i.unique_id,
                            "quantity": i.quantity,
                            "amount_minor": None if i.amount is None else i.amount.minor,
                            "line_index": i.line_index,
                        }
                        for i in inv.items
                    ],
                }
            )
        gateway = o.gateway_share
        if gateway.minor:
            when = o.gateway.refunded_at if o.gateway is not None else None
            rows.append(
                {
                    "order_id": o.order_id,
                    "invoice_number": GATEWAY_REFUND,
                    "amount_minor": gateway.minor,
                    "currency": gateway.currency,
                    "issued_at": None if when is None else when.ns,
                    "order_created_at": o.created_at.ns,
                    "part_items_minor": None,
                    "items": [],  # a payment refund names no units
                }
            )
    return rows


def native_refunds_frame(orders: Mapping[str, Order] | Iterable[Order]) -> pl.DataFrame:
    """One row per refund VTEX itself made on the given full orders (:func:`native_rows`):
    ``order_id, invoice_number, amount_minor, currency, issued_at, order_created_at, part_items_minor``."""
    values = orders.values() if isinstance(orders, Mapping) else orders
    rows = native_rows(values)
    return _frame({name: [r[name] for r in rows] for name in NATIVE_REFUNDS_SCHEMA}, NATIVE_REFUNDS_SCHEMA)


def charged_totals(orders: pl.DataFrame, returns: pl.DataFrame, reading: str) -> pl.DataFrame:
    """``orders`` with ``total_minor`` as what was charged, the base of gross: VTEX's value as it is when it keeps
    what was charged after a return invoice (``reading`` ``kept``); value plus the order's return invoices (the rows
    of ``returns`` other than :data:`GATEWAY_REFUND`) when VTEX already lowered it by them (``reduced``). Either way
    each return is then subtracted once, as a VTEX refund (see :mod:`refundkit.ledger.valueverdict`)."""
    if reading != "reduced" or not orders.height or not returns.height:
        return orders
    back = (
        returns.filter(pl.col("invoice_number") != GATEWAY_REFUND)
        .group_by("order_id")
        .agg(pl.col("amount_minor").sum().alias("_returned"))
    )
    return (
        orders.join(back, on="order_id", how="left", maintain_order="left")
        .with_columns((pl.col("total_minor") + pl.col("_returned").fill_null(0)).cast(pl.Int64).alias("total_minor"))
        .drop("_returned")
    )


def with_major(df: pl.DataFrame, *columns: str, currency: str = "currency") -> pl.DataFrame:
    """Add, for each ``<name>_minor`` column, a text column ``<name>`` with the amount in major units
    (``12345`` BRL → ``"123.45"``), for display. With no ``columns``, every ``*_minor`` column.

    The text is exact (integer arithmetic); do not parse it back to compute with.
    """
    names = list(columns) or [c for c in df.columns if c.endswith("_minor")]
    if not names:
        return df
    currencies = df.get_column(currency).to_list()
    added = []
    for name in names:
        label = name.removesuffix("_minor") if name.endswith("_minor") else f"{name}_major"
        values = df.get_column(name).to_list()
        added.append(
            pl.Series(
                label,
                [
                    None if m is None or c is None else format_minor(m, c)
                    for m, c in zip(values, currencies, strict=True)
                ],
                dtype=pl.String,
            )
        )
    return df.with_columns(added)
