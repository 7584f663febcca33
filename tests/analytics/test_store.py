"""The local order store against the sandbox over loopback: sync, freshness without --refresh, atomic writes, and
plain Parquet that DuckDB reads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import refundkit
from refundkit.analytics import OrderStore, gross_vs_net_report, sync_orders
from refundkit.sandbox.variables import sandbox_variables
from refundkit.timeutil import Instant, parse_instant, utc_now
from tests.conftest import connected

STORE = {"orders": 400, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30", "seed": 11}
START, END = parse_instant("2026-02-20T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[refundkit.Session]:
    yield from connected(tmp_path / "cache", STORE)


def report(s: refundkit.Session, end: str = "2026-04-30", **kw) -> dict[tuple[str, str], dict]:
    rep = gross_vs_net_report(s, "2026-02-20", end, by="month", progress=False, **kw)
    return {(r["period"], r["currency"]): r for r in rep.display_rows()}


def files(store: OrderStore) -> dict[str, bytes]:
    return {str(p.relative_to(store.path)): p.read_bytes() for p in store.iter_files()}


def test_syncing_twice_changes_nothing(session: refundkit.Session) -> None:
    first = sync_orders(session, START, END, progress=False)
    assert first.listed == len(session.sandbox.store) and first.changed == first.listed
    store = OrderStore.for_settings(session.settings)
    before = files(store)
    assert any(k.startswith("orders/month=2026-03") for k in before)
    again = sync_orders(session, START, END, progress=False)
    assert again.changed == 0 and again.months_written == [] and again.read_in_full == 0
    assert files(store) == before
    assert again.calls <= 4  # three status counts (one per place gross leaves out), one return-invoice count


def test_changes_made_after_a_sync_show_in_the_next_report(session: refundkit.Session) -> None:
    sb = session.sandbox.store
    today = utc_now().to_datetime().date()
    before = report(session, end=today.isoformat())
    march = [o for o in sb.orders if o.created.ns < parse_instant("2026-04-01T00:00:00Z").ns]
    march = [o for o in march if o.created.ns >= parse_instant("2026-03-01T00:00:00Z").ns]
    brl = [o for o in march if o.currency == "BRL"]
    to_cancel = next(o for o in brl if o.status == "invoiced" and not o.input_invoices)
    to_pay = next(o for o in brl if o.status == "payment-pending")
    to_return = next(o for o in brl if o.status == "invoiced" and not o.input_invoices and o is not to_cancel)
    sb.cancel_order(to_cancel.order_id)
    sb.approve_payment(to_pay.order_id)
    inv = sb.add_return_invoice(to_return.order_id, 1234, parse_instant("2026-03-20T10:00:00Z"))
    new = sb.add_order(to_return.order_id, utc_now() - timedelta(minutes=1))  # placed a minute ago

    calls = session.client.transport.calls
    after = report(session, end=today.isoformat())
    used = session.client.transport.calls - calls
    m = ("2026-03-01", "BRL")
    b, a = before[m], after[m]

    def cents(text: str) -> int:
        return int(text.replace(".", ""))

    assert a["orders"] == b["orders"] - 1 + 1  # canceled out, paid in
    assert cents(a["gross"]) == cents(b["gross"]) - to_cancel.total_cents + to_pay.total_cents
    assert cents(a["native_refunds"]) == cents(b["native_refunds"]) + inv.value
    assert after[("2026-04-01", "BRL")] == before[("2026-04-01", "BRL")]
    # the month the new order falls in (a minute ago may be last month, just after midnight on the 1st)
    now_month = (new.created.to_datetime().date().replace(day=1).isoformat(), new.currency)
    assert after[now_month]["orders"] == before.get(now_month, {"orders": 0})["orders"] + 1
    assert cents(after[now_month]["gross"]) == new.total_cents
    assert used < 30, f"a report after a few changes made {used} calls"


def test_a_further_return_invoice_on_an_old_order_needs_refresh(session: refundkit.Session) -> None:
    """Named in the README: a second return invoice on an order created more than 120 days ago that already had one
    is not seen without --refresh (the count of orders with return invoices does not change)."""
    sb = session.sandbox.store
    before = report(session)
    old = next(o for o in sb.orders if o.input_invoices and o.currency == "BRL" and o.created.ns < END.ns)
    sb.add_return_invoice(old.order_id, 500, parse_instant("2026-04-10T00:00:00Z"))
    assert report(session) == before
    refreshed = report(session, refresh=True)
    key = ("2026-04-01", "BRL")
    assert (
        int(refreshed[key]["native_refunds"].replace(".", ""))
        == int(before[key]["native_refunds"].replace(".", "")) + 500
    )


def test_an_interrupted_sync_leaves_the_previous_store_whole(
    session: refundkit.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = report(session)
    store = OrderStore.for_settings(session.settings)
    state_before = store.state_path.read_bytes()
    sb = session.sandbox.store
    # changes in two months, so the next sync writes at least two files
    for month in ("2026-03", "2026-04"):
        o = next(o for o in sb.orders if o.status == "invoiced" and Instant(o.created.ns).isoformat().startswith(month))
        sb.cancel_order(o.order_id)

    real = OrderStore.write_month
    written: list[str] = []

    def interrupted(self: OrderStore, table: str, month: str, df: pl.DataFrame) -> None:
        if written:
            raise KeyboardInterrupt  # Ctrl-C between two files
        real(self, table, month, df)
        written.append(month)

    monkeypatch.setattr(OrderStore, "write_month", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report(session)
    monkeypatch.undo()
    assert len(written) == 1
    assert store.state_path.read_bytes() == state_before  # the state is written last
    for path in store.iter_files():
        pl.read_parquet(path)  # every file whole
    assert not list(store.path.rglob("*.part"))  # no temporary file left behind
    # the next report finishes the job: both cancellations show
    after = report(session)
    assert after != before
    fresh = report(session, refresh=True)
    assert after == fresh


def test_a_killed_sync_leaves_the_previous_store_readable(session: refundkit.Session, tmp_path: Path) -> None:
    """A real process killed (SIGKILL) in the middle of writing a file."""
    sync_orders(session, START, END, progress=False)
    store = OrderStore.for_settings(session.settings)
    before = files(store)
    sb = session.sandbox.store
    for o in [o for o in sb.orders if o.status == "invoiced"][:5]:
        sb.cancel_order(o.order_id)
    variables = sandbox_variables(session.settings.base_url, session.sandbox.config)
    script = textwrap.dedent(
        f"""
        import os, signal
        import polars as pl
        import refundkit
        from refundkit.analytics import sync_orders
        from refundkit.config import load_settings
        from refundkit.timeutil import parse_instant

        def dying(self, f, **kw):
            f.write(b"PAR1 half a file")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        pl.DataFrame.write_parquet = dying
        env = {{"REFUNDKIT_CACHE_DIR": {str(session.settings.cache_dir)!r}, **{variables!r}}}
        s = refundkit.connect(settings=load_settings(env=env, env_file=False), setup=False)
        sync_orders(s, parse_instant({START.isoformat()!r}), parse_instant({END.isoformat()!r}), progress=False)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr
    assert files(store) == before  # the file being written was a temporary one; the store is as it was
    assert store.remove_leftovers(older_than_s=0) == 1  # the half-written temporary file, which readers never read
    json.loads(store.state_path.read_text())
    rep = gross_vs_net_report(store, "2026-02-20", "2026-04-30", by="month")
    assert rep.rows.height > 0


