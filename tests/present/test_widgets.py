"""The Jupyter forms, driven without a browser against a real ledger on an in-process sandbox.

Setting ``.value`` fires observers and ``Button.click()`` runs the handlers synchronously, so each test does what a
person would do in the form and checks what they would see.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import polars as pl
import pytest

import refundkit
from refundkit.analytics import collect_revenue
from refundkit.errors import NetworkError
from refundkit.ledger import make_reference
from refundkit.present.charts import daily_gross, gross_vs_net_chart
from refundkit.present.widgets import RefundForm, ReverseForm
from refundkit.timeutil import parse_instant
from tests.conftest import SMALL_END as END
from tests.conftest import SMALL_START as START


def text(html: str) -> str:
    """What a person reads in an HTML widget."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


@pytest.fixture(scope="module")
def invoiced(rk: refundkit.Session) -> list[str]:
    """Invoiced orders without return invoices, one per test that writes."""
    ids = [o.order_id for o in rk.client.orders.list(START, END, statuses=["invoiced"])]
    full = rk.client.orders.get_many(ids[:40])
    return [oid for oid, o in full.items() if not o.return_invoices]


@pytest.fixture
def order_id(invoiced: list[str]) -> str:
    return invoiced.pop()


def fill(form: RefundForm, order_id: str, amount: str = "12.34", reference: str = "CASH-T-1") -> None:
    form.order_id.value = order_id
    form.amount.value = amount
    form.source.value = "cash"
    form.reference.value = reference
    form.reason.value = "damaged on arrival"


# -- RefundForm ----------------------------------------------------------------------------------------------------
def test_recording_through_the_form(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id)
    assert form.record_button.disabled, "recording needs a confirmation first"
    form.confirm.value = True
    assert not form.record_button.disabled
    form.record_button.click()

    shown = text(form.result.value)
    assert shown.startswith("Recorded") and " 12.34 on order " in shown
    assert form.errors.value == ""
    [entry] = rk.ledger.entries(order_id=order_id)
    assert (entry.amount.minor, entry.source, entry.external_ref, entry.reason) == (
        1234,
        "cash",
        "CASH-T-1",
        "damaged on arrival",
    )
    assert entry.entry_id in shown
    assert "Refundable balance" in text(form.quote_view.value)
    # the next refund needs a fresh confirmation; the button is back, disabled until then
    assert form.confirm.value is False
    assert form.record_button.description == "Record refund" and form.record_button.disabled


def test_a_double_click_records_once(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-2")
    form.confirm.value = True
    form.record_button.click()
    form.record_button.click()  # click() runs the handler even though the button is disabled now
    assert "confirm" in text(form.errors.value)
    assert text(form.result.value).startswith("Recorded"), "the first outcome stays visible"
    assert len(rk.ledger.entries(order_id=order_id)) == 1

    form.confirm.value = True  # confirming the same refund again finds it
    form.record_button.click()
    assert text(form.result.value).startswith("Already recorded")
    assert len(rk.ledger.entries(order_id=order_id)) == 1


def test_a_click_while_recording_is_ignored(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id, reference="CASH-T-3")
    form.confirm.value = True
    seen: list[tuple[bool, str]] = []
    record = rk.ledger.record

    def slow_record(*args, **kwargs):  # a second click arrives while the first is still recording
        seen.append((form.record_button.disabled, form.record_button.description))
        form.record_button.click()
        return record(*args, **kwargs)

    form.ledger = type("L", (), {"record": staticmethod(slow_record), "quote": rk.ledger.quote})()
    form.record_button.click()
    assert seen == [(True, "Recording…")]
    assert len(rk.ledger.entries(order_id=order_id)) == 1
    assert form.record_button.description == "Record refund"


def test_every_validation_problem_is_listed_together_and_nothing_is_written(
    rk: refundkit.Session, order_id: str
) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id, amount="12.345.6", reference="")
    form.refunded_on.value = date.today() + timedelta(days=3)
    form.over_refund.value = True  # without a reason
    form.confirm.value = True
    form.record_button.click()

    problems = text(form.errors.value)
    assert problems.startswith("Nothing was recorded")
    for expected in ("amount", "external reference is missing", "in the future", "over-refund needs a reason"):
        assert expected in problems
    assert form.result.value == ""
    assert rk.ledger.entries(order_id=order_id) == []
    assert form.confirm.value is True, "a refused refund keeps the confirmation for the corrected retry"


def test_without_confirmation_nothing_is_recorded_and_the_other_problems_show_too(
    rk: refundkit.Session, order_id: str
) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id, amount="")
    form.record_button.click()
    problems = text(form.errors.value)
    assert "I confirm" in problems and "amount is missing" in problems
    assert rk.ledger.entries(order_id=order_id) == []


def test_an_unknown_order_is_explained(rk: refundkit.Session) -> None:
    form = RefundForm(rk.ledger)
    fill(form, "9999999999999-01")
    form.confirm.value = True
    form.record_button.click()
    assert "does not exist" in text(form.errors.value)
    form.look_up()
    assert "does not exist" in text(form.errors.value) and form.quote_view.value == ""


