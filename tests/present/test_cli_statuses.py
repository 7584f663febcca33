"""`refundkit orders`, `sync` and `report` on an account with a status nobody documents (the sandbox's
--unknown-statuses): the orders are listed and counted, and every output names the status with its count."""

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
from refundkit.testing import CliResult, ServedSandbox, run_cli, serve

UNKNOWN = "awaiting-review"
DAYS = ["--from", "2026-03-01", "--to", "2026-03-20"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    config = SandboxConfig(
        orders=400, flash_sale_orders=0, start="2026-03-01", end="2026-03-20", seed=5, unknown_statuses=9
    )
    with serve(config, cache_dir=tmp_path_factory.mktemp("cache")) as s:
        yield s


@pytest.fixture
def sandbox(served: ServedSandbox) -> Sandbox:
    return served.sb


@pytest.fixture
def env(served: ServedSandbox, tmp_path: Path) -> dict[str, str]:
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    return {**outside, **served.env(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))}


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    return run_cli(args, env, cwd)


def unknown_ids(sb: Sandbox) -> set[str]:
    return {o.order_id for o in sb.store.orders if o.status == UNKNOWN}


def named(text: str) -> bool:
    return "9 order(s)" in text and f"'{UNKNOWN}': 9" in text and "counted in gross" in text


def test_orders_lists_them_and_names_the_status_with_its_count(sandbox: Sandbox, env, tmp_path: Path) -> None:
    p = run(["orders", *DAYS, "--format", "csv"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == len(sandbox.store)
    assert {r["order_id"] for r in rows if r["status"] == UNKNOWN} == unknown_ids(sandbox)
    assert named(p.stderr) and "listed" in p.stderr
    # filtering on it works too, with a note that VTEX does not document it
    p = run(["orders", *DAYS, "--status", UNKNOWN, "--format", "json"], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert {r["order_id"] for r in json.loads(p.stdout)} == unknown_ids(sandbox)
    assert f"status '{UNKNOWN}' is not one VTEX documents" in p.stderr
    p = run(["orders", *DAYS, "--status", "invoiced,cancelled", "--format", "json"], env, tmp_path)
    assert "did you mean canceled?" in p.stderr


def test_sync_names_them(env, tmp_path: Path) -> None:
    p = run(["sync", *DAYS], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert named(p.stderr)
    p = run(["sync", *DAYS, "--refresh", "--json"], env, tmp_path)
    assert json.loads(p.stdout)["unknown_statuses"] == {UNKNOWN: 9}


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "xlsx"])
def test_report_counts_them_and_names_them_in_every_format(sandbox: Sandbox, env, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    p = run(["report", *DAYS, "--by", "month", "--format", fmt, "-o", str(out)], env, tmp_path)
    assert p.returncode == 0, p.stderr
    assert named(p.stderr)  # the warning, as every other warning: on stderr
    if fmt == "json":
        body = json.loads(out.read_text(encoding="utf-8"))
        assert any(named(w) for w in body["warnings"])
        gross = sum(int(r["gross_minor"]) for r in body["rows"] if r["currency"] == "BRL")
        sales = ("invoiced", "handling", "ready-for-handling", "payment-approved", "window-to-cancel", UNKNOWN)
        counted = [o for o in sandbox.store.orders if o.currency == "BRL" and o.status in sales]
        assert gross == sum(o.total_cents for o in counted)  # the unknown status counted, to the cent
    if fmt == "xlsx":
        with zipfile.ZipFile(out) as z:
            assert named(z.read("xl/sharedStrings.xml").decode())
