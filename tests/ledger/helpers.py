"""Helpers of the ledger tests: sandbox environments, order picking and what the sandbox holds."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.sandbox import FaultRule, Sandbox, SandboxConfig, SandboxServer
from refundkit.sandbox.store import OrderSummary
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def small_config(**kw) -> SandboxConfig:
    """A small store (fast to build): 300 regular orders from 2026-02-20 to 2026-04-30."""
    base = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}
    base.update(kw)
    return SandboxConfig(**base)


def writes(sb: Sandbox) -> list[tuple[str, str]]:
    """(method, path) of every write the sandbox answered, in order."""
    return [(r.method, r.path) for r in list(sb.requests) if r.method in WRITE_METHODS]


def note_posts(sb: Sandbox) -> int:
    return sum(1 for r in list(sb.requests) if r.method == "POST" and r.path == "/api/do/notes")


def notes_of(sb: Sandbox, order_id: str) -> list[dict]:
    """The notes the sandbox holds for an order (read from its state, not over HTTP)."""
    with sb.notes.lock:
        return [dict(sb.notes.notes[i]) for i in sb.notes.by_target.get(order_id, [])]


def notes_marked(sb: Sandbox, order_id: str, entry_id: str) -> int:
    return sum(1 for n in notes_of(sb, order_id) if f"[refundkit:{entry_id}]" in n["description"])


def stored_doc(sb: Sandbox, entity: str, doc_id: str) -> dict | None:
    """A Master Data document as the sandbox holds it now (None when absent)."""
    with sb.masterdata.lock:
        ent = sb.masterdata.entities.get(entity)
        rec = ent.docs.get(doc_id.lower()) if ent else None
        return dict(rec.current) if rec and rec.current else None


@dataclass
class Orders:
    """Orders of the sandbox store, chosen for what each test needs."""

    sb: Sandbox
    used: set[str] = field(default_factory=set)

    def pick(self, pred: Callable[[OrderSummary], bool], what: str) -> OrderSummary:
        for o in self.sb.store.orders:
            if o.order_id not in self.used and pred(o):
                self.used.add(o.order_id)
                return o
        raise LookupError(f"the sandbox store has no (more) {what}")

    def invoiced(self, currency: str = "BRL", min_total: int = 5000) -> OrderSummary:
        return self.pick(
            lambda o: (
                o.status == "invoiced"
                and o.currency == currency
                and not o.input_invoices
                and o.total_cents >= min_total
            ),
            f"invoiced {currency} order",
        )

    def usd(self) -> OrderSummary:
        return self.invoiced("USD", min_total=1000)

    def status(self, status: str) -> OrderSummary:
        return self.pick(lambda o: o.status == status, f"{status} order")

    def partly_returned(self) -> OrderSummary:
        """An invoiced order with a return invoice that did not refund all of it."""
        return self.pick(
            lambda o: o.status == "invoiced" and bool(o.input_invoices) and 0 < o.refunded_cents < o.total_cents,
            "order with a partial return invoice",
        )

    def fully_returned(self) -> OrderSummary:
        return self.pick(
            lambda o: o.status == "invoiced" and bool(o.input_invoices) and o.refunded_cents >= o.total_cents,
            "order refunded in full by a return invoice",
        )

    def eligible(self, n: int) -> list[OrderSummary]:
        return [self.invoiced() for _ in range(n)]


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
            "VTEX_BASE_URL": self.srv.base_url,
            "VTEX_ACCOUNT_NAME": cfg.account,
            "VTEX_APP_KEY": cfg.app_key,
            "VTEX_APP_TOKEN": cfg.app_token,
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
        return Ledger(client, journal_dir=journal_dir, user=user, **kw)

    def fault(self, method: str, path: str, **kw: object) -> FaultRule:
        return self.sb.faults.add(FaultRule(method=method, path=path, **kw))

    def writes(self) -> list[tuple[str, str]]:
        return writes(self.sb)
