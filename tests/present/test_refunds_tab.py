"""The desk's Refunds tab, driven without a browser against a sandbox served on loopback."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import date
from typing import Any

import refundkit
from refundkit.config import load_settings
from refundkit.present.desk import DeskPerson, RefundDesk
from refundkit.present.refunds_tab import RefundsTab
from refundkit.testing import OrderPicker


def _texts(tab: RefundsTab) -> list[list[str]]:
    """The list's rows as the page shows them (the header row first)."""
    cells = [getattr(c, "value", getattr(c, "description", "")) for c in tab.grid.children]
    return [[re.sub(r"<[^>]+>", "", str(v)) for v in cells[i : i + 10]] for i in range(0, len(cells), 10)]


def _downloads(html: str) -> dict[str, bytes]:
    return {
        name: base64.b64decode(b64)
        for name, b64 in re.findall(r"download='([^']+)' href='data:[^;]+;base64,([A-Za-z0-9+/=]+)'", html)
    }


def test_the_tab_lists_filters_exports_and_a_recorder_reverses(served_sandbox: Any, tmp_path: Any) -> None:
    env = served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    settings = load_settings(env=env, env_file=False).with_(user="ana")
    with refundkit.connect(settings=settings) as rk:
        pick = OrderPicker(served_sandbox.sb, set())
        a, b = pick.invoiced(min_total=50_00).order_id, pick.invoiced(min_total=50_00).order_id
        rk.ledger.record(a, "12.50", "cash", "RK-TAB-1", refunded_at="2026-06-01T12:00:00Z", reason="returned")
        rk.ledger.record(b, "3.00", "apace", "RK-TAB-2", refunded_at="2026-06-05T12:00:00Z", reason="damaged")
        desk = RefundDesk(rk, tz="UTC", person=DeskPerson("ana", "recorder", True))
        tab = desk.refunds
        assert tab.page is None, "nothing is read before the tab is opened"
        desk.tabs.selected_index = 3
        assert tab.page is not None and "Read at" in tab.status.value and "a minute" in tab.status.value
        tab.search.value = "RK-TAB"
        tab.show_button.click()
        rows = _texts(tab)
        head = ["When", "Order", "Amount", "Items", "Source", "Reference", "Reason", "Recorder", "Reversed"]
        assert rows[0][:9] == head
        assert [r[:9] for r in rows[1:]] == [
            ["2026-06-05 12:00", b, "BRL 3.00", "", "apace", "RK-TAB-2", "damaged", "ana", "no"],
            ["2026-06-01 12:00", a, "BRL 12.50", "", "cash", "RK-TAB-1", "returned", "ana", "no"],
        ]
        tab.source.value = "cash"
        tab.show_button.click()
        assert [r[5] for r in _texts(tab)[1:]] == ["RK-TAB-1"]
        tab.source.value = ""
        tab.first_day.value, tab.last_day.value = date(2026, 6, 2), date(2026, 6, 30)
        tab.show_button.click()
        assert [r[5] for r in _texts(tab)[1:]] == ["RK-TAB-2"]
        tab.first_day.value = tab.last_day.value = None
        tab.recorder.value = "bruno"
        tab.show_button.click()
        assert "No entries match" in str(tab.grid.children[-1].value)
        tab.recorder.value = ""
        tab.show_button.click()

        # export: the filtered list, as CSV and XLSX
        tab.export_button.click()
        files = _downloads(tab.downloads.value)
        name = "refunds-list_all-dates_UTC"  # no day picked
        assert sorted(files) == [f"{name}.csv", f"{name}.xlsx"] and files[f"{name}.xlsx"][:2] == b"PK"
        exported = list(csv.DictReader(io.StringIO(files[f"{name}.csv"].decode("utf-8-sig"))))
        assert [(r["external_ref"], r["amount"], r["recorded_by"]) for r in exported] == [
            ("RK-TAB-2", "3.00", "ana"),
            ("RK-TAB-1", "12.50", "ana"),
        ]

        # reverse from the list: a reason, then the confirmation button
        [button] = [c for c in tab.grid.children[10:20] if getattr(c, "description", "") == "Reverse…"]
        button.click()
        assert "RK-TAB-2" in tab.reverse_text.value and tab.reverse_button.disabled
        tab.reverse_reason.value = "customer kept the item"
        tab.reverse_button.click()
        assert "reversed" in tab.message.value
        rows = _texts(tab)
        assert rows[1][2] == "BRL -3.00" and rows[1][8].startswith("reversal") and rows[1][7] == "ana"
        assert [r[8] for r in rows[2:]] == ["yes", "no"]
        tab.reversed.value = "reversed"
        tab.show_button.click()
        assert [(r[5], r[8][:8]) for r in _texts(tab)[1:]] == [("RK-TAB-2", "reversal"), ("RK-TAB-2", "yes")]
        tab.reversed.value = "not reversed"
        tab.show_button.click()
        assert [r[5] for r in _texts(tab)[1:]] == ["RK-TAB-1"]

        # a viewer sees the same list, and no reverse button
        viewer = RefundsTab(rk.ledger, read_only="bruno is signed in as a viewer")
        viewer.search.value = "RK-TAB"
        viewer.show_button.click()
        assert len(_texts(viewer)) == 4
        assert not [c for c in viewer.grid.children if getattr(c, "description", "") == "Reverse…"]


def test_a_viewers_forged_reversal_from_the_list_writes_nothing(served_sandbox: Any, tmp_path: Any) -> None:
    """No reverse button is shown to a viewer; a forged click (the widget message sent anyway) is refused by the
    viewer's connection before anything reaches VTEX."""
    from refundkit.testing import writes

    env = served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    with refundkit.connect(settings=load_settings(env=env, env_file=False).with_(user="ana")) as rk:
        order = OrderPicker(served_sandbox.sb, set()).invoiced(min_total=50_00).order_id
        rk.ledger.record(order, "4.00", "cash", "RK-VIEW-1")
    why = "bruno is signed in as a viewer"
    settings = load_settings(env=env, env_file=False).with_(user="bruno")
    with refundkit.connect(settings=settings, setup=False, read_only=why) as rk:
        tab = RefundsTab(rk.ledger, read_only=why)
        tab.search.value = "RK-VIEW"
        tab.show_button.click()
        assert tab.page is not None and [x.entry.external_ref for x in tab.page.entries] == ["RK-VIEW-1"]
        before = writes(served_sandbox.sb)
        tab._open_reversal(tab.page.entries[0])
        tab.reverse_reason.value = "forged"
        tab.reverse_button.click()
        assert "viewer" in tab.message.value and writes(served_sandbox.sb) == before
