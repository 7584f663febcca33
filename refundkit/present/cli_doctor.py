"""``refundkit doctor``: the table of what the configured account does of what refundkit relies on.

Exit codes (the README's table, applied to a check-up): 0 no check failed (warnings and skipped checks may remain);
1 at least one check failed — each failed row says what to do; 2 usage or configuration error; 3 VTEX could not be
reached at all, so nothing was checked.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import TextIO

from ..doctor import Doctor, DoctorOptions, DoctorReport, Status
from ..doctor.outcome import save_doctor_outcome
from ..errors import InputError
from ..vtex.oms import check_order_id
from .cli_common import EXIT_OK, EXIT_REFUSED, EXIT_VTEX, Subcommands, add_json_flag, session

__all__ = ["cmd_doctor", "print_report", "register"]

EXIT_FAILED = EXIT_REFUSED  # 1: a check failed


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 3600 seconds")
    return value


def _order_id(text: str) -> str:
    try:
        return check_order_id(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)[:200]) from None


def register(sub: Subcommands) -> None:
    d = sub.add_parser(
        "doctor",
        help="check that this VTEX account does what refundkit relies on (writes only scratch documents)",
        description="Check credentials, License Manager permissions, the ledger's schemas, Master Data's "
        "consistency and the order list on the configured account. Writes only to the scratch entity "
        "refundkitScratch, and to an order only with --notes-order.",
    )
    d.add_argument(
        "--notes-order",
        metavar="ORDER_ID",
        type=_order_id,
        default=None,
        help="also check order notes by posting one test note on this order (VTEX notes cannot be deleted)",
    )
    d.add_argument(
        "--search-deadline-s",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="how long to wait for Master Data search to show a write (default 60)",
    )
    add_json_flag(d)
    d.set_defaults(handler=cmd_doctor)


def print_report(report: DoctorReport, stream: TextIO | None = None, width: int | None = None) -> None:
    stream = stream if stream is not None else sys.stdout  # looked up now: a caller may have redirected it
    width = width or max(80, min(shutil.get_terminal_size((120, 24)).columns, 160))
    print(
        f"refundkit doctor: account {report.account} at {report.base_url} ({report.started_at.isoformat(0)})",
        file=stream,
    )
    print(file=stream)
    title_w = max((len(c.title) for c in report.checks), default=10)
    indent = " " * (8 + 2 + title_w + 2)
    for c in report.checks:
        head = f"{c.status.value.upper():<8}  {c.title:<{title_w}}  "
        lines = textwrap.wrap(c.result, width=max(40, width - len(indent))) or [""]
        print(head + lines[0], file=stream)
        for line in lines[1:]:
            print(indent + line, file=stream)
        if c.action and c.status is not Status.PASS:
            for i, line in enumerate(textwrap.wrap(c.action, width=max(40, width - len(indent) - 4))):
                print(indent + ("do: " if i == 0 else "    ") + line, file=stream)
    print(file=stream)
    print(report.summary() + ".", file=stream)
    if report.verdict_path:
        print(f"Master Data verdict saved to {report.verdict_path}", file=stream)


def cmd_doctor(args: argparse.Namespace) -> int:
    options = DoctorOptions(notes_order=args.notes_order, search_deadline_s=args.search_deadline_s)
    with session() as rk:
        if sys.stderr.isatty():
            print(f"Checking account {rk.settings.account} (up to a minute)...", file=sys.stderr, flush=True)
        report = Doctor(rk.client).run(options)
        if not report.unreachable and rk.settings.account:  # `refundkit accounts` shows whether doctor has passed
            try:
                save_doctor_outcome(
                    rk.settings.cache_dir, rk.settings.account, ok=report.ok, checked_at=report.started_at.isoformat(0)
                )
            except OSError as exc:
                print(f"refundkit: warning: doctor's outcome not kept: {exc.strerror or exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print_report(report)
    if report.unreachable:
        return EXIT_VTEX
    return EXIT_OK if report.ok else EXIT_FAILED
