"""The form kit: what every tab of the refund desk (and every notebook form) is built from.

A new form is a :class:`Form` with a ``widget``; each of its buttons runs its action through :meth:`Form.guarded`
(busy state, double clicks ignored); every error is shown as :func:`failure_text` (one line, no traceback, never a
command line), refusals as :func:`refused_html`; money as :func:`money`, times as :func:`local_time`; files as a
:func:`download_link`. Controls that every tab shares are made here, so each tab shows them alike: the time zone
(:func:`time_zone_picker`) and the panel that reverses a refund (:class:`ReversalPanel`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w

from ..errors import ForbiddenEndpoint, RefundkitError, VtexError
from ..ledger.items import describe_lines
from ..ledger.model import LedgerEntry
from ..money import Money, format_money
from ..timeutil import Instant

__all__ = [
    "CSV",
    "TIME_ZONES",
    "XLSX",
    "Form",
    "ReversalPanel",
    "download_link",
    "entry_amount",
    "entry_items",
    "failure_text",
    "list_html",
    "local_time",
    "money",
    "no_command_line",
    "refused_html",
    "reversal_question",
    "store_zone",
    "time_zone_picker",
]

#: Time zones offered in the forms (the configured one is added when missing).
TIME_ZONES = (
    "UTC",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Bogota",
    "America/Argentina/Buenos_Aires",
    "America/Santiago",
    "America/Lima",
    "America/New_York",
    "Europe/Lisbon",
    "Europe/Madrid",
)


# -- how things are shown ------------------------------------------------------------------------------------------
def local_time(i: Instant | None, tz: str) -> str:
    """``2026-03-01 14:30`` in ``tz`` (the zone is named next to the dates, not on each one)."""
    return "" if i is None else f"{i.in_zone(tz).to_datetime():%Y-%m-%d %H:%M}"


def money(m: Money) -> str:
    """Money for people: ``BRL 1,234.56``."""
    return format_money(m.minor, m.currency)


def entry_items(e: LedgerEntry) -> str:
    """What a refund gave back, as every list names it ("2 × Caneca Azul (SKU 346), shipping": the one wording,
    :func:`refundkit.ledger.items.describe_lines`); empty for a refund of an amount only."""
    return describe_lines(e.lines) if e.lines else ""


def entry_amount(e: LedgerEntry) -> str:
    """A refund's or a reversal's amount as every list shows it: a reversal takes money back, so it is negative
    (``BRL -12.50``, as :func:`refundkit.money.format_money` writes a negative amount)."""
    return money(e.signed)


_CLI_CLAUSE = re.compile(r"\s*[;:(]\s*[^;:()]*`refundkit [^`]*`[^;)]*\)?")
_CLI_COMMAND = re.compile(r"`refundkit [^`]*`")


def no_command_line(text: str) -> str:
    """Drop a "run `refundkit …`" clause from a lower layer's message: the person here has no command line."""
    out = _CLI_COMMAND.sub("this desk", _CLI_CLAUSE.sub("", text)).strip()
    return out + ")" * (out.count("(") - out.count(")"))


def failure_text(exc: BaseException) -> str:
    """What a form shows for an error instead of a traceback."""
    if isinstance(exc, ForbiddenEndpoint):  # refused here, before anything was sent: say why, not "VTEX failed"
        return no_command_line(str(exc))
    if isinstance(exc, VtexError):
        return (
            f"VTEX did not answer as expected ({no_command_line(str(exc))}). Nothing is lost: try again in a "
            "moment; the same refund is never recorded twice."
        )
    if isinstance(exc, RefundkitError):
        return no_command_line(str(exc))
    return f"Something unexpected went wrong ({type(exc).__name__}). Try again; if it repeats, tell your administrator."


def list_html(heading: str, items: list[str], css: str) -> str:
    """A heading and one bullet per item (each without a command line), in a ``div`` of class ``css``."""
    lis = "".join(f"<li>{escape(no_command_line(i))}</li>" for i in items)
    return f"<div class='{css}'><b>{escape(heading)}</b><ul>{lis}</ul></div>"


def refused_html(problems: list[str], what: str = "recorded") -> str:
    """Every reason an action was refused, under "Refused — nothing was ``what``:"."""
    return list_html(f"Refused — nothing was {what}:", problems, "refundkit-refused")


#: The types of the files the forms offer for download.
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_link(data: bytes, *, filename: str, label: str, mime: str) -> str:
    """A link ``label``, styled as a button, that saves ``data`` (of type ``mime``) as ``filename`` when clicked (a
    data URI: no server, so it works in JupyterLab, Voilà and a saved notebook alike). Keywords only: a file name and
    a label are both text, and one cannot take the other's place."""
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f"<a class='refundkit-download' download='{escape(filename)}' href='data:{mime};base64,{encoded}' "
        "style='display:inline-block;padding:0.3em 0.8em;margin-right:0.5em;border:1px solid #888;"
        f"border-radius:3px;text-decoration:none'>{escape(label)}</a>"
    )


