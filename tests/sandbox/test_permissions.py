"""The sandbox's License Manager: its table of resources per endpoint is the specs' own, and a denied resource
answers 403 only where no other held resource allows the call — as on VTEX."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
import pytest

from refundkit.doctor import MONEY_MOVING_RESOURCES
from refundkit.sandbox import Sandbox
from refundkit.sandbox import permissions as lm
from tests.conftest import SPECS

from .conftest import small_config

_BOLD_ROW = re.compile(r"^\|[^|\n]*\|[^|\n]*\|\s*\*\*([^*|]+)\*\*\s*\|", re.MULTILINE)


@cache
def _spec(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def _resources(spec: str, path: str, method: str) -> set[str]:
    """The resources the spec's "Permissions" table lists for an operation (its header row excluded)."""
    description = _spec(spec)["paths"][path][method]["description"]
    table = description.split("## Permissions", 1)[1].split("You can", 1)[0]
    return {r.strip() for r in _BOLD_ROW.findall(table)} - {"Resource"}


MODELLED = [
    ("orders.json", "/api/oms/pvt/orders", "get"),
    ("orders.json", "/api/oms/pvt/orders/{orderId}", "get"),
    *[
        ("masterdata-v2.json", f"/api/dataentities/{{dataEntityName}}{tail}", method)
        for tail, method in [
            ("/documents", "post"),
            ("/documents", "patch"),
            ("/documents/{id}", "get"),
            ("/documents/{id}", "put"),
            ("/documents/{id}", "patch"),
            ("/documents/{id}", "delete"),
            ("/search", "get"),
            ("/scroll", "get"),
            ("/schemas", "get"),
            ("/schemas/{schemaName}", "get"),
            ("/schemas/{schemaName}", "put"),
            ("/schemas/{schemaName}", "delete"),
            ("/indices", "get"),
            ("/indices", "put"),
            ("/indices/{index_name}", "get"),
        ]
    ],
]


@pytest.mark.contract
@pytest.mark.parametrize(("spec", "path", "method"), MODELLED, ids=[f"{m.upper()} {p}" for _, p, m in MODELLED])
def test_the_sandbox_requires_what_the_spec_lists(spec: str, path: str, method: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "x1", path)
    assert set(lm.required_resources(method, concrete) or ()) == _resources(spec, path, method)


@pytest.mark.contract
def test_doctor_names_every_resource_that_can_move_money() -> None:
    moving = (
        _resources("orders.json", "/api/oms/pvt/orders/{orderId}/invoice", "post")
        | _resources("orders.json", "/api/oms/pvt/orders/{orderId}/cancel", "post")
        | _resources("orders.json", "/api/oms/pvt/orders/{orderId}/changes", "post")
        | _resources("payments-gateway.json", "/api/pvt/transactions/{transactionId}/refunding-request", "post")
    )
    named = {r.rsplit(" > ", 1)[1] for r in MONEY_MOVING_RESOURCES}
    assert moving == named


def test_a_denied_resource_answers_403_only_where_nothing_else_allows_the_call() -> None:
    sb = Sandbox(small_config())
    cfg = sb.config
    headers = {"X-VTEX-API-AppKey": cfg.app_key, "X-VTEX-API-AppToken": cfg.app_token}
    with sb.serve(port=0) as srv, httpx.Client(base_url=srv.base_url, headers=headers) as c:
        cfg.denied_resources = frozenset({lm.LIST_ORDERS})
        assert c.get("/api/oms/pvt/orders").status_code == 200  # Orders Full Access still allows it
        cfg.denied_resources = frozenset({lm.LIST_ORDERS, lm.ORDERS_FULL})
        r = c.get("/api/oms/pvt/orders")
        assert r.status_code == 403 and "List Orders" in r.json()["Message"]
        assert c.get("/api/do/notes", params={"target.id": "1-01"}).status_code == 200  # notes need no resource
        cfg.denied_resources = frozenset({lm.MD_WRITE})
        assert c.put("/api/dataentities/scratchX/documents/a", json={"n": 1}).status_code == 204  # admin allows it
        cfg.denied_resources = frozenset({lm.MD_WRITE, lm.MD_FULL, lm.MD_ADMIN})
        assert c.put("/api/dataentities/scratchX/documents/b", json={"n": 1}).status_code == 403
        assert c.get("/api/dataentities/scratchX/documents/a").status_code == 200
        cfg.denied_resources = frozenset()
        cfg.ip_blocked = True
        assert c.get("/api/do/notes", params={"target.id": "1-01"}).status_code == 403
        assert c.get("/api/oms/pvt/orders", headers={"X-VTEX-API-AppToken": "wrong"}).status_code == 403
    assert sb.money_moving_calls == []


def test_the_sandbox_command_flags_set_the_access_options() -> None:
    from refundkit.present.cli import build_parser

    args = build_parser().parse_args(
        ["sandbox", "--deny", "List Orders", "--deny", "Orders Full Access", "--ip-blocked", "--notes-list-lag-s", "5"]
    )
    assert lm.access_options(args) == {
        "denied_resources": frozenset({"List Orders", "Orders Full Access"}),
        "ip_blocked": True,
    }
    assert args.notes_list_lag_s == 5.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--deny", "Process payments"])  # not a resource the sandbox models
