"""The gross-versus-net report over the local order store, and its drill-down.

>>> rep = gross_vs_net_report(rk, "2026-01-01", "2026-03-31", by="month", tz="America/Sao_Paulo")  # doctest: +SKIP
>>> rep.rows                                     # one row per (period, currency), amounts in minor units
>>> report_detail(rep, "2026-02-01", "BRL")      # the orders and refunds behind one row

The definitions are :data:`~refundkit.analytics.revenue.DEFINITIONS` plus :data:`REPORT_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import InputError
from ..money import format_minor
from ..statuses import left_out
from ..timeutil import Instant, local_day_bounds, utc_now, zone
from ..version import __version__
from .engine import (
    DEFAULT_LOOKBACK_DAYS,
    REVENUE_SCHEMA,
    comparison_days,
    net_expr,
    period_labels,
    preset_days,
    read_store,
    refund_sums,
    revenue_figures,
    running_expr,
    sync_for_range,
    today_in,
    value_reading_of,
)
from .revenue import DEFINITIONS
from .sources import REFUND_COLUMNS
from .split import SPLIT_COLUMNS, UNKNOWN_TOTALS_COLUMNS
from .store import OrderStore, StoreState
from .sync import SyncResult, store_of

__all__ = [
    "COMPARE_COLUMNS",
    "CSV_COLUMNS",
    "REPORT_RULES",
    "SPLIT_CSV_COLUMNS",
    "Report",
    "ReportDetail",
    "gross_vs_net_report",
    "report_detail",
]

#: The columns of the report's CSV: amounts in major units, one per refund column of the registry, then gross and
#: refunds split by component (:data:`SPLIT_CSV_COLUMNS`).
SPLIT_CSV_COLUMNS = tuple(c.removesuffix("_minor") for c in SPLIT_COLUMNS)
CSV_COLUMNS = ("period", "currency", "orders", "gross", *(c.stem for c in REFUND_COLUMNS), "net", *SPLIT_CSV_COLUMNS)
#: The column after them: true on the period still under way (its figures are to date).
PARTIAL_COLUMN = "partial"
#: The columns a comparison (``compare=``) adds: the matching period of the comparison range, its figures, and the
#: change (absolute, and in percent of the comparison figure: blank where that is zero).
COMPARE_COLUMNS = (
    "compare_period",
    "compare_orders",
    "compare_gross",
    "gross_change",
    "gross_change_pct",
    "compare_net",
    "net_change",
    "net_change_pct",
)
_COMPARED = ("orders", "gross_minor", "net_minor")

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
* partial is true on the period still under way when the report is made (the current day, week or month in the
  report's time zone): its figures are to date. The column is there when the report holds such a period.
* A named range (range: this-month, last-month, last-quarter, ytd, last-12-months) is taken in the report's time
  zone on the day the report is made; this-month, ytd and last-12-months end today.
* A comparison (compare: previous, last-year) reads the comparison range (compare_from to compare_to) with the same
  rules and puts beside each row the figures of the period in the same position of that range, in the same
  currency: compare_period, compare_orders, compare_gross, compare_net, and the changes gross_change and net_change
  (this period minus the comparison's) and gross_change_pct and net_change_pct (the change in percent of the
  comparison's absolute value, one decimal; blank where the comparison's figure is zero). previous is the range of
  the same length just before (whole calendar months when the range starts on a month's first day); last-year the
  same days a year earlier. A period without a counterpart has blank comparison columns. The split columns are
  this period's only: a comparison compares gross and net.
* Gross split (gross_items, gross_discounts, gross_shipping, gross_tax, gross_changes, gross_other): each order's
  totals as VTEX states them by id (Items, Discounts, Shipping, Tax, Change; any other id under gross_other, named in
  the warnings), for orders synced with details whose totals add up exactly to what gross counts for them; every
  other order's gross is under gross_not_split and counted in orders_not_split. The parts and gross_not_split add up
  to gross on every row and every total.
* Refunds split (refunds_items, refunds_shipping): the VTEX return invoices whose restitution lists the returned
  items without freight are refunded items; offline refunds recorded by item and shipping are split by their lines
  (item lines under refunds_items, the shipping line under refunds_shipping; a reversal takes the same back); every
  other refund (return invoices with freight, without items or that do not say; refunds on the payment; offline
  refunds recorded by amount only) is under refunds_not_split. They add up to native_refunds + offline_refunds on
  every row.
"""


