"""Keep the local order store in step with VTEX, cheaply.

:func:`sync_orders` brings the store up to date for a range of creation dates. What it guarantees, without
``refresh``, is that the store reflects VTEX as of the moment it runs for

* **new orders**: creation dates the store has not listed yet (and the last minutes before the previous sync, since
  VTEX's list shows an order a few minutes after it is placed) are listed in full;
* **orders moving into or out of the statuses gross leaves out**: for each place of :mod:`refundkit.statuses` that
  gross leaves out (canceled, payment pending, never a sale: :data:`STATUS_GROUPS`) the number VTEX counts over the
  range (one call: ``paging.total`` with ``f_status`` naming the place's statuses) is compared with the store's;
  where they differ the range is halved until the difference is found, those orders are listed again, and those
  that left the place are read in full. A cancellation only ever adds to the first count, a paid order only ever
  takes from the second, and an order that was never a sale stays one, so equal counts mean nothing moved — unless,
  between two syncs, one order entered a place while another left it within the same range (VTEX documents one
  such path: a denied cancellation may send an order back to payment-pending); ``refresh`` finds those;
* **new return invoices on orders of any age**: the same count comparison with ``f_hasInputInvoice=true`` finds
  orders that got their first return invoice; orders created within ``returns_window`` (120 days) of now are also
  listed with ``f_hasInputInvoice=true`` and compared invoice number by invoice number, which finds a second return
  invoice on a recent order. Orders whose invoices changed are read in full.

What it cannot see without ``refresh=True``: a change of an order's value (an order change that lowered it) or of
its status between two statuses that gross both counts (or that one place leaves out); a second or later return
invoice on an order created more than ``returns_window`` ago that already had one. ``refresh=True`` lists the whole
range again and reads every order with a return invoice in full.

Refunds VTEX made on the payment transaction without a return invoice are not read here: finding them takes a
call per order and per transaction (``refundkit quote`` checks them order by order). Orders VTEX sends in a shape
refundkit cannot read are set aside and counted in the warnings, as every listing does; orders listed with a status
refundkit does not know are kept (counted by the rule of :mod:`refundkit.statuses`) and counted in
:attr:`SyncResult.unknown_statuses`.

VTEX serves orders created in the last two years only: older months the store holds are kept as they are.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import InputError
from ..statuses import LEFT_OUT_GROUPS
from ..timeutil import Instant, clock_skew, utc_now
from .store import (
    OrderStore,
    StoreState,
    _month_bounds,
    _month_of,
    order_row,
    orders_rows_frame,
    return_invoices_frame,
    summary_row,
)

__all__ = [
    "INDEX_LAG",
    "RETURNS_WINDOW",
    "STATUS_GROUPS",
    "VTEX_HISTORY",
    "SyncResult",
    "store_of",
    "sync_orders",
]

if TYPE_CHECKING:
    from ..vtex.models import Order, OrderSummary

#: VTEX's list and get serve orders created in the last two years only.
VTEX_HISTORY = timedelta(days=730)
#: VTEX's list shows an order a few minutes after it is created or changed: creation dates this close to a sync are
#: listed again by the next one.
INDEX_LAG = timedelta(minutes=15)
#: Orders created this recently are compared return invoice by return invoice on every sync.
RETURNS_WINDOW = timedelta(days=120)
#: Status groups whose membership the sync keeps exact: each place gross leaves out (the one status table).
STATUS_GROUPS: tuple[tuple[str, ...], ...] = LEFT_OUT_GROUPS
_LIST_AT_MOST = 300  # a mismatched range with at most this many matches is listed, not halved further
_S = 1_000_000_000  # every edge the sync cuts sits on a whole second: list rows may carry truncated dates


@dataclass
class SyncResult:
    """What a sync did. ``calls`` counts the requests sent to VTEX (retries included)."""

    start: Instant
    end: Instant
    synced_at: Instant
    calls: int = 0
    listed: int = 0
    read_in_full: int = 0
    changed: int = 0
    months_written: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: orders listed with a status refundkit does not know, by status (kept and counted; see refundkit.statuses)
    unknown_statuses: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"synced {self.start.isoformat(0)} to {self.end.isoformat(0)}: {self.listed:,} orders listed, "
            f"{self.read_in_full:,} read in full, {self.changed:,} new or changed, {self.calls:,} VTEX calls"
        )


def _client_of(source: Any) -> Any:
    client = getattr(source, "client", None)
    if client is not None:
        return client
    if hasattr(source, "orders") and hasattr(source, "transport"):
        return source
    raise InputError("sync needs a session (refundkit.connect()) or a VtexClient")


def store_of(source: Any, store: OrderStore | None = None) -> OrderStore:
    """The store of ``source``'s account (a session or a client), unless one is given."""
    if store is not None:
        return store
    if isinstance(source, OrderStore):
        return source
    settings = getattr(source, "settings", None)
    if settings is None:
        raise InputError("cannot tell which account's store to use: pass store=OrderStore(...)")
    return OrderStore.for_settings(settings)


