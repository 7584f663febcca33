"""Where the ledger lives: the two Master Data entities of an account (the orders' ledger documents and the entry
documents), read by id and appended to by conditional writes, and this machine's journal of what it wrote.

The argument for exactly once is in :mod:`refundkit.ledger.recording`; this module is the part of it that talks to
Master Data: :meth:`LedgerStore.append` (the conditional write and its read-back), :meth:`LedgerStore.entries` (the
three sources a listing merges so no entry is lost), and the account's verdict on conditional writes
(:meth:`LedgerStore.require_exactly_once`), probed once before the first write.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..errors import BadResponse, LedgerError, NotFound
from ..timeutil import Instant
from ..vtex.masterdata import MasterData
from ..vtex.oms import check_order_id
from .journal import Journal
from .model import (
    ENTRY_FIELD_NAMES,
    ExactlyOnceUnavailable,
    LedgerEntry,
    NoteStatus,
    OrderLedger,
    RefundRefused,
    head_entity,
    head_id,
)
from .schemas import ENTRY_SCHEMA, HEAD_SCHEMA, SCHEMA_NAME, head_document, same_schema
from .verdict import MasterDataVerdict, load_verdict, probe_master_data, save_verdict

__all__ = ["LedgerStore"]

log = logging.getLogger("refundkit.ledger")


class LedgerStore:
    """One account's ledger in Master Data v2: entity ``entity`` holds the entry documents, ``entity + "Order"`` the
    orders' ledger documents; ``journal`` keeps what this machine wrote; ``verdict_dir`` is where the account's Master
    Data verdict is kept (None: probed once per store, kept in memory only)."""

    def __init__(
        self, masterdata: MasterData, *, entity: str, account: str, journal: Journal, verdict_dir: Path | None
    ) -> None:
        self.masterdata = masterdata
        self.entity = entity
        self.head_entity = head_entity(entity)
        self.account = account
        self.journal = journal
        self.verdict_dir = verdict_dir
        self._verdict: MasterDataVerdict | None = None
        self._verdict_lock = threading.Lock()

    # -- setup --------------------------------------------------------------------------------------------------
    def save_schemas(self) -> list[str]:
        """Save (or re-save, idempotently) the two schemas. Returns what was done, for display."""
        done = []
        for entity, schema in ((self.entity, ENTRY_SCHEMA), (self.head_entity, HEAD_SCHEMA)):
            current = self.masterdata.get_schema(entity, SCHEMA_NAME)
            if current is not None and same_schema(current, schema):
                done.append(f"schema {SCHEMA_NAME} of {entity}: already up to date")
                continue
            self.masterdata.save_schema(entity, SCHEMA_NAME, schema)
            done.append(f"schema {SCHEMA_NAME} of {entity}: saved")
        return done

    # -- can exactly-once hold on this account? -----------------------------------------------------------------
    def master_data_verdict(self, *, probe_again: bool = False) -> MasterDataVerdict:
        """How this account's Master Data answers conditional writes: the saved verdict, or (none saved yet, or
        ``probe_again``) probed now on scratch documents and saved. Probed at most once per store."""
        with self._verdict_lock:
            if self._verdict is None or probe_again:
                verdict = None
                if self.verdict_dir is not None and not probe_again:
                    verdict = load_verdict(self.verdict_dir, self.account)
                if verdict is None:
                    verdict = probe_master_data(self.masterdata, account=self.account)
                    if self.verdict_dir is not None:
                        try:
                            save_verdict(self.verdict_dir, verdict)
                        except OSError as exc:  # kept in memory for this store; probed again next time
                            log.warning("could not save the Master Data verdict under %s: %s", self.verdict_dir, exc)
                self._verdict = verdict
            return self._verdict

    def require_exactly_once(self) -> None:
        """Raise :class:`ExactlyOnceUnavailable` (nothing written) where this account's Master Data gives no safe
        way to record exactly once. Called before the first write of a record, a reversal, an import or a reconcile."""
        holds, why = self.master_data_verdict().exactly_once_holds()
        if not holds:
            raise ExactlyOnceUnavailable(why)

    # -- reading ------------------------------------------------------------------------------------------------
    def order_ledger(self, order_id: str) -> OrderLedger:
        """The order's entries, read by id (strongly consistent: includes every acknowledged write)."""
        oid = check_order_id(order_id)
        doc = self.masterdata.get(self.head_entity, head_id(oid))
        return OrderLedger.from_document(oid, doc)

    # -- writing ------------------------------------------------------------------------------------------------
    def append(self, ledger: OrderLedger, entry: LedgerEntry) -> tuple[bool, OrderLedger]:
        """Conditional append of ``entry`` to the order's ledger document: (landed, the ledger as read back).

        ``landed`` means *this* write put the entry there: a concurrent recorder of the same refund (same entry id)
        may have won the race, and then the entry read back carries that recorder's write id, not ours. What
        happened is decided from the document read back by id, never from the status (see
        :mod:`refundkit.ledger.recording`).
        Raises :class:`ExactlyOnceUnavailable` when the read-back shows the account breaks what exactly-once needs.
        """
        oid = ledger.order_id
        entry = replace(entry, write_id=uuid.uuid4().hex)
        new = OrderLedger(oid, ledger.version + 1, (*ledger.entries, entry))
        # version 0 is a document that does not exist yet: create it under a condition a missing document satisfies
        where = "version is null" if ledger.version == 0 else f"version={ledger.version}"
        answer = self.masterdata.put_if(
            self.head_entity, head_id(oid), head_document(new), where=where, schema=SCHEMA_NAME
        )
        back = self.order_ledger(oid)
        found = back.entry(entry.entry_id)
        if found is not None and found.write_id == entry.write_id:
            self.journal.add(entry.entry_id, entry.order_id, entry.refunded_at.filter_format())
            return True, back
        lost = [e.entry_id for e in ledger.entries if back.entry(e.entry_id) is None]
        if lost:
            raise ExactlyOnceUnavailable(
                f"the ledger of order {oid} lost {len(lost)} earlier entr{'y' if len(lost) == 1 else 'ies'} "
                f"({', '.join(lost)}) to a write whose condition should have failed: this account's Master Data "
                "does not honour _where conditions, so refundkit stops recording here (re-record the lost refunds "
                "once `refundkit doctor` shows conditions honoured)"
            )
        if back.version > ledger.version:
            log.debug("conditional write on %s answered %s; another recorder wrote first", oid, answer.status)
            return False, back
        # nobody else wrote, so our condition held, and still nothing was applied
        if ledger.version == 0:
            raise ExactlyOnceUnavailable(
                f"Master Data did not create the ledger document of order {oid} under _where=version is null "
                f"although none existed ({answer.describe()}): this account seems to refuse conditional writes on "
                "missing documents, so refundkit cannot record an order's first refund exactly once and wrote "
                "nothing (run `refundkit doctor` to probe the account again)"
            )
        raise LedgerError(
            f"Master Data did not apply the ledger write of order {oid} although its condition held "
            f"({answer.describe()}); nothing was recorded, try again"
        )

    def put_entry(self, entry: LedgerEntry) -> None:
        """Write the entry document (the searchable copy listings read)."""
        self.masterdata.put(self.entity, entry.entry_id, entry.to_document(), schema=SCHEMA_NAME)

    def conditional_update(
        self, current: OrderLedger, change: Callable[[LedgerEntry], LedgerEntry]
    ) -> tuple[bool, OrderLedger]:
        """Write ``current`` with ``change`` applied to its entries as version ``v + 1``, only if the stored document is
        still at version ``v``; then read it back by id (the status of an unmet condition is not trusted). Returns
        (whether the change reads back, the ledger as read back)."""
        new = OrderLedger(current.order_id, current.version + 1, tuple(change(e) for e in current.entries))
        self.masterdata.put_if(  # any answer a failed condition may get is accepted: the read-back decides
            self.head_entity,
            head_id(current.order_id),
            head_document(new),
            schema=SCHEMA_NAME,
            where=f"version={current.version}",
        )
        back = self.order_ledger(current.order_id)
        wanted = {e.entry_id: e for e in new.entries}
        landed = back.version == new.version and all(
            (w := wanted.get(e.entry_id)) is not None
            and (e.note_claim, e.note_status, e.note_id) == (w.note_claim, w.note_status, w.note_id)
            for e in back.entries
        )
        return landed and len(back.entries) == len(new.entries), back

    def order_of(self, entry_id: str) -> str:
        """The order a refund belongs to: from its entry document; else, when that is missing (a `record` that
        stopped after the order's ledger document was written and before the entry document), from this machine's
        journal, then from the orders' ledger documents themselves (by search, which may lag a minute behind)."""
        md = self.masterdata
        doc = md.get(self.entity, entry_id)
        if doc is not None:
            return str(doc["orderId"])
        oid = self.journal.recent().get(entry_id)
        if oid is not None:
            return oid
        for head in md.scroll(self.head_entity, fields=["id", "orderId", "version", "entries"]):
            oid = str(head.get("orderId") or "")
            if oid and OrderLedger.from_document(oid, head).entry(entry_id) is not None:
                return oid
        missing = (
            f"refund {entry_id} was not found; check the id with `refundkit refunds` (recorded a moment ago? "
            "give its order with --order ORDER_ID)"
        )
        raise RefundRefused([missing])

    # -- listing ------------------------------------------------------------------------------------------------
    def entries(
        self, *, order_id: str | None = None, start: Instant | None = None, end: Instant | None = None
    ) -> list[LedgerEntry]:
        """Ledger entries of one order, or with ``refundedAt`` in ``[start, end)``, or all.

        For one order the order's ledger document is read by id (exact). Otherwise three sources are merged, so that
        no entry is lost because its entry document is missing (a refund half-written, finished later by reconcile)
        or not searchable yet (search lags behind writes):

        * the entry documents, by search on ``refundedAt``;
        * the orders' ledger documents whose entries span the range (indexed ``firstRefundedAtMs`` and
          ``lastRefundedAtMs``), for their entries that have no entry document;
        * the ledger documents, read by id, of the orders this machine wrote to recently *with entries in the range*
          (the local journal keeps each entry's refundedAt), so the cost follows the range, not the journal.
        """
        if order_id is not None:
            ledger = self.order_ledger(order_id)
            return self.with_note_status(list(ledger.entries))
        # The range is asked on the indexed integer refundedAtMs (epoch ms) in the numeric `between` form VTEX
        # documents (inclusive; the exact half-open cut is made below). Documents written before that field existed
        # lack it and are asked for with `is null`. An account whose saved schema predates the field (setup not run
        # again) refuses the filter: then every entry is read and cut here — slower, never wrong.
        where = None
        if start is not None or end is not None:
            lo = start.ns // 1_000_000 if start is not None else 0
            hi = end.ns // 1_000_000 if end is not None else 253_402_300_799_999
            where = f"(refundedAtMs between {lo} AND {hi}) OR refundedAtMs is null"
        ranged = start is not None or end is not None
        lo_iso = start.filter_format() if start is not None else "0000-01-01T00:00:00.000Z"
        hi_iso = end.filter_format() if end is not None else "9999-12-31T23:59:59.999Z"

        def in_range(e: LedgerEntry) -> bool:
            return (start is None or e.refunded_at.ns >= start.ns) and (end is None or e.refunded_at.ns < end.ns)

        md = self.masterdata
        found: dict[str, LedgerEntry] = {}
        try:
            docs = list(md.scroll(self.entity, where=where, fields=ENTRY_FIELD_NAMES, schema=SCHEMA_NAME))
        except BadResponse as exc:
            if where is None or exc.status != 400:
                raise
            log.warning("Master Data refused the refundedAtMs range (%s); reading every entry instead", exc)
            docs = list(md.scroll(self.entity, fields=ENTRY_FIELD_NAMES))
        for doc in docs:
            e = LedgerEntry.from_document(doc)
            found[e.entry_id] = e
        by_search = set(found)
        # entries whose entry document is missing: from the ledger documents whose span overlaps the range
        span = (
            f"firstRefundedAtMs between 0 AND {hi} AND lastRefundedAtMs between {lo} AND 253402300799999"
            if ranged
            else None
        )
        head_fields = ["id", "orderId", "version", "entries"]
        try:
            heads_found = list(md.scroll(self.head_entity, where=span, fields=head_fields, schema=SCHEMA_NAME))
        except BadResponse as exc:  # a saved schema that predates the span fields (setup not run again)
            if span is None or exc.status != 400:
                raise
            heads_found = list(md.scroll(self.head_entity, fields=head_fields))
        for doc in heads_found:
            oid = str(doc.get("orderId") or "")
            if oid:
                for e in OrderLedger.from_document(oid, doc).entries:
                    if in_range(e):
                        found.setdefault(e.entry_id, e)
        # what this machine wrote recently, which search may not show yet: only orders with entries in the range
        wanted = {
            eid
            for eid, when in self.journal.recent_refunded_at().items()
            if eid not in found and (when is None or lo_iso <= when <= hi_iso)
        }
        recent = self.journal.recent()
        orders = sorted({recent[eid] for eid in wanted if eid in recent})
        if orders:
            with ThreadPoolExecutor(max_workers=min(8, len(orders))) as pool:
                heads = list(pool.map(self.order_ledger_or_none, orders))
            for head in heads:
                for e in head.entries if head else ():
                    if e.entry_id in wanted and in_range(e):
                        found.setdefault(e.entry_id, e)
        # entries not found through their entry document: its note status, where the document exists by now
        others = [e for e in found.values() if e.entry_id not in by_search and in_range(e)]
        out = [e for e in found.values() if e.entry_id in by_search and in_range(e)]
        out += self.with_note_status(others)
        return sorted(out, key=lambda e: (e.refunded_at.ns, e.recorded_at.ns, e.entry_id))

    def order_ledger_or_none(self, order_id: str) -> OrderLedger | None:
        try:
            return self.order_ledger(order_id)
        except NotFound:
            return None

    def with_note_status(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        """The entries with their note's status from their entry documents (the order's ledger document keeps it
        only once reconcile settled it)."""
        out = []
        for e in entries:
            doc = self.masterdata.get(self.entity, e.entry_id, fields=["id", "noteStatus", "noteId", "noteProblem"])
            if doc and doc.get("noteStatus"):
                out.append(
                    replace(
                        e,
                        note_status=NoteStatus(doc["noteStatus"]),
                        note_id=doc.get("noteId") or None,
                        note_problem=str(doc.get("noteProblem") or ""),
                    )
                )
            else:
                out.append(e)
        return out
