"""Sandbox fixtures for the VTEX client's end-to-end tests: a sandbox served on loopback and a VtexClient pointed
at it with fast retries. Every sandbox checks on the way out that nothing tried to move money."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from refundkit.config import Secret, Settings
from refundkit.testing import check_nothing_moved


@contextmanager
def sandbox_client(
    tmp_path: Any = None, client_options: dict | None = None, clock: Any = None, **config: Any
) -> Iterator[tuple]:
    """``(sandbox, server, client)``; the sandbox built from ``config`` (a SandboxConfig's fields), on ``clock``
    (a :class:`refundkit.testing.ManualClock`) when given."""
    from refundkit.sandbox import Sandbox, SandboxConfig
    from refundkit.vtex import RetryPolicy, VtexClient

    sb = Sandbox(SandboxConfig(**config)) if clock is None else Sandbox(SandboxConfig(**config), clock=clock)
    options: dict[str, Any] = {"retry": RetryPolicy.fast(), "timeout": 10.0}
    options.update(client_options or {})
    with sb.serve(port=0) as srv:
        settings = Settings(
            account=sb.config.account,
            app_key=sb.config.app_key,
            app_token=Secret(sb.config.app_token),
            base_url=srv.base_url,
            user="tester",
            **({"cache_dir": tmp_path} if tmp_path is not None else {}),
        )
        with VtexClient(settings, **options) as client:
            yield sb, srv, client
        check_nothing_moved(sb)


#: June 2026: 800 regular orders plus 3,200 on the flash-sale day (2026-06-15), a group of 40 orders sharing the
#: instant 2026-06-10T00:00:00 and 25 sharing 2026-06-20T14:27:31.4159267.
JUNE = {"orders": 800, "flash_sale_orders": 3200, "start": "2026-06-01", "end": "2026-06-30", "seed": 11}


def fast_pacing() -> dict:
    """Client options for tests that are not about pacing: start fast instead of at the cautious 20 calls/s."""
    from refundkit.vtex import AdaptiveLimiter

    return {"limiter_factory": lambda: AdaptiveLimiter(initial_rate=500.0)}


@pytest.fixture
def june() -> Iterator[tuple]:
    with sandbox_client(client_options=fast_pacing(), **JUNE) as triple:
        yield triple
