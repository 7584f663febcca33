"""The Record tab on a laptop's screen (1280×800): the outcome shows where the button is, and a reversal's amount is
negative wherever it is shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Desk
from .test_app import fill_refund, look_up, result

TIMEOUT = 60_000


@pytest.fixture
def laptop(browser: Any, desk: Desk) -> Iterator[Any]:
    """A page of the desk in a window of 1280×800, on the Record tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(desk.url)
    expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
    yield page
    context.close()


def _press_as_a_person(page: Any, name: str) -> None:
    """Scroll down just until the button shows at the window's bottom edge, as a person does, and press it."""
    button = page.get_by_role("button", name=name, exact=True)
    button.evaluate("b => b.scrollIntoView({block: 'end'})")
    button.click()


def test_the_outcome_shows_where_the_button_is_without_scrolling(laptop: Any, desk: Desk) -> None:
    page = laptop
    order = desk.order()
    look_up(page, order)
    fill_refund(page, "3.00", "RCPT-VIEW-1")
    _press_as_a_person(page, "Record refund")
    expect(result(page)).to_contain_text("Recorded: a refund of BRL 3.00", timeout=TIMEOUT)
    expect(result(page)).to_be_in_viewport()
    # a reversal takes the money back: its amount is negative, in the outcome and in the order's list
    page.locator(".refundkit-ledger").get_by_role("button", name="Reverse").click()
    page.get_by_label("Reason for reversing").fill("recorded on the wrong order")
    _press_as_a_person(page, "Reverse refund")
    expect(result(page)).to_contain_text(f"Recorded: a reversal of BRL -3.00 on order {order}", timeout=TIMEOUT)
    expect(result(page)).to_be_in_viewport()
    expect(page.locator(".refundkit-ledger")).to_contain_text("BRL -3.00")
