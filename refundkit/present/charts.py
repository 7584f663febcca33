"""Plotly figures of revenue and refunds (``go.Figure``: renders in JupyterLab, Voilà and saved notebooks without a
kernel, and exports to HTML and PNG).

The numbers come from :mod:`refundkit.analytics`; this module only draws them. Amounts are plotted in major units,
divided from the integer minor units for the axis only; hover labels show the exact amounts as money
(``BRL 1,234.56``, from :func:`refundkit.money.format_money`), never cents. Currencies are never drawn on one axis:
one panel (or one figure) per currency.

What makes them readable:

* refunds have their own panel and axis under gross and net, so a refund of 0.1 % of gross is still visible;
* a day far above the others (a flash sale) does not flatten the rest: by default (``scale="clip"``) the axis stops
  above the ordinary days and each clipped point is marked ``▲`` with its amount; ``scale="log"`` shows everything
  on a logarithmic axis instead, ``scale="linear"`` as it is;
* titles and subtitles are wrapped to fit and the top margin grows with them.
"""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ..analytics.engine import gross_by_period
from ..analytics.revenue import definitions_line
from ..analytics.sources import REFUND_COLUMNS
from ..analytics.split import GROSS_NOT_SPLIT, GROSS_PARTS
from ..analytics.trends import TIME_BUCKETS
from ..errors import RefundkitError
from ..money import currency_exponent, format_money
from ..statuses import left_out_phrase

__all__ = [
    "CLIP_MARK",
    "OUTLIER_FACTOR",
    "TO_DATE",
    "breakdown_chart",
    "daily_gross",
    "gross_split_chart",
    "gross_vs_net_chart",
    "items_chart",
    "native_vs_offline_chart",
    "outlier_cap",
    "refund_rate_chart",
    "save_html",
    "save_png",
    "time_to_refund_chart",
]

Scale = Literal["clip", "log", "linear"]
SCALES: tuple[str, ...] = ("clip", "log", "linear")

_GROSS, _NET = "#1f77b4", "#2ca02c"
#: One colour per kind of refund column (:mod:`refundkit.analytics.sources`); a third kind takes the next.
_REFUND_COLORS = {"native": "#ff7f0e", "offline": "#d62728"}
_MORE_COLORS = ("#e377c2", "#bcbd22", "#17becf")


def _color(kind: str, i: int) -> str:
    return _REFUND_COLORS.get(kind, _MORE_COLORS[i % len(_MORE_COLORS)])


#: Each refund column with its colour, in the registry's order.
_REFUNDS = tuple((c, _color(c.kind, i)) for i, c in enumerate(REFUND_COLUMNS))
_VALUE_RATE, _ORDER_RATE = "#9467bd", "#8c564b"
#: The mark of a point above a clipped axis (its amount follows it in the annotation).
CLIP_MARK = "▲"
_TITLE_CHARS, _SUBTITLE_CHARS = 70, 110
#: A value more than this many times the 90th percentile of a series is clipped off the axis (``scale="clip"``).
OUTLIER_FACTOR = 4


# -- helpers -------------------------------------------------------------------------------------------------------
def _major(values: Sequence[int | None], currency: str) -> list[float | None]:
    """Minor units → major units, for the axis only (hover text uses the exact :func:`format_money`)."""
    scale = 10 ** currency_exponent(currency)
    return [None if v is None else v / scale for v in values]


def _money(values: Sequence[int | None], currency: str) -> list[str]:
    return ["—" if v is None else format_money(v, currency) for v in values]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _wrap(text: str, width: int) -> str:
    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)) if text else ""


def _titled(fig: go.Figure, title: str, subtitle: str = "", *, legend_below: bool = False) -> go.Figure:
    """Title and subtitle wrapped to fit a ~700 px wide figure; the top margin makes room for every line."""
    title_html, subtitle_html = _wrap(title, _TITLE_CHARS), _wrap(subtitle, _SUBTITLE_CHARS)
    title_lines = title_html.count("<br>") + 1
    subtitle_lines = subtitle_html.count("<br>") + 1 if subtitle_html else 0
    top = 30 + 26 * title_lines + 17 * subtitle_lines + 20
    fig.update_layout(
        title={
            "text": title_html,
            "subtitle": {"text": subtitle_html, "font": {"size": 12}},
            "font": {"size": 18},
            "x": 0.01,
            "xanchor": "left",
            "xref": "container",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 20},
        },
        margin={"t": top, "l": 70, "r": 30},
    )
    if legend_below:
        fig.update_layout(
            legend={"orientation": "h", "x": 0, "y": 0, "yanchor": "bottom", "yref": "container"}, margin={"b": 110}
        )
    return fig


