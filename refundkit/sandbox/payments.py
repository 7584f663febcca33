"""VTEX's other refunds in the sandbox: order changes, restitutions, gateway refunds, and the Payments read endpoint.

``GET /api/pvt/transactions/{transactionId}`` answers as the Payments Gateway does (spec
``TransactionDetailsResponse``): ``value`` is what was paid, ``totalRefunds`` everything the gateway gave back — the
refunds triggered by return invoices, the difference of an order change made after settlement, and refunds made in
the gateway without any invoice. ``SandboxConfig.payments_permission=False`` answers 403, as VTEX does for an app key
without *View Payment Data*. A boleto order's return invoices are not in ``totalRefunds``: the gateway cannot
pay boleto money back, the merchant does it by hand. Every POST to a Payments path stays a tripwire (see
:mod:`refundkit.sandbox.server`).

:class:`~refundkit.sandbox.adjustments.Adjustment` is how a test (or :meth:`Store.adjust`) gives one order such a
history:

- ``changes``: order modifications; VTEX lowers the order's ``value`` (list ``totalValue`` too) by
  ``discount − increment`` and shows them in ``changesAttachment``. With ``change_settled=True`` the payment was
  settled first, so the gateway refunded the difference (it is in ``totalRefunds`` and the transaction keeps its
  value); otherwise the transaction's value itself went down;
- ``gateway_refund``: cents refunded in the gateway with no return invoice (only ``totalRefunds`` shows it);
- ``restitutions``: per return-invoice number, a ``restitutions.Refund.value`` different from ``invoiceValue``;
- ``patch``: a function applied to the order's JSON (detail and list row) — to send a malformed order, another
  currency, and so on.

What a real account's transactions may look like, each a :class:`SandboxConfig` field and a flag:

- ``order_groups`` (``--order-groups N``): N carts split into 2-3 orders (``{group}-01``, ``-02``...) sharing one
  ``orderGroup`` and one payment transaction; each order lists the whole transaction's payments (as VTEX's own
  example of an order group does), the transaction's ``value`` and ``totalRefunds`` are the whole group's, and
  ``GET /api/oms/pvt/orders/order-group/{orderGroup}`` answers the group's orders;
- ``installment_interest`` (``--installment-interest``): a card payment in n installments costs 1.99 % a month
  beyond the first, rounded down: the payment's ``value`` and the transaction's ``value`` carry it, its
  ``referenceValue`` and the orders' ``value`` do not, and the gateway refunds with interest (an amount x of the
  order is ``x + x·rate`` on the transaction, rounded down) — except ``gateway_refund``, which is in the
  transaction's own terms;
- ``foreign_payments`` (``--foreign-payments N``): N orders whose transaction is another account's (a marketplace
  order's): reading it answers 403 while every other transaction answers;
- ``gateway_dates_offset_h`` (``--gateway-dates-offset-h H``): the gateway's zone-less dates written at UTC+H;
- ``value_after_return`` (``--value-after-return kept|reduced``): the order's ``value`` (and the list's
  ``totalValue``) after a return invoice: what was charged (the default), or lowered by the returned amount;
- ``totals_change`` (``--totals-change absent|listed``): an order change shows in the order's ``totals`` as a
  ``Change`` total (``listed``, as VTEX's own example of an order's details does), or the totals stay as at
  checkout (``absent``, the default), no longer adding up to the lowered ``value``;
- ``unknown_totals`` (``--unknown-totals N``): N invoiced orders whose ``totals`` carry an id nobody documents
  (``unknown_total_id``, ``Fees``) holding a twentieth of their Items total; the value is unchanged.
"""

from __future__ import annotations

import argparse
import copy
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, get_args

from refundkit.argtypes import number, positive_int
from refundkit.timeutil import Instant

from .adjustments import Adjustment, transaction_id_for
from .config import SandboxConfig, TotalsChange, ValueAfterReturn
from .http import Request, Response, json_response, oms_error
from .store import OrderSummary, Store

__all__ = [
    "add_payments_flags",
    "apply_totals",
    "get_order_group",
    "get_transaction",
    "interest_of",
    "payments_options",
]

