"""`refundkit app` over two accounts (refundkit.toml) in chromium: the account picker on every tab switches the
desk, and a refund recorded after picking an account is written to that account only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.present.cli_app import free_port, start_app, stop_app
from refundkit.sandbox.server import ServedAccounts, serve_accounts
from refundkit.testing import OrderPicker, check_nothing_moved, small_config
from refundkit.vtex import VtexClient

from .conftest import KNOWN_PAGE_ERRORS

TIMEOUT = 30_000
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def two_desk(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[tuple[ServedAccounts, str]]:
    home: Path = tmp_path_factory.mktemp("accounts-desk")
    with serve_accounts(small_config(), port=0, accounts=2, toml_dir=home / "toml") as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
        env.update({k: v for k, v in served.variables.items() if not k.startswith("VTEX_")})
        env.update(REFUNDKIT_CACHE_DIR=str(home / "cache"), REFUNDKIT_USER="desk-clerk")
        for name, _, _ in served.served:
            with VtexClient(load_settings(env=env, env_file=False, account=name)) as client:
                Ledger(client, journal_dir=False).setup()
        log_path = home / "voila.log"
        with log_path.open("w") as log:
            try:
                proc, url = start_app(free_port(), env, log=log)
            except Exception as exc:
                pytest.fail(f"refundkit app did not start: {exc}\n{log_path.read_text()[-3000:]}")
            try:
                yield served, url
            finally:
                stop_app(proc)
    for sb in served.sandboxes:
        check_nothing_moved(sb)


def picker(page: Any) -> Any:
    return page.locator(".refundkit-account-picker select:visible")


def test_the_account_picker_on_every_tab_switches_the_desk_and_recording_writes_to_that_account(
    browser: Any, two_desk: tuple[ServedAccounts, str]
) -> None:
    served, url = two_desk
    main, outlet = served.sandboxes
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=60_000)
        for tab in ("Import", "Report", "Refunds", "Record"):
            page.get_by_role("tab", name=tab).click()
            expect(picker(page)).to_have_value("main", timeout=TIMEOUT)
        picker(page).select_option("outlet")
        expect(page.locator(".refundkit-record-form").get_by_label("I confirm")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text("(account outlet)").first).to_be_attached(timeout=TIMEOUT)
        main_ids = {o.order_id for o in main.store.orders}
        order = OrderPicker(outlet, set(main_ids)).invoiced(min_total=50_00).order_id
        assert order not in main_ids
        field = page.get_by_label("Order ID")
        field.fill(order)
        field.press("Enter")
        expect(page.locator(".refundkit-order")).to_contain_text(order, timeout=TIMEOUT)
        page.get_by_label("Amount", exact=True).fill("5.00")
        page.get_by_label("External reference").fill("PICK-1")
        page.get_by_label("Reason", exact=True).fill("item returned")
        page.locator(".refundkit-record-form").get_by_label("I confirm").check()
        before_main = [r.path for r in list(main.requests) if r.method in WRITES]
        page.get_by_role("button", name="Record refund").click()
        expect(page.locator(".refundkit-result")).to_contain_text("Recorded", timeout=TIMEOUT)
        assert [r.path for r in list(main.requests) if r.method in WRITES] == before_main
        assert any(order in r.path or "offlineRefund" in r.path for r in list(outlet.requests) if r.method in WRITES)
        page.get_by_role("tab", name="Refunds").click()
        expect(picker(page)).to_have_value("outlet", timeout=TIMEOUT)
        expect(page.locator(".refundkit-desk")).to_contain_text("PICK-1", timeout=TIMEOUT)
    finally:
        content = page.content()
        context.close()
    assert "Traceback" not in content
    assert [e for e in errors if not any(k in e for k in KNOWN_PAGE_ERRORS)] == []