def _empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
    )
    return _titled(fig, title)


def _bar(
    x: Sequence[Any], values: Sequence[int | None], label: str, color: str, *, partial: Sequence[bool], currency: str
) -> go.Bar:
    """Bars of amounts in ``currency``, those of a period still under way hatched."""
    return go.Bar(
        x=x,
        y=_major(values, currency),
        name=label,
        marker={"color": color, "pattern": {"shape": ["/" if p else "" for p in partial]}},
        customdata=_money(values, currency),
        hovertemplate=f"%{{x|%Y-%m-%d}}<br>{label} %{{customdata}}<extra></extra>",
    )


def _check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise RefundkitError(f"scale {scale!r} is not one of {', '.join(SCALES)}")


def outlier_cap(values: Sequence[int | None]) -> int | None:
    """The top of an axis that keeps ordinary values readable, or None when no value stands out.

    A value stands out when it is more than :data:`OUTLIER_FACTOR` times the 90th percentile of the positive values
    (at least five of them, and at most one in twenty standing out); the cap is then the largest value that does
    not stand out. Skewed but ordinary data (many small days, some big ones) is left alone.
    """
    positive = sorted(v for v in values if v is not None and v > 0)
    if len(positive) < 5:
        return None
    threshold = OUTLIER_FACTOR * _quantile(positive, 0.9)
    inside = [v for v in positive if v <= threshold]
    outside = len(positive) - len(inside)
    if outside == 0 or not inside or outside > max(1, len(positive) // 20):
        return None
    return inside[-1]


def _quantile(ordered: Sequence[int], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _apply_scale(
    fig: go.Figure,
    scale: str,
    x: Sequence[Any],
    values: Sequence[int | None],
    currency: str,
    *,
    row: int | None = None,
    axis: str = "y",
    unit: str = "day",
) -> str:
    """Clip or log the axis of ``values`` (the largest series drawn on it); returns a sentence for the subtitle."""
    where = {"row": row, "col": 1} if row is not None else {}
    if scale == "log":
        fig.update_yaxes(type="log", **where)
        return "Logarithmic scale: each gridline is ten times the one below; zero and negative amounts are not drawn."
    cap = outlier_cap(values) if scale == "clip" else None
    if cap is None:
        return ""
    top = cap * 1.15 / 10 ** currency_exponent(currency)
    lowest = min((v for v in values if v is not None), default=0)
    bottom = min(0.0, lowest / 10 ** currency_exponent(currency) * 1.05)
    fig.update_yaxes(range=[bottom, top], **where)
    clipped = [(xi, v) for xi, v in zip(x, values, strict=True) if v is not None and v > cap]
    for xi, v in clipped[:5]:
        fig.add_annotation(
            x=xi,
            y=top,
            xref=axis.replace("y", "x"),
            yref=axis,
            text=f"{CLIP_MARK} {format_money(v, currency)}",
            showarrow=False,
            yanchor="top",
            font={"size": 11},
            bgcolor="rgba(255,255,255,0.8)",
        )
    return (
        f"A {unit} far above the rest runs off the top, marked {CLIP_MARK} with its amount (hover shows every "
        "amount; scale='log' draws it whole)."
    )


# -- gross ---------------------------------------------------------------------------------------------------------
def daily_gross(
    orders_df: pl.DataFrame,
    currency: str | None = None,
    *,
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    scale: Scale = "clip",
) -> go.Figure:
    """Daily gross revenue (order totals by order date), one panel per currency (only ``currency`` when given).

    ``orders_df`` is :func:`refundkit.analytics.orders_frame`; which orders count is said in the subtitle. A day far
    above the rest (a flash sale) is clipped and labelled unless ``scale`` says otherwise.
    """
    _check_scale(scale)
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
    title = "Daily gross revenue" + (f" ({currency})" if currency else "")
    subtitle = (
        f"Order totals by order date ({tz})"
        f"; {left_out_phrase(include_canceled, include_payment_pending)} orders left out"
        "; one panel per currency, never added together."
    )
    if not currencies:
        return _empty_figure(title, "No orders" + (f" in {currency}" if currency else "") + " in this range")
    fig = make_subplots(
        rows=len(currencies),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[f"{c} per day" for c in currencies],
    )
    notes = []
    for row, cur in enumerate(currencies, start=1):
        part = daily.filter(pl.col("currency") == cur).sort("period")
        x = part.get_column("period").to_list()
        gross = part.get_column("gross_minor").to_list()
        orders = part.get_column("orders").to_list()
        fig.add_trace(
            go.Bar(
                x=x,
                y=_major(gross, cur),
                name=f"gross {cur}",
                marker_color=_GROSS,
                customdata=[[g, n] for g, n in zip(_money(gross, cur), orders, strict=True)],
                hovertemplate="%{x|%Y-%m-%d}<br>gross %{customdata[0]}<br>%{customdata[1]} orders<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=f"gross ({cur})", row=row, col=1)
        note = _apply_scale(fig, scale, x, gross, cur, row=row, axis="y" if row == 1 else f"y{row}")
        if note and note not in notes:
            notes.append(note)
    fig.update_layout(showlegend=False, height=320 * len(currencies) + 120, bargap=0.1)
    return _titled(fig, title, " ".join([subtitle, *notes]))


# -- gross vs net --------------------------------------------------------------------------------------------------
def gross_vs_net_chart(
    df: pl.DataFrame,
    currency: str,
    *,
    attribution: str = "refund_date",
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
    title: str | None = None,
    scale: Scale = "clip",
) -> go.Figure:
    """Gross and net revenue as lines in the top panel and VTEX and offline refunds as stacked bars in their own
    panel below (own axis: refunds stay visible however small next to gross), for one currency.

    ``df`` is a report's rows (:func:`refundkit.analytics.revenue_figures`); pass the same ``attribution``, ``tz``
    and status options it was made with, since the title and subtitle state them. ``scale`` applies to both panels
    (each clipped on its own: a flash sale's refunds in the cohort view do not flatten the other days' refunds).
    """
    _check_scale(scale)
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
        name: part.get_column(f"{name}_minor").to_list() for name in ("gross", *(c.stem for c, _ in _REFUNDS), "net")
    }
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.62, 0.38],
        vertical_spacing=0.1,
        subplot_titles=[f"Gross and net revenue ({currency})", f"Refunds ({currency}), on their own scale"],
    )
    partial = part.get_column("partial").to_list() if "partial" in part.columns else [False] * len(x)
    for c, color in _REFUNDS:
        name, label = c.stem, c.label
        fig.add_trace(_bar(x, series[name], label, color, partial=partial, currency=currency), row=2, col=1)
    many = len(x) > 60  # markers on hundreds of days only hide the lines
    for name, label, color, width in (("gross", "gross revenue", _GROSS, 3.5), ("net", "net revenue", _NET, 1.5)):
        values = series[name]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_major([None if p else v for v, p in zip(values, partial, strict=True)], currency),
                name=label,
                mode="lines" if many else "lines+markers",
                line={"color": color, "width": width},
                customdata=_money(values, currency),
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{label} %{{customdata}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    _to_date(fig, x, series, partial, currency)
    if "compare_gross_minor" in part.columns:
        _compared(fig, part, currency)
    fig.update_yaxes(title_text=f"revenue ({currency})", row=1, col=1)
    fig.update_yaxes(title_text=f"refunds ({currency})", zeroline=True, row=2, col=1)
    unit = _unit_of(x)
    note = _apply_scale(fig, scale, x, series["gross"], currency, row=1, axis="y", unit=unit)
    refunded = [sum(parts) for parts in zip(*(series[c.stem] for c, _ in _REFUNDS), strict=True)]
    refunds_note = _apply_scale(fig, scale, x, refunded, currency, row=2, axis="y2", unit=unit)
    note = note or refunds_note
    fig.update_layout(barmode="stack", height=560, hovermode="x unified")
    _period_ticks(fig, x)
    return _titled(fig, title, " ".join(s for s in (subtitle, note) if s), legend_below=True)


#: The legend's name of the period still under way: dashed lines, hatched bars.
TO_DATE = "period under way (to date)"


def _to_date(fig: go.Figure, x: Sequence[Any], series: dict[str, list[int]], partial: list[bool], cur: str) -> None:
    """The period still under way: gross and net dashed from the period before, its refund bars hatched (drawn by
    the caller), one legend entry for both."""
    if not any(partial):
        return
    near = [p or (i + 1 < len(partial) and partial[i + 1]) for i, p in enumerate(partial)]
    for name, color in (("gross", _GROSS), ("net", _NET)):
        values = [v if n else None for v, n in zip(series[name], near, strict=True)]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_major(values, cur),
                name=TO_DATE,
                legendgroup="to-date",
                showlegend=name == "gross",
                mode="lines+markers",
                line={"color": color, "dash": "dash", "width": 2},
                marker={"symbol": "circle-open"},
                customdata=[m + (" (to date)" if p else "") for m, p in zip(_money(values, cur), partial, strict=True)],
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{name} %{{customdata}}<extra></extra>",
            ),
            row=1,
            col=1,
        )


