"""Import reads a CSV as the spreadsheet that saved it wrote it: a pt-BR Excel's ``;``, decimal comma, thousands dot,
dd/mm/yyyy dates and Windows-1252 or UTF-8 with a byte-order mark; its result CSV is written back the same way."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from refundkit.errors import InputError
from refundkit.ledger import Ledger, import_refunds
from refundkit.ledger.csvimport import result_csv
from refundkit.money import Money

from .helpers import Env

PT_HEADER = "order_id;amount;refunded_at;source;external_ref;reason;note"


def write(tmp: Path, lines: list[str], encoding: str, name: str = "reembolsos.csv") -> Path:
    """The file as Excel saves it: CRLF lines; 'CSV UTF-8' adds a byte-order mark, 'CSV' is Windows-1252."""
    path = tmp / name
    path.write_bytes("\r\n".join([*lines, ""]).encode(encoding))
    return path


def pt_br(minor: int) -> str:
    """Minor units as a pt-BR Excel writes them: thousands dot, decimal comma."""
    whole, cents = divmod(minor, 100)
    return f"{whole:,}".replace(",", ".") + f",{cents:02d}"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_a_pt_br_excel_csv_imports_with_exact_amounts(env: Env, ledger: Ledger, encoding: str) -> None:
    big, small = env.orders.invoiced(min_total=1_500_00), env.orders.invoiced(min_total=50_00)
    lines = [
        PT_HEADER,
        f"{big.order_id};1.234,56;20/04/2026;cash;REEMB-1;devolução;troca de tamanho",
        f"{small.order_id};12,5;13/05/2026;bank-transfer;REEMB-2;produto avariado;",
        f"{small.order_id};7;02/05/2026;cash;REEMB-3;frete;",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, encoding))
    assert [r.outcome for r in report.rows] == ["recorded"] * 3, [r.message for r in report.rows]
    assert [r.money for r in report.rows] == [Money(123456, "BRL"), Money(1250, "BRL"), Money(700, "BRL")]
    [entry] = ledger.entries(order_id=big.order_id)
    assert entry.amount == Money(123456, "BRL") and entry.reason == "devolução" and entry.note == "troca de tamanho"
    days = sorted(e.refunded_at.isoformat()[:10] for e in ledger.entries(order_id=small.order_id))
    assert days == ["2026-05-02", "2026-05-13"], "dd/mm/yyyy read day first: a day above 12 says so"
    dialect = report.dialect
    assert (dialect.delimiter, dialect.decimal, dialect.date_format) == (";", ",", "dd/mm/yyyy")
    assert (dialect.encoding, dialect.bom) == (("cp1252", False) if encoding == "cp1252" else ("utf-8", True))

    before = env.writes()
    again = import_refunds(env.ledger(), write(env.tmp, lines, encoding))  # exactly once under the new reading
    assert [r.outcome for r in again.rows] == ["already recorded"] * 3 and env.writes() == before


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
def test_the_result_csv_is_written_in_the_uploads_dialect(env: Env, ledger: Ledger, encoding: str) -> None:
    o = env.orders.invoiced(min_total=1_500_00)
    lines = [
        PT_HEADER,
        f"{o.order_id};1.000,25;20/04/2026;cash;R-1;devolução;",
        f"{o.order_id};abc;21/04/2026;cash;R-2;;",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, encoding), dry_run=True)
    data = result_csv(report)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig"), "a byte-order mark only where it had one"
    text = data.decode("cp1252" if encoding == "cp1252" else "utf-8-sig")
    assert text.splitlines()[0].count(";") >= 9 and "," not in text.splitlines()[0], "the upload's separator"
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["outcome"] for r in rows] == ["would record", "refused"]
    assert rows[0]["amount"] == "1000,25" and rows[0]["currency"] == "BRL", "the upload's decimal mark"
    assert rows[0]["refunded_at"] == "20/04/2026", "the upload's date format"
    assert rows[1]["amount"] == "abc" and rows[1]["entry_id"] == "", "a refused row carries no entry id"


def test_a_comma_file_reads_a_thousands_comma_and_writes_its_result_so(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced(min_total=1_500_00)
    lines = [
        "order_id,amount,refunded_at,source,external_ref,reason",
        f'{o.order_id},"1,100.50",04/20/2026,cash,R-1,',
        f"{o.order_id},1.25,04/21/2026,cash,R-2,",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, "utf-8"), dry_run=True)
    assert [r.money for r in report.rows] == [Money(110050, "BRL"), Money(125, "BRL")]
    assert report.dialect.date_format == "mm/dd/yyyy", "a month above 12 in second place says month first"
    rows = list(csv.DictReader(io.StringIO(result_csv(report).decode("utf-8"))))
    assert [r["amount"] for r in rows] == ["1100.50", "1.25"]


def test_a_file_whose_dates_read_both_ways_is_refused_naming_date_format(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    lines = [PT_HEADER, f"{o.order_id};10,00;03/04/2026;cash;AMB-1;;", f"{o.order_id};5,00;04/05/2026;cash;AMB-2;;"]
    path = write(env.tmp, lines, "utf-8-sig")
    before = env.writes()
    with pytest.raises(InputError) as info:
        import_refunds(ledger, path)
    assert "--date-format" in str(info.value) and "03/04/2026 on line 2" in str(info.value)
    assert env.writes() == before and ledger.entries(order_id=o.order_id) == []

    report = import_refunds(ledger, path, date_format="dd/mm/yyyy")
    assert [r.outcome for r in report.rows] == ["recorded", "recorded"]
    days = sorted(e.refunded_at.isoformat()[:10] for e in ledger.entries(order_id=o.order_id))
    assert days == ["2026-04-03", "2026-05-04"]


def test_the_store_locale_reads_dates_that_read_both_ways(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    path = write(env.tmp, [PT_HEADER, f"{o.order_id};10,00;03/04/2026;cash;LOC-1;;"], "utf-8")
    report = import_refunds(ledger, path, locale="pt-BR", dry_run=True)
    assert report.rows[0].outcome == "would record" and report.dialect.date_format == "dd/mm/yyyy"
    assert any("pt-BR" in w for w in report.warnings), "the person is told how the dates were read"
    with pytest.raises(InputError, match="--date-format"):
        import_refunds(ledger, path, locale="en", dry_run=True)  # English writes both ways: no default


def test_dates_written_both_ways_in_one_file_are_refused(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    lines = [PT_HEADER, f"{o.order_id};1,00;13/04/2026;cash;X-1;;", f"{o.order_id};1,00;04/14/2026;cash;X-2;;"]
    with pytest.raises(InputError, match=r"day first \(line 2: 13/04/2026\) and month first \(line 3: 04/14/2026\)"):
        import_refunds(ledger, write(env.tmp, lines, "utf-8"), dry_run=True)


def test_an_amount_that_reads_both_ways_in_a_file_of_both_marks_is_refused(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced(min_total=1_500_00)
    lines = [
        PT_HEADER,
        f"{o.order_id};12,50;20/04/2026;cash;M-1;;",
        f"{o.order_id};3.50;20/04/2026;cash;M-2;;",
        f"{o.order_id};1.234;20/04/2026;cash;M-3;;",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, "utf-8"), dry_run=True)
    assert [r.outcome for r in report.rows] == ["would record", "would record", "refused"]
    assert [r.money for r in report.rows[:2]] == [Money(1250, "BRL"), Money(350, "BRL")]
    assert "reads both as a whole number and with decimals" in report.rows[2].message
    assert report.rows[2].entry_id is None


def test_a_thousands_dot_alone_in_a_semicolon_file_is_a_thousand(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced(min_total=1_500_00)
    lines = [PT_HEADER, f"{o.order_id};1.234;20/04/2026;cash;T-1;;"]
    report = import_refunds(ledger, write(env.tmp, lines, "cp1252"), dry_run=True)
    assert report.rows[0].money == Money(123400, "BRL"), report.rows[0].message


def test_a_repeat_in_the_file_names_the_earlier_line_and_gets_no_entry_id(env: Env, ledger: Ledger) -> None:
    o = env.orders.invoiced()
    lines = [
        PT_HEADER,
        f"{o.order_id};10,00;20/04/2026;cash;REP-1;;",
        f"{o.order_id};5,00;20/04/2026;cash;REP-2;;",
        f"{o.order_id};10,00;20/04/2026;cash;rep-1;;",
    ]
    report = import_refunds(ledger, write(env.tmp, lines, "utf-8"))
    assert [r.outcome for r in report.rows] == ["recorded", "recorded", "refused"]
    assert report.rows[2].message.startswith("repeats line 2: same order, amount, source and reference")
    assert report.rows[2].entry_id is None and report.rows[0].entry_id
    assert len(ledger.entries(order_id=o.order_id)) == 2
