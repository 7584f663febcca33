"""The local order store: an account's orders, return invoices and offline refunds as plain Parquet files.

Layout, under ``REFUNDKIT_CACHE_DIR`` (default ``~/.cache/refundkit``)::

    store/{account}/orders/month=YYYY-MM/data.parquet            one row per order, by month of creation (UTC)
    store/{account}/return_invoices/month=YYYY-MM/data.parquet   VTEX-native refunds, by their order's month
    store/{account}/offline_refunds/month=YYYY-MM/data.parquet   ledger entries, by month of refunded-at (UTC)
    store/{account}/state.json                                   what was synced when (coverage of creation dates)

Every file is written to a temporary name of its own in its folder, flushed to disk and moved over the old one
with ``os.replace``, which is atomic: a crash or Ctrl-C while syncing leaves each file either as it was or as it is
meant to be, never half written. The state file is written last, so what it claims is always on disk.

Many processes share one store (a scheduled sync, the desk, a notebook): ``store/{account}/.lock`` is a
reader/writer lock (``filelock.ReadWriteLock``, released by the system when a process dies). Reading holds it shared
(:meth:`OrderStore.reading`: a report sees one consistent set of files), writing exclusively
(:meth:`OrderStore.writing`: each month's read-merge-write and the state's are one step no other process interleaves
with). A sync lists VTEX without holding it, then writes under it.

Each month file's CRC-32 is kept next to it (``.data.parquet.crc32``, hidden from Parquet readers), so that a file
damaged after it was written (a flipped bit) is noticed, not read as figures. A file that cannot be read (truncated,
empty, damaged, of the wrong shape) raises :class:`StoreDamaged`, whose one
line names the file and the way out; :meth:`OrderStore.set_aside` renames it ``*.damaged-<time>`` and drops its month
from the state's coverage, so the next sync lists that month again from VTEX (``sync_orders`` does it by itself).

A read of a date range (:meth:`OrderStore.scan` with ``start``/``end``) opens only the month files that can hold
it, and only the columns asked for. Each orders month has a summary beside it (:mod:`refundkit.analytics.summaries`:
orders counted and summed per UTC quarter-hour, currency and status), written right after the month under the same
lock and ignored once the month file changes; :meth:`OrderStore.order_rows` gives whole months from them.

Money is ``Int64`` minor units next to ``currency``; timestamps ``Datetime("ns", "UTC")`` (exact to VTEX's 100 ns).
DuckDB, Spark or any Parquet reader reads the folders as they are (``hive_partitioning``).

Files written before a column or an item field was added (:data:`ADDED_COLUMNS`, :data:`ADDED_ITEM_FIELDS`) read
with it null: an old store keeps working, and the next sync of its months writes them in the new shape.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl
from filelock import ReadWriteLock, Timeout
from polars.exceptions import PanicException, PolarsError

from ..errors import InputError, StoreError
from ..timeutil import Instant
from .frames import LINE_TYPE, NATIVE_REFUNDS_SCHEMA, REFUNDS_SCHEMA, UTC_NS, native_rows, refunds_frame
from .split import totals_row
from .summaries import (
    COUNT,
    GRAIN_NS,
    ORDER_SOURCES,
    ORDER_SUMS,
    order_sums,
    summarise,
    summary_data,
    summary_meta,
    summary_path,
)

if TYPE_CHECKING:  # types only: a report from the store loads neither the ledger nor VTEX's models
    from ..ledger.model import LedgerEntry
    from ..vtex.models import Order, OrderSummary


def _ts(instant: Instant) -> pl.Expr:
    """An instant as a literal of the frames' timestamp type (so Parquet statistics can skip row groups)."""
    return pl.lit(instant.ns, dtype=pl.Int64).cast(UTC_NS)


__all__ = [
    "ADDED_COLUMNS",
    "ADDED_ITEM_FIELDS",
    "FILED_BY",
    "ITEM_TYPE",
    "LINE_TYPE",
    "PAYMENT_TYPE",
    "RETURNED_ITEM_TYPE",
    "STORE_ORDERS_SCHEMA",
    "OrderStore",
    "StoreDamaged",
    "StoreState",
    "order_row",
    "summary_row",
    "with_ids",
]

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
_MONTH_RE = re.compile(r"^month=(\d{4}-\d{2})$")
STATE_VERSION = 1

_FIRST_ITEM_FIELDS = {"sku": pl.String(), "name": pl.String(), "quantity": pl.Int64(), "unit_price_minor": pl.Int64()}
#: The item fields added since the store's first files (read as null from those files).
ADDED_ITEM_FIELDS: dict[str, pl.DataType] = {
    "unique_id": pl.String(),  # items[].uniqueId
    "product_id": pl.String(),  # items[].productId
    "brand": pl.String(),  # items[].additionalInfo.brandName
    "category": pl.String(),  # the last of items[].additionalInfo.categories[].name
    "paid_minor": pl.Int64(),  # what the customer paid for the whole line (OrderItem.paid_total)
    "is_gift": pl.Boolean(),  # items[].isGift: the customer paid nothing for it
}
ITEM_TYPE = pl.Struct({**_FIRST_ITEM_FIELDS, **ADDED_ITEM_FIELDS})
_FIRST_ITEM_TYPE = pl.Struct(_FIRST_ITEM_FIELDS)
#: Units a return invoice lists (``ReturnedItem``); ``amount_minor`` null when VTEX gives no amount for them.
RETURNED_ITEM_TYPE = pl.Struct(
    {
        "sku": pl.String(),
        "unique_id": pl.String(),
        "quantity": pl.Int64(),
        "amount_minor": pl.Int64(),
        "line_index": pl.Int64(),  # the order line's position in items[] (null: VTEX named the SKU only)
    }
)
PAYMENT_TYPE = pl.Struct(
    {"method": pl.String(), "group": pl.String(), "value_minor": pl.Int64(), "installments": pl.Int64()}
)

