"""Bulk import of offline refunds from a CSV file (a third party's export, a spreadsheet).

Columns ``order_id, amount, refunded_at, source, external_ref, reason``; optional ``currency, note``. The file is read
as the spreadsheet that saved it wrote it (:mod:`refundkit.ledger.csvdialect`): UTF-8 with or without a byte-order
mark, or Windows-1252; comma or semicolon separated; amounts in the file's decimal mark with its thousands separator
(``1.234,56`` in a pt-BR Excel's ``;`` file); dates ISO, or ``dd/mm/yyyy`` / ``mm/dd/yyyy`` in the order
``date_format`` names, else the one the file's own dates show, else the store's locale (else the file is refused,
saying so). The per-row result (:func:`result_csv`) is written back in the same dialect.

**Refunds by item.** Optional columns ``sku`` (the order's ``items[].id``, or ``SKU#N`` / a line's ``uniqueId``
where the SKU is on several lines), ``quantity`` (units, default 1), ``shipping`` (an amount in the file's decimal
mark, or yes/sim/si for what is left of the order's shipping; empty or no: none) and ``restock`` (yes or no). A row
per item: rows naming an item or shipping with the same order, source and reference are one refund, its lines in
file order (shipping last). When every row gives an amount, each line keeps its own row's amount (a row with the
shipping and an item: the two share it by their prices; a row with the shipping only: the shipping's), and a row
whose amount is above what its units (and shipping) cost is refused naming its line and SKU; the refund's amount is
the rows' added up. When no row gives one, it is the price paid for its units and shipping; an amount on some rows
only is refused, and so are rows of one refund that give different
dates, currencies, reasons, notes or restock. One bad row refuses its whole refund (nothing of it written). The
refund is checked as one, by :func:`refundkit.ledger.rules.check_refund` and ``build_quote`` (units beyond what is
left, counting the refunds accepted on rows above, are refused naming the SKU), and each of its rows ends as it
does; a row of a refund of several rows keeps its amount as typed, and its message names the refund's first line.

Every row is validated before anything is written — against the order, its ledger and the rows above it in the
same file (a row repeating one above is refused, naming that line) — and each row ends as *recorded*, *already
recorded*, *refused* (with the reason; nothing written, no entry id), *likely duplicate* (held back, nothing
written) or *failed* (VTEX failed or could not be reached: the row may or may not be recorded, and importing the
file again finishes it, never twice). Good rows are recorded concurrently (rows of one order in file order, orders
in parallel).

A row is a **likely duplicate** by the rule ``record`` uses (:mod:`refundkit.ledger.duplicates`): its order already
has a refund of the same amount under another reference, not reversed, within ``REFUNDKIT_DUPLICATE_DAYS`` (7 days)
of it — in its ledger or in a row above it in the file. Such a row is held back and listed with the earlier entry;
``allow_likely_duplicates=True`` (``refundkit import --yes``, the desk's second confirmation) records it.

Because each refund's id is derived from order + source + reference, importing the same file again writes nothing
new, and says which rows are recorded but still pending their order note or entry document.

Validation costs one pass over the rows plus two reads per order (its ledger and the order), whatever the number of
rows: each order's entries are indexed once (by id, and its refunds by amount for the likely-duplicate check) and its
offline total is kept as a running sum.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import InputError, NotFound, RefundkitError, VtexError
from ..money import Money
from ..textsafety import clip, neutralise_formula
from ..vtex.models import Order
from .csvdialect import CsvDialect, decode_csv, read_amounts, read_dates
from .duplicates import DuplicateCheck, duplicate_window_days, likely_duplicates
from .items import SHIPPING, ItemPick, describe_lines, parse_pick
from .model import LedgerEntry, NoteStatus, OrderLedger, Pending, RefundConflict, RefundRefused, refund_id
from .recording import Ledger
from .rules import RefundInput, build_quote, check_refund, check_source, entry_from, other_currency, parse_refund_amount

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportOutcome",
    "ImportReport",
    "ImportRow",
    "import_refunds",
    "read_refund_csv",
    "result_csv",
]

REQUIRED_COLUMNS = ("order_id", "amount", "refunded_at", "source", "external_ref", "reason")
#: ``sku``, ``quantity``, ``shipping`` and ``restock``: refunds by item (see the module's text).
ITEM_COLUMNS = ("sku", "quantity", "shipping", "restock")
OPTIONAL_COLUMNS = ("currency", "note", *ITEM_COLUMNS)
#: What a ``shipping`` or ``restock`` cell says for yes and for no (in English, Portuguese and Spanish).
_YES = frozenset({"yes", "y", "true", "x", "sim", "s", "si", "sí"})
_NO = frozenset({"no", "n", "false", "não", "nao"})
_ALIASES = {
    "qty": "quantity",
    "units": "quantity",
    "sku_id": "sku",
    "skuid": "sku",
    "external_reference": "external_ref",
    "reference": "external_ref",
    "ref": "external_ref",
    "order": "order_id",
    "orderid": "order_id",
    "refund_date": "refunded_at",
    "date": "refunded_at",
}


class ImportOutcome(StrEnum):
    """How one row of an import ended."""

    RECORDED = "recorded"
    ALREADY_RECORDED = "already recorded"
    REFUSED = "refused"  # validation refused it: nothing written
    FAILED = "failed"  # VTEX failed or could not be reached: to be retried (import the file again)
    WOULD_RECORD = "would record"  # a dry run
    LIKELY_DUPLICATE = "likely duplicate"  # held back: nothing written until confirmed (import --yes)


RECORDED, ALREADY, REFUSED, FAILED, WOULD, HELD = (
    ImportOutcome.RECORDED,
    ImportOutcome.ALREADY_RECORDED,
    ImportOutcome.REFUSED,
    ImportOutcome.FAILED,
    ImportOutcome.WOULD_RECORD,
    ImportOutcome.LIKELY_DUPLICATE,
)


@dataclass
class ImportRow:
    line: int
    order_id: str
    amount: str  # as typed; once the row is accepted, the amount as read with its currency's decimals
    source: str
    external_ref: str
    outcome: ImportOutcome | None = None  # None until the row is decided
    money: Money | None = None  # the amount read in its order's currency, once known (None: it could not be read)
    message: str = ""
    entry_id: str | None = None
    pending: tuple[Pending, ...] = ()
    likely_duplicate_of: tuple[str, ...] = ()  # the earlier entries this row likely duplicates
    refunded_at: str = ""  # as typed in the file
    #: the first row of the refund this row is part of (rows naming items under one reference), else None
    part_of: ImportRow | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "order_id": self.order_id,
            "amount": self.amount,
            "currency": self.money.currency if self.money is not None else None,
            "refunded_at": self.refunded_at,
            "source": self.source,
            "external_ref": self.external_ref,
            "outcome": self.outcome,
            "message": self.message,
            "entry_id": self.entry_id,
            "pending": list(self.pending),
            "likely_duplicate_of": list(self.likely_duplicate_of),
        }


@dataclass
class ImportReport:
    file: str
    rows: list[ImportRow] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    dialect: CsvDialect = field(default_factory=CsvDialect)  # how the file was written: its result is written so

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def refused(self) -> int:
        return self.count(REFUSED)

    @property
    def failed(self) -> int:
        """Rows VTEX failed on: not known to be written; importing the file again finishes them."""
        return self.count(FAILED)

    @property
    def pending(self) -> int:
        """Rows recorded (now or before) whose order note or entry document is not written yet."""
        return sum(1 for r in self.rows if r.pending and r.outcome in (RECORDED, ALREADY))

    @property
    def held(self) -> int:
        """Rows held back as likely duplicates: nothing written; confirmed, they are recorded."""
        return self.count(HELD)

    @property
    def ok(self) -> bool:
        return self.refused == 0 and self.failed == 0 and self.held == 0

    def summary(self) -> str:
        parts = [
            f"{self.count(WOULD)} would be recorded" if self.dry_run else f"{self.count(RECORDED)} recorded",
            f"{self.count(ALREADY)} already recorded",
            f"{self.refused} refused",
        ]
        if self.held:
            parts.append(
                f"{self.held} held back as likely duplicates (nothing written; if they are other refunds, import "
                "again with --yes)"
            )
        if self.failed:
            parts.append(f"{self.failed} failed (VTEX failed: import the file again to finish them, never twice)")
        if self.pending:
            parts.append(
                f"{self.pending} recorded but still pending an order note or entry document (run `refundkit reconcile`)"
            )
        return f"{self.file}: {len(self.rows)} rows: " + ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "summary": self.summary(),
            "warnings": self.warnings,
            "dialect": {
                "delimiter": self.dialect.delimiter,
                "decimal": self.dialect.decimal,
                "date_format": self.dialect.date_format,
                "encoding": self.dialect.encoding,
                "bom": self.dialect.bom,
            },
            "counts": {
                **{k: self.count(k) for k in (RECORDED, ALREADY, REFUSED, FAILED, WOULD, HELD)},
                "pending": self.pending,
            },
            "rows": [r.as_dict() for r in self.rows],
        }


def read_refund_csv(
    source: str | Path | bytes, name: str | None = None
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Parse the file into (line number, row) pairs, each value as typed. File-level problems raise
    :class:`InputError`."""
    rows, warnings, _ = _read_csv(source, name)
    return rows, warnings