def test_duckdb_reads_the_store_as_it_is(session: refundkit.Session) -> None:
    duckdb = pytest.importorskip("duckdb")
    sync_orders(session, START, END, progress=False)
    store = OrderStore.for_settings(session.settings)
    orders = store.orders()
    con = duckdb.connect()
    got = con.execute(
        "SELECT month, currency, count(*), sum(total_minor) FROM read_parquet(?, hive_partitioning = true) "
        "GROUP BY ALL ORDER BY ALL",
        [str(store.path / "orders" / "*" / "*.parquet")],
    ).fetchall()
    want = (
        orders.group_by(pl.col("created_at").dt.strftime("%Y-%m").alias("month"), "currency")
        .agg(pl.len(), pl.col("total_minor").sum())
        .sort("month", "currency")
        .rows()
    )
    assert got == [tuple(r) for r in want]
    (n,) = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
        [str(store.path / "return_invoices" / "*" / "*.parquet")],
    ).fetchone()
    assert session.sandbox is not None
    expected = sum(len(o.input_invoices) for o in session.sandbox.store.orders)
    assert n == expected > 0


def test_details_bring_items_totals_and_payments(session: refundkit.Session) -> None:
    first, last = parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-03-03T00:00:00Z")
    result = sync_orders(session, first, last, details=True, progress=False)
    store = OrderStore.for_settings(session.settings)
    df = store.orders(first, last)
    assert df.height == result.listed > 0 and df["has_details"].all()
    parts = df["items_minor"] + df["discounts_minor"] + df["shipping_minor"] + df["tax_minor"]
    assert (parts == df["total_minor"]).all()
    row = df.row(0, named=True)
    assert session.sandbox is not None
    summary = session.sandbox.store.order(row["order_id"])
    assert summary is not None
    assert [i["sku"] for i in row["items"]] == [i.sku for i in summary.items]
    assert row["payment_method"] in summary.payment_names
    # a later sync without details keeps them
    sync_orders(session, first, last, refresh=True, progress=False)
    assert store.orders(first, last)["has_details"].all()


