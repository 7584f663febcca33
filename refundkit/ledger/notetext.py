"""The text of the order note (VTEX Do) that shows a ledger entry in the order's annotations."""

from __future__ import annotations

from ..vtex.notes import MAX_NOTE_CHARS
from .model import REFUND, LedgerEntry, Quote

__all__ = ["note_text"]


def note_text(entry: LedgerEntry, quote: Quote) -> str:
    """The Do note: what, how, by whom, the entry id. At most 2,000 characters."""
    when = entry.refunded_at.isoformat(digits=0)
    if entry.kind == REFUND:
        text = (
            f"Offline refund of {entry.amount} recorded by refundkit: paid back via {entry.source} "
            f"(reference {entry.external_ref}) on {when}, recorded by {entry.recorded_by}. "
        )
        if entry.reason:
            text += f"Reason: {entry.reason}. "
        if entry.over_refund:
            text += f"Over-refund allowed: {entry.over_refund_reason}. "
        if entry.note:
            text += f"Note: {entry.note} "
    else:
        text = (
            f"Reversal of offline refund {entry.reverses} ({entry.amount}, {entry.source} "
            f"{entry.external_ref}) recorded by refundkit, by {entry.recorded_by}. Reason: {entry.reason}. "
        )
    text += f"Refundable balance now {quote.refundable}. VTEX moved no money. [refundkit:{entry.entry_id}]"
    if len(text) > MAX_NOTE_CHARS:
        cut = len(text) - MAX_NOTE_CHARS + 3
        text = text.replace(f"Note: {entry.note} ", f"Note: {entry.note[:-cut]}... ")
    return text[:MAX_NOTE_CHARS] if len(text) > MAX_NOTE_CHARS else text
