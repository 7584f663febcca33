"""Benchmark: `sync_orders` into an order store at growing sizes (100,000, 300,000, 1,000,000 orders), time and memory.

The sandbox holds the orders (spread over half a year, a flash-sale day among them) and is served on loopback by
this process; the sync runs in a child process (``sync_orders`` with a ``VtexClient`` and an ``OrderStore`` under
a temporary folder outside the repository, deleted afterwards), so that the child's peak memory (its maximum
resident set, from ``os.wait4``) is the sync's alone and not the sandbox's. For each size it prints the orders
listed and written, the calls, the wall time, the time per 1,000 orders and the child's peak memory: time should
grow in step with the orders and memory should not. Most calls are not pages of the listing (100 orders each) but
orders read in full, one call each: those with a return invoice (about one in twenty in the sandbox's store).

The baseline, measured in the same run, is the floor the sandbox's pacing allows: the calls the sync made, divided
by the rate a client allows itself against the sandbox (``refundkit.vtex.limiter.SANDBOX_RATE`` calls a second),
as in ``bench/list_orders.py``. Nothing is asserted on time.

Reconcile is measured by ``bench/reconcile_scale.py``, on ledgers put straight into the sandbox's Master Data.

    .venv/bin/python bench/sync_scale.py                       # 100k, 300k, 1M orders
    .venv/bin/python bench/sync_scale.py --quick               # 10k, 30k (a smoke run)
    .venv/bin/python bench/sync_scale.py --sizes 100000,300000 # chosen sizes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from refundkit.analytics import OrderStore
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.timeutil import parse_instant
from refundkit.vtex.limiter import SANDBOX_RATE

START, END, TODAY = "2026-01-01", "2026-06-30", "2026-07-01"

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from refundkit.analytics import OrderStore, sync_orders
from refundkit.config import Secret, Settings
from refundkit.timeutil import parse_instant
from refundkit.vtex import VtexClient

root, start, end = sys.argv[1], parse_instant(sys.argv[2]), parse_instant(sys.argv[3])
settings = Settings(
    account=os.environ["VTEX_ACCOUNT_NAME"],
    app_key=os.environ["VTEX_APP_KEY"],
    app_token=Secret(os.environ["VTEX_APP_TOKEN"]),
    base_url=os.environ["VTEX_BASE_URL"],
    cache_dir=Path(root),
)
store = OrderStore(Path(root) / "store", settings.account)
with VtexClient(settings) as client:
    began = time.monotonic()
    result = sync_orders(client, start, end, store=store, progress=False, say=lambda line: None)
    seconds = time.monotonic() - began
print(json.dumps({"seconds": seconds, "calls": result.calls, "listed": result.listed,
                  "full": result.read_in_full, "warnings": result.warnings}))
"""


@dataclass
class Row:
    size: int
    held: int
    listed: int
    read_in_full: int
    written: int
    calls: int
    seconds: float
    wall: float
    peak_mb: float
    warnings: list[str]


def sandbox_config(size: int, seed: int) -> SandboxConfig:
    flash = size // 10  # one day holds far more than a filter pages through (3,000): the listing splits it
    return SandboxConfig(
        seed=seed,
        orders=size - flash,
        flash_sale_orders=flash,
        start=START,
        end=END,
        today=TODAY,
    )


def run_size(size: int, seed: int, tmp: Path) -> Row:
    sb = Sandbox(sandbox_config(size, seed))
    start, end = parse_instant(f"{START}T00:00:00Z"), parse_instant(f"{TODAY}T00:00:00Z")
    held = sum(1 for o in sb.store.orders if start.ns <= o.created.ns < end.ns)
    root = tmp / f"n{size}"
    with sb.serve(port=0) as srv:
        env = {**os.environ, **sandbox_variables(srv.base_url, sb.config)}
        began = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), start.isoformat(), end.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert sb.money_moving_calls == []
    # counted here, not in the child, so that reading the store back is not in the sync's peak memory
    written = OrderStore(root / "store", sb.config.account).orders(start, end, columns=["order_id"]).height
    shutil.rmtree(root, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"the sync at {size:,} orders failed (exit {proc.returncode})")
    got = json.loads(out.strip().splitlines()[-1])
    return Row(
        size,
        held,
        got["listed"],
        got["full"],
        written,
        got["calls"],
        got["seconds"],
        wall,
        usage.ru_maxrss / 1024,  # kilobytes on Linux
        got["warnings"],
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 10,000 and 30,000 orders")
    p.add_argument("--sizes", default=None, help="orders per run, comma-separated (default 100000,300000,1000000)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    text = args.sizes or ("10000,30000" if args.quick else "100000,300000,1000000")
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]

    print(f"sandbox on loopback, orders from {START} to {END}, a tenth on one flash-sale day; sync in a child process")
    print(f"floor: the sync's calls / {SANDBOX_RATE:g} calls per second (the pace a client allows itself here)")
    print(
        f"{'orders':>10} {'listed':>10} {'in full':>8} {'written':>10} {'calls':>7} {'sync s':>8} {'floor s':>8} "
        f"{'x floor':>7} {'ms/1k':>7} {'child s':>8} {'peak MB':>8}"
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="refundkit-syncbench-") as tmp:
        for size in sizes:
            r = run_size(size, args.seed, Path(tmp))
            rows.append(r)
            floor = r.calls / SANDBOX_RATE
            print(
                f"{r.held:>10,} {r.listed:>10,} {r.read_in_full:>8,} {r.written:>10,} {r.calls:>7,} "
                f"{r.seconds:>8.1f} {floor:>8.1f} {r.seconds / floor:>7.2f} "
                f"{1e6 * r.seconds / r.held:>7.0f} {r.wall:>8.1f} {r.peak_mb:>8.0f}",
                flush=True,
            )
            for w in r.warnings:
                print(f"  warning: {w}")
    ok = all(r.written == r.held and r.listed >= r.held for r in rows)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"from {a.held:,} to {b.held:,} orders ({b.held / a.held:.1f}x): sync time {b.seconds / a.seconds:.1f}x, "
            f"time per 1,000 orders {1e6 * a.seconds / a.held:.0f} -> {1e6 * b.seconds / b.held:.0f} ms, "
            f"child's peak memory {a.peak_mb:.0f} -> {b.peak_mb:.0f} MB ({b.peak_mb / a.peak_mb:.1f}x)"
        )
    print("every order listed and written" if ok else "WRONG: the store does not hold every order of the sandbox")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
