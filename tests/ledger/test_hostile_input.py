"""Input an attack on refundkit tried, against the sandbox on loopback: invisible characters in a reference, absurd
amounts, and a day without a time (which means that day where the store is)."""

from __future__ import annotations

from datetime import date

import pytest

from refundkit.ledger import Ledger, RefundRefused
from refundkit.ledger.model import normalise_ref, refund_id
from refundkit.money import MAX_MINOR
from refundkit.storetime import day_instant, iana_zone, order_time_zone
from refundkit.timeutil import parse_instant

from .helpers import Env, money, notes_of, writes


@pytest.mark.parametrize(
    "twin",
    [
        "ref-normal-1\u200b",  # zero-width space
        "\ufeffref-normal-1",  # byte-order mark
        "ref-\u00adnormal-1",  # soft hyphen
        "ref-normal-1\u2060",  # word joiner
        "\u202eref-normal-1",  # right-to-left override
        "ＲＥＦ-normal-1",  # full width, NFKC folds it
        " REF-NORMAL-1 ",
    ],
)
def test_a_reference_differing_only_by_invisible_characters_is_the_same_refund(
    env: Env, ledger: Ledger, twin: str
) -> None:
    o = env.orders.invoiced()
    first = ledger.record(o.order_id, "2.00", "cash", "ref-normal-1")
    before = writes(env.sb)
    again = ledger.record(o.order_id, "2.00", "cash", twin)
    assert again.outcome == "already recorded"
    assert again.entry.entry_id == first.entry.entry_id == refund_id(o.order_id, "cash", twin)
    assert writes(env.sb) == before, "recording the twin wrote something"
    assert len(notes_of(env.sb, o.order_id)) == 1
    assert len(ledger.entries(order_id=o.order_id)) == 1


def test_format_characters_are_not_stored_in_the_reference(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "2.00", "cash", "\ufeffAPC-9\u200b")
    assert r.entry.external_ref == "APC-9"
    assert normalise_ref("\ufeffAPC-9\u200b") == normalise_ref("apc-9") == "apc-9"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("external_ref", "ref\x07-1", "U+0007"),
        ("external_ref", "ref\t1", "U+0009"),
        ("external_ref", "ref\x85-1", "U+0085"),  # C1 next line: a control character of the Latin-1 block
        ("external_ref", "ref\x9b31m-1", "U+009B"),  # C1 control sequence introducer
        ("reason", "bell\x07", "U+0007"),
        ("note", "esc\x1b[2J", "U+001B"),
        ("note", "del\x7f", "U+007F"),
    ],
)
def test_control_characters_are_refused_saying_which_and_where(
    env: Env, ledger: Ledger, field: str, value: str, code: str
) -> None:
    o = env.orders.invoiced()
    kw = {"external_ref": "R-1", "reason": "", "note": "", field: value}
    before = writes(env.sb)
    with pytest.raises(RefundRefused) as info:
        ledger.record(o.order_id, "1.00", "cash", kw.pop("external_ref"), **kw)
    (problem,) = info.value.problems
    assert "control characters" in problem and code in problem and "position" in problem
    assert writes(env.sb) == before


def test_line_breaks_stay_allowed_in_a_reason_and_a_note(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    r = ledger.record(o.order_id, "1.00", "cash", "R-LB", reason="damaged\nbox", note="line one\r\nline two\tend")
    assert r.entry.reason == "damaged\nbox" and r.outcome == "recorded"


# -- absurd amounts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("99999999999999999999999", "too large"),
        ("9" * 5000, "5,000 characters long"),
        ("90071992547409.92", "too large"),  # 2**53 minor units
    ],
)
def test_absurd_amounts_are_refused_even_as_an_over_refund(env: Env, ledger: Ledger, amount: str, words: str) -> None:
    o = env.orders.invoiced()
    before = writes(env.sb)
    with pytest.raises(RefundRefused) as info:
        ledger.record(o.order_id, amount, "cash", "R-BIG", allow_over_refund=True, over_refund_reason="goodwill")
    text = "; ".join(info.value.problems)
    assert words in text and len(text) < 400, text
    assert writes(env.sb) == before


def test_an_over_refund_is_bounded_by_twice_the_order_total(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    total = o.total_cents
    with pytest.raises(RefundRefused, match="more than 2 times its total"):
        ledger.record(o.order_id, money(2 * total + 1), "cash", "R-1", allow_over_refund=True, over_refund_reason="x")
    r = ledger.record(
        o.order_id, money(total + total // 2), "cash", "R-2", allow_over_refund=True, over_refund_reason="x"
    )
    assert r.outcome == "recorded" and r.entry.over_refund
    # the bound counts what is already refunded: the order may reach twice its total, no further
    with pytest.raises(RefundRefused, match="more than 2 times its total"):
        ledger.record(o.order_id, money(total), "cash", "R-3", allow_over_refund=True, over_refund_reason="x")
    assert 2 * total <= MAX_MINOR


# -- a day without a time ---------------------------------------------------------------------------------------------


def test_a_date_without_a_time_is_that_day_in_the_stores_zone(env: Env, ledger: Ledger) -> None:
    o = env.orders.pick(
        lambda s: (
            s.status == "invoiced"
            and s.currency == "BRL"
            and s.created.ns < parse_instant("2026-02-27T00:00:00Z").ns
            and not s.input_invoices
        ),
        "BRL order created before 27 February",
    )
    raw = env.client().orders.get(o.order_id).raw
    assert order_time_zone(raw) == "America/Sao_Paulo"  # VTEX gives "E. South America Standard Time"
    r = ledger.record(o.order_id, "1.00", "cash", "R-DAY", refunded_at="2026-03-01")
    assert r.entry.refunded_at == parse_instant("2026-03-01T12:00:00-03:00")
    assert r.entry.refunded_at.in_zone("America/Sao_Paulo").isoformat().startswith("2026-03-01")


def test_the_store_zone_setting_wins_over_vtex(env: Env) -> None:
    o = env.orders.pick(
        lambda s: (
            s.status == "invoiced"
            and s.currency == "BRL"
            and s.created.ns < parse_instant("2026-02-27T00:00:00Z").ns
            and not s.input_invoices
        ),
        "BRL order created before 27 February",
    )
    ledger = env.ledger(store_tz="Asia/Tokyo")
    r = ledger.record(o.order_id, "1.00", "cash", "R-DAY", refunded_at=date(2026, 3, 1))
    assert r.entry.refunded_at == parse_instant("2026-03-01T12:00:00+09:00")


def test_day_instant_rules() -> None:
    now = parse_instant("2026-03-10T15:00:00Z")
    assert day_instant(date(2026, 3, 10), "America/Sao_Paulo", now=now) == now  # today: now
    assert day_instant(date(2026, 3, 1), "America/Sao_Paulo", now=now) == parse_instant("2026-03-01T15:00:00Z")
    created = parse_instant("2026-03-01T20:00:00Z")  # created that afternoon: not before the order
    assert day_instant(date(2026, 3, 1), "America/Sao_Paulo", now=now, not_before=created) == created
    assert iana_zone("E. South America Standard Time") == "America/Sao_Paulo"
    assert iana_zone("America/Bogota") == "America/Bogota"
    assert iana_zone("Mars Standard Time") is None and order_time_zone({}) is None
