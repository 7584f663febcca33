"""Bulk import against the sandbox: validate every row first, record the good ones, re-import writes nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from refundkit.errors import InputError
from refundkit.ledger import Ledger, import_refunds, refund_id
from refundkit.money import Money

from .helpers import Env, money, note_posts, notes_marked, notes_of, stored_doc

HEADER = "order_id,amount,refunded_at,source,external_ref,reason,currency,note"


def csv_file(tmp: Path, lines: list[str], name: str = "refunds.csv", *, bom: bool = False, sep: str = ",") -> Path:
    text = "\n".join(lines) + "\n"
    if sep != ",":
        text = text.replace(",", sep)
    path = tmp / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def outcomes(report) -> list[str]:
    return [r.outcome for r in report.rows]


def test_import_records_good_rows_and_refuses_bad_ones_without_writing_them(env: Env, ledger: Ledger) -> None:
    good = env.orders.eligible(3)
    canceled = env.orders.status("canceled")
    usd = env.orders.usd()
    small = env.orders.invoiced(min_total=2000)
    lines = [
        HEADER,
        f"{good[0].order_id},10.00,2026-04-20,apace,APC-1,damaged,BRL,first",
        f"{good[1].order_id},5.50,2026-04-20T10:00:00-03:00,cash,R-1,,,",
        f"{good[2].order_id},1.00,2026-04-20,bank-transfer,TX-1,late,,",
        f"{canceled.order_id},1.00,2026-04-20,cash,R-2,,,",  # canceled
        "9999999999999-01,1.00,2026-04-20,cash,R-3,,,",  # unknown order
        f"{good[0].order_id},abc,2026-04-20,cash,R-4,,,",  # amount
        f"{good[0].order_id},1.00,2026-04-20,paypal,R-5,,,",  # source
        f"{usd.order_id},1.00,2026-04-20,cash,R-6,,BRL,",  # currency
        f"{good[1].order_id},1.00,2099-01-01,cash,R-7,,,",  # future
        f"{good[1].order_id},1.00,,cash,R-8,,,",  # no date
        f"{small.order_id},{money(small.total_cents - 100)},2026-04-20,cash,R-9,,,",  # fits
        f"{small.order_id},1.01,2026-04-20,cash,R-10,,,",  # does not fit after the row above
        f"{good[2].order_id},1.00,2026-04-20,bank-transfer,tx-1,again,,",  # duplicate of line 4: same refund
        f"{good[2].order_id},2.00,2026-04-20,bank-transfer,TX-1,,,",  # same identity, another amount
        "not an order,1.00,2026-04-20,cash,R-11,,,",
        f"{good[0].order_id},1.00,2026-04-20,cash",  # too few fields
    ]
    path = csv_file(env.tmp, lines)
    report = import_refunds(ledger, path)
    got = {r.line: (r.outcome, r.message) for r in report.rows}
    assert [got[n][0] for n in (2, 3, 4, 12)] == ["recorded"] * 4, got
    assert got[14][0] == "refused" and got[14][1].startswith("repeats line 4: same order, amount")
    expect_refused = {
        5: "canceled",
        6: "does not exist",
        7: "not an amount",
        8: "unknown source",
        9: "not the order's currency",
        10: "in the future",
        11: "refunded_at is empty",
        13: "refundable balance BRL 1.00",
        14: "repeats line 4: same order, amount, source and reference",
        15: "different amount",
        16: "not a VTEX order id",
        17: "fields but the header has",
    }
    for line, words in expect_refused.items():
        assert got[line][0] == "refused" and words in got[line][1], (line, got[line])
    assert report.refused == len(expect_refused) and not report.ok
    assert report.summary().endswith("4 recorded, 0 already recorded, 12 refused")
    assert all(r.entry_id is None for r in report.rows if r.outcome == "refused"), "refused rows got no entry id"
    # written: exactly the four good rows, once each
    for n, o, src, ref, cents in (
        (2, good[0], "apace", "APC-1", 1000),
        (3, good[1], "cash", "R-1", 550),
        (4, good[2], "bank-transfer", "TX-1", 100),
        (12, small, "cash", "R-9", small.total_cents - 100),
    ):
        eid = refund_id(o.order_id, src, ref)
        assert got[n][0] == "recorded" and [r.entry_id for r in report.rows if r.line == n] == [eid]
        assert stored_doc(env.sb, "offlineRefund", eid)["amount"] == cents
        assert notes_marked(env.sb, o.order_id, eid) == 1
    for o in (canceled, usd):
        assert stored_doc(env.sb, "offlineRefundOrder", f"order-{o.order_id}") is None
        assert notes_of(env.sb, o.order_id) == []
    assert len(ledger.order_ledger(small.order_id).entries) == 1
    assert len(ledger.order_ledger(good[0].order_id).entries) == 1
    d = report.as_dict()
    assert d["counts"] == {
        "recorded": 4,
        "already recorded": 0,
        "refused": 12,
        "failed": 0,
        "would record": 0,
        "likely duplicate": 0,
        "pending": 0,
    }


def test_re_importing_the_same_file_writes_nothing(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(5)
    lines = [HEADER] + [f"{o.order_id},1.00,2026-04-20,apace,APC-{i},,," for i, o in enumerate(orders)]
    lines.append(f"{orders[0].order_id},2.00,2026-04-20,apace,APC-extra,,,")
    path = csv_file(env.tmp, lines)
    first = import_refunds(ledger, path)
    assert Counter(outcomes(first)) == {"recorded": 6}
    before, posts = env.writes(), note_posts(env.sb)
    again = import_refunds(env.ledger(), path)  # another machine, no journal of the first import
    assert Counter(outcomes(again)) == {"already recorded": 6} and again.ok
    assert env.writes() == before and note_posts(env.sb) == posts
    assert all(r.entry_id for r in again.rows)


def test_re_importing_with_a_changed_amount_refuses_that_row(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    import_refunds(ledger, csv_file(env.tmp, [HEADER, f"{o.order_id},1.00,2026-04-20,cash,R-1,,,"], "a.csv"))
    before = env.writes()
    report = import_refunds(ledger, csv_file(env.tmp, [HEADER, f"{o.order_id},1.50,2026-04-20,cash,R-1,,,"], "b.csv"))
    assert outcomes(report) == ["refused"] and "reverse it" in report.rows[0].message
    assert env.writes() == before


def test_dry_run_validates_and_writes_nothing(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(2)
    lines = [
        HEADER,
        f"{orders[0].order_id},1.00,2026-04-20,cash,R-1,,,",
        f"{orders[1].order_id},0,2026-04-20,cash,R-2,,,",
    ]
    before = env.writes()
    report = import_refunds(ledger, csv_file(env.tmp, lines), dry_run=True)
    assert outcomes(report) == ["would record", "refused"] and report.dry_run
    assert "1 would be recorded" in report.summary()
    assert env.writes() == before


@pytest.mark.parametrize(
    ("sep", "bom", "amount", "cents"),
    [
        (",", False, "12.34", 1234),
        (",", True, '"12,34"', 1234),
        (";", False, "12,34", 1234),
        (";", True, "1.234,56", 123456),
        (",", True, '"1,234.56"', 123456),
    ],
)
def test_separators_bom_and_decimal_commas(
    env: Env, ledger: Ledger, sep: str, bom: bool, amount: str, cents: int
) -> None:
    o = env.orders.invoiced(min_total=200000)
    header = "order_id,amount,refunded_at,source,external_ref,reason"
    row = f"{o.order_id},{amount},2026-04-20,cash,R-1,é ñ ü"
    if sep == ";":
        header, row = (
            header.replace(",", ";"),
            row.replace(",", ";", 5)
            if "," not in amount
            else (";".join([o.order_id, amount, "2026-04-20", "cash", "R-1", "é ñ ü"])),
        )
    path = env.tmp / "x.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + f"{header}\r\n{row}\r\n".encode())
    report = import_refunds(ledger, path)
    assert outcomes(report) == ["recorded"], report.rows[0].message
    e = ledger.order_ledger(o.order_id).entries[0]
    assert e.amount == Money(cents, "BRL") and e.reason == "é ñ ü"


def test_import_records_concurrently_and_in_file_order_per_order(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(20)
    lines = [HEADER]
    for i, o in enumerate(orders):
        for k in range(3):
            lines.append(f"{o.order_id},1.0{k},2026-04-2{k},cash,R-{i}-{k},,,")
    report = import_refunds(ledger, csv_file(env.tmp, lines), workers=8)
    assert Counter(outcomes(report)) == {"recorded": 60}
    for i, o in enumerate(orders):
        entries = ledger.order_ledger(o.order_id).entries
        assert [e.external_ref for e in entries] == [f"R-{i}-0", f"R-{i}-1", f"R-{i}-2"]
        assert len(notes_of(env.sb, o.order_id)) == 3


def test_import_with_failing_notes_reports_pending_and_reconcile_finishes(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(3)
    env.fault("POST", r"^/api/do/notes$", status=500, times=1)  # one row's note fails (posted once)
    lines = [HEADER] + [f"{o.order_id},1.00,2026-04-20,cash,R-{i},,," for i, o in enumerate(orders)]
    report = import_refunds(ledger, csv_file(env.tmp, lines), workers=1)
    assert Counter(outcomes(report)) == {"recorded": 3}
    pending = [r for r in report.rows if r.pending]
    assert len(pending) == 1 and pending[0].pending == ("note",) and "pending: note" in pending[0].message
    result = ledger.reconcile()
    assert result.notes_posted == [pending[0].entry_id]
    for o in orders:
        assert len(notes_of(env.sb, o.order_id)) == 1


def test_import_with_lost_answers_records_each_row_once(env: Env, ledger: Ledger) -> None:
    orders = env.orders.eligible(4)
    env.fault(
        "PUT",
        r"^/api/dataentities/offlineRefundOrder/documents/",
        status=None,
        after_write=True,
        drop_connection=True,
        times=2,
    )
    env.fault("POST", r"^/api/do/notes$", status=502, after_write=True, times=2)
    lines = [HEADER] + [f"{o.order_id},1.00,2026-04-20,cash,R-{i},,," for i, o in enumerate(orders)]
    report = import_refunds(ledger, csv_file(env.tmp, lines))
    assert Counter(outcomes(report)) == {"recorded": 4} and all(not r.pending for r in report.rows)
    for o in orders:
        assert len(ledger.order_ledger(o.order_id).entries) == 1 and len(notes_of(env.sb, o.order_id)) == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"order_id,amount\n1-01,1.00\n", "lacks column(s) refunded_at, source, external_ref, reason"),
        (HEADER.encode() + b"\n", "has a header but no rows"),
        (
            b"order_id,amount,refunded_at,source,external_ref,reason\n1-01,1.00,2026-04-01,cash,R,\x81\x8d\n",
            "neither UTF-8 nor Windows-1252",
        ),
        (b"order_id,amount,amount,refunded_at,source,external_ref,reason\n", "more than once"),
    ],
)
def test_file_problems_are_one_clear_error(env: Env, ledger: Ledger, content: bytes, words: str) -> None:
    path = env.tmp / "bad.csv"
    path.write_bytes(content)
    before = env.writes()
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        import_refunds(ledger, path)
    assert env.writes() == before


def test_a_missing_file_is_an_input_error(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        import_refunds(ledger, tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        import_refunds(ledger, tmp_path)


def test_a_row_repeating_another_in_another_currency_is_refused(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    header = "order_id,amount,refunded_at,source,external_ref,reason,currency"
    lines = [header, f"{o.order_id},15.00,2026-04-20,cash,CUR-1,,BRL", f"{o.order_id},15.00,2026-04-20,cash,CUR-1,,JPY"]
    report = import_refunds(ledger, csv_file(env.tmp, lines), dry_run=True)
    assert outcomes(report) == ["would record", "refused"]
    assert (
        "repeats line 2 (same order, source and reference) but in JPY" in report.rows[1].message
        and report.rows[1].money is None
    )
