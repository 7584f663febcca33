"""`refundkit app` as a person starts it: without an account it says what to set, in one line, before serving; and
however it is stopped (Ctrl-C, SIGTERM, a closed terminal), Voilà stops with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from refundkit.present.cli_app import free_port
from refundkit.testing import ServedSandbox, run_cli
from tests.conftest import command_lines


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


# Ctrl-C is the KeyboardInterrupt these two become (refundkit.present.cli_app.stop_on_terminate), so it is covered too
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_app_stops_voila_however_it_is_stopped(
    served_sandbox: ServedSandbox, tmp_path: Path, stop: signal.Signals
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(served_sandbox.env(), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    port = free_port()
    cmd = [sys.executable, "-m", "refundkit.present.cli", "app", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "press Ctrl-C to stop" in line:
                break
        else:
            pytest.fail("refundkit app did not say it was serving")
    finally:
        proc.send_signal(stop)
        proc.communicate(timeout=60)
    left = [cmd for cmd in command_lines() if "voila" in cmd and f"--port={port}" in cmd]
    assert left == [], f"Voilà left running after {stop.name}: {left}"
