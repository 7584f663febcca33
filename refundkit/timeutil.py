"""Exact timestamps.

VTEX writes dates with up to 7 fractional digits (100 ns ticks) and an offset: ``2026-03-01T12:34:56.1234567-03:00``.
Python's ``datetime`` keeps only microseconds, so a parse through it loses the 7th digit and two orders 100 ns apart
compare equal. :class:`Instant` keeps nanoseconds since the Unix epoch (UTC) as an ``int`` plus the offset it was
written with, converts to ``datetime`` only on request, and orders and hashes by the exact instant.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

__all__ = [
    "CLOCK_SHIFT_VARIABLE",
    "CLOCK_SKEW_WARN",
    "Instant",
    "clock_shift",
    "clock_skew",
    "local_day_bounds",
    "parse_instant",
    "utc_now",
    "zone",
]

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


@dataclass(frozen=True, slots=True, order=True)
class Instant:
    """A point in time, exact to the nanosecond. ``offset_minutes`` is display only; equality ignores it."""

    ns: int
    offset_minutes: int = field(default=0, compare=False)

    @classmethod
    def from_datetime(cls, dt: datetime) -> Instant:
        if dt.tzinfo is None:
            raise ValueError("a naive datetime has no time zone; attach one (UTC if in doubt)")
        delta = dt - _EPOCH
        ns = (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000
        off = dt.utcoffset() or timedelta(0)
        return cls(ns, int(off.total_seconds() // 60))

    def to_datetime(self) -> datetime:
        """As an aware ``datetime`` in the original offset (truncated to the microsecond)."""
        tz = timezone(timedelta(minutes=self.offset_minutes))
        return (_EPOCH + timedelta(microseconds=self.ns // 1_000)).astimezone(tz)

    def in_zone(self, tz: str) -> Instant:
        """The same instant, written with the offset ``tz`` has at that moment (exact; no digits lost)."""
        off = self.to_datetime().astimezone(zone(tz)).utcoffset() or timedelta(0)
        return Instant(self.ns, int(off.total_seconds() // 60))

    def to_utc(self) -> Instant:
        return Instant(self.ns, 0)

    def isoformat(self, digits: int = 7) -> str:
        """``2026-03-01T12:34:56.1234567-03:00`` (offset kept; ``+00:00`` for UTC)."""
        local_ns = self.ns + self.offset_minutes * 60 * _NS
        secs, frac = divmod(local_ns, _NS)
        base = (_EPOCH + timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
        sign = "-" if self.offset_minutes < 0 else "+"
        h, m = divmod(abs(self.offset_minutes), 60)
        fraction = f".{frac:09d}"[: digits + 1] if digits else ""
        return f"{base}{fraction}{sign}{h:02d}:{m:02d}"

    def filter_format(self) -> str:
        """UTC with milliseconds and ``Z``: ``2026-03-01T15:34:56.123Z``, the form OMS list filters take and the one
        refundkit stores dates in Master Data with (so they sort and compare as text)."""
        secs, frac = divmod(self.ns, _NS)
        base = (_EPOCH + timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{base}.{frac // 1_000_000:03d}Z"

    def floor_ms(self) -> Instant:
        return Instant(self.ns - self.ns % 1_000_000, self.offset_minutes)

    def ceil_ms(self) -> Instant:
        r = self.ns % 1_000_000
        return self if r == 0 else Instant(self.ns + 1_000_000 - r, self.offset_minutes)

    def __add__(self, other: timedelta) -> Instant:
        if not isinstance(other, timedelta):
            return NotImplemented
        return Instant(self.ns + _td_ns(other), self.offset_minutes)

    @overload
    def __sub__(self, other: timedelta) -> Instant: ...

    @overload
    def __sub__(self, other: Instant) -> timedelta: ...

    def __sub__(self, other: timedelta | Instant) -> Instant | timedelta:
        if isinstance(other, timedelta):
            return Instant(self.ns - _td_ns(other), self.offset_minutes)
        if isinstance(other, Instant):
            return timedelta(microseconds=(self.ns - other.ns) / 1_000)
        return NotImplemented

    def __str__(self) -> str:
        return self.isoformat()


def _td_ns(td: timedelta) -> int:
    return ((td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds) * 1_000


def parse_instant(text: str) -> Instant:
    """Parse an ISO 8601 timestamp exactly. A missing offset means UTC. Raises ``ValueError`` with the text."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 timestamp, got {text!r}")
    m = _RE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an ISO 8601 timestamp such as 2026-03-01T12:34:56Z")
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        base = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0), tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date and time ({exc})") from None
    offset = 0
    if off and off not in ("Z", "z"):
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        if int(digits[:2]) > 23 or int(digits[2:]) > 59:
            raise ValueError(f"{text!r} has an impossible UTC offset {off}")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    frac_ns = int((frac or "").ljust(9, "0")) if frac else 0
    delta = base - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * _NS + frac_ns - offset * 60 * _NS
    return Instant(ns, offset)


