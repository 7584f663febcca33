"""The sandbox's payment and order-value variants: flags, order groups over HTTP, interest, foreign transactions,
the gateway's date offset, and the order value after a return invoice."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
import pytest

from refundkit.sandbox import Sandbox
from refundkit.sandbox.adjustments import transaction_id_for
from refundkit.sandbox.flags import add_sandbox_flags, config_from_args
from refundkit.sandbox.oms import order_json
from refundkit.sandbox.payments import transaction_json, unknown_total_orders
from refundkit.testing import small_config


def test_the_flags_set_every_payment_variant() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_flags(parser)
    args = parser.parse_args(
        [
            "--order-groups",
            "4",
            "--installment-interest",
            "--foreign-payments",
            "2",
            "--gateway-dates-offset-h",
            "-3",
            "--value-after-return",
            "reduced",
            "--memory",
        ]
    )
    cfg = config_from_args(args, cache_dir=Path("/nonexistent"))
    assert (cfg.order_groups, cfg.installment_interest, cfg.foreign_payments) == (4, True, 2)
    assert (cfg.gateway_dates_offset_h, cfg.value_after_return) == (-3, "reduced")
    defaults = config_from_args(parser.parse_args(["--memory"]), cache_dir=Path("/nonexistent"))
    assert (defaults.order_groups, defaults.installment_interest, defaults.value_after_return) == (0, False, "kept")


def test_the_default_store_is_unchanged_by_the_variants_being_off() -> None:
    plain = Sandbox(small_config()).store
    assert not plain.groups and not plain.foreign_transactions
    o = next(o for o in plain.orders if o.input_invoices)
    body = order_json(plain, o.order_id)
    assert body is not None and body["value"] == o.total_cents
    payments = body["paymentData"]["transactions"][0]["payments"]
    assert all(p["value"] == p["referenceValue"] for p in payments)


def test_an_order_group_shares_one_transaction_served_over_http(sandbox_factory) -> None:  # type: ignore[no-untyped-def]  # fixture
    served = sandbox_factory(order_groups=3, installment_interest=True)
    store = served.sb.store
    group, ids = next(iter(store.groups.items()))
    headers = {"X-VTEX-API-AppKey": served.sb.config.app_key, "X-VTEX-API-AppToken": served.sb.config.app_token}
    with httpx.Client(base_url=served.srv.base_url, headers=headers) as http:
        got = http.get(f"/api/oms/pvt/orders/order-group/{group}")
        assert got.status_code == 200
        bodies = got.json()
        assert [b["orderId"] for b in bodies] == list(ids)
        tids = {b["paymentData"]["transactions"][0]["transactionId"] for b in bodies}
        assert tids == {transaction_id_for(store.account, ids[0])}
        assert {b["orderGroup"] for b in bodies} == {group}
        reference = sum(o.total_cents for o in store.group_orders(ids[0]))
        for b in bodies:
            p = b["paymentData"]["transactions"][0]["payments"][-1]
            assert sum(q["referenceValue"] for q in b["paymentData"]["transactions"][0]["payments"]) == reference
            assert p["value"] >= p["referenceValue"]
        tx = http.get(f"/api/pvt/transactions/{next(iter(tids))}").json()
        assert tx["value"] == sum(q["value"] for q in bodies[0]["paymentData"]["transactions"][0]["payments"])
        assert http.get("/api/oms/pvt/orders/order-group/0000000000000").status_code == 404


def test_a_foreign_transaction_answers_403_and_the_others_answer(sandbox_factory) -> None:  # type: ignore[no-untyped-def]  # fixture
    served = sandbox_factory(foreign_payments=1)
    store = served.sb.store
    foreign = next(iter(store.foreign_transactions))
    other = transaction_id_for(store.account, next(o for o in store.orders if o.status == "invoiced").order_id)
    headers = {"X-VTEX-API-AppKey": served.sb.config.app_key, "X-VTEX-API-AppToken": served.sb.config.app_token}
    with httpx.Client(base_url=served.srv.base_url, headers=headers) as http:
        assert http.get(f"/api/pvt/transactions/{foreign}").status_code == 403
        assert other == foreign or http.get(f"/api/pvt/transactions/{other}").status_code == 200


@pytest.mark.parametrize("offset", [0, -3])
def test_gateway_dates_are_written_at_the_offset(offset: int) -> None:
    store = Sandbox(small_config(gateway_dates_offset_h=offset)).store
    o = next(o for o in store.orders if o.authorized is not None and o.status == "invoiced")
    tx = transaction_json(store, o)
    assert o.authorized is not None
    shifted = o.authorized.ns + offset * 3600 * 10**9
    from refundkit.timeutil import parse_instant

    assert parse_instant(tx["authorizationDate"]).ns == shifted // 10**9 * 10**9


@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_the_value_after_a_return_invoice_plays_both_readings(reading: str) -> None:
    store = Sandbox(small_config(value_after_return=reading)).store
    o = next(o for o in store.orders if o.input_invoices)
    body = order_json(store, o.order_id)
    assert body is not None
    want = o.total_cents - (o.refunded_cents if reading == "reduced" else 0)
    assert body["value"] == want
    assert sum(t["value"] for t in body["totals"]) == o.total_cents  # totals keep what was charged
    pos = store.orders.index(o)
    from refundkit.sandbox.oms import list_item

    assert list_item(store, pos)["totalValue"] == want


def test_other_refunds_reach_order_groups_too() -> None:
    store = Sandbox(small_config(order_groups=3, other_refunds=True)).store
    seconds = [store.adjustments.get(ids[1]) for ids in store.groups.values()]
    assert seconds[0] is not None and seconds[0].gateway_refund
    assert seconds[1] is not None and seconds[1].changes and seconds[1].change_settled
    assert seconds[2] is not None and seconds[2].changes and not seconds[2].change_settled


def test_the_flags_set_the_order_totals_variants_and_each_is_served() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_flags(parser)
    args = parser.parse_args(["--totals-change", "listed", "--unknown-totals", "3", "--memory"])
    cfg = config_from_args(args, cache_dir=Path("/nonexistent"))
    assert (cfg.totals_change, cfg.unknown_totals) == ("listed", 3)
    defaults = config_from_args(parser.parse_args(["--memory"]), cache_dir=Path("/nonexistent"))
    assert (defaults.totals_change, defaults.unknown_totals) == ("absent", 0)

    def totals(store: Any, order_id: str) -> dict[str, int]:
        body = order_json(store, order_id)
        assert body is not None
        return {t["id"]: t["value"] for t in body["totals"]} | {"value": body["value"]}

    for change in ("absent", "listed"):
        store = Sandbox(small_config(other_refunds=True, totals_change=change, unknown_totals=3)).store
        changed = next(i for i, a in store.adjustments.items() if a.changes)
        got = totals(store, changed)
        parts = sum(v for k, v in got.items() if k != "value")
        reduction = store.adjustments[changed].reduction
        if change == "listed":  # a Change total of what the change took off: the totals add up to the value
            assert got["Change"] == -reduction and parts == got["value"]
        else:  # the totals as at checkout: above the lowered value by the change
            assert "Change" not in got and parts == got["value"] + reduction
        odd = sorted(unknown_total_orders(store))
        assert len(odd) == 3
        for order_id in odd:  # part of Items under an id nobody documents; the value unchanged
            got = totals(store, order_id)
            summary = store.order(order_id)
            assert summary is not None and got["value"] == summary.total_cents
            assert got["Fees"] > 0 and got["Items"] + got["Fees"] == summary.items_cents
            assert sum(v for k, v in got.items() if k != "value") == got["value"]
