"""Jupyter forms: record an offline refund, reverse one (the gross-versus-net explorer is in :mod:`.explorer`).

The forms hold no business rules: they read what was typed, call the ledger (which validates, records exactly once
and explains every problem) or the analytics, and show the answer. They can be driven without a browser::

    form = RefundForm(rk.ledger)
    form.order_id.value = "1306331686122-01"
    form.amount.value = "12.34"
    form.confirm.value = True
    form.record_button.click()
    form.result.value            # "Recorded ..."

Every form keeps validation problems (``errors``) and the outcome (``result``) in separate widgets, and gives its
parts stable CSS classes (``refundkit-errors``, ``refundkit-result``, ...) for browser tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from html import escape
from typing import Any

import ipywidgets as w

from ..errors import RefundkitError, VtexError
from ..ledger import KNOWN_SOURCES, Ledger, RefundConflict, RefundRefused, make_reference
from ..ledger.model import EntryKind, LedgerEntry, Quote, RecordResult
from ..timeutil import Instant, utc_now, zone

__all__ = ["RefundForm", "ReverseForm"]

_WIDE = w.Layout(width="32em")
_STYLE = {"description_width": "10em"}
_RECORD_LABEL, _RECORDING_LABEL = "Record refund", "Recording…"
_REVERSE_LABEL, _REVERSING_LABEL = "Reverse refund", "Reversing…"


# -- small helpers (display only) ----------------------------------------------------------------------------------
def _run_once(form: Any, button: Any, busy_label: str, idle_label: str, action: Callable[[], None]) -> None:
    """Run a form's action with its button disabled and relabelled; a click arriving meanwhile does nothing."""
    if form._busy:  # a second click that arrived while the first is still running
        return
    form._busy = True
    button.disabled = True
    button.description = busy_label
    form.errors.value = ""
    try:
        action()
    finally:
        form._busy = False
        button.description = idle_label
        form._sync_button()


def _problems_html(problems: list[str], heading: str = "Nothing was recorded:") -> str:
    items = "".join(f"<li>{escape(p)}</li>" for p in problems)
    return f"<div><b>{escape(heading)}</b><ul>{items}</ul></div>"


def _message_html(text: str) -> str:
    return f"<div>{escape(text)}</div>"


def _when(i: Instant | None) -> str:
    return "" if i is None else i.isoformat(digits=0)


def quote_html(quote: Quote) -> str:
    """The order's balance and its ledger entries, as an HTML table."""
    rows = [
        ("Order", f"{quote.order_id} ({quote.status}), created {_when(quote.created_at)}"),
        ("Order total", str(quote.order_total)),
        ("VTEX refunds (return invoices)", str(quote.invoice_refunded or quote.native_refunded)),
        (
            "VTEX refunds on the payment, no invoice",
            str(quote.gateway_refunded)
            if quote.gateway_checked and quote.gateway_refunded is not None
            else "not checked",
        ),
        ("Offline refunds (net of reversals)", str(quote.offline_refunded)),
        ("Refundable balance", str(quote.refundable)),
    ]
    rows += [("Note", n) for n in quote.notices]
    body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    html = f"<table class='refundkit-balance'>{body}</table>"
    if quote.entries:
        head = "".join(
            f"<th>{h}</th>" for h in ("id", "kind", "amount", "source", "reference", "refunded at", "reverses")
        )
        lines = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(str(v))}</td>"
                for v in (
                    e.entry_id,
                    e.kind,
                    e.amount,
                    e.source,
                    e.external_ref,
                    _when(e.refunded_at),
                    e.reverses or "",
                )
            )
            + "</tr>"
            for e in quote.entries
        )
        html += f"<p><b>Ledger entries</b></p><table class='refundkit-entries'><tr>{head}</tr>{lines}</table>"
    else:
        html += "<p>No offline refunds recorded on this order yet.</p>"
    if quote.warnings:
        html += _problems_html(list(quote.warnings), "Warnings:")
    return html


