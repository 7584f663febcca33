"""The ledger commands of ``refundkit`` as a person runs them: the command run in process (refundkit.testing.run_cli:
its own environment and folder, output captured, exit code returned) against a sandbox served here.

Every run is checked: no traceback on stderr, the app token never printed. After every test: no money-moving call
and no DELETE reached the sandbox.
"""

from __future__ import annotations

import csv
import io

import pytest
from cli_harness import Cli

from refundkit.ledger.model import refund_id, reversal_id
from refundkit.sandbox import FaultRule


def cents(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


# -- setup, record, already recorded, refused, usage ----------------------------------------------------------------


def test_setup_is_safe_to_repeat(cli: Cli) -> None:
    before = cli.writes()
    r = cli.run("setup")
    assert r.code == 0 and r.out.count("already up to date") == 3
    assert cli.writes() == before


def test_record_then_record_again(cli: Cli) -> None:
    o = cli.order()
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        "12.34",
        "--source",
        "apace",
        "--ref",
        "APC-123",
        "--reason",
        "damaged item",
        "--note",
        "called the client",
    )
    eid = refund_id(o.order_id, "apace", "APC-123")
    assert r.code == 0, r.err
    assert r.out.startswith(f"recorded: {eid}") and "BRL 12.34" in r.out
    assert f"refundable balance now BRL {cents(o.total_cents - 1234)}" in r.out
    (note,) = cli.notes(o.order_id)
    assert f"[refundkit:{eid}]" in note["description"] and "clerk-cli" in note["description"]
    before = cli.writes()
    again = cli.run("record", o.order_id, "--amount", "12,34", "--source", "apace", "--ref", "apc-123")
    assert again.code == 0 and again.out.startswith(f"already recorded: {eid}")
    assert cli.writes() == before, "recording again wrote something"


def test_record_json(cli: Cli) -> None:
    o = cli.order()
    r = cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "R-1", "--json")
    assert r.code == 0
    d = r.json()
    assert d["outcome"] == "recorded" and d["refund_id"] == refund_id(o.order_id, "cash", "R-1")
    assert (d["amount"], d["currency"], d["pending"]) == ("1.00", "BRL", [])
    assert d["refundable"] == cents(o.total_cents - 100)
    again = cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "R-1", "--json")
    assert again.json()["outcome"] == "already recorded"


def test_record_refused_exits_1_with_one_line_and_writes_nothing(cli: Cli) -> None:
    o = cli.order()
    before = cli.writes()
    r = cli.run("record", o.order_id, "--amount", cents(o.total_cents + 1), "--source", "cash", "--ref", "R-1")
    assert r.code == 1 and r.out == ""
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refundkit: refused:") and "refundable balance" in lines[0]
    assert lines[0].endswith("(nothing written)")
    assert cli.writes() == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--amount", "0"], "more than zero"),
        (["--amount", "1.001"], "decimals"),
        (["--amount", "1", "--source", "paypal"], "unknown source"),
        (["--amount", "1", "--refunded-at", "2099-01-01"], "in the future"),
        (["--amount", "1", "--refunded-at", "2020-01-01"], "before the order was created"),
        (["--amount", "1", "--currency", "USD"], "not the order's currency"),
        (["--amount", "1", "--note", "x" * 1001], "at most 1000"),
    ],
)
def test_each_validation_refusal_exits_1(cli: Cli, extra: list[str], words: str) -> None:
    o = cli.order()
    args = ["record", o.order_id, "--source", "cash", "--ref", "R-1", *extra]
    if "--source" in extra[2:]:
        args = ["record", o.order_id, "--ref", "R-1", *extra]
    before = cli.writes()
    r = cli.run(*args)
    assert r.code == 1 and words in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert cli.writes() == before


def test_extra_sources_from_the_environment_reach_the_cli(cli: Cli) -> None:
    o = cli.order()
    args = ["record", o.order_id, "--amount", "1.00", "--source", "pix-manual", "--ref", "PX-9"]
    refused = cli.run(*args)
    assert refused.code == 1 and "REFUNDKIT_EXTRA_SOURCES" in refused.err
    r = cli.run(*args, "--json", env={**cli.env(), "REFUNDKIT_EXTRA_SOURCES": "pix-manual"})
    assert r.code == 0 and r.json()["outcome"] == "recorded", r.err


