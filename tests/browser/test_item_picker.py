"""The Record tab's item picker in chromium: look an order up, pick one unit of an item, the amount fills with its
price paid, record, and the Refunds list names the item."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.testing import OrderPicker
from refundkit.vtex import VtexClient

from .conftest import Desk
from .test_app import look_up, record_form, result, settled

TIMEOUT = 60_000


def test_pick_one_unit_record_and_the_refunds_list_names_the_item(page: Any, desk: Desk) -> None:
    order = OrderPicker(desk.sb, desk.used).several_skus().order_id  # each SKU on one line: one box per label
    with VtexClient(load_settings(env=desk.env, env_file=False)) as client:
        line = Ledger(client, journal_dir=False).order_items(order).lines[0]
    look_up(page, order)
    units = page.get_by_label(f"Units of {line.label}", exact=True)
    expect(units).to_be_visible(timeout=TIMEOUT)
    units.fill("1")
    units.press("Tab")  # the box sends its value when left, as a person moves on
    price = line.price_for(1).decimal_str()
    amount = page.get_by_label("Amount", exact=True)
    expect(amount).to_have_value(price, timeout=TIMEOUT)
    expect(page.locator(".refundkit-items-summary")).to_contain_text(f"1 × {line.label}")

    page.get_by_label("External reference").fill("RCPT-ITEM-1")
    page.get_by_label("Reason", exact=True).fill("one unit arrived broken")
    record_form(page).get_by_label("I confirm").check()
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text(f"Recorded: a refund of BRL {price}", timeout=TIMEOUT)
    settled(page)
    expect(amount).to_have_value("")  # the units were recorded: the picker starts again, no stale amount
    expect(page.locator(".refundkit-ledger")).to_contain_text(f"1 × {line.label}")

    page.get_by_role("tab", name="Refunds").click()
    listing = page.locator(".refundkit-refunds-list")
    expect(page.locator(".refundkit-refunds-status")).to_contain_text("Read at", timeout=TIMEOUT)
    page.get_by_label("Search").fill("RCPT-ITEM-1")
    page.locator(".refundkit-refunds-show").click()
    expect(listing).to_contain_text("RCPT-ITEM-1", timeout=TIMEOUT)
    expect(listing).to_contain_text(f"1 × {line.label}")

    [entry] = desk.entries(order)
    assert [(x.sku, x.quantity) for x in entry.lines] == [(line.sku, 1)]
