"""The explorer's "Range" and "Compare with" controls, driven without a browser on a store synced from an
in-process sandbox (orders from 20 February to 30 April 2026), the clock pinned to 15 April 2026, 01:00 UTC
(still 14 April in São Paulo)."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

import refundkit
from refundkit.analytics.report import gross_vs_net_report
from refundkit.present.charts import TO_DATE
from refundkit.present.explorer import RevenueExplorer
from refundkit.timeutil import parse_instant

NOW = parse_instant("2026-04-15T01:00:00Z")
TZ = "America/Sao_Paulo"


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def explorer_on(session: refundkit.Session, calls: list[dict] | None = None) -> RevenueExplorer:
    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]  # the report's own signature
        if calls is not None:
            calls.append({"args": args[1:], **kwargs})
        return gross_vs_net_report(*args, **kwargs)

    return RevenueExplorer(
        session,
        first=date(2026, 3, 1),
        last=date(2026, 3, 31),
        tz=TZ,
        period="month",
        report=counting,
        clock=lambda: NOW,
    )


def test_a_named_range_sets_both_days_in_the_store_zone_and_reads_once(small_session: refundkit.Session) -> None:
    calls: list[dict] = []
    ex = explorer_on(small_session, calls)
    calls.clear()
    ex.range_preset.value = "this-month"
    assert (ex.first_day.value, ex.last_day.value) == (date(2026, 4, 1), date(2026, 4, 14))
    assert len(calls) == 1 and calls[0]["args"] == (date(2026, 4, 1), date(2026, 4, 14))
    assert calls[0]["now"] == NOW
    ex.range_preset.value = "last-quarter"
    assert (ex.first_day.value, ex.last_day.value) == (date(2026, 1, 1), date(2026, 3, 31))
    # in UTC it is already the 15th
    ex.tz_picker.value = "UTC"
    ex.range_preset.value = "ytd"
    assert ex.last_day.value == date(2026, 4, 15)
    # a day picked by hand makes the range the dates as picked
    ex.first_day.value = date(2026, 2, 1)
    assert ex.range_preset.value == "custom"
    assert ex.report is not None and ex.report.parameters["from"] == "2026-02-01"


def test_the_month_under_way_is_marked_in_the_table_and_the_chart(small_session: refundkit.Session) -> None:
    ex = explorer_on(small_session)
    ex.range_preset.value = "last-12-months"
    assert ex.report is not None and ex.report.running
    table = text(ex.table.value)
    assert "2026-04-01 (to date)" in table and "2026-03-01 (to date)" not in table
    assert "still under way" in table
    assert TO_DATE in {t.name for t in ex.figure.data}
    csv_text = ex.csv_bytes.decode()
    assert csv_text.splitlines()[0].endswith(",partial")


def test_compare_shows_the_matching_figures_and_the_change(small_session: refundkit.Session) -> None:
    ex = explorer_on(small_session)
    ex.compare.value = "previous"
    rep = ex.report
    assert rep is not None and rep.compared
    assert (rep.parameters["compare_from"], rep.parameters["compare_to"]) == ("2026-02-01", "2026-02-28")
    alone = gross_vs_net_report(small_session, "2026-02-01", "2026-02-28", by="month", tz=TZ, sync=False)
    brl = rep.rows.filter(pl.col("currency") == "BRL").row(0, named=True)
    feb = alone.rows.filter(pl.col("currency") == "BRL").row(0, named=True)
    assert (brl["compare_gross_minor"], brl["compare_net_minor"]) == (feb["gross_minor"], feb["net_minor"])
    table = text(ex.table.value)
    assert "Gross, compared" in table and "Gross change" in table
    assert "Compared with 2026-02-01 to 2026-02-28" in table
    assert "gross, compared period" in {t.name for t in ex.figure.data}
    assert "compare_gross" in ex.csv_bytes.decode().splitlines()[0]
    assert ex.compare.options[0] == ("No comparison", "none")  # a choice shown in words, never an empty box
    ex.compare.value = "none"
    assert ex.report is not None and not ex.report.compared
    assert "compare gross" not in text(ex.table.value)
