"""Payments Gateway, read only: the refunds a payment transaction shows that no return invoice explains.

VTEX can refund a settled transaction without any return invoice (an admin refund in the gateway, VTEX's own
workaround for some known issues). The order then shows nothing, but ``GET /api/pvt/transactions/{id}`` carries
``totalRefunds``. Reading it needs the License Manager resource *View Payment Data* and moves no money; it is the one
Payments call on refundkit's allowlist (settlement, refund and cancellation requests are POSTs and never allowed).

:meth:`Payments.check` applies the rule documented on :class:`~refundkit.vtex.models.GatewayCheck`: a transaction
belongs to the order *group* (the orders of one cart share it), may carry installment interest, and order changes
update it. When the transaction covers more than the order, the group's orders are read
(``GET /api/oms/pvt/orders/order-group/{orderGroup}``) and the group's refunds are shared out, never counted twice.

A 403 on one transaction (another account's, as on a marketplace order) marks that order "not checked" and the
others go on. Only when :data:`DENIED_AFTER` transactions in a row answered 403 and none was ever read does the client
conclude that the key lacks *View Payment Data*: it says so, once, and asks for no further transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from math import ceil
from urllib.parse import quote

from ..errors import NotFound, PermissionDenied, VtexError
from ..money import Money
from .models import GatewayCheck, GatewayTransaction, Order
from .transport import Transport

__all__ = ["DENIED_AFTER", "NO_PERMISSION", "Payments", "allocate", "gateway_rule", "no_permission_for"]

_TID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NO_PERMISSION = (
    "gateway refunds were not checked: the app key lacks PCI Gateway > View Payment Data (read only; grant it so "
    "refunds made on the payment without a return invoice are counted)"
)
#: 403s in a row, with no transaction ever read, after which the key is taken to lack View Payment Data.
DENIED_AFTER = 3


def no_permission_for(order_id: str, transaction_id: str) -> str:
    return (
        f"gateway refunds of order {order_id} were not checked: no permission for this transaction ({transaction_id}; "
        "it may be another account's, as on a marketplace order, or the app key lacks PCI Gateway > View Payment "
        "Data)"
    )


class Payments:
    def __init__(self, transport: Transport, *, enabled: bool = True, mode: str = "cents") -> None:
        self._t = transport
        self.enabled = enabled
        self.mode = mode
        #: set once the key is taken to lack View Payment Data: no further transaction is asked for
        self.denied: str | None = None
        #: reads the orders of an order group (set by the client: the OMS resource does it)
        self.group_reader: Callable[[str], list[Order]] | None = None
        self._lock = threading.Lock()
        self._read = 0  # transactions read
        self._denied_in_a_row = 0

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
        transactions = []
        for tid in order.transaction_ids:
            with self._lock:
                denied = self.denied
            if denied:
                return GatewayCheck(False, zero, denied)
            try:
                tx = self.transaction(tid, order.currency)
            except PermissionDenied:
                with self._lock:
                    self._denied_in_a_row += 1
                    if self._read == 0 and self._denied_in_a_row >= DENIED_AFTER:
                        self.denied = NO_PERMISSION
                return GatewayCheck(False, zero, no_permission_for(order.order_id, tid))
            except VtexError as exc:
                return GatewayCheck(False, zero, f"gateway refunds were not checked: transaction {tid}: {exc}")
            with self._lock:
                self._read += 1
                self._denied_in_a_row = 0
            transactions.append(tx)
        group = [order]
        if covers_more(order, transactions):
            if not order.order_group or self.group_reader is None:
                return GatewayCheck(
                    False,
                    zero,
                    f"gateway refunds of order {order.order_id} were not checked: its payment transaction covers "
                    "more than the order, and the order names no order group to share it with",
                    tuple(transactions),
                )
            try:
                group = group_sharing(order, self.group_reader(order.order_group))
            except VtexError as exc:
                return GatewayCheck(
                    False,
                    zero,
                    f"gateway refunds were not checked: the orders of group {order.order_group}, which share the "
                    f"payment transaction, could not be read: {exc}",
                    tuple(transactions),
                )
        return gateway_rule(order, tuple(transactions), group)

    def attach(self, order: Order) -> Order:
        """The order with :attr:`Order.gateway` filled in."""
        return replace(order, gateway=self.check(order))


def _interest(order: Order, transactions: Sequence[GatewayTransaction]) -> tuple[int, int]:
    """(referenceValue, value) of the transactions' payments as the order lists them: the factor that takes
    installment interest out (1:1 when VTEX sends no referenceValue or no interest)."""
    tids = {tx.transaction_id.upper() for tx in transactions}
    ref = val = 0
    for p in order.payments:
        if p.transaction_id.upper() in tids and p.reference_value is not None and p.value.minor > 0:
            ref += p.reference_value.minor
            val += p.value.minor
    if val <= 0 or ref <= 0 or ref > val:
        return 1, 1
    return ref, val


def covers_more(order: Order, transactions: Sequence[GatewayTransaction]) -> bool:
    """Whether the transactions carry more than this order could explain alone (other orders of its group share
    them): their value without interest is more than the order's value before returns and changes."""
    ref, val = _interest(order, transactions)
    value = Fraction(sum(tx.value.minor for tx in transactions) * ref, val)
    listed = sum(p.reference_value.minor for p in order.payments if p.reference_value is not None)
    own = order.charged.minor + order.changes_refunded.minor
    return value > own or listed > own


