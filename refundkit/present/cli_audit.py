"""``refundkit audit``: the desk's audit trail (sign-ins, sign-outs, and every write made through the desk)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_settings
from .audit import audit_path, read_events
from .cli_common import EXIT_OK, Output, Subcommands, add_table_flags, chosen_accounts

__all__ = ["AUDIT_COLUMNS", "register"]

AUDIT_COLUMNS = (
    "at",
    "event",
    "user",
    "address",
    "method",
    "outcome",
    "account",
    "order_id",
    "entry_id",
    "amount",
    "source",
    "external_ref",
    "detail",
)


def register(sub: Subcommands) -> None:
    a = sub.add_parser("audit", help="print the refund desk's audit trail: who signed in, and what they wrote")
    a.add_argument(
        "--file", type=Path, default=None, help="default audit.jsonl in the local store's folder (REFUNDKIT_CACHE_DIR)"
    )
    a.add_argument("--user", default=None, help="only this person's events")
    add_table_flags(a)
    a.set_defaults(handler=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    path = args.file or audit_path(load_settings())
    rows = [e for e in read_events(path) if args.user is None or e.get("user") == args.user]
    if chosen_accounts():  # --account: only the writes made to that account
        account = load_settings(account=chosen_accounts()[0]).account
        rows = [e for e in rows if e.get("account") == account]
    table = [{c: "" if e.get(c) is None else str(e.get(c)) for c in AUDIT_COLUMNS} for e in rows]
    Output.from_args(args).table(table, AUDIT_COLUMNS, what="events")
    return EXIT_OK