def _read_csv(
    source: str | Path | bytes, name: str | None = None
) -> tuple[list[tuple[int, dict[str, str]]], list[str], CsvDialect]:
    """The rows as typed, the warnings, and the file's encoding and separator (its decimal mark and date order are
    read by :func:`_read_dialect`)."""
    if isinstance(source, bytes):
        name = name or "the file"
        text, encoding, bom = decode_csv(source, name)
    else:
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{name} is a folder, not a CSV file") from None
        except OSError as exc:
            raise InputError(f"{name} cannot be read: {exc.strerror}") from None
        text, encoding, bom = decode_csv(data, name)
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise InputError(f"{name} is empty: it needs a header line ({', '.join(REQUIRED_COLUMNS)}) and rows")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    warnings: list[str] = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [
                    _ALIASES.get(k, k) for k in (f.strip().lower().replace(" ", "_").replace("-", "_") for f in fields)
                ]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise InputError(
                        f"{name}: the header lacks column(s) {', '.join(missing)}; it needs "
                        f"{', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)}) — found "
                        f"{', '.join(header)}"
                    )
                dupes = sorted({c for c in header if header.count(c) > 1})
                if dupes:
                    raise InputError(f"{name}: column(s) {', '.join(dupes)} appear more than once in the header")
                extra = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
                if extra:
                    warnings.append(f"ignored column(s): {', '.join(extra)}")
                continue
            if len(fields) != len(header):
                rows.append(
                    (
                        line,
                        {
                            "__error__": f"has {len(fields)} fields but the header has {len(header)} "
                            f"(separator '{delimiter}'); quote values that contain it"
                        },
                    )
                )
                continue
            rows.append((line, {k: v.strip() for k, v in zip(header, fields, strict=True)}))
    except csv.Error as exc:
        raise InputError(f"{name}: line {reader.line_num} is not valid CSV ({exc})") from None
    if header is None or not rows:
        raise InputError(f"{name} has a header but no rows")
    return rows, warnings, CsvDialect(delimiter=delimiter, encoding=encoding, bom=bom)


