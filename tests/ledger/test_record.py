"""Recording a refund against the sandbox: every validation rule, exactly once, conflicts, the order note."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from refundkit import connect
from refundkit.config import load_settings
from refundkit.ledger import Ledger, RefundConflict, RefundRefused, refund_id
from refundkit.ledger.rules import MAX_NOTE, MAX_REASON, MAX_REF
from refundkit.ledger.verdict import SCRATCH_ENTITY
from refundkit.money import Money
from refundkit.timeutil import utc_now

from .helpers import Env, money, notes_marked, notes_of, stored_doc


def refused(ledger: Ledger, *args, **kw) -> list[str]:
    with pytest.raises(RefundRefused) as info:
        ledger.record(*args, **kw)
    assert info.value.problems, "a refusal says why"
    return info.value.problems


def one_problem_about(problems: list[str], *words: str) -> str:
    hits = [p for p in problems if all(w.lower() in p.lower() for w in words)]
    assert hits, f"no problem mentions {words}: {problems}"
    return hits[0]


# -- recording ----------------------------------------------------------------------------------------------------


def test_record_writes_the_ledger_the_entry_document_and_one_note(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    before = env.writes()
    result = ledger.record(o.order_id, "12.34", "apace", "APC-123", reason="damaged item", note="called the client")
    assert result.outcome == "recorded" and result.recorded_now and result.pending == ()
    e = result.entry
    assert e.entry_id == refund_id(o.order_id, "apace", "APC-123")
    assert e.amount == Money(1234, "BRL") and e.kind == "refund" and e.recorded_by == "tester"
    assert result.quote.refundable == Money(o.total_cents - 1234, "BRL")

    doc = stored_doc(env.sb, "offlineRefund", e.entry_id)
    assert doc is not None
    assert (doc["orderId"], doc["amount"], doc["currency"], doc["source"], doc["externalRef"], doc["kind"]) == (
        o.order_id,
        1234,
        "BRL",
        "apace",
        "APC-123",
        "refund",
    )
    assert doc["reason"] == "damaged item" and doc["note"] == "called the client" and doc["recordedBy"] == "tester"
    assert doc["noteStatus"] == "posted" and doc["noteId"]
    head = stored_doc(env.sb, "offlineRefundOrder", f"order-{o.order_id}")
    assert head["version"] == 1 and [x["id"] for x in head["entries"]] == [e.entry_id]

    notes = notes_of(env.sb, o.order_id)
    assert len(notes) == 1
    text = notes[0]["description"]
    assert f"[refundkit:{e.entry_id}]" in text and "apace" in text and "APC-123" in text and "tester" in text
    assert "BRL 12.34" in text and "VTEX moved no money" in text
    assert doc["noteId"] == notes[0]["id"]
    # exactly: ledger PUT, note POST, entry document PUT
    new = env.writes()[len(before) :]
    assert [m for m, _ in new] == ["PUT", "POST", "PUT"]


def test_a_retry_writes_nothing_and_says_already_recorded(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    first = ledger.record(o.order_id, "10.00", "cash", "RECEIPT-1")
    before = env.writes()
    again = ledger.record(o.order_id, "10,00", "Cash", "  receipt-1 ")  # same identity, other spelling
    assert again.outcome == "already recorded" and not again.recorded_now
    assert again.entry.entry_id == first.entry.entry_id
    assert again.quote.refundable == first.quote.refundable
    assert env.writes() == before, "a retry must write nothing"
    assert len(notes_of(env.sb, o.order_id)) == 1


def test_a_double_submit_from_two_ledgers_records_once(env: Env) -> None:
    o = env.orders.invoiced()
    a, b = env.ledger(user="ana"), env.ledger(user="bruno")
    r1 = a.record(o.order_id, "5.00", "bank-transfer", "TX-9")
    r2 = b.record(o.order_id, "5.00", "bank-transfer", "TX-9")
    assert (r1.outcome, r2.outcome) == ("recorded", "already recorded")
    assert a.quote(o.order_id).offline_refunded == Money(500, "BRL")
    assert len(a.order_ledger(o.order_id).entries) == 1
    assert notes_marked(env.sb, o.order_id, r1.entry.entry_id) == 1


def test_same_identity_with_another_amount_is_a_conflict(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    first = ledger.record(o.order_id, "10.00", "apace", "APC-1")
    before = env.writes()
    with pytest.raises(RefundConflict) as info:
        ledger.record(o.order_id, "11.00", "apace", "apc-1")
    msg = str(info.value)
    assert first.entry.entry_id in msg and "reverse" in msg and "BRL 10.00" in msg
    assert info.value.existing.amount == Money(1000, "BRL")
    assert env.writes() == before


def test_another_reference_is_another_refund(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    a = ledger.record(o.order_id, "1.00", "apace", "APC-1")
    b = ledger.record(o.order_id, "1.00", "apace", "APC-2")
    c = ledger.record(o.order_id, "1.00", "cash", "APC-1")  # another source: another refund
    assert len({a.entry.entry_id, b.entry.entry_id, c.entry.entry_id}) == 3
    assert all(r.outcome == "recorded" for r in (a, b, c))
    assert ledger.quote(o.order_id).offline_refunded == Money(300, "BRL")
    assert len(notes_of(env.sb, o.order_id)) == 3


def test_the_whole_balance_can_be_refunded_and_not_a_cent_more(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    ledger.record(o.order_id, money(o.total_cents - 1), "cash", "R-1")
    problems = refused(ledger, o.order_id, "0.02", "cash", "R-2")
    one_problem_about(problems, "refundable balance", "BRL 0.01")
    r = ledger.record(o.order_id, "0.01", "cash", "R-3")
    assert r.quote.refundable == Money(0, "BRL")


def test_over_refund_needs_the_flag_and_a_reason(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    too_much = money(o.total_cents + 100)
    one_problem_about(refused(ledger, o.order_id, too_much, "cash", "R-1"), "more than the refundable balance")
    one_problem_about(
        refused(ledger, o.order_id, too_much, "cash", "R-1", allow_over_refund=True), "over-refund needs a reason"
    )
    r = ledger.record(
        o.order_id, too_much, "cash", "R-1", allow_over_refund=True, over_refund_reason="goodwill for a late delivery"
    )
    assert r.entry.over_refund and r.entry.over_refund_reason == "goodwill for a late delivery"
    assert r.quote.refundable == Money(-100, "BRL")
    doc = stored_doc(env.sb, "offlineRefund", r.entry.entry_id)
    assert doc["overRefund"] is True
    assert "Over-refund allowed: goodwill" in notes_of(env.sb, o.order_id)[0]["description"]


# -- validation: each rule, nothing written ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", ("more than zero",)),
        ("0.00", ("more than zero",)),
        ("-5.00", ("more than zero", "reverse")),
        ("1.234", ("more than 2 decimals",)),
        ("abc", ("not an amount",)),
        ("", ("amount is missing",)),
        ("1.2.3", ("not an amount",)),
    ],
)
def test_amount_rules(env: Env, ledger: Ledger, amount: str, words: tuple[str, ...]) -> None:
    o = env.orders.invoiced()
    before = env.writes()
    one_problem_about(refused(ledger, o.order_id, amount, "cash", "R-1"), *words)
    assert env.writes() == before


def test_refunds_are_in_the_order_currency(env: Env, ledger: Ledger) -> None:
    o = env.orders.usd()
    one_problem_about(
        refused(ledger, o.order_id, "1.00", "cash", "R-1", currency="BRL"), "BRL is not the order's currency USD"
    )
    one_problem_about(refused(ledger, o.order_id, Money(100, "BRL"), "cash", "R-2"), "in BRL", "order is in USD")
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-3", currency="dollars"), "three-letter code")
    r = ledger.record(o.order_id, "1.00", "cash", "R-4", currency="usd")
    assert r.entry.amount == Money(100, "USD")
    assert ledger.quote(o.order_id).currency == "USD"


@pytest.mark.parametrize(
    ("status", "why"), [("canceled", "it is canceled"), ("payment-pending", "payment is still pending")]
)
def test_canceled_and_payment_pending_orders_take_no_refund(env: Env, ledger: Ledger, status: str, why: str) -> None:
    o = env.orders.status(status)
    before = env.writes()
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-1"), "cannot take an offline refund", why)
    assert env.writes() == before


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("approve-payment", "payment is still pending"),
        ("waiting-for-order-authorization", "payment is still pending"),
        ("order-create-error", "never a sale"),
        ("replaced", "record the refund on that order"),
        ("awaiting-review", "'awaiting-review' is not one refundkit knows"),
    ],
)
def test_orders_not_paid_never_sold_or_of_an_unknown_status_take_no_refund_and_show_balance_zero(
    make_env: Callable[..., Env], status: str, why: str
) -> None:
    env = make_env(rare_statuses=1, unknown_statuses=1)
    ledger = env.ledger(user="tester")
    o = env.orders.status(status)
    q = ledger.quote(o.order_id)
    assert why in q.blocked and q.balance.minor == 0 and q.refundable.minor > 0
    assert q.as_dict()["balance"] == "0.00" and why in q.as_dict()["blocked"]
    before = env.writes()
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-1"), "cannot take an offline refund", why)
    assert env.writes() == before
    # a sale whose cancellation was denied after invoicing takes one
    sale = ledger.quote(env.orders.status("invoice-after-cancellation-deny").order_id)
    assert sale.blocked == "" and sale.balance == sale.refundable


def test_unknown_and_malformed_orders_say_what_to_fix(env: Env, ledger: Ledger) -> None:
    one_problem_about(refused(ledger, "9999999999999-01", "1.00", "cash", "R-1"), "does not exist", "check the id")
    one_problem_about(refused(ledger, "../orders/x", "1.00", "cash", "R-1"), "is not a VTEX order id", "such as")
    one_problem_about(refused(ledger, "", "1.00", "cash", "R-1"), "not a VTEX order id")
    with pytest.raises(RefundRefused, match="is not a VTEX order id"):
        ledger.quote("a b")
    # only setup wrote: the schemas and the Master Data probe's scratch documents, no ledger document
    ledger_docs = [p for _, p in env.writes() if "/documents/" in p and f"/{SCRATCH_ENTITY}/" not in p]
    assert env.writes() and ledger_docs == []


def test_refunded_at_rules(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    future = (utc_now() + timedelta(days=2)).isoformat(digits=0)
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-1", refunded_at=future), "in the future")
    before = (o.created - timedelta(seconds=1)).isoformat(digits=0)
    one_problem_about(
        refused(ledger, o.order_id, "1.00", "cash", "R-1", refunded_at=before), "before the order was created"
    )
    one_problem_about(
        refused(ledger, o.order_id, "1.00", "cash", "R-1", refunded_at="yesterday"), "not a date", "ISO 8601"
    )
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-1", refunded_at="2026-02-30"), "not a date")
    # backdated, after creation: fine, and kept as given
    after = (o.created + timedelta(days=1)).isoformat(digits=3)
    r = ledger.record(o.order_id, "1.00", "cash", "R-1", refunded_at=after)
    assert r.entry.refunded_at.ns // 1_000_000 == (o.created + timedelta(days=1)).ns // 1_000_000
    # a few seconds of clock skew is tolerated
    soon = (utc_now() + timedelta(seconds=30)).isoformat(digits=0)
    assert ledger.record(o.order_id, "1.00", "cash", "R-2", refunded_at=soon).recorded_now


def test_source_and_reference_are_required(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    one_problem_about(refused(ledger, o.order_id, "1.00", "", "R-1"), "source is missing", "apace")
    one_problem_about(refused(ledger, o.order_id, "1.00", "paypal", "R-1"), "unknown source", "REFUNDKIT_EXTRA_SOURCES")
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "   "), "external reference is missing")
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R" * (MAX_REF + 1)), "shorten it", str(MAX_REF))
    for source in ("apace", "cash", "bank-transfer", "store-credit", "other", "Bank Transfer", "store_credit"):
        assert ledger.record(o.order_id, "0.01", source, f"ref-{source}").recorded_now


def test_extra_sources_extend_the_list(env: Env) -> None:
    o = env.orders.invoiced()
    ledger = env.ledger(extra_sources=["pix-manual"])
    assert ledger.record(o.order_id, "1.00", "pix-manual", "PX-1").entry.source == "pix-manual"


def test_the_refusal_of_an_unknown_source_gives_advice_that_works(env: Env) -> None:
    """The refusal says to add the source to REFUNDKIT_EXTRA_SOURCES: doing so (the setting, read by connect())
    makes the same refund go through."""
    o = env.orders.invoiced()
    problems = refused(env.ledger(), o.order_id, "1.00", "pix-manual", "PX-2")
    one_problem_about(problems, "unknown source", "REFUNDKIT_EXTRA_SOURCES")
    settings = load_settings(env={**env.env, "REFUNDKIT_EXTRA_SOURCES": "pix-manual"}, env_file=False)
    with connect(settings=settings, setup=False) as rk:
        assert rk.ledger.record(o.order_id, "1.00", "pix-manual", "PX-2").entry.source == "pix-manual"


def test_too_long_texts_say_how_long_they_may_be(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    problems = refused(
        ledger, o.order_id, "1.00", "cash", "R-1", note="n" * (MAX_NOTE + 1), reason="r" * (MAX_REASON + 1)
    )
    one_problem_about(problems, "note is", f"at most {MAX_NOTE}")
    one_problem_about(problems, "reason is", f"at most {MAX_REASON}")
    one_problem_about(refused(ledger, o.order_id, "1.00", "cash", "R-1", note="bell\x07"), "control characters")


def test_every_problem_is_reported_at_once(env: Env, ledger: Ledger) -> None:
    o = env.orders.status("canceled")
    future = (utc_now() + timedelta(days=2)).isoformat(digits=0)
    problems = refused(
        ledger, o.order_id, "1.234", "paypal", "", refunded_at=future, currency="EUR", note="x" * (MAX_NOTE + 1)
    )
    for words in (
        ("unknown source",),
        ("external reference is missing",),
        ("in the future",),
        ("note is",),
        ("EUR",),
        ("decimals",),
        ("cannot take an offline refund",),
    ):
        one_problem_about(problems, *words)
    assert len(problems) == len(set(problems))


def test_a_full_native_refund_leaves_nothing_to_refund(env: Env, ledger: Ledger) -> None:
    o = env.orders.fully_returned()
    q = ledger.quote(o.order_id)
    assert q.native_refunded == Money(o.refunded_cents, o.currency) and q.refundable.minor == 0
    one_problem_about(refused(ledger, o.order_id, "0.01", "cash", "R-1"), "refundable balance", "VTEX refunds")


# -- quote ----------------------------------------------------------------------------------------------------------


def test_quote_counts_native_and_offline_refunds(env: Env, ledger: Ledger) -> None:
    o = env.orders.partly_returned()
    q = ledger.quote(o.order_id)
    assert (q.order_id, q.status, q.currency) == (o.order_id, "invoiced", o.currency)
    assert q.order_total == Money(o.total_cents, o.currency)
    assert q.native_refunded == Money(o.refunded_cents, o.currency)
    assert q.offline_refunded == Money(0, o.currency) and q.entries == ()
    assert q.refundable == Money(o.total_cents - o.refunded_cents, o.currency)
    assert len(q.return_invoices) == len(o.input_invoices)
    ledger.record(o.order_id, "1.00", "cash", "R-1")
    q2 = ledger.quote(o.order_id)
    assert q2.offline_refunded == Money(100, o.currency)
    assert q2.refundable == Money(o.total_cents - o.refunded_cents - 100, o.currency)
    d = q2.as_dict()
    assert d["refundable"] == money(o.total_cents - o.refunded_cents - 100) and len(d["entries"]) == 1
    assert len(d["return_invoices"]) == len(o.input_invoices)


def test_quote_of_a_proposed_refund_lists_problems_and_writes_nothing(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    before = env.writes()
    q = ledger.quote(o.order_id, money(o.total_cents + 1), "cash", "R-1")
    assert not q.ok and any("refundable balance" in p for p in q.problems)
    assert q.proposed == Money(o.total_cents + 1, "BRL")
    ok = ledger.quote(o.order_id, "1.00", "cash", "R-1")
    assert ok.ok and ok.problems == () and ok.refundable == Money(o.total_cents, "BRL")
    assert env.writes() == before


def test_quote_of_an_unknown_order_is_refused(ledger: Ledger) -> None:
    with pytest.raises(RefundRefused, match="does not exist"):
        ledger.quote("1000000000000-01")


# -- the note --------------------------------------------------------------------------------------------------------


def test_a_long_note_is_cut_to_what_vtex_accepts(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-1", note="é" * MAX_NOTE, reason="r" * MAX_REASON)
    assert r.pending == ()
    (note,) = notes_of(env.sb, o.order_id)
    assert len(note["description"]) <= 2000 and note["description"].endswith(f"[refundkit:{r.entry.entry_id}]")


def test_recorded_by_comes_from_the_settings(env: Env) -> None:
    o = env.orders.invoiced()
    ledger = env.ledger()  # REFUNDKIT_USER=tester in the environment
    assert ledger.record(o.order_id, "1.00", "cash", "R-1").entry.recorded_by == "tester"


def test_the_same_refund_again_in_another_currency_is_a_conflict_about_the_currency(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    first = ledger.record(o.order_id, "15.00", "apace", "APC-CUR")
    before = env.writes()
    with pytest.raises(RefundConflict) as info:
        ledger.record(o.order_id, "15.00", "apace", "APC-CUR", currency="JPY")
    msg = str(info.value)
    assert first.entry.entry_id in msg and "BRL 15.00" in msg and "not in JPY" in msg
    assert env.writes() == before
    quote = ledger.quote(o.order_id, "1500", "cash", "Q-1", currency="JPY")
    assert quote.proposed is None, "an amount in yen is never proposed as one in reais"
    assert any("JPY is not the order's currency BRL" in p for p in quote.problems)
