"""Keep what the sandbox was told across restarts: one JSON line per mutation in ``state_dir/sandbox-state.jsonl``.

Records are ``{"op": "schema" | "document" | "note", ...}``; :meth:`StateLog.replay` yields them in write order.
A last line cut short by a crash is skipped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["STATE_FILE", "StateLog"]

STATE_FILE = "sandbox-state.jsonl"


class StateLog:
    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / STATE_FILE
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)

    def replay(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.readlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines):  # a write cut short: ignore it
                    return
                raise ValueError(f"{self.path}: line {n} is not JSON; fix or delete the file") from None
