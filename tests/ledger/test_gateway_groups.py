"""Gateway refunds on a payment transaction that several orders share, with installment interest and order changes,
and a 403 on one transaction (sandbox on loopback). Expected figures are computed here from what the sandbox holds
(its summaries and its transaction's JSON), not by refundkit's own rule."""

from __future__ import annotations

from fractions import Fraction
from math import ceil
from typing import Any

import pytest

from refundkit.analytics.frames import GATEWAY_REFUND, native_refunds_frame
from refundkit.sandbox.adjustments import Adjustment, Change
from refundkit.sandbox.payments import transaction_json
from refundkit.sandbox.store import OrderSummary
from refundkit.vtex.payments import DENIED_AFTER, NO_PERMISSION

from .helpers import Env


def _orders(env: Env, ids: Any) -> list[OrderSummary]:
    out = [env.sb.store.order(i) for i in ids]
    assert all(o is not None for o in out)
    return [o for o in out if o is not None]


def _group(env: Env, size: int) -> list[OrderSummary]:
    for ids in env.sb.store.groups.values():
        if len(ids) == size:
            return _orders(env, ids)
    raise AssertionError(f"the sandbox has no group of {size} orders")


def _expected(env: Env, members: list[OrderSummary]) -> tuple[int, dict[str, int]]:
    """The group's gateway-only refunds in the orders' terms (rounded up) and each order's cap, from the sandbox's
    transaction JSON and its order summaries."""
    store = env.sb.store
    tx = transaction_json(store, members[0])
    head_adj = store.adjustments
    charged = {
        m.order_id: m.total_cents - (head_adj[m.order_id].reduction if m.order_id in head_adj else 0) for m in members
    }
    invoices = {m.order_id: m.refunded_cents for m in members}
    reference = sum(m.total_cents for m in members)  # referenceValue: what the cart cost, before interest and changes
    n = store.installments_of(members[0])
    paid = reference + (reference * 199 * (n - 1) // 10_000 if store.config.installment_interest and n > 1 else 0)
    scale = Fraction(reference, paid)
    after = max(Fraction(0), tx["value"] * scale - sum(charged.values()))
    total = ceil(max(Fraction(0), tx["totalRefunds"] * scale - sum(invoices.values()) - after))
    return total, {oid: max(0, charged[oid] - invoices[oid]) for oid in charged}


def _check_group(env: Env, members: list[OrderSummary]) -> int:
    total, caps = _expected(env, members)
    client = env.client()
    ledger = env.ledger()
    excess = max(0, total - sum(caps.values()))
    for m in members:
        q = ledger.quote(m.order_id)
        assert q.gateway_checked, q.notices
        assert q.gateway_refunded is not None
        # the balance: as much of the group's refund as this order could hold (conservative), never more
        assert q.gateway_refunded.minor == min(total, caps[m.order_id] + excess), m.order_id
        assert q.refundable == q.order_total - q.native_refunded - q.offline_refunded
        if total:
            assert any("shared by orders" in n for n in q.notices)
    orders = client.orders.get_many([m.order_id for m in members])
    rows = native_refunds_frame(orders).to_dicts()
    gateway_rows = [r for r in rows if r["invoice_number"] == GATEWAY_REFUND]
    # the report counts the group's refund once: the orders' shares add up to it exactly
    assert sum(r["amount_minor"] for r in gateway_rows) == total
    room = sum(caps.values())
    for r in gateway_rows:
        assert abs(Fraction(r["amount_minor"]) - Fraction(total * caps[r["order_id"]], room)) < 1
    return total


@pytest.mark.parametrize("size", [2, 3])
def test_a_refund_on_a_shared_transaction_is_counted_once_across_the_group(make_env: Any, size: int) -> None:
    env = make_env(order_groups=6)
    members = _group(env, size)
    env.sb.store.adjust(members[-1].order_id, Adjustment(gateway_refund=2500))
    total = _check_group(env, members)
    assert total == 2500
    # a refund larger than the smallest order: still once, and no balance of the group says more than it can
    env.sb.store.adjust(members[-1].order_id, Adjustment(gateway_refund=min(m.total_cents for m in members) + 700))
    _check_group(env, members)


def test_a_group_refund_larger_than_every_order_can_hold_is_kept_whole(make_env: Any) -> None:
    env = make_env(order_groups=6)
    members = _group(env, 2)
    whole = sum(m.total_cents for m in members)
    env.sb.store.adjust(members[0].order_id, Adjustment(gateway_refund=whole + 1000))
    assert _check_group(env, members) == whole + 1000


def test_a_return_invoice_in_the_group_is_not_counted_again(make_env: Any) -> None:
    env = make_env(order_groups=6)
    members = _group(env, 3)
    env.sb.store.add_return_invoice(members[1].order_id, members[1].total_cents // 2)
    members = _group(env, 3)
    assert _check_group(env, members) == 0
    env.sb.store.adjust(members[2].order_id, Adjustment(gateway_refund=900))
    assert _check_group(env, members) == 900


@pytest.mark.parametrize("settled", [True, False])
def test_an_order_change_in_the_group_is_not_a_gateway_refund(make_env: Any, settled: bool) -> None:
    env = make_env(order_groups=6)
    members = _group(env, 2)
    env.sb.store.adjust(members[1].order_id, Adjustment([Change("item out of stock", 1200)], change_settled=settled))
    assert _check_group(env, members) == 0
    env.sb.store.adjust(
        members[1].order_id,
        Adjustment([Change("item out of stock", 1200)], change_settled=settled, gateway_refund=400),
    )
    assert _check_group(env, members) == 400


def test_interest_is_taken_out_of_gateway_refunds(make_env: Any) -> None:
    env = make_env(order_groups=6, installment_interest=True)
    store = env.sb.store
    ids = next(ids for ids in store.groups.values() if store.installments_of(_orders(env, ids[:1])[0]) > 1)
    members = _orders(env, ids)
    # a whole order returned: the gateway refunded it with its interest, which is no extra refund
    store.add_return_invoice(members[0].order_id, members[0].total_cents)
    members = _orders(env, ids)
    assert _check_group(env, members) == 0
    # a gateway refund of 3,000 on the transaction is less in the orders' terms: the interest is not theirs
    store.adjust(members[1].order_id, Adjustment(gateway_refund=3000))
    total = _check_group(env, members)
    assert 0 < total < 3000


def test_a_single_order_with_interest_counts_a_gateway_refund_in_its_own_terms(make_env: Any) -> None:
    env = make_env(installment_interest=True)
    store = env.sb.store
    o = next(o for o in store.orders if o.status == "invoiced" and store.installments_of(o) > 2)
    q = env.ledger().quote(o.order_id)
    assert q.gateway_checked and q.gateway_refunded is not None and q.gateway_refunded.minor == 0
    assert q.refundable.minor == o.total_cents
    store.adjust(o.order_id, Adjustment(gateway_refund=2000))  # on the transaction, interest included
    total, _ = _expected(env, [o])
    q = env.ledger().quote(o.order_id)
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == total
    assert 0 < total < 2000
    assert not [r for r in env.sb.requests if "order-group" in r.path]  # an order alone in its group: no group read


def test_a_403_on_one_transaction_leaves_the_others_checked_and_names_the_order(make_env: Any) -> None:
    env = make_env(foreign_payments=1)
    store = env.sb.store
    foreign = store.order_by_transaction(next(iter(store.foreign_transactions)))
    assert foreign is not None
    others = [o for o in store.orders if o.status == "invoiced" and o.order_id != foreign.order_id][:4]
    store.adjust(others[-1].order_id, Adjustment(gateway_refund=1500))
    client = env.client()
    ids = [foreign.order_id] + [o.order_id for o in others]
    got = client.orders.get_many(ids)
    g = got[foreign.order_id].gateway
    assert g is not None and not g.checked
    assert foreign.order_id in g.reason and "no permission for this transaction" in g.reason
    for o in others:
        check = got[o.order_id].gateway
        assert check is not None and check.checked, check
    assert got[others[-1].order_id].gateway_refunded.minor == 1500
    # and a ledger on the same account: the foreign order's balance says it, the next order is checked
    ledger = env.ledger()
    q = ledger.quote(foreign.order_id)
    assert not q.gateway_checked and any(foreign.order_id in n for n in q.notices)
    after = ledger.quote(others[-1].order_id).gateway_refunded
    assert after is not None and after.minor == 1500


def test_without_view_payment_data_it_is_said_once_and_asking_stops(make_env: Any) -> None:
    env = make_env(payments_permission=False)
    store = env.sb.store
    picks = [o for o in store.orders if o.status == "invoiced"][: DENIED_AFTER + 3]
    client = env.client()
    checks = [client.orders.get(o.order_id).gateway for o in picks]
    gets = [r.path for r in list(env.sb.requests) if r.path.startswith("/api/pvt/")]
    assert len(gets) == DENIED_AFTER  # then no further transaction is asked for
    assert all(c is not None and not c.checked for c in checks)
    assert [c.reason if c else "" for c in checks[DENIED_AFTER:]] == [NO_PERMISSION] * 3


def test_the_groups_the_sandbox_seeds_with_other_refunds_are_counted_once(make_env: Any) -> None:
    env = make_env(order_groups=3, other_refunds=True, installment_interest=True)
    totals = [_check_group(env, _orders(env, ids)) for ids in list(env.sb.store.groups.values())[:3]]
    assert totals[0] > 0 and totals[1:] == [0, 0]  # a gateway refund; changes after and before settlement
