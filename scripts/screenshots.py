"""Make the README's pictures from the demo store: the refund desk's tabs (the Report tab with its totals and a
comparison, and one month opened to its orders and refunds), a team desk's sign-in page and the charts.

    .venv/bin/python scripts/screenshots.py            # or: ./dev pictures
    .venv/bin/python scripts/screenshots.py --out /tmp/pictures
    .venv/bin/python scripts/screenshots.py --only refunds   # just app-refunds.png (or: --only sign-in, items)

It serves the demo sandbox (the synthetic store `refundkit demo` uses, kept in memory), records the refunds the
pictures show through the ledger (the sample CSV, and two refunds on one order), starts `refundkit app` against it,
drives Debian's chromium with Playwright and writes PNGs. Nothing is drawn by hand: run it again after changing the
app and commit the new pictures.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

from refundkit.analytics.report import gross_vs_net_report
from refundkit.config import load_settings
from refundkit.ledger import import_refunds
from refundkit.money import Money
from refundkit.present.charts import gross_vs_net_chart, save_png
from refundkit.present.cli_app import free_port, start_app, stop_app
from refundkit.present.desk_users import add_user
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.session import connect
from refundkit.testing import DEMO_TODAY
from refundkit.timeutil import Instant, local_day_bounds

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_refunds.csv"
CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
TZ = "America/Sao_Paulo"
REPORT_FROM, REPORT_TO = "2026-05-01", "2026-07-31"
#: The month the drill-down picture opens (a row of the report by month).
DETAIL_MONTH = "2026-05-01"


def chromium() -> str:
    for path in (os.environ.get("REFUNDKIT_CHROMIUM", ""), *CHROMIUM):
        if path and Path(path).exists():
            return path
    sys.exit("chromium is needed for the pictures: apt-get install chromium (or set REFUNDKIT_CHROMIUM)")


def say(text: str) -> None:
    print(text, flush=True)


def prepare(env: dict[str, str]) -> str:
    """Record what the pictures show; return the order whose ledger the Record tab shows."""
    with connect(settings=load_settings(env=env, env_file=False)) as rk:
        report = import_refunds(rk.ledger, SAMPLE)
        say(f"  {report.summary()}")
        order = next(
            o.order_id
            for o in rk.client.orders.list(
                *_bounds("2026-06-01", "2026-06-03"),
                statuses=["invoiced"],
            )
            if o.currency == "BRL" and not rk.client.orders.get(o.order_id).return_invoices
        )
        # offline refunds inside the report's range, a few days after their orders (fixed references: a rerun of
        # this script on a kept sandbox would record nothing new)
        reasons = ("item arrived damaged", "late delivery goodwill", "wrong size", "price match")
        sources = ("apace", "apace", "bank-transfer", "cash")
        picked = [
            o
            for o in rk.client.orders.list(*_bounds(REPORT_FROM, "2026-07-20"), statuses=["invoiced"])
            if o.currency == "BRL"
        ]
        for n, o in enumerate(picked[:: max(1, len(picked) // 40)][:40]):
            full = rk.client.orders.get(o.order_id)
            if full.return_invoices:
                continue
            share = (15, 30, 50, 100)[n % 4]
            amount = Money(full.total.minor * share // 100, "BRL").decimal_str()
            rk.ledger.record(
                o.order_id,
                amount,
                sources[n % 4],
                f"PIC-{n:04d}",
                reason=reasons[n % 4],
                refunded_at=full.created_at + timedelta(days=2 + n % 9),
            )
        rk.ledger.record(order, "25.00", "apace", "APC-200114", reason="item arrived damaged")
        rk.ledger.record(order, "10.00", "cash", "RECEIPT-0099", reason="missing accessory, refunded at the store")
        wrong = rk.ledger.record(order, "5.00", "cash", "RECEIPT-0098", reason="missing accessory")
        rk.ledger.reverse(wrong.entry.entry_id, "typed on the wrong order", order_id=order)
        return order


def _bounds(first: str, last: str) -> tuple[Instant, Instant]:
    return local_day_bounds(date.fromisoformat(first), date.fromisoformat(last), "UTC")


def charts(env: dict[str, str], out: Path) -> None:
    with connect(settings=load_settings(env=env, env_file=False)) as rk:
        report = gross_vs_net_report(rk, REPORT_FROM, REPORT_TO, by="week", tz=TZ, progress=False)
    fig = gross_vs_net_chart(report.rows, "BRL", attribution="refund_date", tz=TZ)
    save_png(fig, out / "chart-gross-vs-net.png", width=1100)
    say(f"  wrote {out / 'chart-gross-vs-net.png'}")


def shoot(page: Any, path: Path) -> None:
    """The whole desk, however long: the page is made tall enough first (Voilà scrolls inside the page)."""
    desk = page.locator(".refundkit-desk")
    height = int(desk.evaluate("e => e.scrollHeight")) + 40
    page.set_viewport_size({"width": 1200, "height": max(900, height)})
    page.wait_for_timeout(500)
    desk.screenshot(path=str(path))
    page.set_viewport_size({"width": 1200, "height": 1000})
    say(f"  wrote {path}")


def shoot_between(page: Any, top: Any, bottom: Any, path: Path) -> None:
    """The part of the desk from the top of ``top`` to the bottom of ``bottom`` (the page made tall enough first)."""
    desk = page.locator(".refundkit-desk")
    height = int(desk.evaluate("e => e.scrollHeight")) + 40
    page.set_viewport_size({"width": 1200, "height": max(900, height)})
    # a click scrolls what it clicked into view, sideways too: back to the left edge, so the picture starts there
    page.evaluate("() => { for (const e of document.querySelectorAll('*')) e.scrollLeft = 0; window.scrollTo(0, 0); }")
    page.wait_for_timeout(500)
    a, b, whole = top.bounding_box(), bottom.bounding_box(), desk.bounding_box()
    x = max(0.0, whole["x"] - 4)
    clip = {"x": x, "y": a["y"] - 8, "width": whole["width"] + 8, "height": b["y"] + b["height"] - a["y"] + 16}
    page.screenshot(path=str(path), clip=clip, full_page=True)
    page.set_viewport_size({"width": 1200, "height": 1000})
    say(f"  wrote {path}")


def picker_order(env: dict[str, str]) -> str:
    """A BRL order of several lines, one of them of several units, with shipping and no return invoice: the item
    picker's picture."""
    with connect(settings=load_settings(env=env, env_file=False)) as rk:
        for o in rk.client.orders.list(*_bounds("2026-06-01", "2026-06-20"), statuses=["invoiced"]):
            if o.currency != "BRL":
                continue
            full = rk.client.orders.get(o.order_id)
            if (
                full.return_invoices
                or len(full.items) < 3
                or rk.ledger.order_items(o.order_id).shipping_charged.minor <= 0
            ):
                continue
            if any(i.quantity > 1 for i in full.items):
                return o.order_id
    raise SystemExit("the demo store has no order for the item picker's picture")


