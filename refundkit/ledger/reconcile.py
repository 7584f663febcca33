"""Reconcile: finish what failed half-way (missing order notes, missing entry documents) and report orders refunded
beyond their total.

A note is never posted twice, however many reconcile runs race and however far VTEX's notes list lags behind a post:

* an entry younger than the grace period with no entry document yet is left to its recorder, which may be posting
  its note right now;
* a note is **claimed before it is posted**: the run writes its claim (a run id and the time) on the entry in the
  order's ledger document with a conditional write (``_where=version=v``), reads the document back by id and posts
  only the notes whose claim reads back as its own. Two runs that read the same version cannot both win; whatever
  status Master Data answers a failed condition with, the read-back decides. A claim is honoured for
  ``note_claim_lease_s`` (longer than VTEX's notes list may lag), after which a run that crashed is taken over;
* before posting, the order's notes are listed and looked for the entry's marker (``[refundkit:rf-…]``);
* a post whose answer is lost (it may be on the order) is never repeated in the same run: the claim, or the entry's
  ``noteAttemptAt``, keeps everyone off it until the notes list can be trusted to show it;
* an order holding VTEX's 30 notes takes no more: that entry's note is recorded as impossible, with the reason, and
  everything else on the order is finished (entry documents written).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from ..errors import NetworkError, NoteLimitReached, RefundkitError, ServerError, VtexError
from ..timeutil import Instant
from ..vtex.client import VtexClient
from ..vtex.models import Note
from ..vtex.notes import MAX_NOTES_PER_ORDER
from ..vtex.oms import check_order_id
from .model import LedgerEntry, NoteStatus, OrderLedger, Quote
from .notetext import note_text
from .rules import build_quote
from .store import LedgerStore

__all__ = ["NOTE_CLAIM_LEASE_S", "RECONCILE_GRACE_S", "ReconcileReport", "reconcile"]

#: Entries younger than this with no entry document yet are left to their recorder, which may be finishing them.
RECONCILE_GRACE_S: Final = 120
#: How long a claim on a note (or a post whose answer was lost) keeps other posters off it by default: longer than
#: VTEX's notes list may take to show a note just posted (REFUNDKIT_NOTE_LEASE_S; `refundkit doctor --notes-order`
#: measures that lag).
NOTE_CLAIM_LEASE_S: Final = 120
#: Conditional writes tried on one order's ledger document before the run leaves that order for the next one.
_CLAIM_ATTEMPTS: Final = 5

LIMIT_REASON: Final = (
    f"the order already holds {MAX_NOTES_PER_ORDER} notes, the most VTEX allows; the refund stays recorded"
)


@dataclass
class ReconcileReport:
    notes_posted: list[str] = field(default_factory=list)
    notes_found: list[str] = field(default_factory=list)
    notes_impossible: list[dict[str, str]] = field(default_factory=list)
    documents_repaired: list[str] = field(default_factory=list)
    over_refunded: list[dict[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    orders_checked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders_checked": self.orders_checked,
            "notes_posted": self.notes_posted,
            "notes_found": self.notes_found,
            "notes_impossible": self.notes_impossible,
            "documents_repaired": self.documents_repaired,
            "over_refunded": self.over_refunded,
            "in_progress": self.in_progress,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class _Job:
    """What one reconcile run works with: the ledger's store, the account's client (orders and notes), the clock,
    the grace left to recorders and the lease of a claim on a note."""

    store: LedgerStore
    client: VtexClient
    clock: Callable[[], Instant]
    grace_s: float
    lease_s: float


def reconcile(
    store: LedgerStore,
    client: VtexClient,
    *,
    clock: Callable[[], Instant],
    grace_s: float = RECONCILE_GRACE_S,
    lease_s: float = NOTE_CLAIM_LEASE_S,
    order_ids: Iterable[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReconcileReport:
    """Finish what failed half-way: write missing entry documents, post missing notes (claimed first, so never
    twice), record notes VTEX will not take, and report orders refunded beyond their total."""
    job = _Job(store, client, clock, grace_s, lease_s)
    report = ReconcileReport()
    md = store.masterdata
    # claims are conditional writes on the orders' ledger documents: where Master Data gives no safe way to make
    # them, reconcile posts nothing (it could post a note twice) and says why
    job.store.require_exactly_once()
    if order_ids is None:
        orders = {str(d["orderId"]) for d in md.scroll(job.store.head_entity, fields=["orderId"]) if d.get("orderId")}
        orders |= set(job.store.journal.recent().values())
    else:
        orders = {check_order_id(o) for o in order_ids}
    ordered = sorted(orders)
    run = uuid.uuid4().hex
    for n, oid in enumerate(ordered, 1):
        report.orders_checked += 1
        try:
            _reconcile_order(job, oid, report, run)
        except RefundkitError as exc:
            report.failed.append(f"{oid}: {exc}")
        if progress:
            progress(n, len(ordered))
    return report


def _within(since: Instant | None, now: Instant, seconds: float) -> bool:
    return since is not None and now.ns - since.ns < seconds * 1e9


def _reconcile_order(job: _Job, oid: str, report: ReconcileReport, run: str) -> None:
    current = job.store.order_ledger(oid)
    if not current.entries:
        return
    client = job.client
    order = client.orders.get(oid)
    quote = build_quote(order, current)
    now = job.clock()
    lease = job.lease_s
    docs: dict[str, dict[str, Any] | None] = {}
    todo: list[LedgerEntry] = []
    settled: dict[str, LedgerEntry] = {}  # entries whose note is settled in the ledger document but lack a document
    known: dict[str, LedgerEntry] = {}  # settled in the entry document only: the ledger document is told too
    for entry in current.entries:
        doc = docs[entry.entry_id] = job.store.masterdata.get(job.store.entity, entry.entry_id)
        status = NoteStatus(doc["noteStatus"]) if doc and doc.get("noteStatus") else None
        if doc is not None and status in (NoteStatus.POSTED, NoteStatus.IMPOSSIBLE):
            if entry.note_status != status:
                known[entry.entry_id] = replace(
                    entry,
                    note_status=status,
                    note_id=doc.get("noteId") or None,
                    note_problem=str(doc.get("noteProblem") or ""),
                )
            continue
        if entry.note_status in (NoteStatus.POSTED, NoteStatus.IMPOSSIBLE):
            settled[entry.entry_id] = entry  # settled by an earlier run, whose entry document write failed
            continue
        attempt = entry.note_attempt_at
        if doc and doc.get("noteAttemptAt"):
            attempt = LedgerEntry.from_document(doc).note_attempt_at
        if doc is None and _within(entry.recorded_at, now, job.grace_s):
            # its recorder may be posting the note right now; posting here too could leave two notes
            report.in_progress.append(entry.entry_id)
        elif (entry.note_claim and entry.note_claim != run and _within(entry.note_claimed_at, now, lease)) or (
            _within(attempt, now, lease)
        ):
            report.in_progress.append(entry.entry_id)  # another run holds it, or a lost post may still show up
        else:
            todo.append(entry)

    for entry in settled.values():  # write the missing entry document from what the ledger document says
        _write_document(job, entry, docs[entry.entry_id] is None, report)

    if known and not todo:
        _settle(job, current, known)
    if todo:
        claimed, current = _claim(job, current, [e.entry_id for e in todo], run, now)
        report.in_progress.extend(e.entry_id for e in todo if e.entry_id not in claimed)
        if claimed:
            outcomes = _post_claimed(job, current, claimed, quote, report)
            for entry in outcomes:
                _write_document(job, entry, docs[entry.entry_id] is None, report)
            _settle(job, current, {**known, **{e.entry_id: e for e in outcomes if e.note_status != NoteStatus.PENDING}})

    if quote.refundable.minor < 0:
        report.over_refunded.append(
            {
                "order_id": oid,
                "currency": quote.currency,
                "order_total": quote.order_total.decimal_str(),
                "native_refunded": quote.native_refunded.decimal_str(),
                "offline_refunded": quote.offline_refunded.decimal_str(),
                "excess": (-quote.refundable).decimal_str(),
            }
        )


def _claim(
    job: _Job, current: OrderLedger, entry_ids: list[str], run: str, now: Instant
) -> tuple[set[str], OrderLedger]:
    """Claim the notes of ``entry_ids`` for this run. Returns the ids whose claim reads back as this run's."""
    wanted = set(entry_ids)
    lease = job.lease_s
    for _ in range(_CLAIM_ATTEMPTS):

        def mark(e: LedgerEntry) -> LedgerEntry:
            free = not e.note_claim or e.note_claim == run or not _within(e.note_claimed_at, now, lease)
            if e.entry_id in wanted and free and e.note_status == NoteStatus.PENDING:
                return replace(e, note_claim=run, note_claimed_at=now)
            return e

        if not any(mark(e) is not e for e in current.entries):
            return set(), current  # someone else holds every one of them
        _, current = job.store.conditional_update(current, mark)
        mine = {e.entry_id for e in current.entries if e.entry_id in wanted and e.note_claim == run}
        if mine:
            return mine, current
        # the condition failed: another writer moved the document on; decide again on what it holds now
    return set(), current


