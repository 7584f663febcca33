"""The gross-versus-net explorer, driven as a person would, on a real store synced from an in-process sandbox."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import date
from typing import Any

import pytest

import refundkit
from refundkit.analytics.export import export_csv
from refundkit.analytics.report import CSV_COLUMNS, gross_vs_net_report
from refundkit.errors import InputError
from refundkit.money import format_money
from refundkit.present.explorer import RevenueExplorer


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def downloaded(explorer: RevenueExplorer, extension: str) -> tuple[str, bytes]:
    """What clicking a download link saves: its file name and bytes."""
    for name, payload in re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", explorer.downloads.value):
        if name.endswith(extension):
            return name, base64.b64decode(payload)
    raise AssertionError(f"no {extension} link in {explorer.downloads.value[:200]}")


@pytest.fixture
def explorer(small_session: refundkit.Session) -> RevenueExplorer:
    """A fresh explorer on March 2026 by week (each test starts from it; the store stays synced between tests)."""
    return RevenueExplorer(small_session, first=date(2026, 3, 1), last=date(2026, 3, 31), period="week")


def test_the_explorer_syncs_its_range_and_shows_the_whole_table_in_money(explorer: RevenueExplorer) -> None:
    report = explorer.report
    assert report is not None and report.sync is not None  # opening it synced what the store lacked
    assert "synced" in text(explorer.message.value)
    table = text(explorer.table.value)
    brl = report.rows.filter(report.rows["currency"] == "BRL").height
    assert f"{brl} rows" in table and "USD" not in table  # every row of the currency shown, none elided
    assert table.count("BRL ") >= 4 * brl
    assert "_minor" not in explorer.table.value
    head = re.findall(r"<th[^>]*>([^<]*)</th>", explorer.table.value)
    assert head == ["Period", "Currency", "Orders", "Gross", "VTEX refunds", "Offline refunds", "Net"]
    # one Total row, equal to the sums of the currency's rows added up here from the report's integers
    [total] = re.findall(r"<tr class='refundkit-total'[^>]*>(.*?)</tr>", explorer.table.value)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", total)
    brl_rows = report.rows.filter(report.rows["currency"] == "BRL")
    sums = [sum(brl_rows[c].to_list()) for c in ("orders", "gross_minor", "net_minor")]
    assert cells[:3] == ["Total", "BRL", f"{sums[0]:,}"]
    assert cells[3] == format_money(sums[1], "BRL") and cells[-1] == format_money(sums[2], "BRL")
    assert explorer.figure.layout.title.text.startswith("Gross vs net revenue, BRL")


def test_the_download_buttons_carry_exactly_the_rows_shown(explorer: RevenueExplorer) -> None:
    name, csv_bytes = downloaded(explorer, ".csv")
    assert name == "refunds-report_2026-03_refund-date_UTC.csv"
    assert explorer.report is not None
    assert csv_bytes.decode("utf-8") == export_csv(explorer.report)
    lines = csv_bytes.decode("utf-8").splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 1 + explorer.report.rows.height
    _, xlsx = downloaded(explorer, ".xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        workbook = book.read("xl/workbook.xml").decode("utf-8")
    assert 'name="Report BRL"' in workbook and 'name="Report USD"' in workbook  # a sheet per currency


def test_picking_an_earlier_first_day_syncs_and_widens_the_report(explorer: RevenueExplorer) -> None:
    explorer.first_day.value = date(2026, 2, 20)
    assert explorer.report is not None and explorer.report.sync is not None
    assert explorer.report.parameters["from"] == "2026-02-20"
    assert min(explorer.report.rows["period"].to_list()) <= date(2026, 2, 20)
    name, _ = downloaded(explorer, ".csv")
    assert "_2026-02-20_2026-03-31_" in name


def test_the_view_and_period_reread_the_store_without_syncing(explorer: RevenueExplorer) -> None:
    explorer.attribution.value = "order_date"
    assert explorer.report is not None and explorer.report.sync is None
    assert "cohort view" in explorer.figure.layout.title.text
    explorer.period.value = "month"
    assert explorer.report is not None
    assert explorer.report.rows["period"].to_list()[0] == date(2026, 3, 1)
    assert downloaded(explorer, ".csv")[0] == "refunds-report_2026-03_order-date_UTC.csv"


def test_currency_and_scale_only_redraw(explorer: RevenueExplorer) -> None:
    report = explorer.report
    explorer.currency.value = "USD"
    assert explorer.report is report
    assert "USD" in explorer.figure.layout.title.text
    [shown] = explorer.chart.outputs  # replaced, not appended
    assert "USD" in shown["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
    explorer.scale.value = "log"
    assert explorer.figure.layout.yaxis.type == "log"


def test_a_reversed_range_or_a_failing_report_is_a_message_not_a_traceback(explorer: RevenueExplorer) -> None:
    explorer.first_day.value = date(2026, 4, 10)
    assert "Pick a first day on or before the last day" in text(explorer.message.value)

    def refuses(*_args: Any, **_kwargs: Any) -> Any:
        raise InputError("VTEX serves two years only")

    failing = RevenueExplorer(explorer.source, first=date(2026, 3, 1), last=date(2026, 3, 2), report=refuses)
    assert text(failing.message.value) == "VTEX serves two years only"
    assert failing.report is None and failing.downloads.value == ""


def test_a_failing_report_in_a_kernel_is_the_same_message(small_session: refundkit.Session, in_ipython: None) -> None:
    def refuses(*_args: Any, **_kwargs: Any) -> Any:
        raise InputError("VTEX serves two years only")

    failing = RevenueExplorer(small_session, first=date(2026, 3, 1), last=date(2026, 3, 2), report=refuses)
    assert text(failing.message.value) == "VTEX serves two years only"
    assert failing.report is None and failing.downloads.value == "" and failing.progress.outputs == ()


def test_in_the_desk_nothing_is_read_until_show_report_is_pressed(small_session: refundkit.Session) -> None:
    calls: list[dict[str, Any]] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return gross_vs_net_report(*args, **kwargs)

    form = RevenueExplorer(small_session, first=date(2026, 3, 1), last=date(2026, 3, 31), live=False, report=counting)
    form.period.value = "month"
    form.first_day.value = date(2026, 3, 2)
    assert calls == [] and form.report is None, "the desk's tab reads nothing until asked"
    form.show_button.click()
    assert [c["sync"] for c in calls] == [True] and [c["by"] for c in calls] == ["month"]
    assert form.report is not None and form.chart.outputs and not form.show_button.disabled
    form.scale.value = "log"
    assert len(calls) == 1 and form.figure.layout.yaxis.type == "log", "the scale only redraws"
