"""Fixtures for the sandbox tests: sandboxes served on loopback and httpx clients that carry the demo keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer


def auth_headers(sb: Sandbox) -> dict[str, str]:
    return {"X-VTEX-API-AppKey": sb.config.app_key, "X-VTEX-API-AppToken": sb.config.app_token}


@contextmanager
def served(config: SandboxConfig | None = None) -> Iterator[tuple[Sandbox, SandboxServer, httpx.Client]]:
    """A sandbox, its running server and a client with the right keys; everything closed on exit."""
    sb = Sandbox(config or SandboxConfig())
    with sb.serve(port=0) as srv, httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=10) as c:
        yield sb, srv, c


def small_config(**kw) -> SandboxConfig:
    """A small store (fast to build) for tests that are not about orders."""
    base = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}
    base.update(kw)
    return SandboxConfig(**base)


@pytest.fixture(scope="session")
def demo() -> Iterator[tuple[Sandbox, SandboxServer]]:
    """The default demo store, served once for the session. Tests must not change its config or write to it."""
    sb = Sandbox(SandboxConfig())
    with sb.serve(port=0) as srv:
        yield sb, srv
    assert sb.money_moving_calls == []
    assert sb.internal_errors == []


@pytest.fixture
def demo_client(demo) -> Iterator[httpx.Client]:
    sb, srv = demo
    with httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=10) as c:
        yield c


@pytest.fixture
def md() -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A fresh small sandbox for Master Data / notes tests (state is per test)."""
    with served(small_config()) as (sb, _srv, c):
        yield sb, c
        assert sb.internal_errors == []
        assert sb.money_moving_calls == []
