"""Listing: the ledger's entries newest first, filtered and paged in Master Data, for the desk's Refunds tab and
``refundkit refunds``.

One function, :func:`list_entries`, serves both. Every filter but "reversed or not" is a ``_where`` on the entry
documents' indexed fields, sorted by ``refundedAtMs DESC``, and a page is one ``REST-Range`` request, so a page of
100,000 entries costs what a page of 100 does. Master Data search reaches only its first 10,000 documents; a page
beyond that is reached by keyset: the refunded-at of the 10,000th document (``B``) and the count of those after ``B``
(both read as one-document requests) turn "position ``p``" into "position ``p - count`` among ``refundedAtMs <= B``",
about two requests per 10,000 skipped. More than 10,000 entries at one millisecond cannot be paged past, and say so.

"Reversed or not" is not a field of the refund's document (its reversal is another document that names it in
``reverses``), so that filter reads pages in order and keeps the matching ones: its cost follows how deep the page is.

Search lags writes (about a minute). Entries this machine wrote in the last day (the journal) that search does not
show yet are read from their orders' ledger documents and shown on the first page, so a refund just recorded from
this desk is listed; the page says so, and when it was read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import BadResponse, InputError, LedgerError
from ..timeutil import Instant
from .model import ENTRY_FIELD_NAMES, REFUND, REVERSAL, LedgerEntry
from .recording import Ledger
from .schemas import SCHEMA_NAME

__all__ = ["LAG_NOTE", "ListedEntry", "RefundPage", "RefundQuery", "list_all", "list_entries"]

#: What a listing says about its freshness, besides when it was read.
LAG_NOTE = (
    "Master Data search shows a new entry about a minute after it is written; what this machine recorded in the "
    "last day is listed at once"
)

_SORT = "refundedAtMs DESC"
_DEPTH = 10_000
_PAGE = 100
_TEXT_RE = re.compile(r'^[^"\\*()\x00-\x1f\x7f]{1,100}$')
_END_MS = 253_402_300_799_999


def _text(what: str, value: str | None) -> str | None:
    """A filter's text, or None when blank; refused (one line) where it could not be said in a ``_where``."""
    v = (value or "").strip()
    if not v:
        return None
    if not _TEXT_RE.match(v):
        raise InputError(f"the {what} filter must be 1-100 characters without quotes, backslashes, '*' or brackets")
    return v


