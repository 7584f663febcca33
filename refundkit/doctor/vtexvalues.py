"""Doctor checks of how VTEX states money and dates that its documentation leaves open:

* ``value-after-return`` — whether an order's ``value`` already excludes its return invoices
  (:func:`refundkit.ledger.valueverdict.reading_of` on up to :data:`ORDERS_TO_READ` orders the list shows with one);
  the verdict is saved under the cache dir and followed by balances, reports and trends;
* ``item-prices`` — which of an order's item fields tell what each line paid (``priceDefinition.total``,
  ``sellingPrice``, or ``price`` less the lines' ``priceTags``), on up to :data:`ORDERS_TO_READ` recent orders
  (:func:`refundkit.vtex.models.lines_paid`; refunds by item default to that price);
* ``gateway-dates`` — the zone of the Payments Gateway's dates, which VTEX sends without one: a transaction's
  ``authorizationDate`` (read as UTC, as refundkit reads ``refundingDate``) against its order's ``authorizedDate``
  (which carries an offset).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import RefundkitError, VtexError
from ..ledger.valueverdict import ValueVerdict, reading_of, save_value_verdict
from ..money import AmountError
from ..timeutil import Instant, parse_instant
from ..vtex import Order, VtexClient
from ..vtex.models import GATEWAY_DATES_ZONE, GatewayTransaction, lines_paid
from .report import Check, Status

__all__ = ["LATER_ROWS", "ORDERS_TO_READ", "gateway_dates", "item_prices", "value_after_return"]

#: Orders with a return invoice read, at most, to find one whose value tells the reading.
ORDERS_TO_READ = 5
#: The rows these checks add (for the rows shown as skipped when the credentials fail).
LATER_ROWS = [
    ("value-after-return", "Order value after a return invoice"),
    ("gateway-dates", "Time zone of the payment gateway's dates"),
    ("item-prices", "Price paid per order line"),
]
_TOLERANCE_NS = 5 * 60 * 10**9  # authorization on the order and on the transaction: the same event, give or take


def value_after_return(client: VtexClient, verdict_dir: Path | None, now: Callable[[], Instant]) -> Check:
    """Find out on real orders whether ``value`` already excludes the returned amount; save and follow the verdict."""
    key, title = LATER_ROWS[0]
    try:
        # through the Orders API the account answers on (classic, or the PII data architecture's read-only search)
        body = client.orders.api.list_page(
            client.transport,
            {
                "orderBy": "creationDate,desc",
                "page": "1",
                "per_page": str(ORDERS_TO_READ),
                "incompleteOrders": "false",
                "f_hasInputInvoice": "true",
            },
        )
    except VtexError as exc:
        return Check(key, title, Status.SKIPPED, f"the orders with a return invoice could not be listed: {exc}", "")
    rows = body.get("list") if isinstance(body, dict) else None
    ids = [r["orderId"] for r in rows or [] if isinstance(r, dict) and isinstance(r.get("orderId"), str)]
    found: list[tuple[str, int, int, str, str]] = []
    unclear: list[str] = []
    for oid in ids[:ORDERS_TO_READ]:
        try:
            order: Order = client.orders.get(oid, gateway=False)
        except (VtexError, RefundkitError, AmountError) as exc:
            unclear.append(f"order {oid} could not be read: {exc}")
            continue
        reading, charged, returned, what = reading_of(order)
        if reading is None:
            unclear.append(what)
            continue
        found.append((reading, charged, returned, what, oid))
        if len(found) == 2:
            break
    if not found:
        return Check(
            key,
            title,
            Status.SKIPPED if not unclear else Status.WARN,
            "no order with a return invoice to compare" if not unclear else f"no order told: {unclear[0]}",
            "refundkit reads value as kept (returns subtracted from it) until an order tells; run doctor again "
            "after the next return invoice",
        )
    readings = {f[0] for f in found}
    if len(readings) > 1:
        return Check(
            key,
            title,
            Status.FAIL,
            "orders disagree: " + "; ".join(f"{f[3]} → {f[0]}" for f in found),
            "refundkit keeps its reading (returns subtracted from value); report these orders to refundkit's "
            "maintainers and do not trust net revenue until then",
        )
    reading, charged, returned, what, order_id = found[0]
    verdict = ValueVerdict(
        account=client.settings.account or "account",
        checked_at=now().to_datetime(),
        reading=reading,
        order_id=order_id,
        value_minor=charged - (returned if reading == "reduced" else 0),
        charged_minor=charged,
        returned_minor=returned,
    )
    saved = ""
    if verdict_dir is not None:
        try:
            save_value_verdict(verdict_dir, verdict)
            saved = "; verdict saved, balances and reports follow it"
        except OSError as exc:
            saved = f"; the verdict could not be saved ({exc})"
    client.orders.value_reading = reading
    meaning = (
        "value already excludes the returned amount: refundkit adds the returns back to get what was charged, and "
        "subtracts each return once"
        if reading == "reduced"
        else "value keeps what was charged: refundkit subtracts each return from it once"
    )
    return Check(
        key,
        title,
        Status.PASS,
        f"{what}: {meaning}{saved}",
        figures={"reading": reading, "order_id": order_id, "charged_minor": charged, "returned_minor": returned},
    )


def gateway_dates(order_body: Any, client: VtexClient) -> Check:
    """Compare one transaction's ``authorizationDate`` (no zone; read as UTC) with its order's ``authorizedDate``."""
    key, title = LATER_ROWS[1]
    assumed = f"refundkit reads the gateway's dates (refundingDate too) as {GATEWAY_DATES_ZONE}"
    if not client.settings.check_gateway:
        return Check(key, title, Status.SKIPPED, "not checked: REFUNDKIT_GATEWAY_REFUNDS=off", "")
    try:
        order = Order.from_vtex(order_body, mode=client.settings.zero_decimal_amounts)
        raw = order_body.get("authorizedDate")
        authorized = parse_instant(raw) if isinstance(raw, str) and raw else None
    except (RefundkitError, AmountError, ValueError, AttributeError, TypeError):
        order, authorized = None, None
    if order is None or not order.transaction_ids or authorized is None:
        return Check(
            key,
            title,
            Status.SKIPPED,
            f"no authorized order with a payment transaction to compare; {assumed}",
            "run doctor again later",
        )
    tid = order.transaction_ids[0]
    try:
        tx: GatewayTransaction = client.payments.transaction(tid, order.currency)
    except (VtexError, RefundkitError) as exc:
        return Check(
            key, title, Status.SKIPPED, f"transaction {tid} could not be read ({exc}); {assumed}", "see the row above"
        )
    if tx.authorized_at is None:
        return Check(key, title, Status.SKIPPED, f"transaction {tid} shows no authorizationDate; {assumed}", "")
    diff = tx.authorized_at.ns - authorized.ns
    hours = round(diff / 3_600_000_000_000 * 2) / 2  # display only: the offset to the half hour
    figures = {"order_id": order.order_id, "transaction_id": tid, "difference_s": diff // 10**9}
    if abs(diff) <= _TOLERANCE_NS:
        return Check(
            key,
            title,
            Status.PASS,
            f"order {order.order_id}: the transaction's authorizationDate matches the order's authorizedDate when "
            f"read as {GATEWAY_DATES_ZONE}; {assumed}",
            figures=figures,
        )
    return Check(
        key,
        title,
        Status.WARN,
        f"order {order.order_id}: the transaction's authorizationDate read as {GATEWAY_DATES_ZONE} is "
        f"{hours:+g} h from the order's authorizedDate; the gateway seems to write its dates at UTC{hours:+g}",
        f"{assumed}: gateway refunds without an invoice may then fall {abs(hours):g} h off, in the day of the "
        "refund-date view; compare a refund's date in the VTEX Admin",
        figures,
    )


_READING_WORDS = {
    "fields": "priceDefinition.total (else sellingPrice × quantity) adds up to the order's Items + Discounts",
    "priceTags": "sellingPrice leaves out a promotion that price less the lines' priceTags takes off",
    "spread": "no item field adds up to the order's Items + Discounts",
    "no-totals": "the order gives no Items and Discounts totals to check the lines against",
}


def item_prices(client: VtexClient) -> Check:
    """Read a few recent orders and say which item fields tell what each line paid (:func:`lines_paid`)."""
    key, title = LATER_ROWS[2]
    try:
        body = client.orders.api.list_page(
            client.transport,
            {"orderBy": "creationDate,desc", "page": "1", "per_page": str(ORDERS_TO_READ * 2)},
        )
    except VtexError as exc:
        return Check(key, title, Status.SKIPPED, f"orders could not be listed: {exc}", "")
    rows = body.get("list") if isinstance(body, dict) else None
    ids = [r["orderId"] for r in rows or [] if isinstance(r, dict) and isinstance(r.get("orderId"), str)]
    seen: dict[str, list[str]] = {}
    for oid in ids:
        if sum(len(v) for v in seen.values()) >= ORDERS_TO_READ:
            break
        try:
            order: Order = client.orders.get(oid, gateway=False)
        except (VtexError, RefundkitError, AmountError):
            continue
        raw = order.raw
        items = [it for it in raw.get("items") or [] if isinstance(it, dict)]
        if not items:
            continue
        totals: dict[str, int] = {
            str(t.get("id")): v
            for t in raw.get("totals") or []
            if isinstance(t, dict) and isinstance(v := t.get("value"), int) and not isinstance(v, bool)
        }
        _paid, how = lines_paid(items, totals)
        seen.setdefault(how, []).append(oid)
    if not seen:
        return Check(key, title, Status.SKIPPED, "no order with items to read", "run doctor again once there is one")
    figures = {how: len(oids) for how, oids in seen.items()}
    told = "; ".join(
        f"{len(oids)} order(s) ({', '.join(oids[:2])}): {_READING_WORDS[how]}" for how, oids in seen.items()
    )
    if "spread" in seen or "no-totals" in seen:
        return Check(
            key,
            title,
            Status.WARN,
            f"{told}. refundkit then spreads the order's Items + Discounts over its lines in proportion",
            "a refund by item defaults to that price: compare one with the order in the VTEX Admin, and give the "
            "amount (--amount) where it differs",
            figures,
        )
    return Check(key, title, Status.PASS, f"{told}: a refund by item defaults to that price", figures=figures)
