"""Reports count VTEX's own refunds once: a return invoice at its restitution, a gateway refund without an invoice as
its own row, an order change not at all (it already lowered the order's value)."""

from __future__ import annotations

import copy
from dataclasses import replace

from refundkit.analytics.frames import GATEWAY_REFUND, native_refunds_frame
from refundkit.analytics.store import return_invoices_frame
from refundkit.money import Money
from refundkit.timeutil import parse_instant
from refundkit.vtex.models import GatewayCheck, GatewayTransaction, Order

ORDER = {
    "orderId": "1306331686122-01",
    "status": "invoiced",
    "creationDate": "2026-03-01T12:34:56.1234567-03:00",
    "value": 24999,
    "storePreferencesData": {"currencyCode": "BRL"},
    "paymentData": {"transactions": [{"isActive": True, "transactionId": "T1", "payments": []}]},
    "packageAttachment": {
        "packages": [
            {"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": 24999},
            {"type": "Input", "invoiceNumber": "R-1", "invoiceValue": 5000, "issuanceDate": "2026-03-04T10:00:00Z"},
        ]
    },
}


def _order() -> Order:
    body = copy.deepcopy(ORDER)
    inputs = [p for p in body["packageAttachment"]["packages"] if p.get("type") == "Input"]
    inputs[0]["restitutions"] = {"Refund": {"value": inputs[0]["invoiceValue"] - 100}}
    body["changesAttachment"] = {"id": "c", "changesData": [{"reason": "r", "discountValue": 700, "receipt": {}}]}
    order = Order.from_vtex(body)
    when = parse_instant("2026-03-05T10:00:00Z")
    tx = GatewayTransaction("T1", "Finished", order.total, Money(0, "BRL"), when)
    return replace(order, gateway=GatewayCheck(True, Money(450, "BRL"), "", (tx,), when))


def test_each_vtex_refund_is_one_row_once() -> None:
    order = _order()
    for frame in (native_refunds_frame([order]), return_invoices_frame([order])):
        rows = frame.to_dicts()
        assert sum(r["amount_minor"] for r in rows) == order.native_refunded.minor
        assert [r["amount_minor"] for r in rows if r["invoice_number"] == GATEWAY_REFUND] == [450]
        invoices = [r for r in rows if r["invoice_number"] != GATEWAY_REFUND]
        assert [r["amount_minor"] for r in invoices] == [inv.refunded.minor for inv in order.return_invoices]
        assert invoices[0]["amount_minor"] == order.return_invoices[0].value.minor - 100  # the restitution, once
        assert all(r["amount_minor"] != 700 for r in rows)  # the change is already out of the value
