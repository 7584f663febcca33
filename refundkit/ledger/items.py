"""Refunds by item: which lines of an order a refund gives back, how many units, at the price paid.

Pure functions over an order and its ledger; no I/O. The rules, each in one place:

* **What a line paid** is :attr:`refundkit.vtex.models.OrderItem.paid` (the rule is
  ``refundkit.vtex.models._line_paid``: VTEX's ``priceDefinition.total``, else ``sellingPrice`` × quantity, brought
  to the order's ``Items`` + ``Discounts`` totals so the lines add up to what the order's items paid).
* **The price of some units** (:meth:`ItemBalance.price_for`) is an exact share of the line's paid total: with
  ``k`` units of ``n`` gone already, ``u`` more cost ``⌊paid × (k + u) / n⌋ − ⌊paid × k / n⌋``. So the units of a
  line, refunded in any steps, add up to exactly what the line paid, never a minor unit more.
* **Units refundable** = units bought − units on VTEX's return invoices (their ``items``) − units in offline refunds
  not reversed. The ledger's entries carry their lines, so the count rides on the same conditional write that keeps
  the money balance (:mod:`refundkit.ledger.recording`): a recorder that lost a race decides again on the winner's
  entries, units included.
* **Shipping refundable** = the order's ``Shipping`` total − the shipping of offline refunds not reversed (all of it
  once a return invoice gave the freight back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from ..money import Money
from ..textsafety import clip
from ..vtex.models import Order, OrderItem, allocate
from .model import REFUND, OrderLedger, RefundLine, RefundRefused

__all__ = [
    "ITEM",
    "SHIPPING",
    "ItemBalance",
    "ItemPick",
    "OrderItems",
    "Plan",
    "RefundLine",
    "describe_lines",
    "order_items",
    "parse_pick",
    "plan_lines",
]

ITEM: Final = "item"
SHIPPING: Final = "shipping"

_PICK = re.compile(r"^\s*(?P<sel>[^:\s][^:]*?)\s*(?::\s*(?P<qty>[^:]*?)\s*)?$")


@dataclass(frozen=True)
class ItemPick:
    """Units of one line asked for: ``selector`` is a SKU (``346``), the N-th line of a SKU (``346#2``) or a line's
    ``uniqueId``; ``quantity`` is at least 1.

    A pick from a file's row (``where``: ``line 3``) may carry that row's own ``amount`` (its text as typed, or a
    :class:`Money`), the money that went back for its units, and for the refund's shipping too when ``ships`` (the
    shipping is on that row): :func:`plan_lines` keeps it on the line instead of sharing one amount over the lines."""

    selector: str
    quantity: int = 1
    amount: Money | str | None = None
    where: str = ""
    ships: bool = False

    def __str__(self) -> str:
        return f"{self.selector}:{self.quantity}"


def parse_pick(text: str | ItemPick) -> ItemPick:
    """``"346:2"`` → ``ItemPick("346", 2)``; the quantity defaults to 1. :class:`RefundRefused` with one line saying
    what to type when the text is not that."""
    if isinstance(text, ItemPick):
        if not text.selector.strip() or text.quantity < 1:
            raise RefundRefused([f"item {clip(str(text))}: give a SKU and a quantity of at least 1, such as 346:2"])
        return text
    m = _PICK.match(text or "") if isinstance(text, str) else None
    if m is None:
        raise RefundRefused(
            [f"item {clip(str(text))} is not SKU[:QUANTITY]: give the order's SKU id and the units, such as 346:2"]
        )
    qty_text = m.group("qty")
    if qty_text is None:
        return ItemPick(m.group("sel"), 1)
    if not re.fullmatch(r"\d{1,6}", qty_text) or int(qty_text) < 1:
        raise RefundRefused(
            [f"item {clip(text)}: the quantity {clip(qty_text)} is not a whole number of units of at least 1 (346:2)"]
        )
    return ItemPick(m.group("sel"), int(qty_text))


@dataclass(frozen=True)
class ItemBalance:
    """One line of an order and its units: bought, gone back through VTEX, refunded offline, still refundable."""

    line_index: int
    sku: str
    unique_id: str
    name: str
    bought: int
    returned_on_vtex: int
    refunded_offline: int
    refundable: int
    paid: Money
    is_gift: bool = False

    @property
    def label(self) -> str:
        """``Caneca Azul (SKU 346)``."""
        return f"{self.name} (SKU {self.sku})" if self.name else f"SKU {self.sku}"

    def price_for(self, units: int) -> Money:
        """The price paid for ``units`` more units of this line (see the module: exact shares, never above
        what the line paid)."""
        if self.bought <= 0 or units <= 0:
            return Money.zero(self.paid.currency)
        gone = self.bought - self.refundable
        upto = min(self.bought, gone + units)
        return Money(self.paid.minor * upto // self.bought - self.paid.minor * gone // self.bought, self.paid.currency)

    def left(self) -> str:
        """What is left of the line, in words: ``1 unit left to refund (bought 3, 1 returned on VTEX, 1 refunded
        offline)``."""
        parts = [f"bought {self.bought}"]
        if self.returned_on_vtex:
            parts.append(f"{self.returned_on_vtex} returned on VTEX")
        if self.refunded_offline:
            parts.append(f"{self.refunded_offline} refunded offline")
        units = "unit" if self.refundable == 1 else "units"
        return f"{self.refundable} {units} left to refund ({', '.join(parts)})"


@dataclass(frozen=True)
class OrderItems:
    """An order's lines with their unit balances, and its shipping."""

    order_id: str
    lines: tuple[ItemBalance, ...]
    shipping_charged: Money
    shipping_refunded: Money

    @property
    def shipping_refundable(self) -> Money:
        left = self.shipping_charged - self.shipping_refunded
        return left if left.minor > 0 else Money.zero(left.currency)

    def choices(self, sku: str) -> list[str]:
        """How to name each line of ``sku``: ``346#1``, ``346#2``..."""
        same = [b for b in self.lines if b.sku == sku]
        return [f"{sku}#{n}" for n in range(1, len(same) + 1)]

    def _catalogue(self) -> str:
        return ", ".join(f"{b.sku} ({b.name})" if b.name else b.sku for b in self.lines) or "none"

    def resolve(self, pick: ItemPick | str) -> ItemBalance:
        """The line ``pick`` names. :class:`RefundRefused` naming the SKU when no line is it, and the choices when
        several lines are."""
        p = parse_pick(pick)
        sel = p.selector.strip()
        for b in self.lines:
            if b.unique_id and b.unique_id.lower() == sel.lower():
                return b
        sku, _, nth = sel.partition("#")
        same = [b for b in self.lines if b.sku == sku]
        if not same:
            raise RefundRefused(
                [f"SKU {clip(sku)} is not on order {self.order_id}; its items are: {self._catalogue()}"]
            )
        if nth:
            if not nth.isdigit() or not 1 <= int(nth) <= len(same):
                raise RefundRefused(
                    [
                        (
                            f"{clip(sel)}: SKU {sku} is on {len(same)} line(s) of order {self.order_id}; "
                            f"pick one of {', '.join(self.choices(sku))}"
                        )
                    ]
                )
            return same[int(nth) - 1]
        if len(same) > 1:
            options = "; ".join(
                f"{choice} ({b.bought} × {b.name or 'SKU ' + sku}, paid {b.paid}"
                + (", a gift" if b.is_gift else "")
                + (f", uniqueId {b.unique_id}" if b.unique_id else "")
                + ")"
                for choice, b in zip(self.choices(sku), same, strict=True)
            )
            said = f"SKU {sku} is on {len(same)} lines of order {self.order_id}: say which with {options}"
            if p.where:  # a file's row: the value to write in its sku column, not a command-line flag
                said = f"{p.where}: {said}; write it in the sku column, such as {self.choices(sku)[0]}"
            else:
                said += f", such as --item {self.choices(sku)[0]}:{p.quantity}"
            raise RefundRefused([said])
        return same[0]