#: One row per order. The list fields always; the details (``has_details``) when synced with ``--details``.
STORE_ORDERS_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.String(),
    "created_at": UTC_NS,
    "status": pl.String(),
    "currency": pl.String(),
    "total_minor": pl.Int64(),
    "sales_channel": pl.String(),
    "payment_names": pl.String(),
    "origin": pl.String(),
    "invoice_input": pl.List(pl.String()),  # return invoice numbers as the order list shows them (null: unknown)
    "read_at": UTC_NS,  # when this row was last read from VTEX
    "has_details": pl.Boolean(),
    "items_minor": pl.Int64(),  # totals breakdown (details only): items, discounts (≤ 0), shipping, tax
    "discounts_minor": pl.Int64(),
    "shipping_minor": pl.Int64(),
    "tax_minor": pl.Int64(),
    # the rest of VTEX's totals (details only; null in files written before they were kept): the ``Change`` total
    # (order modifications), and the sum and the ids of every total refundkit does not know
    "change_minor": pl.Int64(),
    "other_totals_minor": pl.Int64(),
    "other_totals_ids": pl.List(pl.String()),
    "payment_method": pl.String(),  # details only: the main payment's method (largest value)
    "items": pl.List(ITEM_TYPE),
    "payments": pl.List(PAYMENT_TYPE),
}

#: Return invoices: the frames' columns, and the units each lists (``[]``: none listed; null: not read).
_STORE_RETURNS_SCHEMA: dict[str, pl.DataType] = {**NATIVE_REFUNDS_SCHEMA, "items": pl.List(RETURNED_ITEM_TYPE)}
#: Offline refunds: the frames' columns, and the entry's lines (``[]``: an amount only; null: written before lines).
_STORE_REFUNDS_SCHEMA: dict[str, pl.DataType] = {
    **{k: v for k, v in REFUNDS_SCHEMA.items() if k != "reversed_refunded_at"},
    "lines": pl.List(LINE_TYPE),
}
#: Columns each table gained after its first files were written: a file without them reads them as null.
ADDED_COLUMNS: dict[str, frozenset[str]] = {
    "orders": frozenset({"change_minor", "other_totals_minor", "other_totals_ids"}),
    "return_invoices": frozenset({"part_items_minor", "items"}),
    "offline_refunds": frozenset({"lines"}),
}


#: The date each table's rows are filed by: the month folder a row is in is this date's month (UTC).
FILED_BY = {"orders": "created_at", "return_invoices": "order_created_at", "offline_refunds": "refunded_at"}


def _overlaps(bounds: tuple[int, int], start: int, end: int) -> bool:
    return bounds[0] < end and bounds[1] > start


def _month_of(ns: int) -> str:
    return Instant(ns).to_datetime().strftime("%Y-%m")


def _month_bounds(month: str) -> tuple[int, int]:
    """``[first instant, first instant of the next month)`` of a ``YYYY-MM`` month, in UTC nanoseconds."""
    year, mon = int(month[:4]), int(month[5:7])
    nxt = (year + 1, 1) if mon == 12 else (year, mon + 1)
    a, b = datetime(year, mon, 1, tzinfo=UTC), datetime(*nxt, 1, tzinfo=UTC)
    return Instant.from_datetime(a).ns, Instant.from_datetime(b).ns


def summary_row(o: OrderSummary, read_at: Instant) -> dict[str, Any]:
    """A store row from an order list row (no details)."""
    return {
        "order_id": o.order_id,
        "created_at": o.created_at.ns,
        "status": o.status,
        "currency": o.currency,
        "total_minor": o.total.minor,
        "sales_channel": o.sales_channel,
        "payment_names": o.payment_names,
        "origin": o.origin or "",
        "invoice_input": None if o.invoice_input is None else list(o.invoice_input),
        "read_at": read_at.ns,
        "has_details": False,
        "items_minor": None,
        "discounts_minor": None,
        "shipping_minor": None,
        "tax_minor": None,
        "change_minor": None,
        "other_totals_minor": None,
        "other_totals_ids": None,
        "payment_method": None,
        "items": None,
        "payments": None,
    }


def order_row(o: Order, read_at: Instant) -> dict[str, Any]:
    """A store row from a full order, with its details."""
    main = max(o.payments, key=lambda p: p.value.minor, default=None)
    return {
        "order_id": o.order_id,
        "created_at": o.created_at.ns,
        "status": o.status,
        "currency": o.currency,
        "total_minor": o.total.minor,
        "sales_channel": o.sales_channel,
        "payment_names": o.payment_names,
        "origin": o.origin or "",
        "invoice_input": [inv.invoice_number for inv in o.return_invoices],
        "read_at": read_at.ns,
        "has_details": True,
        **totals_row(o.totals),
        "payment_method": main.method if main else None,
        "items": [
            {
                "sku": i.sku,
                "name": i.name,
                "quantity": i.quantity,
                "unit_price_minor": i.unit_price.minor,
                "unique_id": i.unique_id,
                "product_id": i.product_id,
                "brand": i.brand,
                "category": i.category,
                "paid_minor": i.paid_total.minor,
                "is_gift": i.is_gift,
            }
            for i in o.items
        ],
        "payments": [
            {"method": p.method, "group": p.group, "value_minor": p.value.minor, "installments": p.installments}
            for p in o.payments
        ],
    }


