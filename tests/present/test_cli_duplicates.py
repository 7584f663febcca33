"""`refundkit record` warns about a likely duplicate and records it only with --yes (run in process, sandbox)."""

from __future__ import annotations

import os
from pathlib import Path

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, run_cli


def test_record_warns_about_a_likely_duplicate_and_needs_yes(tmp_path: Path) -> None:
    sb = Sandbox(SandboxConfig(orders=120, flash_sale_orders=0, start="2026-02-20", end="2026-04-30"))
    with sb.serve(port=0) as srv:
        cfg = sb.config
        env = {
            "PATH": os.environ.get("PATH", ""),
            **sandbox_variables(srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(tmp_path),
            "PYTHONIOENCODING": "utf-8",
        }

        def run(*args: str) -> CliResult:
            proc = run_cli(args, env, tmp_path)
            assert "Traceback" not in proc.stderr, proc.stderr
            return proc

        order = next(
            o.order_id
            for o in sb.store.orders
            if o.status == "invoiced" and o.currency == "BRL" and not o.input_invoices and o.total_cents >= 5000
        )
        assert run("setup").returncode == 0
        first = run("record", order, "--amount", "10.00", "--source", "cash", "--ref", "R-1", "--reason", "x")
        assert first.returncode == 0 and first.stdout.startswith("recorded"), first.stderr

        second = run("record", order, "--amount", "10.00", "--source", "cash", "--ref", "R-2", "--reason", "x")
        assert second.returncode == 1
        assert "likely duplicate" in second.stderr and "R-1" in second.stderr and "--yes" in second.stderr
        assert "nothing written" in second.stderr and second.stdout == ""

        again = run("record", order, "--amount", "10.00", "--source", "cash", "--ref", "R-1", "--reason", "x")
        assert again.returncode == 0 and again.stdout.startswith("already recorded"), "the same refund is no warning"

        forced = run("record", order, "--amount", "10.00", "--source", "cash", "--ref", "R-2", "--reason", "x", "--yes")
        assert forced.returncode == 0 and forced.stdout.startswith("recorded"), forced.stderr
        assert "recording anyway" in forced.stderr
