"""The desk's team: a users file of names, roles and password hashes (``refundkit users``, ``refundkit app --users``).

The file is JSON, written with mode 0600 (replaced whole, under a lock, so two ``refundkit users`` at once lose
nothing), and keeps only argon2 hashes made by jupyter_server's ``passwd`` (argon2-cffi underneath); an entry with
any other kind of hash is refused, never checked. Roles, each including the one before:

- **viewer** looks orders up and reads reports;
- **recorder** also records, imports and reverses refunds;
- **admin** also manages users (with ``refundkit users`` on the desk's machine).

:class:`FailureLimiter` is the sign-in page's brake: too many failures for one name, or from one address, lock that
name or address out for a while.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = [
    "ROLES",
    "FailureLimiter",
    "TeamUser",
    "add_user",
    "can_record",
    "check_password",
    "hash_password",
    "load_users",
    "remove_user",
    "set_role",
]

ROLES = ("viewer", "recorder", "admin")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASH_PREFIX = "argon2:"


@dataclass(frozen=True)
class TeamUser:
    name: str
    role: str
    password_hash: str


def can_record(role: str | None) -> bool:
    """Whether ``role`` may record, import and reverse refunds."""
    return role in ("recorder", "admin")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{name[:70]!r} is not a user name: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter "
            "or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"{role[:30]!r} is not a role: use {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    """An argon2 hash of ``password`` (jupyter_server's ``passwd``)."""
    if len(password) < 8:
        raise InputError("the password is too short: use at least 8 characters")
    from jupyter_server.auth.security import passwd  # noqa: PLC0415  (installed with the app; loaded only here)

    return str(passwd(password, algorithm="argon2"))  # type: ignore[no-untyped-call]  # jupyter_server is untyped


def check_password(user: TeamUser, password: str) -> bool:
    """Whether ``password`` is ``user``'s. Only argon2 hashes are ever checked."""
    if not user.password_hash.startswith(_HASH_PREFIX):
        return False
    from jupyter_server.auth.security import passwd_check  # noqa: PLC0415  (as above)

    return bool(passwd_check(user.password_hash, password))  # type: ignore[no-untyped-call]  # as above


def load_users(path: Path) -> dict[str, TeamUser]:
    """The users in ``path``; a file that is missing, unreadable, readable by others or malformed is refused with a
    line that says what to fix."""
    try:
        mode = path.stat().st_mode
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such users file; create it with refundkit users add NAME --file {path}") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}") from None
    if mode & 0o077:
        raise InputError(f"{path} can be read by other users of this machine; run chmod 600 {path}")
    return _parse(path, raw)


def _parse(path: Path, raw: str) -> dict[str, TeamUser]:
    try:
        data = json.loads(raw) if raw.strip() else {"users": {}}
        entries = data["users"]
        users = {
            name: TeamUser(check_name(name), check_role(str(e["role"])), str(e["hash"])) for name, e in entries.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, InputError) as exc:
        why = f"{path} is not a refundkit users file ({exc})"
        raise InputError(f"{why}; recreate it with refundkit users add") from None
    for u in users.values():
        if not u.password_hash.startswith(_HASH_PREFIX):
            raise InputError(
                f"{path}: the password of {u.name} is not an argon2 hash; set it again with "
                f"refundkit users add {u.name} --file {path}"
            )
    return users


@contextlib.contextmanager
def _editing(path: Path) -> Iterator[dict[str, TeamUser]]:
    """The users of ``path`` (none when it is new), locked against other editors; written back (0600, replaced whole)
    when the block ends without an error."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        users = load_users(path) if path.exists() else {}
        yield users
        body = {"users": {u.name: {"role": u.role, "hash": u.password_hash} for u in users.values()}}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
            json.dump(body, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        os.close(fd)


def add_user(path: Path, name: str, password: str, role: str = "recorder") -> bool:
    """Add ``name`` (or give it a new password and role); True when the name is new."""
    check_name(name)
    check_role(role)
    hashed = hash_password(password)
    with _editing(path) as users:
        new = name not in users
        users[name] = TeamUser(name, role, hashed)
    return new


def remove_user(path: Path, name: str) -> None:
    with _editing(path) as users:
        if users.pop(name, None) is None:
            raise InputError(f"{path} has no user {name!r}")


def set_role(path: Path, name: str, role: str) -> None:
    check_role(role)
    with _editing(path) as users:
        user = users.get(name)
        if user is None:
            raise InputError(f"{path} has no user {name!r}")
        users[name] = TeamUser(name, role, user.password_hash)


class FailureLimiter:
    """At most ``max_failures`` failed sign-ins per key (a name, an address) within ``window_s`` seconds; past that,
    the key is locked until its oldest failure leaves the window. A success clears the key."""

    def __init__(
        self, max_failures: int = 5, window_s: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        now = self._clock()
        kept = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def locked_for(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` may try again (0 when none is locked)."""
        wait = 0.0
        for key in keys:
            recent = self._recent(key)
            if len(recent) >= self.max_failures:
                wait = max(wait, recent[0] + self.window_s - self._clock())
        return wait

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
