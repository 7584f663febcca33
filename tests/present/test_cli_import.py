"""``refundkit import`` with a CSV as a pt-BR Excel saves it, its result file, and ``-o`` files no command can write:
run in process against a sandbox served here (tests/cli_harness.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_harness import Cli, eligible

from refundkit.money import Money
from refundkit.sandbox.store import OrderSummary


def early(o: OrderSummary, min_total: int = 5000) -> bool:
    """An eligible order created before April 2026, so a refund dated in early April may follow it."""
    return eligible(o) and o.total_cents >= min_total and o.created.isoformat() < "2026-04-01"


def test_import_reads_a_pt_br_excel_file_and_writes_its_result_back_the_same_way(cli: Cli) -> None:
    a, b = cli.order(lambda o: early(o, 1_300_00)), cli.order(early)
    path = cli.home / "reembolsos.csv"
    path.write_bytes(
        (
            "order_id;amount;refunded_at;source;external_ref;reason\r\n"
            f"{a.order_id};1.234,56;03/04/2026;cash;PT-1;devolução\r\n"
            f"{b.order_id};12,5;04/04/2026;apace;PT-2;avaria\r\n"
        ).encode("cp1252")
    )
    before = cli.writes()
    r = cli.run("import", str(path))
    assert r.code == 2 and "--date-format" in r.err and len(r.err.strip().splitlines()) == 1
    assert cli.writes() == before, "a file refused writes nothing"

    out = cli.home / "reembolsos-resultado.csv"
    r = cli.run("import", str(path), "--date-format", "dd/mm/yyyy", "-o", str(out))
    assert r.code == 0, r.out + r.err
    assert f"written to {out}" in r.err
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "the upload had no byte-order mark"
    rows = list(csv.DictReader(io.StringIO(data.decode("cp1252")), delimiter=";"))
    assert [(x["amount"], x["refunded_at"], x["outcome"]) for x in rows] == [
        ("1234,56", "03/04/2026", "recorded"),
        ("12,50", "04/04/2026", "recorded"),
    ]
    stored = {x["external_ref"]: x["entry_id"] for x in rows}
    assert all(stored.values())
    docs = [d for d in cli.sb.masterdata.entities["offlineRefund"].docs.values() if d.current]
    amounts = {d.current["externalRef"]: Money(d.current["amount"], "BRL") for d in docs if d.current}
    assert amounts["PT-1"] == Money(123456, "BRL") and amounts["PT-2"] == Money(1250, "BRL")

    before = cli.writes()
    again = cli.run("import", str(path), "--date-format", "dd/mm/yyyy")
    assert again.code == 0 and "0 recorded, 2 already recorded" in again.out and cli.writes() == before


def test_import_refuses_a_bad_date_format_and_a_result_file_it_cannot_write(cli: Cli) -> None:
    path = cli.home / "x.csv"
    path.write_text("order_id,amount,refunded_at,source,external_ref,reason\n1-01,1.00,2026-04-20,cash,R,\n")
    r = cli.run("import", str(path), "--date-format", "yyyy/dd/mm")
    assert r.code == 2 and "dd/mm/yyyy or mm/dd/yyyy" in r.err
    r = cli.run("import", str(path), "-o", str(cli.home / "result.xlsx"))
    assert r.code == 2 and "CSV (.csv) only" in r.err and not (cli.home / "result.xlsx").exists()
    before = path.read_bytes()
    r = cli.run("import", str(path), "-o", str(path))
    assert r.code == 2 and "is the file being imported" in r.err and path.read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [
        ["refunds"],
        ["orders", "--from", "2026-03-02", "--to", "2026-03-02"],
        ["audit"],
        ["report", "--from", "2026-03-01", "--to", "2026-03-10", "--no-sync"],
        ["import", "refunds.csv"],
    ],
)
def test_o_pdf_is_refused_in_one_line_naming_the_formats_and_nothing_is_written(cli: Cli, command: list[str]) -> None:
    out = cli.home / "out.pdf"
    before = cli.writes()
    r = cli.run(*command, "-o", str(out))
    assert r.code == 2, r.err
    [line] = r.err.strip().splitlines()
    assert line.startswith(f"refundkit: cannot write {out}: this command writes ") and "CSV (.csv)" in line
    assert not out.exists() and cli.writes() == before and r.out == ""


def test_a_format_and_a_file_name_that_disagree_are_refused(cli: Cli) -> None:
    out = cli.home / "entries.json"
    r = cli.run("refunds", "--format", "csv", "-o", str(out))
    assert r.code == 2 and "names JSON but --format is csv" in r.err and not out.exists()


def test_the_store_locale_reads_dates_that_read_both_ways_and_a_bad_locale_is_one_line(cli: Cli) -> None:
    a = cli.order(early)
    path = cli.home / "locale.csv"
    path.write_text(
        f"order_id;amount;refunded_at;source;external_ref;reason\n{a.order_id};3,00;02/04/2026;cash;LOC-1;\n",
        encoding="utf-8",
    )
    r = cli.run("import", str(path), "--dry-run", "--json", env={**cli.env(), "REFUNDKIT_STORE_LOCALE": "pt-BR"})
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["counts"]["would record"] == 1 and report["dialect"]["date_format"] == "dd/mm/yyyy"
    assert any("pt-BR" in w for w in report["warnings"])
    r = cli.run("import", str(path), "--dry-run", env={**cli.env(), "REFUNDKIT_STORE_LOCALE": "Brazil please"})
    assert r.code == 2 and "REFUNDKIT_STORE_LOCALE" in r.err and len(r.err.strip().splitlines()) == 1
