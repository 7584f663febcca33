"""`refundkit items` and the analysis by item against figures computed here, independently, from the sandbox's own
orders (synced over real HTTP on loopback): units sold, units refunded on VTEX (return invoices' items) and offline
(the ledger's item refunds), per SKU, product, category and brand, per currency; orders without items counted and
said; an old store without the item fields still read; a reversal gives its units back."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import refundkit
from refundkit.analytics import OrderStore
from refundkit.analytics.items import UNKNOWN, item_report, refund_drivers
from refundkit.config import load_settings
from refundkit.money import format_minor, format_money
from refundkit.sandbox.orderdetail import item_shape
from refundkit.sandbox.store import catalog_entry
from refundkit.sandbox.variables import sandbox_variables
from refundkit.statuses import counts_in_gross
from refundkit.testing import check_nothing_moved, run_cli
from refundkit.timeutil import parse_instant
from tests.conftest import connected

STORE = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-15", "end": "2026-03-31", "seed": 23}
FIRST, LAST = "2026-03-01", "2026-03-31"
LO, HI = parse_instant("2026-03-01T00:00:00Z").ns, parse_instant("2026-04-01T00:00:00Z").ns
RANGE = ["--from", FIRST, "--to", LAST]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[refundkit.Session]:
    yield from connected(tmp_path / "cache", STORE)


def env_of(s: refundkit.Session, tmp_path: Path) -> dict[str, str]:
    assert s.sandbox is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    base_url = str(s.settings.base_url)  # the embedded sandbox, served on loopback
    env.update(sandbox_variables(base_url, s.sandbox.config), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    return env


def group_of(by: str, sku: str, product: int) -> str:
    _name, brand, category, _ = catalog_entry(product)
    return {"sku": sku, "product": str(100 + product), "category": category, "brand": brand}[by]


def expected(s: refundkit.Session, by: str) -> dict[tuple[str, str], list[int]]:
    """Per (group, currency): [units sold, units refunded on VTEX], from the sandbox's own orders: units of the
    orders created in March that gross counts; units of the return invoices issued in March on such orders."""
    assert s.sandbox is not None
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for o in s.sandbox.store.orders:
        if not counts_in_gross(o.status):
            continue
        if LO <= o.created.ns < HI:
            for line in o.items:
                out[(group_of(by, line.sku, line.product), o.currency)][0] += line.quantity
        for inv in o.input_invoices:
            if LO <= inv.issued.ns < HI:
                for index, qty in inv.items:
                    line = o.items[index]
                    out[(group_of(by, line.sku, line.product), o.currency)][1] += qty
    return dict(out)


def csv_rows(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """The CSV's rows, and the notes after them (rows of one cell starting "# ")."""
    cells = list(csv.reader(io.StringIO(text)))
    notes = [r[0][2:] for r in cells if len(r) == 1 and r[0].startswith("# ")]
    rows = [r for r in cells if not (len(r) == 1 and r[0].startswith("# "))]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], notes


def figures(rows: list[dict[str, str]], by: str) -> dict[tuple[str, str], list[int]]:
    return {
        (r[by], r["currency"]): [int(r["units_sold"]), int(r["units_refunded_vtex"])]
        for r in rows
        if int(r["units_sold"]) or int(r["units_refunded_vtex"])
    }


