"""Exports of a :class:`~refundkit.analytics.report.Report`: CSV, JSON, XLSX and Parquet.

* CSV: exactly the columns ``period,currency,orders,gross,native_refunds,offline_refunds,net`` then the split's
  (:data:`~refundkit.analytics.report.SPLIT_CSV_COLUMNS`), machine names, for scripts; amounts in major units with
  the currency's decimals, formatted from the integers. With ``with_totals``, one more row per currency whose period
  reads ``Total``.
* JSON: the rows and their totals per currency (amounts as exact decimal text and as integer minor units), the
  parameters, the definitions and the warnings.
* XLSX: one "Report BRL" sheet per currency (headers in words, money as numbers with the currency's format, header
  frozen, autofilter, a Total row of SUM formulas over exactly its rows), a "Definitions" sheet with the columns in
  words and the parameters, and with a drill-down "Detail orders" and "Detail refunds" sheets.
* Parquet: the rows with amounts in integer minor units, for further processing; parameters in the file's metadata.

Text a spreadsheet would run as a formula (a reference or a reason starting with ``=``, ``+``, ``-`` or ``@``) is
neutralised in CSV and XLSX by :func:`refundkit.textsafety.neutralise_formula`; amounts are numbers, never text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

import polars as pl

from ..money import currency_exponent, format_minor
from ..textsafety import neutralise_formula
from .report import Report, ReportDetail
from .sources import REFUND_COLUMNS
from .split import SPLIT_COLUMNS
from .totals import TERMS, TOTAL, display_totals, header, key_columns, summed_columns, totals

#: The amounts of a report row, as the stems of their ``*_minor`` columns: gross, each refund column, net, the split.
_AMOUNTS = ("gross", *(c.stem for c in REFUND_COLUMNS), "net", *(c[:-6] for c in SPLIT_COLUMNS if c.endswith("_minor")))
#: A comparison's amounts in integer minor units, in JSON beside their text.
_COMPARE_RAW = ("compare_gross_minor", "gross_change_minor", "compare_net_minor", "net_change_minor")

__all__ = [
    "DETAIL_COLUMNS",
    "export_csv",
    "export_json",
    "export_parquet",
    "export_xlsx",
    "report_json",
]

#: The CSV's amount columns: numbers written as text, never neutralised (a negative amount stays a number).
_TEXT_AMOUNTS = frozenset(_AMOUNTS)

#: One CSV for a drill-down: its orders then its refunds.
DETAIL_COLUMNS = (
    "line",
    "id",
    "order_id",
    "kind",
    "order_status",
    "order_created_at",
    "refunded_at",
    "currency",
    "amount",
    "column",
    "source",
    "reference",
    "reason",
)


def _text_out(target: str | Path | IO[str] | None) -> tuple[IO[str], bool]:
    if target is None:
        return io.StringIO(), True
    if isinstance(target, (str, Path)):
        return open(target, "w", encoding="utf-8", newline=""), True
    return target, False


def _safe(value: Any) -> Any:
    return neutralise_formula(value) if isinstance(value, str) else value


def detail_rows(detail: ReportDetail, tz: str = "UTC") -> list[dict[str, Any]]:
    """A drill-down as rows of :data:`DETAIL_COLUMNS`: each order, then each refund."""
    rows: list[dict[str, Any]] = []
    for o in detail.display_orders(tz):
        rows.append(
            {
                "line": "order",
                "id": o["order_id"],
                "order_id": o["order_id"],
                "kind": "order",
                "order_status": o["status"],
                "order_created_at": o["created_at"],
                "refunded_at": "",
                "currency": o["currency"],
                "amount": o["total"],
                "column": "gross",
                "source": "",
                "reference": "",
                "reason": "",
            }
        )
    for r in detail.display_refunds(tz):
        rows.append(
            {
                "line": "refund",
                "id": r["refund_id"],
                "order_id": r["order_id"],
                "kind": r["kind"],
                "order_status": r["order_status"],
                "order_created_at": r["order_created_at"],
                "refunded_at": r["refunded_at"],
                "currency": r["currency"],
                "amount": r["amount"],
                "column": r["column"],
                "source": r["source"],
                "reference": r["reference"],
                "reason": r["reason"],
            }
        )
    return rows


def export_csv(
    report: Report,
    target: str | Path | IO[str] | None = None,
    *,
    detail: ReportDetail | None = None,
    with_totals: bool = False,
) -> str | None:
    """Write the report (or, with ``detail``, that drill-down) as CSV to a path or a text stream; with no
    ``target``, return the text. With ``with_totals``, the rows are followed by one row per currency whose period
    reads ``Total`` (:func:`~refundkit.analytics.totals.totals`); without, the CSV is the rows only."""
    out, owned = _text_out(target)
    try:
        if detail is None:
            w = csv.DictWriter(out, fieldnames=report.columns, lineterminator="\n")
            w.writeheader()
            rows = report.display_rows()
            if with_totals:
                rows += display_totals(report.rows, report.columns)
            for row in rows:
                w.writerow({k: _safe(v) if k in ("period", "currency") else _csv_cell(v) for k, v in row.items()})
        else:
            w = csv.DictWriter(out, fieldnames=list(DETAIL_COLUMNS), lineterminator="\n")
            w.writeheader()
            for row in detail_rows(detail, report.parameters["tz"]):
                w.writerow({k: v if k == "amount" else _safe(v) for k, v in row.items()})
        if isinstance(out, io.StringIO) and target is None:
            return out.getvalue()
        return None
    finally:
        if owned and target is not None:
            out.close()


def _csv_cell(value: Any) -> Any:
    """A CSV cell: a yes/no as ``true``/``false``."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def report_json(report: Report, *, detail: ReportDetail | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict: ``parameters``, ``definitions``, ``warnings``, ``columns`` (and their
    ``headers`` in words), ``rows``, ``totals`` (one per currency, period ``Total``) and, when given, ``detail``."""
    rows = []
    for disp, raw in zip(report.display_rows(), report.rows.iter_rows(named=True), strict=True):
        rows.append(
            {
                **disp,
                "decimals": currency_exponent(raw["currency"]),
                **{f"{k}_minor": raw[f"{k}_minor"] for k in _AMOUNTS},
                **{k: raw[k] for k in _COMPARE_RAW if k in raw},
            }
        )
    sums = [
        {**disp, **{f"{k}_minor": raw[f"{k}_minor"] for k in _AMOUNTS}}
        for disp, raw in zip(
            display_totals(report.rows, report.columns), totals(report.rows).iter_rows(named=True), strict=True
        )
    ]
    body: dict[str, Any] = {
        "parameters": report.parameters,
        "definitions": report.definitions,
        "warnings": report.warnings,
        "columns": report.columns,
        "headers": [header(c) for c in report.columns],
        "rows": rows,
        "totals": sums,
    }
    if detail is not None:
        tz = report.parameters["tz"]
        body["detail"] = {
            "period": detail.period.isoformat(),
            "currency": detail.currency,
            "orders": detail.display_orders(tz),
            "refunds": detail.display_refunds(tz),
        }
    return body


def export_json(
    report: Report, target: str | Path | IO[str] | None = None, *, detail: ReportDetail | None = None
) -> str | None:
    text = json.dumps(report_json(report, detail=detail), indent=2, ensure_ascii=False) + "\n"
    if target is None:
        return text
    if isinstance(target, (str, Path)):
        Path(target).write_text(text, encoding="utf-8")
    else:
        target.write(text)
    return None


def export_parquet(report: Report, target: str | Path | IO[bytes]) -> None:
    """The rows (``period`` a date, amounts in integer minor units) with the parameters and definitions as the
    file's key-value metadata (``refundkit.parameters``, ``refundkit.definitions``)."""
    report.rows.write_parquet(
        target,
        metadata={
            "refundkit.parameters": json.dumps(report.parameters),
            "refundkit.definitions": report.definitions,
        },
    )


