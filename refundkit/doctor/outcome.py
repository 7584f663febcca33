"""What the last ``refundkit doctor`` run on an account concluded, kept under the cache dir next to its verdicts
(``{cache_dir}/verdicts/doctor-{account}.json``), so ``refundkit accounts`` can say whether doctor has passed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..ledger.verdict import verdict_path, write_verdict

__all__ = ["doctor_outcome", "save_doctor_outcome"]

KIND = "doctor"


def save_doctor_outcome(cache_dir: Path, account: str, *, ok: bool, checked_at: str) -> Path:
    """Keep that doctor passed (``ok``: no check failed) or failed on ``account``, and when (ISO text)."""
    path = verdict_path(cache_dir, account, KIND)
    write_verdict(path, {"account": account, "ok": ok, "checked_at": checked_at})
    return path


def doctor_outcome(cache_dir: Path, account: str) -> dict[str, Any] | None:
    """The last outcome kept for ``account`` (``{"ok", "checked_at"}``), or ``None`` when doctor never ran here (or
    its file cannot be read: the account is then shown as not checked, never as passed)."""
    try:
        data = json.loads(verdict_path(cache_dir, account, KIND).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        return None
    return {"ok": data["ok"], "checked_at": str(data.get("checked_at", ""))}
