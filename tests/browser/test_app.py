"""`refundkit app` in chromium, against the sandbox: what a person at the refund desk does and sees."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from playwright.sync_api import expect

from .conftest import Desk

TIMEOUT = 30_000


def record_form(page: Any) -> Any:
    return page.locator(".refundkit-record-form")


def look_up(page: Any, order_id: str) -> None:
    field = page.get_by_label("Order ID")
    field.fill(order_id)
    field.press("Enter")
    expect(page.locator(".refundkit-order")).to_contain_text(order_id, timeout=TIMEOUT)


def fill_refund(page: Any, amount: str, reference: str, reason: str = "item returned") -> None:
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("External reference").fill(reference)
    page.get_by_label("Reason", exact=True).fill(reason)
    record_form(page).get_by_label("I confirm").check()


def result(page: Any) -> Any:
    return page.locator(".refundkit-result")


def settled(page: Any) -> None:
    """Recording finished: the button reads "Record refund" again."""
    expect(page.get_by_role("button", name="Record refund")).to_be_visible(timeout=TIMEOUT)


def test_every_field_is_found_by_its_label(page: Any) -> None:
    form = record_form(page)
    for label in ("Order ID", "Amount", "Source", "External reference", "Reason", "Refunded on"):
        expect(form.get_by_label(label, exact=True)).to_be_visible()
    expect(form.get_by_label("I confirm")).to_be_visible()
    expect(form.get_by_role("button", name="Look up")).to_be_visible()
    expect(form.get_by_role("button", name="Record refund")).to_be_visible()


def test_record_a_refund_and_find_it_in_master_data_with_one_note(page: Any, desk: Desk) -> None:
    order = desk.order()
    look_up(page, order)
    expect(page.locator(".refundkit-balance")).to_contain_text("Refundable balance")
    fill_refund(page, "12.34", "RCPT-B-1")
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Recorded: a refund of BRL 12.34", timeout=TIMEOUT)
    settled(page)
    expect(page.locator(".refundkit-ledger")).to_contain_text("RCPT-B-1")

    [entry] = desk.entries(order)
    assert (entry.amount.minor, entry.external_ref, entry.recorded_by) == (1234, "RCPT-B-1", "desk-clerk")
    with desk.sb.masterdata.lock:
        docs = desk.sb.masterdata.entities["offlineRefund"].docs
        assert docs[entry.entry_id].current["amount"] == 1234
    notes = [n for n in desk.notes(order) if f"[refundkit:{entry.entry_id}]" in n["description"]]
    assert len(notes) == 1


def test_a_double_click_records_once(page: Any, desk: Desk) -> None:
    order = desk.order()
    look_up(page, order)
    fill_refund(page, "5.00", "RCPT-B-2")
    page.get_by_role("button", name="Record refund").dblclick()
    expect(result(page)).to_contain_text("Recorded", timeout=TIMEOUT)
    settled(page)
    page.wait_for_timeout(1000)  # let a second click, if one got through, be handled
    expect(result(page)).to_contain_text("Recorded: a refund of BRL 5.00")
    expect(result(page)).not_to_contain_text("confirm")
    assert len(desk.entries(order)) == 1


def test_an_over_refund_shows_its_reason_and_writes_nothing(page: Any, desk: Desk) -> None:
    order = desk.order()
    look_up(page, order)
    fill_refund(page, "999999.00", "RCPT-B-3")
    before = desk.writes()
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Refused — nothing was recorded", timeout=TIMEOUT)
    expect(result(page)).to_contain_text("more than the refundable balance")
    settled(page)
    assert desk.writes() == before


def test_a_likely_duplicate_needs_a_second_confirmation(page: Any, desk: Desk) -> None:
    order = desk.order()
    look_up(page, order)
    fill_refund(page, "10.00", "RCPT-B-4")
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Recorded", timeout=TIMEOUT)
    settled(page)
    fill_refund(page, "10.00", "RCPT-B-5")
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Likely duplicate — nothing was recorded yet", timeout=TIMEOUT)
    expect(result(page)).to_contain_text("RCPT-B-4")
    assert len(desk.entries(order)) == 1
    page.get_by_label("Yes, this is a different refund").check()
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text(
        "Recorded: a refund of BRL 10.00 via cash, reference RCPT-B-5", timeout=TIMEOUT
    )
    assert len(desk.entries(order)) == 2


def test_reverse_a_refund_from_its_ledger_row(page: Any, desk: Desk) -> None:
    order = desk.order()
    look_up(page, order)
    fill_refund(page, "7.50", "RCPT-B-6")
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Recorded", timeout=TIMEOUT)
    page.locator(".refundkit-ledger").get_by_role("button", name="Reverse").click()
    expect(page.locator(".refundkit-reverse-panel")).to_contain_text("Reverse the refund of BRL 7.50")
    page.get_by_label("Reason for reversing").fill("recorded on the wrong order")
    page.get_by_role("button", name="Reverse refund").click()
    expect(result(page)).to_contain_text(f"Recorded: a reversal of BRL -7.50 on order {order}", timeout=TIMEOUT)
    expect(page.locator(".refundkit-ledger")).to_contain_text("reversed")
    expect(page.locator(".refundkit-ledger")).to_contain_text("BRL -7.50")
    kinds = sorted(e.kind for e in desk.entries(order))
    assert kinds == ["refund", "reversal"]


def test_the_whole_flow_works_with_the_keyboard(page: Any, desk: Desk) -> None:
    order = desk.order()
    page.get_by_label("Order ID").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(order)
    page.keyboard.press("Enter")
    expect(page.locator(".refundkit-order")).to_contain_text(order, timeout=TIMEOUT)
    page.get_by_label("Amount", exact=True).focus()
    page.keyboard.type("3.00")
    page.keyboard.press("Tab")  # the source list: keep cash
    page.keyboard.press("Tab")
    page.keyboard.type("RCPT-B-7")
    page.keyboard.press("Tab")  # Generate
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard only")
    record_form(page).get_by_label("I confirm").focus()  # past the date, note and over-refund fields
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Record refund")).to_be_enabled(timeout=TIMEOUT)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Record refund")).to_be_focused()
    page.keyboard.press("Enter")
    expect(result(page)).to_contain_text("Recorded: a refund of BRL 3.00 via cash, reference RCPT-B-7", timeout=TIMEOUT)


def test_looking_up_another_order_clears_the_form(page: Any, desk: Desk) -> None:
    first, second = desk.order(), desk.order()
    look_up(page, first)
    fill_refund(page, "1.00", "RCPT-B-8")
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text("Recorded", timeout=TIMEOUT)
    look_up(page, second)
    for label in ("Amount", "External reference", "Reason"):
        expect(page.get_by_label(label, exact=True)).to_have_value("")
    expect(record_form(page).get_by_label("I confirm")).not_to_be_checked()
    expect(result(page)).to_have_text("")


def test_upload_a_csv_with_one_bad_row(page: Any, desk: Desk, tmp_path: Any) -> None:
    a, b = desk.order(), desk.order()
    path = tmp_path / "apace-export.csv"
    path.write_text(
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{a},10.00,2026-05-10,apace,APC-B-1,damaged\n"
        f"{b},abc,2026-05-10,apace,APC-B-2,damaged\n"
        f"{b},4.50,2026-05-11,cash,RCPT-B-9,goodwill\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Import").click()
    with page.expect_file_chooser() as chooser:
        page.locator(".refundkit-upload").click()
    chooser.value.set_files(str(path))
    expect(page.locator(".refundkit-import-summary")).to_contain_text(
        "3 rows, 2 would be recorded, 0 already recorded, 1 refused", timeout=TIMEOUT
    )
    expect(page.locator(".refundkit-import-table")).to_contain_text("refused")
    page.locator(".refundkit-import-form").get_by_label("I confirm").check()
    page.get_by_role("button", name="Record good rows").click()
    expect(page.locator(".refundkit-import-result")).to_contain_text(
        "2 recorded, 0 already recorded, 1 refused", timeout=TIMEOUT
    )
    with page.expect_download() as info:
        page.get_by_text("Download the result (CSV)").click()
    body = info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["outcome"] for r in rows] == ["recorded", "refused", "recorded"]
    assert "amount" in rows[1]["message"]
    assert len(desk.entries(a)) == 1 and len(desk.entries(b)) == 1


def _upload(page: Any, path: Any) -> None:
    page.get_by_role("tab", name="Import").click()
    with page.expect_file_chooser() as chooser:
        page.locator(".refundkit-upload").click()
    chooser.value.set_files(str(path))


def write_sparse_csv(path: Any, size: int) -> None:
    """A CSV header and then ``size`` bytes in all, sparse: no disk is used for it."""
    with path.open("wb") as f:
        f.write(b"order_id,amount,refunded_at,source,external_ref,reason\n")
        f.truncate(size)


def write_padded_csv(path: Any, rows: str, size: int) -> None:
    """``rows`` and then blank lines the importer skips, ``size`` bytes in all."""
    with path.open("w", encoding="utf-8") as f:
        f.write(rows)
        f.write((" " * 1023 + "\n") * ((size - len(rows)) // 1024))
        f.write(" " * ((size - len(rows)) % 1024))
    assert path.stat().st_size == size


def test_a_file_of_any_size_past_the_limit_is_told_the_limit_and_one_at_the_limit_still_uploads(
    page: Any, desk: Desk, tmp_path: Any
) -> None:
    # past 200 MiB a file is bigger than the largest message the page's connection carries: it is refused by its size
    huge = tmp_path / "huge-export.csv"
    write_sparse_csv(huge, 201 * 2**20)
    _upload(page, huge)
    summary = page.locator(".refundkit-import-summary")
    expect(summary).to_contain_text("huge-export.csv is 201.0 MiB; the desk takes files up to 50 MiB", timeout=TIMEOUT)
    # the page is still connected: a file of exactly 50 MiB is read, checked and recorded
    order = desk.order()
    path = tmp_path / "big-export.csv"
    rows = f"order_id,amount,refunded_at,source,external_ref,reason\n{order},2.00,2026-05-10,cash,RCPT-BIG-1,big\n"
    write_padded_csv(path, rows, 50 * 2**20)
    _upload(page, path)
    big = 180_000  # 50 MiB read by the browser, sent over the websocket and checked, on a loaded machine
    expect(summary).to_contain_text("1 would be recorded", timeout=big)
    page.locator(".refundkit-import-form").get_by_label("I confirm").check()
    page.get_by_role("button", name="Record good rows").click()
    expect(page.locator(".refundkit-import-result")).to_contain_text("1 recorded", timeout=big)
    assert len(desk.entries(order)) == 1


def test_download_an_xlsx_report(page: Any, desk: Desk) -> None:
    page.get_by_role("tab", name="Report").click()
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To (included)").fill("2026-03-31")
    page.get_by_role("button", name="Show report").click()
    expect(page.locator(".refundkit-report-chart .js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(page.locator(".refundkit-report-rows")).to_contain_text("2026-03")
    expect(page.locator(".refundkit-report-rows")).to_contain_text("BRL ")
    expect(page.locator(".refundkit-report-rows th").nth(4)).to_have_text("VTEX refunds")  # headers in words
    expect(page.locator(".refundkit-report-rows tr.refundkit-total")).to_have_count(1)  # one Total: BRL's
    expect(page.locator(".refundkit-report-rows tr.refundkit-total td").first).to_have_text("Total")
    with page.expect_download() as info:
        page.get_by_text("Download XLSX").click()
    download = info.value
    assert download.suggested_filename == "refunds-report_2026-03_refund-date_UTC.xlsx"
    with zipfile.ZipFile(download.path()) as book:
        workbook = book.read("xl/workbook.xml").decode()
    assert 'name="Report BRL"' in workbook and 'name="Definitions"' in workbook
