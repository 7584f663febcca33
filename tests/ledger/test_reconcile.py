"""Faults at every step of a record leave the ledger correct; ``reconcile`` finishes what is missing, once."""

from __future__ import annotations

import pytest

from refundkit.errors import ServerError
from refundkit.ledger import Ledger
from refundkit.money import Money

from .helpers import Env, money, note_posts, notes_marked, notes_of, stored_doc

NOTES = r"^/api/do/notes$"
ENTRY_DOC = r"^/api/dataentities/offlineRefund/documents/"
HEAD_DOC = r"^/api/dataentities/offlineRefundOrder/documents/"


def test_note_post_failing_leaves_the_refund_recorded_and_pending(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=500, times=1)  # the note is posted once (a 5xx may have written it) and fails
    r = ledger.record(o.order_id, "4.00", "cash", "R-4")
    assert r.outcome == "recorded" and r.pending == ("note",)
    assert any("reconcile" in m for m in r.messages)
    assert notes_of(env.sb, o.order_id) == []
    doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
    assert doc["noteStatus"] == "pending" and doc["noteId"] is None
    assert ledger.quote(o.order_id).offline_refunded == Money(400, "BRL")  # the refund counts
    listed = ledger.entries(order_id=o.order_id)
    assert [e.note_status for e in listed] == ["pending"]
    # a retry writes nothing and says the note is pending
    before = env.writes()
    again = ledger.record(o.order_id, "4.00", "cash", "R-4")
    assert again.outcome == "already recorded" and again.pending == ("note",)
    assert env.writes() == before

    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id] and report.documents_repaired == [] and report.failed == [], report
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
    assert doc["noteStatus"] == "posted" and doc["noteId"] == notes_of(env.sb, o.order_id)[0]["id"]
    # reconciling again posts nothing
    posts = note_posts(env.sb)
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [] and report.notes_found == [] and note_posts(env.sb) == posts
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_note_post_lost_after_the_write_is_not_posted_twice_by_reconcile(env: Env, ledger: Ledger) -> None:
    """The note was written but every answer was lost and the look-ups failed too: reconcile finds it."""
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=500, after_write=True, times=1)
    env.fault("GET", NOTES, status=500, times=8)  # the look-up after the lost answer fails on every attempt
    r = ledger.record(o.order_id, "4.00", "cash", "R-4")
    assert r.pending == ("note",)
    env.sb.faults.clear()
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1  # it was written
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_found == [r.entry.entry_id] and report.notes_posted == []
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["noteStatus"] == "posted"


def test_entry_document_failing_is_repaired_by_reconcile(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("PUT", ENTRY_DOC, status=500, times=8)
    r = ledger.record(o.order_id, "6.00", "cash", "R-6")
    assert r.outcome == "recorded" and r.pending == ("document",)
    env.sb.faults.clear()
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id) is None
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert ledger.quote(o.order_id).offline_refunded == Money(600, "BRL")
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.documents_repaired == [r.entry.entry_id]
    assert report.notes_found == [r.entry.entry_id] and report.notes_posted == []
    doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
    assert doc["noteStatus"] == "posted" and doc["amount"] == 600 and doc["orderId"] == o.order_id
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_note_and_entry_document_both_failing(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=502, times=1)  # one post (never retried blindly), which fails
    env.fault("PUT", ENTRY_DOC, status=503, times=8)
    r = ledger.record(o.order_id, "6.00", "cash", "R-6")
    assert set(r.pending) == {"note", "document"}
    env.sb.faults.clear()
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id] and report.documents_repaired == [r.entry.entry_id]
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["noteStatus"] == "posted"


