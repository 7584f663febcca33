"""Likely duplicates: the same order and amount under another reference, within the window, need a second look."""

from __future__ import annotations

from datetime import timedelta

import pytest

from refundkit.errors import ConfigError
from refundkit.ledger.duplicates import duplicate_window_days, find_likely_duplicates
from refundkit.timeutil import utc_now

from .helpers import Env


def test_same_order_and_amount_under_another_reference_is_a_likely_duplicate(env: Env) -> None:
    ledger = env.ledger(user="tester")
    order = env.orders.invoiced(min_total=10_000).order_id
    first = ledger.record(order, "20.00", "cash", "RECEIPT-1", reason="returned")

    check = find_likely_duplicates(ledger, order, "20,00", "cash", "RECEIPT-2")
    assert [e.entry_id for e in check.matches] == [first.entry.entry_id]
    [line] = check.describe("America/Sao_Paulo")
    assert "BRL 20.00" in line and "RECEIPT-1" in line and "(America/Sao_Paulo)" in line

    # the same refund again is not a duplicate (exactly-once handles it), nor is another amount
    assert not find_likely_duplicates(ledger, order, "20.00", "cash", " receipt-1 ").found
    assert not find_likely_duplicates(ledger, order, "20.01", "cash", "RECEIPT-2").found
    # another source with the same amount is another identity: still a likely duplicate
    assert find_likely_duplicates(ledger, order, "20.00", "bank-transfer", "TX-9").found


def test_outside_the_window_or_reversed_is_not_a_likely_duplicate(env: Env) -> None:
    ledger = env.ledger(user="tester")
    order = env.orders.invoiced(min_total=10_000).order_id
    now = utc_now()
    old = ledger.record(order, "15.00", "cash", "OLD-1", refunded_at=now - timedelta(days=10))

    assert not find_likely_duplicates(ledger, order, "15.00", "cash", "NEW-1", refunded_at=now).found
    assert find_likely_duplicates(ledger, order, "15.00", "cash", "NEW-1", refunded_at=now, window_days=11).found
    assert not find_likely_duplicates(ledger, order, "15.00", "cash", "NEW-1", window_days=0).found

    recent = ledger.record(order, "15.00", "cash", "RECENT-1")
    assert find_likely_duplicates(ledger, order, "15.00", "cash", "NEW-1").found
    ledger.reverse(recent.entry.entry_id, "typed twice")
    assert not find_likely_duplicates(ledger, order, "15.00", "cash", "NEW-1").found
    assert old.entry.entry_id  # the old refund stays, out of the window


def test_the_window_is_configurable() -> None:
    assert duplicate_window_days({}) == 7
    assert duplicate_window_days({"REFUNDKIT_DUPLICATE_DAYS": "3"}) == 3
    with pytest.raises(ConfigError, match="whole number of days"):
        duplicate_window_days({"REFUNDKIT_DUPLICATE_DAYS": "a week"})
