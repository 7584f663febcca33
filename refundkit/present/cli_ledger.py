"""The ledger's commands: ``setup``, ``quote``, ``record``, ``reverse``, ``import``, ``refunds``, ``reconcile``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..argtypes import positive_int
from ..doctor import save_scratch_schema
from ..errors import InputError
from ..ledger import Ledger, ListedEntry, RefundQuery, import_refunds, list_all, list_entries
from ..ledger.csvdialect import date_format_of
from ..ledger.csvimport import result_csv
from ..ledger.duplicates import find_likely_duplicates
from ..ledger.items import OrderItems, describe_lines
from ..ledger.model import KNOWN_SOURCES, NoteStatus, Quote, RecordResult, RefundLine
from ..ledger.reconcile import RECONCILE_GRACE_S
from ..ledger.rules import require_order_id
from ..timeutil import local_day_bounds
from .cli_common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_VTEX,
    Output,
    Progress,
    Subcommands,
    UsageError,
    add_day_range_flags,
    add_json_flag,
    add_table_flags,
    add_zone_flag,
    check_day_range,
    session,
)
from .tables import ENTRY_COLUMNS, MACHINE_COLUMNS, entry_row

__all__ = ["register"]


def _order_ids(values: list[str] | None) -> list[str] | None:
    """Every ``--order`` checked by the ledger's rule: one that is not an order id is refused (exit 1), as in
    ``record`` and ``quote``."""
    return None if values is None else [require_order_id(v) for v in values]


def register(sub: Subcommands) -> None:
    s = sub.add_parser("setup", help="save the ledger's Master Data schemas (safe to run again)")
    s.set_defaults(handler=cmd_setup)

    q = sub.add_parser("quote", help="show an order's refundable balance")
    q.add_argument("order_id")
    add_json_flag(q)
    q.set_defaults(handler=cmd_quote)

    r = sub.add_parser("record", help="record a refund you already paid back outside VTEX (moves no money)")
    r.add_argument("order_id")
    r.add_argument(
        "--amount",
        default=None,
        help="in major units, such as 12.34 (or 12,34); with --item/--shipping: optional, at most what they paid "
        "(a lower amount is a partial refund)",
    )
    r.add_argument(
        "--item",
        dest="items",
        action="append",
        default=[],
        metavar="SKU[:QTY]",
        help="units of one of the order's items, refunded at the price paid (repeatable; QTY defaults to 1). "
        "A SKU on several lines: SKU#N for its N-th line, or the line's uniqueId",
    )
    r.add_argument(
        "--shipping",
        nargs="?",
        const=True,
        default=None,
        metavar="AMOUNT",
        help="refund the shipping: what is left of it, or AMOUNT",
    )
    r.add_argument(
        "--restock",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the goods go back to stock (recorded only: refundkit moves no inventory)",
    )
    r.add_argument("--source", required=True, help=f"one of {', '.join(KNOWN_SOURCES)} or REFUNDKIT_EXTRA_SOURCES")
    r.add_argument("--ref", required=True, help="the third party's refund id or a receipt number")
    r.add_argument("--reason", default="")
    r.add_argument("--note", default="")
    r.add_argument("--refunded-at", default=None, help="when the money went back (ISO 8601); default now")
    r.add_argument("--currency", default=None, help="optional check: must be the order's currency")
    r.add_argument(
        "--allow-over-refund",
        metavar="REASON",
        default=None,
        help="record more than the refundable balance, saying why",
    )
    r.add_argument("--dry-run", action="store_true", help="print the quote; write nothing")
    r.add_argument("--yes", action="store_true", help="record even if it looks like a refund already recorded")
    add_json_flag(r)
    r.set_defaults(handler=cmd_record)

    v = sub.add_parser("reverse", help="undo a recorded refund with a reversal entry")
    v.add_argument("refund_id")
    v.add_argument("--reason", required=True)
    v.add_argument(
        "--order",
        default=None,
        metavar="ORDER_ID",
        help="the refund's order (found by itself otherwise; give it for a refund recorded a moment ago)",
    )
    add_json_flag(v)
    v.set_defaults(handler=cmd_reverse)

    i = sub.add_parser("import", help="record refunds from a CSV file")
    i.add_argument("file")
    i.add_argument("--dry-run", action="store_true", help="validate every row; write nothing")
    i.add_argument(
        "--yes",
        action="store_true",
        help="record rows that look like a refund already recorded (same order and amount, another reference)",
    )
    i.add_argument(
        "--date-format",
        type=_date_format,
        default=None,
        metavar="dd/mm/yyyy|mm/dd/yyyy",
        help="how the file writes dates, when every date reads both ways (default: from the file's dates, else "
        "REFUNDKIT_STORE_LOCALE)",
    )
    i.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE.csv",
        help="write each row's outcome to this CSV, in the file's own separator, decimal mark and encoding",
    )
    add_json_flag(i)
    i.set_defaults(handler=cmd_import, output_formats=("csv",))

    f = sub.add_parser("refunds", help="list ledger entries, newest first")
    f.add_argument("--order", default=None)
    add_day_range_flags(f, required=False)
    add_zone_flag(f, utc=True)
    f.add_argument("--recorder", default=None, metavar="NAME", help="only entries this person recorded")
    f.add_argument("--source", default=None, help="only entries of this source (cash, apace, ...)")
    rev = f.add_mutually_exclusive_group()
    rev.add_argument(
        "--reversed", dest="reversed", action="store_true", default=None, help="only reversed refunds and reversals"
    )
    rev.add_argument("--not-reversed", dest="reversed", action="store_false", help="only refunds not reversed")
    f.add_argument("--search", default=None, metavar="TEXT", help="only entries whose order id or reference has TEXT")
    f.add_argument("--limit", type=positive_int, default=None, help="entries per page (1-1000; default: every entry)")
    f.add_argument("--page", type=positive_int, default=1, help="which page of --limit entries (from 1)")
    add_table_flags(f)
    f.set_defaults(handler=cmd_refunds)

    c = sub.add_parser("reconcile", help="post missing order notes, finish half-done records, report over-refunds")
    c.add_argument("--order", action="append", default=None, help="only these orders (repeatable)")
    add_json_flag(c)
    c.set_defaults(handler=cmd_reconcile)


def cmd_setup(args: argparse.Namespace) -> int:
    out = Output.from_args(args)
    with session() as rk:
        out.line(save_scratch_schema(rk.client))  # first: the conditional-write probe below writes there
        for line in rk.ledger.setup():
            out.line(line)
    return EXIT_OK


def quote_lines(q: Quote) -> list[str]:
    n_entries = len(q.entries)
    lines = [
        f"Order {q.order_id} ({q.status}, created {q.created_at.isoformat(digits=0)})",
        f"  order total          {q.currency} {q.order_total.decimal_str():>12}",
        (f"  VTEX refunds         {q.currency} {(-q.native_refunded).decimal_str():>12}  ({_vtex_refunds_detail(q)})"),
        (
            f"  offline refunds      {q.currency} {(-q.offline_refunded).decimal_str():>12}"
            f"  ({n_entries} ledger entr{'y' if n_entries == 1 else 'ies'})"
        ),
        f"  refundable balance   {q.currency} {q.balance.decimal_str():>12}",
    ]
    if q.blocked and not any(q.blocked in p for p in q.problems):  # a refused record says it among its problems
        lines.append(f"  cannot take an offline refund: {q.blocked}")
    if q.proposed is not None:
        lines.append(f"  proposed refund      {q.currency} {q.proposed.decimal_str():>12}")
    lines += refund_line_rows(q.lines)
    lines += [f"  note: {n}" for n in q.notices]
    lines += [
        f"  order note impossible for {e.entry_id}: {e.note_problem or 'VTEX will not take it'}"
        for e in q.entries
        if e.note_status == NoteStatus.IMPOSSIBLE
    ]
    lines += [f"  warning: {w}" for w in q.warnings]
    lines += [f"  problem: {p}" for p in q.problems]
    return lines


def refund_line_rows(lines: tuple[RefundLine, ...]) -> list[str]:
    """A refund's lines, one a row: ``    2 × Caneca Azul (SKU 346)   BRL 163.90``."""
    return [f"    {describe_lines((line,)):<40} {line.amount}" for line in lines]


