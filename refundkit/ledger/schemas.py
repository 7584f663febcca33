"""The ledger's two Master Data v2 schemas, and the order's ledger document as written.

The entry schema is derived from :data:`~refundkit.ledger.model.ENTRY_FIELDS`, the one definition of the entry
document's fields.
"""

from __future__ import annotations

from typing import Any, Final

from .model import ENTRY_FIELD_NAMES, ENTRY_FIELDS, OrderLedger

__all__ = ["ENTRY_SCHEMA", "HEAD_SCHEMA", "SCHEMA_NAME", "head_document", "same_schema"]

SCHEMA_NAME: Final = "refundkit-v1"

ENTRY_SCHEMA: Final[dict[str, Any]] = {
    "title": "refundkit ledger entry: an offline refund or its reversal (VTEX moved no money)",
    "type": "object",
    "properties": {f.name: f.schema for f in ENTRY_FIELDS},
    "required": [f.name for f in ENTRY_FIELDS if f.required],
    "v-indexed": [f.name for f in ENTRY_FIELDS if f.indexed],
    "v-default-fields": list(ENTRY_FIELD_NAMES),
    "v-cache": False,
}
HEAD_SCHEMA: Final[dict[str, Any]] = {
    "title": "refundkit order ledger: every entry of one order, written with conditional writes on version",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "orderId": {"type": "string", "minLength": 1},
        "version": {"type": "integer", "minimum": 0},
        "entries": {"type": "array", "items": {"type": "object"}},
        # the span of the entries' refundedAt, so a listing of a date range finds the orders whose entries may lie
        # in it (and shows an entry whose entry document is missing) without reading every order's ledger
        # (epoch milliseconds, integers: the numeric `between` form VTEX documents for ranges)
        "firstRefundedAtMs": {"type": ["integer", "null"]},
        "lastRefundedAtMs": {"type": ["integer", "null"]},
    },
    "required": ["orderId", "version", "entries"],
    "v-indexed": ["orderId", "version", "firstRefundedAtMs", "lastRefundedAtMs"],
    "v-default-fields": ["id", "orderId", "version", "entries", "firstRefundedAtMs", "lastRefundedAtMs"],
    "v-cache": False,
}


def head_document(ledger: OrderLedger) -> dict[str, Any]:
    """The order's ledger document: every entry with its write id and, once reconcile has settled it, its note
    (claim, status, id, problem); the span of the entries' refundedAt, for listings of a date range."""
    doc = ledger.to_document()
    for e, entry in zip(doc["entries"], ledger.entries, strict=True):
        if entry.write_id:
            e["writeId"] = entry.write_id
        if entry.note_claim:
            e["noteClaim"] = entry.note_claim
            e["noteClaimedAt"] = entry.note_claimed_at.filter_format() if entry.note_claimed_at else None
    when = [entry.refunded_at for entry in ledger.entries]
    doc["firstRefundedAtMs"] = min(when).ns // 1_000_000 if when else None
    doc["lastRefundedAtMs"] = max(when).ns // 1_000_000 if when else None
    return doc


def same_schema(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(current.get(k) == v for k, v in wanted.items())
