"""The desk as a JupyterHub user's server serves it: Voilà as a jupyter_server extension (no refundkit server in
front), in a server whose environment names the hub's user, as JupyterHub's spawner sets it. No hub runs here: its
login (OAuth through the hub, and the proxy) is not played; jupyter_server's own token stands in for it. What is
proven: the page's kernel takes the hub's user from the server's environment and every refund it records names
them — in Master Data and in the order's note — and not the operating-system user, nor a name the browser sends."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from refundkit.ledger import Ledger
from refundkit.present.cli_app import free_port, stop_server, wait_until_serving, write_app_notebook
from refundkit.testing import serve, small_config
from refundkit.vtex import VtexClient

from .conftest import Desk
from .test_app import _upload, fill_refund, look_up, result, write_padded_csv, write_sparse_csv

TIMEOUT = 60_000
REPOSITORY = Path(__file__).resolve().parents[2]
HUB_USER = "carla"


@contextlib.contextmanager
def hub_user_server(home: Path) -> Iterator[tuple[Desk, str]]:
    """A sandbox, and a jupyter_server with Voilà's extension serving the desk's notebook to ``HUB_USER``; yields the
    desk's handle and the page's address (with the server's token, in place of the hub's login)."""
    with serve(small_config(), cache_dir=home / "cache") as served:
        token = secrets.token_urlsafe(24)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_", "JUPYTER"))},
            **served.env(REFUNDKIT_USER="os-user-not-a-person"),
            "JUPYTERHUB_USER": HUB_USER,  # as JupyterHub's spawner sets it in the user's server
            "JUPYTER_TOKEN": token,  # the server's token, from its environment: no command line carries it
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            # where installing refundkit puts its server configuration ({sys.prefix}/etc/jupyter): the checkout's copy
            "JUPYTER_CONFIG_PATH": str(REPOSITORY / "jupyter-config"),
        }
        with VtexClient(served.settings()) as client:
            Ledger(client, journal_dir=False).setup()
        folder = home / "notebooks"
        folder.mkdir()
        write_app_notebook(folder)
        port = free_port()
        command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1"]
        command += [f"--ServerApp.port={port}", f"--ServerApp.root_dir={folder}"]
        with (home / "server.log").open("w") as log:
            proc = subprocess.Popen(
                command, env=env, cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}/"
                wait_until_serving(base, proc)
                desk = Desk(served.sb, served.srv, base, env, set(), proc.pid, home / "server.log")
                yield desk, f"{base}voila/render/refundkit.ipynb?token={token}"
            finally:
                stop_server(proc)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[tuple[Desk, str]]:
    with hub_user_server(tmp_path_factory.mktemp("hub")) as served:
        yield served


def test_under_jupyterhub_the_hubs_user_records_and_the_refund_names_them(browser: Any, hub: tuple[Desk, str]) -> None:
    desk, url = hub
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_extra_http_headers({"X-Desk-User": "mallory", "X-Desk-Role": "admin"})  # what a browser may forge
    page = context.new_page()
    try:
        page.goto(url)
        expect(page.locator(".refundkit-person")).to_have_text(HUB_USER, timeout=TIMEOUT)
        order = desk.order()
        look_up(page, order)
        fill_refund(page, "3.00", "RCPT-HUB-1")
        page.get_by_role("button", name="Record refund").click()
        expect(result(page)).to_contain_text("Recorded", timeout=TIMEOUT)
        expect(page.locator(".refundkit-ledger")).to_contain_text(HUB_USER)
    finally:
        context.close()
    [entry] = desk.entries(order)
    assert entry.recorded_by == HUB_USER
    [note] = [n for n in desk.notes(order) if f"[refundkit:{entry.entry_id}]" in n["description"]]
    assert f"recorded by {HUB_USER}" in note["description"]
    assert "os-user-not-a-person" not in note["description"] and "mallory" not in note["description"]


def test_under_jupyterhub_a_file_past_the_limit_is_told_the_limit_and_one_past_10_mib_uploads(
    browser: Any, hub: tuple[Desk, str], tmp_path: Path
) -> None:
    """jupyter_server's websocket carries at most 10 MiB a message unless configured: the server extension refundkit
    installs raises it past the Import tab's limit, and the page the hub's server serves has the desk's upload guard
    (from the desk's notebook), so a file of any size past the limit is told the limit and the page stays connected."""
    desk, url = hub
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
        huge = tmp_path / "huge-export.csv"
        write_sparse_csv(huge, 201 * 2**20)
        _upload(page, huge)
        summary = page.locator(".refundkit-import-summary")
        expect(summary).to_contain_text(
            "huge-export.csv is 201.0 MiB; the desk takes files up to 50 MiB", timeout=TIMEOUT
        )
        order = desk.order()
        path = tmp_path / "big-export.csv"
        rows = (
            f"order_id,amount,refunded_at,source,external_ref,reason\n{order},2.00,2026-05-10,cash,RCPT-HUB-BIG,big\n"
        )
        write_padded_csv(path, rows, 12 * 2**20)  # past the 10 MiB a jupyter_server websocket message holds by default
        _upload(page, path)
        big = 120_000  # 12 MiB read by the browser, sent over the websocket and checked, on a loaded machine
        expect(summary).to_contain_text("1 would be recorded", timeout=big)
        page.locator(".refundkit-import-form").get_by_label("I confirm").check()
        page.get_by_role("button", name="Record good rows").click()
        expect(page.locator(".refundkit-import-result")).to_contain_text("1 recorded", timeout=big)
    finally:
        context.close()
    assert len(desk.entries(order)) == 1
