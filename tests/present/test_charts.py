"""Charts, checked for what a person sees: trace names, axes, hover text in money, clipped days marked, titles
that fit, and files that open."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from refundkit.analytics.engine import revenue_figures
from refundkit.analytics.frames import native_refunds_frame, orders_frame, refunds_frame
from refundkit.analytics.trends import (
    native_vs_offline,
    refund_breakdown,
    refund_rate,
    time_to_refund,
    time_to_refund_distribution,
    time_to_refund_summary,
)
from refundkit.errors import RefundkitError
from refundkit.money import Money
from refundkit.present.charts import (
    CLIP_MARK,
    breakdown_chart,
    daily_gross,
    gross_vs_net_chart,
    native_vs_offline_chart,
    outlier_cap,
    refund_rate_chart,
    save_html,
    save_png,
    time_to_refund_chart,
)
from refundkit.timeutil import Instant, parse_instant
from refundkit.vtex.models import Order, OrderSummary, ReturnInvoice
from tests.analytics.test_trends import FRAMES, RANGE


def flash_sale_orders() -> pl.DataFrame:
    """20 ordinary days of BRL 100.00 and 120.00, and one flash-sale day of BRL 100,000.00."""
    rows = [
        OrderSummary(
            f"{day}-01",
            parse_instant(f"2026-03-{day:02d}T12:00:00Z"),
            "invoiced",
            "BRL",
            Money(10000 + 2000 * (day % 2), "BRL"),
            "1",
            "Pix",
        )
        for day in range(1, 22)
        if day != 15
    ]
    rows.append(
        OrderSummary(
            "15-01", parse_instant("2026-03-15T12:00:00Z"), "invoiced", "BRL", Money(10_000_000, "BRL"), "1", "Pix"
        )
    )
    return orders_frame(rows)


def hover_texts(fig: go.Figure) -> list[str]:
    """Every hover label's data, flattened (what plotly puts in place of %{customdata})."""
    out: list[str] = []
    for trace in fig.data:
        for value in trace.customdata if trace.customdata is not None else ():
            out.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    return out


def gross_vs_net(orders: pl.DataFrame, native: pl.DataFrame, offline: pl.DataFrame, **options) -> pl.DataFrame:
    """The engine's rows: gross versus net per (period, currency)."""
    return revenue_figures(orders, native, offline, **options).rows


def subtitle(fig: go.Figure) -> str:
    return fig.layout.title.subtitle.text.replace("<br>", " ")


# -- gross vs net --------------------------------------------------------------------------------------------------
def test_refunds_get_their_own_panel_and_axis_below_gross_and_net() -> None:
    df = gross_vs_net(*FRAMES, period="month", **RANGE)
    fig = gross_vs_net_chart(df, "BRL")
    axis_of = {t.name: t.yaxis for t in fig.data}
    assert axis_of == {"VTEX refunds": "y2", "offline refunds": "y2", "gross revenue": "y", "net revenue": "y"}
    assert fig.layout.yaxis.title.text == "revenue (BRL)"
    assert fig.layout.yaxis2.title.text == "refunds (BRL)"
    assert fig.layout.barmode == "stack"
    offline = next(t for t in fig.data if t.name == "offline refunds")
    assert list(offline.y) == [45.0, 50.0]  # rf-p 15.00 + rf-b 30.00 in March, rf-c 50.00 in April: upwards
    assert list(offline.customdata) == ["BRL 45.00", "BRL 50.00"]
    assert "%{customdata}" in offline.hovertemplate and "_minor" not in offline.hovertemplate
    gross = next(t for t in fig.data if t.name == "gross revenue")
    assert list(gross.customdata) == ["BRL 500.00", "BRL 400.00"]


def test_hover_shows_money_with_thousands_grouped_never_cents() -> None:
    fig = gross_vs_net_chart(gross_vs_net(flash_sale_orders(), *FRAMES[1:], period="day", **RANGE), "BRL")
    texts = hover_texts(fig)
    assert "BRL 100,000.00" in texts
    assert all(t.startswith("BRL ") for t in texts)
    assert "10000000" not in " ".join(texts)


