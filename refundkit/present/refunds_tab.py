"""The Refunds tab of the refund desk: every recorded offline refund and reversal, newest first, filtered, paged,
exported, and reversible by a recorder.

It reads through :func:`refundkit.ledger.list_entries`, the listing ``refundkit refunds`` uses, one page at a time.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

import ipywidgets as w

from ..errors import RefundkitError
from ..ledger import KNOWN_SOURCES, ListedEntry, RefundPage, RefundQuery, RefundRefused, list_all, list_entries
from ..ledger.model import REFUND
from ..timeutil import local_day_bounds
from .formkit import (
    CSV,
    XLSX,
    Form,
    ReversalPanel,
    download_link,
    entry_amount,
    entry_items,
    failure_text,
    local_time,
    money,
    refused_html,
    store_zone,
)
from .tables import ENTRY_COLUMNS, entry_row, rows_csv, rows_xlsx

__all__ = ["RefundsTab"]

PAGE_SIZE = 50
#: The most entries one export holds (read a thousand at a time); a wider list asks for narrower filters.
EXPORT_MAX = 50_000
_ANY, _YES, _NO = "any", "reversed", "not reversed"
_HEAD = ("When", "Order", "Amount", "Items", "Source", "Reference", "Reason", "Recorder", "Reversed", "")
_GRID = "9.5em 10.5em 8em minmax(8em, 1fr) 7.5em 9.5em minmax(8em, 1fr) 5em 6em 7em"


class RefundsTab(Form):
    """The list and its filters. ``read_only`` (why this person writes nothing, or None) hides the reverse buttons;
    the server refuses a reversal from a viewer anyway.

    Child widgets: ``first_day``, ``last_day``, ``recorder``, ``source``, ``reversed``, ``search``, ``show_button``,
    ``previous_button``, ``next_button``, ``status``, ``grid``, ``export_button``, ``downloads``, ``message``; the
    reversal panel: ``reverse_text``, ``reverse_reason``, ``reverse_button``, ``cancel_reverse``."""

    def __init__(self, ledger: Any, *, tz: str | None = None, read_only: str | None = None) -> None:
        self.ledger = ledger
        self.tz = store_zone(ledger, tz)
        self.read_only = read_only
        self._busy = False
        self.page_number = 1
        self.page: RefundPage | None = None
        self.first_day = w.DatePicker(description="Since")
        self.last_day = w.DatePicker(description="Until")
        self.recorder = w.Text(description="Recorder", placeholder="anyone")
        sources = ["", *KNOWN_SOURCES, *getattr(ledger, "extra_sources", ())]
        self.source = w.Dropdown(description="Source", options=[(s or "any", s) for s in sources], value="")
        self.reversed = w.Dropdown(description="Reversed", options=[_ANY, _YES, _NO], value=_ANY)
        self.search = w.Text(description="Search", placeholder="order id or reference")
        self.show_button = w.Button(description="Show", button_style="primary")
        self.previous_button = w.Button(description="‹ Newer", disabled=True)
        self.next_button = w.Button(description="Older ›", disabled=True)
        self.status = w.HTML()
        self.message = w.HTML()
        self.grid = w.GridBox([], layout=w.Layout(grid_template_columns=_GRID, grid_gap="0.1em 0.6em"))
        self.export_button = w.Button(description="Export CSV and XLSX", layout=w.Layout(width="13em"))
        self.downloads = w.HTML()
        self.reversal = ReversalPanel(self, self.reverse, label="Reversal reason", style={"description_width": "8em"})
        self.reverse_text, self.reverse_reason = self.reversal.text, self.reversal.reason
        self.reverse_button, self.cancel_reverse = self.reversal.button, self.reversal.cancel
        self.reverse_panel = self.reversal.box
        for widget, css in (
            (self.show_button, "refundkit-refunds-show"),
            (self.export_button, "refundkit-refunds-export"),
            (self.reverse_panel, "refundkit-refunds-reverse"),
            (self.reverse_button, "refundkit-refunds-reverse-button"),
            (self.grid, "refundkit-refunds-list"),
            (self.status, "refundkit-refunds-status"),
        ):
            widget.add_class(css)
        self.show_button.on_click(lambda _b: self.show())
        self.previous_button.on_click(lambda _b: self.show(self.page_number - 1))
        self.next_button.on_click(lambda _b: self.show(self.page_number + 1))
        self.export_button.on_click(lambda _b: self.export())
        self.widget = w.VBox(
            [
                w.HBox([self.first_day, self.last_day, self.reversed]),
                w.HBox([self.recorder, self.source, self.search]),
                w.HBox([self.show_button, self.previous_button, self.next_button, self.export_button]),
                self.message,
                self.status,
                self.reverse_panel,
                self.grid,
                self.downloads,
            ]
        )
        self.widget.add_class("refundkit-refunds")

    def _sync(self, _change: Any = None) -> None:
        self.reversal.sync()

    # -- the query -----------------------------------------------------------------------------------------------
    def query(self) -> RefundQuery:
        first: date | None = self.first_day.value
        last: date | None = self.last_day.value
        start = end = None
        if first is not None or last is not None:
            start, end = local_day_bounds(first or date(1970, 1, 1), last or date(9999, 12, 30), self.tz)
            if first is None:
                start = None
            if last is None:
                end = None
        flag = {_ANY: None, _YES: True, _NO: False}[self.reversed.value]
        return RefundQuery(
            start=start,
            end=end,
            recorder=self.recorder.value,
            source=self.source.value or None,
            reversed=flag,
            search=self.search.value,
        )

    def show(self, page: int = 1) -> None:
        """Read page ``page`` of the list the filters give, and show it."""
        self.message.value = ""
        self.downloads.value = ""
        first, last = self.first_day.value, self.last_day.value
        if first is not None and last is not None and last < first:
            self._clear()
            self.message.value = refused_html(["the 'Until' day is before the 'Since' day: swap them"], "listed")
            return
        try:
            result = list_entries(self.ledger, self.query(), page=max(page, 1), size=PAGE_SIZE)
        except RefundkitError as exc:
            self._clear()
            self.message.value = refused_html([failure_text(exc)], "listed")
            return
        self.page_number = result.page
        self.page = result
        self._render()

    def _clear(self) -> None:
        """No list on screen (after an error: the last list was of other filters than those shown)."""
        self.page = None
        self.status.value = ""
        self.grid.children = ()
        self.previous_button.disabled = self.next_button.disabled = True
        self.reversal.close()

    def _render(self) -> None:
        p = self.page
        if p is None:
            return
        first = (p.page - 1) * p.size + 1
        shown = f"{first:,}–{first + len(p.entries) - 1:,}" if p.entries else "none"
        total = f" of {p.total_text}" if p.total_text else ""
        self.status.value = (
            f"<p>Entries {shown}{total} (page {p.page}), newest first; times in {escape(self.tz)}. "
            f"<span style='color:#555'>{escape(p.freshness)}</span></p>"
        )
        self.previous_button.disabled = p.page <= 1
        self.next_button.disabled = not p.more
        cells: list[w.Widget] = [w.HTML(f"<b>{h}</b>") for h in _HEAD]
        for x in p.entries:
            e = x.entry
            flag = "yes" if x.reversed else ("no" if e.kind == REFUND else "reversal")
            texts = (
                local_time(e.refunded_at, self.tz),
                e.order_id,
                entry_amount(e),
                entry_items(e),
                e.source,
                e.external_ref,
                e.reason,
                e.recorded_by,
                flag + ("" if x.searchable else " (new)"),
            )
            cells += [w.HTML(escape(t)) for t in texts]
            if self.read_only is None and e.kind == REFUND and not x.reversed:
                button = w.Button(description="Reverse…", layout=w.Layout(width="6.5em"))
                button.add_class("refundkit-reverse-row")
                button.on_click(lambda _b, x=x: self._open_reversal(x))
                cells.append(button)
            else:
                cells.append(w.HTML(""))
        if not p.entries:
            cells.append(w.HTML("<i>No entries match these filters.</i>"))
        self.grid.children = tuple(cells)

    # -- export --------------------------------------------------------------------------------------------------
    def export(self) -> None:
        """The whole filtered list (not just this page) as CSV and XLSX downloads."""
        self.message.value = self.downloads.value = ""  # an export of other filters never stays
        try:
            listed = list_all(self.ledger, self.query(), most=EXPORT_MAX)
        except RefundkitError as exc:
            self.message.value = refused_html([failure_text(exc)], "exported")
            return
        from ..analytics.filenames import list_file_name  # noqa: PLC0415  (the desk starts without analytics)

        rows = [entry_row(x.entry, self.tz, x.reversed) for x in listed]
        first, last = self.first_day.value, self.last_day.value
        csv_name, xlsx_name = (list_file_name(first, last, self.tz, x) for x in ("csv", "xlsx"))
        self.downloads.value = (
            f"<p>{len(rows):,} entries: "
            + download_link(
                rows_csv(rows, ENTRY_COLUMNS, {"amount"}), filename=csv_name, label="Download CSV", mime=CSV
            )
            + " "
            + download_link(
                rows_xlsx(rows, ENTRY_COLUMNS, {"amount"}), filename=xlsx_name, label="Download XLSX", mime=XLSX
            )
            + "</p>"
        )

    # -- reverse -------------------------------------------------------------------------------------------------
    def _open_reversal(self, x: ListedEntry) -> None:
        if not self._busy:
            self.message.value = ""
            self.reversal.open(x.entry, self.tz, order=True)

    def reverse(self) -> None:
        """The panel's "Reverse refund" button (enabled once a reason is typed): the ledger's reversal, as the
        signed-in person, then the list again."""
        self.guarded(self.reverse_button, "Reversing…", self._reverse)

    def _reverse(self) -> None:
        e = self.reversal.entry
        if e is None:
            return
        try:
            result = self.ledger.reverse(e.entry_id, self.reverse_reason.value, order_id=e.order_id)
        except RefundRefused as exc:
            self.message.value = refused_html(exc.problems, "reversed")
            return
        except Exception as exc:
            self.message.value = refused_html([failure_text(exc)], "reversed")
            return
        self.reversal.close()
        self.show(self.page_number)
        what = "reversed" if result.recorded_now else "was already reversed"
        self.message.value = (
            f"<p class='refundkit-done'>Refund {escape(e.external_ref)} on order {escape(e.order_id)} "
            f"{what} ({escape(money(e.amount))}).</p>"
        )
