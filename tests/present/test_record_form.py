"""The refund desk's Record form, driven without a browser against a real ledger on an in-process sandbox.

Each test does what a person does (type, press Enter, tick, click) and checks what they would read.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Any

import ipywidgets as w
import pytest

import refundkit
from refundkit.errors import NetworkError
from refundkit.ledger import Ledger
from refundkit.present.formkit import failure_text
from refundkit.present.record_form import RecordForm
from refundkit.timeutil import parse_instant
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


def text(html: str) -> str:
    """What a person reads in an HTML widget."""
    inline = re.sub(r"</?(b|i|code|span)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)).replace("&#x27;", "'").strip()


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


@pytest.fixture(scope="module")
def invoiced(rk: refundkit.Session) -> list[str]:
    ids = [o.order_id for o in rk.client.orders.list(START, END, statuses=["invoiced"])]
    full = rk.client.orders.get_many(ids[:40])
    return [oid for oid, o in full.items() if not o.return_invoices and o.currency == "BRL" and o.total.minor >= 50_00]


@pytest.fixture
def order_id(invoiced: list[str]) -> str:
    return invoiced.pop()


def fill(form: RecordForm, order_id: str, amount: str = "12.34", reference: str = "CASH-T-1") -> None:
    form.order_id.value = order_id  # like typing it and pressing Enter: looks the order up
    form.amount.value = amount
    form.source.value = "cash"
    form.reference.value = reference
    form.reason.value = "damaged on arrival"


def ledger_rows(form: RecordForm) -> list[str]:
    """The ledger table's texts, one string per row."""
    if len(form.ledger_view.children) < 2:
        return []
    cells = form.ledger_view.children[1].children
    out, row = [], []
    for cell in cells[9:]:
        row.append(cell.description if hasattr(cell, "on_click") else text(cell.value))
        if len(row) == 9:
            out.append(" | ".join(row))
            row = []
    return out


def recorded_and_reversing(rk: refundkit.Session, order_id: str, reference: str) -> tuple[RecordForm, Any]:
    """A form that recorded a refund of BRL 12.34 and has its reversal panel open; and the order's list of refunds."""
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference=reference)
    form.confirm.value = True
    form.record_button.click()
    grid = form.ledger_view.children[1]
    [button] = [c for c in grid.children if hasattr(c, "on_click") and c.description == "Reverse"]
    button.click()
    return form, grid


def test_enter_looks_up_and_recording_shows_recorded_with_money_as_money(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger, tz="America/Sao_Paulo")
    fill(form, order_id)
    shown = text(form.order_view.value)
    assert order_id in shown and "Refundable balance BRL " in shown and "(America/Sao_Paulo)" in shown
    assert form.record_button.disabled, "recording needs a confirmation first"
    form.confirm.value = True
    form.record_button.click()

    result = text(form.result.value)
    assert result.startswith("Recorded: a refund of BRL 12.34 via cash, reference CASH-T-1"), result
    assert "1234" not in result and "Refundable balance now BRL " in result
    assert "refundkit " not in result, "no command line"
    [entry] = rk.ledger.entries(order_id=order_id)
    assert (entry.amount.minor, entry.reason) == (1234, "damaged on arrival")
    [row] = ledger_rows(form)
    assert "BRL 12.34" in row and "CASH-T-1" in row and row.endswith("Reverse")
    assert form.confirm.value is False and form.record_button.disabled