def _read_dialect(
    rows: list[tuple[int, dict[str, str]]],
    dialect: CsvDialect,
    name: str,
    *,
    date_format: str | None,
    locale: str | None,
) -> tuple[list[tuple[int, dict[str, str]]], CsvDialect, str | None]:
    """The rows with their amounts read in the file's decimal mark (as ``1234.56``) and their dates in its order
    (as ISO), the values as typed kept under ``__typed_amount__`` and ``__typed_date__``; a value that cannot be read
    so refuses its row (``__refused__``). Also the whole dialect, and a warning or None. See
    :mod:`refundkit.ledger.csvdialect`."""
    good = [(line, row) for line, row in rows if "__error__" not in row]
    # a shipping amount is an amount of the file too: read in the same decimal mark ("yes" has none: kept as typed)
    mark, values, value_problems = read_amounts(
        [row.get("amount", "") for _, row in good] + [row.get("shipping", "") for _, row in good], dialect.delimiter
    )
    amounts, amount_problems = values[: len(good)], value_problems[: len(good)]
    shippings, shipping_problems = values[len(good) :], value_problems[len(good) :]
    order, dates, date_problems, warning = read_dates(
        [(line, row.get("refunded_at", "")) for line, row in good], name, date_format=date_format, locale=locale
    )
    read: dict[int, dict[str, str]] = {}
    for (line, row), amount, a_problem, day, d_problem, shipping, s_problem in zip(
        good, amounts, amount_problems, dates, date_problems, shippings, shipping_problems, strict=True
    ):
        new = {**row, "__typed_amount__": row.get("amount", ""), "__typed_date__": row.get("refunded_at", "")}
        problems = [p for p in (a_problem, d_problem, s_problem and f"shipping: {s_problem}") if p]
        if problems:
            new["__refused__"] = "; ".join(problems)
        new["amount"], new["refunded_at"] = amount or "", day or ""
        if "shipping" in row:
            new["shipping"] = shipping or ""
        read[line] = new
    out = [(line, read.get(line, row)) for line, row in rows]
    default_mark = "," if dialect.delimiter == ";" else "."
    return (
        out,
        CsvDialect(dialect.delimiter, mark or default_mark, order, dialect.encoding, dialect.bom),
        warning,
    )


