"""The local order store: an account's orders, return invoices and offline refunds as plain Parquet files.

Layout, under ``REFUNDKIT_CACHE_DIR`` (default ``~/.cache/refundkit``)::

    store/{account}/orders/month=YYYY-MM/data.parquet            one row per order, by month of creation (UTC)
    store/{account}/return_invoices/month=YYYY-MM/data.parquet   VTEX-native refunds, by their order's month
    store/{account}/offline_refunds/month=YYYY-MM/data.parquet   ledger entries, by month of refunded-at (UTC)
    store/{account}/state.json                                   what was synced when (coverage of creation dates)

Every file is written to a temporary name in its folder, flushed to disk and moved over the old one with
``os.replace``, which is atomic: a crash or Ctrl-C while syncing leaves each file either as it was or as it is
meant to be, never half written. The state file is written last, so what it claims is always on disk.

Money is ``Int64`` minor units next to ``currency``; timestamps ``Datetime("ns", "UTC")`` (exact to VTEX's 100 ns).
DuckDB, Spark or any Parquet reader reads the folders as they are (``hive_partitioning``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputError
from ..ledger.model import LedgerEntry
from ..timeutil import Instant
from ..vtex.models import Order, OrderSummary
from .frames import NATIVE_REFUNDS_SCHEMA, REFUNDS_SCHEMA, UTC_NS, native_rows, refunds_frame


def _ts(instant: Instant) -> pl.Expr:
    """An instant as a literal of the frames' timestamp type (so Parquet statistics can skip row groups)."""
    return pl.lit(instant.ns, dtype=pl.Int64).cast(UTC_NS)


__all__ = [
    "ITEM_TYPE",
    "PAYMENT_TYPE",
    "STORE_ORDERS_SCHEMA",
    "OrderStore",
    "StoreState",
    "order_row",
    "summary_row",
]

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
_MONTH_RE = re.compile(r"^month=(\d{4}-\d{2})$")
STATE_VERSION = 1

ITEM_TYPE = pl.Struct({"sku": pl.String(), "name": pl.String(), "quantity": pl.Int64(), "unit_price_minor": pl.Int64()})
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
    "payment_method": pl.String(),  # details only: the main payment's method (largest value)
    "items": pl.List(ITEM_TYPE),
    "payments": pl.List(PAYMENT_TYPE),
}

_STORE_REFUNDS_SCHEMA = {k: v for k, v in REFUNDS_SCHEMA.items() if k != "reversed_refunded_at"}


def _month_of(ns: int) -> str:
    return Instant(ns).to_datetime().strftime("%Y-%m")


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
        "payment_method": None,
        "items": None,
        "payments": None,
    }


