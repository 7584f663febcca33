"""Offline refunds recorded by item and shipping split the report's refunds: item lines under Refunded items, shipping
lines under Refunded shipping, a reversal taking the same back; an amount-only refund, and one read from a store file
written before refunds by item, stay under Refunds not split. Checked against figures computed here from the
sandbox's own orders (served over real HTTP on loopback), in every format, from the store and read live."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import refundkit
from refundkit.analytics import OrderStore
from refundkit.analytics.engine import refund_lines
from refundkit.analytics.frames import NATIVE_REFUNDS_SCHEMA, ORDERS_SCHEMA, refunds_frame
from refundkit.analytics.report import CSV_COLUMNS
from refundkit.analytics.revenue import collect_revenue
from refundkit.analytics.split import REFUND_PARTS, REFUNDS_NOT_SPLIT
from refundkit.analytics.totals import header
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import run_cli
from refundkit.timeutil import parse_instant
from tests.conftest import connected
from tests.xlsx_cells import grid, read_xlsx

STORE = {"orders": 200, "flash_sale_orders": 0, "start": "2026-02-15", "end": "2026-03-31", "seed": 29}
FIRST, LAST = "2026-03-01", "2026-04-30"
START, END = parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")
REFUNDED, REVERSED = "2026-03-20", parse_instant("2026-04-10T12:00:00Z")
ITEMS, SHIPPING = (p.name for p in REFUND_PARTS)
PARTS = (ITEMS, SHIPPING, REFUNDS_NOT_SPLIT)
Key = tuple[str, str]  # (period, currency)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[refundkit.Session]:
    yield from connected(tmp_path / "cache", STORE)


def cli(s: refundkit.Session, tmp_path: Path, *args: str) -> str:
    assert s.sandbox is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(
        sandbox_variables(str(s.settings.base_url), s.sandbox.config), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache")
    )
    base = ["report", "--from", FIRST, "--to", LAST, "--by", "month", "--tz", "UTC"]
    p = run_cli([*base, *args], env, tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return p.stdout


def by_key(rows: list[dict[str, Any]]) -> dict[Key, dict[str, int]]:
    return {(r["period"], r["currency"]): {c: r[c] for c in (*PARTS, "offline_refunds_minor")} for r in rows}


def check_sums(row: dict[str, Any]) -> None:
    assert sum(row[c] for c in PARTS) == row["native_refunds_minor"] + row["offline_refunds_minor"], row


def pick_orders(s: refundkit.Session) -> dict[str, tuple[str, str, int]]:
    """Invoiced March orders without a return invoice, each with a SKU on one line of 2 units or more:
    ``{name: (order id, sku, shipping charged in minor units)}``; two BRL ones charge shipping."""
    assert s.sandbox is not None
    found: dict[str, tuple[str, str, int]] = {}
    wanted = [("full", "BRL", True), ("partial", "BRL", True), ("reversed", "USD", False), ("amount", "BRL", False)]
    for o in s.sandbox.store.orders:
        if (
            o.status != "invoiced"
            or o.input_invoices
            or not START.ns <= o.created.ns < parse_instant(f"{REFUNDED}T00:00:00Z").ns
        ):
            continue
        items = s.ledger.order_items(o.order_id)
        line = next((x for x in items.lines if x.refundable >= 2 and x.paid.minor > 200 and not x.is_gift), None)
        if line is None or len([x for x in items.lines if x.sku == line.sku]) != 1:
            continue
        for name, currency, shipped in wanted:
            if name not in found and o.currency == currency and (o.shipping_cents > 0 or not shipped):
                found[name] = (o.order_id, line.sku, o.shipping_cents)
                break
        if len(found) == len(wanted):
            return found
    raise AssertionError(f"no orders for {[w for w in wanted if w[0] not in found]}")


def record(s: refundkit.Session) -> dict[Key, dict[str, int]]:
    """Record the refunds; what each (month, currency) gains in each part, with the reversal netted on its
    refund's date (the report's way), computed from the sandbox's orders and the amounts given."""
    o = pick_orders(s)
    want: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PARTS, 0))
    march = "2026-03-01"

    order, sku, shipping = o["full"]
    price = s.ledger.order_items(order).resolve(sku).price_for(2).minor
    r = s.ledger.record(order, None, "bank-transfer", "OS-1", items=[f"{sku}:2"], shipping=True, refunded_at=REFUNDED)
    assert r.outcome == "recorded"
    assert {(x.kind, x.amount.minor) for x in r.entry.lines} == {("item", price), ("shipping", shipping)}
    want[(march, "BRL")][ITEMS] += price
    want[(march, "BRL")][SHIPPING] += shipping

    order, sku, _ = o["partial"]  # a lower amount than the unit and the shipping: the lines are scaled to it
    r = s.ledger.record(order, "1.01", "cash", "OS-2", items=[sku], shipping=True, refunded_at=REFUNDED)
    assert r.outcome == "recorded" and r.entry.amount.minor == 101
    scaled = {x.kind: x.amount.minor for x in r.entry.lines}
    assert sum(scaled.values()) == 101 and scaled["item"] > 0 and scaled["shipping"] > 0
    want[(march, "BRL")][ITEMS] += scaled["item"]
    want[(march, "BRL")][SHIPPING] += scaled["shipping"]

    order, _, _ = o["amount"]
    r = s.ledger.record(order, "5.00", "cash", "OS-3", refunded_at=REFUNDED)
    assert r.outcome == "recorded" and not r.entry.lines
    want[(march, "BRL")][REFUNDS_NOT_SPLIT] += 500

    order, sku, _ = o["reversed"]
    r = s.ledger.record(order, None, "cash", "OS-4", items=[sku], refunded_at=REFUNDED)
    assert r.outcome == "recorded"
    s.ledger.clock = lambda: REVERSED  # the mistake is found in April
    assert s.ledger.reverse(r.entry.entry_id, "recorded on the wrong order").outcome == "recorded"
    want[(march, "USD")]  # netted out on the refund's date: nothing
    return dict(want)