def import_refunds(
    ledger: Ledger,
    source: str | Path | bytes,
    *,
    dry_run: bool = False,
    name: str | None = None,
    workers: int = 16,
    progress: Callable[[int, int], None] | None = None,
    allow_likely_duplicates: bool = False,
    duplicate_days: int | None = None,
    date_format: str | None = None,
    locale: str | None = None,
) -> ImportReport:
    """Validate every row, then record the good ones concurrently. See the module docstring.

    ``allow_likely_duplicates`` records rows that look like a refund already recorded instead of holding them back;
    ``duplicate_days`` is the window (default ``REFUNDKIT_DUPLICATE_DAYS``, else 7; 0 turns the check off).
    ``date_format`` (``dd/mm/yyyy`` or ``mm/dd/yyyy``) says how the file writes dates when its dates do not;
    ``locale`` is the store's (default ``REFUNDKIT_STORE_LOCALE``), the date order when neither says."""
    days = duplicate_window_days() if duplicate_days is None else duplicate_days
    file = name or (str(source) if not isinstance(source, bytes) else "the file")
    parsed, warnings, dialect = _read_csv(source, name)
    if locale is None:
        locale = getattr(ledger.client.settings, "store_locale", None)
    parsed, dialect, warning = _read_dialect(parsed, dialect, file, date_format=date_format, locale=locale)
    report = ImportReport(
        file=file, dry_run=dry_run, warnings=warnings + ([warning] if warning else []), dialect=dialect
    )
    now = ledger.clock()
    rows = {
        line: ImportRow(
            line,
            row.get("order_id", ""),
            row.get("__typed_amount__", row.get("amount", "")),
            row.get("source", ""),
            row.get("external_ref", ""),
            refunded_at=row.get("__typed_date__", row.get("refunded_at", "")),
        )
        for line, row in parsed
    }
    items: list[tuple[ImportRow, RefundInput | None, dict[str, Any]]] = []
    # the rows that passed every check that needs no VTEX call, with their refund id
    live: list[tuple[ImportRow, RefundInput, dict[str, Any], str]] = []
    for group in _group_rows(parsed):
        line, head_row = group[0]
        r = rows[line]
        for other, _ in group[1:]:
            rows[other].part_of = r
        if "__error__" in head_row:
            r.outcome, r.message = REFUSED, f"line {line} {head_row['__error__']}"
            items.append((r, None, {}))
            continue
        row, refused = _combine(group)
        if refused:
            r.outcome, r.message = REFUSED, "; ".join(refused)
            items.append((r, None, {}))
            continue
        raw = RefundInput(
            row["order_id"],
            row["amount"],
            row["source"],
            row["external_ref"],
            reason=row.get("reason", ""),
            note=row.get("note", ""),
            refunded_at=row.get("refunded_at") or None,
            currency=row.get("currency") or None,
            items=row["__items__"],
            shipping=row["__shipping__"],
            restock=row["__restock__"],
        )
        oid, clean, problems = check_refund(
            raw, now=now, extra_sources=ledger.extra_sources, store_tz=ledger.store_tz, date_required=True
        )
        r.order_id = oid or r.order_id
        if problems:
            r.outcome, r.message = REFUSED, "; ".join(problems)
        else:
            r.entry_id = refund_id(r.order_id, clean["source"], clean["external_ref"])
            live.append((r, raw, clean, r.entry_id))
        items.append((r, raw, clean))

    order_ids = list(dict.fromkeys(r.order_id for r, _, _, _ in live))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        heads = dict(zip(order_ids, pool.map(_safe(ledger.order_ledger), order_ids), strict=True))
        # each order's entries indexed once: a row is looked up, never searched for
        index = {o: {e.entry_id: e for e in h.entries} for o, h in heads.items() if isinstance(h, OrderLedger)}
        # rows already in their order's ledger need no order; the others are checked against it
        need = list(
            dict.fromkeys(
                r.order_id for r, _, _, _ in live if r.order_id in index and r.entry_id not in index[r.order_id]
            )
        )
        orders = dict(zip(need, pool.map(_safe(ledger.client.orders.get), need), strict=True))

    grouped = {r.part_of.line for r in rows.values() if r.part_of is not None}  # first rows of several-row refunds
    accepted: dict[str, list[tuple[ImportRow, RefundInput, dict[str, Any]]]] = {}
    seen: dict[str, tuple[ImportRow, Any]] = {}
    offline: dict[str, Money] = {}  # running offline total per order: the ledger's plus the rows accepted above
    running: dict[str, OrderLedger] = {}  # each order's ledger with the rows accepted above
    # per order and amount: its refunds not reversed, then the rows accepted above (the likely-duplicate candidates)
    same_amount: dict[str, dict[Money, list[LedgerEntry]]] = {}
    existing_rows: list[tuple[ImportRow, LedgerEntry]] = []
    for r, raw, clean, entry_id in live:
        head = heads[r.order_id]
        if isinstance(head, Exception):
            r.outcome, r.message = _unread(f"the ledger of order {r.order_id}", head)
            continue
        existing = index[r.order_id].get(entry_id)
        order = orders.get(r.order_id)
        if existing is not None:
            _judge_existing(r, raw, existing, grouped)
            if r.outcome == ALREADY:
                existing_rows.append((r, existing))
            continue
        if isinstance(order, Exception):
            r.outcome, r.message = _unread(f"order {r.order_id}", order)
            continue
        assert isinstance(order, Order)
        if entry_id in seen:
            first, amount = seen[entry_id]
            named = other_currency(raw, order.currency)
            proposed, _ = (None, None) if named else parse_refund_amount(raw, order.currency)
            if named:
                r.outcome, r.message = (
                    REFUSED,
                    f"repeats line {first.line} (same order, source and reference) but in {named}: check the row",
                )
            elif proposed is not None and proposed != amount:
                r.outcome, r.message = (
                    REFUSED,
                    (
                        f"repeats line {first.line}'s order, source and reference with a different amount "
                        f"({proposed} vs {amount}): check the row"
                    ),
                )
            else:
                r.outcome = REFUSED
                r.message = (
                    f"repeats line {first.line}: same order, amount, source and reference (only line {first.line} "
                    "counts)"
                )
                r.money = first.money
            continue
        so_far = offline.get(r.order_id)
        if so_far is None:
            so_far = offline[r.order_id] = head.offline_refunded(order.currency)
        # the order's ledger with the refunds accepted on rows above: their units are taken too
        quote = build_quote(order, running.get(r.order_id, head), raw, clean, offline=so_far)
        if quote.problems:
            r.outcome, r.message = REFUSED, "; ".join(quote.problems)
            r.money = quote.proposed  # None when it could not be read, or the row named another currency
            continue
        entry = entry_from(raw, clean, quote, entry_id=entry_id, order_id=r.order_id, user=ledger.user, now=now)
        if r.line not in grouped:  # a refund of several rows keeps each row's amount as typed; its message says all
            r.amount, r.money = entry.amount.decimal_str(), entry.amount
        candidates = same_amount.get(r.order_id)
        if candidates is None:
            candidates = same_amount[r.order_id] = _refunds_by_amount(head)
        matches = likely_duplicates(
            candidates.get(entry.amount, ()),
            order_id=r.order_id,
            amount=entry.amount,
            source=entry.source,
            external_ref=entry.external_ref,
            refunded_at=entry.refunded_at,
            window_days=days,
        )
        flagged = ""
        if matches:
            r.likely_duplicate_of = tuple(e.entry_id for e in matches)
            shown = matches[:_SHOWN_DUPLICATES]
            earlier = "; ".join(
                f"{e.entry_id}: {text}"
                for e, text in zip(shown, DuplicateCheck(tuple(shown), days).describe(), strict=True)
            ) + (f"; and {len(matches) - len(shown)} more" if len(matches) > len(shown) else "")
            if not allow_likely_duplicates:
                r.outcome = HELD
                r.message = (
                    f"likely duplicate: order {r.order_id} already has a refund of {entry.amount} within {days} days "
                    f"under another reference ({earlier}); nothing written until it is confirmed as another refund"
                )
                continue
            flagged = f" (likely duplicate of {earlier}; recorded as confirmed)"
        offline[r.order_id] = so_far + entry.amount
        now_head = running.get(r.order_id, head)
        running[r.order_id] = replace(now_head, entries=(*now_head.entries, entry))
        seen[entry_id] = (r, quote.proposed)
        candidates.setdefault(entry.amount, []).append(entry)
        if dry_run:
            r.outcome, r.message = WOULD, f"{entry.amount} via {entry.source}{_what(entry)}{flagged}"
        else:
            accepted.setdefault(r.order_id, []).append((r, raw, clean))

    report.rows = list(rows.values())
    _check_pending(ledger, existing_rows, workers)
    if dry_run or not accepted:
        return _no_ids_unwritten(report)

    # before the first write: refuse the whole file, writing nothing, where exactly-once cannot hold
    ledger.require_exactly_once()
    total = sum(len(v) for v in accepted.values())
    done = [0]

    def record_group(order_id: str) -> None:
        order, head = orders[order_id], heads[order_id]
        assert isinstance(order, Order)
        assert isinstance(head, OrderLedger)
        for i, (r, raw, _) in enumerate(accepted[order_id]):
            try:
                result = ledger.record_input(raw, order=order, ledger=head if i == 0 else None)
                r.outcome = RECORDED if result.recorded_now else ALREADY
                r.entry_id = result.entry.entry_id
                r.pending = result.pending
                r.message = f"{result.entry.amount} via {result.entry.source}{_what(result.entry)}" + (
                    f" (pending: {', '.join(result.pending)}; run `refundkit reconcile`)" if result.pending else ""
                )
                if r.likely_duplicate_of and result.recorded_now:
                    r.message += f" (likely duplicate of {', '.join(r.likely_duplicate_of)}; recorded as confirmed)"
            except (RefundRefused, RefundConflict) as exc:
                r.outcome, r.message = REFUSED, str(exc)
            except RefundkitError as exc:
                # VTEX failed: the row may or may not be in the ledger; importing again finishes it exactly once
                r.outcome, r.message = FAILED, f"VTEX failed, import the file again to finish it: {exc}"
            done[0] += 1
            if progress:
                progress(done[0], total)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(record_group, list(accepted)))
    return _no_ids_unwritten(report)