#: Interest a month beyond the first installment, in hundredths of a percent (1.99 %).
INTEREST_BP_PER_MONTH = 199


def current_value(o: OrderSummary, adj: Adjustment | None) -> int:
    return o.total_cents - (adj.reduction if adj else 0)


def apply_to_detail(body: dict[str, Any], o: OrderSummary, adj: Adjustment | None) -> dict[str, Any]:
    if adj is None:
        return body
    body = copy.deepcopy(body)
    if adj.changes:
        body["value"] = current_value(o, adj)
        body["changesAttachment"] = {
            "id": "changeAttachment",
            "changesData": [
                {
                    "reason": c.reason,
                    "discountValue": c.discount,
                    "incrementValue": c.increment,
                    "itemsAdded": [],
                    "itemsRemoved": [],
                    "receipt": {
                        "date": (c.at or o.created).isoformat(7),
                        "orderId": o.order_id,
                        "receipt": uuid.uuid5(uuid.NAMESPACE_URL, f"{o.order_id}:{i}").hex,
                    },
                }
                for i, c in enumerate(adj.changes)
            ],
        }
    for pkg in (body.get("packageAttachment") or {}).get("packages") or []:
        number = pkg.get("invoiceNumber")
        if pkg.get("type") == "Input" and number in adj.restitutions:
            pkg.setdefault("restitutions", {}).setdefault("Refund", {"giftCardData": None, "items": []})
            pkg["restitutions"]["Refund"]["value"] = adj.restitutions[number]
    if adj.patch is not None:
        adj.patch(body)
    return body


def apply_to_row(row: dict[str, Any], o: OrderSummary, adj: Adjustment | None) -> dict[str, Any]:
    if adj is None:
        return row
    row = dict(row)
    if adj.changes:
        row["totalValue"] = current_value(o, adj)
    if adj.patch is not None:
        adj.patch(row)
    return row


def interest_of(installments: int, amount: int, enabled: bool) -> int:
    """The interest on ``amount`` cents paid in ``installments`` (0 unless ``enabled``), rounded down."""
    if not enabled or installments <= 1:
        return 0
    return amount * INTEREST_BP_PER_MONTH * (installments - 1) // 10_000


def transaction_json(store: Store, o: OrderSummary) -> dict[str, Any]:
    """The transaction of ``o``'s order group: the group's value and refunds, interest included."""
    members = store.group_orders(o.order_id)
    head = members[0]
    tid = transaction_id_for(store.account, head.order_id)
    n = store.installments_of(head)
    interest = store.config.installment_interest

    def up(amount: int) -> int:
        return amount + interest_of(n, amount, interest)

    value = refunds = 0
    refunded_at: Instant | None = None
    for m in members:
        adj = store.adjustments.get(m.order_id)
        value += m.total_cents if adj is None or adj.change_settled else current_value(m, adj)
        # a boleto cannot be paid back by the gateway: the merchant returns a boleto return invoice's money by hand
        boleto = any(p.name == "Boleto Bancário" for p in head.payments)
        for inv in () if boleto else m.input_invoices:
            refunds += up(adj.restitutions.get(inv.number, inv.value) if adj else inv.value)
            refunded_at = inv.issued if refunded_at is None or inv.issued.ns > refunded_at.ns else refunded_at
        if adj is not None:
            if adj.change_settled:
                refunds += up(max(0, adj.reduction))
            if adj.gateway_refund:
                refunds += adj.gateway_refund
                when = adj.gateway_refund_at or m.last_change
                refunded_at = when if refunded_at is None or when.ns > refunded_at.ns else refunded_at
    value = up(value)
    o = head
    shift = timedelta(hours=store.config.gateway_dates_offset_h)

    def gateway_date(at: Instant | None) -> str | None:
        return None if at is None else (at + shift).to_utc().isoformat(0)[:19]

    status = {"canceled": "Cancelled", "payment-pending": "Authorizing"}.get(o.status, "Finished")
    return {
        "id": tid,
        "transactionId": tid,
        "referenceKey": o.order_id[:-3],
        "interactions": {"href": f"/api/pvt/transactions/{tid}/interactions"},
        "settlements": {"href": f"/api/pvt/transactions/{tid}/settlements"},
        "payments": {"href": f"/api/pvt/transactions/{tid}/payments"},
        "refunds": {"href": f"/api/pvt/transactions/{tid}/refunds"},
        "cancellations": {"href": f"/api/pvt/transactions/{tid}/cancellations"},
        "capabilities": {"href": f"/api/pvt/transactions/{tid}/capabilities"},
        "timeoutStatus": 0,
        "totalRefunds": refunds,
        "status": status,
        "value": value,
        "receiverUri": None,
        "startDate": gateway_date(o.created),
        "authorizationToken": None,
        "authorizationDate": gateway_date(o.authorized),
        "commitmentToken": None,
        "commitmentDate": gateway_date(o.invoiced),
        "refundingToken": uuid.uuid5(uuid.NAMESPACE_URL, f"refund:{tid}").hex.upper() if refunds else None,
        "refundingDate": gateway_date(refunded_at) if refunds else None,
        "cancelationToken": None,
        "cancelationDate": gateway_date(o.canceled),
        "fields": [{"name": "orderId", "value": o.order_id[:-3]}],
        "ipAddress": None,
        "sessionId": None,
        "macId": None,
        "vtexFingerprint": None,
        "chargeback": None,
        "whiteSignature": None,
        "owner": store.account,
        "orderId": o.order_id[:-3],
        "userAgent": None,
        "acceptHeader": None,
        "antifraudTid": None,
        "channel": store.account.upper(),
        "salesChannel": o.sales_channel,
        "urn": None,
        "softDescriptor": None,
        "markedForRecurrence": False,
        "buyer": None,
    }


