"""Browser tests: `refundkit app` (Voilà) and JupyterLab, driven by Playwright with Debian's chromium.

One sandbox (served over real HTTP on loopback), one app server and one browser serve the whole session; every test
gets a fresh page (and so a fresh kernel). Ports are picked free, never fixed. Without chromium the tests are
skipped with a message that says how to install it; under CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.present.cli_app import free_port, start_app, stop_app
from refundkit.sandbox import Sandbox, SandboxServer
from refundkit.testing import OrderPicker, serve, small_config
from refundkit.vtex import VtexClient

pytestmark = pytest.mark.browser

#: Where Debian's chromium lives: the real binary first (it skips the wrapper script's flags), then the wrapper.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
#: A known message of the plotly renderer bundle in JupyterLab/Voilà; charts still render and update.
KNOWN_PAGE_ERRORS = ("r.setData is not a function",)


def chromium_path() -> str | None:
    override = os.environ.get("REFUNDKIT_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def _missing(what: str) -> None:
    message = f"{what}; the browser tests need it (Debian: apt-get install chromium; or set REFUNDKIT_CHROMIUM)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it, from Linux's /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(parents.get(p, []))
    return tree


def kernels_of(pid: int) -> list[int]:
    """The kernels (ipykernel processes) a desk server started."""
    out = []
    for p in process_tree(pid):
        try:
            if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes():
                out.append(p)
        except OSError:
            continue
    return out


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of these processes together."""
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


@dataclass
class Desk:
    sb: Sandbox
    srv: SandboxServer
    url: str  # the ready line's address: it signs the browser in
    env: dict[str, str]
    used: set[str]
    pid: int = 0
    log_path: Path | None = None

    @property
    def base(self) -> str:
        """The desk's address without any token."""
        return self.url.split("/login?")[0] + "/"

    @property
    def token(self) -> str:
        return self.url.rsplit("token=", 1)[1]

    def order(self, min_total: int = 50_00) -> str:
        """An invoiced BRL order no other test used, with no VTEX return invoice."""
        return OrderPicker(self.sb, self.used).invoiced(min_total=min_total).order_id

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in list(self.sb.requests) if r.method in WRITES]

    def notes(self, order_id: str) -> list[dict[str, Any]]:
        with self.sb.notes.lock:
            return [dict(self.sb.notes.notes[i]) for i in self.sb.notes.by_target.get(order_id, [])]

    def entries(self, order_id: str) -> list[Any]:
        """The order's ledger entries, read back from the sandbox over HTTP."""
        with VtexClient(load_settings(env=self.env, env_file=False)) as client:
            return Ledger(client, journal_dir=False).entries(order_id=order_id)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        _missing("chromium is not installed")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (run ./dev setup)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True)
        yield b
        b.close()


@contextlib.contextmanager
def running_desk(home: Path, recorder: str = "desk-clerk", **options: Any) -> Iterator[Desk]:
    """A sandbox and `refundkit app` against it (``options`` go to ``start_app``), until the block ends."""
    with serve(small_config(), cache_dir=home / "cache") as served:  # checks afterwards that no money moved
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))},
            **served.env(REFUNDKIT_USER=recorder),
        }
        with VtexClient(served.settings()) as client:
            Ledger(client, journal_dir=False).setup()
        log_path = home / "voila.log"
        with log_path.open("w") as log:
            try:
                proc, url = start_app(free_port(), env, log=log, **options)
            except Exception as exc:
                pytest.fail(f"refundkit app did not start: {exc}\n{log_path.read_text()[-3000:]}")
            try:
                yield Desk(served.sb, served.srv, url, env, set(), proc.pid, log_path)
            finally:
                stop_app(proc)


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Desk]:
    """The sandbox and `refundkit app` against it, for the whole session (its ready line's address signs in)."""
    with running_desk(tmp_path_factory.mktemp("desk")) as d:
        yield d


@pytest.fixture(scope="module")
def app_page(browser: Any, desk: Desk) -> Iterator[Any]:
    """One page of the app (one kernel) per test module: loading a page starts a kernel, the slow part. Tests
    start from the Record tab and look up an order of their own, which clears what the last test left.
    Afterwards: no code and no error showed on the page."""
    from playwright.sync_api import expect

    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(desk.url)
    expect(pg.get_by_label("Order ID")).to_be_visible(timeout=60_000)
    yield pg
    content = pg.content()
    context.close()
    assert "serve_desk" not in content and "import refundkit" not in content, "code is visible on the page"
    assert "Traceback" not in content
    assert [e for e in errors if not any(k in e for k in KNOWN_PAGE_ERRORS)] == []


@pytest.fixture
def page(app_page: Any) -> Any:
    """The module's app page, on the Record tab."""
    app_page.get_by_role("tab", name="Record").click()
    return app_page
