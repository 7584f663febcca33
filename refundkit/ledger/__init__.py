"""The offline-refund ledger (domain layer): quote, record exactly once, reverse, list, reconcile, import."""

from .csvimport import ImportOutcome, ImportReport, ImportRow, import_refunds, read_refund_csv
from .model import (
    KNOWN_SOURCES,
    EntryKind,
    LedgerEntry,
    NoteStatus,
    OrderLedger,
    Outcome,
    Pending,
    Quote,
    RecordResult,
    RefundConflict,
    RefundRefused,
    make_reference,
    refund_id,
    reversal_id,
)
from .notetext import note_text
from .reconcile import ReconcileReport
from .recording import Ledger
from .rules import RefundInput
from .schemas import SCHEMA_NAME

__all__ = [
    "KNOWN_SOURCES",
    "SCHEMA_NAME",
    "EntryKind",
    "ImportOutcome",
    "ImportReport",
    "ImportRow",
    "Ledger",
    "LedgerEntry",
    "NoteStatus",
    "OrderLedger",
    "Outcome",
    "Pending",
    "Quote",
    "ReconcileReport",
    "RecordResult",
    "RefundConflict",
    "RefundInput",
    "RefundRefused",
    "import_refunds",
    "make_reference",
    "note_text",
    "read_refund_csv",
    "refund_id",
    "reversal_id",
]
