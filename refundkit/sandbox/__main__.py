"""``python -m refundkit.sandbox [--port 8765] [--seed 7] ...``: serve the demo VTEX sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from .config import SandboxConfig, add_masterdata_flags, masterdata_options
from .server import run_forever


def main(argv: list[str] | None = None) -> int:
    defaults = SandboxConfig()
    p = argparse.ArgumentParser(prog="python -m refundkit.sandbox", description=__doc__)
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port; default 8765)")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--orders", type=int, default=defaults.orders)
    p.add_argument("--flash-sale-orders", type=int, default=defaults.flash_sale_orders)
    p.add_argument("--start", default=defaults.start, help="first UTC day of order creation (YYYY-MM-DD)")
    p.add_argument("--end", default=defaults.end, help="last UTC day of order creation (YYYY-MM-DD)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--rate-limit", type=float, default=None, help="requests per second (default: unlimited)")
    p.add_argument("--error-rate", type=float, default=0.0, help="probability of a random 5xx per request")
    p.add_argument("--search-lag-s", type=float, default=0.0)
    p.add_argument("--state-dir", default=None, help="keep Master Data documents and notes here across restarts")
    add_masterdata_flags(p)
    a = p.parse_args(argv)
    cfg = SandboxConfig(
        seed=a.seed,
        orders=a.orders,
        flash_sale_orders=a.flash_sale_orders,
        start=a.start,
        end=a.end,
        latency_ms=a.latency_ms,
        rate_limit=a.rate_limit,
        error_rate=a.error_rate,
        search_lag_s=a.search_lag_s,
        state_dir=a.state_dir,
        **masterdata_options(a),
    )
    try:
        run_forever(cfg, port=a.port)
    except OSError as exc:
        print(f"cannot serve on port {a.port}: {exc.strerror or exc}; pick another with --port", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
