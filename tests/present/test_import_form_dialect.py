"""The desk's Import tab takes a CSV as a pt-BR Excel saves it and gives its result back in the same dialect."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest

import refundkit
from refundkit.money import Money
from refundkit.present.import_form import ImportForm
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


def test_a_pt_br_excel_file_with_dates_that_read_both_ways(rk: refundkit.Session) -> None:
    ids = [o.order_id for o in rk.client.orders.list(START, END, statuses=["invoiced"])]
    full = rk.client.orders.get_many(ids[:40])
    a = next(
        o
        for o in full.values()
        if not o.return_invoices
        and o.currency == "BRL"
        and o.total.minor >= 1_100_00
        and o.created_at.isoformat() < "2026-04-01"  # refunds dated early in April follow it
    )
    data = (
        "order_id;amount;refunded_at;source;external_ref;reason\r\n"
        f"{a.order_id};1.000,25;03/04/2026;cash;DESK-PT-1;devolução\r\n"
        f"{a.order_id};7,5;04/04/2026;cash;DESK-PT-2;frete\r\n"
    ).encode("cp1252")
    form = ImportForm(rk.ledger)
    form.load(data, "reembolsos.csv")
    said = text(form.summary.value)
    assert "03/04/2026 on line 2" in said and "Choose how the file writes dates" in said
    assert form.record_button.disabled and rk.ledger.entries(order_id=a.order_id) == []

    form.date_format.value = "dd/mm/yyyy"  # the file is checked again, read day first
    assert "2 would be recorded" in text(form.summary.value)
    form.confirm.value = True
    form.record_button.click()
    assert "2 recorded" in text(form.result.value)
    entries = sorted(rk.ledger.entries(order_id=a.order_id), key=lambda e: e.external_ref)
    assert [e.amount for e in entries] == [Money(100025, "BRL"), Money(750, "BRL")]
    assert [e.refunded_at.isoformat()[:10] for e in entries] == ["2026-04-03", "2026-04-04"]

    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", form.download.value)
    assert b64
    body = base64.b64decode(b64.group(1))
    assert not body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("cp1252")), delimiter=";"))
    assert [(r["amount"], r["refunded_at"], r["outcome"]) for r in rows] == [
        ("1000,25", "03/04/2026", "recorded"),
        ("7,50", "04/04/2026", "recorded"),
    ]
