"""Rows out as CSV, JSON or an aligned text table.

CSV is opened in spreadsheets, so every text cell goes through :func:`refundkit.textsafety.neutralise_formula`;
the ``numeric`` columns (amounts) are numbers and are written as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..money import format_minor
from ..textsafety import inert_json, neutralise_formula

if TYPE_CHECKING:  # types only: a command that shows no ledger entry does not load the ledger
    from ..ledger.items import RefundLine
    from ..ledger.model import LedgerEntry

__all__ = ["ENTRY_COLUMNS", "MACHINE_COLUMNS", "entry_row", "lines_json", "rows_csv", "rows_xlsx", "write_rows"]


ENTRY_COLUMNS = [
    "entry_id",
    "order_id",
    "kind",
    "amount",
    "currency",
    "refunded_at",
    "source",
    "external_ref",
    "reason",
    "recorded_by",
    "recorded_at",
    "reverses",
    "note_status",
    "reversed",
    "items",
    "restock",
    "lines",
]
#: Columns for programs, not people: left out of the text table (CSV, JSON and XLSX keep them).
MACHINE_COLUMNS = ("lines",)


def lines_json(lines: Sequence[RefundLine], sign: int = 1) -> str:
    """An entry's lines for programs: a JSON array, one object a line, ``{"kind": "item" or "shipping", "sku",
    "unique_id", "name", "quantity" (0 for shipping), "amount"}``, the amount in the entry's currency as a decimal
    (``"163.90"``, as the ``amount`` column writes it, so ``sign`` -1 for a reversal, whose lines take back its
    refund's); ``""`` for an entry without lines (an amount only)."""
    if not lines:
        return ""
    return json.dumps(
        [
            {
                "kind": x.kind,
                "sku": x.sku,
                "unique_id": x.unique_id,
                "name": x.name,
                "quantity": x.quantity,
                "amount": format_minor(sign * x.amount.minor, x.amount.currency),
            }
            for x in lines
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _describe(lines: Sequence[RefundLine]) -> str:
    from ..ledger.items import describe_lines  # noqa: PLC0415  (loads the ledger only where an entry is shown)

    return describe_lines(lines)


def entry_row(e: LedgerEntry, tz: str, reversed_: bool = False) -> dict[str, Any]:
    """A ledger entry as a row of ``refundkit refunds`` and the desk's Refunds exports: amounts signed (a reversal
    is negative), times in ``tz``, ``reversed`` yes/no for a refund; ``items`` what was refunded in words
    (:func:`refundkit.ledger.items.describe_lines`, empty for an amount only), ``restock`` yes/no (empty: not
    said), ``lines`` the same lines for programs (:func:`lines_json`)."""
    return {
        "entry_id": e.entry_id,
        "order_id": e.order_id,
        "kind": e.kind,
        "amount": format_minor(e.signed.minor, e.amount.currency),
        "currency": e.amount.currency,
        "refunded_at": e.refunded_at.in_zone(tz).isoformat(digits=3),
        "source": e.source,
        "external_ref": e.external_ref,
        "reason": e.reason,
        "recorded_by": e.recorded_by,
        "recorded_at": e.recorded_at.in_zone(tz).isoformat(digits=3),
        "reverses": e.reverses or "",
        "note_status": e.note_status,
        "reversed": "yes" if reversed_ else ("no" if e.kind == "refund" else ""),
        "items": _describe(e.lines) if e.lines else "",
        "restock": "" if e.restock is None else ("yes" if e.restock else "no"),
        "lines": lines_json(e.lines, -1 if e.kind == "reversal" else 1),
    }


def write_rows(
    out: TextIO,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    numeric: Iterable[str] = (),
    *,
    headers: Sequence[str] | None = None,
    totals: Sequence[dict[str, Any]] = (),
    machine: Iterable[str] = (),
) -> None:
    """``rows`` in ``fmt``. A table shows ``headers`` (words) over the columns when given, and ``totals`` under a
    rule after the rows (the row count counts the rows only), and leaves out the ``machine`` columns (for programs,
    such as :data:`MACHINE_COLUMNS`); CSV and JSON keep the column names."""
    numeric = set(numeric)
    if fmt == "table" and machine:
        kept = [i for i, c in enumerate(columns) if c not in set(machine)]
        columns = [columns[i] for i in kept]
        headers = [headers[i] for i in kept] if headers else None
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_cell(r.get(c), c in numeric) for c in columns])
    elif fmt == "json":
        text = json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, ensure_ascii=False)
        out.write(inert_json(text))  # the same JSON, with DEL and C1 controls escaped: safe on a terminal
        out.write("\n")
    elif fmt == "table":

        def as_text(r: dict[str, Any]) -> list[str]:
            return [str(r.get(c) if r.get(c) is not None else "") for c in columns]

        cells, under = [as_text(r) for r in rows], [as_text(r) for r in totals]
        names = list(headers or columns)
        widths = [max([len(h)] + [len(row[i]) for row in cells + under]) for i, h in enumerate(names)]

        def line(values: Sequence[str]) -> str:
            return "  ".join(
                v.rjust(w) if c in numeric else v.ljust(w) for v, w, c in zip(values, widths, columns, strict=True)
            ).rstrip()

        rule = "  ".join("-" * w for w in widths) + "\n"
        out.write(line(names) + "\n")
        out.write(rule)
        for row in cells:
            out.write(line(row) + "\n")
        if under:
            out.write(rule)
            for row in under:
                out.write(line(row) + "\n")
        out.write(f"({len(rows):,} row{'s' if len(rows) != 1 else ''})\n")
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(f"unknown format {fmt!r}")


def _csv_cell(value: Any, numeric: bool) -> Any:
    if value is None:
        return ""
    if numeric or not isinstance(value, str):
        return value
    return neutralise_formula(value)


def rows_xlsx(rows: Sequence[dict[str, Any]], columns: Sequence[str], numeric: Iterable[str] = ()) -> bytes:
    """The rows as an Excel workbook (one sheet, a bold header): numbers stay numbers, every text cell is written as
    text, made inert first (:func:`refundkit.textsafety.neutralise_formula`)."""
    import xlsxwriter  # noqa: PLC0415  (only XLSX output needs it)

    numeric = set(numeric)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Rows")
    bold = wb.add_format({"bold": True, "bottom": 1})
    ws.write_row(0, 0, list(columns), bold)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(columns):
            v = r.get(c)
            if c in numeric and v not in (None, ""):
                ws.write_number(i, j, float(v))
            else:
                ws.write_string(i, j, neutralise_formula("" if v is None else str(v)))
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def rows_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str], numeric: Iterable[str] = ()) -> bytes:
    """The rows as UTF-8 CSV with a byte-order mark (spreadsheets), text cells made inert, as ``--format csv``."""
    out = io.StringIO()
    write_rows(out, rows, columns, "csv", numeric=numeric)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
