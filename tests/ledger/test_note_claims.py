"""A note is claimed before it is posted: racing reconciles post each note once, whatever Master Data answers a
failed condition; a lost post is never repeated while VTEX's notes list may still be lagging; an order holding 30
notes has its other work finished and its notes recorded as impossible, visible in listings and the quote."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from refundkit.errors import LedgerError
from refundkit.ledger import Ledger
from refundkit.ledger.reconcile import LIMIT_REASON, ReconcileReport
from refundkit.timeutil import Instant, utc_now

from .helpers import Env, note_posts, notes_marked, notes_of, stored_doc

NOTES = r"^/api/do/notes$"
ENTRY_DOC = r"^/api/dataentities/offlineRefund/documents/"
HEAD_GET = r"^/api/dataentities/offlineRefundOrder/documents/"


class Clock:
    """An injected clock for the ledger and the sandbox's notes list: tests move time, they never sleep."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> Instant:
        return self.now

    def seconds(self) -> float:
        return self.now.ns / 1e9

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)


def _race(fns: list[Callable[[], ReconcileReport]]) -> list[ReconcileReport]:
    barrier = threading.Barrier(len(fns))
    out: list[ReconcileReport | None] = [None] * len(fns)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = fns[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


@pytest.mark.parametrize("failed_condition_status", [304, 200, 400, 409, 412])
def test_three_racing_reconciles_post_each_of_8_notes_once(make_env, failed_condition_status: int) -> None:
    env = make_env(md_failed_condition_status=failed_condition_status)
    ledger = env.ledger()
    orders = env.orders.eligible(4)
    env.fault("POST", NOTES, status=400, times=8)  # every recorder's note is refused: 8 pending refunds
    entries = [
        ledger.record(o.order_id, "1.00", "cash", f"R-{i}-{k}").entry for i, o in enumerate(orders) for k in (1, 2)
    ]
    assert note_posts(env.sb) == 8 and all(notes_of(env.sb, o.order_id) == [] for o in orders)
    # the first reads of every order's ledger document answer late: the three runs read the same versions
    env.fault("GET", HEAD_GET, status=None, after_write=True, delay_s=0.2, times=3 * 4)
    runs = [env.ledger(note_claim_lease_s=120) for _ in range(3)]
    ids = [o.order_id for o in orders]
    reports = _race([functools.partial(r.reconcile, order_ids=ids) for r in runs])
    for e in entries:
        assert notes_marked(env.sb, e.order_id, e.entry_id) == 1, f"{e.entry_id} has not exactly one note"
    posted = [eid for r in reports for eid in r.notes_posted]
    assert sorted(posted) == sorted(e.entry_id for e in entries), "each note posted by exactly one run"
    assert all(not r.failed for r in reports), [r.failed for r in reports]
    assert any(r.in_progress for r in reports), "the runs did not race: no run found a note claimed by another"
    for e in entries:
        assert stored_doc(env.sb, "offlineRefund", e.entry_id)["noteStatus"] == "posted"
    # and the order's ledger document says so too
    assert {e.note_status for o in orders for e in ledger.order_ledger(o.order_id).entries} == {"posted"}


def test_reconcile_refuses_where_conditions_are_not_honoured(make_env) -> None:
    env = make_env(md_conditions_honoured=False)
    ledger = env.ledger()
    with pytest.raises(LedgerError, match=r"(?i)condition|exactly once"):
        ledger.reconcile()


def test_a_claim_keeps_other_runs_off_until_its_lease_ends(env: Env) -> None:
    clock = Clock()
    a = env.ledger(clock=clock, note_claim_lease_s=120)
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=500, times=1)
    r = a.record(o.order_id, "1.00", "cash", "R-1")
    assert r.pending == ("note",)
    # a run claims the note and dies before posting it (its post is refused outright, before any write)
    clock.advance(121)
    env.fault("POST", NOTES, status=400, times=1)
    first = a.reconcile(order_ids=[o.order_id])
    assert first.notes_posted == [] and first.failed
    claim = a.order_ledger(o.order_id).entries[0]
    assert claim.note_claim and claim.note_claimed_at == clock.now.floor_ms()
    # another run within the lease leaves it alone
    b = env.ledger(clock=clock, note_claim_lease_s=120)
    clock.advance(60)
    assert b.reconcile(order_ids=[o.order_id]).in_progress == [r.entry.entry_id]
    assert notes_of(env.sb, o.order_id) == []
    # after the lease it takes over, posts once
    clock.advance(61)
    assert b.reconcile(order_ids=[o.order_id]).notes_posted == [r.entry.entry_id]
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_a_lost_note_post_is_not_posted_again_while_the_notes_list_may_lag(make_env) -> None:
    clock = Clock()
    env = make_env(notes_list_lag_s=90)
    env.sb.notes._clock = clock.seconds  # the sandbox's notes list lags on the same injected clock
    ledger = env.ledger(clock=clock, note_claim_lease_s=120)
    o = env.orders.invoiced()
    env.fault("POST", NOTES, status=502, after_write=True, times=1)  # written, answer lost
    r = ledger.record(o.order_id, "1.00", "cash", "R-LAG")
    assert r.pending == ("note",) and notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["noteAttemptAt"]
    again = ledger.record(o.order_id, "1.00", "cash", "R-LAG")  # the person retries: nothing posted
    assert again.outcome == "already recorded"
    for wait in (0, 30, 60):  # the list does not show the note yet: reconcile leaves it alone
        clock.advance(wait)
        report = ledger.reconcile(order_ids=[o.order_id])
        assert report.in_progress == [r.entry.entry_id] and report.notes_posted == []
    clock.advance(31)  # past the lease (and the list's lag): the note is found, not posted again
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_found == [r.entry.entry_id] and report.notes_posted == []
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["noteStatus"] == "posted"


