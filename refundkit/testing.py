"""Helpers for tests that run refundkit against the sandbox: refundkit's own suite, and a merchant's scripts.

* :func:`small_config` — a sandbox store that builds in a blink (300 orders, 2026-02-20 to 2026-04-30);
* :class:`ServedSandbox` / :func:`serve` — a sandbox on loopback with the settings and environment that reach it;
* :func:`check_nothing_moved` — the money-movement guard: no money-moving endpoint, no DELETE, no sandbox bug;
* :class:`OrderPicker` — orders of the synthetic store, chosen by what a test needs, each handed out once;
* :func:`writes`, :func:`notes_of`, :func:`notes_marked`, :func:`stored_doc` — what the sandbox holds, read from
  its state rather than over HTTP;
* :class:`SeedEntry`, :func:`seed_ledger` — a ledger of many entries put straight into the sandbox, in the shape
  refundkit writes, each entry as far as its recording got (faster than recording them over HTTP);
* :func:`run_cli` — the ``refundkit`` command run in this process, with its own environment, folder and captured
  output, as a subprocess would run it but without starting Python again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import Settings, load_settings
from .ledger.model import LedgerEntry, NoteStatus, OrderLedger, head_entity
from .ledger.notetext import note_text
from .ledger.rules import build_quote
from .ledger.schemas import head_document
from .sandbox import Sandbox, SandboxConfig, SandboxServer
from .sandbox.oms import order_json
from .sandbox.orderdetail import item_shape
from .sandbox.store import OrderSummary
from .sandbox.variables import sandbox_variables
from .vtex.models import Order

__all__ = [
    "DEMO_TODAY",
    "SMALL_STORE",
    "CliResult",
    "ManualClock",
    "OrderPicker",
    "SeedEntry",
    "ServedSandbox",
    "check_nothing_moved",
    "notes_marked",
    "notes_of",
    "run_cli",
    "seed_ledger",
    "serve",
    "small_config",
    "stored_doc",
    "writes",
]

#: The day the suite pins the demo store to (``SandboxConfig(today=DEMO_TODAY)``): its orders then run from 2025-10-01
#: to 2026-10-31, as every figure the tests check was computed on. Unpinned, the demo store runs up to today.
DEMO_TODAY = "2026-10-31"

#: A small store for tests that need real orders but not thousands of them (builds in milliseconds).
SMALL_STORE: dict[str, Any] = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def small_config(**changes: Any) -> SandboxConfig:
    """:data:`SMALL_STORE` with ``changes`` (any :class:`~refundkit.sandbox.SandboxConfig` field)."""
    return SandboxConfig(**{**SMALL_STORE, **changes})


def check_nothing_moved(sb: Sandbox, *, allow_deletes: bool = False) -> None:
    """Raise :class:`AssertionError` unless the sandbox saw no money-moving call, no DELETE and no failure of its
    own. The sandbox answers a money-moving endpoint (refund, cancel, invoice, payments) with 403 and records it.

    ``allow_deletes`` is for the sandbox's own tests, which send DELETEs to prove how the sandbox answers them;
    refundkit itself never deletes (a mistake is corrected by a reversal entry)."""
    moved = [f"{r.method} {r.path}" for r in sb.money_moving_calls]
    if moved:
        raise AssertionError(f"refundkit called an endpoint that moves money: {', '.join(moved)}")
    deleted = [f"{r.method} {r.path}" for r in list(sb.requests) if r.method == "DELETE"]
    if deleted and not allow_deletes:
        raise AssertionError(f"refundkit deleted something: {', '.join(deleted)}")
    if sb.internal_errors:
        raise AssertionError(f"the sandbox failed: {sb.internal_errors[0]}")


@dataclass
class ServedSandbox:
    """A sandbox, its running server, and how a client reaches it."""

    sb: Sandbox
    srv: SandboxServer
    cache_dir: Path

    @property
    def base_url(self) -> str:
        return self.srv.base_url

    def env(self, **extra: str) -> dict[str, str]:
        """The variables that point refundkit at this sandbox (what ``refundkit sandbox`` prints)."""
        return {
            **sandbox_variables(self.srv.base_url, self.sb.config),
            "REFUNDKIT_CACHE_DIR": str(self.cache_dir),
            "REFUNDKIT_USER": "tester",
            **extra,
        }

    def settings(self, **extra: str) -> Settings:
        return load_settings(env=self.env(**extra), env_file=False)


@contextlib.contextmanager
def serve(config: SandboxConfig | None = None, *, cache_dir: Path, check: bool = True) -> Iterator[ServedSandbox]:
    """Serve a sandbox on a free loopback port; on the way out, :func:`check_nothing_moved` (unless ``check`` is
    false, for a test that calls a money-moving endpoint on purpose to prove the sandbox refuses it)."""
    sb = Sandbox(config or small_config())
    with sb.serve(port=0) as srv:
        yield ServedSandbox(sb, srv, cache_dir)
    if check:
        check_nothing_moved(sb)


class ManualClock:
    """A monotonic clock that moves only when told: pass it as ``Sandbox(config, clock=clock)`` (or ``clock=`` to
    whatever takes one) and call :meth:`advance` instead of sleeping."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- what the sandbox holds -------------------------------------------------------------------------------------
