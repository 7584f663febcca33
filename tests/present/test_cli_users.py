"""`refundkit users`: the desk's team file keeps names, roles and argon2 hashes only, readable by its owner only."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from refundkit.errors import InputError
from refundkit.present.desk_users import FailureLimiter, TeamUser, check_password, load_users
from refundkit.testing import ManualClock, run_cli


def add(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, password: str, *more: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    done = run_cli(["users", "add", name, "--file", str(tmp_path / "team.json"), *more], dict(os.environ), tmp_path)
    return done.code, done.stderr


def test_add_keeps_only_an_argon2_hash_in_a_file_only_its_owner_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add(tmp_path, monkeypatch, "ana", "correct horse battery")[0] == 0
    assert add(tmp_path, monkeypatch, "bruno", "another good password", "--role", "viewer")[0] == 0
    path = tmp_path / "team.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "correct horse battery" not in text and "another good password" not in text
    users = load_users(path)
    assert {u.name: u.role for u in users.values()} == {"ana": "recorder", "bruno": "viewer"}
    assert users["ana"].password_hash.startswith("argon2:$argon2id$")
    assert check_password(users["ana"], "correct horse battery")
    assert not check_password(users["ana"], "correct horse batterY")


def test_list_set_role_and_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add(tmp_path, monkeypatch, "ana", "correct horse battery")
    f = str(tmp_path / "team.json")
    env = dict(os.environ)
    assert run_cli(["users", "set-role", "ana", "admin", "--file", f], env, tmp_path).code == 0
    listed = run_cli(["users", "list", "--file", f, "--json"], env, tmp_path)
    assert json.loads(listed.stdout) == {"users": [{"name": "ana", "role": "admin"}]}
    assert run_cli(["users", "remove", "ana", "--file", f], env, tmp_path).code == 0
    assert run_cli(["users", "list", "--file", f], env, tmp_path).stdout == ""
    gone = run_cli(["users", "remove", "ana", "--file", f], env, tmp_path)
    assert gone.code == 2 and "has no user 'ana'" in gone.stderr and "Traceback" not in gone.stderr


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = add(tmp_path, monkeypatch, "ana", "short")
    assert code == 2 and "too short" in err and not (tmp_path / "team.json").exists()
    code, err = add(tmp_path, monkeypatch, "../ana", "correct horse battery")
    assert code == 2 and "is not a user name" in err
    code, err = add(tmp_path, monkeypatch, "ana", "")
    assert code == 2 and "no password on standard input" in err
    bad = run_cli(["users", "add", "ana", "--file", str(tmp_path / "t.json"), "--role", "boss"], {}, tmp_path)
    assert bad.code == 2 and "invalid choice" in bad.stderr


def test_a_file_others_can_read_or_with_another_kind_of_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    path.write_text(json.dumps({"users": {"ana": {"role": "recorder", "hash": "sha1:salt:abcdef"}}}))
    path.chmod(0o644)
    with pytest.raises(InputError, match="can be read by other users"):
        load_users(path)
    path.chmod(0o600)
    with pytest.raises(InputError, match="not an argon2 hash"):
        load_users(path)
    assert not check_password(TeamUser("ana", "recorder", "sha1:salt:abcdef"), "x")


def test_the_password_comes_from_stdin_never_the_command_line(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "refundkit.present.cli", "users", "add", "ana", "--file", str(tmp_path / "t.json")]
    done = subprocess.run(cmd, input="piped password 1\n", capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert check_password(load_users(tmp_path / "t.json")["ana"], "piped password 1")


def test_failures_lock_a_name_and_an_address_for_a_while() -> None:
    clock = ManualClock()
    limiter = FailureLimiter(max_failures=3, window_s=600, clock=clock)
    for _ in range(3):
        assert limiter.locked_for("name:ana", "addr:10.0.0.9") == 0
        limiter.failed("name:ana", "addr:10.0.0.9")
    assert limiter.locked_for("name:ana") == pytest.approx(600)
    assert limiter.locked_for("name:bruno", "addr:10.0.0.9") == pytest.approx(600), "the address is locked too"
    assert limiter.locked_for("name:bruno", "addr:10.0.0.7") == 0
    clock.advance(601)
    assert limiter.locked_for("name:ana", "addr:10.0.0.9") == 0
