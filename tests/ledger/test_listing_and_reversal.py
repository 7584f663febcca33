"""Listing (by order, by date range, under search lag), reversals, and the schemas ``setup`` saves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from refundkit.ledger import Ledger, RefundRefused, reversal_id
from refundkit.ledger.schemas import ENTRY_SCHEMA, HEAD_SCHEMA, SCHEMA_NAME
from refundkit.money import Money
from refundkit.timeutil import Instant, local_day_bounds, parse_instant, utc_now

from .helpers import Env, money, notes_marked, notes_of, stored_doc


class ShiftedClock:
    """The sandbox's Master Data clock, movable forward so a test can step past the search lag."""

    def __init__(self, real) -> None:
        self.real = real
        self.offset = 0.0

    def __call__(self) -> float:
        return self.real() + self.offset


def lagging(make_env, lag: float = 30.0) -> tuple[Env, ShiftedClock]:
    env = make_env(search_lag_s=lag)
    clock = ShiftedClock(env.sb.masterdata._clock)
    env.sb.masterdata._clock = clock
    return env, clock


def day_range(first: str, last: str) -> tuple[Instant, Instant]:
    from datetime import date

    return local_day_bounds(date.fromisoformat(first), date.fromisoformat(last))


# -- listing -----------------------------------------------------------------------------------------------------


def test_a_refund_is_listed_right_after_recording_although_search_lags(make_env) -> None:
    env, clock = lagging(make_env)
    o = env.orders.invoiced()
    ledger = env.ledger()
    r = ledger.record(o.order_id, "3.00", "cash", "R-1", refunded_at="2026-04-01T10:00:00-03:00")
    start, end = day_range("2026-04-01", "2026-04-01")
    # search does not see it yet ...
    assert list(ledger.client.masterdata.scroll("offlineRefund", fields=["id"])) == []
    # ... but the listing does, through the journal, read back by id
    listed = ledger.entries(start=start, end=end)
    assert [e.entry_id for e in listed] == [r.entry.entry_id]
    assert listed[0].note_status == "posted" and listed[0].amount == Money(300, "BRL")
    # all, without a range, too
    assert [e.entry_id for e in ledger.entries()] == [r.entry.entry_id]
    # outside the range: not listed
    assert ledger.entries(start=start + timedelta(days=1), end=end + timedelta(days=1)) == []
    # once search catches up, each entry is still listed once
    clock.offset = 31
    assert len(list(ledger.client.masterdata.scroll("offlineRefund", fields=["id"]))) == 1
    assert [e.entry_id for e in ledger.entries(start=start, end=end)] == [r.entry.entry_id]


def test_another_machine_sees_the_refund_once_search_caught_up(make_env) -> None:
    env, clock = lagging(make_env)
    o = env.orders.invoiced()
    env.ledger(journal=env.tmp / "a").record(o.order_id, "3.00", "cash", "R-1", refunded_at="2026-04-02")
    other = env.ledger(journal=env.tmp / "b")
    assert other.entries() == []  # eventual consistency: not yet, and that is all it can know
    assert len(other.entries(order_id=o.order_id)) == 1  # by order: read by id, exact
    clock.offset = 31
    assert len(other.entries()) == 1


def test_listing_by_date_range_is_half_open_and_sorted(env: Env, ledger: Ledger) -> None:
    a, b = env.orders.invoiced(), env.orders.invoiced()
    days = ["2026-05-01T00:00:00Z", "2026-05-01T23:59:59.999Z", "2026-05-02T00:00:00Z", "2026-04-30T23:59:59.999Z"]
    ids = {}
    for i, when in enumerate(days):
        o = a if i % 2 else b
        ids[when] = ledger.record(o.order_id, "1.00", "cash", f"R-{i}", refunded_at=when).entry.entry_id
    start, end = day_range("2026-05-01", "2026-05-01")
    listed = ledger.entries(start=start, end=end)
    assert [e.entry_id for e in listed] == [ids[days[0]], ids[days[1]]]
    # another ledger (no journal) reads the same through search, which has no lag here
    other = env.ledger(journal=False)
    assert [e.entry_id for e in other.entries(start=start, end=end)] == [ids[days[0]], ids[days[1]]]
    everything = other.entries()
    assert [e.refunded_at for e in everything] == sorted(e.refunded_at for e in everything)
    assert len(everything) == 4


