"""Statuses end to end, against the sandbox over loopback: every documented status takes its place in gross (the one
table, refundkit.statuses), an order of a status nobody documents is listed, counted and named with its count, and
the sync notices an order moving into or out of any place gross leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import refundkit
from refundkit.analytics import gross_vs_net_report, orders_by_status, orders_frame
from refundkit.analytics.trenddata import trend_data
from refundkit.config import load_settings
from refundkit.testing import check_nothing_moved
from refundkit.timeutil import parse_instant
from refundkit.vtex.oms import ListReport

STORE = {"orders": 500, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30", "seed": 11}
START, END = parse_instant("2026-02-20T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")
NEVER_COUNTED = {"order-create-error", "order-creation-error", "replaced"}
NOT_PAID = {"approve-payment", "waiting-for-order-authorization", "order-created", "payment-pending"}


@pytest.fixture
def session(tmp_path: Path) -> Iterator[refundkit.Session]:
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(tmp_path / "cache")}, env_file=False)
    s = refundkit.connect(settings=settings, sandbox_options={**STORE, "rare_statuses": 2, "unknown_statuses": 6})
    yield s
    sb = s.sandbox
    s.close()
    assert sb is not None
    check_nothing_moved(sb)


def ids(sb: refundkit.Session, *statuses: str) -> set[str]:
    assert sb.sandbox is not None
    return {o.order_id for o in sb.sandbox.store.orders if o.status in statuses}


def test_a_listing_keeps_every_order_and_names_the_unknown_status_with_its_count(session: refundkit.Session) -> None:
    report = ListReport()
    listed = session.client.orders.list(START, END, report=report)
    assert session.sandbox is not None
    assert len(listed) == len(session.sandbox.store)  # nothing dropped, whatever its status
    assert {o.order_id for o in listed if o.status == "awaiting-review"} == ids(session, "awaiting-review")
    assert report.set_aside_count == 0
    assert report.unknown_status_counts() == {"awaiting-review": 6}
    [line] = [w for w in report.warnings() if "does not know" in w]
    assert "6 order(s) listed" in line and "'awaiting-review': 6" in line and "counted in gross" in line
    # the overview notebook's table gives each status its place
    places = dict(orders_by_status(orders_frame(listed)).select("status", "place").unique().iter_rows())
    assert places["awaiting-review"] == "unknown" and places["invoice-after-cancellation-deny"] == "counted"
    assert places["approve-payment"] == "payment-pending" and places["order-create-error"] == "never-a-sale"


def test_the_report_counts_sales_and_unknown_statuses_leaves_out_the_rest_and_names_the_unknown(
    session: refundkit.Session,
) -> None:
    rep = gross_vs_net_report(session, "2026-02-20", "2026-04-30", by="month", progress=False)
    counted = set(rep.orders["order_id"].to_list())
    assert ids(session, "invoice-after-cancellation-deny") <= counted  # a denied cancellation: a sale
    assert ids(session, "request-cancel", "cancellation-requested", "invoice", "invoiced") <= counted
    assert ids(session, "awaiting-review") <= counted  # the stated rule: counted, and named
    assert not counted & ids(session, *NEVER_COUNTED)
    assert not counted & ids(session, *NOT_PAID)
    assert not counted & ids(session, "canceled", "cancel")
    [line] = [w for w in rep.warnings if "does not know" in w]
    assert "6 order(s) in this report" in line and "'awaiting-review': 6" in line
    # gross is the sum of the counted orders, to the cent
    gross = rep.rows.group_by("currency").agg(pl.col("gross_minor").sum()).sort("currency")
    assert gross.rows() == rep.orders.group_by("currency").agg(pl.col("total_minor").sum()).sort("currency").rows()
    # the options count what they switch, and never an order that was never a sale
    both = gross_vs_net_report(
        session,
        "2026-02-20",
        "2026-04-30",
        by="month",
        include_canceled=True,
        include_payment_pending=True,
        sync=False,
    )
    counted_all = set(both.orders["order_id"].to_list())
    assert ids(session, *NOT_PAID, "canceled", "cancel") <= counted_all
    assert not counted_all & ids(session, *NEVER_COUNTED)
    # trends name them too
    data = trend_data(session, parse_instant("2026-02-20T00:00:00Z").to_datetime().date(), END.to_datetime().date())
    assert any("'awaiting-review': 6" in w for w in data.warnings)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("invoiced", "order-create-error"),  # into never a sale
        ("invoiced", "approve-payment"),  # into payment pending
        ("invoiced", "cancel"),  # into canceled
        ("approve-payment", "invoice-after-cancellation-deny"),  # out of payment pending
        ("order-creation-error", "invoiced"),  # out of never a sale
    ],
)
def test_the_sync_notices_an_order_moving_into_or_out_of_a_left_out_status(
    session: refundkit.Session, before: str, after: str
) -> None:
    def gross() -> dict[str, int]:
        rep = gross_vs_net_report(session, "2026-02-20", "2026-04-30", by="month", progress=False)
        by_currency = rep.rows.group_by("currency").agg(pl.col("gross_minor").sum())
        return dict(by_currency.iter_rows())

    first = gross()
    assert session.sandbox is not None
    sb = session.sandbox.store
    o = next(o for o in sb.orders if o.status == before)
    sb.set_status(o.order_id, after)
    second = gross()  # a plain report: synced without --refresh
    sign = -1 if before == "invoiced" else 1
    assert second[o.currency] == first[o.currency] + sign * o.total_cents


def test_the_desk_report_tab_and_the_notebook_explorer_name_the_unknown_status(session: refundkit.Session) -> None:
    from datetime import date
    from html import unescape

    from refundkit.present.explorer import RevenueExplorer

    form = RevenueExplorer(session, tz="UTC", live=False)
    form.first_day.value, form.last_day.value = date(2026, 2, 20), date(2026, 4, 30)
    form.show_button.click()
    shown = unescape(form.message.value)
    assert "'awaiting-review': 6" in shown and "does not know" in shown
    explorer = RevenueExplorer(session, first=date(2026, 2, 20), last=date(2026, 4, 30), period="month")
    assert "'awaiting-review': 6" in unescape(explorer.message.value)
