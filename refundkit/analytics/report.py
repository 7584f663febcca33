"""The gross-versus-net report over the local order store, and its drill-down.

>>> rep = gross_vs_net_report(rk, "2026-01-01", "2026-03-31", by="month", tz="America/Sao_Paulo")  # doctest: +SKIP
>>> rep.rows                                     # one row per (period, currency), amounts in minor units
>>> report_detail(rep, "2026-02-01", "BRL")      # the orders and refunds behind one row

The definitions are :data:`~refundkit.analytics.revenue.DEFINITIONS` plus :data:`REPORT_RULES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputError
from ..ledger.valueverdict import value_reading
from ..money import format_minor, format_money
from ..statuses import left_out as left_out_statuses
from ..statuses import left_out_phrase, unknown_counts, unknown_statuses_line
from ..timeutil import Instant, local_day_bounds, utc_now, zone
from ..version import __version__
from .frames import UTC_NS, charged_totals
from .revenue import (
    DEFINITIONS,
    REVENUE_SCHEMA,
    _fill_gaps,
    _period_expr,
)
from .store import OrderStore, StoreState, _ts, with_ids
from .sync import SyncResult, store_of, sync_orders

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_LOOKBACK_DAYS",
    "REFUND_LINES_SCHEMA",
    "REPORT_RULES",
    "Report",
    "ReportDetail",
    "gross_vs_net_report",
    "report_detail",
    "report_from_frames",
]

DEFAULT_LOOKBACK_DAYS = 180
CSV_COLUMNS = ("period", "currency", "orders", "gross", "native_refunds", "offline_refunds", "net")

REPORT_RULES = """\
Rules of the report (refundkit report)

