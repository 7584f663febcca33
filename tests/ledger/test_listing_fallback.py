"""Listings (and the reports built on them) do not lose a refund whose entry document is missing, and a ranged
listing's cost follows the range, not the size of the local journal."""

from __future__ import annotations

from refundkit.ledger.model import refund_id
from refundkit.timeutil import local_day_bounds, parse_instant

from .helpers import Env, stored_doc

ENTRY_DOC = "^/api/dataentities/offlineRefund/documents/"
HEAD_DOC = "/api/dataentities/offlineRefundOrder/documents/"


def test_entries_whose_entry_document_is_missing_are_listed_from_another_machine(make_env) -> None:
    env = make_env(search_lag_s=0)
    writer = env.ledger(journal=env.tmp / "machine-a")
    orders = env.orders.eligible(3)
    refs = [(o.order_id, f"R-{i}-{k}") for i, o in enumerate(orders) for k in range(3)]  # 9 refunds
    half = refs[1], refs[5]  # two are left half-written: their entry document never lands
    for oid, ref in half:
        env.fault("PUT", ENTRY_DOC + refund_id(oid, "cash", ref) + "$", status=503, times=20)
    for oid, ref in refs:
        writer.record(oid, "1.00", "cash", ref, refunded_at="2026-04-21T12:00:00Z")
    env.sb.faults.clear()
    for oid, ref in half:
        assert stored_doc(env.sb, "offlineRefund", refund_id(oid, "cash", ref)) is None
    other = env.ledger(journal=env.tmp / "machine-b")  # no journal of those writes
    start, end = local_day_bounds(*[parse_instant("2026-04-21T00:00:00Z").to_datetime().date()] * 2)
    listed = other.entries(start=start, end=end)
    assert sorted(e.entry_id for e in listed) == sorted(refund_id(o, "cash", r) for o, r in refs)
    missing = {refund_id(o, "cash", r) for o, r in half}
    assert {e.entry_id for e in listed if e.note_status == "posted"} == {e.entry_id for e in listed} - missing
    assert len(other.entries()) == 9  # and without a range
    # outside the range: none of them
    later = local_day_bounds(*[parse_instant("2026-04-22T00:00:00Z").to_datetime().date()] * 2)
    assert other.entries(start=later[0], end=later[1]) == []


def test_a_ranged_listing_reads_only_the_journal_orders_in_its_range(make_env) -> None:
    """318 s instead of 2.4 s: every order in the local journal was read again, one entry at a time, whatever the
    range. Now a journal entry outside the range costs nothing."""
    env = make_env(search_lag_s=3600)  # search sees nothing: the journal is all there is
    ledger = env.ledger()
    march = env.orders.eligible(12)
    for i, o in enumerate(march):
        ledger.record(o.order_id, "1.00", "cash", f"M-{i}", refunded_at="2026-03-10T12:00:00Z")
    april = env.orders.invoiced()
    r = ledger.record(april.order_id, "1.00", "cash", "A-1", refunded_at="2026-04-21T12:00:00Z")
    start, end = parse_instant("2026-04-21T00:00:00Z"), parse_instant("2026-04-22T00:00:00Z")
    before = len(env.sb.requests)
    listed = ledger.entries(start=start, end=end)
    assert [e.entry_id for e in listed] == [r.entry.entry_id]
    reads = [q.path for q in list(env.sb.requests)[before:] if q.method == "GET" and HEAD_DOC in q.path]
    assert reads == [HEAD_DOC + "order-" + april.order_id.lower()], reads
    assert len(ledger.entries(start=parse_instant("2026-03-01T00:00:00Z"), end=start)) == 12


def test_the_quote_and_the_cli_listing_show_the_journal_free_machine_everything(env: Env) -> None:
    """A reversal and a refund with a missing entry document are both in a quote read from another machine."""
    ledger = env.ledger(journal=env.tmp / "a")
    o = env.orders.invoiced()
    env.fault("PUT", ENTRY_DOC, status=503, times=20)
    r = ledger.record(o.order_id, "2.00", "cash", "Q-1")
    env.sb.faults.clear()
    other = env.ledger(journal=env.tmp / "b")
    q = other.quote(o.order_id)
    assert [e.entry_id for e in q.entries] == [r.entry.entry_id]
    assert [e.entry_id for e in other.entries()] == [r.entry.entry_id]