def _bar(total: int | None, desc: str, enabled: bool | None) -> Any:
    from tqdm.auto import tqdm  # imported here: only syncs show progress

    return tqdm(total=total, desc=desc, unit=" orders", disable=None if enabled is None else not enabled, leave=False)


class _View:
    """The store's orders over the synced range with this sync's updates applied, for counting."""

    def __init__(self, stored: pl.DataFrame, returned_ids: set[str]) -> None:
        self.base = stored.select("order_id", "created_at", "status", "invoice_input", "has_details")
        self.returned_ids = returned_ids
        self.updates: dict[str, dict[str, Any]] = {}
        self._frame: pl.DataFrame | None = None
        # what the store knows of the orders created in one month (the one last listed): rows are listed by creation
        # date, so a month at a time is all a lookup needs, whatever the range's size
        self._known: dict[str, tuple[int, list[str] | None]] = {}
        self._known_for: tuple[int, int] | None = None

    def update(self, row: dict[str, Any]) -> None:
        self.updates[row["order_id"]] = row
        self._frame = None

    def listed(self, o: OrderSummary, now: Instant) -> None:
        """Update from a list row, keeping what the row cannot say better than the store already knows: the exact
        creation date (a row may carry it truncated to the second) and the return invoices (a row without
        ``invoiceInput``, or with it null or empty, does not say whether there are any)."""
        row = summary_row(o, now)
        prev = self.updates.get(o.order_id)
        if prev is not None:
            known: tuple[int, list[str] | None] | None = (prev["created_at"], prev["invoice_input"])
        else:
            known = self._known_of(row["created_at"]).get(o.order_id)
        if known is not None:
            created, invoices = known
            if row["created_at"] % _S == 0 and created - created % _S == row["created_at"]:
                row["created_at"] = created
            if row["invoice_input"] is None:
                row["invoice_input"] = invoices
        self.update(row)

    def _known_of(self, ns: int) -> dict[str, tuple[int, list[str] | None]]:
        """What the store knows of the orders created in the month of ``ns`` (and the second around its edges)."""
        lo, hi = _month_bounds(_month_of(ns))
        if self._known_for != (lo, hi):
            near = self.base.filter(
                (pl.col("created_at").dt.epoch("ns") >= lo - _S) & (pl.col("created_at").dt.epoch("ns") < hi + _S)
            )
            self._known = {
                oid: (ns, inv)
                for oid, ns, inv in zip(
                    near["order_id"].to_list(),
                    near["created_at"].dt.epoch("ns").to_list(),
                    near["invoice_input"].to_list(),
                    strict=True,
                )
            }
            self._known_for = (lo, hi)
        return self._known

    def fold(self) -> pl.DataFrame:
        """The updates as store rows, moved into the base (once written): the view keeps one compact row per order,
        whatever the range's size. Returns them."""
        rows = orders_rows_frame(list(self.updates.values()))
        if rows.height:
            ids = rows["order_id"].implode()
            self.base = pl.concat([self.base.filter(~pl.col("order_id").is_in(ids)), rows.select(self.base.columns)])
        self.updates.clear()
        self._frame, self._known_for = None, None
        return rows

    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            if self.updates:
                upd = orders_rows_frame(list(self.updates.values())).select(self.base.columns)
                df = pl.concat([self.base.filter(~pl.col("order_id").is_in(list(self.updates))), upd])
            else:
                df = self.base
            known = pl.col("order_id").is_in(list(self.returned_ids))
            self._frame = df.with_columns(
                ns=pl.col("created_at").dt.epoch("ns"),
                has_returns=pl.when(pl.col("invoice_input").is_null())
                .then(known)
                .otherwise(pl.col("invoice_input").list.len() > 0),
            )
        return self._frame

    def select(self, a: int, b: int, statuses: Sequence[str] | None, has_returns: bool | None) -> pl.Series:
        """The ids of the rows created in ``[a, b)`` (whole seconds, so that a date truncated to the second counts as
        the exact one would) that match the filters: what :meth:`~refundkit.vtex.oms.Orders.probe` counts (only the
        ids are taken: the checks run at once over the whole range)."""
        cond = (pl.col("ns") >= a) & (pl.col("ns") < b)
        if statuses is not None:
            cond = cond & pl.col("status").is_in(list(statuses))
        if has_returns is not None:
            cond = cond & (pl.col("has_returns") == has_returns)
        return self.frame().lazy().filter(cond).select("order_id").collect().get_column("order_id")