def _frame(rows: Sequence[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    data: dict[str, pl.Series] = {}
    for name, dtype in schema.items():
        values = [r[name] for r in rows]
        if dtype == UTC_NS:
            data[name] = pl.Series(name, values, dtype=pl.Int64).cast(UTC_NS)
        else:
            data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data)


def orders_rows_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return _frame(rows, STORE_ORDERS_SCHEMA)


def return_invoices_frame(orders: Iterable[Order]) -> pl.DataFrame:
    """VTEX's refunds of the given full orders, one row each (see :func:`refundkit.analytics.frames.native_rows`),
    with the units each return invoice lists."""
    return _frame(native_rows(orders), _STORE_RETURNS_SCHEMA)


def _fits(table: str, found: pl.Schema | dict[str, pl.DataType], expected: dict[str, pl.DataType]) -> bool:
    """Whether a file's columns are the store's, or those of an older store (without :data:`ADDED_COLUMNS`, or
    with the first item fields only)."""
    for name, dtype in expected.items():
        have = found.get(name)
        if have is None:
            if name in ADDED_COLUMNS[table]:
                continue
            return False
        if have != dtype and not (table == "orders" and name == "items" and have == pl.List(_FIRST_ITEM_TYPE)):
            return False
    return True


def _upgraded(df: pl.DataFrame, expected: dict[str, pl.DataType]) -> pl.DataFrame:
    """A file of an older store in the store's columns: what it lacks is null."""
    if df.schema == expected:
        return df
    return df.select(
        (pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c)) for c, t in expected.items()
    )


# -- state ---------------------------------------------------------------------------------------------------------
@dataclass
class StoreState:
    """What the store knows: ``coverage`` is a list of ``[start_ns, end_ns)`` creation-date intervals whose orders
    were all listed (up to a moment safely before the sync, as VTEX's list shows orders a few minutes late);
    ``synced_at`` the end of the last successful sync; ``refunds_from`` the earliest refunded-at the offline refunds
    were read from."""

    coverage: list[tuple[int, int]] = field(default_factory=list)
    synced_at: int | None = None
    refunds_from: int | None = None
    refunds_synced_at: int | None = None

    def covered(self, start: int, end: int) -> list[tuple[int, int]]:
        return [(max(a, start), min(b, end)) for a, b in self.coverage if min(b, end) > max(a, start)]

    def gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        out, at = [], start
        for a, b in self.covered(start, end):
            if a > at:
                out.append((at, a))
            at = max(at, b)
        if at < end:
            out.append((at, end))
        return out

    def add(self, start: int, end: int) -> None:
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self.coverage, (start, end)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.coverage = merged

    def remove(self, start: int, end: int) -> None:
        """Forget the coverage of ``[start, end)`` (its orders are listed again by the next sync)."""
        kept: list[tuple[int, int]] = []
        for a, b in self.coverage:
            if a < start:
                kept.append((a, min(b, start)))
            if b > end:
                kept.append((max(a, end), b))
        self.coverage = [(a, b) for a, b in kept if b > a]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "coverage": [list(c) for c in self.coverage],
            "synced_at": self.synced_at,
            "refunds_from": self.refunds_from,
            "refunds_synced_at": self.refunds_synced_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> StoreState:
        """The state a ``state.json`` holds; ``ValueError`` when it is not of the shape :meth:`to_json` writes."""
        if not isinstance(data, dict):
            raise ValueError(f"a JSON object was expected, not {type(data).__name__}")
        if data.get("version", STATE_VERSION) != STATE_VERSION:
            raise ValueError(f"version {data.get('version')!r} is not {STATE_VERSION}")
        coverage = data.get("coverage") or []
        if not isinstance(coverage, list) or not all(
            isinstance(c, list) and len(c) == 2 and all(_is_int(x) for x in c) for c in coverage
        ):
            raise ValueError("coverage is not a list of [start, end] nanosecond pairs")
        times = {k: data.get(k) for k in ("synced_at", "refunds_from", "refunds_synced_at")}
        for key, value in times.items():
            if value is not None and not _is_int(value):
                raise ValueError(f"{key} is not a nanosecond timestamp")
        state = cls(
            synced_at=times["synced_at"],
            refunds_from=times["refunds_from"],
            refunds_synced_at=times["refunds_synced_at"],
        )
        for a, b in coverage:
            if a < b:  # an empty interval (a sync of the last minutes) claims nothing
                state.add(a, b)
        return state


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


# -- the store -----------------------------------------------------------------------------------------------------
def _cannot_write(path: Path, exc: OSError) -> StoreError:
    """One line for a write the system refused: which file, why, and what to do."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc):
        way = "free some space, or set REFUNDKIT_CACHE_DIR to a folder on another disk"
    else:
        way = "make the folder writable, or set REFUNDKIT_CACHE_DIR to a folder you can write"
    return StoreError(f"cannot write the store file {path} ({exc.strerror or exc}): {way}; the store is unchanged")


def _atomic_write(path: Path, write: Any, *, checksum: bool = False) -> None:
    """Write via ``write(fileobj)`` to a temporary file of its own next to ``path``, fsync it, then ``os.replace``
    it. A write the system refuses (a full disk, a folder that cannot be written) raises :class:`StoreError`.

    ``checksum``: first record the new file's CRC-32 next to it (with the old file's, which stays valid until the
    replace: a crash in between leaves a file that matches), so that a reader notices a file damaged later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if checksum:
            kept = path.exists() and _checksum_problem(path) is None  # the old file, unless it is damaged
            sums = [_crc(Path(tmp))] + ([_crc(path)] if kept else [])
            text = " ".join(f"{c:08x}" for c in sums).encode("ascii")
            _atomic_write(_sums_path(path), lambda f: f.write(text))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, Exception) and (why := _io_failure(exc)) is not None:
            raise _cannot_write(path, OSError(why)) from None
        raise


