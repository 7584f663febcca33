"""`refundkit items` across two accounts (two sandboxes served at once) and as a workbook: each account's rows as
its own command gives them, under a leading account column; the workbook holds the CSV's rows, one Total per
currency and the notes."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from refundkit.sandbox.server import ServedAccounts, serve_accounts
from refundkit.testing import CliResult, check_nothing_moved, run_cli, small_config
from tests.xlsx_cells import grid, read_xlsx

SPAN = ("--from", "2026-03-01", "--to", "2026-03-20")


@pytest.fixture
def two(tmp_path: Path) -> Iterator[ServedAccounts]:
    config = small_config(orders=120, start="2026-03-01", end="2026-03-20")
    with serve_accounts(config, port=0, accounts=2, toml_dir=tmp_path / "toml") as served:
        yield served
    for sb in served.sandboxes:
        check_nothing_moved(sb)


def run(served: ServedAccounts, tmp_path: Path, *args: str) -> CliResult:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
    variables = {k: v for k, v in served.variables.items() if not k.startswith("VTEX_")}
    env = {**keep, **variables, "REFUNDKIT_CACHE_DIR": str(tmp_path / "cache")}
    result = run_cli(list(args), env, tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def rows_of(text: str) -> list[dict[str, str]]:
    return [r for r in csv.DictReader(io.StringIO(text)) if not next(iter(r.values())).startswith("# ")]


def test_two_accounts_in_one_table_each_with_its_own_rows(two: ServedAccounts, tmp_path: Path) -> None:
    own = {}
    for name in ("main", "outlet"):
        r = run(two, tmp_path, "items", *SPAN, "--by", "category", "--format", "csv", "--account", name)
        assert r.returncode == 0, r.stderr
        own[name] = rows_of(r.stdout)
    both = run(two, tmp_path, "items", *SPAN, "--by", "category", "--no-sync", "--format", "csv", "--all-accounts")
    assert both.returncode == 0, both.stderr
    rows = rows_of(both.stdout)
    assert next(iter(rows[0])) == "account"
    for name in ("main", "outlet"):
        assert [{k: v for k, v in r.items() if k != "account"} for r in rows if r["account"] == name] == own[name]
    assert own["main"] != own["outlet"]
    # the notes of each account follow, named
    assert "# main: BRL:" in both.stdout and "# outlet: BRL:" in both.stdout
    table = run(two, tmp_path, "items", *SPAN, "--no-sync", "--format", "table", "--all-accounts")
    assert table.returncode == 0 and "accounts main, outlet" in table.stdout


def test_the_workbook_has_a_sheet_per_currency_with_the_rows_the_totals_and_the_notes(
    two: ServedAccounts, tmp_path: Path
) -> None:
    r = run(two, tmp_path, "items", *SPAN, "--format", "csv", "--account", "main")
    assert r.returncode == 0, r.stderr
    rows = rows_of(r.stdout)
    out = tmp_path / "items.xlsx"
    r = run(two, tmp_path, "items", *SPAN, "--no-sync", "-o", str(out), "--account", "main")
    assert r.returncode == 0, r.stderr
    assert "written to" in r.stderr
    sheets = read_xlsx(out)
    currencies = sorted({x["currency"] for x in rows})
    assert list(sheets) == [*(f"Items {c}" for c in currencies), "Notes"]
    for cur in currencies:
        cells = grid(sheets[f"Items {cur}"])
        header = [c.value if c else None for c in cells[0]]
        assert header[:4] == ["SKU", "Name", "Currency", "Units sold"]  # in words
        mine = [x for x in rows if x["currency"] == cur]
        body, total = cells[1 : 1 + len(mine)], cells[1 + len(mine)]
        assert [b[0].value for b in body if b[0]] == [x["sku"] for x in mine]
        assert {b[2].value for b in body if b[2]} == {cur}  # no money column holds two currencies
        for column, word in (("units_sold", "Units sold"), ("refunded", "Refunded")):
            j = header.index(word)
            assert [b[j].value for b in body if b[j]] == [float(x[column]) for x in mine]
            cell = total[j]
            assert cell is not None and cell.formula == f"SUM({chr(65 + j)}2:{chr(65 + j)}{1 + len(mine)})"
            assert cell.value == pytest.approx(sum(float(x[column]) for x in mine))
        for j, label in enumerate(header):
            if label.startswith("Refunded"):  # money: numbers in this sheet's currency's format only
                assert all(b[j] and f'"{cur}"' in b[j].number_format for b in [*body, total])
        assert total[0] is not None and total[0].value == "Total"
    notes = [c.value for line in grid(sheets["Notes"]) for c in line if c]
    assert any(isinstance(n, str) and n.startswith(f"{currencies[0]}:") for n in notes)


def test_mistakes_get_one_line_and_nothing_is_written(two: ServedAccounts, tmp_path: Path) -> None:
    cases = [
        (["items", "--from", "2026-03-10", "--to", "2026-03-01", "--account", "main"], "before --from"),
        (["items", *SPAN, "--by", "color", "--account", "main"], "invalid choice"),
        (["items", *SPAN, "--currency", "REAL", "--no-sync", "--account", "main"], "three-letter code"),
        (["items", *SPAN, "-o", str(tmp_path / "items.pdf"), "--account", "main"], "cannot write"),
        (["items", *SPAN, "-o", "/nonexistent/items.csv", "--account", "main"], "does not exist"),
    ]
    for args, text in cases:
        r = run(two, tmp_path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr and len(r.stderr.strip().splitlines()) <= 3, r.stderr
    assert not (tmp_path / "items.pdf").exists()


def test_amounts_are_money_in_each_format_and_never_two_currencies_in_one_column(tmp_path: Path) -> None:
    """BRL 100.00 refunded offline reads 100.00 in the CSV, "100.00" and 10000 in the JSON, 100 in a BRL cell of
    the BRL sheet; the USD row is on its own sheet."""
    from refundkit.analytics.items import COVERAGE_SCHEMA, ITEM_SCHEMA, ItemFigures, ItemReport, items_xlsx
    from refundkit.present.cli_items import _write_text

    base = dict.fromkeys(ITEM_SCHEMA, 0)
    rows = [
        {**base, "key": "S1", "name": "Shirt", "currency": "BRL", "units_sold": 4, "units_refunded_offline": 1,
         "units_refunded": 1, "refund_rate": 0.25, "refunded_offline_minor": 10000, "refunded_minor": 10000},
        {**base, "key": "S1", "name": "Shirt", "currency": "USD", "units_sold": 2, "units_refunded_vtex": 1,
         "units_refunded": 1, "refund_rate": 0.5, "refunded_vtex_minor": 1999, "refunded_minor": 1999},
    ]  # fmt: skip
    coverage = [{**dict.fromkeys(COVERAGE_SCHEMA, 0), "currency": c, "orders": 3} for c in ("BRL", "USD")]
    figures = ItemFigures(
        "sku",
        pl.DataFrame(rows, schema=ITEM_SCHEMA),
        pl.DataFrame(coverage, schema=COVERAGE_SCHEMA),
        pl.DataFrame(),
        pl.DataFrame(),
        pl.DataFrame(),
    )
    params = {"from": "2026-03-01", "to": "2026-03-31", "by": "sku", "tz": "UTC", "attribution": "refund-date",
              "currency": None, "account": "main", "data_as_of": None}  # fmt: skip
    report = ItemReport(figures, params)
    text = io.StringIO()
    _write_text({None: report}, "csv", text)
    [brl, usd] = rows_of(text.getvalue())
    assert "refunded_offline_minor" not in brl and (brl["refunded_offline"], brl["refunded"]) == ("100.00", "100.00")
    assert (usd["refunded_vtex"], usd["refund_rate"]) == ("19.99", "0.5")
    text = io.StringIO()
    _write_text({None: report}, "json", text)
    body = json.loads(text.getvalue())
    assert (body["rows"][0]["refunded_offline"], body["rows"][0]["refunded_offline_minor"]) == ("100.00", 10000)
    assert [(t["currency"], t["refunded"], t["refunded_minor"]) for t in body["totals"]] == [
        ("BRL", "100.00", 10000),
        ("USD", "19.99", 1999),
    ]
    sheets = read_xlsx(items_xlsx({"main": report}))
    for cur, amount in (("BRL", 100.0), ("USD", 19.99)):
        cells = grid(sheets[f"Items {cur}"])
        header = [c.value if c else None for c in cells[0]]
        for j, word in enumerate(header):
            money = [row[j] for row in cells[1:] if row[j] is not None and isinstance(row[j].value, float)]
            if word in ("Refunded", "Refunded offline", "Refunded on VTEX"):  # one currency per money column
                assert money and all(f'"{cur}"' in c.number_format for c in money)
        refunded = header.index("Refunded")
        assert cells[1][refunded] is not None and cells[1][refunded].value == amount
        assert {row[2].value for row in cells[1:-1] if row[2]} == {cur}
