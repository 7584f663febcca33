"""JupyterLab as `refundkit demo` starts it (its command line and configuration): nothing is fetched from the
internet, and a notebook whose kernel is gone (the demo restarted) reopens with its widgets, not with "model not
found" errors on the page and in the browser's console."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from refundkit.errors import ConfigError
from refundkit.present.cli_app import free_port, new_token, stop_server
from refundkit.present.demo import _wait_for_lab, lab_command, write_lab_config

from .conftest import KNOWN_PAGE_ERRORS

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_record_offline_refunds.ipynb"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The demo restarted, as the page sees it: every kernel shut down through JupyterLab's API (with its XSRF cookie).
SHUT_DOWN_KERNELS = """async () => {
    const xsrf = (document.cookie.match(/_xsrf=([^;]*)/) || [])[1] || '';
    const kernels = await (await fetch('/api/kernels')).json();
    for (const k of kernels) await fetch(`/api/kernels/${k.id}`, {method: 'DELETE', headers: {'X-XSRFToken': xsrf}});
    return kernels.length;
}"""


def saved_with_widgets(path: Path, timeout: float = 60.0) -> bool:
    """Whether JupyterLab wrote ``path`` with widget outputs within ``timeout`` seconds (it saves on its own time)."""
    deadline = time.monotonic() + timeout
    while WIDGET_VIEW not in path.read_text(encoding="utf-8"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def output_types(path: Path) -> list[str]:
    """The kinds of output the notebook at ``path`` holds (what a failed save check shows)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [k for c in cells for o in c.get("outputs", []) for k in o.get("data", {o["output_type"]: 0})]


@pytest.fixture(scope="module")
def demo_lab(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab started with the demo's command line and configuration, on a copy of notebook 01."""
    work = tmp_path_factory.mktemp("demo") / ".demo"
    notebooks = work / "notebooks"
    notebooks.mkdir(parents=True)
    shutil.copyfile(NOTEBOOK, notebooks / NOTEBOOK.name)
    token, port = new_token(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env["REFUNDKIT_CACHE_DIR"] = str(work / "cache")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(work / "user-settings")  # the person's own settings are not read
    log = (work / "lab.log").open("w")
    cmd = lab_command(notebooks, port, write_lab_config(work, token))
    proc = subprocess.Popen(cmd, env=env, cwd=notebooks, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_lab(proc, port)  # as the demo waits for it
    except ConfigError as exc:
        stop_server(proc)
        pytest.fail(f"{exc}:\n" + (work / "lab.log").read_text()[-3000:])
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, token, notebooks / NOTEBOOK.name
    finally:
        stop_server(proc, timeout=20)
        log.close()


def test_a_notebook_reopened_after_its_kernel_is_gone_shows_its_widgets_without_errors(
    browser: Any, demo_lab: tuple[str, str, Path]
) -> None:
    url, token, saved = demo_lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    remote: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if urllib.parse.urlsplit(r.request.url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        widgets = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output .jupyter-widgets")
        expect(page.get_by_label("Order ID").first).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=180_000)  # every cell ran
        shown = widgets.count()
        for _ in range(3):  # a save asked for while JupyterLab is still busy may be dropped: ask again
            page.get_by_role("menuitem", name="File", exact=True).click()
            page.locator(".lm-Menu-item", has_text=re.compile(r"^Save Notebook")).first.click()
            if saved_with_widgets(saved, timeout=15):
                break
        assert saved_with_widgets(saved, timeout=1), f"the notebook is saved with its widgets: {output_types(saved)}"
        assert page.evaluate(SHUT_DOWN_KERNELS) >= 1
        errors.clear()
        page.reload()
        notebook = page.locator(".jp-NotebookPanel:visible")
        expect(notebook.locator(".jupyter-widgets").first).to_be_visible(timeout=60_000)
        expect(notebook.get_by_label("Order ID").first).to_be_visible(timeout=60_000)
        assert "model not found" not in notebook.inner_text()
        assert widgets.count() >= shown > 0
    finally:
        context.close()
    assert [e for e in errors if not any(k in e for k in KNOWN_PAGE_ERRORS)] == []
    assert remote == []
