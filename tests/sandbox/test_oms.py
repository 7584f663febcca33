"""OMS list and get over a real loopback socket, against the default demo store."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest

from refundkit.sandbox import Request, Sandbox, SandboxConfig
from refundkit.sandbox.oms import list_orders
from refundkit.timeutil import Instant

LIST = "/api/oms/pvt/orders"
ISO7 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$")


def window(first: Instant, last: Instant) -> str:
    return f"creationDate:[{first.filter_format()} TO {last.filter_format()}]"


def day_window(day: str) -> str:
    return f"creationDate:[{day}T00:00:00.000Z TO {day}T23:59:59.999Z]"


def fetch_all(c: httpx.Client, params: dict) -> list[dict]:
    out, page = [], 1
    while True:
        r = c.get(LIST, params={**params, "per_page": 100, "page": page, "orderBy": "creationDate,asc"})
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["list"]
        if page >= body["paging"]["pages"]:
            return out
        page += 1


def test_requests_without_the_right_keys_get_401_without_the_token(demo):
    sb, srv = demo
    for headers in (
        {},
        {"X-VTEX-API-AppKey": sb.config.app_key, "X-VTEX-API-AppToken": "wrong"},
        {"X-VTEX-API-AppKey": "wrong", "X-VTEX-API-AppToken": sb.config.app_token},
    ):
        r = httpx.get(srv.base_url + LIST, headers=headers)
        assert r.status_code == 401
        assert "error" in r.json()
        assert sb.config.app_token not in r.text


def test_header_names_are_case_insensitive(demo):
    sb, srv = demo
    r = httpx.get(
        srv.base_url + LIST,
        headers={"x-vtex-api-appkey": sb.config.app_key, "X-VTEX-API-APPTOKEN": sb.config.app_token},
    )
    assert r.status_code == 200


def test_list_shape_and_defaults(demo_client, demo):
    sb, _ = demo
    r = demo_client.get(LIST)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert set(body) == {"list", "facets", "paging", "stats"}
    assert body["paging"] == {"total": len(sb.store), "pages": -(-len(sb.store) // 15), "currentPage": 1, "perPage": 15}
    assert len(body["list"]) == 15
    # default order: newest first
    newest = sb.store.orders[-1]
    assert body["list"][0]["orderId"] == newest.order_id
    item = body["list"][0]
    assert item["items"] is None and isinstance(item["totalValue"], int)
    assert ISO7.match(item["creationDate"])
    assert body["stats"]["stats"]["totalValue"]["Sum"] == sum(o.total_cents for o in sb.store.orders)
    assert body["stats"]["stats"]["totalValue"]["Count"] == len(sb.store)


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": 101},
        {"page": 31},
        {"page": 0},
        {"per_page": 0},
        {"page": "x"},
        {"orderBy": "color,asc"},
        {"f_hasInputInvoice": "maybe"},
    ],
)
def test_paging_caps_and_bad_parameters_are_400_in_oms_style(demo_client, params):
    r = demo_client.get(LIST, params=params)
    assert r.status_code == 400
    err = r.json()["error"]
    assert set(err) == {"code", "message", "exception"} and err["exception"] is None
    if "page" in params and params["page"] == 31:
        assert "30" in err["message"]


def test_page_30_of_100_is_the_deepest_allowed(demo_client):
    r = demo_client.get(LIST, params={"per_page": 100, "page": 30})
    assert r.status_code == 200
    assert len(r.json()["list"]) == 100


@pytest.mark.parametrize(
    "bad",
    [
        "2026-03-01",
        "creationDate:[2026-03-01T00:00:00.000Z]",
        "creationDate:[yesterday TO today]",
        "invoicedDate:[2026-03-01T00:00:00Z TO 2026-03-02T00:00:00Z]",
    ],
)
def test_malformed_creation_date_filter_is_400(demo_client, bad):
    r = demo_client.get(LIST, params={"f_creationDate": bad})
    assert r.status_code == 400
    assert r.json()["error"]["code"]


def test_window_bounds_are_inclusive_to_the_nanosecond(demo_client, demo):
    sb, _ = demo
    o = sb.store.orders[1234]
    exact = demo_client.get(
        LIST,
        params={
            "f_creationDate": f"creationDate:[{o.created.isoformat(7)} TO {o.created.isoformat(7)}]",
            "per_page": 100,
        },
    )
    assert o.order_id in {i["orderId"] for i in exact.json()["list"]}
    # one 100 ns tick later as the lower bound: gone
    later = Instant(o.created.ns + 100)
    r = demo_client.get(
        LIST,
        params={
            "f_creationDate": f"creationDate:[{later.isoformat(7)} TO {(later + timedelta(days=1)).isoformat(7)}]",
            "per_page": 100,
            "orderBy": "creationDate,asc",
        },
    )
    assert o.order_id not in {i["orderId"] for i in r.json()["list"]}


def test_midnight_group_appears_in_both_adjacent_windows(demo_client, demo):
    sb, _ = demo
    m = sb.store.midnight_instant
    assert m.isoformat(7).endswith("T00:00:00.0000000+00:00")
    group = {o.order_id for o in sb.store.orders if o.created == m}
    assert len(group) == 40
    before = window(m - timedelta(days=1), m)  # [... TO midnight]
    after = window(m, m + timedelta(hours=23, minutes=59, seconds=59, milliseconds=999))
    ids_before = {i["orderId"] for i in fetch_all(demo_client, {"f_creationDate": before})}
    ids_after = {i["orderId"] for i in fetch_all(demo_client, {"f_creationDate": after})}
    assert group <= ids_before and group <= ids_after
    # and the usual ".999" day windows put it in exactly one day
    day = m.isoformat(7)[:10]
    ids_day = {i["orderId"] for i in fetch_all(demo_client, {"f_creationDate": day_window(day)})}
    assert group <= ids_day and not group & (ids_before - ids_day)


def test_shared_timestamp_group_with_a_seventh_digit(demo_client, demo):
    sb, _ = demo
    s = sb.store.shared_instant
    text = s.isoformat(7)
    assert text[26] != "0" and ISO7.match(text)  # the 7th fractional digit is not zero
    group = [o for o in sb.store.orders if o.created == s]
    assert len(group) == 25
    rows = fetch_all(demo_client, {"f_creationDate": f"creationDate:[{text} TO {text}]"})
    assert {r["orderId"] for r in rows} == {o.order_id for o in group}
    assert {r["creationDate"] for r in rows} == {text}
    # a millisecond-precision window that ends before the instant's sub-millisecond part misses them all
    floor = s.floor_ms()
    rows = fetch_all(demo_client, {"f_creationDate": window(floor - timedelta(seconds=1), floor)})
    assert not {r["orderId"] for r in rows} & {o.order_id for o in group}


def test_flash_sale_day_exceeds_what_paging_can_reach(demo_client, demo):
    sb, _ = demo
    day = sb.store.flash_sale_day.isoformat()
    r = demo_client.get(LIST, params={"f_creationDate": day_window(day), "per_page": 100})
    paging = r.json()["paging"]
    assert paging["total"] > 3000
    assert paging["pages"] > 30
    expected = sum(1 for o in sb.store.orders if o.created.isoformat(7)[:10] == day)
    assert paging["total"] == expected
    assert (
        demo_client.get(LIST, params={"f_creationDate": day_window(day), "per_page": 100, "page": 31}).status_code
        == 400
    )


def test_paging_is_stable_and_complete_over_a_window(demo_client, demo):
    sb, _ = demo
    win = day_window("2026-03-01")
    rows = fetch_all(demo_client, {"f_creationDate": win})
    expected = [o.order_id for o in sb.store.orders if o.created.isoformat(7)[:10] == "2026-03-01"]
    assert [r["orderId"] for r in rows] == expected
    desc = demo_client.get(LIST, params={"f_creationDate": win, "per_page": 100, "orderBy": "creationDate,desc"})
    assert [r["orderId"] for r in desc.json()["list"]] == expected[::-1][:100]


def test_status_and_input_invoice_filters_and_stats(demo_client, demo):
    sb, _ = demo
    r = demo_client.get(LIST, params={"f_status": "canceled,payment-pending", "per_page": 100})
    body = r.json()
    expected = [o for o in sb.store.orders if o.status in ("canceled", "payment-pending")]
    assert body["paging"]["total"] == len(expected)
    assert {i["status"] for i in body["list"]} <= {"canceled", "payment-pending"}
    assert body["stats"]["stats"]["totalValue"]["Sum"] == sum(o.total_cents for o in expected)
    facets = body["stats"]["stats"]["totalValue"]["Facets"]
    assert sum(f["Sum"] for f in facets["currencyCode"].values()) == sum(o.total_cents for o in expected)
    assert facets["currencyCode"]["USD"]["Count"] == sum(o.currency == "USD" for o in expected)

    r = demo_client.get(LIST, params={"f_hasInputInvoice": "true", "per_page": 100})
    refunded = [o for o in sb.store.orders if o.has_input_invoice]
    assert r.json()["paging"]["total"] == len(refunded)
    assert all(i["invoiceInput"] for i in r.json()["list"])


def test_order_by_total_value_breaks_ties_by_order_id(demo_client, demo):
    sb, _ = demo
    r = demo_client.get(LIST, params={"orderBy": "totalValue,asc", "per_page": 100})
    expected = sorted(sb.store.orders, key=lambda o: (o.total_cents, o.order_id))[:100]
    assert [i["orderId"] for i in r.json()["list"]] == [o.order_id for o in expected]
    r = demo_client.get(LIST, params={"orderBy": "orderId,desc", "per_page": 5})
    assert [i["orderId"] for i in r.json()["list"]] == sorted((o.order_id for o in sb.store.orders), reverse=True)[:5]


def test_get_order_shape(demo_client, demo):
    sb, _ = demo
    o = next(o for o in sb.store.orders if len(o.input_invoices) == 2)
    r = demo_client.get(f"{LIST}/{o.order_id}")
    assert r.status_code == 200
    d = r.json()
    assert d["orderId"] == o.order_id and d["sequence"] == str(o.sequence)
    assert d["value"] == o.total_cents == sum(t["value"] for t in d["totals"])
    assert [t["id"] for t in d["totals"]] == ["Items", "Discounts", "Shipping", "Tax"]
    assert d["totals"][1]["value"] <= 0
    assert d["storePreferencesData"]["currencyCode"] == o.currency
    assert "CurrencyDecimalDigits" in d["storePreferencesData"]["currencyFormatInfo"]
    assert ISO7.match(d["creationDate"])
    pays = d["paymentData"]["transactions"][0]["payments"]
    assert sum(p["value"] for p in pays) == o.total_cents
    assert {p["paymentSystemName"] for p in pays} == set(o.payment_names)
    packages = d["packageAttachment"]["packages"]
    inputs = [p for p in packages if p["type"] == "Input"]
    assert [p["type"] for p in packages].count("Output") == 1
    assert len(inputs) == 2
    assert sum(p["invoiceValue"] for p in inputs) <= o.total_cents
    for p, inv in zip(inputs, o.input_invoices, strict=True):
        assert p["invoiceValue"] == inv.value == p["restitutions"]["Refund"]["value"]
        assert p["restitutions"]["Refund"]["giftCardData"] is None
    # stable across calls
    assert demo_client.get(f"{LIST}/{o.order_id}").json() == d
    assert demo_client.get(f"{LIST}/seq{o.sequence}").json() == d


def test_canceled_order_has_cancellation_data(demo_client, demo):
    sb, _ = demo
    o = next(o for o in sb.store.orders if o.status == "canceled")
    d = demo_client.get(f"{LIST}/{o.order_id}").json()
    assert d["cancellationData"]["CancellationDate"]
    assert d["invoicedDate"] is None


def test_unknown_order_is_404_oms003(demo_client):
    r = demo_client.get(f"{LIST}/0000000000000-01")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "OMS003", "message": "Order not found", "exception": None}}


def test_list_call_over_the_whole_store_is_cheap(demo):
    sb, _ = demo
    queries = [
        {},
        {"per_page": "100", "page": "30", "f_status": "invoiced,canceled"},
        {
            "f_creationDate": "creationDate:[2026-01-01T00:00:00.000Z TO 2026-09-30T23:59:59.999Z]",
            "per_page": "100",
            "f_hasInputInvoice": "false",
        },
    ]
    for q in queries:
        req = Request("GET", LIST, q)
        list_orders(sb.store, req)
        start = time.process_time()
        for _ in range(20):
            assert list_orders(sb.store, req).status == 200
        assert (time.process_time() - start) / 20 < 0.005


def test_many_orders_store_lists_quickly():
    sb = Sandbox(SandboxConfig(orders=12000, flash_sale_orders=3200))
    assert len(sb.store) > 12000
    req = Request("GET", LIST, {"per_page": "100", "f_status": "invoiced"})
    start = time.process_time()
    for _ in range(10):
        list_orders(sb.store, req)
    assert (time.process_time() - start) / 10 < 0.005


@pytest.mark.parametrize(
    ("dates", "invoice_input"),
    [("exact", "present"), ("seconds", "present"), ("exact", "absent"), ("exact", "null"), ("seconds", "empty")],
)
def test_list_rows_are_written_as_the_account_of_the_config_writes_them(dates, invoice_input):
    """The filter compares the exact instant in every variant; only the rows' creationDate and invoiceInput vary."""
    from refundkit.testing import small_config
    from refundkit.timeutil import parse_instant

    config = small_config(list_dates=dates, list_invoice_input=invoice_input)
    sb = Sandbox(config)
    o = next(o for o in sb.store.orders if o.input_invoices and o.created.ns % 10**9)
    exact = f"creationDate:[{o.created.isoformat(7)} TO {o.created.isoformat(7)}]"
    (row,) = list_orders(sb.store, Request("GET", LIST, {"f_creationDate": exact}), config).body["list"]
    assert row["orderId"] == o.order_id
    created = parse_instant(row["creationDate"])
    assert created.ns == (o.created.ns if dates == "exact" else o.created.ns - o.created.ns % 10**9)
    expected = {"present": [i.number for i in o.input_invoices], "null": None, "empty": []}
    assert row.get("invoiceInput", "absent") == expected.get(invoice_input, "absent")
    later = o.created + timedelta(microseconds=1)
    after = {"f_creationDate": f"creationDate:[{later.isoformat(7)} TO {(later + timedelta(seconds=1)).isoformat(7)}]"}
    assert o.order_id not in {
        r["orderId"] for r in list_orders(sb.store, Request("GET", LIST, after), config).body["list"]
    }


def test_the_list_variants_and_a_sale_within_hours_are_flags():
    import argparse

    from refundkit.sandbox.flags import add_sandbox_flags, config_from_args

    p = argparse.ArgumentParser()
    add_sandbox_flags(p)
    argv = ["--list-dates", "seconds", "--list-invoice-input", "empty", "--flash-sale-hours", "2", "--memory"]
    config = config_from_args(p.parse_args(argv), cache_dir=None)  # type: ignore[arg-type]  # --memory: unused
    assert (config.list_dates, config.list_invoice_input, config.flash_sale_hours) == ("seconds", "empty", 2.0)
    defaults = config_from_args(p.parse_args(["--memory"]), cache_dir=None)  # type: ignore[arg-type]  # as above
    assert (defaults.list_dates, defaults.list_invoice_input, defaults.flash_sale_hours) == ("exact", "present", None)
    with pytest.raises(SystemExit):
        p.parse_args(["--list-invoice-input", "sometimes"])
