"""Properties (hypothesis): amount parsing and balance arithmetic, in pure code and against the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from refundkit.ledger import RefundRefused
from refundkit.ledger.model import LedgerEntry, OrderLedger, refund_id
from refundkit.ledger.rules import MAX_OFFLINE_FACTOR, RefundInput, build_quote, check_input
from refundkit.money import AmountError, CurrencyMismatch, Money, currency_exponent, format_minor, parse_amount
from refundkit.timeutil import parse_instant
from refundkit.vtex.models import Order, ReturnInvoice

from .helpers import Env, money

NOW = parse_instant("2026-06-01T12:00:00Z")
CURRENCIES = st.sampled_from(["BRL", "USD", "JPY", "KWD", "EUR", "CLP"])
minor_units = st.integers(min_value=0, max_value=10**12)


def grouped(whole: int, sep: str) -> str:
    return f"{whole:,}".replace(",", sep)


# -- amount parsing -----------------------------------------------------------------------------------------------


@given(minor=minor_units, currency=CURRENCIES)
def test_formatting_then_parsing_gives_the_amount_back(minor: int, currency: str) -> None:
    text = format_minor(minor, currency)
    assert parse_amount(text, currency) == minor
    assert parse_amount(text.replace(".", ","), currency) == minor  # decimal comma
    assert parse_amount(f"  {text} ", currency) == minor
    assert parse_amount("-" + text, currency) == -minor
    assert parse_amount(Decimal(text), currency) == minor


@given(minor=minor_units, currency=CURRENCIES.filter(lambda c: currency_exponent(c) > 0))
def test_thousands_groups_with_either_decimal_separator(minor: int, currency: str) -> None:
    exp = currency_exponent(currency)
    whole, frac = divmod(minor, 10**exp)
    digits = f"{frac:0{exp}d}"
    assert parse_amount(f"{grouped(whole, '.')},{digits}", currency) == minor
    assert parse_amount(f"{grouped(whole, ',')}.{digits}", currency) == minor
    assert parse_amount(f"{grouped(whole, ' ')},{digits}", currency) == minor


@given(minor=minor_units, currency=CURRENCIES, extra=st.integers(min_value=1, max_value=9))
def test_more_decimals_than_the_currency_has_are_refused(minor: int, currency: str, extra: int) -> None:
    exp = currency_exponent(currency)
    whole, frac = divmod(minor, 10**exp)
    text = f"{whole}.{frac:0{exp}d}{extra}" if exp else f"{whole}.{extra}"
    with pytest.raises(AmountError):
        parse_amount(text, currency)


@given(text=st.text(max_size=12))
def test_parsing_anything_either_reads_an_amount_or_says_why(text: str) -> None:
    try:
        value = parse_amount(text, "BRL")
    except AmountError as exc:
        assert str(exc)
    else:
        assert isinstance(value, int) and any(c.isdigit() for c in text)
        assert parse_amount(format_minor(value, "BRL"), "BRL") == value


@given(minor=st.integers(min_value=1, max_value=10**9), currency=CURRENCIES)
def test_a_refund_amount_is_read_in_the_order_currency(minor: int, currency: str) -> None:
    from refundkit.ledger.rules import parse_refund_amount

    text = format_minor(minor, currency)
    m, problem = parse_refund_amount(RefundInput("1-01", text, "cash", "r"), currency)
    assert problem is None and m == Money(minor, currency)
    neg, problem = parse_refund_amount(RefundInput("1-01", "-" + text, "cash", "r"), currency)
    assert neg is None and "more than zero" in problem


@given(
    ref=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_identity_ignores_case_and_surrounding_space(ref: str, pad: str) -> None:
    assume(ref.strip())
    assert refund_id("1-01", "cash", pad + ref + pad) == refund_id("1-01", "cash", ref)
    assume(ref.upper().casefold() == ref.casefold())
    assert refund_id("1-01", "cash", ref.upper()) == refund_id("1-01", "cash", ref.lower())


# -- balance arithmetic -------------------------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=10**7)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
    ),
    max_size=40,
)


def build(ops, currency: str) -> tuple[OrderLedger, int, int]:
    """Apply the operations (a reversal takes back the n-th unreversed refund): ledger, Σ refunds, Σ reversals."""
    entries: list[LedgerEntry] = []
    open_refunds: list[LedgerEntry] = []
    refunds = reversals = 0
    for i, (op, n) in enumerate(ops):
        if op == "refund":
            e = LedgerEntry(
                f"rf-{i:024x}", "1-01", "refund", Money(n, currency), NOW, "cash", f"R{i}", "", "", "t", NOW
            )
            open_refunds.append(e)
            refunds += n
        elif open_refunds:
            target = open_refunds.pop(n % len(open_refunds))
            e = LedgerEntry(
                f"rv-{i:024x}",
                "1-01",
                "reversal",
                target.amount,
                NOW,
                "cash",
                target.external_ref,
                "oops",
                "",
                "t",
                NOW,
                reverses=target.entry_id,
            )
            reversals += target.amount.minor
        else:
            continue
        entries.append(e)
    return OrderLedger("1-01", len(entries), tuple(entries)), refunds, reversals


def order(total: int, currency: str, native: tuple[int, ...] = ()) -> Order:
    return Order(
        "1-01",
        "1",
        "invoiced",
        currency,
        parse_instant("2026-01-01T00:00:00Z"),
        Money(total, currency),
        {},
        (),
        (),
        tuple(ReturnInvoice(f"R{i}", Money(v, currency), None) for i, v in enumerate(native)),
        "1",
    )


@given(
    ops=operations,
    currency=CURRENCIES,
    total=st.integers(min_value=0, max_value=10**9),
    native=st.lists(st.integers(min_value=0, max_value=10**6), max_size=3),
)
def test_offline_refunded_is_refunds_minus_reversals_and_refundable_follows(ops, currency, total, native) -> None:
    ledger, refunds, reversals = build(ops, currency)
    assert ledger.offline_refunded(currency) == Money(refunds - reversals, currency)
    assert sum((e.signed for e in ledger.entries), Money(0, currency)) == Money(refunds - reversals, currency)
    q = build_quote(order(total, currency, tuple(native)), ledger)
    assert q.native_refunded == Money(sum(native), currency)
    assert q.refundable == Money(total - sum(native) - (refunds - reversals), currency)
    assert q.refundable.currency == q.order_total.currency == q.offline_refunded.currency == currency
    d = q.as_dict()
    assert Money.parse(d["refundable"], currency) == q.refundable


@given(
    ops=operations, total=st.integers(min_value=1, max_value=10**8), amount=st.integers(min_value=1, max_value=10**8)
)
def test_a_proposed_refund_fits_exactly_when_it_is_at_most_the_balance(ops, total, amount) -> None:
    ledger, _, _ = build(ops, "BRL")
    raw = RefundInput("1-01", format_minor(amount, "BRL"), "cash", "NEW")
    clean, problems = check_input(raw, now=NOW)
    q = build_quote(order(total, "BRL"), ledger, raw, clean, problems)
    assert q.ok == (amount <= q.refundable.minor)
    over = RefundInput(
        "1-01", format_minor(amount, "BRL"), "cash", "NEW", allow_over_refund=True, over_refund_reason="goodwill"
    )
    q2 = build_quote(order(total, "BRL"), ledger, over, check_input(over, now=NOW)[0])
    # even an over-refund keeps the order's offline refunds within MAX_OFFLINE_FACTOR times its total
    assert q2.ok == (q.offline_refunded.minor + amount <= MAX_OFFLINE_FACTOR * total)
    assert not q2.ok or bool(q2.warnings) == (amount > q.refundable.minor)


@given(
    ops=operations.filter(lambda o: any(op == "refund" for op, _ in o)),
    currencies=st.tuples(CURRENCIES, CURRENCIES).filter(lambda c: c[0] != c[1]),
)
def test_currencies_never_mix(ops, currencies) -> None:
    ledger, _, _ = build(ops, currencies[0])
    with pytest.raises(CurrencyMismatch):
        ledger.offline_refunded(currencies[1])
    with pytest.raises(CurrencyMismatch):
        build_quote(order(10**9, currencies[1]), ledger)
    with pytest.raises(CurrencyMismatch):
        Money(1, currencies[0]) + Money(1, currencies[1])


# -- the same arithmetic through the sandbox ------------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("refund"), st.integers(min_value=1, max_value=40000)),
            st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=9)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_recording_and_reversing_against_the_sandbox_keeps_the_balance(env: Env, ops) -> None:
    o = env.orders.invoiced()
    ledger = env.ledger(journal=False)
    total = o.total_cents
    expected = 0
    open_refunds: list[str] = []
    for i, (op, n) in enumerate(ops):
        if op == "refund":
            try:
                r = ledger.record(o.order_id, money(n), "cash", f"P-{i}")
            except RefundRefused as exc:
                assert n > total - expected, exc.problems
                continue
            assert n <= total - expected
            expected += n
            open_refunds.append(r.entry.entry_id)
        elif open_refunds:
            target = open_refunds.pop(n % len(open_refunds))
            v = ledger.reverse(target, "property test")
            expected -= v.entry.amount.minor
        q = ledger.quote(o.order_id)
        assert q.offline_refunded == Money(expected, "BRL")
        assert q.refundable == Money(total - expected, "BRL") and q.refundable.minor >= 0
