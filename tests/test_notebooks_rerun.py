"""Running a notebook twice records nothing new: its demo cells use fixed references. Against a real account (a
server on 127.0.0.1 that answers as VTEX does, such as a proxy) the demo cells write nothing at all.

The notebooks run (nbclient, a real kernel) against one sandbox served here, as under `./dev demo`, where the
sandbox keeps what was recorded between runs. The second run must write nothing to the ledger.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.testing import check_nothing_moved

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RECORDING = [
    "01_record_offline_refunds.ipynb",
    "02_gross_vs_net.ipynb",
    "03_refund_trends.ipynb",
    "04_import_refunds.ipynb",
]


def ledger_writes(sb: Sandbox) -> list[str]:
    """Writes of ledger documents (the order's ledger and the entries) and notes."""
    return [
        f"{r.method} {r.path}"
        for r in list(sb.requests)
        if r.method in ("POST", "PUT", "PATCH")
        and ("/dataentities/offlineRefund" in r.path or "/api/do/notes" in r.path)
    ]


def point_kernels_at(sb: Sandbox, base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the notebooks' kernels inherit: this sandbox's account, and nothing else of ours."""
    cfg = sb.config
    for key in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VTEX_BASE_URL", base_url)
    monkeypatch.setenv("VTEX_ACCOUNT_NAME", cfg.account)
    monkeypatch.setenv("VTEX_APP_KEY", cfg.app_key)
    monkeypatch.setenv("VTEX_APP_TOKEN", cfg.app_token)
    monkeypatch.setenv("REFUNDKIT_CACHE_DIR", str(tmp_path / "cache"))


def run(path: Path, cwd: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], json.dumps(errors)[:2000]


@pytest.mark.parametrize("name", RECORDING)
def test_running_a_notebook_twice_records_nothing_new(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = Sandbox(SandboxConfig())
    with sb.serve(port=0) as srv:
        point_kernels_at(sb, srv.base_url, tmp_path, monkeypatch)
        run(NOTEBOOKS / name, tmp_path)
        first = ledger_writes(sb)
        assert first, "the first run records the demo refunds"
        run(NOTEBOOKS / name, tmp_path)
        assert ledger_writes(sb) == first, "the second run wrote to the ledger"
        check_nothing_moved(sb)


@pytest.mark.parametrize("name", RECORDING)
def test_on_a_real_account_behind_a_local_proxy_the_demo_cells_write_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a server on 127.0.0.1 that answers as VTEX does (no sandbox header): a proxy or tunnel to a merchant's account
    sb = Sandbox(SandboxConfig(announce=False))
    with sb.serve(port=0) as srv:
        point_kernels_at(sb, srv.base_url, tmp_path, monkeypatch)
        run(NOTEBOOKS / name, tmp_path)
        writes = [f"{r.method} {r.path}" for r in list(sb.requests) if r.method in ("POST", "PUT", "PATCH", "DELETE")]
        assert writes == [], "a demo cell wrote to what may be a real account"
        check_nothing_moved(sb)