# -- the form ------------------------------------------------------------------------------------------------------
class Form:
    """A form: its ``widget`` (shown by itself in a notebook cell) and its busy state.

    While an action runs the form is busy; :meth:`guarded` runs each button's action. A subclass refreshes which
    buttons are enabled in :meth:`_sync`, called after every action."""

    widget: w.Box
    _busy: bool = False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _sync(self, _change: Any = None) -> None:
        """Enable or disable the buttons for the form's current state (nothing by default)."""

    def guarded(self, button: w.Button, busy: str, action: Callable[[], None]) -> None:
        """Run ``action`` with ``button`` disabled and relabelled ``busy``. A click that arrives while it runs, or
        that was sent before the browser saw the button disabled (it is handled after the first one finishes),
        finds the button disabled or the form busy and is ignored, silently."""
        if self._busy or button.disabled:
            return
        self._busy = True
        idle = button.description
        button.disabled = True
        button.description = busy
        try:
            action()
        finally:
            self._busy = False
            button.description = idle
            self._sync()


# -- controls every tab shares -------------------------------------------------------------------------------------
def store_zone(ledger: Any, tz: str | None = None) -> str:
    """The zone a form shows times in: ``tz`` when given; else the store's (``REFUNDKIT_STORE_TZ``, which the ledger
    reads dates without a time in); else UTC."""
    return tz or getattr(ledger, "store_tz", None) or "UTC"


def time_zone_picker(tz: str, style: dict[str, str] | None = None) -> w.Dropdown:
    """The "Time zone" control: :data:`TIME_ZONES`, with ``tz`` first when it is not among them."""
    zones = TIME_ZONES if tz in TIME_ZONES else (tz, *TIME_ZONES)
    return w.Dropdown(options=zones, value=tz, description="Time zone", style=style or {})


def reversal_question(entry: LedgerEntry, tz: str, *, order: bool = False) -> str:
    """What the reversal panel asks before a refund is reversed (the Record form and the Refunds tab)."""
    on = f" on order {escape(entry.order_id)}" if order else ""
    return (
        f"<b>Reverse the refund of {escape(money(entry.amount))}</b>{on} via {escape(entry.source)}, reference "
        f"{escape(entry.external_ref)}, refunded {local_time(entry.refunded_at, tz)} ({escape(tz)})? "
        "Both stay on record (nothing is deleted) and the order's refundable balance goes back up. Say why:"
    )


class ReversalPanel:
    """The panel that asks why before a refund is reversed: ``text`` (the question), ``reason``, ``button``
    ("Reverse refund", enabled once a reason is typed), ``cancel``; ``box`` is hidden until :meth:`open`.
    ``entry`` is the refund it asks about (None when closed). The form runs the reversal itself (``on_reverse``)."""

    def __init__(
        self,
        form: Form,
        on_reverse: Callable[[], None],
        *,
        label: str,
        style: dict[str, str] | None = None,
        layout: w.Layout | None = None,
        border: str = "#d9a400",
    ) -> None:
        self.form = form
        self.entry: LedgerEntry | None = None
        self.text = w.HTML()
        self.reason = w.Text(
            description=label, placeholder="why this refund is undone", style=style or {}, layout=layout or w.Layout()
        )
        self.button = w.Button(description="Reverse refund", button_style="warning", disabled=True)
        self.cancel = w.Button(description="Cancel")
        self.box = w.VBox(
            [self.text, self.reason, w.HBox([self.button, self.cancel])],
            layout=w.Layout(display="none", border=f"1px solid {border}", padding="0.5em", margin="0.5em 0"),
        )
        self.button.on_click(lambda _b: on_reverse())
        self.cancel.on_click(lambda _b: self.close())
        self.reason.observe(lambda _c: self.sync(), names="value")

    def sync(self) -> None:
        """Enable the button when a refund is open and a reason typed, and the form is not busy."""
        self.button.disabled = self.form._busy or self.entry is None or not self.reason.value.strip()

    def open(self, entry: LedgerEntry, tz: str, *, order: bool = False) -> None:
        """Ask about reversing ``entry`` (its times in ``tz``; its order named when ``order``), with an empty reason
        (ignored while the form is busy)."""
        if self.form._busy:
            return
        self.entry = entry
        self.text.value = reversal_question(entry, tz, order=order)
        self.reason.value = ""
        self.box.layout.display = ""
        self.sync()

    def close(self) -> None:
        self.entry = None
        self.box.layout.display = "none"
        self.reason.value = ""
        self.sync()
