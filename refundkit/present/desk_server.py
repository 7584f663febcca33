"""The desk's web server: Voilà on jupyter_server's identity layer, with the thin layer it lacks.

``refundkit app`` runs ``python -m refundkit.present.desk_server LAUNCH_FILE``. The launch file (mode 0600, in a
folder only this user can open) holds the notebook, the port, the hosts to answer and the login token; it is read
and deleted at once, so the token is on no command line, in no environment variable and so in no kernel.

What is jupyter_server's and Voilà's, switched on here: token login with a signed cookie afterwards
(``PasswordIdentityProvider``), the ``Host`` check (``allow_remote_access=False`` + ``local_hostnames``), the
``Origin`` check of websockets, XSRF on every POST, idle-kernel culling.

What is added, each in one place:

- :class:`DeskApplication` answers only the allowed hosts (every path, static files too: 421 otherwise) and refuses
  a foreign ``Origin`` on a websocket or a write (403), so a page on another site, or one that rebinds its name to
  127.0.0.1, gets nothing;
- :class:`DeskIdentityProvider` compares tokens in constant time, never lets a token change into a password, and
  takes the token out of the request once it signed the visitor in (the kernel sees the URL and the query);
- :class:`CappedKernelManager` starts at most ``max_kernels`` kernels; past that the newcomer gets a page saying so;
- :class:`DeskPageHandler` puts :data:`UPLOAD_GUARD` in the page: a file past the Import tab's limit is never read
  or sent by the browser (one bigger than the websocket's largest message would cut the page's connection), only
  its name and size, so the tab says what the limit is, whatever the size, and the page stays connected;
- every log line has the token replaced by ``[secret]``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import os
import re
import secrets
import sys
import urllib.parse
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, ClassVar

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.log import log_request
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import httputil
from traitlets import Bool, Integer, Unicode, default
from traitlets.config import Config
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler
from voila.voila_identity_provider import VoilaLoginHandler

from .audit import append_event
from .desk_page import LocalAssets, SetsXsrfCookie
from .desk_users import FailureLimiter, TeamUser, check_password, hash_password, load_users
from .upload_guard import UPLOAD_GUARD, WEBSOCKET_MESSAGE_LIMIT

__all__ = [
    "LOOPBACK_HOSTS",
    "CappedKernelManager",
    "DeskApplication",
    "DeskIdentityProvider",
    "DeskUser",
    "DeskVoila",
    "SignInHandler",
    "SignOutHandler",
    "TeamIdentityProvider",
    "desk_config",
    "main",
]

#: Host names every desk answers to (the loopback literals are what the ready line and the browser use).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


class _Refused(tornado.web.RequestHandler):
    """The whole answer to a request from a host or origin the desk does not serve."""

    def initialize(self, status: int, text: str) -> None:
        self._status, self._text = status, text

    def prepare(self) -> None:
        self.set_status(self._status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_page("Not served here", f"<p>{escape(self._text)}</p>"))

    def check_xsrf_cookie(self) -> None:  # the refusal is the answer, whatever the method
        return None


def host_name(host_header: str) -> str:
    """``Host`` without its port, lower case, IPv6 brackets removed."""
    name, _port = httputil.split_host_and_port(host_header.lower())
    return name[1:-1] if name.startswith("[") and name.endswith("]") else name


class DeskApplication(tornado.web.Application):
    """Voilà's tornado application behind a gate: a request whose ``Host`` is not one the desk serves gets 421, and
    a websocket or a write whose ``Origin`` names another host gets 403, before any handler (or file) sees it."""

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs: Any) -> tornado.web._HandlerDelegate:
        allowed: frozenset[str] = self.settings["desk_hosts"]
        if host_name(request.host or "") not in allowed:
            text = f"This refund desk answers only at {', '.join(sorted(allowed))}."
            return self.get_handler_delegate(request, _Refused, {"status": 421, "text": text})
        origin = request.headers.get("Origin")
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if origin is not None and (writes or upgrade):
            origin_host = urllib.parse.urlsplit(origin).hostname or ""
            if origin_host.lower() not in allowed:
                text = "A page from another site cannot use the refund desk."
                return self.get_handler_delegate(request, _Refused, {"status": 403, "text": text})
        return super().find_handler(request, **kwargs)


@dataclass
class DeskUser(User):
    """A signed-in person, with the session the cookie names (ended by signing out) and, on a team desk, the role."""

    sid: str = ""
    role: str = ""


#: Request headers the desk's server sets from the signed-in session (any a client sends are dropped first); Voilà
#: hands them to the page's kernel as ``HTTP_X_DESK_USER``, ``HTTP_X_DESK_ROLE`` and ``HTTP_X_DESK_SESSION``.
IDENTITY_HEADERS = ("X-Desk-User", "X-Desk-Role", "X-Desk-Session")


class DeskIdentityProvider(PasswordIdentityProvider):
    """jupyter_server's token login, tightened: constant-time comparison, no "set a password" through the login form,
    the token taken out of the request that carried it (Voilà copies the URL and the query into the kernel), and a
    server-side session in the cookie, so that signing out ends it (a copied cookie included)."""

    allow_password_change = Bool(False, config=True)
    audit_log = Unicode("", config=True, help="the audit trail (refundkit.present.audit)")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: dict[str, str] = {}  # session id -> user name, while signed in

    def audit(self, event: str, handler: tornado.web.RequestHandler, **fields: Any) -> None:
        """An event of the audit trail, with the address it came from (never a password or a token)."""
        if self.audit_log:
            append_event(Path(self.audit_log), event, address=handler.request.remote_ip, **fields)

    def new_session(self, user: DeskUser) -> DeskUser:
        user.sid = secrets.token_urlsafe(24)
        self.sessions[user.sid] = user.username
        return user

    def end_session(self, sid: str) -> None:
        self.sessions.pop(sid, None)

    def generate_anonymous_user(self, handler: tornado.web.RequestHandler) -> User:
        anonymous = super().generate_anonymous_user(handler)
        return self.new_session(DeskUser(anonymous.username, anonymous.name, anonymous.display_name))

    def user_to_cookie(self, user: User) -> str:
        return json.dumps({"username": user.username, "sid": getattr(user, "sid", "")})

    def user_from_cookie(self, cookie_value: str) -> User | None:
        data = json.loads(cookie_value)
        name, sid = str(data.get("username", "")), str(data.get("sid", ""))
        if not sid or self.sessions.get(sid) != name:
            return None  # signed out, or a cookie of an earlier run
        return DeskUser(name, sid=sid)

    async def get_user_token(self, handler: tornado.web.RequestHandler) -> User | None:
        token = str(getattr(handler, "token", "") or "")
        given = self.get_token(handler) or ""
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return None
        user = self.get_user_cookie(handler)
        if not isinstance(user, User) and user is not None:
            user = await user
        if user is None:
            user = self.generate_anonymous_user(handler)
            self.audit("sign in", handler, user=user.username, method="token", outcome="signed in")
        return user

    def role_of(self, user: DeskUser) -> str | None:
        """The person's role, or None when it is not told to the page (one person with the token: every right)."""
        return None

    async def _get_user(self, handler: tornado.web.RequestHandler) -> User | None:
        user = await super()._get_user(handler)
        if "token" in handler.request.query_arguments:
            _drop_query_argument(handler.request, "token")
        headers = handler.request.headers
        for name in IDENTITY_HEADERS:
            while name in headers:
                del headers[name]
        if isinstance(user, DeskUser):
            headers["X-Desk-Session"] = user.sid
            role = self.role_of(user)
            if role is not None:
                headers["X-Desk-User"], headers["X-Desk-Role"] = user.username, role
        return user

    def get_handlers(self) -> list[tuple[str, object]]:
        return [("/login", self.login_handler_class), ("/logout", SignOutHandler)]