def test_ledger_write_failing_writes_nothing_else(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("PUT", HEAD_DOC, status=500, times=8)  # answered before anything is written
    with pytest.raises(ServerError) as info:
        ledger.record(o.order_id, "6.00", "cash", "R-6")
    assert "500" in str(info.value) and "try again" in str(info.value)
    env.sb.faults.clear()
    assert stored_doc(env.sb, "offlineRefundOrder", f"order-{o.order_id}") is None
    assert notes_of(env.sb, o.order_id) == []
    assert ledger.reconcile(order_ids=[o.order_id]).notes_posted == []
    # the person retries: recorded now, once
    r = ledger.record(o.order_id, "6.00", "cash", "R-6")
    assert r.outcome == "recorded" and notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_reconcile_over_many_orders_posts_each_missing_note_exactly_once(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(4)
    env.fault("POST", NOTES, status=500, times=3)  # the first three refunds lose their notes (one post each)
    results = [ledger.record(o.order_id, "1.00", "cash", f"R-{i}") for i, o in enumerate(orders)]
    assert [r.pending for r in results] == [("note",)] * 3 + [()]
    extra = ledger.record(orders[0].order_id, "2.00", "cash", "R-extra")
    assert extra.pending == ()
    # whole account (no --order): the journal makes up for search lag, scroll finds the rest
    report = ledger.reconcile()
    assert sorted(report.notes_posted) == sorted(r.entry.entry_id for r in results[:3])
    assert report.orders_checked == 4 and report.failed == []
    for o in orders:
        entries = ledger.order_ledger(o.order_id).entries
        assert len(notes_of(env.sb, o.order_id)) == len(entries)
        for e in entries:
            assert notes_marked(env.sb, o.order_id, e.entry_id) == 1
    assert ledger.reconcile().notes_posted == []


def test_reconcile_from_another_machine_finds_the_orders_by_scroll(make_env) -> None:
    env = make_env(search_lag_s=0)
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=500, times=1)  # one post (never retried blindly), which fails
    env.ledger(journal=env.tmp / "machine-a").record(o.order_id, "1.00", "cash", "R-1")
    other = env.ledger(journal=env.tmp / "machine-b")  # no journal of that write
    report = other.reconcile()
    assert len(report.notes_posted) == 1 and report.orders_checked == 1
    assert len(notes_of(env.sb, o.order_id)) == 1


def test_reconcile_reports_orders_refunded_beyond_their_total(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    ok = env.orders.invoiced()
    ledger.record(
        o.order_id, money(o.total_cents + 250), "cash", "R-1", allow_over_refund=True, over_refund_reason="goodwill"
    )
    ledger.record(ok.order_id, "1.00", "cash", "R-1")
    report = ledger.reconcile(order_ids=[o.order_id, ok.order_id])
    assert report.over_refunded == [
        {
            "order_id": o.order_id,
            "currency": "BRL",
            "order_total": money(o.total_cents),
            "native_refunded": "0.00",
            "offline_refunded": money(o.total_cents + 250),
            "excess": "2.50",
        }
    ]
    d = report.as_dict()
    assert d["orders_checked"] == 2 and d["over_refunded"][0]["excess"] == "2.50"


def test_reconcile_of_a_reversal_whose_note_failed(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "3.00", "cash", "R-3")
    env.fault("POST", NOTES, status=500, times=1)  # one post (never retried blindly), which fails
    v = ledger.reverse(r.entry.entry_id, "wrong order")
    assert v.pending == ("note",)
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [v.entry.entry_id]
    assert notes_marked(env.sb, o.order_id, v.entry.entry_id) == 1
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_reconcile_with_vtex_down_reports_failures(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    ledger.record(o.order_id, "3.00", "cash", "R-3")
    env.fault("GET", HEAD_DOC, status=500, times=100)
    report = ledger.reconcile(order_ids=[o.order_id])
    assert len(report.failed) == 1 and o.order_id in report.failed[0]
    env.sb.faults.clear()


def test_reconcile_leaves_a_fresh_unfinished_entry_to_its_recorder(env: Env) -> None:
    """An entry with no entry document yet, recorded moments ago, may be being finished by its recorder right now:
    reconcile leaves it alone (so the order cannot get two notes) until the grace period has passed."""
    o = env.orders.invoiced()
    ledger = env.ledger(reconcile_grace_s=120)
    env.fault("POST", NOTES, status=500, times=1)  # one post (never retried blindly), which fails
    env.fault("PUT", ENTRY_DOC, status=500, times=8)
    r = ledger.record(o.order_id, "2.00", "cash", "R-G")
    assert set(r.pending) == {"note", "document"}
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.in_progress == [r.entry.entry_id] and report.notes_posted == []
    assert notes_of(env.sb, o.order_id) == []
    later = env.ledger(reconcile_grace_s=0)
    report = later.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id] and report.documents_repaired == [r.entry.entry_id]
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
