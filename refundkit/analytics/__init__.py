"""Analytics (polars): frames of orders and refunds, and gross versus net revenue. Never imports presentation."""

from .frames import (
    NATIVE_REFUNDS_SCHEMA,
    ORDERS_SCHEMA,
    REFUNDS_SCHEMA,
    native_refunds_frame,
    orders_frame,
    refunds_frame,
    with_major,
)
from .revenue import (
    ATTRIBUTIONS,
    CANCELED_STATUSES,
    DEFINITIONS,
    GROSS_SCHEMA,
    PAYMENT_PENDING_STATUSES,
    PERIODS,
    REVENUE_SCHEMA,
    RevenueData,
    collect_revenue,
    default_range,
    definitions_line,
    gross_by_period,
    gross_vs_net,
    orders_by_status,
)

__all__ = [
    "orders_frame", "refunds_frame", "native_refunds_frame", "with_major",
    "ORDERS_SCHEMA", "REFUNDS_SCHEMA", "NATIVE_REFUNDS_SCHEMA",
    "gross_vs_net", "gross_by_period", "orders_by_status", "collect_revenue", "default_range", "definitions_line", "RevenueData",
    "DEFINITIONS", "REVENUE_SCHEMA", "GROSS_SCHEMA", "PERIODS", "ATTRIBUTIONS", "CANCELED_STATUSES",
    "PAYMENT_PENDING_STATUSES",
]
