"""The Record form of the refund desk: look an order up, record an offline refund once, reverse one from its ledger.

Made for people who don't code, and for keyboards: Enter in "Order ID" looks the order up; every field is a labelled
input a screen reader (and a browser test) finds by its label. What it protects against:

- a click that arrives while a refund is being recorded (or just after, before the browser saw the button go
  disabled) is ignored, with no message;
- every action replaces the previous result, so no stale "Recorded" sits under a later error;
- looking up another order clears the amount, reference, reason, note, confirmations and result;
- an order whose status cannot take an offline refund (canceled, not paid yet, never a sale, a status refundkit
  does not know) says so at look-up, with balance 0;
- a likely duplicate (same order and amount under another reference, within the ledger's window) is shown and needs
  a second, explicit confirmation;
- messages say what to do here, never on a command line; money is shown as money; dates in the chosen time zone.

Driven without a browser the same way a person uses it::

    form = RecordForm(rk.ledger)
    form.order_id.value = "1306331686122-01"       # looks the order up, as Enter does
    form.amount.value = "12.34"
    form.reference.value = "RECEIPT-0042"
    form.confirm.value = True
    form.record_button.click()
    form.result.value                               # "Recorded ..."
"""

from __future__ import annotations

from datetime import date, datetime, time
from html import escape
from typing import Any

import ipywidgets as w

from ..ledger import KNOWN_SOURCES, Ledger, RefundConflict, RefundRefused, make_reference
from ..ledger.duplicates import duplicate_window_days, duplicates_of
from ..ledger.model import LedgerEntry, Quote, RecordResult
from ..money import Money
from ..timeutil import Instant, utc_now, zone
from .formkit import (
    Form,
    ReversalPanel,
    entry_amount,
    entry_items,
    failure_text,
    list_html,
    local_time,
    money,
    refused_html,
    store_zone,
    time_zone_picker,
)
from .item_picker import ItemPicker

__all__ = ["RecordForm"]

_RECORD, _RECORDING = "Record refund", "Recording…"
_REVERSING = "Reversing…"
_WIDE = w.Layout(width="34em")
_STYLE = {"description_width": "11em"}
_CONFIRM_TEXT = "I confirm this money went back to the customer outside VTEX"
_DUPLICATE_TEXT = "Yes, this is a different refund: record it too"


def _of(e: LedgerEntry) -> str:
    """`` for 2 × Caneca Azul (SKU 346), shipping`` when a refund names what it gave back, else nothing."""
    return f" for {entry_items(e)}" if e.lines else ""


def _pending_text(result: RecordResult) -> str:
    parts = []
    if "note" in result.pending:
        parts.append("the note on the VTEX order")
    if "document" in result.pending:
        parts.append("the searchable copy in Master Data")
    if not parts:
        return ""
    return (
        f" Still to write: {' and '.join(parts)} (VTEX did not answer in time). The refund itself is recorded; "
        "press <b>Finish pending</b> to write the rest."
    )


