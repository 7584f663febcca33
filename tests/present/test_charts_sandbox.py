"""The gross-versus-net chart drawn from revenue collected on an in-process sandbox."""

from __future__ import annotations

import polars as pl
import pytest

import refundkit
from refundkit.analytics import collect_revenue
from refundkit.present.charts import daily_gross, gross_vs_net_chart
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


def test_charts_draw_one_currency_at_a_time_with_refunds_on_their_own_panel(rk: refundkit.Session) -> None:
    data = collect_revenue(rk, START, END)
    table = data.gross_vs_net(period="month")
    fig = gross_vs_net_chart(table, "BRL")
    names = [t.name for t in fig.data]
    assert names == ["VTEX refunds", "offline refunds", "gross revenue", "net revenue"]
    native = table.filter(pl.col("currency") == "BRL").get_column("native_refunds_minor").to_list()
    assert list(fig.data[0].y) == [v / 100 for v in native]  # on their own panel, upwards
    assert fig.data[0].customdata[0].startswith("BRL ")
    assert "net = gross − VTEX refunds − offline refunds" in fig.layout.title.subtitle.text.replace("<br>", " ")

    daily = daily_gross(data.orders)
    assert sorted(t.name for t in daily.data) == ["gross BRL", "gross USD"]
    empty = gross_vs_net_chart(table, "EUR")
    assert "No orders or refunds in EUR" in empty.layout.annotations[0].text
