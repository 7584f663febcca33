"""The HTTP layer: rate limit, random errors, injected faults, tripwires, keep-alive, several servers, run_forever."""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from refundkit.sandbox import DROP, FaultRule, Request, Sandbox, SandboxConfig
from refundkit.sandbox import server as server_module
from refundkit.testing import ManualClock

from .conftest import auth_headers, served, small_config

DOC = "/api/dataentities/offlineRefund/documents"
ORDERS = "/api/oms/pvt/orders"


def test_handle_works_without_sockets():
    sb = Sandbox(small_config())
    req = Request("GET", ORDERS, {"per_page": "2"}, {k.lower(): v for k, v in auth_headers(sb).items()})
    resp = sb.handle(req)
    assert resp.status == 200 and len(resp.body["list"]) == 2
    status, _headers, body = sb.handle(Request("GET", ORDERS))
    assert status == 401 and "error" in body
    assert [r.status for r in sb.requests] == [200, 401]


def test_rate_limit_answers_429_with_retry_after_and_spends_no_token():
    clock = ManualClock()
    with served(small_config(rate_limit=5), clock=clock) as (_sb, _srv, c):
        statuses = [c.get(ORDERS).status_code for _ in range(5)]
        assert statuses == [200] * 5
        r = c.get(ORDERS)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert "error" in r.json()
        for _ in range(5):  # refused requests take no token
            assert c.get(ORDERS).status_code == 429
        clock.advance(0.25)  # 5/s: one token back
        assert c.get(ORDERS).status_code == 200
        assert c.get(ORDERS).status_code == 429


def test_429_is_not_delayed_by_latency():
    with served(small_config(rate_limit=1, latency_ms=300)) as (_sb, _srv, c):
        start = time.monotonic()
        assert c.get(ORDERS).status_code == 200
        assert time.monotonic() - start >= 0.3
        start = time.monotonic()
        r = c.get(ORDERS)
        assert r.status_code == 429 and time.monotonic() - start < 0.2


def test_latency_is_mutable_at_runtime():
    with served(small_config()) as (sb, _srv, c):
        start = time.monotonic()
        c.get(ORDERS)
        fast = time.monotonic() - start
        sb.config.latency_ms = 150
        start = time.monotonic()
        c.get(ORDERS)
        assert time.monotonic() - start >= 0.15 > fast


def test_error_rate_one_fails_everything_before_the_operation():
    with served(small_config(error_rate=1.0)) as (sb, _srv, c):
        statuses = {c.put(f"{DOC}/e{i}", json={"a": i}).status_code for i in range(30)}
        assert statuses <= {500, 502, 503, 504} and len(statuses) > 1
        sb.config.error_rate = 0.0
        assert c.get(f"{DOC}/e1").status_code == 404  # nothing was written


def test_fault_after_write_loses_the_answer_but_not_the_write():
    with served(small_config()) as (sb, _srv, c):
        sb.faults.add(
            FaultRule(method="PUT", path=r"^/api/dataentities/[^/]+/documents/", status=500, times=1, after_write=True)
        )
        r = c.put(f"{DOC}/w1", json={"amount": 1})
        assert r.status_code == 500
        assert c.get(f"{DOC}/w1", params={"_fields": "_all"}).json()["amount"] == 1
        assert c.put(f"{DOC}/w1", json={"amount": 2}).status_code == 204  # used up
        assert len(sb.faults) == 0


def test_fault_before_write_does_nothing():
    with served(small_config()) as (sb, _srv, c):
        sb.faults.add(FaultRule(method="PUT", path=r"/documents/", status=503, times=2))
        assert c.put(f"{DOC}/b1", json={"amount": 1}).status_code == 503
        assert c.get(f"{DOC}/b1").status_code == 404  # GET does not match the rule
        assert c.put(f"{DOC}/b1", json={"amount": 1}).status_code == 503
        assert c.put(f"{DOC}/b1", json={"amount": 1}).status_code == 204


def test_dropped_connection_after_write():
    with served(small_config()) as (sb, _srv, c):
        sb.faults.add(FaultRule(method="PATCH", path=r"/documents/d1$", after_write=True, drop_connection=True))
        with pytest.raises(httpx.RemoteProtocolError):
            c.patch(f"{DOC}/d1", json={"amount": 5})
        assert c.get(f"{DOC}/d1", params={"_fields": "amount"}).json() == {"amount": 5}
        assert sb.requests[0].status is None


