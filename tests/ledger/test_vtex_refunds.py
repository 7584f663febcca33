"""VTEX's own refunds beyond return invoices, each counted once in the balance (sandbox on loopback).

- a refund made in the payment gateway without a return invoice lowers the balance (read by GET only);
- an order change already lowered the order's value: it is shown, never subtracted again;
- a restitution describes its return invoice's money: counted once, at the restitution's value;
- a return invoice's own gateway refund is not counted a second time;
- without View Payment Data, the balance says gateway refunds were not checked (quote field, CLI line).
"""

from __future__ import annotations

import pytest

from refundkit.ledger import RefundRefused
from refundkit.sandbox.adjustments import Adjustment, Change
from refundkit.testing import run_cli

from .helpers import Env, money


def _payments_gets(env: Env) -> list[str]:
    return [r.path for r in list(env.sb.requests) if r.path.startswith("/api/pvt/")]


def test_a_gateway_refund_without_an_invoice_lowers_the_balance(env: Env) -> None:
    o = env.orders.invoiced()
    env.sb.store.adjust(o.order_id, Adjustment(gateway_refund=1500))
    q = env.ledger().quote(o.order_id)
    assert q.gateway_checked
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == 1500
    assert q.native_refunded.minor == 1500
    assert q.refundable.minor == o.total_cents - 1500
    gets = _payments_gets(env)
    assert gets and all(r.method == "GET" for r in env.sb.requests if r.path.startswith("/api/pvt/"))


def test_the_balance_refuses_a_refund_the_gateway_already_made(env: Env) -> None:
    o = env.orders.invoiced()
    env.sb.store.adjust(o.order_id, Adjustment(gateway_refund=o.total_cents - 100))
    ledger = env.ledger()
    with pytest.raises(RefundRefused) as err:
        ledger.record(o.order_id, money(200), "cash", "R-GW-1")
    assert "refundable balance" in str(err.value)
    assert ledger.record(o.order_id, money(100), "cash", "R-GW-2").recorded_now


def test_a_return_invoice_is_not_counted_again_as_a_gateway_refund(env: Env) -> None:
    o = env.orders.partly_returned()
    q = env.ledger().quote(o.order_id)
    assert q.gateway_checked
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == 0
    assert q.native_refunded.minor == o.refunded_cents
    assert q.refundable.minor == o.total_cents - o.refunded_cents


def test_a_restitution_and_its_return_invoice_are_one_refund(env: Env) -> None:
    o = env.orders.partly_returned()
    inv = o.input_invoices[0]
    smaller = inv.value - 500
    env.sb.store.adjust(o.order_id, Adjustment(restitutions={inv.number: smaller}))
    q = env.ledger().quote(o.order_id)
    assert q.native_refunded.minor == o.refunded_cents - 500  # the restitution's value, once
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == 0  # the gateway refunded just that


@pytest.mark.parametrize("settled", [True, False])
def test_an_order_change_is_already_out_of_the_total_and_not_subtracted_again(env: Env, settled: bool) -> None:
    o = env.orders.invoiced()
    env.sb.store.adjust(o.order_id, Adjustment([Change("item out of stock", 1000)], change_settled=settled))
    q = env.ledger().quote(o.order_id)
    assert q.order_total.minor == o.total_cents - 1000
    assert q.changes_refunded is not None and q.changes_refunded.minor == 1000
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == 0
    assert q.refundable.minor == o.total_cents - 1000
    assert any("order changes gave back" in n for n in q.notices)


def test_every_kind_at_once_is_counted_once(env: Env) -> None:
    o = env.orders.partly_returned()
    inv = o.input_invoices[0]
    env.sb.store.adjust(
        o.order_id,
        Adjustment(
            [Change("discount", 300)], change_settled=True, gateway_refund=200, restitutions={inv.number: inv.value}
        ),
    )
    q = env.ledger().quote(o.order_id)
    assert q.order_total.minor == o.total_cents - 300
    assert q.gateway_refunded is not None and q.gateway_refunded.minor == 200
    assert q.refundable.minor == o.total_cents - 300 - o.refunded_cents - 200


def test_without_view_payment_data_the_balance_says_gateway_refunds_were_not_checked(make_env) -> None:  # type: ignore[no-untyped-def]  # fixtures stay untyped in tests
    env = make_env(payments_permission=False)
    o1, o2 = env.orders.invoiced(), env.orders.invoiced()
    env.sb.store.adjust(o1.order_id, Adjustment(gateway_refund=1500))
    ledger = env.ledger()
    q = ledger.quote(o1.order_id)
    assert not q.gateway_checked
    assert any("View Payment Data" in n and "not checked" in n for n in q.notices)
    assert q.refundable.minor == o1.total_cents  # unknown, and said so
    assert q.as_dict()["gateway_checked"] is False
    ledger.quote(o2.order_id)
    assert len(_payments_gets(env)) == 2  # one 403 may be one transaction's; the client stops after DENIED_AFTER
    proc = run_cli(["quote", o1.order_id], {**env.env, "HOME": str(env.tmp)}, env.tmp)
    assert proc.returncode == 0, proc.stderr
    assert "gateway refunds NOT checked" in proc.stdout
    assert "View Payment Data" in proc.stdout