def _sums_path(path: Path) -> Path:
    """Where the CRC-32 of a month file is kept: a hidden file next to it, which Parquet readers pass over."""
    return path.with_name(f".{path.name}.crc32")


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


_VERIFIED: dict[tuple[Any, ...], bool] = {}  # (file, inode, mtime, size, sums) -> it matched: each version once


def _checksum_problem(path: Path) -> str | None:
    """Why ``path`` differs from what was written (its recorded CRC-32), or ``None`` (also for a file written
    before checksums were kept, or one that no longer exists)."""
    try:
        text = _sums_path(path).read_text(encoding="ascii")
        st = path.stat()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"its checksum cannot be read: {_why(exc)}"
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size, text)
    ok = _VERIFIED.get(key)
    if ok is None:
        try:
            accepted = {int(x, 16) for x in text.split()}
            ok = _crc(path) in accepted
        except ValueError:
            ok = False
        except OSError as exc:
            return _why(exc)
        if len(_VERIFIED) > 10_000:
            _VERIFIED.clear()
        _VERIFIED[key] = ok
    return None if ok else "its bytes differ from what was written: the checksum does not match"


_OS_ERROR_IN_TEXT = re.compile(r"(?:IO error: )?([A-Z][a-z][^()]*?) \(os error \d+\)")