class TeamIdentityProvider(DeskIdentityProvider):
    """A team desk: each person signs in with the name and password of the users file (``refundkit users``); no
    token. Failures are limited per name and per address. The file is read again when it changes, so a person
    removed or given another role is so at their next request."""

    users_file = Unicode("", config=True, help="the users file (refundkit users)")
    max_failures_per_name = Integer(5, config=True)
    max_failures_per_address = Integer(20, config=True, help="more than per name: an office may share one address")
    lockout_s = Integer(900, config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.names = FailureLimiter(self.max_failures_per_name, float(self.lockout_s))
        self.addresses = FailureLimiter(self.max_failures_per_address, float(self.lockout_s))
        self._users: dict[str, TeamUser] = {}
        self._users_stamp: tuple[int, int] | None = None

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def users(self) -> dict[str, TeamUser]:
        path = Path(self.users_file)
        st = path.stat()
        if (st.st_mtime_ns, st.st_size) != self._users_stamp:
            self._users, self._users_stamp = load_users(path), (st.st_mtime_ns, st.st_size)
        return self._users

    async def get_user_token(self, handler: tornado.web.RequestHandler) -> User | None:
        return None  # a team signs in by name

    def user_from_cookie(self, cookie_value: str) -> User | None:
        user = super().user_from_cookie(cookie_value)
        if user is None or user.username not in self.users():
            return None
        return user

    def role_of(self, user: DeskUser) -> str | None:
        member = self.users().get(user.username)
        return member.role if member else "viewer"

    def get_handlers(self) -> list[tuple[str, object]]:
        # Voilà hands every identity provider its own login page; a team gets the sign-in page instead
        return [("/login", SignInHandler), ("/logout", SignOutHandler)]

    def sign_in(self, name: str, password: str) -> DeskUser | None:
        """The person, when ``password`` is theirs (an unknown name costs as much time as a wrong password)."""
        member = self.users().get(name)
        if member is None:
            check_password(_decoy(), password)
            return None
        if not check_password(member, password):
            return None
        return self.new_session(DeskUser(name, name, name))


@functools.cache
def _decoy() -> TeamUser:
    return TeamUser("-", "viewer", hash_password(secrets.token_urlsafe(16)))


class SignInHandler(VoilaLoginHandler):  # type: ignore[misc]  # Voilà has no type information
    """The team's sign-in page: "Name", "Password", "Sign in". jupyter_server keeps the redirect guard and XSRF."""

    def _render(self, message: Any = None) -> None:
        error = f"<p class='refundkit-refused' role='alert'>{escape(message)}</p>" if message else ""
        next_url = escape(self.get_argument("next", default="/"))
        self.write(
            _page(
                "Sign in to the refund desk",
                f"{error}<form method='post' action='/login?next={next_url}' class='refundkit-sign-in'>"
                f"{self.xsrf_form_html()}"
                "<p><label for='username'>Name</label><br>"
                "<input id='username' name='username' autocomplete='username' required autofocus></p>"
                "<p><label for='password'>Password</label><br>"
                "<input id='password' name='password' type='password' autocomplete='current-password' required></p>"
                "<p><button type='submit'>Sign in</button></p></form>",
            )
        )

    @allow_unauthenticated
    async def post(self) -> None:
        provider: TeamIdentityProvider = self.identity_provider
        name = self.get_argument("username", default="").strip()
        password = self.get_argument("password", default="")
        address = str(self.request.remote_ip)
        wait = max(provider.names.locked_for(name.lower()), provider.addresses.locked_for(address))
        if wait > 0:
            self.set_status(429)
            self.set_header("Retry-After", str(int(wait) + 1))
            minutes = max(1, round(wait / 60))
            self._render(f"Too many wrong passwords for this name or from this address: try again in {minutes} min.")
            provider.audit("sign in", self, user=name, outcome="locked out")
            return
        loop = asyncio.get_running_loop()
        user = await loop.run_in_executor(None, provider.sign_in, name, password)  # argon2 is slow on purpose
        if user is None:
            provider.names.failed(name.lower())
            provider.addresses.failed(address)
            self.set_status(401)
            self._render("Wrong name or password.")
            provider.audit("sign in", self, user=name, outcome="wrong name or password")
            return
        provider.names.succeeded(name.lower())
        self.log.info("%s signed in from %s", name, self.request.remote_ip)
        provider.audit("sign in", self, user=name, method="password", outcome="signed in")
        self.current_user = user
        provider.set_login_cookie(self, user)
        self._redirect_safe(self.get_argument("next", default="/"))


class SignOutHandler(JupyterHandler):
    """Signing out ends the session on the server (the cookie stops working, copies included), shuts down the
    kernels of the session's pages, and clears the cookie."""

    @allow_unauthenticated
    async def get(self) -> None:
        user = self.current_user
        provider = self.identity_provider
        if isinstance(user, DeskUser) and user.sid and isinstance(provider, DeskIdentityProvider):
            provider.end_session(user.sid)
            provider.audit("sign out", self, user=user.username, outcome="signed out")
            manager = self.kernel_manager
            if isinstance(manager, CappedKernelManager):
                await manager.shut_down_session(user.sid)
        provider.clear_login_cookie(self)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            _page(
                "Signed out",
                "<p class='refundkit-signed-out'>You are signed out of the refund desk.</p>"
                "<p><a href='/login'>Sign in again</a></p>",
            )
        )


