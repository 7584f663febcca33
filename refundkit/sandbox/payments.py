"""VTEX's other refunds in the sandbox: order changes, restitutions, gateway refunds, and the Payments read endpoint.

``GET /api/pvt/transactions/{transactionId}`` answers as the Payments Gateway does (spec
``TransactionDetailsResponse``): ``value`` is what was paid, ``totalRefunds`` everything the gateway gave back — the
refunds triggered by return invoices, the difference of an order change made after settlement, and refunds made in
the gateway without any invoice. ``SandboxConfig.payments_permission=False`` answers 403, as VTEX does for an app key
without *View Payment Data*. A boleto order's return invoices are not in ``totalRefunds``: the gateway cannot
pay boleto money back, the merchant does it by hand. Every POST to a Payments path stays a tripwire (see
:mod:`refundkit.sandbox.server`).

:class:`Adjustment` is how a test (or :meth:`Store.adjust`) gives one order such a history:

- ``changes``: order modifications; VTEX lowers the order's ``value`` (list ``totalValue`` too) by
  ``discount − increment`` and shows them in ``changesAttachment``. With ``change_settled=True`` the payment was
  settled first, so the gateway refunded the difference (it is in ``totalRefunds`` and the transaction keeps its
  value); otherwise the transaction's value itself went down;
- ``gateway_refund``: cents refunded in the gateway with no return invoice (only ``totalRefunds`` shows it);
- ``restitutions``: per return-invoice number, a ``restitutions.Refund.value`` different from ``invoiceValue``;
- ``patch``: a function applied to the order's JSON (detail and list row) — to send a malformed order, another
  currency, and so on.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from refundkit.timeutil import Instant

from .http import Request, Response, json_response

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .store import OrderSummary, Store

__all__ = ["Adjustment", "Change", "get_transaction", "transaction_id_for"]


@dataclass(frozen=True)
class Change:
    reason: str
    discount: int  # cents
    increment: int = 0
    at: Instant | None = None


@dataclass
class Adjustment:
    changes: list[Change] = field(default_factory=list)
    change_settled: bool = False
    gateway_refund: int = 0
    gateway_refund_at: Instant | None = None
    restitutions: dict[str, int] = field(default_factory=dict)
    patch: Callable[[dict[str, Any]], None] | None = None

    @property
    def reduction(self) -> int:
        return sum(c.discount - c.increment for c in self.changes)


def transaction_id_for(account: str, order_id: str) -> str:
    """The order's payment transaction id: stable, so the Payments endpoint can find the order again."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"vtexpayments:{account}:{order_id}").hex.upper()


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


def transaction_json(store: Store, o: OrderSummary) -> dict[str, Any]:
    adj = store.adjustments.get(o.order_id)
    tid = transaction_id_for(store.account, o.order_id)
    value = o.total_cents if adj is None or adj.change_settled else current_value(o, adj)
    refunds = 0
    refunded_at: Instant | None = None
    # a boleto cannot be paid back by the gateway: the merchant returns a boleto return invoice's money by hand
    boleto = any(p.name == "Boleto Bancário" for p in o.payments)
    for inv in () if boleto else o.input_invoices:
        refunds += adj.restitutions.get(inv.number, inv.value) if adj else inv.value
        refunded_at = inv.issued if refunded_at is None or inv.issued.ns > refunded_at.ns else refunded_at
    if adj is not None:
        if adj.change_settled:
            refunds += max(0, adj.reduction)
        if adj.gateway_refund:
            refunds += adj.gateway_refund
            when = adj.gateway_refund_at or o.last_change
            refunded_at = when if refunded_at is None or when.ns > refunded_at.ns else refunded_at
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
        "startDate": o.created.isoformat(0)[:19],
        "authorizationToken": None,
        "authorizationDate": o.authorized.isoformat(0)[:19] if o.authorized else None,
        "commitmentToken": None,
        "commitmentDate": o.invoiced.isoformat(0)[:19] if o.invoiced else None,
        "refundingToken": uuid.uuid5(uuid.NAMESPACE_URL, f"refund:{tid}").hex.upper() if refunds else None,
        "refundingDate": refunded_at.isoformat(0)[:19] if refunded_at and refunds else None,
        "cancelationToken": None,
        "cancelationDate": o.canceled.isoformat(0)[:19] if o.canceled else None,
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
    return json_response(200, transaction_json(store, o))
