"""Typed records parsed from VTEX JSON. Money is :class:`~refundkit.money.Money`; times are exact
:class:`~refundkit.timeutil.Instant`. Parsing is strict where refundkit relies on a field and lenient elsewhere: a
missing or mistyped money field raises :class:`~refundkit.errors.BadResponse` naming the order and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BadResponse
from ..money import AmountError, Money, from_vtex_cents
from ..statuses import DOCUMENTED
from ..timeutil import Instant, parse_instant
from .known import KNOWN_TOTAL_IDS, VALUE_READINGS

__all__ = [
    "GATEWAY_DATES_ZONE",
    "KNOWN_TOTAL_IDS",
    "ORDER_STATUSES",
    "PAID_READINGS",
    "VALUE_READINGS",
    "GatewayCheck",
    "GatewayTransaction",
    "Note",
    "Order",
    "OrderChange",
    "OrderItem",
    "OrderSummary",
    "Payment",
    "ReturnInvoice",
    "ReturnedItem",
    "allocate",
    "lines_paid",
]

#: Every order status VTEX documents (:data:`refundkit.statuses.DOCUMENTED`). An order with any other status is read
#: all the same, and counted by the rule of :mod:`refundkit.statuses`.
ORDER_STATUSES: frozenset[str] = DOCUMENTED


def _cents(raw: Any, currency: str, where: str, mode: str = "cents") -> Money:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise BadResponse(f"VTEX sent {where} = {raw!r}; expected an integer amount in cents")
    try:
        return Money(from_vtex_cents(raw, currency, mode), currency)
    except AmountError as exc:
        raise BadResponse(f"{where}: {exc}") from None


def _lenient_cents(raw: Any, currency: str, mode: str) -> Money | None:
    """An amount refundkit can do without (``referenceValue``): None when absent or unreadable."""
    try:
        return None if raw is None else _cents(raw, currency, "", mode)
    except BadResponse:
        return None


def _status(raw: Any) -> str:
    """The status as VTEX sent it, whatever it is ("" when none): a status refundkit does not know is kept, and
    counted by the rule of :mod:`refundkit.statuses`, never a reason to set the order aside."""
    return raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw)


def _instant(raw: Any, where: str, required: bool = True) -> Instant | None:
    if raw in (None, ""):
        if required:
            raise BadResponse(f"VTEX sent no {where}")
        return None
    try:
        return parse_instant(raw)
    except ValueError as exc:
        raise BadResponse(f"VTEX sent an unreadable {where}: {exc}") from None


def _currency(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or len(raw) != 3 or not raw.isalpha():
        raise BadResponse(f"VTEX sent no usable currency code for {where} (got {raw!r})")
    return raw.upper()


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """A row of the OMS order list."""

    order_id: str
    created_at: Instant
    status: str
    currency: str
    total: Money
    sales_channel: str
    payment_names: str
    origin: str | None = None
    #: numbers of the order's return invoices as the list row gives them (``invoiceInput``; not in VTEX's schema),
    #: ``None`` when the row names none: unknown, never "no return invoice" (see ``_invoice_numbers``)
    invoice_input: tuple[str, ...] | None = None

    @classmethod
    def from_vtex(cls, row: dict[str, Any], *, mode: str = "cents") -> OrderSummary:
        """Parse a list row; :class:`BadResponse` naming the order when a field refundkit relies on is unusable
        (no currency, a total that is not an integer, no creation date); any status is kept."""
        if not isinstance(row, dict):
            raise BadResponse(f"VTEX sent an order list row that is not an object: {str(row)[:80]}")
        oid = row.get("orderId")
        if not isinstance(oid, str) or not oid:
            raise BadResponse(f"VTEX sent an order list row without an orderId: {str(row)[:120]}")
        currency = _currency(row.get("currencyCode"), f"order {oid}")
        created = _instant(row.get("creationDate"), f"creationDate of order {oid}")
        assert created is not None
        return cls(
            order_id=oid,
            created_at=created,
            status=_status(row.get("status")),
            currency=currency,
            total=_cents(row.get("totalValue"), currency, f"totalValue of order {oid}", mode),
            sales_channel=str(row.get("salesChannel") or ""),
            payment_names=str(row.get("paymentNames") or ""),
            origin=row.get("origin"),
            invoice_input=_invoice_numbers(row),
        )


def _invoice_numbers(row: dict[str, Any]) -> tuple[str, ...] | None:
    """``invoiceInput`` (or the PII list's ``invoicesInput``): the return invoice numbers a row names; ``None`` when
    it names none — absent, null or empty. The field is not in VTEX's ListOrders schema, and some accounts send
    null or ``[]`` on every row, so a row naming no return invoice never says the order has none: only the
    ``f_hasInputInvoice=true`` listing or the order itself can."""
    for name in ("invoiceInput", "invoicesInput"):
        if name in row:
            raw = row[name]
            if isinstance(raw, list):
                numbers = tuple(str(x) for x in raw if x not in (None, ""))
            else:
                numbers = () if raw in (None, "") else (str(raw),)
            return numbers or None
    return None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of ``items[]``. ``unit_price`` is the selling price of one unit; ``paid`` what the customer paid for
    the whole line (see :func:`_line_paid`: it never exceeds the line's share of the order's items + discounts)."""

    sku: str
    name: str
    quantity: int
    unit_price: Money
    unique_id: str = ""
    line_index: int = 0
    product_id: str = ""
    brand: str = ""
    category: str = ""
    paid: Money | None = None
    is_gift: bool = False

    @property
    def paid_total(self) -> Money:
        """What was paid for the line (``unit_price`` × ``quantity`` where no ``paid`` was read)."""
        return (
            self.paid
            if self.paid is not None
            else Money(self.unit_price.minor * self.quantity, self.unit_price.currency)
        )


def allocate(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (non-negative integers), exactly: each part is rounded down and
    the minor units left over go one each to the largest remainders (ties: the earlier part). All weights zero: in
    equal parts. The parts always add up to ``total``."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    sign = -1 if total < 0 else 1
    amount = abs(total)
    parts = [amount * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in order[: amount - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


def _int_or_none(raw: Any) -> int | None:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


#: How :func:`lines_paid` read an order's lines: ``fields`` — ``priceDefinition.total`` / ``sellingPrice`` added up to
#: the totals; ``priceTags`` — ``price`` less the lines' discount tags did; ``spread`` — nothing did, the difference
#: was spread in proportion; ``no-totals`` — the order gives no ``Items``/``Discounts`` totals to check against.
PAID_READINGS: tuple[str, ...] = ("fields", "priceTags", "spread", "no-totals")


def lines_paid(lines: list[dict[str, Any]], totals: dict[str, int]) -> tuple[list[int], str]:
    """:func:`_line_paid`, and which of :data:`PAID_READINGS` gave it (``refundkit doctor`` shows it)."""
    how = [""]
    paid = _line_paid(lines, totals, how)
    return paid, how[0]


def _line_paid(lines: list[dict[str, Any]], totals: dict[str, int], how: list[str] | None = None) -> list[int]:
    """What the customer paid for each line of ``items[]``, in VTEX cents: the one rule.

    VTEX does not say which of its item fields already carry an order-level discount (a promotion on the whole
    cart, listed in the items' ``priceTags`` and in the ``Discounts`` total), and a field may be missing. So:

    1. each line's candidate is ``priceDefinition.total`` when it is an integer, else ``sellingPrice`` × quantity,
       else ``price`` × quantity (a gift, ``isGift``, is 0 whatever its fields say);
    2. the order's ``Items`` + ``Discounts`` totals (when both are given) are what its lines paid together. When the
       candidates add up to it, they stand. Otherwise, when ``price`` × quantity plus each line's negative
       ``priceTags`` values (its discounts, order-level shares included) add up to it, those stand. Otherwise the
       difference is spread over the non-gift lines in proportion to their candidates (:func:`allocate`);
    3. no line is below zero.

    So the lines always add up to what the order's items paid, whichever fields the account sends."""
    cands: list[int] = []
    tagged: list[int] = []
    gifts: list[bool] = []
    for it in lines:
        qty = _int_or_none(it.get("quantity")) or 0
        gift = it.get("isGift") is True
        gifts.append(gift)
        definition = it.get("priceDefinition")
        total = _int_or_none(definition.get("total")) if isinstance(definition, dict) else None
        selling = _int_or_none(it.get("sellingPrice"))
        price = _int_or_none(it.get("price"))
        if gift:
            cand = 0
        elif total is not None:
            cand = total
        elif selling is not None:
            cand = selling * qty
        else:
            cand = (price or 0) * qty
        cands.append(max(0, cand))
        raw_tags = it.get("priceTags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        values = [_int_or_none(t.get("value")) for t in tags if isinstance(t, dict)]
        off = sum(v for v in values if v is not None and v < 0)
        tagged.append(0 if gift else max(0, (price or 0) * qty + off))
    said = how if how is not None else [""]
    said[:] = ["no-totals"]
    if "Items" not in totals or "Discounts" not in totals:
        return cands
    target = totals["Items"] + totals["Discounts"]
    said[:] = ["fields"]
    if sum(cands) == target or target < 0:
        return cands
    if sum(tagged) == target:
        said[:] = ["priceTags"]
        return tagged
    paying = [i for i, g in enumerate(gifts) if not g]
    if not paying:
        return cands
    said[:] = ["spread"]
    spread = allocate(target - sum(cands), [cands[i] for i in paying])
    out = list(cands)
    for i, d in zip(paying, spread, strict=True):
        out[i] = max(0, cands[i] + d)
    return out


def _category(info: Any) -> str:
    """The last (most specific) of ``additionalInfo.categories[].name``, else ""."""
    cats = info.get("categories") if isinstance(info, dict) else None
    names = [str(c.get("name")) for c in cats or [] if isinstance(c, dict) and c.get("name")]
    return names[-1] if names else ""


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    method: str
    group: str
    value: Money  # what the customer pays, installment interest included
    installments: int
    #: ``referenceValue``: the payment before installment interest (``value`` when VTEX sends none)
    reference_value: Money | None = None
    transaction_id: str = ""  # the payment transaction this payment belongs to


@dataclass(frozen=True, slots=True)
class ReturnedItem:
    """Units a return invoice lists: the package's ``items[]`` (``itemIndex`` → ``line_index``), else its
    restitution's items (by SKU ``id`` only; compensations, which return no units, are left out)."""

    sku: str
    quantity: int
    unique_id: str = ""
    amount: Money | None = None
    #: the line of ``items[]`` these units came from; None when VTEX named only the SKU
    line_index: int | None = None


@dataclass(frozen=True, slots=True)
class ReturnInvoice:
    """A VTEX-native refund: a package of type ``Input`` (return invoice).

    ``value`` is the invoice's ``invoiceValue``; ``restitution`` is ``restitutions.Refund.value`` when VTEX sent
    one. Both describe the *same* money (a restitution exists only on an Input invoice, and says what of it went back
    to the customer), so the refund is counted once, as :attr:`refunded`: the restitution when present, else the
    invoice value."""

    invoice_number: str
    value: Money
    issued_at: Instant | None
    restitution: Money | None = None
    #: VTEX lists the returned items (``restitutions.Refund.items``), none a compensation, and says of each that the
    #: refund includes no freight (``useFreight`` false): the whole refund is for items. False when it does not say.
    items_only: bool = False
    items: tuple[ReturnedItem, ...] = ()
    #: the restitution says the shipping went back too (an item with ``useFreight``)
    freight: bool = False

    @property
    def refunded(self) -> Money:
        return self.restitution if self.restitution is not None else self.value


def _items_only(refund: Any) -> bool:
    """Whether a restitution says its refund is for items only (see :attr:`ReturnInvoice.items_only`): items listed,
    each ``useFreight`` false (not missing) and none a compensation."""
    items = refund.get("items") if isinstance(refund, dict) else None
    if not isinstance(items, list) or not items:
        return False
    return all(isinstance(i, dict) and i.get("useFreight") is False and not i.get("isCompensation") for i in items)


@dataclass(frozen=True, slots=True)
class OrderChange:
    """One entry of ``changesAttachment.changesData``: an order modification.

    VTEX updates the order's ``value`` (and the payment transaction) when it registers a change, and reimburses the
    customer automatically. So a change is *already* out of :attr:`Order.total`: refundkit never subtracts it again.
    ``refunded`` is what this change gave back (discount minus increment, when positive), shown for information."""

    reason: str
    discount: Money
    increment: Money
    at: Instant | None

    @property
    def net_reduction(self) -> Money:
        return self.discount - self.increment

    @property
    def refunded(self) -> Money:
        net = self.net_reduction
        return net if net.minor > 0 else Money.zero(net.currency)


@dataclass(frozen=True, slots=True)
class GatewayTransaction:
    """A Payments Gateway transaction as ``GET /api/pvt/transactions/{id}`` shows it (read only)."""

    transaction_id: str
    status: str
    value: Money
    total_refunds: Money
    refunded_at: Instant | None
    #: ``authorizationDate``: like every date of the transaction, sent without a zone and read as UTC
    #: (:data:`GATEWAY_DATES_ZONE`; ``refundkit doctor`` compares it with the order's ``authorizedDate``)
    authorized_at: Instant | None = None

    @classmethod
    def from_vtex(cls, body: Any, currency: str, *, mode: str = "cents") -> GatewayTransaction:
        if not isinstance(body, dict):
            raise BadResponse("VTEX sent a payment transaction that is not a JSON object")
        tid = str(body.get("transactionId") or body.get("id") or "")
        if not tid:
            raise BadResponse("VTEX sent a payment transaction without an id")
        return cls(
            transaction_id=tid,
            status=str(body.get("status") or ""),
            value=_cents(body.get("value"), currency, f"value of transaction {tid}", mode),
            total_refunds=_cents(body.get("totalRefunds") or 0, currency, f"totalRefunds of transaction {tid}", mode),
            refunded_at=_instant(body.get("refundingDate"), f"refundingDate of transaction {tid}", required=False),
            authorized_at=_instant(
                body.get("authorizationDate"), f"authorizationDate of transaction {tid}", required=False
            ),
        )


#: The zone of the Payments Gateway's dates (``refundingDate``, ``authorizationDate``...), which VTEX sends without
#: one (``2023-06-02T17:05:44``): refundkit reads them as UTC. ``refundkit doctor`` compares a transaction's
#: ``authorizationDate`` with its order's ``authorizedDate`` (which carries an offset) and warns when they differ.
GATEWAY_DATES_ZONE = "UTC"


@dataclass(frozen=True, slots=True)
class GatewayCheck:
    """What the order's payment transactions say about refunds made there without a return invoice.

    ``checked`` is False when they could not be read (``reason`` says why: no View Payment Data permission, no
    permission for this one transaction, the check is turned off, the order names no transaction); then
    ``refunded`` is zero and the balance says so.

    A transaction belongs to the *order group*: the orders of one cart (several sellers, split deliveries) share
    it, and its ``value`` may include installment interest. The rule, with ``group`` the orders that list one of
    these transactions (this order alone unless the transaction covers more than it), every amount exact::

        scale(x)  = x × referenceValue ÷ value of the transaction's payments       (interest out: the order's terms)
        charged_o = the order's value before return invoices                       (its ``value``, or value + returns
                                                                                    when value excludes them)
        after     = max(0, scale(Σ transaction value) − Σ charged_o)               (order changes refunded after
                                                                                    settlement, whole group)
        group-only = ⌈ max(0, scale(Σ totalRefunds) − Σ return invoices − after) ⌉   (rounded up to the minor unit)

    A change made before settlement lowers the transaction's value itself (it is in neither term); one refunded
    after settlement is in both and cancels out; a return invoice's own refund is explained by the invoice.

    The group's gateway-only refunds are then given to its orders, none counted twice:

    * ``refunded`` — for the order's *balance*, conservatively: all of it, up to what this order could still hold
      (``cap = charged − its return invoices``) plus whatever exceeds what the whole group could hold. An order
      alone in its group gets all of it. The balance never overstates what can still be refunded.
    * ``share`` — for *reports*: the group's amount split in proportion to each order's ``cap`` (largest
      remainders, ties by order id), so the shares add up to the group's amount exactly; an order that alone can
      hold it gets it whole.
    """

    checked: bool
    refunded: Money
    reason: str = ""
    transactions: tuple[GatewayTransaction, ...] = ()
    refunded_at: Instant | None = None
    #: this order's part of the group's gateway-only refunds in reports (None: same as ``refunded``)
    share: Money | None = None
    #: the orders sharing the transaction (this one included) when there are several
    group: tuple[str, ...] = ()
    #: the group's gateway-only refunds, all orders together
    group_refunded: Money | None = None
    #: the return invoices of every order sharing the transactions (what the gateway had to refund for them)
    group_invoices: Money | None = None

    @property
    def report_share(self) -> Money:
        return self.refunded if self.share is None else self.share

    @property
    def note(self) -> str:
        """A line for the balance when the transaction is shared and refunded without an invoice."""
        if len(self.group) < 2 or self.group_refunded is None or not self.group_refunded.minor:
            return ""
        return (
            f"the payment transaction is shared by orders {', '.join(self.group)}, refunded {self.group_refunded} "
            f"without a return invoice: {self.refunded} counted against this order's balance (as much as it could "
            f"hold); a report that reads payment transactions counts {self.report_share} here, its share, so the "
            "group's orders count the refund once together (refundkit report reads none)"
        )


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    sequence: str
    status: str
    currency: str
    created_at: Instant
    total: Money
    totals: dict[str, Money]
    items: tuple[OrderItem, ...]
    payments: tuple[Payment, ...]
    return_invoices: tuple[ReturnInvoice, ...]
    sales_channel: str
    origin: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    changes: tuple[OrderChange, ...] = ()
    transaction_ids: tuple[str, ...] = ()
    gateway: GatewayCheck | None = None  # attached by Orders.get(..., gateway=True)
    order_group: str = ""  # ``orderGroup``: the orders of one cart share it (and their payment transaction)
    #: how ``value`` reads after a return invoice (:data:`VALUE_READINGS`), as the account's verdict says
    value_reading: str = "kept"

    @property
    def charged(self) -> Money:
        """The order's value before return invoices: ``value`` when it keeps what was charged, ``value`` plus the
        return invoices when VTEX already lowered it by them (:attr:`value_reading`). Balances and gross start here,
        so a return is subtracted once under either reading."""
        return self.total + self.invoice_refunded if self.value_reading == "reduced" else self.total

    @property
    def invoice_refunded(self) -> Money:
        """Refunds VTEX made through return invoices (each counted once: its restitution, else its value)."""
        total = Money.zero(self.currency)
        for inv in self.return_invoices:
            total = total + inv.refunded
        return total

    @property
    def gateway_refunded(self) -> Money:
        """Refunds made on the payment transaction that no return invoice or order change explains (zero when the
        transaction was not checked: see :attr:`gateway`)."""
        return self.gateway.refunded if self.gateway is not None else Money.zero(self.currency)

    @property
    def gateway_share(self) -> Money:
        """This order's part of the gateway refunds in reports (see :class:`GatewayCheck`: never counted twice
        across the orders of a group)."""
        return self.gateway.report_share if self.gateway is not None else Money.zero(self.currency)

    @property
    def gateway_checked(self) -> bool:
        return self.gateway is not None and self.gateway.checked

    @property
    def changes_refunded(self) -> Money:
        """What order changes gave back. Already out of :attr:`total` (VTEX lowers ``value``): never subtract it."""
        total = Money.zero(self.currency)
        for change in self.changes:
            total = total + change.refunded
        return total

    @property
    def native_refunded(self) -> Money:
        """Refunds VTEX itself made, to subtract from :attr:`charged`: return invoices (restitutions included
        once) plus gateway refunds without an invoice (when checked). Order changes are not in it: the order's value
        already went down by them."""
        return self.invoice_refunded + self.gateway_refunded

    @property
    def payment_names(self) -> str:
        return ", ".join(dict.fromkeys(p.method for p in self.payments if p.method))

    @classmethod
    def from_vtex(cls, body: dict[str, Any], *, mode: str = "cents", value_reading: str = "kept") -> Order:
        """Parse ``GET /api/oms/pvt/orders/{id}``. ``mode`` is how zero-decimal currencies arrive (see
        :data:`refundkit.money.VTEX_AMOUNT_MODES`). :class:`BadResponse` naming the order and the field when a field
        refundkit relies on is unusable."""
        if not isinstance(body, dict):
            raise BadResponse("VTEX sent an order that is not a JSON object")
        oid = body.get("orderId")
        if not isinstance(oid, str) or not oid:
            raise BadResponse("VTEX sent an order without an orderId")
        try:
            return cls._parse(body, oid, mode, value_reading)
        except BadResponse:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise BadResponse(
                f"VTEX sent order {oid} in a shape refundkit cannot read ({type(exc).__name__})"
            ) from None

    @classmethod
    def _parse(cls, body: dict[str, Any], oid: str, mode: str, value_reading: str = "kept") -> Order:
        prefs = body.get("storePreferencesData") or {}
        currency = _currency(prefs.get("currencyCode") or body.get("currencyCode"), f"order {oid}")

        def cents(raw: Any, where: str) -> Money:
            return _cents(raw, currency, f"{where} of order {oid}", mode)

        totals = {
            str(t.get("id")): cents(t.get("value"), f"totals[{t.get('id')}]")
            for t in body.get("totals") or []
            if isinstance(t, dict) and t.get("id")
        }
        raw_items = [it for it in body.get("items") or [] if isinstance(it, dict)]
        raw_totals = {
            str(t.get("id")): v
            for t in body.get("totals") or []
            if isinstance(t, dict) and (v := _int_or_none(t.get("value"))) is not None
        }
        paid = _line_paid(raw_items, raw_totals)
        items = tuple(
            OrderItem(
                sku=str(it.get("id") or ""),
                name=str(it.get("name") or ""),
                quantity=int(it.get("quantity") or 0),
                unit_price=cents(it.get("sellingPrice", it.get("price", 0)) or 0, f"items[{i}].sellingPrice"),
                unique_id=str(it.get("uniqueId") or ""),
                line_index=i,
                product_id=str(it.get("productId") or ""),
                brand=str((it.get("additionalInfo") or {}).get("brandName") or ""),
                category=_category(it.get("additionalInfo")),
                paid=_lenient_cents(paid[i], currency, mode),  # derived: unreadable, it falls back to unit_price
                is_gift=it.get("isGift") is True,
            )
            for i, it in enumerate(raw_items)
        )
        payments = []
        transaction_ids: list[str] = []
        for tx in (body.get("paymentData") or {}).get("transactions") or []:
            if not isinstance(tx, dict):
                continue
            tid = tx.get("transactionId")
            if isinstance(tid, str) and tid and tx.get("isActive", True) is not False and tid not in transaction_ids:
                transaction_ids.append(tid)
            for p in tx.get("payments") or []:
                ref = p.get("referenceValue")
                payments.append(
                    Payment(
                        payment_id=str(p.get("id") or ""),
                        method=str(p.get("paymentSystemName") or ""),
                        group=str(p.get("group") or ""),
                        value=cents(p.get("value", 0), "payment value"),
                        installments=int(p.get("installments") or 1),
                        reference_value=_lenient_cents(ref, currency, mode),
                        transaction_id=tid if isinstance(tid, str) else "",
                    )
                )
        invoices = []
        for pkg in (body.get("packageAttachment") or {}).get("packages") or []:
            if isinstance(pkg, dict) and str(pkg.get("type", "")).lower() == "input":
                number = str(pkg.get("invoiceNumber") or "")
                rest = pkg.get("restitutions") or {}
                refund = (rest.get("Refund") or rest.get("refund")) if isinstance(rest, dict) else None
                restitution = None
                if isinstance(refund, dict) and refund.get("value") is not None:
                    restitution = cents(refund.get("value"), f"restitution of return invoice {number}")
                returned, freight = _returned_items(pkg, raw_items, currency, mode)
                invoices.append(
                    ReturnInvoice(
                        invoice_number=number,
                        items=returned,
                        freight=freight,
                        value=cents(pkg.get("invoiceValue"), f"return invoice value {number}"),
                        issued_at=_instant(
                            pkg.get("issuanceDate"), f"issuanceDate of a return invoice of {oid}", required=False
                        ),
                        restitution=restitution,
                        items_only=_items_only(refund),
                    )
                )
        changes = []
        attachment = body.get("changesAttachment") or {}
        for ch in (attachment.get("changesData") if isinstance(attachment, dict) else None) or []:
            if not isinstance(ch, dict):
                continue
            receipt: dict[str, Any] = ch["receipt"] if isinstance(ch.get("receipt"), dict) else {}
            changes.append(
                OrderChange(
                    reason=str(ch.get("reason") or ""),
                    discount=cents(ch.get("discountValue") or 0, "changesData discountValue"),
                    increment=cents(ch.get("incrementValue") or 0, "changesData incrementValue"),
                    at=_instant(receipt.get("date"), f"date of a change of order {oid}", required=False),
                )
            )
        created = _instant(body.get("creationDate"), f"creationDate of order {oid}")
        assert created is not None
        return cls(
            order_id=oid,
            sequence=str(body.get("sequence") or ""),
            status=_status(body.get("status")),
            currency=currency,
            created_at=created,
            total=cents(body.get("value"), "value"),
            totals=totals,
            items=items,
            payments=tuple(payments),
            return_invoices=tuple(invoices),
            sales_channel=str(body.get("salesChannel") or ""),
            origin=body.get("origin"),
            raw=body,
            changes=tuple(changes),
            transaction_ids=tuple(transaction_ids),
            order_group=str(body.get("orderGroup") or ""),
            value_reading=value_reading if value_reading in VALUE_READINGS else "kept",
        )


def _returned_items(
    pkg: dict[str, Any], lines: list[dict[str, Any]], currency: str, mode: str
) -> tuple[tuple[ReturnedItem, ...], bool]:
    """The units a return invoice lists, and whether its restitution gave the shipping back (``useFreight``).

    The package's ``items[]`` name their line (``itemIndex``); when it lists none, the restitution's items name the
    SKU (``id``) only. An entry without a usable quantity, or a compensation, returns no units and is left out."""
    out: list[ReturnedItem] = []
    for row in pkg.get("items") or []:
        if not isinstance(row, dict):
            continue
        idx, qty = _int_or_none(row.get("itemIndex")), _int_or_none(row.get("quantity"))
        if qty is None:  # unitMultiplier-style floats: whole units only
            q = row.get("quantity")
            qty = int(q) if isinstance(q, float) else None
        if idx is None or not qty or qty <= 0 or not 0 <= idx < len(lines):
            continue
        line = lines[idx]
        price = _int_or_none(row.get("price"))
        out.append(
            ReturnedItem(
                sku=str(line.get("id") or ""),
                quantity=qty,
                unique_id=str(line.get("uniqueId") or ""),
                amount=_lenient_cents(price * qty, currency, mode) if price is not None else None,
                line_index=idx,
            )
        )
    rest = pkg.get("restitutions") or {}
    refund = (rest.get("Refund") or rest.get("refund")) if isinstance(rest, dict) else None
    rows = refund.get("items") if isinstance(refund, dict) else None
    freight = any(isinstance(r, dict) and r.get("useFreight") is True for r in rows or [])
    if not out:
        for row in rows or []:
            if not isinstance(row, dict) or row.get("isCompensation") is True:
                continue
            qty = _int_or_none(row.get("quantity"))
            if not qty or qty <= 0 or not row.get("id"):
                continue
            price = _int_or_none(row.get("price"))
            out.append(
                ReturnedItem(
                    sku=str(row.get("id")),
                    quantity=qty,
                    amount=_lenient_cents(price * qty, currency, mode) if price is not None else None,
                )
            )
    return tuple(out), freight


@dataclass(frozen=True, slots=True)
class Note:
    note_id: str
    order_id: str
    description: str
    created_at: Instant | None

    @classmethod
    def from_vtex(cls, body: dict[str, Any]) -> Note:
        if not isinstance(body, dict) or not body.get("id"):
            raise BadResponse("VTEX sent a note without an id")
        target = body.get("target") or {}
        return cls(
            note_id=str(body["id"]),
            order_id=str(target.get("id") or ""),
            description=str(body.get("description") or ""),
            created_at=_instant(body.get("creationDate"), "note creationDate", required=False),
        )