def _drop_query_argument(request: httputil.HTTPServerRequest, name: str) -> None:
    """Remove ``name`` from the request's query everywhere tornado and Voilà read it."""
    kept = [(k, v) for k, v in urllib.parse.parse_qsl(request.query, keep_blank_values=True) if k != name]
    request.query = urllib.parse.urlencode(kept)
    request.uri = request.path + (f"?{request.query}" if request.query else "")
    request.query_arguments.pop(name, None)
    request.arguments.pop(name, None)


class CappedKernelManager(AsyncMappingKernelManager):
    """At most ``max_kernels`` kernels alive (each open desk page holds one); past that, starting one is refused with
    503 and the page below."""

    max_kernels = Integer(10, config=True, help="the most kernels (open desk pages) alive at once")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # jupyter_server's __init__ is untyped
        self._starting = 0
        self.sessions_of: dict[str, str] = {}  # kernel id -> the session (cookie) whose page it serves

    async def start_kernel(self, **kwargs: Any) -> str:  # type: ignore[override]  # async in the class we extend
        if kwargs.get("kernel_id") is None and len(self.list_kernel_ids()) + self._starting >= self.max_kernels:
            raise tornado.web.HTTPError(503, reason="Desk full")
        self._starting += 1
        try:
            kernel_id = str(await super().start_kernel(**kwargs))
        finally:
            self._starting -= 1
        self.sessions_of[kernel_id] = str((kwargs.get("env") or {}).get("HTTP_X_DESK_SESSION", ""))
        return kernel_id

    async def shut_down_session(self, sid: str) -> None:
        """Shut down the kernels of a session's pages (it signed out)."""
        for kernel_id, owner in list(self.sessions_of.items()):
            if owner == sid and kernel_id in self.list_kernel_ids():
                await self.shutdown_kernel(kernel_id)  # type: ignore[no-untyped-call]  # jupyter_client is untyped
            if owner == sid:
                self.sessions_of.pop(kernel_id, None)


