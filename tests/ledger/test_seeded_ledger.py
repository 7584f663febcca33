"""A ledger put straight into the sandbox (``refundkit.testing.seed_ledger``, what bench/reconcile_scale.py runs on)
has the shape a recorded one has, and ``reconcile`` finishes it as it finishes a recorded one."""

from __future__ import annotations

from dataclasses import replace

from refundkit.ledger import Ledger
from refundkit.ledger.model import REFUND, REVERSAL, LedgerEntry, head_id, refund_id, reversal_id
from refundkit.money import Money
from refundkit.sandbox import OrderSummary
from refundkit.testing import SeedEntry, seed_ledger
from refundkit.timeutil import Instant

from .helpers import Env, note_posts, notes_marked, notes_of, stored_doc

ENTITY, HEAD = "offlineRefund", "offlineRefundOrder"
SYSTEM = {"createdIn", "updatedIn", "accountId", "accountName", "dataEntityId"}


def _refund(order: OrderSummary, cents: int, ref: str) -> LedgerEntry:
    """A refund as ``Ledger.record`` makes it, a day after the order."""
    at = Instant(order.created.ns + 86_400 * 10**9)
    return LedgerEntry(
        entry_id=refund_id(order.order_id, "cash", ref),
        order_id=order.order_id,
        kind=REFUND,
        amount=Money(cents, order.currency),
        refunded_at=at,
        source="cash",
        external_ref=ref,
        reason="damaged",
        note="",
        recorded_by="tester",
        recorded_at=at,
    )


def test_a_seeded_entry_has_the_shape_of_a_recorded_one(env: Env, ledger: Ledger) -> None:
    recorded_order, seeded_order = env.orders.invoiced(), env.orders.invoiced()
    r = ledger.record(recorded_order.order_id, "4.00", "cash", "R-1")
    seed_ledger(env.sb, [SeedEntry(replace(r.entry, order_id=seeded_order.order_id, entry_id="rf-seeded"))])

    def shape(doc: dict | None) -> dict:
        assert doc is not None
        return {k: type(v).__name__ for k, v in doc.items()}

    assert shape(stored_doc(env.sb, ENTITY, "rf-seeded")) == shape(stored_doc(env.sb, ENTITY, r.entry.entry_id))
    seeded_head = stored_doc(env.sb, HEAD, head_id(seeded_order.order_id))
    recorded_head = stored_doc(env.sb, HEAD, head_id(recorded_order.order_id))
    assert shape(seeded_head) == shape(recorded_head)
    assert shape(seeded_head["entries"][0]) == shape(recorded_head["entries"][0])
    assert seeded_head["entries"][0]["noteStatus"] == "pending" == recorded_head["entries"][0]["noteStatus"]
    seeded_note, recorded_note = notes_of(env.sb, seeded_order.order_id), notes_of(env.sb, recorded_order.order_id)
    assert [n["description"].split(". ")[0] for n in seeded_note] == [
        n["description"].split(". ")[0] for n in recorded_note
    ]
    assert stored_doc(env.sb, ENTITY, "rf-seeded")["noteId"] == seeded_note[0]["id"]
    # read back through the ledger as any recorded entry is
    listed = ledger.entries(order_id=seeded_order.order_id)
    assert [(e.entry_id, e.amount, e.note_status) for e in listed] == [("rf-seeded", Money(400, "BRL"), "posted")]


def test_reconcile_finishes_a_seeded_ledger_each_missing_note_posted_once(env: Env, ledger: Ledger) -> None:
    """Every state a recording can stop in, seeded at once: complete and settled, complete but not settled, the note
    missing, the entry document missing with or without the note, an over-refunded order, a reversal."""
    a, b, c, over = (env.orders.invoiced(min_total=10_000) for _ in range(4))
    settled = _refund(a, 100, "A-1")
    unsettled = _refund(b, 100, "B-1")
    no_note = _refund(b, 200, "B-2")
    no_doc = _refund(c, 100, "C-1")
    no_doc_noted = _refund(c, 300, "C-2")
    reversal = replace(no_doc, entry_id=reversal_id(no_doc.entry_id), kind=REVERSAL, reverses=no_doc.entry_id)
    beyond = [_refund(over, over.total_cents // 2 + 1, f"O-{k}") for k in range(2)]
    seeds = [
        SeedEntry(settled, settled=True),
        SeedEntry(unsettled),
        SeedEntry(no_note, note=False),
        SeedEntry(no_doc, note=False, document=False),
        SeedEntry(no_doc_noted, document=False),
        SeedEntry(reversal),
        *(SeedEntry(e) for e in beyond),
    ]
    seed_ledger(env.sb, seeds)
    env.sb.clear_records()

    report = ledger.reconcile()
    assert sorted(report.notes_posted) == sorted([no_note.entry_id, no_doc.entry_id])
    assert report.notes_found == [no_doc_noted.entry_id]
    assert sorted(report.documents_repaired) == sorted([no_doc.entry_id, no_doc_noted.entry_id])
    assert [o["order_id"] for o in report.over_refunded] == [over.order_id]
    assert report.failed == [] and report.in_progress == [] and report.orders_checked == 4
    assert note_posts(env.sb) == 2
    for s in seeds:
        assert notes_marked(env.sb, s.entry.order_id, s.entry.entry_id) == 1
        assert stored_doc(env.sb, ENTITY, s.entry.entry_id)["noteStatus"] == "posted"
    # the order an earlier reconcile settled is only read; the others' ledger documents now say every note posted
    assert not any(r.method == "PUT" and head_id(a.order_id) in r.path for r in env.sb.requests)
    head = stored_doc(env.sb, HEAD, head_id(b.order_id))
    assert [e["noteStatus"] for e in head["entries"]] == ["posted", "posted"]

    again = ledger.reconcile()  # nothing left to do
    assert again.notes_posted == [] and again.documents_repaired == [] and note_posts(env.sb) == 2
