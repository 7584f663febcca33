"""`refundkit app` as a person starts it: without an account it says what to set, in one line, before serving."""

from __future__ import annotations

import os
from pathlib import Path

from refundkit.testing import run_cli


def test_app_without_an_account_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env["REFUNDKIT_CACHE_DIR"] = str(tmp_path)
    proc = run_cli(["app", "--port", "1"], env, tmp_path)
    assert proc.returncode == 2
    assert "VTEX_ACCOUNT_NAME" in proc.stderr or "sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_app_help_names_port_and_time_zone(tmp_path: Path) -> None:
    proc = run_cli(["app", "--help"], dict(os.environ), tmp_path)
    assert proc.returncode == 0 and "--port" in proc.stdout and "--tz" in proc.stdout
