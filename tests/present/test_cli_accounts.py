"""Several VTEX accounts on the command line: --account on every command, one report across accounts, `refundkit
accounts`, all against two sandboxes served at once (refundkit.sandbox.server.serve_accounts)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import refundkit
from refundkit.analytics import accounts_report, gross_vs_net_report
from refundkit.config import load_settings
from refundkit.errors import ConfigError
from refundkit.present import cli
from refundkit.present.audit import audited
from refundkit.present.cli_common import desk_environment, selected_accounts
from refundkit.sandbox.server import ServedAccounts, serve_accounts
from refundkit.sandbox.store import OrderSummary
from refundkit.testing import CliResult, check_nothing_moved, run_cli, small_config


# -- --account on every command ------------------------------------------------------------------------------------
def _leaves(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix.strip(), parser
    for action in subs:
        for name, inner in action.choices.items():
            yield from _leaves(inner, f"{prefix} {name}")


def test_every_command_takes_account() -> None:
    parser = cli.build_parser()
    leaves = dict(_leaves(parser))
    commands = {name for _, names in cli.COMMANDS for name in names}
    assert commands <= {name.split()[0] for name in leaves}  # every command of cli.COMMANDS is walked
    assert len(leaves) >= 18
    for name, leaf in leaves.items():
        assert any("--account" in a.option_strings for a in leaf._actions), f"refundkit {name} lacks --account"
        assert "--account" in leaf.format_help(), name


@pytest.fixture
def two(tmp_path: Path) -> Iterator[ServedAccounts]:
    """Two stores served at once, each its own orders and Master Data; checked for money movement afterwards."""
    config = small_config(orders=120, start="2026-03-01", end="2026-03-20")
    with serve_accounts(config, port=0, accounts=2, toml_dir=tmp_path / "toml") as served:
        yield served
    for sb in served.sandboxes:
        check_nothing_moved(sb)


def env_of(served: ServedAccounts, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only the file and the tokens: no VTEX_* variables, so every command has to choose an account."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
    variables = {k: v for k, v in served.variables.items() if not k.startswith("VTEX_")}
    return {**keep, **variables, "REFUNDKIT_CACHE_DIR": str(tmp_path / "cache"), "REFUNDKIT_USER": "clerk", **extra}


def run(served: ServedAccounts, tmp_path: Path, *args: str, **extra: str) -> CliResult:
    result = run_cli(list(args), env_of(served, tmp_path, **extra), tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    for sb in served.sandboxes:
        assert sb.config.app_token not in result.stdout + result.stderr
    return result


def only_in(served: ServedAccounts, index: int) -> OrderSummary:
    """An invoiced order of one store whose id the other store lacks."""
    other = {o.order_id for o in served.sandboxes[1 - index].store.orders}
    return next(
        o
        for o in served.sandboxes[index].store.orders
        if o.status == "invoiced" and not o.input_invoices and o.total_cents >= 5000 and o.order_id not in other
    )


def writes(served: ServedAccounts, index: int) -> list[str]:
    return [r.path for r in list(served.sandboxes[index].requests) if r.method in ("POST", "PUT", "PATCH")]


def test_account_takes_effect_on_the_ledger_commands(two: ServedAccounts, tmp_path: Path) -> None:
    outlet_order = only_in(two, 1)
    for name in ("main", "outlet"):
        assert run(two, tmp_path, "setup", "--account", name).returncode == 0
    assert run(two, tmp_path, "quote", outlet_order.order_id, "--account", "main").returncode != 0  # not main's order
    quote = run(two, tmp_path, "quote", outlet_order.order_id, "--account", "outlet")
    assert quote.returncode == 0, quote.stderr
    before_main = writes(two, 0)
    done = run(
        two,
        tmp_path,
        "record",
        outlet_order.order_id,
        "--amount",
        "10.00",
        "--source",
        "cash",
        "--ref",
        "R-1",
        "--account",
        "outlet",
        "--yes",
    )
    assert done.returncode == 0, done.stderr
    assert writes(two, 0) == before_main, "a refund for the outlet account wrote to the main one"
    assert any("offlineRefund" in p for p in writes(two, 1))
    listed = run(two, tmp_path, "refunds", "--account", "outlet", "--format", "csv")
    assert listed.returncode == 0 and outlet_order.order_id in listed.stdout
    empty = run(two, tmp_path, "refunds", "--format", "csv", REFUNDKIT_ACCOUNT="main")  # the default account
    assert empty.returncode == 0 and outlet_order.order_id not in empty.stdout
    # twice on a command of one account: one line, exit 2
    twice = run(two, tmp_path, "quote", outlet_order.order_id, "--account", "main", "--account", "outlet")
    assert twice.returncode == 2 and "works on one account" in twice.stderr
    # none chosen among two: one line naming them
    neither = run(two, tmp_path, "quote", outlet_order.order_id)
    assert neither.returncode == 2 and "main, outlet" in neither.stderr


def test_account_takes_effect_on_orders(two: ServedAccounts, tmp_path: Path) -> None:
    for index, name in enumerate(("main", "outlet")):
        r = run(
            two, tmp_path, "orders", "--from", "2026-03-01", "--to", "2026-03-20", "--format", "csv", "--account", name
        )
        assert r.returncode == 0, r.stderr
        ids = {row["order_id"] for row in csv.DictReader(io.StringIO(r.stdout))}
        assert ids == {o.order_id for o in two.sandboxes[index].store.orders}


def test_account_takes_effect_on_doctor_and_accounts_says_where_doctor_passed(
    two: ServedAccounts, tmp_path: Path
) -> None:
    before = json.loads(run(two, tmp_path, "accounts", "--json").stdout)["accounts"]
    assert [(a["name"], a["token"].startswith("set"), a["doctor"]) for a in before] == [
        ("main", True, "not run"),
        ("outlet", True, "not run"),
    ]
    done = run(two, tmp_path, "doctor", "--account", "outlet", "--json", "--search-deadline-s", "20")
    assert json.loads(done.stdout)["account"] == two.served[1][2].account
    after = {a["name"]: a for a in json.loads(run(two, tmp_path, "accounts", "--json").stdout)["accounts"]}
    assert after["main"]["doctor"] == "not run"
    assert after["outlet"]["doctor"].startswith("passed" if done.returncode == 0 else "failed")
    # a token missing is said, never a value shown
    gone = run_cli(["accounts"], {**env_of(two, tmp_path), "OUTLET_VTEX_TOKEN": ""}, tmp_path)
    assert "missing: export OUTLET_VTEX_TOKEN" in gone.stdout and two.served[0][2].app_token not in gone.stdout


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_two_accounts_in_one_report_each_with_its_own_rows(two: ServedAccounts, tmp_path: Path) -> None:
    span = ("--from", "2026-03-01", "--to", "2026-03-20", "--by", "week", "--format", "csv")
    own = {}
    for name in ("main", "outlet"):
        r = run(two, tmp_path, "report", *span, "--account", name)
        assert r.returncode == 0, r.stderr
        own[name] = _csv(r.stdout)
    both = run(two, tmp_path, "report", *span, "--account", "main", "--account", "outlet")
    assert both.returncode == 0, both.stderr
    rows = _csv(both.stdout)
    assert next(iter(rows[0])) == "account"
    for name in ("main", "outlet"):
        assert [{k: v for k, v in r.items() if k != "account"} for r in rows if r["account"] == name] == own[name]
    assert own["main"] != own["outlet"]  # two stores, two sets of figures
    every = run(two, tmp_path, "report", *span[:-2], "--all-accounts", "--format", "json", "--no-sync")
    payload = json.loads(every.stdout)
    assert payload["accounts"] == ["main", "outlet"] and payload["rows"] == [
        {
            "account": r["account"],
            **{k: (int(v) if k in ("orders", "orders_not_split") else v) for k, v in r.items() if k != "account"},
        }
        for r in rows
    ]
    totals = {(t["account"], t["currency"]): t for t in payload["totals"]}
    for (name, currency), t in totals.items():
        mine = [r for r in own[name] if r["currency"] == currency]
        assert t["orders"] == sum(int(r["orders"]) for r in mine)
    assert {name for name, _ in totals} == {"main", "outlet"}
    table = run(two, tmp_path, "report", *span[:-2], "--all-accounts", "--format", "table", "--no-sync")
    assert "Totals per account and currency" in table.stdout
    refused = run(two, tmp_path, "report", *span[:-2], "--all-accounts", "--format", "xlsx", "-o", "x.xlsx")
    assert refused.returncode == 2 and "one account" in refused.stderr


def test_a_comparison_across_accounts_keeps_its_columns(two: ServedAccounts, tmp_path: Path) -> None:
    """--compare beside several accounts: each account's rows carry the comparison, as its own report does."""
    span = ("--from", "2026-03-11", "--to", "2026-03-20", "--by", "week", "--compare", "previous", "--no-sync")
    run(two, tmp_path, "report", "--from", "2026-03-01", "--to", "2026-03-20", "--all-accounts")  # fill the stores
    own = {
        name: _csv(run(two, tmp_path, "report", *span, "--format", "csv", "--account", name).stdout)
        for name in ("main", "outlet")
    }
    both = run(two, tmp_path, "report", *span, "--format", "csv", "--all-accounts")
    assert both.returncode == 0, both.stderr
    rows = _csv(both.stdout)
    assert "compare_gross" in rows[0] and "gross_change" in rows[0]
    for name in ("main", "outlet"):
        assert [{k: v for k, v in r.items() if k != "account"} for r in rows if r["account"] == name] == own[name]
    table = run(two, tmp_path, "report", *span, "--format", "table", "--all-accounts")
    assert "2026-03-11 to 2026-03-20" in table.stdout, table.stdout


