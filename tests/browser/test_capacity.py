"""The desk's kernels are bounded: past --max-sessions open pages a newcomer gets a page that says the desk is full
(not a hang), and fifty visits leave memory where two pages put it."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Desk, kernels_of, process_tree, rss_bytes, running_desk

CAP = 2
#: What one open desk page may hold at most (its kernel, with refundkit, polars and plotly loaded), generously.
PER_PAGE = 400 * 1024 * 1024


@pytest.fixture(scope="module")
def small_desk(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Desk]:
    with running_desk(tmp_path_factory.mktemp("small-desk"), max_sessions=CAP) as d:
        yield d


def _visit(desk: Desk) -> tuple[int, str]:
    headers = {"Authorization": f"token {desk.token}"}
    request = urllib.request.Request(desk.base, headers=headers)  # noqa: S310  (the desk on loopback)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310  (the desk on loopback)
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.read().decode(errors="replace")


def test_fifty_visits_start_no_more_kernels_than_the_cap_and_memory_stays_bounded(small_desk: Desk) -> None:
    answers = [_visit(small_desk) for _ in range(50)]
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == CAP and statuses.count(503) == 50 - CAP, statuses
    assert all("The refund desk is full" in body for status, body in answers if status == 503)
    assert len(kernels_of(small_desk.pid)) == CAP
    used = rss_bytes(process_tree(small_desk.pid))
    assert used < (CAP + 1) * PER_PAGE, f"{used / 2**20:.0f} MiB for {CAP} open pages"


def test_a_newcomer_past_the_cap_is_told_the_desk_is_full(browser: Any, small_desk: Desk) -> None:
    while len(kernels_of(small_desk.pid)) < CAP:  # whatever ran before, the desk is full now
        _visit(small_desk)
    context = browser.new_context()
    try:
        page = context.new_page()
        answer = page.goto(small_desk.url)
        assert answer is not None and answer.status == 503
        expect(page.get_by_role("heading", name="The refund desk is full")).to_be_visible()
        expect(page.locator("body")).to_contain_text("--max-sessions")
    finally:
        context.close()


def test_each_start_has_a_new_token(small_desk: Desk, desk: Desk) -> None:
    assert small_desk.token != desk.token and len(small_desk.token) >= 32
    assert Path(small_desk.log_path or "").read_text().count(small_desk.token) == 0