@pytest.mark.parametrize("by", ["sku", "product", "category", "brand"])
def test_items_match_the_sandboxs_orders(session: refundkit.Session, tmp_path: Path, by: str) -> None:
    env = env_of(session, tmp_path)
    p = run_cli(["items", *RANGE, "--by", by, "--details", "--format", "csv"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    rows, notes = csv_rows(p.stdout)
    want = expected(session, by)
    assert want and figures(rows, by) == want
    assert {c for _, c in want} == {"BRL", "USD"}  # one row per currency: never added
    for r in rows:
        sold, back = int(r["units_sold"]), int(r["units_refunded"])
        assert back == int(r["units_refunded_vtex"]) + int(r["units_refunded_offline"])
        assert r["refund_rate"] == ("" if not sold else r["refund_rate"])
        if sold:
            assert float(r["refund_rate"]) == pytest.approx(back / sold, abs=1e-6)
        # amounts in major units with the currency's two decimals, written from the integers
        assert all(len(r[a].rpartition(".")[2]) == 2 for a in ("refunded", "refunded_vtex", "refunded_offline"))
        assert Decimal(r["refunded"]) == Decimal(r["refunded_vtex"]) + Decimal(r["refunded_offline"])
    # every order of the range was read in full: none lacks items, and the notes say so
    assert any("0 of" in n and "BRL" in n for n in notes)


def test_every_refunded_amount_is_in_the_rows_or_the_notes(session: refundkit.Session) -> None:
    rep = item_report(session, FIRST, LAST, details=True, progress=False)
    assert session.sandbox is not None
    invoiced: Counter[str] = Counter()
    for o in session.sandbox.store.orders:
        if counts_in_gross(o.status):
            for inv in o.input_invoices:
                if LO <= inv.issued.ns < HI:
                    invoiced[o.currency] += inv.value
    for c in rep.coverage.iter_rows(named=True):
        assert c["refunded_minor"] == invoiced[c["currency"]]
        rows = rep.rows.filter(pl.col("currency") == c["currency"])
        in_rows = rows["refunded_minor"].sum()
        assert in_rows == c["item_refunded_minor"]
        assert in_rows + c["amount_only_minor"] + c["not_items_minor"] == c["refunded_minor"]


def test_orders_without_items_are_counted_and_said(session: refundkit.Session, tmp_path: Path) -> None:
    env = env_of(session, tmp_path)
    p = run_cli(["items", *RANGE, "--no-details", "--format", "json"], env, tmp_path)  # items of few orders only
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert session.sandbox is not None
    counted = Counter(
        o.currency for o in session.sandbox.store.orders if counts_in_gross(o.status) and LO <= o.created.ns < HI
    )
    for c in body["coverage"]:
        assert c["orders"] == counted[c["currency"]]
        # only the orders with a return invoice are read in full without --details
        assert 0 < c["orders_without_items"] < c["orders"]
        assert 0 < c["gross_without_items_minor"] < c["gross_minor"]
    assert any("have no items in the store" in n and "--no-details" in n for n in body["notes"])
    # the orders with a return invoice are read in full, the others not: a rate would be too high, so none is given
    sold = [r for r in body["rows"] if r["units_sold"]]
    assert sold and all(r["refund_rate"] is None for r in sold)
    assert all(t["refund_rate"] is None for t in body["totals"])
    assert all(
        any(n.startswith(f"{c['currency']}:") and "refund rates are n/a" in n for n in body["notes"])
        for c in body["coverage"]
    )
    p = run_cli(["items", *RANGE, "--no-sync", "--format", "table"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Note: BRL:" in p.stdout and "have no items in the store" in p.stdout
    assert "refund rates are n/a" in p.stdout and "%" not in p.stdout.split("Note:")[0].split("\n", 2)[2]


def test_items_reads_the_range_in_full_by_default_and_gives_every_rate(
    session: refundkit.Session, tmp_path: Path
) -> None:
    env = env_of(session, tmp_path)
    p = run_cli(["items", *RANGE, "--format", "json"], env, tmp_path)  # no flag: the range is read with details
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["coverage"] and all(c["orders_without_items"] == 0 for c in body["coverage"])
    sold = [r for r in body["rows"] if r["units_sold"]]
    assert sold and all(
        r["refund_rate"] == pytest.approx(r["units_refunded"] / r["units_sold"], abs=1e-6) for r in sold
    )
    assert not any("n/a" in n for n in body["notes"])
    # amounts as exact text and integer minor units, as the report's JSON gives them
    for r in body["rows"]:
        assert r["decimals"] == 2 and Decimal(r["refunded"]) * 100 == r["refunded_minor"]
    assert "BRL" in p.stdout and "Total" in p.stdout


def old_shape(store: OrderStore, month: str) -> None:
    """Rewrite the files of ``month`` as a store made before the item fields wrote them (the other months keep the
    new shape, as after a later sync): items with sku, name, quantity and unit price only; no units on return
    invoices; no lines on offline refunds."""
    first = pl.Struct({"sku": pl.String, "name": pl.String, "quantity": pl.Int64, "unit_price_minor": pl.Int64})
    for path in [p for p in store.iter_files() if p.parent.name == f"month={month}"]:
        df = pl.read_parquet(path)
        if "items" in df.columns and path.parts[-3] == "orders":
            df = df.with_columns(
                pl.col("items").list.eval(
                    pl.struct(pl.element().struct.field(f) for f in ("sku", "name", "quantity", "unit_price_minor"))
                )
            )
            assert df.schema["items"] == pl.List(first)
        else:
            df = df.drop([c for c in ("items", "lines") if c in df.columns])
        df.write_parquet(path)
        path.with_name(f".{path.name}.crc32").unlink(missing_ok=True)  # as written before checksums were kept


def test_an_old_store_without_item_fields_still_reads(session: refundkit.Session, tmp_path: Path) -> None:
    env = env_of(session, tmp_path)
    p = run_cli(["items", *RANGE, "--by", "category", "--details", "--format", "json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    before = json.loads(p.stdout)
    store = OrderStore.for_settings(session.settings)
    assert {p.parent.name for p in store.iter_files() if p.parts[-3] == "orders"} == {"month=2026-02", "month=2026-03"}
    old_shape(store, "2026-03")
    p = run_cli(["items", *RANGE, "--by", "category", "--no-sync", "--format", "json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    after = json.loads(p.stdout)
    # every unit sold in March is still counted, under "unknown": listed, never dropped
    for cur in ("BRL", "USD"):
        sold = sum(r["units_sold"] for r in before["rows"] if r["currency"] == cur)
        gifts = next(c["gift_units"] for c in before["coverage"] if c["currency"] == cur)
        rows = [r for r in after["rows"] if r["currency"] == cur and r["units_sold"]]
        assert [r["category"] for r in rows] == [UNKNOWN]
        assert rows[0]["units_sold"] == sold + gifts  # an old file cannot tell a gift: it counts as sold
    assert [c["orders"] for c in after["coverage"]] == [c["orders"] for c in before["coverage"]]
    # their return invoices name no units now: their amounts are said in the notes
    assert all(c["amount_only_refunds"] > 0 for c in after["coverage"])
    # the report over the same old files is unchanged, and the next sync writes the new shape again
    p = run_cli(["report", *RANGE, "--by", "month", "--no-sync", "--format", "csv"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    p = run_cli(["items", *RANGE, "--by", "category", "--details", "--refresh", "--format", "json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert "damaged" not in p.stderr  # the old files were merged with, not set aside
    assert json.loads(p.stdout)["rows"] == before["rows"]


def item_order(s: refundkit.Session, currency: str, skip: set[str]) -> tuple[str, str, int]:
    """An invoiced order created early in March in ``currency``, without a return invoice, and a SKU it has once:
    ``(order id, sku, units bought)``."""
    assert s.sandbox is not None
    for o in s.sandbox.store.orders:
        if o.order_id in skip or o.currency != currency or o.status != "invoiced" or o.input_invoices:
            continue
        if not LO <= o.created.ns < parse_instant("2026-03-15T00:00:00Z").ns:
            continue
        # the SKUs on one line of the order as VTEX sends it (the sandbox may split a line in two)
        skus = Counter(o.items[i].sku for i, _ in item_shape(o).lines)
        line = max((x for x in o.items if skus[x.sku] == 1), key=lambda x: x.quantity, default=None)
        if line is not None and line.quantity >= 2:
            return o.order_id, line.sku, line.quantity
    raise AssertionError(f"no {currency} order to refund by item")


def offline(rep_rows: pl.DataFrame, sku: str, currency: str) -> tuple[int, int]:
    row = rep_rows.filter((pl.col("key") == sku) & (pl.col("currency") == currency))
    return (0, 0) if not row.height else (row["units_refunded_offline"][0], row["refunded_offline_minor"][0])


def test_offline_units_come_from_item_refunds_and_a_reversal_gives_them_back(
    session: refundkit.Session, tmp_path: Path
) -> None:
    brl_order, brl_sku, _ = item_order(session, "BRL", set())
    usd_order, usd_sku, _ = item_order(session, "USD", set())
    plain_order, _, _ = item_order(session, "BRL", {brl_order})
    when = "2026-03-20"
    two = session.ledger.record(brl_order, None, "bank-transfer", "ITEMS-1", items=[f"{brl_sku}:2"], refunded_at=when)
    one = session.ledger.record(usd_order, None, "cash", "ITEMS-2", items=[usd_sku], refunded_at=when)
    session.ledger.record(plain_order, "5.00", "bank-transfer", "ITEMS-3", refunded_at=when)  # an amount only
    assert two.outcome == one.outcome == "recorded"
    paid = {line.sku: line.amount.minor for r in (two, one) for line in r.entry.lines}

    rep = item_report(session, FIRST, LAST, details=True, progress=False)
    assert offline(rep.rows, brl_sku, "BRL") == (2, paid[brl_sku])
    assert offline(rep.rows, usd_sku, "USD") == (1, paid[usd_sku])
    assert offline(rep.rows, usd_sku, "BRL") == (0, 0) or brl_sku == usd_sku  # a USD refund never shows in BRL
    brl = rep.coverage.filter(pl.col("currency") == "BRL").row(0, named=True)
    assert brl["amount_only_refunds"] >= 1 and brl["amount_only_minor"] >= 500
    env = env_of(session, tmp_path)
    p = run_cli(["items", *RANGE, "--no-sync", "--format", "csv"], env, tmp_path)
    rows, _ = csv_rows(p.stdout)
    mine = next(r for r in rows if r["sku"] == brl_sku and r["currency"] == "BRL")
    assert (mine["units_refunded_offline"], mine["refunded_offline"]) == ("2", format_minor(paid[brl_sku], "BRL"))

    session.ledger.reverse(two.entry.entry_id, "recorded on the wrong order")
    rep = item_report(session, FIRST, LAST, progress=False)
    assert offline(rep.rows, brl_sku, "BRL") == (0, 0)
    assert offline(rep.rows, usd_sku, "USD") == (1, paid[usd_sku])


def test_refund_drivers_are_exact_where_refunds_name_items_and_say_how_much_each_covers(
    session: refundkit.Session,
) -> None:
    order, sku, _ = item_order(session, "BRL", set())
    plain, _, _ = item_order(session, "BRL", {order})
    by_item = session.ledger.record(order, None, "cash", "DRIVERS-1", items=[sku], refunded_at="2026-03-20")
    session.ledger.record(plain, "7.00", "cash", "DRIVERS-2", refunded_at="2026-03-20")  # an amount only
    rep = item_report(session, FIRST, LAST, details=True, progress=False)
    drivers = refund_drivers(rep.figures, limit=None)
    for s in drivers.summary.iter_rows(named=True):
        cur = s["currency"]
        # every refunded unit of money is exact, estimated or tied to no SKU: nothing counted twice, none dropped
        assert s["exact_minor"] + s["estimated_minor"] + s["unattributed_minor"] == s["refunded_minor"]
        rows = drivers.rows.filter(pl.col("currency") == cur)
        assert rows["exact_minor"].sum() == s["exact_minor"] and rows["estimated_minor"].sum() == s["estimated_minor"]
        sentence = next(x for x in drivers.sentences() if x.startswith(f"{cur}:"))
        assert format_money(s["exact_minor"], cur) in sentence and format_money(s["refunded_minor"], cur) in sentence
    mine = drivers.rows.filter((pl.col("sku") == sku) & (pl.col("currency") == "BRL")).row(0, named=True)
    assert mine["exact_minor"] >= by_item.entry.lines[0].amount.minor and mine["units_refunded"] >= 1
    # the amount-only refund is spread over its order's items: estimated, to the cent
    plain_skus = {line.sku for o in session.sandbox.store.orders if o.order_id == plain for line in o.items}
    estimated = drivers.rows.filter(pl.col("sku").is_in(list(plain_skus)) & (pl.col("currency") == "BRL"))
    assert estimated["estimated_minor"].sum() >= 700


@pytest.mark.parametrize("by", ["product", "category", "brand"])
def test_items_without_catalog_information_are_counted_as_unknown(tmp_path: Path, by: str) -> None:
    """An account whose orders' items carry no productId and no additionalInfo (sandbox item_info="none"): every
    unit is counted, under "unknown"; the SKUs are still known."""
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(tmp_path / "cache")}, env_file=False)
    with refundkit.connect(settings=settings, sandbox_options={**STORE, "item_info": "none"}) as s:
        rep = item_report(s, FIRST, LAST, by=by, details=True, progress=False)
        want = expected(s, "sku")
        by_sku = item_report(s, FIRST, LAST, by="sku", sync=False, progress=False)
        sb = s.sandbox
    assert sb is not None
    check_nothing_moved(sb)
    for cur in ("BRL", "USD"):
        rows = rep.rows.filter(pl.col("currency") == cur)
        assert rows["key"].to_list() == [UNKNOWN]
        assert rows["units_sold"][0] == sum(v[0] for (_, c), v in want.items() if c == cur)
        assert rows["units_refunded_vtex"][0] == sum(v[1] for (_, c), v in want.items() if c == cur)
    assert figures_of(by_sku.rows) == want


def figures_of(rows: pl.DataFrame) -> dict[tuple[str, str], list[int]]:
    return {
        (r["key"], r["currency"]): [r["units_sold"], r["units_refunded_vtex"]]
        for r in rows.iter_rows(named=True)
        if r["units_sold"] or r["units_refunded_vtex"]
    }