@dataclass
class Report:
    """A gross-versus-net report: :attr:`rows` (``REVENUE_SCHEMA``, amounts in minor units) plus what is needed to
    explain it: parameters, definitions, warnings, and the orders and refunds behind each row (for drill-down)."""

    rows: pl.DataFrame  # + ``partial`` when a period is under way, + COMPARE_COLUMNS' data with a comparison
    #: counted orders created in the range, with their ``period`` (in no particular order); ``None`` for a report
    #: made with ``keep_orders=False`` (its rows summed from the store without holding every order)
    orders: pl.DataFrame | None
    refunds: pl.DataFrame  # engine.REFUND_LINES_SCHEMA + ``period``: the refunds counted (in no particular order)
    left_out: pl.DataFrame  # engine.REFUND_LINES_SCHEMA: refunds of orders gross leaves out
    parameters: dict[str, Any]
    definitions: str
    warnings: list[str] = field(default_factory=list)
    sync: SyncResult | None = None

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.rows["currency"].to_list()))

    @property
    def compared(self) -> bool:
        """Whether the rows carry a comparison (:data:`COMPARE_COLUMNS`)."""
        return "compare_gross_minor" in self.rows.columns

    @property
    def running(self) -> bool:
        """Whether a row is of the period still under way: then the rows have a ``partial`` column, true on it."""
        return PARTIAL_COLUMN in self.rows.columns

    @property
    def columns(self) -> list[str]:
        """The columns of :meth:`display_rows` (and of the CSV): :data:`CSV_COLUMNS`; ``partial`` when a period is
        still under way (a report of past periods keeps exactly the machine columns); with a comparison,
        :data:`COMPARE_COLUMNS`."""
        return [*CSV_COLUMNS, *((PARTIAL_COLUMN,) if self.running else ()), *(COMPARE_COLUMNS if self.compared else ())]

    def display_rows(self) -> list[dict[str, Any]]:
        """The rows as the CSV has them (:attr:`columns`): ``period`` ISO text, amounts as exact major-unit text."""
        out, running = [], self.running
        for r in self.rows.iter_rows(named=True):
            cur = r["currency"]
            out.append(
                {
                    "period": r["period"].isoformat(),
                    "currency": cur,
                    "orders": r["orders"],
                    "gross": format_minor(r["gross_minor"], cur),
                    **{c.stem: format_minor(r[c.name], cur) for c in REFUND_COLUMNS},
                    "net": format_minor(r["net_minor"], cur),
                    **{
                        c.removesuffix("_minor"): format_minor(r[c], cur) if c.endswith("_minor") else r[c]
                        for c in SPLIT_COLUMNS
                    },
                    **({PARTIAL_COLUMN: bool(r[PARTIAL_COLUMN])} if running else {}),
                    **(_compare_display(r) if self.compared else {}),
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

    def figures(self) -> pl.DataFrame:
        """Its lines added up per currency as the report adds them: ``currency, orders, gross_minor``, each refund
        column, ``net_minor`` (minor units): the period's row, from the orders and refunds shown."""
        keys = ["currency"]
        gross = self.orders.group_by(keys).agg(
            pl.len().cast(pl.Int64).alias("orders"), pl.col("total_minor").sum().cast(pl.Int64).alias("gross_minor")
        )
        out = gross.join(self.refunds.group_by(keys).agg(refund_sums()), on=keys, how="full", coalesce=True)
        summed = ["orders", "gross_minor", *(c.name for c in REFUND_COLUMNS)]
        return (
            out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in summed)
            .with_columns(net_expr().alias("net_minor"))
            .select(*keys, *summed, "net_minor")
            .sort(keys)
        )


def _compare_display(r: dict[str, Any]) -> dict[str, Any]:
    cur = r["currency"]

    def money(name: str) -> str:
        return "" if r[name] is None else format_minor(r[name], cur)

    def pct(name: str) -> str:
        return "" if r[name] is None else f"{r[name]:.1f}"

    return {
        "compare_period": "" if r["compare_period"] is None else r["compare_period"].isoformat(),
        "compare_orders": r["compare_orders"],
        "compare_gross": money("compare_gross_minor"),
        "gross_change": money("gross_change_minor"),
        "gross_change_pct": pct("gross_change_pct"),
        "compare_net": money("compare_net_minor"),
        "net_change": money("net_change_minor"),
        "net_change_pct": pct("net_change_pct"),
    }


def compare_rows(rows: pl.DataFrame, base: pl.DataFrame, labels: list[date], base_labels: list[date]) -> pl.DataFrame:
    """``rows`` with the comparison columns: each period gets the figures of ``base`` (the comparison range's rows)
    for the period in the same position (``labels`` and ``base_labels``: the periods of each range, in order), in
    its currency, and the changes. A currency only one of the two has counts zero in the other."""
    n = min(len(labels), len(base_labels))
    pairs = pl.DataFrame(
        {"period": labels, "compare_period": base_labels[:n] + [None] * (len(labels) - n)},
        schema={"period": pl.Date(), "compare_period": pl.Date()},
    )
    theirs = base.join(pairs, left_on="period", right_on="compare_period", how="inner", suffix="_ours").select(
        pl.col("period_ours").alias("period"), "currency", *(pl.col(c).alias(f"compare_{c}") for c in _COMPARED)
    )
    keys = ["period", "currency"]
    out = rows.join(theirs, on=keys, how="full", coalesce=True).join(pairs, on="period", how="left")
    mine = [c for c in REVENUE_SCHEMA if c not in keys]
    has_base = pl.col("compare_period").is_not_null()
    out = out.with_columns(
        *(pl.col(c).fill_null(0) for c in mine),
        *(pl.when(has_base).then(pl.col(f"compare_{c}").fill_null(0)).alias(f"compare_{c}") for c in _COMPARED),
    )
    changes = []
    for stem in ("gross", "net"):
        change = pl.col(f"{stem}_minor") - pl.col(f"compare_{stem}_minor")
        base_abs = pl.col(f"compare_{stem}_minor").abs()
        changes += [
            change.alias(f"{stem}_change_minor"),
            pl.when(base_abs != 0)
            .then((change.cast(pl.Float64) * 100 / base_abs.cast(pl.Float64)).round(1))
            .alias(f"{stem}_change_pct"),
        ]
    return out.with_columns(changes).sort(keys)


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
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    preset: str | None = None,
    compare: str | None = None,
    now: Instant | None = None,
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
    """Gross versus net per (period, currency) for the local days ``start`` to ``end`` (both included) in ``tz``, or
    for the named range ``preset`` (:data:`~refundkit.analytics.engine.PRESETS`, taken on the day of ``now``, the
    clock by default). ``compare`` (``previous`` or ``last-year``) adds each period's figures in the comparison range
    and the change (:data:`COMPARE_COLUMNS`); the ``partial`` column marks the period under way at ``now``.

        ``source`` is a session (:func:`refundkit.connect`) or a client: the store is synced first (see
        :func:`~refundkit.analytics.sync.sync_orders`) and the ledger's offline refunds are read. With ``sync=False``,
        or an :class:`OrderStore` as ``source``, the report reads the store as it is and calls nobody.

    ``keep_orders=False``: the same rows and warnings, without holding every order of the range in memory (faster
    on a big store); :attr:`Report.orders` is then ``None`` and :func:`report_detail` refuses the report.
    """
    if by not in ("day", "week", "month"):
        raise InputError(f"by {by!r} is not one of day, week, month")
    view = _attribution(attribution)
    try:
        zone(tz)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    now = now or utc_now()
    if preset is not None:
        if start is not None or end is not None:
            raise InputError(f"give either the range {preset!r} or a start and an end, not both")
        first, last = preset_days(preset, today_in(tz, now))
    elif start is None or end is None:
        raise InputError("give a start and an end, or a named range such as last-month")
    else:
        first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise InputError(f"the end {last} is before the start {first}")
    base_days = None if compare is None else comparison_days(first, last, compare)
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InputError(f"currency {currency!r} is not a three-letter code such as BRL")
    cur = currency.upper() if currency else None
    if lookback_days < 0:
        raise InputError("lookback_days cannot be negative")
    lo, hi = local_day_bounds(first, last, tz)
    base_lo, base_hi = (lo, hi) if base_days is None else local_day_bounds(*base_days, tz)
    earliest = min(lo, base_lo) - timedelta(days=lookback_days)
    st = store_of(source, store)
    warnings: list[str] = []
    sync_result: SyncResult | None = None
    calls_sync = sync and not isinstance(source, OrderStore)
    if calls_sync:
        sync_result = sync_for_range(source, st, earliest, hi, details=details, refresh=refresh, progress=progress)
        warnings += sync_result.warnings
    reading, reading_source = value_reading_of(source, st)
    # without the orders, gross is summed from the files per range (unless it adds return invoices back to them)
    ranges = (
        [] if keep_orders or reading != "kept" else [(lo, hi), *([] if base_days is None else [(base_lo, base_hi)])]
    )
    # one consistent reading of the store (no sync writes meanwhile); after a sync, damaged files are set aside

    def read() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, StoreState, list[pl.DataFrame]]:
        # without the orders, those carrying totals refundkit does not know are found in the same pass
        odd = [st.scan_unknown_totals(lo, hi, UNKNOWN_TOTALS_COLUMNS)] if ranges else []
        return read_store(st, earliest, hi, refunds_since=earliest, totals=ranges, period=by, tz=tz, also=odd)

    orders, returns_df, offline, state, totals = st.repairing(read, repair=calls_sync)
    odd = None
    if ranges:  # gross summed without holding the orders: the totals refundkit does not know, found apart
        odd, totals = totals[-1], totals[:-1]
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

    options: dict[str, Any] = {
        "period": by,
        "attribution": view,
        "tz": tz,
        "currency": cur,
        "include_canceled": include_canceled,
        "include_payment_pending": include_payment_pending,
        "value_reading": reading,
    }
    figures = revenue_figures(
        orders, returns_df, offline, start=lo, end=hi, totals=_first(totals), unknown_totals=odd, **options
    )
    rows, extra = figures.rows, []
    if base_days is not None:
        base = revenue_figures(
            orders, returns_df, offline, start=base_lo, end=base_hi, totals=_first(totals[1:]), **options
        )
        rows = compare_rows(rows, base.rows, period_labels(first, last, by), period_labels(*base_days, by))
        extra = [f"comparison range {base_days[0]} to {base_days[1]}: {x}" for x in base.warnings]
    partial = rows.select(running_expr(by, tz, now)).to_series()
    if partial.any():  # a report of past periods keeps exactly its columns
        rows = rows.with_columns(partial.alias(PARTIAL_COLUMN))
    parameters: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "range": preset,
        "compare": compare,
        "compare_from": None if base_days is None else base_days[0].isoformat(),
        "compare_to": None if base_days is None else base_days[1].isoformat(),
        "by": by,
        "attribution": view.replace("_", "-"),
        "tz": tz,
        "currency": cur,
        "account": st.account,
        "include_canceled": include_canceled,
        "include_payment_pending": include_payment_pending,
        "left_out_statuses": left_out(include_canceled, include_payment_pending),
        "lookback_days": lookback_days,
        "value_reading": reading,
        "value_reading_source": reading_source,
        "generated_at": now.isoformat(0),
        "data_as_of": None if state.synced_at is None else Instant(state.synced_at).isoformat(0),
        "synced_now": calls_sync,
        "refundkit_version": __version__,
    }
    return Report(
        rows=rows,
        orders=figures.orders if keep_orders else None,  # also where gross needed them: one behaviour
        refunds=figures.refunds,
        left_out=figures.left_out,
        parameters=parameters,
        definitions=DEFINITIONS + "\n" + REPORT_RULES,
        warnings=warnings + figures.warnings + extra,
        sync=sync_result,
    )


def _first(frames: list[pl.DataFrame]) -> pl.DataFrame | None:
    return frames[0] if frames else None


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
        raise InputError("this report was made without its orders: make it again with them to see a period")
    orders = report.orders.filter(pl.col("period") == day).sort("created_at", "order_id")
    refunds = report.refunds.filter(pl.col("period") == day).sort("attributed_at", "refund_id")
    if cur is not None:
        orders = orders.filter(pl.col("currency") == cur)
        refunds = refunds.filter(pl.col("currency") == cur)
    return ReportDetail(day, cur, orders, refunds)
