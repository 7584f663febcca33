"""Pure rules: identities, entries, quotes and validation, without VTEX."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from refundkit.errors import LedgerError
from refundkit.ledger import note_text
from refundkit.ledger.model import (
    KNOWN_SOURCES,
    EntryKind,
    LedgerEntry,
    NoteStatus,
    OrderLedger,
    head_id,
    normalise_ref,
    refund_id,
    reversal_id,
)
from refundkit.ledger.rules import (
    CLOCK_SKEW,
    RefundInput,
    build_quote,
    check_input,
    check_source,
    entry_from,
    parse_refund_amount,
)
from refundkit.ledger.schemas import ENTRY_SCHEMA, head_document
from refundkit.money import CurrencyMismatch, Money
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.models import Order, ReturnInvoice

NOW = parse_instant("2026-06-01T12:00:00Z")
CREATED = parse_instant("2026-05-01T09:30:00.1234567-03:00")


def order(total: int = 10000, currency: str = "BRL", status: str = "invoiced", returns: tuple[int, ...] = ()) -> Order:
    return Order(
        order_id="1306331686122-01",
        sequence="500001",
        status=status,
        currency=currency,
        created_at=CREATED,
        total=Money(total, currency),
        totals={},
        items=(),
        payments=(),
        return_invoices=tuple(
            ReturnInvoice(f"R{i}", Money(v, currency), CREATED + timedelta(days=3)) for i, v in enumerate(returns)
        ),
        sales_channel="1",
        raw={"storePreferencesData": {"timeZone": "E. South America Standard Time"}},
    )


def entry(
    amount: int, kind: str = "refund", currency: str = "BRL", n: int = 0, reverses: str | None = None
) -> LedgerEntry:
    return LedgerEntry(
        entry_id=f"rf-{n:024x}" if kind == "refund" else f"rv-{n:024x}",
        order_id="1306331686122-01",
        kind=kind,
        amount=Money(amount, currency),
        refunded_at=NOW,
        source="cash",
        external_ref=f"R-{n}",
        reason="",
        note="",
        recorded_by="tester",
        recorded_at=NOW,
        reverses=reverses,
    )


def quote_for(raw: RefundInput, o: Order | None = None, ledger: OrderLedger | None = None):
    clean, problems = check_input(raw, now=NOW)
    return build_quote(o or order(), ledger or OrderLedger(raw.order_id, 0), raw, clean, problems)


# -- identities ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["APC-123", " apc-123 ", "APC-123\t", "ＡＰＣ－１２３", "Apc-123"])
def test_a_reference_names_one_refund_however_it_is_spelled(ref: str) -> None:
    assert refund_id("1306331686122-01", "apace", ref) == refund_id("1306331686122-01", "apace", "APC-123")


def test_identity_covers_order_source_and_reference() -> None:
    base = refund_id("1306331686122-01", "apace", "APC-123")
    assert base.startswith("rf-") and len(base) == 27 and base == base.lower()
    assert refund_id("1306331686122-02", "apace", "APC-123") != base
    assert refund_id("1306331686122-01", "cash", "APC-123") != base
    assert refund_id("1306331686122-01", "apace", "APC-124") != base
    assert refund_id("1306331686122-01", "apace", "APC 123") != base
    assert refund_id(" 1306331686122-01 ", " APACE ", "apc-123") == base
    assert normalise_ref("  a   b ") == "a b"


def test_reversal_and_head_ids() -> None:
    rid = refund_id("1-01", "cash", "x")
    assert reversal_id(rid).startswith("rv-") and len(reversal_id(rid)) == 27
    assert reversal_id(rid) != reversal_id(refund_id("1-01", "cash", "y"))
    assert head_id(" ABC-01 ") == "order-abc-01"


# -- entries and the order ledger ----------------------------------------------------------------------------------


def test_entry_document_round_trip() -> None:
    e = LedgerEntry(
        entry_id="rf-" + "a" * 24,
        order_id="1-01",
        kind="refund",
        amount=Money(1234, "BRL"),
        refunded_at=parse_instant("2026-03-01T14:30:00.123-03:00"),
        source="apace",
        external_ref="APC-1",
        reason="why",
        note="note",
        recorded_by="ana",
        recorded_at=parse_instant("2026-03-02T00:00:00Z"),
        over_refund=True,
        over_refund_reason="goodwill",
        note_status="posted",
        note_id="N1",
    )
    doc = e.to_document()
    assert doc["amount"] == 1234 and doc["currency"] == "BRL" and doc["refundedAt"] == "2026-03-01T17:30:00.123Z"
    assert LedgerEntry.from_document(doc) == e
    assert LedgerEntry.from_document({**doc, "amount": 1234.0}).amount == Money(1234, "BRL")
    back = LedgerEntry.from_document(json.loads(json.dumps(doc)))
    assert back.kind is EntryKind.REFUND and back.note_status is NoteStatus.POSTED


def test_the_entry_document_the_schema_and_its_default_fields_name_the_same_fields() -> None:
    doc = entry(100).to_document()
    assert list(doc) == list(ENTRY_SCHEMA["properties"]) == ENTRY_SCHEMA["v-default-fields"]
    assert len(doc) == 22  # 18 + noteProblem and noteAttemptAt + lines and restock (refunds by item)
    assert set(ENTRY_SCHEMA["required"]) <= set(doc) and set(ENTRY_SCHEMA["v-indexed"]) <= set(doc)
    assert ENTRY_SCHEMA["properties"]["kind"]["enum"] == ["refund", "reversal"]
    assert ENTRY_SCHEMA["properties"]["noteStatus"]["enum"] == ["pending", "posted", "impossible"]


def test_an_unknown_kind_or_note_status_is_a_damaged_document() -> None:
    doc = entry(100).to_document()
    with pytest.raises(LedgerError, match="damaged"):
        LedgerEntry.from_document({**doc, "kind": "refnud"})
    with pytest.raises(LedgerError, match="damaged"):
        LedgerEntry.from_document({**doc, "noteStatus": "sent"})


def test_a_damaged_document_says_so() -> None:
    with pytest.raises(LedgerError, match="damaged"):
        LedgerEntry.from_document({"id": "rf-x", "orderId": "1-01"})
    with pytest.raises(LedgerError, match="no readable version"):
        OrderLedger.from_document("1-01", {"version": "x", "entries": []})


def test_order_ledger_sums_refunds_net_of_reversals() -> None:
    ledger = OrderLedger(
        "1-01", 3, (entry(500, n=1), entry(300, n=2), entry(500, "reversal", n=1, reverses=f"rf-{1:024x}"))
    )
    assert ledger.offline_refunded("BRL") == Money(300, "BRL")
    assert ledger.reversal_of(f"rf-{1:024x}").kind == "reversal"
    assert ledger.reversal_of(f"rf-{2:024x}") is None
    assert OrderLedger.from_document("1-01", None) == OrderLedger("1-01", 0, ())
    assert OrderLedger.from_document("1-01", ledger.to_document()) == ledger


def test_order_ledger_never_mixes_currencies() -> None:
    with pytest.raises(CurrencyMismatch):
        OrderLedger("1-01", 1, (entry(500, currency="USD"),)).offline_refunded("BRL")


def test_head_document_keeps_write_ids_note_outcomes_claims_and_the_span() -> None:
    claimed = parse_instant("2026-05-03T10:00:00Z")
    e = LedgerEntry(
        **{
            **entry(100).__dict__,
            "note_status": "impossible",
            "note_problem": "30 notes",
            "write_id": "w1",
            "note_claim": "run-1",
            "note_claimed_at": claimed,
        }
    )
    doc = head_document(OrderLedger("1-01", 1, (e,)))
    assert doc["entries"][0]["writeId"] == "w1" and doc["entries"][0]["noteClaim"] == "run-1"
    assert doc["firstRefundedAtMs"] == doc["lastRefundedAtMs"] == e.refunded_at.ns // 1_000_000
    back = OrderLedger.from_document("1-01", doc).entries[0]
    assert back.write_id == "w1" and back.note_status == "impossible" and back.note_problem == "30 notes"
    assert (back.note_claim, back.note_claimed_at) == ("run-1", claimed)
    assert "writeId" not in e.to_document() and "noteClaim" not in e.to_document()  # entry documents do not


# -- validation rules --------------------------------------------------------------------------------------------


def test_a_good_refund_has_no_problems() -> None:
    q = quote_for(RefundInput("1306331686122-01", "12.34", "apace", "APC-1"))
    assert q.ok and q.proposed == Money(1234, "BRL") and q.refundable == Money(10000, "BRL")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "BRL", 1234),
        ("12,34", "BRL", 1234),
        (" 1.234,56 ", "BRL", 123456),
        ("1,234.56", "BRL", 123456),
        ("15", "JPY", 15),
        ("1.234", "KWD", 1234),
        ("0.01", "USD", 1),
        (7, "BRL", 700),
    ],
)
def test_amounts_in_each_currency(amount, currency: str, minor: int) -> None:
    assert parse_refund_amount(RefundInput("1-01", amount, "cash", "r"), currency) == (Money(minor, currency), None)


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("1.5", "JPY", "has decimals, but JPY has none"),
        ("1.2345", "KWD", "more than 3 decimals"),
        ("0.001", "BRL", "more than 2 decimals"),
        ("1e3", "BRL", "not an amount"),
        ("NaN", "BRL", "not an amount"),
        ("1.234.567", "BRL", "not an amount"),
        ("--1", "BRL", "not an amount"),
        (None, "BRL", "amount is missing"),
        ("  ", "BRL", "amount is missing"),
        ("0", "BRL", "more than zero"),
        ("-0.01", "BRL", "more than zero"),
        (True, "BRL", "must be a number"),
    ],
)
def test_amounts_that_are_refused(amount, currency: str, words: str) -> None:
    m, problem = parse_refund_amount(RefundInput("1-01", amount, "cash", "r"), currency)
    assert m is None and words in problem


def test_over_the_balance_counts_native_and_offline_refunds() -> None:
    o = order(10000, returns=(2500,))
    ledger = OrderLedger("1-01", 1, (entry(2500),))
    q = quote_for(RefundInput("1306331686122-01", "50.01", "cash", "R"), o, ledger)
    assert q.refundable == Money(5000, "BRL")
    (p,) = q.problems
    assert "refundable balance BRL 50.00" in p and "VTEX refunds BRL 25.00" in p and "offline refunds BRL 25.00" in p
    assert quote_for(RefundInput("1306331686122-01", "50.00", "cash", "R"), o, ledger).ok


def test_over_refund_with_a_reason_is_a_warning_not_a_problem() -> None:
    raw = RefundInput("1306331686122-01", "200.00", "cash", "R", allow_over_refund=True, over_refund_reason="goodwill")
    q = quote_for(raw)
    assert q.ok and q.warnings and "over-refund of BRL 100.00" in q.warnings[0]
    e = entry_from(raw, check_input(raw, now=NOW)[0], q, entry_id="rf-x", order_id="1-01", user="u", now=NOW)
    assert e.over_refund and e.over_refund_reason == "goodwill"


@pytest.mark.parametrize(
    ("status", "refusable"),
    [
        ("canceled", True),
        ("cancel", True),
        ("payment-pending", True),
        ("invoiced", False),
        ("handling", False),
        ("payment-approved", False),
        ("ready-for-handling", False),
        ("window-to-cancel", False),
    ],
)
def test_order_statuses(status: str, refusable: bool) -> None:
    q = quote_for(RefundInput("1306331686122-01", "1.00", "cash", "R"), order(status=status))
    assert (not q.ok) == refusable


def test_refunded_at_bounds() -> None:
    def problems(when):
        return quote_for(RefundInput("1306331686122-01", "1.00", "cash", "R", refunded_at=when)).problems

    assert problems(None) == () and problems("") == ()
    assert problems(CREATED) == ()  # the very instant of creation
    assert "before the order was created" in problems(Instant(CREATED.ns - 100))[0]
    assert problems(NOW + CLOCK_SKEW) == ()
    assert "in the future" in problems(NOW + CLOCK_SKEW + timedelta(seconds=1))[0]
    assert problems("2026-05-02") == ()
    assert "not a date" in problems("02/05/2026")[0]
    assert "not a date" in problems("2026-13-01")[0]


def test_sources() -> None:
    assert KNOWN_SOURCES == ("apace", "cash", "bank-transfer", "store-credit", "other")
    assert check_source("Bank Transfer") == ("bank-transfer", None)
    assert check_source("store_credit") == ("store-credit", None)
    assert check_source("pix", ["pix"]) == ("pix", None)
    s, p = check_source("pix")
    assert s is None and "unknown source 'pix'" in p and "apace, cash, bank-transfer, store-credit, other" in p
    assert "source is missing" in check_source("   ")[1]


def test_every_problem_at_once_without_repeats() -> None:
    raw = RefundInput(
        "1306331686122-01",
        "0.001",
        "",
        "",
        reason="\x00",
        note="x" * 1001,
        refunded_at="2099-01-01",
        currency="EUR",
        allow_over_refund=True,
    )
    q = quote_for(raw, order(status="canceled"))
    text = " | ".join(q.problems)
    for words in (
        "source is missing",
        "external reference is missing",
        "reason contains control characters",
        "note is 1001 characters long",
        "in the future",
        "over-refund needs a reason",
        "EUR is not the order's currency",
        "more than 2 decimals",
        "it is canceled",
    ):
        assert words in text
    assert len(q.problems) == len(set(q.problems)) == 9


def test_a_non_text_reference_is_refused() -> None:
    _clean, problems = check_input(RefundInput("1-01", "1", "cash", 123), now=NOW)  # type: ignore[arg-type]  # a wrong type on purpose
    assert "external reference must be text" in problems[0]


# -- the note --------------------------------------------------------------------------------------------------------


def test_note_text_says_what_how_who_and_the_id() -> None:
    e = entry(1234, n=7)
    q = quote_for(RefundInput("1306331686122-01", "12.34", "cash", "R-7"))
    text = note_text(e, q)
    for part in (
        "Offline refund of BRL 12.34",
        "via cash",
        "reference R-7",
        "recorded by tester",
        "VTEX moved no money",
        f"[refundkit:{e.entry_id}]",
    ):
        assert part in text
    long = LedgerEntry(**{**e.__dict__, "note": "é" * 3000, "reason": "r" * 500})
    cut = note_text(long, q)
    assert len(cut) <= 2000 and cut.endswith(f"[refundkit:{e.entry_id}]") and "..." in cut
    rv = entry(1234, "reversal", n=8, reverses=e.entry_id)
    assert note_text(rv, q).startswith(f"Reversal of offline refund {e.entry_id}")


def test_recorded_by_is_refundkit_user_or_the_os_user() -> None:
    import getpass

    from refundkit.config import load_settings

    assert load_settings(env={"REFUNDKIT_USER": "ana"}, env_file=False).user == "ana"
    try:
        os_user = getpass.getuser()
    except Exception:
        os_user = "unknown"
    assert load_settings(env={}, env_file=False).user == os_user
