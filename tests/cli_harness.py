"""The command line as a person runs it, for the CLI tests: ``refundkit`` run in process (refundkit.testing.run_cli:
its own environment and folder, output captured, exit code returned) against a sandbox served on loopback.

Every run is checked: no traceback on stderr, the app token never printed. After every test: no money-moving call
and no DELETE reached the sandbox.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer
from refundkit.sandbox.store import OrderSummary
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved, run_cli

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def eligible(o: OrderSummary) -> bool:
    """An invoiced BRL order of BRL 50.00 or more with no return invoice: room for any small refund."""
    return o.status == "invoiced" and o.currency == "BRL" and not o.input_invoices and o.total_cents >= 5000


@dataclass
class Cli:
    sb: Sandbox
    srv: SandboxServer
    home: Path
    used: set[str]

    def env(self, **extra: str) -> dict[str, str]:
        cfg = self.sb.config
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "TMPDIR")}
        return {
            **keep,
            **sandbox_variables(self.srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(self.home / "cache"),
            "REFUNDKIT_USER": "clerk-cli",
            "REFUNDKIT_NOTE_LEASE_S": "0",  # reconcile right after a failed note (the lease has its own tests)
            "PYTHONIOENCODING": "utf-8",
            **extra,
        }

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
        proc = run_cli(args, self.env() if env is None else env, self.home)
        run = Run(proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in run.err, run.err
        token = self.sb.config.app_token
        assert token not in run.out and token not in run.err, "the app token was printed"
        return run

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in list(self.sb.requests) if r.method in WRITES]

    def order(self, pred: Callable[[OrderSummary], bool] | None = None) -> OrderSummary:
        pred = pred or eligible
        for o in self.sb.store.orders:
            if o.order_id not in self.used and pred(o):
                self.used.add(o.order_id)
                return o
        raise LookupError("no such order left in the sandbox store")

    def notes(self, order_id: str) -> list[dict]:
        with self.sb.notes.lock:
            return [dict(self.sb.notes.notes[i]) for i in self.sb.notes.by_target.get(order_id, [])]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, SandboxServer, Path]]:
    sb = Sandbox(SandboxConfig(orders=300, flash_sale_orders=0, start="2026-02-20", end="2026-04-30"))
    with sb.serve(port=0) as srv:
        yield sb, srv, tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def used() -> set[str]:
    return set()


@pytest.fixture
def cli(served: tuple[Sandbox, SandboxServer, Path], used: set[str]) -> Iterator[Cli]:
    sb, srv, home = served
    c = Cli(sb, srv, home, used)
    if not c.writes():
        assert c.run("setup").code == 0
    sb.faults.clear()
    yield c
    sb.faults.clear()
    check_nothing_moved(sb)