class DeskPageHandler(SetsXsrfCookie, TornadoVoilaHandler):  # type: ignore[misc]  # Voilà has no type information
    """The desk's page, with :data:`UPLOAD_GUARD` first in its head; when no kernel can be started for it, a page
    that says why and what to do."""

    max_sessions: ClassVar[int] = 0
    _guarded = False

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        if not self._guarded and isinstance(chunk, str) and "<head>" in chunk:
            chunk = chunk.replace("<head>", "<head>" + UPLOAD_GUARD, 1)
            self._guarded = True
        super().write(chunk)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code != 503:
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Retry-After", "60")
        self.finish(
            _page(
                "The refund desk is full",
                f"<p class='refundkit-desk-full'>The desk is open in {self.max_sessions} pages already, the most it "
                "serves at once (refundkit app --max-sessions). Close a desk tab you no longer use, or wait: a page "
                "left idle is closed after ten minutes. Then reload this page.</p>",
            )
        )


class DeskVoila(LocalAssets, Voila):  # type: ignore[misc]  # Voilà has no type information
    """Voilà with the desk's application, page handler and log lines (the token never printed). It reads no
    configuration file: a ``voila.json`` in some folder cannot loosen what is set here."""

    @default("config_file_paths")
    def _no_config_files(self) -> list[str]:
        return []

    @property
    def display_url(self) -> str:
        return f"http://{self.ip}:{self.port}{self.base_url}"

    def init_handlers(self) -> list[Any]:
        handlers = super().init_handlers()
        DeskPageHandler.max_sessions = int(self.config.CappedKernelManager.get("max_kernels", 10))
        return [(h[0], DeskPageHandler, *h[2:]) if h[1] is TornadoVoilaHandler else h for h in handlers]

    def start(self) -> None:  # Voilà's start, with DeskApplication in place of tornado's Application
        import tempfile  # noqa: PLC0415  (as Voilà's own start)

        self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
        settings = self.init_settings()
        self.app = DeskApplication(**settings)
        self.app.settings.update(self.tornado_settings)
        self.app.add_handlers(".*$", self.init_handlers())
        self.listen()


