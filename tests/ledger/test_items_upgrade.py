"""An entity made before refunds by item keeps working, and ``refundkit setup`` upgrades it without losing data.

The store below is made as the version before refunds by item made it: its entry schema (copied here, as it was
saved) has no ``lines`` or ``restock``, and its documents were written without them.
"""

from __future__ import annotations

import copy
from typing import Any

from refundkit.ledger.model import refund_id
from refundkit.ledger.schemas import ENTRY_SCHEMA, HEAD_SCHEMA, SCHEMA_NAME
from refundkit.money import Money
from refundkit.sandbox.orderdetail import item_shape
from refundkit.timeutil import Instant

from .helpers import Env, stored_doc

#: The entry schema as the version before refunds by item saved it (refundkit-v1), copied verbatim.
OLD_ENTRY_SCHEMA: dict[str, Any] = {
    "title": "refundkit ledger entry: an offline refund or its reversal (VTEX moved no money)",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "orderId": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "enum": ["refund", "reversal"]},
        "amount": {"type": "integer", "minimum": 1, "description": "minor units of currency"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "refundedAt": {"type": "string", "format": "date-time"},
        "refundedAtMs": {"type": "integer"},
        "source": {"type": "string"},
        "externalRef": {"type": "string"},
        "reason": {"type": "string"},
        "note": {"type": "string"},
        "recordedBy": {"type": "string"},
        "recordedAt": {"type": "string", "format": "date-time"},
        "reverses": {"type": ["string", "null"]},
        "overRefund": {"type": "boolean"},
        "overRefundReason": {"type": "string"},
        "noteStatus": {"type": "string", "enum": ["pending", "posted", "impossible"]},
        "noteId": {"type": ["string", "null"]},
        "noteProblem": {"type": "string"},
        "noteAttemptAt": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": [
        "orderId",
        "kind",
        "amount",
        "currency",
        "refundedAt",
        "source",
        "externalRef",
        "recordedBy",
        "recordedAt",
        "noteStatus",
    ],
    "v-indexed": [
        "orderId",
        "kind",
        "currency",
        "refundedAt",
        "refundedAtMs",
        "source",
        "externalRef",
        "recordedBy",
        "recordedAt",
        "reverses",
        "noteStatus",
    ],
    "v-default-fields": [
        "id",
        "orderId",
        "kind",
        "amount",
        "currency",
        "refundedAt",
        "refundedAtMs",
        "source",
        "externalRef",
        "reason",
        "note",
        "recordedBy",
        "recordedAt",
        "reverses",
        "overRefund",
        "overRefundReason",
        "noteStatus",
        "noteId",
        "noteProblem",
        "noteAttemptAt",
    ],
    "v-cache": False,
}


def _old_entry(order_id: str, ref: str, minor: int, when: Instant) -> dict[str, Any]:
    """An entry document as the version before refunds by item wrote it: no lines, no restock."""
    return {
        "id": refund_id(order_id, "cash", ref),
        "orderId": order_id,
        "kind": "refund",
        "amount": minor,
        "currency": "BRL",
        "refundedAt": when.filter_format(),
        "refundedAtMs": when.ns // 1_000_000,
        "source": "cash",
        "externalRef": ref,
        "reason": "",
        "note": "",
        "recordedBy": "old-version",
        "recordedAt": when.filter_format(),
        "reverses": None,
        "overRefund": False,
        "overRefundReason": "",
        "noteStatus": "posted",
        "noteId": "note-old",
        "noteProblem": "",
        "noteAttemptAt": None,
    }


def test_setup_upgrades_an_entity_made_before_refunds_by_item_and_its_documents_keep_working(
    make_env: Any,
) -> None:
    env: Env = make_env(setup=False)
    md = env.client().masterdata
    entity, head_entity = "offlineRefund", "offlineRefundOrder"
    assert "lines" not in OLD_ENTRY_SCHEMA["properties"] and "lines" in ENTRY_SCHEMA["properties"]
    md.save_schema(entity, SCHEMA_NAME, OLD_ENTRY_SCHEMA)
    md.save_schema(head_entity, SCHEMA_NAME, HEAD_SCHEMA)
    o = env.orders.pick(
        lambda x: (
            x.status == "invoiced"
            and x.currency == "BRL"
            and not x.input_invoices
            and x.items[0].quantity >= 2
            and x.total_cents >= 5000
            and len({i.sku for i in x.items}) == len(x.items)
            and len(item_shape(x).lines) == len(x.items)
        ),
        "order with two units of its first SKU",
    )
    when = Instant(o.created.ns + 86_400 * 10**9)
    old = _old_entry(o.order_id, "OLD-1", 1000, when)
    md.put(entity, old["id"], old, schema=SCHEMA_NAME)
    head = {
        "id": f"order-{o.order_id.lower()}",
        "orderId": o.order_id,
        "version": 1,
        "entries": [{**old, "writeId": "w-old"}],
        "firstRefundedAtMs": when.ns // 1_000_000,
        "lastRefundedAtMs": when.ns // 1_000_000,
    }
    md.put(head_entity, head["id"], head, schema=SCHEMA_NAME)
    before_entry = copy.deepcopy(stored_doc(env.sb, entity, old["id"]))
    before_head = copy.deepcopy(stored_doc(env.sb, head_entity, head["id"]))

    ledger = env.ledger(user="tester")
    # before setup: the old documents read, and an item refund records (the old schema does not refuse new fields)
    (entry,) = ledger.order_ledger(o.order_id).entries
    assert entry.amount == Money(1000, "BRL") and entry.lines == () and entry.restock is None
    assert ledger.order_items(o.order_id).lines[0].refundable == o.items[0].quantity
    span = {"start": Instant(when.ns - 10**9), "end": Instant(when.ns + 10**9)}
    assert [e.entry_id for e in ledger.entries(**span)] == [old["id"]]

    done = ledger.setup()
    assert f"schema {SCHEMA_NAME} of {entity}: saved" in done
    assert md.get_schema(entity, SCHEMA_NAME) is not None
    assert (md.get_schema(entity, SCHEMA_NAME) or {}).get("properties", {}).get("lines") is not None
    # nothing was lost or changed by the upgrade
    assert stored_doc(env.sb, entity, old["id"]) == before_entry
    assert stored_doc(env.sb, head_entity, head["id"]) == before_head
    assert not [r for r in list(env.sb.requests) if r.method == "DELETE"]
    listed = {e.entry_id: e for e in ledger.entries(**span)}
    assert listed[old["id"]].amount == Money(1000, "BRL") and listed[old["id"]].lines == ()

    # item refunds record on the upgraded entity, beside the old amount-only one, and count their units
    sku = o.items[0].sku
    r = ledger.record(o.order_id, None, "cash", "NEW-1", items=[f"{sku}:1"], restock=True)
    assert r.recorded_now and not r.pending
    doc = stored_doc(env.sb, entity, r.entry.entry_id)
    assert doc is not None and doc["lines"][0]["sku"] == sku and doc["restock"] is True
    entries = ledger.order_ledger(o.order_id).entries
    assert [e.external_ref for e in entries] == ["OLD-1", "NEW-1"]
    assert ledger.order_items(o.order_id).lines[0].refunded_offline == 1
    q = ledger.quote(o.order_id)
    assert q.offline_refunded == Money(1000, "BRL") + r.entry.amount
