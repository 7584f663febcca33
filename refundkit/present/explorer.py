"""Gross versus net revenue for any range, as a chart, a table in money and downloads: notebook 02's explorer and
the desk's Report tab are this one widget.

Pick the range (local days, both included), the period, how refunds are attributed (by refund date: the cash view;
by order date: the cohort view), the time zone, the currency and the chart's scale. What the store lacks is synced
first, with the store's progress bars under the controls (the first report of a range reads every order, minutes on
a large store). The chart and the table show one currency (never adding two); the downloads hold every currency.

In a notebook it redraws as the controls change (``live=True``, the default): a new range or time zone syncs what
the store lacks, a new period or view re-reads the store, a new currency or scale only redraws. In the desk
(``live=False``) nothing is read until "Show report" is pressed; the button is there in a notebook too, to read the
range again. Driven without a browser like the other forms (``explorer.first_day.value = date(...)``).

A click on a row of the table opens what makes up that period (:meth:`RevenueExplorer.open_detail`): its orders,
each linked to its page in the VTEX Admin, and its refunds, the lines added up to the row's figures, with CSV and
XLSX downloads (the list ``refundkit report --detail PERIOD`` gives). After an error, nothing of the previous report
stays on screen: the message says what went wrong, and the chart, the table and the downloads are cleared.

It holds no business rules: the figures are :func:`refundkit.analytics.report.gross_vs_net_report`'s (a period's
lines :func:`~refundkit.analytics.report.report_detail`'s), the files :mod:`refundkit.analytics.export`'s and their
names :mod:`refundkit.analytics.filenames`', the chart :func:`refundkit.present.charts.gross_vs_net_chart`'s; the
calls to analytics are in :meth:`RevenueExplorer._read`, :meth:`RevenueExplorer.open_detail` and :func:`_files` only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from typing import Any

import ipywidgets as w
import polars as pl

from ..analytics import PERIODS
from ..analytics.engine import COMPARISONS, PRESETS, REVENUE_SCHEMA, preset_days, today_in
from ..analytics.export import export_csv, export_xlsx
from ..analytics.filenames import detail_days, detail_file_name, report_file_name
from ..analytics.report import Report, ReportDetail, gross_vs_net_report, report_detail
from ..analytics.sources import REFUND_COLUMNS, SOURCES
from ..analytics.split import SPLIT_COLUMNS
from ..analytics.totals import header
from ..money import format_money
from ..timeutil import Instant, utc_now, zone
from ..vtex.oms import admin_order_url
from .capture import run_with_bars
from .charts import gross_split_chart, gross_vs_net_chart
from .formkit import (
    CSV,
    XLSX,
    Form,
    download_link,
    failure_text,
    local_time,
    no_command_line,
    store_zone,
    time_zone_picker,
)
from .htmltable import money_table

__all__ = ["RevenueExplorer"]

ReportFn = Callable[..., Report]

_SHOW, _SHOWING = "Show report", "Reading…"
_TABLE_COLUMNS: tuple[str, ...] = tuple(c for c in REVENUE_SCHEMA if c not in SPLIT_COLUMNS)
_COMPARE_TABLE = (
    "compare_period",
    "compare_orders",
    "compare_gross_minor",
    "gross_change_minor",
    "gross_change_pct",
    "compare_net_minor",
    "net_change_minor",
    "net_change_pct",
)
_CUSTOM = "custom"
#: The "Range" control: the dates as picked, or a named range (analytics.engine.PRESETS).
_RANGE_LABELS = {
    "this-month": "This month (to date)",
    "last-month": "Last month",
    "last-quarter": "Last quarter",
    "ytd": "Year to date",
    "last-12-months": "Last 12 months",
}
#: The "Compare with" control's first choice (a value of None would show as an empty box).
_NO_COMPARISON = "none"
_COMPARE_LABELS = {"previous": "The period before", "last-year": "The same period last year"}


class RevenueExplorer(Form):
    """Gross versus net over any range. Controls ``range_preset`` (a named range, which sets the two days),
    ``first_day``, ``last_day``, ``period``, ``attribution``, ``compare``, ``tz_picker``, ``currency``, ``scale``,
    ``show_button``; outputs ``message``, ``progress`` (the sync's bars,
    while it runs), ``chart``, ``table``, ``downloads``, ``detail`` (a period's orders and refunds, opened by a click
    on its row). ``report`` (the :class:`~refundkit.analytics.report.Report` shown), ``rows``, ``figure`` and
    ``csv_bytes`` / ``xlsx_bytes`` are the latest; ``opened`` is the period opened
    (:class:`~refundkit.analytics.report.ReportDetail`).
    ``source`` is a session (``refundkit.connect()``); ``report`` replaces the report's function (tests);
    ``clock`` gives "now" (named ranges and the period under way; tests pin it).
    """

    def __init__(
        self,
        source: Any,
        *,
        first: date | None = None,
        last: date | None = None,
        tz: str | None = None,
        period: str = "week",
        attribution: str = "refund_date",
        live: bool = True,
        report: ReportFn | None = None,
        clock: Callable[[], Instant] = utc_now,
    ) -> None:
        tz = store_zone(getattr(source, "ledger", None), tz)  # None: the store's zone
        zone(tz)
        self.clock = clock
        self.source = source
        self.live = live
        self._report_fn = report
        self._busy = False
        self._quiet = False
        self._setting_days = False  # a named range is setting both days: one reading, not two
        self.report: Report | None = None
        self.figure: Any = None
        self.csv_bytes = b""
        self.xlsx_bytes = b""
        self.opened: ReportDetail | None = None
        last = last or today_in(tz, clock())
        first = first or last - timedelta(days=90)
        style = {"description_width": "8em"}
        self.first_day = w.DatePicker(description="From", value=first, style=style)
        self.last_day = w.DatePicker(description="To (included)", value=last, style=style)
        self.period = w.Dropdown(options=list(PERIODS), value=period, description="Period", style=style)
        self.attribution = w.Dropdown(
            options=[("By refund date (cash view)", "refund_date"), ("By order date (cohort view)", "order_date")],
            value=attribution,
            description="Attribution",
            style=style,
            layout=w.Layout(width="24em"),
        )
        self.range_preset = w.Dropdown(
            options=[("Dates as picked", _CUSTOM), *((_RANGE_LABELS.get(p, p), p) for p in PRESETS)],
            value=_CUSTOM,
            description="Range",
            style=style,
        )
        self.compare = w.Dropdown(
            options=[("No comparison", _NO_COMPARISON), *((_COMPARE_LABELS.get(c, c), c) for c in COMPARISONS)],
            value=_NO_COMPARISON,
            description="Compare with",
            style=style,
            layout=w.Layout(width="24em"),
        )
        self.tz_picker = time_zone_picker(tz, style)
        self.currency = w.Dropdown(options=[], description="Currency", style=style)
        self.scale = w.Dropdown(
            options=[("clip days far above the rest", "clip"), ("logarithmic", "log"), ("linear", "linear")],
            value="clip",
            description="Scale",
            style=style,
        )
        self.split = w.Checkbox(
            value=False,
            description="Split gross and refunds (items, discounts, shipping, tax…)",
            indent=False,
            layout=w.Layout(width="30em"),
        )
        self.show_button = w.Button(description=_SHOW, button_style="primary")
        self.message = w.HTML()
        self.progress = w.Output()
        self.chart = w.Output()
        self.table = w.HTML()
        self.downloads = w.HTML()
        self.detail = w.HTML()
        # a click on a row writes its period here (the row's own script): the page's one way to tell the kernel
        self.row_click = w.Text(layout=w.Layout(display="none"))
        for widget, css in (
            (self.first_day, "refundkit-first-day"),
            (self.last_day, "refundkit-last-day"),
            (self.period, "refundkit-period"),
            (self.range_preset, "refundkit-range"),
            (self.compare, "refundkit-compare"),
            (self.attribution, "refundkit-attribution"),
            (self.currency, "refundkit-currency"),
            (self.scale, "refundkit-scale"),
            (self.split, "refundkit-split"),
            (self.show_button, "refundkit-report-show"),
            (self.message, "refundkit-report-message"),
            (self.progress, "refundkit-report-progress"),
            (self.chart, "refundkit-report-chart"),
            (self.table, "refundkit-report-rows"),
            (self.downloads, "refundkit-report-downloads"),
            (self.detail, "refundkit-report-detail"),
            (self.row_click, _ROW_CLICK),
        ):
            widget.add_class(css)
        self.show_button.on_click(self.show)
        for control in (self.first_day, self.last_day):
            control.observe(self._days_changed, names="value")
        self.tz_picker.observe(self._zone_changed, names="value")
        self.range_preset.observe(self._preset_changed, names="value")
        self.compare.observe(self._range_changed, names="value")
        self.period.observe(self._view_changed, names="value")
        self.attribution.observe(self._view_changed, names="value")
        self.currency.observe(self._redraw, names="value")
        self.currency.observe(self._close_detail, names="value")
        self.row_click.observe(self._row_clicked, names="value")
        self.scale.observe(self._redraw, names="value")
        self.split.observe(self._redraw, names="value")
        self.widget = w.VBox(
            [
                w.HTML(
                    "<h3>Gross versus net revenue</h3><p>Gross: orders created in the range (canceled, "
                    "payment-pending and never-a-sale orders left out; an order whose status refundkit does not know "
                    "is counted and named below). Net: gross minus VTEX refunds (return invoices) and offline "
                    "refunds, net of reversals. One currency at a time; the downloads hold every currency.</p>"
                ),
                w.HBox([self.range_preset, self.first_day, self.last_day]),
                w.HBox([self.period, self.attribution]),
                w.HBox([self.compare, self.split]),
                w.HBox([self.tz_picker, self.currency, self.scale]),
                self.show_button,
                self.message,
                self.progress,
                self.chart,
                self.table,
                self.downloads,
                self.detail,
                self.row_click,
            ]
        )
        self.widget.add_class("refundkit-report-form")
        self.widget.add_class("refundkit-revenue-explorer")
        if live:
            self.refresh(sync=True)

    @property
    def tz(self) -> str:
        return str(self.tz_picker.value)

    @property
    def rows(self) -> pl.DataFrame | None:
        return None if self.report is None else self.report.rows

    # -- reacting to the controls ----------------------------------------------------------------------------------
    def _sync(self, _change: Any = None) -> None:
        self.show_button.disabled = False

    def _range_changed(self, _change: Any = None) -> None:
        if self.live and not self._setting_days:
            self.refresh(sync=True)

    def _days_changed(self, _change: Any = None) -> None:
        """A day picked by hand: the range is the dates as picked."""
        if not self._setting_days and self.range_preset.value != _CUSTOM:
            self._setting_days = True
            try:
                self.range_preset.value = _CUSTOM
            finally:
                self._setting_days = False
        self._range_changed()

    def _zone_changed(self, _change: Any = None) -> None:
        """A named range is taken in the time zone: a new zone can move its days (and a day's figures)."""
        if self.range_preset.value != _CUSTOM:
            self._preset_changed()
        else:
            self._range_changed()

    def _preset_changed(self, _change: Any = None) -> None:
        """A named range sets both days (one reading, not two)."""
        name = str(self.range_preset.value)
        if self._setting_days or name == _CUSTOM:
            return
        first, last = preset_days(name, today_in(self.tz, self.clock()))
        self._setting_days = True
        try:
            self.first_day.value, self.last_day.value = first, last
        finally:
            self._setting_days = False
        self._range_changed()

    def _view_changed(self, _change: Any = None) -> None:
        if self.live:
            self.refresh(sync=False)

    def show(self, _button: Any = None) -> None:
        """The "Show report" button: sync the range and show the report (a second click meanwhile is ignored)."""
        self.guarded(self.show_button, _SHOWING, lambda: self.refresh(sync=True))

    def refresh(self, *, sync: bool = True) -> None:
        """Make the report for the current controls (syncing the range first when ``sync``) and show it."""
        first: date | None = self.first_day.value
        last: date | None = self.last_day.value
        if first is None or last is None or first > last:
            self._fail("Pick a first day on or before the last day.")
            return
        self.message.value = f"<div>Reading the orders and refunds from {first} to {last}…</div>"
        try:
            report = run_with_bars(self.progress, lambda: self._read(first, last, sync))  # the store's bars show
            csv_bytes, xlsx_bytes = _files(report)
        except Exception as exc:
            self._fail(failure_text(exc))
            return
        self.report, self.csv_bytes, self.xlsx_bytes = report, csv_bytes, xlsx_bytes
        self._close_detail()
        self.downloads.value = download_link(
            csv_bytes, filename=report_file_name(report, "csv"), label="Download CSV", mime=CSV
        ) + download_link(xlsx_bytes, filename=report_file_name(report, "xlsx"), label="Download XLSX", mime=XLSX)
        currencies = list(report.currencies)
        keep = self.currency.value if self.currency.value in currencies else (currencies[0] if currencies else None)
        self._quiet = True  # the currency list changes: draw once, below
        try:
            with self.currency.hold_sync():  # options and choice reach the browser together
                self.currency.options = currencies
                self.currency.value = keep
        finally:
            self._quiet = False
        notes = [no_command_line(x) for x in report.warnings]
        if report.sync is not None:
            notes.append(report.sync.summary())
        self.message.value = (
            "<ul class='refundkit-warnings'>" + "".join(f"<li>{escape(x)}</li>" for x in notes) + "</ul>"
            if notes
            else ""
        )
        if not currencies:
            self.message.value += f"<div>No orders or refunds from {first} to {last} ({escape(self.tz)}).</div>"
            self.chart.outputs = ()
            self.table.value = ""
            return
        self._redraw()

    def _fail(self, text: str) -> None:
        """Say what went wrong, and clear the previous report: what stays on screen is never a report of other
        controls than those shown."""
        self.message.value = f"<div class='refundkit-refused'>{escape(text)}</div>"
        self.report, self.figure, self.csv_bytes, self.xlsx_bytes = None, None, b"", b""
        self.chart.outputs = ()
        self.table.value = self.downloads.value = ""
        self._close_detail()

    def _read(self, first: date, last: date, sync: bool) -> Report:
        """The report for the controls: the one call to analytics that reads."""
        fn = self._report_fn or gross_vs_net_report
        return fn(
            self.source,
            first,
            last,
            by=self.period.value,
            attribution=self.attribution.value,
            tz=self.tz,
            compare=None if self.compare.value == _NO_COMPARISON else self.compare.value,
            now=self.clock(),
            sync=sync,
            progress=True,
            keep_orders=True,  # a click on a period lists its orders
        )

    def _redraw(self, _change: Any = None) -> None:
        if self.report is None or self._quiet or not self.currency.value:
            return
        rows, currency = self.report.rows, str(self.currency.value)
        self.figure = gross_vs_net_chart(
            rows, currency, attribution=str(self.attribution.value), tz=self.tz, scale=self.scale.value
        )
        # replaced in one state update: no blank moment, and the same code works with or without a kernel
        charts = [_display_data(self.figure)]
        if self.split.value:
            charts.append(_display_data(gross_split_chart(rows, currency)))
        self.chart.outputs = tuple(charts)
        caption = f"The report in {currency}; the downloads hold every currency (never added together)."
        if self.report.running:
            caption += " A period marked (to date) is still under way."
        if self.report.compared:
            p = self.report.parameters
            caption += (
                f" Compared with {p['compare_from']} to {p['compare_to']}, period by period; a change in percent of"
                " zero is n/a."
            )
        if self.split.value:
            caption += (
                " Gross split by VTEX's order totals (orders synced with details whose totals add up; the rest is"
                " under Gross not split) and refunds where VTEX or the refund's lines say what they were for."
            )
        shown = rows.filter(pl.col("currency") == currency).sort("period")
        caption += " Click a period to see its orders and refunds."
        self.table.value = money_table(
            _table_frame(shown, split=bool(self.split.value)),
            caption=caption,
            totals=True,
            row_attributes=_row_attributes(shown),
        ).html

    # -- a period's orders and refunds -----------------------------------------------------------------------------
    def _row_clicked(self, change: Any) -> None:
        period = str(change["new"] or "").split(" ")[0]
        if period:
            self.open_detail(period)

    def open_detail(self, period: date | str) -> None:
        """Show what makes up the row ``period`` (its first day) of the currency shown: its orders and refunds, and
        their sums (the row's figures), with CSV and XLSX downloads. What a click on the row does."""
        if self.report is None or not self.currency.value:
            return
        report = self.report
        try:
            detail = report_detail(report, period, str(self.currency.value))  # what `report --detail` reads
            csv_bytes, xlsx_bytes = _files(report, detail)
        except Exception as exc:
            self._close_detail()
            self.detail.value = f"<div class='refundkit-refused'>{escape(failure_text(exc))}</div>"
            return
        self.opened = detail
        links = download_link(
            csv_bytes, filename=detail_file_name(report, detail, "csv"), label="Download these (CSV)", mime=CSV
        ) + download_link(
            xlsx_bytes, filename=detail_file_name(report, detail, "xlsx"), label="Download these (XLSX)", mime=XLSX
        )
        admin = getattr(getattr(self.source, "settings", None), "admin_order_url", None)
        self.detail.value = _detail_html(report, detail, links, admin)

    def _close_detail(self, _change: Any = None) -> None:
        self.opened = None
        self.detail.value = ""


def _table_frame(rows: pl.DataFrame, *, split: bool = False) -> pl.DataFrame:
    """The rows as the table shows them: the period under way marked "(to date)", with ``split`` gross and refunds
    split by component, a comparison's columns after the figures with a percent of zero as n/a."""
    period = pl.col("period").cast(pl.String)
    if "partial" in rows.columns:
        period = pl.when(pl.col("partial")).then(period + " (to date)").otherwise(period)
    extra = [c for c in _COMPARE_TABLE if c in rows.columns]
    parts = list(SPLIT_COLUMNS) if split else []
    return rows.select(period.alias("period"), *_TABLE_COLUMNS[1:], *parts, *extra).with_columns(
        (pl.col(c).round(1).cast(pl.String) + "%").fill_null("n/a").alias(c) for c in extra if c.endswith("_pct")
    )


def _files(report: Report, detail: ReportDetail | None = None) -> tuple[bytes, bytes]:
    """The report (with ``detail``: that period's lines) as CSV and XLSX bytes: what the download links carry, the
    files ``refundkit report`` writes."""
    buffer = io.BytesIO()
    export_xlsx(report, buffer, detail=detail)
    return (export_csv(report, detail=detail) or "").encode("utf-8"), buffer.getvalue()


#: The hidden text box a row's click writes its period to.
_ROW_CLICK = "refundkit-report-row-click"
#: What a click (or Enter) on a row does in the page: write the row's period, and the moment, to that box.
_ROW_SCRIPT = (
    "var box=this.closest('.refundkit-revenue-explorer'),input=box&&box.querySelector('."
    + _ROW_CLICK
    + " input');if(input){input.value=this.dataset.period+' '+Date.now();"
    "input.dispatchEvent(new Event('change',{bubbles:true}));}"
)


def _row_attributes(rows: pl.DataFrame) -> list[str]:
    """Each row of the table clickable (and reachable with the keyboard): it opens its period."""
    return [
        f'class="refundkit-period-row" data-period="{d.isoformat()}" tabindex="0" style="cursor:pointer" '
        f'title="Show the orders and refunds of {d.isoformat()}" onclick="{escape(_ROW_SCRIPT)}" '
        "onkeydown=\"if(event.key==='Enter'){this.click();}\""
        for d in rows["period"].to_list()
    ]


#: At most this many orders and refunds are listed on the page; the downloads hold every one.
_SHOWN = 500
#: A refund line's kind in words: what VTEX refunded as the registry names it; an entry of the ledger plainly.
_KINDS = {s.key: s.label if s.kind == "native" else "offline refund" for s in SOURCES}


def _link(account: str | None, order_id: str, template: str | None) -> str:
    url = admin_order_url(account, order_id, template)
    if url is None:
        return escape(order_id)
    return (
        f"<a class='refundkit-admin-link' href='{escape(url)}' target='_blank' rel='noopener noreferrer' "
        f"style='color:#1565c0;text-decoration:underline' title='Open order {escape(order_id)} in the VTEX Admin'>"
        f"{escape(order_id)}</a>"
    )


def _when(value: Any, tz: str) -> str:
    """A line's time in the zone, to the minute (the zone is named once, above the tables)."""
    return "" if value is None else local_time(Instant.from_datetime(value), tz)


def _html_table(heading: str, css: str, head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """A small table whose cells are markup already (links), under ``heading``; its first rows only, the count
    said."""
    ths = "".join(
        f"<th style='text-align:{'right' if i in numeric else 'left'}'>{escape(h)}</th>" for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:{'right' if i in numeric else 'left'};white-space:nowrap'>{c}</td>"
            for i, c in enumerate(cells)
        )
        + "</tr>"
        for cells in rows[:_SHOWN]
    )
    more = f", the first {_SHOWN:,} shown (the downloads hold every one)" if len(rows) > _SHOWN else ""
    return (
        f"<h4 style='margin-bottom:0.2em'>{escape(heading)} ({len(rows):,}{more})</h4>"
        f"<div class='{css}' style='max-height:24em;overflow:auto'>"
        f"<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _detail_html(report: Report, detail: ReportDetail, links: str, admin: str | None) -> str:
    """A period's orders and refunds in words and money, their sums (the row's figures) first; each order linked to
    its page in the VTEX Admin (``admin``: the address's form, when the settings give one)."""
    p = report.parameters
    tz, account = str(p["tz"]), p.get("account")
    cur = detail.currency or ""
    first, last = detail_days(report, detail)
    days = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    view = "refund date" if p["attribution"] == "refund-date" else "order date"
    parts = []
    for r in detail.figures().iter_rows(named=True):  # one line per currency: never added together
        c = str(r["currency"])
        line = f"{r['orders']:,} orders: gross {format_money(r['gross_minor'], c)}"
        for col in REFUND_COLUMNS:
            line += f" {'−' if col.sign < 0 else '+'} {col.label} {format_money(r[col.name], c)}"
        parts.append(line + f" = net {format_money(r['net_minor'], c)}")
    sums_line = "; ".join(parts) or "no orders and no refunds"
    orders = [
        [
            _link(account, str(o["order_id"]), admin),
            escape(_when(o["created_at"], tz)),
            escape(str(o["status"])),
            escape(format_money(o["total_minor"], o["currency"])),
        ]
        for o in detail.orders.iter_rows(named=True)
    ]
    refunds = []
    for r in detail.refunds.iter_rows(named=True):
        kind = "reversal of an offline refund" if r["kind"] == "reversal" else _KINDS.get(r["refund_source"], r["kind"])
        refunds.append(
            [
                escape(_when(r["refunded_at"], tz)),
                _link(account, str(r["order_id"]), admin),
                escape(kind),
                escape(header(f"{r['column']}_minor")),
                escape(format_money(r["amount_minor"], r["currency"])),
                escape(str(r["source"] or "")),
                escape(str(r["reference"] or "")),
                escape(str(r["reason"] or "")),
            ]
        )
    return (
        f"<div class='refundkit-detail-head'><h3 style='margin-bottom:0.2em'>What makes up {escape(days)}"
        f"{' in ' + escape(cur) if cur else ''}</h3>"
        f"<p style='margin-top:0'>By {view}, times in {escape(tz)}. Added up, the period's row: "
        f"<b class='refundkit-detail-sums'>{escape(sums_line)}</b>. Each order opens in the VTEX Admin"
        f"{' of ' + escape(str(account)) if account else ''}.</p><p>{links}</p></div>"
        + _html_table(
            "Orders counted in gross", "refundkit-detail-orders", ["Order", "Created", "Status", "Total"], orders, {3}
        )
        + _html_table(
            "Refunds counted",
            "refundkit-detail-refunds",
            ["Refunded", "Order", "What", "Counted in", "Amount", "Source", "Reference", "Reason"],
            refunds,
            {4},
        )
    )


def _display_data(figure: Any) -> dict[str, Any]:
    """A plotly figure as an Output widget's content (rendered by JupyterLab and Voilà without a kernel round trip)."""
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.plotly.v1+json": {**json.loads(figure.to_json()), "config": {"displaylogo": False}},
            "text/plain": f"<Figure: {figure.layout.title.text or 'gross versus net chart'}>",
        },
    }