@pytest.mark.parametrize("kind", ["canceled", "payment-pending", "unknown", "malformed"])
def test_orders_that_take_no_refund_exit_1(cli: Cli, kind: str) -> None:
    if kind in ("canceled", "payment-pending"):
        oid = cli.order(lambda o: o.status == kind).order_id
    else:
        oid = "9999999999999-01" if kind == "unknown" else "not/an/order"
    r = cli.run("record", oid, "--amount", "1", "--source", "cash", "--ref", "R-1")
    assert r.code == 1 and r.err.startswith("refundkit: refused:")
    words = {
        "canceled": "canceled",
        "payment-pending": "payment is still pending",
        "unknown": "does not exist",
        "malformed": "is not a VTEX order id",
    }[kind]
    assert words in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["record", "1-01", "--source", "cash", "--ref", "R"],  # no --amount
        ["record", "1-01", "--amount", "1", "--source", "cash", "--ref", "R", "--bogus"],
        ["refunds", "--from", "2026-13-01", "--to", "2026-12-31"],
        ["refunds", "--from", "2026-03-02", "--to", "2026-03-01"],
        ["refunds", "--from", "2026-03-01"],
        ["refunds", "--format", "xml"],
        ["reverse", "rf-x"],  # no --reason
        ["import"],
        [],
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    before = cli.writes()
    r = cli.run(*args)
    assert r.code == 2, (r.code, r.err)
    assert r.out == "" or args == []
    assert cli.writes() == before


def test_import_of_a_missing_file_is_a_usage_error(cli: Cli) -> None:
    r = cli.run("import", str(cli.home / "nope.csv"))
    assert r.code == 2 and "no such file" in r.err and len(r.err.strip().splitlines()) == 1


def test_no_account_configured_is_a_usage_error(cli: Cli) -> None:
    env = {k: v for k, v in cli.env().items() if not k.startswith("VTEX_")}
    r = cli.run("quote", "1-01", env=env)
    assert r.code == 2 and "VTEX_ACCOUNT_NAME" in r.err and "refundkit sandbox" in r.err


def test_wrong_credentials_exit_3_without_printing_them(cli: Cli) -> None:
    env = {**cli.env(), "VTEX_APP_TOKEN": "WRONG-TOKEN-must-not-show-4471"}
    r = cli.run("quote", cli.order().order_id, env=env)
    assert r.code == 3 and "401" in r.err and "VTEX_APP_TOKEN" in r.err
    assert "WRONG-TOKEN-must-not-show-4471" not in r.err + r.out


# -- dry run and quote -------------------------------------------------------------------------------------------


def test_dry_run_prints_the_quote_and_writes_nothing(cli: Cli) -> None:
    o = cli.order()
    before = cli.writes()
    r = cli.run("record", o.order_id, "--amount", "10.00", "--source", "cash", "--ref", "R-1", "--dry-run")
    assert r.code == 0 and "dry run: nothing written" in r.out
    assert f"refundable balance   BRL {cents(o.total_cents):>12}" in r.out and "proposed refund" in r.out
    bad = cli.run(
        "record", o.order_id, "--amount", cents(o.total_cents + 1), "--source", "cash", "--ref", "R-1", "--dry-run"
    )
    assert bad.code == 1 and "problem:" in bad.out and "would be refused" in bad.out
    js = cli.run("record", o.order_id, "--amount", "10.00", "--source", "cash", "--ref", "R-1", "--dry-run", "--json")
    d = js.json()
    assert js.code == 0 and d["ok"] and d["proposed"] == "10.00" and d["refundable"] == cents(o.total_cents)
    assert cli.writes() == before, "--dry-run wrote something"


def test_quote_shows_native_and_offline_refunds(cli: Cli) -> None:
    o = cli.order(lambda o: o.status == "invoiced" and bool(o.input_invoices) and o.refunded_cents < o.total_cents)
    r = cli.run("quote", o.order_id, "--json")
    d = r.json()
    assert r.code == 0 and d["native_refunded"] == cents(o.refunded_cents)
    assert d["refundable"] == cents(o.total_cents - o.refunded_cents) and len(d["return_invoices"]) >= 1
    text = cli.run("quote", o.order_id)
    assert "VTEX refunds" in text.out and "return invoice(s)" in text.out


