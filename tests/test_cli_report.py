"""`refundkit sync` and `refundkit report` as a person runs them: run in process (run_cli) against a sandbox on
loopback."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.testing import CliResult, check_nothing_moved, run_cli

COLUMNS = ["period", "currency", "orders", "gross", "native_refunds", "offline_refunds", "net"]


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
    env.update(
        REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"),
        VTEX_BASE_URL=base_url,
        VTEX_ACCOUNT_NAME=sb.config.account,
        VTEX_APP_KEY=sb.config.app_key,
        VTEX_APP_TOKEN=sb.config.app_token,
    )
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
        gross, native, offline, net = (int(x.replace(".", "")) for x in r[3:])
        assert net == gross - native - offline
        assert all(len(x.split(".")[1]) == 2 for x in r[3:])  # BRL and USD: two decimals
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
            ["report", "--from", "2026-03-01", "--to", "2026-03-10", "--detail", "2026-03-05", "--by", "month"],
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
