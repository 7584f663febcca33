"""`refundkit items` across two accounts (two sandboxes served at once) and as a workbook: each account's rows as
its own command gives them, under a leading account column; the workbook holds the CSV's rows, one Total per
currency and the notes."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

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
        r = run(two, tmp_path, "items", *SPAN, "--by", "category", "--details", "--format", "csv", "--account", name)
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


def test_the_workbook_has_the_rows_the_totals_and_the_notes(two: ServedAccounts, tmp_path: Path) -> None:
    r = run(two, tmp_path, "items", *SPAN, "--details", "--format", "csv", "--account", "main")
    assert r.returncode == 0, r.stderr
    rows = rows_of(r.stdout)
    out = tmp_path / "items.xlsx"
    r = run(two, tmp_path, "items", *SPAN, "--no-sync", "-o", str(out), "--account", "main")
    assert r.returncode == 0, r.stderr
    assert "written to" in r.stderr
    cells = grid(next(iter(read_xlsx(out).values())))
    header = [c.value if c else None for c in cells[0]]
    assert header[:3] == ["sku", "name", "currency"]
    body = [[c.value if c else None for c in row] for row in cells[1 : 1 + len(rows)]]
    sold = header.index("units_sold")
    assert [int(b[sold]) for b in body] == [int(x["units_sold"]) for x in rows]  # type: ignore[arg-type]
    rest = [[c.value if c else None for c in row] for row in cells[1 + len(rows) :]]
    totals = [x for x in rest if x and x[0] == "Total"]
    assert {t[header.index("currency")] for t in totals} == {x["currency"] for x in rows}
    for t in totals:
        cur = t[header.index("currency")]
        assert t[sold] == sum(int(x["units_sold"]) for x in rows if x["currency"] == cur)
    assert any(isinstance(x[0], str) and x[0].startswith("Note: BRL:") for x in rest if x)


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
