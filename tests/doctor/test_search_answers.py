"""Doctor rows that tell which answer this account's Master Data search gives where VTEX leaves it open: ties, the
stated total, and what a ``*`` does — each variant the sandbox plays told apart, from the ledger's own entries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from refundkit.doctor.report import Status
from refundkit.doctor.searchvalues import search_answers
from refundkit.ledger import Ledger
from refundkit.vtex import VtexClient
from tests.ledger.helpers import put_entries

MS = 1_780_000_000_000
REFS = ["Apc-901", "APC-902", "apc-903", "RCPT-1", "RCPT-2"]


@pytest.fixture
def rows(sandbox_factory: Any) -> Iterator[Any]:
    """``rows(n=5, **config)``: the three rows on a sandbox holding ``n`` entries, the newest five at one ms."""
    clients: list[VtexClient] = []

    def run(n: int = 5, **config: Any) -> dict[str, Any]:
        served = sandbox_factory(**config)
        client = VtexClient(served.settings())
        clients.append(client)
        ledger = Ledger(client, journal_dir=False)
        ledger.setup()
        put_entries(ledger, n, ms=lambda k: MS if k < 5 else MS - k, ref=lambda k: REFS[k] if k < 5 else f"C-{k}")
        return {c.key: c for c in search_answers(client, ledger.entity)}

    yield run
    for c in clients:
        c.close()


@pytest.mark.parametrize(("ties", "told"), [("by-id", "fixed"), ("any", "any")])
def test_ties_are_told_apart(rows: Any, ties: str, told: str) -> None:
    row = rows(md_sort_ties=ties)["search.ties"]
    assert row.status is Status.PASS and row.figures["ties"] == told
    assert ("one order on every request" in row.result) == (told == "fixed")


@pytest.mark.parametrize(
    ("said", "status", "told"),
    [("exact", Status.PASS, "exact"), ("missing", Status.WARN, "missing"), ("capped", Status.WARN, "differs")],
)
def test_the_stated_total_is_checked_against_a_count(rows: Any, said: str, status: Status, told: str) -> None:
    row = rows(345, md_search_total=said)["search.total"]
    assert row.status is status and row.figures["total"] == told
    if told == "differs":
        assert "said 300 where 345 entries were counted" in row.result


def test_a_rounded_total_is_caught(rows: Any) -> None:
    row = rows(345, md_search_total="rounded")["search.total"]
    assert row.status is Status.WARN and "said 340 where 345" in row.result


@pytest.mark.parametrize(
    ("wildcards", "status", "told"),
    [
        ("case-sensitive", Status.WARN, "case-sensitive"),
        ("case-insensitive", Status.PASS, "case-insensitive"),
        ("literal", Status.WARN, "literal"),
        ("refused", Status.WARN, "refused"),
    ],
)
def test_wildcards_and_letters_case_are_told_apart(rows: Any, wildcards: str, status: Status, told: str) -> None:
    row = rows(md_wildcards=wildcards)["search.wildcards"]
    assert row.status is status and row.figures["wildcards"] == told


def test_with_no_entry_yet_nothing_is_told_and_it_says_so(rows: Any) -> None:
    for row in rows(0).values():
        assert row.status is Status.SKIPPED and "no refund is recorded" in row.result