def _post_claimed(
    job: _Job, current: OrderLedger, claimed: set[str], quote: Quote, report: ReconcileReport
) -> list[LedgerEntry]:
    """Post the notes this run claimed, once each: look for each marker first; an order at VTEX's limit records
    the note as impossible. Returns the entries with their note settled (or still pending after a failure)."""
    oid = current.order_id
    client = job.client
    notes: list[Note] = client.notes.list(oid)
    out: list[LedgerEntry] = []
    for entry in current.entries:
        if entry.entry_id not in claimed:
            continue
        marker = f"[refundkit:{entry.entry_id}]"
        found = next((n for n in notes if marker in n.description), None)
        if found is not None:
            report.notes_found.append(entry.entry_id)
            out.append(replace(entry, note_status=NoteStatus.POSTED, note_id=found.note_id))
            continue
        if len(notes) >= MAX_NOTES_PER_ORDER:
            out.append(_impossible(entry, LIMIT_REASON, report))
            continue
        try:
            note = client.notes.create(oid, note_text(entry, quote))
        except (NetworkError, ServerError) as exc:
            # the answer is lost: the note may be on the order, and the notes list may not show it yet. Posting
            # again now could leave two notes; the claim keeps everyone off it until the list can be trusted.
            report.failed.append(
                f"{entry.entry_id}: the note's answer was lost ({exc}); it is checked again after "
                f"{int(job.lease_s)} s, never posted twice"
            )
            out.append(replace(entry, note_attempt_at=job.clock()))
            continue
        except NoteLimitReached as exc:
            out.append(_impossible(entry, f"{LIMIT_REASON} (VTEX: {exc})", report))
            continue
        except VtexError as exc:
            again = client.notes.list(oid)  # refused: was it VTEX's 30-note limit?
            if len(again) >= MAX_NOTES_PER_ORDER:
                out.append(_impossible(entry, f"{LIMIT_REASON} (VTEX: {exc})", report))
            else:
                report.failed.append(f"{entry.entry_id}: VTEX refused the note: {exc}")
                out.append(entry)
            notes = again
            continue
        notes.append(note)
        report.notes_posted.append(entry.entry_id)
        out.append(replace(entry, note_status=NoteStatus.POSTED, note_id=note.note_id))
    return out


