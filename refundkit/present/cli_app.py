"""``refundkit app [--port N] [--tz ZONE] [--max-sessions N] [--allow-host NAME]``: the refund desk as a web app on
127.0.0.1, served with Voilà (see :mod:`refundkit.present.desk_server`).

Only a signed-in browser gets the desk: the ready line carries a one-time login address with a token (new at each
start unless ``REFUNDKIT_APP_TOKEN`` sets it), a cookie carries the session afterwards. The token is on no command
line and in no kernel. Only the hosts 127.0.0.1, localhost and ``--allow-host`` are answered.

The page shows widgets only: Voilà strips every input cell and shows no traceback, and the page cannot send code to
the kernel. Each browser tab gets its own kernel running :func:`refundkit.present.desk.serve_desk`, connected to the
account configured in the environment (or ``.env``). Idle kernels (a closed tab) are shut down after ten minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .audit import AUDIT_VARIABLE, audit_path
from .cli_common import Subcommands, UsageError, add_zone_flag, desk_environment, positive_int
from .desk_users import load_users

__all__ = [
    "app_command",
    "cmd_app",
    "free_port",
    "login_url",
    "new_token",
    "port_taken",
    "register",
    "start_app",
    "stop_app",
    "stop_on_terminate",
    "stop_requests_ignored",
    "stop_server",
    "wait_until_serving",
    "write_app_notebook",
    "write_private",
]

APP_NOTEBOOK = "refundkit.ipynb"
#: Open desk pages (each holds a kernel, some 100-200 MB) served at once unless --max-sessions says otherwise.
DEFAULT_MAX_SESSIONS = 10
#: Variables the desk's server and its kernels never get: the desk's own login token.
_SECRET_VARIABLES = ("REFUNDKIT_APP_TOKEN",)
_APP_SOURCE = "from refundkit.present.desk import serve_desk\n\nserve_desk()"


def register(sub: Subcommands) -> None:
    a = sub.add_parser("app", help="serve the refund desk (Record, Import, Report) as a web app on 127.0.0.1")
    a.add_argument("--port", type=positive_int, default=8866, help="default 8866")
    add_zone_flag(a, purpose="dates are shown in")
    a.add_argument(
        "--max-sessions",
        type=positive_int,
        default=DEFAULT_MAX_SESSIONS,
        help=f"desk pages open at once; each holds a Python process (default {DEFAULT_MAX_SESSIONS})",
    )
    a.add_argument(
        "--users",
        type=Path,
        metavar="FILE",
        help="a team desk: each person signs in with a name and password of FILE (refundkit users add)",
    )
    a.add_argument(
        "--host",
        default="127.0.0.1",
        type=host_address,
        help="the address to listen on (default 127.0.0.1, this machine only); another needs --users or "
        "--allow-host, and --i-have-tls-in-front",
    )
    a.add_argument(
        "--i-have-tls-in-front",
        action="store_true",
        help="a reverse proxy with HTTPS forwards to the desk: needed to serve on an address other machines reach",
    )
    a.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        type=host_name_arg,
        help="another name the desk answers to besides 127.0.0.1 and localhost (repeatable)",
    )
    a.set_defaults(handler=cmd_app)


def free_port() -> int:
    """A port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_taken(port: int) -> bool:
    """Whether something on this machine listens on ``port`` of 127.0.0.1 (binding it fails, as a server's would:
    connections just closed, waiting out TIME_WAIT, do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def write_app_notebook(folder: Path) -> Path:
    """The one-cell notebook Voilà renders (written at start-up, so nothing in the checkout is served or changed)."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
            "title": "refundkit — refund desk",
        },
        "cells": [
            {
                "cell_type": "code",
                "id": "desk",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": _APP_SOURCE,
            }
        ],
    }
    path = folder / APP_NOTEBOOK
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def app_command(launch_file: Path, port: int) -> list[str]:
    """The command line that serves the desk: everything it needs, the token included, is in ``launch_file``
    (read and deleted at start), so nothing secret is on this line; the port is there for whoever lists processes."""
    return [sys.executable, "-m", "refundkit.present.desk_server", f"--port={port}", str(launch_file)]