def _is_reversed(ledger: OrderLedger, entry_id: str) -> bool:
    return ledger.reversal_of(entry_id) is not None


def _line_of(line: RefundLine, items: Sequence[OrderItem]) -> int | None:
    """The order line an entry's line counted against: its uniqueId, else its line index, else its SKU's first."""
    if line.unique_id:
        for it in items:
            if it.unique_id == line.unique_id:
                return it.line_index
    if line.line_index is not None and 0 <= line.line_index < len(items) and items[line.line_index].sku == line.sku:
        return line.line_index
    for it in items:
        if it.sku == line.sku:
            return it.line_index
    return None


def order_items(order: Order, ledger: OrderLedger) -> OrderItems:
    """The order's lines with their unit balances, and its shipping, from the order and its ledger (pure)."""
    cur = order.currency
    items = order.items
    returned = [0] * len(items)
    freight = False
    for inv in order.return_invoices:
        freight = freight or inv.freight
        for r in inv.items:
            if r.line_index is not None and 0 <= r.line_index < len(items):
                returned[r.line_index] += r.quantity
                continue
            left = r.quantity  # named by SKU only: onto that SKU's lines, in order
            for it in items:
                if it.sku == r.sku and left > 0:
                    take = min(left, max(0, it.quantity - returned[it.line_index]))
                    returned[it.line_index] += take
                    left -= take
            if left > 0:  # more than the lines hold: kept on the first line of the SKU, never dropped
                for it in items:
                    if it.sku == r.sku:
                        returned[it.line_index] += left
                        break
    offline = [0] * len(items)
    shipping = Money.zero(cur)
    for e in ledger.entries:
        if e.kind != REFUND or not e.lines or _is_reversed(ledger, e.entry_id):
            continue
        for line in e.lines:
            if line.kind == SHIPPING:
                if line.amount.currency == cur:
                    shipping = shipping + line.amount
                continue
            idx = _line_of(line, items)
            if idx is not None:
                offline[idx] += line.quantity
    charged = order.totals.get("Shipping") or Money.zero(cur)
    if charged.minor < 0:
        charged = Money.zero(cur)
    if freight:
        shipping = charged
    balances = tuple(
        ItemBalance(
            line_index=it.line_index,
            sku=it.sku,
            unique_id=it.unique_id,
            name=it.name,
            bought=it.quantity,
            returned_on_vtex=returned[i],
            refunded_offline=offline[i],
            refundable=max(0, it.quantity - returned[i] - offline[i]),
            paid=it.paid_total,
            is_gift=it.is_gift,
        )
        for i, it in enumerate(items)
    )
    return OrderItems(order.order_id, balances, charged, shipping)