def test_dropped_connection_before_write():
    with served(small_config()) as (sb, _srv, c):
        sb.faults.add(FaultRule(method="*", path=r"/documents/d2$", drop_connection=True))
        with pytest.raises(httpx.RemoteProtocolError):
            c.put(f"{DOC}/d2", json={"amount": 5})
        assert c.get(f"{DOC}/d2").status_code == 404


def test_slow_write_makes_the_client_time_out_after_the_write():
    with served(small_config()) as (sb, srv, c):
        sb.faults.add(FaultRule(method="PUT", path="/documents/", status=None, after_write=True, delay_s=1.0))
        with (
            httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=0.2) as impatient,
            pytest.raises(httpx.ReadTimeout),
        ):
            impatient.put(f"{DOC}/slow", json={"amount": 9})
        assert c.get(f"{DOC}/slow", params={"_fields": "amount"}).json() == {"amount": 9}
    # leaving the block stopped the server although a handler was still sleeping


def test_fault_rules_are_validated_and_thread_safe():
    with pytest.raises(ValueError, match="status=None must have after_write=True or drop_connection=True"):
        FaultRule(method="GET", path="x", status=None)
    sb = Sandbox(small_config())
    sb.faults.add(FaultRule(method="GET", path="^/x", times=50))
    taken = []

    def take() -> None:
        for _ in range(20):
            taken.append(sb.faults.take("GET", "/x"))

    pool = [threading.Thread(target=take) for _ in range(5)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sum(r is not None for r in taken) == 50


TRIPWIRES = [
    ("POST", "/api/oms/pvt/orders/1306331686122-01/invoice"),
    ("POST", "/api/oms/pvt/orders/1306331686122-01/cancel"),
    ("POST", "/api/oms/pvt/orders/1306331686122-01/changes"),
    ("PATCH", "/api/order-system/orders/1306331686122-01/changes"),
    ("POST", "/api/pvt/transactions/ABC123/refunding-request"),
    ("POST", "/api/pvt/transactions/ABC123/cancellation-request"),
    ("POST", "/api/pvt/transactions/ABC123/settlement-request"),
    # the Orders API of the PII data architecture
    ("POST", "/api/orders/pvt/document/1306331686122-01/invoices"),
    ("POST", "/api/orders/pvt/document/1306331686122-01/cancel"),
    ("POST", "/api/orders/pvt/document/1306331686122-01/actions/start-handling"),
    ("POST", "/api/orders/pvt/document/1306331686122-01/payment/ABC123/notify-payment"),
]


def test_money_moving_endpoints_are_refused_and_recorded():
    with served(small_config()) as (sb, srv, c):
        for method, path in TRIPWIRES:
            r = c.request(method, path, json={"value": 100})
            assert r.status_code == 403
            assert r.json() == {"error": {"code": "SANDBOX", "message": "refused: this endpoint moves money"}}
        httpx.post(srv.base_url + TRIPWIRES[0][1], json={})  # even without keys, the attempt is recorded
        assert [(r.method, r.path) for r in sb.money_moving_calls] == [*TRIPWIRES, TRIPWIRES[0]]
        assert [r.status for r in sb.money_moving_calls][-1] == 401
        assert c.get(ORDERS + "/1306331686122-01/invoice").status_code in (404, 405)
        sb.money_moving_calls.clear()


def test_unknown_routes_and_methods(md):
    _, c = md
    r = c.get("/api/nothing/here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json") and r.json()["error"]
    r = c.delete(ORDERS)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_keep_alive_reuses_one_connection(md):
    sb, c = md
    host, port = httpx.URL(str(c.base_url)).host, httpx.URL(str(c.base_url)).port
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", ORDERS + "?per_page=1", headers=auth_headers(sb))
        first = conn.getresponse()
        assert first.status == 200 and first.getheader("Content-Length")
        first.read()
        sock = conn.sock
        conn.request("PUT", DOC + "/k1", body=b'{"a": 1}', headers=auth_headers(sb))
        second = conn.getresponse()
        assert second.status == 204 and second.read() == b""
        conn.request("GET", DOC + "/k1", headers=auth_headers(sb))
        third = conn.getresponse()
        assert third.status == 200 and third.read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_several_sandboxes_at_once():
    with served(small_config(seed=1)) as (_a, srv_a, ca), served(small_config(seed=2)) as (_b, srv_b, cb):
        assert srv_a.port != srv_b.port
        ids_a = [o["orderId"] for o in ca.get(ORDERS).json()["list"]]
        ids_b = [o["orderId"] for o in cb.get(ORDERS).json()["list"]]
        assert ids_a != ids_b
        assert ca.put(f"{DOC}/only-a", json={"x": 1}).status_code == 204
        assert cb.get(f"{DOC}/only-a").status_code == 404


def test_stop_with_open_connections_joins_every_thread():
    before = threading.active_count()
    sb = Sandbox(small_config())
    srv = sb.serve()
    client = httpx.Client(base_url=srv.base_url, headers=auth_headers(sb))
    try:
        assert client.get(ORDERS).status_code == 200  # leaves a pooled keep-alive connection open
        srv.stop()
        srv.stop()  # twice is fine
    finally:
        client.close()
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_run_forever_prints_the_exports_and_stops_on_ctrl_c(monkeypatch):
    out = io.StringIO()
    seen: dict[str, object] = {}

    def fake_wait() -> None:
        lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("export "))
        url = lines["export VTEX_BASE_URL"]
        seen["status"] = httpx.get(
            url + ORDERS,
            headers={
                "X-VTEX-API-AppKey": lines["export VTEX_APP_KEY"],
                "X-VTEX-API-AppToken": lines["export VTEX_APP_TOKEN"],
            },
        ).status_code
        seen["account"] = lines["export VTEX_ACCOUNT_NAME"]
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module, "_wait_forever", fake_wait)
    server_module.run_forever(small_config(), port=0, out=out)
    assert seen == {"status": 200, "account": "refundkitdemo"}
    assert "stopped" in out.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_module_entry_point_exits_cleanly_on_sigint():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "refundkit.sandbox",
            *("--port", "0", "--orders", "50", "--flash-sale-orders", "0", "--memory"),
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        url = next(line.split("=", 1)[1].strip() for line in lines if line.startswith("export VTEX_BASE_URL"))
        r = httpx.get(url + ORDERS)
        assert r.status_code == 401
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert "stopped" in out