def _io_failure(exc: BaseException) -> str | None:
    """What the system said when a write failed (``No space left on device``), for an ``OSError`` or a writer's
    error wrapping one (polars names it in its message); ``None`` for anything else."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, PolarsError) and (m := _OS_ERROR_IN_TEXT.search(str(exc))):
        return m.group(1)
    return None


class StoreDamaged(StoreError):
    """Files of the store cannot be read (truncated, empty, damaged, of the wrong shape). ``files`` names them."""

    def __init__(self, files: Sequence[Path], why: str) -> None:
        self.files = list(files)
        self.why = why
        first = self.files[0]
        more = f" (and {len(self.files) - 1} more)" if len(self.files) > 1 else ""
        super().__init__(
            f"the store file {first}{more} is damaged ({why}): `refundkit sync` sets it aside and lists its "
            "month again from VTEX (or delete the file)"
        )


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:120] + ("…" if len(text) > 120 else "")


_T = TypeVar("_T")
#: How a scan reads a file of an older store: added columns and item fields null, unknown ones ignored.
_EVOLVE: dict[str, Any] = {
    "missing_columns": "insert",
    "extra_columns": "ignore",
    "cast_options": pl.ScanCastOptions(missing_struct_fields="insert"),
}
_HELD = threading.local()  # the store lock this thread holds, per store folder: {path: "read" | "write"}
_CORRUPT: tuple[type[BaseException], ...] = (PolarsError, OSError, PanicException)


class OrderStore:
    """One account's store folder, shared by many processes: reads hold its lock shared, writes exclusively."""

    TABLES = ("orders", "return_invoices", "offline_refunds")
    #: how long a reader or writer waits for the store's lock before giving up with one line
    LOCK_WAIT_S = 600.0

    def __init__(self, root: Path | str, account: str) -> None:
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            raise InputError(f"{account!r} is not a VTEX account name")
        self.account = account
        self.path = Path(root).expanduser() / account
        self.lock_wait_s = self.LOCK_WAIT_S
        #: what :meth:`set_aside` did, in plain words, for the caller to show as warnings
        self.notices: list[str] = []

    @classmethod
    def for_settings(cls, settings: Any) -> OrderStore:
        """The store of the configured account, under ``settings.cache_dir / "store"``."""
        return cls(Path(settings.cache_dir) / "store", settings.account)

    def __repr__(self) -> str:
        return f"OrderStore({str(self.path)!r})"

    # -- the lock -------------------------------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the store's lock shared: no process writes while the caller reads (reports, listings). Nested
        holds (and reads while this thread writes) hold nothing more."""
        with self._locked("read"):
            yield

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's lock exclusively: no other process reads or writes meanwhile."""
        with self._locked("write"):
            yield

    @contextlib.contextmanager
    def _locked(self, mode: str) -> Iterator[None]:
        held: dict[str, str] = _HELD.__dict__.setdefault("modes", {})
        key = str(self.path.absolute())
        have = held.get(key)
        if have is not None:
            if mode == "write" and have == "read":
                raise RuntimeError(f"{self!r}: a write was started while this thread holds the store for reading")
            yield
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = ReadWriteLock(self.lock_path, timeout=self.lock_wait_s, is_singleton=False)
        except (OSError, sqlite3.Error, ValueError) as exc:
            raise StoreError(
                f"cannot use the store folder {self.path} ({_why(exc)}): make it writable, or set "
                "REFUNDKIT_CACHE_DIR to a folder you can write"
            ) from None
        try:
            try:
                if mode == "read":
                    lock.acquire_read()
                else:
                    lock.acquire_write()
            except Timeout:
                raise StoreError(
                    f"the store {self.path} stayed busy for {self.lock_wait_s:.0f} s (another sync or report holds "
                    "it): try again when it has finished"
                ) from None
            except (OSError, sqlite3.Error, ValueError) as exc:
                raise StoreError(
                    f"cannot lock the store {self.path} ({_why(exc)}): make the folder writable, or set "
                    "REFUNDKIT_CACHE_DIR to a folder you can write"
                ) from None
            held[key] = mode
            try:
                yield
            finally:
                del held[key]
                lock.release()
        finally:
            lock.close()

    # -- state ----------------------------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    def state(self) -> StoreState:
        """What the store covers; :class:`StoreDamaged` when ``state.json`` cannot be read or is of the wrong
        shape."""
        with self.reading():
            try:
                data = json.loads(self.state_path.read_text(encoding="utf-8"))
                return StoreState.from_json(data)
            except FileNotFoundError:
                return StoreState()
            except (OSError, ValueError) as exc:
                raise StoreDamaged([self.state_path], _why(exc)) from None

    def save_state(self, state: StoreState) -> None:
        text = json.dumps(state.to_json(), indent=1).encode("utf-8")
        with self.writing():
            _atomic_write(self.state_path, lambda f: f.write(text))

    def merge_state(self, change: Callable[[StoreState], None]) -> StoreState:
        """Read the state as it is now, apply ``change`` and write it, as one step under the write lock: what
        other processes added meanwhile is kept."""
        with self.writing():
            state = self.state()
            change(state)
            self.save_state(state)
            return state

    # -- damage ---------------------------------------------------------------------------------------------------
    def repairing(self, read: Callable[[], _T], *, repair: bool = True) -> _T:
        """``read()`` under the read lock; when it meets damaged files and ``repair``, set them aside (see
        :meth:`set_aside`) and read again. Without ``repair`` the :class:`StoreDamaged` goes to the caller."""
        seen: set[Path] = set()
        while True:
            try:
                with self.reading():
                    return read()
            except StoreDamaged as exc:
                if not repair or set(exc.files) <= seen:
                    raise
                seen.update(exc.files)
                self.set_aside(exc.files, exc.why)

    def set_aside(self, files: Iterable[Path], why: str = "unreadable") -> list[str]:
        """Rename each damaged file ``<name>.damaged-<UTC time>`` and forget its month's coverage (a damaged
        ``state.json``: all coverage), so that the next sync lists it again from VTEX. A file another process
        already replaced with a good one is left alone. Returns (and adds to :attr:`notices`) what was done."""
        notes: list[str] = []
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        with self.writing():
            state_damaged = False
            try:
                state = self.state()
            except StoreDamaged:
                state, state_damaged = StoreState(), True
            for path in files:
                if path == self.state_path:
                    if state_damaged:
                        aside = self._move_aside(path, stamp)
                        notes.append(
                            f"the store's state file {path} was damaged ({why}): set aside as {aside.name}; what "
                            "it covered is listed again from VTEX"
                        )
                    continue
                table, month = path.parent.parent.name, path.parent.name.removeprefix("month=")
                if table not in self.TABLES or not path.exists() or self._damage(table, path) is None:
                    continue
                aside = self._move_aside(path, stamp)
                if table == "offline_refunds":
                    again = "the next report reads its offline refunds from the ledger again"
                else:
                    state.remove(*_month_bounds(month))
                    again = f"the orders of {month} are listed again from VTEX"
                notes.append(f"the store file {path} was damaged ({why}): set aside as {aside.name}; {again}")
            if notes:
                self.save_state(state)
        self.notices += notes
        return notes

    def _move_aside(self, path: Path, stamp: str) -> Path:
        aside = path.with_name(f"{path.name}.damaged-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        with contextlib.suppress(OSError):
            _sums_path(path).unlink()
        return aside

    def _damage(self, table: str, path: Path) -> str | None:
        """Why ``path`` cannot be read as a month of ``table``, or ``None`` when it reads well."""
        return self._load(table, path)[1]

    def _load(self, table: str, path: Path) -> tuple[pl.DataFrame | None, str | None]:
        """``(frame, None)``; ``(None, why)`` for a damaged file; ``(None, None)`` for a missing one."""
        why = _checksum_problem(path)
        if why is not None:
            return None, why
        try:
            df = pl.read_parquet(path)
        except FileNotFoundError:
            return None, None
        except _CORRUPT as exc:
            return None, _why(exc)
        expected = self._schema(table)
        if not _fits(table, df.schema, expected):
            return None, "its columns are not the store's"
        return _upgraded(df, expected), None

    def collect(self, lf: pl.LazyFrame, *tables: str) -> pl.DataFrame:
        """``lf.collect()`` for a frame that scans ``tables``; a damaged file raises :class:`StoreDamaged` naming
        it. Call it inside :meth:`reading` (files replaced meanwhile would not match what the scan planned)."""
        try:
            return lf.collect()
        except _CORRUPT:
            bad = [(f, w) for t in tables for f in self._files(t) if (w := self._damage(t, f)) is not None]
            if not bad:
                raise
            raise StoreDamaged([f for f, _ in bad], bad[0][1]) from None

    def collect_all(self, lfs: Sequence[pl.LazyFrame], *tables: str) -> list[pl.DataFrame]:
        """:meth:`collect` for several frames at once: what they share (a scan of the same files) is read once."""
        try:
            return pl.collect_all(lfs)
        except _CORRUPT:
            bad = [(f, w) for t in tables for f in self._files(t) if (w := self._damage(t, f)) is not None]
            if not bad:
                raise
            raise StoreDamaged([f for f, _ in bad], bad[0][1]) from None

    # -- files ----------------------------------------------------------------------------------------------------
    def table_dir(self, table: str) -> Path:
        if table not in self.TABLES:
            raise ValueError(f"unknown store table {table!r}")
        return self.path / table

    def months(self, table: str) -> list[str]:
        d = self.table_dir(table)
        if not d.is_dir():
            return []
        return sorted(
            m.group(1) for p in d.iterdir() if (m := _MONTH_RE.match(p.name)) and (p / "data.parquet").exists()
        )

    def _file(self, table: str, month: str) -> Path:
        return self.table_dir(table) / f"month={month}" / "data.parquet"

    def _schema(self, table: str) -> dict[str, pl.DataType]:
        return {
            "orders": STORE_ORDERS_SCHEMA,
            "return_invoices": _STORE_RETURNS_SCHEMA,
            "offline_refunds": _STORE_REFUNDS_SCHEMA,
        }[table]

    def _files(self, table: str, start: Instant | None = None, end: Instant | None = None) -> list[Path]:
        """The table's month files; with ``start``/``end``, only the months that overlap ``[start, end)``."""
        lo = -(2**63) if start is None else start.ns
        hi = 2**63 if end is None else end.ns
        return [self._file(table, m) for m in self.months(table) if _overlaps(_month_bounds(m), lo, hi)]

    def read_month(self, table: str, month: str, *, repair: bool = False) -> pl.DataFrame:
        """One month's file (empty when there is none). A damaged file raises :class:`StoreDamaged`; with
        ``repair`` (under :meth:`writing`), it is set aside and the month reads as empty."""
        path = self._file(table, month)
        with self.reading():
            df, why = self._load(table, path)
            if df is not None:
                return df
            if why is None:
                return pl.DataFrame(schema=self._schema(table))
            if not repair:
                raise StoreDamaged([path], why)
            self.set_aside([path], why)
            return pl.DataFrame(schema=self._schema(table))

    def write_month(self, table: str, month: str, df: pl.DataFrame) -> None:
        """Replace one month's file atomically (an empty frame removes nothing: it writes an empty file). A column
        added since the store's first files (:data:`ADDED_COLUMNS`) that ``df`` lacks is written null."""
        schema = self._schema(table)
        added = [c for c in ADDED_COLUMNS[table] if c not in df.columns]
        df = df.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in added)
        df = df.select([pl.col(c).cast(t) for c, t in schema.items()])
        path = self._file(table, month)
        with self.writing():
            _atomic_write(path, lambda f: df.write_parquet(f, compression="zstd", statistics=True), checksum=True)
            if table == "orders":  # after the month: a crash in between leaves a summary of another version
                self._write_summary(path, df)

    def _write_summary(self, path: Path, orders: pl.DataFrame) -> None:
        """The summary of the orders month ``path``, whose rows are ``orders``."""
        rows = summarise(orders)
        meta = summary_meta(path, orders)  # the month file as it is now on disk (under the write lock)
        _atomic_write(summary_path(path), lambda f: rows.write_parquet(f, metadata=meta), checksum=True)

    def summarise_months(self) -> list[str]:
        """Write the summary of each orders month that has none valid (a store written before summaries were
        kept, or a write interrupted between a month and its summary); returns those months."""
        done = []
        with self.writing():
            for month in self.months("orders"):
                path = self._file("orders", month)
                if self._summary_of(path) is None and _checksum_problem(path) is None:
                    df, why = self._load("orders", path)
                    if df is not None and why is None:
                        self._write_summary(path, df)
                        done.append(month)
        return done

    @staticmethod
    def _summary_of(path: Path) -> Path | None:
        return None if OrderStore._summary_facts(path) is None else summary_path(path)

    @staticmethod
    def _summary_facts(path: Path) -> dict[str, Any] | None:
        """What the valid summary of the month file ``path`` records; ``None`` when there is none valid (none, of
        another version, or damaged: the month is read raw)."""
        data = summary_data(path)
        if data is None or _checksum_problem(summary_path(path)) is not None:
            return None
        return data

    def order_rows(self, start: Instant, end: Instant, *, summaries: bool = True) -> pl.LazyFrame:
        """The orders created in ``[start, end)`` as rows to sum: ``created_at, currency, status``, ``orders`` (how
        many orders the row stands for), ``span`` (the nanoseconds from ``created_at`` its orders may be created in)
        and each column of :data:`~refundkit.analytics.summaries.ORDER_SUMS` (summed). A month wholly inside the
        range with a valid summary gives its summary rows (one per quarter-hour, currency and status); any other
        month (at the range's edges, or without a summary; every month without ``summaries``) one row per order.
        Collect it like :meth:`scan`."""
        keys = ["created_at", "currency", "status", *ORDER_SUMS]
        raw: list[str] = []
        summed: list[str] = []
        for month in self.months("orders"):
            lo, hi = _month_bounds(month)
            if not _overlaps((lo, hi), start.ns, end.ns):
                continue
            path = self._file("orders", month)
            summary = self._summary_of(path) if summaries and start.ns <= lo and hi <= end.ns else None
            if summary is not None:
                summed.append(str(summary))
                continue
            if (why := _checksum_problem(path)) is not None:
                raise StoreDamaged([path], why)
            raw.append(str(path))
        parts = []
        if raw:
            # files of an older store read what they lack as null, as in :meth:`scan`
            sources = ["created_at", "currency", "status", *ORDER_SOURCES]
            rows = pl.scan_parquet(raw, hive_partitioning=False, schema=self._schema("orders"), **_EVOLVE)
            rows = rows.select(sources).filter((pl.col("created_at") >= _ts(start)) & (pl.col("created_at") < _ts(end)))
            rows = rows.with_columns(order_sums(sources)).select(keys)
            parts.append(
                rows.with_columns(pl.lit(1, dtype=pl.Int64).alias(COUNT), pl.lit(1, dtype=pl.Int64).alias("span"))
            )
        if summed:
            rows = pl.scan_parquet(summed, hive_partitioning=False).select(*keys, COUNT)
            parts.append(rows.with_columns(pl.lit(GRAIN_NS, dtype=pl.Int64).alias("span")))
        if not parts:
            empty = {c: self._schema("orders")[c] for c in keys[:3]} | {c: pl.Int64() for c in ORDER_SUMS}
            return pl.LazyFrame(schema={**empty, COUNT: pl.Int64(), "span": pl.Int64()})
        return pl.concat([p.select(*keys, COUNT, "span") for p in parts])

    def scan(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        start: Instant | None = None,
        end: Instant | None = None,
    ) -> pl.LazyFrame:
        """All months of a table as one lazy frame (without the ``month`` folder column). Collect it with
        :meth:`collect` inside :meth:`reading`, so that no sync replaces a file between planning and reading.

        With ``start`` and/or ``end``: only the rows whose filing date (:data:`FILED_BY`: an order's creation, a
        return invoice's order's creation, an offline refund's refunded-at) is in ``[start, end)``, and only the
        month files that can hold them are opened. Only ``columns`` are read from the files."""
        return self._scan_files(table, self._files(table, start, end), columns, start, end)

    def scan_unknown_totals(self, start: Instant, end: Instant, columns: Sequence[str]) -> pl.LazyFrame:
        """:meth:`scan` of the orders created in ``[start, end)`` that carry order totals refundkit does not know
        (``other_totals_ids`` not empty): a month wholly inside the range whose valid summary counts none of them
        is not read."""
        paths = []
        for path in self._files("orders", start, end):
            lo, hi = _month_bounds(path.parent.name.removeprefix("month="))
            facts = self._summary_facts(path) if start.ns <= lo and hi <= end.ns else None
            if facts is None or facts["odd_totals"] > 0:
                paths.append(path)
        lf = self._scan_files("orders", paths, None, start, end)
        return lf.filter(pl.col("other_totals_ids").list.len().fill_null(0) > 0).select(list(columns))

    def _scan_files(
        self,
        table: str,
        paths: Sequence[Path],
        columns: Sequence[str] | None,
        start: Instant | None,
        end: Instant | None,
    ) -> pl.LazyFrame:
        for path in paths:  # each version of a file is checked once per process
            if (why := _checksum_problem(path)) is not None:
                raise StoreDamaged([path], why)
        files = [str(f) for f in paths]
        schema = self._schema(table)
        # files of an older store read with what they lack null (their shape is checked when a read fails)
        lf = (
            pl.scan_parquet(files, hive_partitioning=False, schema=schema, **_EVOLVE)
            if files
            else pl.LazyFrame(schema=schema)
        )
        if start is not None:
            lf = lf.filter(pl.col(FILED_BY[table]) >= _ts(start))
        if end is not None:
            lf = lf.filter(pl.col(FILED_BY[table]) < _ts(end))
        return lf.select(list(columns)) if columns else lf

    # -- reading --------------------------------------------------------------------------------------------------
    def orders(
        self,
        start: Instant | None = None,
        end: Instant | None = None,
        *,
        columns: Sequence[str] | None = None,
        order_ids: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """Stored orders created in ``[start, end)`` (all when not given), or those of ``order_ids``."""
        with self.reading():
            return self.collect(self._orders_lf(start, end, columns=columns, order_ids=order_ids), "orders")

    def _orders_lf(
        self,
        start: Instant | None,
        end: Instant | None,
        *,
        columns: Sequence[str] | None,
        order_ids: Iterable[str] | None,
    ) -> pl.LazyFrame:
        lf = self.scan("orders", start=start, end=end)
        if order_ids is not None:
            lf = with_ids(lf, pl.Series("order_id", list(order_ids), dtype=pl.String))
        if columns:
            lf = lf.select(list(columns))
        return lf

    def return_invoices(self, order_ids: Iterable[str] | None = None) -> pl.DataFrame:
        with self.reading():
            lf = self.scan("return_invoices")
            if order_ids is not None:
                lf = lf.filter(pl.col("order_id").is_in(list(order_ids)))
            return self.collect(lf, "return_invoices")

    def offline_refunds(self) -> pl.DataFrame:
        """The stored ledger entries, with ``reversed_refunded_at`` filled in from the refunds they reverse."""
        with self.reading():
            return self.collect(self.scan_offline_refunds(), "offline_refunds")

    def scan_offline_refunds(self) -> pl.LazyFrame:
        """:meth:`offline_refunds` as a lazy frame, to collect (like :meth:`scan`) with other reads in one pass."""
        lf = self.scan("offline_refunds")
        dates = lf.filter(pl.col("kind") == "refund").select(
            pl.col("entry_id").alias("reverses"), pl.col("refunded_at").alias("reversed_refunded_at")
        )
        out = lf.join(dates, on="reverses", how="left")
        schema = {**REFUNDS_SCHEMA, "lines": _STORE_REFUNDS_SCHEMA["lines"]}
        return out.select([pl.col(c).cast(t) for c, t in schema.items()])

    # -- writing --------------------------------------------------------------------------------------------------
    def upsert_orders(self, rows: pl.DataFrame, returns: pl.DataFrame | None = None) -> list[str]:
        """Merge order rows (newer replaces older by ``order_id``; a list row never erases synced details) and,
        for the orders read in full, replace their return invoices. Returns the months written.

        For each month the return invoices are written before the orders: an interruption in between leaves the
        order rows naming invoices the next sync reads again, never rows that hide invoices. A damaged month file
        is set aside (see :meth:`set_aside`) and the month written from these rows alone."""
        with self.writing():  # each month read, merged and written as one step no other process interleaves
            written = []
            rows = rows.with_columns(pl.col("created_at").dt.strftime("%Y-%m").alias("_month"))
            full_ids = set() if returns is None else set(rows.filter(pl.col("has_details"))["order_id"].to_list())
            for (key,), group in rows.group_by("_month", maintain_order=True):
                part = group.drop("_month")
                month = str(key)
                ids = part["order_id"].to_list()
                if returns is not None:
                    month_full = [i for i in ids if i in full_ids]
                    if month_full:
                        old_ri = self.read_month("return_invoices", month, repair=True)
                        new_ri = returns.filter(pl.col("order_id").is_in(month_full))
                        merged_ri = pl.concat([old_ri.filter(~pl.col("order_id").is_in(month_full)), new_ri])
                        self.write_month("return_invoices", month, merged_ri.sort("order_created_at", "order_id"))
                old = self.read_month("orders", month, repair=True)
                kept_details = old.filter(pl.col("order_id").is_in(ids) & pl.col("has_details"))
                fresh = _keep_details(part, kept_details)
                merged = pl.concat([old.filter(~pl.col("order_id").is_in(ids)), fresh.select(old.columns)])
                self.write_month("orders", month, merged.sort("created_at", "order_id"))
                written.append(month)
            return written

    def replace_offline_refunds(self, entries: Sequence[LedgerEntry], since: Instant | None) -> list[str]:
        """Make the stored ledger entries refunded at or after ``since`` (all when ``None``) exactly ``entries``;
        entries of ``entries`` dated earlier (refunds that a reversal undoes) are added or replaced too."""
        df = refunds_frame(entries).drop("reversed_refunded_at")
        new_ids = set(df["entry_id"].to_list())
        cut = None if since is None else _month_of(since.ns)
        by_month = {
            str(k[0]): v.drop("_m")
            for k, v in df.with_columns(pl.col("refunded_at").dt.strftime("%Y-%m").alias("_m")).group_by("_m")
        }
        with self.writing():
            return self._replace_offline(by_month, new_ids, cut, since)

    def _replace_offline(
        self, by_month: dict[str, pl.DataFrame], new_ids: set[str], cut: str | None, since: Instant | None
    ) -> list[str]:
        stored = self.months("offline_refunds")
        months = set(by_month) | {m for m in stored if cut is None or m >= cut}
        written = []
        for month in sorted(months):
            old = self.read_month("offline_refunds", month, repair=True)
            kept = old.filter(~pl.col("entry_id").is_in(list(new_ids)))
            kept = kept.filter(pl.col("refunded_at") < _ts(since)) if since is not None else kept.clear()
            new = by_month.get(month)
            merged = kept if new is None else pl.concat([kept, new.select(kept.columns)])
            merged = merged.sort("refunded_at", "entry_id")
            if month in stored and merged.equals(old.sort("refunded_at", "entry_id")):
                continue
            self.write_month("offline_refunds", month, merged)
            written.append(month)
        return written

    def remove_leftovers(self, older_than_s: float = 3600.0) -> int:
        """Delete the temporary files a killed sync left behind (older than ``older_than_s``, so that a sync running
        in another process keeps its own); returns how many. Readers never see them: they read ``data.parquet``."""
        removed, now = 0, time.time()
        for tmp in [*self.path.glob("*/month=*/.tmp-*.part"), *self.path.glob(".tmp-*.part")]:
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime >= older_than_s:
                    tmp.unlink()
                    removed += 1
        return removed

    def iter_files(self) -> Iterator[Path]:
        for table in self.TABLES:
            for m in self.months(table):
                yield self._file(table, m)


def with_ids(lf: pl.LazyFrame, ids: pl.Series, column: str = "order_id") -> pl.LazyFrame:
    """The rows of ``lf`` whose ``column`` is one of ``ids``. Each row's id is first tested by a 64-bit hash (an
    integer lookup, much cheaper than a text one on millions of rows), then the few that pass by the id itself."""
    wanted = ids.rename(column).to_frame()  # a semi join keeps each row once, however often its id is named
    hashes = ids.hash().unique().implode()
    return lf.filter(pl.col(column).hash().is_in(hashes)).join(wanted.lazy(), on=column, how="semi")


def _keep_details(part: pl.DataFrame, old_details: pl.DataFrame) -> pl.DataFrame:
    """Rows from a list read carry no details: keep the details an earlier full read stored."""
    if old_details.height == 0:
        return part
    detail_cols = [
        "has_details",
        "items_minor",
        "discounts_minor",
        "shipping_minor",
        "tax_minor",
        "change_minor",
        "other_totals_minor",
        "other_totals_ids",
        "payment_method",
        "items",
        "payments",
    ]
    lacking = part.filter(~pl.col("has_details"))
    having = part.filter(pl.col("has_details"))
    if lacking.height == 0:
        return part
    filled = lacking.drop(detail_cols).join(old_details.select("order_id", *detail_cols), on="order_id", how="left")
    filled = filled.with_columns(pl.col("has_details").fill_null(False)).select(part.columns)
    return pl.concat([having, filled])