@dataclass(frozen=True)
class Plan:
    """The lines of a proposed refund and their total, or the problems with it."""

    lines: tuple[RefundLine, ...]
    total: Money | None
    problems: tuple[str, ...] = ()


def plan_lines(
    available: OrderItems,
    picks: Iterable[ItemPick],
    shipping: Any,
    amount: Money | None,
) -> Plan:
    """The lines of a refund of ``picks`` (and ``shipping``: None none, True the shipping left, a Money that much)
    on the order, each at the price paid; with ``amount`` (lower than the lines' total: a partial refund) the lines
    are scaled down to it exactly, in proportion (:func:`~refundkit.vtex.models.allocate`). Picks that carry their
    own amount (a file's rows) keep it instead, each at most what its units (and the shipping, when it ``ships``)
    cost, and ``amount`` is then their sum. Every problem is collected: an unknown or ambiguous SKU, units beyond
    what is left, shipping beyond what is left, an amount above what the lines allow."""
    cur = available.shipping_charged.currency
    problems: list[str] = []
    wanted: dict[int, int] = {}
    own: dict[int, list[ItemPick]] = {}  # the picks of each line, for their own amounts
    by_index = {b.line_index: b for b in available.lines}
    for pick in picks:
        try:
            b = available.resolve(pick)
        except RefundRefused as exc:
            problems.extend(exc.problems)
            continue
        wanted[b.line_index] = wanted.get(b.line_index, 0) + pick.quantity
        own.setdefault(b.line_index, []).append(pick)
    lines: list[RefundLine] = []
    for idx, qty in wanted.items():
        b = by_index[idx]
        if qty > b.refundable:
            problems.append(
                f"{b.label} on order {available.order_id}: {qty} unit{'s' if qty != 1 else ''} asked, {b.left()}"
            )
            continue
        lines.append(RefundLine(ITEM, b.sku, b.unique_id, b.name, qty, b.price_for(qty), b.line_index))
    if shipping is not None and shipping is not False:
        left = available.shipping_refundable
        ship = left if shipping is True else shipping
        if not isinstance(ship, Money):
            problems.append("shipping: give an amount such as 12.50, or no amount for what is left of it")
        elif ship.minor <= 0 and shipping is True:
            problems.append(
                f"order {available.order_id} has no shipping left to refund (charged {available.shipping_charged}, "
                f"refunded {available.shipping_refunded})"
            )
        elif ship.minor <= 0:
            problems.append(f"shipping {ship} must be more than zero")
        elif ship > left:
            problems.append(
                f"shipping {ship} is more than the shipping left to refund on order {available.order_id}: {left} "
                f"(charged {available.shipping_charged}, refunded {available.shipping_refunded})"
            )
        else:
            lines.append(RefundLine(SHIPPING, "", "", "shipping", 0, ship))
    if problems:
        return Plan((), None, tuple(problems))
    if any(p.amount is not None for ps in own.values() for p in ps):
        return _own_amounts(lines, own, amount, cur)
    full = Money(sum(line.amount.minor for line in lines), cur)
    if amount is None:
        if not lines:
            return Plan((), None, ("name the items (--item SKU[:QTY]) or the shipping to refund, or an amount",))
        if full.minor <= 0:
            return Plan(
                tuple(lines),
                None,
                (
                    (
                        f"the customer paid nothing for {describe_lines(lines)} (a gift or a free item), so "
                        "nothing of it can be refunded: record the money that went back with --amount alone"
                    ),
                ),
            )
        return Plan(tuple(lines), full)
    if amount > full:
        return Plan(
            tuple(lines),
            amount,
            (
                (
                    f"amount {amount} is more than {describe_lines(lines)} allow: {full} at the price paid; "
                    "give at most that (a lower amount is a partial refund)"
                ),
            ),
        )
    if amount == full:
        return Plan(tuple(lines), amount)
    parts = allocate(amount.minor, [line.amount.minor for line in lines])
    scaled = tuple(
        RefundLine(line.kind, line.sku, line.unique_id, line.name, line.quantity, Money(p, cur), line.line_index)
        for line, p in zip(lines, parts, strict=True)
    )
    return Plan(scaled, amount)


