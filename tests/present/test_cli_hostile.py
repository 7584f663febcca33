"""Defects an attack on the command line found, each reproduced as a person runs it: the command run in process
(run_cli) against a sandbox served on loopback. Every run is checked for a traceback and for the app token."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading

import pytest
from cli_harness import Cli, eligible

from refundkit.ledger.model import refund_id
from refundkit.sandbox import FaultRule
from refundkit.testing import stored_doc
from refundkit.timeutil import parse_instant


def test_refunds_csv_neutralises_formulas_in_text_but_not_amounts(cli: Cli) -> None:
    o = cli.order()
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        "3.00",
        "--source",
        "cash",
        "--ref",
        '=HYPERLINK("http://evil.example","x")',
        "--reason",
        "@SUM(1+1)",
        env=cli.env(REFUNDKIT_USER="+ana"),
    )
    assert r.code == 0, r.err
    cli.run("reverse", refund_id(o.order_id, "cash", '=HYPERLINK("http://evil.example","x")'), "--reason=-typo")
    out = cli.run("refunds", "--order", o.order_id, "--format", "csv")
    rows = sorted(csv.DictReader(io.StringIO(out.out)), key=lambda x: x["kind"])  # the listing is newest first
    assert [(x["kind"], x["amount"]) for x in rows] == [("refund", "3.00"), ("reversal", "-3.00")]
    refund, reversal = rows
    assert refund["external_ref"] == '\'=HYPERLINK("http://evil.example","x")'
    assert refund["reason"] == "'@SUM(1+1)" and refund["recorded_by"] == "'+ana"
    assert reversal["reason"] == "'-typo"
    # JSON is not opened by a spreadsheet: it keeps the text exactly
    js = cli.run("refunds", "--order", o.order_id, "--format", "json").json()
    assert [e["external_ref"] for e in js if e["kind"] == "refund"] == ['=HYPERLINK("http://evil.example","x")']


def test_a_reference_with_a_zero_width_space_or_a_bom_is_already_recorded(cli: Cli) -> None:
    o = cli.order()
    assert cli.run("record", o.order_id, "--amount", "2.00", "--source", "cash", "--ref", "ref-normal-1").code == 0
    for twin in ("ref-normal-1\u200b", "\ufeffref-normal-1"):
        r = cli.run("record", o.order_id, "--amount", "2.00", "--source", "cash", "--ref", twin)
        assert r.code == 0 and r.out.startswith("already recorded:"), r.out + r.err
    listed = cli.run("refunds", "--order", o.order_id, "--format", "json").json()
    assert len(listed) == 1 and listed[0]["external_ref"] == "ref-normal-1"
    r = cli.run("record", o.order_id, "--amount", "3.00", "--source", "cash", "--ref", "ref\x85normal")
    assert r.code == 1 and "control characters" in r.err and "U+0085" in r.err


@pytest.mark.parametrize(
    ("amount", "words"), [("99999999999999999999999", "too large"), ("9" * 5000, "5,000 characters long")]
)
def test_absurd_amounts_exit_1_in_one_short_line(cli: Cli, amount: str, words: str) -> None:
    o = cli.order()
    r = cli.run(
        "record", o.order_id, "--amount", amount, "--source", "cash", "--ref", "BIG", "--allow-over-refund", "goodwill"
    )
    assert r.code == 1 and words in r.err
    assert len(r.err.strip().splitlines()) == 1 and len(r.err) < 400
    assert cli.run("refunds", "--order", o.order_id, "--format", "json").json() == []


def test_a_date_without_a_time_is_that_day_in_the_stores_zone(cli: Cli) -> None:
    cutoff = parse_instant("2026-02-27T00:00:00Z").ns
    o = cli.order(lambda s: eligible(s) and s.created.ns < cutoff)
    r = cli.run(
        "record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "D-1", "--refunded-at", "2026-03-01"
    )
    assert r.code == 0, r.err
    rows = cli.run("refunds", "--order", o.order_id, "--format", "json", "--tz", "America/Sao_Paulo").json()
    assert rows[0]["refunded_at"].startswith("2026-03-01T12:00:00")  # 1 March in São Paulo, not 28 February
    monthly = cli.run("refunds", "--from", "2026-03-01", "--to", "2026-03-31", "--tz", "America/Sao_Paulo")
    assert refund_id(o.order_id, "cash", "D-1") in monthly.out
    tokyo = cli.env(REFUNDKIT_STORE_TZ="Asia/Tokyo")
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        "1.50",
        "--source",
        "cash",
        "--ref",
        "D-2",
        "--refunded-at",
        "2026-03-01",
        env=tokyo,
    )
    assert r.code == 0, r.err
    rows = cli.run("refunds", "--order", o.order_id, "--format", "json", "--tz", "Asia/Tokyo").json()
    assert rows[-1]["refunded_at"].startswith("2026-03-01T12:00:00")
    bad = cli.run("quote", o.order_id, env=cli.env(REFUNDKIT_STORE_TZ="Mars/Olympus"))
    assert bad.code == 2 and "REFUNDKIT_STORE_TZ" in bad.err


@pytest.mark.parametrize(
    "args",
    [
        ["record", "{id}", "--amount", "1.00", "--source", "cash", "--ref", "R"],
        ["quote", "{id}"],
        ["refunds", "--order", "{id}"],
        ["reconcile", "--order", "{id}"],
    ],
)
def test_an_invalid_order_id_exits_1_everywhere_and_is_echoed_short(cli: Cli, args: list[str]) -> None:
    huge = "x/" * 5120  # 10 KB
    r = cli.run(*[a.replace("{id}", huge) for a in args])
    assert r.code == 1, r.err
    assert "is not a VTEX order id" in r.err and "10,240 characters" in r.err
    assert len(r.err) < 300, r.err


def test_import_with_vtex_failing_exits_3_and_a_re_import_finishes(cli: Cli) -> None:
    a, b = cli.order(), cli.order()
    path = cli.home / "faulty.csv"
    path.write_text(
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{a.order_id},1.00,2026-04-20,cash,IMP-A,\n{b.order_id},1.00,2026-04-20,cash,IMP-B,\n",
        encoding="utf-8",
    )
    cli.sb.faults.add(
        FaultRule(
            method="PUT", path=r"/offlineRefundOrder/documents/order-" + a.order_id.lower(), status=503, times=500
        )
    )
    r = cli.run("import", str(path), env=cli.env(REFUNDKIT_CALL_DEADLINE_S="2"))  # give up on the 503s in 2 s
    assert r.code == 3, r.out + r.err  # not 1: a failed row is not "refused, nothing written"
    assert "1 failed" in r.out and "import the file again" in r.out
    cli.sb.faults.clear()
    again = cli.run("import", str(path))
    assert again.code == 0 and "1 recorded, 1 already recorded" in again.out


def test_an_order_with_30_notes_records_the_refund_and_says_its_note_is_impossible(cli: Cli) -> None:
    from refundkit.config import load_settings
    from refundkit.vtex import VtexClient

    o = cli.order()
    with VtexClient(load_settings(env=cli.env(), env_file=False)) as client:
        for i in range(30):
            client.notes.create(o.order_id, f"customer called ({i})")
    r = cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "N-31")
    assert r.code == 0 and r.out.startswith("recorded:") and "could not be added" in r.err
    rows = cli.run("refunds", "--order", o.order_id, "--format", "json").json()
    assert [x["note_status"] for x in rows] == ["impossible"]
    rec = cli.run("reconcile", "--order", o.order_id)  # tells the order's ledger document too
    assert rec.code == 0 and "notes posted: 0" in rec.out
    q = cli.run("quote", o.order_id)
    assert "order note impossible" in q.out and "30 notes" in q.out


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "right/UTC"])
def test_a_zone_file_that_is_not_a_zone_gives_one_line(cli: Cli, name: str) -> None:
    o = cli.order()
    for args in (
        ["refunds", "--order", o.order_id, "--tz", name],
        ["orders", "--from", "2026-03-01", "--to", "2026-03-01", "--tz", name],
    ):
        r = cli.run(*args)
        assert r.code == 2 and r.out == "" and "not a time zone" in r.err, r.out + r.err
        assert len(r.err.strip().splitlines()) <= 2  # argparse's usage line, then the one line that says what to type
    bad = cli.run("quote", o.order_id, env=cli.env(REFUNDKIT_STORE_TZ=name))
    assert bad.code == 2 and "REFUNDKIT_STORE_TZ" in bad.err and len(bad.err.strip().splitlines()) == 1


def test_control_characters_are_refused_in_the_reversal_reason_and_every_other_free_text(cli: Cli) -> None:
    o = cli.order()
    assert cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "CC-1").code == 0
    rid = refund_id(o.order_id, "cash", "CC-1")
    before = cli.writes()
    r = cli.run("reverse", rid, "--reason", "typo\x1b[2J\x1b[31m")
    assert r.code == 1 and "control characters" in r.err and "U+001B" in r.err, r.out + r.err
    assert "\x1b" not in r.err and len(r.err.strip().splitlines()) == 1
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        "900000.00",
        "--source",
        "cash",
        "--ref",
        "CC-2",
        "--allow-over-refund",
        "goodwill\x9b31m",
    )
    assert r.code == 1 and "over-refund reason contains control characters" in r.err and "U+009B" in r.err
    r = cli.run("quote", o.order_id, env=cli.env(REFUNDKIT_USER="ana\x1b]0;owned\x07"))
    assert r.code == 2 and "REFUNDKIT_USER contains control characters" in r.err
    assert cli.writes() == before  # nothing written
    listed = cli.run("refunds", "--order", o.order_id, "--format", "json").json()
    assert [e["kind"] for e in listed] == ["refund"]
    # a reason with a line break is still a reason (a form's text area)
    r = cli.run("reverse", rid, "--reason", "typed the wrong order\nby mistake")
    assert r.code == 0, r.err


def test_text_from_vtex_is_printed_inert(cli: Cli) -> None:
    """An entry stored before control characters were refused (or written by anything else) holds an escape
    sequence and a carriage return: every format prints them as visible escapes, and JSON keeps the exact text."""
    o = cli.order()
    assert cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "ESC-1").code == 0
    hostile = "ok\x1b[2J\x1b[31m\rFAKE\x85\x7f"
    sb = cli.sb
    with sb.masterdata.lock:  # as stored: the order's ledger document and the entry document
        head = sb.masterdata.entities["offlineRefundOrder"].docs[f"order-{o.order_id}"].current
        assert head is not None
        head["entries"][0]["reason"] = hostile
        for rec in sb.masterdata.entities["offlineRefund"].docs.values():
            if rec.current and rec.current.get("orderId") == o.order_id:
                rec.current["reason"] = hostile
    for fmt in ("table", "csv", "json"):
        r = cli.run("refunds", "--order", o.order_id, "--format", fmt)
        assert r.code == 0, r.err
        for c in "\x1b\r\x85\x7f":
            assert c not in r.out, (fmt, r.out)
        if fmt == "json":
            assert json.loads(r.out)[0]["reason"] == hostile  # escaped, not altered
        else:
            assert "\\x1b[2J" in r.out


def _token_pieces(text: str, token: str) -> list[str]:
    """Every 8 characters in a row of ``token`` that ``text`` shows, in any letter case."""
    low = text.lower()
    return [token[i : i + 8] for i in range(len(token) - 7) if token[i : i + 8].lower() in low]


def test_a_server_that_echoes_the_token_into_orders_never_gets_it_printed(cli: Cli) -> None:
    """A broken server or proxy echoes the request headers into the orders' fields: the amounts can't be read, and
    the client names and every message quoting them would carry the token, whole or cut."""
    cfg = cli.sb.config
    saved = cfg.app_token
    token = "Q7ZK2M9XW4PL8RT3VB6NC1HY5DJ0FG2SA7EU4KO9IM3XQ8LT6WZ1PB5RN2CV7HY0DJ4FG9SA3EU6KO1IM8XQ5LT2WZ7PB0RN4"
    cfg.app_token, cfg.echo_headers = token, True
    try:
        env = cli.env(VTEX_APP_TOKEN=token)
        o = cli.order()
        runs = [
            cli.run("quote", o.order_id, env=env),
            cli.run("orders", "--from", "2026-03-01", "--to", "2026-03-02", env=env),
            cli.run("orders", "--from", "2026-03-01", "--to", "2026-03-02", "--format", "json", env=env),
            cli.run("record", o.order_id, "--amount", "1.00", "--source", "cash", "--ref", "ECHO-1", env=env),
            cli.run("doctor", env=env),
        ]
    finally:
        cfg.app_token, cfg.echo_headers = saved, False
    assert runs[0].code != 0 and "value" in runs[0].err  # the unreadable amount is still named
    # every order set aside is counted and named in one warning, not a line each
    assert "set aside" in runs[1].err and len(runs[1].err.strip().splitlines()) <= 3, runs[1].err
    for r in runs:
        assert _token_pieces(r.out + r.err, token) == [], r.out + r.err


def test_reverse_finds_a_refund_whose_record_was_killed_before_its_entry_document(cli: Cli) -> None:
    """`record` killed after it wrote the order's ledger document and before anything else (no read-back, no
    journal line, no note, no entry document): `reverse` finds the refund through the order's ledger at once, without
    `reconcile`, and reverses it exactly once however often it is run."""
    o = cli.order()
    head = rf"/documents/order-{o.order_id}$"
    # the ledger write is applied, then its answer is held until the test has seen it, then never given
    seen = threading.Barrier(2)
    cli.sb.faults.add(
        FaultRule("PUT", head, status=None, after_write=True, drop_connection=True, times=50, barrier=seen)
    )
    env = {**cli.env(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "refundkit.present.cli", "record", o.order_id, "--amount", "2.00"]
    cmd += ["--source", "cash", "--ref", "KILLED-1"]
    proc = subprocess.Popen(cmd, cwd=cli.home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen.wait(timeout=60)  # the ledger document holds the refund now
    finally:
        proc.kill()
        proc.wait(timeout=60)
        cli.sb.faults.clear()
    rid = refund_id(o.order_id, "cash", "KILLED-1")
    assert stored_doc(cli.sb, "offlineRefund", rid) is None  # no entry document: only the order's ledger has it
    first = cli.run("reverse", rid, "--reason", "recorded on the wrong order")
    assert first.code == 0 and first.out.startswith("reversed:"), first.out + first.err
    again = cli.run("reverse", rid, "--reason", "recorded on the wrong order")
    assert again.code == 0 and again.out.startswith("already reversed:"), again.out + again.err
    also = cli.run("reverse", rid, "--reason", "clicked twice", "--order", o.order_id)
    assert also.code == 0 and also.out.startswith("already reversed:"), also.out + also.err
    kinds = [e["kind"] for e in cli.run("refunds", "--order", o.order_id, "--format", "json").json()]
    assert sorted(kinds) == ["refund", "reversal"]
