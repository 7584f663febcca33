"""Reconcile: finish what failed half-way (missing order notes, missing entry documents) and report orders refunded
beyond their total.

A note is never posted twice: each note carries its entry id (``[refundkit:rf-…]``) and is looked for first, and an
entry younger than the grace period with no entry document yet is left to its recorder, which may be posting it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from ..errors import RefundkitError
from ..vtex.oms import check_order_id
from .model import NoteStatus
from .notetext import note_text
from .rules import build_quote
from .schemas import SCHEMA_NAME

if TYPE_CHECKING:
    from .recording import Ledger

__all__ = ["RECONCILE_GRACE_S", "ReconcileReport", "reconcile"]

#: Entries younger than this with no entry document yet are left to their recorder, which may be finishing them.
RECONCILE_GRACE_S: Final = 120


@dataclass
class ReconcileReport:
    notes_posted: list[str] = field(default_factory=list)
    notes_found: list[str] = field(default_factory=list)
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
            "documents_repaired": self.documents_repaired,
            "over_refunded": self.over_refunded,
            "in_progress": self.in_progress,
            "failed": self.failed,
        }


def reconcile(
    ledger: Ledger, *, order_ids: Iterable[str] | None = None, progress: Callable[[int, int], None] | None = None
) -> ReconcileReport:
    """Finish what failed half-way: write missing entry documents, post missing notes (never twice: each note
    carries its entry id, looked for first), and report orders refunded beyond their total."""
    report = ReconcileReport()
    md = ledger.client.masterdata
    if order_ids is None:
        orders = {str(d["orderId"]) for d in md.scroll(ledger.head_entity, fields=["orderId"]) if d.get("orderId")}
        orders |= set(ledger.journal.recent().values())
    else:
        orders = {check_order_id(o) for o in order_ids}
    ordered = sorted(orders)
    for n, oid in enumerate(ordered, 1):
        report.orders_checked += 1
        try:
            _reconcile_order(ledger, oid, report)
        except RefundkitError as exc:
            report.failed.append(f"{oid}: {exc}")
        if progress:
            progress(n, len(ordered))
    return report


def _reconcile_order(ledger: Ledger, oid: str, report: ReconcileReport) -> None:
    current = ledger.order_ledger(oid)
    if not current.entries:
        return
    client = ledger.client
    order = client.orders.get(oid)
    quote = build_quote(order, current)
    now = ledger.clock()
    for entry in current.entries:
        doc = client.masterdata.get(ledger.entity, entry.entry_id)
        if doc is not None and doc.get("noteStatus") == NoteStatus.POSTED:
            continue
        if doc is None and now.ns - entry.recorded_at.ns < ledger.reconcile_grace_s * 1e9:
            # its recorder may be posting the note right now; posting here too could leave two notes
            report.in_progress.append(entry.entry_id)
            continue
        note, created = client.notes.create_once(entry.order_id, note_text(entry, quote), marker=entry.entry_id)
        (report.notes_posted if created else report.notes_found).append(entry.entry_id)
        final = replace(entry, note_status=NoteStatus.POSTED, note_id=note.note_id)
        if doc is None:
            report.documents_repaired.append(entry.entry_id)
        client.masterdata.put(ledger.entity, entry.entry_id, final.to_document(), schema=SCHEMA_NAME)
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
