"""Benchmark: `refundkit report` over a local store of 1,000,000 orders and 100,000 refunds, as a whole command.

The store is written here (two years of orders, 60,000 return invoices and 40,000 offline ledger entries, a tenth of
them reversals) in the store's own format, and the command is timed from process start to exit:

    refundkit report --from 2025-01-01 --to 2026-11-30 --by month --no-sync --format csv -o out.csv

against a baseline measured in the same run: the same definitions (refund-date view, canceled and payment-pending
orders and their refunds left out, a reversal netted on the date of the refund it undoes, 180 days of look-back)
computed by a pandas script reading the same Parquet files, also timed as a whole process. Both CSVs must be equal.
Each is run three times; the best and the median are printed. Nothing is asserted on time.

    .venv/bin/python bench/report_store.py            # 1,000,000 orders (writing the store takes ~20 s)
    .venv/bin/python bench/report_store.py --quick    # 100,000 orders
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from refundkit.analytics.store import STORE_ORDERS_SCHEMA, OrderStore
from refundkit.timeutil import parse_instant

ACCOUNT = "benchstore"
FIRST, END = parse_instant("2024-12-01T00:00:00Z"), parse_instant("2026-12-01T00:00:00Z")
UTC_NS = pl.Datetime("ns", "UTC")

BASELINE = r"""
import sys, glob
import pandas as pd

root, out = sys.argv[1], sys.argv[2]
lo, hi = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-12-01", tz="UTC")
earliest = lo - pd.Timedelta(days=180)
def read(table, columns):
    return pd.concat([pd.read_parquet(f, columns=columns) for f in sorted(glob.glob(f"{root}/{table}/*/*.parquet"))])
orders = read("orders", ["order_id", "created_at", "status", "currency", "total_minor"])
orders = orders[(orders.created_at >= earliest) & (orders.created_at < hi)]
excluded = orders.status.isin(["canceled", "cancel", "payment-pending"])
status = orders.set_index("order_id").status
counted = orders[~excluded & (orders.created_at >= lo)].copy()
counted["period"] = counted.created_at.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
gross = counted.groupby(["period", "currency"]).agg(orders=("order_id", "size"), gross=("total_minor", "sum"))

ri = read("return_invoices", ["order_id", "amount_minor", "currency", "issued_at", "order_created_at"])
ri = ri[ri.order_id.isin(orders.order_id)]
ri["at"] = ri.issued_at.fillna(ri.order_created_at)
ri["minor"] = ri.amount_minor
off = read("offline_refunds", ["entry_id", "order_id", "kind", "signed_minor", "currency", "refunded_at", "reverses"])
dates = off[off.kind == "refund"].set_index("entry_id").refunded_at
off["at"] = off.reverses.map(dates).fillna(off.refunded_at)
off["minor"] = off.signed_minor
parts = []
for name, df in (("native", ri), ("offline", off)):
    df = df[df.order_id.map(status).fillna("").isin(["canceled", "cancel", "payment-pending"]) == False]
    df = df[(df["at"] >= lo) & (df["at"] < hi)].copy()
    df["period"] = df["at"].dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
    parts.append(df.groupby(["period", "currency"])["minor"].sum().rename(name))
table = gross.join(parts, how="outer").fillna(0).astype("int64").reset_index().sort_values(["period", "currency"])
table["net"] = table.gross - table.native - table.offline
def money(v):
    sign = "-" if v < 0 else ""
    return f"{sign}{abs(v) // 100}.{abs(v) % 100:02d}"
with open(out, "w") as f:
    f.write("period,currency,orders,gross,native_refunds,offline_refunds,net\n")
    for r in table.itertuples():
        f.write(f"{r.period},{r.currency},{r.orders},{money(r.gross)},{money(r.native)},{money(r.offline)},{money(r.net)}\n")
