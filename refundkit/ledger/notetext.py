"""The text of the order note (VTEX Do) that shows a ledger entry in the order's annotations."""

from __future__ import annotations

from typing import Final

from ..vtex.notes import MAX_NOTE_CHARS
from .items import describe_lines
from .model import REFUND, LedgerEntry, Quote, RefundLine

__all__ = ["MAX_ITEMS_CHARS", "items_text", "note_text"]

#: At most this much of a note (VTEX keeps at most 2,000 characters: the Do API's ``description``) names the items;
#: the lines beyond are counted ("and 3 more lines"), so the entry id at the end always fits.
MAX_ITEMS_CHARS: Final = 600


def items_text(lines: tuple[RefundLine, ...], limit: int = MAX_ITEMS_CHARS) -> str:
    """``2 × Caneca Azul (SKU 346), shipping``, cut at a whole line to at most ``limit`` characters."""
    full = describe_lines(lines)
    if len(full) <= limit:
        return full
    for keep in range(len(lines) - 1, 0, -1):
        more = len(lines) - keep
        text = f"{describe_lines(lines[:keep])} and {more} more line{'s' if more != 1 else ''}"
        if len(text) <= limit:
            return text
    first = describe_lines(lines[:1])
    return f"{first[: max(0, limit - 40)]}... and {len(lines) - 1} more lines"


def note_text(entry: LedgerEntry, quote: Quote) -> str:
    """The Do note: what (the items, when the refund names them), how, by whom, the entry id. At most 2,000
    characters."""
    when = entry.refunded_at.isoformat(digits=0)
    what = f" for {items_text(entry.lines)}" if entry.lines else ""
    if entry.kind == REFUND:
        text = (
            f"Offline refund of {entry.amount}{what} recorded by refundkit: paid back via {entry.source} "
            f"(reference {entry.external_ref}) on {when}, recorded by {entry.recorded_by}. "
        )
        if entry.restock is not None:
            text += "Goods back to stock. " if entry.restock else "Goods not back to stock. "
        if entry.reason:
            text += f"Reason: {entry.reason}. "
        if entry.over_refund:
            text += f"Over-refund allowed: {entry.over_refund_reason}. "
        if entry.note:
            text += f"Note: {entry.note} "
    else:
        text = (
            f"Reversal of offline refund {entry.reverses} ({entry.amount}{what}, {entry.source} "
            f"{entry.external_ref}) recorded by refundkit, by {entry.recorded_by}. Reason: {entry.reason}. "
        )
    tail = f"Refundable balance now {quote.refundable}. VTEX moved no money. [refundkit:{entry.entry_id}]"
    text += tail
    if len(text) > MAX_NOTE_CHARS and entry.note:
        cut = len(text) - MAX_NOTE_CHARS + 3
        text = text.replace(f"Note: {entry.note} ", f"Note: {entry.note[:-cut]}... ")
    if len(text) > MAX_NOTE_CHARS:  # still too long: the body is cut, the marker (the entry id) is always kept
        body = text[: -len(tail)]
        text = body[: MAX_NOTE_CHARS - len(tail) - 4] + "... " + tail
    return text