def test_a_flash_sale_day_is_clipped_with_its_amount_marked_and_the_rest_stays_readable() -> None:
    df = gross_vs_net(flash_sale_orders(), native_refunds_frame([]), refunds_frame([]), period="day")
    fig = gross_vs_net_chart(df, "BRL")
    low, high = fig.layout.yaxis.range
    assert low == 0 and 120 <= high < 200  # ordinary days are 100.00 and 120.00; the flash day 100,000.00
    [mark] = [a for a in fig.layout.annotations if a.text.startswith(CLIP_MARK)]
    assert mark.text == f"{CLIP_MARK} BRL 100,000.00"
    assert mark.x == date(2026, 3, 15)
    assert "runs off the top" in subtitle(fig)

    log = gross_vs_net_chart(df, "BRL", scale="log")
    assert log.layout.yaxis.type == "log"
    assert not [a for a in log.layout.annotations if a.text.startswith(CLIP_MARK)]
    assert "Logarithmic scale" in subtitle(log)
    linear = gross_vs_net_chart(df, "BRL", scale="linear")
    assert linear.layout.yaxis.range is None
    with pytest.raises(RefundkitError, match="scale 'wide' is not one of clip, log, linear"):
        gross_vs_net_chart(df, "BRL", scale="wide")  # type: ignore[arg-type]  # a wrong value on purpose


def test_daily_gross_clips_the_flash_sale_day_too() -> None:
    fig = daily_gross(flash_sale_orders())
    assert fig.layout.yaxis.range[1] < 200
    assert [a.text for a in fig.layout.annotations if a.text.startswith(CLIP_MARK)] == [f"{CLIP_MARK} BRL 100,000.00"]


def test_outlier_cap_leaves_skewed_but_ordinary_data_alone() -> None:
    assert outlier_cap([1000] * 30 + [100_000]) == 1000
    assert outlier_cap([10, 0, 50, 400, 20, 900, 30, 1500, 60, 5, 2000, 80, 15]) is None  # sparse sales, no spike
    assert outlier_cap([10, 20, 1000]) is None  # too few to tell
    assert outlier_cap([None, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 5000]) == 10


# -- trends --------------------------------------------------------------------------------------------------------
def test_refund_rate_chart_shows_both_rates_as_percentages_with_the_money_behind_them() -> None:
    fig = refund_rate_chart(refund_rate(*FRAMES, period="month", **RANGE), "BRL")
    value, orders = fig.data
    assert (value.name, orders.name) == ("refunded value ÷ gross", "refunded orders ÷ orders")
    assert list(value.y) == pytest.approx([0.21, 0.025])
    assert fig.layout.yaxis.tickformat == ".0%"
    assert list(value.customdata[0]) == ["21.0%", "BRL 105.00", "BRL 500.00"]
    assert "refunded of %{customdata[2]}" in value.hovertemplate
    assert list(orders.customdata[0]) == ["75.0%", 3, 4]


def test_native_versus_offline_chart_stacks_the_two_kinds() -> None:
    fig = native_vs_offline_chart(native_vs_offline(*FRAMES, period="month", **RANGE), "BRL")
    assert [t.name for t in fig.data] == ["VTEX refunds (return invoices)", "offline refunds"]
    assert fig.layout.barmode == "stack"
    assert list(fig.data[1].customdata[0]) == ["BRL 45.00", 2, "64.3%"]


def test_breakdown_chart_lists_the_largest_first_and_sums_the_tail() -> None:
    df = refund_breakdown(*FRAMES, "source", **RANGE)
    fig = breakdown_chart(df, "source", "BRL")
    assert list(fig.data[0].y) == ["VTEX return invoice", "cash", "apace"]  # drawn bottom-up: apace on top
    assert fig.data[1].customdata[-1][1] == "BRL 50.00"
    short = breakdown_chart(df, "source", "BRL", limit=2)
    assert list(short.data[0].y) == ["other (2)", "apace"]
    assert short.data[1].customdata[0][1] == "BRL 80.00"  # cash 45.00 + VTEX 35.00
    assert "BRL 130.00 in all" in subtitle(fig)


def test_time_to_refund_chart_states_median_and_p90() -> None:
    measured = time_to_refund(*FRAMES, **RANGE)
    fig = time_to_refund_chart(time_to_refund_distribution(measured), time_to_refund_summary(*FRAMES, **RANGE), "BRL")
    text = subtitle(fig)
    assert "half within 10.0 days" in text and "nine in ten within 26.0 days" in text
    assert "2 more could not be measured" in text
    assert "before the order (check the dates)" not in list(fig.data[0].x)  # no refund is dated so
    assert sum(fig.data[0].y) == 3


