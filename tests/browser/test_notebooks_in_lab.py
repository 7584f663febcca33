"""Each notebook, opened in JupyterLab in chromium and run: every cell runs, its widgets render and no cell shows an
error. One JupyterLab page serves the module; each test opens its notebook from the file browser in a new tab.

JupyterLab serves copies in a temporary folder (it autosaves outputs into what it opens). No account is configured,
so each notebook starts its own embedded sandbox, as on a fresh machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from refundkit.present.cli_app import free_port

from .conftest import KNOWN_PAGE_ERRORS

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: Notebooks whose forms are widgets (the others show tables and plotly charts only).
WITH_WIDGETS = {"01_record_offline_refunds.ipynb", "02_gross_vs_net.ipynb", "04_import_refunds.ipynb"}


@pytest.fixture(scope="module")
def lab(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("lab")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env["REFUNDKIT_CACHE_DIR"] = str(root / "cache")
    for p in PATHS:
        shutil.copyfile(p, root / p.name)
    # every cell in the page (no windowing: cells out of view are rendered too), and no news pop-up
    settings = root / "settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/api", timeout=2):  # noqa: S310  (loopback URL built here)
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def lab_page(browser: Any, lab: str) -> Iterator[tuple[Any, list[str]]]:
    """One JupyterLab page for the module, and the page errors it reports: JupyterLab loads once (its bundle is the
    slow part), and each test opens its notebook from the file browser, as a person would."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{lab}/lab/workspaces/notebooks-test?reset")  # a fresh workspace: the file browser only
    expect(page.locator(".jp-DirListing-item").first).to_be_visible(timeout=60_000)
    yield page, errors
    context.close()


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_runs_in_jupyterlab_with_widgets_and_no_error(lab_page: tuple[Any, list[str]], path: Path) -> None:
    page, errors = lab_page
    errors.clear()
    try:
        page.locator(".jp-DirListing-item", has_text=path.name).dblclick()
        # the notebook's own panel: its tab is the current one, every other notebook is hidden
        notebook = page.locator(".jp-NotebookPanel:visible")
        expect(notebook).to_have_count(1, timeout=60_000)
        expect(page.get_by_role("tab", name=path.name, selected=True)).to_be_visible(timeout=60_000)
        expect(notebook.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
        panel_id = notebook.get_attribute("id")
        assert panel_id
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # Run All has ended: a cell ran (its prompt shows a number) and none is queued or running ("[*]"). A cell
        # that fails stops Run All, and the cells after it go back to "[ ]".
        page.wait_for_function(
            """(id) => {
                const prompts = [...document.getElementById(id).querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                    .map(p => p.textContent);
                return prompts.some(t => /\\[\\d+\\]/.test(t)) && !prompts.some(t => t.includes('*'));
            }""",
            arg=panel_id,
            timeout=float(os.environ.get("LABTEST_TIMEOUT_MS", "180000")),
        )
        prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        if not all(re.fullmatch(r"\[\d+\]:?", p.strip()) for p in prompts):
            shown = notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            what = shown.last.inner_text()[-2000:] if shown.count() else "no output"
            pytest.fail(f"not every cell ran (prompts {prompts}); the last error output:\n{what}")
        assert notebook.locator(".jp-CodeCell").count() > 0
        assert notebook.locator(".jp-OutputArea-output").count() > 0
        text = notebook.locator(".jp-Notebook").inner_text()
        assert "Error displaying widget" not in text and "Traceback" not in text
        if path.name in WITH_WIDGETS:
            expect(notebook.locator(".jp-OutputArea-output .jupyter-widgets").first).to_be_visible(timeout=30_000)
    except Exception:
        page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / f"lab-failure-{path.stem}.png"))
        raise
    assert [e for e in errors if not any(k in e for k in KNOWN_PAGE_ERRORS)] == []
