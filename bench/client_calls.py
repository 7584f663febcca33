"""Benchmark: what one call costs refundkit's client against the sandbox on loopback, and what a new client costs.

The sandbox (of the demo, the notebooks and the tests) says so in every answer, and from a loopback address that lets
the client's pacing start fast: this script times the same GETs of an order with that start, with VTEX's cautious
start (the sandbox answering as VTEX would: 20 calls/s, growing while calls succeed), and with bare httpx as the
baseline, all in the same run. It then times making new clients, each sending one call: with the process's shared TLS
context (what the client does) against httpx's default, which loads the CA bundle for every client. The sandbox runs
in this process, so the CPU figures include its work as well as the client's.

    .venv/bin/python bench/client_calls.py            # 400 calls, 200 clients
    .venv/bin/python bench/client_calls.py --quick    # 100 calls, 50 clients
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from refundkit.config import Secret, Settings
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per call of ``fn`` over ``n`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls and clients (a smoke run)")
    args = parser.parse_args(argv)
    calls, clients = (100, 50) if args.quick else (400, 200)

    sb = Sandbox(SandboxConfig(orders=300, flash_sale_orders=0, start="2026-02-20", end="2026-04-30"))
    order_id = sb.store.orders[0].order_id
    path = f"/api/oms/pvt/orders/{order_id}"
    with sb.serve(port=0) as srv, tempfile.TemporaryDirectory() as tmp:
        cfg = sb.config
        settings = Settings(
            account=cfg.account,
            app_key=cfg.app_key,
            app_token=Secret(cfg.app_token),
            base_url=srv.base_url,
            cache_dir=Path(tmp),
            check_gateway=False,  # one GET per call: the order only, not its payment transaction
        )
        headers = {"X-VTEX-API-AppKey": cfg.app_key, "X-VTEX-API-AppToken": cfg.app_token}
        print(f"sandbox on {srv.base_url}, no latency; GET {path.replace(order_id, '{orderId}')}, {calls} calls each")
        print("(CPU: this process, the sandbox's threads included)")

        with httpx.Client(base_url=srv.base_url, headers=headers) as bare:
            bare.get(path)
            base_wall, base_cpu = timed(lambda: bare.get(path), calls)
        print(f"  httpx, bare (baseline)               {base_wall:6.2f} ms a call ({base_cpu:.2f} ms CPU)")
        for name, announce in (
            ("refundkit, the sandbox's fast start", True),
            ("refundkit, paced as against VTEX", False),
        ):
            sb.config.announce = announce  # False: no sandbox header, so the client paces itself as against VTEX
            with VtexClient(settings, retry=RetryPolicy.fast()) as client:
                client.orders.get(order_id)  # the first call, as for the baseline
                wall, cpu = timed(functools.partial(client.orders.get, order_id), calls)
            print(f"  {name:<36} {wall:6.2f} ms a call ({cpu:.2f} ms CPU), {wall / base_wall:.1f}x the baseline")

        sb.config.announce = True
        print(f"new clients, each sending one GET ({clients} clients)")

        def new_httpx_client() -> None:
            with httpx.Client(base_url=srv.base_url, headers=headers) as c:
                c.get(path)

        def new_refundkit_client() -> None:
            with VtexClient(settings, retry=RetryPolicy.fast()) as c:
                c.orders.get(order_id)

        base_wall, base_cpu = timed(new_httpx_client, clients)
        print(f"  httpx, default TLS context (baseline) {base_wall:6.2f} ms a client ({base_cpu:.2f} ms CPU)")
        wall, cpu = timed(new_refundkit_client, clients)
        print(f"  refundkit, shared TLS context         {wall:6.2f} ms a client ({cpu:.2f} ms CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
