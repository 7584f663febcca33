"""Running a notebook twice records nothing new: its demo cells use fixed references.

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
RECORDING = ["01_record_offline_refunds.ipynb", "04_import_refunds.ipynb"]


def ledger_writes(sb: Sandbox) -> list[str]:
    """Writes of ledger documents (the order's ledger and the entries) and notes."""
    return [
        f"{r.method} {r.path}"
        for r in list(sb.requests)
        if r.method in ("POST", "PUT", "PATCH")
        and ("/dataentities/offlineRefund" in r.path or "/api/do/notes" in r.path)
    ]


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
        cfg = sb.config
        for key in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
            monkeypatch.delenv(key)
        monkeypatch.setenv("VTEX_BASE_URL", srv.base_url)
        monkeypatch.setenv("VTEX_ACCOUNT_NAME", cfg.account)
        monkeypatch.setenv("VTEX_APP_KEY", cfg.app_key)
        monkeypatch.setenv("VTEX_APP_TOKEN", cfg.app_token)
        monkeypatch.setenv("REFUNDKIT_CACHE_DIR", str(tmp_path / "cache"))
        run(NOTEBOOKS / name, tmp_path)
        first = ledger_writes(sb)
        assert first, "the first run records the demo refunds"
        run(NOTEBOOKS / name, tmp_path)
        assert ledger_writes(sb) == first, "the second run wrote to the ledger"
        check_nothing_moved(sb)