def items_picture(url: str, order: str, out: Path) -> None:
    """The Record tab's item picker: an order's lines with their units and price paid, two units and the shipping
    picked, the amount filled with their price paid."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True)
        # tall enough that nothing scrolls: the picture is cut from the page as it stands
        page = browser.new_page(viewport={"width": 1200, "height": 1800}, device_scale_factor=1)
        page.goto(url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=90_000)
        page.get_by_label("Order ID").fill(order)
        page.get_by_label("Order ID").press("Enter")
        units = page.locator(".refundkit-item-units input")
        expect(units.first).to_be_visible(timeout=30_000)
        boxes = units.count()
        for n in range(boxes):
            if int(units.nth(n).get_attribute("max") or 0) > 1:
                units.nth(n).fill("2")
                units.nth(n).press("Tab")
                break
        page.locator(".refundkit-items-shipping input").check()
        expect(page.locator(".refundkit-items-summary")).to_contain_text("shipping", timeout=30_000)
        page.get_by_label("External reference").fill("APC-200311")
        page.get_by_label("Reason", exact=True).fill("two arrived damaged")
        page.wait_for_timeout(500)
        form = page.locator(".refundkit-record-form")
        top = page.locator(".refundkit-order").bounding_box()
        bottom = page.get_by_label("Reason", exact=True).bounding_box()
        box = form.bounding_box()
        if top is None or bottom is None or box is None:
            raise SystemExit("the Record tab did not show the order's items")
        page.screenshot(
            path=str(out / "app-item-picker.png"),
            clip={
                "x": box["x"],
                "y": top["y"],
                "width": box["width"],
                "height": bottom["y"] + bottom["height"] - top["y"] + 5,
            },
        )
        say(f"  wrote {out / 'app-item-picker.png'}")
        browser.close()


def sign_in_picture(url: str, out: Path) -> None:
    """A team desk's sign-in page (refundkit app --users FILE), the name typed in."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 900, "height": 420}, device_scale_factor=1)
        page.goto(url)
        page.get_by_label("Name").fill("ana")
        page.get_by_label("Password").fill("a password")
        page.screenshot(path=str(out / "app-sign-in.png"))
        say(f"  wrote {out / 'app-sign-in.png'}")
        browser.close()


