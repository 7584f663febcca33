"""Payments Gateway, read only: the refunds a payment transaction shows that no return invoice explains.

VTEX can refund a settled transaction without any return invoice (an admin refund in the gateway, VTEX's own
workaround for some known issues). The order then shows nothing, but ``GET /api/pvt/transactions/{id}`` carries
``totalRefunds``. Reading it needs the License Manager resource *View Payment Data* and moves no money; it is the one
Payments call on refundkit's allowlist (settlement, refund and cancellation requests are POSTs and never allowed).

:meth:`Payments.check` applies the rule documented on :class:`~refundkit.vtex.models.GatewayCheck`. Without the
permission (403) it says the gateway was not checked — once per client: after the first 403 no other transaction is
asked for.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from urllib.parse import quote

from ..errors import NotFound, PermissionDenied, VtexError
from ..money import Money
from .models import GatewayCheck, GatewayTransaction, Order
from .transport import Transport

__all__ = ["NO_PERMISSION", "Payments"]

_TID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NO_PERMISSION = (
    "gateway refunds were not checked: the app key lacks PCI Gateway > View Payment Data (read only; grant it so "
    "refunds made on the payment without a return invoice are counted)"
)


class Payments:
    def __init__(self, transport: Transport, *, enabled: bool = True, mode: str = "cents") -> None:
        self._t = transport
        self.enabled = enabled
        self.mode = mode
        self.denied: str | None = None  # set after the first 403: no further transaction is asked for
        self._lock = threading.Lock()

    def transaction(self, transaction_id: str, currency: str) -> GatewayTransaction:
        """``GET /api/pvt/transactions/{id}`` on the account's payments host."""
        if not isinstance(transaction_id, str) or not _TID_RE.match(transaction_id):
            raise NotFound(f"{transaction_id!r} is not a payment transaction id")
        body = self._t.json("GET", f"/api/pvt/transactions/{quote(transaction_id)}", base=self._t.payments_url)
        return GatewayTransaction.from_vtex(body, currency, mode=self.mode)

    def check(self, order: Order) -> GatewayCheck:
        """The order's gateway refunds without a return invoice, or why they could not be checked."""
        zero = Money.zero(order.currency)
        if not self.enabled:
            return GatewayCheck(False, zero, "gateway refunds were not checked (REFUNDKIT_GATEWAY_REFUNDS=off)")
        if not order.transaction_ids:
            return GatewayCheck(
                False,
                zero,
                "gateway refunds were not checked: the order shows no payment transaction of this account "
                "(a marketplace order is paid on the marketplace's account)",
            )
        with self._lock:
            denied = self.denied
        if denied:
            return GatewayCheck(False, zero, denied)
        transactions = []
        for tid in order.transaction_ids:
            try:
                transactions.append(self.transaction(tid, order.currency))
            except PermissionDenied:
                with self._lock:
                    self.denied = NO_PERMISSION
                return GatewayCheck(False, zero, NO_PERMISSION)
            except VtexError as exc:
                return GatewayCheck(False, zero, f"gateway refunds were not checked: transaction {tid}: {exc}")
        return gateway_rule(order, tuple(transactions))

    def attach(self, order: Order) -> Order:
        """The order with :attr:`Order.gateway` filled in."""
        return replace(order, gateway=self.check(order))


def gateway_rule(order: Order, transactions: tuple[GatewayTransaction, ...]) -> GatewayCheck:
    """Apply the rule of :class:`GatewayCheck` (pure; the tests drive it with every overlap)."""
    zero = Money.zero(order.currency)
    paid, refunds = zero, zero
    for tx in transactions:
        paid = paid + tx.value
        refunds = refunds + tx.total_refunds
    changed_after_settlement = paid - order.total if paid > order.total else zero
    explained = order.invoice_refunded + changed_after_settlement
    extra = refunds - explained if refunds > explained else zero
    dates = [tx.refunded_at for tx in transactions if tx.refunded_at is not None and tx.total_refunds.minor]
    when = max(dates, key=lambda d: d.ns) if dates else None
    return GatewayCheck(True, extra, "", transactions, when if extra.minor else None)
