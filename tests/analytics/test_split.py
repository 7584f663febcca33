"""Gross split by component, and refunds split where VTEX says: each part adds up to gross (and to the refunds) on
every row and every total, in every format, and the figures are those computed here from the sandbox's own orders.

The sandbox is served over HTTP and synced with ``--details``; it plays order changes shown or not shown in the
totals (``totals_change``), orders whose totals carry an id nobody documents (``unknown_totals``) and a value lowered
after a return invoice (``value_after_return``), each against what refundkit assumes.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundkit.analytics import OrderStore, gross_vs_net_report
from refundkit.analytics.engine import REVENUE_SCHEMA, revenue_figures
from refundkit.analytics.export import export_csv, export_json, export_xlsx
from refundkit.analytics.frames import NATIVE_REFUNDS_SCHEMA, REFUNDS_SCHEMA, UTC_NS
from refundkit.analytics.report import CSV_COLUMNS
from refundkit.analytics.split import (
    GROSS_NOT_SPLIT,
    GROSS_PARTS,
    ORDERS_NOT_SPLIT,
    REFUND_PARTS,
    REFUNDS_NOT_SPLIT,
    SPLIT_COLUMNS,
)
from refundkit.analytics.store import STORE_ORDERS_SCHEMA, orders_rows_frame
from refundkit.analytics.totals import TERMS, header, totals
from refundkit.sandbox.payments import unknown_total_orders
from refundkit.statuses import left_out
from refundkit.testing import ServedSandbox, run_cli
from refundkit.timeutil import parse_instant
from tests.xlsx_cells import grid, read_xlsx

GROSS_SPLIT = [p.name for p in GROSS_PARTS]
REFUND_SPLIT = [p.name for p in REFUND_PARTS]
REFUND_COLUMNS_MINOR = ["native_refunds_minor", "offline_refunds_minor"]
FIRST, LAST = "2026-03-01", "2026-04-30"
MONTHS = [("2026-03-01", parse_instant("2026-03-01T00:00:00Z")), ("2026-04-01", parse_instant("2026-04-01T00:00:00Z"))]
END = parse_instant("2026-05-01T00:00:00Z")


def check_sums(row: dict[str, Any]) -> None:
    """The split of one row (or one total) adds up exactly: gross, and the refunds."""
    assert sum(row[c] for c in GROSS_SPLIT) + row[GROSS_NOT_SPLIT] == row["gross_minor"], row
    assert sum(row[c] for c in REFUND_SPLIT) + row[REFUNDS_NOT_SPLIT] == sum(row[c] for c in REFUND_COLUMNS_MINOR), row
    assert 0 <= row[ORDERS_NOT_SPLIT] <= row["orders"], row


# -- what the split is, on single orders --------------------------------------------------------------------------
def _order(oid: str, total: int, **details: Any) -> dict[str, Any]:
    row = dict.fromkeys(STORE_ORDERS_SCHEMA)
    row.update(
        order_id=oid,
        created_at=parse_instant("2026-03-10T12:00:00Z").ns,
        status="invoiced",
        currency="BRL",
        total_minor=total,
        has_details=bool(details),
        **details,
    )
    return row


def _figures(rows: list[dict[str, Any]], value_reading: str = "kept", native: pl.DataFrame | None = None) -> Any:
    orders = orders_rows_frame(rows)
    return revenue_figures(
        orders,
        native if native is not None else pl.DataFrame(schema=NATIVE_REFUNDS_SCHEMA),
        pl.DataFrame(schema=REFUNDS_SCHEMA),
        period="month",
        value_reading=value_reading,
    )


PLAIN = {"items_minor": 10000, "discounts_minor": -1500, "shipping_minor": 900, "tax_minor": 0}


def test_an_order_whose_totals_add_up_is_split_and_one_without_details_is_counted_not_split() -> None:
    fig = _figures(
        [
            _order("A", 9400, **PLAIN),
            _order("B", 5000),  # synced without details
            _order("C", 12000, **PLAIN, change_minor=0, other_totals_minor=2600, other_totals_ids=["Fees"]),
        ]
    )
    [row] = fig.rows.iter_rows(named=True)
    assert row["gross_minor"] == 26400
    assert [row[c] for c in GROSS_SPLIT] == [20000, -3000, 1800, 0, 0, 2600]
    assert (row[GROSS_NOT_SPLIT], row[ORDERS_NOT_SPLIT]) == (5000, 1)
    check_sums(row)
    # the id nobody documents is named and counted
    assert any("Fees (1 order)" in w and "BRL 26.00" in w for w in fig.warnings)


def test_totals_that_miss_a_component_or_differ_from_the_value_are_not_split() -> None:
    missing_tax = {**PLAIN}  # the value holds 3.00 of tax that the totals do not show
    changed = {**PLAIN, "change_minor": 0}  # the value went down by an order change the totals do not show
    listed = {**PLAIN, "change_minor": -2000}  # ... or do show, as a Change total
    fig = _figures([_order("T", 9700, **missing_tax), _order("V", 7400, **changed), _order("W", 7400, **listed)])
    [row] = fig.rows.iter_rows(named=True)
    assert (row[GROSS_NOT_SPLIT], row[ORDERS_NOT_SPLIT]) == (9700 + 7400, 2)
    assert row["gross_changes_minor"] == -2000 and row["gross_items_minor"] == 10000
    check_sums(row)
    assert any("not split" in w for w in fig.warnings)  # some split, some not: said


def test_under_the_reduced_reading_the_split_is_of_what_was_charged() -> None:
    """VTEX lowered the value by a return invoice of 20.00 and left the totals as at checkout: gross adds the return
    back, and the totals split it exactly; the return is refunded items, as its restitution says."""
    native = pl.DataFrame(
        {
            "order_id": ["R"],
            "invoice_number": ["INV-1"],
            "amount_minor": [2000],
            "currency": ["BRL"],
            "issued_at": [parse_instant("2026-03-12T12:00:00Z").ns],
            "order_created_at": [parse_instant("2026-03-10T12:00:00Z").ns],
            "part_items_minor": [2000],
        }
    ).with_columns(pl.col("issued_at", "order_created_at").cast(UTC_NS))
    reduced = _figures([_order("R", 7400, **PLAIN)], "reduced", native)
    [row] = reduced.rows.iter_rows(named=True)
    assert (row["gross_minor"], row[GROSS_NOT_SPLIT], row["refunds_items_minor"]) == (9400, 0, 2000)
    check_sums(row)
    # read as kept, the same order's totals do not add up to its value: not split, and counted
    [kept] = _figures([_order("R", 7400, **PLAIN)], "kept", native).rows.iter_rows(named=True)
    assert (kept["gross_minor"], kept[GROSS_NOT_SPLIT], kept[ORDERS_NOT_SPLIT]) == (7400, 7400, 1)


def test_the_definitions_say_where_refunds_are_not_split() -> None:
    words = dict(TERMS)
    for column in (*SPLIT_COLUMNS,):
        assert header(column) in words, column
    assert "offline refunds recorded by amount only" in words["Refunds not split"]
    assert "offline refunds recorded by item" in words["Refunded items"]
    assert "offline refunds recorded with shipping" in words["Refunded shipping"]
    assert "Discounts and tax are never split out of a refund" in words["Refunds not split"]
    assert "--details" in words["Gross not split"]


# -- a property over random orders and refunds --------------------------------------------------------------------
@st.composite
def random_orders(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, dict[tuple[date, str], list[int]]]:
    """Random orders (some without details, some whose totals miss a part, some with ids nobody documents) and
    return invoices (some for items only), with each row's split computed here, order by order."""
    n = draw(st.integers(1, 40))
    rows: list[dict[str, Any]] = []
    native: list[tuple[Any, ...]] = []
    want: defaultdict[tuple[date, str], list[int]] = defaultdict(lambda: [0] * (len(GROSS_SPLIT) + 2))
    for i in range(n):
        currency = draw(st.sampled_from(["BRL", "USD"]))
        month = draw(st.sampled_from([3, 4]))
        created = parse_instant(f"2026-0{month}-1{i % 10}T12:00:00Z")
        parts = [draw(st.integers(0, 10**6)), -draw(st.integers(0, 10**5)), draw(st.integers(0, 10**4))]
        parts += [draw(st.integers(0, 10**4)), -draw(st.integers(0, 10**4)), draw(st.integers(0, 10**3))]
        kind = draw(st.sampled_from(["split", "no details", "off by one", "old file"]))
        total = sum(parts) + (1 if kind == "off by one" else 0)
        details: dict[str, Any] = {}
        if kind != "no details":
            details = dict(zip([p.source for p in GROSS_PARTS], parts, strict=True))
            details["other_totals_ids"] = ["Fees"] if parts[5] else []
            if kind == "old file":  # written before the later columns were kept: they read as null
                details.update(change_minor=None, other_totals_minor=None, other_totals_ids=None)
        row = _order(f"o{i}", total, **details)
        row.update(created_at=created.ns, currency=currency)
        rows.append(row)
        key = (date(2026, month, 1), currency)
        # what the store holds: an old file's later parts read as zero, so it splits when the rest adds up
        held = [*parts[:4], 0, 0] if kind == "old file" else parts
        split = kind in ("split", "old file") and sum(held) == total
        for j, v in enumerate(held):
            want[key][j] += v if split else 0
        want[key][-2] += 0 if split else total
        want[key][-1] += 0 if split else 1
        if draw(st.booleans()):
            amount = draw(st.integers(1, 10**5))
            items_only = draw(st.booleans())
            native.append(
                (f"o{i}", f"R{i}", amount, currency, created.ns + 1, created.ns, amount if items_only else None)
            )
    native_df = pl.DataFrame(
        native, schema=list(NATIVE_REFUNDS_SCHEMA), orient="row", schema_overrides={"part_items_minor": pl.Int64}
    ).with_columns(pl.col("issued_at", "order_created_at").cast(pl.Int64).cast(UTC_NS))
    return (
        orders_rows_frame(rows),
        native_df.select([pl.col(c).cast(t) for c, t in NATIVE_REFUNDS_SCHEMA.items()]),
        want,
    )


