"""``refundkit.connect()``: the one call a notebook or script makes to get a working client and ledger.

With an account configured (environment, ``.env`` or ``refundkit.toml``: ``connect(account="br")``) it talks to
that account. Without one, ``demo=True`` (the
default in notebooks) starts the embedded sandbox in this process, so every notebook runs on a fresh machine with no
VTEX account; ``demo=False`` raises :class:`~refundkit.errors.ConfigError` with the how-to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .config import Secret, Settings, load_accounts, load_settings
from .errors import ConfigError
from .ledger import Ledger
from .timeutil import CLOCK_SHIFT_VARIABLE, clock_shift
from .vtex import VtexClient

if TYPE_CHECKING:
    from .sandbox import Sandbox, SandboxServer

__all__ = ["Session", "connect", "connect_accounts"]

log = logging.getLogger("refundkit")


@dataclass
class Session:
    settings: Settings
    client: VtexClient
    ledger: Ledger
    sandbox: Sandbox | None = None  # the embedded sandbox, when one was started
    _server: SandboxServer | None = field(default=None, repr=False)

    @property
    def is_sandbox(self) -> bool:
        """The embedded sandbox, or refundkit's sandbox served on this machine (it says so in its answers). A proxy on
        127.0.0.1 in front of a real account is not: the notebooks write their demo refunds only where this holds."""
        return self.sandbox is not None or self.client.transport.is_sandbox()

    @property
    def store_period(self) -> tuple[date, date] | None:
        """The first and last day of the embedded sandbox's synthetic store; ``None`` on an account."""
        if self.sandbox is None:
            return None
        config = self.sandbox.config
        return date.fromisoformat(config.start), date.fromisoformat(config.end)

    def describe(self) -> str:
        where = (
            "the embedded sandbox (no VTEX account needed)"
            if self.sandbox is not None
            else (f"account {self._name()} at {self.client.transport.base_url}")
        )
        return f"refundkit connected to {where}; ledger entity {self.ledger.entity}; recording as {self.ledger.user}"

    def _name(self) -> str:
        """``lojabr``, or ``br (lojabr)`` for an account of refundkit.toml named otherwise."""
        name, account = self.settings.name, self.settings.account
        return f"{name} ({account})" if name and name != account else str(account)

    def close(self) -> None:
        self.client.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    *,
    account: str | None = None,
    demo: bool | None = None,
    settings: Settings | None = None,
    sandbox_options: dict[str, Any] | None = None,
    setup: bool = True,
    **transport_options: Any,
) -> Session:
    """Connect to the configured VTEX account, or (``demo``) to an embedded sandbox when none is configured.

    ``demo=None`` means: use the sandbox only when no account is configured. ``account`` names an account of
    ``refundkit.toml`` (``connect(account="br")``); default ``REFUNDKIT_ACCOUNT``, else the one configured.
    """
    settings = settings or load_settings(account=account)
    sandbox = server = None
    if not settings.configured:
        if demo is False or settings.name or settings.choices:  # an account was meant: say what is missing
            settings.require_account()
        from .sandbox import Sandbox, SandboxConfig  # noqa: PLC0415 - imported lazily: only demos need it

        sandbox = Sandbox(SandboxConfig(**(sandbox_options or {})))
        server = sandbox.serve(port=0).__enter__()
        cfg = sandbox.config
        settings = settings.with_(
            account=cfg.account,
            app_key=cfg.app_key,
            app_token=Secret(cfg.app_token),
            base_url=server.base_url,
            pii_architecture=cfg.pii_architecture,  # a sandbox playing the PII data architecture is read as one
        )
    client = VtexClient(settings, **transport_options)
    served_sandbox = sandbox is None and client.transport.is_sandbox()
    if sandbox is None and not served_sandbox and clock_shift():
        client.close()
        raise ConfigError(
            f"{CLOCK_SHIFT_VARIABLE} is set: it moves the clock to try the sandbox later, and must not date what is "
            f"recorded on account {settings.account}; unset it"
        )
    if demo is True and sandbox is None and not served_sandbox:
        client.close()
        raise ConfigError(
            "demo=True, but a real VTEX account is configured; unset VTEX_ACCOUNT_NAME to use the "
            "sandbox, or connect without demo=True"
        )
    # an embedded sandbox forgets everything when the process ends, so its writes are not journaled to disk
    # (nor is its Master Data verdict: a sandbox may play another behaviour next time)
    ledger = Ledger(client, journal_dir=sandbox is None, verdict_dir=sandbox is None)
    if setup and (sandbox is not None or served_sandbox):
        ledger.setup()  # saving the schemas is idempotent; on a real account run `refundkit setup` once instead
    return Session(settings, client, ledger, sandbox, server)


def connect_accounts(names: Sequence[str] | None = None, **options: Any) -> dict[str, Session]:
    """A session per account of ``refundkit.toml`` (``names``, default all of them, in the file's order), for a
    report across accounts (:func:`refundkit.analytics.accounts_report`). Never the embedded sandbox. If one cannot
    be opened, those opened already are closed and its error raised."""
    chosen = list(names) if names is not None else list(load_accounts())
    if not chosen:
        raise ConfigError("no refundkit.toml names any account: write one ([accounts.NAME] tables), see README")
    sessions: dict[str, Session] = {}
    try:
        for name in chosen:
            sessions[name] = connect(account=name, demo=False, **options)
    except BaseException:
        for opened in sessions.values():
            opened.close()
        raise
    return sessions
