"""Reports stay exact whatever an account's list rows say: ``creationDate`` exact or truncated to the second, and
``invoiceInput`` present, absent, always null or always empty (which means "unknown", never "no return invoice").

Each variant's report equals the default variant's and the figures computed here from the sandbox's own store; a
store synced under truncated dates counts as VTEX counts, so a second sync lists nothing and changes nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

import refundkit
from refundkit.analytics import OrderStore, collect_revenue, gross_vs_net_report, sync_orders
from refundkit.config import load_settings
from refundkit.testing import check_nothing_moved, run_cli
from refundkit.timeutil import local_day_bounds, parse_instant
from tests.conftest import SandboxFactory

#: A quiet store plus a flash sale of 5,000 orders within two hours on 2026-03-15 (more than one listing filter
#: pages through: the sync splits it).
STORE = {
    "orders": 400,
    "flash_sale_orders": 5_000,
    "flash_sale_hours": 2,
    "flash_sale_day": "2026-03-15",
    "start": "2026-02-20",
    "end": "2026-04-30",
    "seed": 11,
}
FIRST, LAST = "2026-02-20", "2026-04-30"
VARIANTS = [
    ("exact", "present"),
    ("seconds", "present"),
    ("exact", "absent"),
    ("exact", "null"),
    ("exact", "empty"),
    ("seconds", "empty"),
]
LEFT_OUT = ("canceled", "cancel", "payment-pending")
ZONE = "America/Sao_Paulo"


def connect(tmp_path: Path, dates: str, invoice_input: str) -> refundkit.Session:
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(tmp_path / "cache")}, env_file=False)
    options = {**STORE, "list_dates": dates, "list_invoice_input": invoice_input}
    return refundkit.connect(settings=settings, sandbox_options=options)


@pytest.fixture(params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[refundkit.Session]:
    s = connect(tmp_path, *request.param)
    yield s
    sb = s.sandbox
    s.close()
    assert sb is not None
    check_nothing_moved(sb)


def figures(s: refundkit.Session, **kw) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(month, currency) -> (orders, gross, native refunds), in minor units, by order date."""
    rep = gross_vs_net_report(s, FIRST, LAST, by="month", attribution="order_date", progress=False, **kw)
    return {
        (r["period"].isoformat(), r["currency"]): (r["orders"], r["gross_minor"], r["native_refunds_minor"])
        for r in rep.rows.iter_rows(named=True)
        if r["orders"] or r["gross_minor"] or r["native_refunds_minor"]
    }


def from_the_sandbox(s: refundkit.Session) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The same figures computed from the sandbox's own orders, without refundkit."""
    assert s.sandbox is not None
    lo, hi = local_day_bounds(date.fromisoformat(FIRST), date.fromisoformat(LAST))
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in s.sandbox.store.orders:
        if lo.ns <= o.created.ns < hi.ns and o.status not in LEFT_OUT:
            row = out[(o.created.isoformat()[:7] + "-01", o.currency)]
            row[0] += 1
            row[1] += o.total_cents
            row[2] += o.refunded_cents
    return {k: (a, b, c) for k, (a, b, c) in out.items()}


def test_reports_are_exact_under_every_list_variant(session: refundkit.Session) -> None:
    assert session.sandbox is not None
    store = session.sandbox.store
    lo, hi = local_day_bounds(date.fromisoformat(FIRST), date.fromisoformat(LAST))
    first = sync_orders(session, lo, hi, progress=False)  # lists the flash sale in parts
    held = OrderStore.for_settings(session.settings).orders(columns=["order_id"])
    assert first.listed == held.height == len(store)
    expected = from_the_sandbox(session)
    assert sum(v[2] for v in expected.values()) > 0  # there are VTEX return invoices to find
    assert figures(session) == expected

    # a second sync counts as VTEX counts: nothing to list, nothing to read, nothing changed
    again = sync_orders(session, lo, hi, progress=False)
    assert (again.listed, again.read_in_full, again.changed) == (0, 0, 0)

    # VTEX changes orders inside the flash sale: the count checks find them, halving on whole seconds
    sale = [o for o in store.orders if o.created.isoformat()[:13] in ("2026-03-15T02", "2026-03-15T03")]
    invoiced = [o for o in sale if o.status == "invoiced" and not o.input_invoices]
    for o in invoiced[100:103]:
        store.cancel_order(o.order_id)
    store.add_return_invoice(invoiced[200].order_id, 1234, parse_instant("2026-03-20T10:00:00Z"))
    assert figures(session) == from_the_sandbox(session) != expected


def test_every_variant_gives_the_default_variants_report(tmp_path: Path) -> None:
    reports = {}
    for dates, invoice_input in [("exact", "present"), ("seconds", "null")]:
        s = connect(tmp_path / f"{dates}-{invoice_input}", dates, invoice_input)
        try:
            reports[(dates, invoice_input)] = figures(s)
            store = OrderStore.for_settings(s.settings)
            stored = store.orders(columns=["order_id", "created_at"])
            assert stored.height == len(s.sandbox.store)  # type: ignore[union-attr]  # an embedded sandbox
            assert stored.filter(pl.col("order_id").is_duplicated()).height == 0
        finally:
            s.close()
    first = reports[("exact", "present")]
    assert all(r == first for r in reports.values())


@pytest.mark.parametrize("dates", ["exact", "seconds"])
def test_refundkit_orders_lists_a_flash_sale_day_in_the_stores_zone_exactly_once(
    dates: str, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The store's midnight (03:00 UTC) falls inside a sale of 8,000 orders within 75 minutes: the day before holds
    more than one listing filter pages through, so it is split, at edges inside the sale."""
    config = {**STORE, "flash_sale_orders": 8_000, "flash_sale_hours": 1.25}
    served = sandbox_factory(list_dates=dates, **{k: v for k, v in config.items() if k != "seed"})
    listed = []
    for day in ("2026-03-14", "2026-03-15"):
        proc = run_cli(["orders", "--from", day, "--to", day, "--tz", ZONE, "--format", "json"], served.env(), tmp_path)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        listed += [r["order_id"] for r in json.loads(proc.stdout)]
    lo, hi = local_day_bounds(date(2026, 3, 14), date(2026, 3, 15), ZONE)
    held = [o.order_id for o in served.sb.store.orders if lo.ns <= o.created.ns < hi.ns]
    assert len(held) > 8_000
    assert sorted(listed) == sorted(held) and len(set(listed)) == len(listed)


@pytest.mark.parametrize("invoice_input", ["present", "absent", "null", "empty"])
def test_revenue_collected_without_the_store_finds_every_return_invoice(invoice_input: str, tmp_path: Path) -> None:
    s = connect(tmp_path, "seconds", invoice_input)
    try:
        assert s.sandbox is not None
        lo, hi = local_day_bounds(date(2026, 4, 1), date(2026, 4, 30))  # after the flash sale
        data = collect_revenue(s, lo, hi, lookback=timedelta(days=9))
        found = sorted(data.native_refunds.get_column("invoice_number").to_list())
        orders = [o for o in s.sandbox.store.orders if (lo - timedelta(days=9)).ns <= o.created.ns < hi.ns]
        assert found == sorted(i.number for o in orders for i in o.input_invoices) != []
    finally:
        s.close()