def desk_config(launch: dict[str, Any]) -> Config:
    """The traitlets configuration of the desk's Voilà, from the launch file's values."""
    hosts = sorted({*LOOPBACK_HOSTS, *launch.get("allow_hosts", [])} | _literal(launch.get("ip", "127.0.0.1")))
    c = Config()
    c.Voila.ip = launch.get("ip", "127.0.0.1")
    c.Voila.port = int(launch["port"])
    c.Voila.port_retries = 0  # a busy port stops Voilà (refundkit says so) instead of moving it where nobody looks
    c.Voila.open_browser = False
    if launch.get("users_file"):
        c.Voila.identity_provider_class = TeamIdentityProvider
        c.TeamIdentityProvider.users_file = launch["users_file"]
    else:
        c.Voila.token = launch["token"]
        c.Voila.identity_provider_class = DeskIdentityProvider
    c.DeskIdentityProvider.audit_log = launch.get("audit_log") or ""
    if launch.get("tls_in_front"):
        c.IdentityProvider.secure_cookie = True
    c.Voila.tornado_settings = {
        "allow_remote_access": False,
        "local_hostnames": hosts,
        "desk_hosts": frozenset(hosts),
        "websocket_max_message_size": WEBSOCKET_MESSAGE_LIMIT,
        "log_function": log_request,
    }
    c.IdentityProvider.cookie_options = {"samesite": "Lax", "expires_days": 7}
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.extension_denylist = ["jupyterlab-jupytext"]
    c.VoilaConfiguration.file_allowlist = []  # the notebook's folder is not served
    c.VoilaConfiguration.http_header_envs = list(IDENTITY_HEADERS)
    c.VoilaConfiguration.multi_kernel_manager_class = CappedKernelManager
    c.CappedKernelManager.max_kernels = int(launch.get("max_sessions", 10))
    c.MappingKernelManager.cull_interval = 60
    c.MappingKernelManager.cull_idle_timeout = 600
    return c


def _literal(ip: str) -> set[str]:
    """The address the desk listens on, when it is one address (it cannot be rebound: it names no domain)."""
    return set() if ip in ("0.0.0.0", "::", "") else {ip}  # noqa: S104  (compared, not bound)


def _scrub_logs(secrets: list[str]) -> None:
    """Every log record from here on has each secret (and any ``token=`` value) replaced by ``[secret]``."""
    pattern = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted is left for logging to report
            return record
        clean = pattern.sub(r"\1[secret]", text)
        for s in secrets:
            clean = clean.replace(s, "[secret]")
        if clean != text:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv  # [--port=N] LAUNCH_FILE (the port is in the file too)
    launch_path = Path(args[-1])
    launch = json.loads(launch_path.read_text(encoding="utf-8"))
    launch_path.unlink()
    _scrub_logs([launch["token"]])
    os.environ.pop("REFUNDKIT_APP_TOKEN", None)
    DeskVoila.launch_instance(argv=[launch["notebook"]], config=desk_config(launch))


if __name__ == "__main__":
    main()