def _result_html(result: RecordResult) -> str:
    """What was recorded (or found already recorded), for the ``result`` widget."""
    e: LedgerEntry = result.entry
    if e.kind == EntryKind.REVERSAL:
        what = (
            f"reversal of refund {e.reverses} ({e.amount}, {e.source} reference {e.external_ref}) on order {e.order_id}"
        )
    else:
        what = (
            f"offline refund of {e.amount} on order {e.order_id} ({e.source}, reference {e.external_ref}), "
            f"refunded at {_when(e.refunded_at)}"
        )
    if result.recorded_now:
        text = f"<b>Recorded</b>: {escape(what)}. Id <code>{escape(e.entry_id)}</code>."
    else:
        text = (
            f"<b>Already recorded</b>: this {escape(what)} was recorded before by {escape(e.recorded_by)} on "
            f"{escape(_when(e.recorded_at))} (id <code>{escape(e.entry_id)}</code>); nothing new was written."
        )
    text += f" Refundable balance now {escape(str(result.quote.refundable))}."
    if result.messages:
        text += _problems_html(list(result.messages), "Still to finish:")
    return f"<div>{text}</div>"


def _failure(exc: BaseException) -> str:
    """Text for an error a form shows instead of a traceback."""
    if isinstance(exc, VtexError):
        return (
            f"VTEX failed: {exc}. Nothing is lost: click again when VTEX answers; the same refund is never "
            "recorded twice."
        )
    if isinstance(exc, RefundkitError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}: {exc}). Please report it; click again to retry."


class _Form:
    """What every form shares: shown as its ``widget`` when it is the last expression of a cell."""

    widget: w.VBox

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


