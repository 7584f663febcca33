"""The Record form's item picker (and the Import tab's item columns), driven without a browser against a real
ledger on a sandbox served on loopback: the order's items with their refundable units and price paid, and its
shipping; picking fills the amount, which may be lowered but not raised; nothing stale after a look-up or a
recording."""

from __future__ import annotations

from typing import Any

import pytest

import refundkit
from refundkit.ledger.items import ItemBalance, OrderItems
from refundkit.money import Money
from refundkit.present.import_form import ImportForm
from refundkit.present.item_picker import line_labels, pick_selectors
from refundkit.present.record_form import RecordForm
from refundkit.testing import OrderPicker

from .test_record_form import text


@pytest.fixture
def rk(served_sandbox: Any, tmp_path: Any) -> Any:
    env = served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    with refundkit.connect(settings=refundkit.config.load_settings(env=env, env_file=False)) as session:
        session.ledger.setup()
        yield session


@pytest.fixture
def picker(served_sandbox: Any) -> OrderPicker:
    return OrderPicker(served_sandbox.sb, set())


def several_lines(picker: OrderPicker) -> str:
    return picker.several_skus(units=2).order_id


def fill(form: RecordForm, reference: str) -> None:
    form.source.value = "cash"
    form.reference.value = reference
    form.reason.value = "arrived broken"
    form.confirm.value = True


def test_the_picker_shows_each_line_and_picking_fills_the_amount_at_the_price_paid(rk: Any, picker: Any) -> None:
    oid = several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    items = rk.ledger.order_items(oid)
    assert len(form.items.units) == len(items.lines)
    assert [b.max for b in form.items.units] == [x.refundable for x in items.lines]
    rows = form.items.grid.children
    assert [text(c.value) for c in rows[:3]] == ["Item", "Units left to refund", "Price paid (the line)"]
    for i, x in enumerate(items.lines):
        name, left, paid, box = rows[4 + 4 * i : 8 + 4 * i]
        assert (text(name.value), text(left.value)) == (x.label, f"{x.refundable} of {x.bought} bought")
        assert text(paid.value) == f"BRL {x.paid.decimal_str()}" and box is form.items.units[i], "money as money"
    assert form.amount.value == ""

    n = next(i for i, x in enumerate(items.lines) if x.bought > 1)
    line = items.lines[n]
    form.items.units[n].value = 2
    assert form.amount.value == line.price_for(2).decimal_str()
    assert f"2 × {line.label}" in text(form.items.summary.value)
    assert form.items.restock.layout.display == "", "restock is asked once units are picked"
    form.items.shipping.value = True
    assert Money(int(form.amount.value.replace(".", "")), "BRL") == line.price_for(2) + items.shipping_refundable
    form.items.shipping.value = False
    form.items.units[n].value = 0
    assert form.amount.value == "", "nothing picked: the amount the picks filled in goes"


def test_a_lowered_amount_is_recorded_with_the_units_and_the_picker_starts_again(rk: Any, picker: Any) -> None:
    oid = several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    items = rk.ledger.order_items(oid)
    n = next(i for i, x in enumerate(items.lines) if x.bought > 1)
    line = items.lines[n]
    form.items.units[n].value = 1
    form.items.restock.value = True
    lower = Money(line.price_for(1).minor - 1, "BRL")
    form.amount.value = lower.decimal_str()
    fill(form, "CASH-ITEM-1")
    form.record_button.click()
    shown = text(form.result.value)
    assert shown.startswith(f"Recorded: a refund of BRL {lower.decimal_str()} for 1 × {line.label} via cash"), shown
    [entry] = rk.ledger.entries(order_id=oid)
    assert entry.amount == lower and [(x.sku, x.quantity) for x in entry.lines] == [(line.sku, 1)]
    assert entry.restock is True
    # recorded: the picker shows the units left and nothing picked, and the amount for them is gone
    assert form.amount.value == ""
    assert form.items.units[n].max == line.refundable - 1 and all(b.value == 0 for b in form.items.units)
    assert form.items.restock.value is False and form.items.summary.value == ""
    assert f"1 × {line.label}" in text(form.ledger_view.children[1].children[9 + 3].value)


def test_more_than_the_picked_units_allow_is_refused_and_nothing_is_written(rk: Any, picker: Any) -> None:
    oid = several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    line = rk.ledger.order_items(oid).lines[0]
    form.items.units[0].value = 1
    form.amount.value = (line.price_for(1) + Money(100, "BRL")).decimal_str()
    fill(form, "CASH-ITEM-2")
    form.record_button.click()
    shown = text(form.result.value)
    assert shown.startswith("Refused — nothing was recorded"), shown
    assert rk.ledger.entries(order_id=oid) == []


def test_picked_units_fill_in_and_record_with_the_amount_left_empty(rk: Any, picker: Any) -> None:
    oid = several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    items = rk.ledger.order_items(oid)
    form.items.units[0].value = 1
    form.items.shipping.value = True
    fill(form, "CASH-ITEM-3")
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded"), form.result.value
    assert form.amount.value == "", "the amount was the price of what was picked: not a proposal any more"
    [entry] = rk.ledger.entries(order_id=oid)
    assert entry.amount == items.lines[0].price_for(1) + items.shipping_refundable
    assert [x.kind for x in entry.lines] == ["item", "shipping"]
    assert form.items.shipping.disabled, "no shipping is left to refund"