def sync_orders(
    source: Any,
    start: Instant,
    end: Instant,
    *,
    details: bool = False,
    refresh: bool = False,
    store: OrderStore | None = None,
    progress: bool | None = None,
    also_orders: Iterable[str] | Callable[[], Iterable[str]] = (),
    returns_window: timedelta = RETURNS_WINDOW,
    index_lag: timedelta = INDEX_LAG,
    now: Instant | None = None,
    say: Callable[[str], None] | None = None,
) -> SyncResult:
    """Bring the store up to date for orders created in ``[start, end)``; see the module for what that guarantees.

    ``details=True`` also reads every order of the range in full once (one call per order) for its items, totals
    breakdown and payments. ``also_orders``: order ids to make sure the store holds (orders of offline refunds that
    were created before the range), read in full when missing; or a function giving them, called after the checks
    (so that the caller can read them meanwhile). ``progress``: a tqdm bar (``None``: on a terminal or
    in a notebook).

    What the state then claims as covered is decided by VTEX's clock (the ``Date`` of its first answer, else the
    newest order it listed), never by this computer's alone: a clock running ahead claims nothing VTEX has not
    listed. The store is written under its write lock, the state merged with what other processes wrote meanwhile.
    """
    with _server_dates(source) as dates:
        return _sync_orders(
            source,
            start,
            end,
            details=details,
            refresh=refresh,
            store=store,
            progress=progress,
            also_orders=also_orders,
            returns_window=returns_window,
            index_lag=index_lag,
            now=now,
            say=say,
            dates=dates,
        )


@contextlib.contextmanager
def _server_dates(source: Any) -> Iterator[Any]:
    """The transport's :class:`~refundkit.vtex.transport.ServerDates` watch while the sync runs."""
    watch = getattr(_client_of(source).transport, "server_dates", None)
    if watch is None:  # a stand-in transport that does not watch dates: coverage by the newest order listed
        yield SimpleNamespace(earliest_ns=None)
        return
    with watch() as dates:
        yield dates