def get_transaction(store: Store, config: SandboxConfig, req: Request, transaction_id: str) -> Response:
    if not config.payments_permission:
        return json_response(
            403,
            {"Message": "Access denied: the app key lacks PCI Gateway > Payment-Make Payments > View Payment Data"},
        )
    o = store.order_by_transaction(transaction_id)
    if o is None:
        return json_response(404, {"Message": f"Transaction {transaction_id} not found"})
    if transaction_id.upper() in store.foreign_transactions:
        return json_response(403, {"Message": "Access denied: the transaction belongs to another account"})
    return json_response(200, transaction_json(store, o))


def get_order_group(store: Store, order_json: Callable[[str], dict[str, Any] | None], group: str) -> Response:
    """``GET /api/oms/pvt/orders/order-group/{orderGroup}``: the group's orders, in full."""
    ids = store.groups.get(group) or ((f"{group}-01",) if store.order(f"{group}-01") else ())
    bodies = [b for b in (order_json(oid) for oid in ids) if b is not None]
    if not bodies:
        return oms_error(404, "OMS003", "Order group not found")
    return json_response(200, bodies)


def apply_group(body: dict[str, Any], store: Store, o: OrderSummary) -> dict[str, Any]:
    """The order's payment as a real account shows it: the group's transaction (its id and its payments, the whole
    cart's), installment interest, and ``value`` after return invoices as :attr:`SandboxConfig.value_after_return`
    says. Unchanged for an order alone in its group without interest under the default reading."""
    cfg = store.config
    members = store.group_orders(o.order_id)
    grouped = len(members) > 1
    reduced = cfg.value_after_return == "reduced" and o.input_invoices
    if not grouped and not cfg.installment_interest and not reduced:
        return body
    body = copy.deepcopy(body)
    if reduced:
        body["value"] = int(body["value"]) - o.refunded_cents
    head = members[0]
    txs = (body.get("paymentData") or {}).get("transactions") or []
    if not txs:
        return body
    tx = txs[0]
    payments = tx.get("payments") or []
    n = store.installments_of(head)
    if grouped:
        tx["transactionId"] = transaction_id_for(store.account, head.order_id)
        others = sum(m.total_cents for m in members) - o.total_cents
        if payments:
            payments[-1]["value"] += others
            payments[-1]["referenceValue"] += others
            payments[-1]["installments"] = n
    for p in payments:
        if p.get("group") == "creditCard":
            p["value"] = p["referenceValue"] + interest_of(n, p["referenceValue"], cfg.installment_interest)
    return body


