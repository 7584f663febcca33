"""Fixtures shared across test folders: one factory for sandboxes served on loopback, each checked on the way out
by the money-movement guard (:func:`refundkit.testing.check_nothing_moved`), and a session on a small store.

New tests: take ``sandbox_factory`` (or ``served_sandbox`` for one small store) instead of serving a sandbox by
hand, and use :mod:`refundkit.testing` for what the sandbox holds and for running the CLI in process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import refundkit
from refundkit.config import load_settings
from refundkit.sandbox import SandboxConfig
from refundkit.testing import SMALL_STORE, ServedSandbox, check_nothing_moved, serve, small_config
from refundkit.timeutil import parse_instant

# Property tests check what is computed, not how fast: on a loaded machine (CI, parallel workers) a first example can
# take longer than hypothesis's default 200 ms deadline, which would fail a correct test. Speed is measured in bench/.
settings.register_profile("refundkit", deadline=None)
settings.load_profile("refundkit")

__all__ = ["SMALL_END", "SMALL_START", "SMALL_STORE", "SPECS", "require_specs"]

#: VTEX's official OpenAPI specs, beside the checkout (../shared/vtex-openapi, or REFUNDKIT_VTEX_OPENAPI); the
#: contract tests read them there.
SPECS = Path(
    os.environ.get("REFUNDKIT_VTEX_OPENAPI") or Path(__file__).resolve().parents[1].parent / "shared" / "vtex-openapi"
)

# the `cli`, `served` and `used` fixtures of the command-line tests (tests/cli_harness.py)
pytest_plugins = ["cli_harness"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_specs(*files: str) -> None:
    """Skip the calling module or test when the specs (or one of ``files``) are missing, or, under CI (``CI=true``),
    fail: CI must not pass by skipping every contract test. Callable at module level."""
    missing = [f for f in files if not (SPECS / f).is_file()] if SPECS.is_dir() else [str(SPECS)]
    if not missing:
        return
    message = f"the contract tests need VTEX's OpenAPI specs: missing {', '.join(missing)} (in {SPECS})"
    if _in_ci():
        pytest.fail(message + "; CI=true, so this fails instead of skipping", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every test marked ``contract`` needs the specs (see :func:`require_specs`)."""
    if item.get_closest_marker("contract") is not None:
        require_specs()


SMALL_START, SMALL_END = parse_instant("2026-02-20T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")

SandboxFactory = Callable[..., ServedSandbox]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """``make(config=None, **changes)``: a sandbox served on loopback (``small_config(**changes)`` unless a config
    is given). After the test every one is stopped and checked: no money moved, nothing deleted, no sandbox bug."""
    with ExitStack() as stack:
        n = [0]

        def make(config: SandboxConfig | None = None, **changes: Any) -> ServedSandbox:
            n[0] += 1
            cache = tmp_path / f"sandbox{n[0]}-cache"
            return stack.enter_context(serve(config or small_config(**changes), cache_dir=cache))

        yield make


@pytest.fixture
def served_sandbox(sandbox_factory: SandboxFactory) -> ServedSandbox:
    """One small sandbox (SMALL_STORE) served for this test."""
    return sandbox_factory()


def connected(cache: Path, options: dict[str, Any], **env: str) -> Iterator[refundkit.Session]:
    """``refundkit.connect()`` on an embedded sandbox with ``options``, its cache in ``cache``, for a fixture to
    yield from; checks no money moved and no sandbox bug when closed."""
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(cache), **env}, env_file=False)
    session = refundkit.connect(settings=settings, sandbox_options=options)
    yield session
    sandbox = session.sandbox
    session.close()
    assert sandbox is not None
    check_nothing_moved(sandbox)


@pytest.fixture(scope="module")
def small_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[refundkit.Session]:
    """``refundkit.connect()`` on an embedded sandbox with SMALL_STORE; checks no money moved and no sandbox bug."""
    yield from connected(tmp_path_factory.mktemp("cache"), SMALL_STORE, REFUNDKIT_USER="tester")


def command_lines() -> list[tuple[int, str]]:
    """(pid, command line) of every process on this machine, from Linux's /proc: to prove a server was stopped.
    Skips the test where there is no /proc (it could not prove anything there)."""
    proc = Path("/proc")
    if not proc.is_dir():
        pytest.skip("needs Linux's /proc to list processes")
    lines = []
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            lines.append((int(cmdline.parent.name), cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")))
        except OSError:  # the process ended meanwhile
            continue
    return lines