def _vtex_refunds_detail(q: Quote) -> str:
    parts = [f"{len(q.return_invoices)} return invoice(s)"]
    if q.gateway_checked:
        gateway = q.gateway_refunded
        if gateway is not None and gateway.minor:
            parts.append(f"{gateway.decimal_str()} refunded on the payment without an invoice")
    else:
        parts.append("gateway refunds NOT checked")
    return "; ".join(parts)


def item_rows(items: OrderItems) -> list[str]:
    """The order's lines as ``record --item`` names them, with what is left of each, and the shipping."""
    rows = ["  items (name one with --item SKU[:QTY]; a SKU on several lines: SKU#N)"]
    for b in items.lines:
        same = [x for x in items.lines if x.sku == b.sku]
        name = b.sku if len(same) == 1 else f"{b.sku}#{same.index(b) + 1}"
        gift = ", a gift" if b.is_gift else ""
        rows.append(f"    {name:<12} {b.name[:40]:<40} {b.left()}; paid {b.paid} for {b.bought}{gift}")
    rows.append(
        f"    {'shipping':<12} {'':<40} {items.shipping_refundable} left to refund (charged {items.shipping_charged})"
    )
    return rows


def items_dict(items: OrderItems) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": b.sku,
                "unique_id": b.unique_id,
                "name": b.name,
                "bought": b.bought,
                "returned_on_vtex": b.returned_on_vtex,
                "refunded_offline": b.refunded_offline,
                "refundable": b.refundable,
                "paid": b.paid.decimal_str(),
                "is_gift": b.is_gift,
            }
            for b in items.lines
        ],
        "shipping_charged": items.shipping_charged.decimal_str(),
        "shipping_refunded": items.shipping_refunded.decimal_str(),
        "shipping_refundable": items.shipping_refundable.decimal_str(),
    }


