"""The ``refundkit`` command.

Exit codes: 0 done (recorded, or already recorded); 1 refused by validation (including an unreadable amount or
refunded-at) or a conflict — nothing written; 2 usage error (bad flag, date range, file, configuration); 3 VTEX
could not be reached or failed, or the order was too busy to record on; 130 interrupted. Errors a user can cause print one line to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ..config import Settings, load_settings
from ..errors import ConfigError, InputError, LedgerError, RefundkitError, VtexError
from ..ledger import Ledger, RefundConflict, RefundRefused, import_refunds
from ..ledger.duplicates import find_likely_duplicates
from ..ledger.model import KNOWN_SOURCES, LedgerEntry
from ..ledger.reconcile import RECONCILE_GRACE_S
from ..money import format_minor
from ..timeutil import local_day_bounds, zone
from ..vtex import VtexClient
from .tables import write_rows

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_VTEX, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

ORDER_STATUSES = (
    "order-created",
    "order-accepted",
    "on-order-completed",
    "on-order-completed-ffm",
    "payment-pending",
    "payment-approved",
    "waiting-for-authorization",
    "waiting-for-sellers-confirmation",
    "waiting-for-fulfillment",
    "waiting-ffmt-authorization",
    "waiting-for-manual-authorization",
    "authorize-fulfillment",
    "window-to-change-payment",
    "window-to-change-seller",
    "window-to-cancel",
    "ready-for-handling",
    "start-handling",
    "handling",
    "ready-for-invoicing",
    "invoice",
    "invoiced",
    "request-cancel",
    "cancellation-requested",
    "cancel",
    "canceled",
    "waiting-for-mkt-authorization",
    "waiting-seller-handling",
)


class UsageError(RefundkitError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(EXIT_USAGE, f"refundkit: {message} (see `{self.prog} --help`)\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _zone(text: str) -> str:
    try:
        zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _statuses(text: str) -> list[str]:
    out = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in out if s not in ORDER_STATUSES]
    if bad or not out:
        raise argparse.ArgumentTypeError(
            f"unknown status {', '.join(bad) or text!r}: use VTEX statuses such as invoiced,handling,canceled"
        )
    return out


def _number(kind: type, low: float = 0, high: float | None = None) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` within [low, high], with a message that says what to type."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value < low or (high is not None and value > high):  # value != value: NaN
            bound = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bound}")
        return value

    return parse


_positive_int = _number(int)
_probability = _number(float, 0, 1)
_nonneg_float = _number(float)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="refundkit",
        description="Record offline refunds on VTEX orders exactly once, and report "
        "gross versus net revenue. VTEX moves no money: refundkit never refunds, cancels or invoices.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("sandbox", help="serve a local stand-in for VTEX (no account needed)")
    s.add_argument("--port", type=_positive_int, default=8765)
    s.add_argument("--latency-ms", type=_positive_int, default=0)
    s.add_argument("--rate-limit", type=_nonneg_float, default=None, help="calls per second (default: unlimited)")
    s.add_argument("--error-rate", type=_probability, default=0.0, help="share of requests answered with a 5xx")
    s.add_argument(
        "--search-lag-s",
        type=_nonneg_float,
        default=2.0,
        help="seconds before Master Data search sees a write (default 2)",
    )
    s.add_argument("--seed", type=_positive_int, default=7)
    s.add_argument("--orders", type=_positive_int, default=None, help="regular orders in the synthetic store")
    s.add_argument("--memory", action="store_true", help="keep nothing across restarts")

    d = sub.add_parser("demo", help="start the sandbox and JupyterLab on the notebooks")
    d.add_argument("--port", type=_positive_int, default=8765)
    d.add_argument("--lab-port", type=_positive_int, default=8888)
    d.add_argument("--no-lab", action="store_true", help="only the sandbox, with the environment printed")

    o = sub.add_parser("orders", help="list every order created in a date range")
    o.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD")
    o.add_argument("--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD")
    o.add_argument("--tz", type=_zone, default="UTC", help="time zone of the dates (default UTC)")
    o.add_argument("--status", type=_statuses, default=None, metavar="S,...")
    o.add_argument("--format", choices=("csv", "json", "table"), default=None)
    o.add_argument("-o", "--output", default=None, metavar="FILE")

    sub.add_parser("setup", help="save the ledger's Master Data schemas (safe to run again)")

    q = sub.add_parser("quote", help="show an order's refundable balance")
    q.add_argument("order_id")
    q.add_argument("--json", action="store_true")

    r = sub.add_parser("record", help="record an offline refund (VTEX moves no money)")
    r.add_argument("order_id")
    r.add_argument("--amount", required=True, help="in major units, such as 12.34 (or 12,34)")
    r.add_argument("--source", required=True, help=f"one of {', '.join(KNOWN_SOURCES)}")
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
    r.add_argument("--json", action="store_true")

    v = sub.add_parser("reverse", help="undo a recorded refund with a reversal entry")
    v.add_argument("refund_id")
    v.add_argument("--reason", required=True)
    v.add_argument("--json", action="store_true")

    i = sub.add_parser("import", help="record refunds from a CSV file")
    i.add_argument("file")
    i.add_argument("--dry-run", action="store_true", help="validate every row; write nothing")
    i.add_argument("--json", action="store_true")

    f = sub.add_parser("refunds", help="list ledger entries")
    f.add_argument("--order", default=None)
    f.add_argument("--from", dest="start", type=_day, default=None, metavar="YYYY-MM-DD")
    f.add_argument("--to", dest="end", type=_day, default=None, metavar="YYYY-MM-DD")
    f.add_argument("--tz", type=_zone, default="UTC")
    f.add_argument("--format", choices=("csv", "json", "table"), default=None)
    f.add_argument("-o", "--output", default=None, metavar="FILE")

    c = sub.add_parser("reconcile", help="post missing order notes, finish half-done records, report over-refunds")
    c.add_argument("--order", action="append", default=None, help="only these orders (repeatable)")
    c.add_argument("--json", action="store_true")
    return p


# -- helpers ----------------------------------------------------------------------------------------------------
def _settings() -> Settings:
    return load_settings().require_account()


def _client(settings: Settings) -> VtexClient:
    return VtexClient(settings)


class _Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self._lock = threading.Lock()
        self._shown = False

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(f"\r\x1b[2K{self.label}: {text}")
            self.stream.flush()
            self._shown = True

    def done(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def _default_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    if output:
        return "json" if output.endswith(".json") else "csv"
    return "table" if sys.stdout.isatty() else "csv"


def _open_out(output: str | None) -> TextIO:
    if not output:
        return sys.stdout
    try:
        return open(output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


# -- commands ---------------------------------------------------------------------------------------------------
def cmd_orders(args: argparse.Namespace) -> int:
    if args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    settings = _settings()
    start, end = local_day_bounds(args.start, args.end, args.tz)
    progress = _Progress("Listing orders")
    with _client(settings) as client:
        orders = client.orders.list(
            start,
            end,
            statuses=args.status,
            progress=lambda p: progress.update(
                f"{p.orders:,} orders" + (f" of ~{p.expected:,}" if p.expected else "") + f", {p.calls} calls"
            ),
        )
    progress.done()
    columns = ["order_id", "created_at", "status", "currency", "total", "sales_channel", "payment_names"]
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
    out = _open_out(args.output)
    try:
        write_rows(out, rows, columns, _default_format(args.format, args.output), numeric={"total"})
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"{len(rows):,} orders written to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    settings = _settings()
    with _client(settings) as client:
        for line in Ledger(client).setup():
            print(line)
    return EXIT_OK


def _print_quote(q: Any, stream: TextIO = sys.stdout) -> None:
    print(f"Order {q.order_id} ({q.status}, created {q.created_at.isoformat(digits=0)})", file=stream)
    print(f"  order total          {q.currency} {q.order_total.decimal_str():>12}", file=stream)
    print(
        f"  VTEX refunds         {q.currency} {(-q.native_refunded).decimal_str():>12}"
        f"  ({len(q.return_invoices)} return invoice(s))",
        file=stream,
    )
    print(
        f"  offline refunds      {q.currency} {(-q.offline_refunded).decimal_str():>12}"
        f"  ({len(q.entries)} ledger entr{'y' if len(q.entries) == 1 else 'ies'})",
        file=stream,
    )
    print(f"  refundable balance   {q.currency} {q.refundable.decimal_str():>12}", file=stream)
    if q.proposed is not None:
        print(f"  proposed refund      {q.currency} {q.proposed.decimal_str():>12}", file=stream)
    for w in q.warnings:
        print(f"  warning: {w}", file=stream)
    for p in q.problems:
        print(f"  problem: {p}", file=stream)


def cmd_quote(args: argparse.Namespace) -> int:
    settings = _settings()
    with _client(settings) as client:
        q = Ledger(client).quote(args.order_id)
    if args.json:
        print(json.dumps(q.as_dict(), indent=2))
    else:
        _print_quote(q)
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    settings = _settings()
    over = args.allow_over_refund
    kw = {
        "reason": args.reason,
        "note": args.note,
        "refunded_at": args.refunded_at,
        "currency": args.currency,
        "allow_over_refund": over is not None,
        "over_refund_reason": over or "",
    }
    with _client(settings) as client:
        ledger = Ledger(client)
        if args.dry_run:
            q = ledger.quote(args.order_id, args.amount, args.source, args.ref, **kw)
            if args.json:
                print(json.dumps(q.as_dict(), indent=2))
            else:
                _print_quote(q)
                print("dry run: nothing written" + ("" if q.ok else "; this refund would be refused"))
            return EXIT_OK if q.ok else EXIT_REFUSED
        if _likely_duplicate_stops(ledger, args):
            return EXIT_REFUSED
        result = ledger.record(args.order_id, args.amount, args.source, args.ref, **kw)
    e = result.entry
    _print_result(
        result,
        args.json,
        f"{result.outcome}: {e.entry_id} — {e.amount} on order {e.order_id} via {e.source} (ref {e.external_ref})",
        refund_id=e.entry_id,
    )
    return EXIT_OK


def _likely_duplicate_stops(ledger: Ledger, args: argparse.Namespace) -> bool:
    """Warn about a likely duplicate (same order and amount, another reference, within the window); True when the
    refund must not be recorded because ``--yes`` was not given."""
    check = find_likely_duplicates(
        ledger, args.order_id, args.amount, args.source, args.ref, refunded_at=args.refunded_at
    )
    if not check.found:
        return False
    print(
        f"refundkit: likely duplicate: order {args.order_id} already has a refund of the same amount within "
        f"{check.window_days} days under another reference:",
        file=sys.stderr,
    )
    for line in check.describe():
        print(f"  {line}", file=sys.stderr)
    if args.yes:
        print("  recording anyway (--yes)", file=sys.stderr)
        return False
    print("  nothing written; if this is another refund, run the same command again with --yes", file=sys.stderr)
    return True


def _print_result(result: Any, as_json: bool, line: str, **ids: Any) -> None:
    """What `record` and `reverse` print: one line for a person, or JSON; messages go to stderr."""
    e = result.entry
    if as_json:
        print(
            json.dumps(
                {
                    "outcome": result.outcome,
                    **ids,
                    "order_id": e.order_id,
                    "amount": e.amount.decimal_str(),
                    "currency": e.amount.currency,
                    "pending": list(result.pending),
                    "messages": list(result.messages),
                    "refundable": result.quote.refundable.decimal_str(),
                },
                indent=2,
            )
        )
        return
    print(f"{line}; refundable balance now {result.quote.refundable}")
    for m in result.messages:
        print(f"  note: {m}", file=sys.stderr)


def cmd_reverse(args: argparse.Namespace) -> int:
    settings = _settings()
    with _client(settings) as client:
        result = Ledger(client).reverse(args.refund_id, args.reason)
    e = result.entry
    verb = "reversed" if result.recorded_now else "already reversed"
    _print_result(
        result,
        args.json,
        f"{verb}: {e.reverses} by {e.entry_id} — {e.amount} back on order {e.order_id}",
        reversal_id=e.entry_id,
        reverses=e.reverses,
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings()
    progress = _Progress("Recording")
    with _client(settings) as client:
        report = import_refunds(
            Ledger(client),
            args.file,
            dry_run=args.dry_run,
            progress=lambda n, t: progress.update(f"{n:,} of {t:,} rows"),
        )
    progress.done()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for w in report.warnings:
            print(f"warning: {w}")
        for row in report.rows:
            print(f"line {row.line:>5}  {row.order_id or '-':<20} {row.outcome:<17} {row.message}")
        print(report.summary() + (" (dry run: nothing written)" if args.dry_run else ""))
    return EXIT_OK if report.ok else EXIT_REFUSED


def _entry_row(e: LedgerEntry, tz: str) -> dict[str, Any]:
    return {
        "entry_id": e.entry_id,
        "order_id": e.order_id,
        "kind": e.kind,
        "amount": format_minor(e.signed.minor, e.amount.currency),
        "currency": e.amount.currency,
        "refunded_at": e.refunded_at.in_zone(tz).isoformat(digits=3),
        "source": e.source,
        "external_ref": e.external_ref,
        "reason": e.reason,
        "recorded_by": e.recorded_by,
        "recorded_at": e.recorded_at.in_zone(tz).isoformat(digits=3),
        "reverses": e.reverses or "",
        "note_status": e.note_status,
    }


def cmd_refunds(args: argparse.Namespace) -> int:
    if (args.start is None) != (args.end is None):
        raise UsageError("give both --from and --to, or neither")
    if args.start and args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    settings = _settings()
    with _client(settings) as client:
        ledger = Ledger(client)
        start = end = None
        if args.start:
            start, end = local_day_bounds(args.start, args.end, args.tz)
        entries = ledger.entries(order_id=args.order, start=start, end=end)
        if args.order and start is not None:
            entries = [e for e in entries if start.ns <= e.refunded_at.ns < end.ns]  # type: ignore[union-attr]
    rows = [_entry_row(e, args.tz) for e in entries]
    columns = [
        "entry_id",
        "order_id",
        "kind",
        "amount",
        "currency",
        "refunded_at",
        "source",
        "external_ref",
        "reason",
        "recorded_by",
        "recorded_at",
        "reverses",
        "note_status",
    ]
    out = _open_out(args.output)
    try:
        write_rows(out, rows, columns, _default_format(args.format, args.output), numeric={"amount"})
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    settings = _settings()
    progress = _Progress("Reconciling")
    with _client(settings) as client:
        report = Ledger(client).reconcile(
            order_ids=args.order, progress=lambda n, t: progress.update(f"{n:,} of {t:,} orders")
        )
    progress.done()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(f"checked {report.orders_checked} order(s) with ledger entries")
        print(
            f"  notes posted: {len(report.notes_posted)}; notes already there: {len(report.notes_found)}; "
            f"entry documents repaired: {len(report.documents_repaired)}"
        )
        for o in report.over_refunded:
            print(
                f"  over-refunded: order {o['order_id']} by {o['currency']} {o['excess']} (total "
                f"{o['order_total']}, VTEX refunds {o['native_refunded']}, offline {o['offline_refunded']})"
            )
        if report.in_progress:
            print(
                f"  left alone (recorded under {RECONCILE_GRACE_S} s ago; their recorder may still be finishing): "
                f"{', '.join(report.in_progress)}"
            )
        for f in report.failed:
            print(f"  failed: {f}")
    return EXIT_OK if not report.failed else EXIT_VTEX


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ..sandbox import SandboxConfig, run_forever

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
    from ..sandbox import Sandbox, SandboxConfig

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
        demo_settings = load_settings(env=env, env_file=False)
        with VtexClient(demo_settings) as client:
            Ledger(client).setup()
        print(
            f"refundkit sandbox at {server.base_url} (synthetic store; what you record is kept in "
            f"{settings.cache_dir / 'sandbox'})",
            flush=True,
        )
        if args.no_lab:
            print("Sandbox running; press Ctrl-C to stop.", flush=True)
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
        print("Starting JupyterLab on the notebooks; press Ctrl-C to stop both.", flush=True)
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=20)
            return EXIT_OK


COMMANDS = {
    "orders": cmd_orders,
    "setup": cmd_setup,
    "quote": cmd_quote,
    "record": cmd_record,
    "reverse": cmd_reverse,
    "import": cmd_import,
    "refunds": cmd_refunds,
    "reconcile": cmd_reconcile,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
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
