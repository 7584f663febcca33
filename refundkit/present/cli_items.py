"""``refundkit items``: units sold and refunded, the refund rate and the refunded amount per SKU, product, category
or brand, from the local store.

Registered by :mod:`refundkit.present.cli`; errors, exit codes and interrupts are handled there like every other
command's. polars is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any, TextIO

from .cli_common import (
    Subcommands,
    UsageError,
    add_account_flag,
    add_report_flags,
    check_day_range,
    output_format,
    session,
    store_zone,
)
from .cli_report import _check_writable, _report_accounts, _store

__all__ = ["register"]

#: analytics.items.BYS (not imported: the CLI starts without polars)
_BYS = ("sku", "product", "category", "brand")


def register(sub: Subcommands) -> None:
    """Add ``items``."""
    p = sub.add_parser(
        "items",
        help="units sold and refunded (VTEX and offline), refund rate and refunded amount per SKU, product, "
        "category or brand",
    )
    add_report_flags(p)  # the report's, without Parquet and --period
    p.add_argument("--by", choices=_BYS, default="sku", help="what each row is (default sku)")
    p.add_argument(
        "--details",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read every order of the range in full first (one call an order, once; the default): items are known "
        "only then. With --no-details, orders not read in full have no items and the refund rates are n/a",
    )
    p.add_argument("--no-sync", action="store_true", help="from the store as it is: no VTEX call")
    add_account_flag(p)  # several --account: one table with a leading account column
    p.add_argument("--all-accounts", action="store_true", help="every account of refundkit.toml, in one table")
    p.set_defaults(handler=cmd_items, several_accounts=True)


def cmd_items(args: argparse.Namespace) -> int:
    check_day_range(args)
    if args.tz is None:
        args.tz = store_zone()
    fmt = output_format(args.output, args.format, args.output_formats)
    fmt = fmt or ("table" if sys.stdout.isatty() else "csv")
    if fmt == "xlsx" and not args.output and sys.stdout.isatty():
        raise UsageError("--format xlsx writes a binary file: add -o FILE")
    if args.output:
        _check_writable(args.output)
    names = _report_accounts(args) or (None,)
    reports = {}
    for name in names:  # each account's own analysis, as `refundkit items --account NAME` makes it
        reports[name] = _item_report(args, name)
    several = len(names) > 1
    for name, rep in reports.items():
        for w in rep.warnings:
            print(f"refundkit: warning: {f'{name}: ' if several else ''}{w}", file=sys.stderr)
    if fmt == "xlsx":
        data = _xlsx(reports)
        if not args.output:
            sys.stdout.buffer.write(data)
        else:
            _save(args.output, data)
    elif not args.output:
        _write_text(reports, fmt, sys.stdout)
    else:
        buffer = io.StringIO()
        _write_text(reports, fmt, buffer)
        _save(args.output, buffer.getvalue().encode("utf-8"))
    if args.output:
        rows = sum(r.rows.height for r in reports.values())
        print(f"items ({rows:,} rows) written to {args.output}", file=sys.stderr)
    return 0


def _item_report(args: argparse.Namespace, name: str | None) -> Any:
    from ..analytics.items import item_report

    options = {
        "by": args.by,
        "attribution": args.attribution,
        "tz": args.tz,
        "currency": args.currency,
        "include_canceled": args.include_canceled,
        "include_payment_pending": args.include_payment_pending,
        "lookback_days": args.lookback_days,
    }
    if args.no_sync:
        return item_report(_store(name), args.start, args.end, sync=False, **options)
    with session(name) as rk:
        return item_report(rk, args.start, args.end, refresh=args.refresh, details=args.details, **options)


def _save(path: str, data: bytes) -> None:
    """Write what was built in memory: a file the system refuses fails here, with one line."""
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _stacked(reports: dict[str | None, Any], rows: Any) -> list[dict[str, Any]]:
    """``rows(report)`` of each report, under a leading account column when there are several."""
    several = len(reports) > 1
    return [{"account": name, **row} if several else row for name, rep in reports.items() for row in rows(rep)]


def _columns(reports: dict[str | None, Any]) -> list[str]:
    first = next(iter(reports.values()))
    columns: list[str] = first.columns
    return (["account"] if len(reports) > 1 else []) + columns


def _names(reports: dict[str | None, Any]) -> list[str]:
    """The accounts as --account names them (the VTEX account's name when none was given)."""
    return [name or rep.parameters["account"] for name, rep in reports.items()]


def _notes(reports: dict[str | None, Any]) -> list[str]:
    several = len(reports) > 1
    return [f"{name}: {n}" if several else n for name, rep in reports.items() for n in rep.notes()]


def _write_text(reports: dict[str | None, Any], fmt: str, out: TextIO) -> None:
    from ..analytics.items import ITEM_RULES, ITEM_SCHEMA, item_header
    from .tables import write_rows

    columns = _columns(reports)
    numeric = {c.removesuffix("_minor") for c, t in ITEM_SCHEMA.items() if t != ITEM_SCHEMA["key"]}
    first = next(iter(reports.values()))
    p = first.parameters
    if fmt == "json":
        payload = {
            "parameters": {k: v for k, v in p.items() if k != "account"},
            "accounts": _names(reports),
            "columns": columns,
            "headers": [item_header(c) for c in columns],
            "rows": _stacked(reports, lambda r: r.json_rows()[0]),
            "totals": _stacked(reports, lambda r: r.json_rows()[1]),
            "coverage": [
                {**({"account": name} if len(reports) > 1 else {}), **c}
                for name, r in reports.items()
                for c in r.coverage.iter_rows(named=True)
            ],
            "notes": _notes(reports),
            "definitions": ITEM_RULES,
        }
        out.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_rows(out, _stacked(reports, lambda r: r.display_rows()), columns, "csv", numeric=numeric)
        notes = csv.writer(out, lineterminator="\n")
        for n in _notes(reports):  # the notes after the rows, one cell each: never silent
            notes.writerow([f"# {n}"])
        return
    names = ", ".join(_names(reports))
    head = (
        f"Items by {p['by']}, {p['from']} to {p['to']} in {p['tz']}, {p['attribution']} view"
        + (f", {p['currency']} only" if p["currency"] else "")
        + f"; account{'s' if len(reports) > 1 else ''} {names}"
        + f"; data as of {p['data_as_of'] or 'never synced'}; currencies are never converted or added"
    )
    out.write(head + "\n\n")
    write_rows(
        out,
        _stacked(reports, lambda r: r.display_rows(percent=True)),
        columns,
        "table",
        numeric=numeric,
        headers=[item_header(c) for c in columns],
        totals=_stacked(reports, lambda r: r.totals(percent=True)),
    )
    out.write("\n")
    for n in _notes(reports):
        out.write(f"Note: {n}\n")


def _xlsx(reports: dict[str | None, Any]) -> bytes:
    """One sheet per account and currency, then the notes (analytics.items.items_xlsx)."""
    from ..analytics.items import items_xlsx

    return items_xlsx(dict(zip(_names(reports), reports.values(), strict=True)))