def added(after: dict[Key, dict[str, int]], before: dict[Key, dict[str, int]]) -> dict[Key, dict[str, int]]:
    zero = dict.fromkeys((*PARTS, "offline_refunds_minor"), 0)
    out = {k: {c: v[c] - before.get(k, zero)[c] for c in PARTS} for k, v in after.items()}
    return {k: v for k, v in out.items() if any(v.values())}


def test_offline_refunds_by_item_and_shipping_split_the_report_in_every_format(
    session: refundkit.Session, tmp_path: Path
) -> None:
    before = by_key(json.loads(cli(session, tmp_path, "--format", "json"))["rows"])
    want = {k: v for k, v in record(session).items() if any(v.values())}

    body = json.loads(cli(session, tmp_path, "--format", "json"))  # syncs the ledger's entries into the store
    after = by_key(body["rows"])
    assert added(after, before) == want
    for r in (*body["rows"], *body["totals"]):
        check_sums(r)
    # the offline refunds themselves: what is split plus what is not
    brl = after[("2026-03-01", "BRL")]
    assert brl["offline_refunds_minor"] - before[("2026-03-01", "BRL")]["offline_refunds_minor"] == sum(
        want[("2026-03-01", "BRL")].values()
    )

    # CSV: the same figures in major units, each row and Total adding up
    rows = list(csv.DictReader(io.StringIO(cli(session, tmp_path, "--no-sync", "--format", "csv", "--totals"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    for r in rows:
        money = {
            c: Decimal(r[c]) for c in ("native_refunds", "offline_refunds", *(p.removesuffix("_minor") for p in PARTS))
        }
        assert sum(money[p.removesuffix("_minor")] for p in PARTS) == money["native_refunds"] + money["offline_refunds"]
        if r["period"] != "Total":
            exp = after[(r["period"], r["currency"])]
            assert [money[p.removesuffix("_minor")] * 100 for p in PARTS] == [exp[p] for p in PARTS], r

    # XLSX: the same, per currency sheet, under the columns' words
    out = tmp_path / "split.xlsx"
    cli(session, tmp_path, "--no-sync", "-o", str(out))
    book = read_xlsx(out)
    heads = [header(c) for c in CSV_COLUMNS]
    words = [header(p) for p in PARTS]
    assert words == ["Refunded items", "Refunded shipping", "Refunds not split"]
    for currency in ("BRL", "USD"):
        sheet = grid(book[f"Report {currency}"])
        periods = sorted(k for k in after if k[1] == currency)  # the sheet's rows, in order (dates as numbers)
        assert len(sheet[1:-1]) == len(periods)
        for line, key in zip(sheet[1:-1], periods, strict=True):
            cell = {h: c.value for h, c in zip(heads, line, strict=True) if c}
            exp = after[key]
            assert [round(Decimal(str(cell[w])) * 100) for w in words] == [exp[p] for p in PARTS], cell
            assert sum(Decimal(str(cell[w])) for w in words) == Decimal(str(cell["VTEX refunds"])) + Decimal(
                str(cell["Offline refunds"])
            )

    # read live (no store), the figures are the store's
    data = collect_revenue(session, START, END)
    live = data.figures(period="month", tz="UTC").rows
    assert by_key(live.with_columns(pl.col("period").cast(pl.String)).to_dicts()) == after


def test_a_reversal_takes_back_its_refunds_parts_from_the_store_and_read_live(
    session: refundkit.Session, tmp_path: Path
) -> None:
    record(session)
    cli(session, tmp_path, "--format", "json")  # the store reads the ledger's entries
    entries = list(session.ledger.entries(start=START))
    none = (pl.DataFrame(schema=ORDERS_SCHEMA), pl.DataFrame(schema=NATIVE_REFUNDS_SCHEMA))
    store = OrderStore.for_settings(session.settings)
    columns = ["refund_id", "kind", "reference", "amount_minor", "part_items_minor", "part_shipping_minor"]
    stored = refund_lines(*none, store.offline_refunds()).select(columns).sort("refund_id")
    live = refund_lines(*none, refunds_frame(entries)).select(columns).sort("refund_id")
    assert stored.to_dicts() == live.to_dicts()
    rows = {(r["reference"], r["kind"]): r for r in live.to_dicts()}
    refund, reversal = rows[("OS-4", "refund")], rows[("OS-4", "reversal")]
    assert refund["part_items_minor"] == refund["amount_minor"] > 0 and refund["part_shipping_minor"] == 0
    assert (reversal["part_items_minor"], reversal["part_shipping_minor"]) == (-refund["amount_minor"], 0)
    assert reversal["amount_minor"] == -refund["amount_minor"]
    assert rows[("OS-3", "refund")]["part_items_minor"] is None  # an amount only: not split
    for r in live.to_dicts():  # every split entry's parts are its amount
        if r["part_items_minor"] is not None:
            assert r["part_items_minor"] + r["part_shipping_minor"] == r["amount_minor"]

    # counted on the reversal's own date, April takes back what March gained, read live or from the store
    data = collect_revenue(session, START, END)
    rows_by = by_key(
        data.figures(period="month", tz="UTC", reversals="reversal_date")
        .rows.with_columns(pl.col("period").cast(pl.String))
        .to_dicts()
    )
    netted = by_key(
        data.figures(period="month", tz="UTC").rows.with_columns(pl.col("period").cast(pl.String)).to_dicts()
    )
    moved = added(rows_by, netted)
    assert moved == {
        ("2026-03-01", "USD"): {ITEMS: refund["amount_minor"], SHIPPING: 0, REFUNDS_NOT_SPLIT: 0},
        ("2026-04-01", "USD"): {ITEMS: -refund["amount_minor"], SHIPPING: 0, REFUNDS_NOT_SPLIT: 0},
    }


def test_refunds_in_a_store_file_written_before_lines_were_kept_stay_not_split(
    session: refundkit.Session, tmp_path: Path
) -> None:
    record(session)
    split = by_key(json.loads(cli(session, tmp_path, "--format", "json"))["rows"])
    store = OrderStore.for_settings(session.settings)
    files = [p for p in store.iter_files() if p.parts[-3] == "offline_refunds"]
    assert files
    for path in files:  # as a store made before refunds by item wrote them: no lines
        pl.read_parquet(path).drop("lines").write_parquet(path)
        path.with_name(f".{path.name}.crc32").unlink(missing_ok=True)
    body = json.loads(cli(session, tmp_path, "--no-sync", "--format", "json"))
    old = by_key(body["rows"])
    for r in (*body["rows"], *body["totals"]):
        check_sums(r)
    key = ("2026-03-01", "BRL")
    offline_split = split[key][ITEMS] + split[key][SHIPPING] - old[key][ITEMS] - old[key][SHIPPING]
    assert offline_split > 0 and old[key][SHIPPING] == 0  # every offline part went back under Refunds not split
    assert old[key][REFUNDS_NOT_SPLIT] == split[key][REFUNDS_NOT_SPLIT] + offline_split
    assert old[key]["offline_refunds_minor"] == split[key]["offline_refunds_minor"]
