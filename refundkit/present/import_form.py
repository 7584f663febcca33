"""The Import form of the refund desk: upload a CSV of refunds, see every row checked, record the good ones.

1. Upload the file (or, in a notebook, ``form.load(path)``): every row is validated against its order and ledger
   without writing anything, and shown with what would happen to it.
2. Tick the confirmation and press "Record good rows": the good rows are recorded (exactly once: a row already
   recorded stays so), with a progress bar; refused rows are never written. Rows that look like a refund already
   recorded (the same order and amount under another reference within the ledger's window, as the Record tab
   warns) are held back with the earlier entry; they are recorded only after a second, explicit confirmation.
3. Download the per-row result as CSV.

Uses :func:`refundkit.ledger.import_refunds`, so it behaves like ``refundkit import``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..ledger import ImportReport, Ledger, import_refunds
from ..ledger.csvdialect import AmbiguousDates
from ..ledger.csvimport import ImportOutcome, ImportRow, result_csv
from ..ledger.duplicates import duplicate_window_days
from ..money import format_money
from .formkit import CSV, Form, download_link, failure_text, no_command_line

__all__ = ["UPLOAD_LIMIT_BYTES", "ImportForm", "report_csv", "upload_limit_text"]

#: The largest file the Import tab checks. The desk's page sends a bigger file empty with its real size (a file past
#: the websocket's largest message would cut the page's connection), and the tab refuses it by that size.
UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024

_RECORD, _RECORDING = "Record good rows", "Recording…"
_CONFIRM_TEXT = "I confirm these refunds went back to the customers outside VTEX"
_DUPLICATE_TEXT = "Yes, the rows held back are different refunds: record them too"
_DATES = (
    ("Dates: as the file shows them", None),
    ("Dates: day first (dd/mm/yyyy)", "dd/mm/yyyy"),
    ("Dates: month first (mm/dd/yyyy)", "mm/dd/yyyy"),
)


def upload_limit_text(size: int, name: str) -> str | None:
    """Why a file of ``size`` bytes is not checked, or None when it is small enough."""
    if size <= UPLOAD_LIMIT_BYTES:
        return None
    return (
        f"{name} is {size / 2**20:.1f} MiB; the desk takes files up to {UPLOAD_LIMIT_BYTES // 2**20} MiB. "
        "Split it into smaller files (keep the header line in each) and upload them one by one, or import it "
        "with refundkit import on the command line. Nothing was checked or recorded."
    )


def report_csv(report: ImportReport) -> bytes:
    """The per-row result of an import (or of its check) as CSV in the uploaded file's own separator, decimal mark,
    encoding and byte-order mark (:func:`refundkit.ledger.csvimport.result_csv`)."""
    return result_csv(report)


def _amount(r: ImportRow) -> str:
    """Money as money once the row's amount was read in its order's currency; as typed when it could not be read."""
    return format_money(r.money.minor, r.money.currency) if r.money is not None else r.amount


def _rows_html(report: ImportReport) -> str:
    colour = {
        "refused": "#b00020",
        "recorded": "#1b5e20",
        "already recorded": "#555",
        "would record": "#0d47a1",
        "likely duplicate": "#e65100",
    }
    head = "".join(
        f"<th style='text-align:left;padding-right:1em'>{h}</th>"
        for h in ("Line", "Order ID", "Amount", "Source", "External reference", "Outcome", "Why")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='padding-right:1em;white-space:nowrap'>{escape(str(v))}</td>"  # an ID or an amount: one line
            for v in (r.line, r.order_id, _amount(r))
        )
        + "".join(f"<td style='padding-right:1em'>{escape(str(v))}</td>" for v in (r.source, r.external_ref))
        + f"<td style='white-space:nowrap;color:{colour.get(str(r.outcome or ''), '#000')}'>"
        + f"<b>{escape(str(r.outcome or ''))}</b></td>"
        + f"<td>{escape(no_command_line(r.message))}</td></tr>"
        for r in report.rows
    )
    return f"<table class='refundkit-import-rows'><tr>{head}</tr>{body}</table>"


class ImportForm(Form):
    """Upload, check, record and download. Child widgets: ``upload``, ``summary``, ``rows``, ``confirm``,
    ``duplicate_confirm`` (shown when rows are held back as likely duplicates), ``record_button``, ``progress``,
    ``result``, ``download``; ``report`` is the latest check or import. ``duplicate_days`` is the likely-duplicate
    window (default ``REFUNDKIT_DUPLICATE_DAYS``, else 7)."""

    def __init__(self, ledger: Ledger, *, duplicate_days: int | None = None) -> None:
        self.ledger = ledger
        self.duplicate_days = duplicate_window_days() if duplicate_days is None else duplicate_days
        self._busy = False
        self._data: bytes | None = None
        self._name = ""
        self.report: ImportReport | None = None
        self.upload = w.FileUpload(accept=".csv,text/csv", multiple=False, description="Choose CSV file")
        #: how the file writes dates, for a file whose every date reads both ways (01/02/2026)
        self.date_format = w.Dropdown(options=_DATES, value=None, layout=w.Layout(width="auto"))
        self.summary = w.HTML()
        self.rows = w.HTML()
        self.confirm = w.Checkbox(description=_CONFIRM_TEXT, indent=False, layout=w.Layout(width="auto"))
        self.duplicate_confirm = w.Checkbox(
            description=_DUPLICATE_TEXT, indent=False, layout=w.Layout(width="auto", display="none")
        )
        self.record_button = w.Button(description=_RECORD, button_style="primary", disabled=True)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="Recorded", layout=w.Layout(display="none"))
        self.result = w.HTML()
        self.download = w.HTML()
        for widget, css in (
            (self.upload, "refundkit-upload"),
            (self.date_format, "refundkit-import-dates"),
            (self.summary, "refundkit-import-summary"),
            (self.rows, "refundkit-import-table"),
            (self.confirm, "refundkit-import-confirm"),
            (self.duplicate_confirm, "refundkit-import-duplicate-confirm"),
            (self.record_button, "refundkit-import-record"),
            (self.progress, "refundkit-import-progress"),
            (self.result, "refundkit-import-result"),
            (self.download, "refundkit-import-download"),
        ):
            widget.add_class(css)
        self.upload.observe(self._uploaded, names="value")
        self.date_format.observe(self._dates_chosen, names="value")
        self.confirm.observe(self._sync, names="value")
        self.duplicate_confirm.observe(self._sync, names="value")
        self.record_button.on_click(self.record)
        self.widget = w.VBox(
            [
                w.HTML(
                    "<h3>Import refunds from a CSV file</h3><p>Columns <code>order_id, amount, refunded_at, source, "
                    "external_ref, reason</code> (optional <code>currency, note</code>). To refund by item, add "
                    "<code>sku, quantity</code> (and <code>shipping</code>: an amount, or yes for what is left; "
                    "<code>restock</code>: yes or no), a row per item: rows with the same order, source and "
                    "reference are one refund, and an empty amount is the price paid. Comma or semicolon; a decimal "
                    "point or comma; dates as 2026-03-01, 01/03/2026 or 03/01/2026, read as the file's own dates show. "
                    "The result comes back written the same way. Every row is checked first and nothing is written "
                    "until you record. A file imported twice records nothing new. Files up to "
                    f"{UPLOAD_LIMIT_BYTES // 2**20} MiB.</p>"
                ),
                self.upload,
                self.date_format,
                self.summary,
                self.rows,
                self.confirm,
                self.duplicate_confirm,
                self.record_button,
                self.progress,
                self.result,
                self.download,
            ]
        )
        self.widget.add_class("refundkit-import-form")

    # -- state ---------------------------------------------------------------------------------------------------
    def _good_rows(self) -> int:
        """Rows the record button would record: the good ones, and the held ones once they are confirmed."""
        if self.report is None or not self.report.dry_run:
            return 0
        held = self.report.held if self.duplicate_confirm.value else 0
        return self.report.count(ImportOutcome.WOULD_RECORD) + held

    def _sync(self, _change: Any = None) -> None:
        if not self._busy:
            self.record_button.disabled = not (self.confirm.value and self._good_rows())

    def _uploaded(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        name = str(f.get("name") or "the file")
        # the desk's page sends a file past the limit empty, with its real size (desk_server.UPLOAD_GUARD)
        too_big = upload_limit_text(max(len(f["content"]), int(f.get("size") or 0)), name)
        if too_big is not None:
            self._reset()
            self.summary.value = f"<div class='refundkit-refused'>{escape(too_big)}</div>"
            return
        self.load(bytes(f["content"]), name)

    def _dates_chosen(self, _change: Any) -> None:
        """Another date order chosen: check the file again, read so."""
        if self._data is not None and not self._busy:
            self.load(self._data, self._name)

    # -- actions -------------------------------------------------------------------------------------------------
    def load(self, source: bytes | str | Path, name: str | None = None) -> None:
        """Check a file (its bytes, or a path): every row validated, nothing written. Replaces what was shown."""
        if isinstance(source, (str, Path)):
            path = Path(source)
            name = name or path.name
            try:
                source = path.read_bytes()
            except OSError as exc:
                self._reset()
                why = escape(exc.strerror or str(exc))
                self.summary.value = f"<div class='refundkit-refused'>Cannot read {escape(str(path))}: {why}.</div>"
                return
        self._reset()
        self._data, self._name = source, name or "the file"
        try:
            report = import_refunds(
                self.ledger,
                source,
                dry_run=True,
                name=self._name,
                duplicate_days=self.duplicate_days,
                date_format=self.date_format.value,
            )
        except AmbiguousDates as exc:  # kept, so that choosing the date order checks it again
            self.summary.value = (
                f"<div class='refundkit-refused'><b>{escape(self._name)}</b>: every date in it reads both as "
                f"day/month and as month/day (such as {escape(exc.example)} on line {exc.line}), so nothing was "
                "read. Choose how the file writes dates above: day first or month first.</div>"
            )
            return
        except Exception as exc:
            self._data = None
            self.summary.value = (
                f"<div class='refundkit-refused'><b>{escape(self._name)}</b>: {escape(failure_text(exc))}</div>"
            )
            return
        self.report = report
        good = report.count(ImportOutcome.WOULD_RECORD)
        words = [
            f"{len(report.rows)} rows",
            f"{good} would be recorded",
            f"{report.count(ImportOutcome.ALREADY_RECORDED)} already recorded",
            f"{report.refused} refused",
        ]
        if report.held:
            words.append(f"{report.held} held back as likely duplicates")
        html = f"<div><b>{escape(self._name)}</b>: {', '.join(words)}. Nothing is written yet.</div>"
        if report.warnings:
            html += "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in report.warnings) + "</ul>"
        if report.refused:
            html += "<div>Refused rows are never recorded: fix them in the file and upload it again.</div>"
        if report.held:
            self.duplicate_confirm.layout.display = ""
            html += (
                "<div class='refundkit-duplicate'>Rows held back look like a refund already recorded: the same order "
                f"and amount under another reference within {self.duplicate_days} days (each names the earlier "
                "entry). If they are the same refunds, they are already recorded: leave them. If they are different "
                f"refunds, tick <b>{escape(_DUPLICATE_TEXT)}</b> too.</div>"
            )
        self.summary.value = html
        self.rows.value = _rows_html(report)
        self.download.value = download_link(
            report_csv(report), filename=_result_name(self._name, "check"), label="Download the check (CSV)", mime=CSV
        )
        self._sync()

    def _reset(self) -> None:
        self._data, self.report = None, None
        self.summary.value = self.rows.value = self.result.value = self.download.value = ""
        self.confirm.value = self.duplicate_confirm.value = False
        self.duplicate_confirm.layout.display = "none"
        self.progress.layout.display = "none"
        self._sync()

    def record(self, _button: Any = None) -> None:
        """Record the good rows of the checked file, showing progress; then the per-row result."""
        self.guarded(self.record_button, _RECORDING, self._record)

    def _record(self) -> None:
        self.result.value = ""
        if self._data is None or not self._good_rows() or not self.confirm.value:
            return
        self.progress.value, self.progress.max = 0, max(1, self._good_rows())
        self.progress.layout.display = ""

        def progress(done: int, total: int) -> None:
            self.progress.max = max(1, total)
            self.progress.value = done

        try:
            report = import_refunds(
                self.ledger,
                self._data,
                name=self._name,
                progress=progress,
                allow_likely_duplicates=self.duplicate_confirm.value,
                duplicate_days=self.duplicate_days,
                date_format=self.date_format.value,
            )
        except Exception as exc:
            self.result.value = f"<div class='refundkit-refused'>{escape(failure_text(exc))}</div>"
            return
        self.progress.value = self.progress.max
        self.report = report
        self.confirm.value = self.duplicate_confirm.value = False
        self.duplicate_confirm.layout.display = "none"
        self.rows.value = _rows_html(report)
        self.summary.value = ""
        held = f", {report.held} held back as likely duplicates" if report.held else ""
        self.result.value = (
            f"<div class='refundkit-done'><b>Import finished</b>: {report.count(ImportOutcome.RECORDED)} recorded, "
            f"{report.count(ImportOutcome.ALREADY_RECORDED)} already recorded, {report.refused} refused{held} "
            "(refused and held rows were not written).</div>"
        )
        self.download.value = download_link(
            report_csv(report), filename=_result_name(self._name, "result"), label="Download the result (CSV)", mime=CSV
        )


def _result_name(name: str, what: str) -> str:
    stem = Path(name).stem or "import"
    return f"{stem}-{what}.csv"