def _major_number(minor: int, currency: str) -> float:
    """The amount as the number a spreadsheet cell holds (spreadsheets store doubles); computed exactly as text
    first, so the cell shows exactly the integer amount."""
    return float(format_minor(minor, currency))


def money_formats(wb: Any) -> Any:
    """For a workbook, the cell format of a currency's amounts (``"BRL" #,##0.00``, with its decimals), made once
    per currency."""
    made: dict[str, Any] = {}

    def money(cur: str) -> Any:
        if cur not in made:
            exp = currency_exponent(cur)
            pattern = "#,##0" + ("." + "0" * exp if exp else "")
            made[cur] = wb.add_format({"num_format": f'"{cur}" {pattern};"{cur}" -{pattern}'})
        return made[cur]

    return money


def export_xlsx(report: Report, target: str | Path | IO[bytes], *, detail: ReportDetail | None = None) -> None:
    """An Excel workbook: "Report <currency>" per currency, "Definitions" and, with ``detail``, "Detail orders"
    and "Detail refunds"."""
    import xlsxwriter  # imported here: only XLSX exports need it

    wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        bold = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        money = money_formats(wb)

        _report_sheets(wb, report, bold, date_fmt, money)

        wd = wb.add_worksheet("Definitions")
        wd.write_row(0, 0, ["Column", "What it means"], bold)
        for i, (word, meaning) in enumerate(TERMS, start=1):
            wd.write_string(i, 0, word)
            wd.write_string(i, 1, meaning, wrap)
        top = len(TERMS) + 2
        wd.write_row(top, 0, ["parameter", "value"], bold)
        params = [(k, v) for k, v in report.parameters.items()]
        for i, (k, v) in enumerate(params, start=top + 1):
            text = ", ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v)
            wd.write_string(i, 0, k)
            wd.write_string(i, 1, neutralise_formula(text))
        row = top + len(params) + 2
        for w in report.warnings:
            wd.write_string(row, 0, "warning")
            wd.write_string(row, 1, neutralise_formula(w), wrap)
            row += 1
        row += 1
        wd.write_string(row, 0, "definitions", bold)
        for line in report.definitions.splitlines():
            row += 1
            wd.write_string(row, 0, neutralise_formula(line))
        wd.set_column(0, 0, 24)
        wd.set_column(1, 1, 100)
        wd.freeze_panes(1, 0)

        if detail is not None:
            tz = report.parameters["tz"]
            orders = detail.display_orders(tz)
            wo = wb.add_worksheet("Detail orders")
            ocols = ["order_id", "created_at", "status", "currency", "total"]
            _header(wo, ocols, bold)
            for i, (o, raw) in enumerate(zip(orders, detail.orders.iter_rows(named=True), strict=True), start=1):
                for j, c in enumerate(ocols[:4]):
                    wo.write_string(i, j, neutralise_formula(str(o[c])))
                wo.write_number(i, 4, _major_number(raw["total_minor"], raw["currency"]), money(raw["currency"]))
            _finish(wo, len(orders), len(ocols), [20, 26, 16, 9, 16])

            refunds = detail.display_refunds(tz)
            wr = wb.add_worksheet("Detail refunds")
            rcols = [
                "kind",
                "refund_id",
                "order_id",
                "order_created_at",
                "order_status",
                "refunded_at",
                "currency",
                "amount",
                "column",
                "source",
                "reference",
                "reason",
            ]
            _header(wr, rcols, bold)
            for i, (r, raw) in enumerate(zip(refunds, detail.refunds.iter_rows(named=True), strict=True), start=1):
                for j, c in enumerate(rcols):
                    if c == "amount":
                        wr.write_number(
                            i, j, _major_number(raw["amount_minor"], raw["currency"]), money(raw["currency"])
                        )
                    else:
                        wr.write_string(i, j, neutralise_formula(str(r[c])))
            _finish(wr, len(refunds), len(rcols), [14, 22, 20, 26, 14, 26, 9, 16, 16, 14, 22, 40])
    finally:
        wb.close()


