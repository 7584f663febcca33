"""A team on one desk (`refundkit app --users FILE`): each person signs in by name; the refund names who recorded it;
a viewer cannot record, whatever the page sends; signing out ends the session; wrong passwords are rate-limited."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from refundkit.testing import run_cli
from tests.conftest import command_lines

from .conftest import Desk, kernels_of, running_desk
from .test_app import fill_refund, look_up, result, settled

TIMEOUT = 60_000
PASSWORDS = {"ana": "ana's long password", "bruno": "bruno's long password"}


@pytest.fixture(scope="module")
def team_desk(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Desk]:
    home = tmp_path_factory.mktemp("team-desk")
    users = home / "team.json"
    for name, role in (("ana", "recorder"), ("bruno", "viewer")):
        saved = sys.stdin
        sys.stdin = io.StringIO(PASSWORDS[name] + "\n")
        try:
            done = run_cli(["users", "add", name, "--file", str(users), "--role", role], dict(os.environ), home)
        finally:
            sys.stdin = saved
        assert done.code == 0, done.stderr
    options = {"users_file": users, "audit_log": home / "audit.jsonl"}
    with running_desk(home, recorder="os-user-not-a-person", **options) as d:
        yield d


def sign_in(browser: Any, desk: Desk, name: str, password: str | None = None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(desk.url)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS.get(name, "") if password is None else password)
    page.get_by_role("button", name="Sign in").click()
    return page


def record(page: Any, desk: Desk, amount: str, reference: str) -> str:
    """Record a refund through the Record tab on a fresh order; the order."""
    order = desk.order()
    look_up(page, order)
    fill_refund(page, amount, reference)
    page.get_by_role("button", name="Record refund").click()
    expect(result(page)).to_contain_text(f"Recorded: a refund of BRL {amount}", timeout=TIMEOUT)
    settled(page)
    return order


def test_a_wrong_password_gets_nothing_of_the_desk(browser: Any, team_desk: Desk) -> None:
    kernels = set(kernels_of(team_desk.pid))
    page = sign_in(browser, team_desk, "ana", "not ana's password")
    try:
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert page.get_by_label("Order ID").count() == 0
        page.goto(team_desk.base)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        page.context.close()
    assert set(kernels_of(team_desk.pid)) <= kernels


def test_the_recorder_records_and_the_refund_names_them(browser: Any, team_desk: Desk) -> None:
    page = sign_in(browser, team_desk, "ana")
    try:
        expect(page.locator(".refundkit-person")).to_have_text("ana", timeout=TIMEOUT)
        order = record(page, team_desk, "4.00", "RCPT-TEAM-1")
        expect(page.locator(".refundkit-ledger")).to_contain_text("ana")
    finally:
        page.context.close()
    [entry] = team_desk.entries(order)
    assert entry.recorded_by == "ana"
    [note] = [n for n in team_desk.notes(order) if f"[refundkit:{entry.entry_id}]" in n["description"]]
    assert "recorded by ana" in note["description"] and "os-user-not-a-person" not in note["description"]


def test_a_viewer_cannot_record_even_by_pressing_the_button(browser: Any, team_desk: Desk) -> None:
    """The viewer's page sends the same widget messages a recorder's does (a forged one could send no more): the
    server refuses before anything reaches VTEX."""
    page = sign_in(browser, team_desk, "bruno")
    try:
        expect(page.locator(".refundkit-viewer")).to_contain_text("need the recorder role", timeout=TIMEOUT)
        order = team_desk.order()
        look_up(page, order)
        fill_refund(page, "3.00", "RCPT-TEAM-2")
        before = team_desk.writes()
        page.get_by_role("button", name="Record refund").click()
        expect(result(page)).to_contain_text("signed in as a viewer", timeout=TIMEOUT)
        settled(page)
        assert team_desk.writes() == before
    finally:
        page.context.close()
    assert team_desk.entries(order) == []


def test_sign_out_ends_the_session_and_its_kernel(browser: Any, team_desk: Desk) -> None:
    page = sign_in(browser, team_desk, "ana")
    try:
        expect(page.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
        cookies = page.context.cookies()
        kernels = set(kernels_of(team_desk.pid))
        page.get_by_role("link", name="Sign out").click()
        expect(page.locator(".refundkit-signed-out")).to_be_visible()
        page.goto(team_desk.base)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        copy = browser.new_context()  # the session's cookie, kept by someone: it no longer opens the desk
        copy.add_cookies(cookies)
        again = copy.new_page()
        again.goto(team_desk.base)
        expect(again.get_by_role("button", name="Sign in")).to_be_visible()
        copy.close()
    finally:
        page.context.close()
    assert len(set(kernels_of(team_desk.pid)) & kernels) < len(kernels), "the signed-out page's kernel was shut down"


def test_wrong_passwords_for_a_name_lock_it_out_for_a_while(browser: Any, team_desk: Desk) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        for _ in range(5):
            page.goto(team_desk.url)
            page.get_by_label("Name").fill("carla")
            page.get_by_label("Password").fill("guess")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
        page.goto(team_desk.url)
        page.get_by_label("Name").fill("carla")
        page.get_by_label("Password").fill("guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many wrong passwords")
    finally:
        context.close()
    other = sign_in(browser, team_desk, "ana")  # another name, from the same address, still signs in
    try:
        expect(other.get_by_label("Order ID")).to_be_visible(timeout=TIMEOUT)
    finally:
        other.context.close()


def test_no_password_shows_in_processes_or_the_log(team_desk: Desk) -> None:
    for pid, cmd in command_lines():
        assert not any(p in cmd for p in PASSWORDS.values()), f"process {pid}"
    assert team_desk.log_path is not None
    log = team_desk.log_path.read_text(errors="replace")
    assert not any(p in log for p in PASSWORDS.values())


def test_the_audit_trail_has_who_signed_in_from_where_and_what_they_wrote(
    browser: Any, team_desk: Desk, tmp_path: Path
) -> None:
    wrong = sign_in(browser, team_desk, "bruno", "not bruno's password")
    expect(wrong.get_by_role("alert")).to_have_text("Wrong name or password.")
    wrong.context.close()
    page = sign_in(browser, team_desk, "ana")
    try:
        order = team_desk.order()
        look_up(page, order)
        fill_refund(page, "6.00", "RCPT-AUDIT-1")
        page.get_by_role("button", name="Record refund").click()
        expect(result(page)).to_contain_text("Recorded: a refund of BRL 6.00", timeout=TIMEOUT)
        page.get_by_role("link", name="Sign out").click()
        expect(page.locator(".refundkit-signed-out")).to_be_visible()
    finally:
        page.context.close()
    assert team_desk.log_path is not None
    trail = team_desk.log_path.parent / "audit.jsonl"
    assert stat.S_IMODE(trail.stat().st_mode) == 0o600
    text = trail.read_text()
    assert not any(p in text for p in PASSWORDS.values()) and "not bruno's password" not in text
    done = run_cli(["audit", "--file", str(trail), "--format", "json"], dict(os.environ), tmp_path)
    events = json.loads(done.stdout)
    seen = {(e["event"], e["user"], e["outcome"]) for e in events}
    assert ("sign in", "bruno", "wrong name or password") in seen
    assert ("sign in", "ana", "signed in") in seen and ("sign out", "ana", "signed out") in seen
    [recorded] = [e for e in events if e["event"] == "record" and e["external_ref"] == "RCPT-AUDIT-1"]
    assert (recorded["user"], recorded["outcome"], recorded["order_id"]) == ("ana", "recorded", order)
    assert recorded["entry_id"] and recorded["amount"] == "BRL 6.00"
    assert all(e["address"] == "127.0.0.1" for e in events if e["event"].startswith("sign"))


def test_the_refunds_tab_filters_exports_and_a_recorder_reverses_from_it(browser: Any, team_desk: Desk) -> None:
    page = sign_in(browser, team_desk, "ana")
    try:
        expect(page.locator(".refundkit-person")).to_have_text("ana", timeout=TIMEOUT)
        order = record(page, team_desk, "7.25", "RCPT-LIST-1")
        page.get_by_role("tab", name="Refunds").click()
        listing = page.locator(".refundkit-refunds-list")
        expect(page.locator(".refundkit-refunds-status")).to_contain_text("Read at", timeout=TIMEOUT)
        page.get_by_label("Search").fill("RCPT-LIST")
        page.locator(".refundkit-refunds-show").click()
        expect(listing).to_contain_text("RCPT-LIST-1", timeout=TIMEOUT)
        expect(listing).to_contain_text("BRL 7.25")
        expect(listing).not_to_contain_text("RCPT-TEAM-1")
        page.get_by_label("Recorder").fill("bruno")
        page.locator(".refundkit-refunds-show").click()
        expect(listing).to_contain_text("No entries match", timeout=TIMEOUT)
        page.get_by_label("Recorder").fill("ana")
        page.locator(".refundkit-refunds-show").click()
        expect(listing).to_contain_text("RCPT-LIST-1", timeout=TIMEOUT)

        page.locator(".refundkit-refunds-export").click()
        with page.expect_download(timeout=TIMEOUT) as got:
            page.get_by_role("link", name="Download CSV").click()
        text = Path(got.value.path()).read_text(encoding="utf-8-sig")
        assert "RCPT-LIST-1" in text and "7.25" in text and "RCPT-TEAM-1" not in text
        with page.expect_download(timeout=TIMEOUT) as got:
            page.get_by_role("link", name="Download XLSX").click()
        assert Path(got.value.path()).read_bytes()[:2] == b"PK"

        listing.locator(".refundkit-reverse-row").first.click()
        panel = page.locator(".refundkit-refunds-reverse")
        expect(panel).to_contain_text("RCPT-LIST-1", timeout=TIMEOUT)
        panel.get_by_label("Reversal reason").fill("refunded twice by mistake")
        panel.get_by_role("button", name="Reverse refund").click()
        expect(page.get_by_text("RCPT-LIST-1 on order")).to_contain_text("reversed", timeout=TIMEOUT)
        expect(listing).to_contain_text("BRL -7.25")
    finally:
        page.context.close()
    entries = team_desk.entries(order)
    assert [(e.kind, e.recorded_by) for e in entries] == [("refund", "ana"), ("reversal", "ana")]