def cmd_quote(args: argparse.Namespace) -> int:
    with session() as rk:
        q = rk.ledger.quote(args.order_id)
        items = rk.ledger.order_items(args.order_id)
    Output.from_args(args).result({**q.as_dict(), "items": items_dict(items)}, [*quote_lines(q), *item_rows(items)])
    return EXIT_OK


def _result(out: Output, result: RecordResult, line: str, **ids: Any) -> None:
    """What `record` and `reverse` print: one line for a person (notes on stderr), or JSON."""
    e = result.entry
    payload = {
        "outcome": result.outcome,
        **ids,
        "order_id": e.order_id,
        "amount": e.amount.decimal_str(),
        "currency": e.amount.currency,
        "pending": list(result.pending),
        "messages": list(result.messages),
        "refundable": result.quote.refundable.decimal_str(),
    }
    if e.lines:
        payload["lines"] = [{**x.to_doc(), "amount": x.amount.decimal_str()} for x in e.lines]
    if e.restock is not None:
        payload["restock"] = e.restock
    out.result(
        payload,
        [f"{line}; refundable balance now {result.quote.refundable}", *refund_line_rows(e.lines)],
        notes=[f"  note: {m}" for m in result.messages],
    )


def cmd_record(args: argparse.Namespace) -> int:
    out = Output.from_args(args)
    over = args.allow_over_refund
    kw: dict[str, Any] = {
        "reason": args.reason,
        "note": args.note,
        "refunded_at": args.refunded_at,
        "currency": args.currency,
        "allow_over_refund": over is not None,
        "over_refund_reason": over or "",
        "items": args.items,
        "shipping": args.shipping,
        "restock": args.restock,
    }
    by_item = bool(args.items) or args.shipping is not None
    if args.amount is None and not by_item:
        raise UsageError("give --amount, or the items (--item SKU[:QTY]) or --shipping the refund gave back")
    with session() as rk:
        if args.dry_run:
            q = rk.ledger.quote(args.order_id, args.amount, args.source, args.ref, **kw)
            tail = "dry run: nothing written" + ("" if q.ok else "; this refund would be refused")
            out.result(q.as_dict(), [*quote_lines(q), tail])
            return EXIT_OK if q.ok else EXIT_REFUSED
        amount = args.amount
        if by_item and amount is None:  # the duplicate check compares amounts: the items' price paid
            q = rk.ledger.quote(args.order_id, None, args.source, args.ref, **kw)
            amount = q.proposed.decimal_str() if q.proposed is not None else None
        if amount is not None and _likely_duplicate_stops(out, rk.ledger, args, amount):
            return EXIT_REFUSED
        result = rk.ledger.record(args.order_id, args.amount, args.source, args.ref, **kw)
    e = result.entry
    _result(
        out,
        result,
        f"{result.outcome}: {e.entry_id} — {e.amount} on order {e.order_id} via {e.source} (ref {e.external_ref})",
        refund_id=e.entry_id,
    )
    return EXIT_OK


def _likely_duplicate_stops(out: Output, ledger: Ledger, args: argparse.Namespace, amount: str) -> bool:
    """Warn about a likely duplicate (same order and amount, another reference, within the window); True when the
    refund must not be recorded because ``--yes`` was not given."""
    check = find_likely_duplicates(ledger, args.order_id, amount, args.source, args.ref, refunded_at=args.refunded_at)
    if not check.found:
        return False
    out.message(
        f"refundkit: likely duplicate: order {args.order_id} already has a refund of the same amount within "
        f"{check.window_days} days under another reference:"
    )
    for line in check.describe():
        out.message(f"  {line}")
    if args.yes:
        out.message("  recording anyway (--yes)")
        return False
    out.message("  nothing written; if this is another refund, run the same command again with --yes")
    return True