def test_look_up_shows_the_balance(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger)
    form.order_id.value = order_id
    form.lookup_button.click()
    shown = text(form.quote_view.value)
    for label in ("Order total", "VTEX refunds", "Offline refunds", "Refundable balance", "No offline refunds"):
        assert label in shown


def test_a_generated_reference_is_shown_and_used(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger)
    fill(form, order_id, reference="")
    form.source.value = "bank-transfer"
    form.refunded_on.value = date(2026, 4, 30)
    form.generate_button.click()
    ref = form.reference.value
    assert re.fullmatch(r"BANK-TRANSFER-20260430-[0-9A-F]{4}", ref)
    assert ref in text(form.reference_hint.value)
    form.confirm.value = True
    form.record_button.click()
    [entry] = rk.ledger.entries(order_id=order_id)
    assert entry.external_ref == ref
    # a blank time on a past day means noon of that day, in the form's time zone
    assert entry.refunded_at == parse_instant("2026-04-30T12:00:00Z")


def test_the_date_and_time_are_read_in_the_forms_time_zone(rk: refundkit.Session, order_id: str) -> None:
    form = RefundForm(rk.ledger, tz="America/Sao_Paulo")
    fill(form, order_id, reference="CASH-T-TZ")
    form.refunded_on.value = date(2026, 4, 30)
    form.refunded_time.value = time(14, 30)
    form.confirm.value = True
    form.record_button.click()
    [entry] = rk.ledger.entries(order_id=order_id)
    assert entry.refunded_at == parse_instant("2026-04-30T14:30:00-03:00")


def test_vtex_failures_are_shown_as_text(rk: refundkit.Session, order_id: str) -> None:
    def down(*_args, **_kwargs):
        raise NetworkError("connection refused", request="GET /api/oms/pvt/orders/x")

    form = RefundForm(type("L", (), {"record": staticmethod(down), "quote": staticmethod(down)})())
    fill(form, order_id)
    form.confirm.value = True
    form.record_button.click()
    shown = text(form.errors.value)
    assert "VTEX failed: connection refused" in shown and "Traceback" not in shown
    assert form.record_button.description == "Record refund"
    form.look_up()
    assert "VTEX failed" in text(form.errors.value)


def test_make_reference() -> None:
    assert re.fullmatch(r"CASH-20261126-[0-9A-F]{4}", make_reference("cash", date(2026, 11, 26)))


def test_widgets_carry_stable_css_classes(rk: refundkit.Session) -> None:
    form = RefundForm(rk.ledger)
    assert "refundkit-result" in form.result._dom_classes
    assert "refundkit-errors" in form.errors._dom_classes
    assert "refundkit-record" in form.record_button._dom_classes
    assert "refundkit-refund-form" in form.widget._dom_classes


# -- ReverseForm ---------------------------------------------------------------------------------------------------
def test_reversing_through_the_form(rk: refundkit.Session, order_id: str) -> None:
    recorded = rk.ledger.record(order_id, "5.00", "cash", "CASH-T-REV")
    form = ReverseForm(rk.ledger)
    form.refund_id.value = recorded.entry.entry_id
    form.reason.value = "typed on the wrong order"
    form.reverse_button.click()
    assert "I confirm" in text(form.errors.value)
    assert len(rk.ledger.entries(order_id=order_id)) == 1

    form.confirm.value = True
    form.reverse_button.click()
    shown = text(form.result.value)
    assert shown.startswith("Recorded") and f"reversal of refund {recorded.entry.entry_id}" in shown
    form.confirm.value = True
    form.reverse_button.click()
    assert text(form.result.value).startswith("Already recorded")
    kinds = sorted(e.kind for e in rk.ledger.entries(order_id=order_id))
    assert kinds == ["refund", "reversal"]


def test_reversing_an_unknown_refund_is_refused(rk: refundkit.Session) -> None:
    form = ReverseForm(rk.ledger)
    form.refund_id.value = "not-a-refund"
    form.reason.value = "x"
    form.confirm.value = True
    form.reverse_button.click()
    assert "is not a refund id" in text(form.errors.value)


# -- charts ------------------------------------------------------------------------------------------------------
def test_charts_draw_one_currency_at_a_time_with_refunds_on_their_own_panel(rk: refundkit.Session) -> None:
    data = collect_revenue(rk, START, END)
    table = data.gross_vs_net(period="month")
    fig = gross_vs_net_chart(table, "BRL")
    names = [t.name for t in fig.data]
    assert names == ["VTEX refunds", "offline refunds", "gross revenue", "net revenue"]
    native = table.filter(pl.col("currency") == "BRL").get_column("native_refunds_minor").to_list()
    assert list(fig.data[0].y) == [v / 100 for v in native]  # on their own panel, upwards
    assert fig.data[0].customdata[0].startswith("BRL ")
    assert "net = gross − VTEX refunds − offline refunds" in fig.layout.title.subtitle.text.replace("<br>", " ")

    daily = daily_gross(data.orders)
    assert sorted(t.name for t in daily.data) == ["gross BRL", "gross USD"]
    empty = gross_vs_net_chart(table, "EUR")
    assert "No orders or refunds in EUR" in empty.layout.annotations[0].text
