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
    },
    "required": ["orderId", "version", "entries"],
    "v-indexed": ["orderId", "version"],
    "v-default-fields": ["id", "orderId", "version", "entries"],
    "v-cache": False,
}


def head_document(ledger: OrderLedger) -> dict[str, Any]:
    """The order's ledger document: every entry with its write id; note status lives on the entry document only."""
    doc = ledger.to_document()
    for e, entry in zip(doc["entries"], ledger.entries, strict=True):
        e.pop("noteStatus", None)
        e.pop("noteId", None)
        if entry.write_id:
            e["writeId"] = entry.write_id
    return doc


def same_schema(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(current.get(k) == v for k, v in wanted.items())
