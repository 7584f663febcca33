"""The Report tab of the refund desk: gross versus net revenue for a range, as a chart, a table and downloads.

Pick the range (local days, both included), the period, how refunds are attributed (by refund date: the cash view;
by order date: the cohort view), the time zone and the currency, and press "Show report". The chart and the table
show one currency (never adding two); the downloads hold every currency. While the orders of the range are read
(the first report of a range reads every order, minutes on a large store), the store's progress bars show under
the button.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from html import escape
from typing import Any

import ipywidgets as w
import polars as pl

from ..analytics import PERIODS
from ..analytics.export import export_csv, export_xlsx
from ..analytics.report import Report, gross_vs_net_report
from ..analytics.sources import REFUND_COLUMNS
from ..money import format_money
from ..timeutil import utc_now, zone
from .capture import run_with_bars
from .charts import gross_vs_net_chart
from .import_form import download_link
from .record_form import TIME_ZONES, _Form, _guarded, _no_command_line, failure_text

__all__ = ["ReportForm"]

_SHOW, _SHOWING = "Show report", "Reading…"
_MONEY_COLUMNS = (("gross_minor", "gross"), *((c.name, c.label) for c in REFUND_COLUMNS), ("net_minor", "net"))


def _table_html(table: pl.DataFrame, currency: str) -> str:
    part = table.filter(pl.col("currency") == currency).sort("period")
    head = "".join(
        f"<th style='text-align:right'>{escape(h)}</th>" for h in ("orders", *(n for _, n in _MONEY_COLUMNS))
    )
    rows = "".join(
        f"<tr><td>{r['period'].isoformat()}</td><td style='text-align:right'>{r['orders']}</td>"
        + "".join(
            f"<td style='text-align:right'>{escape(format_money(r[c], currency))}</td>" for c, _ in _MONEY_COLUMNS
        )
        + "</tr>"
        for r in part.iter_rows(named=True)
    )
    return f"<table class='refundkit-report-table'><tr><th>period</th>{head}</tr>{rows}</table>"


class ReportForm(_Form):
    """Controls ``first_day``, ``last_day``, ``period``, ``attribution``, ``tz_picker``, ``currency``,
    ``show_button``; outputs ``message``, ``progress`` (the sync's bars, while it runs), ``chart``, ``table``,
    ``downloads``; ``data``/``rows`` the latest."""

    def __init__(self, session: Any, *, tz: str = "UTC", days: int = 90, period: str = "week") -> None:
        zone(tz)
        self.session = session
        self._busy = False
        self._quiet = False
        self.report: Report | None = None
        self.rows: pl.DataFrame | None = None
        self.figure: Any = None
        today = utc_now().in_zone(tz).to_datetime().date()
        style = {"description_width": "8em"}
        self.first_day = w.DatePicker(description="From", value=today - timedelta(days=days), style=style)
        self.last_day = w.DatePicker(description="To (included)", value=today, style=style)
        self.period = w.Dropdown(options=list(PERIODS), value=period, description="Period", style=style)
        self.attribution = w.Dropdown(
            options=[("By refund date (cash view)", "refund_date"), ("By order date (cohort view)", "order_date")],
            value="refund_date",
            description="Attribution",
            style=style,
            layout=w.Layout(width="24em"),
        )
        zones = TIME_ZONES if tz in TIME_ZONES else (tz, *TIME_ZONES)
        self.tz_picker = w.Dropdown(options=zones, value=tz, description="Time zone", style=style)
        self.currency = w.Dropdown(options=[], description="Currency", style=style)
        self.show_button = w.Button(description=_SHOW, button_style="primary")
        self.message = w.HTML()
        self.progress = w.Output()
        self.chart = w.Output()
        self.table = w.HTML()
        self.downloads = w.HTML()
        for widget, css in (
            (self.show_button, "refundkit-report-show"),
            (self.message, "refundkit-report-message"),
            (self.progress, "refundkit-report-progress"),
            (self.chart, "refundkit-report-chart"),
            (self.table, "refundkit-report-rows"),
            (self.downloads, "refundkit-report-downloads"),
        ):
            widget.add_class(css)
        self.show_button.on_click(self.show)
        self.currency.observe(self._currency_changed, names="value")
        self.widget = w.VBox(
            [
                w.HTML(
                    "<h3>Gross versus net revenue</h3><p>Gross: orders created in the range (canceled, "
                    "payment-pending and never-a-sale orders left out; an order whose status refundkit does not know "
                    "is counted and named below). Net: gross minus VTEX refunds (return invoices) and offline "
                    "refunds, net of reversals. One currency at a time; the downloads hold every currency.</p>"
                ),
                w.HBox([self.first_day, self.last_day]),
                w.HBox([self.period, self.attribution]),
                w.HBox([self.tz_picker, self.currency]),
                self.show_button,
                self.message,
                self.progress,
                self.chart,
                self.table,
                self.downloads,
            ]
        )
        self.widget.add_class("refundkit-report-form")

    def _sync(self) -> None:
        self.show_button.disabled = False

    def show(self, _button: Any = None) -> None:
        """Read the orders and refunds of the range and show the report."""
        _guarded(self, self.show_button, _SHOWING, self._show)

    def _show(self) -> None:
        self.message.value = ""
        first: date | None = self.first_day.value
        last: date | None = self.last_day.value
        if first is None or last is None or first > last:
            self.message.value = "<div class='refundkit-refused'>Pick a first day on or before the last day.</div>"
            return
        tz = str(self.tz_picker.value)
        self.message.value = f"<div>Reading the orders and refunds from {first} to {last}…</div>"
        try:
            report = run_with_bars(  # the store's bars (tqdm's widgets in a kernel) show while it syncs
                self.progress,
                lambda: gross_vs_net_report(
                    self.session,
                    first,
                    last,
                    by=self.period.value,
                    attribution=self.attribution.value,
                    tz=tz,
                    progress=True,
                ),
            )
            xlsx = io.BytesIO()
            export_xlsx(report, xlsx)
            csv_text = export_csv(report) or ""
        except Exception as exc:
            self.message.value = f"<div class='refundkit-refused'>{escape(failure_text(exc))}</div>"
            return
        self.report, self.rows = report, report.rows
        self._tz, self._attribution = tz, str(self.attribution.value)
        currencies = report.currencies
        keep = self.currency.value if self.currency.value in currencies else (currencies[0] if currencies else None)
        self._quiet = True  # the currency list changes: draw once, below
        try:
            with self.currency.hold_sync():  # options and choice reach the browser together
                self.currency.options = currencies
                self.currency.value = keep
        finally:
            self._quiet = False
        stem = f"gross-vs-net-{first}-{last}-{self.period.value}"
        self.downloads.value = (
            download_link(csv_text.encode("utf-8"), f"{stem}.csv", "Download CSV", "text/csv")
            + " "
            + download_link(
                xlsx.getvalue(),
                f"{stem}.xlsx",
                "Download XLSX",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        )
        notes = "".join(f"<li>{escape(_no_command_line(x))}</li>" for x in report.warnings)
        self.message.value = f"<ul class='refundkit-warnings'>{notes}</ul>" if notes else ""
        if not currencies:
            self.message.value += f"<div>No orders or refunds from {first} to {last} ({escape(tz)}).</div>"
            self.chart.outputs = ()
            self.table.value = ""
            return
        self._draw()

    def _currency_changed(self, _change: Any) -> None:
        if not self._quiet:
            self._draw()

    def _draw(self) -> None:
        if self.rows is None or not self.currency.value:
            return
        cur = str(self.currency.value)
        self.figure = gross_vs_net_chart(self.rows, cur, attribution=self._attribution, tz=self._tz)
        self.chart.outputs = (_display_data(self.figure),)
        self.table.value = _table_html(self.rows, cur)


def _display_data(figure: Any) -> dict[str, Any]:
    """A plotly figure as an Output widget's content (rendered by JupyterLab and Voilà without a kernel round trip)."""
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.plotly.v1+json": {**json.loads(figure.to_json()), "config": {"displaylogo": False}},
            "text/plain": "gross versus net chart",
        },
    }
