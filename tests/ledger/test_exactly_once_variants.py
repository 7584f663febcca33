"""Exactly once under every answer Master Data may give to a conditional write (VTEX documents none of them).

Every test runs under each combination of: the status of a failed condition (304, 400, 409, 412, or a 200/204 that
applied nothing) x what a condition on a missing document does (created, empty-document, refused) x whether
conditions are honoured. Where exactly-once can hold, concurrent recorders record exactly what fits and lost answers
record once; where it cannot (conditions ignored, or refused on missing documents), refundkit refuses with the
reason and writes nothing to the ledger.

One sandbox, served on loopback, plays every combination (its Master Data options are read per request); each test
takes fresh orders and a fresh cache dir, so the account is probed anew. Races are made certain with a barrier in the
sandbox (every recorder reads the same version before any writes), never with sleeps.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refundkit.config import load_settings
from refundkit.errors import LedgerError
from refundkit.ledger import ExactlyOnceUnavailable, Ledger, RefundRefused, load_verdict
from refundkit.money import Money
from refundkit.sandbox import FaultRule, Sandbox, SandboxServer
from refundkit.sandbox.config import CONDITION_STATUSES
from refundkit.sandbox.store import OrderSummary
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import OrderPicker, check_nothing_moved
from refundkit.vtex import VtexClient
from refundkit.vtex.limiter import AdaptiveLimiter
from refundkit.vtex.transport import RetryPolicy

from .helpers import money, notes_marked, notes_of, small_config, stored_doc

HEAD = "offlineRefundOrder"
HEAD_DOCS = rf"^/api/dataentities/{HEAD}/documents/"
COMBINATIONS = [
    pytest.param(status, missing, honoured, id=f"{status}-{missing}-{'honoured' if honoured else 'ignored'}")
    for status, missing, honoured in itertools.product(
        CONDITION_STATUSES, ("created", "empty-document", "refused"), (True, False)
    )
]


def exactly_once_holds(missing: str, honoured: bool) -> bool:
    return honoured and missing != "refused"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sb = Sandbox(small_config(orders=600))
    with sb.serve(port=0) as srv:
        yield sb, srv


@dataclass
class Account:
    """The served sandbox playing one combination, and ledgers on it sharing one cache dir."""

    sb: Sandbox
    srv: SandboxServer
    cache: Path
    stack: ExitStack
    used: set[str]
    _client: VtexClient | None = None

    def client(self) -> VtexClient:
        """One client for every ledger of the test (recorders in threads of one process; its pool is thread-safe):
        building an httpx client per recorder would cost more than the race itself."""
        if self._client is None:
            cfg = self.sb.config
            env = {
                **sandbox_variables(self.srv.base_url, cfg),
                "REFUNDKIT_CACHE_DIR": str(self.cache),
            }
            self._client = VtexClient(
                load_settings(env=env, env_file=False),
                retry=RetryPolicy.fast(),
                # a loopback sandbox with no rate limit: start fast instead of VTEX's cautious 20 calls a second
                limiter_factory=lambda: AdaptiveLimiter(initial_rate=1000.0),
            )
            self.stack.callback(self._client.close)
        return self._client

    def ledger(self, user: str = "clerk", **kw: Any) -> Ledger:
        """A recorder of its own (its own verdict, read from the shared cache dir)."""
        return Ledger(self.client(), user=user, journal_dir=False, sleep=lambda _s: None, **kw)

    def order(self, min_total: int = 5000) -> OrderSummary:
        return OrderPicker(self.sb, self.used).invoiced(min_total=min_total)

    def fault(self, method: str, path: str, **kw: Any) -> FaultRule:
        return self.sb.faults.add(FaultRule(method=method, path=path, **kw))

    def head(self, order_id: str) -> dict[str, Any] | None:
        return stored_doc(self.sb, HEAD, f"order-{order_id}")

    def requests_since(self, n: int) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in list(self.sb.requests)[n:]]


_used: set[str] = set()


@pytest.fixture
def play(served: tuple[Sandbox, SandboxServer], tmp_path: Path) -> Iterator[Callable[[int, str, bool], Account]]:
    sb, srv = served
    with ExitStack() as stack:

        def configure(status: int, missing: str, honoured: bool) -> Account:
            sb.config.md_failed_condition_status = status
            sb.config.md_missing_document = missing  # type: ignore[assignment]  # one of the Literal's values
            sb.config.md_conditions_honoured = honoured
            account = Account(sb, srv, tmp_path / "cache", stack, _used)
            account.ledger().setup()  # saves the schemas and probes this combination (the verdict is kept)
            return account

        yield configure
    sb.faults.clear()
    sb.config.md_failed_condition_status, sb.config.md_missing_document = 304, "created"
    sb.config.md_conditions_honoured = True
    check_nothing_moved(sb)


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads at once; results (or exceptions) in thread order."""
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            out[i] = fn(i)
        except Exception as exc:  # each outcome is checked by the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def same_version_for(account: Account, n: int) -> None:
    """The next ``n`` reads of a ledger document are answered together, once all ``n`` have read: n recorders
    validate against the same version before any of them writes."""
    account.fault("GET", HEAD_DOCS, status=None, after_write=True, times=n, barrier=threading.Barrier(n))