* One row per (period, currency); currencies are never added together.
* period is the ISO date of the period's first local day in the report's time zone; weeks start on Monday. A first
  period that begins before the report's first day keeps its own first day as its label and holds only what falls
  inside the range (so does a last period that ends after the report's last day).
* orders is the number of orders counted in gross that were created in the period. Amounts are in major units with
  the currency's decimals.
* Gross leaves out canceled and payment-pending orders (report options) and orders that were never a sale; an order
  whose status refundkit does not know is counted and named in the warnings. Refunds of the orders gross leaves
  out are left out of both views and reported as a warning, so that over an order's whole history the two views
  agree.
* In the refund-date view, refunds of orders created before the report's first day count in the period of their own
  date; the report looks back for such orders (180 days by default).
* Gross starts from what each order was charged. Where `refundkit doctor` found that VTEX's order value already
  excludes the returned amount (parameter value_reading "reduced"), gross adds the order's return invoices back to
  that value, so each return is subtracted once, as a VTEX refund; otherwise (value_reading "kept", also the
  assumption when no verdict is saved) the value is taken as charged.
"""

#: One row per refund behind a report: return invoices (VTEX), offline refunds and reversals (the ledger).
REFUND_LINES_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # "return_invoice" | "refund" | "reversal"
    "refund_id": pl.String(),  # invoice number, or ledger entry id
    "order_id": pl.String(),
    "order_created_at": UTC_NS,
    "order_status": pl.String(),
    "currency": pl.String(),
    "amount_minor": pl.Int64(),  # what it adds to refunds: a reversal is negative
    "refunded_at": UTC_NS,  # issuance date (a return invoice without one: its order's creation), refunded-at
    "attributed_at": UTC_NS,  # the date that places it in a period in this report's view
    "source": pl.String(),  # "vtex" for a return invoice; the ledger's source otherwise
    "reference": pl.String(),  # the invoice number, or the external reference
    "reason": pl.String(),
    "reverses": pl.String(),
    "column": pl.String(),  # "native_refunds" | "offline_refunds"
}


@dataclass
class Report:
    """A gross-versus-net report: :attr:`rows` (``REVENUE_SCHEMA``, amounts in minor units) plus what is needed to
    explain it: parameters, definitions, warnings, and the orders and refunds behind each row (for drill-down)."""

    rows: pl.DataFrame
    #: counted orders created in the range, with their ``period`` (in no particular order); ``None`` for a report
    #: made with ``keep_orders=False`` (its rows computed from the store without holding every order)
    orders: pl.DataFrame | None
    refunds: pl.DataFrame  # REFUND_LINES_SCHEMA + ``period``: the refunds counted (unsorted without orders)
    left_out: pl.DataFrame  # REFUND_LINES_SCHEMA: refunds of orders gross leaves out
    parameters: dict[str, Any]
    definitions: str
    warnings: list[str] = field(default_factory=list)
    sync: SyncResult | None = None

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.rows["currency"].to_list()))

    def display_rows(self) -> list[dict[str, Any]]:
        """The rows as the CSV has them: ``period`` ISO text, amounts as exact major-unit text."""
        out = []
        for r in self.rows.iter_rows(named=True):
            cur = r["currency"]
            out.append(
                {
                    "period": r["period"].isoformat(),
                    "currency": cur,
                    "orders": r["orders"],
                    "gross": format_minor(r["gross_minor"], cur),
                    "native_refunds": format_minor(r["native_refunds_minor"], cur),
                    "offline_refunds": format_minor(r["offline_refunds_minor"], cur),
                    "net": format_minor(r["net_minor"], cur),
                }
            )
        return out


@dataclass
class ReportDetail:
    """The orders and refunds behind one report row (or one period across currencies)."""

    period: date
    currency: str | None
    orders: pl.DataFrame
    refunds: pl.DataFrame

    def display_orders(self, tz: str = "UTC") -> list[dict[str, Any]]:
        return [
            {
                "order_id": r["order_id"],
                "created_at": _local(r["created_at"], tz),
                "status": r["status"],
                "currency": r["currency"],
                "total": format_minor(r["total_minor"], r["currency"]),
            }
            for r in self.orders.iter_rows(named=True)
        ]

    def display_refunds(self, tz: str = "UTC") -> list[dict[str, Any]]:
        return [
            {
                "kind": r["kind"],
                "refund_id": r["refund_id"],
                "order_id": r["order_id"],
                "order_created_at": _local(r["order_created_at"], tz),
                "order_status": r["order_status"] or "",
                "refunded_at": _local(r["refunded_at"], tz),
                "currency": r["currency"],
                "amount": format_minor(r["amount_minor"], r["currency"]),
                "column": r["column"],
                "source": r["source"],
                "reference": r["reference"],
                "reason": r["reason"],
            }
            for r in self.refunds.iter_rows(named=True)
        ]


def _local(value: Any, tz: str) -> str:
    if value is None:
        return ""
    return str(Instant.from_datetime(value).in_zone(tz).isoformat(0))


def _day(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date: use YYYY-MM-DD") from None


def _attribution(value: str) -> str:
    norm = str(value).replace("-", "_")
    if norm not in ("refund_date", "order_date"):
        raise InputError(f"attribution {value!r} is not one of refund-date, order-date")
    return norm


def gross_vs_net_report(
    source: Any,
    start: date | str,
    end: date | str,
    *,
    by: str = "day",
    attribution: str = "refund_date",
    tz: str = "UTC",
    currency: str | None = None,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    sync: bool = True,
    refresh: bool = False,
    details: bool = False,
    store: OrderStore | None = None,
    progress: bool | None = None,
    keep_orders: bool = True,
) -> Report:
    """Gross versus net per (period, currency) for the local days ``start`` to ``end`` (both included) in ``tz``.

    ``source`` is a session (:func:`refundkit.connect`) or a client: the store is synced first (see
    :func:`~refundkit.analytics.sync.sync_orders`) and the ledger's offline refunds are read. With ``sync=False``,
    or an :class:`OrderStore` as ``source``, the report reads the store as it is and calls nobody.

    ``keep_orders=False``: the same rows and warnings, computed from the store without holding every order in
    memory (faster on a big store); :attr:`Report.orders` is then ``None`` and :func:`report_detail` refuses.
    """
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise InputError(f"the end {last} is before the start {first}")
    if by not in ("day", "week", "month"):
        raise InputError(f"by {by!r} is not one of day, week, month")
    view = _attribution(attribution)
    try:
        zone(tz)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InputError(f"currency {currency!r} is not a three-letter code such as BRL")
    cur = currency.upper() if currency else None
    if lookback_days < 0:
        raise InputError("lookback_days cannot be negative")
    lo, hi = local_day_bounds(first, last, tz)
    earliest = lo - timedelta(days=lookback_days)
    st = store_of(source, store)
    warnings: list[str] = []
    sync_result: SyncResult | None = None
    calls_sync = sync and not isinstance(source, OrderStore)
    if calls_sync:
        sync_result = _sync_for_report(source, st, earliest, hi, details=details, refresh=refresh, progress=progress)
        warnings += sync_result.warnings
    reading, reading_source = value_reading_of(source, st)
    # totals straight from the store's files unless the orders are kept, or gross adds return invoices back to them
    totals_by = None if keep_orders or reading != "kept" else (by, tz, lo)
    # one consistent reading of the store (no sync writes meanwhile); after a sync, damaged files are set aside
    orders, returns_df, offline, state, totals = st.repairing(
        lambda: _read_store(st, earliest, hi, totals_by), repair=calls_sync
    )
    warnings += [n for n in st.notices if n not in warnings]
    if not calls_sync:
        gaps = state.gaps(earliest.ns, min(hi.ns, (state.synced_at or hi.ns)))
        if state.synced_at is None:
            warnings.append(f"the store at {st.path} has never been synced: run `refundkit sync` first")
        elif gaps:
            warnings.append(
                "the store has not synced orders created from "
                + ", ".join(f"{Instant(a).isoformat(0)} to {Instant(b).isoformat(0)}" for a, b in gaps[:3])
                + ("…" if len(gaps) > 3 else "")
                + ": the report lacks them"
            )

    report = report_from_frames(
        orders,
        returns_df,
        offline,
        first,
        last,
        by=by,
        attribution=view,
        tz=tz,
        currency=cur,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
        lookback_days=lookback_days,
        value_reading=reading,
        order_totals=totals,
    )
    report.parameters.update(
        value_reading_source=reading_source,
        account=st.account,
        data_as_of=None if state.synced_at is None else Instant(state.synced_at).isoformat(0),
        synced_now=calls_sync,
    )
    report.warnings[:0] = warnings
    report.sync = sync_result
    if not keep_orders:
        report.orders = None  # also where gross needed them (value_reading "reduced"): one behaviour to rely on
    return report


def value_reading_of(source: Any, st: OrderStore) -> tuple[str, str]:
    """How VTEX's order value reads after a return invoice on the store's account, and where that comes from: the
    verdict `refundkit doctor` saved under the cache dir of ``source``'s settings (or the store's own), else kept."""
    settings = getattr(getattr(source, "client", source), "settings", None)
    cache_dir = Path(settings.cache_dir) if settings is not None else st.path.parent.parent
    return value_reading(cache_dir, st.account)


_ORDER_COLUMNS = ["order_id", "created_at", "status", "currency", "total_minor"]


def _read_store(
    st: OrderStore, earliest: Instant, hi: Instant, totals_by: tuple[str, str, Instant] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, StoreState, pl.DataFrame | None]:
    """What the report needs from the store: orders created in ``[earliest, hi)`` and those older ones that offline
    refunds name, their return invoices, the offline refunds since ``earliest``, and the state. Call it inside
    ``st.reading()``.

    With ``totals_by`` (``by, tz, lo``): the orders are only those the refunds name, and the last item is
    :func:`_order_totals` of the orders created in ``[lo, hi)``, computed from the files in one pass."""
    # offline refunds dated since the look-back began (a reversal: or the refund it undoes); on orders the window
    # does not hold (older), those orders are read by id. Joins build on the small side (refunded orders).
    offline = st.offline_refunds().filter(
        (pl.col("refunded_at") >= _ts(earliest)) | (pl.col("reversed_refunded_at") >= _ts(earliest))
    )
    refunded = offline.select("order_id").unique()
    returns_lf = st.scan("return_invoices", start=earliest, end=hi)
    window = st.scan("orders", _ORDER_COLUMNS, start=earliest, end=hi)
    totals = None
    if totals_by is None:
        orders = st.collect(window, "orders")
        returns = st.collect(returns_lf, "return_invoices")
    else:
        by, tz, lo = totals_by
        returns = st.collect(returns_lf, "return_invoices")
        named = pl.concat([returns["order_id"], refunded["order_id"]])
        orders, totals = st.collect_all(
            [
                with_ids(window, named),
                _order_totals(window.filter(pl.col("created_at") >= _ts(lo)), _period_expr("created_at", by, tz)),
            ],
            "orders",
        )
    held = orders.join(refunded, on="order_id", how="semi").select("order_id")
    missing = refunded.join(held, on="order_id", how="anti")["order_id"].to_list()
    if missing:
        older = st.orders(order_ids=missing, columns=orders.columns)
        orders = pl.concat([orders, older])
        older_returns = st.scan("return_invoices").filter(pl.col("order_id").is_in(missing))
        returns = pl.concat([returns, st.collect(older_returns, "return_invoices")])
    return orders, returns, offline, st.state(), totals


def _order_totals(orders: pl.LazyFrame, period: pl.Expr) -> pl.LazyFrame:
    """Orders and their totals per (period, currency, status): what gross is summed from."""
    return orders.group_by(period.alias("period"), "currency", "status").agg(
        pl.len().cast(pl.Int64).alias("orders"), pl.col("total_minor").sum().cast(pl.Int64).alias("gross_minor")
    )


def report_from_frames(
    orders: pl.DataFrame,
    return_invoices: pl.DataFrame,
    offline_refunds: pl.DataFrame,
    start: date | str,
    end: date | str,
    *,
    by: str = "day",
    attribution: str = "refund_date",
    tz: str = "UTC",
    currency: str | None = None,
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    value_reading: str = "kept",
    order_totals: pl.DataFrame | None = None,
) -> Report:
    """The report's figures from frames, without the store: ``orders`` (at least ``order_id, created_at, status,
    currency, total_minor``, every order the refunds name that is known), ``return_invoices``
    (:data:`~refundkit.analytics.frames.NATIVE_REFUNDS_SCHEMA`) and ``offline_refunds``
    (:data:`~refundkit.analytics.frames.REFUNDS_SCHEMA`). Same rules as :func:`gross_vs_net_report`.
    ``value_reading``: how ``total_minor`` reads after a return invoice (see
    :func:`~refundkit.analytics.frames.charged_totals`).

    ``order_totals``: gross already summed per (period, currency, status) over the orders created in the range
    (:func:`_order_totals`, as charged); ``orders`` then need only hold the orders the refunds name, and the
    report keeps no orders (:attr:`Report.orders` is ``None``)."""
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise InputError(f"the end {last} is before the start {first}")
    if by not in ("day", "week", "month"):
        raise InputError(f"by {by!r} is not one of day, week, month")
    view = _attribution(attribution)
    try:
        zone(tz)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    cur = currency.upper() if currency else None
    lo, hi = local_day_bounds(first, last, tz)
    warnings: list[str] = []
    excluded = left_out_statuses(include_canceled, include_payment_pending)
    orders = charged_totals(orders, return_invoices, value_reading)
    lines = _refund_lines(orders, return_invoices, offline_refunds, view)
    status_of_unknown = lines.filter(pl.col("order_status").is_null())
    if status_of_unknown.height:
        warnings.append(
            f"{status_of_unknown.height:,} offline refunds are on orders the store does not hold (older than what "
            "VTEX serves?): counted by their refund date only, their order's status unchecked"
        )
    left_out = lines.filter(pl.col("order_status").is_in(excluded))
    lines = lines.filter(~pl.col("order_status").is_in(excluded) | pl.col("order_status").is_null())

    counted = orders.filter(
        ~pl.col("status").is_in(excluded) & (pl.col("created_at") >= _ts(lo)) & (pl.col("created_at") < _ts(hi))
    )
    if order_totals is None:
        counted = counted.with_columns(_period_expr("created_at", by, tz).alias("period"))
        totals = _order_totals(counted.lazy(), pl.col("period")).collect()
    else:
        totals = order_totals.filter(~pl.col("status").is_in(excluded))
    if view == "refund_date":
        in_range = lines.filter((pl.col("attributed_at") >= _ts(lo)) & (pl.col("attributed_at") < _ts(hi)))
    else:
        # the refunds of the counted orders: known, not left out (filtered above) and created in the range
        in_range = lines.filter((pl.col("order_created_at") >= _ts(lo)) & (pl.col("order_created_at") < _ts(hi)))
    if cur:
        counted = counted.filter(pl.col("currency") == cur)
        totals = totals.filter(pl.col("currency") == cur)
        in_range = in_range.filter(pl.col("currency") == cur)
        left_out = left_out.filter(pl.col("currency") == cur)
    unknown = unknown_statuses_line(_status_counts(totals), "in this report")
    if unknown:
        warnings.append(unknown)
    in_range = in_range.with_columns(_period_expr("attributed_at", by, tz).alias("period"))
    if view == "refund_date":
        left_in_range = left_out.filter((pl.col("attributed_at") >= _ts(lo)) & (pl.col("attributed_at") < _ts(hi)))
    else:
        left_in_range = left_out.filter(
            (pl.col("order_created_at") >= _ts(lo)) & (pl.col("order_created_at") < _ts(hi))
        )
    if left_in_range.height:
        parts = [
            f"{r['n']:,} for {format_money(r['minor'], r['currency'])}"
            for r in left_in_range.group_by("currency")
            .agg(pl.len().alias("n"), pl.col("amount_minor").sum().alias("minor"))
            .sort("currency")
            .iter_rows(named=True)
        ]
        warnings.append(
            f"refunds of orders gross leaves out ({left_out_phrase(include_canceled, include_payment_pending)}) are "
            "left out of both views: " + "; ".join(parts)
        )

    rows = _aggregate(totals, in_range, by=by, tz=tz, lo=lo, hi=hi)
    version = _version()
    parameters: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "attribution": view.replace("_", "-"),
        "tz": tz,
        "currency": cur,
        "account": None,
        "include_canceled": include_canceled,
        "include_payment_pending": include_payment_pending,
        "left_out_statuses": excluded,
        "lookback_days": lookback_days,
        "value_reading": value_reading,
        "value_reading_source": "",
        "generated_at": utc_now().isoformat(0),
        "data_as_of": None,
        "synced_now": False,
        "refundkit_version": version,
    }
    return Report(
        rows=rows,
        orders=counted if order_totals is None else None,
        refunds=in_range.sort("attributed_at", "refund_id") if order_totals is None else in_range,
        left_out=left_in_range,
        parameters=parameters,
        definitions=DEFINITIONS + "\n" + REPORT_RULES,
        warnings=warnings,
    )


def _status_counts(orders: pl.DataFrame) -> dict[str, int]:
    """The orders of each status refundkit does not know (see :mod:`refundkit.statuses`); ``orders`` has one row
    per order, or is :func:`_order_totals` (a count of orders per row)."""
    n = pl.col("orders").sum() if "orders" in orders.columns else pl.len()
    counts = orders.group_by("status").agg(n.alias("n"))
    return unknown_counts(dict(zip(counts["status"].to_list(), counts["n"].to_list(), strict=True)))


def _version() -> str:
    return __version__


def _sync_for_report(
    source: Any, st: OrderStore, earliest: Instant, hi: Instant, *, details: bool, refresh: bool, progress: bool | None
) -> SyncResult:
    """Read the ledger's offline refunds since ``earliest`` into the store, then sync the orders they and the
    report need."""
    ledger = getattr(source, "ledger", None)
    client = getattr(source, "client", source)
    if ledger is None:
        from ..ledger import Ledger

        ledger = Ledger(client)

    def read_ledger() -> list[Any]:
        entries = list(ledger.entries(start=earliest))
        known = {e.entry_id for e in entries}
        for order_id in sorted({e.order_id for e in entries if e.reverses and e.reverses not in known}):
            for e in ledger.entries(order_id=order_id):
                if e.entry_id not in known:
                    entries.append(e)
                    known.add(e.entry_id)
        return entries

    # the ledger is read while the orders are checked: both are a few calls that wait on VTEX
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(read_ledger)
        result = sync_orders(
            source,
            earliest,
            hi,
            details=details,
            refresh=refresh,
            store=st,
            progress=progress,
            also_orders=lambda: {e.order_id for e in reading.result()},
        )
        entries = reading.result()
    st.replace_offline_refunds(entries, since=earliest)
    return result


def _refund_lines(orders: pl.DataFrame, returns: pl.DataFrame, offline: pl.DataFrame, view: str) -> pl.DataFrame:
    # only the orders that have refunds: a semi join against the (small) set of their ids is cheap on a big store
    # (and pointless when the orders are no more than the refunds, such as those a lean report read by id)
    if orders.height > returns.height + offline.height:
        ids = pl.concat([returns.select("order_id"), offline.select("order_id")]).unique()
        orders = orders.join(ids, on="order_id", how="semi")
    info = orders.select(
        "order_id", pl.col("created_at").alias("order_created_at"), pl.col("status").alias("order_status")
    )
    native = returns.join(info.drop("order_created_at"), on="order_id", how="left").select(
        pl.lit("return_invoice").alias("kind"),
        pl.col("invoice_number").alias("refund_id"),
        "order_id",
        pl.col("order_created_at").cast(UTC_NS),
        "order_status",
        "currency",
        pl.col("amount_minor"),
        pl.coalesce("issued_at", "order_created_at").cast(UTC_NS).alias("refunded_at"),
        pl.lit("vtex").alias("source"),
        pl.col("invoice_number").alias("reference"),
        pl.lit("").alias("reason"),
        pl.lit(None, dtype=pl.String).alias("reverses"),
        pl.lit("native_refunds").alias("column"),
    )
    ledger = offline.join(info, on="order_id", how="left").select(
        "kind",
        pl.col("entry_id").alias("refund_id"),
        "order_id",
        pl.col("order_created_at").cast(UTC_NS),
        "order_status",
        "currency",
        pl.col("signed_minor").alias("amount_minor"),
        pl.col("refunded_at").cast(UTC_NS),
        "source",
        pl.col("external_ref").alias("reference"),
        "reason",
        "reverses",
        pl.lit("offline_refunds").alias("column"),
        pl.coalesce("reversed_refunded_at", "refunded_at").cast(UTC_NS).alias("_cash_at"),
    )
    if view == "refund_date":
        native = native.with_columns(pl.col("refunded_at").alias("attributed_at"))
        ledger = ledger.with_columns(pl.col("_cash_at").alias("attributed_at"))
    else:
        native = native.with_columns(pl.col("order_created_at").alias("attributed_at"))
        ledger = ledger.with_columns(pl.col("order_created_at").alias("attributed_at"))
    ledger = ledger.drop("_cash_at")
    cols = list(REFUND_LINES_SCHEMA)
    out = pl.concat([native.select(cols), ledger.select(cols)])
    return out.select([pl.col(c).cast(t) for c, t in REFUND_LINES_SCHEMA.items()])


def _aggregate(
    totals: pl.DataFrame, refunds: pl.DataFrame, *, by: str, tz: str, lo: Instant, hi: Instant
) -> pl.DataFrame:
    keys = ["period", "currency"]
    gross = totals.group_by(keys).agg(
        pl.col("orders").sum().cast(pl.Int64).alias("orders"),
        pl.col("gross_minor").sum().cast(pl.Int64).alias("gross_minor"),
    )
    ref = refunds.group_by(keys).agg(
        pl.col("amount_minor")
        .filter(pl.col("column") == "native_refunds")
        .sum()
        .cast(pl.Int64)
        .alias("native_refunds_minor"),
        pl.col("amount_minor")
        .filter(pl.col("column") == "offline_refunds")
        .sum()
        .cast(pl.Int64)
        .alias("offline_refunds_minor"),
    )
    out = gross.join(ref, on=keys, how="full", coalesce=True)
    if out.height:
        out = _fill_gaps(out, by, tz, lo, hi)
    out = out.with_columns(
        pl.col(c).fill_null(0) for c in ("orders", "gross_minor", "native_refunds_minor", "offline_refunds_minor")
    ).with_columns(
        (pl.col("gross_minor") - pl.col("native_refunds_minor") - pl.col("offline_refunds_minor")).alias("net_minor")
    )
    if not out.height:
        return pl.DataFrame(schema=REVENUE_SCHEMA)
    return out.select([pl.col(c).cast(t) for c, t in REVENUE_SCHEMA.items()]).sort("period", "currency")


def report_detail(report: Report, period: date | str, currency: str | None = None) -> ReportDetail:
    """The orders and refunds behind the row ``(period, currency)`` of ``report`` (every currency when ``None``).

    ``period`` is a row's label (its first day). Orders are those counted in gross; refunds those counted in the
    refund columns, with their source, reference and reason.
    """
    day = _day(period, "period")
    labels = sorted(set(report.rows["period"].to_list()))
    if day not in labels:
        shown = ", ".join(d.isoformat() for d in labels[:6]) + (", …" if len(labels) > 6 else "")
        raise InputError(f"{day} is not a period of this report; its periods are {shown or 'none'}")
    cur = currency.upper() if currency else None
    if cur is not None and cur not in report.currencies:
        raise InputError(f"this report has no {cur}; its currencies are {', '.join(report.currencies) or 'none'}")
    if report.orders is None:
        raise InputError("this report was made without its orders (keep_orders=False): make it again to see a period")
    orders = report.orders.filter(pl.col("period") == day).sort("created_at", "order_id")
    refunds = report.refunds.filter(pl.col("period") == day)
    if cur is not None:
        orders = orders.filter(pl.col("currency") == cur)
        refunds = refunds.filter(pl.col("currency") == cur)
    return ReportDetail(day, cur, orders, refunds)


def periods_of(report: Report) -> Sequence[date]:
    return sorted(set(report.rows["period"].to_list()))