def test_a_second_click_after_recording_is_ignored_without_a_message(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-2")
    form.confirm.value = True
    form.record_button.click()
    first = form.result.value
    form.record_button.click()  # the queued second click of a double click, handled after the first
    assert form.result.value == first and text(first).startswith("Recorded")
    assert len(rk.ledger.entries(order_id=order_id)) == 1


def test_a_click_while_recording_is_ignored(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-3")
    form.confirm.value = True
    seen: list[tuple[bool, str]] = []
    real = rk.ledger

    class Slow:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def record(self, *args: Any, **kwargs: Any) -> Any:
            seen.append((form.record_button.disabled, form.record_button.description))
            form.record_button.click()
            return real.record(*args, **kwargs)

    form.ledger = Slow()  # type: ignore[assignment]  # a stand-in that clicks while recording
    form.record_button.click()
    assert seen == [(True, "Recording…")]
    assert len(real.entries(order_id=order_id)) == 1
    assert text(form.result.value).startswith("Recorded")
    assert form.record_button.description == "Record refund"


def test_the_same_refund_again_is_already_recorded(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-4")
    form.confirm.value = True
    form.record_button.click()
    form.amount.value, form.reference.value, form.reason.value = "12.34", "cash-t-4 ", "damaged on arrival"
    form.confirm.value = True
    form.record_button.click()
    assert text(form.result.value).startswith("Already recorded")
    assert len(rk.ledger.entries(order_id=order_id)) == 1


def test_an_over_refund_is_refused_with_its_reason_replacing_the_last_result(
    rk: refundkit.Session, order_id: str
) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-5")
    form.confirm.value = True
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded")
    form.amount.value, form.reference.value = "99999.00", "CASH-T-6"
    form.confirm.value = True
    form.record_button.click()
    shown = text(form.result.value)
    assert shown.startswith("Refused — nothing was recorded") and "more than the refundable balance" in shown
    assert "Recorded" not in shown, "the previous result is replaced"
    assert len(rk.ledger.entries(order_id=order_id)) == 1
    assert form.confirm.value is True, "a refused refund keeps the confirmation for the corrected retry"


def test_a_likely_duplicate_needs_a_second_confirmation(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, amount="10.00", reference="RECEIPT-1")
    form.confirm.value = True
    form.record_button.click()
    form.amount.value, form.reference.value = "10,00", "RECEIPT-2"
    form.confirm.value = True
    form.record_button.click()
    shown = text(form.result.value)
    assert shown.startswith("Likely duplicate — nothing was recorded yet") and "RECEIPT-1" in shown
    assert form.duplicate_confirm.layout.display == ""
    assert len(rk.ledger.entries(order_id=order_id)) == 1

    form.amount.value = "10.00"  # another proposal: the second confirmation does not carry over
    assert form.duplicate_confirm.value is False and form.duplicate_confirm.layout.display == "none"
    form.record_button.click()
    assert text(form.result.value).startswith("Likely duplicate")
    form.duplicate_confirm.value = True
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded")
    assert len(rk.ledger.entries(order_id=order_id)) == 2


def test_looking_up_another_order_clears_the_proposal_and_the_result(
    rk: refundkit.Session, invoiced: list[str]
) -> None:
    first, second = invoiced.pop(), invoiced.pop()
    form = RecordForm(rk.ledger)
    fill(form, first, reference="CASH-T-7")
    form.note.value = "receipt 7"
    form.confirm.value = True
    form.record_button.click()
    assert text(form.result.value).startswith("Recorded")
    form.amount.value, form.reference.value = "1.00", "ANOTHER"
    form.order_id.value = second
    assert (form.amount.value, form.reference.value, form.reason.value, form.note.value) == ("", "", "", "")
    assert form.confirm.value is False and form.result.value == ""
    assert second in text(form.order_view.value) and ledger_rows(form) == []

    form.lookup_button.click()  # the same order again keeps what is typed
    form.amount.value = "2.00"
    form.lookup_button.click()
    assert form.amount.value == "2.00"


def test_a_canceled_order_says_so_at_look_up_with_balance_zero(rk: refundkit.Session) -> None:
    for status, words in (("canceled", "it is canceled"), ("payment-pending", "payment is still pending")):
        oid = next(o.order_id for o in rk.client.orders.list(START, END, statuses=[status]))
        form = RecordForm(rk.ledger)
        form.order_id.value = oid
        shown = text(form.order_view.value)
        assert f"Order {oid} cannot take an offline refund: " in shown and words in shown
        currency = rk.ledger.quote(oid).currency
        assert f"Refundable balance {currency} 0" in shown


def test_an_unknown_order_says_what_to_fix(rk: refundkit.Session) -> None:
    form = RecordForm(rk.ledger)
    form.order_id.value = "999999999999-01"
    shown = text(form.result.value)
    assert shown.startswith("Cannot look up this order") and "does not exist" in shown
    assert form.order_view.value == ""


def test_reverse_from_a_ledger_row_asks_for_a_reason(rk: refundkit.Session, order_id: str) -> None:
    form, _grid = recorded_and_reversing(rk, order_id, "CASH-T-8")
    assert form.reverse_panel.layout.display == "" and form.reverse_button.disabled, "a reason comes first"
    assert "BRL 12.34" in text(form.reverse_text.value)
    form.reverse_button.click()
    assert [e.kind for e in rk.ledger.entries(order_id=order_id)] == ["refund"]
    form.reverse_reason.value = "typed on the wrong order"
    form.reverse_button.click()
    shown = text(form.result.value)
    assert shown.startswith(
        f"Recorded: a reversal of BRL -12.34 on order {order_id}, taking back the refund via cash"
    ), shown
    assert form.reverse_panel.layout.display == "none"
    assert sorted(e.kind for e in rk.ledger.entries(order_id=order_id)) == ["refund", "reversal"]
    rows = ledger_rows(form)
    assert rows[0].endswith("reversed") and "| refund | BRL 12.34 |" in rows[0]
    assert "| reversal of a refund | BRL -12.34 |" in rows[1], "a reversal takes money back: its amount is negative"


def test_vtex_failures_never_point_to_a_command_line() -> None:
    shown = failure_text(NetworkError("VTEX could not be reached; run `refundkit doctor` to check"))
    assert "refundkit " not in shown and "try again" in shown


def test_lower_layer_messages_lose_their_command_line_hints() -> None:
    from refundkit.present.formkit import no_command_line

    assert no_command_line("its order note is not posted yet; run `refundkit reconcile` to post it") == (
        "its order note is not posted yet"
    )
    assert no_command_line("the store has never been synced: run `refundkit sync` first") == (
        "the store has never been synced"
    )
    assert no_command_line("not a refund id (ids look like rf-…; list them with `refundkit refunds`)") == (
        "not a refund id (ids look like rf-…)"
    )
    assert no_command_line("plain (kept)") == "plain (kept)"


def test_every_problem_is_listed_together_and_nothing_is_written(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, amount="12.345.6", reference="")
    form.refunded_on.value = date.today() + timedelta(days=3)
    form.over_refund.value = True  # without a reason
    form.confirm.value = True
    form.record_button.click()
    problems = text(form.result.value)
    assert problems.startswith("Refused — nothing was recorded")
    for expected in ("amount", "external reference is missing", "in the future", "over-refund needs a reason"):
        assert expected in problems
    assert rk.ledger.entries(order_id=order_id) == []


def test_a_generated_reference_is_used_and_a_past_day_means_noon(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger)
    fill(form, order_id, reference="")
    form.source.value = "bank-transfer"
    form.refunded_on.value = date(2026, 4, 30)
    form.generate_button.click()
    ref = form.reference.value
    assert re.fullmatch(r"BANK-TRANSFER-20260430-[0-9A-F]{4}", ref) and ref in text(form.result.value)
    form.confirm.value = True
    form.record_button.click()
    [entry] = rk.ledger.entries(order_id=order_id)
    assert entry.external_ref == ref
    # a past day without a time is noon of that day in the store's zone (São Paulo, as VTEX gives it for this
    # store), exactly what `refundkit record --refunded-at 2026-04-30` records
    assert entry.refunded_at == parse_instant("2026-04-30T12:00:00-03:00")


def test_the_day_and_time_are_read_in_the_forms_time_zone(rk: refundkit.Session, order_id: str) -> None:
    form = RecordForm(rk.ledger, tz="America/Sao_Paulo")
    fill(form, order_id, reference="CASH-T-TZ")
    form.refunded_on.value = date(2026, 4, 30)
    form.refunded_time.value = time(14, 30)
    form.confirm.value = True
    form.record_button.click()
    [entry] = rk.ledger.entries(order_id=order_id)
    assert entry.refunded_at == parse_instant("2026-04-30T14:30:00-03:00")
    assert "refunded 2026-04-30 14:30 (America/Sao_Paulo)" in text(form.result.value)


def test_vtex_failures_are_shown_as_text_and_the_button_comes_back(rk: refundkit.Session, order_id: str) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise NetworkError("connection refused", request="GET /api/oms/pvt/orders/x")

    form = RecordForm(rk.ledger)
    fill(form, order_id)
    form.ledger = type("Down", (), {"record": staticmethod(down), "quote": staticmethod(down)})()  # type: ignore[assignment]  # VTEX unreachable
    form.confirm.value = True
    form.record_button.click()
    shown = text(form.result.value)
    assert "VTEX did not answer as expected" in shown and "connection refused" in shown and "Traceback" not in shown
    assert form.record_button.description == "Record refund" and not form.record_button.disabled
    form.look_up()
    assert "VTEX did not answer" in text(form.result.value)


def test_the_time_zone_picker_starts_at_the_stores_zone(rk: refundkit.Session) -> None:
    store = Ledger(rk.client, journal_dir=False, verdict_dir=False, store_tz="America/Sao_Paulo")
    form = RecordForm(store)
    assert form.tz_picker.value == "America/Sao_Paulo", "the store's zone, not UTC"
    assert RecordForm(store, tz="Europe/Lisbon").tz == "Europe/Lisbon", "a zone asked for wins"
    assert RecordForm(Ledger(rk.client, journal_dir=False, verdict_dir=False)).tz == "UTC", "no store zone: UTC"


def test_what_the_record_tab_shows_is_in_plain_words(rk: refundkit.Session, order_id: str) -> None:
    form, grid = recorded_and_reversing(rk, order_id, "CASH-T-PLAIN")
    shown = " ".join(
        text(c.value)
        for c in (form.order_view, form.result, form.reverse_text, *form.ledger_view.children[:1], *grid.children)
        if hasattr(c, "value") and isinstance(c.value, str)
    )
    shown += " " + " ".join(text(h.value) for h in form.widget.children if isinstance(h, w.HTML))
    assert "BRL 12.34" in shown and "Refunds recorded on this order" in shown
    for jargon in ("entry", "entries", "idempotent", "ledger", "attribution"):
        assert not re.search(rf"\b{jargon}\b", shown, re.IGNORECASE), jargon