def writes(sb: Sandbox) -> list[tuple[str, str]]:
    """(method, path) of every write the sandbox answered, in order."""
    return [(r.method, r.path) for r in list(sb.requests) if r.method in WRITE_METHODS]


def notes_of(sb: Sandbox, order_id: str) -> list[dict[str, Any]]:
    """The notes the sandbox holds for an order."""
    with sb.notes.lock:
        return [dict(sb.notes.notes[i]) for i in sb.notes.by_target.get(order_id, [])]


def notes_marked(sb: Sandbox, order_id: str, entry_id: str) -> int:
    """How many of the order's notes carry refundkit's marker for ``entry_id``."""
    return sum(1 for n in notes_of(sb, order_id) if f"[refundkit:{entry_id}]" in n["description"])


def stored_doc(sb: Sandbox, entity: str, doc_id: str) -> dict[str, Any] | None:
    """A Master Data document as the sandbox holds it now (None when absent)."""
    with sb.masterdata.lock:
        ent = sb.masterdata.entities.get(entity)
        rec = ent.docs.get(doc_id.lower()) if ent else None
        return dict(rec.current) if rec and rec.current else None


@dataclass(frozen=True)
class SeedEntry:
    """One entry of a ledger put straight into the sandbox (:func:`seed_ledger`), and how far its recording got.

    ``entry``: the entry as recorded (refund or reversal; its note fields are set by the seeding). ``note``: its
    order note was posted. ``document``: its entry document was written (saying the note posted, or pending when
    ``note`` is false). ``settled``: an earlier reconcile copied the note's outcome into the order's ledger document
    (only where the note was posted and the document written)."""

    entry: LedgerEntry
    note: bool = True
    document: bool = True
    settled: bool = False


