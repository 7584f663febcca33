"""The desk over several accounts (refundkit.toml): a picker on every tab switches the whole desk, and the record
and import confirmations name the account they write to; driven without a browser, on two served sandboxes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import refundkit
from refundkit.config import load_settings
from refundkit.present.account_picker import configured_accounts
from refundkit.present.desk import RefundDesk, serve_desk
from refundkit.sandbox.server import ServedAccounts, serve_accounts
from refundkit.testing import check_nothing_moved, small_config


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[ServedAccounts, dict[str, str]]]:
    config = small_config(orders=80, start="2026-03-01", end="2026-03-10")
    with serve_accounts(config, port=0, accounts=2, toml_dir=tmp_path / "toml") as served:
        env = {k: v for k, v in served.variables.items() if not k.startswith("VTEX_")}
        env.update(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"), REFUNDKIT_USER="clerk")
        yield served, env
    for sb in served.sandboxes:
        check_nothing_moved(sb)


def open_account(env: dict[str, str], opened: list[refundkit.Session]) -> Any:
    def opener(name: str) -> refundkit.Session:
        session = refundkit.connect(settings=load_settings(env=env, env_file=False, account=name))
        opened.append(session)
        return session

    return opener


def test_a_picker_on_every_tab_switches_the_whole_desk_and_the_confirmations_name_the_account(
    two: tuple[ServedAccounts, dict[str, str]],
) -> None:
    served, env = two
    opened: list[refundkit.Session] = []
    opener = open_account(env, opened)
    try:
        desk = RefundDesk(opener("main"), accounts=["main", "outlet"], open_account=opener)
        assert desk.picker is not None
        for tab in desk.tabs.children:
            assert tab.children[0] is desk.picker.widget, "every tab shows the account picker first"
        assert desk.record.confirm.description.endswith("(account main)")
        assert desk.imports.confirm.description.endswith("(account main)")
        desk.picker.dropdown.value = "outlet"
        assert desk.session.settings.account == served.served[1][2].account
        assert desk.record.ledger.client.settings.account == served.served[1][2].account
        assert desk.refunds.ledger.client.settings.account == served.served[1][2].account
        assert desk.record.confirm.description.endswith("(account outlet)")
        assert desk.imports.confirm.description.endswith("(account outlet)")
        assert "outlet (refundkitdemo-outlet)" in desk.header.value
        for tab in desk.tabs.children:
            assert tab.children[0] is desk.picker.widget
        desk.picker.dropdown.value = "main"  # back: the session opened first is used again
        assert len(opened) == 2 and desk.session is opened[0]
    finally:
        for s in opened:
            s.close()


def test_an_account_that_cannot_be_opened_is_said_and_the_desk_stays(
    two: tuple[ServedAccounts, dict[str, str]],
) -> None:
    _, env = two
    opened: list[refundkit.Session] = []
    broken = {**env, "OUTLET_VTEX_TOKEN": ""}
    try:
        desk = RefundDesk(
            open_account(env, opened)("main"), accounts=["main", "outlet"], open_account=open_account(broken, opened)
        )
        assert desk.picker is not None
        desk.picker.dropdown.value = "outlet"
        assert desk.picker.dropdown.value == "main" and desk.session is opened[0]
        assert "OUTLET_VTEX_TOKEN is not set" in desk.picker.message.value
    finally:
        for s in opened:
            s.close()


def test_one_account_shows_no_picker(small_session: refundkit.Session) -> None:
    desk = RefundDesk(small_session)
    assert desk.picker is None
    assert "(account" not in desk.record.confirm.description


def test_the_app_page_opens_on_the_first_account_and_offers_the_others(
    two: tuple[ServedAccounts, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, env = two
    for k in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    desk = serve_desk()
    assert isinstance(desk, RefundDesk), getattr(desk, "value", desk)
    try:
        assert desk.picker is not None and list(desk.picker.dropdown.options) == ["main", "outlet"]
        assert desk.session.settings.name == "main"
    finally:
        desk.session.close()


def test_the_desk_opens_on_the_account_the_commands_would_choose(two: tuple[ServedAccounts, dict[str, str]]) -> None:
    served, env = two
    outlet_account = served.served[1][2].account
    assert configured_accounts(env) == (["main", "outlet"], "main")
    assert configured_accounts({**env, "REFUNDKIT_ACCOUNT": "outlet"}) == (["main", "outlet"], "outlet")
    assert configured_accounts({**env, "VTEX_ACCOUNT_NAME": outlet_account}) == (["main", "outlet"], "outlet")
    assert configured_accounts({**env, "VTEX_ACCOUNT_NAME": "elsewhere"}) == (["main", "outlet"], None)