# -- reverse -------------------------------------------------------------------------------------------------------


def test_reverse(cli: Cli) -> None:
    o = cli.order()
    eid = refund_id(o.order_id, "cash", "R-1")
    assert cli.run("record", o.order_id, "--amount", "2.00", "--source", "cash", "--ref", "R-1").code == 0
    r = cli.run("reverse", eid, "--reason", "recorded on the wrong order")
    assert r.code == 0 and r.out.startswith(f"reversed: {eid} by {reversal_id(eid)}")
    assert f"refundable balance now BRL {cents(o.total_cents)}" in r.out
    before = cli.writes()
    again = cli.run("reverse", eid, "--reason", "again", "--json")
    assert again.code == 0 and again.json()["outcome"] == "already recorded"
    assert cli.writes() == before
    assert len(cli.notes(o.order_id)) == 2
    bad = cli.run("reverse", "rf-nope", "--reason", "x")
    assert bad.code == 1 and "is not a refund id" in bad.err


# -- import --------------------------------------------------------------------------------------------------------


def test_import_reports_each_row_and_exits_1_with_a_refused_row(cli: Cli) -> None:
    a, b = cli.order(), cli.order()
    canceled = cli.order(lambda o: o.status == "canceled")
    path = cli.home / "apace.csv"
    path.write_text(
        "\ufefforder_id;amount;refunded_at;source;external_ref;reason\n"
        f"{a.order_id};1,50;2026-04-20;apace;APC-1;damaged\n"
        f"{b.order_id};2,00;2026-04-20;apace;APC-2;late\n"
        f"{canceled.order_id};1,00;2026-04-20;apace;APC-3;x\n",
        encoding="utf-8",
    )
    before = cli.writes()
    dry = cli.run("import", str(path), "--dry-run")
    assert dry.code == 1 and "2 would be recorded" in dry.out and "(dry run: nothing written)" in dry.out
    assert cli.writes() == before
    r = cli.run("import", str(path))
    assert r.code == 1
    lines = r.out.splitlines()
    assert any(a.order_id in ln and " recorded " in ln for ln in lines)
    assert any(canceled.order_id in ln and "refused" in ln and "canceled" in ln for ln in lines)
    assert lines[-1].endswith("3 rows: 2 recorded, 0 already recorded, 1 refused")
    assert cli.notes(canceled.order_id) == []
    before = cli.writes()
    again = cli.run("import", str(path), "--json")
    d = again.json()
    assert again.code == 1 and d["counts"]["already recorded"] == 2 and d["counts"]["recorded"] == 0
    assert [row["outcome"] for row in d["rows"]] == ["already recorded", "already recorded", "refused"]
    assert cli.writes() == before, "re-importing wrote something"


def test_import_of_good_rows_exits_0(cli: Cli) -> None:
    a = cli.order()
    path = cli.home / "good.csv"
    path.write_text(
        f"order_id,amount,refunded_at,source,external_ref,reason\n{a.order_id},1.00,2026-04-20,cash,R-1,ok\n",
        encoding="utf-8",
    )
    r = cli.run("import", str(path))
    assert r.code == 0 and r.out.splitlines()[-1].endswith("1 recorded, 0 already recorded, 0 refused")
    assert cli.run("import", str(path)).code == 0


