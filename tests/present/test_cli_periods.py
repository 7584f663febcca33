"""`refundkit report --period …` and `--compare …` as a person runs them (in process, against a sandbox on loopback),
with the clock pinned to Friday 20 March 2026, noon in São Paulo."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import refundkit.analytics.report as report_module
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, check_nothing_moved, run_cli
from refundkit.timeutil import parse_instant

NOW = parse_instant("2026-03-20T15:00:00Z")
TZ = "America/Sao_Paulo"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(SandboxConfig(orders=200, flash_sale_orders=0, start="2026-02-01", end="2026-03-20", seed=7))
    with sb.serve(port=0) as srv:
        yield sb, srv.base_url
    check_nothing_moved(sb)


@pytest.fixture
def env(sandbox: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(report_module, "utc_now", lambda: NOW)
    sb, base_url = sandbox
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(sandbox_variables(base_url, sb.config), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    return run_cli(["report", "--tz", TZ, *args], env, cwd)


def rows(p: CliResult) -> list[dict[str, str]]:
    assert p.returncode == 0, p.stderr
    return list(csv.DictReader(io.StringIO(p.stdout)))


def test_this_month_is_the_month_to_date_and_marked_in_the_table_and_csv(env: dict[str, str], tmp_path: Path) -> None:
    table = run(["--period", "this-month", "--by", "month", "--format", "table"], env, tmp_path)
    assert table.returncode == 0, table.stderr
    assert "this-month: Gross vs net, 2026-03-01 to 2026-03-20 by month" in table.stdout
    assert "2026-03-01 (to date)" in table.stdout
    by_csv = rows(run(["--period", "this-month", "--by", "month", "--format", "csv", "--no-sync"], env, tmp_path))
    assert {(r["period"], r["partial"]) for r in by_csv} == {("2026-03-01", "true")}
    # the same range by hand gives the same figures, and the same mark
    by_hand = rows(run(["--from", "2026-03-01", "--to", "2026-03-20", "--by", "month", "--no-sync"], env, tmp_path))
    assert by_csv == by_hand


def test_last_month_is_february_and_has_no_running_period(env: dict[str, str], tmp_path: Path) -> None:
    got = rows(run(["--period", "last-month", "--by", "week", "--format", "csv"], env, tmp_path))
    assert "partial" not in got[0]
    assert min(r["period"] for r in got) == "2026-01-26" and max(r["period"] for r in got) == "2026-02-23"


def test_compare_previous_equals_the_previous_range_run_alone(env: dict[str, str], tmp_path: Path) -> None:
    got = rows(
        run(["--period", "this-month", "--by", "week", "--compare", "previous", "--format", "csv"], env, tmp_path)
    )
    alone = rows(run(["--from", "2026-02-01", "--to", "2026-02-20", "--by", "week", "--no-sync"], env, tmp_path))
    by_period: dict[str, list[dict[str, str]]] = {}
    for r in alone:
        by_period.setdefault(r["period"], []).append(r)
    theirs = sorted(by_period)
    ours = sorted({r["period"] for r in got})
    assert len(ours) == len(theirs)
    for r in got:
        match = [b for b in by_period[theirs[ours.index(r["period"])]] if b["currency"] == r["currency"]]
        assert r["compare_period"] == theirs[ours.index(r["period"])]
        assert r["compare_gross"] == (match[0]["gross"] if match else "0.00")
        assert r["compare_net"] == (match[0]["net"] if match else "0.00")
        change = int(r["net"].replace(".", "")) - int(r["compare_net"].replace(".", ""))
        assert int(r["net_change"].replace(".", "")) == change


def test_compare_in_the_table_shows_n_a_for_a_percent_of_zero(env: dict[str, str], tmp_path: Path) -> None:
    p = run(["--period", "this-month", "--by", "month", "--compare", "last-year", "--format", "table"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert "compared with 2025-03-01 to 2025-03-20 (last-year)" in p.stdout
    assert "n/a" in p.stdout and "Traceback" not in p.stderr


def test_period_and_dates_are_one_or_the_other(env: dict[str, str], tmp_path: Path) -> None:
    both = run(["--period", "ytd", "--from", "2026-01-01"], env, tmp_path)
    assert both.returncode == 2 and "--period ytd is a whole range: drop --from" in both.stderr
    neither = run(["--to", "2026-01-01"], env, tmp_path)
    assert neither.returncode == 2 and "give --from and --to, or --period" in neither.stderr
    wrong = run(["--period", "last-week"], env, tmp_path)
    assert wrong.returncode == 2 and "last-month" in wrong.stderr


def test_without_tz_a_named_range_is_taken_in_the_store_zone(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 02:00 UTC on 1 March is still 28 February in São Paulo
    monkeypatch.setattr(report_module, "utc_now", lambda: parse_instant("2026-03-01T02:00:00Z"))
    store_zone = run_cli(
        ["report", "--period", "this-month", "--format", "json", "--no-sync"],
        {**env, "REFUNDKIT_STORE_TZ": TZ},
        tmp_path,
    )
    assert store_zone.returncode == 0, store_zone.stderr
    assert '"from": "2026-02-01"' in store_zone.stdout and '"tz": "America/Sao_Paulo"' in store_zone.stdout
    utc = run_cli(["report", "--period", "this-month", "--format", "json", "--no-sync"], env, tmp_path)
    assert '"from": "2026-03-01"' in utc.stdout and '"tz": "UTC"' in utc.stdout
