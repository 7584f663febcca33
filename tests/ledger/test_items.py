"""Refunds by item: units and the price paid, refused beyond what is left, given back by a reversal, recorded once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundkit.ledger import Ledger, RefundRefused
from refundkit.ledger.items import ItemBalance, ItemPick, describe_lines, order_items, parse_pick
from refundkit.ledger.model import OrderLedger, RefundConflict, RefundLine
from refundkit.ledger.notetext import MAX_ITEMS_CHARS, items_text, note_text
from refundkit.money import Money
from refundkit.sandbox.orderdetail import item_shape
from refundkit.sandbox.store import OrderSummary
from refundkit.vtex.models import Order

from .helpers import Env, notes_of, stored_doc


def _multi(env: Env, *, qty: int = 2, shipping: bool = False) -> OrderSummary:
    """An invoiced BRL order whose first line has at least ``qty`` units and whose SKUs are on one line each (and
    that charged shipping, with ``shipping``)."""
    return env.orders.pick(
        lambda o: (
            o.status == "invoiced"
            and (o.shipping_cents > 0 or not shipping)
            and o.currency == "BRL"
            and not o.input_invoices
            and o.items[0].quantity >= qty
            and len({i.sku for i in o.items}) == len(o.items)
            and len(item_shape(o).lines) == len(o.items)  # no line read as two lines of one SKU
        ),
        f"order with {qty} units of a SKU",
    )


def test_parse_pick_reads_sku_and_quantity_and_refuses_bad_text() -> None:
    assert parse_pick("346:2") == ItemPick("346", 2)
    assert parse_pick("346") == ItemPick("346", 1)
    assert parse_pick(" 346#2 : 3 ") == ItemPick("346#2", 3)
    for bad in ("346:0", "346:x", "346:-1", ":2", ""):
        with pytest.raises(RefundRefused) as exc:
            parse_pick(bad)
        assert "346:2" in str(exc.value)


def test_the_lines_are_named_as_people_read_them() -> None:
    lines = (
        RefundLine("item", "346", "u1", "Caneca Azul", 2, Money(16390, "BRL")),
        RefundLine("shipping", "", "", "shipping", 0, Money(1000, "BRL")),
    )
    assert describe_lines(lines) == "2 × Caneca Azul (SKU 346), shipping"


def test_one_unit_is_refunded_at_the_price_paid_and_units_beyond_are_refused(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=2)
    line = o.items[0]
    result = ledger.record(o.order_id, None, "cash", "IT-1", items=[f"{line.sku}:1"])
    assert result.recorded_now
    paid = line.selling_price * line.quantity
    assert result.entry.amount.minor == paid // line.quantity  # the first unit: an exact share, rounded down
    assert [(x.sku, x.quantity) for x in result.entry.lines] == [(line.sku, 1)]
    left = line.quantity - 1
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "IT-2", items=[f"{line.sku}:{left + 1}"])
    text = str(exc.value)
    assert f"SKU {line.sku}" in text and f"{left} unit" in text and "left to refund" in text
    rest = ledger.record(o.order_id, None, "cash", "IT-3", items=[f"{line.sku}:{left}"])
    assert result.entry.amount.minor + rest.entry.amount.minor == paid  # the units add up to what the line paid
    assert ledger.order_items(o.order_id).lines[0].refundable == 0


def test_an_unreadable_item_is_refused_for_what_it_is_not_as_if_no_item_were_named(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=1)
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "BAD-1", items=[f"{o.items[0].sku}:0"])
    assert len(exc.value.problems) == 1 and "whole number of units" in exc.value.problems[0]
    assert ledger.order_ledger(o.order_id).entries == ()


def test_a_reversal_gives_the_units_back(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=1)
    sku, qty = o.items[0].sku, o.items[0].quantity
    first = ledger.record(o.order_id, None, "cash", "RV-1", items=[f"{sku}:{qty}"])
    with pytest.raises(RefundRefused):
        ledger.record(o.order_id, None, "cash", "RV-2", items=[f"{sku}:1"])
    ledger.reverse(first.entry.entry_id, "typed the wrong order")
    assert ledger.order_items(o.order_id).lines[0].refundable == qty
    again = ledger.record(o.order_id, None, "cash", "RV-2", items=[f"{sku}:{qty}"])
    assert again.recorded_now and again.entry.amount == first.entry.amount


def test_the_same_refund_with_the_same_lines_is_recorded_once_and_with_other_lines_is_a_conflict(
    env: Env, ledger: Ledger
) -> None:
    o = _multi(env, qty=2)
    sku = o.items[0].sku
    first = ledger.record(o.order_id, None, "cash", "EO-1", items=[f"{sku}:1"])
    again = ledger.record(o.order_id, None, "cash", "EO-1", items=[f"{sku}:1"])
    assert again.outcome.value == "already recorded" and again.entry.entry_id == first.entry.entry_id
    # the balance shown counts the refund once: not twice, and not zero times (as if it were not recorded)
    assert again.quote.refundable == first.quote.refundable == ledger.quote(o.order_id).refundable
    with pytest.raises(RefundConflict) as exc:
        ledger.record(o.order_id, first.entry.amount.decimal_str(), "cash", "EO-1", items=[f"{sku}:2"])
    assert "already recorded" in str(exc.value) and "reverse" in str(exc.value)
    assert len(ledger.order_ledger(o.order_id).entries) == 1


def test_a_partial_amount_is_allowed_but_not_more_than_the_items(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=1)
    line = o.items[0]
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, str(line.selling_price + 1), "cash", "PA-1", items=[f"{line.sku}:1"])
    assert "at the price paid" in str(exc.value)
    part = ledger.record(o.order_id, "1.00", "cash", "PA-2", items=[f"{line.sku}:1"])
    assert part.entry.amount == Money(100, "BRL") and part.entry.lines[0].amount == Money(100, "BRL")
    assert ledger.order_items(o.order_id).lines[0].refunded_offline == 1


def test_the_entry_document_keeps_the_lines_and_restock(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=1)
    line = o.items[0]
    r = ledger.record(o.order_id, None, "cash", "DOC-1", items=[f"{line.sku}:1"], restock=True)
    doc = stored_doc(env.sb, ledger.entity, r.entry.entry_id)
    assert doc is not None and doc["restock"] is True
    assert doc["lines"] == [
        {
            "kind": "item",
            "sku": line.sku,
            "uniqueId": r.entry.lines[0].unique_id,
            "name": r.entry.lines[0].name,
            "quantity": 1,
            "amountMinor": r.entry.amount.minor,
            "lineIndex": 0,
        }
    ]
    assert r.entry.lines[0].unique_id and r.entry.lines[0].name
    back = ledger.order_ledger(o.order_id).entries[0]
    assert back.lines == r.entry.lines and back.restock is True


def _line(n: int, name: str = "Caneca Azul") -> RefundLine:
    return RefundLine("item", str(300 + n), f"u{n}", name, 2, Money(16390, "BRL"), n)


def test_the_note_names_the_items_and_stays_under_vtex_note_limit(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=2, shipping=True)
    line = o.items[0]
    r = ledger.record(o.order_id, None, "cash", "NOTE-1", items=[f"{line.sku}:2"], shipping=True, restock=False)
    notes = notes_of(env.sb, o.order_id)
    assert len(notes) == 1
    text = notes[0]["description"]
    name = r.entry.lines[0].name
    assert f"Offline refund of {r.entry.amount} for 2 × {name} (SKU {line.sku}), shipping recorded by" in text
    assert r.entry.amount.minor == line.selling_price * 2 + o.shipping_cents
    assert "Goods not back to stock" in text and text.endswith(f"[refundkit:{r.entry.entry_id}]")
    # many long names, a long reason and note: at most 2,000 characters, the items cut at a whole line, the id kept
    long = replace(
        r.entry,
        lines=tuple(_line(n, "Caneca " + "Azul " * 30) for n in range(40)),
        reason="r" * 500,
        note="n" * 1000,
        over_refund=True,
        over_refund_reason="o" * 500,
    )
    cut = note_text(long, r.quote)
    assert len(cut) <= 2000 and cut.endswith(f"[refundkit:{r.entry.entry_id}]")
    assert "more lines" in cut and len(items_text(long.lines)) <= MAX_ITEMS_CHARS


def test_a_sku_on_several_lines_is_refused_naming_the_choices_and_each_line_can_be_named(
    env: Env, ledger: Ledger
) -> None:
    o = env.orders.pick(
        lambda x: (
            x.status == "invoiced"
            and x.currency == "BRL"
            and not x.input_invoices
            and len({i.sku for i in x.items}) == len(x.items)
            and len(item_shape(x).lines) > len(x.items)
        ),
        "order with a SKU on two lines",
    )
    shape = item_shape(o)
    split = next(i for i in range(len(o.items)) if sum(1 for k, _ in shape.lines if k == i) == 2)
    sku = o.items[split].sku
    before = len(env.writes())
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "AMB-1", items=[f"{sku}:1"])
    (problem,) = exc.value.problems
    assert f"SKU {sku} is on 2 lines of order {o.order_id}" in problem
    assert f"{sku}#1" in problem and f"{sku}#2" in problem and "uniqueId" in problem
    assert len(env.writes()) == before
    lines = [b for b in ledger.order_items(o.order_id).lines if b.sku == sku]
    second_units = lines[1].bought
    r = ledger.record(o.order_id, None, "cash", "AMB-2", items=[f"{sku}#2:{second_units}"])
    assert [(x.unique_id, x.quantity) for x in r.entry.lines] == [(lines[1].unique_id, second_units)]
    assert r.entry.amount.minor == o.items[split].selling_price * second_units
    after = [b for b in ledger.order_items(o.order_id).lines if b.sku == sku]
    assert (after[0].refundable, after[1].refundable) == (lines[0].bought, 0)
    by_id = ledger.record(o.order_id, None, "cash", "AMB-3", items=[f"{lines[0].unique_id}:1"])
    assert by_id.entry.lines[0].unique_id == lines[0].unique_id


def test_units_returned_on_a_vtex_return_invoice_are_not_refundable_offline(env: Env, ledger: Ledger) -> None:
    o = env.orders.pick(
        lambda x: (
            x.status == "invoiced"
            and x.currency == "BRL"
            and any(inv.items for inv in x.input_invoices)
            and len(item_shape(x).lines) == len(x.items)
            and len({i.sku for i in x.items}) == len(x.items)
        ),
        "order with a return invoice that lists items",
    )
    returned: dict[int, int] = {}
    for inv in o.input_invoices:
        for i, q in inv.items:
            returned[i] = returned.get(i, 0) + q
    i, q = next(iter(returned.items()))
    line = o.items[i]
    balance = ledger.order_items(o.order_id).lines[i]
    assert (balance.bought, balance.returned_on_vtex, balance.refundable) == (
        line.quantity,
        q,
        line.quantity - q,
    )
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "RET-1", items=[f"{line.sku}:{line.quantity - q + 1}"])
    text = str(exc.value)
    assert f"SKU {line.sku}" in text and f"{q} returned on VTEX" in text
    assert f"{line.quantity - q} unit" in text


def test_a_gift_paid_nothing_so_it_cannot_be_refunded_by_item(env: Env, ledger: Ledger) -> None:
    o = env.orders.pick(
        lambda x: x.status == "invoiced" and not x.input_invoices and item_shape(x).gift is not None,
        "order with a gift",
    )
    gift = ledger.order_items(o.order_id).lines[-1]
    assert gift.is_gift and gift.paid.minor == 0 and gift.bought == 1
    for amount in (None, "1.00"):
        with pytest.raises(RefundRefused) as exc:
            ledger.record(o.order_id, amount, "cash", "GIFT-1", items=[gift.unique_id])
        assert "paid nothing" in str(exc.value) or "at the price paid" in str(exc.value)
    assert ledger.order_ledger(o.order_id).entries == ()


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12), st.integers(0, 10**7), st.data())
def test_units_refunded_in_any_steps_add_up_to_what_the_line_paid(bought: int, paid: int, data: st.DataObject) -> None:
    left, total = bought, 0
    while left:
        units = data.draw(st.integers(1, left))
        b = ItemBalance(0, "346", "u", "Caneca", bought, 0, bought - left, left, Money(paid, "BRL"))
        price = b.price_for(units)
        assert 0 <= price.minor <= paid
        total += price.minor
        left -= units
    assert total == paid


def test_shipping_defaults_to_what_is_left_and_is_refused_beyond_it(env: Env, ledger: Ledger) -> None:
    o = _multi(env, qty=1, shipping=True)
    ship = Money(o.shipping_cents, "BRL")
    assert ledger.order_items(o.order_id).shipping_refundable == ship
    part = ledger.record(o.order_id, None, "cash", "SH-1", shipping="1.00")
    assert part.entry.amount == Money(100, "BRL") and part.entry.lines[0].kind == "shipping"
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "SH-2", shipping=(ship - Money(99, "BRL")).decimal_str())
    assert "more than the shipping left to refund" in str(exc.value) and str(ship - Money(100, "BRL")) in str(exc.value)
    rest = ledger.record(o.order_id, None, "cash", "SH-3", shipping=True)
    assert rest.entry.amount == ship - Money(100, "BRL")
    with pytest.raises(RefundRefused) as exc:
        ledger.record(o.order_id, None, "cash", "SH-4", shipping=True)
    assert "no shipping left to refund" in str(exc.value)
    ledger.reverse(rest.entry.entry_id, "wrong amount")
    assert ledger.order_items(o.order_id).shipping_refundable == ship - Money(100, "BRL")


def test_units_named_by_sku_only_on_a_return_invoice_fill_that_skus_lines_in_order() -> None:
    body = {
        "orderId": "1-01",
        "creationDate": "2026-01-01T00:00:00Z",
        "value": 3000,
        "storePreferencesData": {"currencyCode": "BRL"},
        "totals": [{"id": "Items", "value": 3000}, {"id": "Discounts", "value": 0}],
        "items": [
            {"uniqueId": "A", "id": "346", "name": "Caneca", "quantity": 1, "price": 1000, "sellingPrice": 1000},
            {"uniqueId": "B", "id": "346", "name": "Caneca", "quantity": 2, "price": 1000, "sellingPrice": 1000},
        ],
        "packageAttachment": {
            "packages": [
                {
                    "type": "Input",
                    "invoiceNumber": "R1",
                    "invoiceValue": 2000,
                    "items": [],
                    "restitutions": {
                        "Refund": {
                            "value": 2000,
                            "items": [
                                {"id": "346", "quantity": 2, "price": 1000, "isCompensation": False},
                                {"id": "346", "quantity": 0, "isCompensation": True, "compensationValue": 50},
                            ],
                        }
                    },
                }
            ]
        },
    }
    order = Order.from_vtex(body)
    (inv,) = order.return_invoices
    assert [(r.sku, r.quantity, r.line_index) for r in inv.items] == [("346", 2, None)]
    a, b = order_items(order, OrderLedger("1-01", 0)).lines
    assert (a.returned_on_vtex, a.refundable, b.returned_on_vtex, b.refundable) == (1, 0, 1, 1)


def test_a_note_posted_later_by_reconcile_names_the_items_and_a_reversal_names_them_too(
    env: Env, ledger: Ledger
) -> None:
    o = _multi(env, qty=1)
    line = o.items[0]
    env.fault("POST", "/api/do/notes", status=500, times=1)  # the note fails; the refund stays recorded
    r = ledger.record(o.order_id, None, "cash", "LATE-1", items=[f"{line.sku}:1"])
    assert r.pending == ("note",)
    report = ledger.reconcile(order_ids=[o.order_id])
    assert report.notes_posted == [r.entry.entry_id]
    name = r.entry.lines[0].name
    v = ledger.reverse(r.entry.entry_id, "wrong order")
    texts = [n["description"] for n in notes_of(env.sb, o.order_id)]
    assert f"Offline refund of {r.entry.amount} for 1 × {name} (SKU {line.sku})" in texts[0]
    assert (
        f"Reversal of offline refund {r.entry.entry_id} ({v.entry.amount} for 1 × {name} (SKU {line.sku})" in texts[1]
    )