def test_listing_one_order_has_one_row_per_entry_with_note_status(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r1 = ledger.record(o.order_id, "1.00", "cash", "R-1")
    env.fault("POST", r"^/api/do/notes$", status=500, times=1)
    r2 = ledger.record(o.order_id, "2.00", "apace", "APC-2")
    v = ledger.reverse(r1.entry.entry_id, "duplicate of APC-2")
    entries = ledger.entries(order_id=o.order_id)
    assert [(e.entry_id, e.kind, e.note_status) for e in entries] == [
        (r1.entry.entry_id, "refund", "posted"),
        (r2.entry.entry_id, "refund", "pending"),
        (v.entry.entry_id, "reversal", "posted"),
    ]
    assert sum((e.signed for e in entries), Money(0, "BRL")) == Money(200, "BRL")


def test_listing_as_a_polars_frame(env: Env, ledger: Ledger) -> None:
    pl = pytest.importorskip("polars")
    from refundkit.analytics import refunds_frame

    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "5.00", "cash", "R-1", refunded_at="2026-04-10T12:00:00Z")
    ledger.reverse(r.entry.entry_id, "wrong order")
    ledger.record(o.order_id, "1.25", "apace", "APC-1", refunded_at="2026-04-11T12:00:00Z")
    df = refunds_frame(ledger.entries(order_id=o.order_id))
    assert isinstance(df, pl.DataFrame) and df.height == 3
    assert df["signed_minor"].sum() == 125 and df["kind"].to_list().count("reversal") == 1
    assert set(df["currency"].to_list()) == {"BRL"}


# -- reversal ----------------------------------------------------------------------------------------------------


def test_reversal_gives_the_balance_back_with_a_note(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, money(o.total_cents), "cash", "R-1")
    assert r.quote.refundable == Money(0, "BRL")
    v = ledger.reverse(r.entry.entry_id, "recorded on the wrong order")
    assert v.outcome == "recorded" and v.pending == ()
    e = v.entry
    assert (e.kind, e.reverses, e.amount, e.entry_id) == (
        "reversal",
        r.entry.entry_id,
        r.entry.amount,
        reversal_id(r.entry.entry_id),
    )
    assert e.reason == "recorded on the wrong order" and e.recorded_by == "tester"
    assert v.quote.refundable == Money(o.total_cents, "BRL")
    assert ledger.quote(o.order_id).offline_refunded == Money(0, "BRL")
    doc = stored_doc(env.sb, "offlineRefund", e.entry_id)
    assert doc["kind"] == "reversal" and doc["reverses"] == r.entry.entry_id and doc["noteStatus"] == "posted"
    text = [n["description"] for n in notes_of(env.sb, o.order_id)]
    assert len(text) == 2 and "Reversal of offline refund" in text[1] and "wrong order" in text[1]
    # the refund itself stays: append-only
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id)["kind"] == "refund"
    # and the balance can be used again
    assert ledger.record(o.order_id, "1.00", "cash", "R-2").recorded_now


def test_reversing_twice_records_one_reversal(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    first = ledger.reverse(r.entry.entry_id, "mistake")
    before = env.writes()
    again = ledger.reverse(r.entry.entry_id.upper(), "mistake, again")
    assert again.outcome == "already recorded" and again.entry.entry_id == first.entry.entry_id
    assert env.writes() == before
    assert len(ledger.order_ledger(o.order_id).entries) == 2
    assert notes_marked(env.sb, o.order_id, first.entry.entry_id) == 1


def test_concurrent_reversals_of_one_refund_record_one(env: Env) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    o = env.orders.invoiced()
    r = env.ledger().record(o.order_id, "1.00", "cash", "R-1")
    ledgers = [env.ledger() for _ in range(6)]
    barrier = threading.Barrier(6)
    # the six reversers all read the same version of the ledger before any of them writes
    env.fault(
        "GET", r"^/api/dataentities/offlineRefundOrder/documents/", status=None, after_write=True, delay_s=0.25, times=6
    )

    def reverse(i: int):
        barrier.wait()
        return ledgers[i].reverse(r.entry.entry_id, f"mistake {i}")

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(reverse, range(6)))
    assert sorted(x.outcome for x in results) == ["already recorded"] * 5 + ["recorded"]
    assert len(ledgers[0].order_ledger(o.order_id).entries) == 2
    assert notes_marked(env.sb, o.order_id, reversal_id(r.entry.entry_id)) == 1