def order_row(o: Order, read_at: Instant) -> dict[str, Any]:
    """A store row from a full order, with its details."""
    main = max(o.payments, key=lambda p: p.value.minor, default=None)
    totals = {k: v.minor for k, v in o.totals.items()}
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
        "items_minor": totals.get("Items", 0),
        "discounts_minor": totals.get("Discounts", 0),
        "shipping_minor": totals.get("Shipping", 0),
        "tax_minor": totals.get("Tax", 0),
        "payment_method": main.method if main else None,
        "items": [
            {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price_minor": i.unit_price.minor}
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
    """VTEX's refunds of the given full orders, one row each (see :func:`refundkit.analytics.frames.native_rows`)."""
    return _frame(native_rows(orders), NATIVE_REFUNDS_SCHEMA)


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

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "coverage": [list(c) for c in self.coverage],
            "synced_at": self.synced_at,
            "refunds_from": self.refunds_from,
            "refunds_synced_at": self.refunds_synced_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoreState:
        return cls(
            coverage=[(int(a), int(b)) for a, b in data.get("coverage") or []],
            synced_at=data.get("synced_at"),
            refunds_from=data.get("refunds_from"),
            refunds_synced_at=data.get("refunds_synced_at"),
        )


# -- the store -----------------------------------------------------------------------------------------------------
def _atomic_write(path: Path, write: Any) -> None:
    """Write via ``write(fileobj)`` to a temporary file next to ``path``, fsync it, then ``os.replace`` it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class OrderStore:
    """One account's store folder. Reading is safe while another process syncs (files are replaced whole)."""

    TABLES = ("orders", "return_invoices", "offline_refunds")

    def __init__(self, root: Path | str, account: str) -> None:
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            raise InputError(f"{account!r} is not a VTEX account name")
        self.account = account
        self.path = Path(root).expanduser() / account

    @classmethod
    def for_settings(cls, settings: Any) -> OrderStore:
        """The store of the configured account, under ``settings.cache_dir / "store"``."""
        return cls(Path(settings.cache_dir) / "store", settings.account)

    def __repr__(self) -> str:
        return f"OrderStore({str(self.path)!r})"

    # -- state ----------------------------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    def state(self) -> StoreState:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return StoreState()
        except (OSError, ValueError) as exc:
            raise InputError(
                f"the store's state file {self.state_path} is unreadable ({exc}); delete the folder "
                f"{self.path} to rebuild the store from VTEX"
            ) from None
        return StoreState.from_json(data)

    def save_state(self, state: StoreState) -> None:
        text = json.dumps(state.to_json(), indent=1).encode("utf-8")
        _atomic_write(self.state_path, lambda f: f.write(text))

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
            "return_invoices": NATIVE_REFUNDS_SCHEMA,
            "offline_refunds": _STORE_REFUNDS_SCHEMA,
        }[table]

    def read_month(self, table: str, month: str) -> pl.DataFrame:
        path = self._file(table, month)
        if not path.exists():
            return pl.DataFrame(schema=self._schema(table))
        return pl.read_parquet(path)

    def write_month(self, table: str, month: str, df: pl.DataFrame) -> None:
        """Replace one month's file atomically (an empty frame removes nothing: it writes an empty file)."""
        schema = self._schema(table)
        df = df.select([pl.col(c).cast(t) for c, t in schema.items()])
        _atomic_write(self._file(table, month), lambda f: df.write_parquet(f, compression="zstd", statistics=True))

    def scan(self, table: str, columns: Sequence[str] | None = None) -> pl.LazyFrame:
        """All months of a table as one lazy frame (without the ``month`` folder column)."""
        files = [str(self._file(table, m)) for m in self.months(table)]
        schema = self._schema(table)
        lf = pl.scan_parquet(files, hive_partitioning=False) if files else pl.LazyFrame(schema=schema)
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
        lf = self.scan("orders")
        if order_ids is not None:
            lf = lf.filter(pl.col("order_id").is_in(list(order_ids)))
        if start is not None:
            lf = lf.filter(pl.col("created_at") >= _ts(start))
        if end is not None:
            lf = lf.filter(pl.col("created_at") < _ts(end))
        if columns:
            lf = lf.select(list(columns))
        return lf.collect()

    def return_invoices(self, order_ids: Iterable[str] | None = None) -> pl.DataFrame:
        lf = self.scan("return_invoices")
        if order_ids is not None:
            lf = lf.filter(pl.col("order_id").is_in(list(order_ids)))
        return lf.collect()

    def offline_refunds(self) -> pl.DataFrame:
        """The stored ledger entries, with ``reversed_refunded_at`` filled in from the refunds they reverse."""
        df = self.scan("offline_refunds").collect()
        dates = df.filter(pl.col("kind") == "refund").select(
            pl.col("entry_id").alias("reverses"), pl.col("refunded_at").alias("reversed_refunded_at")
        )
        out = df.join(dates, on="reverses", how="left")
        return out.select([pl.col(c).cast(t) for c, t in REFUNDS_SCHEMA.items()])

    # -- writing --------------------------------------------------------------------------------------------------
    def upsert_orders(self, rows: pl.DataFrame, returns: pl.DataFrame | None = None) -> list[str]:
        """Merge order rows (newer replaces older by ``order_id``; a list row never erases synced details) and,
        for the orders read in full, replace their return invoices. Returns the months written.

        For each month the return invoices are written before the orders: an interruption in between leaves the
        order rows naming invoices the next sync reads again, never rows that hide invoices."""
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
                    old_ri = self.read_month("return_invoices", month)
                    new_ri = returns.filter(pl.col("order_id").is_in(month_full))
                    merged_ri = pl.concat([old_ri.filter(~pl.col("order_id").is_in(month_full)), new_ri])
                    self.write_month("return_invoices", month, merged_ri.sort("order_created_at", "order_id"))
            old = self.read_month("orders", month)
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
        stored = self.months("offline_refunds")
        months = set(by_month) | {m for m in stored if cut is None or m >= cut}
        written = []
        for month in sorted(months):
            old = self.read_month("offline_refunds", month)
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
        for tmp in self.path.glob("*/month=*/.tmp-*.part"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime >= older_than_s:
                    tmp.unlink()
                    removed += 1
        return removed

    def iter_files(self) -> Iterator[Path]:
        for table in self.TABLES:
            for m in self.months(table):
                yield self._file(table, m)


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
