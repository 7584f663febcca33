"""The Refunds listing under each way Master Data search may answer where VTEX leaves it open: the order of entries
that share a refunded-at millisecond, what ``REST-Content-Range`` says of the total, and what a ``*`` does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from refundkit.ledger import Ledger, RefundQuery, list_entries

from .helpers import Env
from .helpers import put_entries as _put

MS = 1_780_000_000_000


def _pages(ledger: Ledger, size: int, query: RefundQuery | None = None) -> list[str]:
    out: list[str] = []
    n = 1
    while True:
        page = list_entries(ledger, query, page=n, size=size)
        out += [x.entry.entry_id for x in page.entries]
        if not page.more:
            return out
        n += 1


@pytest.mark.parametrize("ties", ["by-id", "any"])
def test_entries_sharing_a_millisecond_are_each_listed_once_across_pages(
    make_env: Callable[..., Env], ties: str
) -> None:
    env = make_env(md_sort_ties=ties)
    ledger = env.ledger(journal=False)
    # 230 entries: 3 alone, then 215 at one millisecond (an import of one day), then 12 more alone
    _put(ledger, 230, ms=lambda k: MS - k if k < 3 else (MS - 3 if k < 218 else MS - k))
    everything = {f"rf-{(k * 7919) % 1000:04d}-{k:04d}" for k in range(230)}
    for size in (7, 50, 150):  # page edges inside the millisecond, and requests of 100 cutting it
        listed = _pages(ledger, size)
        assert len(listed) == len(set(listed)) == 230, size
        assert set(listed) == everything
    tied = [x for x in _pages(ledger, 50) if x not in {f"rf-{(k * 7919) % 1000:04d}-{k:04d}" for k in (0, 1, 2)}]
    assert tied[:215] == sorted(tied[:215])  # within the millisecond: entry-id order, whatever search gave


@pytest.mark.parametrize(
    ("said", "kind"), [("exact", "exact"), ("missing", "exact"), ("capped", "exact"), ("rounded", "exact")]
)
def test_the_total_is_counted_whatever_rest_content_range_says(
    make_env: Callable[..., Env], said: str, kind: str
) -> None:
    env = make_env(md_search_total=said)
    ledger = env.ledger(journal=False)
    _put(ledger, 345, ms=lambda k: MS - k)  # past the 300 a capped total stops at; 340 rounded
    first = list_entries(ledger, size=50)
    assert (first.total, first.total_kind, first.total_text) == (345, kind, "345")
    assert len(_pages(ledger, 100)) == 345
    last = list_entries(ledger, page=7, size=50)
    assert (last.total, last.more, len(last.entries)) == (345, False, 45)


def test_a_total_past_what_can_be_checked_says_about(make_env: Callable[..., Env]) -> None:
    from refundkit.ledger import listing

    env = make_env()
    ledger = env.ledger(journal=False)
    _put(ledger, 30, ms=lambda k: MS - k)
    real = listing._DEPTH
    try:
        listing._DEPTH = 20  # search's 10,000, made small
        page = list_entries(ledger, size=5)
    finally:
        listing._DEPTH = real
    assert (page.total, page.total_text) == (30, "about 30")
    assert "Master Data's own figure" in page.freshness


def _refs(ledger: Ledger) -> None:
    names = ["APC-901", "apc-902", "Apc-903", "RCPT-1"]
    _put(ledger, 4, ms=lambda k: MS - k, ref=lambda k: names[k])


def _found(ledger: Ledger, text: str) -> tuple[list[str], str]:
    page = list_entries(ledger, RefundQuery(search=text))
    return sorted(x.entry.external_ref for x in page.entries), page.freshness


@pytest.mark.parametrize("wildcards", ["case-sensitive", "case-insensitive"])
def test_search_finds_a_reference_in_capitals_or_small_letters(make_env: Callable[..., Env], wildcards: str) -> None:
    env = make_env(md_wildcards=wildcards)
    ledger = env.ledger(journal=False)
    _refs(ledger)
    found, said = _found(ledger, "apc")
    every = ["APC-901", "Apc-903", "apc-902"]
    assert found == (every if wildcards == "case-insensitive" else ["APC-901", "apc-902"])
    assert "wildcard" not in said
    assert _found(ledger, "PC-90")[0] == every  # as typed, or in small letters
    assert _found(ledger, "1000000000002")[0] == ["Apc-903"]  # a piece of the order id


@pytest.mark.parametrize("wildcards", ["literal", "refused"])
def test_an_account_without_wildcards_finds_the_exact_reference_and_says_so(
    make_env: Callable[..., Env], wildcards: str
) -> None:
    env = make_env(md_wildcards=wildcards)
    ledger = env.ledger(journal=False)
    _refs(ledger)
    found, said = _found(ledger, "apc")
    assert found == []
    assert "takes no '*' wildcard" in said and "exactly what was typed" in said
    assert _found(ledger, "APC-901")[0] == ["APC-901"]
    assert _found(ledger, "apc-901")[0] == ["APC-901"]  # in capitals too
    assert _found(ledger, "1000000000000-01")[0] == ["APC-901"]
