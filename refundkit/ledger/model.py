"""The refund ledger's records: entries (refunds and reversals), per-order state, quotes and results.

Pure data and arithmetic; no I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..errors import LedgerError
from ..money import Money
from ..timeutil import Instant, parse_instant

__all__ = [
    "KNOWN_SOURCES",
    "LedgerEntry",
    "OrderLedger",
    "Quote",
    "RecordResult",
    "RefundConflict",
    "RefundRefused",
    "head_id",
    "normalise_ref",
    "refund_id",
    "reversal_id",
]

#: Where money went back to the customer. Add more with REFUNDKIT_EXTRA_SOURCES=name,name.
KNOWN_SOURCES: tuple[str, ...] = ("apace", "cash", "bank-transfer", "store-credit", "other")

REFUND, REVERSAL = "refund", "reversal"


class RefundRefused(LedgerError):
    """Validation refused the refund; nothing was written. ``problems`` lists every reason, each saying what to fix."""

    def __init__(self, problems: list[str], quote: Quote | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.quote = quote


class RefundConflict(LedgerError):
    """A refund with the same identity (order + source + reference) exists with a different amount or currency."""

    def __init__(self, message: str, existing: LedgerEntry) -> None:
        super().__init__(message)
        self.existing = existing


def normalise_ref(ref: str) -> str:
    """Case, width and spacing do not make a different reference: ``' APC-123 '`` == ``'apc-123'``."""
    text = unicodedata.normalize("NFKC", ref).strip().casefold()
    return re.sub(r"\s+", " ", text)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def refund_id(order_id: str, source: str, external_ref: str) -> str:
    """The refund's identity, as a Master Data id (lower case: storage ids are case-insensitive but the search
    indexer is not, so one spelling only)."""
    return "rf-" + _digest(order_id.strip().lower(), source.strip().lower(), normalise_ref(external_ref))


def reversal_id(refund: str) -> str:
    """A refund is reversed at most once, so the reversal's identity is the refund's."""
    return "rv-" + _digest(refund, "reversal")


def head_id(order_id: str) -> str:
    return "order-" + order_id.strip().lower()


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger. ``amount`` is positive for both kinds; a reversal takes its refund's amount back."""

    entry_id: str
    order_id: str
    kind: str  # "refund" | "reversal"
    amount: Money
    refunded_at: Instant
    source: str
    external_ref: str
    reason: str
    note: str
    recorded_by: str
    recorded_at: Instant
    reverses: str | None = None
    over_refund: bool = False
    over_refund_reason: str = ""
    note_status: str = "pending"  # "pending" | "posted"
    note_id: str | None = None
    #: Which write appended this entry to the order's ledger document (kept there only): tells a recorder whether
    #: the entry it reads back is its own or a concurrent recorder's of the same refund.
    write_id: str = field(default="", compare=False)

    @property
    def signed(self) -> Money:
        """What this entry adds to the order's offline refunded total."""
        return self.amount if self.kind == REFUND else -self.amount

    def to_document(self) -> dict[str, Any]:
        """The Master Data document (field names as in the saved schema)."""
        return {
            "id": self.entry_id,
            "orderId": self.order_id,
            "kind": self.kind,
            "amount": self.amount.minor,
            "currency": self.amount.currency,
            "refundedAt": self.refunded_at.filter_format(),
            "source": self.source,
            "externalRef": self.external_ref,
            "reason": self.reason,
            "note": self.note,
            "recordedBy": self.recorded_by,
            "recordedAt": self.recorded_at.filter_format(),
            "reverses": self.reverses,
            "overRefund": self.over_refund,
            "overRefundReason": self.over_refund_reason,
            "noteStatus": self.note_status,
            "noteId": self.note_id,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> LedgerEntry:
        try:
            amount = doc["amount"]
            if isinstance(amount, float) and amount.is_integer():
                amount = int(amount)
            return cls(
                entry_id=str(doc["id"]),
                order_id=str(doc["orderId"]),
                kind=str(doc["kind"]),
                amount=Money(amount, str(doc["currency"])),
                refunded_at=parse_instant(doc["refundedAt"]),
                source=str(doc.get("source") or ""),
                external_ref=str(doc.get("externalRef") or ""),
                reason=str(doc.get("reason") or ""),
                note=str(doc.get("note") or ""),
                recorded_by=str(doc.get("recordedBy") or ""),
                recorded_at=parse_instant(doc["recordedAt"]),
                reverses=doc.get("reverses") or None,
                over_refund=bool(doc.get("overRefund")),
                over_refund_reason=str(doc.get("overRefundReason") or ""),
                note_status=str(doc.get("noteStatus") or "pending"),
                note_id=doc.get("noteId") or None,
                write_id=str(doc.get("writeId") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(
                f"ledger document {doc.get('id')!r} is damaged ({exc}); inspect it in Master Data"
            ) from None


@dataclass(frozen=True)
class OrderLedger:
    """Every ledger entry of one order, as held in the order's ledger document (the source of truth)."""

    order_id: str
    version: int
    entries: tuple[LedgerEntry, ...] = ()

    def entry(self, entry_id: str) -> LedgerEntry | None:
        for e in self.entries:
            if e.entry_id == entry_id:
                return e
        return None

    def offline_refunded(self, currency: str) -> Money:
        total = Money.zero(currency)
        for e in self.entries:
            total = total + e.signed  # raises CurrencyMismatch if an entry is in another currency
        return total

    def reversal_of(self, refund: str) -> LedgerEntry | None:
        for e in self.entries:
            if e.kind == REVERSAL and e.reverses == refund:
                return e
        return None

    def to_document(self) -> dict[str, Any]:
        return {
            "id": head_id(self.order_id),
            "orderId": self.order_id,
            "version": self.version,
            "entries": [e.to_document() for e in self.entries],
        }

    @classmethod
    def from_document(cls, order_id: str, doc: dict[str, Any] | None) -> OrderLedger:
        if not doc:
            return cls(order_id, 0, ())
        try:
            version = int(doc.get("version") or 0)
        except (TypeError, ValueError):
            raise LedgerError(f"the ledger document of order {order_id} has no readable version") from None
        return cls(order_id, version, tuple(LedgerEntry.from_document(d) for d in doc.get("entries") or []))


@dataclass(frozen=True)
class Quote:
    """Everything needed to decide on a refund for one order, and every problem with the proposed one."""

    order_id: str
    status: str
    currency: str
    created_at: Instant
    order_total: Money
    native_refunded: Money
    offline_refunded: Money
    entries: tuple[LedgerEntry, ...]
    return_invoices: tuple[Any, ...]
    proposed: Money | None = None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def refundable(self) -> Money:
        """Order total − refunds VTEX made (return invoices) − offline refunds net of reversals; may be negative
        after an over-refund."""
        return self.order_total - self.native_refunded - self.offline_refunded

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        def m(x: Money | None) -> str | None:
            return None if x is None else x.decimal_str()

        return {
            "order_id": self.order_id,
            "status": self.status,
            "currency": self.currency,
            "created_at": self.created_at.isoformat(),
            "order_total": m(self.order_total),
            "native_refunded": m(self.native_refunded),
            "offline_refunded": m(self.offline_refunded),
            "refundable": m(self.refundable),
            "proposed": m(self.proposed),
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "entries": [
                {
                    "id": e.entry_id,
                    "kind": e.kind,
                    "amount": e.amount.decimal_str(),
                    "source": e.source,
                    "external_ref": e.external_ref,
                    "refunded_at": e.refunded_at.isoformat(digits=3),
                    "reverses": e.reverses,
                }
                for e in self.entries
            ],
            "return_invoices": [
                {
                    "invoice_number": r.invoice_number,
                    "value": r.value.decimal_str(),
                    "issued_at": r.issued_at.isoformat(digits=3) if r.issued_at else None,
                }
                for r in self.return_invoices
            ],
        }


@dataclass(frozen=True)
class RecordResult:
    """What :meth:`Ledger.record` did. ``outcome`` is ``"recorded"`` or ``"already recorded"``."""

    outcome: str
    entry: LedgerEntry
    quote: Quote
    pending: tuple[str, ...] = ()  # "document" and/or "note": finished later by `refundkit reconcile`
    messages: tuple[str, ...] = field(default=())

    @property
    def recorded_now(self) -> bool:
        return self.outcome == "recorded"