def _own_amounts(lines: list[RefundLine], own: dict[int, list[ItemPick]], amount: Money | None, cur: str) -> Plan:
    """The lines of a refund whose picks carry their own amounts: each item line keeps its picks' amounts (with the
    shipping, when a pick ``ships``, sharing that amount in proportion to their prices); the shipping otherwise keeps
    its own. A pick's amount above what its units (and shipping) cost is refused naming its row and SKU."""
    ship = next((x for x in lines if x.kind == SHIPPING), None)
    problems: list[str] = []
    out: list[RefundLine] = []
    for line in lines:
        if line.kind == SHIPPING or line.line_index is None:
            continue
        picks = own[line.line_index]
        where = ", ".join(dict.fromkeys(p.where for p in picks if p.where))
        head = f"{where}: " if where else ""
        given = [p.amount for p in picks]
        if not all(isinstance(a, Money) and a.currency == cur for a in given):
            problems.append(f"{head}give an amount in {cur} for {describe_lines([line])}, as for the other items")
            continue
        mine = Money(sum(a.minor for a in given if isinstance(a, Money)), cur)
        parts = [line, ship] if ship is not None and any(p.ships for p in picks) else [line]
        cap = Money(sum(x.amount.minor for x in parts), cur)
        if mine.minor <= 0:
            problems.append(f"{head}amount {mine} for {describe_lines([line])} must be more than zero")
        elif mine > cap:
            problems.append(
                f"{head}amount {mine} is more than {describe_lines(parts)} allow: {cap} at the price paid; "
                "give at most that (a lower amount is a partial refund)"
            )
        else:
            split = allocate(mine.minor, [x.amount.minor for x in parts])
            out.append(replace(line, amount=Money(split[0], cur)))
            if len(split) > 1 and ship is not None:
                ship = replace(ship, amount=Money(split[1], cur))
    if ship is not None:
        out.append(ship)
    total = Money(sum(x.amount.minor for x in out), cur)
    if not problems and amount is not None and amount != total:
        problems.append(f"amount {amount} is not the lines' own amounts added up: {total}")
    if problems:
        return Plan((), None, tuple(problems))
    return Plan(tuple(out), total)


def describe_lines(lines: Iterable[RefundLine]) -> str:
    """``2 × Caneca Azul (SKU 346), shipping``: the one wording of a refund's lines (note, listings, desk)."""
    out = []
    for line in lines:
        if line.kind == SHIPPING:
            out.append("shipping")
        else:
            label = f"{line.name} (SKU {line.sku})" if line.name else f"SKU {line.sku}"
            out.append(f"{line.quantity} × {label}")
    return ", ".join(out)