def group_sharing(order: Order, group: Sequence[Order]) -> list[Order]:
    """The orders of ``group`` that list one of ``order``'s transactions, ``order`` itself first as given."""
    tids = {t.upper() for t in order.transaction_ids}
    out = [order]
    for o in sorted(group, key=lambda g: g.order_id):
        if o.order_id != order.order_id and tids & {t.upper() for t in o.transaction_ids}:
            out.append(replace(o, value_reading=order.value_reading))
    return out


def gateway_rule(
    order: Order, transactions: tuple[GatewayTransaction, ...], group: Sequence[Order] | None = None
) -> GatewayCheck:
    """Apply the rule of :class:`GatewayCheck` (pure; the tests drive it with every overlap). ``group``: the orders
    sharing the transactions, ``order`` among them (default: ``order`` alone)."""
    members = list(group) if group else [order]
    if all(o.order_id != order.order_id for o in members):
        members.insert(0, order)
    currency = order.currency
    ref, val = _interest(order, transactions)
    paid = sum(tx.value.minor for tx in transactions)
    refunds = sum(tx.total_refunds.minor for tx in transactions)
    charged = sum(o.charged.minor for o in members)
    invoices = sum(o.invoice_refunded.minor for o in members)
    after_settlement = max(Fraction(0), Fraction(paid * ref, val) - charged)
    extra = max(Fraction(0), Fraction(refunds * ref, val) - invoices - after_settlement)
    total = ceil(extra)  # rounded up: a refund is never understated by rounding
    caps = {o.order_id: max(0, o.charged.minor - o.invoice_refunded.minor) for o in members}
    balance, shares = allocate(total, caps, order.order_id)
    dates = [tx.refunded_at for tx in transactions if tx.refunded_at is not None and tx.total_refunds.minor]
    when = max(dates, key=lambda d: d.ns) if dates else None
    ids = tuple(sorted(caps)) if len(members) > 1 else ()
    return GatewayCheck(
        True,
        Money(balance, currency),
        "",
        transactions,
        when if total else None,
        share=Money(shares[order.order_id], currency),
        group=ids,
        group_refunded=Money(total, currency),
        group_invoices=Money(invoices, currency),
    )


def allocate(total: int, caps: dict[str, int], order_id: str) -> tuple[int, dict[str, int]]:
    """The group's gateway-only refunds ``total``: (what ``order_id``'s balance counts, every order's report share).

    Balance: ``min(total, cap + excess)``, the excess being what the whole group could not hold. Shares: ``total``
    in proportion to the caps by largest remainders (ties by order id); with no cap at all, the first order by id
    gets it. The shares add up to ``total`` exactly."""
    room = sum(caps.values())
    excess = max(0, total - room)
    balance = min(total, caps[order_id] + excess)
    ids = sorted(caps)
    if room == 0:
        return balance, {oid: (total if i == 0 else 0) for i, oid in enumerate(ids)}
    shares = {oid: total * caps[oid] // room for oid in ids}
    left = total - sum(shares.values())
    for oid in sorted(ids, key=lambda o: (-(total * caps[o] % room), o))[:left]:
        shares[oid] += 1
    return balance, shares
