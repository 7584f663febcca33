"""``refundkit orders`` as a person runs it: run in process (refundkit.testing.run_cli) against a
sandbox served by the test."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from refundkit.money import format_minor
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, check_nothing_moved, run_cli
from refundkit.timeutil import local_day_bounds

COLUMNS = ["order_id", "created_at", "status", "currency", "total", "sales_channel", "payment_names"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    # a small week; the 40 orders sharing 2026-03-01T00:00:00Z are on 2026-02-28 in Sao Paulo
    sb = Sandbox(SandboxConfig(orders=400, flash_sale_orders=0, start="2026-03-01", end="2026-03-07", seed=5))
    with sb.serve(port=0) as srv:
        yield sb, srv.base_url
    check_nothing_moved(sb)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env["REFUNDKIT_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(extra)
    return env


@pytest.fixture
def env(sandbox: tuple[Sandbox, str], tmp_path: Path) -> dict[str, str]:
    sb, base_url = sandbox
    return clean_env(tmp_path, **sandbox_variables(base_url, sb.config))


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    proc = run_cli(args, env, cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def one_line_error(proc: CliResult) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("refundkit: ")
    return lines[0]


def store_rows(sb: Sandbox, first: date, last: date, tz: str = "UTC", statuses: set[str] | None = None):
    start, end = local_day_bounds(first, last, tz)
    return [
        o for o in sb.store.orders if start.ns <= o.created.ns < end.ns and (statuses is None or o.status in statuses)
    ]


# -- formats ----------------------------------------------------------------------------------------------------------
def test_csv_lists_every_order_of_the_days_with_decimal_totals(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    proc = run(["orders", "--from", "2026-03-02", "--to", "2026-03-03"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert proc.stdout.splitlines()[0].split(",") == COLUMNS
    want = store_rows(sb, date(2026, 3, 2), date(2026, 3, 3))
    assert [r["order_id"] for r in rows] == [o.order_id for o in want]
    by_id = {o.order_id: o for o in want}
    for r in rows:
        o = by_id[r["order_id"]]
        assert re.fullmatch(r"\d+\.\d{2}", r["total"]), r["total"]  # like 123.45
        assert r["total"] == format_minor(o.total_cents, o.currency)
        assert r["currency"] == o.currency and r["status"] == o.status
        assert r["created_at"].endswith("+00:00") and len(r["created_at"].split(".")[1]) == 7 + 6


def test_json_format(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    proc = run(["orders", "--from", "2026-03-04", "--to", "2026-03-04", "--format", "json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["order_id"] for r in rows] == [o.order_id for o in store_rows(sb, date(2026, 3, 4), date(2026, 3, 4))]
    assert rows and set(rows[0]) == set(COLUMNS)
    assert all(isinstance(r["total"], str) and re.fullmatch(r"\d+\.\d{2}", r["total"]) for r in rows)


def test_table_format(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    proc = run(["orders", "--from", "2026-03-05", "--to", "2026-03-05", "--format", "table"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    n = len(store_rows(sb, date(2026, 3, 5), date(2026, 3, 5)))
    assert lines[0].split() == COLUMNS
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[-1] == f"({n:,} rows)"
    assert len(lines) == n + 3


def test_output_file(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    out = tmp_path / "orders.csv"
    proc = run(["orders", "--from", "2026-03-02", "--to", "2026-03-02", "-o", str(out)], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    n = len(store_rows(sb, date(2026, 3, 2), date(2026, 3, 2)))
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"{n:,} orders written to {out}"
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == n
    out_json = tmp_path / "orders.json"
    proc = run(["orders", "--from", "2026-03-02", "--to", "2026-03-02", "--output", str(out_json)], env, tmp_path)
    assert proc.returncode == 0 and len(json.loads(out_json.read_text(encoding="utf-8"))) == n


def test_an_unwritable_output_is_a_one_line_usage_error(env, tmp_path: Path) -> None:
    proc = run(
        ["orders", "--from", "2026-03-02", "--to", "2026-03-02", "-o", str(tmp_path / "no" / "x.csv")], env, tmp_path
    )
    assert proc.returncode == 2
    assert "cannot write" in one_line_error(proc)


# -- which orders -----------------------------------------------------------------------------------------------------
def test_the_time_zone_decides_which_orders_fall_in_a_day(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    args = ["orders", "--from", "2026-03-01", "--to", "2026-03-01", "--format", "json"]
    utc = json.loads(run(args, env, tmp_path).stdout)
    sp = json.loads(run([*args, "--tz", "America/Sao_Paulo"], env, tmp_path).stdout)
    assert [r["order_id"] for r in utc] == [o.order_id for o in store_rows(sb, date(2026, 3, 1), date(2026, 3, 1))]
    assert [r["order_id"] for r in sp] == [
        o.order_id for o in store_rows(sb, date(2026, 3, 1), date(2026, 3, 1), "America/Sao_Paulo")
    ]
    midnight = {o.order_id for o in sb.store.orders if o.created == sb.store.midnight_instant}
    assert len(midnight) == 40
    assert midnight <= {r["order_id"] for r in utc}
    assert not midnight & {r["order_id"] for r in sp}  # 21:00 on Feb 28 in Sao Paulo
    assert all(r["created_at"].endswith("-03:00") for r in sp)  # shown in the zone asked for


def test_status_filter(sandbox, env, tmp_path: Path) -> None:
    sb, _ = sandbox
    proc = run(
        ["orders", "--from", "2026-03-01", "--to", "2026-03-07", "--status", "invoiced,canceled", "--format", "json"],
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    want = store_rows(sb, date(2026, 3, 1), date(2026, 3, 7), statuses={"invoiced", "canceled"})
    assert [r["order_id"] for r in rows] == [o.order_id for o in want]
    assert {r["status"] for r in rows} == {"invoiced", "canceled"}


def test_an_empty_day_prints_only_the_header(env, tmp_path: Path) -> None:
    proc = run(["orders", "--from", "2027-01-01", "--to", "2027-01-01"], env, tmp_path)
    assert proc.returncode == 0 and proc.stdout.splitlines() == [",".join(COLUMNS)]


# -- mistakes -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2026-13-01", "--to", "2026-03-01"], "not a date: use YYYY-MM-DD"),
        (["--from", "01/03/2026", "--to", "2026-03-01"], "not a date: use YYYY-MM-DD"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "before --from"),
        (["--from", "2026-03-01", "--to", "2026-03-01", "--tz", "Mars/Olympus"], "America/Sao_Paulo"),
        (["--from", "2026-03-01", "--to", "2026-03-01", "--status", "Invoiced!"], "is not a VTEX status"),
        (["--from", "2026-03-01", "--to", "2026-03-01", "--format", "xml"], "invalid choice"),
        (["--from", "2026-03-01"], "--to"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], words: str, env, tmp_path: Path) -> None:
    proc = run(["orders", *args], env, tmp_path)
    assert proc.returncode == 2
    assert words in one_line_error(proc)
    assert proc.stdout == ""


def test_a_bad_token_says_to_check_it_and_never_prints_it(env, tmp_path: Path) -> None:
    wrong = "WRONG-token-4f9b2c7d1e0a8b3c"
    proc = run(["orders", "--from", "2026-03-01", "--to", "2026-03-01"], {**env, "VTEX_APP_TOKEN": wrong}, tmp_path)
    assert proc.returncode != 0
    line = one_line_error(proc)
    assert "VTEX_APP_TOKEN" in line and "401" in line
    assert wrong not in proc.stderr and wrong not in proc.stdout


def test_an_unreachable_host_is_one_line(env, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run(
        ["orders", "--from", "2026-03-01", "--to", "2026-03-01"],
        {**env, "VTEX_BASE_URL": f"http://127.0.0.1:{port}"},
        tmp_path,
    )
    assert proc.returncode != 0
    line = one_line_error(proc)
    assert "could not reach" in line and f"127.0.0.1:{port}" in line and "VTEX_BASE_URL" in line
    assert env["VTEX_APP_TOKEN"] not in proc.stderr


def test_no_account_says_how_to_configure_or_start_the_demo(tmp_path: Path) -> None:
    proc = run(["orders", "--from", "2026-03-01", "--to", "2026-03-01"], clean_env(tmp_path), tmp_path)
    assert proc.returncode == 2
    line = one_line_error(proc)
    for words in ("VTEX_ACCOUNT_NAME", "VTEX_APP_KEY", "VTEX_APP_TOKEN", "refundkit sandbox", "refundkit demo"):
        assert words in line


def test_a_dot_env_in_the_working_folder_configures_the_command(sandbox, tmp_path: Path) -> None:
    sb, base_url = sandbox
    variables = sandbox_variables(base_url, sb.config)
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in variables.items()), encoding="utf-8")
    proc = run(["orders", "--from", "2026-03-02", "--to", "2026-03-02"], clean_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 + len(store_rows(sb, date(2026, 3, 2), date(2026, 3, 2)))


def test_a_malformed_order_is_set_aside_and_counted(sandbox: tuple[Sandbox, str], env, tmp_path: Path) -> None:
    from refundkit.sandbox.adjustments import Adjustment

    sb, _ = sandbox
    bad = next(o for o in sb.store.orders if o.created.isoformat(0).startswith("2026-03-03"))
    sb.store.adjust(bad.order_id, Adjustment(patch=lambda body: body.update(currencyCode=None)))
    try:
        proc = run(["orders", "--from", "2026-03-03", "--to", "2026-03-03", "--format", "csv"], env, tmp_path)
    finally:
        sb.store.adjust(bad.order_id, Adjustment())  # the module's other tests see the order as it was
    assert proc.returncode == 0, proc.stderr
    assert bad.order_id not in proc.stdout
    assert "1 order(s) set aside" in proc.stderr and bad.order_id in proc.stderr
