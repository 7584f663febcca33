"""The synthetic store: deterministic, shaped like a real shop, and cheap to build."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from refundkit.sandbox import SandboxConfig, Store
from refundkit.sandbox.oms import order_json
from refundkit.testing import DEMO_TODAY
from refundkit.timeutil import parse_instant


def test_same_seed_same_orders_different_seed_different_orders():
    cfg = {"orders": 500, "flash_sale_orders": 100, "start": "2026-01-01", "end": "2026-03-31"}
    a, b, c = (
        Store(SandboxConfig(seed=1, **cfg)),
        Store(SandboxConfig(seed=1, **cfg)),
        Store(SandboxConfig(seed=2, **cfg)),
    )
    assert a.orders == b.orders
    assert [o.order_id for o in a.orders] != [o.order_id for o in c.orders]
    some = a.orders[77].order_id
    assert order_json(a, some) == order_json(b, some)


def test_default_store_builds_fast_and_is_shaped_as_promised(demo):
    start = time.process_time()  # CPU time: wall time is at the mercy of whatever else the machine runs
    store = Store(SandboxConfig(today=DEMO_TODAY))
    assert time.process_time() - start < 2.0
    sb, _ = demo
    assert store.orders == sb.store.orders  # same default seed, same store
    n = len(store)
    assert n == 6000 + 3200 + 40 + 25
    ids = [o.order_id for o in store.orders]
    assert len(set(ids)) == n
    assert all(len(i) == 16 and i[:13].isdigit() and i.endswith("-01") for i in ids)
    assert [o.sequence for o in store.orders] == sorted(o.sequence for o in store.orders)
    assert [o.created for o in store.orders] == sorted(o.created for o in store.orders)

    statuses = Counter(o.status for o in store.orders)
    assert statuses.most_common(1)[0][0] == "invoiced"
    assert set(statuses) == {
        "invoiced",
        "handling",
        "ready-for-handling",
        "payment-approved",
        "payment-pending",
        "canceled",
        "window-to-cancel",
    }
    assert 0.02 < statuses["payment-pending"] / n < 0.045
    assert 0.035 < statuses["canceled"] / n < 0.07
    usd = [o for o in store.orders if o.currency == "USD"]
    assert 0.07 < len(usd) / n < 0.13 and all(o.sales_channel == "2" for o in usd)
    assert {o.sales_channel for o in store.orders} == {"1", "2", "3"}
    assert {p for o in store.orders for p in o.payment_names} == {
        "Visa",
        "Mastercard",
        "American Express",
        "Boleto Bancário",
        "Pix",
        "PayPal",
        "Gift card",
    }
    assert {o.origin for o in store.orders} == {"Marketplace", "Fulfillment"}
    assert all(1 <= len(o.items) <= 4 for o in store.orders)
    assert all(o.discounts_cents <= 0 for o in store.orders)
    assert all(sum(p.value for p in o.payments) == o.total_cents for o in store.orders)

    invoiced = [o for o in store.orders if o.status == "invoiced"]
    refunded = [o for o in invoiced if o.has_input_invoice]
    assert 0.04 < len(refunded) / len(invoiced) < 0.08
    assert not any(o.has_input_invoice for o in store.orders if o.status != "invoiced")
    assert sum(len(o.input_invoices) == 2 for o in refunded) >= 3
    limit = parse_instant(f"{store.last_day.isoformat()}T00:00:00Z") + timedelta(days=31)
    for o in refunded:
        assert o.refunded_cents <= o.total_cents
        for inv in o.input_invoices:
            assert inv.value > 0
            assert o.invoiced < inv.issued < limit
    assert any(o.refunded_cents == o.total_cents for o in refunded)
    assert any(o.refunded_cents < o.total_cents for o in refunded)


def test_seasonality_weekdays_and_hours(demo):
    sb, _ = demo
    store = sb.store
    regular = [o for o in store.orders if o.created.isoformat(7)[:10] != store.flash_sale_day.isoformat()]
    weekdays = Counter(o.created.to_datetime().weekday() for o in regular)
    assert weekdays[4] > weekdays[6]  # Fridays busier than Sundays
    hours = Counter(o.created.to_datetime().hour for o in regular)
    assert hours[23] > 2 * hours[7]  # 20:00 in Sao Paulo beats 04:00


def test_timestamps_are_whole_100ns_ticks_inside_the_range(demo):
    sb, _ = demo
    store = sb.store
    assert all(o.created.ns % 100 == 0 for o in store.orders)
    assert store.orders[0].created >= store.start and store.orders[-1].created <= store.end
    flash = store.flash_sale_day.isoformat()
    assert sum(o.created.isoformat(7)[:10] == flash for o in store.orders) > 3200


def test_small_ranges_still_get_the_special_days():
    store = Store(SandboxConfig(orders=100, flash_sale_orders=50, start="2025-01-01", end="2025-01-10"))
    assert store.first_day <= store.flash_sale_day <= store.last_day
    assert store.start <= store.midnight_instant <= store.end
    assert store.start <= store.shared_instant <= store.end
    assert len(store) == 100 + 50 + 40 + 25


def test_order_lookup_by_id_and_sequence(demo):
    sb, _ = demo
    o = sb.store.orders[10]
    assert sb.store.order(o.order_id) is o
    assert sb.store.order(f"seq{o.sequence}") is o
    assert sb.store.order("nope") is None and order_json(sb.store, "nope") is None