def test_a_new_look_up_shows_the_new_orders_items_with_nothing_picked(rk: Any, picker: Any) -> None:
    first, second = several_lines(picker), several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = first
    form.items.units[0].value = 1
    form.items.shipping.value = True
    form.order_id.value = second
    assert form.amount.value == "" and form.items.summary.value == ""
    assert all(b.value == 0 for b in form.items.units) and form.items.shipping.value is False
    assert [b.max for b in form.items.units] == [x.refundable for x in rk.ledger.order_items(second).lines]


def test_the_same_units_under_another_reference_warn_of_a_likely_duplicate(rk: Any, picker: Any) -> None:
    oid = several_lines(picker)
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    n = next(i for i, x in enumerate(rk.ledger.order_items(oid).lines) if x.bought > 1)
    form.items.units[n].value = 1
    fill(form, "CASH-ITEM-4")
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded")
    form.items.units[n].value = 1
    fill(form, "CASH-ITEM-5")
    form.record_button.click()
    shown = text(form.result.value)
    assert shown.startswith("Likely duplicate — nothing was recorded yet"), shown
    assert f"for 1 × {rk.ledger.order_items(oid).lines[n].label} via cash, reference CASH-ITEM-4" in shown
    assert len(rk.ledger.entries(order_id=oid)) == 1


def test_the_import_tab_checks_a_file_by_item_and_records_each_refund_once(rk: Any, picker: Any) -> None:
    o = picker.several_skus()
    first, second = o.items[0], o.items[1]
    data = (
        "order_id;amount;refunded_at;source;external_ref;reason;sku;quantity;shipping\n"
        f"{o.order_id};;20/04/2026;cash;IMP-IT-1;devolução;{first.sku};1;\n"
        f"{o.order_id};;20/04/2026;cash;IMP-IT-1;;{second.sku};1;sim\n"
    ).encode("cp1252")
    form = ImportForm(rk.ledger)
    form.load(data, "reembolsos.csv")
    assert "2 rows, 2 would be recorded" in text(form.summary.value)
    table = text(form.rows.value)
    assert f"1 × {rk.ledger.order_items(o.order_id).lines[0].label}" in table and "shipping" in table
    assert "one refund with line 2" in table
    form.confirm.value = True
    form.record_button.click()
    assert "2 recorded" in text(form.result.value)
    [entry] = rk.ledger.entries(order_id=o.order_id)
    assert [x.kind for x in entry.lines] == ["item", "item", "shipping"]
    form.load(data, "reembolsos.csv")  # the same file again: nothing new
    assert "0 would be recorded, 2 already recorded" in text(form.summary.value)


def test_each_line_is_picked_by_the_selector_that_names_it_exactly() -> None:
    def line(i: int, sku: str, unique_id: str = "") -> ItemBalance:
        return ItemBalance(i, sku, unique_id, "Caneca", 2, 0, 0, 2, Money(1000, "BRL"))

    lines = (line(0, "346"), line(1, "227"), line(2, "346"), line(3, "346", "AB12"), line(4, "9", "CD34"))
    assert pick_selectors(lines) == ["346#1", "227", "346#2", "AB12", "CD34"]
    gift = ItemBalance(5, "9", "", "Brinde", 1, 0, 0, 1, Money(0, "BRL"), is_gift=True)
    assert line_labels((*lines, gift)) == [
        "Caneca (SKU 346), line 1 of 3",
        "Caneca (SKU 227)",
        "Caneca (SKU 346), line 2 of 3",
        "Caneca (SKU 346), line 3 of 3",
        "Caneca (SKU 9), line 1 of 2",
        "Brinde (SKU 9), line 2 of 2, a gift",
    ]
    items = OrderItems("1-01", lines, Money(0, "BRL"), Money(0, "BRL"))
    assert [items.resolve(s).line_index for s in pick_selectors(lines)] == [0, 1, 2, 3, 4], "the ledger reads them so"


def test_a_sku_on_two_lines_is_two_rows_and_units_of_the_second_are_recorded_on_it(rk: Any, picker: Any) -> None:
    oid = picker.repeated_sku().order_id
    items = rk.ledger.order_items(oid)
    sku = next(x.sku for x in items.lines if sum(1 for y in items.lines if y.sku == x.sku) > 1)
    second = [i for i, x in enumerate(items.lines) if x.sku == sku][1]
    form = RecordForm(rk.ledger)
    form.order_id.value = oid
    assert len(form.items.units) == len(items.lines)
    labels = [b.description for b in form.items.units]
    assert len(set(labels)) == len(labels), "no two rows read alike"
    assert labels[second] == f"Units of {items.lines[second].label}, line 2 of 2"
    form.items.units[second].value = 1
    assert form.amount.value == items.lines[second].price_for(1).decimal_str()
    fill(form, "CASH-ITEM-6")
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded"), form.result.value
    [entry] = rk.ledger.entries(order_id=oid)
    assert [(x.sku, x.unique_id, x.quantity) for x in entry.lines] == [(sku, items.lines[second].unique_id, 1)]
    left = rk.ledger.order_items(oid).lines
    assert [x.refundable for x in left] == [
        x.refundable - (1 if i == second else 0) for i, x in enumerate(items.lines)
    ], "the units came off the second line, not the first"
