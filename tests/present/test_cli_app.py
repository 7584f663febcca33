"""`refundkit app` as a person starts it: without an account it says what to set, in one line, before serving; and
however it is stopped (Ctrl-C, SIGTERM, a closed terminal), Voilà stops with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def ready_line(proc: subprocess.Popen[str]) -> str:
    """The line `refundkit app` prints once it serves."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if "press Ctrl-C to stop" in line:
            return line
    pytest.fail("refundkit app did not say it was serving")


def voila_processes(port: int) -> list[tuple[int, str]]:
    """(pid, command line) of each Voilà serving ``port`` (the desk's server, refundkit.present.desk_server)."""
    return [(pid, cmd) for pid, cmd in command_lines() if "desk_server" in cmd and f"--port={port} " in cmd]


# Ctrl-C is the KeyboardInterrupt these two become (refundkit.present.cli_app.stop_on_terminate), so it is covered too
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_app_stops_voila_however_it_is_stopped_and_leaves_no_folder(
    served_sandbox: ServedSandbox, tmp_path: Path, stop: signal.Signals
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(served_sandbox.env(), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
    port = free_port()
    cmd = [sys.executable, "-m", "refundkit.present.cli", "app", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    left: list[tuple[int, str]] = []
    try:
        ready_line(proc)
        [(_, voila)] = voila_processes(port)
        folder = Path(next(arg for arg in voila.split() if arg.endswith("launch.json"))).parent
        assert folder.is_dir()
    finally:
        proc.send_signal(stop)
        try:
            proc.communicate(timeout=60)
        finally:
            proc.kill()
            left = voila_processes(port)
            for pid, _ in left:  # whatever happened, nothing of this test keeps running
                os.kill(pid, signal.SIGKILL)
    assert left == [], f"Voilà left running after {stop.name}: {left}"
    assert not folder.exists(), "the app's notebook folder was left behind"


def test_a_port_another_program_answers_on_is_refused_before_voila_starts(
    served_sandbox: ServedSandbox, tmp_path: Path
) -> None:
    class Answers(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # answers even the probe refundkit makes for Voilà's static file
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Answers) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        port = other.server_address[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
        env.update(served_sandbox.env(), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"))
        cmd = [sys.executable, "-m", "refundkit.present.cli", "app", "--port", str(port)]
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
        other.shutdown()
    assert done.returncode == 2, done.stderr
    assert f"port {port} is taken by another program" in done.stderr and "Traceback" not in done.stderr
    assert "refund desk at" not in done.stdout


def test_app_ready_line_signs_in_with_the_configured_token_that_no_process_or_log_shows(
    served_sandbox: ServedSandbox, tmp_path: Path
) -> None:
    token = "configured-desk-token-0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(served_sandbox.env(), REFUNDKIT_CACHE_DIR=str(tmp_path / "cache"), REFUNDKIT_APP_TOKEN=token)
    port = free_port()
    cmd = [sys.executable, "-m", "refundkit.present.cli", "app", "--port", str(port), "--max-sessions", "3"]
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            line = ready_line(proc)
            assert f"http://127.0.0.1:{port}/login?next=%2F&token={token} " in line
            leaks = [(pid, c) for pid, c in command_lines() if token in c]
            assert leaks == [], "the token is on a command line"
            [(server, _)] = voila_processes(port)
            assert token.encode() not in Path(f"/proc/{server}/environ").read_bytes()
            # a wrong token: the sign-in page, not the desk
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token=wrong", timeout=10) as page:
                assert urllib.parse.urlsplit(page.url).path == "/login" and b"Order ID" not in page.read()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
    text = log.read_text()
    assert "GET /" in text and token not in text


def test_app_help_shows_no_token(tmp_path: Path) -> None:
    env = {**os.environ, "REFUNDKIT_APP_TOKEN": "help-must-not-show-this"}
    proc = run_cli(["app", "--help"], env, tmp_path)
    assert "--max-sessions" in proc.stdout and "--allow-host" in proc.stdout
    assert "help-must-not-show-this" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--host", "0.0.0.0"], "add --users FILE"),  # noqa: S104  (refused before anything binds)
        (["--host", "0.0.0.0", "--allow-host", "desk.example"], "--i-have-tls-in-front"),  # noqa: S104  (as above)
        (["--host", "192.168.7.9", "--users", "team.json"], "put a reverse proxy with HTTPS in front"),
        (["--host", "desk.example"], "is not an IP address"),
    ],
    ids=["no-team-no-host", "token-without-tls", "team-without-tls", "a-name"],
)
def test_app_serves_other_machines_only_to_a_team_or_a_named_host_and_behind_tls(
    tmp_path: Path, flags: list[str], said: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    done = run_cli(["app", "--port", str(free_port()), *flags], env, tmp_path)
    assert done.code == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_app_with_a_users_file_others_can_read_is_refused(served_sandbox: ServedSandbox, tmp_path: Path) -> None:
    users = tmp_path / "team.json"
    users.write_text('{"users": {}}')
    users.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(served_sandbox.env())
    done = run_cli(["app", "--port", str(free_port()), "--users", str(users)], env, tmp_path)
    assert done.code == 2 and "chmod 600" in done.stderr and done.stdout == ""
