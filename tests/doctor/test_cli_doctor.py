"""``refundkit doctor`` as a merchant runs it: run in process (run_cli) against a sandbox served on
loopback.

Every run: no traceback, the app token never printed, no money-moving call, no DELETE.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer
from refundkit.sandbox import permissions as lm
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved, run_cli

SMALL = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}


@dataclass
class Done:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, SandboxServer, Path]]:
    sb = Sandbox(SandboxConfig(**SMALL))
    with sb.serve(port=0) as srv:
        yield sb, srv, tmp_path_factory.mktemp("doctor-cli")
    check_nothing_moved(sb)


def _env(sb: Sandbox, base_url: str, home: Path, **changes: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "TMPDIR")}
    cfg = sb.config
    return {
        **keep,
        **sandbox_variables(base_url, cfg),
        "REFUNDKIT_CACHE_DIR": str(home / "cache"),
        "PYTHONIOENCODING": "utf-8",
        "COLUMNS": "200",
        **changes,
    }


def _run(env: dict[str, str], home: Path, *args: str, token: str) -> Done:
    proc = run_cli(args, env, home)
    done = Done(proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in done.err, done.err
    assert token not in done.out and token not in done.err, "the app token was printed"
    return done


def test_doctor_on_a_set_up_account_exits_0_with_a_table(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    env = _env(sb, srv.base_url, home)
    token = sb.config.app_token
    assert _run(env, home, "setup", token=token).code == 0
    done = _run(env, home, "doctor", "--search-deadline-s", "10", token=token)
    assert done.code == 0, done.out + done.err
    lines = done.out.splitlines()
    assert lines[0].startswith(f"refundkit doctor: account {sb.config.account} at {srv.base_url}")
    assert any(line.startswith("PASS") and "App key and token" in line for line in lines)
    assert any(line.startswith("SKIPPED") and "Order notes" in line for line in lines)
    assert any("do: run `refundkit doctor --notes-order ORDER_ID`" in line for line in lines)
    assert "0 failed" in lines[-1] or "0 failed" in done.out


def test_doctor_json_lists_every_check(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    done = _run(
        _env(sb, srv.base_url, home), home, "doctor", "--json", "--search-deadline-s", "10", token=sb.config.app_token
    )
    body = json.loads(done.out)
    keys = [c["key"] for c in body["checks"]]
    assert keys[0] == "credentials"
    assert {"perm.oms-list", "perm.md-write", "perm.money", "read-your-writes", "search-lag", "notes"} <= set(keys)
    assert body["ok"] is (done.code == 0)


def test_bad_credentials_exit_1_and_never_print_the_token(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    wrong = "WRONGTOKEN" + "x" * 30
    done = _run(_env(sb, srv.base_url, home, VTEX_APP_TOKEN=wrong), home, "doctor", token=wrong)
    assert done.code == 1
    assert "FAIL" in done.out and "refused them (401)" in done.out
    assert "do: check VTEX_APP_KEY and VTEX_APP_TOKEN" in done.out
    assert sb.config.app_token not in done.out


def test_a_missing_permission_exits_1_naming_the_resource(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    sb.config.denied_resources = frozenset({lm.LIST_ORDERS, lm.ORDERS_FULL})
    try:
        done = _run(
            _env(sb, srv.base_url, home), home, "doctor", "--search-deadline-s", "10", token=sb.config.app_token
        )
    finally:
        sb.config.denied_resources = frozenset()
    assert done.code == 1
    assert "do: give the app key's role the resource 'OMS > OMS access > List Orders'" in done.out


def test_unreachable_vtex_exits_3(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, _, home = served
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _run(_env(sb, f"http://127.0.0.1:{port}", home), home, "doctor", token=sb.config.app_token)
    assert done.code == 3
    assert "could not be reached" in done.out


def test_a_bad_deadline_is_a_usage_error(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    done = _run(_env(sb, srv.base_url, home), home, "doctor", "--search-deadline-s", "-1", token=sb.config.app_token)
    assert done.code == 2
    assert "must be between 0 and 3600 seconds" in done.err


def test_setup_probes_conditional_writes_and_a_failing_verdict_stops_record(tmp_path: Path) -> None:
    sb = Sandbox(SandboxConfig(**SMALL, md_missing_document="refused"))
    token = sb.config.app_token
    with sb.serve(port=0) as srv:
        env = _env(sb, srv.base_url, tmp_path)
        setup = _run(env, tmp_path, "setup", token=token)
        assert setup.code == 0, setup.err
        assert "recording refused on this account" in setup.out
        assert list((tmp_path / "cache" / "verdicts").glob("masterdata-*.json"))
        doctor = _run(env, tmp_path, "doctor", "--search-deadline-s", "10", token=token)
        assert doctor.code == 1
        assert any(
            line.startswith("FAIL") and "Exactly once on this account" in line for line in doctor.out.splitlines()
        )
        sb.clear_records()
        order = next(o for o in sb.store.orders if o.status == "invoiced" and o.currency == "BRL")
        record = _run(
            env, tmp_path, "record", order.order_id, "--amount", "1.00", "--source", "cash", "--ref", "R-1", token=token
        )
        assert record.code == 1
        assert "nothing written" in record.err
        assert not [r for r in sb.requests if r.method in ("POST", "PUT", "PATCH")]
    check_nothing_moved(sb)


def test_a_bad_notes_order_is_a_usage_error_before_any_call(served: tuple[Sandbox, SandboxServer, Path]) -> None:
    sb, srv, home = served
    sb.clear_records()
    done = _run(_env(sb, srv.base_url, home), home, "doctor", "--notes-order", "1/../cancel", token=sb.config.app_token)
    assert done.code == 2
    assert "is not a VTEX order id" in done.err
    assert sb.requests == []
