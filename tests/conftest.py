"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import refundkit
from refundkit.config import load_settings
from refundkit.timeutil import parse_instant

#: A small store for tests that need real orders but not thousands of them.
SMALL_STORE = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}
SMALL_START, SMALL_END = parse_instant("2026-02-20T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")


@pytest.fixture(scope="module")
def small_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[refundkit.Session]:
    """``refundkit.connect()`` on an embedded sandbox with SMALL_STORE; checks no money moved and no sandbox bug."""
    cache: Path = tmp_path_factory.mktemp("cache")
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(cache), "REFUNDKIT_USER": "tester"}, env_file=False)
    session = refundkit.connect(settings=settings, sandbox_options=SMALL_STORE)
    yield session
    sandbox = session.sandbox
    session.close()
    assert sandbox.money_moving_calls == []
    assert sandbox.internal_errors == []
