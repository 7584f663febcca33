"""Benchmark: import 2,000 offline refunds from a CSV file into a sandbox where each call takes 100 ms and the account
allows 50 calls a second, then import the same file again.

The floor is what the rate limit allows: (calls the import needs per row) / 50 per second. The calls needed are
counted from what the sandbox answered (every answer except a 429 — a 429 is a call the limit refused, not one the
import needed). The re-import must write nothing; this script checks that from the sandbox's request log.

The CSV is built from eligible orders of the sandbox store: distinct orders, not canceled nor payment-pending, with
an amount within each order's refundable balance, dated the day after the order was created.

    .venv/bin/python bench/import_refunds.py             # 2,000 rows (about 5 minutes: the limit allows ~8 rows/s)
    .venv/bin/python bench/import_refunds.py --quick     # a smoke run: 200 rows
    .venv/bin/python bench/import_refunds.py --rows 500 --workers 32
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from refundkit.config import load_settings
from refundkit.ledger import Ledger, import_refunds
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.statuses import refund_refusal
from refundkit.vtex import VtexClient

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def kind(method: str, path: str) -> str:
    """A short name for the call, to show where the calls go."""
    if path.startswith("/api/oms/pvt/orders/"):
        return "GET order"
    if path == "/api/do/notes":
        return f"{method} notes"
    if path.startswith("/api/pvt/transactions/"):
        return "GET payment transaction"
    if "/dataentities/" in path:
        entity = path.split("/")[3]
        what = "ledger doc" if entity.endswith("Order") else "entry doc" if "/documents/" in path else path
        return f"{method} {what}"
    return f"{method} {path}"


def build_csv(sb: Sandbox, rows: int) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["order_id", "amount", "refunded_at", "source", "external_ref", "reason"])
    n = 0
    for o in sb.store.orders:
        if n == rows:
            break
        balance = o.total_cents - o.refunded_cents
        if refund_refusal(o.status) or o.currency != "BRL" or balance < 100:
            continue
        if o.input_invoices and any(p.name == "Boleto Bancário" for p in o.payments):
            continue  # a boleto return is paid back by hand and already counted: refundkit refuses it (README)
        amount = max(1, min(balance, balance // 3 + 1))
        when = (o.created + timedelta(days=1)).to_utc().isoformat(digits=0)
        w.writerow([o.order_id, f"{amount // 100}.{amount % 100:02d}", when, "apace", f"APC-{n:06d}", "returned item"])
        n += 1
    if n < rows:
        raise SystemExit(f"the sandbox store has only {n} eligible orders; ask for fewer rows")
    return out.getvalue()


def run(path: Path, settings, sb: Sandbox, workers: int) -> tuple[float, object, int, int]:
    with VtexClient(settings) as client:
        ledger = Ledger(client, journal_dir=False)
        sb.clear_records()
        began = time.monotonic()
        report = import_refunds(ledger, path, workers=workers)
        seconds = time.monotonic() - began
        return seconds, report, client.transport.calls, client.transport.limiter().throttled


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 200 rows")
    p.add_argument("--rows", type=int, default=None, help="rows in the file (default 2,000)")
    p.add_argument("--latency-ms", type=float, default=100.0, help="time each call takes (default 100)")
    p.add_argument("--rate-limit", type=float, default=50.0, help="calls per second the account allows (default 50)")
    p.add_argument("--workers", type=int, default=16, help="import_refunds(workers=...) (default 16)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--baseline-rows",
        type=int,
        default=100,
        help="rows of the baseline: the same import one row at a time, measured first (default 100)",
    )
    args, ignored = p.parse_known_args(argv)  # ./dev bench passes every script the same flags
    if ignored:
        print(f"(ignoring {' '.join(ignored)})")
    rows = args.rows or (200 if args.quick else 2_000)

    # announce=False: the sandbox plays a remote account (no sandbox header), so the client paces itself as against VTEX
    sb = Sandbox(SandboxConfig(seed=args.seed, latency_ms=args.latency_ms, rate_limit=args.rate_limit, announce=False))
    lines = build_csv(sb, rows + args.baseline_rows).splitlines(keepends=True)
    text = "".join(lines[: rows + 1])
    baseline_text = "".join(lines[:1] + lines[rows + 1 :])
    with tempfile.TemporaryDirectory() as tmp, sb.serve(port=0) as srv:
        path = Path(tmp) / "refunds.csv"
        path.write_text(text, encoding="utf-8")
        cfg = sb.config
        settings = load_settings(
            env={
                **sandbox_variables(srv.base_url, cfg),
                "REFUNDKIT_CACHE_DIR": tmp,
                "REFUNDKIT_USER": "bench",
            },
            env_file=False,
        )
        with VtexClient(settings) as client:
            Ledger(client, journal_dir=False).setup()
        time.sleep(1.0)  # let the account's bucket refill
        print(
            f"sandbox: {args.latency_ms:g} ms per call, {args.rate_limit:g} calls/s allowed; {rows:,} rows, "
            f"{rows:,} distinct orders; import_refunds(workers={args.workers})"
        )
        if args.baseline_rows:
            # -- baseline: the same import, one row and one call at a time (different orders) ------------------
            base_path = Path(tmp) / "baseline.csv"
            base_path.write_text(baseline_text, encoding="utf-8")
            b_seconds, b_report, _, _ = run(base_path, settings, sb, 1)
            b_ok = b_report.count("recorded") == args.baseline_rows
            print(
                f"baseline:  {b_seconds:7.1f} s for {args.baseline_rows:,} rows one at a time = "
                f"{args.baseline_rows / b_seconds:6.2f} rows/s  {'all recorded' if b_ok else 'WRONG'}"
            )
            time.sleep(1.0)

        # -- first import ------------------------------------------------------------------------------------------
        seconds, report, sent, throttled = run(path, settings, sb, args.workers)
        answered = list(sb.requests)
        needed = [r for r in answered if r.status != 429]
        refused_by_limit = len(answered) - len(needed)
        per_row = len(needed) / rows
        floor = len(needed) / args.rate_limit
        counts = Counter(report.as_dict()["counts"])
        ok = counts["recorded"] == rows
        by_kind = sorted(Counter(kind(r.method, r.path) for r in needed).items())
        print(
            f"calls needed: {len(needed):,} = {per_row:.2f} per row "
            f"({', '.join(f'{k} {v / rows:.2f}' for k, v in by_kind)})"
        )
        print(f"floor: {len(needed):,} calls / {args.rate_limit:g} per s = {floor:.1f} s = {rows / floor:.2f} rows/s")
        print(
            f"import:    {seconds:7.1f} s  {rows / seconds:6.2f} rows/s  {seconds / floor:5.2f}x floor "
            f"(target 1.3x)  {sent:,} calls sent, {refused_by_limit} answered 429 (limiter saw {throttled})  "
            f"{'all recorded' if ok else f'WRONG: {dict(counts)}'}"
        )
        if args.baseline_rows:
            print(f"  {(rows / seconds) / (args.baseline_rows / b_seconds):.1f}x the rows per second of the baseline")
        if report.rows and not ok:
            bad = [r for r in report.rows if r.outcome != "recorded"][:3]
            for r in bad:
                print(f"  line {r.line}: {r.outcome}: {r.message}")
        # where the time went: the prefetch (ledger documents and orders read) and the recording phase
        first_put = min((r.at for r in needed if r.method in WRITES), default=None)
        if first_put is not None and needed:
            t0 = min(r.at for r in answered)
            print(
                f"  phases: reading ledgers and orders {first_put - t0:6.1f} s "
                f"({sum(1 for r in needed if r.at < first_put):,} calls), recording "
                f"{max(r.at for r in answered) - first_put:6.1f} s "
                f"({sum(1 for r in needed if r.at >= first_put):,} calls)"
            )

        # -- the same file again -----------------------------------------------------------------------------------
        time.sleep(1.0)
        seconds2, report2, _sent2, _throttled2 = run(path, settings, sb, args.workers)
        answered2 = list(sb.requests)
        writes2 = [r for r in answered2 if r.method in WRITES]
        needed2 = [r for r in answered2 if r.status != 429]
        again = report2.count("already recorded") == rows
        print(
            f"re-import: {seconds2:7.1f} s  {len(needed2):,} calls needed ({len(needed2) / rows:.2f} per row, "
            f"floor {len(needed2) / args.rate_limit:.1f} s), {len(answered2) - len(needed2)} answered 429; "
            f"writes: {len(writes2)}  "
            f"{'nothing written, every row already recorded' if again and not writes2 else 'WRONG'}"
        )
        assert sb.money_moving_calls == [], "the import called an endpoint that moves money"
        assert sb.deletes == [], "the import deleted a document"
    return 0 if ok and again and not writes2 else 1


if __name__ == "__main__":
    sys.exit(main())
