"""Import under VTEX faults (failed rows are failed and to be retried, not refused), what a re-import says about
rows still pending, and the cost of validation (one pass over the rows, two reads per order)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from refundkit.ledger import Ledger, import_refunds
from refundkit.ledger.csvimport import ImportOutcome
from refundkit.ledger.model import OrderLedger

from .helpers import Env, money, notes_of

HEADER = "order_id,amount,refunded_at,source,external_ref,reason,currency,note"
HEAD_DOC = r"^/api/dataentities/offlineRefundOrder/documents/"


def csv_file(tmp: Path, lines: list[str], name: str = "refunds.csv") -> Path:
    path = tmp / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_vtex_failures_are_failed_and_to_be_retried_not_refused(env: Env) -> None:
    ledger = env.ledger(max_attempts=2)
    orders = env.orders.eligible(3)
    path = csv_file(env.tmp, [HEADER] + [f"{o.order_id},1.00,2026-04-20,cash,R-{i},,," for i, o in enumerate(orders)])
    # every write of the first order's ledger document fails: that row cannot be recorded now
    env.fault("PUT", HEAD_DOC + "order-" + orders[0].order_id.lower(), status=503, times=50)
    report = import_refunds(ledger, path, workers=1)
    assert Counter(r.outcome for r in report.rows) == {"recorded": 2, "failed": 1}
    failed = next(r for r in report.rows if r.outcome == ImportOutcome.FAILED)
    assert failed.order_id == orders[0].order_id and "import the file again" in failed.message
    assert not report.ok and report.failed == 1 and report.refused == 0
    assert "1 failed" in report.summary() and "0 refused" in report.summary()
    env.sb.faults.clear()
    again = import_refunds(ledger, path, workers=1)
    assert Counter(r.outcome for r in again.rows) == {"recorded": 1, "already recorded": 2} and again.ok
    for o in orders:
        assert len(ledger.order_ledger(o.order_id).entries) == 1 and len(notes_of(env.sb, o.order_id)) == 1


def test_an_unreadable_order_is_failed_but_a_missing_one_is_refused(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    env.fault("GET", r"^/api/oms/pvt/orders/" + o.order_id, status=503, times=50)
    path = csv_file(
        env.tmp, [HEADER, f"{o.order_id},1.00,2026-04-20,cash,R-1,,,", "9999999999999-01,1.00,2026-04-20,cash,R-2,,,"]
    )
    report = import_refunds(ledger, path, workers=1, dry_run=True)
    assert [r.outcome for r in report.rows] == ["failed", "refused"]
    assert "does not exist" in report.rows[1].message


def test_a_re_import_says_which_rows_are_still_pending(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(3)
    path = csv_file(env.tmp, [HEADER] + [f"{o.order_id},1.00,2026-04-20,cash,R-{i},,," for i, o in enumerate(orders)])
    env.fault("POST", r"^/api/do/notes$", status=500, times=1)  # the first row's note fails (posted once)
    env.fault("PUT", r"^/api/dataentities/offlineRefund/documents/", status=500, times=8)  # and a document
    first = import_refunds(ledger, path, workers=1)
    assert Counter(r.outcome for r in first.rows) == {"recorded": 3}
    env.sb.faults.clear()
    for dry_run in (True, False):
        again = import_refunds(ledger, path, workers=1, dry_run=dry_run)
        assert Counter(r.outcome for r in again.rows) == {"already recorded": 3}
        pending = {r.line: r.pending for r in again.rows if r.pending}
        assert pending, "a re-import must say which rows are still pending"
        assert pending == {r.line: r.pending for r in first.rows if r.pending} or all(
            "document" in p for p in pending.values()
        )
        assert "still pending" in again.summary() and "refundkit reconcile" in again.summary()
        assert all("still pending" in r.message for r in again.rows if r.pending)
    ledger.reconcile()
    done = import_refunds(ledger, path, workers=1, dry_run=True)
    assert not any(r.pending for r in done.rows) and "pending" not in done.summary()


@pytest.mark.parametrize("rows", [60, 240])
def test_validation_reads_each_order_once_and_never_rescans(
    env: Env, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    """Validation is one pass: no per-row search of an order's entries, no per-row sum of its ledger, two reads per
    order. (The same counts at 60 and 240 rows per order: no cost that grows with the rows already seen.)"""
    orders = env.orders.eligible(3)
    for i, o in enumerate(orders):  # each order already holds a few entries
        for j in range(3):
            ledger.record(o.order_id, "0.01", "cash", f"PRE-{i}-{j}")
    # each row of an order its own amount: rows of one order and amount under other references are likely duplicates
    lines = [HEADER] + [f"{orders[i % 3].order_id},{money(i // 3 + 1)},2026-04-20,cash,N-{i},,," for i in range(rows)]
    lines += [f"{orders[0].order_id},0.01,2026-04-20,cash,PRE-0-0,,,"]  # one row already recorded
    calls: Counter[str] = Counter()
    real_entry, real_sum = OrderLedger.entry, OrderLedger.offline_refunded

    def entry(self: OrderLedger, entry_id: str):  # type: ignore[no-untyped-def]
        calls["entry"] += 1
        return real_entry(self, entry_id)

    def offline_refunded(self: OrderLedger, currency: str):  # type: ignore[no-untyped-def]
        calls["offline_refunded"] += 1
        return real_sum(self, currency)

    monkeypatch.setattr(OrderLedger, "entry", entry)
    monkeypatch.setattr(OrderLedger, "offline_refunded", offline_refunded)
    before = len(env.sb.requests)
    report = import_refunds(ledger, csv_file(env.tmp, lines), dry_run=True, workers=1)
    assert Counter(r.outcome for r in report.rows) == {"would record": rows, "already recorded": 1}
    assert calls["entry"] == 0, "an order's entries were searched row by row"
    assert calls["offline_refunded"] == 3, "an order's ledger was summed more than once"
    requests = [(r.method, r.path) for r in list(env.sb.requests)[before:]]
    kinds = Counter(
        "ledger" if "/offlineRefundOrder/documents/" in p else "order" if p.startswith("/api/oms/pvt/orders/") else p
        for _, p in requests
        if "/offlineRefund" in p or p.startswith("/api/oms/pvt/orders/")
    )
    # the 3 ledgers, the 3 orders, the already-recorded row's entry document: nothing per row
    assert kinds == {
        "ledger": 3,
        "order": 3,
        f"/api/dataentities/offlineRefund/documents/{report.rows[-1].entry_id}": 1,
    }
