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
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias, cast

from ..argtypes import day, nonneg_float, number, positive_int, probability
from ..errors import RefundkitError
from ..textsafety import inert
from ..timeutil import zone
from .tables import rows_xlsx, write_rows

if TYPE_CHECKING:
    from ..session import Session

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "EXIT_VTEX",
    "Handler",
    "Output",
    "Parser",
    "Progress",
    "Subcommands",
    "UsageError",
    "add_json_flag",
    "add_table_flags",
    "day",
    "inert_output",
    "nonneg_float",
    "number",
    "positive_int",
    "probability",
    "session",
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


def add_table_flags(p: argparse.ArgumentParser) -> None:
    """``--format csv|json|table|xlsx`` and ``-o FILE``, as :meth:`Output.table` reads them."""
    p.add_argument("--format", choices=("csv", "json", "table", "xlsx"), default=None)
    p.add_argument("-o", "--output", default=None, metavar="FILE")


# -- the account --------------------------------------------------------------------------------------------------
@contextmanager
def session(**transport_options: Any) -> Iterator[Session]:
    """The configured account (environment or ``.env``) as a :class:`~refundkit.Session`, closed afterwards.

    Never the embedded sandbox: without an account this raises :class:`~refundkit.errors.ConfigError` with the
    how-to. Nothing is set up on the account (that is ``refundkit setup``'s job).
    """
    from ..session import connect  # noqa: PLC0415 - a report from the store loads no HTTP client

    with connect(demo=False, setup=False, **transport_options) as rk:
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
        self, rows: Sequence[dict[str, Any]], columns: Sequence[str], *, numeric: Iterable[str] = (), what: str = "rows"
    ) -> None:
        fmt = self.fmt
        if not fmt:
            if self.output:
                fmt = {".json": "json", ".xlsx": "xlsx"}.get(Path(self.output).suffix.lower(), "csv")
            else:
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
            write_rows(sys.stdout, rows, columns, fmt, numeric=numeric)
            return
        try:
            with open(self.output, "w", encoding="utf-8", newline="") as out:
                write_rows(out, rows, columns, fmt, numeric=numeric)
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
