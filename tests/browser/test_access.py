"""Who gets the desk: only a browser signed in with the ready line's token, only at the hosts it serves, never a page
of another site; and the token shows nowhere else (command lines, logs, kernels)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import command_lines

from .conftest import Desk, kernels_of

TIMEOUT = 60_000


def _request(desk: Desk, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    port = urllib.parse.urlsplit(desk.base).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        conn.close()


def _websocket_headers(desk: Desk, **more: str) -> dict[str, str]:
    """A websocket handshake to the desk's host."""
    return {
        "Host": urllib.parse.urlsplit(desk.base).netloc,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        **more,
    }


CHANNELS = "/api/kernels/00000000-0000-0000-0000-000000000000/channels"


def test_without_the_token_the_browser_gets_the_sign_in_page_and_no_kernel_starts(browser: Any, desk: Desk) -> None:
    kernels = set(kernels_of(desk.pid))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(desk.base)
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert "/login" in page.url
        page.goto(desk.base + "?token=not-the-token")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert page.get_by_label("Order ID").count() == 0
    finally:
        context.close()
    assert set(kernels_of(desk.pid)) <= kernels, "a kernel started for a visitor who is not signed in"
    status, body = _request(desk, "GET", "/", {"Host": urllib.parse.urlsplit(desk.base).netloc})
    assert status == 302 and "Order ID" not in body


def test_the_ready_lines_address_opens_the_desk_and_a_cookie_keeps_it_open(browser: Any, desk: Desk) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(desk.url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
        assert "token" not in page.url, "the address bar no longer shows the token"
        page.goto(desk.base)  # a second visit: the cookie, no token
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
    finally:
        context.close()


def test_a_rebinding_page_gets_nothing(browser: Any, chromium: str, desk: Desk) -> None:
    """attacker.test resolves to 127.0.0.1, as a DNS-rebinding page does: the desk refuses its Host, even with the
    token and on a static file."""
    port = urllib.parse.urlsplit(desk.base).port
    rules = "--host-resolver-rules=MAP attacker.test 127.0.0.1"
    b = browser.browser_type.launch(executable_path=chromium, headless=True, args=[rules])
    try:
        page = b.new_page()
        for path in ("/", f"/login?next=%2F&token={desk.token}", "/voila/static/voila.js"):
            answer = page.goto(f"http://attacker.test:{port}{path}")
            assert answer is not None and answer.status == 421, path
            assert page.get_by_label("Order ID").count() == 0
        expect(page.locator("body")).to_contain_text("answers only at")
    finally:
        b.close()


def test_another_sites_origin_is_refused_on_a_websocket_and_a_post(desk: Desk) -> None:
    host = urllib.parse.urlsplit(desk.base).netloc
    socket_headers = _websocket_headers(desk, Origin="http://attacker.test", Authorization=f"token {desk.token}")
    status, _ = _request(desk, "GET", CHANNELS, socket_headers)
    assert status == 403
    post = {"Host": host, "Origin": "http://attacker.test", "Authorization": f"token {desk.token}"}
    status, body = _request(desk, "POST", "/voila/api/shutdown/00000000-0000-0000-0000-000000000000", post)
    assert status == 403 and "another site" in body
    # the same requests from the desk's own origin get past the gate (the kernel id is unknown: 404/400)
    status, _ = _request(desk, "POST", "/voila/api/shutdown/x", {**post, "Origin": f"http://{host}"})
    assert status != 403


def test_the_token_is_on_no_command_line_in_no_log_and_in_no_kernel(browser: Any, desk: Desk) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(desk.url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
        page.goto(desk.base + f"?token={desk.token}")  # the token on the page's own address, too
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
        kernels = kernels_of(desk.pid)
        assert kernels, "the desk's pages run in kernels"
        for pid, cmd in command_lines():
            assert desk.token not in cmd, f"process {pid} shows the token on its command line"
        for pid in [desk.pid, *kernels]:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert desk.token.encode() not in environ, f"process {pid} has the token in its environment"
    finally:
        context.close()
    assert desk.log_path is not None
    log = desk.log_path.read_text(errors="replace")
    assert "GET /login" in log, "the log was read while the desk wrote to it"
    assert desk.token not in log
    launch = list(Path(desk.log_path.parent).rglob("launch.json"))
    assert launch == [], "the launch file is removed once read"


def test_without_a_cookie_the_kernel_websocket_is_refused(desk: Desk) -> None:
    status, _ = _request(desk, "GET", CHANNELS, _websocket_headers(desk))
    assert status == 403
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(desk.base + "voila/files/refundkit.ipynb", timeout=10)  # noqa: S310  (loopback)
    refused.value.close()
    assert refused.value.code in (302, 403, 404)