#: Files of the zone database that load as zones but name none: this machine's own zone (``localtime``, which differs
#: from machine to machine), the rules file, the placeholder zone, and the copies with leap seconds or POSIX rules.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_NOT_ZONE_FOLDERS = ("posix/", "right/")


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``America/Sao_Paulo``, ``UTC``); for anything else a ``ValueError`` that says what to
    type, also for a file of the zone database that is not a zone (``localtime``, ``posixrules``, ``Factory``,
    ``right/UTC``)."""
    if name in _NOT_ZONES or name.startswith(_NOT_ZONE_FOLDERS):
        raise ValueError(
            f"{name!r} names a file of the time zone database, not a time zone: use an IANA name such as "
            "America/Sao_Paulo or UTC"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as America/Sao_Paulo or UTC") from None


def local_day_bounds(first: date, last: date, tz: str = "UTC") -> tuple[Instant, Instant]:
    """The half-open range [start of ``first``, start of the day after ``last``) in ``tz``, as UTC instants."""
    z = zone(tz)
    start = datetime.combine(first, time(0), tzinfo=z)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=z)
    return Instant.from_datetime(start).to_utc(), Instant.from_datetime(end).to_utc()


#: Moves refundkit's clock (and so the sandbox's: its store, its dates, its Date header) this many whole days ahead,
#: to try the demo as it will run later (the notebooks' tests run at +60 and +400 days). For the sandbox only: a
#: session refuses a real account while it is set.
CLOCK_SHIFT_VARIABLE = "REFUNDKIT_SANDBOX_CLOCK_SHIFT_DAYS"


def clock_shift() -> timedelta:
    """How far :data:`CLOCK_SHIFT_VARIABLE` moves the clock (zero when unset). The one place it is read."""
    raw = os.environ.get(CLOCK_SHIFT_VARIABLE, "").strip()
    if not raw:
        return timedelta(0)
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(
            f"{CLOCK_SHIFT_VARIABLE} must be a whole number of days, such as 60; got {raw[:20]!r}"
        ) from None
    if abs(days) > 36_500:
        raise ConfigError(f"{CLOCK_SHIFT_VARIABLE} must be at most 36500 days either way; got {days}")
    return timedelta(days=days)


def utc_now() -> Instant:
    """Now, in UTC: this computer's clock, moved by :func:`clock_shift` when the sandbox's clock is shifted."""
    return Instant.from_datetime(datetime.now(UTC) + clock_shift())


#: This computer's clock this far from VTEX's (the ``Date`` of its answers) is reported (sync warnings, doctor).
CLOCK_SKEW_WARN = timedelta(minutes=5)


def clock_skew(ours_ns: int, vtex_ns: int) -> str | None:
    """``"this computer's clock is 24.0 hours ahead of VTEX's"`` when the two differ by more than
    :data:`CLOCK_SKEW_WARN`, else ``None``."""
    gap = abs(ours_ns - vtex_ns)
    if gap <= CLOCK_SKEW_WARN.total_seconds() * _NS:
        return None
    minutes = (gap + 30 * _NS) // (60 * _NS)  # to the nearest minute
    span = f"{minutes / 60:.1f} hours" if minutes >= 120 else f"{minutes} minutes"
    return f"this computer's clock is {span} {'ahead of' if ours_ns > vtex_ns else 'behind'} VTEX's"