def seed_ledger(sb: Sandbox, seeds: Iterable[SeedEntry], *, entity: str = Settings.entity) -> None:
    """Put a ledger straight into the sandbox's Master Data and notes, as if recorded long ago (search sees it at
    once), in the shape refundkit writes: each order's ledger document with its entries in the order given (as
    appended: a write id each, the note pending unless ``settled``), each entry document as the recorder left it,
    each posted note with its marker and the text a recorder posts. The orders must be in the sandbox's store.

    Save the ledger's schemas first (``Ledger.setup()``), or after: saving a schema matches the documents again."""
    by_order: dict[str, list[SeedEntry]] = {}
    for seed in seeds:
        by_order.setdefault(seed.entry.order_id, []).append(seed)
    heads: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for oid, group in by_order.items():
        body = order_json(sb.store, oid)
        if body is None:
            raise LookupError(f"order {oid} is not in the sandbox's store")
        order = Order.from_vtex(body)
        appended: list[LedgerEntry] = []
        kept: list[LedgerEntry] = []
        for n, seed in enumerate(group, 1):
            entry = replace(
                seed.entry,
                note_status=NoteStatus.PENDING,
                note_id=None,
                note_problem="",
                note_attempt_at=None,
                note_claim="",
                note_claimed_at=None,
                write_id=uuid.uuid5(uuid.NAMESPACE_URL, seed.entry.entry_id).hex,
            )
            appended.append(entry)
            if seed.note:
                quote = build_quote(order, OrderLedger(oid, n, tuple(appended)))  # the balance the note states
                note = sb.notes.seed(oid, note_text(entry, quote))
                entry = replace(entry, note_status=NoteStatus.POSTED, note_id=str(note["id"]))
            if seed.document:
                documents.append(entry.to_document())
            kept.append(entry if seed.settled and seed.note and seed.document else appended[-1])
        settled = any(s.settled for s in group)
        heads.append(head_document(OrderLedger(oid, len(group) + settled, tuple(kept))))
    sb.masterdata.seed(head_entity(entity), heads)
    sb.masterdata.seed(entity, documents)


@dataclass
class OrderPicker:
    """Orders of the sandbox store, chosen for what each test needs; each order is handed out once."""

    sb: Sandbox
    used: set[str] = field(default_factory=set)

    def pick(self, pred: Callable[[OrderSummary], bool], what: str = "matching order") -> OrderSummary:
        for o in self.sb.store.orders:
            if o.order_id not in self.used and pred(o):
                self.used.add(o.order_id)
                return o
        raise LookupError(f"the sandbox store has no (more) {what}")

    def invoiced(self, currency: str = "BRL", min_total: int = 5000) -> OrderSummary:
        """An invoiced order without return invoices, of at least ``min_total`` minor units."""
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

    def several_skus(self, units: int = 1) -> OrderSummary:
        """An invoiced BRL order without return invoices, with shipping charged and two lines or more, each of its
        own SKU (on one line of ``items[]`` each), one of them of at least ``units`` units: an order to refund by
        item."""
        return self.pick(
            lambda o: (
                o.status == "invoiced"
                and o.currency == "BRL"
                and not o.input_invoices
                and o.shipping_cents > 0
                and len({i.sku for i in o.items}) == len(o.items) >= 2
                and len(item_shape(o).lines) == len(o.items)
                and any(i.quantity >= units for i in o.items)
            ),
            "order of several SKUs",
        )

    def repeated_sku(self) -> OrderSummary:
        """An invoiced BRL order without return invoices whose ``items[]`` has one SKU on two lines."""
        return self.pick(
            lambda o: (
                o.status == "invoiced"
                and o.currency == "BRL"
                and not o.input_invoices
                and len(item_shape(o).lines) > len(o.items)
            ),
            "order with a SKU on two lines",
        )

    def eligible(self, n: int) -> list[OrderSummary]:
        return [self.invoiced() for _ in range(n)]


# -- the command line, in process -------------------------------------------------------------------------------
@dataclass
class CliResult:
    """What a run of ``refundkit`` left: its exit code and output (with subprocess's names too)."""

    code: int
    out: str
    err: str

    @property
    def returncode(self) -> int:
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(args: Sequence[str], env: Mapping[str, str], cwd: Path | str) -> CliResult:
    """Run ``refundkit *args`` in this process as a subprocess would: with exactly ``env`` as the environment, in
    ``cwd`` (where ``.env`` is looked for), stdout and stderr captured, the exit code returned (argparse's exits
    included). Everything is restored afterwards. Not for concurrent use: the environment is the process's."""
    from .present.cli import main  # noqa: PLC0415 - the CLI loads only when a test runs it

    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: usage errors and --help
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    return CliResult(code, out.getvalue(), err.getvalue())
