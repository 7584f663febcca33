"""The report over the store under both readings of VTEX's order value after a return invoice: the same hand-made
store as test_report_figures, where VTEX's value of order F (7000, return invoice 2500) either stays 7000 or reads
4500. With the account's verdict saved, the report's figures are the same (BRL, refund-date view, by month:
gross 230.00, VTEX refunds 25.00, offline 35.00, net 170.00); without one, value is read as kept and the report
says so."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from refundkit.analytics import gross_vs_net_report
from refundkit.analytics.store import orders_rows_frame
from refundkit.analytics.trenddata import trend_data
from refundkit.analytics.trends import refund_rate
from refundkit.ledger.valueverdict import ValueVerdict, save_value_verdict

from .test_report_figures import TZ, _order, build_store


def _brl(report) -> tuple[str, ...]:  # type: ignore[no-untyped-def]  # a Report
    rows = [r for r in report.display_rows() if r["currency"] == "BRL"]
    assert len(rows) == 1
    r = rows[0]
    return (r["gross"], r["native_refunds"], r["offline_refunds"], r["net"])


@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_a_return_is_subtracted_once_under_either_reading(tmp_path: Path, reading: str) -> None:
    st = build_store(tmp_path / "store")
    if reading == "reduced":  # VTEX's value already lowered by the return invoices
        st.upsert_orders(
            orders_rows_frame(
                [
                    _order("F", "2026-03-20T12:00:00Z", "invoiced", "BRL", 7000 - 2500, invoices=["RF1"]),
                    _order("E", "2026-03-15T12:00:00Z", "canceled", "BRL", 0, invoices=["RE1"]),
                ]
            )
        )
    verdict = ValueVerdict("handmade", datetime(2026, 4, 1, tzinfo=UTC), reading, "F", 4500, 7000, 2500)
    save_value_verdict(tmp_path, verdict)
    rep = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert rep.parameters["value_reading"] == reading
    assert "refundkit doctor" in rep.parameters["value_reading_source"]
    assert _brl(rep) == ("230.00", "25.00", "35.00", "170.00")
    # the trends start from the same gross: the refund rate's gross and VTEX refunds are those of the report
    td = trend_data(st, date(2026, 3, 1), date(2026, 3, 31), tz=TZ, sync=False)
    rate = refund_rate(*td.frames, period="month", tz=TZ, **td.bounds).filter(pl.col("currency") == "BRL")
    assert (int(rate["gross_minor"].sum()), int(rate["native_refunds_minor"].sum())) == (23000, 2500)


def test_without_a_verdict_value_is_read_as_kept_and_the_report_says_so(tmp_path: Path) -> None:
    st = build_store(tmp_path / "store")
    rep = gross_vs_net_report(st, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert rep.parameters["value_reading"] == "kept"
    assert "assumed" in rep.parameters["value_reading_source"]
    assert _brl(rep) == ("230.00", "25.00", "35.00", "170.00")