def test_a_range_older_than_vtex_and_the_store_is_said(session: refundkit.Session) -> None:
    assert session.sandbox is not None
    session.sandbox.clear_records()
    rep = gross_vs_net_report(session, "2023-01-01", "2023-01-31", by="month", progress=False, lookback_days=0)
    assert rep.rows.is_empty()
    assert any("older than the two years VTEX serves" in w and "holds none" in w for w in rep.warnings)
    # VTEX's order list is not asked for dates it no longer serves
    asked = [r.query.get("f_creationDate", "") for r in session.sandbox.requests if r.path == "/api/oms/pvt/orders"]
    assert not any("2023-" in q for q in asked)


def test_malformed_orders_are_set_aside_counted_and_restitutions_counted_once(session: refundkit.Session) -> None:
    from refundkit.sandbox.adjustments import Adjustment

    assert session.sandbox is not None
    sb = session.sandbox.store
    march = [o for o in sb.orders if Instant(o.created.ns).isoformat().startswith("2026-03") and o.currency == "BRL"]
    bad = next(o for o in march if o.status == "invoiced" and not o.input_invoices)
    sb.adjust(bad.order_id, Adjustment(patch=lambda b: b.update(currencyCode=None, storePreferencesData=None)))
    returned = next(o for o in march if len(o.input_invoices) == 1)
    inv = returned.input_invoices[0]
    sb.adjust(returned.order_id, Adjustment(restitutions={inv.number: inv.value - 100}))
    rep = gross_vs_net_report(session, "2026-03-01", "2026-03-31", by="month", currency="BRL", progress=False)
    assert any("1 order(s) set aside" in w and bad.order_id in w for w in rep.warnings)
    assert bad.order_id not in rep.orders["order_id"].to_list()
    refund = rep.refunds.filter(pl.col("refund_id") == inv.number)
    assert refund["amount_minor"].to_list() == [inv.value - 100]  # the restitution, not the invoice value too


