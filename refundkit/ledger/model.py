"""The refund ledger's records: entries (refunds and reversals), per-order state, quotes and results.

Pure data and arithmetic; no I/O.
"""

from __future__ import annotations

import hashlib
import operator
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final

from ..errors import LedgerError
from ..money import Money
from ..timeutil import Instant, parse_instant, utc_now

__all__ = [
    "ENTRY_FIELDS",
    "ENTRY_FIELD_NAMES",
    "KNOWN_SOURCES",
    "REFUND",
    "REVERSAL",
    "EntryField",
    "EntryKind",
    "ExactlyOnceUnavailable",
    "LedgerEntry",
    "NoteStatus",
    "OrderLedger",
    "Outcome",
    "Pending",
    "Quote",
    "RecordResult",
    "RefundConflict",
    "RefundLine",
    "RefundRefused",
    "head_entity",
    "head_id",
    "make_reference",
    "normalise_ref",
    "refund_id",
    "reversal_id",
    "strip_format",
]

#: Where money went back to the customer. Add more with REFUNDKIT_EXTRA_SOURCES=name,name.
KNOWN_SOURCES: tuple[str, ...] = ("apace", "cash", "bank-transfer", "store-credit", "other")


class EntryKind(StrEnum):
    """What a ledger entry is: money went back to the customer, or an earlier refund is undone."""

    REFUND = "refund"
    REVERSAL = "reversal"


REFUND: Final = EntryKind.REFUND
REVERSAL: Final = EntryKind.REVERSAL


class NoteStatus(StrEnum):
    """Whether the entry's order note is on the order yet (``refundkit reconcile`` posts a pending one).

    ``impossible``: VTEX will not take it (an order holds at most 30 notes); the refund stays recorded and
    ``noteProblem`` says why."""

    PENDING = "pending"
    POSTED = "posted"
    IMPOSSIBLE = "impossible"


class Outcome(StrEnum):
    """What :meth:`Ledger.record` (or ``reverse``) did."""

    RECORDED = "recorded"
    ALREADY_RECORDED = "already recorded"


class Pending(StrEnum):
    """What is still to be written after the entry landed in the order's ledger document."""

    NOTE = "note"
    DOCUMENT = "document"


class RefundRefused(LedgerError):
    """Validation refused the refund; nothing was written. ``problems`` lists every reason, each saying what to fix."""

    def __init__(self, problems: list[str], quote: Quote | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.quote = quote


class ExactlyOnceUnavailable(RefundRefused):
    """This account's Master Data gives no safe way to record exactly once (see :mod:`refundkit.ledger.verdict`);
    nothing was written. The one problem says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__([reason])


class RefundConflict(LedgerError):
    """A refund with the same identity (order + source + reference) exists with a different amount or currency."""

    def __init__(self, message: str, existing: LedgerEntry) -> None:
        super().__init__(message)
        self.existing = existing


def strip_format(text: str, keep: str = "") -> str:
    """``text`` without Unicode format characters (category Cf: zero-width space, byte-order mark, soft hyphen,
    direction marks…) other than those in ``keep``: they are invisible, so they never make a different text."""
    return "".join(c for c in text if c in keep or unicodedata.category(c) != "Cf")


def normalise_ref(ref: str) -> str:
    """Case, width, spacing and invisible characters do not make a different reference: ``' APC-123 '``,
    ``'apc-123'``, ``'ＡＰＣ-123'`` and ``'APC-123\u200b'`` are one reference (NFKC, format characters removed,
    case-folded, spaces collapsed)."""
    text = strip_format(unicodedata.normalize("NFKC", ref)).casefold()
    text = strip_format(unicodedata.normalize("NFKC", text)).strip()
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


def head_entity(entity: str) -> str:
    """The entity of the orders' ledger documents, beside ``entity`` (the entry documents')."""
    return entity + "Order"


def make_reference(source: str, when: date | None = None) -> str:
    """A reference for a refund that has none (cash handed over, no receipt number): ``CASH-20261126-7F3A``.

    Write it on the receipt: the reference is part of the refund's identity, so typing the same one again finds the
    same refund instead of recording a second one.
    """
    day = when or utc_now().to_datetime().date()
    prefix = (source or "refund").strip().upper() or "REFUND"
    return f"{prefix}-{day:%Y%m%d}-{secrets.token_hex(2).upper()}"


@dataclass(frozen=True)
class RefundLine:
    """One line of a refund by item: ``kind`` ``"item"`` (``quantity`` units of SKU ``sku``, the order line
    ``unique_id``) or ``"shipping"`` (quantity 0); ``amount`` what went back for it. ``line_index`` is the line's
    position in the order's ``items[]`` (kept for lines whose order gives no ``uniqueId``)."""

    kind: str
    sku: str
    unique_id: str
    name: str
    quantity: int
    amount: Money
    line_index: int | None = None

    def to_doc(self) -> dict[str, Any]:
        """The line as the entry document keeps it."""
        doc: dict[str, Any] = {
            "kind": self.kind,
            "sku": self.sku,
            "uniqueId": self.unique_id,
            "name": self.name,
            "quantity": self.quantity,
            "amountMinor": self.amount.minor,
        }
        if self.line_index is not None:
            doc["lineIndex"] = self.line_index
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any], currency: str) -> RefundLine:
        """A line of an entry document (its amount is in the entry's ``currency``); ValueError when damaged."""
        if not isinstance(doc, dict):
            raise ValueError("a line is not an object")
        kind = str(doc.get("kind") or "item")
        amount = doc.get("amountMinor")
        qty = doc.get("quantity", 0)
        index = doc.get("lineIndex")
        for name, v in (("amountMinor", amount), ("quantity", qty)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) != int(v):
                raise ValueError(f"line {name} {v!r} is not a whole number")
        return cls(
            kind=kind,
            sku=str(doc.get("sku") or ""),
            unique_id=str(doc.get("uniqueId") or ""),
            name=str(doc.get("name") or ""),
            quantity=int(qty),
            amount=Money(int(amount), currency),  # type: ignore[arg-type]  # checked a number just above
            line_index=int(index) if isinstance(index, int) and not isinstance(index, bool) else None,
        )

    def key(self) -> tuple[str, str, str, int, int]:
        """What makes two lines the same refund (the name is for people, not identity)."""
        return (self.kind, self.sku, self.unique_id, self.quantity, self.amount.minor)