def _no_ids_unwritten(report: ImportReport) -> ImportReport:
    """A row refused or held back was not written: it carries no entry id (its message names any entry it meets).
    A row that is part of a refund begun on a row above ends as that refund ends."""
    parts: dict[int, list[int]] = {}
    said = {r.line: r.message for r in report.rows}
    for r in report.rows:
        if r.part_of is not None:
            parts.setdefault(r.part_of.line, []).append(r.line)
    for r in report.rows:
        head = r.part_of
        if head is not None:
            r.outcome, r.entry_id, r.order_id = head.outcome, head.entry_id, head.order_id
            r.pending, r.likely_duplicate_of = head.pending, head.likely_duplicate_of
            r.message = f"one refund with line {head.line}: {said[head.line]}"
        elif r.line in parts:
            r.message += f" (one refund with line{'s' if len(parts[r.line]) > 1 else ''} " + (
                ", ".join(str(n) for n in parts[r.line]) + ")"
            )
        if r.outcome in (REFUSED, HELD):
            r.entry_id = None
    return report


def _what(entry: LedgerEntry) -> str:
    """``: 2 × Caneca Azul (SKU 346), shipping`` for a refund by item (the one wording), else nothing."""
    return f": {describe_lines(entry.lines)}" if entry.lines else ""


