"""``refundkit sync`` and ``refundkit report``: the local order store and the gross-versus-net report.

Registered by :mod:`refundkit.present.cli`; errors, exit codes and interrupts are handled there like every other
command's. polars, httpx and xlsxwriter are imported only when a command needs them, so the report starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import date
from typing import Any, TextIO

from .cli_common import (
    SUFFIXES,
    TABLE_FORMATS,
    Subcommands,
    UsageError,
    account_settings,
    add_account_flag,
    add_day_range_flags,
    add_report_flags,
    add_zone_flag,
    check_day_range,
    chosen_accounts,
    output_format,
    session,
    store_zone,
)

__all__ = ["register"]

_BINARY = ("xlsx", "parquet")
#: analytics.engine.PRESETS (not imported: the CLI starts without polars)
_PRESETS = ("this-month", "last-month", "last-quarter", "ytd", "last-12-months")


def register(sub: Subcommands) -> None:
    """Add ``sync`` and ``report``."""
    s = sub.add_parser("sync", help="keep the account's orders in the local store (Parquet) for reports")
    add_day_range_flags(s)
    add_zone_flag(s, utc=True)
    s.add_argument("--details", action="store_true", help="also items, totals breakdown and payments (1 call/order)")
    s.add_argument("--refresh", action="store_true", help="list the whole range again and re-read return invoices")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=cmd_sync)

    r = sub.add_parser("report", help="gross versus net revenue per period and currency, from the local store")
    add_report_flags(
        r,
        formats=(*TABLE_FORMATS, "parquet"),  # items writes no Parquet
        range_required=False,  # or --period
        output_help="the file to write (without it: printed); a folder: a file in it named by what it holds "
        "(refunds-report_2026-11_…)",
    )
    r.add_argument(
        "--period",
        choices=_PRESETS,
        default=None,
        help="a named range instead of --from/--to, in --tz (this-month, ytd and last-12-months end today)",
    )
    r.add_argument(
        "--compare",
        choices=("previous", "last-year"),
        default=None,
        help="beside each row: the same period of the range just before, or a year earlier, and the change",
    )
    r.add_argument("--by", choices=("day", "week", "month"), default="day", help="the length of each row's period")
    r.add_argument(
        "--totals",
        action="store_true",
        help="end the CSV with one Total row per currency (the table and XLSX always have them)",
    )
    r.add_argument(
        "--split",
        action="store_true",
        help="the table also splits gross (items, discounts, shipping, tax...) and refunds; CSV, JSON and XLSX "
        "always do (orders synced with --details split)",
    )
    r.add_argument(
        "--detail",
        type=_detail_text,
        default=None,
        metavar="PERIOD",
        help="the orders and refunds behind one period: any day in it (YYYY-MM-DD), or, by month, the month (YYYY-MM)",
    )
    r.add_argument("--details", action="store_true", help="sync items, totals breakdown and payments too")
    r.add_argument("--no-sync", action="store_true", help="report from the store as it is: no VTEX call")
    add_account_flag(r)  # several --account: one table with a leading account column
    r.add_argument("--all-accounts", action="store_true", help="every account of refundkit.toml, in one table")
    r.set_defaults(handler=cmd_report, several_accounts=True)


def _store(account: str | None = None) -> Any:
    from ..analytics.store import OrderStore
    from ..config import load_settings
    from ..errors import ConfigError

    settings = load_settings(account=account) if account else account_settings()
    if settings.choices:
        settings.require_account()  # several accounts in refundkit.toml and none chosen: says to choose
    if not settings.account:
        raise ConfigError("VTEX_ACCOUNT_NAME is not set: the store is kept per account")
    return OrderStore.for_settings(settings)


def _usage(message: str) -> Exception:
    return UsageError(message)


def cmd_sync(args: argparse.Namespace) -> int:
    from ..analytics.sync import sync_orders
    from ..statuses import unknown_statuses_line
    from ..timeutil import local_day_bounds

    check_day_range(args)
    start, end = local_day_bounds(args.start, args.end, args.tz)
    with session() as rk:
        result = sync_orders(rk, start, end, details=args.details, refresh=args.refresh)
    if args.json:
        print(
            json.dumps(
                {
                    "from": start.isoformat(0),
                    "to": end.isoformat(0),
                    "listed": result.listed,
                    "read_in_full": result.read_in_full,
                    "changed": result.changed,
                    "calls": result.calls,
                    "months_written": result.months_written,
                    "warnings": result.warnings,
                    "unknown_statuses": result.unknown_statuses,
                },
                indent=2,
            )
        )
    else:
        print(result.summary())
        line = unknown_statuses_line(result.unknown_statuses, "listed")
        for w in result.warnings + ([line] if line else []):
            print(f"refundkit: warning: {w}", file=sys.stderr)
    return 0


def _format(args: argparse.Namespace) -> str:
    fmt = output_format(args.output, args.format, args.output_formats)
    return fmt or ("table" if sys.stdout.isatty() else "csv")


def _check_report_range(args: argparse.Namespace) -> None:
    given = [f for f, v in (("--from", args.start), ("--to", args.end)) if v is not None]
    if args.period is not None and given:
        raise _usage(f"--period {args.period} is a whole range: drop {' and '.join(given)}")
    if args.period is None and len(given) < 2:
        raise _usage("give --from and --to, or --period (such as --period last-month)")
    check_day_range(args)


def cmd_report(args: argparse.Namespace) -> int:
    _check_report_range(args)
    if args.tz is None:
        args.tz = store_zone()
    fmt = _format(args)
    if fmt in _BINARY and not args.output and sys.stdout.isatty():
        raise _usage(f"--format {fmt} writes a binary file: add -o FILE")
    detail_day = None if args.detail is None else _detail_period(args.detail, args.by)
    if detail_day is not None and fmt == "parquet":
        raise _usage("--detail is written as table, csv, json or xlsx, not parquet")
    folder = args.output if args.output and os.path.isdir(args.output) else None
    if args.output and folder is None:
        _check_writable(args.output)
    names = _report_accounts(args)
    if len(names) > 1:
        if folder is not None:
            raise _usage(f"-o {folder} is a folder: a report of several accounts needs a file name")
        return _report_accounts_table(args, names, fmt)

    from ..analytics.report import gross_vs_net_report

    options = _options(args)
    if args.no_sync:
        report = gross_vs_net_report(_store(), args.start, args.end, sync=False, **options)
    else:
        with session() as rk:
            report = gross_vs_net_report(
                rk, args.start, args.end, refresh=args.refresh, details=args.details, **options
            )
    detail = None if detail_day is None else _report_detail(report, args.detail, detail_day, args.by, args.currency)
    if folder is not None:  # named by what it holds, as the desk names its downloads
        from ..analytics.filenames import detail_file_name, report_file_name

        ext = SUFFIXES[fmt].lstrip(".")
        name = report_file_name(report, ext) if detail is None else detail_file_name(report, detail, ext)
        args.output = os.path.join(folder, name)
    for w in report.warnings:
        print(f"refundkit: warning: {w}", file=sys.stderr)
    _write(report, detail, fmt, args.output, totals=args.totals, split=args.split)
    if args.output:
        what = "drill-down" if detail is not None else f"report ({report.rows.height:,} rows)"
        print(f"{what} written to {args.output}", file=sys.stderr)
    return 0


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _detail_text(text: str) -> str:
    """``--detail`` as typed, once it reads as a day (YYYY-MM-DD) or a month (YYYY-MM); which period it names
    depends on ``--by`` (:func:`_detail_period`)."""
    month = _MONTH.fullmatch(text)
    if month is not None and 1 <= int(month[2]) <= 12:
        return text
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day or a month: give a day of the period (YYYY-MM-DD), or by month the month (YYYY-MM)"
        ) from None
    return text


def _detail_period(text: str, by: str) -> date:
    """The label (first day) of the period ``--detail`` names in a report by ``by``: the period that holds the day it
    gives; a month (YYYY-MM) names a period only in a report by month."""
    month = _MONTH.fullmatch(text)
    if month is not None:
        if by != "month":
            raise _usage(
                f"--detail {text} is a month but the report is by {by}: give a day (YYYY-MM-DD), or add --by month"
            )
        return date(int(month[1]), int(month[2]), 1)
    from ..analytics.engine import period_of_day

    return period_of_day(date.fromisoformat(text), by)


def _report_detail(report: Any, text: str, label: date, by: str, currency: str | None) -> Any:
    """The drill-down of the period ``--detail`` named; a refusal says which period that was when the text typed was
    not its label."""
    from ..analytics.report import report_detail
    from ..errors import InputError

    try:
        return report_detail(report, label, currency)
    except InputError as exc:
        if text == label.isoformat():
            raise
        raise InputError(f"--detail {text} is in the {by} of {label}: {exc}") from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "preset": args.period,
        "compare": args.compare,
        "by": args.by,
        "attribution": args.attribution,
        "tz": args.tz,
        "currency": args.currency,
        "include_canceled": args.include_canceled,
        "include_payment_pending": args.include_payment_pending,
        "lookback_days": args.lookback_days,
        "keep_orders": args.detail is not None,  # only a drill-down shows them: without, the rows are summed
    }


def _report_accounts(args: argparse.Namespace) -> tuple[str, ...]:
    """The accounts the report covers: ``--all-accounts``' (every one of refundkit.toml), else ``--account``'s."""
    names = chosen_accounts()
    if not args.all_accounts:
        return names
    from ..config import load_accounts
    from ..errors import ConfigError

    if names:
        raise _usage("--all-accounts and --account: give one or the other")
    entries = load_accounts()
    if not entries:
        raise ConfigError("--all-accounts: no refundkit.toml names any account (see `refundkit accounts`)")
    return tuple(entries)


def _report_accounts_table(args: argparse.Namespace, names: tuple[str, ...], fmt: str) -> int:
    """One table across accounts: each account's own report, stacked with a leading ``account`` column, then the
    totals per account and currency."""
    from ..analytics.accounts import AccountsReport
    from ..analytics.report import gross_vs_net_report
    from .tables import write_rows

    if len(set(names)) != len(names):
        raise _usage("an account is named twice with --account")
    if fmt in _BINARY or args.detail is not None:
        raise _usage(
            "a report of several accounts is written as table, csv or json (xlsx, parquet and --detail "
            "take one account: add a single --account)"
        )
    options = _options(args)
    reports = {}
    for name in names:  # each account's own report, as `refundkit report --account NAME` makes it
        if args.no_sync:
            reports[name] = gross_vs_net_report(_store(name), args.start, args.end, sync=False, **options)
        else:
            with session(name) as rk:
                reports[name] = gross_vs_net_report(
                    rk, args.start, args.end, refresh=args.refresh, details=args.details, **options
                )
    stacked = AccountsReport(reports)
    for w in stacked.warnings:
        print(f"refundkit: warning: {w}", file=sys.stderr)
    columns = stacked.columns
    money = set(columns) - {"account", "period", "currency", "partial", "compare_period"}  # counts, amounts, changes
    first = next(iter(reports.values())).parameters

    def write(out: TextIO) -> None:
        if fmt == "json":
            payload = {
                "accounts": list(names),
                "parameters": {
                    k: first[k] for k in ("from", "to", "by", "tz", "attribution", "currency") if k in first
                },
                "rows": stacked.display_rows(),
                "totals": stacked.totals(),
            }
            out.write(json.dumps(payload, indent=2, default=str) + "\n")
        elif fmt == "csv":
            write_rows(out, stacked.display_rows(), columns, "csv", numeric=money)
        else:
            out.write(
                f"Gross vs net across {len(names)} accounts ({', '.join(names)}), {first.get('from')} to "
                f"{first.get('to')} by {args.by} in {first.get('tz')}; currencies are never converted or added\n\n"
            )
            shown = _table_columns(columns, args.split)
            write_rows(out, stacked.display_rows(), shown, "table", numeric=money)
            out.write("\nTotals per account and currency\n")
            write_rows(
                out, stacked.totals(), _table_columns(stacked.totals_columns, args.split), "table", numeric=money
            )

    if not args.output:
        write(sys.stdout)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            write(out)
    except OSError as exc:
        raise _cannot_write(args.output, exc) from None
    print(f"report of {len(names)} accounts ({stacked.rows.height:,} rows) written to {args.output}", file=sys.stderr)
    return 0


def _check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _usage(f"cannot write {path}: the folder {folder} does not exist")


def _write(
    report: Any, detail: Any, fmt: str, output: str | None, *, totals: bool = False, split: bool = False
) -> None:
    from ..analytics import export

    if fmt in _BINARY:
        import io

        if detail is not None and fmt == "parquet":
            raise _usage("--detail is written as table, csv, json or xlsx, not parquet")
        # built in memory, then written: a file the system refuses fails in one place, with one line
        buffer = io.BytesIO()
        if fmt == "xlsx":
            export.export_xlsx(report, buffer, detail=detail)
        else:
            export.export_parquet(report, buffer)
        if not output:
            sys.stdout.buffer.write(buffer.getvalue())
            return
        try:
            with open(output, "wb") as out:
                out.write(buffer.getvalue())
        except OSError as exc:
            raise _cannot_write(output, exc) from None
        return
    if not output:
        _write_text(report, detail, fmt, sys.stdout, totals=totals, split=split)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as out:
            _write_text(report, detail, fmt, out, totals=totals, split=split)
    except OSError as exc:
        raise _cannot_write(output, exc) from None


def _cannot_write(output: str, exc: OSError) -> Exception:
    return _usage(f"cannot write {output}: {exc.strerror or exc}")


def _write_text(report: Any, detail: Any, fmt: str, out: TextIO, *, totals: bool = False, split: bool = False) -> None:
    from ..analytics import export

    if fmt == "csv":
        export.export_csv(report, out, detail=detail, with_totals=totals)
    elif fmt == "json":
        export.export_json(report, out, detail=detail)
    else:
        _table(report, detail, out, split=split)


def _table_columns(columns: list[str], split: bool) -> list[str]:
    """The table's columns: without ``split``, those of the gross and refund split are left out (too wide for a
    terminal; CSV, JSON and XLSX always carry them)."""
    from ..analytics.report import SPLIT_CSV_COLUMNS

    return [c for c in columns if split or c not in SPLIT_CSV_COLUMNS]


def _table(report: Any, detail: Any, out: TextIO, *, split: bool = False) -> None:
    from .tables import write_rows

    p = report.parameters
    head = (
        f"Gross vs net, {p['from']} to {p['to']} by {p['by']} in {p['tz']}, {p['attribution']} view"
        + (f", {p['currency']} only" if p["currency"] else "")
        + f"; data as of {p['data_as_of'] or 'never synced'}"
        + f"; order value read as {p.get('value_reading', 'kept')} after a return invoice"
        + (" (assumed: run `refundkit doctor`)" if "assumed" in p.get("value_reading_source", "assumed") else "")
    )
    if p.get("range"):
        head = f"{p['range']}: " + head
    if p.get("compare"):
        head += f"; compared with {p['compare_from']} to {p['compare_to']} ({p['compare']})"
    out.write(head + "\n\n")
    if detail is None:
        from ..analytics.totals import display_totals, header

        columns = _table_columns([c for c in report.columns if c != "partial"], split)  # the table marks the period
        numeric = set(columns) - {"period", "currency", "compare_period"}  # counts, amounts, changes
        write_rows(
            out,
            _table_rows(report),
            columns,
            "table",
            numeric=numeric,
            headers=[header(c) for c in columns],
            totals=display_totals(report.rows, columns),
        )
        return
    tz = p["tz"]
    label = f"{detail.period.isoformat()}" + (f" {detail.currency}" if detail.currency else "")
    out.write(f"Orders counted in gross, period {label}\n")
    write_rows(
        out,
        detail.display_orders(tz),
        ["order_id", "created_at", "status", "currency", "total"],
        "table",
        numeric={"total"},
    )
    out.write(f"\nRefunds counted, period {label}\n")
    write_rows(
        out,
        detail.display_refunds(tz),
        [
            "kind",
            "refund_id",
            "order_id",
            "refunded_at",
            "currency",
            "amount",
            "column",
            "source",
            "reference",
            "reason",
        ],
        "table",
        numeric={"amount"},
    )


def _table_rows(report: Any) -> list[dict[str, Any]]:
    """The rows as the table shows them: the period under way marked "(to date)", a percent of zero "n/a"."""
    rows = []
    for r in report.display_rows():
        row = dict(r)
        if row.pop("partial", False):
            row["period"] += " (to date)"
        for k in ("gross_change_pct", "net_change_pct"):
            if k in row:
                row[k] = f"{row[k]}%" if row[k] else "n/a"
        rows.append(row)
    return rows
