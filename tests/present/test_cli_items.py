"""``refundkit record --item``: a refund of units at the price paid, as a person types it."""

from __future__ import annotations

from cli_harness import Cli

from refundkit.ledger.model import refund_id
from refundkit.sandbox.orderdetail import item_shape
from refundkit.sandbox.store import OrderSummary


def _order(cli: Cli, qty: int = 2) -> OrderSummary:
    return cli.order(
        lambda o: (
            o.status == "invoiced"
            and o.currency == "BRL"
            and not o.input_invoices
            and o.shipping_cents > 0
            and o.items[0].quantity >= qty
            and len({i.sku for i in o.items}) == len(o.items)
            and len(item_shape(o).lines) == len(o.items)
        )
    )


def test_record_units_of_an_item_and_the_shipping(cli: Cli) -> None:
    o = _order(cli)
    line = o.items[0]
    base = ("record", o.order_id, "--source", "cash", "--ref", "ITEM-1", "--item", f"{line.sku}:2", "--shipping")
    dry = cli.run(*base, "--dry-run")
    assert dry.code == 0, dry.err
    assert "2 × " in dry.out and f"(SKU {line.sku})" in dry.out and "shipping" in dry.out
    assert "dry run: nothing written" in dry.out
    r = cli.run(*base, "--restock")
    assert r.code == 0, r.err
    paid = line.selling_price * 2 + o.shipping_cents
    eid = refund_id(o.order_id, "cash", "ITEM-1")
    assert r.out.startswith(f"recorded: {eid}") and f"BRL {paid // 100}.{paid % 100:02d}" in r.out
    assert "2 × " in r.out and f"(SKU {line.sku})" in r.out
    (note,) = cli.notes(o.order_id)
    assert f"(SKU {line.sku}), shipping" in note["description"] and "Goods back to stock" in note["description"]
    before = cli.writes()
    again = cli.run(*base, "--restock")
    assert again.code == 0 and again.out.startswith(f"already recorded: {eid}") and cli.writes() == before
    other = cli.run("record", o.order_id, "--source", "cash", "--ref", "ITEM-1", "--item", f"{line.sku}:1")
    assert other.code != 0 and "already recorded" in other.err and "not as" in other.err
    assert cli.writes() == before


def test_bad_item_input_is_one_line_and_writes_nothing(cli: Cli) -> None:
    o = _order(cli, qty=1)
    sku, qty = o.items[0].sku, o.items[0].quantity
    before = cli.writes()
    for args, words in (
        (("--item", f"{sku}:x"), "346:2"),
        (("--item", "999999:1"), "is not on order"),
        (("--item", f"{sku}:{qty + 1}"), "left to refund"),
        (("--item", f"{sku}:1", "--amount", "99999.00"), "at the price paid"),
        ((), "--item"),
    ):
        r = cli.run("record", o.order_id, "--source", "cash", "--ref", "BAD-1", *args)
        assert r.code != 0, (args, r.out)
        assert words in r.err, (args, r.err)
        assert len(r.err.strip().splitlines()) == 1, r.err
    assert cli.writes() == before


def test_quote_lists_the_items_as_record_names_them(cli: Cli) -> None:
    o = _order(cli, qty=1)
    r = cli.run("quote", o.order_id)
    assert r.code == 0, r.err
    for line in o.items:
        assert f"    {line.sku} " in r.out
    assert f"{o.items[0].quantity} unit" in r.out and "left to refund" in r.out and "shipping" in r.out
    j = cli.run("quote", o.order_id, "--json").json()
    assert [x["sku"] for x in j["items"]["lines"]][: len(o.items)] == [i.sku for i in o.items]


def test_record_by_item_as_json_carries_the_lines(cli: Cli) -> None:
    o = _order(cli, qty=1)
    line = o.items[0]
    r = cli.run(
        "record", o.order_id, "--source", "cash", "--ref", "JS-1", "--item", line.sku, "--amount", "1.00", "--json"
    )
    assert r.code == 0, r.err
    j = r.json()
    assert j["amount"] == "1.00" and "restock" not in j
    (x,) = j["lines"]
    assert (x["kind"], x["sku"], x["quantity"], x["amount"]) == ("item", line.sku, 1, "1.00")
