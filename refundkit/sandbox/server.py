"""The sandbox: routing, authentication, rate limit, fault injection, and a thin HTTP server around them.

Each request goes through, in order: authentication (401) -> rate limit (429, answered at once) -> fault rules ->
random 5xx (``error_rate``) -> latency -> the operation. :meth:`Sandbox.handle` runs that pipeline on a
:class:`~refundkit.sandbox.http.Request` without any socket; :meth:`Sandbox.serve` puts it behind a
``ThreadingHTTPServer`` on 127.0.0.1 (HTTP/1.1 keep-alive, Content-Length framing).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import random
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote

from ..config import SANDBOX_HEADER
from ..timeutil import clock_shift
from . import oms, payments, piiorders
from .config import FaultRule, FaultRules, SandboxConfig
from .http import JSON_TYPE, Request, Response, json_response, oms_error
from .masterdata import MasterData
from .notes import Notes
from .permissions import check_permission, ip_blocked_response
from .persistence import StateLog
from .store import Store
from .variables import SECOND_ACCOUNT, accounts_toml, sandbox_variables, second_account

__all__ = ["DROP", "RequestRecord", "Sandbox", "SandboxServer", "ServedAccounts", "run_forever", "serve_accounts"]


def _address(server: socketserver.BaseServer) -> tuple[str, int]:
    """(host, port) a TCP server listens on (typeshed also allows AF_UNIX paths and bytes; TCP gives neither)."""
    address = server.server_address
    assert isinstance(address, tuple)
    host, port = address[0], address[1]
    return (host.decode() if isinstance(host, bytes) else str(host)), int(port)


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox answered. ``status`` is None when the connection was dropped without an answer."""

    method: str
    path: str
    query: dict[str, Any]
    status: int | None
    at: float  # time.time() when the answer was decided


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()  # returned by Sandbox.handle when the connection must be closed without an answer

_TRIPWIRES = [
    ("POST", re.compile(r"^/api/oms/pvt/orders/[^/]+/(invoice|cancel|changes)/?$")),
    ("PATCH", re.compile(r"^/api/order-system/orders/[^/]+/changes/?$")),
    # the PII data architecture's Orders API: invoice, cancel, start handling, notify a payment
    ("POST", re.compile(r"^/api/orders/pvt/document/[^/]+/(invoices|cancel|actions/start-handling)/?$")),
    ("POST", re.compile(r"^/api/orders/pvt/document/[^/]+/payment/[^/]+/notify-payment/?$")),
    ("POST", re.compile(r"^/api/pvt/transactions/[^/]+/(refunding|cancellation|settlement)-request/?$")),
    # anything but a GET on any Payments Gateway path: refundkit only ever reads a transaction
    *((m, re.compile(r"^/api/(pvt|payments)/")) for m in ("POST", "PUT", "PATCH", "DELETE")),
]
_MD_DOCUMENT = re.compile(r"^/api/dataentities/[^/]+/documents/[^/]+/?$")
_SEG = r"(?P<{}>[^/]+)"


