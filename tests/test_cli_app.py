"""`refundkit app` as a person starts it: without an account it says what to set, in one line, before serving."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_app_without_an_account_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env["REFUNDKIT_CACHE_DIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "refundkit.present.cli", "app", "--port", "1"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "VTEX_ACCOUNT_NAME" in proc.stderr or "sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_app_help_names_port_and_time_zone() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "refundkit.present.cli", "app", "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "--port" in proc.stdout and "--tz" in proc.stdout
