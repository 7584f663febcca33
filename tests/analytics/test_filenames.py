"""File names say what a file holds: what, the days, the attribution and the zone, safe on every system."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl
import pytest

from refundkit.analytics.engine import REVENUE_SCHEMA
from refundkit.analytics.filenames import detail_days, detail_file_name, file_name, range_label, report_file_name
from refundkit.analytics.report import Report, ReportDetail

#: Characters Windows or macOS refuse (or treat specially) in a file name.
UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def report(first: str, last: str, **parameters: Any) -> Report:
    params = {"from": first, "to": last, "by": "week", "attribution": "refund-date", "tz": "UTC", "compare": None}
    params.update(parameters)
    empty = pl.DataFrame(schema=REVENUE_SCHEMA)
    return Report(empty, empty, empty, empty, params, "")


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        (date(2026, 11, 1), date(2026, 11, 30), "2026-11"),
        (date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
        (date(2026, 11, 5), date(2026, 11, 5), "2026-11-05"),
        (date(2026, 11, 1), date(2026, 11, 29), "2026-11-01_2026-11-29"),
        (date(2026, 9, 1), date(2026, 11, 30), "2026-09-01_2026-11-30"),
        (date(2026, 11, 2), date(2026, 12, 1), "2026-11-02_2026-12-01"),
    ],
)
def test_one_month_reads_as_the_month_one_day_as_the_day_else_both_days(first: date, last: date, label: str) -> None:
    assert range_label(first, last) == label


def test_the_report_file_name_in_the_issue_s_form() -> None:
    rep = report("2026-11-01", "2026-11-30", tz="America/Sao_Paulo")
    assert report_file_name(rep, "xlsx") == "refunds-report_2026-11_refund-date_America-Sao_Paulo.xlsx"
    rep = report("2026-09-01", "2026-11-30", attribution="order-date", compare="last-year")
    assert report_file_name(rep, "csv") == "refunds-report_2026-09-01_2026-11-30_vs-last-year_order-date_UTC.csv"


@pytest.mark.parametrize("tz", ["America/Argentina/Buenos_Aires", "Etc/GMT+3", "UTC", "../../etc/passwd"])
def test_every_name_is_safe_on_windows_and_macos(tz: str) -> None:
    name = file_name(
        "refunds-report", date(2026, 1, 1), date(2026, 1, 31), "a:b", attribution="x/y", tz=tz, extension="csv"
    )
    assert not UNSAFE.search(name) and not name.startswith(".") and ".." not in name
    assert name.endswith(".csv") and name.startswith("refunds-report_2026-01_a-b_x-y_")


def test_a_drill_down_names_its_period_s_days_within_the_range_and_its_currency() -> None:
    rep = report("2026-03-04", "2026-03-31", tz="America/Sao_Paulo")  # weeks: the first starts on 2026-03-02
    first_week = ReportDetail(date(2026, 3, 2), "BRL", pl.DataFrame(), pl.DataFrame())
    assert detail_days(rep, first_week) == (date(2026, 3, 4), date(2026, 3, 8))
    assert detail_file_name(rep, first_week, "csv") == (
        "refunds-detail_2026-03-04_2026-03-08_BRL_refund-date_America-Sao_Paulo.csv"
    )
    last_week = ReportDetail(date(2026, 3, 30), None, pl.DataFrame(), pl.DataFrame())
    assert detail_days(rep, last_week) == (date(2026, 3, 30), date(2026, 3, 31))
    by_month = report("2026-01-01", "2026-03-31", by="month")
    february = ReportDetail(date(2026, 2, 1), "USD", pl.DataFrame(), pl.DataFrame())
    assert detail_file_name(by_month, february, "xlsx") == "refunds-detail_2026-02_USD_refund-date_UTC.xlsx"