# -- record --------------------------------------------------------------------------------------------------------
class RefundForm(_Form):
    """Record an offline refund on a VTEX order (money went back outside VTEX: cash, transfer, refund service).

    ``tz`` is the time zone the refunded-on date and time are read in. A blank time means "now" when the date is
    today, and noon of that day otherwise (the date is what reports use). Child widgets are attributes:
    ``order_id``, ``lookup_button``, ``quote_view``, ``amount``, ``source``, ``reference``, ``generate_button``,
    ``reference_hint``, ``refunded_on``, ``refunded_time``, ``reason``, ``note``, ``over_refund``,
    ``over_refund_reason``, ``confirm``, ``record_button``, ``errors``, ``result``; ``widget`` is the whole form.
    """

    def __init__(
        self, ledger: Ledger, *, tz: str = "UTC", sources: tuple[str, ...] | None = None, source: str = "cash"
    ) -> None:
        zone(tz)
        self.ledger = ledger
        self.tz = tz
        self._busy = False
        self.last_result: RecordResult | None = None  # the latest refund recorded (or found already recorded)
        options = tuple(sources or (*KNOWN_SOURCES, *getattr(ledger, "extra_sources", ())))
        today = utc_now().in_zone(tz).to_datetime().date()

        def text(description: str, placeholder: str = "") -> w.Text:
            return w.Text(description=description, placeholder=placeholder, layout=_WIDE, style=_STYLE)

        self.order_id = text("Order id", "1306331686122-01")
        self.lookup_button = w.Button(description="Look up", tooltip="Show the order's refundable balance")
        self.quote_view = w.HTML()
        self.amount = text("Amount", "12.34 (in the order's currency)")
        self.source = w.Dropdown(
            options=options,
            value=source if source in options else options[0],
            description="Paid back via",
            layout=_WIDE,
            style=_STYLE,
        )
        self.reference = text("Reference", "refund service id or receipt number")
        self.generate_button = w.Button(description="Generate", tooltip="Make a reference when you have none")
        self.reference_hint = w.HTML()
        self.refunded_on = w.DatePicker(description="Refunded on", value=today, style=_STYLE)
        self.refunded_time = w.TimePicker(description=f"at ({tz})", value=None, style=_STYLE)
        self.reason = text("Reason", "why the customer was refunded")
        self.note = w.Textarea(
            description="Note", placeholder="anything else worth keeping", layout=_WIDE, style=_STYLE
        )
        self.over_refund = w.Checkbox(description="Allow more than the refundable balance", value=False, indent=False)
        self.over_refund_reason = text("Over-refund reason", "why more than the balance went back")
        self.confirm = w.Checkbox(
            description="I confirm this money went back to the customer outside VTEX",
            value=False,
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.record_button = w.Button(
            description=_RECORD_LABEL, button_style="primary", disabled=True, tooltip="Tick 'I confirm' first"
        )
        self.errors = w.HTML()
        self.result = w.HTML()

        for widget, css in (
            (self.order_id, "refundkit-order-id"),
            (self.lookup_button, "refundkit-lookup"),
            (self.quote_view, "refundkit-quote"),
            (self.amount, "refundkit-amount"),
            (self.source, "refundkit-source"),
            (self.reference, "refundkit-reference"),
            (self.generate_button, "refundkit-generate"),
            (self.reference_hint, "refundkit-reference-hint"),
            (self.refunded_on, "refundkit-refunded-on"),
            (self.refunded_time, "refundkit-refunded-time"),
            (self.reason, "refundkit-reason"),
            (self.note, "refundkit-note"),
            (self.over_refund, "refundkit-over-refund"),
            (self.over_refund_reason, "refundkit-over-refund-reason"),
            (self.confirm, "refundkit-confirm"),
            (self.record_button, "refundkit-record"),
            (self.errors, "refundkit-errors"),
            (self.result, "refundkit-result"),
        ):
            widget.add_class(css)

        self.lookup_button.on_click(self.look_up)
        self.generate_button.on_click(self.generate_reference)
        self.record_button.on_click(self.record)
        self.confirm.observe(self._sync_button, names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Record an offline refund</b> (VTEX moves no money; this only records what was paid back)"),
                w.HBox([self.order_id, self.lookup_button]),
                self.quote_view,
                self.amount,
                self.source,
                w.HBox([self.reference, self.generate_button]),
                self.reference_hint,
                w.HBox([self.refunded_on, self.refunded_time]),
                self.reason,
                self.note,
                self.over_refund,
                self.over_refund_reason,
                self.confirm,
                self.record_button,
                self.errors,
                self.result,
            ]
        )
        self.widget.add_class("refundkit-refund-form")

    # -- handlers ----------------------------------------------------------------------------------------------
    def _sync_button(self, _change: Any = None) -> None:
        if not self._busy:
            self.record_button.disabled = not self.confirm.value

    def look_up(self, _button: Any = None) -> None:
        """Show the order's total, VTEX refunds, offline refunds, refundable balance and ledger entries."""
        self.errors.value = ""
        try:
            quote = self.ledger.quote(self.order_id.value)
        except RefundRefused as exc:
            self.quote_view.value = ""
            self.errors.value = _problems_html(exc.problems, "Cannot look up this order:")
        except Exception as exc:
            self.quote_view.value = ""
            self.errors.value = _message_html(_failure(exc))
        else:
            self.quote_view.value = quote_html(quote)

    def generate_reference(self, _button: Any = None) -> None:
        """Fill in a new reference (for refunds without one) and say to keep it."""
        ref = make_reference(self.source.value, self.refunded_on.value)
        self.reference.value = ref
        self.reference_hint.value = (
            f"<div>Generated reference <code>{escape(ref)}</code>: write it on the "
            "receipt. Recording again with it finds the same refund.</div>"
        )

    def _refunded_at(self) -> tuple[Instant | None, list[str]]:
        """The refunded-at instant the date and time pickers say (None: now)."""
        day: date | None = self.refunded_on.value
        at: time | None = self.refunded_time.value
        if day is None:
            if at is not None:
                return None, ["a refunded-at time was given without a date: pick the date too"]
            return None, []
        if at is None:
            if day == utc_now().in_zone(self.tz).to_datetime().date():
                return None, []
            at = time(12, 0)
        return Instant.from_datetime(datetime.combine(day, at, tzinfo=zone(self.tz))), []

    def _inputs(self, refunded_at: Instant | None) -> dict[str, Any]:
        over = bool(self.over_refund.value)
        return {
            "reason": self.reason.value,
            "note": self.note.value,
            "refunded_at": refunded_at,
            "allow_over_refund": over,
            "over_refund_reason": self.over_refund_reason.value if over else "",
        }

    def _checked_problems(self, refunded_at: Instant | None) -> list[str]:
        """Every problem the ledger finds with what is typed, without recording anything."""
        try:
            quote = self.ledger.quote(
                self.order_id.value,
                self.amount.value,
                self.source.value,
                self.reference.value,
                **self._inputs(refunded_at),
            )
        except RefundRefused as exc:
            return list(exc.problems)
        except Exception as exc:
            return [f"could not check the refund against the order: {_failure(exc)}"]
        return list(quote.problems)

    def record(self, _button: Any = None) -> None:
        """The "Record refund" button: checks, records once, shows the outcome. Safe to call repeatedly."""
        _run_once(self, self.record_button, _RECORDING_LABEL, _RECORD_LABEL, self._record)

    def _record(self) -> None:
        refunded_at, problems = self._refunded_at()
        if not self.confirm.value:  # Button.click() runs even when the button is disabled: check again
            problems.insert(0, "tick 'I confirm this money went back to the customer outside VTEX' to record")
        if problems:
            self.errors.value = _problems_html(problems + self._checked_problems(refunded_at))
            return
        try:
            result = self.ledger.record(
                self.order_id.value,
                self.amount.value,
                self.source.value,
                self.reference.value,
                **self._inputs(refunded_at),
            )
        except RefundRefused as exc:
            self.errors.value = _problems_html(exc.problems)
            return
        except RefundConflict as exc:
            self.errors.value = _problems_html([str(exc)])
            return
        except Exception as exc:
            self.errors.value = _message_html(_failure(exc))
            return
        self.last_result = result
        self.result.value = _result_html(result)
        self.quote_view.value = quote_html(result.quote)
        self.confirm.value = False  # the next refund needs a fresh confirmation


