"""A local journal of the entries this machine wrote, so listings show them before Master Data search catches up."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

__all__ = ["Journal"]

log = logging.getLogger("refundkit.ledger")


class Journal:
    """Ids this machine wrote recently, so listings can show them before Master Data search catches up.

    Only ids are kept; what is shown is always read back from VTEX by id. Entries older than a day are dropped.
    """

    KEEP_S = 86_400

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory: dict[str, tuple[str, float]] = {}
        self._refunded: dict[str, str] = {}  # entry id -> refundedAt (filter format), when the line says it

    def add(self, entry_id: str, order_id: str, refunded_at: str | None = None) -> None:
        """Keep ``entry_id`` of ``order_id``; ``refunded_at`` (UTC, Master Data's filter format) lets a listing of a
        date range read back only the orders whose recent entries fall in it."""
        now = time.time()
        with self._lock:
            self._memory[entry_id] = (order_id, now)
            if refunded_at:
                self._refunded[entry_id] = refunded_at
            if self.path:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    line = {"id": entry_id, "orderId": order_id, "at": now}
                    if refunded_at:
                        line["refundedAt"] = refunded_at
                    with self.path.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(line) + "\n")
                except OSError as exc:  # the journal is a convenience; the ledger is in VTEX
                    log.warning("could not write the local journal %s: %s", self.path, exc)

    def recent_refunded_at(self) -> dict[str, str | None]:
        """Recent entry ids with their refundedAt (None where the journal line predates it)."""
        ids = self.recent()
        with self._lock:
            return {eid: self._refunded.get(eid) for eid in ids}

    def recent(self) -> dict[str, str]:
        cutoff = time.time() - self.KEEP_S
        out: dict[str, str] = {}
        stale = 0
        with self._lock:
            if self.path and self.path.exists():
                try:
                    for line in self.path.read_text(encoding="utf-8").splitlines():
                        try:
                            row = json.loads(line)
                        except ValueError:
                            continue
                        if row.get("at", 0) >= cutoff:
                            out[row["id"]] = row["orderId"]
                            if row.get("refundedAt"):
                                self._refunded[row["id"]] = str(row["refundedAt"])
                        else:
                            stale += 1
                    if stale > 1000:  # rewrite the file without lines older than a day
                        keep = [json.dumps({"id": k, "orderId": v, "at": cutoff + 1}) for k, v in out.items()]
                        tmp = self.path.with_suffix(".tmp")
                        tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
                        tmp.replace(self.path)
                except OSError:
                    pass
            out.update({k: v for k, (v, at) in self._memory.items() if at >= cutoff})
        return out
