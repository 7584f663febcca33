"""Contract: every request the VTEX client sends is one the official OpenAPI specs describe.

The client runs against ``httpx.MockTransport``; each recorded request is checked against
``../shared/vtex-openapi/{orders,do,masterdata-v2}.json`` (the repository root's parent): the path exists for that
method, every query parameter is declared for the operation (and its value fits the declared type), required
parameters and headers are present, the app key pair is sent, and JSON bodies validate against the operation's
request-body schema (``#/components/...`` references resolved inside the spec).

Query parameters VTEX documents elsewhere than in the spec (allowed here, each with the reason): none are needed
today — refundkit sends only declared parameters. Add an entry to ``DOCUMENTED_ELSEWHERE`` with its source if that
changes.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jsonschema
import pytest

from refundkit.timeutil import parse_instant
from refundkit.vtex.masterdata import MasterData
from refundkit.vtex.notes import Notes
from refundkit.vtex.oms import Orders
from tests.conftest import SPECS, require_specs

from .fakes import APP_KEY, TOKEN, Recorder, json_response, make_transport

pytestmark = pytest.mark.contract

SPEC_DIR = SPECS
SPEC_FILES = ("orders.json", "do.json", "masterdata-v2.json")

#: (spec file, method, spec path) -> {query parameter: where VTEX documents it}. Empty: nothing undeclared is sent.
DOCUMENTED_ELSEWHERE: dict[tuple[str, str, str], dict[str, str]] = {}

require_specs(*SPEC_FILES)  # skipped without them, failed under CI


# -- the spec side ------------------------------------------------------------------------------------------------
@cache
def spec(name: str) -> dict:
    return json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))


def server_prefix(name: str) -> str:
    """The path part of the spec's server URL (``/api/do`` for VTEX Do, empty for the others)."""
    url = re.sub(r"\{[^}]+\}", "x", spec(name)["servers"][0]["url"])
    return urlsplit(url).path.rstrip("/")


