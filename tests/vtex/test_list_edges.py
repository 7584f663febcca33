"""A Black Friday: 40,000 orders within two hours, listed exactly once whether the account's list rows carry
``creationDate`` exact to the 100 ns or truncated to the second (VTEX's filter comparing the exact instant either
way), over one range, over the store's days in its own zone, and over windows cut at fractions of a second."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from refundkit.sandbox import SandboxConfig
from refundkit.timeutil import Instant, local_day_bounds, parse_instant

from .conftest import sandbox_client

pytestmark = pytest.mark.e2e

#: One day: the regular orders' day and the flash sale's (02:00 to 04:00 UTC; the store's midnight, 03:00 UTC,
#: falls inside it), plus the sandbox's 40 orders at one UTC midnight and 25 sharing one instant.
BLACK_FRIDAY = {
    "orders": 0,
    "flash_sale_orders": 40_000,
    "flash_sale_hours": 2,
    "start": "2026-11-27",
    "end": "2026-11-27",
    "seed": 5,
}
DAY = date(2026, 11, 27)
ZONE = "America/Sao_Paulo"


def ids_of(listed: list) -> list[str]:
    ids = [o.order_id for o in listed]
    assert not [k for k, v in Counter(ids).items() if v > 1], "an order came back twice"
    return ids


def held(sb, start: Instant, end: Instant) -> list[str]:
    return [o.order_id for o in sb.store.orders if start.ns <= o.created.ns < end.ns]


def test_a_black_friday_of_40000_orders_in_two_hours_is_listed_exactly_once(tmp_path: Path) -> None:
    """Under both variants, on one store: the sandbox reads ``list_dates`` on each request."""
    with sandbox_client(tmp_path, **BLACK_FRIDAY) as (sb, _srv, client):
        orders = sb.store.orders
        sale = [o for o in orders if "02:00" <= o.created.isoformat()[11:16] < "04:00"]
        assert len(sale) >= 40_000 and len(orders) == 40_065
        day0, day1 = local_day_bounds(DAY, DAY)
        for dates in ("exact", "seconds"):
            sb.config.list_dates = dates
            sb.clear_records()
            assert_rows_dated(client, dates)
            listed = client.orders.list(day0, day1)  # split into parts of ~2,400 orders: VTEX pages through 3,000
            assert sorted(ids_of(listed)) == sorted(o.order_id for o in orders), dates
            if dates == "exact":
                assert ids_of(listed) == held(sb, day0, day1)  # in order of creation, then id
            probes = [r for r in sb.requests if r.path == "/api/oms/pvt/orders" and r.query.get("page", "1") == "1"]
            assert len(probes) > 16  # it was split


def test_store_days_and_windows_cut_at_fractions_of_a_second_share_out_every_order_once(tmp_path: Path) -> None:
    config = {**BLACK_FRIDAY, "flash_sale_orders": 8_000}
    with sandbox_client(tmp_path, **config) as (sb, _srv, client):
        orders = sb.store.orders
        day0, day1 = local_day_bounds(DAY, DAY)
        midnight = local_day_bounds(DAY, DAY, ZONE)[0]
        cuts = [day0, *(parse_instant(t) for t in CUTS), day1]
        for dates in ("exact", "seconds"):
            sb.config.list_dates = dates
            assert_rows_dated(client, dates)
            # the store's own days (UTC-3): their edge cuts the sale at 03:00 UTC
            before = client.orders.list(*local_day_bounds(DAY - timedelta(days=1), DAY - timedelta(days=1), ZONE))
            after = client.orders.list(*local_day_bounds(DAY, DAY, ZONE))
            assert sorted(ids_of(before)) == sorted(held(sb, day0, midnight)), dates
            assert sorted(ids_of(after)) == sorted(held(sb, midnight, day1)), dates

            # windows whose edges fall on fractions of a second, inside the sale: between them, every order once
            parts = [client.orders.list(a, b) for a, b in itertools.pairwise(cuts)]
            joined = [i for part in parts for i in ids_of(part)]
            assert sorted(joined) == sorted(o.order_id for o in orders), dates
            if dates == "exact":  # exact rows are kept by their exact instant, whatever the edges
                assert [ids_of(p) for p in parts] == [held(sb, a, b) for a, b in itertools.pairwise(cuts)]


def assert_rows_dated(client, dates: str) -> None:
    row = client.transport.json("GET", "/api/oms/pvt/orders", params={"per_page": "1"})["list"][0]
    assert (len(row["creationDate"]) == len("2026-11-27T02:00:00+00:00")) == (dates == "seconds")


#: Edges at fractions of a second within the sale, one at an order's very instant.
CUTS = ["2026-11-27T02:17:04.5000001Z", "2026-11-27T02:45:59.9999999Z", "2026-11-27T03:30:00.0004Z"]


def test_a_sale_within_hours_is_a_sandbox_setting_that_leaves_the_demo_store_alone() -> None:
    from refundkit.sandbox.store import Store

    demo = Store(SandboxConfig(orders=300, flash_sale_orders=500, start="2026-06-01", end="2026-06-30"))
    burst = Store(
        SandboxConfig(orders=300, flash_sale_orders=500, start="2026-06-01", end="2026-06-30", flash_sale_hours=1.5)
    )
    hours = Counter(o.created.isoformat()[:13] for o in burst.orders if o.created.isoformat()[:10] == "2026-06-15")
    assert sum(v for k, v in hours.items() if k[11:] in ("02", "03")) >= 500
    assert {o.created.isoformat()[11:13] for o in demo.orders if o.created.isoformat()[:10] == "2026-06-15"} > {
        "02",
        "12",
        "20",
    }
    with pytest.raises(ValueError, match="flash_sale_hours"):
        SandboxConfig(flash_sale_hours=30)


@pytest.mark.parametrize("dates", ["exact", "seconds"])
def test_counts_over_half_open_ranges_leave_the_orders_at_the_end_to_the_next_range(dates: str, tmp_path: Path) -> None:
    """probe counts ``[a, b)`` although VTEX's filter is inclusive at both ends: the orders at ``b`` (here 150 of them,
    more than a page, plus the sandbox's 40 at one midnight) are counted by the range that starts there."""
    config = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}
    with sandbox_client(tmp_path, list_dates=dates, **config) as (sb, _srv, client):
        store = sb.store
        edge = parse_instant("2026-03-10T12:00:00Z")
        for k in range(150):
            store.add_order(store.orders[k].order_id, edge)
        a, c = parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-03-20T00:00:00Z")
        for lo, hi in ((a, edge), (edge, c), (a - timedelta(days=1), a), (a, c)):
            count, newest = client.orders.probe(lo, hi)
            assert count == len(held(sb, lo, hi))
            assert {o.order_id for o in newest} <= set(held(sb, lo, hi))
            assert newest or hi == edge  # a page holding only orders at the end shows none of the range
        with pytest.raises(ValueError, match="whole seconds"):
            client.orders.probe(a, edge + timedelta(milliseconds=1))
