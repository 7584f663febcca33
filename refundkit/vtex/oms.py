"""OMS: list orders over any date range, get orders by id. Read-only.

**Listing past the 30-page cap.** ``GET /api/oms/pvt/orders`` serves at most 30 pages of 100 for one filter. For a
range, :meth:`Orders.list` asks page 1 of the whole range (100 orders, plus ``paging.total``). When the total fits
in 3,000 it fetches the remaining pages concurrently; otherwise it splits the range into equal sub-ranges sized from
the total and recurses, concurrently. Page 1 of every range that fits is kept, so splitting costs one call per
range that did not fit.

**Boundaries.** VTEX filters take millisecond bounds and are inclusive at both ends, but creation dates carry 7
fractional digits. Sub-ranges are half-open ``[a, b)`` with millisecond-aligned ``b``; each is *queried* as
``[a TO b]`` (so nothing between ``b - 1 ms`` and ``b`` can slip through) and its rows are kept only if
``a <= created < b``, then deduplicated by ``orderId``. An order exactly at ``b`` shows up in both neighbours'
answers and is kept once, by the range it belongs to.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..errors import BadResponse, InputError, NotFound
from ..timeutil import Instant
from .models import Order, OrderSummary
from .transport import Transport

__all__ = ["MAX_PAGES", "MAX_PER_PAGE", "ListProgress", "Orders"]

MAX_PAGES = 30
MAX_PER_PAGE = 100
_ORDER_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_MS = 1_000_000


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
        raise InputError(f"{order_id!r} is not a VTEX order id (such as 1306331686122-01)")
    return oid


class Orders:
    def __init__(self, transport: Transport, *, max_workers: int = 16) -> None:
        self._t = transport
        self.max_workers = max_workers

    # -- get ----------------------------------------------------------------------------------------------------
    def get(self, order_id: str) -> Order:
        oid = check_order_id(order_id)
        body = self._t.json("GET", f"/api/oms/pvt/orders/{quote(oid)}", not_found_ok=True)
        if body is None:
            raise NotFound(
                f"order {oid} does not exist on this VTEX account (or is older than two years)",
                status=404,
                request=f"GET /api/oms/pvt/orders/{oid}",
            )
        return Order.from_vtex(body)

    def get_many(self, order_ids: Iterable[str], *, missing: str = "raise") -> dict[str, Order]:
        """Fetch many orders concurrently. ``missing="skip"`` leaves unknown ids out instead of raising."""
        ids = list(dict.fromkeys(check_order_id(o) for o in order_ids))
        out: dict[str, Order] = {}
        if not ids:
            return out
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(ids))) as pool:
            futures = {pool.submit(self.get, oid): oid for oid in ids}
            for fut, oid in futures.items():
                try:
                    out[oid] = fut.result()
                except NotFound:
                    if missing != "skip":
                        for f in futures:
                            f.cancel()
                        raise
        return out

    # -- list ---------------------------------------------------------------------------------------------------
    def _page(
        self,
        start: Instant,
        end: Instant,
        page: int,
        statuses: Sequence[str] | None,
        has_return_invoice: bool | None = None,
    ) -> dict[str, Any]:
        params = {
            "f_creationDate": f"creationDate:[{start.filter_format()} TO {end.filter_format()}]",
            "orderBy": "creationDate,asc",
            "page": str(page),
            "per_page": str(MAX_PER_PAGE),
        }
        if statuses:
            params["f_status"] = ",".join(statuses)
        if has_return_invoice is not None:
            params["f_hasInputInvoice"] = "true" if has_return_invoice else "false"
        body = self._t.json("GET", "/api/oms/pvt/orders", params=params)
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
    ) -> tuple[int, list[OrderSummary]]:
        """One call: how many orders match over ``[start, end]`` as VTEX filters it (millisecond bounds, both
        inclusive: ``start`` floored, ``end`` ceiled to the millisecond), and the first page of them (up to 100).

        The count is ``paging.total``, which VTEX reports in full even beyond the 30-page cap."""
        body = self._page(start.to_utc().floor_ms(), end.to_utc().ceil_ms(), 1, statuses, has_return_invoice)
        return int(body["paging"]["total"]), [OrderSummary.from_vtex(r) for r in body["list"]]

    def list(
        self,
        start: Instant,
        end: Instant,
        *,
        statuses: Sequence[str] | None = None,
        progress: Callable[[ListProgress], None] | None = None,
        has_return_invoice: bool | None = None,
    ) -> list[OrderSummary]:
        """Every order created in ``[start, end)``, exactly once, sorted by creation time then id.

        ``has_return_invoice=True`` keeps only orders with a return (Input) invoice — VTEX-native refunds."""
        lo, hi, start, end = start.ns, end.ns, start.to_utc().floor_ms(), end.to_utc().ceil_ms()
        if end.ns <= start.ns:
            return []
        found: dict[str, OrderSummary] = {}
        lock = threading.Lock()
        calls = [0]
        expected: list[int | None] = [None]

        def keep(rows: list[dict[str, Any]], a: Instant, b: Instant) -> None:
            parsed = [OrderSummary.from_vtex(r) for r in rows]
            with lock:
                calls[0] += 1
                for o in parsed:
                    if a.ns <= o.created_at.ns < b.ns:
                        found.setdefault(o.order_id, o)
                snapshot = ListProgress(len(found), calls[0], expected[0])
            if progress:
                progress(snapshot)

        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            pending: set[Future[tuple[str, Instant, Instant, dict[str, Any]]]] = set()

            def probe(a: Instant, b: Instant) -> tuple[str, Instant, Instant, dict[str, Any]]:
                return "probe", a, b, self._page(a, b, 1, statuses, has_return_invoice)

            def page(a: Instant, b: Instant, n: int) -> tuple[str, Instant, Instant, dict[str, Any]]:
                return "page", a, b, self._page(a, b, n, statuses, has_return_invoice)

            pending.add(pool.submit(probe, start, end))
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        kind, a, b, body = fut.result()
                        if kind == "page":
                            keep(body["list"], a, b)
                            continue
                        total = body["paging"]["total"]
                        if expected[0] is None:
                            expected[0] = total
                        if total <= MAX_PAGES * MAX_PER_PAGE:
                            keep(body["list"], a, b)
                            for n in range(2, math.ceil(total / MAX_PER_PAGE) + 1):
                                pending.add(pool.submit(page, a, b, n))
                            continue
                        for sa, sb in _split(a, b, total):
                            pending.add(pool.submit(probe, sa, sb))
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
        return sorted(
            (o for o in found.values() if lo <= o.created_at.ns < hi), key=lambda o: (o.created_at.ns, o.order_id)
        )


def _split(a: Instant, b: Instant, total: int) -> list[tuple[Instant, Instant]]:
    """Cut ``[a, b)`` into millisecond-aligned parts expected to hold ~2,400 orders each (at least 2 parts)."""
    width_ms = (b.ns - a.ns) // _MS
    if width_ms <= 1:
        raise BadResponse(
            f"more than {MAX_PAGES * MAX_PER_PAGE} orders were created within one millisecond at {a}; "
            "VTEX cannot page through them — narrow the query with a status filter"
        )
    parts = min(max(2, math.ceil(total / 2400)), width_ms)
    edges = [a.ns + (width_ms * i // parts) * _MS for i in range(parts)] + [b.ns]
    return [(Instant(x), Instant(y)) for x, y in itertools.pairwise(edges) if y > x]
