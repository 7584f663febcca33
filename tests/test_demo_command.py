"""`refundkit demo` as a person runs it: every address printed answers, the sandbox's variables are printed (two
accounts: VTEX_* for the first, refundkit.toml for both),
JupyterLab works on copies, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from refundkit.present.cli_app import free_port
from tests.conftest import command_lines

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_prints_every_address_and_the_variables_and_stops_on_ctrl_c(tmp_path: Path, stop: signal.Signals) -> None:
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    committed = {p.name: p.read_bytes() for p in (tmp_path / "notebooks").glob("*.ipynb")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"), CI="true")
    ports = [free_port(), free_port(), free_port()]
    cmd = [sys.executable, "-m", "refundkit.present.cli", "demo", "--port", str(ports[0])]
    cmd += ["--lab-port", str(ports[1]), "--app-port", str(ports[2])]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "Press Ctrl-C" in line:
                break
        out = "\n".join(lines)
        assert "Press Ctrl-C" in out, out
        # the demo store runs up to today (UTC), whatever day the demo is started
        assert f"up to today, {datetime.now(UTC).date().isoformat()})" in out, out
        for name in ("VTEX_BASE_URL", "VTEX_ACCOUNT_NAME", "VTEX_APP_KEY", "VTEX_APP_TOKEN"):
            assert re.search(rf"^  export {name}=\S+$", out, re.M), name
        urls = set(re.findall(r"(http://127\.0\.0\.1:\d+[^\s;]*)", out))
        by_port = {int(u.split(":")[2].split("/")[0]): u for u in urls}
        # the demo serves two accounts: the second sandbox is on a port of its own, named in refundkit.toml
        assert set(ports) < set(by_port) and len(by_port) == len(ports) + 1, out
        assert re.search(r"^  export REFUNDKIT_CONFIG=\S+refundkit\.toml$", out, re.M), out
        assert re.search(r"^  export OUTLET_VTEX_TOKEN=\S+$", out, re.M), out
        probes = {
            ports[1]: by_port[ports[1]].replace("/lab?", "/api?"),  # JupyterLab, with the printed token
            ports[2]: by_port[ports[2]].split("/login?")[0] + "/voila/static/voila.js",  # the app, no kernel
        }
        tokens = [urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["token"][0] for u in urls if "token=" in u]
        assert len(tokens) == 2, "JupyterLab's and the desk's addresses carry their tokens"
        for pid, line in command_lines():
            assert not any(t in line for t in tokens), f"process {pid} shows a token on its command line"
        for url in probes.values():
            with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310  (loopback URLs the demo printed)
                assert r.status == 200, url
        work = tmp_path / ".demo" / "notebooks"
        assert sorted(p.name for p in work.glob("*.ipynb")) == sorted(committed)
    finally:
        proc.send_signal(stop)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=10)
    assert {p.name: p.read_bytes() for p in (tmp_path / "notebooks").glob("*.ipynb")} == committed
    for port in ports:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except OSError:
            continue
        raise AssertionError(f"something still answers on port {port} after {stop.name}")


def test_a_busy_app_port_is_one_line_and_leaves_nothing_running(tmp_path: Path) -> None:
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"), CI="true")
    ports = [free_port(), free_port()]
    with socket.socket() as busy:  # another program holds the app's port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        app_port = busy.getsockname()[1]
        cmd = [sys.executable, "-m", "refundkit.present.cli", "demo", "--port", str(ports[0])]
        cmd += ["--lab-port", str(ports[1]), "--app-port", str(app_port)]
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    error = proc.stderr.strip().splitlines()
    assert len(error) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"port {app_port} is taken by another program" in error[0] and "--app-port" in error[0]
    # JupyterLab, started beside the app, was stopped with the rest: no process of it is left
    left = [cmd for _, cmd in command_lines() if f"--ServerApp.port={ports[1]} " in cmd]
    assert left == [], left
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
