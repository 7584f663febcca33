"""Shared fakes for the VTEX client's unit tests: settings with a recognisable token, a fake clock, a recording
``httpx.MockTransport`` handler and a faithful fake of the OMS list endpoint."""

from __future__ import annotations

import bisect
import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx

from refundkit.config import Secret, Settings
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.limiter import AdaptiveLimiter
from refundkit.vtex.transport import RetryPolicy, Transport

TOKEN = "TOKEN-must-never-leak-7f3a9c2e1b"
APP_KEY = "vtexappkey-acme-TESTKEY"
ACCOUNT = "acme"
BASE = f"https://{ACCOUNT}.vtexcommercestable.com.br"


def make_settings(**changes: object) -> Settings:
    s = Settings(account=ACCOUNT, app_key=APP_KEY, app_token=Secret(TOKEN), user="tester")
    return s.with_(**changes) if changes else s


class FakeClock:
    """A monotonic clock that only moves when someone sleeps. ``sleeps`` records every requested wait."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            # never stand still: a tiny wait still moves the clock, so a float rounding cannot spin forever
            self.now += max(seconds, 1e-6)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass
class Waits:
    """The transport's back-off sleeps (on the shared fake clock), apart from the limiter's pacing sleeps."""

    clock: FakeClock
    transport: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.transport.append(seconds)
        self.clock.advance(seconds)


class Recorder:
    """A MockTransport handler that records every request and answers from ``respond`` (a function or a list of
    responses / exceptions, used in turn; the last one repeats)."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | list) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            n = len(self.requests)
        answer = self.respond(request) if callable(self.respond) else self.respond[min(n, len(self.respond)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, type) and issubclass(answer, httpx.TransportError):
            raise answer("simulated", request=request)
        assert isinstance(answer, httpx.Response), answer
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def fast_limiter(clock: FakeClock | None = None, **kw: object) -> Callable[[], AdaptiveLimiter]:
    """A limiter that does not slow unit tests down (high rate), on a fake clock when one is given."""
    opts: dict = {"initial_rate": 1000.0, "max_rate": 10_000.0, "max_concurrency": 64}
    if clock is not None:
        opts.update(clock=clock, sleep=clock.sleep)
    opts.update(kw)
    return lambda: AdaptiveLimiter(**opts)


def make_transport(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    clock: FakeClock | None = None,
    waits: Waits | None = None,
    retry: RetryPolicy | None = None,
    settings: Settings | None = None,
    **kw: object,
) -> Transport:
    clock = clock or (waits.clock if waits else FakeClock())
    return Transport(
        settings or make_settings(),
        http_transport=httpx.MockTransport(handler),
        retry=retry or RetryPolicy.fast(),
        limiter_factory=kw.pop("limiter_factory", None) or fast_limiter(clock),  # type: ignore[arg-type]  # keyword pass-through to the transport
        sleep=waits.sleep if waits else clock.sleep,
        **kw,  # type: ignore[arg-type]  # keyword pass-through to the transport
    )


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


# -- a faithful fake of GET /api/oms/pvt/orders ------------------------------------------------------------------
_RANGE = re.compile(r"^creationDate:\[(\S+) TO (\S+)\]$")
_MS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@dataclass(frozen=True)
class FakeOrder:
    order_id: str
    created: Instant
    status: str = "invoiced"
    total: int = 1000
    currency: str = "BRL"


class FakeOms:
    """``GET /api/oms/pvt/orders`` as VTEX documents it: ``f_creationDate`` bounds in UTC milliseconds, both ends
    inclusive; ``orderBy=creationDate,asc`` ordering stable (ties by orderId); ``per_page`` at most 100; ``page`` at
    most ``max_pages`` (30; 400 beyond); ``paging.total`` counts every match. ``GET /api/oms/pvt/orders/{id}``
    answers a minimal order. Creation dates are written with 7 fractional digits and a -03:00 offset.

    ``violations`` lists every request a careful client should not have sent."""

    def __init__(self, orders: Iterable[FakeOrder], *, max_pages: int = 30) -> None:
        self.max_pages = max_pages
        self.orders = sorted(orders, key=lambda o: (o.created.ns, o.order_id))
        self._keys = [o.created.ns for o in self.orders]
        self.queries: list[dict[str, str]] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def _bad(self, why: str) -> httpx.Response:
        with self._lock:
            self.violations.append(why)
        return json_response(400, {"error": {"code": "OMS001", "message": why, "exception": None}})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method != "GET" or not path.startswith("/api/oms/pvt/orders"):
            return self._bad(f"unexpected {request.method} {path}")
        if path != "/api/oms/pvt/orders":
            oid = path.rsplit("/", 1)[1]
            for o in self.orders:
                if o.order_id == oid:
                    return json_response(200, self.detail(o))
            return json_response(404, {"error": {"code": "OMS004", "message": "Order not found"}})
        q = dict(parse_qsl(request.url.query.decode()))
        with self._lock:
            self.queries.append(q)
        m = _RANGE.match(q.get("f_creationDate", ""))
        if not m:
            return self._bad(f"f_creationDate missing or malformed: {q.get('f_creationDate')!r}")
        lo_s, hi_s = m.groups()
        if not (_MS_UTC.match(lo_s) and _MS_UTC.match(hi_s)):
            return self._bad(f"bounds must be UTC milliseconds with Z: {lo_s} {hi_s}")
        lo, hi = parse_instant(lo_s).ns, parse_instant(hi_s).ns
        page, per_page = int(q.get("page", "1")), int(q.get("per_page", "15"))
        if per_page > 100 or per_page < 1:
            return self._bad(f"per_page {per_page}")
        if page > self.max_pages or page < 1:
            return self._bad(f"page {page}")
        if q.get("orderBy") != "creationDate,asc":
            return self._bad(f"orderBy {q.get('orderBy')!r}")
        i, j = bisect.bisect_left(self._keys, lo), bisect.bisect_right(self._keys, hi)
        matches = self.orders[i:j]
        if q.get("f_status"):
            wanted = set(q["f_status"].split(","))
            matches = [o for o in matches if o.status in wanted]
        rows = matches[(page - 1) * per_page : page * per_page]
        return json_response(
            200,
            {
                "list": [self.row(o) for o in rows],
                "facets": [],
                "paging": {
                    "total": len(matches),
                    "pages": math.ceil(len(matches) / per_page),
                    "currentPage": page,
                    "perPage": per_page,
                },
                "stats": {"stats": {}},
            },
        )

    @staticmethod
    def row(o: FakeOrder) -> dict:
        return {
            "orderId": o.order_id,
            "creationDate": Instant(o.created.ns, -180).isoformat(7),
            "clientName": "Ana",
            "items": None,
            "totalValue": o.total,
            "paymentNames": "Pix",
            "status": o.status,
            "statusDescription": o.status,
            "marketPlaceOrderId": None,
            "sequence": o.order_id[:6],
            "salesChannel": "1",
            "affiliateId": "",
            "origin": "Marketplace",
            "currencyCode": o.currency,
        }

    @staticmethod
    def detail(o: FakeOrder) -> dict:
        return {
            "orderId": o.order_id,
            "sequence": o.order_id[:6],
            "status": o.status,
            "creationDate": Instant(o.created.ns, -180).isoformat(7),
            "value": o.total,
            "salesChannel": "1",
            "totals": [{"id": "Items", "name": "Items Total", "value": o.total}],
            "storePreferencesData": {"currencyCode": o.currency},
        }

    @property
    def pages_requested(self) -> list[int]:
        return [int(q.get("page", "1")) for q in self.queries]
