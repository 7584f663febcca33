"""The lists name what each refund gave back. ``refundkit refunds``: ``items`` in words (the one wording),
``restock``, and ``lines`` for programs (a JSON array) in CSV, JSON and XLSX; the text table keeps the words and
leaves ``lines`` out; read both from the order's ledger (``--order``) and from Master Data search (every other
listing). The desk's Refunds tab: an Items column, and the same columns in its exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from typing import Any

from cli_harness import Cli

import refundkit
from refundkit.config import load_settings
from refundkit.ledger import ItemPick, Ledger
from refundkit.present.refunds_tab import RefundsTab
from refundkit.testing import OrderPicker
from refundkit.vtex import VtexClient
from tests.xlsx_cells import grid, read_xlsx


def test_refunds_name_the_items_in_words_and_give_the_lines_to_programs(cli: Cli) -> None:
    o = OrderPicker(cli.sb, cli.used).several_skus()
    sku = o.items[0].sku
    with VtexClient(load_settings(env=cli.env(), env_file=False)) as client:
        ledger = Ledger(client, journal_dir=False, user="clerk")
        ledger.record(o.order_id, None, "cash", "R-IT-1", items=[ItemPick(sku, 1)], shipping=True, restock=True)
        ledger.record(o.order_id, "1.00", "cash", "R-AMT-1")

    for flags in (["--order", o.order_id], ["--search", "R-IT-1"]):  # the ledger document, and search
        rows = list(csv.DictReader(io.StringIO(cli.run("refunds", *flags, "--format", "csv").out)))
        [row] = [x for x in rows if x["external_ref"] == "R-IT-1"]
        assert (
            row["items"].startswith("1 × ") and f"(SKU {sku})" in row["items"] and row["items"].endswith(", shipping")
        ), row["items"]
        assert row["restock"] == "yes"
        lines = json.loads(row["lines"])
        assert [(x["kind"], x["sku"], x["quantity"]) for x in lines] == [("item", sku, 1), ("shipping", "", 0)]
        shipping = f"{o.shipping_cents // 100}.{o.shipping_cents % 100:02d}"
        assert lines[1]["amount"] == shipping, "amounts as the amount column writes them"
        total = sum(int(x["amount"].replace(".", "")) for x in lines)
        assert total == int(row["amount"].replace(".", "")), "the lines add up to the refund"
    [plain] = [x for x in rows if x["external_ref"] == "R-AMT-1"] or [
        x
        for x in csv.DictReader(io.StringIO(cli.run("refunds", "--order", o.order_id, "--format", "csv").out))
        if x["external_ref"] == "R-AMT-1"
    ]
    assert (plain["items"], plain["restock"], plain["lines"]) == ("", "", ""), "an amount only names no items"

    ledger_env = load_settings(env=cli.env(), env_file=False)
    with VtexClient(ledger_env) as client:
        Ledger(client, journal_dir=False, user="clerk").reverse(row["entry_id"], "typed on the wrong order")
    listed = list(csv.DictReader(io.StringIO(cli.run("refunds", "--order", o.order_id, "--format", "csv").out)))
    [back] = [x for x in listed if x["kind"] == "reversal"]
    assert back["items"] == row["items"], "a reversal names what it takes back"
    taken = json.loads(back["lines"])
    assert sum(int(x["amount"].replace(".", "")) for x in taken) == int(back["amount"].replace(".", "")) < 0

    table = cli.run("refunds", "--order", o.order_id, "--format", "table").out
    header = table.splitlines()[0].split()
    assert "items" in header and "restock" in header and "lines" not in header
    assert f"(SKU {sku}), shipping" in table and '"kind"' not in table

    book = cli.home / "refunds.xlsx"
    assert cli.run("refunds", "--order", o.order_id, "-o", str(book)).code == 0
    [sheet] = read_xlsx(book.read_bytes()).values()
    cells = [[c.value if c else None for c in r] for r in grid(sheet)]
    head = cells[0]
    [row_x] = [dict(zip(head, r, strict=False)) for r in cells[1:] if "R-IT-1" in r and "refund" in r]
    assert json.loads(row_x["lines"])[0]["sku"] == sku and f"(SKU {sku})" in row_x["items"]


def test_the_refunds_tab_names_the_items_and_exports_them(served_sandbox: Any, tmp_path: Any) -> None:
    env = served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    with refundkit.connect(settings=load_settings(env=env, env_file=False).with_(user="ana")) as rk:
        rk.ledger.setup()
        o = OrderPicker(served_sandbox.sb, set()).several_skus()
        sku = o.items[1].sku
        rk.ledger.record(o.order_id, None, "cash", "RK-ITEMS-1", items=[f"{sku}:1"], reason="broken")
        tab = RefundsTab(rk.ledger, tz="UTC")
        tab.search.value = "RK-ITEMS-1"
        tab.show_button.click()
        cells = [re.sub(r"<[^>]+>", "", str(getattr(c, "value", ""))) for c in tab.grid.children]
        assert cells[3] == "Items" and cells[10 + 3].startswith("1 × ") and f"(SKU {sku})" in cells[10 + 3]
        tab.export_button.click()
        data = dict(re.findall(r"download='([^']+)' href='data:[^;]+;base64,([A-Za-z0-9+/=]+)'", tab.downloads.value))
        listed = base64.b64decode(data["refunds-list_all-dates_UTC.csv"]).decode("utf-8-sig")
        [row] = csv.DictReader(io.StringIO(listed))
        assert row["items"] == cells[10 + 3] and json.loads(row["lines"])[0]["sku"] == sku
