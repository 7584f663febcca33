"""The one door to VTEX: pooled httpx clients, authentication, pacing, retries, error mapping and the allowlist.

Every request refundkit makes passes :meth:`Transport.request`, which

1. builds the final URL (base URL + path + query) and refuses it unless its host is one of the account's and its
   (method, path) is on :data:`ALLOWED` — refundkit reads orders (classic OMS, or the PII data architecture's two
   read endpoints) and payment transactions, writes Master Data documents and notes, and nothing else; the OMS
   invoice, cancel and change endpoints (classic and PII) and every Payments call but
   ``GET /api/pvt/transactions/{id}`` are unreachable (:class:`~refundkit.errors.ForbiddenEndpoint`, raised before
   anything is sent);
2. waits for the host's :class:`~refundkit.vtex.limiter.AdaptiveLimiter` (it starts cautiously; refundkit's sandbox,
   which says so in its answers from a loopback address, lets it start fast);
3. retries 408, 429, 500, 502, 503 and 504 answers, timeouts and connection errors. The wait before attempt
   ``n + 1`` is ``Retry-After`` when VTEX sent one (capped at ``Settings.max_retry_after_s``, 120 s by default);
   after an OMS 429 without ``Retry-After`` it is :attr:`RetryPolicy.oms_throttle_wait` (60 s, as VTEX's orders
   guide advises — and the limiter pauses every sender for as long); otherwise exponential back-off from
   ``wait_initial`` (0.5 s) doubling to at most ``wait_max`` (30 s), with *equal jitter*: a uniformly random wait
   between half and all of that step. At most ``attempts`` (8) attempts, and never past the call's overall deadline
   (``Settings.call_deadline_s``, 300 s by default; each attempt's timeout is also cut to the time left): a retry
   that would end after it raises :class:`~refundkit.errors.DeadlineExceeded` at once. A connection that is refused
   is retried at most 3 times. A request that is not idempotent is retried only when VTEX certainly did not act on
   it (429, or no connection was made); callers make their writes idempotent (deterministic ids) and say so with
   ``idempotent=True``;
4. maps what is left to the error hierarchy in :mod:`refundkit.errors`, with messages that say what to do.

Requests are described in logs and errors as ``METHOD /path`` — never with headers. What VTEX wrote in an error
body is shown only after the app token — in any letter case, URL-encoded, or as a fragment of 8 characters or
more — has been replaced by ``****``, and only then shortened, so no cut can leave part of the token behind.

Every answer's body, a 200 included, has the token removed the same way before anything reads it
(:class:`AnswerScrubber`): a server or proxy that echoes the request's headers into an order's fields can then
put the token in no message built from the answer (an unreadable amount quoted back, a row set aside, a doctor
row), in no listing and in no file the answer is stored in. The check is one pass over the body for runs of the
token's own characters (it costs about as much as parsing the JSON); only a body that holds 8 of them in a row
that are part of the token is rewritten.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ..config import SANDBOX_HEADER, Settings
from ..errors import (
    AuthenticationError,
    BadResponse,
    DeadlineExceeded,
    ForbiddenEndpoint,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    VtexError,
)
from .limiter import AdaptiveLimiter, is_local_host

__all__ = ["ALLOWED", "AnswerScrubber", "RetryPolicy", "ServerDates", "Transport", "check_allowed", "redact"]

log = logging.getLogger("refundkit.vtex")

_SEG = r"[^/]+"
#: Every (method, path) refundkit may call. Anything else is refused before it is sent.
ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (m, re.compile(p))
    for m, p in [
        ("GET", r"^/api/oms/pvt/orders$"),
        ("GET", rf"^/api/oms/pvt/orders/{_SEG}$"),
        # the orders of one cart, which share a payment transaction (read only)
        ("GET", rf"^/api/oms/pvt/orders/order-group/{_SEG}$"),
        # Accounts on VTEX's PII data architecture read orders here instead (refundkit.vtex.orderapi): one order,
        # and the order list, which is a POST but reads only. That POST is allowed on that one path alone: the PII
        # API's other POSTs (invoices, cancel, start-handling, notify-payment) all lie under /api/orders/pvt/document/
        # and stay unreachable, as does every other method on the search path.
        ("GET", rf"^/api/orders/pvt/document/{_SEG}$"),
        ("POST", r"^/api/orders/extendsearch/orders$"),
        ("GET", r"^/api/do/notes$"),
        ("GET", rf"^/api/do/notes/{_SEG}$"),
        ("POST", r"^/api/do/notes$"),
        ("GET", rf"^/api/dataentities/{_SEG}/schemas(/{_SEG})?$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/schemas/{_SEG}$"),
        ("GET", rf"^/api/dataentities/{_SEG}/indices(/{_SEG})?$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/indices$"),
        ("GET", rf"^/api/dataentities/{_SEG}/documents/{_SEG}$"),
        ("PUT", rf"^/api/dataentities/{_SEG}/documents/{_SEG}$"),
        ("GET", rf"^/api/dataentities/{_SEG}/search$"),
        ("GET", rf"^/api/dataentities/{_SEG}/scroll$"),
        # Payments Gateway: reading a transaction (its totalRefunds) needs View Payment Data and moves nothing.
        # No other Payments path and no other method is listed: settlement, refunding and cancellation requests
        # (POST) can never be sent.
        ("GET", rf"^/api/pvt/transactions/{_SEG}$"),
    ]
)


def check_allowed(method: str, path: str) -> None:
    method = method.upper()
    segments = path.split("/")
    if all(seg not in (".", "..") for seg in segments):
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
    """How :meth:`Transport.request` retries; see the module docstring for the whole rule."""

    attempts: int = 8
    wait_initial: float = 0.5
    wait_max: float = 30.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    oms_throttle_wait: float = 60.0  # after an OMS 429 without Retry-After: VTEX advises about a minute

    @classmethod
    def fast(cls) -> RetryPolicy:
        """For tests: the same decisions, tiny waits."""
        return cls(attempts=8, wait_initial=0.005, wait_max=0.05, oms_throttle_wait=0.05)


_RESOURCE_HINTS = [
    (re.compile(r"^/api/oms/pvt/orders$"), "OMS > OMS access > List Orders"),
    (re.compile(r"^/api/oms/pvt/orders/"), "OMS > OMS access > View order"),
    (re.compile(r"^/api/orders/extendsearch/orders$"), "OMS > OMS access > List Orders"),
    (re.compile(r"^/api/orders/pvt/document/"), "OMS > OMS access > View order"),
    (re.compile(r"^/api/dataentities/[^/]+/(schemas|indices)"), "Dynamic Storage > Master Data administrator"),
    (re.compile(r"^/api/dataentities/.*/(search|scroll)$"), "Dynamic Storage > Read only documents"),
    (re.compile(r"^/api/dataentities/"), "Dynamic Storage > Insert or update document (not remove)"),
    (re.compile(r"^/api/pvt/transactions/"), "PCI Gateway > Payment-Make Payments > View Payment Data"),
]


_CLASSIC_ORDERS = re.compile(r"^/api/oms/pvt/orders(/(?!order-group/)[^/]+)?/?$")
_PII_HINT = (
    "if the account is on VTEX's PII data architecture, set REFUNDKIT_PII_ARCHITECTURE=on (`refundkit doctor` tells)"
)


def _hint(path: str) -> str:
    for pattern, resource in _RESOURCE_HINTS:
        if pattern.match(path):
            hint = f"give the app key's role the License Manager resource '{resource}'"
            if path.startswith("/api/oms/pvt/orders"):
                hint += f"; or, {_PII_HINT}"
            return hint
    return "check the app key's roles in License Manager"


_MIN_FRAGMENT = 8
_HEADER_ECHO = re.compile(
    r"(x-vtex-api-apptoken|apptoken|vtexidclientautcookie|authorization)(\s*[\"']?\s*[:=]\s*[\"']?\s*)"
    r"([^\s\"',;&}\]]+)",
    re.IGNORECASE,
)


def redact(text: str, secret: str | None) -> str:
    """``text`` with the secret replaced by ``****``: in any letter case, URL-encoded, as any fragment of 8 or more
    of its characters, and as the value of any echoed token header. Apply it *before* shortening a message."""
    text = _HEADER_ECHO.sub(lambda m: m.group(1) + m.group(2) + "****", text)
    if not secret:
        return text
    for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
        text = re.sub(re.escape(form), "****", text, flags=re.IGNORECASE)
    low = secret.lower()
    n = min(_MIN_FRAGMENT, len(low))
    out: list[str] = []
    i = 0
    lowered = text.lower()
    while i < len(text):
        j = i
        while j < len(text) and lowered[i : j + 1] in low:
            j += 1
        if j - i >= n:
            out.append("****")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class AnswerScrubber:
    """Takes the app token out of an answer's body before anything reads it.

    A body holds a piece of the token only if it holds a run of 8 or more of the token's own characters (as sent,
    or URL-encoded). Such runs are found in one pass (``bytes.translate`` then ``split``, at C speed); a body with a
    run that contains 8 consecutive characters of the token is decoded and :func:`redact` ed, so the token, any
    fragment of 8 or more of its characters and any echoed token header become ``****``.

    Pieces of the token that are also part of something public (``public``: the account name, the app key, which
    answers carry, such as a payment's ``merchantName``) are not taken as the token there: they give nothing
    away."""

    def __init__(self, secret: str | None, public: Iterable[str] = ()) -> None:
        self.secret = secret or ""
        forms = [f.encode("utf-8") for f in dict.fromkeys((self.secret, quote(self.secret, safe="")))]
        n = _MIN_FRAGMENT  # VTEX's tokens are far longer; a shorter one (a test's) is left to the error-body redaction
        shown = [p.lower().encode("utf-8") for p in public if p]
        self._fragments = {
            f[i : i + n]
            for f in forms
            for i in range(len(f) - n + 1)
            if not any(f[i : i + n].lower() in p for p in shown)
        }
        alphabet = {b for f in forms for b in f}
        self._table = bytes(b if b in alphabet else 32 for b in range(256))
        self._n = n
        self._warned = False

    def holds_token(self, body: bytes) -> bool:
        if not self._fragments or len(body) < self._n:
            return False
        n, fragments = self._n, self._fragments
        return any(
            word[i : i + n] in fragments
            for word in body.translate(self._table).split()
            if len(word) >= n
            for i in range(len(word) - n + 1)
        )

    def scrub(self, response: httpx.Response) -> httpx.Response:
        """``response`` itself, or a copy whose body has the token redacted."""
        body = response.content
        if not self.holds_token(body):
            return response
        clean = redact(body.decode("utf-8", "replace"), self.secret).encode("utf-8")
        if not self._warned:  # once: a server that echoes the token does it on every answer
            self._warned = True
            log.warning(
                "VTEX's answer to %s %s held the app token (a server or proxy echoing the request's headers?); "
                "it is removed from every answer before anything reads it",
                response.request.method,
                response.request.url.path,
            )
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=clean,
            request=response.request,
            extensions=response.extensions,
        )


def _vtex_message(response: httpx.Response, secret: str | None) -> str:
    """The message VTEX put in an error body, in any of its shapes, with the token redacted, then shortened."""
    raw = response.content[:65536].decode("utf-8", "replace")
    try:
        body = json.loads(raw)
    except ValueError:
        return _cut_redacted(raw.strip(), secret, 200)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return _cut_redacted(str(err["message"]), secret, 300)
        for key in ("Message", "message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return _cut_redacted(body[key], secret, 300)
    return _cut_redacted(str(body), secret, 200)


def _cut_redacted(text: str, secret: str | None, limit: int) -> str:
    """Redact, then shorten to ``limit``. Only the head that can be shown is redacted (an occurrence of the secret
    that overlaps the first ``limit`` characters lies wholly inside the first ``limit + len(secret)``)."""
    head = redact(text[: limit + len(secret or "") + 64], secret)
    return head if len(head) <= limit else head[: limit - 1] + "…"


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


_DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client in the process, verifying as httpx does by default (certifi's CA bundle, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as they are when the first client is made). Building one loads the bundle,
    about 16 ms of CPU: each new client would."""
    return httpx.create_ssl_context()


class ServerDates:
    """The ``Date`` header of the answers VTEX gave while it was watched (:meth:`Transport.server_dates`): the
    earliest, as UTC nanoseconds (``None`` when no answer carried a readable one)."""

    def __init__(self) -> None:
        self.earliest_ns: int | None = None

    def see(self, header: str | None) -> None:
        if not header:
            return
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if when.tzinfo is None:
            return
        ns = int(when.timestamp()) * 1_000_000_000
        if self.earliest_ns is None or ns < self.earliest_ns:
            self.earliest_ns = ns


class Transport:
    """Pooled, paced, retrying access to one VTEX account. Thread-safe; use from many threads at once.

    ``http_transport`` replaces the network (``httpx.MockTransport`` in unit tests). ``read_only``, when given, is
    why this transport writes nothing: every request but a GET is refused with it before anything is sent (the desk
    gives a viewer such a transport, so no widget message can make it write).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: httpx.Timeout | float = _DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        limiter_factory: Callable[[], AdaptiveLimiter] = AdaptiveLimiter,
        http_transport: httpx.BaseTransport | None = None,
        max_connections: int = 32,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        deadline: float | None = None,
        read_only: str | None = None,
    ) -> None:
        settings.require_account()
        self.settings = settings
        self.read_only = read_only
        self.base_url = settings.vtex_url
        self.payments_url = settings.payments_url
        self.retry = retry
        self.deadline = float(deadline if deadline is not None else settings.call_deadline_s)
        self.max_retry_after = float(settings.max_retry_after_s)
        self._clock = clock
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
        self._sandbox: dict[str, bool] = {}  # host -> it answered as refundkit's sandbox (header, loopback)
        self._date_watchers: list[ServerDates] = []
        self._scrubber = AnswerScrubber(
            settings.app_token.reveal() if settings.app_token else None,
            public=(settings.account or "", settings.app_key or ""),
        )

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
                    verify=_tls_context(),
                    timeout=self._timeout,
                    limits=limits,
                    transport=self._http_transport,
                    follow_redirects=False,
                )
                self._clients[host] = client
                self._limiters[host] = self._limiter_factory()
            return client, self._limiters[host]

    @contextlib.contextmanager
    def server_dates(self) -> Iterator[ServerDates]:
        """Watch the ``Date`` header of every answer until the block ends: what time VTEX's clock said (a sync
        decides what it has covered by VTEX's clock, not by this computer's)."""
        watch = ServerDates()
        with self._lock:
            self._date_watchers.append(watch)
        try:
            yield watch
        finally:
            with self._lock:
                self._date_watchers.remove(watch)

    def limiter(self, base: str | None = None) -> AdaptiveLimiter:
        return self._client_for(base or self.base_url)[1]

    def is_sandbox(self) -> bool:
        """Whether the account's host is refundkit's sandbox: on this machine, and saying so in its answers. A proxy
        or tunnel on 127.0.0.1 in front of a real account is not. Decided by the answers seen so far, or by one read
        (the ledger entity's schemas) when none was seen; any other host is not, without a call."""
        parts = urlsplit(self.base_url)
        if not is_local_host(parts.hostname or ""):
            return False
        if parts.netloc not in self._sandbox:
            schemas = f"/api/dataentities/{quote(self.settings.entity, safe='')}/schemas"
            with contextlib.suppress(VtexError):  # whatever it answered, the answer said whether it is the sandbox
                self.request("GET", schemas, not_found_ok=True)
        return self._sandbox.get(parts.netloc, False)

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
    def _hosts(self) -> set[str]:
        return {urlsplit(self.base_url).netloc.lower(), urlsplit(self.payments_url).netloc.lower()}

    def _check_final(self, request: httpx.Request, what: str) -> None:
        """The allowlist applied to the URL that will actually be sent: its host must be the account's (or the
        configured base URL's) and its decoded path must be on :data:`ALLOWED` for the method."""
        url = request.url
        if url.scheme not in ("http", "https") or url.netloc.decode("ascii").lower() not in self._hosts():
            raise ForbiddenEndpoint(
                f"refundkit does not send {what} to {url.scheme}://{url.netloc.decode('ascii')}: only to the "
                "account's VTEX hosts",
                request=what,
            )
        check_allowed(request.method, url.path)

    def _attempt_timeout(self, remaining: float) -> httpx.Timeout | float:
        base = self._timeout
        read = base if isinstance(base, (int, float)) else (base.read or 30.0)
        if remaining >= read:
            return base
        cut = max(remaining, 0.001)
        return httpx.Timeout(cut, connect=min(cut, 5.0))

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
        base: str | None = None,
    ) -> httpx.Response | None:
        """Send one logical request; return the response (``None`` for a 404 when ``not_found_ok``).

        ``base`` picks the host: the account's (default) or :attr:`payments_url`."""
        method = method.upper()
        check_allowed(method, path)
        if self.read_only and method != "GET":
            raise ForbiddenEndpoint(f"{self.read_only}; nothing was written", request=f"{method} {path}")
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT")
        ok = frozenset(ok)
        base = base or self.base_url
        client, limiter = self._client_for(base)
        what = f"{method} {path}"
        oms = path.startswith(("/api/oms/", "/api/orders/"))  # either Orders API (classic or PII): OMS throttling
        built = client.build_request(method, path, params=params, json=json, headers=headers)
        self._check_final(built, what)
        started_call = self._clock()
        attempt = 0
        while True:
            attempt += 1
            limiter.acquire()
            outcome, retry_after = "error", None
            started = time.monotonic()
            remaining = self.deadline - (self._clock() - started_call)
            try:
                with self._lock:
                    self.calls += 1
                built.extensions["timeout"] = httpx.Timeout(self._attempt_timeout(remaining)).as_dict()
                response = client.send(built)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # nothing reached VTEX: safe to retry any request
                limiter.release("error")
                error: VtexError = NetworkError(
                    f"could not reach {urlsplit(base).netloc} ({type(exc).__name__}) for {what}: check "
                    "VTEX_ACCOUNT_NAME or VTEX_BASE_URL and your network",
                    request=what,
                )
                if attempt < min(self.retry.attempts, 3):  # a host that refuses thrice is down or misnamed
                    self._backoff(attempt, None, what, "connection failed", started_call=started_call, error=error)
                    built = client.build_request(method, path, params=params, json=json, headers=headers)
                    continue
                raise error from None
            except httpx.TransportError as exc:
                # sent, but the answer was lost (timeout, reset): VTEX may have acted
                limiter.release("error")
                error = NetworkError(f"no answer from VTEX for {what} ({type(exc).__name__}); try again", request=what)
                if idempotent and attempt < self.retry.attempts:
                    self._backoff(attempt, None, what, type(exc).__name__, started_call=started_call, error=error)
                    built = client.build_request(method, path, params=params, json=json, headers=headers)
                    continue
                raise error from None
            if self._date_watchers:
                with self._lock:
                    for watch in self._date_watchers:
                        watch.see(response.headers.get("Date"))
            response = self._scrubber.scrub(response)  # before anything reads the body (module docstring)
            sandbox = bool(response.headers.get(SANDBOX_HEADER)) and is_local_host(urlsplit(base).hostname or "")
            self._sandbox[urlsplit(base).netloc] = sandbox
            if sandbox:
                limiter.start_fast()  # refundkit's sandbox on this machine: no account to share, no need to creep up
            status = response.status_code
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is None and oms:
                    retry_after = self.retry.oms_throttle_wait
                if retry_after is not None:
                    retry_after = min(retry_after, self.max_retry_after)
                outcome = "throttled"
            elif status < 500 and status != 408:
                outcome = "ok"
            limiter.release(outcome, retry_after)
            log.debug("%s -> %s in %.0f ms (attempt %d)", what, status, (time.monotonic() - started) * 1e3, attempt)
            if status in ok:
                return response
            if status == 404 and not_found_ok:
                return None
            retryable = status in self.retry.retry_statuses and (idempotent or status == 429)
            if retryable and attempt < self.retry.attempts:
                response.read()
                error = self._error(response, what, retry_after)
                self._backoff(attempt, retry_after, what, str(status), started_call=started_call, error=error)
                built = client.build_request(method, path, params=params, json=json, headers=headers)
                continue
            raise self._error(response, what, retry_after)

    def _backoff(
        self, attempt: int, retry_after: float | None, what: str, why: str, *, started_call: float, error: VtexError
    ) -> None:
        if retry_after is not None:
            delay = retry_after  # the limiter already pauses every sender; this request waits too
        else:
            cap = min(self.retry.wait_max, self.retry.wait_initial * 2 ** (attempt - 1))
            delay = self._rng.uniform(cap / 2, cap)
        elapsed = self._clock() - started_call
        if elapsed + delay > self.deadline:
            raise DeadlineExceeded(
                f"gave up on {what} after {attempt} attempt(s) in {elapsed:.0f} s: {error} — waiting {delay:.0f} s "
                f"more would pass the call's deadline of {self.deadline:.0f} s (REFUNDKIT_CALL_DEADLINE_S)",
                status=error.status,
                request=what,
            ) from None
        log.info("%s: %s, retrying in %.2f s (attempt %d of %d)", what, why, delay, attempt + 1, self.retry.attempts)
        if delay > 0:
            self._sleep(delay)

    def error_for(self, response: httpx.Response) -> VtexError:
        """The error an answer stands for, as :meth:`request` would raise it (message redacted), for callers that
        accepted the status in ``ok`` and decide later."""
        return self._error(response, f"{response.request.method} {response.request.url.path}", None)

    def _error(self, response: httpx.Response, what: str, retry_after: float | None) -> VtexError:
        status = response.status_code
        path = response.request.url.path
        detail = _vtex_message(response, self.settings.app_token.reveal() if self.settings.app_token else None)
        detail = f": {detail}" if detail else ""
        if status == 401:
            return AuthenticationError(
                f"VTEX refused the credentials (401) for {what}: check {_credentials(self.settings)}",
                status=status,
                request=what,
            )
        if status == 403:
            return PermissionDenied(f"VTEX denied {what} (403){detail}; {_hint(path)}", status=status, request=what)
        # the classic order list answers every account but one on VTEX's PII data architecture (which refuses it in a
        # way VTEX does not document: 403, 404, 400 or a redirect): say what to set, whatever the status
        pii = f"; {_PII_HINT}" if _CLASSIC_ORDERS.match(path) and status != 403 else ""
        if status == 404:
            return NotFound(f"VTEX found nothing at {what} (404){detail}{pii}", status=status, request=what)
        if status == 429:
            return RateLimited(
                f"VTEX kept rate-limiting {what} after {self.retry.attempts} attempts; wait a minute and try again",
                retry_after=retry_after,
                status=status,
                request=what,
            )
        if status >= 500 or status == 408:
            return ServerError(
                f"VTEX failed on {what} ({status}) after retrying{detail}; try again later", status=status, request=what
            )
        return BadResponse(f"VTEX rejected {what} ({status}){detail}{pii}", status=status, request=what)

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


def _credentials(settings: Settings) -> str:
    """Where the credentials come from, for a 401: the VTEX_* variables, or an account of refundkit.toml."""
    if settings.name:
        return f"app_key of [accounts.{settings.name}] in refundkit.toml and {settings.token_env}"
    return "VTEX_APP_KEY and VTEX_APP_TOKEN"
