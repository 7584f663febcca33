"""OMS: ``GET /api/oms/pvt/orders`` (list) and ``GET /api/oms/pvt/orders/{orderId}`` (get), as VTEX answers them.

The list endpoint keeps VTEX's limits: ``per_page`` at most 100, ``page`` at most 30 (so at most 3,000 orders per
distinct filter set), while ``paging.total`` still reports every match. Orders are pre-sorted by creation (ties by
order id) in partitions by status and return invoice, so a creation window is a bisection per partition and the
``stats`` block is a sum of prefix sums: a call over the whole store costs well under a millisecond of CPU.
"""

from __future__ import annotations

import bisect
import math
import random
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from itertools import accumulate, chain
from typing import Any

from refundkit.timeutil import Instant, parse_instant

from .adjustments import transaction_id_for
from .config import SandboxConfig
from .http import Request, Response, json_response, oms_error
from .payments import apply_group, apply_to_detail, apply_to_row
from .store import PAYMENT_SYSTEMS, STATUS_DESCRIPTIONS, OrderSummary, Store, catalog_entry, cities

__all__ = [
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "get_order",
    "list_item",
    "list_orders",
    "order_detail",
    "order_json",
    "vtex_date",
]

MAX_PAGE = 30
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 15
_RANGE_RE = re.compile(r"^\s*(creationDate|invoicedDate|authorizedDate):\[\s*(\S+)\s+TO\s+(\S+)\s*\]\s*$")
_ORDER_FIELDS = {"creationDate", "orderId", "totalValue", "items", "origin"}


def vtex_date(instant: Instant | None) -> str | None:
    """VTEX writes most dates with the fraction's trailing zeros dropped (``…:54.53+00:00``, ``…:54+00:00``)."""
    if instant is None:
        return None
    text = instant.isoformat(7)
    head, offset = text[:-6], text[-6:]
    if "." in head:
        head = head.rstrip("0").rstrip(".")
    return head + offset


def creation_date(instant: Instant) -> str:
    """``creationDate`` always with 7 fractional digits: ``2026-03-01T00:00:00.0000000+00:00``."""
    return instant.isoformat(7)


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
        order_detail(summary, store.seed, store.account), summary, store.adjustments.get(summary.order_id)
    )
    return apply_group(body, store, summary)


def get_order(store: Store, req: Request, order_id: str) -> Response:
    body = order_json(store, order_id)
    if body is None:
        return oms_error(404, "OMS003", "Order not found")
    return json_response(200, body)


_CURRENCY_PREFS = {
    "BRL": {
        "countryCode": "BRA",
        "currencyCode": "BRL",
        "currencyLocale": 1046,
        "currencySymbol": "R$",
        "timeZone": "E. South America Standard Time",
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": 2,
            "CurrencyDecimalSeparator": ",",
            "CurrencyGroupSeparator": ".",
            "CurrencyGroupSize": 3,
            "StartsWithCurrencySymbol": True,
        },
    },
    "USD": {
        "countryCode": "USA",
        "currencyCode": "USD",
        "currencyLocale": 1033,
        "currencySymbol": "$",
        "timeZone": "Eastern Standard Time",
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": 2,
            "CurrencyDecimalSeparator": ".",
            "CurrencyGroupSeparator": ",",
            "CurrencyGroupSize": 3,
            "StartsWithCurrencySymbol": True,
        },
    },
}
_TOTAL_NAMES = {
    "Items": "Total dos Itens",
    "Discounts": "Total dos Descontos",
    "Shipping": "Total do Frete",
    "Tax": "Total da Taxa",
}
_CANCEL_REASONS = [
    "Cliente desistiu da compra",
    "Pagamento não aprovado",
    "Produto sem estoque",
    "Endereço de entrega inválido",
]
_STREETS = [
    "Rua das Flores",
    "Avenida Brasil",
    "Rua Sete de Setembro",
    "Avenida Paulista",
    "Rua XV de Novembro",
    "Main Street",
    "Oak Avenue",
    "Sunset Boulevard",
]


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(4 * n):0{n}X}"


