"""The desk on a machine without internet access: every request the page makes goes to the desk itself (icons and
fonts included), and a reload leaves no error in the browser's console."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import KNOWN_PAGE_ERRORS, Desk
from .test_app import look_up

LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: The solid style of Font Awesome 5, which Voilà's bundle serves and the widgets' icons (``fa fa-upload``) use.
ICON_FONT = '900 16px "Font Awesome 5 Free"'


class Offline:
    """A browser context cut off from the internet: a request to any other host than the desk's is noted and fails,
    as it would on a machine without access. Console errors and page errors are noted too."""

    def __init__(self, browser: Any) -> None:
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: self.errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if urllib.parse.urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.remote.append(url)
            route.abort("internetdisconnected")

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(k in e for k in KNOWN_PAGE_ERRORS)]


@pytest.fixture
def offline(browser: Any) -> Iterator[Offline]:
    o = Offline(browser)
    yield o
    o.context.close()


def open_desk(offline: Offline, desk: Desk) -> Any:
    page = offline.page
    page.goto(desk.url)
    expect(page.get_by_label("Order ID")).to_be_visible(timeout=60_000)
    return page


def kernel_id(page: Any) -> str:
    return str(json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"])


def kernel_alive(desk: Desk, kernel: str) -> bool:
    request = urllib.request.Request(  # noqa: S310  (the desk on loopback)
        f"{desk.base}api/kernels/{kernel}", headers={"Authorization": f"token {desk.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  (the desk on loopback)
            return bool(answer.status == 200)
    except urllib.error.HTTPError as gone:
        with gone:
            assert gone.code == 404, gone.code
            return False


def until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Whether ``condition`` holds within ``timeout`` seconds (the server acts on the left page's request on its
    own time; nothing here waits for time to pass when it already holds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_the_desk_renders_looks_up_an_order_and_shows_its_icons_with_nothing_from_the_internet(
    offline: Offline, desk: Desk
) -> None:
    page = open_desk(offline, desk)
    look_up(page, desk.order())
    page.get_by_role("tab", name="Import").click()
    icon = page.locator(".jupyter-widgets i.fa").first  # the upload button's icon
    expect(icon).to_be_visible()
    glyph_font = icon.evaluate("i => getComputedStyle(i, '::before').fontFamily")
    assert "Font Awesome 5 Free" in glyph_font
    page.wait_for_function(f"() => document.fonts.check('{ICON_FONT}')", timeout=30_000)  # the icon font loaded
    assert offline.remote == []
    assert offline.unexpected_errors() == []


def test_a_reload_leaves_no_console_error_and_ends_the_left_pages_kernel(offline: Offline, desk: Desk) -> None:
    page = open_desk(offline, desk)
    look_up(page, desk.order())
    first = kernel_id(page)
    assert kernel_alive(desk, first)
    page.reload()
    expect(page.get_by_label("Order ID")).to_be_visible(timeout=60_000)
    second = kernel_id(page)
    assert second != first, "the reloaded page has a kernel of its own"
    look_up(page, desk.order())  # the new page works
    assert until(lambda: not kernel_alive(desk, first)), "the left page's kernel is shut down, its place freed"
    assert kernel_alive(desk, second)
    assert offline.unexpected_errors() == []
    assert offline.remote == []
