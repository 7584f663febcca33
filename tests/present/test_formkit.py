"""The form kit every tab is built from: download links, the busy guard, the reversal panel."""

from __future__ import annotations

import base64
import re

import ipywidgets as w
import pytest

from refundkit.present.formkit import CSV, Form, download_link, time_zone_picker


def test_a_download_link_carries_the_file_as_a_data_uri_under_its_name_and_label() -> None:
    link = download_link(b"period,currency\n2026-03-01,BRL\n", filename="report.csv", label="Download CSV", mime=CSV)
    assert "download='report.csv'" in link and ">Download CSV</a>" in link
    payload = re.search(r"href='data:text/csv;base64,([^']+)'", link)
    assert payload is not None
    assert base64.b64decode(payload.group(1)) == b"period,currency\n2026-03-01,BRL\n"


def test_a_download_links_name_label_and_type_cannot_be_swapped_by_position() -> None:
    with pytest.raises(TypeError):
        download_link(b"x", "report.csv", "text/csv", "Download CSV")  # type: ignore[misc]  # the mistake, refused


def test_a_click_while_the_action_runs_is_ignored_and_the_button_comes_back() -> None:
    class Clicks(Form):
        def __init__(self) -> None:
            self.button = w.Button(description="Go")
            self.widget = w.VBox([self.button])
            self.runs = 0

        def _sync(self, _change: object = None) -> None:
            self.button.disabled = False

        def go(self) -> None:
            self.guarded(self.button, "Going…", self._go)

        def _go(self) -> None:
            self.runs += 1
            assert self.button.description == "Going…" and self.button.disabled
            self.go()  # a second click that arrives meanwhile

    form = Clicks()
    form.go()
    assert form.runs == 1
    assert form.button.description == "Go" and not form.button.disabled


def test_the_time_zone_picker_offers_the_configured_zone_first_when_it_is_not_listed() -> None:
    assert time_zone_picker("UTC").options[0] == "UTC"
    picker = time_zone_picker("Asia/Tokyo")
    assert picker.value == "Asia/Tokyo" and picker.options[0] == "Asia/Tokyo" and "UTC" in picker.options