def test_import_holds_back_a_likely_duplicate_until_yes(cli: Cli) -> None:
    """APC-901 recorded, then APC901 imported: the same order and amount under another reference within the window
    is held back, listed with the earlier entry, and recorded only with --yes (once, however often it is run)."""
    a, b = cli.order(), cli.order()
    first = cli.run(
        "record",
        a.order_id,
        "--amount",
        "12.00",
        "--source",
        "apace",
        "--ref",
        "APC-901",
        "--refunded-at",
        "2026-04-20",
    )
    assert first.code == 0, first.err
    earlier = refund_id(a.order_id, "apace", "APC-901")
    path = cli.home / "apc901.csv"
    path.write_text(
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{a.order_id},12.00,2026-04-21,apace,APC901,damaged\n"
        f"{b.order_id},3.00,2026-04-21,apace,APC-902,late\n"
        f"{b.order_id},3.00,2026-04-22,apace,APC-903,late\n",  # the same within the file, against the row above
        encoding="utf-8",
    )
    before = cli.writes()
    dry = cli.run("import", str(path), "--dry-run", "--json")
    assert dry.code == 1 and [r["outcome"] for r in dry.json()["rows"]] == [
        "likely duplicate",
        "would record",
        "likely duplicate",
    ]
    assert cli.writes() == before
    held = cli.run("import", str(path))
    assert held.code == 1, held.out + held.err
    lines = held.out.splitlines()
    assert "likely duplicate" in lines[0] and earlier in lines[0] and "APC-901" in lines[0] and "BRL 12.00" in lines[0]
    assert "2 held back as likely duplicates" in lines[-1] and "--yes" in lines[-1]
    listed = cli.run("refunds", "--order", a.order_id, "--format", "json").json()
    assert [e["external_ref"] for e in listed] == ["APC-901"]  # nothing written for the held row
    yes = cli.run("import", str(path), "--yes", "--json")
    assert yes.code == 0, yes.out + yes.err
    rows = yes.json()["rows"]
    assert [r["outcome"] for r in rows] == ["recorded", "already recorded", "recorded"]
    assert rows[0]["likely_duplicate_of"] == [earlier]
    again = cli.run("import", str(path), "--yes")
    assert again.code == 0 and again.out.splitlines()[-1].endswith("0 recorded, 3 already recorded, 0 refused")
    assert sorted(e["external_ref"] for e in cli.run("refunds", "--order", a.order_id, "--format", "json").json()) == [
        "APC-901",
        "APC901",
    ]


# -- refunds listing --------------------------------------------------------------------------------------------------


def test_refunds_as_csv_right_after_recording(cli: Cli) -> None:
    o = cli.order()
    cli.run(
        "record",
        o.order_id,
        "--amount",
        "3.00",
        "--source",
        "cash",
        "--ref",
        "R-1",
        "--refunded-at",
        "2026-04-15T10:00:00-03:00",
    )
    cli.run(
        "record",
        o.order_id,
        "--amount",
        "1.00",
        "--source",
        "apace",
        "--ref",
        "APC-1",
        "--refunded-at",
        "2026-04-16T10:00:00Z",
    )
    cli.run("reverse", refund_id(o.order_id, "cash", "R-1"), "--reason", "typo")
    r = cli.run("refunds", "--order", o.order_id, "--format", "csv")
    assert r.code == 0
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(x["kind"], x["amount"], x["note_status"], x["reversed"]) for x in rows] == [  # newest first
        ("reversal", "-3.00", "posted", ""),
        ("refund", "1.00", "posted", "no"),
        ("refund", "3.00", "posted", "yes"),
    ]
    assert {x["order_id"] for x in rows} == {o.order_id} and rows[-1]["recorded_by"] == "clerk-cli"
    assert rows[-1]["refunded_at"].startswith("2026-04-15T13:00:00")
    ranged = cli.run("refunds", "--from", "2026-04-16", "--to", "2026-04-16", "--format", "csv")
    ids = [x["entry_id"] for x in csv.DictReader(io.StringIO(ranged.out))]
    assert refund_id(o.order_id, "apace", "APC-1") in ids and refund_id(o.order_id, "cash", "R-1") not in ids
    js = cli.run("refunds", "--order", o.order_id, "--format", "json")
    assert js.code == 0 and len(js.json()) == 3
    table = cli.run("refunds", "--order", o.order_id, "--format", "table")
    assert table.code == 0 and o.order_id in table.out
    tz = cli.run("refunds", "--order", o.order_id, "--format", "csv", "--tz", "America/Sao_Paulo")
    assert list(csv.DictReader(io.StringIO(tz.out)))[-1]["refunded_at"].startswith("2026-04-15T10:00:00")


def test_refunds_written_to_a_file(cli: Cli) -> None:
    o = cli.order()
    cli.run("record", o.order_id, "--amount", "3.00", "--source", "cash", "--ref", "R-1")
    out = cli.home / "refunds.csv"
    r = cli.run("refunds", "--order", o.order_id, "-o", str(out))
    assert r.code == 0 and len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 1


