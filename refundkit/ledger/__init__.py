"""The offline-refund ledger (domain layer): quote, record exactly once, reverse, list, reconcile, import."""

from .csvimport import ImportReport, ImportRow, import_refunds, read_refund_csv
from .model import (
    KNOWN_SOURCES,
    LedgerEntry,
    OrderLedger,
    Quote,
    RecordResult,
    RefundConflict,
    RefundRefused,
    refund_id,
    reversal_id,
)
from .rules import RefundInput
from .service import SCHEMA_NAME, Ledger, ReconcileReport, note_text

__all__ = [
    "KNOWN_SOURCES",
    "SCHEMA_NAME",
    "ImportReport",
    "ImportRow",
    "Ledger",
    "LedgerEntry",
    "OrderLedger",
    "Quote",
    "ReconcileReport",
    "RecordResult",
    "RefundConflict",
    "RefundInput",
    "RefundRefused",
    "import_refunds",
    "note_text",
    "read_refund_csv",
    "refund_id",
    "reversal_id",
]