#: The gross split's parts with their colours, and what is not split (grey), stacked in this order.
_SPLIT_PARTS = (
    *zip(
        (p.name for p in GROSS_PARTS),
        (p.label for p in GROSS_PARTS),
        ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"),
        strict=True,
    ),
    (GROSS_NOT_SPLIT, "not split", "#c7c7c7"),
)


def gross_split_chart(df: pl.DataFrame, currency: str, *, title: str | None = None) -> go.Figure:
    """Gross by component (items, discounts, shipping, tax, order changes, other totals and what is not split) as
    bars stacked per period, for one currency: the parts above zero stack up, discounts (and any part below zero)
    hang below it, so each period's parts add up to its gross (the line). A period still under way is hatched.

    ``df`` is a report's rows (:func:`refundkit.analytics.revenue_figures`), with the split's columns."""
    title = title or f"Gross revenue by component, {currency}"
    part = df.filter(pl.col("currency") == currency).sort("period")
    if part.height == 0:
        return _empty_figure(title, f"No orders in {currency} in this range")
    x = part.get_column("period").to_list()
    partial = part.get_column("partial").to_list() if "partial" in part.columns else [False] * len(x)
    fig = go.Figure()
    for column, label, color in _SPLIT_PARTS:
        values = part.get_column(column).to_list()
        if any(values):
            fig.add_trace(_bar(x, values, label, color, partial=partial, currency=currency))
    gross = part.get_column("gross_minor").to_list()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_major(gross, currency),
            name="gross revenue",
            mode="lines+markers",
            line={"color": "#333333", "width": 1.5},
            customdata=_money(gross, currency),
            hovertemplate="%{x|%Y-%m-%d}<br>gross %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(barmode="relative", yaxis={"title": currency}, hovermode="x unified")
    _period_ticks(fig, x)
    subtitle = (
        "From VTEX's order totals of the orders synced with details whose totals add up to their value; the rest is "
        "not split."
    )
    return _titled(fig, title, subtitle, legend_below=True)


