"""What every ``refundkit`` command shares: exit codes, argument types, the session, and one output helper.

A command lives in a module of its own (``cli_<name>.py``) that exposes ``register(sub)``: it adds its subparser
and sets its handler with ``parser.set_defaults(handler=run)``. :mod:`refundkit.present.cli` lists the modules.
A handler takes the parsed arguments and returns an exit code; it opens the account with :func:`session` and
prints only through :class:`Output`::

    def register(sub: Subcommands) -> None:
        p = sub.add_parser("hello", help="say hello to the account")
        add_json_flag(p)
        p.set_defaults(handler=run)

    def run(args: argparse.Namespace) -> int:
        out = Output.from_args(args)
        with session() as rk:
            out.result({"account": rk.settings.account}, [f"hello {rk.settings.account}"])
        return EXIT_OK

Errors a user can cause are raised (:class:`UsageError`, :class:`~refundkit.errors.InputError`, ...) and turned
into one line and an exit code by :func:`refundkit.present.cli.main`; a handler never prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias, cast

from ..argtypes import day, nonneg_float, number, positive_int, probability
from ..config import Settings, config_file, load_settings
from ..errors import RefundkitError
from ..textsafety import inert
from ..timeutil import zone
from .tables import rows_xlsx, write_rows

if TYPE_CHECKING:
    from ..session import Session

__all__ = [
    "ATTRIBUTIONS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "EXIT_VTEX",
    "TABLE_FORMATS",
    "Handler",
    "Output",
    "Parser",
    "Progress",
    "Subcommands",
    "UsageError",
    "account_settings",
    "add_account_flag",
    "add_counting_flags",
    "add_day_range_flags",
    "add_json_flag",
    "add_report_flags",
    "add_table_flags",
    "add_zone_flag",
    "check_day_range",
    "check_output",
    "chosen_accounts",
    "day",
    "desk_environment",
    "inert_output",
    "nonneg_float",
    "number",
    "output_format",
    "positive_int",
    "probability",
    "selected_accounts",
    "session",
    "store_zone",
    "time_zone",
]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_VTEX, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: A command's handler: parsed arguments in, exit code out.
Handler = Callable[[argparse.Namespace], int]


class UsageError(RefundkitError):
    """A bad flag, date range, file or similar: exit 2 with one line that says what to fix."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, no usage dump
        self.exit(EXIT_USAGE, f"refundkit: {message} (see `{self.prog} --help`)\n")


#: What ``register(sub)`` receives: ``sub.add_parser(name, help=...)`` adds a command (argparse has no public name
#: for its type; it is generic only to type checkers).
if TYPE_CHECKING:
    Subcommands: TypeAlias = argparse._SubParsersAction[Parser]
else:
    Subcommands = argparse._SubParsersAction


# -- argument types (day, number, positive_int, probability, nonneg_float: refundkit.argtypes) --------------------
def time_zone(text: str) -> str:
    try:
        zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")


#: The formats :meth:`Output.table` writes (a file named without an ending is written in the first).
TABLE_FORMATS = ("csv", "json", "table", "xlsx")
#: The two ways a report places a refund (analytics' ``refund_date`` and ``order_date``, as the command line
#: spells them; not imported: the CLI starts without polars).
ATTRIBUTIONS = ("refund-date", "order-date")


def add_table_flags(
    p: argparse.ArgumentParser,
    formats: Sequence[str] = TABLE_FORMATS,
    *,
    output_help: str = "the file to write (without it: printed)",
) -> None:
    """``--format`` (one of ``formats``) and ``-o FILE``, as :meth:`Output.table` and :func:`check_output` read
    them: ``-o``'s ending chooses the format when ``--format`` is not given, a file without an ending is written in
    ``formats[0]``, and a file the command cannot write is refused before it runs. ``output_help``: what ``-o``
    also takes, when a command takes more than a file (``report``: a folder)."""
    p.add_argument(
        "--format",
        choices=formats,
        default=None,
        help="default: from -o's ending, else a table on a terminal and CSV in a pipe",
    )
    p.add_argument("-o", "--output", default=None, metavar="FILE", help=output_help)
    p.set_defaults(output_formats=tuple(formats))