@dataclass(frozen=True)
class EntryField:
    """One field of an entry document: its name in Master Data, where its value comes from on
    :class:`LedgerEntry` (a dotted attribute path), and what the saved schema says of it."""

    name: str
    attr: str
    schema: dict[str, Any]
    required: bool = False
    indexed: bool = False

    def value(self, entry: LedgerEntry) -> Any:
        v = operator.attrgetter(self.attr)(entry)
        if isinstance(v, Instant):
            return v.filter_format()
        if isinstance(v, StrEnum):
            return v.value
        return v


_DATE_TIME: Final = {"type": "string", "format": "date-time"}
_STRING: Final = {"type": "string"}

#: The entry document, field by field: the one definition from which the document, the saved JSON schema, its
#: indexed and default fields and the fields a listing asks for are all derived.
ENTRY_FIELDS: Final[tuple[EntryField, ...]] = (
    EntryField("id", "entry_id", _STRING),
    EntryField("orderId", "order_id", {"type": "string", "minLength": 1}, required=True, indexed=True),
    EntryField("kind", "kind", {"type": "string", "enum": [k.value for k in EntryKind]}, required=True, indexed=True),
    EntryField(
        "amount",
        "amount.minor",
        {"type": "integer", "minimum": 1, "description": "minor units of currency"},
        required=True,
    ),
    EntryField("currency", "amount.currency", {"type": "string", "pattern": "^[A-Z]{3}$"}, required=True, indexed=True),
    EntryField("refundedAt", "refunded_at", _DATE_TIME, required=True, indexed=True),
    # The same instant as an integer (epoch milliseconds): range filters use it, in the numeric `between` form VTEX
    # documents, instead of a quoted ISO timestamp whose handling by _where VTEX does not document. Not required:
    # documents written before it existed lack it (listings ask for those with `is null` and cut them locally).
    EntryField("refundedAtMs", "refunded_at_ms", {"type": "integer"}, indexed=True),
    EntryField("source", "source", _STRING, required=True, indexed=True),
    EntryField("externalRef", "external_ref", _STRING, required=True, indexed=True),
    EntryField("reason", "reason", _STRING),
    EntryField("note", "note", _STRING),
    EntryField("recordedBy", "recorded_by", _STRING, required=True, indexed=True),
    EntryField("recordedAt", "recorded_at", _DATE_TIME, required=True, indexed=True),
    EntryField("reverses", "reverses", {"type": ["string", "null"]}, indexed=True),
    EntryField("overRefund", "over_refund", {"type": "boolean"}),
    EntryField("overRefundReason", "over_refund_reason", _STRING),
    EntryField(
        "noteStatus",
        "note_status",
        {"type": "string", "enum": [s.value for s in NoteStatus]},
        required=True,
        indexed=True,
    ),
    EntryField("noteId", "note_id", {"type": ["string", "null"]}),
    EntryField("noteProblem", "note_problem", _STRING),
    #: When a note post was answered by nothing (a lost answer: it may be on the order, and VTEX's notes list may
    #: not show it yet): nobody posts it again before the notes list has had time to show it.
    EntryField("noteAttemptAt", "note_attempt_at", {"type": ["string", "null"], "format": "date-time"}),
    # refunds by item: the lines (SKU, uniqueId, name, quantity, amount); absent from documents written before them
    EntryField(
        "lines",
        "lines_doc",
        {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["item", "shipping"]},
                    "sku": {"type": "string"},
                    "uniqueId": {"type": "string"},
                    "name": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 0},
                    "amountMinor": {"type": "integer", "minimum": 0},
                    "lineIndex": {"type": "integer", "minimum": 0},
                },
                "required": ["kind", "sku", "quantity", "amountMinor"],
            },
        },
    ),
    # whether the goods go back to stock (recorded only: refundkit moves no inventory); null when not said
    EntryField("restock", "restock", {"type": ["boolean", "null"]}),
)
ENTRY_FIELD_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in ENTRY_FIELDS)
_DOC_NAME: Final = {f.attr: f.name for f in ENTRY_FIELDS}


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger. ``amount`` is positive for both kinds; a reversal takes its refund's amount back."""

    entry_id: str
    order_id: str
    kind: EntryKind
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
    note_status: NoteStatus = NoteStatus.PENDING
    note_id: str | None = None
    note_problem: str = ""
    note_attempt_at: Instant | None = None
    #: The reconcile run that claimed the posting of this entry's note, and when (kept in the order's ledger
    #: document only): a note is claimed there with a conditional write before it is posted, so one poster posts it.
    note_claim: str = field(default="", compare=False)
    note_claimed_at: Instant | None = field(default=None, compare=False)
    #: Which write appended this entry to the order's ledger document (kept there only): tells a recorder whether
    #: the entry it reads back is its own or a concurrent recorder's of the same refund.
    write_id: str = field(default="", compare=False)
    #: refunds by item: what the refund gave back, line by line (empty: an amount only, as before)
    lines: tuple[RefundLine, ...] = ()
    #: whether the goods went back to stock (a recorded flag; None: not said)
    restock: bool | None = None

    @property
    def lines_doc(self) -> list[dict[str, Any]] | None:
        """The lines as the entry document keeps them (None when the refund names none)."""
        return [line.to_doc() for line in self.lines] if self.lines else None

    @property
    def refunded_at_ms(self) -> int:
        """``refunded_at`` as epoch milliseconds (rounded down), the indexed integer range filters use."""
        return self.refunded_at.ns // 1_000_000

    @property
    def signed(self) -> Money:
        """What this entry adds to the order's offline refunded total."""
        return self.amount if self.kind == REFUND else -self.amount

    def to_document(self) -> dict[str, Any]:
        """The Master Data document (field names as in the saved schema: :data:`ENTRY_FIELDS`)."""
        return {f.name: f.value(self) for f in ENTRY_FIELDS}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> LedgerEntry:
        """An entry document, or an entry of an order's ledger document (which has no note status but a
        ``writeId``)."""
        v = {f.attr: doc.get(f.name) for f in ENTRY_FIELDS}

        def need(attr: str) -> Any:
            if v[attr] is None:
                raise KeyError(_DOC_NAME[attr])
            return v[attr]

        try:
            amount = need("amount.minor")
            if isinstance(amount, float) and amount.is_integer():
                amount = int(amount)
            currency = str(need("amount.currency"))
            raw_lines = v["lines_doc"] or []
            if not isinstance(raw_lines, list):
                raise ValueError("lines is not a list")
            restock = v["restock"]
            return cls(
                entry_id=str(need("entry_id")),
                order_id=str(need("order_id")),
                kind=EntryKind(need("kind")),
                amount=Money(amount, currency),
                refunded_at=parse_instant(need("refunded_at")),
                source=str(v["source"] or ""),
                external_ref=str(v["external_ref"] or ""),
                reason=str(v["reason"] or ""),
                note=str(v["note"] or ""),
                recorded_by=str(v["recorded_by"] or ""),
                recorded_at=parse_instant(need("recorded_at")),
                reverses=v["reverses"] or None,
                over_refund=bool(v["over_refund"]),
                over_refund_reason=str(v["over_refund_reason"] or ""),
                note_status=NoteStatus(v["note_status"] or NoteStatus.PENDING),
                note_id=v["note_id"] or None,
                note_problem=str(v["note_problem"] or ""),
                note_attempt_at=parse_instant(v["note_attempt_at"]) if v["note_attempt_at"] else None,
                note_claim=str(doc.get("noteClaim") or ""),
                note_claimed_at=parse_instant(doc["noteClaimedAt"]) if doc.get("noteClaimedAt") else None,
                write_id=str(doc.get("writeId") or ""),
                lines=tuple(RefundLine.from_doc(d, currency) for d in raw_lines),
                restock=restock if isinstance(restock, bool) else None,
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

    def without(self, entry_id: str) -> OrderLedger:
        """The ledger as it was without entry ``entry_id`` (and its reversal): what a retry of it is checked
        against."""
        kept = tuple(e for e in self.entries if entry_id not in (e.entry_id, e.reverses))
        return OrderLedger(self.order_id, self.version, kept)

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
    # VTEX's refunds beyond return invoices (see refundkit.vtex.models.GatewayCheck and README "VTEX's own refunds")
    invoice_refunded: Money | None = None  # return invoices, restitutions counted once; None: same as native
    gateway_refunded: Money | None = None  # refunds on the payment transaction no invoice or change explains
    gateway_checked: bool = True  # False: the transaction could not be read; gateway_note says why
    gateway_note: str = ""
    changes_refunded: Money | None = None  # order changes: already out of order_total, shown for information
    gateway_group_note: str = ""  # the payment transaction is shared by the order's group: how its refunds count
    value_note: str = ""  # VTEX's value already excludes the return invoices: order_total is what was charged
    #: why the order cannot take an offline refund ("" when it can): its status's place (refundkit.statuses)
    blocked: str = ""
    #: a refund by item: its lines at the price paid (scaled down to a lower amount given), in the order given
    lines: tuple[RefundLine, ...] = ()

    @property
    def balance(self) -> Money:
        """What may still be refunded offline, as a person is shown it: 0 when the order cannot take an offline
        refund (:attr:`blocked` says why), else :attr:`refundable`."""
        return Money.zero(self.currency) if self.blocked else self.refundable

    @property
    def refundable(self) -> Money:
        """Order total − refunds VTEX made (return invoices and gateway refunds without an invoice; order changes
        are already out of the total) − offline refunds net of reversals; may be negative after an over-refund."""
        return self.order_total - self.native_refunded - self.offline_refunded

    @property
    def notices(self) -> tuple[str, ...]:
        """Lines a person must see beside the balance (not problems: nothing is refused because of them)."""
        out = []
        if not self.gateway_checked:
            out.append(self.gateway_note or "gateway refunds were not checked")
        if self.gateway_group_note:
            out.append(self.gateway_group_note)
        if self.value_note:
            out.append(self.value_note)
        if self.changes_refunded is not None and self.changes_refunded.minor:
            out.append(
                f"order changes gave back {self.changes_refunded}; the order total already excludes it "
                "(VTEX lowers the order's value), so it is not subtracted again"
            )
        return tuple(out)

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
            "balance": m(self.balance),
            "blocked": self.blocked,
            "proposed": m(self.proposed),
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "invoice_refunded": m(self.invoice_refunded),
            "gateway_refunded": m(self.gateway_refunded),
            "gateway_checked": self.gateway_checked,
            "changes_refunded": m(self.changes_refunded),
            "notices": list(self.notices),
            "entries": [
                {
                    "id": e.entry_id,
                    "kind": e.kind,
                    "amount": e.amount.decimal_str(),
                    "source": e.source,
                    "external_ref": e.external_ref,
                    "refunded_at": e.refunded_at.isoformat(digits=3),
                    "reverses": e.reverses,
                    "note_status": e.note_status.value,
                    "note_problem": e.note_problem,
                }
                for e in self.entries
            ],
            "lines": [
                {
                    "kind": line.kind,
                    "sku": line.sku,
                    "unique_id": line.unique_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "amount": line.amount.decimal_str(),
                }
                for line in self.lines
            ],
            "return_invoices": [
                {
                    "invoice_number": r.invoice_number,
                    "value": r.value.decimal_str(),
                    "refunded": r.refunded.decimal_str() if hasattr(r, "refunded") else r.value.decimal_str(),
                    "issued_at": r.issued_at.isoformat(digits=3) if r.issued_at else None,
                }
                for r in self.return_invoices
            ],
        }


@dataclass(frozen=True)
class RecordResult:
    """What :meth:`Ledger.record` did. ``pending`` is finished later by ``refundkit reconcile``."""

    outcome: Outcome
    entry: LedgerEntry
    quote: Quote
    pending: tuple[Pending, ...] = ()
    messages: tuple[str, ...] = field(default=())

    @property
    def recorded_now(self) -> bool:
        return self.outcome == Outcome.RECORDED