def _route(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", lambda m: _SEG.format(m.group(1)), pattern) + "/?$")


class _Bucket:
    """Token bucket: capacity = rate (at least one request), refilled continuously at ``rate`` per second."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.tokens = 0.0
        self.last = 0.0

    def take(self, rate: float, now: float) -> float:
        """0 when a token was taken, else the seconds until one will be available."""
        capacity = max(float(rate), 1.0)
        if rate != self.rate:
            self.rate, self.tokens, self.last = rate, capacity, now
        self.tokens = min(capacity, self.tokens + (now - self.last) * rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


class Sandbox:
    """A local fake of VTEX OMS, DO notes and Master Data v2 for one account. Thread-safe."""

    def __init__(self, config: SandboxConfig | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock`` (monotonic seconds) drives search lag, notes lag, scroll expiry and the rate limit; tests pass
        a fake one (:class:`refundkit.testing.ManualClock`) to skip waiting."""
        self.config = config or SandboxConfig()
        self.clock = clock
        self.store = Store(self.config)
        oms.index_of(self.store)  # build the list index now rather than in the first request
        self.faults = FaultRules()
        self.requests: list[RequestRecord] = []
        self.money_moving_calls: list[RequestRecord] = []
        self.deletes: list[RequestRecord] = []
        self.internal_errors: list[str] = []  # tracebacks of sandbox bugs (answered 500)
        self._records_lock = threading.Lock()
        self._bucket = _Bucket()
        self._bucket_lock = threading.Lock()
        self._rng = random.Random(self.config.seed + 1)
        self._rng_lock = threading.Lock()
        self.log = StateLog(self.config.state_dir) if self.config.state_dir else None
        append = self.log.append if self.log else None
        self.masterdata = MasterData(self.config, log=append, clock=clock)
        self.notes = Notes(self.config, log=append, clock=clock)
        if self.log:
            for record in self.log.replay():
                if record.get("op") == "note":
                    self.notes.replay(record)
                elif record.get("op") in ("schema", "document"):
                    self.masterdata.replay(record)
        md, store = self.masterdata, self.store
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", _route("/api/oms/pvt/orders"), lambda r: oms.list_orders(store, r, self.config)),
            ("GET", _route("/api/oms/pvt/orders/{order_id}"), lambda r, order_id: oms.get_order(store, r, order_id)),
            (
                "GET",
                _route("/api/oms/pvt/orders/order-group/{group}"),
                lambda r, group: payments.get_order_group(store, lambda oid: oms.order_json(store, oid), group),
            ),
            ("POST", _route("/api/do/notes"), self.notes.create),
            ("GET", _route("/api/do/notes"), self.notes.list),
            ("GET", _route("/api/do/notes/{note_id}"), self.notes.get),
            ("GET", _route("/api/dataentities/{entity}/schemas"), md.get_schemas),
            ("GET", _route("/api/dataentities/{entity}/schemas/{name}"), md.get_schema),
            ("PUT", _route("/api/dataentities/{entity}/schemas/{name}"), md.save_schema),
            ("POST", _route("/api/dataentities/{entity}/documents"), md.create_document),
            ("PATCH", _route("/api/dataentities/{entity}/documents"), md.upsert_partial),
            ("GET", _route("/api/dataentities/{entity}/documents/{doc_id}"), md.get_document),
            ("PUT", _route("/api/dataentities/{entity}/documents/{doc_id}"), md.put_document),
            ("PATCH", _route("/api/dataentities/{entity}/documents/{doc_id}"), md.patch_document),
            ("DELETE", _route("/api/dataentities/{entity}/documents/{doc_id}"), md.delete_document),
            ("GET", _route("/api/dataentities/{entity}/search"), md.search),
            ("GET", _route("/api/dataentities/{entity}/scroll"), md.scroll),
            (
                "GET",
                _route("/api/pvt/transactions/{transaction_id}"),
                lambda r, transaction_id: payments.get_transaction(store, self.config, r, transaction_id),
            ),
        ]
        self._routes = piiorders.with_pii_routes(self.config, self._routes, _route)
        self._routes += [(method, rx, self._tripwire) for method, rx in _TRIPWIRES]

    # -- the pipeline ----------------------------------------------------------------------------------------------

    def handle(self, req: Request, sleep: Callable[[float], Any] = time.sleep) -> Response | Any:
        """Answer one request: a :class:`Response`, or :data:`DROP` to close the connection without one."""
        resp: Response | Any = DROP
        try:
            resp = self._pipeline(req, sleep)
        except Exception:  # a sandbox bug must not look like a VTEX answer
            tb = traceback.format_exc()
            with self._records_lock:
                self.internal_errors.append(tb)
            print(f"refundkit sandbox: internal error on {req.method} {req.path}\n{tb}", file=sys.stderr)
            resp = oms_error(500, "SANDBOX_BUG", "the sandbox failed; see internal_errors")
        finally:
            record = RequestRecord(
                req.method, req.path, dict(req.query), None if resp is DROP else resp.status, time.time()
            )
            with self._records_lock:
                self.requests.append(record)
                if any(m == req.method and rx.match(req.path) for m, rx in _TRIPWIRES):
                    self.money_moving_calls.append(record)
                if req.method == "DELETE" and _MD_DOCUMENT.match(req.path):
                    self.deletes.append(record)
        return resp

    def _pipeline(self, req: Request, sleep: Callable[[float], Any]) -> Response | Any:
        cfg = self.config
        if cfg.ip_blocked:
            return ip_blocked_response()
        if not self._authorized(req):
            return oms_error(
                401, "Unauthorized", "send this sandbox's X-VTEX-API-AppKey and X-VTEX-API-AppToken headers"
            )
        if cfg.rate_limit:
            with self._bucket_lock:
                wait = self._bucket.take(float(cfg.rate_limit), self.clock())
            if wait:
                seconds = max(1, math.ceil(wait))
                return oms_error(
                    429,
                    "TooManyRequests",
                    f"rate limit of {cfg.rate_limit} requests per second exceeded; retry after {seconds} s",
                    {"Retry-After": str(seconds)},
                )
        denied = check_permission(req.method, req.path, cfg.denied_resources)
        if denied is not None:
            return denied
        rule = self.faults.take(req.method, req.path)
        if rule is not None and not rule.after_write:
            if rule.delay_s:
                sleep(rule.delay_s)
            rule.hold()
            return DROP if rule.drop_connection else self._fault_response(rule)
        if cfg.error_rate > 0:
            with self._rng_lock:
                hit = self._rng.random() < cfg.error_rate
                status = self._rng.choice((500, 502, 503, 504))
            if hit:
                return oms_error(status, "SANDBOX", f"random server error (error_rate={cfg.error_rate})")
        if cfg.latency_ms:
            sleep(cfg.latency_ms / 1000)
        resp = self._dispatch(req)
        if cfg.echo_headers and resp.status == 200 and req.method == "GET" and req.path.startswith("/api/oms/"):
            resp = oms.echo_headers(resp, req)
        if rule is not None:  # after_write: the operation ran; now lose its answer
            if rule.delay_s:
                sleep(rule.delay_s)
            rule.hold()
            if rule.drop_connection:
                return DROP
            if rule.status is not None:
                return self._fault_response(rule)
        return resp

    def _authorized(self, req: Request) -> bool:
        key = req.header("x-vtex-api-appkey") or ""
        token = req.header("x-vtex-api-apptoken") or ""
        ok_key = hmac.compare_digest(key.encode(), self.config.app_key.encode())
        ok_token = hmac.compare_digest(token.encode(), self.config.app_token.encode())
        return ok_key and ok_token

    @staticmethod
    def _fault_response(rule: FaultRule) -> Response:
        status = rule.status or 500
        headers = {"Retry-After": "1"} if status in (429, 503) else {}
        return oms_error(status, "SANDBOX_FAULT", f"injected fault: {status}", headers)

    def _dispatch(self, req: Request) -> Response:
        allowed = []
        for method, rx, handler in self._routes:
            m = rx.match(req.path)
            if m is None:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            return handler(req, **{k: unquote(v) for k, v in m.groupdict().items()})
        if allowed:
            return oms_error(
                405,
                "MethodNotAllowed",
                f"{req.method} is not supported on {req.path}",
                {"Allow": ", ".join(sorted(set(allowed)))},
            )
        return oms_error(404, "NotFound", f"no such endpoint in the sandbox: {req.method} {req.path}")

    @staticmethod
    def _tripwire(req: Request, **_: str) -> Response:
        return json_response(403, {"error": {"code": "SANDBOX", "message": "refused: this endpoint moves money"}})

    # -- serving ---------------------------------------------------------------------------------------------------

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> SandboxServer:
        """Start serving in a daemon thread; use as a context manager or call ``stop()``. ``port=0``: a free port."""
        server = SandboxServer(self, host, port)
        server.start()
        return server

    def clear_records(self) -> None:
        with self._records_lock:
            self.requests.clear()
            self.money_moving_calls.clear()
            self.deletes.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; don't let Nagle hold the body
    server_version = "refundkit-vtex-sandbox/1.0"
    sys_version = ""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the sandbox's wall clock, ``clock_offset_s`` away from this computer's (moved as
        refundkit's own clock is, by :func:`~refundkit.timeutil.clock_shift`)."""
        now = time.time() + clock_shift().total_seconds() if timestamp is None else timestamp
        return super().date_time_string(now + self.server.sandbox.config.clock_offset_s)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "date" and not self.server.sandbox.config.date_header:
            return  # plays a proxy that strips it
        super().send_header(keyword, value)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()
        raw_path, _, qs = self.path.partition("?")
        host = self.headers.get("Host") or "{}:{}".format(*_address(self.server))
        req = Request(
            method=self.command,
            path=raw_path,
            query=dict(parse_qsl(qs, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}",
        )
        resp = self.server.sandbox.handle(req, sleep=self.server.sleep)
        if resp is DROP:
            self.close_connection = True  # the server closes the socket without a byte of answer
            return
        payload = b"" if resp.body is None else json.dumps(resp.body, ensure_ascii=False).encode("utf-8")
        self.send_response(resp.status)
        if resp.body is not None:
            self.send_header("Content-Type", JSON_TYPE)
        if resp.status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if self.server.sandbox.config.announce:
            self.send_header(SANDBOX_HEADER, "1")  # it is the sandbox: a client on this machine may pace itself fast
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # clients open many pooled connections at once; a backlog of 5 drops SYNs

    def __init__(self, sandbox: Sandbox, address: tuple[str, int]) -> None:
        self.sandbox = sandbox
        self._stopping = threading.Event()
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def sleep(self, seconds: float) -> None:
        """Sleep in a handler thread, cut short when the server stops."""
        self._stopping.wait(seconds)

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(
            target=self._run, args=(request, client_address), daemon=True, name=f"vtex-sandbox-conn-{client_address[1]}"
        )
        with self._conns_lock:
            self._conns[t] = request
        t.start()

    def _run(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except OSError:
            pass  # the client went away
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conns_lock:
                self._conns.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        traceback.print_exc(file=sys.stderr)

    def close_connections(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._conns_lock:
            conns = dict(self._conns)
        for sock in conns.values():
            with contextlib.suppress(OSError):  # already closed by the other side
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for t in conns:
            t.join(max(0.0, deadline - time.monotonic()))


class SandboxServer:
    """A running sandbox server. ``base_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self._httpd = _HTTPServer(sandbox, (host, port))
        self.host, self.port = _address(self._httpd)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() is noticed within 10 ms; the suite stops about 300 sandboxes
            daemon=True,
            name=f"vtex-sandbox-{self.port}",
        )
        self._stopped = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close open connections, join every thread. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class ServedAccounts:
    """Sandboxes served at once, one per account: ``served`` is ``(name in refundkit.toml, base URL, config)``;
    ``variables`` point refundkit at them (the first through ``VTEX_*``; with several, ``REFUNDKIT_CONFIG`` names
    the ``refundkit.toml`` of them all, and its token variables are set)."""

    sandboxes: list[Sandbox]
    served: list[tuple[str, str, SandboxConfig]]
    variables: dict[str, str]
    toml: str | None = None
    toml_path: Path | None = None


@contextlib.contextmanager
def serve_accounts(
    config: SandboxConfig, port: int = 0, accounts: int = 1, toml_dir: Path | None = None
) -> Iterator[ServedAccounts]:
    """Serve ``config`` on ``port`` and, with ``accounts=2``, :func:`~refundkit.sandbox.variables.second_account`
    beside it (on any free port: the variables say which). The ``refundkit.toml`` of several is written in ``toml_dir``
    (default the first one's state folder; none: only :attr:`ServedAccounts.toml` holds it)."""
    configs = [config] + ([second_account(config)] if accounts > 1 else [])
    with contextlib.ExitStack() as stack:
        sandboxes, served = [], []
        for i, cfg in enumerate(configs):
            sandbox = Sandbox(cfg)
            srv = stack.enter_context(sandbox.serve(port=port if i == 0 else 0))
            sandboxes.append(sandbox)
            served.append(("main" if i == 0 else SECOND_ACCOUNT, srv.base_url, cfg))
        variables = sandbox_variables(served[0][1], config)
        result = ServedAccounts(sandboxes, served, variables)
        if len(served) > 1:
            text, tokens = accounts_toml(served)
            result.toml = text
            folder = toml_dir or (Path(config.state_dir) if config.state_dir else None)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                result.toml_path = folder / "refundkit.toml"
                result.toml_path.write_text(text, encoding="utf-8")
                variables["REFUNDKIT_CONFIG"] = str(result.toml_path)
            variables.update(tokens)
        yield result


def run_forever(config: SandboxConfig, port: int = 8765, out: TextIO | None = None, accounts: int = 1) -> None:
    """Serve until Ctrl-C, after printing the base URL and the environment lines a client needs.

    ``accounts=2`` serves a second store beside the first (see :func:`serve_accounts`) and prints how to reach both.
    ``out`` defaults to the current ``sys.stdout``.
    """
    out = out if out is not None else sys.stdout
    with serve_accounts(config, port, accounts) as served:
        for sandbox, (_, url, cfg) in zip(served.sandboxes, served.served, strict=True):
            print(
                f"VTEX sandbox for account {cfg.account!r} at {url} ({len(sandbox.store)} orders, seed {cfg.seed})",
                file=out,
            )
        print("Point refundkit at it with:", file=out)
        for name, value in served.variables.items():
            print(f"export {name}={value}", file=out)
        if served.toml is not None:
            names = " and ".join(name for name, _, _ in served.served)
            print(f"The accounts {names}: refundkit --account NAME ..., refundkit report --all-accounts", file=out)
            if served.toml_path is None:
                print(f"Save this as refundkit.toml:\n{served.toml}", file=out)
        print("Ctrl-C stops it.", file=out, flush=True)
        try:
            _wait_forever()
        except KeyboardInterrupt:
            print("\nVTEX sandbox stopped.", file=out, flush=True)


def _wait_forever() -> None:
    while True:
        time.sleep(3600)