def add_day_range_flags(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--from`` and ``--to``: the first and the last local day of the range, both included, as ``args.start`` and
    ``args.end``. ``required=False`` where the command has another way to give the range (``report --period``,
    ``refunds`` without a range); :func:`check_day_range` refuses a ``--to`` before ``--from``."""
    for flag, dest, which in (("--from", "start", "first"), ("--to", "end", "last")):
        p.add_argument(
            flag,
            dest=dest,
            type=day,
            required=required,
            default=None,
            metavar="YYYY-MM-DD",
            help=f"the {which} day of the range (included)",
        )


def check_day_range(args: argparse.Namespace) -> None:
    """Refuse a ``--to`` before ``--from`` (:func:`add_day_range_flags`) with one line that says what to fix."""
    if args.start is not None and args.end is not None and args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}: swap them")


def add_zone_flag(p: argparse.ArgumentParser, *, utc: bool = False, purpose: str = "the days are counted in") -> None:
    """``--tz ZONE``, checked as it is read. Without it: the store's zone (``REFUNDKIT_STORE_TZ``, else UTC; the
    command reads it with :func:`store_zone`), or UTC with ``utc=True`` (``sync``, ``orders``, ``refunds``)."""
    default = "UTC" if utc else "REFUNDKIT_STORE_TZ when set, else UTC"
    p.add_argument(
        "--tz",
        type=time_zone,
        default="UTC" if utc else None,
        metavar="ZONE",
        help=f"the time zone {purpose}, such as America/Sao_Paulo (default: {default})",
    )


def store_zone() -> str:
    """The zone a command of :func:`add_zone_flag` works in when ``--tz`` is not given: the store's
    (``REFUNDKIT_STORE_TZ``), else UTC."""
    return load_settings().store_tz or "UTC"


def add_counting_flags(p: argparse.ArgumentParser) -> None:
    """The flags that choose which orders and refunds a report from the store counts, and how it syncs them first
    (``report``, ``items``): ``--include-canceled``, ``--include-payment-pending``, ``--lookback-days``,
    ``--refresh``."""
    p.add_argument("--include-canceled", action="store_true", help="count canceled orders (cancel, canceled)")
    p.add_argument(
        "--include-payment-pending",
        action="store_true",
        help="count orders not paid yet (payment-pending and the steps before it)",
    )
    p.add_argument(
        "--lookback-days",
        type=positive_int,
        default=180,
        metavar="N",
        help="how far before --from to look for orders refunded in the range (default 180)",
    )
    p.add_argument("--refresh", action="store_true", help="list the whole range from VTEX again first")


def add_report_flags(
    p: argparse.ArgumentParser,
    *,
    formats: Sequence[str] = TABLE_FORMATS,
    range_required: bool = True,
    output_help: str = "the file to write (without it: printed)",
) -> None:
    """The flags of a report from the store (``report``, ``items``), each with the same meaning, help and checks in
    both: ``--from``/``--to`` (:func:`add_day_range_flags`), ``--attribution``, ``--tz`` (default the store's
    zone), ``--currency``, ``--format``/``-o`` (:func:`add_table_flags`) and the counting flags
    (:func:`add_counting_flags`). Where the two differ, a parameter says how: ``formats`` (``report`` also writes
    Parquet), ``range_required`` (``report`` also takes a named range, ``--period``, instead), ``output_help``
    (``report``'s ``-o`` also takes a folder)."""
    add_day_range_flags(p, required=range_required)
    p.add_argument(
        "--attribution",
        choices=ATTRIBUTIONS,
        default="refund-date",
        help="refund-date: a refund counts where its own date falls (cash view; the default); order-date: where its "
        "order's date falls (cohort view)",
    )
    add_zone_flag(p)
    p.add_argument("--currency", default=None, metavar="CODE", help="only this currency (such as BRL)")
    add_table_flags(p, formats, output_help=output_help)
    add_counting_flags(p)


#: The file name suffix of each format a command may write to ``-o FILE``.
SUFFIXES = {"csv": ".csv", "json": ".json", "xlsx": ".xlsx", "parquet": ".parquet", "table": ".txt"}
_NAMES = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX", "parquet": "Parquet", "table": "a text table"}


def output_format(output: str | None, fmt: str | None, formats: Sequence[str]) -> str | None:
    """The format ``-o FILE`` is written in: ``--format`` when given, else the file's suffix (no suffix: the first
    of ``formats``). A file the command cannot write — ``-o report.pdf``, or ``--format csv -o report.json`` — is
    refused with one line that names the formats it can write (:class:`UsageError`), before anything is done."""
    if not output:
        return fmt
    suffix = Path(output).suffix.lower()
    writes = ", ".join(f"{_NAMES[f]} ({SUFFIXES[f]})" for f in formats if f in SUFFIXES)
    known = {SUFFIXES[f]: f for f in formats if f in SUFFIXES}
    if fmt:
        other = known.get(suffix)
        if other is not None and other != fmt:
            raise UsageError(
                f"-o {output} names {_NAMES[other]} but --format is {fmt}: give one of them; nothing written"
            )
        return fmt
    if not suffix:
        return formats[0]
    if suffix in known:
        return known[suffix]
    raise UsageError(
        f"cannot write {output}: this command writes {writes} only — name the file with one of those endings; "
        "nothing written"
    )


def check_output(args: argparse.Namespace) -> None:
    """Refuse, before the command runs, an ``-o FILE`` its command cannot write (see :func:`output_format`)."""
    formats = getattr(args, "output_formats", None)
    if formats:
        output_format(getattr(args, "output", None), getattr(args, "format", None), formats)


# -- the account --------------------------------------------------------------------------------------------------
#: the accounts ``--account`` named for the command being run (``main`` sets it; empty: the configured default)
_ACCOUNTS: ContextVar[tuple[str, ...]] = ContextVar("refundkit_cli_accounts", default=())


def add_account_flag(p: argparse.ArgumentParser) -> None:
    """``--account NAME``: which account of ``refundkit.toml`` the command works on (``REFUNDKIT_ACCOUNT`` sets the
    default). Only a command that sets ``several_accounts=True`` takes it more than once."""
    p.add_argument(
        "--account",
        action="append",
        default=None,
        metavar="NAME",
        help="the account of refundkit.toml to use (default REFUNDKIT_ACCOUNT, else the one configured)",
    )


@contextmanager
def selected_accounts(names: Sequence[str]) -> Iterator[None]:
    """While it lasts, :func:`session` and :func:`account_settings` open the first of ``names``."""
    token = _ACCOUNTS.set(tuple(names))
    try:
        yield
    finally:
        _ACCOUNTS.reset(token)


def chosen_accounts() -> tuple[str, ...]:
    """The names ``--account`` gave (empty: none)."""
    return _ACCOUNTS.get()


def account_settings() -> Settings:
    """The settings of the chosen account (``--account``, else the default), for commands that read only local
    files (the store, the audit trail) or need no account at all (the cache folder)."""
    names = _ACCOUNTS.get()
    return load_settings(account=names[0] if names else None)


def desk_environment() -> tuple[dict[str, str], Settings]:
    """The environment ``refundkit app`` gives the desk, and the settings of the account it opens on: ``--account``'s,
    else the default, else (several in refundkit.toml, none chosen) the file's first; the desk offers the others.
    The file is named by its full path, so the desk's pages find it from any folder."""
    env = dict(os.environ)
    settings = account_settings()
    if settings.choices:
        settings = load_settings(account=settings.choices[0])
    if settings.name:
        env["REFUNDKIT_ACCOUNT"] = settings.name
    path = config_file()
    if path is not None:
        env["REFUNDKIT_CONFIG"] = str(path.resolve())
    return env, settings


@contextmanager
def session(account: str | None = None, **transport_options: Any) -> Iterator[Session]:
    """The chosen account (``account``, else ``--account``, else the one configured in the environment, ``.env`` or
    ``refundkit.toml``) as a :class:`~refundkit.Session`, closed afterwards.

    Never the embedded sandbox: without an account this raises :class:`~refundkit.errors.ConfigError` with the
    how-to. Nothing is set up on the account (that is ``refundkit setup``'s job).
    """
    from ..session import connect  # noqa: PLC0415 - a report from the store loads no HTTP client

    names = _ACCOUNTS.get()
    account = account or (names[0] if names else None)
    with connect(account=account, demo=False, setup=False, **transport_options) as rk:
        yield rk


# -- output -------------------------------------------------------------------------------------------------------
class Output:
    """Everything a command prints: its result on stdout (text, or JSON with ``--json``), messages on stderr, and
    tables on stdout or in ``-o FILE`` (``--format``, else from the file's suffix, else a table on a terminal and
    CSV in a pipe).

    The streams are looked up when something is printed, so a caller that redirects ``sys.stdout`` (tests) sees it.
    """

    def __init__(self, *, as_json: bool = False, fmt: str | None = None, output: str | None = None) -> None:
        self.as_json = as_json
        self.fmt = fmt
        self.output = output

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Output:
        return cls(
            as_json=bool(getattr(args, "json", False)),
            fmt=getattr(args, "format", None),
            output=getattr(args, "output", None),
        )

    def line(self, text: str = "") -> None:
        print(text, file=sys.stdout)

    def message(self, text: str) -> None:
        """A message for the person (progress done, a note, a warning): stderr, so pipes get only data."""
        print(text, file=sys.stderr)

    def result(self, payload: Mapping[str, Any], lines: Iterable[str], *, notes: Iterable[str] = ()) -> None:
        """``payload`` as JSON with ``--json``; otherwise ``lines`` on stdout and ``notes`` on stderr."""
        if self.as_json:
            print(json.dumps(payload, indent=2), file=sys.stdout)
            return
        for text in lines:
            self.line(text)
        for text in notes:
            self.message(text)

    def table(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[str],
        *,
        numeric: Iterable[str] = (),
        what: str = "rows",
        machine: Iterable[str] = (),
    ) -> None:
        """The rows on stdout or in ``-o FILE``, in the format asked (a text table leaves out the ``machine``
        columns)."""
        fmt = output_format(self.output, self.fmt, TABLE_FORMATS)
        if not fmt:
            fmt = "table" if sys.stdout.isatty() else "csv"
        if fmt == "xlsx":
            if not self.output:
                raise UsageError("an XLSX workbook goes to a file: add -o FILE.xlsx")
            try:
                Path(self.output).write_bytes(rows_xlsx(rows, columns, numeric))
            except OSError as exc:
                raise UsageError(f"cannot write {self.output}: {exc.strerror or exc}") from None
            self.message(f"{len(rows):,} {what} written to {self.output}")
            return
        if not self.output:
            write_rows(sys.stdout, rows, columns, fmt, numeric=numeric, machine=machine)
            return
        try:
            with open(self.output, "w", encoding="utf-8", newline="") as out:
                write_rows(out, rows, columns, fmt, numeric=numeric, machine=machine)
        except OSError as exc:
            raise UsageError(f"cannot write {self.output}: {exc.strerror or exc}") from None
        self.message(f"{len(rows):,} {what} written to {self.output}")


class _InertStream:
    """A text stream that writes each control character but the tab and the line feed as its escape
    (:func:`refundkit.textsafety.inert`); everything else is the stream beneath, ``raw``."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(inert(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


@contextmanager
def inert_output() -> Iterator[None]:
    """While it lasts, whatever is printed on stdout and stderr is inert: no text — a person's, a file's or VTEX's
    (a client name, a status, an error body) — can move the cursor, recolour or clear the terminal. Only
    :class:`Progress` writes its own escape codes, to the stream beneath."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, _InertStream(sys.stdout)), cast(TextIO, _InertStream(sys.stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


class Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        stream = stream if stream is not None else sys.stderr
        self.stream: TextIO = stream.raw if isinstance(stream, _InertStream) else stream
        self.enabled = self.stream.isatty()
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
