"""refundkit: record offline refunds on VTEX orders exactly once, and report gross versus net revenue.

VTEX has no "offline refund". refundkit keeps each refund made outside VTEX (cash, bank transfer, a refund service)
as a Master Data v2 document, notes it on the order, knows each order's refundable balance, and reports revenue net
of both VTEX-native refunds (return invoices) and offline ones. It never moves money.

Start with :func:`connect`::

    import refundkit
    rk = refundkit.connect()            # your account from the environment / .env, or the embedded sandbox
    rk.ledger.quote("1306331686122-01")
    br = refundkit.connect(account="br")  # an account of refundkit.toml, by its name

Names are imported when first used, so that a command loads only what it needs (a report from the store
loads no HTTP client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_names

if TYPE_CHECKING:
    from .config import Settings, load_settings
    from .errors import (
        AuthenticationError,
        BadResponse,
        ConfigError,
        ForbiddenEndpoint,
        InputError,
        LedgerError,
        NetworkError,
        NotFound,
        PermissionDenied,
        RateLimited,
        RefundkitError,
        ServerError,
        VtexError,
    )
    from .ledger import Ledger, RefundConflict, RefundRefused
    from .money import Money
    from .session import Session, connect, connect_accounts
    from .timeutil import Instant, parse_instant
    from .version import __version__
    from .vtex import VtexClient

__getattr__ = lazy_names(
    __name__,
    {
        "Settings": ".config",
        "load_settings": ".config",
        "AuthenticationError": ".errors",
        "BadResponse": ".errors",
        "ConfigError": ".errors",
        "ForbiddenEndpoint": ".errors",
        "InputError": ".errors",
        "LedgerError": ".errors",
        "NetworkError": ".errors",
        "NotFound": ".errors",
        "PermissionDenied": ".errors",
        "RateLimited": ".errors",
        "RefundkitError": ".errors",
        "ServerError": ".errors",
        "VtexError": ".errors",
        "Ledger": ".ledger",
        "RefundConflict": ".ledger",
        "RefundRefused": ".ledger",
        "Money": ".money",
        "Session": ".session",
        "connect": ".session",
        "connect_accounts": ".session",
        "Instant": ".timeutil",
        "parse_instant": ".timeutil",
        "__version__": ".version",
        "VtexClient": ".vtex",
    },
)

__all__ = [
    "AuthenticationError",
    "BadResponse",
    "ConfigError",
    "ForbiddenEndpoint",
    "InputError",
    "Instant",
    "Ledger",
    "LedgerError",
    "Money",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RefundConflict",
    "RefundRefused",
    "RefundkitError",
    "ServerError",
    "Session",
    "Settings",
    "VtexClient",
    "VtexError",
    "__version__",
    "connect",
    "connect_accounts",
    "load_settings",
    "parse_instant",
]
