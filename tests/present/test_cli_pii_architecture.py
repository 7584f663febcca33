"""An account on VTEX's PII data architecture, as a person meets it: `orders`, `sync`, `report`, `quote` and `record`
against a sandbox that plays one (orders only through the PII Orders API, customer data masked) give the same figures
as against the same store served the classic way; without REFUNDKIT_PII_ARCHITECTURE=on they give one line that says
what to set."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, OrderPicker, check_nothing_moved, run_cli

STORE = {"orders": 400, "flash_sale_orders": 0, "start": "2026-03-01", "end": "2026-03-20", "seed": 5}
RANGE = ["--from", "2026-03-01", "--to", "2026-03-20"]
CLASSIC_ORDER_PATHS = ("/api/oms/pvt/orders",)


@pytest.fixture(scope="module")
def accounts() -> Iterator[dict[str, tuple[Sandbox, str]]]:
    """The same store twice: served the classic way, and as an account on the PII data architecture."""
    made = {"classic": Sandbox(SandboxConfig(**STORE)), "pii": Sandbox(SandboxConfig(**STORE, pii_architecture=True))}
    servers = {name: sb.serve(port=0) for name, sb in made.items()}
    try:
        yield {name: (sb, servers[name].base_url) for name, sb in made.items()}
    finally:
        for srv in servers.values():
            srv.stop()
    for sb in made.values():
        check_nothing_moved(sb)


def env_for(sb: Sandbox, base_url: str, cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(sandbox_variables(base_url, sb.config))
    env.pop("REFUNDKIT_PII_ARCHITECTURE", None)  # each test says whether the account is read as PII (``extra``)
    env.update(REFUNDKIT_CACHE_DIR=str(cache), REFUNDKIT_USER="tester", **extra)
    return env


def both(accounts: dict[str, tuple[Sandbox, str]], tmp_path: Path, args: list[str]) -> dict[str, CliResult]:
    """``args`` run against each account, each with its own store and cache; the PII one with the setting on."""
    out = {}
    for name, (sb, base_url) in accounts.items():
        extra = {"REFUNDKIT_PII_ARCHITECTURE": "on"} if name == "pii" else {}
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        result = run_cli(args, env_for(sb, base_url, folder / "cache", **extra), folder)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert "Traceback" not in result.stderr
        out[name] = result
    return out


def classic_order_calls(sb: Sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(sb.requests) if r.path.startswith(CLASSIC_ORDER_PATHS)]


def test_orders_lists_the_same_orders_with_the_same_figures(accounts, tmp_path: Path) -> None:
    pii_sb = accounts["pii"][0]
    pii_sb.clear_records()
    got = both(accounts, tmp_path, ["orders", *RANGE, "--format", "json"])
    rows = {name: json.loads(r.stdout) for name, r in got.items()}
    assert len(rows["pii"]) == len(rows["classic"]) == len(pii_sb.store.orders)

    def figures(row: dict) -> dict:
        return {k: v for k, v in row.items() if "client" not in k.lower()}

    assert [figures(r) for r in rows["pii"]] == [figures(r) for r in rows["classic"]]
    assert classic_order_calls(pii_sb) == []  # read only through the PII data architecture's endpoints
    assert any(r.path == "/api/orders/extendsearch/orders" for r in list(pii_sb.requests))


def test_sync_and_report_give_the_same_figures(accounts, tmp_path: Path) -> None:
    assert both(accounts, tmp_path, ["sync", *RANGE, "--details"])
    got = both(accounts, tmp_path, ["report", *RANGE, "--by", "week", "--format", "csv", "--no-sync"])
    assert got["pii"].stdout == got["classic"].stdout
    assert len(got["pii"].stdout.splitlines()) > 2  # a header and figures, not an empty report
    assert classic_order_calls(accounts["pii"][0]) == []


def test_quote_and_record_give_the_same_balance(accounts, tmp_path: Path) -> None:
    order = OrderPicker(accounts["classic"][0]).partly_returned()
    quote = ["quote", order.order_id, "--json"]
    record = ["record", order.order_id, "--amount", "1.23", "--source", "cash", "--ref", "PII-1"]
    record += ["--refunded-at", "2026-03-21T10:00:00Z", "--json"]
    assert both(accounts, tmp_path, ["setup"])  # the ledger's schemas, once per account
    before = both(accounts, tmp_path, quote)
    assert json.loads(before["pii"].stdout) == json.loads(before["classic"].stdout)
    recorded = both(accounts, tmp_path, record)
    entries = {name: json.loads(r.stdout) for name, r in recorded.items()}
    assert entries["pii"] == entries["classic"]
    after = both(accounts, tmp_path, quote)
    assert json.loads(after["pii"].stdout) == json.loads(after["classic"].stdout)
    assert after["pii"].stdout != before["pii"].stdout  # the refund counts in the balance
    assert classic_order_calls(accounts["pii"][0]) == []


@pytest.mark.parametrize("refusal", [403, 404, 400, 302])
@pytest.mark.parametrize("command", [["orders", *RANGE], ["quote", "ORDER"]])
def test_without_the_setting_a_pii_account_gives_one_line_naming_it(
    accounts, tmp_path: Path, command, refusal: int
) -> None:
    """However the classic endpoints refuse such an account (VTEX does not say), the one line names the setting."""
    sb, base_url = accounts["pii"]
    args = [OrderPicker(sb).invoiced().order_id if a == "ORDER" else a for a in command]
    sb.config.pii_classic_status = refusal
    try:
        result = run_cli(args, env_for(sb, base_url, tmp_path / "cache"), tmp_path)
    finally:
        sb.config.pii_classic_status = 403
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "REFUNDKIT_PII_ARCHITECTURE=on" in lines[0]
