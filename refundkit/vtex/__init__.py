"""VTEX resources: OMS orders, Master Data v2 documents, Do notes — over one paced, retrying transport."""

from .client import VtexClient
from .limiter import AdaptiveLimiter
from .masterdata import MasterData
from .models import Note, Order, OrderItem, OrderSummary, Payment, ReturnInvoice
from .notes import Notes
from .oms import Orders
from .transport import ALLOWED, RetryPolicy, Transport, check_allowed

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