def _compared(fig: go.Figure, part: pl.DataFrame, cur: str) -> None:
    """A comparison's gross and net, dotted over each period they are compared with."""
    x = part.get_column("period").to_list()
    then = [d.isoformat() if d is not None else "" for d in part.get_column("compare_period").to_list()]
    for name, color in (("gross", _GROSS), ("net", _NET)):
        values = part.get_column(f"compare_{name}_minor").to_list()
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_major(values, cur),
                name=f"{name}, compared period",
                mode="lines",
                line={"color": color, "dash": "dot", "width": 1.5},
                opacity=0.6,
                customdata=[[m, t] for m, t in zip(_money(values, cur), then, strict=True)],
                hovertemplate=f"{name} of %{{customdata[1]}}: %{{customdata[0]}}<extra></extra>",
            ),
            row=1,
            col=1,
        )


def _period_ticks(fig: go.Figure, x: Sequence[Any]) -> None:
    """Months are labelled by their names ("Jun 2026"), one tick under each bar: left to itself, a date axis picks
    its ticks by days and labels June's bar "May 31"."""
    if _unit_of(x) == "month":
        fig.update_xaxes(tickmode="array", tickvals=list(x), ticktext=[d.strftime("%b %Y") for d in x])


def _unit_of(x: Sequence[Any]) -> str:
    """ "day", "week" or "month": what one point of a period axis is, from the gap between the first two."""
    if len(x) < 2:
        return "period"
    gap = (x[1] - x[0]).days
    return "day" if gap == 1 else "week" if gap == 7 else "month" if 28 <= gap <= 31 else "period"