def _yes_no(text: str) -> bool | None:
    """A yes/no cell: True, False, or None when it says neither (an empty cell is None too)."""
    t = text.strip().lower()
    return True if t in _YES else False if t in _NO else None


def _group_rows(parsed: list[tuple[int, dict[str, str]]]) -> list[list[tuple[int, dict[str, str]]]]:
    """The file's refunds, each a list of its rows in file order. Rows naming an item or shipping (``sku`` or
    ``shipping``) with the same order, source and reference are one refund; every other row is one by itself (a
    second such row without an item is refused later as repeating the first)."""
    groups: list[list[tuple[int, dict[str, str]]]] = []
    by_refund: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in parsed:
        key = None
        names = row.get("sku", "").strip() or _ships(row.get("shipping", ""))
        if "__error__" not in row and names:
            source = check_source(row.get("source", ""))[0] or row.get("source", "").strip().lower()
            if row.get("external_ref", "").strip():
                key = refund_id(row.get("order_id", ""), source, row.get("external_ref", ""))
        if key is not None and key in by_refund:
            by_refund[key].append((line, row))
            continue
        groups.append([(line, row)])
        if key is not None:
            by_refund[key] = groups[-1]
    return groups


#: Fields the rows of one refund share: given on its first row, and on the others the same or left empty.
_SHARED = (("refunded_at", "__typed_date__"), ("currency", ""), ("reason", ""), ("note", ""), ("restock", ""))