def test_months_older_than_vtex_serves_are_kept_and_reported(session: refundkit.Session) -> None:
    from refundkit.analytics.store import orders_rows_frame, summary_row
    from refundkit.money import Money
    from refundkit.vtex.models import OrderSummary

    store = OrderStore.for_settings(session.settings)
    old = OrderSummary(
        order_id="1000000000001-01",
        created_at=parse_instant("2023-05-10T12:00:00Z"),
        status="invoiced",
        currency="BRL",
        total=Money(12345, "BRL"),
        sales_channel="1",
        payment_names="Pix",
        invoice_input=(),
    )
    store.upsert_orders(orders_rows_frame([summary_row(old, parse_instant("2024-01-01T00:00:00Z"))]))
    state = store.state()
    state.add(parse_instant("2023-05-01T00:00:00Z").ns, parse_instant("2023-06-01T00:00:00Z").ns)
    store.save_state(state)
    before = files(store)["orders/month=2023-05/data.parquet"]
    sync_orders(session, START, END, refresh=True, progress=False)
    assert files(store)["orders/month=2023-05/data.parquet"] == before  # a sync never drops what VTEX no longer serves
    rep = gross_vs_net_report(session, "2023-05-01", "2023-05-31", by="month", progress=False, lookback_days=0)
    assert [r["gross"] for r in rep.display_rows()] == ["123.45"]
    assert not any("holds none" in w for w in rep.warnings)


def test_a_long_sync_writes_as_it_goes_and_stores_what_a_sync_in_one_write_does(
    session: refundkit.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync writes what it has listed every so many orders (a month at a time at least), so that its memory does
    not grow with the range; the store it leaves is the one a single write leaves, and a Ctrl-C half-way claims
    nothing of what it had not finished (the next sync lists it again)."""
    import refundkit.analytics.sync as sync_module

    whole = sync_orders(session, START, END, progress=False)
    one_write = OrderStore.for_settings(session.settings).orders().drop("read_at").sort("order_id")

    batched = OrderStore(tmp_path / "batched", session.settings.account)
    batches: list[int] = []
    real = OrderStore.upsert_orders

    def counted(self: OrderStore, rows: pl.DataFrame, returns: pl.DataFrame | None = None) -> list[str]:
        batches.append(rows.height)
        return real(self, rows, returns)

    monkeypatch.setattr(OrderStore, "upsert_orders", counted)
    monkeypatch.setattr(sync_module, "_LIST_AT_A_TIME", 60)
    monkeypatch.setattr(sync_module, "_WRITE_EVERY", 100)
    result = sync_orders(session, START, END, progress=False, store=batched)
    assert len(batches) >= 4 and max(batches) < 100 + 60  # listed part by part, written every 100 orders or so
    assert (result.listed, result.changed, result.read_in_full) == (whole.listed, whole.changed, whole.read_in_full)
    assert sorted(result.months_written) == sorted(whole.months_written)
    assert batched.orders().drop("read_at").sort("order_id").equals(one_write)
    assert (
        batched.return_invoices()
        .sort("invoice_number")
        .equals(OrderStore.for_settings(session.settings).return_invoices().sort("invoice_number"))
    )

    # interrupted after its first write: what it wrote is kept, and nothing is claimed as synced
    fresh = OrderStore(tmp_path / "interrupted", session.settings.account)

    def interrupted(self: OrderStore, rows: pl.DataFrame, returns: pl.DataFrame | None = None) -> list[str]:
        real(self, rows, returns)
        raise KeyboardInterrupt

    monkeypatch.setattr(OrderStore, "upsert_orders", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync_orders(session, START, END, progress=False, store=fresh)
    assert 0 < fresh.orders().height < one_write.height
    assert fresh.state().coverage == []
    monkeypatch.setattr(OrderStore, "upsert_orders", real)
    again = sync_orders(session, START, END, progress=False, store=fresh)
    assert again.listed == whole.listed
    assert fresh.orders().drop("read_at").sort("order_id").equals(one_write)