# -- refund rate ---------------------------------------------------------------------------------------------------
def refund_rate_chart(
    rate_df: pl.DataFrame,
    currency: str,
    *,
    tz: str = "UTC",
    include_canceled: bool = False,
    include_payment_pending: bool = False,
) -> go.Figure:
    """The refund rate of each period's orders, for one currency: refunded value ÷ gross and refunded orders ÷
    orders, as percentages (``rate_df`` is :func:`refundkit.analytics.trends.refund_rate`). Hover shows both
    integer figures behind each rate. Pass the status options ``rate_df`` was made with: the subtitle states them."""
    title = f"Refund rate, {currency}: of the orders taken each period, how much was refunded"
    subtitle = (
        f"By order date ({tz}), VTEX and offline refunds net of reversals, whenever they happened"
        f"; {left_out_phrase(include_canceled, include_payment_pending)} orders left out"
        ". Recent periods keep rising as refunds come in."
    )
    part = rate_df.filter(pl.col("currency") == currency).sort("period")
    if part.height == 0:
        return _empty_figure(title, f"No orders in {currency} in this range")
    x = part.get_column("period").to_list()
    refunded = _money(part.get_column("refunded_minor").to_list(), currency)
    gross = _money(part.get_column("gross_minor").to_list(), currency)
    value_rate = part.get_column("value_rate").to_list()
    order_rate = part.get_column("order_rate").to_list()
    orders = part.get_column("orders").to_list()
    refunded_orders = part.get_column("refunded_orders").to_list()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=value_rate,
            name="refunded value ÷ gross",
            mode="lines+markers",
            line={"color": _VALUE_RATE},
            customdata=[[_percent(r), a, b] for r, a, b in zip(value_rate, refunded, gross, strict=True)],
            hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]} of value: %{customdata[1]} refunded of "
            "%{customdata[2]}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=order_rate,
            name="refunded orders ÷ orders",
            mode="lines+markers",
            line={"color": _ORDER_RATE, "dash": "dot"},
            customdata=[[_percent(r), a, b] for r, a, b in zip(order_rate, refunded_orders, orders, strict=True)],
            hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]} of orders: %{customdata[1]:,} of "
            "%{customdata[2]:,} orders refunded<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis={"title": {"text": "refund rate"}, "tickformat": ".0%", "rangemode": "tozero"},
        height=440,
        hovermode="x unified",
    )
    return _titled(fig, title, subtitle, legend_below=True)