def _combine(group: list[tuple[int, dict[str, str]]]) -> tuple[dict[str, Any], list[str]]:
    """One refund's rows as one row: its items (``SKU:QTY``, as ``--item`` takes them), its shipping (None: none;
    True: what is left of the order's; else the amount as read), its restock flag, and its amount (the rows' amounts
    added up, or empty for the price paid when no row gives one). Also every problem, each naming its line when
    the refund has several."""
    head_line, head = group[0]
    several = len(group) > 1
    row: dict[str, Any] = dict(head)
    problems: list[str] = []
    picks: list[tuple[int, str, str]] = []  # (line, SKU[:QTY], its amount)
    shipping: Any = None
    shipping_line: int | None = None
    amounts: list[str] = []
    for line, r in group:
        where = f"line {line}: " if several else ""
        if "__error__" in r:
            problems.append(f"line {line} {r['__error__']}")
            continue
        if "__refused__" in r:
            problems.append(where + r["__refused__"])
        sku, qty = r.get("sku", "").strip(), r.get("quantity", "").strip()
        if qty and not sku:
            problems.append(f"{where}quantity {clip(qty)} names no item: give the item's SKU in the sku column")
        elif sku:
            picks.append((line, f"{sku}:{qty}" if qty else sku, r.get("amount", "").strip()))
        cell = r.get("shipping", "").strip()
        if _ships(cell):
            if shipping_line is not None:
                problems.append(
                    f"{where}shipping is given on line {shipping_line} already: give it on one row of the refund"
                )
            else:
                shipping, shipping_line = (True if _yes_no(cell) else cell), line
        restock = r.get("restock", "").strip()
        if restock and _yes_no(restock) is None:
            problems.append(f"{where}restock {clip(restock)} is not yes or no")
        amounts.append(r.get("amount", "").strip())
        for name, typed in _SHARED:
            value = r.get(name, "").strip()
            if not value or line == head_line:
                continue
            if not str(row.get(name, "")).strip():
                row[name] = value
            elif value != str(row[name]).strip():
                shown = r.get(typed or name, value)
                problems.append(
                    f"line {line} gives {name} {clip(shown)} and line {head_line} another: the rows of one refund "
                    f"(same order, source and reference) give the same {name}, or leave it empty after the first"
                )
    given = [a for a in amounts if a]
    if given and len(given) != len(amounts):
        problems.append(
            "give an amount on every row of this refund or on none (none: the price paid for its items and shipping)"
        )
    elif len(given) > 1:
        try:
            row["amount"] = str(sum((Decimal(a) for a in given), Decimal(0)))
        except ArithmeticError:  # an amount that is no number: the rules refuse it, naming it
            row["amount"] = next(a for a in given if not _is_number(a))
        else:  # each row keeps its own amount: the item's on its line, the shipping's on its own
            shipping = _own_shipping(group, shipping, shipping_line, problems)
    own = several and len(given) == len(amounts)
    row["__items__"] = tuple(
        _pick(line, text, amount if own else None, line == shipping_line) for line, text, amount in picks
    )
    row["__shipping__"] = shipping
    row["__restock__"] = _yes_no(str(row.get("restock", ""))) if picks else None
    return row, list(dict.fromkeys(problems))


def _pick(line: int, text: str, amount: str | None, ships: bool) -> ItemPick | str:
    """A row's item as a pick naming its line, with the row's own amount when each row keeps its own (and the
    shipping's too when it is on that row); the text as typed when it is no pick (the rules refuse it, naming it)."""
    try:
        pick = parse_pick(text)
    except RefundRefused:
        return text
    return replace(pick, amount=amount, where=f"line {line}", ships=ships and amount is not None)


def _own_shipping(group: list[tuple[int, dict[str, str]]], shipping: Any, line: int | None, problems: list[str]) -> Any:
    """The shipping of a refund whose rows each keep their amount: on a row without an item, that row's amount (at
    most the amount its shipping cell gives); else as the cell says, its row's amount covering item and shipping."""
    row = next((r for n, r in group if n == line), None)
    if row is None or row.get("sku", "").strip():
        return shipping
    amount = row.get("amount", "").strip()
    if shipping is not True and Decimal(amount) > Decimal(str(shipping)):
        problems.append(
            f"line {line}: amount {clip(amount)} is more than its shipping {clip(str(shipping))}: give at most that"
        )
    return amount


def _ships(cell: str) -> bool:
    """Whether a ``shipping`` cell (its amount already read as ``1234.56``) refunds shipping: not when it is empty,
    says no, or is zero (a spreadsheet fills the column with 0 on the rows without shipping)."""
    text = cell.strip()
    if not text or _yes_no(text) is False:
        return False
    return not (_is_number(text) and Decimal(text) == 0)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


#: The columns of the result CSV, in order.
RESULT_COLUMNS = (
    "line",
    "order_id",
    "amount",
    "currency",
    "refunded_at",
    "source",
    "external_ref",
    "outcome",
    "message",
    "entry_id",
)


def result_csv(report: ImportReport) -> bytes:
    """The per-row result of an import (or of its check) as CSV in the upload's own dialect — its separator, decimal
    mark, date format and encoding, with a byte-order mark where it had one — so it opens cleanly in the same
    spreadsheet. Amounts read are written in the file's decimal mark; other values as typed, made inert for a
    spreadsheet."""
    dialect = report.dialect
    out = io.StringIO()
    writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for r in report.rows:
        d = r.as_dict()
        if r.money is not None:
            d["amount"] = dialect.amount(r.money)
        writer.writerow([_cell(d[c]) for c in RESULT_COLUMNS])
    return dialect.encode(out.getvalue())


def _cell(value: Any) -> str | int:
    """A CSV cell: the line number as a number, any text made inert for a spreadsheet."""
    if isinstance(value, int):
        return value
    return neutralise_formula("" if value is None else str(value))