def _report_sheets(wb: Any, report: Report, bold: Any, date_fmt: Any, money: Any) -> None:
    """One sheet per currency (and per account, or any other key column, when the rows have one): its rows under
    headers in words, then a Total row of ``SUM`` formulas over exactly those rows (their value stored too, for
    readers that do not calculate). No money column holds two currencies, so a SUM under it is always right."""
    from xlsxwriter.utility import xl_range

    columns = list(report.columns)
    rows = report.rows
    keys = key_columns(rows)
    groups = totals(rows).select(keys).iter_rows(named=True) if rows.height else iter(())
    total_fmt = wb.add_format({"bold": True, "top": 1})
    names: set[str] = set()
    written = False
    for group in groups:
        part = rows.filter(pl.all_horizontal([pl.col(k) == v for k, v in group.items()])).sort("period")
        ws = wb.add_worksheet(_sheet_name(["Report", *(str(group[k]) for k in keys)], names))
        _header(ws, [header(c) for c in columns], bold)
        cur = str(group["currency"])
        for i, r in enumerate(part.iter_rows(named=True), start=1):
            for j, c in enumerate(columns):
                _cell(ws, (i, j), c, r, date_fmt=date_fmt, money=money)
        last = part.height  # the rows are 1..last; the Total row is the next one
        [total] = totals(part).iter_rows(named=True)
        ws.write_string(last + 1, 0, TOTAL, total_fmt)
        for j, c in enumerate(columns[1:], start=1):
            name = f"{c}_minor" if f"{c}_minor" in total else c
            formula = f"=SUM({xl_range(1, j, last, j)})"
            if name.endswith("_minor"):
                ws.write_formula(last + 1, j, formula, money(cur), _major_number(total[name], cur))
            elif name in summed_columns(part):
                ws.write_formula(last + 1, j, formula, total_fmt, total[name])
            elif name in total:
                ws.write_string(last + 1, j, neutralise_formula(str(total[name])), total_fmt)
        _finish(ws, last, len(columns), [12, 9, 9, *(18 for _ in columns[3:])])
        written = True
    if not written:
        ws = wb.add_worksheet("Report")
        _header(ws, [header(c) for c in columns], bold)
        _finish(ws, 0, len(columns), [12, 9, 9, *(18 for _ in columns[3:])])