def app_pictures(url: str, order: str, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 1000}, device_scale_factor=1)
        page.goto(url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=90_000)

        # Record: the order looked up, its ledger with a Reverse button per refund, and a likely duplicate caught
        page.get_by_label("Order ID").fill(order)
        page.get_by_label("Order ID").press("Enter")
        expect(page.locator(".refundkit-ledger")).to_contain_text("RECEIPT-0099", timeout=30_000)
        page.get_by_label("Amount", exact=True).fill("10,00")
        page.get_by_label("External reference").fill("RECEIPT-0100")
        page.get_by_label("Reason", exact=True).fill("missing accessory")
        page.locator(".refundkit-record-form").get_by_label("I confirm").check()
        page.get_by_role("button", name="Record refund").click()
        expect(page.locator(".refundkit-result")).to_contain_text("Likely duplicate", timeout=30_000)
        shoot(page, out / "app-record.png")

        # Import: the sample file checked row by row, nothing written yet
        page.get_by_role("tab", name="Import").click()
        with page.expect_file_chooser() as chooser:
            page.locator(".refundkit-upload").click()
        check = Path(tempfile.mkdtemp()) / "refund-service-export.csv"
        check.write_text(
            SAMPLE.read_text(encoding="utf-8").replace("APC-100231", "APC-100901").replace("RECEIPT-0042", "RCPT-77"),
            encoding="utf-8",
        )
        chooser.value.set_files(str(check))
        expect(page.locator(".refundkit-import-summary")).to_contain_text("would be recorded", timeout=60_000)
        shoot(page, out / "app-import.png")

        # Report: gross versus net by month against the three months before, chart and table with its Total, with the
        # downloads
        page.get_by_role("tab", name="Report").click()
        form = page.locator(".refundkit-revenue-explorer")
        form.get_by_label("From").fill(REPORT_FROM)
        form.get_by_label("To (included)").fill(REPORT_TO)
        form.get_by_label("Period", exact=True).select_option("month")
        form.get_by_label("Compare with").select_option(label="The period before")
        form.get_by_role("button", name="Show report").click()
        expect(page.locator(".refundkit-report-chart .js-plotly-plot")).to_be_visible(timeout=180_000)
        expect(page.locator(".refundkit-report-rows")).to_contain_text("Gross change", timeout=180_000)
        # June's flash sale dwarfs the other months: a logarithmic scale keeps each month and its comparison apart
        form.get_by_label("Scale", exact=True).select_option(label="logarithmic")
        page.wait_for_timeout(1500)  # plotly's transitions
        shoot(page, out / "app-report.png")

        # Drill-down: a month's row clicked, its orders (linked to the VTEX Admin) and refunds, and their downloads
        row = page.locator(f".refundkit-report-rows tr[data-period='{DETAIL_MONTH}']")
        row.click()
        detail = page.locator(".refundkit-report-detail")
        expect(detail.locator(".refundkit-detail-orders a").first).to_be_visible(timeout=60_000)
        shoot_between(page, page.locator(".refundkit-report-rows"), detail, out / "app-report-detail.png")
        browser.close()


def refunds_picture(url: str, out: Path) -> None:
    """The Refunds tab: the newest entries, a reversal among them, one page of many."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 1000}, device_scale_factor=1)
        page.goto(url)
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=90_000)
        page.get_by_role("tab", name="Refunds").click()
        status = page.locator(".refundkit-refunds-status")
        expect(status).to_contain_text("Read at", timeout=60_000)
        page.locator(".refundkit-refunds").get_by_label("Source").select_option("cash")
        page.locator(".refundkit-refunds-show").click()
        expect(status).to_contain_text("Entries 1–", timeout=60_000)
        expect(page.locator(".refundkit-refunds-list")).not_to_contain_text("apace", timeout=60_000)
        page.locator(".refundkit-refunds-export").click()
        expect(page.get_by_role("link", name="Download CSV")).to_be_visible(timeout=60_000)
        page.wait_for_timeout(500)
        shoot(page, out / "app-refunds.png")
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "pictures")
    parser.add_argument("--only", choices=("refunds", "sign-in", "items"), default=None, help="make just this picture")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # the store the pictures were composed on (their dates are fixed), not the demo store that runs up to today
    sandbox = Sandbox(SandboxConfig(state_dir=None, today=DEMO_TODAY))
    with sandbox.serve(port=0) as server, tempfile.TemporaryDirectory() as cache:
        cfg = sandbox.config
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))},
            **sandbox_variables(server.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": cache,
            "REFUNDKIT_USER": "ana",
        }
        say(f"demo sandbox at {server.base_url}; recording the refunds the pictures show")
        order = prepare(env)
        if args.only is None:
            say("charts")
            charts(env, out)
        if args.only in (None, "refunds", "items"):
            say("the app")
            proc, url = start_app(free_port(), env, tz=TZ)
            try:
                if args.only is None:
                    app_pictures(url, order, out)
                if args.only in (None, "items"):
                    items_picture(url, picker_order(env), out)
                if args.only in (None, "refunds"):
                    refunds_picture(url, out)
            finally:
                stop_app(proc)
        if args.only in (None, "sign-in"):
            say("the sign-in page of a team desk")
            team = Path(tempfile.mkdtemp()) / "team.json"
            add_user(team, "ana", secrets.token_urlsafe(16), "recorder")
            proc, url = start_app(free_port(), env, tz=TZ, users_file=team)
            try:
                sign_in_picture(url, out)
            finally:
                stop_app(proc)
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