def resolve(name: str, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"external reference {ref} in {name}"
        target: Any = spec(name)
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def find_operation(method: str, path: str) -> tuple[str, str, dict]:
    """(spec file, spec path, operation) for a request path, or fail the test."""
    candidates = []
    for name in SPEC_FILES:
        prefix = server_prefix(name)
        if prefix and not path.startswith(prefix + "/"):
            continue
        rel = path[len(prefix) :]
        for template, item in spec(name)["paths"].items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(rx, rel):
                literal = len(re.sub(r"\{[^}]+\}", "", template))
                candidates.append((literal, name, template, item))
    assert candidates, f"{method} {path}: no such path in any spec"
    candidates.sort(key=lambda c: -c[0])  # a literal segment beats a template ({orderId})
    _, name, template, item = candidates[0]
    op = item.get(method.lower())
    assert op is not None, f"{method} {path}: the spec has {template} but not for {method}"
    return name, template, op


def parameters(name: str, template: str, op: dict) -> list[dict]:
    item = spec(name)["paths"][template]
    return [resolve(name, p) for p in item.get("parameters", []) + op.get("parameters", [])]


def body_schema(name: str, op: dict) -> dict | None:
    body = resolve(name, op.get("requestBody"))
    if not body:
        return None
    content = body.get("content", {}).get("application/json")
    return None if content is None else content.get("schema")


def validate_body(name: str, schema: dict, body: Any) -> None:
    # the operation's schema, with the spec's components beside it so "#/components/..." resolves from the root
    root = {"allOf": [schema], "components": spec(name).get("components", {})}
    jsonschema.Draft7Validator(root).validate(body)


def check_value(param: dict, value: str) -> None:
    schema = param.get("schema") or {}
    kind = schema.get("type")
    if kind == "integer":
        assert re.fullmatch(r"-?\d+", value), f"{param['name']}={value!r} is not an integer"
    elif kind == "number":
        float(value)
    elif kind == "boolean":
        assert value in ("true", "false"), f"{param['name']}={value!r} is not a boolean"
    if "enum" in schema:
        assert value in schema["enum"], f"{param['name']}={value!r} not in {schema['enum']}"


def check_request(request: httpx.Request) -> str:
    """Assert the request fits its operation; returns ``"<file> METHOD path"`` for the coverage check."""
    method, path = request.method, request.url.path
    name, template, op = find_operation(method, path)
    where = f"{name} {method} {template}"
    params = parameters(name, template, op)
    declared_query = {p["name"]: p for p in params if p.get("in") == "query"}
    allowed_extra = DOCUMENTED_ELSEWHERE.get((name, method, template), {})
    sent = parse_qsl(request.url.query.decode(), keep_blank_values=True)
    for key, value in sent:
        assert key in declared_query or key in allowed_extra, f"{where}: query parameter {key!r} is not declared"
        if key in declared_query:
            check_value(declared_query[key], value)
    sent_keys = {k for k, _ in sent}
    for p in params:
        if p.get("required") and p.get("in") == "query":
            assert p["name"] in sent_keys, f"{where}: required query parameter {p['name']!r} missing"
        if p.get("required") and p.get("in") == "header":
            assert p["name"] in request.headers, f"{where}: required header {p['name']!r} missing"
    # headers every spec asks for, and the app key pair of the security scheme
    for header in ("Accept", "Content-Type"):
        assert request.headers.get(header) == "application/json", f"{where}: {header} must be application/json"
    assert request.headers.get("X-VTEX-API-AppKey") == APP_KEY
    assert request.headers.get("X-VTEX-API-AppToken") == TOKEN
    schemes = {k for req in op.get("security", spec(name).get("security", [])) for k in req}
    assert {"appKey", "appToken"} <= schemes, f"{where}: the spec does not accept the app key pair"
    schema = body_schema(name, op)
    content = request.content
    if schema is not None:
        assert content, f"{where}: the operation takes a JSON body and none was sent"
        validate_body(name, schema, json.loads(content))
    else:
        assert not content, f"{where}: a body was sent to an operation that takes none"
    return f"{name} {method} {template}"


# -- the client side: record what it sends ------------------------------------------------------------------------
NOTE = {"id": "N1", "target": {"id": "1306331686122-01", "type": "order"}, "description": "offline refund RF-1"}
ORDER = {
    "orderId": "1306331686122-01",
    "status": "invoiced",
    "creationDate": "2026-03-01T12:00:00.0000000+00:00",
    "value": 1000,
    "storePreferencesData": {"currencyCode": "BRL"},
}


def fake_vtex(request: httpx.Request) -> httpx.Response:
    path, q = request.url.path, dict(parse_qsl(request.url.query.decode()))
    if path == "/api/oms/pvt/orders":
        page = int(q.get("page", "1"))
        rows = [
            {
                "orderId": f"{page}{k:03d}-01",
                "creationDate": "2026-03-01T12:00:00.1234567+00:00",
                "totalValue": 100,
                "status": "invoiced",
                "currencyCode": "BRL",
            }
            for k in range(100 if page < 3 else 50)
        ]
        return json_response(
            200, {"list": rows, "paging": {"total": 250, "pages": 3, "currentPage": page, "perPage": 100}}
        )
    if path.startswith("/api/oms/pvt/orders/"):
        return json_response(200, ORDER)
    if path == "/api/do/notes":
        if request.method == "POST":
            return json_response(201, NOTE)
        return json_response(200, {"items": [NOTE], "paging": {"page": 1, "perPage": 30, "total": 1, "pages": 1}})
    if path.endswith("/search"):
        first, end = map(int, request.headers["REST-Range"].split("=")[1].split("-"))
        docs = [{"id": f"d{k}"} for k in range(first, min(end, 150))]
        return json_response(200, docs, {"REST-Content-Range": f"resources {first}-{first + len(docs)}/150"})
    if path.endswith("/scroll"):
        if "_token" in q:
            return json_response(200, [], {"X-VTEX-MD-TOKEN": "tok"})
        return json_response(200, [{"id": "d1"}], {"X-VTEX-MD-TOKEN": "tok", "REST-Content-Total": "1"})
    if "/schemas/" in path and request.method == "GET":
        return json_response(200, {"properties": {}})
    if "/documents/" in path and request.method == "GET":
        return json_response(200, {"id": "d1"})
    return httpx.Response(204)


@pytest.fixture(scope="module")
def recorded() -> list[httpx.Request]:
    from refundkit.ledger.schemas import ENTRY_SCHEMA

    rec = Recorder(fake_vtex)
    with make_transport(rec) as t:
        orders, notes, md = Orders(t), Notes(t), MasterData(t)
        start = parse_instant("2026-03-01T00:00:00Z")
        orders.list(start, start + timedelta(days=1))
        orders.list(start, start + timedelta(days=1), statuses=["invoiced", "canceled"])
        orders.get("1306331686122-01")
        notes.create("1306331686122-01", "offline refund RF-1 of BRL 10.00")
        notes.list("1306331686122-01")
        md.put("offlineRefund", "rf-1", {"orderId": "1306331686122-01", "amount": 1000})
        md.put(
            "offlineRefund",
            "rf-1",
            {"orderId": "1306331686122-01", "amount": 900},
            schema="refundkit-v1",
            where="amount=1000",
        )
        md.get("offlineRefund", "rf-1")
        md.get("offlineRefund", "rf-1", fields=["id", "amount"])
        list(md.search("offlineRefund", where="orderId=1306331686122-01", schema="refundkit-v1"))
        list(md.scroll("offlineRefund", where="amount>0", sort="createdIn ASC", size=500, schema="refundkit-v1"))
        md.save_schema("offlineRefund", "refundkit-v1", ENTRY_SCHEMA)
        md.get_schema("offlineRefund", "refundkit-v1")
    return rec.requests


def test_every_recorded_request_fits_the_spec(recorded: list[httpx.Request]) -> None:
    covered = {check_request(r) for r in recorded}
    assert covered >= {
        "orders.json GET /api/oms/pvt/orders",
        "orders.json GET /api/oms/pvt/orders/{orderId}",
        "do.json POST /notes",
        "do.json GET /notes",
        "masterdata-v2.json PUT /api/dataentities/{dataEntityName}/documents/{id}",
        "masterdata-v2.json GET /api/dataentities/{dataEntityName}/documents/{id}",
        "masterdata-v2.json GET /api/dataentities/{dataEntityName}/search",
        "masterdata-v2.json GET /api/dataentities/{dataEntityName}/scroll",
        "masterdata-v2.json PUT /api/dataentities/{dataEntityName}/schemas/{schemaName}",
    }


@pytest.mark.parametrize("what", ["list", "get", "notes", "md"])
def test_each_kind_of_request_fits_the_spec(recorded: list[httpx.Request], what: str) -> None:
    prefixes = {
        "list": "/api/oms/pvt/orders",
        "get": "/api/oms/pvt/orders/",
        "notes": "/api/do/notes",
        "md": "/api/dataentities/",
    }
    chosen = [
        r
        for r in recorded
        if r.url.path.startswith(prefixes[what]) and not (what == "list" and r.url.path != "/api/oms/pvt/orders")
    ]
    assert chosen
    for r in chosen:
        check_request(r)


def test_list_paging_stays_inside_the_documented_limits(recorded: list[httpx.Request]) -> None:
    lists = [dict(parse_qsl(r.url.query.decode())) for r in recorded if r.url.path == "/api/oms/pvt/orders"]
    assert {q["per_page"] for q in lists} == {"100"}  # "goes up to 100 orders per page"
    assert max(int(q["page"]) for q in lists) <= 30  # "restricted to the limit of 30 pages"
    for q in lists:
        m = re.fullmatch(r"creationDate:\[(\S+Z) TO (\S+Z)\]", q["f_creationDate"])
        assert m, q["f_creationDate"]  # the spec's form: UTC timestamps with milliseconds
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", b) for b in m.groups())
        assert re.fullmatch(r"(creationDate|orderId|items|totalValue|origin),(asc|desc)", q["orderBy"])


def test_search_sends_the_documented_range_header(recorded: list[httpx.Request]) -> None:
    searches = [r for r in recorded if r.url.path.endswith("/search")]
    ranges = [r.headers["REST-Range"] for r in searches]
    assert ranges == ["resources=0-100", "resources=100-200"]  # end exclusive, at most 100 per request


def test_scroll_continues_with_only_the_token(recorded: list[httpx.Request]) -> None:
    scrolls = [dict(parse_qsl(r.url.query.decode())) for r in recorded if r.url.path.endswith("/scroll")]
    assert scrolls[0]["_size"] == "500" and "_token" not in scrolls[0]
    assert scrolls[1:] and all(q == {"_token": "tok"} for q in scrolls[1:])


def test_a_note_links_to_its_order_as_the_do_spec_allows(recorded: list[httpx.Request]) -> None:
    """The spec's ``target.url``: "You can choose between using the complete target URL or only
    `/orders/{OrderID}`". refundkit sends the short form, read here from the spec's own words."""
    schema = body_schema("do.json", spec("do.json")["paths"]["/notes"]["post"])
    assert schema is not None
    allowed = re.findall(r"`(/orders/\{\w+\})`", schema["properties"]["target"]["properties"]["url"]["description"])
    assert allowed == ["/orders/{OrderID}"]
    posts = [json.loads(r.content) for r in recorded if r.method == "POST" and r.url.path == "/api/do/notes"]
    assert posts
    for body in posts:
        target = body["target"]
        assert target["type"] == "order"
        assert target["url"] == allowed[0].replace("{OrderID}", target["id"])


# -- the checker itself is not vacuous ----------------------------------------------------------------------------
def _request(
    method: str, path: str, *, params: dict | None = None, body: Any = None, headers: dict | None = None
) -> httpx.Request:
    base = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-VTEX-API-AppKey": APP_KEY,
        "X-VTEX-API-AppToken": TOKEN,
    }
    base.update(headers or {})
    return httpx.Request(
        method,
        "https://acme.vtexcommercestable.com.br" + path,
        params=params,
        headers={k: v for k, v in base.items() if v is not None},
        content=None if body is None else json.dumps(body).encode(),
    )


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (_request("GET", "/api/oms/pvt/orders", params={"f_creationDate": "x", "pageSize": "100"}), "pageSize"),
        (_request("GET", "/api/oms/pvt/orders", params={"page": "two"}), "integer"),
        (_request("GET", "/api/do/notes", params={"perPage": "30"}), "target.id"),
        (_request("POST", "/api/do/notes", body={"target": {"id": "1"}, "domain": "oms"}), "description"),
        (_request("POST", "/api/do/notes", body={"target": "1", "domain": "oms", "description": "x"}), "object"),
        (_request("GET", "/api/dataentities/E1/search"), "REST-Range"),
        (_request("GET", "/api/oms/pvt/orders/1-01", headers={"Accept": None}), "Accept"),
        (_request("GET", "/api/oms/pvt/orderz"), "no such path"),
        (_request("DELETE", "/api/do/notes"), "not for DELETE"),
    ],
)
def test_the_checker_catches_requests_that_break_the_contract(request_: httpx.Request, problem: str) -> None:
    with pytest.raises((AssertionError, jsonschema.ValidationError)) as err:
        check_request(request_)
    assert problem in str(err.value)