def test_reversal_right_after_recording_under_search_lag(make_env) -> None:
    env, _ = lagging(make_env)
    o = env.orders.invoiced()
    ledger = env.ledger()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    assert ledger.reverse(r.entry.entry_id, "typo").recorded_now  # the entry document is read by id


def test_reversal_of_a_refund_whose_entry_document_is_missing_uses_the_journal(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("PUT", r"^/api/dataentities/offlineRefund/documents/", status=500, times=8)
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    assert r.pending == ("document",)
    env.sb.faults.clear()
    assert ledger.reverse(r.entry.entry_id, "typo").recorded_now


@pytest.mark.parametrize(
    ("refund", "reason", "words"),
    [
        ("rf-123", "typo", "is not a refund id"),
        ("order-1", "typo", "is not a refund id"),
        ("rf-" + "0" * 24, "typo", "was not found"),
        ("VALID", "   ", "needs a reason"),
        ("VALID", "x" * 501, "at most 500"),
    ],
)
def test_reversal_refusals_say_what_to_fix(env: Env, ledger: Ledger, refund: str, reason: str, words: str) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    before = env.writes()
    with pytest.raises(RefundRefused, match=words):
        ledger.reverse(r.entry.entry_id if refund == "VALID" else refund, reason)
    assert env.writes() == before


def test_a_reversal_cannot_be_reversed(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    v = ledger.reverse(r.entry.entry_id, "typo")
    with pytest.raises(RefundRefused, match="not a refund id"):
        ledger.reverse(v.entry.entry_id, "undo the undo")


def test_reversal_dates_are_when_it_was_recorded(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1", refunded_at="2026-04-01")
    before = utc_now()
    v = ledger.reverse(r.entry.entry_id, "typo")
    assert v.entry.refunded_at.ns >= before.ns - 10**9
    # a day without a time is that day in the store's zone (VTEX gives São Paulo for this store), at noon
    assert r.entry.refunded_at == parse_instant("2026-04-01T12:00:00-03:00")
    assert r.entry.refunded_at.offset_minutes == -180


# -- setup ---------------------------------------------------------------------------------------------------------


def test_setup_saves_the_schemas_once(make_env) -> None:
    env = make_env(setup=False)
    ledger = env.ledger()
    first = ledger.setup()
    assert first[:2] == [
        f"schema {SCHEMA_NAME} of offlineRefund: saved",
        f"schema {SCHEMA_NAME} of offlineRefundOrder: saved",
    ]
    assert first[2].startswith("conditional writes: Master Data of account refundkitdemo") and "honours" in first[2]
    before = env.writes()
    again = ledger.setup()
    assert all("already up to date" in line for line in again[:2]) and again[2] == first[2]
    assert env.writes() == before  # the verdict is kept: no second probe
    with env.sb.masterdata.lock:
        saved = env.sb.masterdata.entities["offlineRefund"].schemas[SCHEMA_NAME]
    assert saved == ENTRY_SCHEMA
    for f in (
        "orderId",
        "refundedAt",
        "recordedAt",
        "source",
        "externalRef",
        "kind",
        "currency",
        "reverses",
        "noteStatus",
    ):
        assert f in saved["v-indexed"]
    assert saved["v-cache"] is False
    assert set(ENTRY_SCHEMA["required"]) <= set(ENTRY_SCHEMA["properties"])
    assert HEAD_SCHEMA["v-indexed"] == ["orderId", "version", "firstRefundedAtMs", "lastRefundedAtMs"]


def test_entity_name_is_configurable(make_env) -> None:
    env = make_env(setup=False)
    ledger = env.ledger(entity="storeRefund")
    ledger.setup()
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1")
    assert stored_doc(env.sb, "storeRefund", r.entry.entry_id) is not None
    assert stored_doc(env.sb, "storeRefundOrder", f"order-{o.order_id}") is not None
    assert stored_doc(env.sb, "offlineRefund", r.entry.entry_id) is None


def test_schemas_refuse_a_malformed_entry_document(env: Env, ledger: Ledger) -> None:
    """Documents are written with ``_schema``, so Master Data validates them synchronously."""
    from refundkit.errors import BadResponse

    with pytest.raises(BadResponse, match="400"):
        ledger.client.masterdata.put("offlineRefund", "rf-bad", {"orderId": "x", "amount": -1}, schema=SCHEMA_NAME)
