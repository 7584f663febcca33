"""``refundkit orders``: every order created in a date range, as CSV, JSON or a table."""

from __future__ import annotations

import argparse
import difflib

from ..errors import ListingIncomplete
from ..textsafety import clip
from ..timeutil import local_day_bounds
from ..vtex.models import ORDER_STATUSES
from ..vtex.oms import ListReport
from .cli_common import (
    EXIT_OK,
    EXIT_VTEX,
    Output,
    Progress,
    Subcommands,
    add_day_range_flags,
    add_table_flags,
    add_zone_flag,
    check_day_range,
    session,
)

__all__ = ["register"]


COLUMNS = ["order_id", "created_at", "status", "currency", "total", "sales_channel", "payment_names"]


_STATUS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _statuses(text: str) -> list[str]:
    """Statuses as VTEX spells them. One refundkit does not know is taken too (VTEX may have statuses nobody
    documents, and listings name them): :func:`run` says so, suggesting the nearest known one."""
    out = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in out if not set(s) <= _STATUS_CHARS or len(s) > 60]
    if bad or not out:
        raise argparse.ArgumentTypeError(
            f"{clip(', '.join(bad) or text)} is not a VTEX status: use statuses such as invoiced,handling,canceled"
        )
    return out


def _status_notes(statuses: list[str] | None) -> list[str]:
    notes = []
    for s in statuses or []:
        if s not in ORDER_STATUSES:
            near = difflib.get_close_matches(s, sorted(ORDER_STATUSES), n=1)
            notes.append(
                f"status {s!r} is not one VTEX documents"
                + (f" (did you mean {near[0]}?)" if near else "")
                + "; orders VTEX files under it are listed as it answers"
            )
    return notes


def register(sub: Subcommands) -> None:
    o = sub.add_parser("orders", help="list every order created in a date range")
    add_day_range_flags(o)
    add_zone_flag(o, utc=True)
    o.add_argument("--status", type=_statuses, default=None, metavar="S,...")
    add_table_flags(o)
    o.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    check_day_range(args)
    start, end = local_day_bounds(args.start, args.end, args.tz)
    out = Output.from_args(args)
    for note in _status_notes(args.status):
        out.message(f"refundkit: note: {note}")
    progress = Progress("Listing orders")
    report = ListReport()
    incomplete: ListingIncomplete | None = None
    with session() as rk:
        try:
            orders = rk.client.orders.list(
                start,
                end,
                statuses=args.status,
                report=report,
                progress=lambda p: progress.update(
                    f"{p.orders:,} orders" + (f" of ~{p.expected:,}" if p.expected else "") + f", {p.calls} calls"
                ),
            )
        except ListingIncomplete as exc:  # keep what was listed, say what is missing, exit 3
            orders, incomplete = exc.orders, exc
    progress.done()
    rows = [
        {
            "order_id": o.order_id,
            "created_at": o.created_at.in_zone(args.tz).isoformat(),
            "status": o.status,
            "currency": o.currency,
            "total": o.total.decimal_str(),
            "sales_channel": o.sales_channel,
            "payment_names": o.payment_names,
        }
        for o in orders
    ]
    out.table(rows, COLUMNS, numeric={"total"}, what="orders")
    report.missing.clear()  # said once, below
    for warning in report.warnings():
        out.message(f"refundkit: note: {warning}")
    if incomplete is not None:
        out.message(f"refundkit: INCOMPLETE: {incomplete}")
        return EXIT_VTEX
    return EXIT_OK