def assert_refused_for_exactly_once(exc: BaseException, honoured: bool) -> None:
    assert isinstance(exc, ExactlyOnceUnavailable), exc
    (reason,) = exc.problems
    assert "\n" not in reason and "writes nothing" in reason
    assert ("ignores _where conditions" in reason) if not honoured else ("does not exist yet" in reason)


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_six_recorders_of_30_percent_each_record_the_three_that_fit(
    play: Callable[[int, str, bool], Account], status: int, missing: str, honoured: bool
) -> None:
    account = play(status, missing, honoured)
    o = account.order(min_total=10_000)
    share = o.total_cents * 30 // 100
    ledgers = [account.ledger(f"clerk{i}") for i in range(6)]
    same_version_for(account, 6)
    results = race(6, lambda i: ledgers[i].record(o.order_id, money(share), "cash", f"RECEIPT-{i}"))
    recorded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert not [e for e in refused if "VTEX" in str(e) and "failed" in str(e)], refused
    if not exactly_once_holds(missing, honoured):
        for e in refused:
            assert_refused_for_exactly_once(e, honoured)
        assert recorded == [] and account.head(o.order_id) is None and notes_of(account.sb, o.order_id) == []
        return
    assert len(recorded) == 3 and all(r.outcome == "recorded" and r.pending == () for r in recorded)
    assert len(refused) == 3
    for e in refused:
        assert isinstance(e, RefundRefused) and not isinstance(e, ExactlyOnceUnavailable), e
        assert any("refundable balance" in p for p in e.problems), e.problems
    q = ledgers[0].quote(o.order_id)
    assert q.offline_refunded == Money(3 * share, "BRL") and q.refundable.minor >= 0
    assert sorted(e.entry_id for e in q.entries) == sorted(r.entry.entry_id for r in recorded)
    for r in recorded:
        assert notes_marked(account.sb, o.order_id, r.entry.entry_id) == 1
    assert len(notes_of(account.sb, o.order_id)) == 3


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_six_recorders_of_the_same_refund_record_it_once(
    play: Callable[[int, str, bool], Account], status: int, missing: str, honoured: bool
) -> None:
    account = play(status, missing, honoured)
    o = account.order()
    ledgers = [account.ledger(f"clerk{i}") for i in range(6)]
    same_version_for(account, 6)
    results = race(6, lambda i: ledgers[i].record(o.order_id, "9.99", "apace", "APC-SAME"))
    if not exactly_once_holds(missing, honoured):
        for e in results:
            assert_refused_for_exactly_once(e, honoured)
        assert account.head(o.order_id) is None
        return
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(r.outcome for r in results) == ["already recorded"] * 5 + ["recorded"]
    (entry,) = ledgers[0].order_ledger(o.order_id).entries
    assert {r.entry.entry_id for r in results} == {entry.entry_id}
    assert notes_marked(account.sb, o.order_id, entry.entry_id) == 1