def test_both_entry_points_take_the_same_flags_with_the_same_defaults(tmp_path):
    """`refundkit sandbox` and `python -m refundkit.sandbox` share one definition of the sandbox's flags."""
    import argparse

    from refundkit.present.cli import build_parser
    from refundkit.sandbox.flags import add_sandbox_flags, config_from_args

    module = argparse.ArgumentParser()
    add_sandbox_flags(module)
    cli = build_parser()
    for argv in ([], ["--seed", "3", "--rate-limit", "5", "--memory"], ["--state-dir", str(tmp_path)]):
        a, b = module.parse_args(argv), cli.parse_args(["sandbox", *argv])
        assert config_from_args(a, cache_dir=tmp_path) == config_from_args(b, cache_dir=tmp_path)
    defaults = config_from_args(module.parse_args([]), cache_dir=tmp_path)
    assert defaults.search_lag_s == 2.0 and defaults.state_dir == tmp_path / "sandbox"


def test_drop_sentinel_is_exported():
    assert repr(DROP) == "DROP"
    assert SandboxConfig().app_token not in repr(SandboxConfig())


def test_every_answer_says_it_comes_from_the_sandbox():
    from refundkit.config import SANDBOX_HEADER

    sb = Sandbox(small_config())
    with sb.serve() as srv, httpx.Client(base_url=srv.base_url, headers=auth_headers(sb)) as client:
        assert client.get(ORDERS).headers[SANDBOX_HEADER] == "1"
        assert client.get("/api/oms/pvt/orders/no-such-order").headers[SANDBOX_HEADER] == "1"


def test_run_forever_serves_two_accounts_each_with_its_own_orders_and_a_file_for_both(monkeypatch, tmp_path):
    out = io.StringIO()
    seen: dict[str, object] = {}

    def fake_wait() -> None:
        lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("export "))
        toml = Path(lines["export REFUNDKIT_CONFIG"]).read_text(encoding="utf-8")
        seen["tokens_in_file"] = any(lines[k] in toml for k in lines if k.endswith("_TOKEN"))
        urls = re.findall(r'base_url = "(\S+)"', toml)
        tokens = [lines["export MAIN_VTEX_TOKEN"], lines["export OUTLET_VTEX_TOKEN"]]
        keys = re.findall(r'app_key = "(\S+)"', toml)
        firsts = []
        for url, key, token in zip(urls, keys, tokens, strict=True):
            r = httpx.get(url + ORDERS, headers={"X-VTEX-API-AppKey": key, "X-VTEX-API-AppToken": token})
            firsts.append(r.json()["list"][0]["orderId"])
        seen["distinct"] = len(set(urls)) == 2 and firsts[0] != firsts[1]
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module, "_wait_forever", fake_wait)
    server_module.run_forever(small_config(state_dir=tmp_path / "state"), port=0, out=out, accounts=2)
    assert seen == {"tokens_in_file": False, "distinct": True}
