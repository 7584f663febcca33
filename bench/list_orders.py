"""Benchmark: list 12,000 orders from a sandbox where each call takes 300 ms and the account allows 20 calls a second.

No client can do it in fewer than 120 calls (30 pages of 100 per filter), so the floor is 120 / 20 = 6 s; a client that
pages one call at a time needs about 120 x 0.3 = 36 s. This script serves the sandbox in-process and measures

(a) a baseline: a plain sequential client written here with httpx, one call at a time, walking the range with a
    moving lower bound (read up to 30 pages, restart from the last creation date seen, drop duplicates);
(b) refundkit: ``Orders.list`` over the whole range.

Both answers are compared with the sandbox's store (same ids, each once). Figures only; nothing is asserted on time.

    .venv/bin/python bench/list_orders.py            # the full run (about 45 s, most of it the baseline)
    .venv/bin/python bench/list_orders.py --quick    # a smoke run: 4,000 orders, 50 ms calls
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import httpx

from refundkit.config import Secret, Settings
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.timeutil import Instant, local_day_bounds, parse_instant
from refundkit.vtex import VtexClient

GROUPS = 40 + 25  # the sandbox always adds two groups of orders sharing one instant


@dataclass
class Run:
    name: str
    seconds: float
    ids: list[str]
    calls: int
    throttled: int


def sandbox_config(total: int, latency_ms: float, rate_limit: float, seed: int) -> SandboxConfig:
    flash = 3200  # one day holds more than a filter can page through (3,000)
    return SandboxConfig(
        seed=seed,
        orders=total - flash - GROUPS,
        flash_sale_orders=flash,
        start="2026-06-01",
        end="2026-06-30",
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        announce=False,  # plays a remote account: no sandbox header, so the client paces itself as against VTEX
    )


def baseline(base_url: str, headers: dict[str, str], start: Instant, end: Instant) -> Run:
    """One call at a time. Walk ``[start, end)`` ascending; after 30 pages, restart the filter at the last creation
    date seen (rounded down to the millisecond, so orders sharing it are read again and dropped as duplicates)."""
    seen: dict[str, None] = {}
    calls = throttled = 0
    lower = start
    began = time.monotonic()
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        while True:
            last_created: Instant | None = None
            page = 1
            while page <= 30:
                params = {
                    "f_creationDate": f"creationDate:[{lower.filter_format()} TO {end.filter_format()}]",
                    "orderBy": "creationDate,asc",
                    "page": str(page),
                    "per_page": "100",
                }
                calls += 1
                r = client.get("/api/oms/pvt/orders", params=params)
                if r.status_code == 429:
                    throttled += 1
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                r.raise_for_status()
                body = r.json()
                for row in body["list"]:
                    created = parse_instant(row["creationDate"])
                    if created.ns < end.ns:
                        seen.setdefault(row["orderId"], None)
                    last_created = created
                if page >= body["paging"]["pages"]:
                    return Run("baseline", time.monotonic() - began, list(seen), calls, throttled)
                page += 1
            assert last_created is not None
            next_lower = last_created.floor_ms()
            if next_lower.ns <= lower.ns:
                raise SystemExit("baseline: more than 3,000 orders in one millisecond; it cannot go on")
            lower = next_lower


def refundkit_run(settings: Settings, start: Instant, end: Instant) -> Run:
    with VtexClient(settings) as client:
        began = time.monotonic()
        orders = client.orders.list(start, end)
        seconds = time.monotonic() - began
        limiter = client.transport.limiter()
        return Run("refundkit", seconds, [o.order_id for o in orders], client.transport.calls, limiter.throttled)


def check(run: Run, expected: list[str]) -> str:
    dupes = sum(1 for v in Counter(run.ids).values() if v > 1)
    missing = len(set(expected) - set(run.ids))
    extra = len(set(run.ids) - set(expected))
    ok = not dupes and not missing and not extra and len(run.ids) == len(expected)
    return "every order exactly once" if ok else f"WRONG: {missing} missing, {extra} extra, {dupes} duplicated"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 4,000 orders, 50 ms per call")
    p.add_argument("--orders", type=int, default=None, help="orders in the listed range (default 12,000)")
    p.add_argument("--latency-ms", type=float, default=None, help="time each call takes (default 300)")
    p.add_argument("--rate-limit", type=float, default=20.0, help="calls per second the account allows")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-baseline", action="store_true", help="skip the slow sequential client")
    p.add_argument("--repeat", type=int, default=1, help="run refundkit this many times (fresh sandbox each)")
    args = p.parse_args(argv)
    total = args.orders or (4_000 if args.quick else 12_000)
    latency = args.latency_ms if args.latency_ms is not None else (50.0 if args.quick else 300.0)

    first, last = date(2026, 6, 1), date(2026, 6, 30)
    start, end = local_day_bounds(first, last)
    floor_calls = math.ceil(total / 100)
    floor = floor_calls / args.rate_limit
    print(f"sandbox: {latency:.0f} ms per call, {args.rate_limit:g} calls/s allowed; range {first} to {last}")

    results: list[Run] = []
    for k in range(args.repeat):
        sb = Sandbox(sandbox_config(total, latency, args.rate_limit, args.seed))
        expected = [o.order_id for o in sb.store.orders if start.ns <= o.created.ns < end.ns]
        flash = sb.store.flash_sale_day
        flash_count = sum(1 for o in sb.store.orders if o.created.to_datetime().date() == flash)
        if k == 0:
            print(f"orders in the range: {len(expected):,} (flash-sale day {flash}: {flash_count:,})")
            print(
                f"floor: {floor_calls} calls / {args.rate_limit:g} per s = {floor:.2f} s; "
                f"one call at a time: ~{floor_calls * latency / 1000:.1f} s"
            )
        assert len(expected) == total, f"the store holds {len(expected)} orders in the range, not {total}"
        with sb.serve(port=0) as srv:
            cfg = sb.config
            settings = Settings(
                account=cfg.account, app_key=cfg.app_key, app_token=Secret(cfg.app_token), base_url=srv.base_url
            )
            if k == 0 and not args.no_baseline:
                headers = {
                    "X-VTEX-API-AppKey": cfg.app_key,
                    "X-VTEX-API-AppToken": cfg.app_token,
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                }
                b = baseline(srv.base_url, headers, start, end)
                print(
                    f"baseline:  {b.seconds:6.2f} s  {b.seconds / floor:5.2f}x floor  {b.calls:4d} calls  "
                    f"{b.throttled:3d} x 429  {check(b, expected)}"
                )
                time.sleep(1.0)  # let the account's bucket refill before the next client
                sb.clear_records()
            r = refundkit_run(settings, start, end)
            served_429 = sum(1 for rec in sb.requests if rec.status == 429)
            assert sb.money_moving_calls == []
        results.append(r)
        print(
            f"refundkit: {r.seconds:6.2f} s  {r.seconds / floor:5.2f}x floor  {r.calls:4d} calls  "
            f"{r.throttled:3d} x 429 (sandbox answered {served_429})  {check(r, expected)}"
        )
    if args.repeat > 1:
        times = sorted(r.seconds for r in results)
        print(
            f"refundkit over {args.repeat} runs: best {times[0]:.2f} s, median {times[len(times) // 2]:.2f} s, "
            f"worst {times[-1]:.2f} s (target {1.3 * floor:.2f} s = 1.3x floor)"
        )
    return 0 if all(check(r, expected).startswith("every") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
