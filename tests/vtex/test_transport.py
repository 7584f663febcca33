"""Transport: retries and back-off, Retry-After, what is never retried, error mapping, the allowlist, no token leaks.

Every test runs against ``httpx.MockTransport``; waits go to a fake clock, so nothing here sleeps for real.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from refundkit.errors import (
    AuthenticationError,
    BadResponse,
    ForbiddenEndpoint,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    VtexError,
)
from refundkit.vtex import VtexClient
from refundkit.vtex.notes import Notes
from refundkit.vtex.oms import Orders
from refundkit.vtex.transport import RetryPolicy, Transport, check_allowed, parse_retry_after

from .fakes import BASE, TOKEN, FakeClock, Recorder, Waits, fast_limiter, json_response, make_settings, make_transport

ORDERS = "/api/oms/pvt/orders"
NOTE_BODY = {
    "target": {"id": "1-01", "type": "order", "url": "/orders/1-01"},
    "domain": "oms",
    "description": "refunded",
}
NOTE_OK = {
    "id": "note-1",
    "target": {"id": "1-01", "type": "order"},
    "description": "refunded",
    "creationDate": "2026-03-01T12:00:00.0000000+00:00",
}


def ok(body: object = None) -> httpx.Response:
    return json_response(200, {"ok": True} if body is None else body)


def status(code: int, **headers: str) -> httpx.Response:
    return json_response(code, {"error": {"code": "X", "message": f"status {code}"}}, headers)


@pytest.fixture
def waits() -> Waits:
    return Waits(FakeClock())


# -- retries ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [429, 502, 503, 504])
def test_get_is_retried_after_a_retryable_status(code: int, waits: Waits) -> None:
    rec = Recorder([status(code), status(code), ok()])
    with make_transport(rec, waits=waits) as t:
        assert t.json("GET", ORDERS) == {"ok": True}
        assert t.calls == 3
    assert len(rec.requests) == 3
    assert len(waits.transport) == 2


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError]
)
def test_get_is_retried_after_a_connection_problem(exc: type[httpx.TransportError], waits: Waits) -> None:
    rec = Recorder([exc, exc, ok()])
    with make_transport(rec, waits=waits) as t:
        assert t.json("GET", ORDERS) == {"ok": True}
    assert len(rec.requests) == 3


def test_back_off_grows_exponentially_with_jitter_and_is_capped(waits: Waits) -> None:
    policy = RetryPolicy(attempts=6, wait_initial=1.0, wait_max=4.0)
    rec = Recorder([status(503)] * 5 + [ok()])
    with make_transport(rec, waits=waits, retry=policy) as t:
        t.json("GET", ORDERS)
    caps = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(waits.transport) == 5
    for wait, cap in zip(waits.transport, caps, strict=True):
        assert cap / 2 <= wait <= cap


def test_gives_up_after_the_policy_attempts_with_server_error(waits: Waits) -> None:
    rec = Recorder([status(503)])
    with (
        make_transport(rec, waits=waits, retry=RetryPolicy(attempts=4, wait_initial=0.01, wait_max=0.01)) as t,
        pytest.raises(ServerError) as err,
    ):
        t.json("GET", ORDERS)
    assert len(rec.requests) == 4
    assert err.value.status == 503
    assert "503" in str(err.value) and f"GET {ORDERS}" in str(err.value)


def test_persistent_429_ends_as_rate_limited_with_retry_after(waits: Waits) -> None:
    rec = Recorder([status(429, **{"Retry-After": "2"})])
    with make_transport(rec, waits=waits, retry=RetryPolicy(attempts=3)) as t, pytest.raises(RateLimited) as err:
        t.json("GET", ORDERS)
    assert err.value.retry_after == 2.0
    assert waits.transport == [2.0, 2.0]
    assert "wait" in str(err.value)


def test_persistent_connection_failure_ends_as_network_error(waits: Waits) -> None:
    rec = Recorder([httpx.ConnectError])
    with make_transport(rec, waits=waits, retry=RetryPolicy(attempts=3)) as t, pytest.raises(NetworkError) as err:
        t.json("GET", ORDERS)
    assert len(rec.requests) == 3
    assert "acme.vtexcommercestable.com.br" in str(err.value)
    assert "VTEX_ACCOUNT_NAME" in str(err.value)


def test_a_host_that_refuses_connections_is_given_up_on_after_three_tries(waits: Waits) -> None:
    # a closed port or a misspelt host does not come back in a minute; say so in about a second instead
    rec = Recorder([httpx.ConnectError])
    with (
        make_transport(rec, waits=waits, retry=RetryPolicy(attempts=8, wait_initial=0.5, wait_max=30.0)) as t,
        pytest.raises(NetworkError),
    ):
        t.json("GET", ORDERS)
    assert len(rec.requests) == 3
    assert sum(waits.transport) <= 1.5


# -- Retry-After ----------------------------------------------------------------------------------------------------
def test_retry_after_in_seconds_is_waited_exactly(waits: Waits) -> None:
    rec = Recorder([status(429, **{"Retry-After": "7"}), status(429, **{"Retry-After": "0.5"}), ok()])
    with make_transport(rec, waits=waits) as t:
        t.json("GET", ORDERS)
    assert waits.transport == [7.0, 0.5]


def test_retry_after_as_an_http_date_is_waited_until_that_date(waits: Waits) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120)
    rec = Recorder([status(429, **{"Retry-After": format_datetime(when, usegmt=True)}), ok()])
    with make_transport(rec, waits=waits) as t:
        t.json("GET", ORDERS)
    assert len(waits.transport) == 1
    assert 117.0 <= waits.transport[0] <= 120.0


def test_retry_after_pauses_the_limiter_so_the_retry_goes_after_it(waits: Waits) -> None:
    clock = waits.clock
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock())
        return status(429, **{"Retry-After": "30"}) if len(sent_at) == 1 else ok()

    with make_transport(Recorder(handler), waits=waits) as t:
        t.json("GET", ORDERS)
        assert t.limiter().throttled == 1
    assert sent_at[1] - sent_at[0] >= 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 10 ", 10.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("1.5", 1.5),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_delta_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_against_a_given_now() -> None:
    assert (
        parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now=datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()) == 30.0
    )
    assert (
        parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()) == 0.0
    )


def test_429_without_retry_after_backs_off_and_pauses_the_limiter(waits: Waits) -> None:
    rec = Recorder([status(429), ok()])
    md = "/api/dataentities/E1/search"
    with make_transport(rec, waits=waits, retry=RetryPolicy(attempts=3, wait_initial=0.2, wait_max=0.2)) as t:
        start = waits.clock()
        t.json("GET", md)
        # the limiter's own pause (1 s) holds the retry back even though the back-off was shorter
        assert waits.clock() - start >= 1.0
    assert 0.1 <= waits.transport[0] <= 0.2


def test_an_oms_429_without_retry_after_waits_about_a_minute_as_vtex_advises(waits: Waits) -> None:
    rec = Recorder([status(429), ok()])
    with make_transport(rec, waits=waits, retry=RetryPolicy(attempts=3, wait_initial=0.2, wait_max=0.2)) as t:
        start = waits.clock()
        t.json("GET", ORDERS)
        assert waits.clock() - start >= 60.0  # every sender paused, not only this request
    assert waits.transport == [60.0]


# -- requests that are not idempotent -------------------------------------------------------------------------------
def _post_note(t: Transport) -> object:
    return t.json("POST", "/api/do/notes", json=NOTE_BODY, idempotent=False)


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_post_is_not_retried_after_a_server_error(code: int, waits: Waits) -> None:
    rec = Recorder([status(code), json_response(201, NOTE_OK)])
    with make_transport(rec, waits=waits) as t, pytest.raises(ServerError):
        _post_note(t)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_post_is_not_retried_after_the_answer_was_lost(exc: type[httpx.TransportError], waits: Waits) -> None:
    rec = Recorder([exc, json_response(201, NOTE_OK)])
    with make_transport(rec, waits=waits) as t, pytest.raises(NetworkError) as err:
        _post_note(t)
    assert len(rec.requests) == 1
    assert "no answer" in str(err.value)


def test_post_is_retried_after_429(waits: Waits) -> None:
    rec = Recorder([status(429, **{"Retry-After": "1"}), json_response(201, NOTE_OK)])
    with make_transport(rec, waits=waits) as t:
        assert _post_note(t) == NOTE_OK
    assert len(rec.requests) == 2
    assert waits.transport == [1.0]


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
def test_post_is_retried_when_it_never_left(exc: type[httpx.TransportError], waits: Waits) -> None:
    rec = Recorder([exc, json_response(201, NOTE_OK)])
    with make_transport(rec, waits=waits) as t:
        assert _post_note(t) == NOTE_OK
    assert len(rec.requests) == 2


def test_notes_create_sends_one_post_when_vtex_fails(waits: Waits) -> None:
    rec = Recorder([status(502)])
    with make_transport(rec, waits=waits) as t, pytest.raises(ServerError):
        Notes(t).create("1-01", "refunded")
    assert [r.method for r in rec.requests] == ["POST"]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_get_and_put_count_as_idempotent(method: str, waits: Waits) -> None:
    path = ORDERS if method == "GET" else "/api/dataentities/offlineRefund/documents/abc"
    rec = Recorder([status(502), httpx.ReadTimeout, ok()])
    with make_transport(rec, waits=waits) as t:
        t.request(method, path, json={} if method == "PUT" else None)
    assert len(rec.requests) == 3


def test_a_post_is_retried_after_a_5xx_only_when_the_caller_says_it_is_idempotent(waits: Waits) -> None:
    path = "/api/do/notes"
    rec = Recorder([status(502), status(502), ok()])
    with make_transport(rec, waits=waits) as t:
        with pytest.raises(ServerError):
            t.request("POST", path, json={"a": 1})
        assert len(rec.requests) == 1
        t.request("POST", path, json={"a": 1}, idempotent=True)
    assert len(rec.requests) == 3


# -- error mapping ----------------------------------------------------------------------------------------------------
def test_401_says_to_check_the_app_key_and_token(waits: Waits) -> None:
    rec = Recorder([json_response(401, {"Message": "Unauthorized"})])
    with make_transport(rec, waits=waits) as t, pytest.raises(AuthenticationError) as err:
        t.json("GET", ORDERS)
    assert len(rec.requests) == 1  # credentials do not get better by retrying
    msg = str(err.value)
    assert "VTEX_APP_KEY" in msg and "VTEX_APP_TOKEN" in msg
    assert err.value.status == 401 and err.value.request == f"GET {ORDERS}"


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("GET", ORDERS, "List Orders"),
        ("GET", f"{ORDERS}/1306331686122-01", "View order"),
        ("GET", "/api/dataentities/offlineRefund/search", "Read only documents"),
        ("GET", "/api/dataentities/offlineRefund/scroll", "Read only documents"),
        ("PUT", "/api/dataentities/offlineRefund/documents/x1", "Insert or update document"),
        ("PUT", "/api/dataentities/offlineRefund/schemas/v1", "Master Data administrator"),
    ],
)
def test_403_names_the_license_manager_resource(method: str, path: str, resource: str, waits: Waits) -> None:
    rec = Recorder([json_response(403, {"Message": "Access denied"})])
    with make_transport(rec, waits=waits) as t, pytest.raises(PermissionDenied) as err:
        t.request(method, path, json={} if method == "PUT" else None)
    msg = str(err.value)
    assert resource in msg and "License Manager" in msg and "Access denied" in msg
    assert len(rec.requests) == 1


def test_404_is_not_found_or_none_when_tolerated(waits: Waits) -> None:
    rec = Recorder([json_response(404, {"error": {"code": "OMS004", "message": "Order not found"}})])
    with make_transport(rec, waits=waits) as t:
        with pytest.raises(NotFound) as err:
            t.json("GET", f"{ORDERS}/1-01")
        assert "Order not found" in str(err.value)
        assert t.json("GET", f"{ORDERS}/1-01", not_found_ok=True) is None
    assert len(rec.requests) == 2


def test_orders_get_of_an_unknown_order_is_not_found_naming_it(waits: Waits) -> None:
    rec = Recorder([json_response(404, {"error": {"code": "OMS004", "message": "Order not found"}})])
    with make_transport(rec, waits=waits) as t, pytest.raises(NotFound, match="1306331686122-01"):
        Orders(t).get("1306331686122-01")


def test_unexpected_4xx_is_bad_response_with_vtex_message(waits: Waits) -> None:
    rec = Recorder([json_response(400, {"error": {"code": "OMS002", "message": "bad date"}})])
    with make_transport(rec, waits=waits) as t, pytest.raises(BadResponse, match="bad date"):
        t.json("GET", ORDERS)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b'{"list": [', b"\xff\xfe"])
def test_unreadable_json_is_bad_response(body: bytes, waits: Waits) -> None:
    rec = Recorder([httpx.Response(200, content=body)])
    with make_transport(rec, waits=waits) as t, pytest.raises(BadResponse, match="not JSON"):
        t.json("GET", ORDERS)


def test_empty_answers_are_none(waits: Waits) -> None:
    rec = Recorder([httpx.Response(204)])
    with make_transport(rec, waits=waits) as t:
        assert t.json("PUT", "/api/dataentities/offlineRefund/documents/x1", json={}) is None


def test_every_error_is_a_vtex_error_with_one_line_message(waits: Waits) -> None:
    for code in (400, 401, 403, 404, 500):
        rec = Recorder([json_response(code, {"Message": "line one\nline two" if code == 400 else "x"})])
        with (
            make_transport(rec, waits=waits, retry=RetryPolicy(attempts=1)) as t,
            pytest.raises(VtexError) as err,
        ):
            t.json("GET", ORDERS)
        assert err.value.status == code


# -- allowlist: nothing that moves money leaves the process ----------------------------------------------------------
MONEY_MOVING = [
    ("POST", f"{ORDERS}/1306331686122-01/invoice"),  # an invoice of type Input is a refund
    ("PATCH", f"{ORDERS}/1306331686122-01/invoice/NF-1"),
    ("POST", f"{ORDERS}/1306331686122-01/cancel"),
    ("POST", f"{ORDERS}/1306331686122-01/changes"),
    ("PATCH", "/api/order-system/orders/1306331686122-01/changes"),
    ("POST", f"{ORDERS}/1306331686122-01/start-handling"),
    ("POST", "/api/pvt/transactions/ABC123/refunding-request"),
    ("POST", "/api/pvt/transactions/ABC123/cancellation-request"),
    ("POST", "/api/pvt/transactions/ABC123/settlement-request"),
    ("POST", "/api/payments/pvt/transactions/ABC123/refunding-request"),
    ("DELETE", "/api/dataentities/offlineRefund/documents/abc"),
    ("DELETE", "/api/dataentities/offlineRefund/schemas/v1"),
    ("POST", "/api/dataentities/offlineRefund/documents"),  # only deterministic-id PUTs are allowed
    ("GET", "/api/pvt/transactions/ABC123/refunds"),  # Payments: only GET of a transaction itself is listed
    ("PUT", "/api/pvt/transactions/ABC123"),
    ("POST", ORDERS),
    ("GET", "/api/oms/pvt/orders/1306331686122-01/cancel"),
    ("DELETE", "/api/do/notes/n1"),
]


@pytest.mark.parametrize(("method", "path"), MONEY_MOVING)
def test_money_moving_requests_are_refused_before_anything_is_sent(method: str, path: str, waits: Waits) -> None:
    rec = Recorder([ok()])
    with make_transport(rec, waits=waits) as t:
        with pytest.raises(ForbiddenEndpoint) as err:
            t.request(method, path, json={"type": "Input", "invoiceValue": 1000})
        assert t.calls == 0
    assert rec.requests == []
    assert "never refund, cancel or invoice" in str(err.value)
    assert err.value.request == f"{method} {path}"


@pytest.mark.parametrize("method", ["post", "Post", "POST"])
def test_allowlist_ignores_method_case(method: str) -> None:
    with pytest.raises(ForbiddenEndpoint):
        check_allowed(method, f"{ORDERS}/1-01/invoice")
    check_allowed(method, "/api/do/notes")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ORDERS),
        ("GET", f"{ORDERS}/1-01"),
        ("GET", "/api/do/notes"),
        ("POST", "/api/do/notes"),
        ("GET", "/api/dataentities/E1/documents/d1"),
        ("PUT", "/api/dataentities/E1/documents/d1"),
        ("GET", "/api/dataentities/E1/search"),
        ("GET", "/api/dataentities/E1/scroll"),
        ("PUT", "/api/dataentities/E1/schemas/v1"),
        ("GET", "/api/pvt/transactions/T1"),
    ],
)
def test_the_calls_refundkit_needs_are_allowed(method: str, path: str) -> None:
    check_allowed(method, path)


def test_the_allowlist_is_checked_before_the_limiter_and_the_network() -> None:
    clock = FakeClock()
    t = Transport(
        make_settings(),
        http_transport=httpx.MockTransport(lambda r: pytest.fail("sent")),
        limiter_factory=fast_limiter(clock),
        sleep=clock.sleep,
    )
    with t:
        with pytest.raises(ForbiddenEndpoint):
            t.request("POST", "/api/pvt/transactions/T1/refunding-request", json={"value": 100})
        assert t.calls == 0


# -- the token never shows ---------------------------------------------------------------------------------------------
def test_the_token_is_sent_in_the_header_and_nowhere_else(waits: Waits) -> None:
    rec = Recorder([ok()])
    with make_transport(rec, waits=waits) as t:
        t.json("GET", ORDERS, params={"page": "1"})
    req = rec.requests[0]
    assert req.headers["X-VTEX-API-AppToken"] == TOKEN
    assert TOKEN not in str(req.url)
    assert req.url.host == "acme.vtexcommercestable.com.br"


def _echo_token(code: int) -> Recorder:
    # a server that echoes the credentials it got in its error body (as some proxies and debug pages do)
    def handler(request: httpx.Request) -> httpx.Response:
        got = request.headers.get("X-VTEX-API-AppToken")
        return httpx.Response(
            code,
            content=json.dumps({"Message": f"token {got} rejected"}).encode(),
            headers={"Content-Type": "application/json", "X-Echo-Token": got or ""},
        )

    return Recorder(handler)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 429, 500, 503])
def test_the_token_never_appears_in_errors_or_logs(code: int, waits: Waits, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    for name in ("refundkit", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        rec = _echo_token(code)
        with make_transport(rec, waits=waits, retry=RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01)) as t:
            with pytest.raises(VtexError) as err:
                t.json("GET", ORDERS)
            texts = [
                str(err.value),
                repr(err.value),
                *map(str, err.value.args),
                repr(t),
                str(t),
                repr(t.settings),
                str(t.settings),
                f"{t.settings}",
                err.value.request or "",
            ]
    finally:
        for name in ("refundkit", "httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert rec.requests, "the scenario must reach the server"
    assert caplog.records, "logging must have been captured"
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    for text in texts:
        assert TOKEN not in text


def test_the_token_never_appears_in_client_or_settings_repr() -> None:
    with VtexClient(make_settings(base_url="http://127.0.0.1:1")) as client:
        for text in (repr(client), repr(client.transport), repr(client.settings), str(client.settings)):
            assert TOKEN not in text
        assert "****" in repr(client.settings)


def test_network_errors_do_not_show_the_token(waits: Waits, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder([httpx.ConnectError(f"refused while sending {TOKEN}")])
    with (
        make_transport(rec, waits=waits, retry=RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01)) as t,
        pytest.raises(NetworkError) as err,
    ):
        t.json("GET", ORDERS)
    assert TOKEN not in str(err.value)
    assert err.value.__suppress_context__  # the chained httpx error is not printed with it
    assert TOKEN not in caplog.text


def test_missing_credentials_refuse_to_build_a_transport() -> None:
    from refundkit.config import Settings
    from refundkit.errors import ConfigError

    with pytest.raises(ConfigError, match="VTEX_APP_TOKEN"):
        Transport(Settings(account="acme", app_key="k"))


def test_base_url_replaces_the_vtex_host(waits: Waits) -> None:
    rec = Recorder([ok()])
    t = Transport(
        make_settings(base_url="http://127.0.0.1:9999/"),
        http_transport=rec.transport,
        limiter_factory=fast_limiter(waits.clock),
        sleep=waits.sleep,
    )
    with t:
        t.json("GET", ORDERS)
    assert str(rec.requests[0].url).startswith("http://127.0.0.1:9999/api/oms/pvt/orders")
    assert BASE not in str(rec.requests[0].url)


def test_calls_count_every_attempt(waits: Waits) -> None:
    rec = Recorder([status(503), status(429), ok()])
    with make_transport(rec, waits=waits) as t:
        t.json("GET", ORDERS)
        assert t.calls == 3
        assert t.limiter().stats().in_flight == 0


def test_every_client_verifies_tls_with_one_shared_context() -> None:
    import ssl

    contexts = []
    for account in ("storeone", "storetwo"):
        with Transport(make_settings(account=account)) as transport:
            client, _ = transport._client_for(transport.base_url)
            pool = client._transport._pool  # type: ignore[attr-defined]  # httpx keeps the TLS context on its pool
            contexts.append(pool._ssl_context)
    assert contexts[0] is contexts[1]  # built once: loading the CA bundle costs every new client 16 ms otherwise
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname


def _rate_after_one_call(base_url: str, headers: dict[str, str]) -> float:
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json={}, headers=headers))
    with Transport(make_settings(base_url=base_url), http_transport=answer) as transport:
        transport.request("GET", "/api/oms/pvt/orders/1-01")
        return transport.limiter().rate


def test_only_the_sandbox_on_this_machine_lets_the_pacing_start_fast() -> None:
    from refundkit.config import SANDBOX_HEADER
    from refundkit.vtex.limiter import SANDBOX_RATE

    sandbox = {SANDBOX_HEADER: "1"}
    assert _rate_after_one_call("http://127.0.0.1:8765", sandbox) == SANDBOX_RATE + 1  # +1 per success
    # a proxy or tunnel on this machine in front of a real account: VTEX's cautious start (20/s, +1 per success)
    assert _rate_after_one_call("http://127.0.0.1:8765", {}) == 21.0
    # a remote server that claims to be the sandbox is paced as VTEX is
    assert _rate_after_one_call("https://mystore.vtexcommercestable.com.br", sandbox) == 21.0


def test_the_sandbox_is_told_by_its_answers_not_by_its_address() -> None:
    from refundkit.config import SANDBOX_HEADER

    def transport(base_url: str, headers: dict[str, str]) -> Transport:
        answer = httpx.MockTransport(lambda request: httpx.Response(200, json=[], headers=headers))
        return Transport(make_settings(base_url=base_url), http_transport=answer)

    with transport("http://127.0.0.1:8765", {SANDBOX_HEADER: "1"}) as t:
        assert t.is_sandbox() and t.calls == 1  # one read (the entity's schemas) to ask
        assert t.is_sandbox() and t.calls == 1  # then known
    with transport("http://127.0.0.1:8765", {}) as t:  # a proxy or tunnel to a real account
        assert not t.is_sandbox()
    with transport("https://mystore.vtexcommercestable.com.br", {SANDBOX_HEADER: "1"}) as t:
        assert not t.is_sandbox() and t.calls == 0  # not this machine: not asked at all


def test_a_read_only_transport_reads_and_refuses_every_write_before_sending_it() -> None:
    rec = Recorder([ok()])
    why = "bruno is signed in as a viewer"
    with make_transport(rec, read_only=why) as t:
        assert t.json("GET", ORDERS) == {"ok": True}
        for method, path in (("PUT", "/api/dataentities/offlineRefund/documents/x"), ("POST", "/api/do/notes")):
            with pytest.raises(ForbiddenEndpoint, match=f"^{why}; nothing was written"):
                t.request(method, path, json={})
    assert [r.method for r in rec.requests] == ["GET"]
