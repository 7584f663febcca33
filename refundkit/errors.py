"""The one error hierarchy of refundkit.

::

    RefundkitError                      anything refundkit raises on purpose; str() is a message for a person
    ├── ConfigError                     no account configured, bad setting
    ├── InputError                      a value a person gave (date, amount, CSV row, flag) cannot be used
    │   └── AmountError                 an amount cannot be read as money (refundkit.money; also a ValueError)
    ├── CurrencyMismatch                two currencies were combined (refundkit.money; also a ValueError)
    ├── VtexError                       VTEX answered with an error or could not be reached
    │   ├── AuthenticationError         401: app key or token wrong
    │   ├── PermissionDenied            403: the key lacks a License Manager resource
    │   ├── NotFound                    404
    │   ├── RateLimited                 429 after every retry; .retry_after
    │   ├── ServerError                 5xx after every retry
    │   ├── NetworkError                connection refused, DNS, timeout after every retry
    │   │   └── DeadlineExceeded        the call's overall deadline passed while retrying
    │   ├── BadResponse                 VTEX answered 2xx with something refundkit cannot read, or an unexpected 4xx
    │   │   └── NoteLimitReached        the order already holds the 30 notes VTEX allows; nothing was posted
    │   ├── ListingIncomplete           an order listing lost some parts after every retry; .orders, .missing
    │   └── ForbiddenEndpoint           refundkit refused to send a request that could move money
    └── LedgerError                     the refund ledger refused an operation (see refundkit.ledger)

Messages never contain the app token: :class:`refundkit.config.Secret` redacts itself and requests are described by
method and path only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmountError",
    "AuthenticationError",
    "BadResponse",
    "ConfigError",
    "CurrencyMismatch",
    "DeadlineExceeded",
    "ForbiddenEndpoint",
    "InputError",
    "LedgerError",
    "ListingIncomplete",
    "NetworkError",
    "NotFound",
    "NoteLimitReached",
    "PermissionDenied",
    "RateLimited",
    "RefundkitError",
    "ServerError",
    "StoreError",
    "VtexError",
]


class RefundkitError(Exception):
    """Base of every error refundkit raises on purpose. ``str(err)`` is meant for the person at the keyboard."""


class ConfigError(RefundkitError):
    pass


class InputError(RefundkitError):
    pass


class StoreError(RefundkitError):
    """The local order store cannot be read or written (a damaged file, a full disk, a folder that cannot be
    written, another process holding it too long). The message names the file and the way out."""


class AmountError(InputError, ValueError):
    """An amount (typed by a person, or sent by VTEX) cannot be read as money in the given currency."""


class CurrencyMismatch(RefundkitError, ValueError):
    """Two amounts in different currencies were combined."""


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
    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None, request: str | None = None
    ) -> None:
        super().__init__(message, status=status, request=request)
        self.retry_after = retry_after


class ServerError(VtexError):
    pass


class NetworkError(VtexError):
    pass


class DeadlineExceeded(NetworkError):
    """Retrying would pass the call's overall deadline (``REFUNDKIT_CALL_DEADLINE_S``)."""


class BadResponse(VtexError):
    pass


class NoteLimitReached(BadResponse):
    """VTEX allows at most 30 notes on an order, and this order holds them: the note was not (and cannot be) added."""


class ListingIncomplete(VtexError):
    """An order listing could not fetch every part of its range, even after retrying those parts.

    ``orders`` holds what was listed (complete for every part not named in ``missing``); ``missing`` describes each
    part that failed (a time range, and the page when a single page failed) in words a person can act on."""

    def __init__(self, message: str, *, orders: list[Any], missing: list[str], request: str | None = None) -> None:
        super().__init__(message, request=request)
        self.orders = orders
        self.missing = missing


class ForbiddenEndpoint(VtexError):
    pass


class LedgerError(RefundkitError):
    pass