"""


def build(root: Path, n_orders: int, n_returns: int, n_offline: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    span = END.ns - FIRST.ns
    created = np.sort(FIRST.ns + (rng.random(n_orders) * (span // 100)).astype(np.int64) * 100)
    ids = np.char.add(np.arange(10**12, 10**12 + n_orders).astype(str), "-01")
    status = rng.choice(
        ["invoiced", "handling", "payment-approved", "canceled", "payment-pending"],
        n_orders,
        p=[0.8, 0.07, 0.05, 0.05, 0.03],
    )
    usd = rng.random(n_orders) < 0.1
    totals = rng.integers(990, 250_000, n_orders)
    orders = pl.DataFrame(
        {
            "order_id": ids,
            "created_at": pl.Series(created).cast(UTC_NS),
            "status": status,
            "currency": np.where(usd, "USD", "BRL"),
            "total_minor": totals,
            "sales_channel": np.where(usd, "2", "1"),
            "payment_names": "Pix",
            "origin": "Marketplace",
        }
    )
    with_returns = np.sort(rng.choice(n_orders, n_returns, replace=False))
    ret = pl.DataFrame(
        {
            "order_id": ids[with_returns],
            "invoice_number": np.char.add("R", np.arange(n_returns).astype(str)),
            "amount_minor": totals[with_returns] // rng.integers(1, 5, n_returns),
            "currency": np.where(usd[with_returns], "USD", "BRL"),
            "issued_at": pl.Series(created[with_returns] + rng.integers(1, 60, n_returns) * 86_400 * 10**9).cast(
                UTC_NS
            ),
            "order_created_at": pl.Series(created[with_returns]).cast(UTC_NS),
        }
    )
    invoice_input = (
        pl.DataFrame({"order_id": ret["order_id"], "n": ret["invoice_number"]})
        .group_by("order_id")
        .agg(pl.col("n").alias("invoice_input"))
    )
    orders = (
        orders.join(invoice_input, on="order_id", how="left")
        .with_columns(
            pl.col("invoice_input").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.lit(END.ns).cast(UTC_NS).alias("read_at"),
            pl.lit(False).alias("has_details"),
        )
        .with_columns(pl.lit(None).cast(t).alias(c) for c, t in STORE_ORDERS_SCHEMA.items() if c not in orders.columns)
    )
    n_rev = n_offline // 10
    refunded = rng.choice(n_orders, n_offline - n_rev, replace=False)
    at = created[refunded] + rng.integers(1, 90, len(refunded)) * 86_400 * 10**9
    entry_ids = np.char.add("rf-", np.arange(len(refunded)).astype(str))
    reversed_ix = rng.choice(len(refunded), n_rev, replace=False)
    amounts = totals[refunded] // 3
    cur = np.where(usd[refunded], "USD", "BRL")
    n = len(refunded)
    offline = pl.DataFrame(
        {
            "entry_id": np.concatenate([entry_ids, np.char.add("rv-", np.arange(n_rev).astype(str))]),
            "order_id": np.concatenate([ids[refunded], ids[refunded][reversed_ix]]),
            "kind": ["refund"] * n + ["reversal"] * n_rev,
            "amount_minor": np.concatenate([amounts, amounts[reversed_ix]]),
            "signed_minor": np.concatenate([amounts, -amounts[reversed_ix]]),
            "currency": np.concatenate([cur, cur[reversed_ix]]),
            "refunded_at": pl.Series(np.concatenate([at, at[reversed_ix] + 86_400 * 10**9])).cast(UTC_NS),
            "source": "cash",
            "external_ref": np.char.add("REF-", np.arange(n + n_rev).astype(str)),
            "reason": "",
            "recorded_by": "bench",
            "recorded_at": pl.Series(np.concatenate([at, at[reversed_ix] + 86_400 * 10**9])).cast(UTC_NS),
            "reverses": pl.Series([None] * n + list(entry_ids[reversed_ix]), dtype=pl.String),
            "over_refund": False,
            "note_status": "posted",
        }
    )
    st = OrderStore(root, ACCOUNT)
    for table, df, col in (
        ("orders", orders, "created_at"),
        ("return_invoices", ret, "order_created_at"),
        ("offline_refunds", offline, "refunded_at"),
    ):
        for (month,), part in df.group_by(pl.col(col).dt.strftime("%Y-%m"), maintain_order=True):
            st.write_month(table, str(month), part.sort(col))
    state = st.state()
    state.add(FIRST.ns, END.ns)
    state.synced_at = END.ns
    st.save_state(state)


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
        out.append(time.perf_counter() - t)
        if p.returncode != 0:
            sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 orders and 10,000 refunds")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    n, r, f = (100_000, 6_000, 4_000) if a.quick else (1_000_000, 60_000, 40_000)
    with tempfile.TemporaryDirectory(prefix="refundkit-bench-") as tmp:
        cache = Path(tmp) / "cache"
        t = time.perf_counter()
        build(cache / "store", n, r, f)
        size = sum(p.stat().st_size for p in (cache / "store").rglob("*.parquet"))
        print(
            f"store: {n:,} orders, {r:,} return invoices, {f:,} offline entries; {size / 1e6:.1f} MB of Parquet; "
            f"written in {time.perf_counter() - t:.1f} s"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
        env.update(REFUNDKIT_CACHE_DIR=str(cache), VTEX_ACCOUNT_NAME=ACCOUNT)
        ours, theirs = Path(tmp) / "refundkit.csv", Path(tmp) / "pandas.csv"
        exe = Path(sys.executable).parent / "refundkit"
        cmd = [
            str(exe),
            "report",
            "--from",
            "2025-01-01",
            "--to",
            "2026-11-30",
            "--by",
            "month",
            "--no-sync",
            "--format",
            "csv",
            "-o",
            str(ours),
        ]
        script = Path(tmp) / "baseline.py"
        script.write_text(BASELINE)
        base = timed([sys.executable, str(script), str(cache / "store" / ACCOUNT), str(theirs)], env, a.runs)
        rk = timed(cmd, env, a.runs)
        same = ours.read_text() == theirs.read_text()
        rows = len(ours.read_text().splitlines()) - 1
        print(f"both give the same {rows} rows: {same}")
        print("| | best | median | runs |")
        print("|---|---|---|---|")
        for name, t in (("pandas on the same Parquet (baseline)", base), ("`refundkit report` (whole command)", rk)):
            print(f"| {name} | {min(t):.2f} s | {statistics.median(t):.2f} s | {a.runs} |")
        print(f"target: under 1.5 s; cpus: {os.cpu_count()} (shared machine: figures vary with its load)")
        if not same:
            sys.exit("the two CSVs differ")


if __name__ == "__main__":
    main()
