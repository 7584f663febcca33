"""The ``refundkit`` command.

Exit codes: 0 done (recorded, or already recorded); 1 refused by validation (including an unreadable amount,
refunded-at or order id, in every command), a conflict, or a likely duplicate held back (``record`` and ``import``
without ``--yes``) — nothing written for it; 2 usage error (bad flag, date range,
file, configuration); 3 VTEX could not be reached or failed, or the order was too busy to record on, or an import
has rows that failed and are to be retried; 130 interrupted. Errors a user can cause print one line to stderr,
never a traceback.

Each command lives in its own module exposing ``register(sub)`` (see :mod:`refundkit.present.cli_common`); to add
one, list its module and the commands it registers in :data:`COMMANDS`. Only the module of the command being run is
imported (all of them for ``refundkit --help`` or a name no module registers), so that a command starts without
loading what other commands need: ``refundkit report --no-sync`` loads no HTTP client, sandbox or widgets.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import ConfigError, InputError, LedgerError, RefundkitError, VtexError
from .cli_common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    EXIT_VTEX,
    Handler,
    Parser,
    UsageError,
    add_account_flag,
    check_output,
    inert_output,
    selected_accounts,
)

__all__ = ["COMMANDS", "build_parser", "main"]

#: Each command module (in :mod:`refundkit.present`) and the commands its ``register`` adds, in the order
#: ``refundkit --help`` lists them.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli_sandbox", ("sandbox", "demo")),
    ("cli_orders", ("orders",)),
    ("cli_ledger", ("setup", "quote", "record", "reverse", "import", "refunds", "reconcile")),
    ("cli_doctor", ("doctor",)),
    ("cli_report", ("sync", "report")),
    ("cli_items", ("items",)),
    ("cli_app", ("app",)),
    ("cli_users", ("users",)),
    ("cli_audit", ("audit",)),
    ("cli_accounts", ("accounts",)),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser: with only the module that registers ``command`` when one does, else with all."""
    p = Parser(
        prog="refundkit",
        description="Record offline refunds on VTEX orders exactly once, and report "
        "gross versus net revenue. refundkit moves no money: it never refunds, cancels or invoices.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    modules = [m for m, names in COMMANDS if command in names] or [m for m, _ in COMMANDS]
    for module in modules:
        importlib.import_module(f"{__package__}.{module}").register(sub)
    _give_account_flag(sub)
    return p


def _give_account_flag(sub: argparse._SubParsersAction[Parser]) -> None:
    """``--account NAME`` on every command (the innermost ones where a command has actions), unless it has its own."""
    for parser in sub.choices.values():
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for inner in nested:
                _give_account_flag(inner)
        elif not any("--account" in a.option_strings for a in parser._actions):
            add_account_flag(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; what it prints passes :func:`~refundkit.present.cli_common.inert_output`."""
    with inert_output():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    names = tuple(getattr(args, "account", None) or ())
    if len(names) > 1 and not getattr(args, "several_accounts", False):
        print(
            f"refundkit: {args.command} works on one account; --account is given {len(names)} times "
            "(only refundkit report takes several)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        check_output(args)
        with selected_accounts(names):
            return handler(args)
    except KeyboardInterrupt:
        print("refundkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LedgerError as exc:
        if _refused(exc):
            problems = getattr(exc, "problems", None) or [str(exc)]
            print(f"refundkit: refused: {'; '.join(problems)} (nothing written)", file=sys.stderr)
            return EXIT_REFUSED
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_VTEX
    except (UsageError, InputError, ConfigError) as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VtexError as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_VTEX
    except RefundkitError as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        return EXIT_OK


def _refused(exc: LedgerError) -> bool:
    """Whether ``exc`` is the ledger refusing a refund (or a conflict): then nothing was written. The ledger's model
    is looked up, not imported: a command that never loaded it (a report from the store) cannot have raised them."""
    model = sys.modules.get("refundkit.ledger.model")
    return model is not None and isinstance(exc, (model.RefundRefused, model.RefundConflict))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
