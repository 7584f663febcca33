"""Fixtures for the sandbox tests: sandboxes served on loopback and httpx clients that carry the demo keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer
from refundkit.testing import DEMO_TODAY, ManualClock, check_nothing_moved, small_config

__all__ = ["auth_headers", "served", "small_config"]


def auth_headers(sb: Sandbox) -> dict[str, str]:
    return {"X-VTEX-API-AppKey": sb.config.app_key, "X-VTEX-API-AppToken": sb.config.app_token}


@contextmanager
def served(
    config: SandboxConfig | None = None, clock: Callable[[], float] | None = None
) -> Iterator[tuple[Sandbox, SandboxServer, httpx.Client]]:
    """A sandbox, its running server and a client with the right keys; everything closed on exit. ``clock``
    (a :class:`refundkit.testing.ManualClock`) replaces the monotonic clock: the test advances it, never sleeps."""
    config = config or SandboxConfig(today=DEMO_TODAY)
    sb = Sandbox(config) if clock is None else Sandbox(config, clock=clock)
    with sb.serve(port=0) as srv, httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=10) as c:
        yield sb, srv, c


@pytest.fixture(scope="session")
def demo() -> Iterator[tuple[Sandbox, SandboxServer]]:
    """The default demo store (pinned to :data:`~refundkit.testing.DEMO_TODAY`), served once for the session. Tests
    must not change its config or write to it."""
    sb = Sandbox(SandboxConfig(today=DEMO_TODAY))
    with sb.serve(port=0) as srv:
        yield sb, srv
    check_nothing_moved(sb)


@pytest.fixture
def demo_client(demo) -> Iterator[httpx.Client]:
    sb, srv = demo
    with httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=10) as c:
        yield c


@pytest.fixture
def md() -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A fresh small sandbox for Master Data / notes tests (state is per test). Its clock is a ManualClock
    (``sb.clock.advance(seconds)``): time passes only when a test says so."""
    with served(small_config(), clock=ManualClock()) as (sb, _srv, c):
        yield sb, c
        check_nothing_moved(sb, allow_deletes=True)  # these tests send DELETEs to the sandbox on purpose