def order_detail(o: OrderSummary, seed: int, account: str) -> dict[str, Any]:
    """The full order JSON (spec ``GetOrder``). Cosmetic fields come from a generator seeded by (seed, index)."""
    rng = random.Random(seed * 1_000_003 + o.index)
    group = o.order_id[:-3]
    city, state, zip_prefix = rng.choice(cities(o.currency))
    country = "USA" if o.currency == "USD" else "BRA"
    email = f"{_ascii(o.client_first_name)}.{_ascii(o.client_last_name)}{o.index % 97}@example.com".lower()
    address: dict[str, Any] = {
        "addressType": "residential",
        "receiverName": o.client_name,
        "addressId": _hex(rng, 12).lower(),
        "versionId": None,
        "entityId": None,
        "postalCode": f"{zip_prefix}-{rng.randrange(1000):03d}",
        "city": city,
        "state": state,
        "country": country,
        "street": rng.choice(_STREETS),
        "number": str(rng.randrange(1, 3000)),
        "neighborhood": "Centro",
        "complement": "",
        "reference": None,
        "geoCoordinates": [],
    }

    items: list[dict[str, Any]] = []
    for line in o.items:
        name, brand, category, _ = catalog_entry(line.product)
        total = line.selling_price * line.quantity
        items.append(
            {
                "uniqueId": _hex(rng),
                "id": line.sku,
                "productId": str(100 + line.product),
                "ean": None,
                "lockId": f"00-{group}-01",
                "itemAttachment": {"content": {}, "name": None},
                "attachments": [],
                "quantity": line.quantity,
                "seller": "1",
                "name": name,
                "refId": f"REF{line.sku}",
                "price": line.price,
                "listPrice": line.list_price,
                "manualPrice": None,
                "priceTags": [],
                "imageUrl": f"https://{account}.vteximg.com.br/arquivos/ids/{line.sku}-55-55/img.jpg",
                "detailUrl": f"/p{line.product}/p",
                "components": [],
                "bundleItems": [],
                "params": [],
                "offerings": [],
                "attachmentOfferings": [],
                "sellerSku": line.sku,
                "priceValidUntil": None,
                "commission": 0,
                "tax": 0,
                "preSaleDate": None,
                "additionalInfo": {
                    "brandName": brand,
                    "brandId": str(2000000 + hash_small(brand)),
                    "categoriesIds": "/1/",
                    "categories": [{"id": 1, "name": category}],
                    "productClusterId": "",
                    "commercialConditionId": "1",
                    "dimension": {"cubicweight": 1.0, "height": 10, "length": 20, "weight": 500, "width": 15},
                    "offeringInfo": None,
                    "offeringType": None,
                    "offeringTypeId": None,
                },
                "measurementUnit": "un",
                "unitMultiplier": 1,
                "sellingPrice": line.selling_price,
                "isGift": False,
                "shippingPrice": None,
                "rewardValue": 0,
                "freightCommission": 0,
                "priceDefinition": {
                    "sellingPrices": [{"value": line.selling_price, "quantity": line.quantity}],
                    "calculatedSellingPrice": line.selling_price,
                    "total": total,
                    "reason": None,
                },
                "taxCode": None,
                "parentItemIndex": None,
                "parentAssemblyBinding": None,
                "callCenterOperator": None,
                "serialNumbers": None,
                "assemblies": [],
                "costPrice": line.price * 6 // 10,
            }
        )

    _hex(rng)  # the generator's draw stays, so every other cosmetic field is what it always was
    transaction_id = transaction_id_for(account, o.order_id)
    payments = []
    for p in o.payments:
        system, pgroup = PAYMENT_SYSTEMS[p.name]
        card = pgroup == "creditCard"
        payments.append(
            {
                "id": _hex(rng),
                "paymentSystem": system,
                "paymentSystemName": p.name,
                "value": p.value,
                "installments": rng.choice((1, 1, 2, 3, 6)) if card else 1,
                "referenceValue": p.value,
                "cardHolder": None,
                "cardNumber": None,
                "firstDigits": "411111" if card else None,
                "lastDigits": f"{rng.randrange(10000):04d}" if card else None,
                "cvv2": None,
                "expireMonth": None,
                "expireYear": None,
                "url": None,
                "giftCardId": str(rng.randrange(10**6)) if pgroup == "giftCard" else None,
                "giftCardName": None,
                "giftCardCaption": None,
                "redemptionCode": None,
                "group": pgroup,
                "tid": str(rng.randrange(10**9)),
                "dueDate": None,
                "connectorResponses": {
                    "Tid": str(rng.randrange(10**9)),
                    "ReturnCode": "00",
                    "Message": None,
                    "authId": str(rng.randrange(10**6)),
                },
                "giftCardProvider": "VtexGiftCard" if pgroup == "giftCard" else None,
                "giftCardAsDiscount": False,
                "koinUrl": None,
                "accountId": None,
                "parentAccountId": None,
                "bankIssuedInvoiceIdentificationNumber": None,
                "bankIssuedInvoiceIdentificationNumberFormatted": None,
                "bankIssuedInvoiceBarCodeNumber": None,
                "bankIssuedInvoiceBarCodeType": None,
                "billingAddress": None,
                "paymentOrigin": None,
            }
        )

    packages = []
    if o.output_invoice is not None:
        packages.append(
            _package(
                o,
                "Output",
                number=o.output_invoice,
                value=o.total_cents,
                issued=o.invoiced,
                lines=[(i, line.quantity) for i, line in enumerate(o.items)],
                rng=rng,
                account=account,
            )
        )
    for inv in o.input_invoices:
        pkg = _package(
            o,
            "Input",
            number=inv.number,
            value=inv.value,
            issued=inv.issued,
            lines=list(inv.items),
            rng=rng,
            account=account,
        )
        if inv.items:
            refund_items = [
                {
                    "useFreight": inv.value == o.total_cents,
                    "isCompensation": False,
                    "compensationValue": 0,
                    "id": o.items[i].sku,
                    "quantity": q,
                    "price": o.items[i].selling_price,
                    "description": "Devolução",
                }
                for i, q in inv.items
            ]
        else:
            refund_items = [
                {
                    "useFreight": False,
                    "isCompensation": True,
                    "compensationValue": inv.value,
                    "id": o.items[0].sku,
                    "quantity": 0,
                    "price": 0,
                    "description": "Compensação",
                }
            ]
        pkg["restitutions"] = {"Refund": {"value": inv.value, "giftCardData": None, "items": refund_items}}
        packages.append(pkg)

    cancellation = None
    if o.canceled is not None:
        by_user = rng.random() < 0.5
        cancellation = {
            "RequestedByUser": by_user,
            "RequestedBySystem": not by_user,
            "RequestedBySellerNotification": False,
            "RequestedByPaymentNotification": False,
            "Reason": rng.choice(_CANCEL_REASONS),
            "CancellationDate": o.canceled.isoformat(7).replace("+00:00", "Z"),
        }

    shipping_per_item = [o.shipping_cents // len(o.items)] * len(o.items)
    shipping_per_item[0] += o.shipping_cents - sum(shipping_per_item)
    logistics = [
        {
            "itemIndex": i,
            "selectedSla": "Normal",
            "lockTTL": "10d",
            "price": shipping_per_item[i],
            "listPrice": shipping_per_item[i],
            "sellingPrice": shipping_per_item[i],
            "deliveryWindow": None,
            "deliveryCompany": "Transportadora Padrão",
            "shippingEstimate": "5bd",
            "shippingEstimateDate": vtex_date(o.created + timedelta(days=7)),
            "shipsTo": [country],
            "deliveryChannels": [{"id": "delivery", "stockBalance": 0}],
            "selectedDeliveryChannel": "delivery",
            "addressId": address["addressId"],
            "versionId": None,
            "entityId": None,
            "polygonName": None,
            "pickupPointId": None,
            "transitTime": "5bd",
            "slas": [],
            "deliveryIds": [],
            "pickupStoreInfo": None,
        }
        for i in range(len(o.items))
    ]

    profile_id = _hex(rng).lower()
    return {
        "orderId": o.order_id,
        "sequence": str(o.sequence),
        "marketplaceOrderId": "",
        "marketplaceServicesEndpoint": f"http://oms.vtexinternal.com.br/api/oms?an={account}",
        "sellerOrderId": f"00-{o.order_id}",
        "origin": o.origin,
        "affiliateId": "",
        "salesChannel": o.sales_channel,
        "merchantName": None,
        "status": o.status,
        "workflowIsInError": False,
        "statusDescription": STATUS_DESCRIPTIONS.get(o.status, o.status),
        "value": o.total_cents,
        "creationDate": creation_date(o.created),
        "lastChange": vtex_date(o.last_change),
        "orderGroup": group,
        "followUpEmail": f"{_hex(rng, 16).lower()}@ct.vtex.com.br",
        "lastMessage": None,
        "hostname": account,
        "isCompleted": o.status not in ("payment-pending",),
        "roundingError": 0,
        "orderFormId": _hex(rng).lower(),
        "allowCancellation": o.status
        in ("payment-pending", "payment-approved", "window-to-cancel", "ready-for-handling"),
        "allowEdition": False,
        "isCheckedIn": False,
        "authorizedDate": vtex_date(o.authorized),
        "invoicedDate": vtex_date(o.invoiced),
        "cancelReason": cancellation["Reason"] if cancellation else None,
        "checkedInPickupPointId": None,
        "totals": [
            {"id": "Items", "name": _TOTAL_NAMES["Items"], "value": o.items_cents},
            {"id": "Discounts", "name": _TOTAL_NAMES["Discounts"], "value": o.discounts_cents},
            {"id": "Shipping", "name": _TOTAL_NAMES["Shipping"], "value": o.shipping_cents},
            {"id": "Tax", "name": _TOTAL_NAMES["Tax"], "value": o.tax_cents},
        ],
        "sellers": [
            {
                "id": "1",
                "name": account,
                "logo": None,
                "fulfillmentEndpoint": f"http://fulfillment.vtexcommerce.com.br/api/fulfillment?an={account}",
            }
        ],
        "clientPreferencesData": {
            "locale": "en-US" if o.currency == "USD" else "pt-BR",
            "optinNewsLetter": rng.random() < 0.4,
        },
        "cancellationData": cancellation,
        "taxData": None,
        "subscriptionData": None,
        "itemMetadata": {
            "Items": [
                {
                    "Id": line.sku,
                    "Seller": "1",
                    "Name": catalog_entry(line.product)[0],
                    "SkuName": catalog_entry(line.product)[0],
                    "ProductId": str(100 + line.product),
                    "RefId": f"REF{line.sku}",
                    "Ean": f"789{line.sku:0>10}",
                    "ImageUrl": f"https://{account}.vteximg.com.br/arquivos/ids/{line.sku}-55-55/img.jpg",
                    "DetailUrl": f"/p{line.product}/p",
                    "AssemblyOptions": [],
                }
                for line in o.items
            ]
        },
        "marketplace": {
            "baseURL": f"http://oms.vtexinternal.com.br/api/oms?an={account}",
            "isCertified": None,
            "name": account,
        },
        "storePreferencesData": _CURRENCY_PREFS[o.currency],
        "customData": None,
        "commercialConditionData": None,
        "openTextField": None,
        "invoiceData": None,
        "changesAttachment": None,
        "callCenterOperatorData": None,
        "packageAttachment": {"packages": packages},
        "paymentData": {
            "giftCards": [],
            "transactions": [
                {
                    "isActive": True,
                    "transactionId": transaction_id,
                    "merchantName": account.upper(),
                    "payments": payments,
                }
            ],
        },
        "shippingData": {
            "id": "shippingData",
            "address": address,
            "logisticsInfo": logistics,
            "trackingHints": None,
            "selectedAddresses": [
                {
                    k: address[k]
                    for k in (
                        "addressId",
                        "versionId",
                        "entityId",
                        "addressType",
                        "receiverName",
                        "street",
                        "number",
                        "complement",
                        "neighborhood",
                        "postalCode",
                        "city",
                        "state",
                        "country",
                        "reference",
                        "geoCoordinates",
                    )
                }
            ],
            "contactInformation": [],
        },
        "ratesAndBenefitsData": {"id": "ratesAndBenefitsData", "rateAndBenefitsIdentifiers": []},
        "marketingData": None,
        "giftRegistryData": None,
        "clientProfileData": {
            "id": "clientProfileData",
            "email": email,
            "firstName": o.client_first_name,
            "lastName": o.client_last_name,
            "documentType": "cpf" if country == "BRA" else "ssn",
            "document": f"{rng.randrange(10**11):011d}",
            "phone": f"+55119{rng.randrange(10**8):08d}",
            "corporateName": None,
            "tradeName": None,
            "corporateDocument": None,
            "stateInscription": None,
            "corporatePhone": None,
            "isCorporate": False,
            "userProfileId": profile_id,
            "userProfileVersion": None,
            "customerClass": None,
            "customerCode": None,
        },
        "items": items,
        "marketplaceItems": [],
    }


def _package(
    o: OrderSummary,
    kind: str,
    *,
    number: str,
    value: int,
    issued: Instant | None,
    lines: list[tuple[int, int]],
    rng: random.Random,
    account: str,
) -> dict[str, Any]:
    return {
        "items": [
            {
                "itemIndex": i,
                "quantity": q,
                "price": o.items[i].selling_price,
                "description": None,
                "unitMultiplier": 1.0,
            }
            for i, q in lines
        ],
        "courier": "Transportadora Padrão" if kind == "Output" else None,
        "invoiceNumber": number,
        "invoiceValue": value,
        "invoiceUrl": None,
        "issuanceDate": vtex_date(issued),
        "trackingNumber": f"BR{rng.randrange(10**9):09d}" if kind == "Output" else None,
        "invoiceKey": None,
        "trackingUrl": None,
        "embeddedInvoice": "",
        "type": kind,
        "courierStatus": None,
        "cfop": None,
        "restitutions": {},
        "volumes": 1,
        "EnableInferItems": False,
    }


def hash_small(text: str) -> int:
    """A small stable number from text (Python's hash() changes between runs)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % 100000


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