@given(random_orders(), st.sampled_from(["kept", "reduced"]))
def test_the_split_adds_up_to_gross_on_every_row_and_total_and_matches_each_order(data: Any, reading: str) -> None:
    orders, native, want = data
    fig = revenue_figures(
        orders, native, pl.DataFrame(schema=REFUNDS_SCHEMA), period="month", value_reading=reading, fill=False
    )
    assert fig.rows.schema == pl.Schema(REVENUE_SCHEMA)
    for row in [*fig.rows.iter_rows(named=True), *totals(fig.rows).iter_rows(named=True)]:
        check_sums(row)
    if reading == "kept":  # the expected split above is of the value as VTEX gives it
        got = {
            (r["period"], r["currency"]): [r[c] for c in (*GROSS_SPLIT, GROSS_NOT_SPLIT, ORDERS_NOT_SPLIT)]
            for r in fig.rows.iter_rows(named=True)
        }
        assert got == dict(want)
    items = native.select(pl.col("part_items_minor").fill_null(0).sum()).item()
    assert fig.rows.select(pl.col("refunds_items_minor").sum()).item() == items


# -- the sandbox over HTTP, synced with --details, against its own orders ----------------------------------------
def expected_from_sandbox(served: ServedSandbox, *, listed_changes: bool) -> dict[tuple[str, str], dict[str, int]]:
    """Each (month, currency)'s gross, split and refunded items, computed from the sandbox's own orders: what it
    serves as totals, as value and as return invoices, independently of refundkit's reading of them."""
    store = served.sb.store
    odd = unknown_total_orders(store)
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    skipped = set(left_out(False, False))

    def month_of(ns: int) -> str | None:
        label = [m for m, at in MONTHS if at.ns <= ns]
        return label[-1] if label and ns < END.ns else None

    for o in store.orders:
        if o.status in skipped:
            continue
        adj = store.adjustments.get(o.order_id)
        reduction = adj.reduction if adj is not None and adj.changes else 0
        month = month_of(o.created.ns)
        if month is not None:
            row = out[(month, o.currency)]
            value = store.listed_value(o)
            fees = max(1, o.items_cents // 20) if o.order_id in odd else 0
            parts = {
                "gross_items_minor": o.items_cents - fees,
                "gross_discounts_minor": o.discounts_cents,
                "gross_shipping_minor": o.shipping_cents,
                "gross_tax_minor": o.tax_cents,
                "gross_changes_minor": -reduction if listed_changes else 0,
                "gross_other_minor": fees,
            }
            row["orders"] += 1
            row["gross_minor"] += value
            if sum(parts.values()) == value:
                for k, v in parts.items():
                    row[k] += v
            else:
                row[GROSS_NOT_SPLIT] += value
                row[ORDERS_NOT_SPLIT] += 1
            row["fees_orders"] += 1 if fees else 0
        for inv in o.input_invoices:
            when = month_of(inv.issued.ns)
            if when is None or not inv.items or inv.value == o.total_cents:  # no items, or freight included
                continue
            refunded = adj.restitutions.get(inv.number, inv.value) if adj is not None else inv.value
            out[(when, o.currency)]["refunds_items_minor"] += refunded
    return out


def sync_details(served: ServedSandbox, tmp_path: Path) -> None:
    p = run_cli(["sync", "--from", "2025-09-01", "--to", LAST, "--tz", "UTC", "--details"], served.env(), tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr


def report_cli(served: ServedSandbox, tmp_path: Path, *args: str) -> Any:
    base = ["report", "--from", FIRST, "--to", LAST, "--by", "month", "--tz", "UTC", "--no-sync"]
    p = run_cli([*base, *args], served.env(), tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return p


def test_every_format_splits_the_sandbox_gross_as_its_orders_say(sandbox_factory: Any, tmp_path: Path) -> None:
    served = sandbox_factory(other_refunds=True, totals_change="listed", unknown_totals=6)
    sync_details(served, tmp_path)
    want = expected_from_sandbox(served, listed_changes=True)
    fees_orders = sum(r["fees_orders"] for r in want.values())
    assert fees_orders > 0 and sum(r["gross_changes_minor"] for r in want.values()) < 0  # the variants are played
    assert sum(r["refunds_items_minor"] for r in want.values()) > 0

    # JSON: integers in minor units, rows and totals
    p = report_cli(served, tmp_path, "--format", "json")
    body = json.loads(p.stdout)
    for r in body["rows"]:
        exp = want[(r["period"], r["currency"])]
        for c in ("gross_minor", *GROSS_SPLIT, GROSS_NOT_SPLIT, "refunds_items_minor"):
            assert r[c] == exp[c], (r["period"], r["currency"], c)
        assert r[ORDERS_NOT_SPLIT] == exp[ORDERS_NOT_SPLIT] == 0  # every order synced with details, totals add up
        check_sums(r)
    for t in body["totals"]:
        check_sums(t)
    assert f"{fees_orders:,} orders carry order totals refundkit does not know: Fees" in p.stderr

    # CSV: machine names, exact major units; the Total rows too
    p = report_cli(served, tmp_path, "--format", "csv", "--totals")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["period"] for r in rows].count("Total") == 2
    for r in rows:
        money = {c: Decimal(r[c]) for c in CSV_COLUMNS[3:] if c != ORDERS_NOT_SPLIT}
        gross_parts = [c.removesuffix("_minor") for c in (*GROSS_SPLIT, GROSS_NOT_SPLIT)]
        assert sum(money[c] for c in gross_parts) == money["gross"], r
        refund_parts = [c.removesuffix("_minor") for c in (*REFUND_SPLIT, REFUNDS_NOT_SPLIT)]
        assert sum(money[c] for c in refund_parts) == money["native_refunds"] + money["offline_refunds"], r

    # XLSX: per currency, each row's split cells add up to its gross cell, and the Total row's SUMs too
    out = tmp_path / "split.xlsx"
    report_cli(served, tmp_path, "-o", str(out))
    book = read_xlsx(out)
    heads = [header(c) for c in CSV_COLUMNS]
    gross_words = [header(c) for c in (*GROSS_SPLIT, GROSS_NOT_SPLIT)]
    refund_words = [header(c) for c in (*REFUND_SPLIT, REFUNDS_NOT_SPLIT)]
    for name in ("Report BRL", "Report USD"):
        sheet = grid(book[name])
        assert [c.value if c else None for c in sheet[0]] == heads
        for line in sheet[1:]:
            cell = {h: Decimal(str(c.value)) for h, c in zip(heads, line, strict=True) if c and h not in heads[:2]}
            assert sum(cell[h] for h in gross_words) == cell["Gross"]
            assert sum(cell[h] for h in refund_words) == cell["VTEX refunds"] + cell["Offline refunds"]
        assert sheet[-1][0] is not None and sheet[-1][0].value == "Total"
        total_cells = {h: c for h, c in zip(heads, sheet[-1], strict=True) if c and h in gross_words}
        assert all(c.formula and c.formula.startswith("SUM(") for c in total_cells.values())
    definitions = grid(book["Definitions"])
    defined = {r[0].value for r in definitions if r and r[0]}
    assert set(gross_words + refund_words + ["Orders not split"]) <= defined

    # the table: without --split as before, with it every part, each row and Total adding up
    plain = report_cli(served, tmp_path, "--format", "table").stdout
    assert "Items" not in plain
    table = report_cli(served, tmp_path, "--format", "table", "--split").stdout.splitlines()
    heading = next(line for line in table if line.startswith("Period"))
    assert "Gross not split" in heading and "Refunded items" in heading
    figures = [line.split() for line in table if line[:4] in ("2026", "Tota")]
    assert len(figures) == 6  # two months and a Total, in two currencies
    for cells in figures:
        amounts = [Decimal(x.replace(",", "")) for x in cells[2:]]
        gross, native, offline, net, *split = amounts[1:]
        gross_split, not_split, _orders, refund_split = split[:6], split[6], split[7], split[8:]
        assert sum(gross_split) + not_split == gross, cells
        assert sum(refund_split) == native + offline, cells
        assert net == gross - native - offline


@pytest.mark.parametrize(
    ("variant", "not_split_kind"),
    [
        ({"other_refunds": True}, "order changes left out of the totals"),
        ({"value_after_return": "reduced"}, "a value lowered by a return invoice, read as kept"),
    ],
)
def test_orders_whose_totals_do_not_add_up_are_counted_not_split(
    variant: dict[str, Any], not_split_kind: str, sandbox_factory: Any, tmp_path: Path
) -> None:
    served = sandbox_factory(**variant)
    sync_details(served, tmp_path)
    want = expected_from_sandbox(served, listed_changes=False)
    assert sum(r[ORDERS_NOT_SPLIT] for r in want.values()) > 0, not_split_kind
    store = OrderStore(Path(served.cache_dir) / "store", served.sb.config.account)
    rep = gross_vs_net_report(store, FIRST, LAST, by="month", sync=False, keep_orders=False)
    for r in rep.rows.iter_rows(named=True):
        exp = want[(r["period"].isoformat(), r["currency"])]
        for c in ("gross_minor", *GROSS_SPLIT, GROSS_NOT_SPLIT, ORDERS_NOT_SPLIT):
            assert r[c] == exp[c], (not_split_kind, r["period"], r["currency"], c)
        check_sums(r)
    # the same figures in every export of this report
    text = export_csv(rep, with_totals=True) or ""
    assert sum(int(r[ORDERS_NOT_SPLIT]) for r in csv.DictReader(io.StringIO(text)) if r["period"] != "Total") == sum(
        r[ORDERS_NOT_SPLIT] for r in want.values()
    )
    body = json.loads(export_json(rep) or "")
    for t in body["totals"]:
        check_sums(t)
    buffer = io.BytesIO()
    export_xlsx(rep, buffer)
    assert "Report BRL" in read_xlsx(buffer.getvalue())


def test_a_store_file_written_before_the_split_columns_reads_them_as_null_and_is_kept(tmp_path: Path) -> None:
    st = OrderStore(tmp_path, "acct")
    later = ["change_minor", "other_totals_minor", "other_totals_ids"]
    old = orders_rows_frame([_order("A", 9400, **PLAIN), _order("B", 9900, **PLAIN)]).drop(later)
    path = st.table_dir("orders") / "month=2026-03" / "data.parquet"
    path.parent.mkdir(parents=True)
    old.write_parquet(path)
    invoices = st.table_dir("return_invoices") / "month=2026-03" / "data.parquet"
    invoices.parent.mkdir(parents=True)
    pl.DataFrame(schema={k: v for k, v in NATIVE_REFUNDS_SCHEMA.items() if k != "part_items_minor"}).write_parquet(
        invoices
    )
    held = st.orders()
    assert held.height == 2 and held["change_minor"].is_null().all()
    rep = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", sync=False)
    [row] = rep.rows.iter_rows(named=True)
    assert (row["gross_items_minor"], row[GROSS_NOT_SPLIT], row[ORDERS_NOT_SPLIT]) == (10000, 9900, 1)
    assert not st.notices and path.exists()  # read, not set aside as damaged
    st.upsert_orders(orders_rows_frame([_order("C", 100)]))  # the month written again carries every column
    assert set(STORE_ORDERS_SCHEMA) == set(pl.read_parquet(path).columns)
    assert st.orders().height == 3
