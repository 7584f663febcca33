"""The refund desk as a whole (tabs) and its Report tab, driven without a browser on an in-process sandbox."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import os
import re
from datetime import date
from typing import Any

import pytest

import refundkit
from refundkit.ledger import Ledger
from refundkit.present.desk import TAB_TITLES, RefundDesk
from refundkit.present.explorer import RevenueExplorer


@pytest.fixture(scope="module")
def rk(small_session: refundkit.Session) -> refundkit.Session:
    return small_session


def downloads(html: str) -> dict[str, bytes]:
    return {
        name: base64.b64decode(b64)
        for name, b64 in re.findall(r"download='([^']+)' href='data:[^;]+;base64,([A-Za-z0-9+/=]+)'", html)
    }


def test_the_desk_has_four_tabs_and_builds_the_report_when_opened(rk: refundkit.Session) -> None:
    desk = RefundDesk(rk, tz="America/Sao_Paulo")
    assert tuple(desk.tabs.titles) == TAB_TITLES == ("Record", "Import", "Report", "Refunds")
    assert desk.report is None, "the report is not built at start-up"
    desk.tabs.selected_index = 2
    assert isinstance(desk.report, RevenueExplorer) and not desk.report.live
    assert desk.tabs.children[2].children == (desk.report.widget,)
    assert desk.record.tz == "America/Sao_Paulo"


def test_the_report_shows_one_currency_and_downloads_every_currency(rk: refundkit.Session) -> None:
    form = RevenueExplorer(rk, tz="UTC", live=False)
    form.first_day.value, form.last_day.value = date(2026, 3, 1), date(2026, 3, 31)
    form.period.value = "month"
    form.show_button.click()
    assert "refundkit-refused" not in form.message.value and "Reading" not in form.message.value
    assert list(form.currency.options) == ["BRL", "USD"] and form.currency.value == "BRL"
    [bundle] = form.chart.outputs
    assert "application/vnd.plotly.v1+json" in bundle["data"]
    table = re.sub(r"<[^>]+>", " ", form.table.value)
    assert "2026-03-01" in table and "BRL " in table and "USD" not in table
    files = downloads(form.downloads.value)
    assert sorted(files) == [
        "refunds-report_2026-03_refund-date_UTC.csv",
        "refunds-report_2026-03_refund-date_UTC.xlsx",
    ]
    body = files["refunds-report_2026-03_refund-date_UTC.csv"]
    assert files["refunds-report_2026-03_refund-date_UTC.xlsx"][:2] == b"PK", "a zip"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["currency"] for r in rows} == {"BRL", "USD"}
    brl = next(r for r in rows if r["currency"] == "BRL")
    assert re.fullmatch(r"\d+\.\d{2}", brl["gross"]) and int(brl["orders"]) > 0

    form.currency.value = "USD"
    assert "USD " in re.sub(r"<[^>]+>", " ", form.table.value)


def test_a_reversed_range_says_what_to_fix(rk: refundkit.Session) -> None:
    form = RevenueExplorer(rk, live=False)
    form.first_day.value, form.last_day.value = date(2026, 3, 31), date(2026, 3, 1)
    form.show_button.click()
    assert "first day on or before the last day" in form.message.value


def test_the_currency_list_shows_its_choice_in_the_browser(rk: refundkit.Session) -> None:
    form = RevenueExplorer(rk, live=False)
    form.first_day.value, form.last_day.value = date(2026, 3, 1), date(2026, 3, 31)
    form.show_button.click()
    state = form.currency.get_state()
    assert state["_options_labels"] == ("BRL", "USD") and state["index"] == 0, "the browser shows BRL, not a blank"


def test_reading_a_range_says_so_and_shows_the_stores_bars_until_the_report_is_ready(
    rk: refundkit.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refundkit.analytics import sync

    form = RevenueExplorer(rk, tz="UTC", live=False)
    form.first_day.value, form.last_day.value = date(2026, 4, 1), date(2026, 4, 30)  # a range no other test here syncs
    seen: list[tuple[str, bool | None, str]] = []
    real_bar = sync._bar

    def bar(total: int | None, desc: str, enabled: bool | None) -> object:
        seen.append((desc, enabled, re.sub(r"<[^>]+>", "", form.message.value)))
        return real_bar(total, desc, False)  # drawn as in a kernel; kept off this test's output

    monkeypatch.setattr(sync, "_bar", bar)
    form.show_button.click()
    assert seen, "the range was synced"
    assert all(enabled is True for _, enabled, _ in seen), "the bars are shown, not left to tqdm's terminal check"
    assert all(msg == "Reading the orders and refunds from 2026-04-01 to 2026-04-30…" for _, _, msg in seen)
    assert form.progress.outputs == () and "Reading" not in form.message.value, "bars and message are gone"
    assert form.chart.outputs


def test_a_report_that_fails_in_a_kernel_says_why_in_one_line(rk: refundkit.Session, in_ipython: None) -> None:
    from refundkit.errors import VtexError

    def failing(*_args: object, **_kwargs: object) -> None:
        raise VtexError("VTEX answered 503 for GET /api/oms/pvt/orders; try again in a minute")

    form = RevenueExplorer(rk, tz="UTC", live=False, report=failing)
    form.first_day.value, form.last_day.value = date(2026, 3, 1), date(2026, 3, 31)
    form.show_button.click()
    shown = re.sub(r"<[^>]+>", "", form.message.value)
    assert "VTEX answered 503" in shown and "try again in a minute" in shown
    assert "UnboundLocalError" not in shown and "unexpected" not in shown.lower()
    assert form.progress.outputs == () and form.chart.outputs == ()
    assert not form.show_button.disabled


def test_the_person_comes_from_the_servers_variables_and_a_viewer_writes_nothing() -> None:
    from refundkit.present.desk import DeskPerson

    viewer = DeskPerson.from_environ(
        {"HTTP_X_DESK_USER": "bruno", "HTTP_X_DESK_ROLE": "viewer", "HTTP_X_DESK_SESSION": "s1"}
    )
    assert viewer.read_only and "bruno is signed in as a viewer" in viewer.read_only
    assert "Sign out" in viewer.header_html() and "need the recorder role" in viewer.header_html()
    recorder = DeskPerson.from_environ({"HTTP_X_DESK_USER": "ana", "HTTP_X_DESK_ROLE": "recorder"})
    assert recorder.read_only is None and "Signed in as <b class='refundkit-person'>ana</b> (recorder)" in (
        recorder.header_html()
    )
    hub = DeskPerson.from_environ({"JUPYTERHUB_USER": "carla"})
    assert (hub.name, hub.role, hub.read_only) == ("carla", None, None)
    alone = DeskPerson.from_environ({"HTTP_X_DESK_SESSION": "s2"})
    assert alone.name is None and alone.read_only is None and "Signed in" not in alone.header_html()


def test_a_viewers_desk_refuses_to_record_and_sends_no_write(
    served_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """serve_desk as a viewer's page runs it: a click on "Record refund" (any widget message) is refused by the
    connection itself, before anything reaches VTEX."""
    from refundkit.present.desk import serve_desk
    from refundkit.testing import OrderPicker, writes

    monkeypatch.chdir(tmp_path)
    for k in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
        monkeypatch.delenv(k)
    for k, v in served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache")).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("HTTP_X_DESK_USER", "bruno")
    monkeypatch.setenv("HTTP_X_DESK_ROLE", "viewer")
    desk = serve_desk()
    assert isinstance(desk, RefundDesk), getattr(desk, "value", desk)
    try:
        order = OrderPicker(served_sandbox.sb, set()).invoiced(min_total=50_00).order_id
        form = desk.record
        form.order_id.value = order
        form.look_up()
        form.amount.value, form.reference.value, form.reason.value = "2.00", "RCPT-V-1", "returned"
        form.confirm.value = True
        before = writes(served_sandbox.sb)
        form.record_button.click()
        assert "signed in as a viewer" in form.result.value
        assert writes(served_sandbox.sb) == before
    finally:
        desk.session.close()


def test_every_write_through_the_desk_goes_to_the_audit_trail_with_its_outcome(
    served_sandbox: Any, tmp_path: Any
) -> None:
    from refundkit.config import load_settings
    from refundkit.ledger import RefundRefused
    from refundkit.present.audit import audited, read_events
    from refundkit.testing import OrderPicker

    trail = tmp_path / "audit.jsonl"
    with refundkit.connect(settings=load_settings(env=served_sandbox.env(), env_file=False)) as rk:
        ledger = audited(rk.ledger, trail, "ana")
        order = OrderPicker(served_sandbox.sb, set()).invoiced(min_total=50_00).order_id
        first = ledger.record(order, "3.00", "cash", "RCPT-AUD-1", reason="returned")
        ledger.record(order, "3.00", "cash", "RCPT-AUD-1", reason="returned")
        with pytest.raises(RefundRefused):
            ledger.record(order, "999999.00", "cash", "RCPT-AUD-2", reason="too much")
        ledger.reverse(first.entry.entry_id, "wrong order", order_id=order)
    events = list(read_events(trail))
    assert [(e["event"], e["outcome"]) for e in events] == [
        ("record", "recorded"),
        ("record", "already recorded"),
        ("record", "refused"),
        ("reverse", "recorded"),
    ]
    assert {e["user"] for e in events} == {"ana"} and events[2]["external_ref"] == "RCPT-AUD-2"
    assert "refundable balance" in events[2]["detail"]


def test_every_time_zone_picker_of_the_desk_starts_at_the_stores_zone(rk: refundkit.Session) -> None:
    store = dataclasses.replace(
        rk, ledger=Ledger(rk.client, journal_dir=False, verdict_dir=False, store_tz="America/Sao_Paulo")
    )
    desk = RefundDesk(store)
    desk.tabs.selected_index = 2
    assert desk.record.tz_picker.value == desk.report.tz_picker.value == "America/Sao_Paulo", "not UTC"
    assert desk.refunds.tz == "America/Sao_Paulo"
    assert RefundDesk(store, tz="Europe/Lisbon").record.tz == "Europe/Lisbon", "--tz wins"
