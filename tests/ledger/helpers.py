"""Helpers of the ledger tests: sandbox environments (order picking and what the sandbox holds come from
:mod:`refundkit.testing`, re-exported here under their old names)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.ledger.model import REFUND, LedgerEntry
from refundkit.money import Money
from refundkit.sandbox import FaultRule, Sandbox, SandboxServer
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import (  # re-exported: the ledger tests import them from here
    OrderPicker,
    notes_marked,
    notes_of,
    small_config,
    stored_doc,
    writes,
)
from refundkit.timeutil import Instant
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy

__all__ = [
    "Env",
    "Orders",
    "money",
    "note_posts",
    "notes_marked",
    "notes_of",
    "small_config",
    "stored_doc",
    "writes",
]

# What the sandbox holds, and order picking: shared with every other test folder through refundkit.testing.
Orders = OrderPicker


def note_posts(sb: Sandbox) -> int:
    return sum(1 for r in list(sb.requests) if r.method == "POST" and r.path == "/api/do/notes")


def money(cents: int) -> str:
    """Cents as the decimal text a person types (2-decimal currencies)."""
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Env:
    """One served sandbox and what a test needs to talk to it."""

    sb: Sandbox
    srv: SandboxServer
    tmp: Path
    stack: ExitStack
    orders: Orders

    @property
    def env(self) -> dict[str, str]:
        cfg = self.sb.config
        return {
            **sandbox_variables(self.srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(self.tmp / "cache"),
            "REFUNDKIT_USER": "tester",
        }

    def client(self, **transport: object) -> VtexClient:
        transport.setdefault("retry", RetryPolicy.fast())
        client = VtexClient(load_settings(env=self.env, env_file=False), **transport)
        self.stack.callback(client.close)
        return client

    def ledger(self, *, journal: Path | bool | None = None, user: str | None = None, **kw: object) -> Ledger:
        """A ledger on a new client. ``journal`` defaults to a folder under the test's tmp path."""
        client = self.client()
        journal_dir = self.tmp / "journal" if journal is None else journal
        kw.setdefault("reconcile_grace_s", 0)  # tests reconcile right after a fault; the grace has its own test
        kw.setdefault("note_claim_lease_s", 0)  # likewise the claim lease (tests/ledger/test_note_claims.py)
        return Ledger(client, journal_dir=journal_dir, user=user, **kw)

    def fault(self, method: str, path: str, **kw: object) -> FaultRule:
        return self.sb.faults.add(FaultRule(method=method, path=path, **kw))

    def writes(self) -> list[tuple[str, str]]:
        return writes(self.sb)


def put_entries(
    ledger: Ledger, n: int, *, ms: Callable[[int], int], ref: Callable[[int], str] = lambda k: f"C-{k}"
) -> None:
    """``n`` entry documents written as the ledger writes them (the listing reads only these)."""
    for k in range(n):
        e = LedgerEntry(
            entry_id=f"rf-{(k * 7919) % 1000:04d}-{k:04d}",  # ids in no relation to the write order
            order_id=f"{1_000_000_000_000 + k}-01",
            kind=REFUND,
            amount=Money(100 + k, "BRL"),
            refunded_at=Instant(ms(k) * 1_000_000),
            source="cash",
            external_ref=ref(k),
            reason="",
            note="",
            recorded_by="ana",
            recorded_at=Instant(ms(k) * 1_000_000),
        )
        ledger.client.masterdata.put(ledger.entity, e.entry_id, e.to_document())