@dataclass(frozen=True)
class RefundQuery:
    """What a listing asks for: refunded-at in ``[start, end)``, recorded by ``recorder``, via ``source``, reversed
    or not (``reversed`` None: both), ``search`` found in the order id or the reference, one ``order_id``.
    The rule is said twice only as it must be: as a Master Data ``_where`` and, for the entries search does not show
    yet, as :meth:`matches` — side by side, here."""

    start: Instant | None = None
    end: Instant | None = None
    recorder: str | None = None
    source: str | None = None
    reversed: bool | None = None
    search: str | None = None
    order_id: str | None = None

    def __post_init__(self) -> None:
        for name, what in (("recorder", "recorder"), ("source", "source"), ("search", "search"), ("order_id", "order")):
            object.__setattr__(self, name, _text(what, getattr(self, name)))
        if self.start is not None and self.end is not None and self.end.ns <= self.start.ns:
            raise InputError("the date range ends before it starts: give a 'to' date on or after the 'from' date")

    def where(self) -> str:
        parts = ["refundedAtMs is not null"]
        if self.start is not None or self.end is not None:
            lo = self.start.ns // 1_000_000 if self.start is not None else 0
            hi = (self.end.ns - 1) // 1_000_000 if self.end is not None else _END_MS
            parts.append(f"refundedAtMs between {lo} AND {hi}")
        if self.recorder:
            parts.append(f'recordedBy="{self.recorder}"')
        if self.source:
            parts.append(f'source="{self.source}"')
        if self.order_id:
            parts.append(f'orderId="{self.order_id}"')
        if self.search:
            parts.append(f'(orderId="*{self.search}*" OR externalRef="*{self.search}*")')
        if self.reversed is False:
            parts.append(f"kind={REFUND}")
        return " AND ".join(f"({p})" if " OR " in p else p for p in parts)

    def matches_fields(self, e: LedgerEntry) -> bool:
        """Every filter but "reversed or not", on an entry already read."""
        ms = e.refunded_at.ns // 1_000_000
        return (
            (self.start is None or ms >= self.start.ns // 1_000_000)
            and (self.end is None or ms <= (self.end.ns - 1) // 1_000_000)
            and (self.recorder is None or e.recorded_by == self.recorder)
            and (self.source is None or e.source == self.source)
            and (self.order_id is None or e.order_id == self.order_id)
            and (self.search is None or self.search in e.order_id or self.search in e.external_ref)
            and (self.reversed is not False or e.kind == REFUND)
        )

    def matches(self, e: LedgerEntry, reversed_ids: set[str]) -> bool:
        if not self.matches_fields(e):
            return False
        if self.reversed is None:
            return True
        undone = e.kind == REVERSAL or e.entry_id in reversed_ids
        return undone if self.reversed else not undone


@dataclass(frozen=True)
class ListedEntry:
    """An entry as listed: ``reversed`` says whether a refund has been reversed (a reversal: False)."""

    entry: LedgerEntry
    reversed: bool
    searchable: bool = True  # False: read from its order's ledger document, not yet shown by search


@dataclass(frozen=True)
class RefundPage:
    """One page of a listing. ``total`` is how many match (None when the "reversed" filter makes it unknown);
    ``more`` whether a next page holds anything; ``read_at`` when it was read."""

    entries: list[ListedEntry]
    page: int
    size: int
    total: int | None
    more: bool
    read_at: Instant
    unsearchable: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def freshness(self) -> str:
        extra = f"; {self.unsearchable} of them not searchable yet" if self.unsearchable else ""
        when = self.read_at.filter_format()[:19].replace("T", " ")
        notes = "".join(f" {n}." for n in self.notes)
        return f"Read at {when} UTC{extra}. {LAG_NOTE}.{notes}"


class _Search:
    """The entry documents matching a ``_where``, newest first, by position — past search's 10,000 by keyset."""

    def __init__(self, ledger: Ledger, where: str) -> None:
        self.md = ledger.store.masterdata
        self.entity = ledger.entity
        self.where = where
        self.total: int | None = None

    def _page(self, where: str, start: int, end: int, fields: Iterable[str]) -> tuple[list[dict[str, object]], int]:
        try:
            docs, total = self.md.search_page(
                self.entity, start, end, where=where, fields=tuple(fields), sort=_SORT, schema=SCHEMA_NAME
            )
        except BadResponse as exc:
            if exc.status != 400:
                raise
            raise LedgerError(
                "Master Data refused the listing's filters, most likely because the saved schema predates them: "
                f"run `refundkit setup` again (it indexes the fields they need) ({exc})"
            ) from None
        return docs, (total if total is not None else len(docs))

    def window(self, offset: int, count: int) -> list[LedgerEntry]:
        """Entries at positions ``[offset, offset + count)``."""
        where = self.where
        while offset + count > _DEPTH:
            # the document at the first wanted position (or the 10,000th) gives the refunded-at B to page from
            at = min(offset, _DEPTH - 1)
            docs, total = self._page(where, at, at + 1, ["id", "refundedAtMs"])
            if self.total is None:
                self.total = total
            if not docs:
                return []
            boundary = int(str(docs[0]["refundedAtMs"]))
            _, newer = self._page(f"{where} AND refundedAtMs > {boundary}", 0, 1, ["id"])
            if newer == 0:
                raise InputError(
                    f"more than {_DEPTH:,} entries share one refunded-at time; narrow the filters to page past them"
                )
            where = f"{where} AND refundedAtMs <= {boundary}"
            offset -= newer
        out: list[LedgerEntry] = []
        while count > 0:
            step = min(count, _PAGE)
            docs, total = self._page(where, offset, offset + step, ENTRY_FIELD_NAMES)
            if self.total is None and where == self.where:
                self.total = total
            out += [LedgerEntry.from_document(d) for d in docs]
            if len(docs) < step:
                break
            offset += step
            count -= step
        return out

    def reversed_ids(self, refunds: Iterable[str]) -> set[str]:
        """Which of these refunds have a reversal that search shows."""
        ids = sorted(set(refunds))
        found: set[str] = set()
        for i in range(0, len(ids), 50):
            names = " OR ".join(f'reverses="{x}"' for x in ids[i : i + 50])
            docs, _ = self._page(f"kind={REVERSAL} AND ({names})", 0, _PAGE, ["id", "reverses"])
            found |= {str(d.get("reverses")) for d in docs if d.get("reverses")}
        return found


def _recent(ledger: Ledger) -> list[LedgerEntry]:
    """Every entry of the orders this machine wrote to in the last day, read by id (strongly consistent)."""
    orders = sorted(set(ledger.journal.recent().values()))[:200]
    out: list[LedgerEntry] = []
    for oid in orders:
        head = ledger.store.order_ledger_or_none(oid)
        out += list(head.entries) if head else []
    return out


def _newest_first(e: LedgerEntry) -> tuple[int, int, str]:
    return (-e.refunded_at.ns, -e.recorded_at.ns, e.entry_id)


def list_entries(ledger: Ledger, query: RefundQuery | None = None, *, page: int = 1, size: int = 50) -> RefundPage:
    """Page ``page`` (from 1) of ``size`` entries matching ``query``, newest first (see the module's text)."""
    query = query or RefundQuery()
    if page < 1:
        raise InputError("pages are numbered from 1")
    if not 1 <= size <= 1000:
        raise InputError("a page holds 1 to 1,000 entries")
    read_at = ledger.clock()
    if query.order_id is not None:  # one order: its ledger document, read by id, is exact
        all_entries = list(ledger.order_ledger(query.order_id).entries)
        undone = {e.reverses for e in all_entries if e.kind == REVERSAL and e.reverses}
        hits = sorted((e for e in all_entries if query.matches(e, undone)), key=_newest_first)
        chunk = hits[(page - 1) * size : page * size]
        listed = [ListedEntry(e, e.entry_id in undone) for e in ledger.store.with_note_status(chunk)]
        return RefundPage(listed, page, size, len(hits), len(hits) > page * size, read_at)
    search = _Search(ledger, query.where())
    recent = _recent(ledger)
    recent_undone = {e.reverses for e in recent if e.kind == REVERSAL and e.reverses}
    offset = (page - 1) * size
    if query.reversed is None:
        chunk = search.window(offset, size + 1)
        more = len(chunk) > size
        chunk = chunk[:size]
        undone = search.reversed_ids(e.entry_id for e in chunk if e.kind == REFUND) | recent_undone
    else:  # read in order, keep the matching ones
        chunk, undone, skipped, pos = [], set(recent_undone), 0, 0
        more = False
        while True:
            got = search.window(pos, _PAGE)
            pos += len(got)
            undone |= search.reversed_ids(e.entry_id for e in got if e.kind == REFUND)
            for e in got:
                if not query.matches(e, undone):
                    continue
                if skipped < offset:
                    skipped += 1
                elif len(chunk) < size:
                    chunk.append(e)
                else:
                    more = True
                    break
            if more or len(got) < _PAGE:
                break
    listed = [ListedEntry(e, e.entry_id in undone) for e in chunk]
    unsearchable = 0
    if page == 1 and recent:
        shown = {e.entry_id for e in recent}
        missing = shown - _visible(search, shown)
        extra = [e for e in recent if e.entry_id in missing and query.matches(e, undone)]
        extra = ledger.store.with_note_status(extra)
        unsearchable = len(extra)
        listed = sorted(
            listed + [ListedEntry(e, e.entry_id in undone, searchable=False) for e in extra],
            key=lambda x: _newest_first(x.entry),
        )
    total = None if query.reversed is not None else search.total
    notes = []
    _, unsorted = search._page("refundedAtMs is null", 0, 1, ["id"])
    if unsorted:  # documents written before refundedAtMs existed: never dropped silently
        notes.append(
            f"{unsorted:,} older entry document(s) lack the indexed refunded-at time this list sorts on and are not "
            "in it; `refundkit refunds --order ORDER_ID` lists them, order by order"
        )
    return RefundPage(listed, page, size, total, more, read_at, unsearchable, notes)


def _visible(search: _Search, ids: set[str]) -> set[str]:
    """Which of these entry ids search shows already."""
    seen: set[str] = set()
    ordered = sorted(ids)
    for i in range(0, len(ordered), 50):
        names = " OR ".join(f'id="{x}"' for x in ordered[i : i + 50])
        docs, _ = search._page(f"({names})", 0, _PAGE, ["id"])
        seen |= {str(d.get("id")) for d in docs}
    return seen


def list_all(ledger: Ledger, query: RefundQuery | None = None, *, most: int | None = None) -> list[ListedEntry]:
    """Every entry matching ``query``, newest first, read a thousand at a time (for exports). With ``most``, more
    than that many is refused in one line (nothing returned) rather than read."""
    out: list[ListedEntry] = []
    n = 1
    while True:
        chunk = list_entries(ledger, query, page=n, size=1000)
        out += chunk.entries
        if not chunk.more:
            return out
        if most is not None and len(out) >= most:
            raise InputError(f"more than {most:,} entries match: narrow the dates or filters to export them")
        n += 1
