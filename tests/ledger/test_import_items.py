"""Import by item: optional ``sku``, ``quantity``, ``shipping`` and ``restock`` columns, a row per item, the rows of
one refund sharing its reference; checked by the one validation path, in the file's own dialect, exactly once."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from refundkit.ledger import Ledger, import_refunds
from refundkit.ledger.csvimport import result_csv
from refundkit.money import Money
from refundkit.sandbox.store import OrderSummary

from .helpers import Env

HEADER = "order_id,amount,refunded_at,source,external_ref,reason,sku,quantity,shipping,restock"


def write(tmp: Path, lines: list[str], name: str = "items.csv", encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes("\r\n".join([*lines, ""]).encode(encoding))
    return path


def two_skus(env: Env) -> OrderSummary:
    return env.orders.several_skus()


def test_rows_of_one_reference_are_one_refund_of_their_items_recorded_once(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    by_sku = {x.sku: x for x in ledger.order_items(o.order_id).lines}  # before: the price of the first units
    lines = [
        HEADER,
        f"{o.order_id},,2026-04-20,cash,R-ITEMS-1,damaged,{first.sku},1,,yes",
        f"{o.order_id},,2026-04-20,cash,R-ITEMS-1,,{second.sku},,yes,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded", "recorded"], [r.message for r in report.rows]
    assert report.rows[0].entry_id == report.rows[1].entry_id is not None
    assert "one refund with line 3" in report.rows[0].message
    assert report.rows[1].message.startswith("one refund with line 2")
    [entry] = ledger.entries(order_id=o.order_id)
    got = [(x.kind, x.sku, x.quantity) for x in entry.lines]
    assert got == [("item", first.sku, 1), ("item", second.sku, 1), ("shipping", "", 0)], got
    price = by_sku[first.sku].price_for(1) + by_sku[second.sku].price_for(1) + Money(o.shipping_cents, "BRL")
    assert entry.amount == price, "no amount given: the price paid for the units and the shipping"
    assert entry.restock is True and entry.reason == "damaged"

    before = env.writes()
    again = import_refunds(env.ledger(), write(env.tmp, lines))
    assert [r.outcome for r in again.rows] == ["already recorded"] * 2 and env.writes() == before
    assert f"(SKU {first.sku})" in again.rows[0].message, "the refund's items are named"
    edited = [lines[0], lines[1].replace(f",{first.sku},1,", f",{first.sku},2,"), lines[2]]
    changed = import_refunds(env.ledger(), write(env.tmp, edited))
    assert [r.outcome for r in changed.rows] == ["refused"] * 2 and env.writes() == before
    assert "not the items of this row" in changed.rows[0].message


def test_amounts_on_every_row_are_added_up_and_may_be_lower_than_the_price(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    lines = [
        HEADER,
        f"{o.order_id},1.00,2026-04-20,cash,R-PART-1,partial,{first.sku},1,,",
        f"{o.order_id},2.50,2026-04-20,cash,R-PART-1,partial,{second.sku},1,,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded", "recorded"], [r.message for r in report.rows]
    [entry] = ledger.entries(order_id=o.order_id)
    assert entry.amount == Money(350, "BRL") and {x.sku for x in entry.lines} == {first.sku, second.sku}
    assert entry.restock is None, "an empty restock cell says nothing"


def test_a_zero_in_the_shipping_column_is_no_shipping(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    lines = [
        "order_id;amount;refunded_at;source;external_ref;reason;sku;quantity;shipping",
        f"{o.order_id};;20/04/2026;cash;R-ZERO-1;avaria;{first.sku};1;0",
        f"{o.order_id};;20/04/2026;cash;R-ZERO-1;avaria;{second.sku};1;0,00",
        f"{o.order_id};1,00;20/04/2026;cash;R-ZERO-2;avaria;;;0",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded"] * 3, [r.message for r in report.rows]
    entries = {e.external_ref: e for e in ledger.entries(order_id=o.order_id)}
    assert [x.kind for x in entries["R-ZERO-1"].lines] == ["item", "item"], "no shipping line"
    assert entries["R-ZERO-2"].lines == () and entries["R-ZERO-2"].amount == Money(100, "BRL")


def test_a_pt_br_file_of_items_is_read_in_its_dialect_and_answered_in_it(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first = o.items[0]
    price = ledger.order_items(o.order_id).lines[0].price_for(1)
    lines = [
        "order_id;amount;refunded_at;source;external_ref;reason;sku;quantity;shipping",
        f"{o.order_id};;20/04/2026;cash;REEMB-I-1;avaria;{first.sku};1;0,50",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, encoding="cp1252"))
    assert [r.outcome for r in report.rows] == ["recorded"], [r.message for r in report.rows]
    [entry] = ledger.entries(order_id=o.order_id)
    assert entry.amount == price + Money(50, "BRL"), "the shipping read with the file's decimal comma"
    assert [(x.kind, x.amount) for x in entry.lines if x.kind == "shipping"] == [("shipping", Money(50, "BRL"))]
    assert entry.refunded_at.isoformat()[:10] == "2026-04-20"
    rows = list(csv.reader(io.StringIO(result_csv(report).decode("cp1252")), delimiter=";"))
    assert len(rows) == 2 and rows[1][2] == entry.amount.decimal_str().replace(".", ","), rows


def test_a_bad_row_refuses_its_whole_refund_and_writes_nothing(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    lines = [
        HEADER,
        f"{o.order_id},,2026-04-20,cash,R-BAD-1,,{first.sku},1,,",
        f"{o.order_id},,2026-04-20,cash,R-BAD-1,,{second.sku},{second.quantity + 1},,",  # more than bought
        f"{o.order_id},,2026-04-20,cash,R-BAD-2,,,3,,",  # a quantity without an item
        f"{o.order_id},1.00,2026-04-20,cash,R-BAD-3,,{first.sku},1,,",  # an amount on one row of two only
        f"{o.order_id},,2026-04-20,cash,R-BAD-3,,{second.sku},1,,",
        f"{o.order_id},,2026-04-20,cash,R-BAD-4,,{first.sku},1,,",  # two dates for one refund
        f"{o.order_id},,2026-04-21,cash,R-BAD-4,,{second.sku},1,,",
        f"{o.order_id},,2026-04-20,cash,R-BAD-5,,99999999,1,,",  # no such SKU on the order
    ]
    before = env.writes()
    report = import_refunds(ledger, write(env.tmp, lines))
    got = {r.line: (r.outcome, r.message) for r in report.rows}
    assert all(outcome == "refused" for outcome, _ in got.values()), got
    assert second.sku in got[2][1] and got[3][1].startswith("one refund with line 2"), got
    assert "names no item" in got[4][1]
    assert "on every row of this refund or on none" in got[5][1]
    assert "line 8 gives refunded_at" in got[7][1]
    assert "99999999" in got[9][1]
    assert all(r.entry_id is None for r in report.rows)
    assert env.writes() == before and ledger.entries(order_id=o.order_id) == []


def test_units_taken_by_a_row_above_are_not_refundable_again(env: Env, ledger: Ledger) -> None:
    o = env.orders.pick(
        lambda o: o.status == "invoiced" and o.currency == "BRL" and not o.input_invoices and len(o.items) == 1,
        "invoiced order of one line",
    )
    line = o.items[0]
    lines = [
        HEADER,
        f"{o.order_id},,2026-04-20,cash,R-UNITS-1,,{line.sku},{line.quantity},,",
        f"{o.order_id},,2026-04-20,cash,R-UNITS-2,,{line.sku},1,,",  # every unit went on the row above
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded", "refused"], [r.message for r in report.rows]
    assert line.sku in report.rows[1].message
    assert len(ledger.entries(order_id=o.order_id)) == 1


def test_a_second_row_without_an_item_still_repeats_the_first(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    lines = [
        HEADER,
        f"{o.order_id},1.00,2026-04-20,cash,R-REP-1,,,,,",
        f"{o.order_id},1.00,2026-04-20,cash,R-REP-1,,,,,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded", "refused"]
    assert report.rows[1].message.startswith("repeats line 2")


def test_each_row_keeps_its_own_amount_on_its_line(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    price = {x.sku: x.price_for(1) for x in ledger.order_items(o.order_id).lines}
    assert price[second.sku] > Money(100, "BRL") and o.shipping_cents > 50
    lines = [
        HEADER,
        f"{o.order_id},{price[first.sku].decimal_str()},2026-04-20,cash,R-OWN-1,,{first.sku},1,,",
        f"{o.order_id},1.00,2026-04-20,cash,R-OWN-1,,{second.sku},1,,",
        f"{o.order_id},0.50,2026-04-20,cash,R-OWN-1,,,,yes,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded"] * 3, [r.message for r in report.rows]
    [entry] = ledger.entries(order_id=o.order_id)
    got = [(x.kind, x.sku, x.amount) for x in entry.lines]
    assert got == [
        ("item", first.sku, price[first.sku]),
        ("item", second.sku, Money(100, "BRL")),
        ("shipping", "", Money(50, "BRL")),
    ], "each line keeps the amount typed on its row, not a share of the rows' total"
    assert entry.amount == price[first.sku] + Money(150, "BRL")


def test_a_row_above_its_items_price_is_refused_naming_it_though_the_total_fits(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    price = {x.sku: x.price_for(1) for x in ledger.order_items(o.order_id).lines}
    assert price[first.sku] > Money(2, "BRL")
    over = price[second.sku] + Money(1, "BRL")
    lines = [
        HEADER,
        f"{o.order_id},0.01,2026-04-20,cash,R-OVER-1,,{first.sku},1,,",
        f"{o.order_id},{over.decimal_str()},2026-04-20,cash,R-OVER-1,,{second.sku},1,,",
    ]
    before = env.writes()
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["refused"] * 2, [r.message for r in report.rows]
    message = report.rows[0].message
    assert f"line 3: amount {over}" in message and f"(SKU {second.sku})" in message, message
    assert f"{price[second.sku]} at the price paid" in message, message
    assert all(r.entry_id is None for r in report.rows)
    assert env.writes() == before and ledger.entries(order_id=o.order_id) == []


def test_an_ambiguous_sku_in_a_file_names_the_value_for_its_sku_column(env: Env, ledger: Ledger) -> None:
    o = env.orders.repeated_sku()
    items = ledger.order_items(o.order_id).lines
    sku = next(x.sku for x in items if sum(y.sku == x.sku for y in items) > 1)
    lines = [HEADER, f"{o.order_id},,2026-04-20,cash,R-AMB-1,,{sku},1,,"]
    report = import_refunds(ledger, write(env.tmp, lines))
    [row] = report.rows
    assert row.outcome == "refused" and "--item" not in row.message, row.message
    assert row.message.startswith(f"line 2: SKU {sku} is on 2 lines"), row.message
    assert f"write it in the sku column, such as {sku}#1" in row.message, row.message


def test_a_row_with_an_item_and_the_shipping_shares_its_amount_between_them(env: Env, ledger: Ledger) -> None:
    o = two_skus(env)
    first, second = o.items[0], o.items[1]
    price = {x.sku: x.price_for(1) for x in ledger.order_items(o.order_id).lines}
    ship = Money(o.shipping_cents, "BRL")
    cap = price[first.sku] + ship
    lines = [
        HEADER,
        f"{o.order_id},{cap.decimal_str()},2026-04-20,cash,R-SHIP-1,,{first.sku},1,yes,",
        f"{o.order_id},1.00,2026-04-20,cash,R-SHIP-1,,{second.sku},1,,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines))
    assert [r.outcome for r in report.rows] == ["recorded"] * 2, [r.message for r in report.rows]
    [entry] = ledger.entries(order_id=o.order_id)
    got = [(x.kind, x.amount) for x in entry.lines]
    assert got == [("item", price[first.sku]), ("item", Money(100, "BRL")), ("shipping", ship)], got

    over = [lines[0], lines[1].replace("R-SHIP-1", "R-SHIP-2").replace(cap.decimal_str(), "0.01"), lines[2]]
    over[2] = over[2].replace("R-SHIP-1", "R-SHIP-2")
    refused = import_refunds(env.ledger(), write(env.tmp, over))
    assert [r.outcome for r in refused.rows] == ["refused"] * 2, [r.message for r in refused.rows]
    assert "shipping" in refused.rows[0].message, "the shipping was refunded by the refund above"
