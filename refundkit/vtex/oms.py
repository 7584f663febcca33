"""OMS: list orders over any date range, get orders by id. Read-only.

**Listing past the 30-page cap.** ``GET /api/oms/pvt/orders`` serves at most 30 pages of 100 for one filter. For a
range, :meth:`Orders.list` asks page 1 of the whole range (100 orders, plus ``paging.total``). When the total fits
in 3,000 it fetches the remaining pages concurrently; otherwise it splits the range into equal sub-ranges sized from
the total and recurses, concurrently. Page 1 of every range that fits is kept, so splitting costs one call per
range that did not fit.

**Boundaries.** VTEX filters take millisecond bounds, inclusive at both ends, and compare the exact instant; the
creation dates of list rows carry 7 fractional digits on some accounts and are truncated to the whole second on
others (VTEX's own ListOrders example), while Get order always carries 7. So every edge refundkit cuts sits on a
whole second: sub-ranges are half-open ``[a, b)`` with ``a`` and ``b`` whole seconds, each is *queried* as
``[a TO b]`` (so nothing between ``b - 1 ms`` and ``b`` can slip through) and its rows are kept only if
``a <= created < b`` — which a truncated date answers exactly as the exact one would, since ``a`` and ``b`` are whole
seconds. An order exactly at ``b`` shows up in both neighbours' answers and is kept once, by the range it belongs
to; rows are deduplicated by ``orderId``.

A range a caller gives whose ends are not whole seconds is asked widened to whole seconds; a row dated with a
fraction of a second is kept by its exact instant, one dated on a whole second (possibly truncated) by its second:
it belongs to ``[start, end)`` when its second is at or after ``start``'s and before ``end``'s. Two adjacent ranges
thus still list every order once between them.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..config import ADMIN_ORDER_URL
from ..errors import (
    BadResponse,
    InputError,
    ListingIncomplete,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    VtexError,
)
from ..statuses import DOCUMENTED, unknown_counts, unknown_statuses_line
from ..textsafety import clip
from ..timeutil import Instant, utc_now
from .models import Order, OrderSummary
from .orderapi import order_api
from .transport import Transport

if TYPE_CHECKING:
    from .payments import Payments

__all__ = [
    "MAX_PAGES",
    "MAX_PER_PAGE",
    "PROVISIONAL",
    "ListProgress",
    "ListReport",
    "Orders",
    "admin_order_url",
    "in_range",
]

log = logging.getLogger("refundkit.vtex")

MAX_PAGES = 30
MAX_PER_PAGE = 100
_ORDER_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_S = 1_000_000_000


@dataclass
class ListProgress:
    """Passed to a progress callback: orders found so far, calls made, and an estimate of the total."""

    orders: int
    calls: int
    expected: int | None


def check_order_id(order_id: str) -> str:
    """Refuse ids that are not VTEX order ids before they go into a URL path."""
    if not isinstance(order_id, str):
        raise InputError(f"order id must be text, got {type(order_id).__name__}")
    oid = order_id.strip()
    if not oid or len(oid) > 64 or not set(oid) <= _ORDER_ID_CHARS:
        raise InputError(f"{clip(order_id)} is not a VTEX order id (such as 1306331686122-01)")
    return oid


_ACCOUNT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def admin_order_url(account: str | None, order_id: str, template: str | None = None) -> str | None:
    """The order's page in the VTEX Admin of ``account``: ``template`` (``REFUNDKIT_ADMIN_ORDER_URL``, checked by
    :func:`refundkit.config.check_admin_order_url`) or :data:`refundkit.config.ADMIN_ORDER_URL` filled in; None when
    the account or the id cannot be part of an address (a link is then left out, never guessed)."""
    if not account or not set(account) <= _ACCOUNT_CHARS or account.startswith("-"):
        return None
    try:
        oid = check_order_id(order_id)
    except InputError:
        return None
    return (template or ADMIN_ORDER_URL).replace("{account}", account).replace("{order_id}", oid)


class Orders:
    def __init__(
        self,
        transport: Transport,
        *,
        max_workers: int = 16,
        payments: Payments | None = None,
        clock: Callable[[], Instant] = utc_now,
    ) -> None:
        self._t = transport
        self.clock = clock
        self.max_workers = max_workers
        self.mode = transport.settings.zero_decimal_amounts
        self.payments = payments
        #: how ``value`` reads after a return invoice (``kept`` or ``reduced``): the account's verdict, which the
        #: domain layer sets (refundkit.ledger.valueverdict); ``kept`` until one is known
        self.value_reading = "kept"
        if payments is not None:
            payments.group_reader = self.group
        self.api = order_api(transport.settings.pii_architecture)  # classic OMS or PII data architecture endpoints

    def pii_hint(self) -> str:
        """What to add to "this order does not exist" on the classic Orders API: an account on VTEX's PII data
        architecture answers its classic endpoints as if no order existed (VTEX does not say how it refuses)."""
        if self.api.name != "classic":
            return ""
        return "; if the account is on VTEX's PII data architecture, set REFUNDKIT_PII_ARCHITECTURE=on"

    # -- get ----------------------------------------------------------------------------------------------------
    def get(self, order_id: str, *, gateway: bool | None = None) -> Order:
        """The order. With ``gateway`` (default: as configured, ``REFUNDKIT_GATEWAY_REFUNDS``) its payment
        transactions are read too (GET only) for refunds made there without a return invoice:
        :attr:`Order.gateway` says what was found, or why nothing could be checked."""
        oid = check_order_id(order_id)
        body = self.api.get(self._t, oid)
        if body is None:
            raise NotFound(
                f"order {oid} does not exist on this VTEX account (or is older than two years){self.pii_hint()}",
                status=404,
                request=self.api.get_what(oid),
            )
        order = Order.from_vtex(body, mode=self.mode, value_reading=self.value_reading)
        if self.payments is not None and (self.payments.enabled if gateway is None else gateway):
            order = self.payments.attach(order)
        return order

    def group(self, order_group: str) -> list[Order]:
        """The orders of one order group (one cart: several sellers or deliveries sharing a payment transaction),
        ``GET /api/oms/pvt/orders/order-group/{orderGroup}``, without their gateway checks."""
        if not isinstance(order_group, str) or not order_group or not set(order_group) <= _ORDER_ID_CHARS:
            raise NotFound(f"{clip(order_group)} is not an order group id")
        body = self._t.json("GET", f"/api/oms/pvt/orders/order-group/{quote(order_group)}", not_found_ok=True)
        if body is None:
            return []
        if not isinstance(body, list):
            raise BadResponse(f"VTEX sent the orders of group {order_group} as something other than a list")
        return [
            Order.from_vtex(o, mode=self.mode, value_reading=self.value_reading) for o in body if isinstance(o, dict)
        ]

    def get_many(
        self,
        order_ids: Iterable[str],
        *,
        missing: str = "raise",
        report: ListReport | None = None,
        gateway: bool | None = None,
    ) -> dict[str, Order]:
        """Fetch many orders concurrently. ``missing="skip"`` leaves unknown ids out instead of raising.

        An order VTEX sends in a shape refundkit cannot read (no currency, a value that is not an integer) is set
        aside — named in ``report`` (and logged) — instead of failing the others."""
        ids = list(dict.fromkeys(check_order_id(o) for o in order_ids))
        out: dict[str, Order] = {}
        if not ids:
            return out
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(ids))) as pool:
            futures = {oid: pool.submit(self.get, oid, gateway=gateway) for oid in ids}
            for oid, fut in futures.items():
                try:
                    out[oid] = fut.result()
                except NotFound:
                    if missing != "skip":
                        for f in futures.values():
                            f.cancel()
                        raise
                except BadResponse as exc:
                    _set_aside(report, oid, str(exc))
        return out

    # -- list ---------------------------------------------------------------------------------------------------
    def _page(
        self,
        start: Instant,
        end: Instant,
        page: int,
        statuses: Sequence[str] | None,
        has_return_invoice: bool | None = None,
        *,
        newest_first: bool = False,
    ) -> dict[str, Any]:
        params = {
            "f_creationDate": f"creationDate:[{start.filter_format()} TO {end.filter_format()}]",
            "orderBy": "creationDate,desc" if newest_first else "creationDate,asc",
            "page": str(page),
            "per_page": str(MAX_PER_PAGE),
            # incomplete orders (checkout never finished) are not sales; VTEX documents no default
            "incompleteOrders": "false",
        }
        if statuses:
            params["f_status"] = ",".join(statuses)
        if has_return_invoice is not None:
            params["f_hasInputInvoice"] = "true" if has_return_invoice else "false"
        body = self.api.list_page(self._t, params)
        if not isinstance(body, dict) or not isinstance(body.get("list"), list):
            raise BadResponse("VTEX sent an order list without a 'list' array")
        paging = body.get("paging") or {}
        if not isinstance(paging.get("total"), int):
            raise BadResponse("VTEX sent an order list without paging.total")
        return body

    def probe(
        self,
        start: Instant,
        end: Instant,
        *,
        statuses: Sequence[str] | None = None,
        has_return_invoice: bool | None = None,
        report: ListReport | None = None,
    ) -> tuple[int, list[OrderSummary]]:
        """How many orders were created in ``[start, end)``, both on whole seconds, and the newest of them (up to
        100): one call, rarely two.

        The range is asked as ``[start TO end]`` newest first (VTEX's filter is inclusive at both ends); the count is
        ``paging.total`` (VTEX reports it in full even beyond the 30-page cap) less the orders created at ``end`` or
        later, which come first on that page — a row dated in whole seconds is at or after ``end`` exactly when the
        order is, ``end`` being a whole second. Only when the whole page is at ``end`` is the edge counted apart.
        Rows refundkit cannot read are set aside in ``report``, as :meth:`list` does."""
        a, b = start.ns, end.ns
        if a % _S or b % _S:
            raise ValueError(f"probe takes whole seconds, got {start} to {end}")
        body = self._page(Instant(a), Instant(b), 1, statuses, has_return_invoice, newest_first=True)
        rows = []
        for i, row in enumerate(body["list"]):
            try:
                rows.append(OrderSummary.from_vtex(row, mode=self.mode))
            except BadResponse as exc:
                oid = row.get("orderId") if isinstance(row, dict) else None
                _set_aside(report, str(oid) if oid else f"row {i + 1} of a list page from {start}", str(exc))
        total = int(body["paging"]["total"])
        at_end = sum(1 for o in rows if o.created_at.ns >= b)
        if at_end and at_end == len(body["list"]) and total > at_end:
            at_end = int(self._page(Instant(b), Instant(b), 1, statuses, has_return_invoice)["paging"]["total"])
        return total - at_end, [o for o in rows if a <= o.created_at.ns < b]

    def list(
        self,
        start: Instant,
        end: Instant,
        *,
        statuses: Sequence[str] | None = None,
        progress: Callable[[ListProgress], None] | None = None,
        has_return_invoice: bool | None = None,
        report: ListReport | None = None,
        retry_rounds: int = 2,
    ) -> list[OrderSummary]:
        """Every order created in ``[start, end)``, exactly once, sorted by creation time (as the rows give it) then
        id. Where an account's rows carry dates truncated to the second and an end is not a whole second, a row is
        kept by its second (see the module): two adjacent ranges still share every order out once.

        ``has_return_invoice=True`` keeps only orders with a return (Input) invoice — VTEX-native refunds.

        ``report`` (a :class:`ListReport`) collects what a person must be told: rows set aside because VTEX sent
        them in a shape refundkit cannot read, and — when ``end`` is less than :data:`PROVISIONAL` ago — from when
        on the listing is provisional (VTEX's list index lags order creation by minutes).

        A part of the range (a page, or a sub-range's first page) that still fails after the transport's retries
        is asked again, up to ``retry_rounds`` times, after everything else; what fails even then raises
        :class:`~refundkit.errors.ListingIncomplete` carrying every order that *was* listed and naming each
        missing part — nothing already listed is thrown away."""
        lo, hi = start.ns, end.ns
        if report is not None:
            report.note_range(Instant(lo), Instant(hi), self.clock())
        if hi <= lo:
            return []
        start, end = Instant(lo - lo % _S), Instant(hi + (-hi % _S))  # asked on whole seconds (module docstring)
        found: dict[str, OrderSummary] = {}
        lock = threading.Lock()
        calls = [0]
        expected: list[int | None] = [None]
        mode = self.mode

        def keep(rows: list[Any], a: Instant, b: Instant) -> None:
            parsed = []
            for i, row in enumerate(rows):
                try:
                    parsed.append(OrderSummary.from_vtex(row, mode=mode))
                except BadResponse as exc:
                    oid = row.get("orderId") if isinstance(row, dict) else None
                    _set_aside(report, str(oid) if oid else f"row {i + 1} of a list page from {a}", str(exc))
            with lock:
                calls[0] += 1
                for o in parsed:
                    if a.ns <= o.created_at.ns < b.ns:
                        found.setdefault(o.order_id, o)
                snapshot = ListProgress(len(found), calls[0], expected[0])
            if progress:
                progress(snapshot)

        Job = tuple[str, Instant, Instant, int]

        def run(job: Job) -> tuple[Job, dict[str, Any]]:
            _kind, a, b, n = job
            return job, self._page(a, b, n, statuses, has_return_invoice)

        failed: dict[Job, VtexError] = {}
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            pending: dict[Future[tuple[Job, dict[str, Any]]], Job] = {}

            def submit(job: Job) -> None:
                pending[pool.submit(run, job)] = job

            submit(("probe", start, end, 1))
            try:
                for round_ in range(retry_rounds + 1):
                    while pending:
                        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                        for fut in done:
                            job = pending.pop(fut)
                            try:
                                _, body = fut.result()
                            except (ServerError, NetworkError, RateLimited) as exc:  # VTEX may answer later
                                failed[job] = exc
                                continue
                            failed.pop(job, None)
                            kind, a, b, _n = job
                            if kind == "page":
                                keep(body["list"], a, b)
                                continue
                            total = body["paging"]["total"]
                            if expected[0] is None:
                                expected[0] = total
                            if total <= MAX_PAGES * MAX_PER_PAGE:
                                keep(body["list"], a, b)
                                for n in range(2, math.ceil(total / MAX_PER_PAGE) + 1):
                                    submit(("page", a, b, n))
                                continue
                            for sa, sb in _split(a, b, total):
                                submit(("probe", sa, sb, 1))
                    if not failed or round_ == retry_rounds:
                        break
                    log.info("order listing: asking again for %d part(s) that failed", len(failed))
                    for job in list(failed):
                        submit(job)
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
        orders = sorted(
            (o for o in found.values() if in_range(o.created_at.ns, lo, hi)),
            key=lambda o: (o.created_at.ns, o.order_id),
        )
        if report is not None:
            report.note_statuses(orders)
        if failed:
            root = ("probe", start, end, 1)
            if root in failed:  # nothing of the range could be asked: the plain error says it best
                raise failed[root]
            missing = [_describe(job, exc) for job, exc in sorted(failed.items(), key=lambda kv: kv[0][1].ns)]
            if report is not None:
                report.missing.extend(missing)
            raise ListingIncomplete(
                f"listed {len(orders)} orders, but {len(missing)} part(s) of the range failed even after retrying: "
                + "; ".join(missing[:5])
                + ("; ..." if len(missing) > 5 else "")
                + ". Run the listing again for those times (nothing listed was lost: it is in the error's .orders)",
                orders=orders,
                missing=missing,
                request=self.api.list_what,
            )
        return orders


def _describe(job: tuple[str, Instant, Instant, int], exc: VtexError) -> str:
    kind, a, b, n = job
    span = f"{a.isoformat(3)} to {b.isoformat(3)}"
    what = f"orders created {span}" if kind == "probe" else f"page {n} of the orders created {span}"
    return f"{what} ({str(exc)[:120]})"


def _set_aside(report: ListReport | None, name: str, why: str) -> None:
    log.info("set aside %s: %s", name, why)  # the listing's warnings count and name them once
    if report is not None:
        report.add(name, why)


#: A listing whose range ends less than this before now is provisional: VTEX's order list is a search index that
#: shows an order some minutes (about 4) after it was created or changed.
PROVISIONAL = timedelta(minutes=10)


@dataclass
class ListReport:
    """What a listing, a set of orders or a report must tell the person reading it, besides the orders.

    - ``set_aside``: orders (or rows) VTEX sent in a shape refundkit cannot read, each with the reason; they are
      left out of the result, and :attr:`set_aside_count` says how many;
    - ``provisional_after``: when the range ends less than :data:`PROVISIONAL` ago, the instant after which the
      listing may still change (VTEX's list index lags);
    - ``missing``: parts of the range that could not be listed (see :class:`~refundkit.errors.ListingIncomplete`);
    - ``unknown_statuses``: the orders listed with a status refundkit does not know, by status (they are listed and
      counted by the rule of :mod:`refundkit.statuses`; the warnings name each status with its count).
    """

    set_aside: dict[str, str] = field(default_factory=dict)
    provisional_after: Instant | None = None
    missing: list[str] = field(default_factory=list)
    unknown_statuses: dict[str, set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, why: str) -> None:
        with self._lock:
            self.set_aside.setdefault(name, why)

    @property
    def set_aside_count(self) -> int:
        return len(self.set_aside)

    def note_statuses(self, orders: Iterable[OrderSummary]) -> None:
        """Remember the listed orders whose status refundkit does not know (an order listed twice counts once)."""
        with self._lock:
            for o in orders:
                if o.status not in DOCUMENTED:
                    self.unknown_statuses.setdefault(o.status, set()).add(o.order_id)

    def unknown_status_counts(self) -> dict[str, int]:
        with self._lock:
            return unknown_counts({s: len(ids) for s, ids in self.unknown_statuses.items()})

    def note_range(self, start: Instant, end: Instant, now: Instant) -> None:
        edge = now - PROVISIONAL
        if end.ns > edge.ns:
            after = edge if edge.ns > start.ns else start
            if self.provisional_after is None or after.ns < self.provisional_after.ns:
                self.provisional_after = after

    def warnings(self, tz: str | None = None, *, statuses: bool = True) -> list[str]:
        """One sentence per thing to tell, for a CLI, a widget or a report footer. ``statuses=False`` leaves out the
        unknown statuses (a report names those of its own orders instead)."""
        out = []
        line = unknown_statuses_line(self.unknown_status_counts(), "listed") if statuses else None
        if line:
            out.append(line)
        if self.set_aside:
            names = ", ".join(list(self.set_aside)[:5]) + (", ..." if len(self.set_aside) > 5 else "")
            out.append(
                f"{len(self.set_aside)} order(s) set aside because VTEX sent them in a shape refundkit cannot read "
                f"({names}); they are not counted here"
            )
        if self.provisional_after is not None:
            out.append(
                f"orders created after {self.provisional_after.isoformat(0)} are provisional: VTEX lists an order "
                "some minutes after it is created, so run this again later for a final figure"
            )
        if self.missing:
            out.append(f"{len(self.missing)} part(s) of the range could not be listed: " + "; ".join(self.missing[:3]))
        return out


def in_range(created_ns: int, lo: int, hi: int) -> bool:
    """Whether a list row dated ``created_ns`` belongs to ``[lo, hi)``: by its exact instant when it has a fraction
    of a second, by its second when it has none (its date may be truncated); the same answer when ``lo`` and ``hi``
    are whole seconds, and exactly one of two adjacent ranges keeps any row."""
    if created_ns % _S:
        return lo <= created_ns < hi
    return lo - lo % _S <= created_ns < hi - hi % _S


def _split(a: Instant, b: Instant, total: int) -> list[tuple[Instant, Instant]]:
    """Cut ``[a, b)`` (whole seconds) into parts on whole seconds expected to hold ~2,400 orders each (at least 2)."""
    width_s = (b.ns - a.ns) // _S
    if width_s <= 1:
        raise BadResponse(
            f"more than {MAX_PAGES * MAX_PER_PAGE} orders were created within one second at {a}; "
            "VTEX cannot page through them — narrow the query with a status filter"
        )
    parts = min(max(2, math.ceil(total / 2400)), width_s)
    edges = [a.ns + (width_s * i // parts) * _S for i in range(parts)] + [b.ns]
    return [(Instant(x), Instant(y)) for x, y in itertools.pairwise(edges) if y > x]
