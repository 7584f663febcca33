"""Fixtures for the ledger tests: a small sandbox served on loopback (from the root ``sandbox_factory``, so each one
is checked after the test: no money moved, nothing deleted, no sandbox failure), clients and ledgers pointed at it,
and the orders the tests need."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from refundkit.ledger import Ledger

from .helpers import Env, Orders


@pytest.fixture
def make_env(sandbox_factory: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., Env]]:
    """Build a served sandbox with a given config (``small_config`` keyword arguments); schemas saved."""
    with ExitStack() as stack:
        n = [0]

        def make(*, setup: bool = True, **config: object) -> Env:
            n[0] += 1
            served = sandbox_factory(**config)
            tmp = tmp_path / f"env{n[0]}"
            tmp.mkdir()
            env = Env(served.sb, served.srv, tmp, stack, Orders(served.sb))
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