def _sync_orders(
    source: Any,
    start: Instant,
    end: Instant,
    *,
    details: bool,
    refresh: bool,
    store: OrderStore | None,
    progress: bool | None,
    also_orders: Iterable[str] | Callable[[], Iterable[str]],
    returns_window: timedelta,
    index_lag: timedelta,
    now: Instant | None,
    say: Callable[[str], None] | None,
    dates: Any,
) -> SyncResult:
    if end.ns <= start.ns:
        raise InputError(f"the sync range is empty: {end.isoformat(0)} is not after {start.isoformat(0)}")
    client = _client_of(source)
    st = store_of(source, store)
    now = now or utc_now()
    note = say or (lambda _m: None)
    calls0 = client.transport.calls
    horizon = (now - VTEX_HISTORY).ns
    hi = min(end.ns, now.ns)
    hi += -hi % _S
    lo = max(start.ns, horizon)
    lo -= lo % _S
    result = SyncResult(start, end, now)
    st.notices.clear()

    def snapshot() -> tuple[Any, pl.DataFrame, pl.DataFrame]:
        # one consistent reading of the store (damaged files are set aside and their months listed again)
        state = st.state()
        stored = st.orders(Instant(min(start.ns, lo)), Instant(max(hi, lo + 1)), columns=_VIEW_COLUMNS)
        with_returns = stored.filter(pl.col("invoice_input").list.len() > 0)["order_id"].to_list()
        return state, stored, st.return_invoices(with_returns)

    state, stored, returned = st.repairing(snapshot)

    if start.ns < horizon:
        gap = state.gaps(start.ns, min(end.ns, horizon))
        if gap:
            result.warnings.append(
                f"orders created before {Instant(horizon).isoformat(0)} are older than the two years VTEX serves; "
                f"the store holds none from {Instant(gap[0][0]).isoformat(0)} to {Instant(gap[-1][1]).isoformat(0)}"
            )

    stored_numbers: dict[str, set[str]] = {}
    for oid, num in zip(returned["order_id"].to_list(), returned["invoice_number"].to_list(), strict=True):
        stored_numbers.setdefault(oid, set()).add(num)
    view = _View(stored, set(stored_numbers))
    del stored

    counted = [pl.Series("h", [], dtype=pl.UInt64)]  # the orders counted as new or changed (hashes of their ids)

    def write(full: dict[str, Order]) -> None:
        """Write the view's updates that differ from the store as it is now (which another process may have written
        meanwhile), and the orders ``full`` read in full with their return invoices, under the store's write lock;
        then keep them in the view as compact rows. The state claims nothing until the sync's end: what a sync
        interrupted had written is listed again by the next one (each write is a merge: nothing is counted twice)."""
        with st.writing():
            rows = view.fold()
            if not rows.height:
                return
            ids = rows["order_id"].to_list()
            old = st.repairing(lambda: st.orders(order_ids=ids, columns=_CHANGE_COLUMNS))
            changed = _changed(rows, old)
            # an order written twice (listed, then read in full) counts once: its id's hash is kept (8 bytes)
            hashes = changed["order_id"].hash()
            first = hashes.filter(~hashes.is_in(counted[0].implode()))
            result.changed += first.len()
            counted[0] = pl.concat([counted[0], first])
            if changed.height or full:
                keep = changed["order_id"].to_list() + list(full)
                note(f"writing {len(set(keep)):,} orders to the store")
                months = st.upsert_orders(
                    rows.filter(pl.col("order_id").is_in(keep)), return_invoices_frame(full.values())
                )
                result.months_written += [m for m in months if m not in result.months_written]

    to_read: set[str] = set()
    lock = threading.RLock()  # the checks run in threads: the view and to_read change under it
    from ..vtex.oms import ListReport  # here: a report from the store loads no HTTP client

    listing = ListReport()  # orders VTEX sent in a shape refundkit cannot read, set aside and counted

    def needs_full_read(o: OrderSummary) -> bool:
        known = stored_numbers.get(o.order_id, set())
        if o.invoice_input is None:  # VTEX did not say which invoices: read those we do not know to have any
            return o.order_id not in stored_numbers
        return set(o.invoice_input) != known

    def pieces(a: int, b: int) -> list[tuple[int, int]]:
        """``[a, b)`` halved (on whole seconds) until VTEX counts at most :data:`_LIST_AT_A_TIME` orders in each
        part: one call per part, so that the orders listed at once, and the memory they take, stay bounded."""
        total, _first = client.orders.probe(Instant(a), Instant(b), report=listing)
        if total <= _LIST_AT_A_TIME or b - a < 2 * _S:
            return [(a, b)]
        mid = a + (b - a) // 2
        mid -= mid % _S
        return pieces(a, mid) + pieces(mid, b)

    def take(rows: Iterable[OrderSummary], a: int, b: int) -> list[OrderSummary]:
        kept = []
        for o in rows:
            if a <= o.created_at.ns < b:
                view.listed(o, now)
                kept.append(o)
        return kept

    # 1. list what the store lacks (or everything, on refresh)
    listed_ranges: list[tuple[int, int]] = []  # what this sync listed: all the state may newly claim
    newest = 0  # the newest creation date listed
    if lo < hi:
        gaps = [(lo, hi)] if refresh else state.gaps(lo, hi)
        # creation dates that were too recent when last synced are listed again (VTEX lists orders late)
        for a, b in [piece for gap in gaps for piece in pieces(*gap)]:
            bar = _bar(None, "Listing orders", progress)
            done = [0]

            def show(p: Any, bar: Any = bar, done: list[int] = done) -> None:
                if p.expected and bar.total != p.expected:
                    bar.total = p.expected
                bar.update(p.orders - done[0])
                done[0] = p.orders

            try:
                listed = client.orders.list(Instant(a), Instant(b), progress=show, report=listing)
            finally:
                bar.close()
            result.listed += len(listed)
            listed_ranges.append((a, b))
            for o in listed:
                view.listed(o, now)
                newest = max(newest, o.created_at.ns)
            rows_known = all(o.invoice_input is not None for o in listed)
            if rows_known and not refresh:
                to_read.update(o.order_id for o in listed if needs_full_read(o))
            else:
                with_returns = client.orders.list(Instant(a), Instant(b), has_return_invoice=True, report=listing)
                to_read.update(o.order_id for o in with_returns if refresh or needs_full_read(o))
            del listed
            if len(view.updates) >= _WRITE_EVERY:
                write({})  # part by part: what is listed is not held until the end

    # 2. the checks over the whole range (what was just listed included)
    def check(a: int, b: int, statuses: Sequence[str] | None, has_returns: bool | None) -> None:
        """Compare VTEX's count over the creation dates ``[a, b)`` (whole seconds) with the store's; where they
        differ, halve, and list the small ranges that still differ."""
        total, first = client.orders.probe(
            Instant(a), Instant(b), statuses=statuses, has_return_invoice=has_returns, report=listing
        )
        with lock:
            local = view.select(a, b, statuses, has_returns)
        if total == local.len() and (total > len(first) or {o.order_id for o in first} <= set(local.to_list())):
            return
        if total > _LIST_AT_MOST and b - a >= 2 * _S:
            mid = a + (b - a) // 2
            mid -= mid % _S
            check(a, mid, statuses, has_returns)  # half-open halves on a whole second: nothing falls between
            check(mid, b, statuses, has_returns)
            return
        if total <= len(first):
            rows = first
        else:
            rows = client.orders.list(
                Instant(a), Instant(b), statuses=statuses, has_return_invoice=has_returns, report=listing
            )
        with lock:
            listed = take(rows, a, b)
            gone = set(local.to_list()) - {o.order_id for o in listed}
            to_read.update(gone)  # left the status (or lost its return invoices): read in full for what it is now
            if has_returns:
                to_read.update(o.order_id for o in listed if needs_full_read(o))

    def recent_returns(a: int, b: int) -> None:
        rows = client.orders.list(Instant(a), Instant(b), has_return_invoice=True, report=listing)
        with lock:
            for o in rows:
                view.listed(o, now)
                if needs_full_read(o):
                    to_read.add(o.order_id)

    if lo < hi and not refresh:
        # the checks are independent: run them at once (each is a call or a few), so a warm report waits for about
        # one round trip rather than one per check
        recent = max(lo, (now - returns_window).ns)
        recent -= recent % _S
        with ThreadPoolExecutor(max_workers=len(STATUS_GROUPS) + 2) as pool:
            futures = [pool.submit(check, lo, hi, group, None) for group in STATUS_GROUPS]
            futures.append(pool.submit(check, lo, hi, None, True))
            if recent < hi:
                futures.append(pool.submit(recent_returns, recent, hi))
            for fut in futures:
                fut.result()

    # 3. details, and orders the caller needs that the store lacks
    if details:
        df = view.frame().filter((pl.col("ns") >= start.ns) & (pl.col("ns") < hi) & ~pl.col("has_details"))
        to_read.update(df["order_id"].to_list())
    wanted = set(also_orders() if callable(also_orders) else also_orders)
    if wanted:
        held = set(st.orders(order_ids=wanted, columns=["order_id"])["order_id"].to_list())
        to_read.update(wanted - held - set(view.updates))

    # 4. read in full
    full: dict[str, Order] = {}
    if to_read:
        ids = sorted(to_read)
        bar = _bar(len(ids), "Reading orders in full", progress)
        try:
            for i in range(0, len(ids), 200):
                chunk = ids[i : i + 200]
                # gateway=False: the payment transactions are not read (one more call per order); see the module
                read = client.orders.get_many(chunk, missing="skip", report=listing, gateway=False)
                full.update(read)
                result.read_in_full += len(read)
                for o in read.values():
                    view.update(order_row(o, now))
                bar.update(len(chunk))
                if len(full) >= _WRITE_EVERY // 10:  # orders read in full are bigger: written in smaller batches
                    write(full)
                    full = {}
        finally:
            bar.close()
        missing = len(ids) - result.read_in_full - sum(1 for i in ids if i in listing.set_aside)
        if missing:
            result.warnings.append(f"{missing:,} orders could not be read from VTEX (older than two years?)")
    result.warnings += listing.warnings(statuses=False)  # a report names the unknown statuses of its own orders
    result.unknown_statuses = listing.unknown_status_counts()

    # 5. write, under the store's write lock: changed rows only (compared with the store as it is now, which
    # another process may have written meanwhile), then the state, merged with what is on disk
    vtex_now = dates.earliest_ns or (newest or None)  # VTEX's clock when it answered (else: it had this order)
    settled = min(now.ns, vtex_now if vtex_now is not None else now.ns) - _ns(index_lag)
    if vtex_now is None and listed_ranges:
        settled = min(r[0] for r in listed_ranges)  # no VTEX time at all: claim nothing new
    settled -= settled % _S  # coverage, like every edge the sync cuts, ends on a whole second
    skew = None if dates.earliest_ns is None else clock_skew(now.ns, dates.earliest_ns)
    if skew:
        result.warnings.append(f"{skew}: the store counts as synced only what VTEX's clock had reached")

    def claim(state: StoreState) -> None:
        for a, b in listed_ranges:
            if min(b, settled) > a:
                state.add(a, min(b, settled))
        state.synced_at = max(state.synced_at or 0, min(now.ns, vtex_now or now.ns))

    with st.writing():
        st.remove_leftovers()
        write(full)
        st.summarise_months()  # months of a store older than summaries, or whose summary a crash cut short
        st.repairing(lambda: st.merge_state(claim))
    result.warnings += st.notices
    result.calls = client.transport.calls - calls0
    return result


def _ns(span: timedelta) -> int:
    return int(span.total_seconds()) * 1_000_000_000 + span.microseconds * 1_000


_VIEW_COLUMNS = ["order_id", "created_at", "status", "invoice_input", "has_details"]
_CHANGE_COLUMNS = ["order_id", "created_at", "status", "currency", "total_minor", "invoice_input", "has_details"]
#: the sync lists at most about this many orders at once (a longer range is listed part by part), and writes what
#: it has listed every this many orders, rather than holding a whole range until the end
_LIST_AT_A_TIME = 20_000
_WRITE_EVERY = 20_000


def _changed(new: pl.DataFrame, old: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``new`` that are not in ``old`` or differ in what VTEX says (not in when it was read)."""
    cols = _CHANGE_COLUMNS
    joined = new.join(old.select(cols), on="order_id", how="left", suffix="_old")
    differs = pl.col("status_old").is_null()
    for c in cols[1:]:
        if c == "has_details":
            differs = differs | (pl.col(c) & ~pl.col(f"{c}_old"))
        else:
            differs = differs | pl.col(c).ne_missing(pl.col(f"{c}_old"))
    return joined.filter(differs).select(new.columns)
