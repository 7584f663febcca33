"""Defects an attack found in the client and its configuration, each kept fixed by a test.

- token fragments in error messages: redacted before any cut, in any letter case and encoding;
- ``VTEX_BASE_URL`` is scheme, host and port only; the allowlist checks the URL actually sent;
- bad configuration is one line and exit 2, never a traceback;
- ``AmountError`` and ``CurrencyMismatch`` belong to the one error tree;
- retries: 408 retried, ``Retry-After`` capped, an overall deadline per call (fake clock: nothing sleeps).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from refundkit.config import Secret, Settings, check_base_url, load_settings
from refundkit.errors import (
    AmountError,
    ConfigError,
    CurrencyMismatch,
    DeadlineExceeded,
    ForbiddenEndpoint,
    InputError,
    RefundkitError,
    ServerError,
)
from refundkit.money import Money, parse_amount
from refundkit.testing import CliResult, run_cli
from refundkit.vtex.transport import ALLOWED, RetryPolicy, Transport, check_allowed, redact
from tests.conftest import SPECS

from .fakes import TOKEN, FakeClock, Recorder, Waits, fast_limiter, json_response, make_settings, make_transport

ORDERS = "/api/oms/pvt/orders"


# -- token fragments ----------------------------------------------------------------------------------------------
def _echo_forms(token: str) -> list[str]:
    return [
        f"X-VTEX-API-AppToken: {token}",
        f"x-vtex-api-apptoken: {token.lower()}",
        f"X-VTEX-API-APPTOKEN: {token.upper()}",
        f'{{"x-vtex-api-apptoken": "{token}"}}',
        f"apptoken={quote(token, safe='')}",
        f"token was {token.lower()} and more",
        f"fragment {token[3:40].lower()} here",
        f"swapped {token.swapcase()} here",
    ]


@pytest.mark.parametrize("pad", [0, 179, 199, 290])
@pytest.mark.parametrize("form", range(8))
def test_an_echoed_token_never_shows_whatever_its_case_or_where_the_message_is_cut(pad: int, form: int) -> None:
    echo = "x" * pad + _echo_forms(TOKEN)[form] + " tail " * 40
    for body in ({"Message": echo}, {"error": {"message": echo}}, echo):
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        rec = Recorder([httpx.Response(400, content=raw)])
        with make_transport(rec) as t, pytest.raises(RefundkitError) as err:
            t.json("GET", ORDERS)
        shown = str(err.value).lower()
        for k in range(len(TOKEN) - 7):
            assert TOKEN[k : k + 8].lower() not in shown, (pad, form, shown)
        assert "****" in shown or pad > 0


def test_redact_keeps_the_rest_of_the_message() -> None:
    assert redact(f"bad header X-VTEX-API-AppToken: {TOKEN.lower()}; retry", TOKEN) == (
        "bad header X-VTEX-API-AppToken: ****; retry"
    )
    assert redact("nothing secret here", TOKEN) == "nothing secret here"


# -- the base URL -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/api/oms/pvt/orders/1-01/cancel?x=",
        "http://127.0.0.1:8765/prefix",
        "http://127.0.0.1:8765?x=1",
        "http://127.0.0.1:8765/?",
        "http://127.0.0.1:8765#frag",
        "http://user:pw@127.0.0.1:8765",
        "http://127.0.0.1:abc",
        "http://[::1",
        "http://127.0.0.1 :8765",
        "http://127.0.0.1:87 65",
        "http://exämple.com",
        "http://127.0.0.1:70000",
        "http://[zz::1]:80",
        "http://127.0.0.1:8765;x",
    ],
)
def test_a_base_url_with_anything_but_scheme_host_and_port_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"VTEX_BASE_URL": url}, env_file=False)
    assert "VTEX_BASE_URL" in str(err.value)
    with pytest.raises(ConfigError):
        Settings(account="acme", app_key="k", app_token=Secret("t"), base_url=url)
    assert "pw" not in str(err.value) or "@" not in url


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("HTTPS://Proxy.Example.com", "https://proxy.example.com"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_a_plain_base_url_is_kept(url: str, normal: str) -> None:
    assert check_base_url(url) == normal


def test_the_allowlist_checks_the_url_actually_sent() -> None:
    """Even a Settings object whose base URL slipped past validation cannot send a path the allowlist refuses."""
    rec = Recorder([json_response(200, {})])
    settings = make_settings(base_url="http://127.0.0.1:8765")
    object.__setattr__(settings, "base_url", "http://127.0.0.1:8765/api/oms/pvt/orders/1-01/cancel?x=")
    with make_transport(rec, settings=settings) as t, pytest.raises(ForbiddenEndpoint):
        t.request("POST", "/api/do/notes", json={"description": "x"}, idempotent=False)
    assert rec.requests == []


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_no_patch_and_no_delete_reach_any_path(method: str) -> None:
    """refundkit writes whole documents with PUT (conditional, read back by id) and never deletes: a partial update
    or a delete of a ledger document cannot be sent, whatever the path."""
    assert {m for m, _ in ALLOWED} == {"GET", "POST", "PUT"}
    for path in ("/api/dataentities/offlineRefund/documents/rf-1", "/api/dataentities/offlineRefundOrder/documents/x"):
        with pytest.raises(ForbiddenEndpoint):
            check_allowed(method, path)
        check_allowed("PUT", path)


@pytest.mark.parametrize("path", ["/api/dataentities/../oms/pvt/orders/1-01/cancel", "/api/do/notes/.."])
def test_dot_segments_are_refused(path: str) -> None:
    with pytest.raises(ForbiddenEndpoint):
        check_allowed("GET", path)


# -- bad configuration: one line, exit 2 --------------------------------------------------------------------------
def _cli(tmp_path: Path, **env: str) -> CliResult:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    base.update(HOME=str(tmp_path), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    full = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "vtexappkey-acme-K", "VTEX_APP_TOKEN": "T0KEN", **env}
    return run_cli(["quote", "1306331686122-01"], {**base, **full}, tmp_path)


@pytest.mark.parametrize(
    "env",
    [
        {"VTEX_BASE_URL": "http://127.0.0.1:abc"},
        {"VTEX_BASE_URL": "http://[::1"},
        {"VTEX_BASE_URL": "http://127.0.0.1:8765/x y"},
        {"VTEX_APP_KEY": "vtexappkey-acmé-K"},
        {"VTEX_APP_TOKEN": "TOKÉN-secret-value"},
        {"REFUNDKIT_CALL_DEADLINE_S": "soon"},
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    proc = _cli(tmp_path, **env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refundkit: "), proc.stderr
    assert "TOKÉN" not in proc.stderr and "secret-value" not in proc.stderr


# -- the error tree ------------------------------------------------------------------------------------------------
def test_amount_and_currency_errors_are_refundkit_errors() -> None:
    with pytest.raises(RefundkitError) as err:
        parse_amount("1.2.3", "BRL")
    assert isinstance(err.value, (AmountError, InputError, ValueError))
    with pytest.raises(RefundkitError) as err2:
        _ = Money(1, "BRL") + Money(1, "USD")
    assert isinstance(err2.value, (CurrencyMismatch, ValueError))


# -- retries, caps and the deadline ---------------------------------------------------------------------------------
def status(code: int, **headers: str) -> httpx.Response:
    return json_response(code, {"error": {"code": "X", "message": f"status {code}"}}, headers)


def test_408_is_retried() -> None:
    rec = Recorder([status(408), status(408), json_response(200, {"ok": True})])
    with make_transport(rec) as t:
        assert t.json("GET", ORDERS) == {"ok": True}
    assert len(rec.requests) == 3


def test_a_persistent_408_ends_as_a_server_error() -> None:
    rec = Recorder([status(408)])
    policy = RetryPolicy(attempts=3, wait_initial=0.01, wait_max=0.01)
    with make_transport(rec, retry=policy) as t, pytest.raises(ServerError):
        t.json("GET", ORDERS)


def _timed(rec: Recorder, waits: Waits, settings: Settings, retry: RetryPolicy | None = None) -> Transport:
    """A transport whose deadline clock, limiter and back-off all run on ``waits.clock``."""
    return Transport(
        settings,
        http_transport=rec.transport,
        retry=retry or RetryPolicy.fast(),
        limiter_factory=fast_limiter(waits.clock),
        sleep=waits.sleep,
        clock=waits.clock,
    )


def test_a_huge_retry_after_is_capped() -> None:
    clock = FakeClock()
    waits = Waits(clock)
    rec = Recorder([status(429, **{"Retry-After": "86400"}), json_response(200, {"ok": True})])
    settings = make_settings(max_retry_after_s=30.0)
    with _timed(rec, waits, settings) as t:
        start = clock()
        assert t.json("GET", "/api/dataentities/E1/search") == {"ok": True}
        assert clock() - start <= 31.0
    assert waits.transport == [30.0]


def test_every_call_has_an_overall_deadline() -> None:
    clock = FakeClock()
    waits = Waits(clock)
    rec = Recorder([status(429, **{"Retry-After": "60"})])
    settings = make_settings(call_deadline_s=200.0)
    with _timed(rec, waits, settings, RetryPolicy(attempts=50)) as t:
        with pytest.raises(DeadlineExceeded) as err:
            t.json("GET", ORDERS)
        assert clock() <= 200.0
    assert len(rec.requests) == 4  # 0, 60, 120, 180 s: a fifth would start after the deadline
    assert "REFUNDKIT_CALL_DEADLINE_S" in str(err.value)


def test_the_deadline_is_configurable() -> None:
    s = load_settings(env={"REFUNDKIT_CALL_DEADLINE_S": "45", "REFUNDKIT_MAX_RETRY_AFTER_S": "10"}, env_file=False)
    assert (s.call_deadline_s, s.max_retry_after_s) == (45.0, 10.0)
    with pytest.raises(ConfigError):
        load_settings(env={"REFUNDKIT_CALL_DEADLINE_S": "-1"}, env_file=False)


# -- payments: GET of a transaction, nothing else -----------------------------------------------------------------
def _spec_paths(name: str) -> list[tuple[str, str]]:
    spec = json.loads((SPECS / name).read_text(encoding="utf-8"))
    out = []
    for path, ops in spec["paths"].items():
        concrete = path
        for param in ("transactionId", "paymentId", "orderId", "invoiceNumber", "changeOrderId", "cardId"):
            concrete = concrete.replace("{" + param + "}", "X1")
        concrete = concrete.replace("{", "").replace("}", "")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method.lower() in ops or method != "GET":
                out.append((method, concrete))
    return out


@pytest.mark.contract
def test_no_request_other_than_get_can_reach_any_payments_path() -> None:
    paths = _spec_paths("payments-gateway.json")
    assert len(paths) > 50
    for method, path in paths:
        if method == "GET" and path == "/api/pvt/transactions/X1":
            check_allowed(method, path)
            continue
        with pytest.raises(ForbiddenEndpoint):
            check_allowed(method, path)
        for variant in (path + "/", path.upper()):
            with pytest.raises(ForbiddenEndpoint):
                check_allowed(method, variant)


@pytest.mark.contract
def test_the_oms_invoice_cancel_and_change_endpoints_stay_unreachable() -> None:
    reachable = [
        (m, p) for m, p in _spec_paths("orders.json") if _allowed(m, p) and p.startswith(("/api/oms", "/api/order"))
    ]
    # reading one order, the list, and the orders of one order group (which share a payment transaction)
    assert set(reachable) <= {
        ("GET", "/api/oms/pvt/orders/X1"),
        ("GET", "/api/oms/pvt/orders"),
        ("GET", "/api/oms/pvt/orders/order-group/orderGroup"),
    }


def _allowed(method: str, path: str) -> bool:
    try:
        check_allowed(method, path)
    except ForbiddenEndpoint:
        return False
    return True


# -- the PII data architecture's Orders API: its two reads, nothing else ----------------------------------------------
#: Every operation of VTEX's "Orders API - PII data architecture" (VTEX - Orders API PII version.json in
#: vtex/openapi-schemas; not among the specs in ../shared), order and payment ids made concrete.
PII_SPEC_OPERATIONS = [
    ("GET", "/api/orders/pvt/document/X1"),  # Get order: read
    ("POST", "/api/orders/extendsearch/orders"),  # List orders: a POST that only reads
    ("POST", "/api/orders/pvt/document/X1/actions/start-handling"),
    ("POST", "/api/orders/pvt/document/X1/cancel"),
    ("POST", "/api/orders/pvt/document/X1/invoices"),
    ("POST", "/api/orders/pvt/document/X1/payment/X1/notify-payment"),
]
PII_READS = PII_SPEC_OPERATIONS[:2]


def test_only_the_two_reads_of_the_pii_orders_api_are_reachable() -> None:
    paths = {p for _, p in PII_SPEC_OPERATIONS}
    reachable = [(m, p) for p in sorted(paths) for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if _allowed(m, p)]
    assert sorted(reachable) == sorted(PII_READS)
    for method, path in PII_READS:  # exactly those: no trailing slash, other case, extra segment or dot segment
        for variant in (path + "/", path.upper(), path + "/X2", path + "/.."):
            assert not _allowed(method, variant), variant


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/extendsearch",
        "/api/orders/extendsearch/orders/X1",
        "/api/orders/extendsearch/orders/../../pvt/document/X1/cancel",
        "/api/orders/extendsearch/orders%2F..%2F..%2Fpvt%2Fdocument%2FX1%2Fcancel",
        "/api/orders/pvt/document/X1",
        "/api/orders/pvt/document",
        "/api/oms/pvt/orders",
        "/api/oms/pvt/orders/X1",
        "/api/order-system/orders/X1/changes",
        "/api/orders/pvt/document/X1/change-summary",
    ],
)
def test_no_other_post_under_the_orders_apis_is_allowed(path: str) -> None:
    assert not _allowed("POST", path)


def test_the_allowlist_holds_exactly_two_posts_each_on_one_literal_path() -> None:
    """A POST can only create a note or search the PII order list: neither pattern has a wildcard segment, so
    neither can ever be widened to another path by an id."""
    posts = sorted(pattern.pattern for method, pattern in ALLOWED if method == "POST")
    assert posts == [r"^/api/do/notes$", r"^/api/orders/extendsearch/orders$"]
    orders_writes = [
        p.pattern for m, p in ALLOWED if m != "GET" and p.pattern.startswith(("^/api/orders", "^/api/oms"))
    ]
    assert orders_writes == [r"^/api/orders/extendsearch/orders$"]


@pytest.mark.contract
def test_no_path_of_the_orders_spec_under_api_orders_is_reachable_but_by_a_read() -> None:
    reachable = [(m, p) for m, p in _spec_paths("orders.json") if _allowed(m, p) and p.startswith("/api/orders/")]
    assert reachable == []  # orders.json documents no PII read; its /api/orders/pvt/document/{id}/... are refused


# -- the token echoed into a 200 answer ---------------------------------------------------------------------------
LONG_TOKEN = "Q7ZK2M9XW4PL8RT3VB6NC1HY5DJ0FG2SA7EU4KO9IM3XQ8LT6WZ1PB5RN2CV7HY0DJ4FG9SA3EU6KO1IM8XQ5LT2WZ7PB0RN4"


def _pieces(text: str, token: str) -> list[str]:
    low = text.lower()
    return [token[i : i + 8] for i in range(len(token) - 7) if token[i : i + 8].lower() in low]


@pytest.mark.parametrize("token", [TOKEN, LONG_TOKEN])
@pytest.mark.parametrize(
    "echo",
    [
        "X-VTEX-API-AppToken: {t}",
        "{t}",
        "apptoken={q}",
        "cut here {t}",
        "a fragment {t3}",
        '{{"x-vtex-api-apptoken": "{t}"}}',
    ],
)
def test_a_200_answer_that_echoes_the_token_is_read_without_it(token: str, echo: str) -> None:
    text = echo.format(t=token, q=quote(token, safe=""), t3=token[3:20])
    row = {"orderId": "1-01", "clientName": text, "totalValue": text, "status": text[:40], "currencyCode": "BRL"}
    body = {"list": [row], "paging": {"total": 1}, "value": text}
    settings = make_settings(app_token=Secret(token))
    with make_transport(Recorder([json_response(200, body)]), settings=settings) as t:
        answer = t.json("GET", ORDERS)
    assert _pieces(json.dumps(answer), token) == []
    assert answer["list"][0]["orderId"] == "1-01" and answer["paging"] == {"total": 1}  # the rest is as sent


def test_an_answer_without_the_token_is_passed_on_as_it_came() -> None:
    body = {"list": [{"orderId": "1-01", "clientName": "TOKEN-m", "note": "ver-lea"}], "paging": {"total": 1}}
    response = json_response(200, body)
    with make_transport(Recorder([response])) as t:
        assert t.request("GET", ORDERS) is not None
        assert t.json("GET", ORDERS) == body  # pieces shorter than 8 characters are not the token


def test_orders_echoing_the_token_are_set_aside_and_refused_without_it(sandbox_factory) -> None:
    """Through the API, on the sandbox playing a server that echoes the request headers into orders."""
    import refundkit
    from refundkit.errors import BadResponse
    from refundkit.timeutil import parse_instant
    from refundkit.vtex.oms import ListReport

    served = sandbox_factory(app_token=LONG_TOKEN, echo_headers=True)
    oid = served.sb.store.orders[3].order_id
    with refundkit.connect(settings=served.settings()) as rk:
        with pytest.raises(BadResponse) as err:
            rk.client.orders.get(oid)
        assert "value" in str(err.value) and _pieces(str(err.value), LONG_TOKEN) == []
        report = ListReport()
        start, end = parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-03-03T00:00:00Z")
        assert rk.client.orders.list(start, end, report=report) == []
        assert report.set_aside_count > 0
        shown = " ".join([*report.set_aside.values(), *report.warnings()])
        assert "totalValue" in shown and _pieces(shown, LONG_TOKEN) == []
        got = rk.client.orders.get_many([oid], report=report)
        assert got == {} and _pieces(report.set_aside[oid], LONG_TOKEN) == []


def test_pieces_of_the_token_that_are_public_anyway_leave_an_answer_alone() -> None:
    """The sandbox's public token holds its account's name, which payments carry as merchantName."""
    from refundkit.sandbox.config import DEMO_ACCOUNT, DEMO_APP_KEY, DEMO_APP_TOKEN
    from refundkit.vtex.transport import AnswerScrubber

    scrubber = AnswerScrubber(DEMO_APP_TOKEN, public=(DEMO_ACCOUNT, DEMO_APP_KEY))
    assert not scrubber.holds_token(b'{"merchantName": "REFUNDKITDEMO", "id": "07D72FE1587E5881B6F777B2534E1E6C"}')
    assert scrubber.holds_token(f'{{"value": "{DEMO_APP_TOKEN}"}}'.encode())


def test_the_sandboxs_public_token_masks_nothing_a_message_names() -> None:
    """Redaction takes any 8 characters of the token in a row for it: the demo token must share no such run with
    what refundkit's messages name (its schemas, the demo account and key), or every such message reads ****."""
    from refundkit.sandbox.config import DEMO_ACCOUNT, DEMO_APP_KEY, DEMO_APP_TOKEN
    from refundkit.vtex.transport import redact

    message = (
        f"Schema 'refundkit-v1' not found on {DEMO_ACCOUNT}: save it with PUT /schemas/refundkit-v1 "
        f"({DEMO_APP_KEY}, user-agent refundkit/0.1, refundkitScratch, refundkit-doctor)"
    )
    assert redact(message, DEMO_APP_TOKEN) == message
    assert "****" in redact(f"echoed {DEMO_APP_TOKEN[5:20]}", DEMO_APP_TOKEN)