def apply_totals(body: dict[str, Any], store: Store, o: OrderSummary) -> dict[str, Any]:
    """The order's ``totals`` as :attr:`SandboxConfig.totals_change` and :attr:`SandboxConfig.unknown_totals` say
    (unchanged by default)."""
    cfg = store.config
    adj = store.adjustments.get(o.order_id)
    change = cfg.totals_change == "listed" and adj is not None and bool(adj.changes)
    unknown = cfg.unknown_totals > 0 and o.order_id in unknown_total_orders(store)
    if not change and not unknown:
        return body
    body = copy.deepcopy(body)
    totals = body.setdefault("totals", [])
    if change and adj is not None:
        totals.append({"id": "Change", "name": "Total das mudanças", "value": -adj.reduction})
    if unknown:
        items = next(t for t in totals if t.get("id") == "Items")
        part = max(1, int(items["value"]) // 20)
        items["value"] = int(items["value"]) - part
        totals.append({"id": cfg.unknown_total_id, "name": "Taxas", "value": part})
    return body


def unknown_total_orders(store: Store) -> frozenset[str]:
    """The orders whose totals carry :attr:`SandboxConfig.unknown_total_id`: ``unknown_totals`` invoiced orders
    without another refund's history, every 37th from the third."""
    cached = store.__dict__.get("_unknown_totals")
    if cached is None or cached[0] != store.config.unknown_totals:
        plain = [o.order_id for o in store.orders if o.status == "invoiced" and o.order_id not in store.adjustments]
        cached = (store.config.unknown_totals, frozenset(plain[2::37][: store.config.unknown_totals]))
        store.__dict__["_unknown_totals"] = cached
    ids: frozenset[str] = cached[1]
    return ids


def add_payments_flags(p: argparse.ArgumentParser) -> None:
    """The sandbox's flags for payment transactions and the order value (one definition for every entry point)."""
    d = SandboxConfig  # the defaults, without making a config (that reads the clock)
    p.add_argument(
        "--order-groups",
        type=positive_int,
        default=d.order_groups,
        help="carts split into 2-3 orders sharing one orderGroup and one payment transaction (default 0)",
    )
    p.add_argument(
        "--installment-interest",
        action="store_true",
        help="card payments in installments carry interest: value above referenceValue, on the transaction too",
    )
    p.add_argument(
        "--foreign-payments",
        type=positive_int,
        default=d.foreign_payments,
        help="orders whose payment transaction is another account's (403 to reading it; default 0)",
    )
    p.add_argument(
        "--gateway-dates-offset-h",
        type=number(int, -14, 14),
        default=d.gateway_dates_offset_h,
        help="the gateway writes its zone-less dates at this UTC offset in hours (default 0: UTC)",
    )
    p.add_argument(
        "--value-after-return",
        choices=get_args(ValueAfterReturn),
        default=d.value_after_return,
        help="the order's value after a return invoice: kept as charged (default) or reduced by the returned amount",
    )
    p.add_argument(
        "--totals-change",
        choices=get_args(TotalsChange),
        default=d.totals_change,
        help="an order change in the order's totals: absent (totals as at checkout; default) or listed (a Change "
        "total)",
    )
    p.add_argument(
        "--unknown-totals",
        type=positive_int,
        default=d.unknown_totals,
        help="invoiced orders whose totals carry an id nobody documents (Fees), part of their Items (default 0)",
    )


def payments_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`SandboxConfig` fields the flags of :func:`add_payments_flags` set."""
    d = SandboxConfig  # the defaults, without making a config (that reads the clock)
    return {
        "order_groups": getattr(args, "order_groups", d.order_groups),
        "installment_interest": bool(getattr(args, "installment_interest", False)),
        "foreign_payments": getattr(args, "foreign_payments", d.foreign_payments),
        "gateway_dates_offset_h": getattr(args, "gateway_dates_offset_h", d.gateway_dates_offset_h),
        "value_after_return": getattr(args, "value_after_return", d.value_after_return),
        "totals_change": getattr(args, "totals_change", d.totals_change),
        "unknown_totals": getattr(args, "unknown_totals", d.unknown_totals),
    }