def test_the_check_can_be_turned_off(env: Env) -> None:
    o = env.orders.invoiced()
    env.sb.store.adjust(o.order_id, Adjustment(gateway_refund=1500))
    client = env.client()
    client.payments.enabled = False
    order = client.orders.get(o.order_id)
    assert order.gateway is None and order.native_refunded.minor == 0
    assert _payments_gets(env) == []


# -- the 31st note -----------------------------------------------------------------------------------------------------
def test_the_31st_note_is_refused_and_the_refund_stays_recorded(env: Env) -> None:
    from refundkit.errors import NoteLimitReached

    o = env.orders.invoiced(min_total=10_000)
    client = env.client()
    for k in range(30):
        client.notes.create(o.order_id, f"note {k}")
    with pytest.raises(NoteLimitReached, match="30 notes"):
        client.notes.create(o.order_id, "one too many")
    with pytest.raises(NoteLimitReached):
        client.notes.create_once(o.order_id, "one too many [m-1]", marker="[m-1]")
    result = env.ledger().record(o.order_id, money(100), "cash", "R-NOTE-31")
    assert result.recorded_now
    assert any("could not be added" in m and "30 notes" in m for m in result.messages)
    assert env.ledger().quote(o.order_id).offline_refunded.minor == 100


# -- boleto returns ----------------------------------------------------------------------------------------------------
def test_the_manual_payback_of_a_boleto_return_is_not_recorded_twice(env: Env) -> None:
    o = env.orders.pick(
        lambda x: (
            x.status == "invoiced"
            and bool(x.input_invoices)
            and 0 < x.refunded_cents < x.total_cents
            and any(p.name == "Boleto Bancário" for p in x.payments)
        ),
        "boleto order with a partial return invoice",
    )
    ledger = env.ledger()
    q = ledger.quote(o.order_id)
    assert q.native_refunded.minor == o.refunded_cents  # VTEX counts the return invoice as refunded
    with pytest.raises(RefundRefused) as err:
        ledger.record(o.order_id, money(o.refunded_cents), "bank-transfer", "BOLETO-RET-1")
    assert "boleto" in str(err.value) and "count twice" in str(err.value)
    # money paid beyond the return invoice is recorded when the person says so, with the reason kept
    extra = ledger.record(
        o.order_id,
        money(100),
        "bank-transfer",
        "GOODWILL-1",
        allow_over_refund=True,
        over_refund_reason="goodwill beyond the returned items",
    )
    assert extra.recorded_now and extra.entry.over_refund


# -- Master Data ranges on an indexed integer, with _schema ---------------------------------------------------------
def test_listing_a_range_filters_on_epoch_milliseconds_with_its_schema(env: Env) -> None:
    from refundkit.ledger.schemas import SCHEMA_NAME
    from refundkit.timeutil import parse_instant

    o = env.orders.invoiced()
    ledger = env.ledger()
    rec = ledger.record(o.order_id, money(100), "cash", "R-MS-1", refunded_at="2026-04-02T10:00:00Z")
    # a document written before refundedAtMs existed is still listed (asked for with `is null`, cut locally)
    old = {k: v for k, v in rec.entry.to_document().items() if k != "refundedAtMs"}
    old.update(id="rf-0000000000000000000000aa", externalRef="R-OLD", refundedAt="2026-04-03T00:00:00.000Z")
    env.client().masterdata.put(ledger.entity, "rf-0000000000000000000000aa", old, schema=SCHEMA_NAME)
    env.sb.config.search_lag_s = 0
    start, end = parse_instant("2026-04-01T00:00:00Z"), parse_instant("2026-04-05T00:00:00Z")
    got = {e.entry_id for e in env.ledger(journal=False).entries(start=start, end=end)}
    assert {rec.entry.entry_id, "rf-0000000000000000000000aa"} <= got
    scrolls = [r for r in env.sb.requests if r.path.endswith("/scroll") and "_where" in r.query]
    assert scrolls
    for r in scrolls:
        assert r.query["_schema"] == SCHEMA_NAME
        assert '"' not in r.query["_where"]  # no quoted ISO timestamps
        if "/offlineRefundOrder/" in r.path:  # the ledger documents spanning the range (entries lacking a document)
            assert "lastRefundedAtMs between 1775001600000 AND" in r.query["_where"]
        else:
            assert "refundedAtMs between 1775001600000 AND 1775347200000" in r.query["_where"]
