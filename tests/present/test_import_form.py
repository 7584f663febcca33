"""The refund desk's Import form, driven without a browser against a real ledger on an in-process sandbox."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import re

import pytest

import refundkit
from refundkit.present.import_form import ImportForm
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


def text(html: str) -> str:
    inline = re.sub(r"</?(b|i|code|span)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("&#x27;", "'").strip()


def downloaded(html: str) -> list[dict[str, str]]:
    """The CSV behind a download link, as rows."""
    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", html)
    assert b64, html
    body = base64.b64decode(b64.group(1)).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


@pytest.fixture(scope="module")
def orders(rk: refundkit.Session) -> list[str]:
    ids = [o.order_id for o in rk.client.orders.list(START, END, statuses=["invoiced"])]
    full = rk.client.orders.get_many(ids[-30:])
    return [oid for oid, o in full.items() if not o.return_invoices and o.currency == "BRL" and o.total.minor >= 50_00]


def test_check_then_record_the_good_rows_with_progress_and_download_the_result(
    rk: refundkit.Session, orders: list[str]
) -> None:
    a, b = orders[0], orders[1]
    data = (
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{a},10.00,2026-05-10,cash,IMP-1,returned\n"
        f"{b},5,50,2026-05-10,cash,IMP-2,returned\n"  # a bad row: the amount's decimal comma split the columns
        f"{b},7.25,2026-05-11,apace,=IMP-3,goodwill\n"
    ).encode()
    form = ImportForm(rk.ledger)
    form.load(data, "refunds.csv")
    summary = text(form.summary.value)
    assert "3 rows, 2 would be recorded, 0 already recorded, 1 refused" in summary and "Nothing is written" in summary
    table = text(form.rows.value)
    assert "refused" in table and table.count("would record") == 2
    assert f"{a} BRL 10.00 cash" in table and f"{b} BRL 7.25 apace" in table, "amounts read show as money"
    assert rk.ledger.entries(order_id=a) == []
    assert form.record_button.disabled, "recording needs the confirmation"

    form.confirm.value = True
    form.record_button.click()
    assert "2 recorded, 0 already recorded, 1 refused" in text(form.result.value)
    assert (form.progress.value, form.progress.max) == (2, 2)
    assert len(rk.ledger.entries(order_id=a)) == 1 and len(rk.ledger.entries(order_id=b)) == 1
    rows = downloaded(form.download.value)
    assert [r["outcome"] for r in rows] == ["recorded", "refused", "recorded"]
    assert [(r["amount"], r["currency"]) for r in rows] == [("10.00", "BRL"), ("", ""), ("7.25", "BRL")]
    assert rows[1]["message"] and rows[2]["external_ref"] == "'=IMP-3", "formula text is made inert"
    assert form.record_button.disabled and form.confirm.value is False

    form.record_button.click()  # a late second click records nothing and says nothing new
    assert len(rk.ledger.entries(order_id=a)) == 1

    again = ImportForm(rk.ledger)  # the same file again: nothing new to record
    again.load(data, "refunds.csv")
    assert "0 would be recorded, 2 already recorded, 1 refused" in text(again.summary.value)
    assert f"{a} BRL 10.00 cash" in text(again.rows.value), "an already recorded row shows the recorded amount"


def test_an_amount_shows_as_money_once_read_and_as_typed_when_it_cannot_be_read(
    rk: refundkit.Session, orders: list[str]
) -> None:
    data = (
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{orders[2]},12.5,2026-05-10,cash,TYPED-1,returned\n"
        f"{orders[2]},ten reais,2026-05-10,cash,TYPED-2,returned\n"
        f"{orders[2]},99999.5,2026-05-10,cash,TYPED-3,returned\n"
    ).encode()
    other_currency = (
        "order_id,amount,currency,refunded_at,source,external_ref,reason\n"
        f"{orders[2]},1500,JPY,2026-05-10,cash,TYPED-4,returned\n"
    ).encode()
    form = ImportForm(rk.ledger)
    form.load(data, "refunds.csv")
    table = text(form.rows.value)
    assert f"{orders[2]} BRL 12.50 cash TYPED-1 would record" in table
    assert f"{orders[2]} ten reais cash TYPED-2 refused" in table
    assert f"{orders[2]} BRL 99,999.50 cash TYPED-3 refused" in table, "refused, but its amount was read"
    form.load(other_currency, "yen.csv")
    assert f"{orders[2]} 1500 cash TYPED-4 refused" in text(form.rows.value), "never shown in a currency it was not"


def test_a_file_that_is_not_a_refund_csv_says_what_to_fix(rk: refundkit.Session, tmp_path) -> None:
    form = ImportForm(rk.ledger)
    form.load(b"\xff\xfe\x00garbage", "export.csv")
    assert "save it as 'CSV UTF-8'" in text(form.summary.value) and form.rows.value == ""
    form.load(tmp_path / "missing.csv")
    assert "Cannot read" in text(form.summary.value)
    assert form.record_button.disabled


def test_rows_held_back_as_likely_duplicates_need_a_second_confirmation(
    rk: refundkit.Session, orders: list[str]
) -> None:
    """APC-901 recorded (on the Record tab, say), then APC901 in a file: held back with the earlier entry, and
    recorded only once its own confirmation is ticked."""
    a, b = orders[3], orders[4]
    first = rk.ledger.record(a, "12.00", "apace", "APC-901", refunded_at="2026-05-10")
    data = (
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{a},12.00,2026-05-11,apace,APC901,damaged\n"
        f"{b},4.00,2026-05-11,cash,OTHER-1,late\n"
    ).encode()
    form = ImportForm(rk.ledger, duplicate_days=7)
    form.load(data, "apace.csv")
    summary = text(form.summary.value)
    assert "1 would be recorded" in summary and "1 held back as likely duplicates" in summary
    assert form.duplicate_confirm.layout.display == "", "the second confirmation is offered"
    table = text(form.rows.value)
    assert "likely duplicate" in table and first.entry.entry_id in table and "APC-901" in table
    assert "--yes" not in table and "refundkit" not in table, "no command line in the desk"

    form.confirm.value = True  # the first confirmation alone records the good row only
    form.record_button.click()
    assert "1 recorded, 0 already recorded, 0 refused, 1 held back" in text(form.result.value)
    assert [e.external_ref for e in rk.ledger.entries(order_id=a)] == ["APC-901"]
    assert len(rk.ledger.entries(order_id=b)) == 1

    form.load(data, "apace.csv")
    assert "0 would be recorded" in text(form.summary.value) and form.record_button.disabled
    form.confirm.value = True
    assert form.record_button.disabled, "nothing to record until the held row is confirmed"
    form.duplicate_confirm.value = True
    assert not form.record_button.disabled
    form.record_button.click()
    assert "1 recorded, 1 already recorded, 0 refused" in text(form.result.value)
    assert sorted(e.external_ref for e in rk.ledger.entries(order_id=a)) == ["APC-901", "APC901"]
    assert form.duplicate_confirm.value is False and form.duplicate_confirm.layout.display == "none"

    form.load(data, "apace.csv")  # and again: nothing new, nothing held
    assert "0 would be recorded, 2 already recorded" in text(form.summary.value)
    assert form.duplicate_confirm.layout.display == "none"


def test_a_file_over_the_upload_limit_is_refused_with_the_limit_named(rk: refundkit.Session) -> None:
    from refundkit.present.import_form import UPLOAD_LIMIT_BYTES

    form = ImportForm(rk.ledger)
    big = memoryview(bytes(UPLOAD_LIMIT_BYTES + 1))
    upload = {"name": "huge.csv", "type": "text/csv", "size": len(big), "content": big}
    upload["last_modified"] = datetime.datetime.now(datetime.UTC)
    form.upload.value = (upload,)
    shown = text(form.summary.value)
    assert "huge.csv is 50.0 MiB; the desk takes files up to 50 MiB" in shown
    assert "Nothing was checked or recorded" in shown
    assert form.report is None and form.record_button.disabled
    assert "Files up to 50 MiB" in text(form.widget.children[0].value)


def test_a_file_the_page_sent_empty_with_its_size_is_refused_by_its_size(rk: refundkit.Session) -> None:
    form = ImportForm(rk.ledger)
    form.load(b"order_id,amount,refunded_at,source,external_ref,reason\n", "earlier.csv")
    upload = {"name": "huge.csv", "type": "text/csv", "size": 201 * 2**20, "content": memoryview(b"")}
    upload["last_modified"] = datetime.datetime.now(datetime.UTC)
    form.upload.value = (upload,)
    assert "huge.csv is 201.0 MiB; the desk takes files up to 50 MiB" in text(form.summary.value)
    assert form.report is None and form.record_button.disabled
