"""Typed records parsed from VTEX JSON. Money is :class:`~refundkit.money.Money`; times are exact
:class:`~refundkit.timeutil.Instant`. Parsing is strict where refundkit relies on a field and lenient elsewhere: a
missing or mistyped money field raises :class:`~refundkit.errors.BadResponse` naming the order and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BadResponse
from ..money import AmountError, Money, from_vtex_cents
from ..timeutil import Instant, parse_instant

__all__ = ["Note", "Order", "OrderItem", "OrderSummary", "Payment", "ReturnInvoice"]


def _cents(raw: Any, currency: str, where: str) -> Money:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise BadResponse(f"VTEX sent {where} = {raw!r}; expected an integer amount in cents")
    try:
        return Money(from_vtex_cents(raw, currency), currency)
    except AmountError as exc:
        raise BadResponse(f"{where}: {exc}") from None


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
    #: ``None`` when the row does not carry the field at all
    invoice_input: tuple[str, ...] | None = None

    @classmethod
    def from_vtex(cls, row: dict[str, Any]) -> OrderSummary:
        oid = row.get("orderId")
        if not isinstance(oid, str) or not oid:
            raise BadResponse(f"VTEX sent an order list row without an orderId: {str(row)[:120]}")
        currency = _currency(row.get("currencyCode"), f"order {oid}")
        return cls(
            order_id=oid,
            created_at=_instant(row.get("creationDate"), f"creationDate of order {oid}"),  # type: ignore[arg-type]
            status=str(row.get("status") or ""),
            currency=currency,
            total=_cents(row.get("totalValue"), currency, f"totalValue of order {oid}"),
            sales_channel=str(row.get("salesChannel") or ""),
            payment_names=str(row.get("paymentNames") or ""),
            origin=row.get("origin"),
            invoice_input=_invoice_numbers(row),
        )


def _invoice_numbers(row: dict[str, Any]) -> tuple[str, ...] | None:
    """``invoiceInput`` (or the PII list's ``invoicesInput``): absent → None; null or empty → ()."""
    for name in ("invoiceInput", "invoicesInput"):
        if name in row:
            raw = row[name]
            if isinstance(raw, list):
                return tuple(str(x) for x in raw if x not in (None, ""))
            return () if raw in (None, "") else (str(raw),)
    return None


@dataclass(frozen=True, slots=True)
class OrderItem:
    sku: str
    name: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    method: str
    group: str
    value: Money
    installments: int


@dataclass(frozen=True, slots=True)
class ReturnInvoice:
    """A VTEX-native refund: a package of type ``Input`` (return invoice)."""

    invoice_number: str
    value: Money
    issued_at: Instant | None


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

    @property
    def native_refunded(self) -> Money:
        """The sum of the order's return invoices (refunds VTEX itself made)."""
        total = Money.zero(self.currency)
        for inv in self.return_invoices:
            total = total + inv.value
        return total

    @property
    def payment_names(self) -> str:
        return ", ".join(dict.fromkeys(p.method for p in self.payments if p.method))

    @classmethod
    def from_vtex(cls, body: dict[str, Any]) -> Order:
        if not isinstance(body, dict):
            raise BadResponse("VTEX sent an order that is not a JSON object")
        oid = body.get("orderId")
        if not isinstance(oid, str) or not oid:
            raise BadResponse("VTEX sent an order without an orderId")
        prefs = body.get("storePreferencesData") or {}
        currency = _currency(prefs.get("currencyCode") or body.get("currencyCode"), f"order {oid}")
        totals = {
            str(t.get("id")): _cents(t.get("value"), currency, f"totals[{t.get('id')}] of order {oid}")
            for t in body.get("totals") or []
            if isinstance(t, dict) and t.get("id")
        }
        items = tuple(
            OrderItem(
                sku=str(it.get("id") or ""),
                name=str(it.get("name") or ""),
                quantity=int(it.get("quantity") or 0),
                unit_price=_cents(
                    it.get("sellingPrice", it.get("price", 0)) or 0, currency, f"items[{i}].sellingPrice of order {oid}"
                ),
            )
            for i, it in enumerate(body.get("items") or [])
            if isinstance(it, dict)
        )
        payments = []
        for tx in (body.get("paymentData") or {}).get("transactions") or []:
            for p in (tx or {}).get("payments") or []:
                payments.append(
                    Payment(
                        payment_id=str(p.get("id") or ""),
                        method=str(p.get("paymentSystemName") or ""),
                        group=str(p.get("group") or ""),
                        value=_cents(p.get("value", 0), currency, f"payment value of order {oid}"),
                        installments=int(p.get("installments") or 1),
                    )
                )
        invoices = []
        for pkg in (body.get("packageAttachment") or {}).get("packages") or []:
            if isinstance(pkg, dict) and str(pkg.get("type", "")).lower() == "input":
                invoices.append(
                    ReturnInvoice(
                        invoice_number=str(pkg.get("invoiceNumber") or ""),
                        value=_cents(pkg.get("invoiceValue"), currency, f"return invoice value of order {oid}"),
                        issued_at=_instant(
                            pkg.get("issuanceDate"), f"issuanceDate of a return invoice of {oid}", required=False
                        ),
                    )
                )
        return cls(
            order_id=oid,
            sequence=str(body.get("sequence") or ""),
            status=str(body.get("status") or ""),
            currency=currency,
            created_at=_instant(body.get("creationDate"), f"creationDate of order {oid}"),  # type: ignore[arg-type]
            total=_cents(body.get("value"), currency, f"value of order {oid}"),
            totals=totals,
            items=items,
            payments=tuple(payments),
            return_invoices=tuple(invoices),
            sales_channel=str(body.get("salesChannel") or ""),
            origin=body.get("origin"),
            raw=body,
        )


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
