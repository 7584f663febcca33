"""The Record form's item picker: the order's items with the units still refundable and the price paid, and the
shipping; picking units gives the price paid for them, which fills the form's amount.

Each line of the order is a row: its name and SKU, the units bought and still refundable (bought, less units on VTEX
return invoices, less units in offline refunds not reversed: :func:`refundkit.ledger.items.order_items`), what the
customer paid for the line, and a "Units to refund" box (0 up to the units refundable). The shipping is a row with
a checkbox, offering what is left of the order's shipping. Under them: what is picked in the one wording every list
uses (:func:`refundkit.ledger.items.describe_lines`) and its price paid, and the restock checkbox (a recorded flag:
refundkit moves no inventory).

A line is picked by the selector that names it exactly: its ``uniqueId`` when VTEX gives one, else ``SKU#N`` when
the SKU is on several lines, else the SKU; the ledger checks the picks again when it records (the one validation
path, :func:`refundkit.ledger.rules.check_refund`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w

from ..ledger.items import ItemBalance, ItemPick, OrderItems, Plan, describe_lines, plan_lines
from ..money import Money
from .formkit import list_html, money

__all__ = ["ItemPicker", "line_labels", "pick_selectors"]

_GRID = "minmax(12em, 26em) 13em 13em 9em"
_HEAD = ("Item", "Units left to refund", "Price paid (the line)", "Units to refund")
_SHIPPING_TEXT = "Refund the shipping"
_RESTOCK_TEXT = "The refunded items go back to stock (recorded only: refundkit moves no inventory)"


def pick_selectors(lines: tuple[ItemBalance, ...]) -> list[str]:
    """The selector that names each line exactly: its uniqueId, else ``SKU#N`` for a SKU on several lines (N from 1,
    in the order's order), else the SKU."""
    many = Counter(line.sku for line in lines)
    seen: Counter[str] = Counter()
    out = []
    for line in lines:
        seen[line.sku] += 1
        if line.unique_id:
            out.append(line.unique_id)
        elif many[line.sku] > 1:
            out.append(f"{line.sku}#{seen[line.sku]}")
        else:
            out.append(line.sku)
    return out


def line_labels(lines: tuple[ItemBalance, ...]) -> list[str]:
    """Each line as the picker names it: its label, and for a SKU on several lines which of them (``Caneca Azul
    (SKU 346), line 2 of 2``), so that no two rows (nor their boxes) read alike; a gift says so."""
    many = Counter(line.sku for line in lines)
    seen: Counter[str] = Counter()
    out = []
    for line in lines:
        seen[line.sku] += 1
        extra = f", line {seen[line.sku]} of {many[line.sku]}" if many[line.sku] > 1 else ""
        out.append(line.label + extra + (", a gift" if line.is_gift else ""))
    return out


