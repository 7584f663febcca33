"""``refundkit sandbox`` and ``refundkit demo``: VTEX's local stand-in, alone or with JupyterLab on the notebooks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config import load_settings
from ..sandbox.config import add_masterdata_flags, masterdata_options
from ..sandbox.permissions import access_options, add_access_flags
from .cli_common import EXIT_OK, Subcommands, UsageError, nonneg_float, positive_int, probability
from .demo import run_demo

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    s = sub.add_parser("sandbox", help="serve a local stand-in for VTEX (no account needed)")
    s.add_argument("--port", type=positive_int, default=8765)
    s.add_argument("--latency-ms", type=positive_int, default=0)
    s.add_argument("--rate-limit", type=nonneg_float, default=None, help="calls per second (default: unlimited)")
    s.add_argument("--error-rate", type=probability, default=0.0, help="share of requests answered with a 5xx")
    s.add_argument(
        "--search-lag-s",
        type=nonneg_float,
        default=2.0,
        help="seconds before Master Data search sees a write (default 2)",
    )
    s.add_argument("--seed", type=positive_int, default=7)
    s.add_argument("--orders", type=positive_int, default=None, help="regular orders in the synthetic store")
    s.add_argument("--memory", action="store_true", help="keep nothing across restarts")
    add_masterdata_flags(s)
    add_access_flags(s)
    s.add_argument(
        "--notes-list-lag-s",
        type=nonneg_float,
        default=0.0,
        help="seconds before a posted note is listed (default 0; `refundkit doctor --notes-order` measures it)",
    )
    s.set_defaults(handler=cmd_sandbox)

    d = sub.add_parser("demo", help="start the sandbox, the refund desk app and JupyterLab on the notebooks")
    d.add_argument("--port", type=positive_int, default=8765)
    d.add_argument("--lab-port", type=positive_int, default=8888)
    d.add_argument("--app-port", type=positive_int, default=8866)
    d.add_argument("--no-lab", action="store_true", help="only the sandbox, with the environment printed")
    d.set_defaults(handler=cmd_demo)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ..sandbox import SandboxConfig, run_forever  # noqa: PLC0415 - only this command loads the sandbox

    settings = load_settings()
    kw: dict[str, Any] = {
        "seed": args.seed,
        "latency_ms": args.latency_ms,
        "rate_limit": args.rate_limit or None,
        "error_rate": args.error_rate,
        "search_lag_s": args.search_lag_s,
        "state_dir": None if args.memory else settings.cache_dir / "sandbox",
        **masterdata_options(args),
        **access_options(args),
        "notes_list_lag_s": args.notes_list_lag_s,
    }
    if args.orders is not None:
        kw["orders"] = args.orders
    run_forever(SandboxConfig(**kw), port=args.port)
    return EXIT_OK


def _notebooks_dir() -> Path:
    for candidate in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[2] / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise UsageError("no notebooks/ folder here: run `refundkit demo` from the refundkit checkout")


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(
        port=args.port, lab_port=args.lab_port, app_port=args.app_port, no_lab=args.no_lab, notebooks=_notebooks_dir()
    )
