"""Reading orders on an account on VTEX's PII data architecture: the request the client sends, and the listing past
the 30-page cap, exactly once, through ``POST /api/orders/extendsearch/orders``, as through the classic list."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from refundkit.errors import NotFound
from refundkit.timeutil import parse_instant
from refundkit.vtex import VtexClient
from refundkit.vtex.oms import MAX_PAGES, MAX_PER_PAGE, Orders
from refundkit.vtex.transport import RetryPolicy

from .fakes import Recorder, json_response, make_settings, make_transport

START = parse_instant("2026-03-01T00:00:00Z")
ROW = {
    "orderId": "1-01",
    "creationDate": "2026-03-01T10:00:00.0000000+00:00",
    "totalValue": 1000,
    "status": "invoiced",
    "currencyCode": "BRL",
    "invoicesInput": ["R-1"],
}


def test_the_pii_list_is_a_post_whose_body_carries_the_classic_filters_typed_as_the_pii_spec_types_them() -> None:
    answers: list = [httpx.Response(503), json_response(200, {"list": [ROW], "paging": {"total": 1}})]
    rec = Recorder(answers)
    with make_transport(rec, settings=make_settings(pii_architecture=True)) as t:
        orders = Orders(t).list(START, START + timedelta(days=1), statuses=["invoiced"], has_return_invoice=True)
    assert [o.order_id for o in orders] == ["1-01"]
    assert orders[0].invoice_input == ("R-1",)  # read from the PII list's invoicesInput
    # read only, so retried after a 503 like a GET
    assert [(r.method, r.url.path) for r in rec.requests] == [("POST", "/api/orders/extendsearch/orders")] * 2
    sent = rec.requests[-1]
    assert sent.url.query == b""  # every filter in the body
    assert json.loads(sent.content) == {
        "f_creationDate": "creationDate:[2026-03-01T00:00:00.000Z TO 2026-03-02T00:00:00.000Z]",
        "orderBy": "creationDate,asc",
        "page": 1,
        "per_page": 100,
        "incompleteOrders": False,
        "f_status": "invoiced",
        "f_hasInputInvoice": True,
    }


def test_a_pii_order_is_read_from_its_document() -> None:
    rec = Recorder([json_response(404, {})])
    t = make_transport(rec, settings=make_settings(pii_architecture=True))
    with t, pytest.raises(NotFound, match="does not exist") as caught:
        Orders(t).get("1306331686122-01")
    assert [(r.method, r.url.path) for r in rec.requests] == [("GET", "/api/orders/pvt/document/1306331686122-01")]
    assert caught.value.request == "GET /api/orders/pvt/document/1306331686122-01"


def test_listing_past_the_cap_gives_the_same_orders_through_either_api(sandbox_factory) -> None:
    """A flash sale of more than 3,000 orders in a day: the range is split and paged the same way through both."""
    config = {"orders": 300, "flash_sale_orders": 4500, "flash_sale_day": "2026-03-10", "start": "2026-03-01"}
    config["end"] = "2026-03-20"
    got = {}
    for pii in (False, True):
        served = sandbox_factory(pii_architecture=pii, **config)
        with VtexClient(served.settings(), retry=RetryPolicy.fast()) as client:
            assert client.settings.pii_architecture is pii
            got[pii] = client.orders.list(START, parse_instant("2026-03-21T00:00:00Z"))
        calls = [r for r in list(served.sb.requests) if r.path.startswith(("/api/oms/", "/api/orders/"))]
        assert len(calls) > MAX_PAGES  # more than one filter's 30 pages: the range was split
        assert {r.path for r in calls} == {"/api/orders/extendsearch/orders" if pii else "/api/oms/pvt/orders"}
        assert len(got[pii]) == len(served.sb.store.orders) > MAX_PAGES * MAX_PER_PAGE
    assert [(o.order_id, o.created_at, o.total, o.status) for o in got[True]] == [
        (o.order_id, o.created_at, o.total, o.status) for o in got[False]
    ]
    assert len({o.order_id for o in got[True]}) == len(got[True])  # each order exactly once
