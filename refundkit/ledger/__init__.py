"""The offline-refund ledger (domain layer): quote, record exactly once, reverse, list, reconcile, import.

Names are imported when first used: reading :mod:`refundkit.ledger.model` loads no VTEX client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .csvimport import ImportOutcome, ImportReport, ImportRow, import_refunds, read_refund_csv
    from .items import ItemBalance, ItemPick, OrderItems, describe_lines, order_items, parse_pick
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
        RefundLine,
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

__getattr__ = lazy_names(
    __name__,
    {
        "ImportOutcome": ".csvimport",
        "ImportReport": ".csvimport",
        "ImportRow": ".csvimport",
        "import_refunds": ".csvimport",
        "read_refund_csv": ".csvimport",
        "ItemBalance": ".items",
        "ItemPick": ".items",
        "OrderItems": ".items",
        "describe_lines": ".items",
        "order_items": ".items",
        "parse_pick": ".items",
        "ListedEntry": ".listing",
        "RefundPage": ".listing",
        "RefundQuery": ".listing",
        "list_all": ".listing",
        "list_entries": ".listing",
        "KNOWN_SOURCES": ".model",
        "EntryKind": ".model",
        "ExactlyOnceUnavailable": ".model",
        "LedgerEntry": ".model",
        "NoteStatus": ".model",
        "OrderLedger": ".model",
        "Outcome": ".model",
        "Pending": ".model",
        "Quote": ".model",
        "RecordResult": ".model",
        "RefundConflict": ".model",
        "RefundLine": ".model",
        "RefundRefused": ".model",
        "make_reference": ".model",
        "refund_id": ".model",
        "reversal_id": ".model",
        "note_text": ".notetext",
        "ReconcileReport": ".reconcile",
        "Ledger": ".recording",
        "RefundInput": ".rules",
        "SCHEMA_NAME": ".schemas",
        "MasterDataVerdict": ".verdict",
        "load_verdict": ".verdict",
        "probe_master_data": ".verdict",
        "save_verdict": ".verdict",
    },
)

__all__ = [
    "KNOWN_SOURCES",
    "SCHEMA_NAME",
    "EntryKind",
    "ExactlyOnceUnavailable",
    "ImportOutcome",
    "ImportReport",
    "ImportRow",
    "ItemBalance",
    "ItemPick",
    "Ledger",
    "LedgerEntry",
    "ListedEntry",
    "MasterDataVerdict",
    "NoteStatus",
    "OrderItems",
    "OrderLedger",
    "Outcome",
    "Pending",
    "Quote",
    "ReconcileReport",
    "RecordResult",
    "RefundConflict",
    "RefundInput",
    "RefundLine",
    "RefundPage",
    "RefundQuery",
    "RefundRefused",
    "describe_lines",
    "import_refunds",
    "list_all",
    "list_entries",
    "load_verdict",
    "make_reference",
    "note_text",
    "order_items",
    "parse_pick",
    "probe_master_data",
    "read_refund_csv",
    "refund_id",
    "reversal_id",
    "save_verdict",
]
