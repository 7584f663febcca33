"""Benchmark: `refundkit report` over a local store of 1,000,000 orders, as a whole command, against DuckDB.

The store is written here (two years of orders; per 1,000,000 orders, 60,000 return invoices and 40,000 offline
ledger entries, a tenth of them reversals) in the store's own format, and each command is timed from process start
to exit, with its CPU time and its own peak memory (the child's maximum resident set, from ``os.wait4`` in a small
launcher, so that the bench's own memory is not counted as the command's):

    refundkit report --from 2025-01-01 --to 2026-11-30 --by month --no-sync --format csv -o out.csv

against baselines measured in the same run, each a whole process reading the same Parquet files and computing the
same definitions (refund-date view, canceled and payment-pending orders and their refunds left out, a reversal
netted on the date of the refund it undoes, 180 days of look-back): a DuckDB query, and (at the first size) a pandas
script. Every CSV must equal refundkit's. Each command runs once untimed first (so that all find the files in the
system's cache and their modules compiled), then they run interleaved (one of each, in turn, so that a change in
the shared machine's load falls on all of them alike); the best and the median of each are printed, and the ratio of
the medians, refundkit to DuckDB. Then the same at 3,000,000 and 10,000,000 orders (the curve). Nothing is asserted
on time.

The store is written as a sync writes it, with the month summaries beside each orders month (whole months of the
range are summed from them, the months at its edges from the orders). Stores are written once under ``--cache``
(default ``~/.cache/refundkit-bench``, outside the repository) and reused; ``--clean`` removes them afterwards.

    .venv/bin/python bench/report_store.py            # 1M (5 runs each), then 1M/3M/10M (3 runs each)
    .venv/bin/python bench/report_store.py --quick    # 100,000 orders, then 100k/300k (a smoke run)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


DUCKDB = r"""
import sys
import duckdb

root, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
excluded = "('canceled', 'cancel', 'payment-pending')"
rows = con.execute(f'''
WITH o AS (
  SELECT order_id, created_at, status, currency, total_minor FROM read_parquet('{root}/orders/*/*.parquet')
  WHERE created_at >= TIMESTAMPTZ '2025-01-01' - INTERVAL 180 DAY AND created_at < TIMESTAMPTZ '2026-12-01'),
gross AS (
  SELECT date_trunc('month', created_at)::DATE AS period, currency, count(*) AS orders, sum(total_minor) AS gross
  FROM o WHERE status NOT IN {excluded} AND created_at >= TIMESTAMPTZ '2025-01-01' GROUP BY ALL),
ri AS (
  SELECT r.currency, r.amount_minor AS minor, coalesce(r.issued_at, r.order_created_at) AS ts
  FROM read_parquet('{root}/return_invoices/*/*.parquet') r JOIN o USING (order_id)
  WHERE o.status NOT IN {excluded}),
off AS (SELECT * FROM read_parquet('{root}/offline_refunds/*/*.parquet')),
offd AS (
  SELECT f.order_id, f.currency, f.signed_minor AS minor, coalesce(d.refunded_at, f.refunded_at) AS ts
  FROM off f LEFT JOIN (SELECT entry_id, refunded_at FROM off WHERE kind = 'refund') d ON f.reverses = d.entry_id),
offc AS (
  SELECT offd.* FROM offd LEFT JOIN o USING (order_id) WHERE coalesce(o.status, '') NOT IN {excluded}),
nat AS (
  SELECT date_trunc('month', ts)::DATE AS period, currency, sum(minor) AS native FROM ri
  WHERE ts >= TIMESTAMPTZ '2025-01-01' AND ts < TIMESTAMPTZ '2026-12-01' GROUP BY ALL),
ofl AS (
  SELECT date_trunc('month', ts)::DATE AS period, currency, sum(minor) AS offline FROM offc
  WHERE ts >= TIMESTAMPTZ '2025-01-01' AND ts < TIMESTAMPTZ '2026-12-01' GROUP BY ALL)
SELECT period, currency, coalesce(orders, 0), coalesce(gross, 0), coalesce(native, 0), coalesce(offline, 0)
FROM gross FULL JOIN nat USING (period, currency) FULL JOIN ofl USING (period, currency)
ORDER BY period, currency
''').fetchall()
def money(v):
    sign = "-" if v < 0 else ""
    return f"{sign}{abs(v) // 100}.{abs(v) % 100:02d}"
