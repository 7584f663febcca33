"""VTEX's other refunds in the models and the gateway rule, tolerant reading of malformed orders, zero-decimal
currencies in both plausible forms, and the order list's client details (sandbox on loopback where it is the wire)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from refundkit.config import Settings
from refundkit.errors import AmountError, BadResponse, ConfigError
from refundkit.money import Money, from_vtex_cents, to_vtex_cents
from refundkit.sandbox.adjustments import Adjustment
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.models import GatewayTransaction, Order, OrderSummary
from refundkit.vtex.oms import ListReport
from refundkit.vtex.payments import gateway_rule

from .conftest import fast_pacing, sandbox_client
from .fakes import json_response
from .test_models import ORDER, ROW

BRL = "BRL"


def _order(**changes: Any) -> Order:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return Order.from_vtex(body)


def _tx(value: int, refunds: int) -> GatewayTransaction:
    return GatewayTransaction("T1", "Finished", Money(value, BRL), Money(refunds, BRL), None)


# -- the rule, one overlap at a time -------------------------------------------------------------------------------
def test_restitutions_are_read_in_either_spelling_and_counted_once() -> None:
    body = copy.deepcopy(ORDER)
    pkgs = body["packageAttachment"]["packages"]
    inputs = [p for p in pkgs if p.get("type") == "Input"]
    inputs[0]["restitutions"] = {"refund": {"value": inputs[0]["invoiceValue"] - 100}}
    o = Order.from_vtex(body)
    inv = o.return_invoices[0]
    assert inv.restitution is not None and inv.refunded == inv.restitution
    assert o.invoice_refunded.minor == sum(i.refunded.minor for i in o.return_invoices)


def test_changes_are_parsed_and_not_part_of_native_refunds() -> None:
    o = _order(
        changesAttachment={
            "id": "changeAttachment",
            "changesData": [
                {"reason": "out of stock", "discountValue": 3290, "incrementValue": 0, "receipt": {"date": None}},
                {"reason": "added gift wrap", "discountValue": 0, "incrementValue": 500, "receipt": None},
            ],
        }
    )
    assert o.changes_refunded == Money(3290, BRL)
    assert o.native_refunded == o.invoice_refunded  # the change is already out of `value`


def test_gateway_rule_every_overlap() -> None:
    plain = _order(packageAttachment={"packages": []})
    total = plain.total.minor
    # nothing refunded
    assert gateway_rule(plain, (_tx(total, 0),)).refunded.minor == 0
    # refunded in the gateway only
    assert gateway_rule(plain, (_tx(total, 700),)).refunded.minor == 700
    # a change after settlement: the transaction kept its value, the gateway gave the difference back
    changed = _order(packageAttachment={"packages": []}, value=total - 1000)
    assert gateway_rule(changed, (_tx(total, 1000),)).refunded.minor == 0
    # a change before settlement: the charge itself went down
    assert gateway_rule(changed, (_tx(total - 1000, 0),)).refunded.minor == 0
    # a change after settlement and a gateway refund on top
    assert gateway_rule(changed, (_tx(total, 1400),)).refunded.minor == 400
    # return invoices are explained, whatever the gateway says beyond them is not
    returned = _order()
    invoiced = returned.invoice_refunded.minor
    assert gateway_rule(returned, (_tx(total, invoiced),)).refunded.minor == 0
    assert gateway_rule(returned, (_tx(total, invoiced + 250),)).refunded.minor == 250
    # a gateway that has not (yet) refunded the invoice: never negative
    assert gateway_rule(returned, (_tx(total, 0),)).refunded.minor == 0


# -- tolerant reading -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("currencyCode", None, "currency"),
        ("totalValue", "12.50", "integer"),
        ("totalValue", 12.5, "integer"),
        ("creationDate", None, "creationDate"),
    ],
)
def test_a_malformed_list_row_is_refused_naming_the_order(field: str, value: object, words: str) -> None:
    row = {**ROW, field: value}
    with pytest.raises(BadResponse, match=words) as err:
        OrderSummary.from_vtex(row)
    assert "1306331686122-01" in str(err.value)


@pytest.mark.parametrize(
    "patch",
    [
        lambda b: b.update(currencyCode=None, storePreferencesData=None),
        lambda b: b.update(value="1999", totalValue="1999"),
    ],
)
def test_malformed_orders_are_set_aside_in_lists_and_detail_reads(patch: Any) -> None:
    with sandbox_client(client_options=fast_pacing(), orders=200, flash_sale_orders=0) as (sb, _srv, client):
        bad = [o for o in sb.store.orders if o.status == "invoiced"][:2]
        for o in bad:
            sb.store.adjust(o.order_id, Adjustment(patch=patch))
        start, end = sb.store.start, sb.store.end + timedelta(microseconds=1)
        report = ListReport()
        listed = client.orders.list(start, end, report=report)
        assert len(listed) == len(sb.store.orders) - 2
        assert report.set_aside_count == 2
        assert set(report.set_aside) == {o.order_id for o in bad}
        assert any("2 order(s) set aside" in w for w in report.warnings())
        detail = ListReport()
        good = [o.order_id for o in sb.store.orders if o not in bad][:5]
        ids = good + [o.order_id for o in bad]
        got = client.orders.get_many(ids, report=detail)
        assert len(got) == 5 and detail.set_aside_count == 2
        with pytest.raises(BadResponse, match=bad[0].order_id):
            client.orders.get(bad[0].order_id)


# -- zero-decimal currencies ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", ["CLP", "JPY", "PYG"])
def test_zero_decimal_amounts_in_cents_and_in_units(currency: str) -> None:
    assert from_vtex_cents(150000, currency) == 1500
    assert from_vtex_cents(1500, currency, "units") == 1500
    assert to_vtex_cents(1500, currency) == 150000
    assert to_vtex_cents(1500, currency, "units") == 1500
    assert from_vtex_cents(150000, "BRL", "units") == 150000  # two-decimal currencies are never affected
    with pytest.raises(AmountError, match="REFUNDKIT_ZERO_DECIMAL_AMOUNTS=units"):
        from_vtex_cents(1501, currency)


def test_the_zero_decimal_mode_is_a_setting() -> None:
    assert Settings().zero_decimal_amounts == "cents"
    with pytest.raises(ConfigError, match="REFUNDKIT_ZERO_DECIMAL_AMOUNTS"):
        Settings(zero_decimal_amounts="pesos")


@pytest.mark.parametrize(("mode", "sent", "pesos"), [("cents", 1_599_000, 15_990), ("units", 15_990, 15_990)])
def test_a_clp_order_over_loopback_in_either_mode(mode: str, sent: int, pesos: int) -> None:
    def to_clp(body: dict[str, Any]) -> None:
        body["currencyCode"] = "CLP"
        if isinstance(body.get("storePreferencesData"), dict):
            body["storePreferencesData"] = {**body["storePreferencesData"], "currencyCode": "CLP"}
            body["value"] = sent
            body["totals"], body["items"], body["paymentData"] = [], [], {}
            body["packageAttachment"] = {"packages": []}
        else:
            body["totalValue"] = sent

    with sandbox_client(client_options=fast_pacing(), orders=50, flash_sale_orders=0) as (sb, _srv, client):
        o = next(o for o in sb.store.orders if o.status == "invoiced")
        sb.store.adjust(o.order_id, Adjustment(patch=to_clp))
        client.orders.mode = mode
        got = client.orders.get(o.order_id, gateway=False)
        assert got.total == Money(pesos, "CLP")
        assert str(got.total) == f"CLP {pesos}"
        listed = client.orders.list(o.created, o.created + timedelta(microseconds=1))
        assert [x.total for x in listed if x.order_id == o.order_id] == [Money(pesos, "CLP")]


# -- list details -----------------------------------------------------------------------------------------------------
def test_order_list_calls_send_incomplete_orders_false() -> None:
    with sandbox_client(client_options=fast_pacing(), orders=50, flash_sale_orders=0) as (sb, _srv, client):
        client.orders.list(sb.store.start, sb.store.end)
        lists = [r for r in sb.requests if r.path == "/api/oms/pvt/orders"]
        assert lists and all(r.query.get("incompleteOrders") == "false" for r in lists)


def test_a_range_ending_in_the_last_ten_minutes_is_provisional() -> None:
    now = parse_instant("2026-03-10T12:00:00Z")
    report = ListReport()
    report.note_range(now - timedelta(days=1), now - timedelta(minutes=3), now)
    assert report.provisional_after == now - timedelta(minutes=10)
    assert any("provisional" in w for w in report.warnings())
    settled = ListReport()
    settled.note_range(now - timedelta(days=1), now - timedelta(minutes=11), now)
    assert settled.provisional_after is None and settled.warnings() == []


def test_the_listing_reports_provisional_minutes_from_its_clock() -> None:
    with sandbox_client(client_options=fast_pacing(), orders=50, flash_sale_orders=0) as (sb, _srv, client):
        end = sb.store.end
        client.orders.clock = lambda: end + timedelta(minutes=2)
        report = ListReport()
        client.orders.list(sb.store.start, end, report=report)
        assert report.provisional_after == Instant((end - timedelta(minutes=8)).ns)


# -- a listing under heavy faults keeps what it listed ----------------------------------------------------------------
def _flaky(fake: Any, page: str, failures: int) -> Any:
    """The fake OMS, except that ``page`` answers 503 the first ``failures`` times it is asked."""
    seen = [0]

    def handler(request: Any) -> Any:
        if request.url.path == "/api/oms/pvt/orders" and request.url.params.get("page") == page:
            seen[0] += 1
            if seen[0] <= failures:
                return json_response(503, {"error": {"message": "busy"}})
        return fake(request)

    return handler


def test_a_page_that_fails_is_asked_again_and_nothing_is_lost() -> None:
    from refundkit.vtex.oms import Orders as OmsOrders
    from refundkit.vtex.transport import RetryPolicy

    from .fakes import FakeOms, make_transport
    from .test_oms_paging import T0, spread

    fake = FakeOms(spread(950, T0.ns, 86_400 * 10**9, seed=5))
    end = T0 + timedelta(days=1)
    with make_transport(_flaky(fake, "3", 2), retry=RetryPolicy(attempts=1)) as t:
        got = OmsOrders(t).list(T0, end)
    assert len(got) == 950


def test_a_part_that_keeps_failing_is_named_and_the_rest_is_kept() -> None:
    from refundkit.errors import ListingIncomplete
    from refundkit.vtex.oms import Orders as OmsOrders
    from refundkit.vtex.transport import RetryPolicy

    from .fakes import FakeOms, make_transport
    from .test_oms_paging import T0, spread

    fake = FakeOms(spread(950, T0.ns, 86_400 * 10**9, seed=6))
    end = T0 + timedelta(days=1)
    report = ListReport()
    flaky = make_transport(_flaky(fake, "3", 10**6), retry=RetryPolicy(attempts=1))
    with flaky as t, pytest.raises(ListingIncomplete) as err:
        OmsOrders(t).list(T0, end, report=report)
    assert len(err.value.orders) == 850  # every page but the third
    assert len(err.value.missing) == 1 and "page 3" in err.value.missing[0]
    assert "page 3" in str(err.value) and report.missing == err.value.missing


def test_a_range_that_cannot_be_asked_at_all_raises_the_plain_error() -> None:
    from refundkit.errors import ListingIncomplete, ServerError
    from refundkit.vtex.oms import Orders as OmsOrders
    from refundkit.vtex.transport import RetryPolicy

    from .fakes import FakeOms, make_transport
    from .test_oms_paging import T0, spread

    fake = FakeOms(spread(50, T0.ns, 86_400 * 10**9, seed=7))
    flaky = make_transport(_flaky(fake, "1", 10**6), retry=RetryPolicy(attempts=1))
    with flaky as t, pytest.raises(ServerError) as err:
        OmsOrders(t).list(T0, T0 + timedelta(days=1))
    assert not isinstance(err.value, ListingIncomplete)


def test_the_sandbox_flags_seed_other_refunds_and_deny_payments() -> None:
    import argparse
    from pathlib import Path

    from refundkit.sandbox import Sandbox
    from refundkit.sandbox.flags import add_sandbox_flags, config_from_args

    parser = argparse.ArgumentParser()
    add_sandbox_flags(parser)
    args = parser.parse_args(
        ["--other-refunds", "--deny-payments", "--memory", "--orders", "1500", "--flash-sale-orders", "1"]
    )
    config = config_from_args(args, cache_dir=Path("/nonexistent"))
    assert config.other_refunds and not config.payments_permission
    sb = Sandbox(config)
    kinds = list(sb.store.adjustments.values())
    assert any(a.gateway_refund for a in kinds) and any(a.changes for a in kinds)
    assert any(a.changes and a.change_settled for a in kinds) and any(a.changes and not a.change_settled for a in kinds)


def test_a_boleto_return_on_a_shared_transaction_needs_every_orders_invoices_refunded() -> None:
    from dataclasses import replace

    from refundkit.ledger.rules import boleto_return_rule
    from refundkit.vtex.models import GatewayCheck

    body = copy.deepcopy(ORDER)
    for tx in body["paymentData"]["transactions"]:
        for p in tx["payments"]:
            p["group"] = "bankInvoice"
    order = Order.from_vtex(body)
    own = order.invoice_refunded
    covered = _tx(order.total.minor, own.minor)
    alone = replace(order, gateway=GatewayCheck(True, Money(0, BRL), "", (covered,), group_invoices=own))
    assert boleto_return_rule(alone) is None  # the gateway refunded this order's returns itself
    # the same refunds on a transaction the group shares, whose other order has returns too: not this order's
    shared = replace(
        order, gateway=GatewayCheck(True, Money(0, BRL), "", (covered,), group=("A", "B"), group_invoices=own + own)
    )
    assert boleto_return_rule(shared) is not None
