"""`refundkit sync` and `refundkit report` as a person runs them: run in process (run_cli) against a sandbox on
loopback."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, check_nothing_moved, run_cli
from tests.xlsx_cells import grid, read_xlsx

COLUMNS = [
    *("period", "currency", "orders", "gross", "native_refunds", "offline_refunds", "net"),
    *("gross_items", "gross_discounts", "gross_shipping", "gross_tax", "gross_changes", "gross_other"),
    *("gross_not_split", "orders_not_split", "refunds_items", "refunds_shipping", "refunds_not_split"),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(SandboxConfig(orders=400, flash_sale_orders=0, start="2026-03-01", end="2026-03-20", seed=5))
    with sb.serve(port=0) as srv:
        yield sb, srv.base_url
    check_nothing_moved(sb)


@pytest.fixture
def env(sandbox: tuple[Sandbox, str], tmp_path: Path) -> dict[str, str]:
    sb, base_url = sandbox
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(sandbox_variables(base_url, sb.config), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    return run_cli(args, env, cwd)


def test_report_csv_has_exactly_the_columns(env: dict[str, str], tmp_path: Path) -> None:
    p = run(["report", "--from", "2026-03-01", "--to", "2026-03-20", "--by", "week", "--format", "csv"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == COLUMNS
    assert {r[0] for r in rows[1:]} == {"2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16"}
    for r in rows[1:]:
        gross, native, offline, net = (int(x.replace(".", "")) for x in r[3:7])
        assert net == gross - native - offline
        money = [
            x for c, x in zip(COLUMNS, r, strict=True) if c not in ("period", "currency", "orders", "orders_not_split")
        ]
        assert all(len(x.split(".")[1]) == 2 for x in money)  # BRL and USD: two decimals
    assert "Traceback" not in p.stderr


def test_report_json_and_xlsx_carry_definitions_and_parameters(env: dict[str, str], tmp_path: Path) -> None:
    p = run(["report", "--from", "2026-03-01", "--to", "2026-03-20", "--format", "json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["parameters"]["from"] == "2026-03-01" and body["parameters"]["account"] == "refundkitdemo"
    assert "Net revenue = gross" in body["definitions"] and "weeks start on Monday" in body["definitions"]
    out = tmp_path / "r.xlsx"
    p = run(
        ["report", "--from", "2026-03-01", "--to", "2026-03-20", "-o", str(out), "--detail", "2026-03-05"],
        env,
        tmp_path,
    )
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        sheets = [n for n in names if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 5  # report BRL, report USD, definitions, detail orders, detail refunds
        report_sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<autoFilter" in report_sheet and 'state="frozen"' in report_sheet
        styles = z.read("xl/styles.xml").decode()
        assert "&quot;BRL&quot; #,##0.00" in styles
        workbook = z.read("xl/workbook.xml").decode()
        assert "Definitions" in workbook and "Detail refunds" in workbook


def test_report_errors_are_one_line_with_the_usual_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    cases = [
        (["report", "--from", "2026-03-10", "--to", "2026-03-01"], 2, "before --from"),
        (["report", "--from", "2026-03-01", "--to", "2026-03-10", "--by", "year"], 2, "invalid choice"),
        (["report", "--from", "2026-03-01", "--to", "2026-03-10", "--tz", "Mars/Base"], 2, "unknown time zone"),
        (
            ["report", "--from", "2026-03-01", "--to", "2026-03-10", "--detail", "2026-04-05", "--by", "month"],
            2,
            "not a period",
        ),
        (["report", "--from", "2026-03-01", "--to", "2026-03-10", "-o", "/nonexistent/x.csv"], 2, "does not exist"),
    ]
    for args, code, text in cases:
        p = run(args, env, tmp_path)
        assert p.returncode == code, (args, p.stderr)
        assert text in p.stderr and "Traceback" not in p.stderr
    bad = dict(env, VTEX_BASE_URL="http://127.0.0.1:9")  # nothing listens there
    p = run(["report", "--from", "2026-03-01", "--to", "2026-03-10"], bad, tmp_path)
    assert p.returncode == 3 and "Traceback" not in p.stderr


def test_sync_then_report_without_vtex(env: dict[str, str], tmp_path: Path) -> None:
    p = run(["sync", "--from", "2026-03-01", "--to", "2026-03-20", "--json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["listed"] > 300
    offline = dict(env, VTEX_BASE_URL="http://127.0.0.1:9")
    p = run(["report", "--from", "2026-03-01", "--to", "2026-03-20", "--no-sync", "--format", "csv"], offline, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == ",".join(COLUMNS)


WORDS = [
    *("Period", "Currency", "Orders", "Gross", "VTEX refunds", "Offline refunds", "Net"),
    *("Items", "Discounts", "Shipping", "Tax", "Order changes", "Other totals", "Gross not split", "Orders not split"),
    *("Refunded items", "Refunded shipping", "Refunds not split"),
]
MARCH = ["report", "--from", "2026-03-01", "--to", "2026-03-20", "--by", "week"]


def sums_by_currency(csv_text: str) -> dict[str, list[Decimal]]:
    """Each currency's column sums (orders, then each amount), added up here from the CSV's rows."""
    out: dict[str, list[Decimal]] = {}
    for r in list(csv.reader(io.StringIO(csv_text)))[1:]:
        values = [Decimal(x) for x in r[2:]]
        out[r[1]] = [a + b for a, b in zip(out.get(r[1], [Decimal(0)] * len(values)), values, strict=True)]
    return out


def test_report_csv_is_unchanged_without_totals_and_ends_in_a_total_per_currency_with_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    plain = run([*MARCH, "--format", "csv"], env, tmp_path)
    body = json.loads(run([*MARCH, "--format", "json"], env, tmp_path).stdout)
    # the machine columns and the rows, byte for byte, as scripts read them: nothing added
    assert plain.stdout == "".join(
        ",".join(str(row[c]) for c in COLUMNS) + "\n" for row in [{c: c for c in COLUMNS}, *body["rows"]]
    )
    with_totals = run([*MARCH, "--format", "csv", "--totals"], env, tmp_path)
    assert with_totals.returncode == 0, with_totals.stderr
    assert with_totals.stdout.startswith(plain.stdout)
    extra = list(csv.reader(io.StringIO(with_totals.stdout.removeprefix(plain.stdout))))
    assert [r[:2] for r in extra] == [["Total", "BRL"], ["Total", "USD"]]
    sums = sums_by_currency(plain.stdout)
    for r in extra:
        assert [Decimal(x) for x in r[2:]] == sums[r[1]], r
    assert [t["period"] for t in body["totals"]] == ["Total", "Total"]
    assert {t["currency"]: t["net"] for t in body["totals"]} == {r[1]: r[6] for r in extra}
    assert body["headers"] == WORDS


def test_report_table_has_headers_in_words_and_one_total_row_per_currency(env: dict[str, str], tmp_path: Path) -> None:
    table = run([*MARCH, "--format", "table"], env, tmp_path).stdout.splitlines()
    sums = sums_by_currency(run([*MARCH, "--format", "csv"], env, tmp_path).stdout)
    heading = next(i for i, line in enumerate(table) if line.startswith("Period"))
    assert table[heading].split() == [
        "Period",
        "Currency",
        "Orders",
        "Gross",
        "VTEX",
        "refunds",
        "Offline",
        "refunds",
        "Net",
    ]
    assert "native_refunds" not in "\n".join(table)
    rules = [i for i, line in enumerate(table) if set(line) <= {"-", " "} and line]
    assert len(rules) == 2  # under the headers, and above the totals
    totals = [line.split() for line in table[rules[1] + 1 :] if line.startswith("Total")]
    assert [t[1] for t in totals] == ["BRL", "USD"]
    for t in totals:
        assert [Decimal(x) for x in t[2:]] == sums[t[1]][:5], t  # the split is shown with --split only
    rows = len(table[rules[0] + 1 : rules[1]])
    assert table[-1] == f"({rows} rows)"  # the count is of the rows, not the totals


def test_report_xlsx_keeps_each_currency_in_its_own_money_columns(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "weeks.xlsx"
    assert run([*MARCH, "-o", str(out)], env, tmp_path).returncode == 0
    sums = sums_by_currency(run([*MARCH, "--format", "csv"], env, tmp_path).stdout)
    book = read_xlsx(out)
    reports = [name for name in book if name.startswith("Report")]
    assert reports == ["Report BRL", "Report USD"]
    for name in reports:
        rows = grid(book[name])
        assert [c.value if c else None for c in rows[0]] == WORDS
        currency = name.split()[-1]
        for j in range(3, len(WORDS)):  # every money column: one currency from top to Total
            if WORDS[j] == "Orders not split":
                continue
            cells = [r[j] for r in rows[1:]]
            assert all(c is not None and c.number_format.startswith(f'"{currency}"') for c in cells)
        assert {r[1].value for r in rows[1:] if r[1]} == {currency}
        total = rows[-1]
        assert total[0] is not None and total[0].value == "Total"
        assert [Decimal(str(c.value)) for c in total[2:] if c] == sums[currency]
