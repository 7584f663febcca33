"""VTEX resources: OMS orders, Master Data v2 documents, Do notes — over one paced, retrying transport.

Names are imported when first used: reading :mod:`refundkit.vtex.models` loads no HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .client import VtexClient
    from .limiter import AdaptiveLimiter
    from .masterdata import MasterData
    from .models import Note, Order, OrderItem, OrderSummary, Payment, ReturnInvoice
    from .notes import Notes
    from .oms import Orders
    from .transport import ALLOWED, RetryPolicy, Transport, check_allowed

__getattr__ = lazy_names(
    __name__,
    {
        "VtexClient": ".client",
        "AdaptiveLimiter": ".limiter",
        "MasterData": ".masterdata",
        "Note": ".models",
        "Order": ".models",
        "OrderItem": ".models",
        "OrderSummary": ".models",
        "Payment": ".models",
        "ReturnInvoice": ".models",
        "Notes": ".notes",
        "Orders": ".oms",
        "ALLOWED": ".transport",
        "RetryPolicy": ".transport",
        "Transport": ".transport",
        "check_allowed": ".transport",
    },
)

__all__ = [
    "ALLOWED",
    "AdaptiveLimiter",
    "MasterData",
    "Note",
    "Notes",
    "Order",
    "OrderItem",
    "OrderSummary",
    "Orders",
    "Payment",
    "RetryPolicy",
    "ReturnInvoice",
    "Transport",
    "VtexClient",
    "check_allowed",
]
