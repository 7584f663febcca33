"""The gross-versus-net chart of a report with a period under way and a comparison: the running period is drawn
dashed and hatched with its own legend entry, the compared figures are overlaid, hover text is money."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report
from refundkit.present.charts import TO_DATE, gross_vs_net_chart
from refundkit.timeutil import parse_instant
from tests.analytics.test_report_figures import TZ, build_store

NOW = parse_instant("2026-03-20T15:00:00Z")  # in the week of Monday 16 March, São Paulo


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    return build_store(tmp_path_factory.mktemp("charts-periods"))


def _traces(fig):  # type: ignore[no-untyped-def]  # a plotly Figure
    """Each trace by name (the first of a name: the dashed gross before the dashed net)."""
    out: dict[str, Any] = {}
    for t in fig.data:
        out.setdefault(t.name, t)
    return out


def test_the_week_under_way_is_dashed_and_its_refund_bars_hatched(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-20", by="week", tz=TZ, sync=False, now=NOW)
    fig = gross_vs_net_chart(rep.rows, "BRL", tz=TZ)
    traces = _traces(fig)
    assert TO_DATE in traces and traces[TO_DATE].showlegend
    weeks = [str(d) for d in traces["gross revenue"].x]
    assert weeks[-1] == "2026-03-16"
    # the solid line stops at the last whole week; the dashed one joins it to the week to date
    assert traces["gross revenue"].y[-1] is None and traces["gross revenue"].y[-2] is not None
    dashed = [t for t in fig.data if t.name == TO_DATE]
    assert {t.line.dash for t in dashed} == {"dash"}
    assert dashed[0].y[-1] == 70.0 and dashed[0].customdata[-1] == "BRL 70.00 (to date)"
    assert all(v is None for v in dashed[0].y[:-2])
    for t in fig.data:
        if t.type == "bar":
            assert list(t.marker.pattern.shape) == ["", "", "", "/"]


def test_a_past_report_has_no_mark(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-20", by="week", tz=TZ, sync=False)
    fig = gross_vs_net_chart(rep.rows, "BRL", tz=TZ)
    assert TO_DATE not in _traces(fig)
    assert None not in _traces(fig)["gross revenue"].y


def test_the_compared_range_is_overlaid_in_money(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", compare="previous", tz=TZ, sync=False)
    traces = _traces(gross_vs_net_chart(rep.rows, "BRL", tz=TZ))
    gross = traces["gross, compared period"]
    assert gross.line.dash == "dot"
    assert list(gross.y) == [50.0]  # February: A0 only
    assert list(gross.customdata[0]) == ["BRL 50.00", "2026-02-01"]
    assert "net, compared period" in traces


def test_the_chart_of_a_comparison_saves_as_html(store: OrderStore, tmp_path: Path) -> None:
    rep = gross_vs_net_report(
        store, "2026-03-01", "2026-03-31", by="week", compare="last-year", tz=TZ, sync=False, now=NOW
    )
    fig = gross_vs_net_chart(rep.rows, "USD", tz=TZ)
    out = tmp_path / "c.html"
    fig.write_html(out, include_plotlyjs=False)
    assert "compared period" in out.read_text() and TO_DATE in out.read_text()


def test_each_month_is_labelled_by_its_own_name_under_its_bar(store: OrderStore) -> None:
    names = ["Jan 2026", "Feb 2026", "Mar 2026"]
    rep = gross_vs_net_report(store, "2026-01-01", "2026-03-31", by="month", tz=TZ, sync=False)
    fig = gross_vs_net_chart(rep.rows, "BRL", tz=TZ)
    periods = [str(d) for d in _traces(fig)["gross revenue"].x]
    assert len(periods) == len(names)
    for axis in (fig.layout.xaxis, fig.layout.xaxis2):
        assert [str(v) for v in axis.tickvals] == periods and list(axis.ticktext) == names