def _fill_notes(env: Env, order_id: str, n: int = 30) -> None:
    client = env.client()
    for i in range(n):
        client.notes.create(order_id, f"customer called ({i})")


def test_an_order_with_30_notes_is_finished_and_its_notes_recorded_as_impossible(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    _fill_notes(env, o.order_id)
    r1 = ledger.record(o.order_id, "1.00", "cash", "R-1")
    # VTEX refuses the 31st note: the refund is still recorded, and its note recorded as impossible at once
    assert r1.outcome == "recorded" and r1.pending == () and r1.entry.note_status == "impossible"
    assert any("could not be added" in m for m in r1.messages)
    env.fault("PUT", ENTRY_DOC, status=503, times=8)  # and a second refund is left half-written
    r2 = ledger.record(o.order_id, "2.00", "cash", "R-2")
    assert set(r2.pending) == {"document"} and r2.entry.note_status == "impossible"
    env.sb.faults.clear()
    other = env.ledger(journal=env.tmp / "other-machine")
    report = other.reconcile(order_ids=[o.order_id])
    assert report.failed == [] and report.notes_posted == []
    assert [n["entry_id"] for n in report.notes_impossible] == [r2.entry.entry_id]
    assert all(n["reason"] == LIMIT_REASON for n in report.notes_impossible)
    assert report.documents_repaired == [r2.entry.entry_id]  # the half-written refund got its entry document
    for r in (r1, r2):
        doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
        assert doc["noteStatus"] == "impossible" and "30 notes" in doc["noteProblem"]
    assert len(notes_of(env.sb, o.order_id)) == 30
    listed = other.entries(order_id=o.order_id)
    assert [(e.note_status, "30 notes" in e.note_problem) for e in listed] == [("impossible", True)] * 2
    quote = other.quote(o.order_id).as_dict()
    # the quote reads the order's ledger document: reconcile recorded r2's outcome there
    assert [e["note_status"] for e in quote["entries"]][1] == "impossible"
    assert "30 notes" in quote["entries"][1]["note_problem"]
    # reconciling again does nothing more
    posts = note_posts(env.sb)
    again = other.reconcile(order_ids=[o.order_id])
    assert again.notes_impossible == [] and again.documents_repaired == [] and note_posts(env.sb) == posts
