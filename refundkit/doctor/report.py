"""What ``refundkit doctor`` found: one :class:`Check` per thing refundkit relies on, in a :class:`DoctorReport`.

A check is ``pass``, ``warn`` (works, but the merchant should know or verify something), ``fail`` (refundkit cannot be
trusted on this account until it is fixed) or ``skipped`` (not run, and why). Every check that is not a plain pass
carries one line saying what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..timeutil import Instant

__all__ = ["Check", "DoctorReport", "Status"]


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 — a check's status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table.

    ``key`` is stable (for scripts and tests), ``title`` names the check for a person, ``result`` says what was seen
    (with the figures measured), ``action`` is one line saying what to do ("" when nothing), ``figures`` holds the
    measured values for ``--json``."""

    key: str
    title: str
    status: Status
    result: str
    action: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "result": self.result,
            "action": self.action,
            "figures": dict(self.figures),
        }


@dataclass
class DoctorReport:
    account: str
    base_url: str
    started_at: Instant
    checks: list[Check] = field(default_factory=list)
    unreachable: bool = False  # VTEX could not be reached at all: nothing was checked
    verdict_path: str | None = None  # where the Master Data verdict was saved

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def get(self, key: str) -> Check:
        for c in self.checks:
            if c.key == key:
                return c
        raise KeyError(key)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status is status)

    @property
    def ok(self) -> bool:
        """No check failed (warnings and skipped checks allowed)."""
        return not self.unreachable and self.count(Status.FAIL) == 0

    def summary(self) -> str:
        parts = [f"{self.count(Status.PASS)} passed", f"{self.count(Status.FAIL)} failed"]
        parts.append(f"{self.count(Status.WARN)} warning{'s' if self.count(Status.WARN) != 1 else ''}")
        parts.append(f"{self.count(Status.SKIPPED)} skipped")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "base_url": self.base_url,
            "started_at": self.started_at.isoformat(3),
            "ok": self.ok,
            "unreachable": self.unreachable,
            "summary": self.summary(),
            "verdict_path": self.verdict_path,
            "checks": [c.as_dict() for c in self.checks],
        }