class RecordForm(Form):
    """Look up an order, record an offline refund on it, reverse one from its ledger.

    Child widgets (attributes): ``order_id``, ``lookup_button``, ``order_view``, ``ledger_view``, ``amount``,
    ``currency_label``, ``source``, ``reference``, ``generate_button``, ``reason``, ``refunded_on``,
    ``refunded_time``, ``note``,
    ``over_refund``, ``over_refund_reason``, ``confirm``, ``duplicate_confirm``, ``record_button``, ``result``,
    ``finish_button``, ``tz_picker``; the reversal panel: ``reverse_reason``, ``reverse_button``, ``cancel_reverse``.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        tz: str | None = None,
        sources: tuple[str, ...] | None = None,
        source: str = "cash",
        duplicate_days: int | None = None,
    ) -> None:
        tz = store_zone(ledger, tz)
        zone(tz)
        self.ledger = ledger
        self.duplicate_days = duplicate_window_days() if duplicate_days is None else duplicate_days
        self._busy = False
        self.quote: Quote | None = None  # the order looked up
        self.last_result: RecordResult | None = None
        options = tuple(sources or (*KNOWN_SOURCES, *getattr(ledger, "extra_sources", ())))

        def text(label: str, placeholder: str = "", **kw: Any) -> w.Text:
            return w.Text(description=label, placeholder=placeholder, layout=_WIDE, style=_STYLE, **kw)

        self.tz_picker = time_zone_picker(tz, _STYLE)
        # value syncs on Enter (or on leaving the field): Enter looks the order up
        self.order_id = text("Order ID", "such as 1306331686122-01", continuous_update=False)
        self.lookup_button = w.Button(
            description="Look up", tooltip="Show the order, its balance and the refunds recorded on it"
        )
        self.order_view = w.HTML()
        self.items = ItemPicker(self._picked)
        self._filled = ""  # the amount the picked items last filled in
        self.ledger_view = w.VBox(layout=w.Layout(margin="0 0 1em 0"))
        self.reversal = ReversalPanel(self, self.reverse, label="Reason for reversing", style=_STYLE, layout=_WIDE)
        self.reverse_text, self.reverse_reason = self.reversal.text, self.reversal.reason
        self.reverse_button, self.cancel_reverse = self.reversal.button, self.reversal.cancel
        self.reverse_panel = self.reversal.box
        self.amount = text("Amount", "12.34")
        self.currency_label = w.HTML()
        self.source = w.Dropdown(
            options=options, value=source if source in options else options[0], description="Source", style=_STYLE
        )
        self.reference = text("External reference", "the refund service's id or the receipt number")
        self.generate_button = w.Button(description="Generate", tooltip="Make a reference when you have none")
        self.reason = text("Reason", "why the customer was refunded")
        self.refunded_on = w.DatePicker(
            description="Refunded on", value=self._today(), style=_STYLE, layout=w.Layout(width="22em")
        )
        self.refunded_time = w.TimePicker(
            description="Time (optional)", value=None, style=_STYLE, layout=w.Layout(width="22em")
        )
        self.note = w.Textarea(
            description="Note", placeholder="anything else worth keeping", layout=_WIDE, style=_STYLE
        )
        self.over_refund = w.Checkbox(description="Allow more than the refundable balance", indent=False)
        self.over_refund_reason = text("Over-refund reason", "why more than the balance went back")
        self.over_refund_reason.layout = w.Layout(width="34em", display="none")
        self.confirm = w.Checkbox(description=_CONFIRM_TEXT, indent=False, layout=w.Layout(width="auto"))
        self.duplicate_confirm = w.Checkbox(
            description=_DUPLICATE_TEXT, indent=False, layout=w.Layout(width="auto", display="none")
        )
        self.record_button = w.Button(
            description=_RECORD, button_style="primary", disabled=True, tooltip="Tick 'I confirm' first"
        )
        self.result = w.HTML()
        self.finish_button = w.Button(description="Finish pending", layout=w.Layout(display="none"))

        for widget, css in (
            (self.order_id, "refundkit-order-id"),
            (self.lookup_button, "refundkit-lookup"),
            (self.order_view, "refundkit-order"),
            (self.ledger_view, "refundkit-ledger"),
            (self.reverse_panel, "refundkit-reverse-panel"),
            (self.reverse_button, "refundkit-reverse"),
            (self.amount, "refundkit-amount"),
            (self.reference, "refundkit-reference"),
            (self.confirm, "refundkit-confirm"),
            (self.duplicate_confirm, "refundkit-duplicate-confirm"),
            (self.record_button, "refundkit-record"),
            (self.result, "refundkit-result"),
        ):
            widget.add_class(css)

        self.order_id.observe(self._order_typed, names="value")
        self.lookup_button.on_click(self.look_up)
        self.generate_button.on_click(self.generate_reference)
        self.record_button.on_click(self.record)
        self.finish_button.on_click(self.finish_pending)
        self.confirm.observe(self._sync, names="value")
        self.over_refund.observe(self._over_refund_toggled, names="value")
        self.tz_picker.observe(lambda _c: self._show_order(), names="value")
        for field in (self.amount, self.source, self.reference, self.refunded_on, self.refunded_time):
            field.observe(self._proposal_changed, names="value")

        self.widget = w.VBox(
            [
                w.HTML(
                    "<h3>Record an offline refund</h3><p>Nothing here moves money: this records money you already paid "
                    "back outside VTEX (cash, a transfer, a refund service), exactly once.</p>"
                ),
                self.tz_picker,
                w.HBox([self.order_id, self.lookup_button]),
                self.order_view,
                self.items.widget,
                w.HBox([self.amount, self.currency_label]),
                self.source,
                w.HBox([self.reference, self.generate_button]),
                self.reason,
                w.HBox([self.refunded_on, self.refunded_time]),
                self.note,
                self.over_refund,
                self.over_refund_reason,
                self.confirm,
                self.duplicate_confirm,
                # the outcome is shown beside the button that asked for it, whatever the page's scroll; the order's
                # refunds are listed below them, so a new row moves neither
                w.HBox(
                    [self.record_button, w.VBox([self.result, self.finish_button], layout=w.Layout(flex="1"))],
                    layout=w.Layout(align_items="flex-start", grid_gap="1em"),
                ),
                self.reverse_panel,
                self.ledger_view,
            ]
        )
        self.widget.add_class("refundkit-record-form")

    # -- state ---------------------------------------------------------------------------------------------------
    @property
    def tz(self) -> str:
        return str(self.tz_picker.value)

    def _today(self) -> date:
        return utc_now().in_zone(self.tz_picker.value if hasattr(self, "tz_picker") else "UTC").to_datetime().date()

    def _sync(self, _change: Any = None) -> None:
        if not self._busy:
            self.record_button.disabled = not self.confirm.value
            self.reversal.sync()

    def _proposal_changed(self, _change: Any = None) -> None:
        """A new amount, source, reference or date is another proposal: a duplicate confirmation does not carry."""
        self.duplicate_confirm.value = False
        self.duplicate_confirm.layout.display = "none"

    def _over_refund_toggled(self, change: Any) -> None:
        self.over_refund_reason.layout.display = "" if change["new"] else "none"

    def _picked(self, price: Money | None) -> None:
        """Units or shipping picked: the amount becomes their price paid (nothing picked: an amount the picks
        filled in is cleared; one typed is kept)."""
        if price is not None:
            self._filled = self.amount.value = price.decimal_str()
        elif self.amount.value == self._filled:
            self._filled = self.amount.value = ""

    def _show_items(self) -> None:
        """The picker for the order looked up: its items and shipping, nothing picked (so an amount the picks
        filled in goes too)."""
        if self._filled and self.amount.value == self._filled:
            self.amount.value = ""
        self._filled = ""
        q = self.quote
        if q is None or q.blocked:
            self.items.show(None)
            return
        try:
            self.items.show(self.ledger.order_items(q.order_id))
        except Exception as exc:
            self.items.show(
                None, f"The order's items could not be read ({failure_text(exc)}); an amount can still be recorded."
            )

    def _clear_proposal(self) -> None:
        self.items.show(None)
        self._filled = ""
        self.amount.value = ""
        self.reference.value = ""
        self.reason.value = ""
        self.note.value = ""
        self.over_refund.value = False
        self.over_refund_reason.value = ""
        self.confirm.value = False
        self.refunded_on.value = self._today()
        self.refunded_time.value = None
        self._proposal_changed()

    def _clear_result(self) -> None:
        self.result.value = ""
        self.finish_button.layout.display = "none"

    # -- look-up -------------------------------------------------------------------------------------------------
    def _order_typed(self, change: Any) -> None:
        if str(change["new"]).strip():
            self.look_up()

    def look_up(self, _button: Any = None) -> None:
        """Show the order, its refundable balance and its ledger. Another order than the one shown starts afresh."""
        if self._busy:
            return
        typed = self.order_id.value.strip()
        if self.quote is None or typed.lower() != self.quote.order_id.lower():
            self._clear_proposal()
        self._clear_result()
        self._close_reversal()
        if not typed:
            self.quote = None
            self._show_order()
            self.result.value = refused_html(["type the order ID first (such as 1306331686122-01)"], "looked up")
            return
        try:
            self.quote = self.ledger.quote(typed)
        except RefundRefused as exc:
            self.quote = None
            self.result.value = list_html("Cannot look up this order:", exc.problems, "refundkit-refused")
        except Exception as exc:
            self.quote = None
            self.result.value = f"<div class='refundkit-refused'>{escape(failure_text(exc))}</div>"
        self._show_order()
        self._show_items()

    def _show_order(self) -> None:
        q, tz = self.quote, self.tz
        if q is None:
            self.order_view.value = ""
            self.ledger_view.children = ()
            self.currency_label.value = ""
            return
        blocked, balance = q.blocked, q.balance
        rows = [
            ("Order", f"{q.order_id} — {q.status}, created {local_time(q.created_at, tz)} ({tz})"),
            ("Order total", money(q.order_total)),
            ("VTEX refunds (return invoices)", money(q.invoice_refunded or q.native_refunded)),
            (
                "VTEX refunds on the payment, no invoice",
                money(q.gateway_refunded) if q.gateway_checked and q.gateway_refunded is not None else "NOT checked",
            ),
            ("Offline refunds (net of reversals)", money(q.offline_refunded)),
            ("Refundable balance", money(balance)),
        ]
        rows += [("Note", n) for n in q.notices]
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows
        )
        html = f"<table class='refundkit-balance'>{body}</table>"
        if blocked:
            html += (
                f"<div class='refundkit-blocked'><b>Order {escape(q.order_id)} cannot take an offline refund:</b> "
                f"{escape(blocked)}.</div>"
            )
        if q.warnings:
            html += list_html("Warnings:", list(q.warnings), "refundkit-warnings")
        self.order_view.value = html
        self.currency_label.value = f"<span style='padding-left:0.5em'>{escape(q.currency)}</span>"
        self._show_ledger(q)

    def _show_ledger(self, q: Quote) -> None:
        tz = self.tz
        if not q.entries:
            self.ledger_view.children = (w.HTML("<p>No offline refunds recorded on this order yet.</p>"),)
            return
        reversed_ids = {e.reverses for e in q.entries if e.kind == "reversal"}
        heads = ("Refunded at", "What", "Amount", "Items", "Source", "Reference", "Reason", "Recorded by", "")
        cells: list[w.Widget] = [w.HTML(f"<b>{escape(h)}</b>") for h in heads]
        for e in q.entries:
            kind = "refund" if e.kind == "refund" else "reversal of a refund"
            for value in (
                local_time(e.refunded_at, tz),
                kind,
                entry_amount(e),
                entry_items(e),
                e.source,
                e.external_ref,
                e.reason,
                e.recorded_by,
            ):
                cells.append(w.HTML(escape(value)))
            if e.kind == "refund" and e.entry_id not in reversed_ids:
                button = w.Button(description="Reverse", tooltip=f"Reverse the refund {e.external_ref}")
                button.add_class("refundkit-reverse-row")
                button.on_click(lambda _b, entry=e: self._open_reversal(entry))
                cells.append(button)
            else:
                cells.append(w.HTML("<i>reversed</i>" if e.kind == "refund" else ""))
        grid = w.GridBox(
            cells,
            layout=w.Layout(
                grid_template_columns="repeat(8, max-content) auto", grid_gap="0.2em 1em", align_items="center"
            ),
        )
        grid.add_class("refundkit-ledger-table")
        self.ledger_view.children = (
            w.HTML(
                f"<b>Refunds recorded on this order</b> (times in {escape(tz)}). A reversal takes a refund back: it "
                "shows as a negative amount, and both stay on record."
            ),
            grid,
        )

    def look_up_quietly(self) -> None:
        """Refresh the order and ledger shown, keeping the result."""
        if self.quote is None:
            return
        try:
            self.quote = self.ledger.quote(self.quote.order_id)
        except Exception:  # the result already says what happened; the view keeps the last known state
            return
        self._show_order()

    def generate_reference(self, _button: Any = None) -> None:
        self.reference.value = make_reference(self.source.value, self.refunded_on.value)
        self.result.value = (
            f"<div>Generated reference <b>{escape(self.reference.value)}</b>: write it on the receipt. Recording "
            "again with it finds the same refund.</div>"
        )

    # -- record --------------------------------------------------------------------------------------------------
    def _refunded_at(self) -> Instant | date | None:
        """When the money went back: a day and a time are read in the form's time zone; a day without a time is now
        when it is today, and otherwise that day in the store's time zone, which the ledger reads exactly as it reads
        a date without a time typed on the command line (so the form and the CLI agree); no day is now."""
        day: date | None = self.refunded_on.value
        at: time | None = self.refunded_time.value
        if day is None:
            day = self._today()
        if at is None:
            return None if day == self._today() else day
        return Instant.from_datetime(datetime.combine(day, at, tzinfo=zone(self.tz)))

    def _inputs(self) -> dict[str, Any]:
        over = bool(self.over_refund.value)
        return {
            "reason": self.reason.value,
            "note": self.note.value,
            "refunded_at": self._refunded_at(),
            "allow_over_refund": over,
            "over_refund_reason": self.over_refund_reason.value if over else "",
            "items": self.items.picks(),
            "shipping": self.items.shipping_pick(),
            "restock": self.items.restock_pick(),
        }

    def record(self, _button: Any = None) -> None:
        """The "Record refund" button: check, warn about a likely duplicate, record once, show the outcome."""
        self.guarded(self.record_button, _RECORDING, self._record)

    def _record(self) -> None:
        self._clear_result()
        self._close_reversal()
        if not self.confirm.value:  # Button.click() runs even on a disabled button: check again
            self.result.value = refused_html([f"tick '{_CONFIRM_TEXT}' to record"])
            return
        args = (self.order_id.value, self.amount.value, self.source.value, self.reference.value)
        inputs = self._inputs()
        try:
            quote = self.ledger.quote(*args, **inputs)
        except RefundRefused as exc:
            self.result.value = refused_html(exc.problems)
            return
        except Exception as exc:
            self.result.value = refused_html([failure_text(exc)])
            return
        if quote.problems:
            self.result.value = refused_html(list(quote.problems))
            return
        assert quote.proposed is not None
        matches = duplicates_of(
            quote,
            source=self.source.value,
            external_ref=self.reference.value,
            refunded_at=inputs["refunded_at"],
            now=self.ledger.clock(),
            window_days=self.duplicate_days,
        ).matches
        if matches and not self.duplicate_confirm.value:
            self.duplicate_confirm.layout.display = ""
            lines = [
                f"{money(e.amount)}{_of(e)} via {e.source}, reference {e.external_ref}, "
                f"refunded {local_time(e.refunded_at, self.tz)} ({self.tz}), recorded by {e.recorded_by}"
                for e in matches
            ]
            self.result.value = list_html(
                f"Likely duplicate — nothing was recorded yet. Order {quote.order_id} already has a refund of "
                f"{money(quote.proposed)} within {self.duplicate_days} days under another reference:",
                lines,
                "refundkit-duplicate",
            ) + (
                f"<div>If this is the same refund, it is already recorded: change nothing. If it is a different "
                f"refund, tick <b>{escape(_DUPLICATE_TEXT)}</b> and press <b>{_RECORD}</b> again.</div>"
            )
            return
        try:
            result = self.ledger.record(*args, **inputs)
        except RefundRefused as exc:
            self.result.value = refused_html(exc.problems)
            return
        except RefundConflict as exc:
            e = exc.existing
            self.result.value = refused_html(
                [
                    (
                        f"this order already has a refund via {e.source} with reference {e.external_ref}, "
                        f"of {money(e.amount)}: "
                        "a reference names one refund. If that one is wrong, reverse it in the list of this order's "
                        "refunds below and record the right one; if this is another refund, give it its own reference"
                    )
                ]
            )
            return
        except Exception as exc:
            self.result.value = refused_html([failure_text(exc)])
            return
        by_item = bool(inputs["items"] or inputs["shipping"])
        self._recorded(result)
        if by_item:  # the amount was for the units picked, which are recorded now: it goes with them
            self._filled = self.amount.value = ""
        self.confirm.value = False  # the next refund needs a fresh confirmation (and the button is disabled now)
        self._proposal_changed()

    def _recorded(self, result: RecordResult) -> None:
        self.last_result = result
        e, tz = result.entry, self.tz
        if e.kind == "reversal":
            what = (
                f"a reversal of {entry_amount(e)} on order {e.order_id}, taking back the refund via {e.source}, "
                f"reference {e.external_ref}"
            )
        else:
            what = (
                f"a refund of {money(e.amount)}{_of(e)} via {e.source}, reference {e.external_ref}, on order "
                f"{e.order_id}, refunded {local_time(e.refunded_at, tz)} ({tz})"
            )
        if result.recorded_now:
            html = f"<b>Recorded</b>: {escape(what)}."
        else:
            html = (
                f"<b>Already recorded</b>: {escape(what)} was recorded before by {escape(e.recorded_by)} on "
                f"{local_time(e.recorded_at, tz)} ({escape(tz)}); nothing new was written."
            )
        balance = result.quote.refundable
        html += f" Refundable balance now <b>{escape(money(balance))}</b>."
        pending = _pending_text(result)
        self.result.value = f"<div class='refundkit-done'>{html}{pending}</div>"
        self.finish_button.layout.display = "" if pending else "none"
        self.quote = result.quote
        self._show_order()
        self._show_items()  # the units and shipping left now; nothing picked

    def finish_pending(self, _button: Any = None) -> None:
        """Write what VTEX did not take in time (the order note, the searchable copy) for the order shown."""
        if self.quote is None:
            return
        oid = self.quote.order_id
        try:
            report = self.ledger.reconcile(order_ids=[oid])
        except Exception as exc:
            self.result.value = refused_html([failure_text(exc)], "finished")
            return
        left = [*report.failed, *report.in_progress]
        if left:
            self.result.value = list_html(
                f"Not finished yet on order {oid} (VTEX did not answer); press Finish pending again in a minute:",
                left,
                "refundkit-warnings",
            )
            return
        self.finish_button.layout.display = "none"
        done = len(report.notes_posted) + len(report.documents_repaired)
        self.result.value = (
            f"<div class='refundkit-done'><b>Finished</b>: order {escape(oid)} has everything written "
            f"({done} written now).</div>"
        )
        self.look_up_quietly()

    # -- reverse -------------------------------------------------------------------------------------------------
    def _open_reversal(self, entry: LedgerEntry) -> None:
        if not self._busy:
            self._clear_result()
            self.reversal.open(entry, self.tz)

    def _close_reversal(self) -> None:
        self.reversal.close()

    def reverse(self, _button: Any = None) -> None:
        """The reversal panel's "Reverse refund" button (enabled once a reason is typed)."""
        self.guarded(self.reverse_button, _REVERSING, self._reverse)

    def _reverse(self) -> None:
        entry = self.reversal.entry
        if entry is None:
            return
        self._clear_result()
        try:  # the ledger checks the reason (a reversal needs one), as it does on the command line
            result = self.ledger.reverse(entry.entry_id, self.reverse_reason.value, order_id=entry.order_id)
        except RefundRefused as exc:
            self.result.value = refused_html(exc.problems, "reversed")
            return
        except Exception as exc:
            self.result.value = refused_html([failure_text(exc)], "reversed")
            return
        self._close_reversal()
        self._recorded(result)