# -- fit and export ------------------------------------------------------------------------------------------------
def all_charts() -> list[go.Figure]:
    return [
        gross_vs_net_chart(gross_vs_net(*FRAMES, period="month", **RANGE), "BRL"),
        daily_gross(FRAMES[0]),
        refund_rate_chart(refund_rate(*FRAMES, **RANGE), "BRL"),
        native_vs_offline_chart(native_vs_offline(*FRAMES, **RANGE), "BRL"),
        breakdown_chart(refund_breakdown(*FRAMES, "reason", **RANGE), "reason", "BRL"),
        gross_vs_net_chart(gross_vs_net(*FRAMES, period="month", **RANGE), "EUR"),  # empty
    ]


def test_titles_and_subtitles_are_wrapped_to_fit_and_the_margin_makes_room() -> None:
    for fig in all_charts():
        title_lines = fig.layout.title.text.split("<br>")
        subtitle_lines = [s for s in (fig.layout.title.subtitle.text or "").split("<br>") if s]
        assert all(len(line) <= 70 for line in title_lines), title_lines
        assert all(len(line) <= 110 for line in subtitle_lines), subtitle_lines
        assert fig.layout.margin.t >= 30 + 26 * len(title_lines) + 17 * len(subtitle_lines)


def test_a_chart_saves_as_a_self_contained_html_page(tmp_path: Path) -> None:
    fig = refund_rate_chart(refund_rate(*FRAMES, **RANGE), "BRL")
    path = save_html(fig, tmp_path / "rate.html")
    page = path.read_text(encoding="utf-8")
    assert "Refund rate, BRL" in page and "BRL 105.00" in page
    assert "<script src=" not in page  # plotly.js is inside: it opens offline


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")) and not os.environ.get("CI"),
    reason="PNG export needs Chromium (apt-get install chromium); CI installs it",
)
def test_a_chart_saves_as_a_png_through_kaleido_and_chromium(tmp_path: Path) -> None:
    fig = gross_vs_net_chart(gross_vs_net(*FRAMES, period="month", **RANGE), "BRL")
    path = save_png(fig, tmp_path / "gross_vs_net.png", width=900)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert int.from_bytes(data[16:20], "big") == 900  # the width asked for


def test_a_flash_sale_days_refunds_are_clipped_on_their_own_panel() -> None:
    orders = flash_sale_orders()
    native = native_refunds_frame(
        [
            full_order(order_id, created, 10_000 if order_id != "15-01" else 5_000_000)
            for order_id, created in zip(
                orders.get_column("order_id").to_list(), orders.get_column("created_at").to_list(), strict=True
            )
        ]
    )
    df = gross_vs_net(orders, native, refunds_frame([]), period="day", attribution="order_date")
    fig = gross_vs_net_chart(df, "BRL", attribution="order_date")
    assert fig.layout.yaxis2.range[1] < 200  # ordinary days' refunds are 100.00
    marks = [a.text for a in fig.layout.annotations if a.text.startswith(CLIP_MARK)]
    assert marks == [f"{CLIP_MARK} BRL 100,000.00", f"{CLIP_MARK} BRL 50,000.00"]


def full_order(order_id: str, created: object, refund: int) -> Order:
    instant = Instant.from_datetime(created)  # type: ignore[arg-type]  # a datetime from the frame
    return Order(
        order_id=order_id,
        sequence="1",
        status="invoiced",
        currency="BRL",
        created_at=instant,
        total=Money(refund * 2, "BRL"),
        totals={},
        items=(),
        payments=(),
        return_invoices=(ReturnInvoice(f"R-{order_id}", Money(refund, "BRL"), instant),),
        sales_channel="1",
    )


def test_the_refund_rate_subtitle_states_which_orders_count() -> None:
    default = refund_rate_chart(refund_rate(*FRAMES, **RANGE), "BRL")
    assert "canceled, payment-pending and never-a-sale orders left out" in subtitle(default)
    rate = refund_rate(*FRAMES, include_canceled=True, **RANGE)
    with_canceled = refund_rate_chart(rate, "BRL", include_canceled=True)
    assert "payment-pending and never-a-sale orders left out" in subtitle(with_canceled) and "canceled" not in subtitle(
        with_canceled
    )