#: A held row's message names at most this many of the earlier entries it likely duplicates.
_SHOWN_DUPLICATES = 3


def _refunds_by_amount(head: OrderLedger) -> dict[Money, list[LedgerEntry]]:
    """The order's refunds that are not reversed, by amount: a row is compared only with those of its amount."""
    reversed_ids = {e.reverses for e in head.entries if e.kind == "reversal"}
    out: dict[Money, list[LedgerEntry]] = {}
    for e in head.entries:
        if e.kind == "refund" and e.entry_id not in reversed_ids:
            out.setdefault(e.amount, []).append(e)
    return out


def _unread(what: str, exc: Exception) -> tuple[ImportOutcome, str]:
    """A row whose order or ledger could not be read: refused when the order does not exist, failed (to be
    retried) when VTEX failed."""
    if isinstance(exc, NotFound) or "does not exist" in str(exc):
        return REFUSED, f"{what} does not exist on this VTEX account"
    if isinstance(exc, VtexError):
        return FAILED, f"could not read {what} (VTEX failed; import the file again): {exc}"
    return REFUSED, f"could not read {what}: {exc}"


def _check_pending(ledger: Ledger, rows: list[tuple[ImportRow, LedgerEntry]], workers: int) -> None:
    """Rows already in the ledger: say which still lack their order note or entry document (read by id, exact)."""
    if not rows:
        return

    def status(entry_id: str) -> dict[str, Any] | Exception | None:
        try:
            return ledger.client.masterdata.get(ledger.entity, entry_id, fields=["id", "noteStatus"])
        except RefundkitError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        docs = list(pool.map(status, [e.entry_id for _, e in rows]))
    for (r, _), doc in zip(rows, docs, strict=True):
        if isinstance(doc, Exception):
            r.message += f" (could not check its note and entry document: {doc})"
        elif doc is None:
            r.pending = (Pending.NOTE, Pending.DOCUMENT)
        elif doc.get("noteStatus") == NoteStatus.PENDING or not doc.get("noteStatus"):
            r.pending = (Pending.NOTE,)
        if r.pending:
            r.message += f"; still pending: {', '.join(r.pending)} (run `refundkit reconcile`)"


def _judge_existing(r: ImportRow, raw: RefundInput, existing: LedgerEntry, grouped: set[int]) -> None:
    """A row whose refund is in its order's ledger already: already recorded, or refused where the row says
    another currency, amount or items."""
    currency = (raw.currency or "").strip().upper()
    if currency and currency != existing.amount.currency:
        r.outcome = REFUSED
        r.message = (
            f"already recorded as {existing.entry_id} in {existing.amount.currency}, but this row says "
            f"{currency}: check the row"
        )
        return
    amount, problem = parse_refund_amount(raw, existing.amount.currency)
    if problem is None and amount != existing.amount:
        r.outcome = REFUSED
        r.message = (
            f"already recorded as {existing.entry_id} for {existing.amount}, not {amount}: reverse it and "
            "record the right amount with a new reference"
        )
    elif raw.by_item and _named(raw, existing) != _named_lines(existing):
        r.outcome = REFUSED
        what = describe_lines(existing.lines) if existing.lines else "an amount, no items"
        r.message = (
            f"already recorded as {existing.entry_id} with {what}, not the items of this row: reverse it and "
            "record the right items with a new reference"
        )
    else:
        r.outcome, r.message = ALREADY, f"already recorded as {existing.entry_id}{_what(existing)}"
        if r.line not in grouped:  # a refund of several rows keeps each row's amount as typed
            r.money = existing.amount


def _named(raw: RefundInput, existing: LedgerEntry) -> list[tuple[str, int]]:
    """The SKUs and units a refund's input names (a line's uniqueId or ``SKU#N`` read as its SKU), and ``shipping``
    when it names the shipping, in order, to set beside an entry's lines."""
    by_unique = {x.unique_id.lower(): x.sku for x in existing.lines if x.unique_id}
    out = []
    for pick in raw.items:
        p = parse_pick(pick)
        sel = p.selector.strip()
        out.append((by_unique.get(sel.lower(), sel.partition("#")[0]), p.quantity))
    if raw.shipping is not None and raw.shipping is not False:
        out.append(("shipping", 0))
    return sorted(out)


def _named_lines(entry: LedgerEntry) -> list[tuple[str, int]]:
    return sorted(("shipping", 0) if x.kind == SHIPPING else (x.sku, x.quantity) for x in entry.lines)


def _safe(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    def call(arg: str) -> Any:
        try:
            return fn(arg)
        except RefundkitError as exc:
            return exc

    return call
