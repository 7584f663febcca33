"""Recording: quote, record offline refunds exactly once, reverse them, list them.

How a refund is recorded exactly once
=====================================
Two documents per refund live in Master Data v2:

* the **order's ledger document** (entity ``{entity}Order``, id ``order-{orderId}``) holds every entry of the order
  and a ``version``. It is the source of truth for the order's balance.
* the **entry document** (entity ``{entity}``, id = the refund's identity) is the searchable copy, one per refund or
  reversal, which listings and reports read. It also carries the note status.

A refund's id is derived from its identity — order + source + external reference, normalised — so a retry, a
double click or a re-import names the same id. Recording appends the entry to the order's ledger document with a
**conditional write** carrying version ``v + 1``: ``PUT …/documents/order-{id}?_where=version={v}``, or, for the
order's first entry (no document yet, ``v = 0``), ``?_where=version is null``. Whoever read version ``v`` and
validated the balance against it wins only if nobody appended in between; the loser re-reads, re-validates against
the new balance (and sees the winner's entry if it was the same refund) and tries again. No ledger write is ever
unconditional, so no recorder can overwrite another's entry.

What this relies on, documented for Master Data v2:

1. ``GET /documents/{id}`` is strongly consistent (``/search`` and ``/scroll`` are not, so they are never used to
   decide whether something exists);
2. ``PUT /documents/{id}?_where=…`` writes only when the stored document satisfies the condition, atomically with
   the write (the save flow locks the document, then evaluates ``_where``, then persists).

What VTEX does not document, and how each plausible answer is handled:

* **The status of a write whose condition fails** (304, 400, 409, 412, or a 2xx that applied nothing): never looked
  at. After every conditional write the ledger document is read back by id. The write landed if the entry is there
  with this write's ``writeId``. Otherwise, if the version moved on, another recorder won: decide again. If nothing
  moved, the condition held and the write was still not applied: that is an error, reported with VTEX's answer.
* **A condition on an id that holds no document** — ignored (the document is created), evaluated against an empty
  document (``version is null`` holds), or refused. The first entry is written under ``version is null``. The first
  two cases create it, and a second concurrent creator finds the document there and its condition false. If it is
  refused, no safe way to write an order's first entry exists (an unconditional write could overwrite another
  recorder's), so refundkit refuses to record there and says why.
* **Whether conditions are honoured at all.** If they are ignored, two recorders at once overwrite each other and
  nothing a client reads back can prevent it, so refundkit refuses to record there.

Which case an account is in is probed once, on scratch documents, before its first write
(:mod:`refundkit.ledger.verdict`; ``refundkit setup`` and ``refundkit doctor`` probe it too), and kept with its
date under the cache dir. ``record``, ``reverse`` and ``import`` refuse to write, saying why, where the verdict says
exactly-once cannot hold. At run time the read-back also catches what it can: a conditional create that did not
create (refused on missing documents), and entries missing from the ledger after a lost race (conditions ignored).
Both stop recording with the reason, writing nothing more.

A refund by item carries its lines (SKU, uniqueId, units, amount) in its entry, so ``decide`` checks the order's
units (:mod:`refundkit.ledger.items`) against the very ledger it checks the money against, and the conditional
write covers both: a recorder that lost a race decides again with the winner's units counted.

After the append: the Do note (marked with the entry id, so it is never posted twice) and then the entry document.
If either fails the refund stays recorded — the ledger document has it — and is reported pending;
``refundkit reconcile`` finishes it. Such a refund can be reversed before that: ``reverse`` finds its order through
the orders' ledger documents when its entry document is missing. Nothing is ever deleted; a mistake is undone by a
reversal entry.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import (
    LedgerError,
    NetworkError,
    NoteLimitReached,
    NotFound,
    RefundkitError,
    ServerError,
    VtexError,
)
from ..textsafety import clip
from ..timeutil import Instant, utc_now
from ..vtex.client import VtexClient
from ..vtex.models import Order
from ..vtex.oms import check_order_id
from .items import ItemPick, OrderItems, describe_lines, order_items
from .journal import Journal
from .model import (
    REFUND,
    REVERSAL,
    LedgerEntry,
    NoteStatus,
    OrderLedger,
    Outcome,
    Pending,
    Quote,
    RecordResult,
    RefundConflict,
    RefundRefused,
    refund_id,
    reversal_id,
)
from .notetext import note_text
from .reconcile import LIMIT_REASON, RECONCILE_GRACE_S, ReconcileReport, reconcile
from .rules import (
    MAX_REASON,
    TEXT_CONTROLS_ALLOWED,
    RefundInput,
    build_quote,
    check_refund,
    clean_text,
    entry_from,
    other_currency,
    require_order_id,
    text_problem,
)
from .store import LedgerStore
from .valueverdict import apply_value_verdict

__all__ = ["Ledger"]

log = logging.getLogger("refundkit.ledger")


class Ledger:
    """Offline refunds of one VTEX account, kept in Master Data v2.

    >>> ledger = Ledger(VtexClient.from_env())                                     # doctest: +SKIP
    >>> ledger.quote("1306331686122-01").refundable                                # doctest: +SKIP
    Money(minor=7453, currency='BRL')
    >>> ledger.record("1306331686122-01", "12.34", "apace", "APC-123")            # doctest: +SKIP
    """

    def __init__(
        self,
        client: VtexClient,
        *,
        entity: str | None = None,
        user: str | None = None,
        extra_sources: Iterable[str] | None = None,
        journal_dir: Path | bool | None = True,
        verdict_dir: Path | bool | None = True,
        clock: Callable[[], Instant] = utc_now,
        max_attempts: int = 30,
        reconcile_grace_s: float = RECONCILE_GRACE_S,
        sleep: Callable[[float], None] = time.sleep,
        store_tz: str | None = None,
        note_claim_lease_s: float | None = None,
    ) -> None:
        self.client = client
        settings = client.settings
        entity = entity or settings.entity
        self.user = user or settings.user
        # REFUNDKIT_EXTRA_SOURCES (settings) unless the caller names the extra sources itself
        self.extra_sources = tuple(settings.extra_sources if extra_sources is None else extra_sources)
        #: The store's time zone for a refunded-at without a time (REFUNDKIT_STORE_TZ); None: the zone VTEX gives
        #: on each order (see refundkit.storetime).
        self.store_tz = store_tz or settings.store_tz
        self.clock = clock
        self.max_attempts = max_attempts
        self.reconcile_grace_s = reconcile_grace_s
        #: How long a note claimed by a reconcile run, or posted with its answer lost, is left alone by others.
        self.note_claim_lease_s = settings.note_lease_s if note_claim_lease_s is None else note_claim_lease_s
        if journal_dir is True:
            journal_dir = settings.cache_dir
        path = None
        if journal_dir:
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in (settings.account or "account"))
            path = Path(journal_dir) / f"journal-{safe}-{entity}.jsonl"
        #: where this account's Master Data verdict is kept (None: probed once per Ledger, kept in memory only)
        self.verdict_dir: Path | None = (
            settings.cache_dir if verdict_dir is True else (Path(verdict_dir) if verdict_dir else None)
        )
        #: the ledger's documents in Master Data, and this machine's journal of what it wrote
        self.store = LedgerStore(
            client.masterdata,
            entity=entity,
            account=settings.account or "account",
            journal=Journal(path),
            verdict_dir=self.verdict_dir,
        )
        #: how VTEX's order value reads after a return invoice on this account (its saved verdict, else "kept");
        #: the client's order reads follow it, and the revenue figures read it here
        self.value_reading, _source = apply_value_verdict(client, self.verdict_dir)
        self._rng = random.Random()
        self._sleep = sleep

    @property
    def entity(self) -> str:
        """The entity of the entry documents (the orders' ledger documents are in ``head_entity``)."""
        return self.store.entity

    @property
    def head_entity(self) -> str:
        return self.store.head_entity

    @property
    def journal(self) -> Journal:
        return self.store.journal

    def __repr__(self) -> str:
        return f"Ledger(account={self.client.settings.account!r}, entity={self.entity!r}, user={self.user!r})"

    # -- setup --------------------------------------------------------------------------------------------------
    def setup(self) -> list[str]:
        """Save (or re-save, idempotently) the two schemas, and probe how the account's Master Data answers
        conditional writes unless a verdict is saved already. Returns what was done, for display."""
        done = self.store.save_schemas()
        holds, why = self.store.master_data_verdict().exactly_once_holds()
        done.append(f"conditional writes: {why}" if holds else f"recording refused on this account: {why}")
        return done

    # -- can exactly-once hold on this account? -----------------------------------------------------------------
    def require_exactly_once(self) -> None:
        """Raise :class:`ExactlyOnceUnavailable` (nothing written) where this account's Master Data gives no safe
        way to record exactly once. Called before the first write of a record, a reversal or an import."""
        self.store.require_exactly_once()

    # -- reading ------------------------------------------------------------------------------------------------
    def order_ledger(self, order_id: str) -> OrderLedger:
        """The order's entries, read by id (strongly consistent: includes every acknowledged write)."""
        return self.store.order_ledger(order_id)

    def order_items(self, order_id: str) -> OrderItems:
        """The order's lines with their refundable units and price paid, and its shipping left to refund."""
        known = require_order_id(order_id)
        return order_items(self._order(known), self.order_ledger(known))

    def _order(self, order_id: str) -> Order:
        try:
            return self.client.orders.get(order_id)
        except NotFound:
            raise RefundRefused(
                [
                    (
                        f"order {order_id} does not exist on this VTEX account (check the id; orders "
                        f"older than two years cannot be read){self.client.orders.pii_hint()}"
                    )
                ]
            ) from None

    def quote(
        self,
        order_id: str,
        amount: Any = None,
        source: str = "other",
        external_ref: str = "quote",
        *,
        refunded_at: str | Instant | date | None = None,
        currency: str | None = None,
        allow_over_refund: bool = False,
        over_refund_reason: str = "",
        reason: str = "",
        note: str = "",
        items: Sequence[ItemPick | str] = (),
        shipping: Any = None,
        restock: bool | None = None,
    ) -> Quote:
        """The order's refundable balance and, for a proposed refund (``amount`` given), every problem with it.

        Raises :class:`RefundRefused` when the order cannot be read (not an order id, or none on this account),
        listing the proposal's other problems too, as :meth:`record` does."""
        if amount is None and not items and (shipping is None or shipping is False):
            known = require_order_id(order_id)
            return build_quote(self._order(known), self.order_ledger(known))
        raw = RefundInput(
            order_id,
            amount,
            source,
            external_ref,
            reason=reason,
            note=note,
            refunded_at=refunded_at,
            currency=currency,
            allow_over_refund=allow_over_refund,
            over_refund_reason=over_refund_reason,
            items=items,
            shipping=shipping,
            restock=restock,
        )
        oid, clean, problems = check_refund(
            raw, now=self.clock(), extra_sources=self.extra_sources, store_tz=self.store_tz
        )
        if oid is None:
            raise RefundRefused(problems)
        try:
            order = self._order(oid)
        except RefundRefused as exc:
            raise RefundRefused(exc.problems + problems) from None
        ledger = self.order_ledger(oid)
        return build_quote(order, ledger, raw, clean, problems)

    # -- recording ----------------------------------------------------------------------------------------------
    def record(
        self,
        order_id: str,
        amount: Any,
        source: str,
        external_ref: str,
        *,
        reason: str = "",
        note: str = "",
        refunded_at: str | Instant | date | None = None,
        currency: str | None = None,
        allow_over_refund: bool = False,
        over_refund_reason: str = "",
        items: Sequence[ItemPick | str] = (),
        shipping: Any = None,
        restock: bool | None = None,
    ) -> RecordResult:
        """Record an offline refund exactly once. Nothing moves money: only documents and a note are written.

        Raises :class:`RefundRefused` (nothing written; ``.problems`` lists every reason) or
        :class:`RefundConflict` (the same refund exists with another amount). Returns a :class:`RecordResult`
        whose ``outcome`` is ``"recorded"`` or ``"already recorded"``.

        A refund by item names ``items`` (``"346:2"``: two units of SKU 346; ``"346#2:1"`` the second line of SKU
        346; or a line's uniqueId) and/or ``shipping`` (True: what is left of the order's shipping; an amount: that
        much); ``amount`` may then be None (the price paid) or lower (a partial refund), never higher. Units beyond
        what is left of a line are refused, naming the SKU and what is left (see :mod:`refundkit.ledger.items`).
        ``restock`` is recorded as given (refundkit moves no inventory).
        """
        raw = RefundInput(
            order_id,
            amount,
            source,
            external_ref,
            reason=reason,
            note=note,
            refunded_at=refunded_at,
            currency=currency,
            allow_over_refund=allow_over_refund,
            over_refund_reason=over_refund_reason,
            items=items,
            shipping=shipping,
            restock=restock,
        )
        return self.record_input(raw)

    def record_input(
        self, raw: RefundInput, *, order: Order | None = None, ledger: OrderLedger | None = None
    ) -> RecordResult:
        now = self.clock()
        oid, clean, problems = check_refund(raw, now=now, extra_sources=self.extra_sources, store_tz=self.store_tz)
        if oid is None:
            raise RefundRefused(problems)
        if order is None:
            try:
                order = self._order(oid)
            except RefundRefused as exc:
                raise RefundRefused(exc.problems + problems) from None
        if problems:
            ledger = ledger or self.order_ledger(oid)
            quote = build_quote(order, ledger, raw, clean, problems)
            raise RefundRefused(list(quote.problems), quote)
        entry_id = refund_id(oid, clean["source"], clean["external_ref"])
        if ledger is None:
            ledger = self.order_ledger(oid)

        def decide(current: OrderLedger) -> tuple[Quote, LedgerEntry | None, LedgerEntry | None]:
            existing = current.entry(entry_id)
            # a retry is checked against the ledger as it was before it (its own units are not used up twice)
            quote = build_quote(
                order, current.without(entry_id) if existing and raw.by_item else current, raw, clean, problems
            )
            if existing is None and quote.problems:
                raise RefundRefused(list(quote.problems), quote)
            if existing is not None:  # what is shown is the balance with the refund in it, as recorded
                quote = replace(
                    quote, entries=current.entries, offline_refunded=current.offline_refunded(order.currency)
                )
            named = other_currency(raw, order.currency)
            if existing is not None and named:
                raise RefundConflict(
                    f"refund {existing.entry_id} is already recorded on order {existing.order_id} for "
                    f"{existing.amount}, not in {named}: check the currency",
                    existing,
                )
            entry = (
                None
                if existing
                else entry_from(raw, clean, quote, entry_id=entry_id, order_id=oid, user=self.user, now=now)
            )
            return quote, existing, entry

        return self._commit(order, ledger, decide, "refund")

    def _already(self, existing: LedgerEntry, quote: Quote) -> RecordResult:
        """The refund is in the ledger already: write nothing. Its note and entry document may still be on their way
        (another recorder may be finishing them right now), so a missing one is reported, and left to that recorder
        or to ``refundkit reconcile`` — posting it from here could put a second note on the order."""
        proposed = quote.proposed
        asked = tuple(line.key() for line in quote.lines)
        if existing.kind == REFUND and asked and asked != tuple(line.key() for line in existing.lines):
            was = describe_lines(existing.lines) or "an amount, no items"
            now = describe_lines(quote.lines)
            raise RefundConflict(
                f"refund {existing.entry_id} ({existing.source} {existing.external_ref!r}) is already recorded on "
                f"order {existing.order_id} as {was} for {existing.amount}, not as {now}"
                + (f" for {proposed}" if proposed is not None else "")
                + f"; if that was wrong, reverse it (refundkit reverse {existing.entry_id} --reason ...) and record "
                "the right one with a new reference",
                existing,
            )
        if proposed is not None and proposed != existing.amount:
            raise RefundConflict(
                f"refund {existing.entry_id} ({existing.source} {existing.external_ref!r}) is already recorded on "
                f"order {existing.order_id} for {existing.amount}, not {proposed}; if the amount was wrong, reverse "
                f"it (refundkit reverse {existing.entry_id} --reason ...) and record the right one with a new "
                "reference",
                existing,
            )
        quote = replace(quote, proposed=None, problems=(), warnings=())
        entry = existing
        pending: list[Pending] = []
        messages: list[str] = []
        try:
            doc = self.client.masterdata.get(self.entity, existing.entry_id, fields=["id", "noteStatus", "noteId"])
        except VtexError as exc:
            problem = f"could not read the entry document to check its note: {exc}"
            return RecordResult(Outcome.ALREADY_RECORDED, entry, quote, (), (problem,))
        if doc is None:
            pending = [Pending.NOTE, Pending.DOCUMENT]
            messages.append(
                "its order note and entry document are not written yet; if `refundkit refunds` still "
                "shows it pending in a minute, run `refundkit reconcile`"
            )
        else:
            entry = replace(
                existing,
                note_status=NoteStatus(doc.get("noteStatus") or NoteStatus.PENDING),
                note_id=doc.get("noteId") or None,
            )
            if entry.note_status != NoteStatus.POSTED:
                pending = [Pending.NOTE]
                messages.append("its order note is not posted yet; run `refundkit reconcile` to post it")
        return RecordResult(Outcome.ALREADY_RECORDED, entry, quote, tuple(pending), tuple(messages))

    def _pause(self, attempt: int) -> None:
        self._sleep(self._rng.uniform(0, min(0.2, 0.01 * attempt)))

    def _finish(self, entry: LedgerEntry, quote: Quote) -> RecordResult:
        """After this recorder appended ``entry``: post the note (once) and write the entry document. Failures leave
        the refund recorded and pending."""
        pending: list[Pending] = []
        messages: list[str] = []
        note_id = None
        attempt = None
        impossible = ""
        try:
            text = note_text(entry, quote)
            # one post: after a lost answer the marker is looked for once, and a note not listed yet is NOT posted
            # again (VTEX's notes list may lag behind a post); reconcile checks it once the lease has passed
            note, _ = self.client.notes.post_new(entry.order_id, text, marker=entry.entry_id, attempts=1)
            note_id = note.note_id
        except NoteLimitReached as exc:  # the 31st note: VTEX refuses it, the refund stays recorded
            impossible = f"{LIMIT_REASON} (VTEX: {exc})"
            messages.append(f"the refund is recorded, but its order note could not be added: {exc}")
        except RefundkitError as exc:
            if isinstance(exc, (NetworkError, ServerError)):
                attempt = self.clock()  # the note may be on the order already
            pending.append(Pending.NOTE)
            messages.append(f"the order note could not be posted ({exc}); run `refundkit reconcile` to post it")
        final = replace(
            entry,
            note_status=NoteStatus.POSTED if note_id else NoteStatus.IMPOSSIBLE if impossible else NoteStatus.PENDING,
            note_id=note_id,
            note_problem=impossible,
            note_attempt_at=attempt,
        )
        try:
            self.store.put_entry(final)
        except RefundkitError as exc:
            pending.append(Pending.DOCUMENT)
            messages.append(
                f"the entry document could not be written ({exc}); the refund is recorded in the "
                "order's ledger; run `refundkit reconcile` to finish"
            )
        return RecordResult(Outcome.RECORDED, final, quote, tuple(pending), tuple(messages))

    # -- reversal -----------------------------------------------------------------------------------------------
    def reverse(self, entry_id: str, reason: str, *, order_id: str | None = None) -> RecordResult:
        """Undo a refund by appending a reversal entry (and a note). Reversing twice records one reversal."""
        entry_id = (entry_id or "").strip().lower()
        if not entry_id.startswith("rf-") or len(entry_id) != 27:
            raise RefundRefused(
                [
                    (
                        f"{clip(entry_id)} is not a refund id (refund ids look like rf- and 24 hex digits; "
                        "list them with `refundkit refunds --order ORDER_ID`)"
                    )
                ]
            )
        if not reason or not reason.strip():
            raise RefundRefused(["a reversal needs a reason: say why the refund is being undone"])
        problem = text_problem("reason", reason, MAX_REASON, allowed=TEXT_CONTROLS_ALLOWED)
        if problem:
            raise RefundRefused([problem])
        reason = clean_text(reason)
        if order_id is None:
            order_id = self.store.order_of(entry_id)
        oid = check_order_id(order_id)
        order = self._order(oid)
        rid = reversal_id(entry_id)
        now = self.clock()

        def decide(current: OrderLedger) -> tuple[Quote, LedgerEntry | None, LedgerEntry | None]:
            target = current.entry(entry_id)
            if target is None or target.kind != REFUND:
                raise RefundRefused([f"refund {entry_id} is not in the ledger of order {oid}"])
            existing = current.reversal_of(entry_id)
            entry = (
                None
                if existing
                else LedgerEntry(
                    entry_id=rid,
                    order_id=oid,
                    kind=REVERSAL,
                    amount=target.amount,
                    refunded_at=now,
                    source=target.source,
                    external_ref=target.external_ref,
                    reason=reason.strip(),
                    note="",
                    recorded_by=self.user,
                    recorded_at=now,
                    reverses=entry_id,
                    lines=target.lines,
                )
            )
            return build_quote(order, current), existing, entry

        return self._commit(order, self.order_ledger(oid), decide, "reversal")

    def _commit(
        self,
        order: Order,
        ledger: OrderLedger,
        decide: Callable[[OrderLedger], tuple[Quote, LedgerEntry | None, LedgerEntry | None]],
        what: str,
    ) -> RecordResult:
        """The optimistic loop: ``decide`` validates against the ledger as read and returns (quote, the entry already
        there or None, the entry to append); append it conditionally; on a lost race decide again on what won."""
        for attempt in range(1, self.max_attempts + 1):
            quote, existing, entry = decide(ledger)
            if existing is not None:
                return self._already(existing, quote)
            assert entry is not None
            self.require_exactly_once()  # before the first write (the verdict is kept after the first call)
            landed, back = self.store.append(ledger, entry)
            if landed:
                return self._finish(
                    entry, replace(quote, entries=back.entries, offline_refunded=back.offline_refunded(order.currency))
                )
            ledger = back
            self._pause(attempt)
        raise LedgerError(
            f"order {order.order_id} is being changed by others too often to record this {what}; try again"
        )

    # -- listing ------------------------------------------------------------------------------------------------
    # -- listing ------------------------------------------------------------------------------------------------
    def entries(
        self, *, order_id: str | None = None, start: Instant | None = None, end: Instant | None = None
    ) -> list[LedgerEntry]:
        """Ledger entries of one order, or with ``refundedAt`` in ``[start, end)``, or all (see
        :meth:`LedgerStore.entries`)."""
        return self.store.entries(order_id=order_id, start=start, end=end)

    # -- reconcile ----------------------------------------------------------------------------------------------
    def reconcile(
        self, *, order_ids: Iterable[str] | None = None, progress: Callable[[int, int], None] | None = None
    ) -> ReconcileReport:
        """Finish what failed half-way: write missing entry documents, post missing notes (never twice: each note
        carries its entry id, looked for first), and report orders refunded beyond their total."""
        return reconcile(
            self.store,
            self.client,
            clock=self.clock,
            grace_s=self.reconcile_grace_s,
            lease_s=self.note_claim_lease_s,
            order_ids=order_ids,
            progress=progress,
        )