def _cell(ws: Any, at: tuple[int, int], column: str, row: dict[str, Any], *, date_fmt: Any, money: Any) -> None:
    """One cell of a report row: the period a date, an amount a number in its currency's format, a count a
    number, text made inert."""
    i, j = at
    cur = str(row["currency"])
    value = row.get(f"{column}_minor", row.get(column))
    if isinstance(value, date):  # the period, a comparison's period
        ws.write_datetime(i, j, _as_datetime(value), date_fmt)
    elif value is None:
        ws.write_blank(i, j, None)
    elif isinstance(value, bool):  # a period still under way
        ws.write_boolean(i, j, value)
    elif f"{column}_minor" in row:
        ws.write_number(i, j, _major_number(value, cur), money(cur))
    elif isinstance(value, (int, float)):
        ws.write_number(i, j, value)
    else:
        ws.write_string(i, j, neutralise_formula(str(value)))


def _sheet_name(parts: Sequence[str], taken: set[str]) -> str:
    """A sheet name from ``parts``: at most 31 characters, none of ``[]:*?/\\``, unique in the workbook."""
    base = "".join(ch for ch in " ".join(parts) if ch not in "[]:*?/\\")[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _as_datetime(d: Any) -> Any:
    from datetime import datetime

    return datetime(d.year, d.month, d.day)


def _header(ws: Any, columns: Sequence[str], fmt: Any) -> None:
    ws.write_row(0, 0, list(columns), fmt)


def _finish(ws: Any, rows: int, cols: int, widths: Sequence[int]) -> None:
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(rows, 1), cols - 1)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
