"""`refundkit report -o FOLDER`: the file is named by what it holds, as the desk names its downloads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved, run_cli

RANGE = ["--from", "2026-03-01", "--to", "2026-03-31", "--by", "week", "--tz", "America/Sao_Paulo"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    sb = Sandbox(SandboxConfig(orders=150, flash_sale_orders=0, start="2026-03-01", end="2026-03-31", seed=5))
    with sb.serve(port=0) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
        env.update(sandbox_variables(srv.base_url, sb.config))
        env["REFUNDKIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
        yield env
    check_nothing_moved(sb)


def test_a_report_written_to_a_folder_is_named_by_what_it_holds(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    p = run_cli(["report", *RANGE, "--format", "xlsx", "-o", str(out)], env, tmp_path)
    assert p.returncode == 0, p.stderr
    written = out / "refunds-report_2026-03_refund-date_America-Sao_Paulo.xlsx"
    assert sorted(out.iterdir()) == [written] and written.read_bytes()[:2] == b"PK"
    assert str(written) in p.stderr

    p = run_cli(["report", *RANGE, "--detail", "2026-03-02", "--currency", "BRL", "-o", str(out)], env, tmp_path)
    assert p.returncode == 0, p.stderr
    detail = out / "refunds-detail_2026-03-02_2026-03-08_BRL_refund-date_America-Sao_Paulo.csv"
    assert detail.exists()
    same = run_cli(["report", *RANGE, "--detail", "2026-03-02", "--currency", "BRL", "--format", "csv"], env, tmp_path)
    assert detail.read_text(encoding="utf-8") == same.stdout and same.stdout.startswith("line,id,order_id")
