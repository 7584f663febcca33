"""Exactly once under lost answers, retries and concurrent recorders on one order."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from refundkit.errors import NetworkError
from refundkit.ledger import Ledger, RefundConflict, RefundRefused, refund_id
from refundkit.money import Money

from .helpers import Env, money, note_posts, notes_marked, notes_of, stored_doc

HEAD_PUT = r"^/api/dataentities/offlineRefundOrder/documents/"


def head_puts(env: Env) -> int:
    return sum(1 for m, p in env.writes() if m == "PUT" and "/offlineRefundOrder/documents/" in p)


@pytest.mark.parametrize("lost", ["5xx after the write", "connection dropped after the write"])
def test_a_lost_answer_to_the_ledger_write_records_once(env: Env, ledger: Ledger, lost: str) -> None:
    o = env.orders.invoiced()
    if lost.startswith("5xx"):
        env.fault("PUT", HEAD_PUT, status=503, after_write=True)
    else:
        env.fault("PUT", HEAD_PUT, status=None, after_write=True, drop_connection=True)
    r = ledger.record(o.order_id, "7.00", "apace", "APC-7")
    assert r.outcome == "recorded" and r.pending == ()
    assert not env.sb.faults.pending, "the fault fired"
    assert head_puts(env) == 2, "the transport retried the lost write once"
    head = stored_doc(env.sb, "offlineRefundOrder", f"order-{o.order_id}")
    assert head["version"] == 1 and len(head["entries"]) == 1
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert ledger.quote(o.order_id).offline_refunded == Money(700, "BRL")
    # and the person who retries by hand gets "already recorded", nothing written
    before = env.writes()
    assert ledger.record(o.order_id, "7.00", "apace", "APC-7").outcome == "already recorded"
    assert env.writes() == before


def test_a_lost_answer_on_every_attempt_fails_loudly_and_the_retry_finishes(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("PUT", HEAD_PUT, status=None, after_write=True, drop_connection=True, times=50)
    with pytest.raises(NetworkError, match=r"no answer from VTEX.*try again") as info:
        ledger.record(o.order_id, "3.00", "cash", "R-3")
    assert "Traceback" not in str(info.value)
    env.sb.faults.clear()
    # the write did happen (the answers were lost): the ledger has it once, and a retry says so
    assert len(ledger.order_ledger(o.order_id).entries) == 1
    r = ledger.record(o.order_id, "3.00", "cash", "R-3")
    assert r.outcome == "already recorded"
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id] and report.documents_repaired == [r.entry.entry_id]
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1


def test_a_lost_answer_to_the_note_post_writes_one_note(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("POST", r"^/api/do/notes$", status=None, after_write=True, drop_connection=True)
    r = ledger.record(o.order_id, "2.00", "cash", "R-2")
    assert r.pending == ()
    assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
    assert doc["noteStatus"] == "posted" and doc["noteId"] == notes_of(env.sb, o.order_id)[0]["id"]


def test_a_lost_answer_to_the_entry_document_write_is_retried(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault(
        "PUT", r"^/api/dataentities/offlineRefund/documents/", status=None, after_write=True, drop_connection=True
    )
    r = ledger.record(o.order_id, "2.00", "cash", "R-2")
    assert r.pending == ()
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["noteStatus"] == "posted"


def test_a_read_back_that_fails_does_not_lose_the_refund(env: Env, ledger: Ledger) -> None:
    """The ledger write lands but every read back after it fails: the record fails loudly, the refund is there
    once, a retry says "already recorded" (writing nothing) and reconcile finishes the note and the document."""
    o = env.orders.invoiced()
    ledger.record(o.order_id, "1.00", "cash", "R-0")
    env.fault("GET", HEAD_PUT, status=None, after_write=True)  # the read before the write is answered normally
    env.fault("GET", HEAD_PUT, status=500, times=8)  # every attempt of the read back fails
    with pytest.raises(Exception, match="500"):
        ledger.record(o.order_id, "1.00", "cash", "R-1")
    assert not env.sb.faults.pending
    entries = ledger.order_ledger(o.order_id).entries
    assert [e.external_ref for e in entries] == ["R-0", "R-1"]
    before = env.writes()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    assert r.outcome == "already recorded" and set(r.pending) == {"note", "document"} and env.writes() == before
    assert ledger.quote(o.order_id).offline_refunded == Money(200, "BRL")
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id] and report.documents_repaired == [r.entry.entry_id]
    for e in entries:
        assert notes_marked(env.sb, o.order_id, e.entry_id) == 1


# -- concurrency ------------------------------------------------------------------------------------------------------


def stall_first_reads(env: Env, n: int, delay_s: float = 0.25) -> None:
    """The next ``n`` reads of a ledger document are answered late (with what was there when they arrived), so n
    recorders all validate against the same version before any of them writes: the race is certain, not likely."""
    env.fault("GET", HEAD_PUT, status=None, after_write=True, delay_s=delay_s, times=n)


def _race(n: int, fn) -> list:
    """Run ``fn(i)`` in ``n`` threads released at once; results (or exceptions) in thread order."""
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_eight_recorders_of_different_refunds_never_overdraw_the_balance(env: Env) -> None:
    o = env.orders.invoiced(min_total=8000)
    total = o.total_cents
    # 8 refunds of a quarter of the order each: exactly 4 fit
    share = total // 4
    ledgers = [env.ledger(user=f"clerk{i}") for i in range(8)]
    stall_first_reads(env, 8)
    results = _race(8, lambda i: ledgers[i].record(o.order_id, money(share), "cash", f"RECEIPT-{i}"))
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, RefundRefused) for e in errors), errors
    assert all(r.outcome == "recorded" for r in ok)
    assert len(ok) == 4 and len(errors) == 4
    for e in errors:
        assert isinstance(e, RefundRefused)
        assert any("refundable balance" in p for p in e.problems)
    entries = ledgers[0].order_ledger(o.order_id).entries
    assert sorted(e.entry_id for e in entries) == sorted(r.entry.entry_id for r in ok)
    q = ledgers[0].quote(o.order_id)
    assert q.offline_refunded == Money(4 * share, "BRL") and q.refundable.minor >= 0
    for r in ok:
        assert notes_marked(env.sb, o.order_id, r.entry.entry_id) == 1
    assert len(notes_of(env.sb, o.order_id)) == 4


def test_recorders_racing_with_unequal_amounts_record_exactly_what_fits(env: Env) -> None:
    o = env.orders.invoiced(min_total=10000)
    total = o.total_cents
    amounts = [total // 3, total // 3, total // 2, total // 5, total // 7, total // 10, total // 4, 1]
    ledgers = [env.ledger(user=f"clerk{i}") for i in range(8)]
    results = _race(8, lambda i: ledgers[i].record(o.order_id, money(amounts[i]), "cash", f"R-{i}"))
    recorded = [amounts[i] for i, r in enumerate(results) if not isinstance(r, Exception)]
    refused = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert all(isinstance(results[i], RefundRefused) for i in refused)
    assert sum(recorded) <= total
    # whatever was refused did not fit in what the winners left
    for i in refused:
        assert amounts[i] > total - sum(recorded)
    q = ledgers[0].quote(o.order_id)
    assert q.offline_refunded == Money(sum(recorded), "BRL") and q.refundable.minor == total - sum(recorded) >= 0
    assert len(q.entries) == len(recorded)


def test_eight_recorders_of_the_same_refund_record_it_once(env: Env) -> None:
    o = env.orders.invoiced()
    ledgers = [env.ledger(user=f"clerk{i}") for i in range(8)]
    stall_first_reads(env, 8)
    results = _race(8, lambda i: ledgers[i].record(o.order_id, "9.99", "apace", "APC-SAME"))
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {"recorded": 1, "already recorded": 7}
    assert len({r.entry.entry_id for r in results}) == 1
    entry_id = results[0].entry.entry_id
    assert entry_id == refund_id(o.order_id, "apace", "APC-SAME")
    entries = ledgers[0].order_ledger(o.order_id).entries
    assert [e.entry_id for e in entries] == [entry_id]
    assert ledgers[0].quote(o.order_id).offline_refunded == Money(999, "BRL")
    assert notes_marked(env.sb, o.order_id, entry_id) == 1
    assert note_posts(env.sb) == 1


def test_a_double_submit_while_the_first_is_finishing_posts_one_note(env: Env) -> None:
    """The second submit finds the refund in the ledger while the first has not posted its note yet: it must not
    post one too (a note cannot be deleted)."""
    o = env.orders.invoiced()
    first, second = env.ledger(user="ana"), env.ledger(user="bruno")
    # the first recorder's note POST is answered 503 after 0.3 s (nothing written), so it posts again after that
    env.fault("POST", r"^/api/do/notes$", status=503, delay_s=0.3)
    # a look-up of the order's notes that starts meanwhile answers late, with what was there when it arrived
    env.fault("GET", r"^/api/do/notes$", status=None, after_write=True, delay_s=0.5)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(first.record, o.order_id, "5.00", "cash", "R-1")
        deadline = 50
        while not first.order_ledger(o.order_id).entries and deadline:
            threading.Event().wait(0.01)
            deadline -= 1
        b = second.record(o.order_id, "5.00", "cash", "R-1")
        a = pending.result()
    assert (a.outcome, b.outcome) == ("recorded", "already recorded")
    # a 5xx may have written the note, so the first recorder does not post it again blindly: reconcile does, once
    assert a.pending == ("note",) and set(b.pending) <= {"note", "document"}
    assert len(notes_of(env.sb, o.order_id)) == 0
    first.reconcile(order_ids=[o.order_id])
    assert notes_marked(env.sb, o.order_id, a.entry.entry_id) == 1
    assert len(notes_of(env.sb, o.order_id)) == 1


def test_racing_the_same_identity_with_another_amount_is_one_record_and_conflicts(env: Env) -> None:
    o = env.orders.invoiced()
    ledgers = [env.ledger() for _ in range(4)]
    amounts = ["1.00", "2.00", "3.00", "4.00"]
    stall_first_reads(env, 4)
    results = _race(4, lambda i: ledgers[i].record(o.order_id, amounts[i], "cash", "SAME"))
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 1 and ok[0].outcome == "recorded"
    assert all(isinstance(r, RefundConflict) for r in results if isinstance(r, Exception))
    assert len(ledgers[0].order_ledger(o.order_id).entries) == 1


def test_the_balance_right_after_a_write_counts_it_even_when_search_lags(make_env) -> None:
    env = make_env(search_lag_s=30)
    o = env.orders.invoiced(min_total=2000)
    a, b = env.ledger(), env.ledger()
    a.record(o.order_id, money(o.total_cents - 500), "cash", "R-1")
    q = b.quote(o.order_id)
    assert q.refundable == Money(500, "BRL")
    with pytest.raises(RefundRefused, match=r"refundable balance BRL 5\.00"):
        b.record(o.order_id, "5.01", "cash", "R-2")
    assert b.record(o.order_id, "5.00", "cash", "R-2").quote.refundable == Money(0, "BRL")


def test_orders_in_parallel_do_not_disturb_each_other(env: Env) -> None:
    orders = env.orders.eligible(6)
    ledger = env.ledger()

    def record(i: int):
        o = orders[i % 6]
        return ledger.record(o.order_id, "1.00", "cash", f"R-{i // 6}")

    results = _race(12, record)
    assert all(not isinstance(r, Exception) and r.outcome == "recorded" for r in results), results
    for o in orders:
        assert ledger.quote(o.order_id).offline_refunded == Money(200, "BRL")
        assert len(notes_of(env.sb, o.order_id)) == 2
