"""The shared test helpers can fail: the money-movement guard catches a money-moving call and a DELETE, and the
in-process CLI runner restores the environment and folder it changed."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from refundkit.testing import ServedSandbox, check_nothing_moved, run_cli


def _client(served: ServedSandbox) -> httpx.Client:
    cfg = served.sb.config
    headers = {"X-VTEX-API-AppKey": cfg.app_key, "X-VTEX-API-AppToken": cfg.app_token}
    return httpx.Client(base_url=served.base_url, headers=headers, timeout=10)


def test_the_guard_catches_a_money_moving_call(served_sandbox: ServedSandbox) -> None:
    check_nothing_moved(served_sandbox.sb)  # nothing yet
    order = served_sandbox.sb.store.orders[0].order_id
    with _client(served_sandbox) as c:
        c.post(f"/api/oms/pvt/orders/{order}/cancel")
    with pytest.raises(AssertionError, match="moves money"):
        check_nothing_moved(served_sandbox.sb)
    served_sandbox.sb.money_moving_calls.clear()  # so the fixture's own check passes


def test_the_guard_catches_a_delete(served_sandbox: ServedSandbox) -> None:
    with _client(served_sandbox) as c:
        c.delete("/api/dataentities/offlineRefund/documents/rf-x")
    with pytest.raises(AssertionError, match="deleted"):
        check_nothing_moved(served_sandbox.sb)
    check_nothing_moved(served_sandbox.sb, allow_deletes=True)
    served_sandbox.sb.requests.clear()
    served_sandbox.sb.deletes.clear()


def test_run_cli_restores_the_environment_and_the_folder(tmp_path: Path) -> None:
    before_env, before_cwd = dict(os.environ), Path.cwd()
    result = run_cli(["quote", "1-01"], {"HOME": str(tmp_path)}, tmp_path)
    assert result.code == 2 and "No VTEX account" in result.err and result.out == ""
    assert dict(os.environ) == before_env and Path.cwd() == before_cwd
    assert run_cli(["--help"], {}, tmp_path).code == 0
