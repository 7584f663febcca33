"""``refundkit sandbox`` and ``refundkit demo``: VTEX's local stand-in, alone or with JupyterLab on the notebooks."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ..config import load_settings
from ..session import connect
from .cli_common import EXIT_OK, Output, Subcommands, UsageError, nonneg_float, positive_int, probability

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
    s.set_defaults(handler=cmd_sandbox)

    d = sub.add_parser("demo", help="start the sandbox and JupyterLab on the notebooks")
    d.add_argument("--port", type=positive_int, default=8765)
    d.add_argument("--lab-port", type=positive_int, default=8888)
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
    from ..sandbox import Sandbox, SandboxConfig  # noqa: PLC0415 - only this command loads the sandbox

    out = Output.from_args(args)
    settings = load_settings(env={k: v for k, v in os.environ.items() if not k.startswith("VTEX_")})
    sandbox = Sandbox(SandboxConfig(search_lag_s=2.0, state_dir=settings.cache_dir / "sandbox"))
    with sandbox.serve(port=args.port) as server:
        cfg = sandbox.config
        env = dict(
            os.environ,
            VTEX_BASE_URL=server.base_url,
            VTEX_ACCOUNT_NAME=cfg.account,
            VTEX_APP_KEY=cfg.app_key,
            VTEX_APP_TOKEN=cfg.app_token,
        )
        # connect() saves the ledger's schemas on a loopback sandbox, so the notebooks find them
        with connect(settings=load_settings(env=env, env_file=False)):
            pass
        out.line(
            f"refundkit sandbox at {server.base_url} (synthetic store; what you record is kept in "
            f"{settings.cache_dir / 'sandbox'})"
        )
        sys.stdout.flush()
        if args.no_lab:
            out.line("Sandbox running; press Ctrl-C to stop.")
            sys.stdout.flush()
            threading.Event().wait()
            return EXIT_OK
        jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""))
        if not jupyter:
            raise UsageError("JupyterLab is not installed: run ./dev demo (or pip install -e '.[notebooks]')")
        cmd = [
            jupyter,
            "lab",
            f"--ServerApp.root_dir={_notebooks_dir()}",
            f"--ServerApp.port={args.lab_port}",
            "--ServerApp.ip=127.0.0.1",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        if not sys.stdout.isatty() or os.environ.get("CI"):
            cmd.append("--no-browser")
        out.line("Starting JupyterLab on the notebooks; press Ctrl-C to stop both.")
        sys.stdout.flush()
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=20)
            return EXIT_OK
