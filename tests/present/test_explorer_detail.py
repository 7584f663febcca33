"""The Report tab's drill-down and its files, driven as a person would: a click on a period's row (what the row's
script writes in the page) opens its orders and refunds, which add up to the row and equal what `refundkit report
--detail` writes; the downloads are named by what they hold; after an error nothing of the last report stays."""

from __future__ import annotations

import base64
import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

import refundkit
from refundkit.analytics.export import export_csv
from refundkit.analytics.report import gross_vs_net_report, report_detail
from refundkit.analytics.sources import REFUND_COLUMNS
from refundkit.config import load_settings
from refundkit.errors import InputError
from refundkit.money import format_money
from refundkit.present.explorer import RevenueExplorer
from refundkit.testing import run_cli
from refundkit.timeutil import Instant

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def links(html: str) -> list[tuple[str, bytes]]:
    """The download links in ``html``: (file name, bytes) as a click saves them."""
    return [
        (name, base64.b64decode(data))
        for name, data in re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", html)
    ]


def click_row(explorer: RevenueExplorer, period: date) -> None:
    """What a click on the row does in the page: its script writes the row's period and the moment to the hidden
    box (tests/browser/test_report_detail.py clicks it in chromium)."""
    assert f'data-period="{period.isoformat()}"' in explorer.table.value, "the row is not in the table"
    explorer.row_click.value = f"{period.isoformat()} {datetime.now(UTC).timestamp()}"


@pytest.fixture(scope="module")
def recorded(small_session: refundkit.Session) -> str:
    """An offline refund in March (and one reversed, so a reversal is among the lines): the order's id."""
    ledger = small_session.ledger
    orders = small_session.client.orders.list(
        Instant.from_datetime(datetime(2026, 3, 2, tzinfo=UTC)),
        Instant.from_datetime(datetime(2026, 3, 4, tzinfo=UTC)),
        statuses=["invoiced"],
    )
    order = next(o for o in orders if o.currency == "BRL" and o.total.minor > 100_00)
    when = Instant.from_datetime(datetime(2026, 3, 24, 15, tzinfo=UTC))
    ledger.record(order.order_id, "20.00", "cash", "DRILL-1", reason="damaged", refunded_at=when)
    wrong = ledger.record(
        order.order_id, "5.00", "cash", "DRILL-2", reason="typo", refunded_at=when + timedelta(hours=1)
    )
    ledger.reverse(wrong.entry.entry_id, "typed on the wrong order", order_id=order.order_id)
    return order.order_id


@pytest.fixture
def explorer(small_session: refundkit.Session, recorded: str) -> RevenueExplorer:
    return RevenueExplorer(small_session, first=FIRST, last=LAST, period="week")


def test_a_click_on_a_period_shows_its_orders_and_refunds_adding_up_to_its_row(
    explorer: RevenueExplorer, recorded: str
) -> None:
    report = explorer.report
    assert report is not None and explorer.currency.value == "BRL"
    week = date(2026, 3, 23)
    click_row(explorer, week)
    detail = explorer.opened
    assert detail is not None and detail.period == week and detail.currency == "BRL"
    [row] = report.rows.filter((pl.col("period") == week) & (pl.col("currency") == "BRL")).iter_rows(named=True)
    # added up here, line by line, from what the drill-down lists
    gross = sum(detail.orders["total_minor"].to_list())
    by_column = {c.stem: 0 for c in REFUND_COLUMNS}
    for r in detail.refunds.iter_rows(named=True):
        by_column[r["column"]] += r["amount_minor"]
    assert detail.orders.height == row["orders"] > 0 and gross == row["gross_minor"]
    assert by_column == {c.stem: row[c.name] for c in REFUND_COLUMNS}
    assert row["native_refunds_minor"] > 0 and row["offline_refunds_minor"] == 20_00  # the reversed 5.00 nets out
    assert gross - sum(by_column.values()) == row["net_minor"]
    [sums] = detail.figures().iter_rows(named=True)
    assert {k: sums[k] for k in row if k in sums} == {k: row[k] for k in sums if k in row}

    shown = explorer.detail.value
    words = text(shown)
    assert "What makes up 2026-03-23 to 2026-03-29 in BRL" in words
    assert f"gross {format_money(row['gross_minor'], 'BRL')}" in words
    assert f"net {format_money(row['net_minor'], 'BRL')}" in words
    assert "_minor" not in shown and "native_refunds" not in shown
    # every order links to its page in the VTEX Admin of the account
    hrefs = re.findall(r"class='refundkit-admin-link' href='([^']+)'", shown)
    for order_id in detail.orders["order_id"].to_list():
        assert f"https://refundkitdemo.myvtex.com/admin/orders/{order_id}" in hrefs
    assert f"https://refundkitdemo.myvtex.com/admin/orders/{recorded}" in hrefs
    assert "DRILL-1" in words and "reversal of an offline refund" in words and "BRL -5.00" in words
    assert "VTEX return invoice" in words and "Offline refunds" in words