with open(out, "w") as f:
    f.write("period,currency,orders,gross,native_refunds,offline_refunds,net\n")
    for period, cur, n, g, nat, off in rows:
        g, nat, off = int(g), int(nat), int(off)
        f.write(f"{period},{cur},{n},{money(g)},{money(nat)},{money(off)},{money(g - nat - off)}\n")
"""

#: the store's shape per million orders: return invoices, offline ledger entries
PER_MILLION = (60_000, 40_000)
#: bump when build() changes, so that stores cached by an older version are written again
BUILD_VERSION = 4  # 2: with the month summaries the store writes beside each orders month; 3: summing the gross split;
# 4: summaries that count the orders carrying totals refundkit does not know


@dataclass
class Run:
    seconds: float
    peak_mb: float
    cpu_s: float  # user + system time of the process and its threads


#: Starts one command and reports its wall time, CPU time and peak memory. On Linux a child's ``ru_maxrss`` counts
#: the resident set of the process that started it (at ``fork``, its pages are the parent's): started from this
#: bench, which holds polars and numpy, every command would show the bench's memory as its own. Started from this
#: small process instead, a command's peak is its own (or this launcher's, about 10 MB, if larger).
LAUNCHER = r"""
import json, os, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - t
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"code": code, "err": err.decode(errors="replace")[-500:], "seconds": seconds,
                  "peak_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