@pytest.mark.parametrize("lost", ["503 after the write", "connection dropped after the write"])
@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_a_lost_answer_to_a_ledger_write_records_once(
    play: Callable[[int, str, bool], Account], status: int, missing: str, honoured: bool, lost: str
) -> None:
    """The write applies but its answer is lost; the transport sends it again, and the condition of the repeat fails
    (answered with whatever this account answers): the read-back finds this write's entry, so it is recorded once.
    Both the order's first entry (created under `version is null`) and a later one (under `version=1`)."""
    account = play(status, missing, honoured)
    o = account.order()
    ledger = account.ledger()
    for n, ref in enumerate(("R-1", "R-2"), start=1):
        kw: dict[str, Any] = {"status": 503} if lost.startswith("503") else {"status": None, "drop_connection": True}
        account.fault("PUT", HEAD_DOCS, after_write=True, **kw)
        if not exactly_once_holds(missing, honoured):
            with pytest.raises(ExactlyOnceUnavailable) as info:
                ledger.record(o.order_id, "1.00", "cash", ref)
            assert_refused_for_exactly_once(info.value, honoured)
            assert account.head(o.order_id) is None and len(account.sb.faults) == 1
            return
        r = ledger.record(o.order_id, "1.00", "cash", ref)
        assert r.outcome == "recorded" and r.pending == () and len(account.sb.faults) == 0
        head = account.head(o.order_id)
        assert head is not None and head["version"] == n and len(head["entries"]) == n
        assert ledger.record(o.order_id, "1.00", "cash", ref).outcome == "already recorded"
    assert ledger.quote(o.order_id).offline_refunded == Money(200, "BRL")


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_the_first_entry_is_created_under_a_condition_a_missing_document_satisfies(
    play: Callable[[int, str, bool], Account], status: int, missing: str, honoured: bool
) -> None:
    account = play(status, missing, honoured)
    o = account.order()
    ledger = account.ledger()
    before = len(account.sb.requests)
    if not exactly_once_holds(missing, honoured):
        with pytest.raises(ExactlyOnceUnavailable):
            ledger.record(o.order_id, "1.00", "cash", "R-1")
        # refused before any write: no ledger write at all, conditional or not
        assert not [m for m, p in account.requests_since(before) if m != "GET"]
        return
    ledger.record(o.order_id, "1.00", "cash", "R-1")
    ledger.record(o.order_id, "1.00", "cash", "R-2")
    wheres = [
        r.query.get("_where")
        for r in list(account.sb.requests)[before:]
        if r.method == "PUT" and r.path == f"/api/dataentities/{HEAD}/documents/order-{o.order_id}"
    ]
    assert wheres == ["version is null", "version=1"]


def test_a_saved_verdict_is_used_and_a_refused_create_is_caught_at_run_time(
    play: Callable[[int, str, bool], Account],
) -> None:
    """The verdict says conditions on missing documents are honoured, but the account now refuses them: the
    read-back of the order's first entry shows nothing created, and refundkit refuses with the reason. An order that
    has its ledger document already records as before."""
    account = play(412, "empty-document", True)
    verdict = load_verdict(account.cache, account.sb.config.account)
    assert verdict is not None and verdict.missing_document == "empty-document"
    ledger = account.ledger()
    known, new = account.order(), account.order()
    ledger.record(known.order_id, "1.00", "cash", "R-1")
    account.sb.config.md_missing_document = "refused"
    with pytest.raises(ExactlyOnceUnavailable) as info:
        ledger.record(new.order_id, "1.00", "cash", "R-1")
    (reason,) = info.value.problems
    assert "did not create the ledger document" in reason and "version is null" in reason and "412" in reason
    assert "\n" not in reason and account.head(new.order_id) is None
    assert ledger.record(known.order_id, "1.00", "cash", "R-2").outcome == "recorded"


@pytest.mark.parametrize("status", CONDITION_STATUSES)
def test_a_write_not_applied_although_its_condition_held_fails_loudly(
    play: Callable[[int, str, bool], Account], status: int
) -> None:
    """Nobody else wrote (the version did not move) and the write still did not apply: not a lost race to retry
    thirty times, an error with VTEX's answer; nothing recorded."""
    account = play(status, "created", True)
    o = account.order()
    ledger = account.ledger()
    ledger.record(o.order_id, "1.00", "cash", "R-1")
    account.fault("PUT", HEAD_DOCS, status=status if status >= 300 else 204)  # answered, nothing applied
    with pytest.raises(LedgerError, match="although its condition held") as info:
        ledger.record(o.order_id, "1.00", "cash", "R-2")
    assert not isinstance(info.value, RefundRefused)
    assert [e.external_ref for e in ledger.order_ledger(o.order_id).entries] == ["R-1"]


def test_a_reversal_is_refused_too_once_the_verdict_says_exactly_once_cannot_hold(
    play: Callable[[int, str, bool], Account],
) -> None:
    account = play(304, "created", True)
    o = account.order()
    r = account.ledger().record(o.order_id, "1.00", "cash", "R-1")
    account.sb.config.md_conditions_honoured = False
    later = account.ledger()
    assert not later.store.master_data_verdict(probe_again=True).conditions_honoured  # as `refundkit doctor` would find
    before = account.head(o.order_id)
    with pytest.raises(ExactlyOnceUnavailable, match="ignores _where conditions"):
        later.reverse(r.entry.entry_id, "recorded on the wrong order")
    assert account.head(o.order_id) == before
    assert later.record(o.order_id, "1.00", "cash", "R-1").outcome == "already recorded"  # reading still works
