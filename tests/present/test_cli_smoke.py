"""The installed ``refundkit`` command as a separate process: the few things only a real process shows (the entry
point, the exit code the shell sees, stdout and stderr kept apart, no traceback). Every other CLI test runs the
command in process (:func:`refundkit.testing.run_cli`), which is much faster and sees the same output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from refundkit.testing import OrderPicker, ServedSandbox


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "TMPDIR")}
    return subprocess.run(
        args,
        env={**keep, **env, "PYTHONIOENCODING": "utf-8"},
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,  # the exit code is what these tests check
    )


def test_the_installed_command_records_once_and_says_so(served_sandbox: ServedSandbox, tmp_path: Path) -> None:
    exe = shutil.which("refundkit", path=str(Path(sys.executable).parent))
    assert exe, "the refundkit entry point is installed next to the interpreter"
    env = served_sandbox.env()
    assert run([exe, "setup"], env, tmp_path).returncode == 0
    order = OrderPicker(served_sandbox.sb).invoiced()
    args = [exe, "record", order.order_id, "--amount", "1.00", "--source", "cash", "--ref", "SMOKE-1", "--json"]
    first, again = run(args, env, tmp_path), run(args, env, tmp_path)
    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    assert [json.loads(p.stdout)["outcome"] for p in (first, again)] == ["recorded", "already recorded"]
    assert "Traceback" not in first.stderr + again.stderr


def test_without_an_account_the_shell_sees_exit_2_and_one_line(tmp_path: Path) -> None:
    p = run([sys.executable, "-m", "refundkit.present.cli", "quote", "1-01"], {"HOME": str(tmp_path)}, tmp_path)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refundkit: No VTEX account is configured"), p.stderr


def test_a_usage_error_exits_2_without_a_usage_dump(tmp_path: Path) -> None:
    p = run([sys.executable, "-m", "refundkit.present.cli", "record"], {"HOME": str(tmp_path)}, tmp_path)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
