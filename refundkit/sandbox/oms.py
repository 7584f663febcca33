"""OMS: ``GET /api/oms/pvt/orders`` (list) and ``GET /api/oms/pvt/orders/{orderId}`` (get), as VTEX answers them.

The list endpoint keeps VTEX's limits: ``per_page`` at most 100, ``page`` at most 30 (so at most 3,000 orders per
distinct filter set), while ``paging.total`` still reports every match. Orders are pre-sorted by creation (ties by
order id) in partitions by status and return invoice, so a creation window is a bisection per partition and the
``stats`` block is a sum of prefix sums: a call over the whole store costs well under a millisecond of CPU. The
order's body is built in :mod:`refundkit.sandbox.orderdetail`.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from itertools import accumulate, chain
from typing import Any

from refundkit.timeutil import Instant, parse_instant

from .config import SandboxConfig
from .http import Request, Response, json_response, oms_error
from .orderdetail import creation_date, order_detail, vtex_date
from .payments import apply_group, apply_to_detail, apply_to_row, apply_totals
from .store import STATUS_DESCRIPTIONS, OrderSummary, Store

__all__ = [
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "get_order",
    "list_item",
    "list_orders",
    "order_json",
]

MAX_PAGE = 30
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 15
_RANGE_RE = re.compile(r"^\s*(creationDate|invoicedDate|authorizedDate):\[\s*(\S+)\s+TO\s+(\S+)\s*\]\s*$")
_ORDER_FIELDS = {"creationDate", "orderId", "totalValue", "items", "origin"}


# -- list ----------------------------------------------------------------------------------------------------------


def _int_param(req: Request, name: str, default: int) -> int | Response:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return oms_error(400, "OMS001", f"{name} must be an integer, got {raw!r}")


def _parse_range(raw: str, field: str) -> tuple[Instant, Instant] | Response:
    m = _RANGE_RE.match(raw)
    if not m or m.group(1) != field:
        return oms_error(
            400,
            "OMS002",
            f"f_{field} must look like {field}:[2026-03-01T00:00:00.000Z TO 2026-03-01T23:59:59.999Z], got {raw!r}",
        )
    try:
        first, last = parse_instant(m.group(2)), parse_instant(m.group(3))
    except ValueError as exc:
        return oms_error(400, "OMS002", f"f_{field}: {exc}")
    return first, last


def list_orders(store: Store, req: Request, config: SandboxConfig | None = None) -> Response:
    """``GET /api/oms/pvt/orders``; its rows as ``config`` says a VTEX account may write them (``list_dates``,
    ``list_invoice_input``)."""
    page = _int_param(req, "page", 1)
    if isinstance(page, Response):
        return page
    per_page = _int_param(req, "per_page", DEFAULT_PER_PAGE)
    if isinstance(per_page, Response):
        return per_page
    if per_page < 1 or per_page > MAX_PER_PAGE:
        return oms_error(
            400,
            "OMS004",
            f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}; VTEX returns "
            f"at most {MAX_PAGE} pages of {MAX_PER_PAGE} orders per filter",
        )
    if page < 1 or page > MAX_PAGE:
        return oms_error(
            400,
            "OMS004",
            f"page must be between 1 and {MAX_PAGE}, got {page}: VTEX returns at most "
            f"{MAX_PAGE} pages of {MAX_PER_PAGE} orders ({MAX_PAGE * MAX_PER_PAGE}) per "
            f"filter; narrow f_creationDate to see the rest",
        )

    order_by = req.query.get("orderBy") or "creationDate,desc"
    field, _, direction = order_by.partition(",")
    direction = (direction or "asc").lower()
    if field not in _ORDER_FIELDS or direction not in ("asc", "desc"):
        return oms_error(
            400,
            "OMS005",
            f"orderBy must be <field>,<asc|desc> with field one of "
            f"{', '.join(sorted(_ORDER_FIELDS))}; got {order_by!r}",
        )

    window = range(len(store.orders))
    raw = req.query.get("f_creationDate")
    if raw:
        bounds = _parse_range(raw, "creationDate")
        if isinstance(bounds, Response):
            return bounds
        window = store.window(*bounds)

    idx = index_of(store)
    statuses: frozenset[str] | None = None
    has_input: bool | None = None
    raw = req.query.get("f_status")
    if raw:
        statuses = frozenset(s.strip() for s in raw.split(",") if s.strip())
    raw = req.query.get("f_hasInputInvoice")
    if raw:
        if raw.lower() not in ("true", "false"):
            return oms_error(400, "OMS001", f"f_hasInputInvoice must be true or false, got {raw!r}")
        has_input = raw.lower() == "true"
    # the common filters (window, status, return invoice) are answered from pre-sorted partitions
    positions, stats = idx.select(window, statuses, has_input)

    keep: list[Any] = []  # rarer filters: checked order by order
    for name, column in (("f_invoicedDate", idx.invoiced_ns), ("f_authorizedDate", idx.authorized_ns)):
        raw = req.query.get(name)
        if raw:
            bounds = _parse_range(raw, name[2:])
            if isinstance(bounds, Response):
                return bounds
            lo, hi = bounds[0].ns, bounds[1].ns
            keep.append(lambda p, c=column, lo=lo, hi=hi: c[p] is not None and lo <= c[p] <= hi)
    raw = req.query.get("salesChannelId") or req.query.get("f_salesChannel")
    if raw:
        channels = frozenset(s.strip() for s in raw.split(","))
        keep.append(lambda p, c=channels: idx.channel[p] in c)
    if keep:
        for pred in keep:
            positions = [p for p in positions if pred(p)]
        stats = idx.stats_of(positions)

    total = len(positions)
    if field == "creationDate":
        ordered = positions if direction == "asc" else positions[::-1]
    else:
        rank = _rank(store, field)
        ordered = sorted(positions, key=rank.__getitem__, reverse=direction == "desc")
    first = (page - 1) * per_page
    page_positions = ordered[first : first + per_page]
    body = {
        "list": [_as_account_writes(list_item(store, p), config) for p in page_positions],
        "facets": [],
        "paging": {"total": total, "pages": math.ceil(total / per_page), "currentPage": page, "perPage": per_page},
        "stats": {"stats": stats},
    }
    return json_response(200, body)


def _as_account_writes(row: dict[str, Any], config: SandboxConfig | None) -> dict[str, Any]:
    """A list row as the account of ``config`` writes it: ``creationDate`` in whole seconds (truncated), and
    ``invoiceInput`` absent, always null or always empty, where the config says so."""
    if config is None or (config.list_dates == "exact" and config.list_invoice_input == "present"):
        return row
    row = dict(row)
    if config.list_dates == "seconds":
        created = parse_instant(row["creationDate"])
        row["creationDate"] = Instant(created.ns - created.ns % 1_000_000_000, created.offset_minutes).isoformat(0)
    if config.list_invoice_input == "absent":
        del row["invoiceInput"]
    elif config.list_invoice_input == "null":
        row["invoiceInput"] = None
    elif config.list_invoice_input == "empty":
        row["invoiceInput"] = []
    return row


#: Per store, each sortable field's rank of every order position (built on first use).
_RANKS: weakref.WeakKeyDictionary[Store, dict[str, list[int]]] = weakref.WeakKeyDictionary()


def _rank(store: Store, field: str) -> list[int]:
    cache = _RANKS.setdefault(store, {})
    if field not in cache:
        orders = store.orders
        keyers: dict[str, Callable[[int], Any]] = {
            "orderId": lambda p: orders[p].order_id,
            "totalValue": lambda p: (orders[p].total_cents, orders[p].order_id),
            "items": lambda p: (orders[p].total_items, orders[p].order_id),
            "origin": lambda p: (orders[p].origin, orders[p].order_id),
        }
        by = sorted(range(len(orders)), key=keyers[field])
        rank = [0] * len(orders)
        for r, p in enumerate(by):
            rank[p] = r
        cache[field] = rank
    return cache[field]


# A statistic as (count, sum, sum of squares, max, min); combined across partitions by _merge.
_Stat = tuple[int, int, int, int, int]
_EMPTY: _Stat = (0, 0, 0, 0, 0)


class _Column:
    """One numeric column with prefix sums and per-block extremes, so a range statistic costs O(blocks)."""

    BLOCK = 64

    def __init__(self, values: list[int]) -> None:
        self.values = values
        self.squares = [v * v for v in values]
        self.prefix = list(accumulate(values, initial=0))
        self.prefix_sq = list(accumulate(self.squares, initial=0))
        b = self.BLOCK
        self.block_max = [max(values[i : i + b]) for i in range(0, len(values), b)]
        self.block_min = [min(values[i : i + b]) for i in range(0, len(values), b)]

    def _extreme(self, lo: int, hi: int, fn: Callable[[list[int]], int], blocks: list[int]) -> int:
        b = self.BLOCK
        first_full, last_full = -(-lo // b), hi // b
        if first_full >= last_full:
            return fn(self.values[lo:hi])
        parts = [fn(blocks[first_full:last_full])]
        if lo < first_full * b:
            parts.append(fn(self.values[lo : first_full * b]))
        if last_full * b < hi:
            parts.append(fn(self.values[last_full * b : hi]))
        return fn(parts)

    def range_stat(self, lo: int, hi: int) -> _Stat:
        if hi <= lo:
            return _EMPTY
        return (
            hi - lo,
            self.prefix[hi] - self.prefix[lo],
            self.prefix_sq[hi] - self.prefix_sq[lo],
            self._extreme(lo, hi, max, self.block_max),
            self._extreme(lo, hi, min, self.block_min),
        )


def _merge(a: _Stat, b: _Stat) -> _Stat:
    if not a[0]:
        return b
    if not b[0]:
        return a
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], max(a[3], b[3]), min(a[4], b[4]))


def _stats_body(totals: dict[str, Any], facets: dict[str, Any]) -> dict[str, Any]:
    """The ``stats`` block: per column, its statistics and, per facet, only the values present (as VTEX lists)."""
    stats = {}
    for name in _COLUMNS:
        d = _stat_dict(totals[name])
        d["Facets"] = {
            facet: {key: _stat_dict(facets[name][facet][key]) for key in sorted(facets[name][facet])}
            for facet, _ in _FACETS
        }
        stats[name] = d
    return stats


def _stat_dict(st: _Stat) -> dict[str, Any]:
    n, s, sq, hi, lo = st
    var = (sq - s * s / n) / (n - 1) if n > 1 else 0.0
    return {
        "Count": n,
        "Max": hi,
        "Mean": s / n if n else 0.0,
        "Min": lo,
        "Missing": 0,
        "StdDev": math.sqrt(max(var, 0.0)),
        "Sum": s,
        "SumOfSquares": sq,
        "Facets": None,
    }


_COLUMNS = ("totalValue", "totalItems")
_FACETS = (("origin", 2), ("currencyCode", 3))  # facet name -> position in the partition key


class _Index:
    """The store cut into partitions by (status, has return invoice, origin, currency), each sorted by creation.

    A list call with a creation window and status/return-invoice filters is then a bisection per partition, and its
    statistics (with the origin and currency facets) are sums of per-partition range statistics.
    """

    def __init__(self, store: Store) -> None:
        orders = store.orders
        self.status = [o.status for o in orders]
        self.channel = [o.sales_channel for o in orders]
        self.invoiced_ns = [o.invoiced.ns if o.invoiced else None for o in orders]
        self.authorized_ns = [o.authorized.ns if o.authorized else None for o in orders]
        self.values = {"totalValue": store.total_values, "totalItems": store.total_items}
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, o in enumerate(orders):
            groups.setdefault((o.status, o.has_input_invoice, o.origin, o.currency), []).append(i)
        self.partitions = [
            (key, pos, {name: _Column([self.values[name][i] for i in pos]) for name in _COLUMNS})
            for key, pos in sorted(groups.items())
        ]

    def select(
        self, window: range, statuses: frozenset[str] | None, has_input: bool | None
    ) -> tuple[Sequence[int], dict[str, Any]]:
        lo, hi = window.start, window.stop
        runs: list[list[int]] = []
        totals = dict.fromkeys(_COLUMNS, _EMPTY)
        facets: dict[str, dict[str, dict[Any, _Stat]]] = {name: {f: {} for f, _ in _FACETS} for name in _COLUMNS}
        for key, pos, cols in self.partitions:
            if statuses is not None and key[0] not in statuses:
                continue
            if has_input is not None and key[1] is not has_input:
                continue
            a, b = bisect.bisect_left(pos, lo), bisect.bisect_left(pos, hi)
            if b <= a:
                continue
            runs.append(pos[a:b])
            for name in _COLUMNS:
                st = cols[name].range_stat(a, b)
                totals[name] = _merge(totals[name], st)
                for facet, k in _FACETS:
                    bucket = facets[name][facet]
                    bucket[key[k]] = _merge(bucket.get(key[k], _EMPTY), st)
        if statuses is None and has_input is None:
            positions: Sequence[int] = window
        else:
            positions = sorted(chain.from_iterable(runs))
        return positions, _stats_body(totals, facets)

    def stats_of(self, positions: Iterable[int]) -> dict[str, Any]:
        """Statistics of an arbitrary set of positions (the slow path, for the rarer filters)."""
        totals = dict.fromkeys(_COLUMNS, _EMPTY)
        facets: dict[str, dict[str, dict[Any, _Stat]]] = {name: {f: {} for f, _ in _FACETS} for name in _COLUMNS}
        keys = self._key_of()
        for p in positions:
            key = keys[p]
            for name in _COLUMNS:
                v = self.values[name][p]
                st = (1, v, v * v, v, v)
                totals[name] = _merge(totals[name], st)
                for facet, k in _FACETS:
                    bucket = facets[name][facet]
                    bucket[key[k]] = _merge(bucket.get(key[k], _EMPTY), st)
        return _stats_body(totals, facets)

    def _key_of(self) -> list[tuple[Any, ...]]:
        keys = self.__dict__.get("_keys")
        if keys is None:
            keys = [()] * len(self.status)
            for key, pos, _ in self.partitions:
                for p in pos:
                    keys[p] = key
            self.__dict__["_keys"] = keys
        return keys


_INDEX_LOCK = threading.Lock()


def index_of(store: Store) -> _Index:
    idx = store.__dict__.get("_oms_index")
    if idx is None:
        with _INDEX_LOCK:
            idx = store.__dict__.get("_oms_index")
            if idx is None:
                idx = store.__dict__["_oms_index"] = _Index(store)
    return idx


def list_item(store: Store, position: int) -> dict[str, Any]:
    cached = store._list_cache.get(position)
    if cached is not None:
        return cached
    o = store.orders[position]
    adjustment = store.adjustments.get(o.order_id)
    if store.config.value_after_return == "reduced" and o.input_invoices:
        item = apply_to_row(_list_item(store, o), o, adjustment)
        item["totalValue"] = store.listed_value(o)
        store._list_cache[position] = item
        return item
    if adjustment is not None:
        item = apply_to_row(_list_item(store, o), o, adjustment)
        store._list_cache[position] = item
        return item
    item = _list_item(store, o)
    store._list_cache[position] = item
    return item


def _list_item(store: Store, o: OrderSummary) -> dict[str, Any]:
    shipping_estimate = None
    if o.status in ("handling", "ready-for-handling", "invoiced") and o.authorized is not None:
        shipping_estimate = vtex_date(o.authorized + timedelta(days=3 + o.index % 5))
    return {
        "orderId": o.order_id,
        "creationDate": creation_date(o.created),
        "clientName": o.client_name,
        "items": None,
        "totalValue": o.total_cents,
        "paymentNames": ", ".join(o.payment_names),
        "status": o.status,
        "statusDescription": STATUS_DESCRIPTIONS.get(o.status, o.status),
        "marketPlaceOrderId": None,
        "sequence": str(o.sequence),
        "salesChannel": o.sales_channel,
        "affiliateId": "",
        "origin": o.origin,
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": shipping_estimate,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": True,
        "listId": None,
        "listType": None,
        "authorizedDate": vtex_date(o.authorized),
        "callCenterOperatorName": None,
        "totalItems": o.total_items,
        "currencyCode": o.currency,
        # Not in the spec's List schema but sent by VTEX (f_hasInputInvoice filters on invoiceInput): invoice numbers.
        "invoiceOutput": [o.output_invoice] if o.output_invoice else None,
        "invoiceInput": [inv.number for inv in o.input_invoices] or None,
    }


def echo_headers(resp: Response, req: Request) -> Response:
    """An order answer of a broken server that echoes the request's headers into the order's fields (the
    ``echo_headers`` setting): list rows' ``clientName`` and ``totalValue``, the order's client first name and
    ``value``. An amount that is text cannot be read, so the client quotes it back in a message."""
    echo = "; ".join(f"{name}: {value}" for name, value in req.headers.items())
    body = resp.body
    if isinstance(body, dict) and isinstance(body.get("list"), list):
        body = {**body, "list": [{**row, "clientName": echo, "totalValue": echo} for row in body["list"]]}
    elif isinstance(body, dict) and "orderId" in body:
        profile = body.get("clientProfileData")
        body = {**body, "value": echo}
        if isinstance(profile, dict):
            body["clientProfileData"] = {**profile, "firstName": echo}
    return Response(resp.status, resp.headers, body)


# -- get -----------------------------------------------------------------------------------------------------------


def order_json(store: Store, order_id: str) -> dict[str, Any] | None:
    """The body of ``GET /api/oms/pvt/orders/{orderId}``; None when unknown. Same on every call."""
    summary = store.order(order_id)
    if summary is None:
        return None
    body = apply_to_detail(
        order_detail(summary, store.seed, store.account, store.config.item_prices),
        summary,
        store.adjustments.get(summary.order_id),
    )
    if store.config.item_info == "none":  # items whose catalog VTEX does not hold
        for item in body.get("items") or []:
            item.pop("additionalInfo", None)
            item.pop("productId", None)
    return apply_totals(apply_group(body, store, summary), store, summary)


def get_order(store: Store, req: Request, order_id: str) -> Response:
    body = order_json(store, order_id)
    if body is None:
        return oms_error(404, "OMS003", "Order not found")
    return json_response(200, body)