def test_refunds_filters_pages_and_formats(cli: Cli) -> None:
    a, b = cli.order(), cli.order()
    for o, src, ref, day in [(a, "cash", "C-1", "01"), (a, "apace", "APC-7", "12"), (b, "cash", "C-2", "23")]:
        r = cli.run(
            "record", o.order_id, "--amount", "2.50", "--source", src, "--ref", ref, "--refunded-at", f"2026-05-{day}"
        )
        assert r.code == 0, r.err
    assert cli.run("reverse", refund_id(a.order_id, "cash", "C-1"), "--reason", "typo").code == 0

    def refs(*flags: str) -> list[str]:
        r = cli.run("refunds", "--format", "json", *flags)
        assert r.code == 0, r.err
        ours = {a.order_id, b.order_id}  # the sandbox holds other orders' refunds too
        return [(x["kind"][:3] + ":" + x["external_ref"]) for x in r.json() if x["order_id"] in ours]

    assert refs() == ["rev:C-1", "ref:C-2", "ref:APC-7", "ref:C-1"]
    assert refs("--source", "apace") == ["ref:APC-7"]
    assert refs("--recorder", "clerk-cli", "--search", "APC") == ["ref:APC-7"]
    assert refs("--recorder", "someone-else") == []
    assert refs("--search", b.order_id) == ["ref:C-2"]
    assert refs("--reversed") == ["rev:C-1", "ref:C-1"]
    assert refs("--not-reversed") == ["ref:C-2", "ref:APC-7"]
    assert refs("--from", "2026-05-12", "--to", "2026-05-23") == ["ref:C-2", "ref:APC-7"]
    assert refs("--search", a.order_id, "--limit", "2", "--page", "2") == ["ref:C-1"]
    more = cli.run("refunds", "--search", a.order_id, "--limit", "2", "--format", "csv")
    assert "--page 2" in more.err and len(list(csv.DictReader(io.StringIO(more.out)))) == 2
    book = cli.home / "refunds.xlsx"
    x = cli.run("refunds", "--source", "cash", "--search", a.order_id, "-o", str(book))
    assert x.code == 0 and book.read_bytes()[:2] == b"PK" and "2 entries written" in x.err
    assert "-o FILE.xlsx" in cli.run("refunds", "--format", "xlsx").err
    assert "quotes" in cli.run("refunds", "--search", 'x" OR kind=refund').err
    assert "--page needs --limit" in cli.run("refunds", "--page", "2").err


# -- reconcile ----------------------------------------------------------------------------------------------------


def test_reconcile_posts_a_missing_note_once(cli: Cli) -> None:
    o = cli.order()
    cli.sb.faults.add(FaultRule(method="POST", path=r"^/api/do/notes$", status=500, times=1))  # posted once
    r = cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "R-1")
    assert r.code == 0 and r.out.startswith("recorded:") and "reconcile" in r.err
    assert cli.notes(o.order_id) == []
    rec = cli.run("reconcile", "--order", o.order_id, "--json")
    d = rec.json()
    assert rec.code == 0 and d["notes_posted"] == [refund_id(o.order_id, "cash", "R-1")]
    assert len(cli.notes(o.order_id)) == 1
    again = cli.run("reconcile", "--order", o.order_id)
    assert again.code == 0 and "notes posted: 0" in again.out and "checked 1 order(s)" in again.out
    assert len(cli.notes(o.order_id)) == 1
    # the whole account (the journal in REFUNDKIT_CACHE_DIR and scroll find the orders): still nothing new
    whole = cli.run("reconcile")
    assert whole.code == 0 and "notes posted: 0" in whole.out
    assert len(cli.notes(o.order_id)) == 1


def test_reconcile_reports_over_refunds(cli: Cli) -> None:
    o = cli.order()
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        cents(o.total_cents + 100),
        "--source",
        "cash",
        "--ref",
        "R-1",
        "--allow-over-refund",
        "goodwill",
    )
    assert r.code == 0
    rec = cli.run("reconcile", "--order", o.order_id)
    assert rec.code == 0 and f"over-refunded: order {o.order_id} by BRL 1.00" in rec.out
