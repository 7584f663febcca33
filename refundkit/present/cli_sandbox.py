"""``refundkit sandbox`` and ``refundkit demo``: VTEX's local stand-in, alone or with JupyterLab on the notebooks."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_settings
from ..ledger.verdict import forget_verdict
from ..sandbox.flags import add_sandbox_flags, config_from_args
from ..sandbox.variables import second_account
from .cli_common import EXIT_OK, Subcommands, UsageError, positive_int
from .demo import run_demo

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    s = sub.add_parser("sandbox", help="serve a local stand-in for VTEX (no account needed)")
    add_sandbox_flags(s)  # the same flags as python -m refundkit.sandbox
    s.set_defaults(handler=cmd_sandbox)

    d = sub.add_parser("demo", help="start the sandbox, the refund desk app and JupyterLab on the notebooks")
    d.add_argument("--port", type=positive_int, default=8765)
    d.add_argument("--lab-port", type=positive_int, default=8888)
    d.add_argument("--app-port", type=positive_int, default=8866)
    d.add_argument("--no-lab", action="store_true", help="only the sandbox, with the environment printed")
    d.add_argument(
        "--accounts", type=int, choices=(1, 2), default=2, help="stores to serve (default 2: two accounts, one report)"
    )
    d.set_defaults(handler=cmd_demo)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ..sandbox import run_forever  # noqa: PLC0415 - only this command loads the sandbox

    cache_dir = load_settings().cache_dir
    try:
        config = config_from_args(args, cache_dir=cache_dir)
    except ValueError as exc:  # a SandboxConfig the flags describe but the store cannot build (end before start)
        raise UsageError(str(exc)) from None
    for served in [config] + ([second_account(config)] if args.accounts > 1 else []):
        forget_verdict(cache_dir, served.account)  # this sandbox may answer conditional writes differently
    run_forever(config, port=args.port, accounts=args.accounts)
    return EXIT_OK


def _notebooks_dir() -> Path:
    for candidate in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[2] / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise UsageError("no notebooks/ folder here: run `refundkit demo` from the refundkit checkout")


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(
        port=args.port,
        lab_port=args.lab_port,
        app_port=args.app_port,
        no_lab=args.no_lab,
        notebooks=_notebooks_dir(),
        accounts=args.accounts,
    )