class ItemPicker:
    """The order's items and shipping, and what is picked of them. ``widget`` is empty until :meth:`show`.

    Child widgets: ``units`` (one ``BoundedIntText`` a line, labelled "Units of NAME (SKU n)"), ``shipping``
    (checkbox), ``restock`` (checkbox, shown once units are picked), ``summary`` (what is picked and its price
    paid). ``on_change`` is called with the price paid for what is picked (None when nothing is)."""

    def __init__(self, on_change: Callable[[Money | None], None]) -> None:
        self.on_change = on_change
        self.items: OrderItems | None = None
        self.units: list[w.BoundedIntText] = []
        self.selectors: list[str] = []
        self.shipping = w.Checkbox(description=_SHIPPING_TEXT, indent=False, layout=w.Layout(width="auto"))
        self.restock = w.Checkbox(
            description=_RESTOCK_TEXT, indent=False, layout=w.Layout(width="auto", display="none")
        )
        self.summary = w.HTML()
        self.grid = w.GridBox([], layout=w.Layout(grid_template_columns=_GRID, grid_gap="0.2em 1em"))
        self.grid.add_class("refundkit-items")
        self.shipping.add_class("refundkit-items-shipping")
        self.restock.add_class("refundkit-items-restock")
        self.summary.add_class("refundkit-items-summary")
        self._quiet = False
        self.shipping.observe(self._changed, names="value")
        self.widget = w.VBox([], layout=w.Layout(margin="0.5em 0 1em 0"))
        self.widget.add_class("refundkit-item-picker")

    # -- what is shown -------------------------------------------------------------------------------------------
    def show(self, items: OrderItems | None, note: str = "") -> None:
        """Show ``items`` (None: nothing, or ``note`` alone), nothing picked."""
        self.items = items
        self._quiet = True
        try:
            self.shipping.value = False
            self.restock.value = False
        finally:
            self._quiet = False
        self.restock.layout.display = "none"
        self.summary.value = ""
        self.units, self.selectors = [], []
        if items is None:
            self.grid.children = ()
            self.widget.children = (w.HTML(f"<p>{escape(note)}</p>"),) if note else ()
            return
        cells: list[w.Widget] = [w.HTML(f"<b>{escape(h)}</b>") for h in _HEAD]
        self.selectors = pick_selectors(items.lines)
        for line, label in zip(items.lines, line_labels(items.lines), strict=True):
            box = w.BoundedIntText(
                value=0,
                min=0,
                max=max(line.refundable, 0),
                disabled=line.refundable <= 0,
                description=f"Units of {label}",
                style={"description_width": "0"},  # named for screen readers and tests; the row names it on screen
                layout=w.Layout(width="6em"),
            )
            box.add_class("refundkit-item-units")
            box.observe(self._changed, names="value")
            self.units.append(box)
            left = f"{line.refundable} of {line.bought} bought"
            gone = []
            if line.returned_on_vtex:
                gone.append(f"{line.returned_on_vtex} returned on VTEX")
            if line.refunded_offline:
                gone.append(f"{line.refunded_offline} refunded offline")
            cells += [
                w.HTML(escape(label)),
                w.HTML(escape(left) + (f"<br><small>{escape(', '.join(gone))}</small>" if gone else "")),
                w.HTML(escape(money(line.paid))),
                box,
            ]
        self.grid.children = tuple(cells)
        ship = items.shipping_refundable
        self.shipping.description = f"{_SHIPPING_TEXT} ({money(ship)} left of {money(items.shipping_charged)})"
        self.shipping.disabled = ship.minor <= 0
        heading = w.HTML(
            "<b>What was refunded</b> (optional): pick the units and the shipping that went back; the amount "
            "becomes the price paid for them, and you may lower it."
        )
        self.widget.children = (heading, self.grid, self.shipping, self.summary, self.restock)

    # -- what is picked ------------------------------------------------------------------------------------------
    def picks(self) -> list[ItemPick]:
        """The units picked, one pick a line."""
        return [ItemPick(sel, int(box.value)) for sel, box in zip(self.selectors, self.units, strict=True) if box.value]

    def shipping_pick(self) -> bool | None:
        """True: refund what is left of the order's shipping; None: no shipping."""
        return True if self.shipping.value and not self.shipping.disabled else None

    def restock_pick(self) -> bool | None:
        """The restock flag when units are picked (None: no units, nothing to say)."""
        return bool(self.restock.value) if self.picks() else None

    def plan(self) -> Plan | None:
        """What is picked, as the ledger would record it at the price paid (:func:`refundkit.ledger.items.plan_lines`,
        the rule the ledger uses), or None when nothing is."""
        picks, shipping = self.picks(), self.shipping_pick()
        if self.items is None or not (picks or shipping):
            return None
        return plan_lines(self.items, picks, shipping, None)

    def price(self) -> Money | None:
        """The price paid for what is picked, or None when nothing is (or it cannot be priced)."""
        plan = self.plan()
        return plan.total if plan is not None and not plan.problems else None

    def _changed(self, _change: Any = None) -> None:
        if self._quiet:
            return
        plan = self.plan()
        self.restock.layout.display = "" if self.picks() else "none"
        if plan is None:
            self.summary.value = ""
        elif plan.problems:
            self.summary.value = list_html("Cannot refund what is picked:", list(plan.problems), "refundkit-refused")
        else:
            assert plan.total is not None
            self.summary.value = (
                f"<div class='refundkit-picked'>Picked: {escape(describe_lines(plan.lines))}, price paid "
                f"<b>{escape(money(plan.total))}</b>. The amount is at most this; lower it for a partial "
                "refund.</div>"
            )
        self.on_change(self.price())
