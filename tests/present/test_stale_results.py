"""After an error, a tab shows nothing of its last result: a list or a download of other filters than those shown
would be taken for the answer (the Report tab's case: tests/present/test_explorer_detail.py)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

import refundkit
from refundkit.config import load_settings
from refundkit.errors import NetworkError
from refundkit.present import refunds_tab
from refundkit.present.refunds_tab import RefundsTab
from refundkit.testing import OrderPicker


def test_the_refunds_tab_clears_its_list_and_export_after_an_error(
    served_sandbox: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = served_sandbox.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    with refundkit.connect(settings=load_settings(env=env, env_file=False).with_(user="ana")) as rk:
        order = OrderPicker(served_sandbox.sb, set()).invoiced(min_total=50_00).order_id
        rk.ledger.record(order, "12.50", "cash", "RK-STALE-1", refunded_at="2026-06-01T12:00:00Z", reason="returned")
        tab = RefundsTab(rk.ledger, tz="UTC")
        tab.first_day.value, tab.last_day.value = date(2026, 6, 1), date(2026, 6, 30)
        tab.show_button.click()
        assert "RK-STALE-1" in str([getattr(c, "value", "") for c in tab.grid.children])
        tab.export_button.click()
        names = re.findall(r"download='([^']+)'", tab.downloads.value)
        assert names == ["refunds-list_2026-06_UTC.csv", "refunds-list_2026-06_UTC.xlsx"]

        tab.first_day.value = date(2026, 7, 1)  # after the last day: refused
        tab.show_button.click()
        assert "swap them" in tab.message.value
        assert tab.page is None and tab.grid.children == () and tab.status.value == "" and tab.downloads.value == ""
        assert tab.previous_button.disabled and tab.next_button.disabled

        tab.first_day.value = date(2026, 6, 1)
        tab.show_button.click()
        tab.export_button.click()
        assert tab.downloads.value

        def down(*_args: Any, **_kwargs: Any) -> Any:
            raise NetworkError("VTEX did not answer")

        monkeypatch.setattr(refunds_tab, "list_all", down)
        monkeypatch.setattr(refunds_tab, "list_entries", down)
        tab.export_button.click()
        assert "nothing was exported" in tab.message.value and tab.downloads.value == ""
        tab.show_button.click()
        assert "nothing was listed" in tab.message.value and tab.grid.children == () and tab.status.value == ""