# -- notebooks and the desk's launcher -----------------------------------------------------------------------------
def test_notebooks_connect_by_name_and_the_analytics_api_takes_several_accounts(
    two: ServedAccounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
        monkeypatch.delenv(k)
    for k, v in env_of(two, tmp_path).items():
        monkeypatch.setenv(k, v)
    with refundkit.connect(account="outlet") as outlet:
        assert outlet.settings.account == two.served[1][2].account and outlet.sandbox is None
    sessions = refundkit.connect_accounts()
    try:
        assert list(sessions) == ["main", "outlet"]
        stacked = accounts_report(sessions, "2026-03-01", "2026-03-20", by="week")
        for name, session in sessions.items():
            own = gross_vs_net_report(session, "2026-03-01", "2026-03-20", by="week")
            mine = stacked.rows.filter(pl.col("account") == name).drop("account")
            assert mine.equals(own.rows)
    finally:
        for s in sessions.values():
            s.close()
    monkeypatch.setenv("OUTLET_VTEX_TOKEN", "")
    with pytest.raises(ConfigError, match="OUTLET_VTEX_TOKEN is not set"):
        refundkit.connect(account="outlet")  # never the embedded sandbox in its place
    with pytest.raises(ConfigError, match="OUTLET_VTEX_TOKEN is not set"):
        refundkit.connect_accounts()


def test_a_refused_token_names_the_variable_of_the_account(two: ServedAccounts, tmp_path: Path) -> None:
    order = only_in(two, 1)
    r = run(two, tmp_path, "quote", order.order_id, "--account", "outlet", OUTLET_VTEX_TOKEN="WRONG-TOKEN-4471")
    assert r.returncode == 3 and "OUTLET_VTEX_TOKEN" in r.stderr and "[accounts.outlet]" in r.stderr
    assert "WRONG-TOKEN-4471" not in r.stderr


def test_the_desk_opens_on_the_account_chosen_and_finds_the_file_from_any_folder(
    two: ServedAccounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in env_of(two, tmp_path).items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("REFUNDKIT_CONFIG")
    monkeypatch.chdir(Path(two.variables["REFUNDKIT_CONFIG"]).parent)  # refundkit.toml in the current folder
    with selected_accounts(["outlet"]):
        env, settings = desk_environment()
    assert env["REFUNDKIT_ACCOUNT"] == "outlet" and settings.name == "outlet"
    assert Path(env["REFUNDKIT_CONFIG"]).is_absolute() and Path(env["REFUNDKIT_CONFIG"]).is_file()
    env, settings = desk_environment()  # none chosen among two: the file's first
    assert env["REFUNDKIT_ACCOUNT"] == "main" and settings.name == "main"


def test_the_audit_trail_names_the_account_of_each_write_and_audit_account_shows_one(
    two: ServedAccounts, tmp_path: Path
) -> None:
    trail = tmp_path / "audit.jsonl"
    env = env_of(two, tmp_path)
    for index, name in enumerate(("main", "outlet")):
        with refundkit.connect(settings=load_settings(env=env, env_file=False, account=name)) as rk:
            audited(rk.ledger, trail, "ana")
            rk.ledger.record(only_in(two, index).order_id, "3.00", "cash", f"AUD-{name}")
    every = run(two, tmp_path, "audit", "--file", str(trail), "--format", "csv")
    assert [r["account"] for r in _csv(every.stdout)] == [two.served[0][2].account, two.served[1][2].account]
    outlet = run(two, tmp_path, "audit", "--file", str(trail), "--format", "csv", "--account", "outlet")
    assert [r["external_ref"] for r in _csv(outlet.stdout)] == ["AUD-outlet"]
