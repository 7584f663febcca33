"""The desk's Report tab in chromium: a click on a period's row opens its orders (each linked to the VTEX Admin)
and refunds, and their downloads hold exactly the lines `refundkit report --detail` gives for that period."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from refundkit.testing import run_cli
from tests.browser.conftest import Desk
from tests.xlsx_cells import read_xlsx

TIMEOUT = 60_000
WEEK, DAYS = "2026-03-23", "2026-03-23_2026-03-29"  # a week of the small store with VTEX refunds in BRL


def test_click_a_period_to_see_its_orders_and_download_them(page: Any, desk: Desk, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Report").click()
    form = page.locator(".refundkit-revenue-explorer")
    form.get_by_label("From").fill("2026-03-01")
    form.get_by_label("To (included)").fill("2026-03-31")
    form.get_by_label("Period", exact=True).select_option("week")
    form.get_by_role("button", name="Show report").click()
    row = page.locator(f".refundkit-report-rows tr[data-period='{WEEK}']")
    expect(row).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".refundkit-report-rows")).to_contain_text("Click a period")
    row.click()

    detail = page.locator(".refundkit-report-detail")
    expect(detail).to_contain_text("What makes up 2026-03-23 to 2026-03-29 in BRL", timeout=TIMEOUT)
    expect(detail).to_contain_text("VTEX return invoice")
    orders = detail.locator(".refundkit-detail-orders a.refundkit-admin-link")
    expect(orders.first).to_be_visible()
    account = desk.env["VTEX_ACCOUNT_NAME"]
    shown = orders.all_inner_texts()
    hrefs = [orders.nth(i).get_attribute("href") for i in range(orders.count())]
    assert hrefs == [f"https://{account}.myvtex.com/admin/orders/{o}" for o in shown]
    assert orders.first.get_attribute("target") == "_blank"
    # the row's figures, as the table shows them, are the sums the drill-down states
    cells = row.locator("td").all_inner_texts()
    sums = detail.locator(".refundkit-detail-sums").inner_text()
    assert sums.startswith(
        f"{cells[2]} orders: gross {cells[3]} − VTEX refunds {cells[4]} − offline refunds {cells[5]}"
    )
    assert sums.endswith(f"= net {cells[6]}")

    with page.expect_download() as info:
        detail.get_by_text("Download these (CSV)").click()
    csv_file = info.value
    name = csv_file.suggested_filename
    assert re.fullmatch(rf"refunds-detail_{DAYS}_BRL_refund-date_[A-Za-z_+-]+\.csv", name), name
    tz = name.removesuffix(".csv").split("_refund-date_")[1]
    with page.expect_download() as info:
        detail.get_by_text("Download these (XLSX)").click()
    xlsx_file = info.value
    assert xlsx_file.suggested_filename == name.removesuffix(".csv") + ".xlsx"

    # the command line, over the store the desk read (no VTEX call), gives the same lines
    zone = {"UTC": "UTC", "America-Sao_Paulo": "America/Sao_Paulo"}[tz]
    args = ["report", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "week", "--tz", zone, "--no-sync"]
    p = run_cli([*args, "--currency", "BRL", "--detail", WEEK, "--format", "csv"], desk.env, tmp_path)
    assert p.returncode == 0, p.stderr
    downloaded = Path(csv_file.path()).read_text(encoding="utf-8")
    assert downloaded == p.stdout
    lines = list(csv.DictReader(io.StringIO(downloaded)))
    assert [r["id"] for r in lines if r["line"] == "order"] == shown
    sheets = read_xlsx(Path(xlsx_file.path()))
    in_sheet = [
        c.value for (r, col), c in sorted(sheets["Detail orders"].items()) if col == 0 and r > 0 and c.value is not None
    ]
    refunds = [c.value for (r, col), c in sorted(sheets["Detail refunds"].items()) if col == 1 and r > 0]
    assert in_sheet == shown
    assert refunds == [r["id"] for r in lines if r["line"] == "refund"] and refunds

    # the keyboard reaches a row too: Enter on it opens its period
    page.locator(".refundkit-report-rows tr[data-period='2026-03-16']").focus()
    page.keyboard.press("Enter")
    expect(detail).to_contain_text("What makes up 2026-03-16 to 2026-03-22 in BRL", timeout=TIMEOUT)
