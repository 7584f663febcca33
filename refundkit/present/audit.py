"""The desk's audit trail: who signed in (when, from where) and every write made through the desk (record, import
row, reversal, finishing a pending record) with its outcome, one JSON object a line, in ``audit.jsonl`` beside the
local store (``REFUNDKIT_CACHE_DIR``). ``refundkit audit`` prints it.

The file is only ever opened to append (mode 0600, under a lock, so lines from the server and every page's kernel
never interleave); the desk has no way to change or remove a line. No line holds a password or a token: sign-in
events keep the name and the address, writes keep what was written.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError

__all__ = ["AUDIT_FILE", "AUDIT_VARIABLE", "append_event", "audit_path", "audited", "read_events"]

AUDIT_FILE = "audit.jsonl"
#: The variable that tells the desk's server and its pages' kernels where the trail is (set by ``refundkit app``).
AUDIT_VARIABLE = "REFUNDKIT_DESK_AUDIT"


def audit_path(settings: Settings) -> Path:
    return settings.cache_dir / AUDIT_FILE


def append_event(path: Path, event: str, **fields: Any) -> None:
    """Append one event (``at`` is now, UTC)."""
    record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """The events in order; a line that is not JSON (a crash mid-write) is shown as such, never dropped."""
    try:
        f = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}") from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield dict(json.loads(line))
            except (ValueError, TypeError):
                yield {"event": "unreadable line", "detail": f"line {number}: {line.strip()[:200]}"}


def audited(ledger: Any, path: Path, who: str) -> Any:
    """``ledger`` with each of its writing methods reporting its outcome to the trail at ``path`` as ``who``.
    (``Ledger.record`` goes through ``record_input``; an import's rows do too.)"""

    account = getattr(getattr(getattr(ledger, "client", None), "settings", None), "account", None)

    def wrap(action: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            # the VTEX account written to: a desk may switch between the accounts of refundkit.toml
            with _reported(path, action, who, {"account": account, **_target(action, args, kwargs)}) as report:
                result = method(*args, **kwargs)
                report(result)
                return result

        return call

    for action, name in (("record", "record_input"), ("reverse", "reverse"), ("finish pending", "reconcile")):
        setattr(ledger, name, wrap(action, getattr(ledger, name)))
    return ledger


def _target(action: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    if action == "record" and args:
        raw = args[0]
        return {
            "order_id": getattr(raw, "order_id", None),
            "amount": str(getattr(raw, "amount", "")),
            "source": getattr(raw, "source", None),
            "external_ref": getattr(raw, "external_ref", None),
        }
    if action == "reverse":
        return {"entry_id": args[0] if args else None, "order_id": kwargs.get("order_id")}
    return {"order_ids": list(kwargs.get("order_ids") or [])}


#: What an error means for the write that raised it (anything else: "failed", to be retried).
_FAILURES = {"RefundRefused": "refused", "RefundConflict": "conflict", "ForbiddenEndpoint": "refused"}


@contextlib.contextmanager
def _reported(path: Path, action: str, who: str, target: dict[str, Any]) -> Iterator[Callable[[Any], None]]:
    done: dict[str, Any] = {}

    def report(result: Any) -> None:
        outcome = getattr(result, "outcome", None)
        entry = getattr(result, "entry", None)
        done.update(
            outcome=str(getattr(outcome, "value", outcome) or "done"),
            entry_id=getattr(entry, "entry_id", None),
            amount=str(getattr(entry, "amount", "")) if entry is not None else target.get("amount"),
        )

    try:
        yield report
    except Exception as exc:
        outcome = _FAILURES.get(type(exc).__name__, "failed")
        append_event(path, action, user=who, **target, outcome=outcome, detail=str(exc)[:500])
        raise
    append_event(path, action, user=who, **{**target, **{k: v for k, v in done.items() if v is not None}})
