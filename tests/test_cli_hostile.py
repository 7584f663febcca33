"""Defects an attack on the command line found, each reproduced as a person runs it: the command run in process
(run_cli) against a sandbox served on loopback. Every run is checked for a traceback and for the app token."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refundkit.ledger.model import refund_id
from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer
from refundkit.sandbox.store import OrderSummary
from refundkit.testing import check_nothing_moved, run_cli


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    sb: Sandbox
    srv: SandboxServer
    home: Path
    used: set[str]

    def env(self, **extra: str) -> dict[str, str]:
        cfg = self.sb.config
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "TMPDIR")}
        return {
            **keep,
            "VTEX_BASE_URL": self.srv.base_url,
            "VTEX_ACCOUNT_NAME": cfg.account,
            "VTEX_APP_KEY": cfg.app_key,
            "VTEX_APP_TOKEN": cfg.app_token,
            "REFUNDKIT_CACHE_DIR": str(self.home / "cache"),
            "REFUNDKIT_USER": "clerk-cli",
            "PYTHONIOENCODING": "utf-8",
            **extra,
        }

    def run(self, *args: str, env: dict[str, str] | None = None) -> Run:
        proc = run_cli(args, self.env() if env is None else env, self.home)
        run = Run(proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in run.err, run.err
        token = self.sb.config.app_token
        assert token not in run.out and token not in run.err, "the app token was printed"
        return run

    def order(self) -> OrderSummary:
        for o in self.sb.store.orders:
            if (
                o.order_id not in self.used
                and o.status == "invoiced"
                and o.currency == "BRL"
                and not o.input_invoices
                and o.total_cents >= 5000
            ):
                self.used.add(o.order_id)
                return o
        raise LookupError("no such order left in the sandbox store")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, SandboxServer, Path]]:
    sb = Sandbox(SandboxConfig(orders=300, flash_sale_orders=0, start="2026-02-20", end="2026-04-30"))
    with sb.serve(port=0) as srv:
        yield sb, srv, tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def used() -> set[str]:
    return set()


@pytest.fixture
def cli(served: tuple[Sandbox, SandboxServer, Path], used: set[str]) -> Iterator[Cli]:
    sb, srv, home = served
    c = Cli(sb, srv, home, used)
    if not any(r.method == "PUT" and "/schemas/" in r.path for r in list(sb.requests)):
        assert c.run("setup").code == 0
    sb.faults.clear()
    yield c
    sb.faults.clear()
    check_nothing_moved(sb)


def test_refunds_csv_neutralises_formulas_in_text_but_not_amounts(cli: Cli) -> None:
    o = cli.order()
    r = cli.run(
        "record",
        o.order_id,
        "--amount",
        "3.00",
        "--source",
        "cash",
        "--ref",
        '=HYPERLINK("http://evil.example","x")',
        "--reason",
        "@SUM(1+1)",
        env=cli.env(REFUNDKIT_USER="+ana"),
    )
    assert r.code == 0, r.err
    cli.run("reverse", refund_id(o.order_id, "cash", '=HYPERLINK("http://evil.example","x")'), "--reason=-typo")
    out = cli.run("refunds", "--order", o.order_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert [(x["kind"], x["amount"]) for x in rows] == [("refund", "3.00"), ("reversal", "-3.00")]
    refund, reversal = rows
    assert refund["external_ref"] == '\'=HYPERLINK("http://evil.example","x")'
    assert refund["reason"] == "'@SUM(1+1)" and refund["recorded_by"] == "'+ana"
    assert reversal["reason"] == "'-typo"
    # JSON is not opened by a spreadsheet: it keeps the text exactly
    js = cli.run("refunds", "--order", o.order_id, "--format", "json").json()
    assert js[0]["external_ref"] == '=HYPERLINK("http://evil.example","x")'