def run_once(cmd: list[str], env: dict[str, str]) -> Run:
    """One whole process: wall time from start to exit, its CPU time, and its own peak resident memory (see
    :data:`LAUNCHER`)."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], env=env, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    if r["code"] != 0:
        sys.exit(f"{cmd[0]} failed ({r['code']}): {r['err'].strip()}")
    return Run(r["seconds"], r["peak_kb"] / 1024, r["cpu_s"])  # ru_maxrss: KiB on Linux


def store_for(cache: Path, n: int) -> Path:
    """The folder of a store of ``n`` orders under ``cache`` (``REFUNDKIT_CACHE_DIR``), written if missing."""
    folder = cache / f"orders-{n}"
    marker = folder / "built.json"
    want = {"version": BUILD_VERSION, "orders": n}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    r, f = (n * k // 1_000_000 for k in PER_MILLION)
    t = time.perf_counter()
    # in a process of its own: a child inherits its parent's peak memory at exec (Linux counts the larger of the
    # two in ru_maxrss), so a parent that had held a big store would show that peak for every command measured
    builder = multiprocessing.get_context("spawn").Process(target=build, args=(folder / "store", n, r, f))
    builder.start()
    builder.join()
    if builder.exitcode != 0:
        sys.exit(f"writing the store of {n:,} orders failed ({builder.exitcode})")
    marker.write_text(json.dumps(want))
    size = sum(p.stat().st_size for p in (folder / "store").rglob("*.parquet"))
    print(f"  (store of {n:,} orders written in {time.perf_counter() - t:.0f} s: {size / 1e6:.0f} MB of Parquet)")
    return folder


def _projected(ours: str, theirs: str) -> str:
    """refundkit's CSV cut to the columns a baseline computes (refundkit's also carry the gross split, which the
    baselines leave out: the comparison handicaps refundkit, never the baselines)."""
    mine = list(csv.reader(io.StringIO(ours)))
    header = next(csv.reader(io.StringIO(theirs)))
    keep = [mine[0].index(c) for c in header]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[row[i] for i in keep] for row in mine])
    return buf.getvalue()


def measure(cache: Path, n: int, runs: int, *, pandas: bool) -> dict[str, list[Run]]:
    """Each command ``runs`` times, interleaved (the order rotates each round); exits if any CSV differs."""
    folder = store_for(cache, n)
    # as installed: modules load from their compiled bytecode (written by the untimed first run of each)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_", "PYTHONDONTWRITE"))}
    env.update(REFUNDKIT_CACHE_DIR=str(folder), VTEX_ACCOUNT_NAME=ACCOUNT)
    root = str(folder / "store" / ACCOUNT)
    exe = Path(sys.executable).parent / "refundkit"
    args = ["report", "--from", "2025-01-01", "--to", "2026-11-30", "--by", "month", "--no-sync", "--format", "csv"]
    with tempfile.TemporaryDirectory(prefix="refundkit-bench-") as tmp:
        out = Path(tmp)
        (out / "baseline_duckdb.py").write_text(DUCKDB)
        (out / "baseline_pandas.py").write_text(BASELINE)
        commands = {
            REFUNDKIT: [str(exe), *args, "-o", str(out / "refundkit.csv")],
            "DuckDB": [sys.executable, str(out / "baseline_duckdb.py"), root, str(out / "DuckDB.csv")],
        }
        if pandas:
            commands["pandas"] = [sys.executable, str(out / "baseline_pandas.py"), root, str(out / "pandas.csv")]
        names = list(commands)
        results: dict[str, list[Run]] = {name: [] for name in names}
        for name in names:  # untimed: the files in the system's cache and the bytecode written, for all alike
            run_once(commands[name], env)
        for i in range(runs):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                results[name].append(run_once(commands[name], env))
        ours = (out / "refundkit.csv").read_text()
        for name in names[1:]:
            if _projected(ours, (out / f"{name}.csv").read_text()) != (out / f"{name}.csv").read_text():
                sys.exit(f"at {n:,} orders, {name} and refundkit give different rows")
        print(f"  {n:,} orders: all give the same {len(ours.splitlines()) - 1} rows")
    return results


REFUNDKIT = "`refundkit report`"


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "CPU model unknown"
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "CPU model unknown")


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 orders, then 100k/300k, 3 runs each")
    ap.add_argument("--runs", type=int, default=None, help="runs of each command at the first size (default 5)")
    ap.add_argument("--sizes", default=None, help="the curve's sizes, comma separated (default 1M,3M,10M)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "refundkit-bench")
    ap.add_argument("--clean", action="store_true", help="remove the stores written under --cache afterwards")
    a = ap.parse_args()
    first = 100_000 if a.quick else 1_000_000
    runs = a.runs or (3 if a.quick else 5)
    if a.sizes:
        sizes = [int(float(x.lower().replace("m", "e6").replace("k", "e3"))) for x in a.sizes.split(",")]
    else:
        sizes = [100_000, 300_000] if a.quick else [1_000_000, 3_000_000, 10_000_000]
    a.cache.mkdir(parents=True, exist_ok=True)
    try:
        print(f"== {first:,} orders, {runs} interleaved runs of each (whole processes)")
        head = measure(a.cache, first, runs, pandas=True)
        print("| command | best | median | CPU time (median) | peak memory (median) |")
        print("|---|---|---|---|---|")
        for name, rs in head.items():
            t = [r.seconds for r in rs]
            print(
                f"| {name} | {min(t):.2f} s | {statistics.median(t):.2f} s | "
                f"{statistics.median(r.cpu_s for r in rs):.2f} s | {statistics.median(r.peak_mb for r in rs):.0f} MB |"
            )
        ratio = statistics.median(r.seconds for r in head[REFUNDKIT]) / statistics.median(
            r.seconds for r in head["DuckDB"]
        )
        target = "target: at most 1.00" if first >= 1_000_000 else "the target, at most 1.00, is at 1,000,000 orders"
        print(f"refundkit / DuckDB (medians) at {first:,} orders: {ratio:.2f} ({target})")
        print(f"\n== the curve: {', '.join(f'{n:,}' for n in sizes)} orders, 3 interleaved runs of each")
        print("(peak: the largest of the runs; CPU: user + system time, less sensitive to the machine's load)")
        print("| orders | refundkit median | CPU | peak | DuckDB median | CPU | peak | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for n in sizes:
            res = head if n == first and runs >= 3 else measure(a.cache, n, 3, pandas=False)
            ours, duck = res[REFUNDKIT], res["DuckDB"]
            ours_t, duck_t = (statistics.median(r.seconds for r in x) for x in (ours, duck))
            ours_c, duck_c = (statistics.median(r.cpu_s for r in x) for x in (ours, duck))
            print(
                f"| {n:,} | {ours_t:.2f} s | {ours_c:.2f} s | {max(r.peak_mb for r in ours):.0f} MB | {duck_t:.2f} s | "
                f"{duck_c:.2f} s | {max(r.peak_mb for r in duck):.0f} MB | {ours_t / duck_t:.2f} |"
            )
        load = os.getloadavg()[0]
        print(f"cpus: {os.cpu_count()} ({_cpu_model()}), memory {_memory_gb():.0f} GB; load average {load:.1f}")
        print("(a shared machine: figures vary with its load)")
    finally:
        if a.clean:
            for n in {first, *sizes}:
                shutil.rmtree(a.cache / f"orders-{n}", ignore_errors=True)


if __name__ == "__main__":
    main()
