"""The desk's Report tab in chromium: comparing a month with the one before, and the named ranges offered."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

TIMEOUT = 60_000


def test_compare_a_month_with_the_one_before(page: Any) -> None:
    page.get_by_role("tab", name="Report").click()
    form = page.locator(".refundkit-revenue-explorer")
    form.get_by_label("From").fill("2026-03-01")
    form.get_by_label("To (included)").fill("2026-03-31")
    form.get_by_label("Period", exact=True).select_option("month")
    form.get_by_label("Compare with").select_option(label="The period before")
    form.get_by_role("button", name="Show report").click()
    rows = page.locator(".refundkit-report-rows")
    expect(rows).to_contain_text("Compared with 2026-02-01 to 2026-02-28", timeout=TIMEOUT)
    expect(rows).to_contain_text("Gross, compared")
    expect(rows).to_contain_text("Gross change")
    expect(page.locator(".refundkit-report-chart .js-plotly-plot")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".refundkit-report-chart")).to_contain_text("gross, compared period")
    options = [t.replace("\xa0", " ") for t in form.get_by_label("Range").locator("option").all_inner_texts()]
    assert options == [
        "Dates as picked",
        "This month (to date)",
        "Last month",
        "Last quarter",
        "Year to date",
        "Last 12 months",
    ]
