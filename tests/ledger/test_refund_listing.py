"""The one listing behind the desk's Refunds tab and ``refundkit refunds``: filters, paging, and a page of 100,000
entries read without reading them all."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest

from refundkit.errors import InputError
from refundkit.ledger import Ledger, RefundQuery, list_entries
from refundkit.ledger.model import REFUND, LedgerEntry
from refundkit.money import Money
from refundkit.timeutil import Instant, local_day_bounds

from .helpers import Env
from .test_listing_and_reversal import lagging


def _ids(page: Any) -> list[str]:
    return [x.entry.entry_id for x in page.entries]


@pytest.fixture
def recorded(env: Env) -> tuple[Env, dict[str, str]]:
    """Five refunds on two orders by two people, one reversed; ids by reference."""
    a, b = env.orders.invoiced(), env.orders.invoiced()
    ana, bea = env.ledger(user="ana", journal=False), env.ledger(user="bea", journal=False)
    ids = {}
    for i, (who, o, src, ref) in enumerate(
        [
            (ana, a, "cash", "C-1"),
            (bea, a, "apace", "APC-7"),
            (ana, b, "cash", "C-2"),
            (bea, b, "bank-transfer", "PX-9"),
        ]
    ):
        ids[ref] = who.record(o.order_id, "1.00", src, ref, refunded_at=f"2026-05-0{i + 1}T12:00:00Z").entry.entry_id
    ids["undo"] = bea.reverse(ids["C-1"], "typed twice").entry.entry_id
    return env, ids


def test_filters_each_narrow_the_listing_newest_first(recorded: tuple[Env, dict[str, str]]) -> None:
    env, ids = recorded
    ledger = env.ledger(journal=False)
    everything = list_entries(ledger)
    assert _ids(everything) == [ids["undo"], ids["PX-9"], ids["C-2"], ids["APC-7"], ids["C-1"]]
    assert everything.total == 5 and not everything.more
    assert [x.reversed for x in everything.entries] == [False, False, False, False, True]
    assert _ids(list_entries(ledger, RefundQuery(recorder="ana"))) == [ids["C-2"], ids["C-1"]]
    assert _ids(list_entries(ledger, RefundQuery(source="cash"))) == [ids["undo"], ids["C-2"], ids["C-1"]]
    assert _ids(list_entries(ledger, RefundQuery(search="APC"))) == [ids["APC-7"]]
    start, end = local_day_bounds(date(2026, 5, 2), date(2026, 5, 3))
    assert _ids(list_entries(ledger, RefundQuery(start=start, end=end))) == [ids["C-2"], ids["APC-7"]]
    assert _ids(list_entries(ledger, RefundQuery(reversed=True))) == [ids["undo"], ids["C-1"]]
    assert _ids(list_entries(ledger, RefundQuery(reversed=False))) == [ids["PX-9"], ids["C-2"], ids["APC-7"]]
    both = list_entries(ledger, RefundQuery(recorder="bea", source="apace"))
    assert _ids(both) == [ids["APC-7"]]


def test_pages_follow_each_other_without_gaps_or_repeats(recorded: tuple[Env, dict[str, str]]) -> None:
    env, ids = recorded
    ledger = env.ledger(journal=False)
    pages = [list_entries(ledger, page=n, size=2) for n in (1, 2, 3)]
    assert [_ids(p) for p in pages] == [
        [ids["undo"], ids["PX-9"]],
        [ids["C-2"], ids["APC-7"]],
        [ids["C-1"]],
    ]
    assert [p.more for p in pages] == [True, True, False]
    assert _ids(list_entries(ledger, RefundQuery(reversed=False), page=2, size=2)) == [ids["APC-7"]]


def test_bad_filters_get_one_line_and_nothing_is_asked(env: Env) -> None:
    with pytest.raises(InputError, match="quotes"):
        RefundQuery(search='x" OR kind=refund')
    start, end = local_day_bounds(date(2026, 5, 2), date(2026, 5, 2))
    with pytest.raises(InputError, match="before it starts"):
        RefundQuery(start=end, end=start)
    with pytest.raises(InputError, match="from 1"):
        list_entries(env.ledger(journal=False), page=0)


def test_a_refund_just_recorded_here_is_listed_before_search_shows_it(make_env: Any) -> None:
    env, clock = lagging(make_env)
    o = env.orders.invoiced()
    ledger = env.ledger(user="ana")
    r = ledger.record(o.order_id, "3.00", "cash", "R-1")
    page = list_entries(ledger)
    assert _ids(page) == [r.entry.entry_id] and page.unsearchable == 1 and "not searchable yet" in page.freshness
    assert _ids(list_entries(env.ledger(journal=False))) == []  # another machine: not until search catches up
    assert _ids(list_entries(ledger, RefundQuery(recorder="bea"))) == []
    clock.offset = 31
    page = list_entries(ledger)
    assert _ids(page) == [r.entry.entry_id] and page.unsearchable == 0


# -- 100,000 entries ---------------------------------------------------------------------------------------------

_MS = re.compile(r"refundedAtMs (<=|>|=) (\d+)")


class CountingMasterData:
    """Master Data's search over N entry documents, newest first, 10,000 deep, counting what is asked and sent."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.requests = 0
        self.documents = 0
        # entry k (0 = newest) is refunded at ms[k]; pairs share a millisecond, as imported refunds may
        self.base = 1_780_000_000_000

    def ms(self, k: int) -> int:
        return self.base - (k // 2) * 1000

    def _first_at_or_before(self, v: int) -> int:
        """The first position whose ms is <= v (ms falls as k rises, two per millisecond)."""
        return max(0, min(self.n, 2 * ((self.base - v + 999) // 1000)))

    def _doc(self, k: int) -> dict[str, Any]:
        e = LedgerEntry(
            entry_id=f"rf-{k:024x}",
            order_id=f"{1_000_000_000_000 + k}-01",
            kind=REFUND,
            amount=Money(100 + k, "BRL"),
            refunded_at=Instant(self.ms(k) * 1_000_000),
            source="cash",
            external_ref=f"C-{k}",
            reason="",
            note="",
            recorded_by="ana",
            recorded_at=Instant(self.ms(k) * 1_000_000),
        )
        return e.to_document()

    def search_page(
        self, entity: str, start: int, end: int, *, where: str | None = None, **_kw: Any
    ) -> tuple[list[dict[str, Any]], int | None]:
        self.requests += 1
        assert 0 <= start < end <= 10_000 and end - start <= 100, (start, end)
        if where and ("reverses=" in where or where == "refundedAtMs is null"):
            return [], 0
        lo, hi = 0, self.n  # positions matching: the keyset conditions are the only ones asked here
        for op, value in _MS.findall(where or ""):
            v = int(value)
            # first position whose ms is <= v (ms falls as k rises, two per millisecond)
            first_le = self._first_at_or_before(v)
            if op in ("<=", "="):
                lo = max(lo, first_le)
            if op in (">", "="):
                hi = min(hi, first_le if op == ">" else self._first_at_or_before(v - 1))
        docs = [self._doc(k) for k in range(lo + start, min(hi, lo + end))]
        self.documents += len(docs)
        return docs, max(0, hi - lo)


def test_a_page_deep_in_100000_entries_reads_a_few_hundred_documents(env: Env) -> None:
    real = env.ledger(journal=False)
    md = CountingMasterData(100_000)
    ledger = Ledger.__new__(Ledger)
    ledger.__dict__.update(real.__dict__)
    ledger.store = copy.copy(real.store)
    ledger.store.masterdata = md  # type: ignore[assignment]  # search only, counted
    first = list_entries(ledger, size=100)
    assert first.total == 100_000 and first.more
    assert first.total_text == "about 100,000"  # past 10,000 the figure is Master Data's, and cannot be checked
    assert [x.entry.external_ref for x in first.entries[:2]] == ["C-0", "C-1"]
    md.requests = md.documents = 0
    last = list_entries(ledger, page=1000, size=100)
    assert [x.entry.external_ref for x in last.entries][:1] == ["C-99900"]
    assert [x.entry.external_ref for x in last.entries][-1:] == ["C-99999"] and not last.more
    assert len(last.entries) == 100
    assert md.documents < 300 and md.requests < 40
    middle = list_entries(ledger, page=456, size=100)  # 45,500: across a keyset jump, no gap, no repeat
    assert [x.entry.external_ref for x in middle.entries] == [f"C-{k}" for k in range(45_500, 45_600)]


def test_an_account_whose_schema_predates_the_filters_is_told_to_run_setup(env: Env) -> None:
    from refundkit.errors import LedgerError
    from refundkit.ledger.schemas import ENTRY_SCHEMA, SCHEMA_NAME

    old = {**ENTRY_SCHEMA, "v-indexed": [f for f in ENTRY_SCHEMA["v-indexed"] if f != "recordedBy"]}
    ledger = env.ledger(journal=False)
    ledger.client.masterdata.save_schema(ledger.entity, SCHEMA_NAME, old)
    assert list_entries(ledger).entries == []  # unfiltered: fine
    with pytest.raises(LedgerError, match="run `refundkit setup` again"):
        list_entries(ledger, RefundQuery(recorder="ana"))


def test_an_old_document_without_the_sort_field_is_counted_and_named_never_dropped_silently(env: Env) -> None:
    o = env.orders.invoiced()
    ledger = env.ledger(journal=False)
    r = ledger.record(o.order_id, "1.00", "cash", "C-OLD")
    doc = {k: v for k, v in r.entry.to_document().items() if k != "refundedAtMs"}  # as written before it existed
    ledger.client.masterdata.put(ledger.entity, r.entry.entry_id, doc)
    page = list_entries(ledger)
    assert _ids(page) == []
    assert page.notes and "1 older entry document(s)" in page.freshness and "--order" in page.freshness
    assert _ids(list_entries(ledger, RefundQuery(order_id=o.order_id))) == [r.entry.entry_id]
