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
    "Ledger", "LedgerEntry", "OrderLedger", "Quote", "RecordResult", "RefundConflict", "RefundRefused",
    "RefundInput", "ReconcileReport", "ImportReport", "ImportRow", "import_refunds", "read_refund_csv",
    "KNOWN_SOURCES", "SCHEMA_NAME", "refund_id", "reversal_id", "note_text",
]
