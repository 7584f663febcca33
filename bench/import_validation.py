"""Benchmark: the cost of validating an import (``refundkit import --dry-run``) as the file grows.

Validation reads each order's ledger and the order once (two calls per order, whatever the rows), then makes one pass
over the rows. This script validates files of growing size, all on the same 50 orders of a sandbox on loopback (no
latency injected, so what is measured is refundkit's own work), and prints the time per row: a linear validation
keeps it flat. The baseline, in the same run, is the smallest file's time per row; the quadratic validation this
replaced took 9.9 s for 10,000 rows and 11 min 41 s for 100,000.

    .venv/bin/python bench/import_validation.py              # 2,000 / 8,000 / 32,000 rows
    .venv/bin/python bench/import_validation.py --quick      # 500 / 2,000 rows
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from refundkit.config import load_settings
from refundkit.ledger import Ledger, import_refunds
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.statuses import refund_refusal
from refundkit.vtex import VtexClient

ORDERS = 50


def build_csv(order_ids: list[str], rows: int) -> bytes:
    lines = ["order_id,amount,refunded_at,source,external_ref,reason"]
    lines += [f"{order_ids[i % len(order_ids)]},0.01,2026-04-20,cash,BENCH-{i},bench" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller files (a smoke run)")
    args = parser.parse_args(argv)
    sizes = [500, 2_000] if args.quick else [2_000, 8_000, 32_000]

    sb = Sandbox(SandboxConfig(orders=600, flash_sale_orders=0, start="2026-02-20", end="2026-04-10"))
    order_ids = [
        o.order_id
        for o in sb.store.orders
        if refund_refusal(o.status) is None and o.currency == "BRL" and o.total_cents - o.refunded_cents >= 40_000
    ][:ORDERS]
    if len(order_ids) < ORDERS:
        print(f"the sandbox store has only {len(order_ids)} suitable orders", file=sys.stderr)
        return 1
    with sb.serve(port=0) as srv, tempfile.TemporaryDirectory() as tmp:
        cfg = sb.config
        env = {
            **sandbox_variables(srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        with VtexClient(load_settings(env=env, env_file=False)) as client:
            ledger = Ledger(client, journal_dir=False)
            ledger.setup()
            print(f"validating imports on {ORDERS} orders (dry run; sandbox on loopback, no latency)")
            print(f"{'rows':>8} {'time':>9} {'µs/row':>8} {'vs baseline':>12} {'calls':>6}")
            baseline = None
            for rows in sizes:
                data = build_csv(order_ids, rows)
                before = len(sb.requests)
                t0 = time.perf_counter()
                # the file's rows repeat one amount per order on one day: every one after the first would be held
                # back as a likely duplicate of the others (import_refunds.py measures that check on real rows)
                report = import_refunds(ledger, data, name="bench.csv", dry_run=True, duplicate_days=0)
                elapsed = time.perf_counter() - t0
                calls = len(sb.requests) - before
                per_row = elapsed / rows * 1e6
                baseline = baseline or per_row
                outcomes = Counter(r.outcome for r in report.rows)
                if outcomes != {"would record": rows}:
                    print(f"unexpected outcomes: {dict(outcomes)}", file=sys.stderr)
                    return 1
                print(f"{rows:>8,} {elapsed:>8.2f}s {per_row:>8.0f} {per_row / baseline:>11.2f}x {calls:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