def test_the_drill_down_files_are_what_refundkit_report_detail_writes(
    explorer: RevenueExplorer, small_session: refundkit.Session, tmp_path: Any
) -> None:
    week = date(2026, 3, 23)
    click_row(explorer, week)
    assert explorer.report is not None
    files = dict(links(explorer.detail.value))
    name = "refunds-detail_2026-03-23_2026-03-29_BRL_refund-date_UTC"
    assert sorted(files) == [f"{name}.csv", f"{name}.xlsx"]
    assert files[f"{name}.csv"].decode() == export_csv(
        explorer.report, detail=report_detail(explorer.report, week, "BRL")
    )
    # the command line, over the store the desk just read (no VTEX call): the same lines
    settings = small_session.settings
    env = {"VTEX_ACCOUNT_NAME": settings.account, "REFUNDKIT_CACHE_DIR": str(settings.cache_dir)}
    args = ["report", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "week", "--tz", "UTC"]
    p = run_cli([*args, "--no-sync", "--currency", "BRL", "--detail", "2026-03-23", "--format", "csv"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert files[f"{name}.csv"].decode() == p.stdout
    lines = list(csv.DictReader(io.StringIO(p.stdout)))
    assert {r["line"] for r in lines} == {"order", "refund"} and {r["currency"] for r in lines} == {"BRL"}
    with zipfile.ZipFile(io.BytesIO(files[f"{name}.xlsx"])) as book:
        workbook = book.read("xl/workbook.xml").decode()
    assert 'name="Detail orders"' in workbook and 'name="Detail refunds"' in workbook


def test_the_report_downloads_are_named_by_what_days_view_and_zone(small_session: refundkit.Session) -> None:
    form = RevenueExplorer(
        small_session, first=date(2026, 3, 1), last=date(2026, 3, 31), period="month", tz="America/Sao_Paulo"
    )
    names = [n for n, _ in links(form.downloads.value)]
    assert names == [
        "refunds-report_2026-03_refund-date_America-Sao_Paulo.csv",
        "refunds-report_2026-03_refund-date_America-Sao_Paulo.xlsx",
    ]
    form.attribution.value = "order_date"
    form.first_day.value = date(2026, 2, 20)
    assert next(n for n, _ in links(form.downloads.value)) == (
        "refunds-report_2026-02-20_2026-03-31_order-date_America-Sao_Paulo.csv"
    )


def test_after_an_error_nothing_of_the_last_report_stays(explorer: RevenueExplorer) -> None:
    click_row(explorer, date(2026, 3, 23))
    assert explorer.table.value and explorer.downloads.value and explorer.detail.value and explorer.chart.outputs
    explorer.first_day.value = date(2026, 4, 10)  # after the last day
    assert "Pick a first day on or before the last day" in text(explorer.message.value)
    assert explorer.report is None and explorer.opened is None and explorer.figure is None
    assert explorer.table.value == explorer.downloads.value == explorer.detail.value == ""
    assert explorer.chart.outputs == () and explorer.csv_bytes == explorer.xlsx_bytes == b""

    explorer.first_day.value = FIRST  # a good range again: the report is back
    assert explorer.report is not None and explorer.table.value

    def refuses(*_args: Any, **_kwargs: Any) -> Any:
        raise InputError("VTEX serves two years only")

    explorer._report_fn = refuses  # the next reading fails (as VTEX can)
    explorer.show_button.click()
    assert text(explorer.message.value) == "VTEX serves two years only"
    assert explorer.report is None and explorer.table.value == explorer.downloads.value == ""


def test_a_period_not_in_the_report_or_another_currency_closes_the_drill_down(explorer: RevenueExplorer) -> None:
    explorer.open_detail("2026-05-04")
    assert "is not a period of this report" in text(explorer.detail.value) and explorer.opened is None
    click_row(explorer, date(2026, 3, 23))
    assert explorer.opened is not None
    explorer.currency.value = "USD"  # the table now shows USD: a BRL list below it would mislead
    assert explorer.opened is None and explorer.detail.value == ""


def test_the_links_follow_the_admin_address_the_settings_give(small_session: refundkit.Session) -> None:
    template = "https://{account}.example.com/admin/checkout/#/orders/{order_id}"
    settings = load_settings(env={"REFUNDKIT_ADMIN_ORDER_URL": template}, env_file=False)
    source = SimpleNamespace(settings=settings, ledger=small_session.ledger)

    def report(_source: Any, *args: Any, **kwargs: Any) -> Any:
        return gross_vs_net_report(small_session, *args, **kwargs)

    form = RevenueExplorer(source, first=FIRST, last=LAST, period="week", report=report)
    click_row(form, date(2026, 3, 23))
    hrefs = re.findall(r"class='refundkit-admin-link' href='([^']+)'", form.detail.value)
    assert hrefs and all(h.startswith("https://refundkitdemo.example.com/admin/checkout/#/orders/") for h in hrefs)
