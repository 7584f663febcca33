"""The ``refundkit`` command.

Exit codes: 0 done (recorded, or already recorded); 1 refused by validation (including an unreadable amount,
refunded-at or order id, in every command), a conflict, or a likely duplicate held back (``record`` and ``import``
without ``--yes``) — nothing written for it; 2 usage error (bad flag, date range,
file, configuration); 3 VTEX could not be reached or failed, or the order was too busy to record on, or an import
has rows that failed and are to be retried; 130 interrupted. Errors a user can cause print one line to stderr,
never a traceback.

Each command lives in its own module exposing ``register(sub)`` (see :mod:`refundkit.present.cli_common`); to add
one, import its ``register`` here and list it in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import ConfigError, InputError, LedgerError, RefundkitError, VtexError
from ..ledger import RefundConflict, RefundRefused
from . import (
    cli_accounts,
    cli_app,
    cli_audit,
    cli_doctor,
    cli_ledger,
    cli_orders,
    cli_report,
    cli_sandbox,
    cli_users,
)
from .cli_common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    EXIT_VTEX,
    Handler,
    Parser,
    Subcommands,
    UsageError,
    add_account_flag,
    check_output,
    inert_output,
    selected_accounts,
)

__all__ = ["COMMANDS", "build_parser", "main"]

#: The modules' ``register`` functions, in the order ``refundkit --help`` lists their commands.
COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    cli_sandbox.register,
    cli_orders.register,
    cli_ledger.register,
    cli_doctor.register,
    cli_report.register,
    cli_app.register,
    cli_users.register,
    cli_audit.register,
    cli_accounts.register,
)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="refundkit",
        description="Record offline refunds on VTEX orders exactly once, and report "
        "gross versus net revenue. refundkit moves no money: it never refunds, cancels or invoices.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for register in COMMANDS:
        register(sub)
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
    parser = build_parser()
    args = parser.parse_args(argv)
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
    except (RefundRefused, RefundConflict) as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        print(f"refundkit: refused: {'; '.join(problems)} (nothing written)", file=sys.stderr)
        return EXIT_REFUSED
    except (UsageError, InputError, ConfigError) as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (VtexError, LedgerError) as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_VTEX
    except RefundkitError as exc:
        print(f"refundkit: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
