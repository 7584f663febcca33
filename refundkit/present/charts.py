"""Plotly figures of revenue (``go.Figure``: renders in JupyterLab, Voilà and saved notebooks without a kernel).

The numbers come from :mod:`refundkit.analytics`; this module only draws them. Amounts are plotted in major units,
divided from the integer minor units for display only; hover labels show the exact amounts as text.
Currencies are never drawn on one axis: one panel (or one figure) per currency.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ..analytics.revenue import definitions_line, gross_by_period
from ..money import currency_exponent, format_minor

__all__ = ["daily_gross", "gross_vs_net_chart"]

_GROSS, _NET, _NATIVE, _OFFLINE = "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"


def _major(values: list[int], currency: str) -> list[float]:
    """Minor units → major units, for the axis only (hover text uses the exact :func:`format_minor`)."""
    scale = 10 ** currency_exponent(currency)
    return [v / scale for v in values]


def _exact(values: list[int], currency: str) -> list[str]:
    return [f"{currency} {format_minor(v, currency)}" for v in values]


def _empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title={"text": title},
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
    )
    return fig


def daily_gross(
    orders_df: pl.DataFrame,
    currency: str | None = None,
    *,
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
) -> go.Figure:
    """Daily gross revenue (order totals by order date), one panel per currency (only ``currency`` when given).

    ``orders_df`` is :func:`refundkit.analytics.orders_frame`; which orders count is said in the subtitle.
    """
    daily = gross_by_period(
        orders_df,
        period="day",
        tz=tz,
        include_canceled=include_canceled,
        include_payment_pending=include_payment_pending,
    )
    if currency is not None:
        daily = daily.filter(pl.col("currency") == currency)
    currencies = sorted(daily.get_column("currency").unique().to_list())
    left_out = [
        s for s, inc in (("canceled", include_canceled), ("payment-pending", include_payment_pending)) if not inc
    ]
    title = "Daily gross revenue" + (f" ({currency})" if currency else "")
    subtitle = (
        f"Order totals by order date ({tz})"
        + (f"; {' and '.join(left_out)} orders left out" if left_out else "")
        + "; one panel per currency, never added together"
    )
    if not currencies:
        return _empty_figure(title, "No orders" + (f" in {currency}" if currency else "") + " in this range")
    fig = make_subplots(
        rows=len(currencies),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"{c} per day" for c in currencies],
    )
    for row, cur in enumerate(currencies, start=1):
        part = daily.filter(pl.col("currency") == cur).sort("period")
        gross = part.get_column("gross_minor").to_list()
        orders = part.get_column("orders").to_list()
        fig.add_trace(
            go.Bar(
                x=part.get_column("period").to_list(),
                y=_major(gross, cur),
                name=f"gross {cur}",
                marker_color=_GROSS,
                customdata=[[g, n] for g, n in zip(_exact(gross, cur), orders)],
                hovertemplate="%{x|%Y-%m-%d}<br>gross %{customdata[0]}<br>%{customdata[1]} orders<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=cur, row=row, col=1)
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}},
        showlegend=False,
        height=320 * len(currencies) + 80,
        bargap=0.1,
    )
    return fig


def gross_vs_net_chart(
    df: pl.DataFrame,
    currency: str,
    *,
    attribution: str = "refund_date",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Gross and net revenue as lines, VTEX and offline refunds as negative bars, for one currency.

    ``df`` is :func:`refundkit.analytics.gross_vs_net` output; pass the same ``attribution``, ``tz`` and status
    options it was made with, since the title and subtitle state them.
    """
    view = "refund date (cash view)" if attribution == "refund_date" else "order date (cohort view)"
    title = title or f"Gross vs net revenue, {currency}: refunds counted by {view}"
    subtitle = definitions_line(
        attribution, include_canceled=include_canceled, include_payment_pending=include_payment_pending, tz=tz
    )
    part = df.filter(pl.col("currency") == currency).sort("period")
    if part.height == 0:
        return _empty_figure(title, f"No orders or refunds in {currency} in this range")
    x = part.get_column("period").to_list()
    series = {
        name: part.get_column(f"{name}_minor").to_list()
        for name in ("gross", "native_refunds", "offline_refunds", "net")
    }
    fig = go.Figure()
    for name, label, color in (
        ("native_refunds", "VTEX refunds", _NATIVE),
        ("offline_refunds", "offline refunds", _OFFLINE),
    ):
        values = series[name]
        fig.add_trace(
            go.Bar(
                x=x,
                y=_major([-v for v in values], currency),
                name=label,
                marker_color=color,
                customdata=_exact(values, currency),
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{label} %{{customdata}}<extra></extra>",
            )
        )
    for name, label, color in (("gross", "gross revenue", _GROSS), ("net", "net revenue", _NET)):
        values = series[name]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_major(values, currency),
                name=label,
                mode="lines+markers",
                line={"color": color},
                customdata=_exact(values, currency),
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{label} %{{customdata}}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}},
        barmode="relative",
        yaxis={"title": {"text": f"{currency} (refunds below zero)"}, "zeroline": True},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
        margin={"t": 110},
        height=480,
    )
    return fig
