"""The gross-versus-net explorer of notebook 02 (and the web app's Report tab): pick any range, the period, the view
and the currency; what the store lacks is synced first, with the store's progress bar; the chart, the whole table
in money, and buttons that download the table as CSV or XLSX follow.

It holds no business rules: the figures are :func:`refundkit.analytics.report.gross_vs_net_report`'s, the files
:mod:`refundkit.analytics.export`'s, the chart :func:`refundkit.present.charts.gross_vs_net_chart`. Driven without a
browser like the other forms (``explorer.first_day.value = date(...)`` redraws).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from html import escape
from typing import Any

import ipywidgets as w

from ..analytics.engine import REVENUE_SCHEMA
from ..analytics.export import export_csv, export_xlsx
from ..analytics.report import Report, gross_vs_net_report
from ..analytics.revenue import PERIODS
from ..errors import RefundkitError
from ..timeutil import utc_now, zone
from .capture import run_with_bars
from .charts import gross_vs_net_chart
from .htmltable import download_link, money_table

__all__ = ["RevenueExplorer"]

ReportFn = Callable[..., Report]

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the explorer --------------------------------------------------------------------------------------------------
class RevenueExplorer:
    """Gross versus net over any range. Child widgets: ``first_day``, ``last_day``, ``period``, ``attribution``,
    ``currency``, ``scale``, ``message``, ``progress`` (the sync's bar), ``chart``, ``table``, ``downloads``.
    ``report`` (the :class:`~refundkit.analytics.report.Report` shown), ``figure`` and ``csv_bytes`` /
    ``xlsx_bytes`` are the latest.

    Changing the range syncs what the store lacks (VTEX is asked only for what changed); changing the period or
    the view re-reads the store; changing the currency or the scale only redraws.
    """

    def __init__(
        self,
        source: Any,
        *,
        first: date | None = None,
        last: date | None = None,
        tz: str = "UTC",
        period: str = "week",
        attribution: str = "refund_date",
        report: ReportFn = gross_vs_net_report,
    ) -> None:
        zone(tz)
        self.source = source
        self.tz = tz
        self._report_fn = report
        self.report: Report | None = None
        self._quiet = False
        self.figure: Any = None
        self.csv_bytes = b""
        self.xlsx_bytes = b""
        today = utc_now().in_zone(tz).to_datetime().date()
        last = last or today
        first = first or last - timedelta(days=90)
        wide = {"description_width": "initial"}
        self.first_day = w.DatePicker(description="From", value=first, style=wide)
        self.last_day = w.DatePicker(description="To (inclusive)", value=last, style=wide)
        self.period = w.Dropdown(options=list(PERIODS), value=period, description="Period")
        self.attribution = w.ToggleButtons(
            options=[("By refund date (cash)", "refund_date"), ("By order date (cohort)", "order_date")],
            value=attribution,
            description="Refunds",
        )
        self.currency = w.Dropdown(options=["—"], value="—", description="Currency")
        self.scale = w.Dropdown(
            options=[("clip days far above the rest", "clip"), ("logarithmic", "log"), ("linear", "linear")],
            value="clip",
            description="Scale",
        )
        self.message = w.HTML()
        self.progress = w.Output()
        self.chart = w.Output()
        self.table = w.HTML()
        self.downloads = w.HTML()
        for widget, css in (
            (self.first_day, "refundkit-first-day"),
            (self.last_day, "refundkit-last-day"),
            (self.period, "refundkit-period"),
            (self.attribution, "refundkit-attribution"),
            (self.currency, "refundkit-currency"),
            (self.scale, "refundkit-scale"),
            (self.message, "refundkit-explorer-message"),
            (self.progress, "refundkit-progress"),
            (self.chart, "refundkit-chart"),
            (self.table, "refundkit-report-table"),
            (self.downloads, "refundkit-downloads"),
        ):
            widget.add_class(css)
        self.first_day.observe(self._range_changed, names="value")
        self.last_day.observe(self._range_changed, names="value")
        self.period.observe(self._view_changed, names="value")
        self.attribution.observe(self._view_changed, names="value")
        self.currency.observe(self._redraw, names="value")
        self.scale.observe(self._redraw, names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.first_day, self.last_day]),
                w.HBox([self.period, self.currency, self.scale]),
                self.attribution,
                self.progress,
                self.message,
                self.chart,
                self.downloads,
                self.table,
            ]
        )
        self.widget.add_class("refundkit-revenue-explorer")
        self.refresh(sync=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- reacting to the controls ------------------------------------------------------------------------------
    def _range_changed(self, _change: Any = None) -> None:
        self.refresh(sync=True)

    def _view_changed(self, _change: Any = None) -> None:
        self.refresh(sync=False)

    def refresh(self, *, sync: bool = True) -> None:
        """Make the report for the current controls (syncing the range first when ``sync``) and show it."""
        first, last = self.first_day.value, self.last_day.value
        if first is None or last is None or first > last:
            self.message.value = _note("Pick a first day on or before the last day.", error=True)
            return
        self.message.value = _note(f"Reading {first} to {last}…")
        try:
            report = run_with_bars(  # the store's tqdm bars show while it syncs
                self.progress,
                lambda: self._report_fn(
                    self.source,
                    first,
                    last,
                    by=self.period.value,
                    attribution=self.attribution.value,
                    tz=self.tz,
                    sync=sync,
                ),
            )
        except RefundkitError as exc:
            self.message.value = _note(str(exc), error=True)
            return
        except Exception as exc:
            self.message.value = _note(f"Unexpected error ({type(exc).__name__}: {exc}). Please report it.", error=True)
            return
        self.report = report
        self._files()
        currencies = report.currencies or ["—"]
        keep = self.currency.value if self.currency.value in currencies else currencies[0]
        self._quiet = True  # the currency list changes: redraw once, below
        try:
            if list(self.currency.options) != currencies:
                self.currency.options = currencies
            self.currency.value = keep
        finally:
            self._quiet = False
        notes = list(report.warnings)
        if report.sync is not None:
            notes.append(report.sync.summary())
        self.message.value = "".join(_note(n) for n in notes)
        self._redraw()

    def _files(self) -> None:
        assert self.report is not None
        stem = (
            f"refundkit-gross-vs-net-{self.first_day.value}-{self.last_day.value}-by-{self.period.value}-"
            f"{self.attribution.value.replace('_', '-')}"
        )
        text = export_csv(self.report)
        self.csv_bytes = (text or "").encode("utf-8")
        buffer = io.BytesIO()
        export_xlsx(self.report, buffer)
        self.xlsx_bytes = buffer.getvalue()
        self.downloads.value = download_link(self.csv_bytes, f"{stem}.csv", "text/csv", "Download CSV") + download_link(
            self.xlsx_bytes, f"{stem}.xlsx", _XLSX, "Download XLSX"
        )

    def _redraw(self, _change: Any = None) -> None:
        if self.report is None or self._quiet:
            return
        rows = self.report.rows
        currency = self.currency.value
        self.figure = gross_vs_net_chart(
            rows, currency, attribution=self.attribution.value, tz=self.tz, scale=self.scale.value
        )
        self.table.value = money_table(
            rows.select(_TABLE_COLUMNS),
            caption=f"Every row of the report ({', '.join(self.report.currencies) or 'no currency'}; "
            "currencies never added); the downloads hold exactly these rows.",
        ).html
        # Replace the Output's content in one state update: no blank moment, and the
        # same code works with or without a kernel.
        self.chart.outputs = (_display_data(self.figure),)


_TABLE_COLUMNS: Sequence[str] = tuple(REVENUE_SCHEMA)


def _note(text: str, *, error: bool = False) -> str:
    color = "#b00020" if error else "#333"
    return f'<div style="color:{color}">{escape(text)}</div>'


def _display_data(figure: Any) -> dict[str, Any]:
    title = figure.layout.title.text or "plotly figure"
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.plotly.v1+json": {**json.loads(figure.to_json()), "config": {}},
            "text/plain": f"<Figure: {title}>",
        },
    }