def cmd_reverse(args: argparse.Namespace) -> int:
    with session() as rk:
        result = rk.ledger.reverse(args.refund_id, args.reason, order_id=args.order)
    e = result.entry
    verb = "reversed" if result.recorded_now else "already reversed"
    _result(
        Output.from_args(args),
        result,
        f"{verb}: {e.reverses} by {e.entry_id} — {e.amount} back on order {e.order_id}",
        reversal_id=e.entry_id,
        reverses=e.reverses,
    )
    return EXIT_OK


def _date_format(text: str) -> str:
    try:
        return date_format_of(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_import(args: argparse.Namespace) -> int:
    if args.output and Path(args.output).resolve() == Path(args.file).resolve():
        raise UsageError(f"-o {args.output} is the file being imported: name another file for the result")
    progress = Progress("Recording")
    with session() as rk:
        report = import_refunds(
            rk.ledger,
            args.file,
            dry_run=args.dry_run,
            progress=lambda n, t: progress.update(f"{n:,} of {t:,} rows"),
            allow_likely_duplicates=args.yes,
            date_format=args.date_format,
        )
    progress.done()
    if args.output:
        try:
            Path(args.output).write_bytes(result_csv(report))
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        Output.from_args(args).message(f"each row's outcome written to {args.output}")
    lines = [f"warning: {w}" for w in report.warnings]
    lines += [f"line {row.line:>5}  {row.order_id or '-':<20} {row.outcome:<17} {row.message}" for row in report.rows]
    lines.append(report.summary() + (" (dry run: nothing written)" if args.dry_run else ""))
    Output.from_args(args).result(report.as_dict(), lines)
    if report.failed:  # VTEX failed on some rows: they may be half-written, so not "refused, nothing written"
        return EXIT_VTEX
    return EXIT_OK if report.ok else EXIT_REFUSED


def cmd_refunds(args: argparse.Namespace) -> int:
    if (args.start is None) != (args.end is None):
        raise UsageError("give both --from and --to, or neither")
    bounds = None
    if args.start is not None:
        check_day_range(args)
        bounds = local_day_bounds(args.start, args.end, args.tz)
    if args.limit is not None and args.limit > 1000:
        raise UsageError("--limit is at most 1000 entries per page; use --page for the next ones")
    if args.page != 1 and args.limit is None:
        raise UsageError("--page needs --limit (how many entries a page holds)")
    start, end = bounds or (None, None)
    try:
        query = RefundQuery(
            start=start,
            end=end,
            recorder=args.recorder,
            source=args.source,
            reversed=args.reversed,
            search=args.search,
            order_id=None if args.order is None else require_order_id(args.order),
        )
    except InputError as exc:
        raise UsageError(str(exc)) from None
    out = Output.from_args(args)
    listed: list[ListedEntry] = []
    with session() as rk:
        if args.limit is not None:
            page = list_entries(rk.ledger, query, page=args.page, size=args.limit)
            listed = page.entries
            if page.more:
                out.message(f"more entries on the next page: --page {args.page + 1}")
            for note in page.notes:
                out.message(note)
        else:
            listed = list_all(rk.ledger, query)
            for note in list_entries(rk.ledger, query, size=1).notes:
                out.message(note)
    rows = [entry_row(x.entry, args.tz, x.reversed) for x in listed]
    out.table(rows, ENTRY_COLUMNS, numeric={"amount"}, what="entries", machine=MACHINE_COLUMNS)
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    order_ids = _order_ids(args.order)
    progress = Progress("Reconciling")
    with session() as rk:
        report = rk.ledger.reconcile(
            order_ids=order_ids, progress=lambda n, t: progress.update(f"{n:,} of {t:,} orders")
        )
        lease = int(rk.ledger.note_claim_lease_s)
    progress.done()
    lines = [
        f"checked {report.orders_checked} order(s) with ledger entries",
        (
            f"  notes posted: {len(report.notes_posted)}; notes already there: {len(report.notes_found)}; "
            f"entry documents repaired: {len(report.documents_repaired)}"
        ),
    ]
    lines += [
        f"  over-refunded: order {o['order_id']} by {o['currency']} {o['excess']} (total "
        f"{o['order_total']}, VTEX refunds {o['native_refunded']}, offline {o['offline_refunded']})"
        for o in report.over_refunded
    ]
    lines += [
        f"  note impossible: {n['entry_id']} on order {n['order_id']}: {n['reason']}" for n in report.notes_impossible
    ]
    if report.in_progress:
        lines.append(
            f"  left alone (recorded under {RECONCILE_GRACE_S} s ago, or its note claimed by another reconcile or "
            f"posted with the answer lost under {lease} s ago; run reconcile again after that): "
            f"{', '.join(report.in_progress)}"
        )
    lines += [f"  failed: {f}" for f in report.failed]
    Output.from_args(args).result(report.as_dict(), lines)
    return EXIT_OK if not report.failed else EXIT_VTEX
