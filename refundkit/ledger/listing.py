"""Listing: the ledger's entries newest first, filtered and paged in Master Data, for the desk's Refunds tab and
``refundkit refunds``.

One function, :func:`list_entries`, serves both. Every filter but "reversed or not" is a ``_where`` on the entry
documents' indexed fields, sorted by ``refundedAtMs DESC``, and a page is one ``REST-Range`` request, so a page of
100,000 entries costs what a page of 100 does. Master Data search reaches only its first 10,000 documents; a page
beyond that is reached by keyset: the refunded-at of the 10,000th document (``B``) and the count of those after ``B``
(both read as one-document requests) turn "position ``p``" into "position ``p - count`` among ``refundedAtMs <= B``",
about two requests per 10,000 skipped. More than 10,000 entries at one millisecond cannot be paged past, and say so.

Where VTEX leaves search open, the listing relies on none of the answers (``refundkit sandbox`` plays each, and
``refundkit doctor`` tells which an account gives): entries at one refunded-at millisecond may come in any order,
another on each request, so the order is refunded-at newest first and then entry id, and a millisecond that a page's
or a request's edge cuts is read whole; ``REST-Content-Range``'s total may be missing, capped or an estimate, so a
count is checked before it is used (past 10,000, where it cannot be, the page says "about"); a ``*`` may match
letters' case exactly, so the search asks for the text as typed, in capitals and in small letters, and may be no
wildcard at all (found out with one request), when the search is for the exact text and the page says so.

"Reversed or not" is not a field of the refund's document (its reversal is another document that names it in
``reverses``), so that filter reads pages in order and keeps the matching ones: its cost follows how deep the page is.

Search lags writes (about a minute). Entries this machine wrote in the last day (the journal) that search does not
show yet are read from their orders' ledger documents and shown on the first page, so a refund just recorded from
this desk is listed; the page says so, and when it was read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import BadResponse, InputError, LedgerError
from ..timeutil import Instant
from ..vtex.masterdata import MasterData
from .model import ENTRY_FIELD_NAMES, REFUND, REVERSAL, LedgerEntry
from .recording import Ledger
from .schemas import SCHEMA_NAME

__all__ = ["LAG_NOTE", "ListedEntry", "RefundPage", "RefundQuery", "list_all", "list_entries", "search_count"]

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

    def where(self, *, wildcards: bool = True) -> str:
        """The filters as a ``_where``. The search is a ``*text*`` wildcard as typed, in capitals and in small
        letters (Master Data may match letters' case exactly); ``wildcards=False``: the text exactly, for an account
        whose search takes no wildcard."""
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
            spellings = dict.fromkeys((self.search, self.search.upper(), self.search.lower()))
            pattern = "*{}*" if wildcards else "{}"
            parts.append(
                " OR ".join(f'{f}="{pattern.format(t)}"' for t in spellings for f in ("orderId", "externalRef"))
            )
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
            and (self.search is None or self.search.lower() in f"{e.order_id}\n{e.external_ref}".lower())
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
    #: how ``total`` is known: "exact" (counted), "about" (Master Data's own figure, past what can be checked) or
    #: "at least" (more than can be counted, and Master Data gave no figure)
    total_kind: str = "exact"

    @property
    def total_text(self) -> str:
        """How many match, in words ("1,234", "about 100,000", "at least 10,000"); empty when unknown."""
        if self.total is None:
            return ""
        return f"{self.total:,}" if self.total_kind == "exact" else f"{self.total_kind} {self.total:,}"

    @property
    def freshness(self) -> str:
        extra = f"; {self.unsearchable} of them not searchable yet" if self.unsearchable else ""
        when = self.read_at.filter_format()[:19].replace("T", " ")
        notes = "".join(f" {n}." for n in self.notes)
        return f"Read at {when} UTC{extra}. {LAG_NOTE}.{notes}"


class _Search:
    """The entry documents matching a ``_where``, in the listing's order (refunded-at newest first, then entry id),
    by position — past search's 10,000 by keyset.

    What Master Data leaves open is never relied on: documents with an equal ``refundedAtMs`` may come in any order,
    and in another on the next request, so every millisecond whose documents a page's edge or a request's edge cuts
    is read whole and put in entry-id order here; ``REST-Content-Range``'s total may be missing or wrong, so no
    position is ever taken from it unchecked (:meth:`count`)."""

    def __init__(self, md: MasterData, entity: str, where: str) -> None:
        self.md = md
        self.entity = entity
        self.where = where
        self.total: int | None = None  # as REST-Content-Range says it for ``where`` (None: it said nothing)
        self.total_read = False

    def _page(
        self, where: str, start: int, end: int, fields: Iterable[str], sort: str = _SORT
    ) -> tuple[list[dict[str, object]], int | None]:
        try:
            docs, total = self.md.search_page(
                self.entity, start, end, where=where, fields=tuple(fields), sort=sort, schema=SCHEMA_NAME
            )
        except BadResponse as exc:
            if exc.status != 400:
                raise
            raise LedgerError(
                "Master Data refused the listing's filters, most likely because the saved schema predates them: "
                f"run `refundkit setup` again (it indexes the fields they need) ({exc})"
            ) from None
        if where == self.where and not self.total_read:
            self.total, self.total_read = total, True
        return docs, total

    def count(self, where: str) -> int:
        """How many documents match ``where``, up to 10,000 (10,000: that many or more). REST-Content-Range's figure
        is checked with one request (a document at its last position, none after); when it is missing or wrong, the
        count is found by halving, one document a request."""
        docs, total = self._page(where, 0, 1, ["id"])
        if not docs:
            return 0
        if total is not None and 1 <= total <= _DEPTH:
            around, _ = self._page(where, total - 1, min(total + 1, _DEPTH), ["id"])
            if len(around) == 1:
                return total
        lo, hi = 1, _DEPTH  # a document is at position lo - 1; the first empty position is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            got, _ = self._page(where, mid, mid + 1, ["id"])
            lo, hi = (mid + 1, hi) if got else (lo, mid)
        return lo

    def _millisecond(self, where: str, ms: int) -> list[LedgerEntry]:
        """Every entry at one refunded-at millisecond, in entry-id order."""
        at = f"{where} AND refundedAtMs = {ms}"
        docs, _ = self._page(at, 0, _PAGE, ENTRY_FIELD_NAMES)
        if len(docs) == _PAGE:  # more than a request holds: read in id order, which no two documents share
            docs, pos = [], 0
            while pos < _DEPTH:
                got, _ = self._page(at, pos, pos + _PAGE, ENTRY_FIELD_NAMES, sort="id ASC")
                docs += got
                pos += len(got)
                if len(got) < _PAGE:
                    break
        return sorted((LedgerEntry.from_document(d) for d in docs), key=_tie)

    def window(self, offset: int, count: int) -> list[LedgerEntry]:
        """Entries at positions ``[offset, offset + count)``."""
        where = self.where
        while offset + count > _DEPTH:
            # the document at the first wanted position (or the 10,000th) gives the refunded-at B to page from
            at = min(offset, _DEPTH - 1)
            docs, _ = self._page(where, at, at + 1, ["id", "refundedAtMs"])
            if not docs:
                return []
            boundary = int(str(docs[0]["refundedAtMs"]))
            newer = self.count(f"{where} AND refundedAtMs > {boundary}")
            if newer == 0:
                raise InputError(
                    f"more than {_DEPTH:,} entries share one refunded-at time; narrow the filters to page past them"
                )
            where = f"{where} AND refundedAtMs <= {boundary}"
            offset -= newer
        raw: list[dict[str, object]] = []
        seams: list[int] = []  # where one request's documents end and the next one's begin
        pos, left = offset, count
        while left > 0:
            step = min(left, _PAGE)
            docs, _ = self._page(where, pos, pos + step, ENTRY_FIELD_NAMES)
            if raw and docs:
                seams.append(len(raw))
            raw += docs
            if len(docs) < step:
                break
            pos += step
            left -= step
        return self._in_order(where, offset, count, [LedgerEntry.from_document(d) for d in raw], seams)

    def _in_order(
        self, where: str, offset: int, count: int, got: list[LedgerEntry], seams: list[int]
    ) -> list[LedgerEntry]:
        """The window's entries in the listing's order. The milliseconds search sorted right; within one, each
        request may order (and so cut) them its own way: one an edge cuts is read whole and the window takes the
        members at its positions in entry-id order."""
        if not got:
            return []
        ms = [_ms(e) for e in got]
        full = len(got) == count
        cut = {ms[s] for s in seams if ms[s - 1] == ms[s]}
        if offset > 0:
            cut.add(ms[0])  # it may have begun before the window
        if full:
            cut.add(ms[-1])  # and the last may go on after it
        out: list[LedgerEntry] = []
        for value, run in itertools.groupby(got, key=_ms):
            n = len(list(run))
            if value not in cut:
                out += sorted((e for e in got if _ms(e) == value), key=_tie)
                continue
            members = self._millisecond(where, value)
            first = 0  # where, among its members, the window's run begins
            if value == ms[0] and offset > 0:
                spans = value == ms[-1] and full  # the whole window is this millisecond: it may go on both ways
                first = offset - self.count(f"{where} AND refundedAtMs > {value}") if spans else len(members) - n
            out += members[max(first, 0) : max(first, 0) + n]
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


def _ms(e: LedgerEntry) -> int:
    return e.refunded_at.ns // 1_000_000


def _tie(e: LedgerEntry) -> str:
    """The listing's order within one refunded-at millisecond."""
    return e.entry_id


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
    notes = []
    search = _Search(ledger.store.masterdata, ledger.entity, query.where())
    if query.search and not _wildcards_work(search):
        search = _Search(ledger.store.masterdata, ledger.entity, query.where(wildcards=False))
        notes.append(
            "Master Data search on this account takes no '*' wildcard, so the search finds only an order id or "
            "reference that is exactly what was typed"
        )
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
    total, total_kind = (None, "exact") if query.reversed is not None else _total(search, offset, len(chunk), more)
    if total_kind == "about":
        notes.append("how many match in all is Master Data's own figure, which cannot be checked past 10,000")
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
    _, unsorted = search._page("refundedAtMs is null", 0, 1, ["id"])
    if unsorted:  # documents written before refundedAtMs existed: never dropped silently
        notes.append(
            f"{unsorted:,} older entry document(s) lack the indexed refunded-at time this list sorts on and are not "
            "in it; `refundkit refunds --order ORDER_ID` lists them, order by order"
        )
    return RefundPage(listed, page, size, total, more, read_at, unsearchable, notes, total_kind)


def _total(search: _Search, offset: int, shown: int, more: bool) -> tuple[int | None, str]:
    """How many entries match, and how that is known (REST-Content-Range may be missing, capped or an estimate)."""
    if not more and (shown or not offset):
        return offset + shown, "exact"  # the listing's end is on this page
    said = search.total
    if said is not None and said > _DEPTH:
        return said, "about"
    n = search.count(search.where)
    if n < _DEPTH:
        return n, "exact"
    return (said, "about") if said is not None and said >= _DEPTH else (_DEPTH, "at least")


def search_count(md: MasterData, entity: str, where: str) -> tuple[int | None, int]:
    """What ``REST-Content-Range`` says of how many entry documents match ``where`` (None: nothing), and how many
    do, counted as the listing counts (up to 10,000: 10,000 means that many or more)."""
    search = _Search(md, entity, where)
    counted = search.count(where)
    return search.total, counted


def _wildcards_work(search: _Search) -> bool:
    """Whether this account's search takes a ``*`` wildcard: one that matches every order id finds an entry (when
    there is any entry to find)."""
    try:
        docs, _ = search.md.search_page(
            search.entity, 0, 1, where='refundedAtMs is not null AND orderId="*"', fields=("id",), schema=SCHEMA_NAME
        )
    except BadResponse as exc:
        if exc.status != 400:
            raise
        return False  # refused
    if docs:
        return True
    anything, _ = search._page("refundedAtMs is not null", 0, 1, ["id"])
    return not anything


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