# -- reverse -------------------------------------------------------------------------------------------------------
class ReverseForm(_Form):
    """Undo an offline refund recorded by mistake: the ledger appends a reversal (nothing is deleted).

    Child widgets: ``refund_id``, ``reason``, ``confirm``, ``reverse_button``, ``errors``, ``result``.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._busy = False
        self.last_result: RecordResult | None = None
        self.refund_id = w.Text(description="Refund id", placeholder="rf-…", layout=_WIDE, style=_STYLE)
        self.reason = w.Text(description="Reason", placeholder="why the refund is undone", layout=_WIDE, style=_STYLE)
        self.confirm = w.Checkbox(
            description="I confirm this refund was recorded by mistake",
            value=False,
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.reverse_button = w.Button(description=_REVERSE_LABEL, button_style="warning", disabled=True)
        self.errors = w.HTML()
        self.result = w.HTML()
        for widget, css in (
            (self.refund_id, "refundkit-refund-id"),
            (self.reason, "refundkit-reverse-reason"),
            (self.confirm, "refundkit-reverse-confirm"),
            (self.reverse_button, "refundkit-reverse"),
            (self.errors, "refundkit-errors"),
            (self.result, "refundkit-result"),
        ):
            widget.add_class(css)
        self.reverse_button.on_click(self.reverse)
        self.confirm.observe(self._sync_button, names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Reverse an offline refund</b> recorded by mistake"),
                self.refund_id,
                self.reason,
                self.confirm,
                self.reverse_button,
                self.errors,
                self.result,
            ]
        )
        self.widget.add_class("refundkit-reverse-form")

    def _sync_button(self, _change: Any = None) -> None:
        if not self._busy:
            self.reverse_button.disabled = not self.confirm.value

    def reverse(self, _button: Any = None) -> None:
        _run_once(self, self.reverse_button, _REVERSING_LABEL, _REVERSE_LABEL, self._reverse)

    def _reverse(self) -> None:
        if not self.confirm.value:
            problems = ["tick 'I confirm this refund was recorded by mistake' to reverse it"]
            if not self.refund_id.value.strip():
                problems.append("refund id is missing (it starts with rf-)")
            if not self.reason.value.strip():
                problems.append("a reversal needs a reason: say why the refund is being undone")
            self.errors.value = _problems_html(problems, "Nothing was reversed:")
            return
        try:
            result = self.ledger.reverse(self.refund_id.value, self.reason.value)
        except RefundRefused as exc:
            self.errors.value = _problems_html(exc.problems, "Nothing was reversed:")
            return
        except Exception as exc:
            self.errors.value = _message_html(_failure(exc))
            return
        self.last_result = result
        self.result.value = _result_html(result)
        self.confirm.value = False
