"""Fixtures for the ledger tests: a small sandbox served on loopback, clients and ledgers pointed at it, and the
orders the tests need (picked from the sandbox's store by status and currency).

Every sandbox made through these fixtures is checked after each test: no money-moving endpoint was called, no
DELETE was sent, and the sandbox itself did not fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from refundkit.ledger import Ledger
from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer

from .helpers import Env, Orders, small_config

_made: list[Sandbox] = []  # every sandbox built during the current test


@pytest.fixture(autouse=True)
def _vtex_never_moves_money() -> Iterator[None]:
    """After every test, on every sandbox it used: no money-moving call, no DELETE, no sandbox failure."""
    _made.clear()
    yield
    for sb in _made:
        assert sb.money_moving_calls == [], "refundkit called an endpoint that moves money"
        assert sb.deletes == [], "refundkit deleted a Master Data document"
        assert not [r for r in list(sb.requests) if r.method == "DELETE"], "refundkit sent a DELETE"
        assert sb.internal_errors == [], sb.internal_errors[:1]
    _made.clear()


def _serve(stack: ExitStack, config: SandboxConfig) -> tuple[Sandbox, SandboxServer]:
    sb = Sandbox(config)
    _made.append(sb)
    srv = stack.enter_context(sb.serve(port=0))
    return sb, srv


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    """Build a served sandbox with a given config (``small_config`` keyword arguments); schemas saved."""
    with ExitStack() as stack:
        n = [0]

        def make(*, setup: bool = True, **config: object) -> Env:
            n[0] += 1
            sb, srv = _serve(stack, small_config(**config))
            tmp = tmp_path / f"env{n[0]}"
            tmp.mkdir()
            env = Env(sb, srv, tmp, stack, Orders(sb))
            if setup:
                env.ledger(journal=False).setup()
            return env

        yield make


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """A fresh small sandbox (no latency, no lag), schemas saved."""
    return make_env()


@pytest.fixture
def ledger(env: Env) -> Ledger:
    return env.ledger(user="tester")
