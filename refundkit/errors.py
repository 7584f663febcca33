"""The one error hierarchy of refundkit.

::

    RefundkitError                      anything refundkit raises on purpose; str() is a message for a person
    ├── ConfigError                     no account configured, bad setting
    ├── InputError                      a value a person gave (date, amount, CSV row, flag) cannot be used
    ├── VtexError                       VTEX answered with an error or could not be reached
    │   ├── AuthenticationError         401: app key or token wrong
    │   ├── PermissionDenied            403: the key lacks a License Manager resource
    │   ├── NotFound                    404
    │   ├── RateLimited                 429 after every retry; .retry_after
    │   ├── ServerError                 5xx after every retry
    │   ├── NetworkError                connection refused, DNS, timeout after every retry
    │   ├── BadResponse                 VTEX answered 2xx with something refundkit cannot read, or an unexpected 4xx
    │   └── ForbiddenEndpoint           refundkit refused to send a request that could move money
    └── LedgerError                     the refund ledger refused an operation (see refundkit.ledger)

Messages never contain the app token: :class:`refundkit.config.Secret` redacts itself and requests are described by
method and path only.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadResponse",
    "ConfigError",
    "ForbiddenEndpoint",
    "InputError",
    "LedgerError",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RefundkitError",
    "ServerError",
    "VtexError",
]


class RefundkitError(Exception):
    """Base of every error refundkit raises on purpose. ``str(err)`` is meant for the person at the keyboard."""


class ConfigError(RefundkitError):
    pass


class InputError(RefundkitError):
    pass


class VtexError(RefundkitError):
    """VTEX answered with an error. ``status`` is the HTTP status (None when no answer came), ``request`` is
    ``"GET /api/oms/pvt/orders"`` (never headers or credentials)."""

    def __init__(self, message: str, *, status: int | None = None, request: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.request = request


class AuthenticationError(VtexError):
    pass


class PermissionDenied(VtexError):
    pass


class NotFound(VtexError):
    pass


class RateLimited(VtexError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(VtexError):
    pass


class NetworkError(VtexError):
    pass


class BadResponse(VtexError):
    pass


class ForbiddenEndpoint(VtexError):
    pass


class LedgerError(RefundkitError):
    pass
