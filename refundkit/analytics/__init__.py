"""Analytics (polars): frames of orders and refunds, the local order store, the one engine of gross versus net
revenue (:mod:`.engine`, over the registry of refund sources :mod:`.sources`), its report, trends and exports.
Never imports presentation.
Every name is imported from its module on first use (:mod:`refundkit.lazy`): a report from the store loads only
the modules it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy import lazy_names

if TYPE_CHECKING:
    import polars as pl

    from ..timeutil import Instant
    from .accounts import AccountsReport, accounts_report
    from .engine import (
        GROSS_SCHEMA,
        REFUND_LINES_SCHEMA,
        REVENUE_SCHEMA,
        Figures,
        gross_by_period,
        orders_by_status,
        refund_lines,
        revenue_figures,
    )
    from .export import export_csv, export_json, export_parquet, export_xlsx, report_json
    from .frames import (
        NATIVE_REFUNDS_SCHEMA,
        ORDERS_SCHEMA,
        REFUNDS_SCHEMA,
        native_refunds_frame,
        orders_frame,
        refunds_frame,
        with_major,
    )
    from .items import BYS, ITEM_SCHEMA, ItemFigures, ItemReport, item_figures, item_report, refund_drivers
    from .report import (
        CSV_COLUMNS,
        REPORT_RULES,
        Report,
        ReportDetail,
        gross_vs_net_report,
        report_detail,
    )
    from .revenue import (
        ATTRIBUTIONS,
        CANCELED_STATUSES,
        DEFINITIONS,
        PAYMENT_PENDING_STATUSES,
        PERIODS,
        RevenueData,
        collect_revenue,
        default_range,
        definitions_line,
    )
    from .sources import REFUND_COLUMNS, SOURCES, RefundColumn, RefundSource
    from .store import STORE_ORDERS_SCHEMA, OrderStore
    from .sync import SyncResult, store_of, sync_orders

__getattr__ = lazy_names(
    __name__,
    {
        "AccountsReport": ".accounts",
        "accounts_report": ".accounts",
        "GROSS_SCHEMA": ".engine",
        "REFUND_LINES_SCHEMA": ".engine",
        "REVENUE_SCHEMA": ".engine",
        "Figures": ".engine",
        "gross_by_period": ".engine",
        "orders_by_status": ".engine",
        "refund_lines": ".engine",
        "revenue_figures": ".engine",
        "export_csv": ".export",
        "export_json": ".export",
        "export_parquet": ".export",
        "export_xlsx": ".export",
        "report_json": ".export",
        "NATIVE_REFUNDS_SCHEMA": ".frames",
        "ORDERS_SCHEMA": ".frames",
        "REFUNDS_SCHEMA": ".frames",
        "native_refunds_frame": ".frames",
        "orders_frame": ".frames",
        "refunds_frame": ".frames",
        "with_major": ".frames",
        "BYS": ".items",
        "ITEM_SCHEMA": ".items",
        "ItemFigures": ".items",
        "ItemReport": ".items",
        "item_figures": ".items",
        "item_report": ".items",
        "refund_drivers": ".items",
        "CSV_COLUMNS": ".report",
        "REPORT_RULES": ".report",
        "Report": ".report",
        "ReportDetail": ".report",
        "gross_vs_net_report": ".report",
        "report_detail": ".report",
        "ATTRIBUTIONS": ".revenue",
        "CANCELED_STATUSES": ".revenue",
        "DEFINITIONS": ".revenue",
        "PAYMENT_PENDING_STATUSES": ".revenue",
        "PERIODS": ".revenue",
        "RevenueData": ".revenue",
        "collect_revenue": ".revenue",
        "default_range": ".revenue",
        "definitions_line": ".revenue",
        "REFUND_COLUMNS": ".sources",
        "SOURCES": ".sources",
        "RefundColumn": ".sources",
        "RefundSource": ".sources",
        "STORE_ORDERS_SCHEMA": ".store",
        "OrderStore": ".store",
        "SyncResult": ".sync",
        "store_of": ".sync",
        "sync_orders": ".sync",
    },
)


def load_orders(source: Any, start: Instant | None = None, end: Instant | None = None) -> pl.DataFrame:
    """The stored orders created in ``[start, end)`` (all when ``None``) of ``source``'s account (a session, a
    client or an :class:`OrderStore`), as a polars frame (:data:`STORE_ORDERS_SCHEMA`); no VTEX call."""
    from .sync import store_of  # noqa: PLC0415  (loads when used, like every name here)

    return store_of(source).orders(start, end)


__all__ = [
    "ATTRIBUTIONS",
    "BYS",
    "CANCELED_STATUSES",
    "CSV_COLUMNS",
    "DEFINITIONS",
    "GROSS_SCHEMA",
    "ITEM_SCHEMA",
    "NATIVE_REFUNDS_SCHEMA",
    "ORDERS_SCHEMA",
    "PAYMENT_PENDING_STATUSES",
    "PERIODS",
    "REFUNDS_SCHEMA",
    "REFUND_COLUMNS",
    "REFUND_LINES_SCHEMA",
    "REPORT_RULES",
    "REVENUE_SCHEMA",
    "SOURCES",
    "STORE_ORDERS_SCHEMA",
    "AccountsReport",
    "Figures",
    "ItemFigures",
    "ItemReport",
    "OrderStore",
    "RefundColumn",
    "RefundSource",
    "Report",
    "ReportDetail",
    "RevenueData",
    "SyncResult",
    "accounts_report",
    "collect_revenue",
    "default_range",
    "definitions_line",
    "export_csv",
    "export_json",
    "export_parquet",
    "export_xlsx",
    "gross_by_period",
    "gross_vs_net_report",
    "item_figures",
    "item_report",
    "load_orders",
    "native_refunds_frame",
    "orders_by_status",
    "orders_frame",
    "refund_drivers",
    "refund_lines",
    "refunds_frame",
    "report_detail",
    "report_json",
    "revenue_figures",
    "store_of",
    "sync_orders",
    "with_major",
]