def _impossible(entry: LedgerEntry, reason: str, report: ReconcileReport) -> LedgerEntry:
    report.notes_impossible.append({"entry_id": entry.entry_id, "order_id": entry.order_id, "reason": reason})
    return replace(entry, note_status=NoteStatus.IMPOSSIBLE, note_problem=reason)


def _write_document(job: _Job, entry: LedgerEntry, missing: bool, report: ReconcileReport) -> None:
    """Write the entry document (the searchable copy listings read) with the note's status."""
    try:
        job.store.put_entry(entry)
    except RefundkitError as exc:
        report.failed.append(f"{entry.entry_id}: its entry document could not be written: {exc}")
        return
    if missing:
        report.documents_repaired.append(entry.entry_id)


def _settle(job: _Job, current: OrderLedger, settled: dict[str, LedgerEntry]) -> None:
    """Keep the notes' outcome in the order's ledger document too (listings fall back on it when an entry document
    is missing). Best effort: the entry documents already say it."""
    if not settled:
        return
    for _ in range(_CLAIM_ATTEMPTS):

        def apply(e: LedgerEntry) -> LedgerEntry:
            s = settled.get(e.entry_id)
            if s is None:
                return e
            return replace(e, note_status=s.note_status, note_id=s.note_id, note_problem=s.note_problem)

        try:
            landed, current = job.store.conditional_update(current, apply)
        except RefundkitError:
            return
        if landed or all(
            (e.note_status == settled[e.entry_id].note_status) for e in current.entries if e.entry_id in settled
        ):
            return
