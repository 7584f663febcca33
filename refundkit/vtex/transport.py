"""The one door to VTEX: pooled httpx clients, authentication, pacing, retries, error mapping and the allowlist.

Every request refundkit makes passes :meth:`Transport.request`, which

1. refuses any (method, path) not on :data:`ALLOWED` — refundkit reads orders, writes Master Data documents and
   notes, and nothing else; the OMS invoice, cancel and change endpoints and every Payments call are unreachable
   (:class:`~refundkit.errors.ForbiddenEndpoint`, raised before anything is sent);
2. waits for the host's :class:`~refundkit.vtex.limiter.AdaptiveLimiter`;
3. retries 429 (honouring ``Retry-After``), 502, 503, 504, timeouts and connection errors with exponential back-off
   and full jitter — but a request that is not idempotent is retried only when VTEX certainly did not act on it
   (429, connection refused before sending); callers make their writes idempotent (deterministic ids) and say so
   with ``idempotent=True``;
4. maps what is left to the error hierarchy in :mod:`refundkit.errors`, with messages that say what to do.

Requests are described in logs and errors as ``METHOD /path`` — never with headers, so the app token cannot leak.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..config import Settings
from ..errors import (
    AuthenticationError,
    BadResponse,
    ForbiddenEndpoint,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    VtexError,
)
from .limiter import AdaptiveLimiter

__all__ = ["ALLOWED", "RetryPolicy", "Transport", "check_allowed"]

log = logging.getLogger("refundkit.vtex")

_SEG = r"[^/]+"
#: Every (method, path) refundkit may call. Anything else is refused before it is sent.
ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (m, re.compile(p))
    for m, p in [
        ("GET", r"^/api/oms/pvt/orders$"),
        ("GET", rf"^/api/oms/pvt/orders/{_SEG}$"),
        ("GET", r"^/api/do/notes$"),
        ("GET", rf"^/api/do/notes/{_SEG}$"),
        ("POST", r"^/api/do/notes$"),
        ("GET", rf"^/api/dataentities/{_SEG}/schemas(/{_SEG})?$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/schemas/{_SEG}$"),
        ("GET", rf"^/api/dataentities/{_SEG}/indices(/{_SEG})?$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/indices$"),
        ("GET", rf"^/api/dataentities/{_SEG}/documents/{_SEG}$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/documents/{_SEG}$"),
        ("PATCH", rf"^/api/dataentities/{_SEG}/documents/{_SEG}$"),
        ("GET", rf"^/api/dataentities/{_SEG}/search$"),
        ("GET", rf"^/api/dataentities/{_SEG}/scroll$"),
    ]
)


def check_allowed(method: str, path: str) -> None:
    method = method.upper()
    for m, pattern in ALLOWED:
        if m == method and pattern.match(path):
            return
    raise ForbiddenEndpoint(
        f"refundkit does not call {method} {path}: it only reads orders and writes Master Data documents and notes, "
        "so it can never refund, cancel or invoice (move money) on VTEX",
        request=f"{method} {path}",
    )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    wait_initial: float = 0.5
    wait_max: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    @classmethod
    def fast(cls) -> RetryPolicy:
        """For tests: the same decisions, tiny waits."""
        return cls(attempts=8, wait_initial=0.005, wait_max=0.05)


_RESOURCE_HINTS = [
    (re.compile(r"^/api/oms/pvt/orders$"), "OMS > OMS access > List Orders"),
    (re.compile(r"^/api/oms/pvt/orders/"), "OMS > OMS access > View order"),
    (re.compile(r"^/api/dataentities/[^/]+/(schemas|indices)"), "Dynamic Storage > Master Data administrator"),
    (re.compile(r"^/api/dataentities/.*/(search|scroll)$"), "Dynamic Storage > Read only documents"),
    (re.compile(r"^/api/dataentities/"), "Dynamic Storage > Insert or update document (not remove)"),
]


def _hint(path: str) -> str:
    for pattern, resource in _RESOURCE_HINTS:
        if pattern.match(path):
            return f"give the app key's role the License Manager resource '{resource}'"
    return "check the app key's roles in License Manager"


def _vtex_message(response: httpx.Response) -> str:
    """The message VTEX put in an error body, in any of its shapes, shortened."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        for key in ("Message", "message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return body[key][:300]
    return str(body)[:200]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class Transport:
    """Pooled, paced, retrying access to one VTEX account. Thread-safe; use from many threads at once.

    ``http_transport`` replaces the network (``httpx.MockTransport`` in unit tests).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: httpx.Timeout | float = httpx.Timeout(30.0, connect=5.0),
        retry: RetryPolicy = RetryPolicy(),
        limiter_factory: Callable[[], AdaptiveLimiter] = AdaptiveLimiter,
        http_transport: httpx.BaseTransport | None = None,
        max_connections: int = 32,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        settings.require_account()
        self.settings = settings
        self.base_url = settings.vtex_url
        self.retry = retry
        self._timeout = timeout
        self._limiter_factory = limiter_factory
        self._http_transport = http_transport
        self._max_connections = max_connections
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clients: dict[str, httpx.Client] = {}
        self._limiters: dict[str, AdaptiveLimiter] = {}
        self._lock = threading.Lock()
        self.calls = 0  # requests actually sent, retries included

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, account={self.settings.account!r})"

    # -- clients per host ---------------------------------------------------------------------------------------
    def _client_for(self, base: str) -> tuple[httpx.Client, AdaptiveLimiter]:
        host = urlsplit(base).netloc
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                token = self.settings.app_token
                headers = {
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "X-VTEX-API-AppKey": self.settings.app_key or "",
                    "X-VTEX-API-AppToken": token.reveal() if token else "",
                    "User-Agent": "refundkit/0.1",
                }
                limits = httpx.Limits(
                    max_connections=self._max_connections, max_keepalive_connections=self._max_connections
                )
                client = httpx.Client(
                    base_url=base,
                    headers=headers,
                    timeout=self._timeout,
                    limits=limits,
                    transport=self._http_transport,
                    follow_redirects=False,
                )
                self._clients[host] = client
                self._limiters[host] = self._limiter_factory()
            return client, self._limiters[host]

    def limiter(self, base: str | None = None) -> AdaptiveLimiter:
        return self._client_for(base or self.base_url)[1]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request loop ---------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        ok: Iterable[int] = (200, 201, 202, 204),
        not_found_ok: bool = False,
    ) -> httpx.Response | None:
        """Send one logical request; return the response (``None`` for a 404 when ``not_found_ok``)."""
        method = method.upper()
        check_allowed(method, path)
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT")
        ok = frozenset(ok)
        client, limiter = self._client_for(self.base_url)
        what = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            limiter.acquire()
            outcome, retry_after = "error", None
            started = time.monotonic()
            try:
                with self._lock:
                    self.calls += 1
                response = client.request(method, path, params=params, json=json, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # nothing reached VTEX: safe to retry any request
                limiter.release("error")
                error: VtexError = NetworkError(
                    f"could not reach {urlsplit(self.base_url).netloc} ({type(exc).__name__}) for {what}: check "
                    "VTEX_ACCOUNT_NAME or VTEX_BASE_URL and your network",
                    request=what,
                )
                if attempt < min(self.retry.attempts, 3):  # a host that refuses thrice is down or misnamed
                    self._backoff(attempt, None, what, "connection failed")
                    continue
                raise error from None
            except httpx.TransportError as exc:
                # sent, but the answer was lost (timeout, reset): VTEX may have acted
                limiter.release("error")
                error = NetworkError(f"no answer from VTEX for {what} ({type(exc).__name__}); try again", request=what)
                if idempotent and attempt < self.retry.attempts:
                    self._backoff(attempt, None, what, type(exc).__name__)
                    continue
                raise error from None
            status = response.status_code
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                outcome = "throttled"
            elif status < 500:
                outcome = "ok"
            limiter.release(outcome, retry_after)
            log.debug("%s -> %s in %.0f ms (attempt %d)", what, status, (time.monotonic() - started) * 1e3, attempt)
            if status in ok:
                return response
            if status == 404 and not_found_ok:
                return None
            retryable = status in self.retry.retry_statuses and (idempotent or status == 429)
            if retryable and attempt < self.retry.attempts:
                self._backoff(attempt, retry_after, what, str(status))
                continue
            raise self._error(response, what, retry_after)

    def _backoff(self, attempt: int, retry_after: float | None, what: str, why: str) -> None:
        if retry_after is not None:
            delay = retry_after  # the limiter already pauses every sender; this request waits too
        else:
            cap = min(self.retry.wait_max, self.retry.wait_initial * 2 ** (attempt - 1))
            delay = self._rng.uniform(cap / 2, cap)
        log.info("%s: %s, retrying in %.2f s (attempt %d of %d)", what, why, delay, attempt + 1, self.retry.attempts)
        if delay > 0:
            self._sleep(delay)

    def _error(self, response: httpx.Response, what: str, retry_after: float | None) -> VtexError:
        status = response.status_code
        path = response.request.url.path
        detail = _vtex_message(response)
        detail = detail.replace(self.settings.app_token.reveal(), "****") if self.settings.app_token else detail
        detail = f": {detail}" if detail else ""
        if status == 401:
            return AuthenticationError(
                f"VTEX refused the credentials (401) for {what}: check VTEX_APP_KEY and VTEX_APP_TOKEN",
                status=status,
                request=what,
            )
        if status == 403:
            return PermissionDenied(f"VTEX denied {what} (403){detail}; {_hint(path)}", status=status, request=what)
        if status == 404:
            return NotFound(f"VTEX found nothing at {what} (404){detail}", status=status, request=what)
        if status == 429:
            return RateLimited(
                f"VTEX kept rate-limiting {what} after {self.retry.attempts} attempts; wait a minute and try again",
                retry_after=retry_after,
                status=status,
                request=what,
            )
        if status >= 500:
            return ServerError(
                f"VTEX failed on {what} ({status}) after retrying{detail}; try again later", status=status, request=what
            )
        return BadResponse(f"VTEX rejected {what} ({status}){detail}", status=status, request=what)

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """:meth:`request`, then the JSON body (``None`` for 204/304 or a tolerated 404)."""
        response = self.request(method, path, **kw)
        if response is None or response.status_code in (204, 304) or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BadResponse(
                f"VTEX answered {method} {path} with something that is not JSON",
                status=response.status_code,
                request=f"{method} {path}",
            ) from None