def login_url(base: str, token: str) -> str:
    """The one-time address that signs the browser in (a cookie carries the session afterwards) and opens the desk;
    the page itself, and so its kernel, never sees the token."""
    return f"{base.rstrip('/')}/login?{urllib.parse.urlencode({'next': '/', 'token': token})}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_private(path: Path, text: str) -> None:
    """A new file only this user can read (refused if one is there already)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
        f.write(text)


def _port_taken_error(port: int) -> ConfigError:
    return ConfigError(
        f"the app could not start: port {port} is taken by another program. Choose another with --port "
        "(refundkit demo: --app-port)"
    )


def wait_until_serving(url: str, proc: subprocess.Popen[Any] | None = None, timeout: float = 60.0) -> None:
    """Wait for Voilà to answer (on a static file: fetching the page itself would start a kernel). With ``proc``,
    the answer counts only while that Voilà still runs (another server on the port could answer too)."""
    deadline = time.monotonic() + timeout
    port = urllib.parse.urlsplit(url).port
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            if port is not None and port_taken(port):
                raise _port_taken_error(port)
            raise ConfigError(f"the app stopped while starting (exit code {proc.returncode})")
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/voila/static/voila.js", timeout=2) as r:  # noqa: S310  (loopback URL built here)
                if r.status == 200 and (proc is None or proc.poll() is None):
                    return
        except OSError:
            time.sleep(0.2)
    raise ConfigError(f"the app did not answer at {url} within {timeout:.0f} s")


def start_app(
    port: int,
    env: Mapping[str, str],
    *,
    tz: str | None = None,
    log: Any = None,
    token: str | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    allow_hosts: Sequence[str] = (),
    users_file: Path | None = None,
    host: str = "127.0.0.1",
    tls_in_front: bool = False,
    audit_log: Path | None = None,
) -> tuple[subprocess.Popen[Any], str]:
    """Start the app in the background; returns the process and, once it answers, the address to open: with a
    ``users_file`` its sign-in page, otherwise the address that signs in with ``token`` (or a new one)."""
    if importlib.util.find_spec("voila") is None:
        raise ConfigError("the app needs Voilà: run ./dev setup (or pip install -e '.[app]')")
    if port_taken(port):  # before starting: whatever answers there is not this app
        raise _port_taken_error(port)
    token = token or new_token()
    folder = Path(tempfile.mkdtemp(prefix="refundkit-app-"))  # mode 0700
    notebook = write_app_notebook(folder)
    launch = folder / "launch.json"
    launch_values = {
        "notebook": str(notebook),
        "port": port,
        "token": token,
        "max_sessions": max_sessions,
        "allow_hosts": list(allow_hosts),
        "users_file": str(users_file.resolve()) if users_file else None,
        "ip": host,
        "tls_in_front": tls_in_front,
        "audit_log": str(audit_log) if audit_log else None,
    }
    write_private(launch, json.dumps(launch_values))
    proc = subprocess.Popen(
        app_command(launch, port),
        env={
            **{k: v for k, v in env.items() if not _withheld(k)},
            "REFUNDKIT_APP_TZ": tz or "",  # empty: the store's zone (refundkit.present.desk.serve_desk)
            **({AUDIT_VARIABLE: str(audit_log)} if audit_log else {}),
        },
        cwd=folder,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches refundkit only, which stops Voilà and its kernels
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
    )
    _FOLDERS[proc.pid] = folder
    local = "127.0.0.1" if host in _ANY_ADDRESS else host
    base = f"http://{'[' + local + ']' if ':' in local else local}:{port}/"
    try:
        wait_until_serving(base, proc)
    except BaseException:
        stop_app(proc)
        raise
    return proc, (base if users_file else login_url(base, token))


def _withheld(name: str) -> bool:
    """Variables the desk's server (and so its kernels) never gets: the desk's token, and the identity headers'
    variables, which only the server sets, from the signed-in session."""
    return name in _SECRET_VARIABLES or name.startswith("HTTP_X_DESK_")


_ANY_ADDRESS = ("0.0.0.0", "::")  # noqa: S104  (compared, not bound)


#: The folder of each running app's notebook, removed when the app stops.
_FOLDERS: dict[int, Path] = {}


def stop_server(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds. A second stop request (a closing terminal sends SIGHUP and
    SIGTERM) does not cut this short."""
    with stop_requests_ignored():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def stop_app(proc: subprocess.Popen[Any]) -> None:
    """Stop Voilà (it shuts its kernels down on SIGTERM) and remove its notebook's folder."""
    stop_server(proc)
    folder = _FOLDERS.pop(proc.pid, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def stop_requests_ignored() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP ignored for the block (main thread only: elsewhere they cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def stop_on_terminate() -> None:
    """A closed terminal (SIGHUP) or a stop request (SIGTERM) ends the command as Ctrl-C does, so that the app and
    JupyterLab, which run in sessions of their own, are stopped too instead of being left behind."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (tests may run the demo elsewhere)

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def host_name_arg(text: str) -> str:
    name = text.strip().lower()
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|\[?[0-9a-f:.]+\]?", name):
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not a host name (letters, digits, dots and dashes)")
    return name


def host_address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not an IP address (such as 127.0.0.1 or 0.0.0.0)") from None


def check_serving(args: argparse.Namespace) -> None:
    """An address other machines reach is served only to a team that signs in (or with the token at a named host),
    and only behind TLS: a password or token over plain HTTP can be read on the way."""
    if ipaddress.ip_address(args.host).is_loopback:
        return
    if not (args.users or args.allow_host):
        raise UsageError(
            f"--host {args.host} lets other machines reach the desk: add --users FILE (a team that signs in), or "
            "--allow-host NAME (the name they use, with the token)"
        )
    if not args.i_have_tls_in_front:
        raise UsageError(
            f"--host {args.host} over plain HTTP would send passwords and the token readable on the network: put a "
            "reverse proxy with HTTPS in front of the desk and add --i-have-tls-in-front"
        )


def cmd_app(args: argparse.Namespace) -> int:
    check_serving(args)
    if args.users:
        load_users(args.users)  # a missing or unsafe users file: one line now, not a desk nobody can enter
    env, settings = desk_environment()
    settings.require_account()  # the page connects to this account: say what is missing here, not there
    token = settings.desk_token.reveal() if settings.desk_token else None
    stop_on_terminate()  # before Voilà starts: a stop that comes at any moment after stops it too
    tz = args.tz or settings.store_tz or "UTC"
    print(f"Starting the refund desk on port {args.port} …", flush=True)
    proc, url = start_app(
        args.port,
        env,
        tz=args.tz,
        log=sys.stderr,
        token=token,
        max_sessions=args.max_sessions,
        allow_hosts=args.allow_host,
        users_file=args.users,
        host=args.host,
        tls_in_front=args.i_have_tls_in_front,
        audit_log=audit_path(settings),
    )
    try:  # from here any stop, even one that comes while the line below is printed, stops Voilà too
        print(f"refund desk at {url} (dates in {tz}); press Ctrl-C to stop.", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_app(proc)
