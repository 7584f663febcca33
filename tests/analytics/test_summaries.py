"""Month summaries: a report summed from them (whole months) and from the orders at the range's edges has exactly the
figures of one that holds every order, in every zone (offsets of :30 and :45 included), period and view; a month
written again is never summed from its old summary, not even after a crash between the month and its summary."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundkit.analytics import OrderStore, gross_vs_net_report
from refundkit.analytics.engine import order_totals
from refundkit.analytics.store import orders_rows_frame
from refundkit.analytics.summaries import GRAIN_NS, summary_path, valid_summary
from refundkit.timeutil import Instant, local_day_bounds, parse_instant

from .test_report_figures import _entry, _order, table

ZONES = (
    "UTC",
    "America/Sao_Paulo",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Eucla",  # +08:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Kiritimati",  # +14:00
)
FIRST = parse_instant("2025-11-01T00:00:00Z")
SPAN_S = 240 * 86_400  # eight months of orders: several whole months in most ranges
HOUR_S = 3600


def _at(ns: int) -> str:
    return Instant(FIRST.ns + ns).isoformat()


# a creation time: anywhere (seconds from FIRST), or a local day's first instant in the report's zone (its day from
# FIRST) moved by -1, 0 or 1 ns: where a grain coarser than the zone's offset would put an order in the wrong day
moments = st.one_of(
    st.integers(0, SPAN_S - 1),
    st.tuples(st.integers(1, SPAN_S // 86_400 - 2), st.sampled_from([-1, 0, 1])),
)
orders_st = st.lists(
    st.tuples(
        moments,  # type: ignore[arg-type]  # resolved in the report's zone (_placed)
        st.sampled_from(["invoiced", "handling", "canceled", "payment-pending", "awaiting-review"]),
        st.sampled_from(["BRL", "USD"]),
        st.integers(1, 100_000),
    ),
    min_size=1,
    max_size=60,
)


def _placed(orders: list[tuple[Any, str, str, int]], tz: str) -> list[tuple[int, str, str, int]]:
    """The orders with each creation time in nanoseconds from FIRST (a local day's start: in ``tz``)."""
    out = []
    for moment, *rest in orders:
        if isinstance(moment, tuple):
            day, shift = moment
            local = date(2025, 11, 1) + timedelta(days=day)
            ns = local_day_bounds(local, local, tz)[0].ns - FIRST.ns + shift
        else:
            ns = moment * 10**9
        out.append((ns, *rest))
    return out


def _detailed(i: int, row: dict[str, Any]) -> dict[str, Any]:
    """Every third order synced with details whose totals split its gross, every third with totals that do not add
    up (its gross is not split), the rest without details: the gross split summed from summaries as from orders.
    Some of them carry a total refundkit does not know: the warning naming them is the same either way."""
    if i % 3 == 2:
        return row
    total = row["total_minor"]
    shipping, discounts = total // 5, -(total // 7)
    items = total - shipping - discounts - (1 if i % 3 else 0)
    row.update(has_details=True, items_minor=items, discounts_minor=discounts, shipping_minor=shipping, tax_minor=0)
    if i % 4 == 1:  # and some carry a total refundkit does not know (of zero: the split still adds up), named apart
        row.update(other_totals_ids=["Fees"], other_totals_minor=0)
    return row


def _store(root: Path, orders: list[tuple[int, str, str, int]], refunds: list[tuple[int, int, int]]) -> OrderStore:
    store = OrderStore(root, "summed")
    rows = [
        _detailed(i, _order(f"o{i}", _at(at), status, cur, total)) for i, (at, status, cur, total) in enumerate(orders)
    ]
    store.upsert_orders(orders_rows_frame(rows))
    entries, returns = [], []
    for j, (which, after_s, minor) in enumerate(refunds):
        at, _, cur, _ = orders[which % len(orders)]
        oid, when = f"o{which % len(orders)}", _at(min(at + after_s * 10**9, (SPAN_S - 1) * 10**9))
        if j % 2:  # an offline refund (in BRL, whatever its order's currency: the figures keep currencies apart)
            entries.append(_entry(f"rf{j}", oid, "refund", minor, when, ref=f"R{j}"))
        else:
            returns.append((oid, f"RI{j}", minor, cur, parse_instant(when).ns, parse_instant(_at(at)).ns))
    if entries:
        store.replace_offline_refunds(entries, since=None)
    if returns:
        ri = pl.DataFrame(
            returns,
            schema=["order_id", "invoice_number", "amount_minor", "currency", "issued_at", "order_created_at"],
            orient="row",
        ).with_columns(pl.col("issued_at", "order_created_at").cast(pl.Datetime("ns", "UTC")))
        for (month,), part in ri.group_by(pl.col("order_created_at").dt.strftime("%Y-%m")):
            store.write_month("return_invoices", str(month), part)
    state = store.state()
    state.add(FIRST.ns - 400 * 86_400 * 10**9, FIRST.ns + SPAN_S * 10**9)
    state.synced_at = FIRST.ns + SPAN_S * 10**9
    store.save_state(state)
    return store


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=orders_st,
    refunds=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 90 * 86_400), st.integers(1, 5000)), max_size=12),
    tz=st.sampled_from(ZONES),
    by=st.sampled_from(["day", "week", "month"]),
    attribution=st.sampled_from(["refund-date", "order-date"]),
    first=st.integers(0, 60),
    days=st.integers(40, 200),
    canceled=st.booleans(),
)
def test_summaries_give_the_figures_of_the_orders(
    orders: list[tuple[Any, str, str, int]],
    refunds: list[tuple[int, int, int]],
    tz: str,
    by: str,
    attribution: str,
    first: int,
    days: int,
    canceled: bool,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(Path(tmp), _placed(orders, tz), refunds)
        start = date(2025, 11, 1) + timedelta(days=first)
        options = {"by": by, "tz": tz, "attribution": attribution, "include_canceled": canceled, "lookback_days": 30}
        args = (start.isoformat(), (start + timedelta(days=days)).isoformat())
        full = gross_vs_net_report(store, *args, sync=False, **options)  # every order held: no summary read
        lean = gross_vs_net_report(store, *args, sync=False, keep_orders=False, **options)
        assert table(lean) == table(full)
        assert lean.rows.equals(full.rows)
        assert lean.warnings == full.warnings


def test_whole_months_are_read_from_their_summaries(tmp_path: Path) -> None:
    store = _store(tmp_path, [((d * 86_400 + 3600) * 10**9, "invoiced", "BRL", 100) for d in range(200)], [])
    lo, hi = parse_instant("2025-12-01T00:00:00Z"), parse_instant("2026-03-15T00:00:00Z")
    rows = store.collect(store.order_rows(lo, hi), "orders")
    # December, January and February from their summaries (one row per quarter-hour with orders), March raw
    summed = rows.filter(pl.col("span") == GRAIN_NS)
    assert summed["created_at"].dt.strftime("%Y-%m").unique().sort().to_list() == ["2025-12", "2026-01", "2026-02"]
    assert rows.filter(pl.col("span") == 1)["created_at"].dt.strftime("%Y-%m").unique().to_list() == ["2026-03"]
    assert rows["orders"].sum() == 31 + 31 + 28 + 14


def _gross(store: OrderStore, month: str) -> tuple[int, int]:
    lo = parse_instant(f"{month}-01T00:00:00Z")
    hi = Instant(lo.ns + 40 * 86_400 * 10**9)
    hi = parse_instant(hi.isoformat()[:7] + "-01T00:00:00Z")
    with store.reading():
        totals = store.collect(order_totals(store.order_rows(lo, hi), "month", "UTC"), "orders")
    return int(totals["orders"].sum()), int(totals["gross_minor"].sum())


def test_a_month_written_again_has_a_new_summary(tmp_path: Path) -> None:
    store = _store(tmp_path, [(86_400 * 10**9, "invoiced", "BRL", 100)], [])
    month_file = store.table_dir("orders") / "month=2025-11" / "data.parquet"
    assert valid_summary(month_file) is not None
    assert _gross(store, "2025-11") == (1, 100)
    store.upsert_orders(orders_rows_frame([_order("x", "2025-11-20T10:00:00Z", "invoiced", "BRL", 50)]))
    assert valid_summary(month_file) is not None
    assert _gross(store, "2025-11") == (2, 150)


def test_a_summary_of_another_version_of_its_month_is_not_read(tmp_path: Path) -> None:
    store = _store(tmp_path, [(86_400 * 10**9, "invoiced", "BRL", 100)], [])
    month_file = store.table_dir("orders") / "month=2025-11" / "data.parquet"
    old_summary = summary_path(month_file).read_bytes()
    store.upsert_orders(orders_rows_frame([_order("x", "2025-11-20T10:00:00Z", "invoiced", "BRL", 50)]))
    summary_path(month_file).write_bytes(old_summary)  # the summary of the month before it was written again
    (summary_path(month_file).with_name(f".{summary_path(month_file).name}.crc32")).unlink()
    assert valid_summary(month_file) is None
    assert _gross(store, "2025-11") == (2, 150)  # from the month file itself
    assert store.summarise_months() == ["2025-11"]
    assert valid_summary(month_file) is not None
    assert _gross(store, "2025-11") == (2, 150)


@pytest.mark.parametrize("where", ["before the summary", "while writing the summary"])
def test_a_crash_between_a_month_and_its_summary_never_reads_the_old_summary(tmp_path: Path, where: str) -> None:
    """A real process killed (SIGKILL) after it wrote a month file and before its summary was in place."""
    store = _store(tmp_path, [(86_400 * 10**9, "invoiced", "BRL", 100)], [])
    month_file = store.table_dir("orders") / "month=2025-11" / "data.parquet"
    kill = (
        "OrderStore._write_summary = lambda self, path, rows: os.kill(os.getpid(), signal.SIGKILL)"
        if where == "before the summary"
        else "pl.DataFrame.write_parquet = dying"
    )
    script = textwrap.dedent(
        f"""
        import os, signal
        import polars as pl
        from refundkit.analytics.store import OrderStore, orders_rows_frame
        from tests.analytics.test_report_figures import _order
        writing = pl.DataFrame.write_parquet
        def dying(self, f, **kw):
            if "metadata" not in kw:  # the month file: written whole
                return writing(self, f, **kw)
            f.write(b"PAR1 half a summary")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        {kill}
        st = OrderStore({str(tmp_path)!r}, "summed")
        st.upsert_orders(orders_rows_frame([_order("x", "2025-11-20T10:00:00Z", "invoiced", "BRL", 50)]))
        """
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False, cwd=root
    )
    assert proc.returncode == -9, proc.stderr
    assert summary_path(month_file).exists()  # the old summary is still there...
    assert valid_summary(month_file) is None  # ...and is not the month's as it is now
    assert _gross(store, "2025-11") == (2, 150)
    lean = gross_vs_net_report(store, "2025-11-01", "2025-11-30", by="month", sync=False, keep_orders=False)
    assert lean.rows["gross_minor"].to_list() == [150]