# -- native versus offline -----------------------------------------------------------------------------------------
def native_vs_offline_chart(df: pl.DataFrame, currency: str, *, tz: str = "UTC") -> go.Figure:
    """VTEX and offline refunds per period as stacked bars, for one currency, with the offline share in the
    hover (``df`` is :func:`refundkit.analytics.trends.native_vs_offline`)."""
    title = f"Refunds VTEX made versus refunds made outside VTEX, {currency}"
    subtitle = (
        f"By the date the money went back ({tz}); offline refunds (the refundkit ledger, net of reversals) are the "
        "part VTEX's own reports do not show."
    )
    part = df.filter(pl.col("currency") == currency).sort("period")
    if part.height == 0:
        return _empty_figure(title, f"No refunds in {currency} in this range")
    x = part.get_column("period").to_list()
    share = part.get_column("offline_share").to_list()
    fig = go.Figure()
    for c, color in _REFUNDS:
        column, count = c.name, c.stem
        label = f"{c.label} (return invoices)" if c.kind == "native" else c.label  # VTEX's: what VTEX reports show
        values = part.get_column(column).to_list()
        counts = part.get_column(count).to_list()
        fig.add_trace(
            go.Bar(
                x=x,
                y=_major(values, currency),
                name=label,
                marker_color=color,
                customdata=[
                    [m, n, _percent(s)] for m, n, s in zip(_money(values, currency), counts, share, strict=True)
                ],
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{label}: %{{customdata[0]}} (%{{customdata[1]:,}} refunds)"
                "<br>offline share of the period: %{customdata[2]}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", yaxis={"title": {"text": f"refunded ({currency})"}}, height=440)
    return _titled(fig, title, subtitle, legend_below=True)


# -- breakdowns ----------------------------------------------------------------------------------------------------
_BY_LABEL = {
    "source": "where the money went back",
    "reason": "reason",
    "sales_channel": "sales channel",
    "payment_method": "payment method",
}


def breakdown_chart(df: pl.DataFrame, by: str, currency: str, *, limit: int = 12) -> go.Figure:
    """Refunded value per ``by`` (``df`` is :func:`refundkit.analytics.trends.refund_breakdown`), for one
    currency, largest at the top; VTEX and offline parts stacked; at most ``limit`` bars, the rest summed into one
    bar named ``other (N)``."""
    label = _BY_LABEL.get(by, by)
    title = f"Refunds by {label}, {currency}"
    part = df.filter(pl.col("currency") == currency).sort("refunded_minor", descending=True)
    if part.height == 0:
        return _empty_figure(title, f"No refunds in {currency} in this range")
    if part.height > limit:
        head, tail = part.head(limit - 1), part.slice(limit - 1)
        other = tail.select(
            pl.lit(currency).alias("currency"),
            pl.lit(f"other ({tail.height})").alias(by),
            *(pl.col(c).sum() for c in ("refunds", *(c.name for c, _ in _REFUNDS), "refunded_minor")),
            pl.col("share").sum(),
        )
        part = pl.concat([head, other.select(head.columns).cast(head.schema)])
    keys = list(reversed(part.get_column(by).to_list()))  # plotly draws the first category at the bottom
    total = int(part.get_column("refunded_minor").sum())
    fig = go.Figure()
    for c, color in _REFUNDS:
        column, name = c.name, c.label
        values = list(reversed(part.get_column(column).to_list()))
        rows = list(reversed(list(part.iter_rows(named=True))))
        fig.add_trace(
            go.Bar(
                y=keys,
                x=_major(values, currency),
                orientation="h",
                name=name,
                marker_color=color,
                customdata=[
                    [m, format_money(r["refunded_minor"], currency), r["refunds"], _percent(r["share"])]
                    for m, r in zip(_money(values, currency), rows, strict=True)
                ],
                hovertemplate=f"%{{y}}<br>{name}: %{{customdata[0]}}<br>all refunds: %{{customdata[1]}} "
                "(%{customdata[2]:,} refunds, %{customdata[3]} of the total)<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        xaxis={"title": {"text": f"refunded ({currency})"}},
        yaxis={"automargin": True},
        height=max(320, 60 + 34 * len(keys) + 120),
    )
    subtitle = f"Refunds dated in the range, {format_money(total, currency)} in all; net of reversals."
    return _titled(fig, title, subtitle, legend_below=True)


# -- refunds by item ---------------------------------------------------------------------------------------------
_ITEM_GROUPS = {
    "sku": ("SKU", "SKUs"),
    "product": ("product", "products"),
    "category": ("category", "categories"),
    "brand": ("brand", "brands"),
}


def items_chart(rows: pl.DataFrame, currency: str, *, by: str = "sku", limit: int = 12) -> go.Figure:
    """Units refunded per group (``rows`` is :attr:`refundkit.analytics.items.ItemFigures.rows`, grouped ``by``),
    for one currency, most refunded at the top: units refunded on VTEX and offline stacked, the refund rate and the
    amount in the hover; at most ``limit`` bars (the groups with the most units refunded)."""
    one, many = _ITEM_GROUPS.get(by, (by, by))
    title = f"Units refunded by {one}, {currency}"
    part = (
        rows.filter((pl.col("currency") == currency) & (pl.col("units_refunded") != 0))
        .sort(["units_refunded", "units_sold", "key"], descending=[True, True, False])
        .head(limit)
    )
    if part.height == 0:
        return _empty_figure(title, f"No units refunded in {currency} in this range")
    part = part.reverse()  # plotly draws the first category at the bottom
    labels = [k if not n or by != "sku" else f"{n} ({k})" for k, n in zip(part["key"], part["name"], strict=True)]
    fig = go.Figure()
    for kind, name in (("vtex", "on VTEX (return invoices)"), ("offline", "offline (refundkit ledger)")):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=part.get_column(f"units_refunded_{kind}").to_list(),
                orientation="h",
                name=f"units refunded {name}",
                marker_color=_REFUND_COLORS["native" if kind == "vtex" else "offline"],
                customdata=[
                    [r["units_sold"], _percent(r["refund_rate"]), format_money(r[f"refunded_{kind}_minor"], currency)]
                    for r in part.iter_rows(named=True)
                ],
                hovertemplate=f"%{{y}}<br>%{{x:,}} units refunded {name} (%{{customdata[2]}})<br>"
                "%{customdata[0]:,} units sold; refund rate %{customdata[1]}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        xaxis={"title": {"text": "units refunded"}},
        yaxis={"automargin": True},
        height=max(320, 60 + 34 * part.height + 120),
    )
    units, sold = int(part["units_refunded"].sum()), int(part["units_sold"].sum())
    subtitle = (
        f"The {part.height} {many} with the most units refunded: {units:,} units refunded of {sold:,} sold; "
        "net of reversals. Refunds that name no items are not here."
    )
    return _titled(fig, title, subtitle, legend_below=True)


# -- time to refund ------------------------------------------------------------------------------------------------
def time_to_refund_chart(distribution: pl.DataFrame, summary: pl.DataFrame, currency: str) -> go.Figure:
    """How long after the order refunds happen, for one currency: refunds per bucket of days, with the median
    and 90th percentile in the subtitle (``distribution`` and ``summary`` are
    :func:`refundkit.analytics.trends.time_to_refund_distribution` and :func:`...time_to_refund_summary`)."""
    title = f"Time from order to refund, {currency}"
    part = distribution.filter(pl.col("currency") == currency)
    stats = summary.filter((pl.col("currency") == currency) & (pl.col("kind") == "all"))
    if part.height == 0 or part.get_column("refunds").sum() == 0:
        return _empty_figure(title, f"No refund in {currency} with both dates known in this range")
    row = stats.row(0, named=True)
    subtitle = (
        f"{row['refunds']:,} refunds dated in the range: half within {row['median_days']:.1f} days of the order "
        f"(median), nine in ten within {row['p90_days']:.1f} days (90th percentile)."
        + (
            f" {row['undated']:,} more could not be measured (no issuance date, or the order is not loaded)."
            if row["undated"]
            else ""
        )
    )
    early = part.get_column("bucket") == TIME_BUCKETS[0][0]
    part = part.filter(~early | (pl.col("refunds") > 0))  # "before the order" only when some refund is dated so
    buckets = part.get_column("bucket").to_list()
    counts = part.get_column("refunds").to_list()
    amounts = _money(part.get_column("refunded_minor").to_list(), currency)
    shares = [_percent(s) for s in part.get_column("share").to_list()]
    fig = go.Figure(
        go.Bar(
            x=buckets,
            y=counts,
            name="refunds",
            marker_color="#607d8b",
            customdata=[[a, s] for a, s in zip(amounts, shares, strict=True)],
            hovertemplate="%{x}<br>%{y:,} refunds (%{customdata[1]}), %{customdata[0]}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": "time from order to refund"}},
        yaxis={"title": {"text": "refunds"}},
        height=420,
        showlegend=False,
    )
    return _titled(fig, title, subtitle)


# -- export --------------------------------------------------------------------------------------------------------
def save_html(fig: go.Figure, path: str | Path) -> Path:
    """Write the figure as a self-contained HTML page (plotly.js inside: it opens offline) and return its path."""
    target = Path(path)
    fig.write_html(target, include_plotlyjs=True, full_html=True)
    return target


def save_png(fig: go.Figure, path: str | Path, *, width: int = 1100, height: int | None = None) -> Path:
    """Write the figure as a PNG through kaleido, which drives a local Chromium (Debian: ``apt-get install
    chromium``), and return its path. Raises :class:`~refundkit.errors.RefundkitError` saying what to install when
    kaleido or a browser is missing."""
    target = Path(path)
    if importlib.util.find_spec("kaleido") is None:
        raise RefundkitError("PNG export needs kaleido: pip install kaleido")
    try:
        fig.write_image(target, format="png", width=width, height=height or fig.layout.height or 500)
    except (RuntimeError, ValueError) as exc:
        if "chrom" in str(exc).lower():
            raise RefundkitError(
                f"PNG export needs Chromium or Chrome for kaleido ({exc}); on Debian: apt-get install chromium"
            ) from None
        raise
    return target
