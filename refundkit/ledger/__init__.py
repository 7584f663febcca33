"""The offline-refund ledger (domain layer): quote, record exactly once, reverse, list, reconcile, import."""

from .csvimport import ImportOutcome, ImportReport, ImportRow, import_refunds, read_refund_csv
from .listing import ListedEntry, RefundPage, RefundQuery, list_all, list_entries
from .model import (
    KNOWN_SOURCES,
    EntryKind,
    ExactlyOnceUnavailable,
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
from .verdict import MasterDataVerdict, load_verdict, probe_master_data, save_verdict

__all__ = [
    "KNOWN_SOURCES",
    "SCHEMA_NAME",
    "EntryKind",
    "ExactlyOnceUnavailable",
    "ImportOutcome",
    "ImportReport",
    "ImportRow",
    "Ledger",
    "LedgerEntry",
    "ListedEntry",
    "MasterDataVerdict",
    "NoteStatus",
    "OrderLedger",
    "Outcome",
    "Pending",
    "Quote",
    "ReconcileReport",
    "RecordResult",
    "RefundConflict",
    "RefundInput",
    "RefundPage",
    "RefundQuery",
    "RefundRefused",
    "import_refunds",
    "list_all",
    "list_entries",
    "load_verdict",
    "make_reference",
    "note_text",
    "probe_master_data",
    "read_refund_csv",
    "refund_id",
    "reversal_id",
    "save_verdict",
]
