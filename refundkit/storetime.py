"""The store's time zone, and what a date without a time means there.

A person who types ``2026-03-01`` as the day a refund was paid means that day where the store is, not midnight UTC
(which is still 28 February in São Paulo). Which zone is the store's:

1. ``REFUNDKIT_STORE_TZ`` (an IANA name such as ``America/Sao_Paulo``) when set — a documented setting, so a merchant
   whose account answers otherwise can say what they mean;
2. otherwise the zone VTEX gives for the store on every order: ``storePreferencesData.timeZone``, a Windows zone name
   such as ``"E. South America Standard Time"``, mapped to its IANA zone with the CLDR table below;
3. otherwise UTC, and the date-only form is refused for that order with a message that says how to set the zone
   (a guess that moves a refund into another month is worse than asking).

This module imports only :mod:`refundkit.timeutil`, so every layer may use it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from .timeutil import Instant, zone

__all__ = ["WINDOWS_ZONES", "day_instant", "iana_zone", "order_time_zone"]

#: Windows zone names (as VTEX writes ``storePreferencesData.timeZone``) to IANA zones, from CLDR's windowsZones
#: table (territory "001"), for the zones of the countries VTEX sells in and their neighbours.
WINDOWS_ZONES: dict[str, str] = {
    "UTC": "Etc/UTC",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "GTB Standard Time": "Europe/Bucharest",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Tocantins Standard Time": "America/Araguaina",
    "Bahia Standard Time": "America/Bahia",
    "SA Eastern Standard Time": "America/Cayenne",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/La_Paz",
    "SA Pacific Standard Time": "America/Bogota",
    "Argentina Standard Time": "America/Buenos_Aires",
    "Pacific SA Standard Time": "America/Santiago",
    "Magallanes Standard Time": "America/Punta_Arenas",
    "Paraguay Standard Time": "America/Asuncion",
    "Montevideo Standard Time": "America/Montevideo",
    "Venezuela Standard Time": "America/Caracas",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Mountain Standard Time (Mexico)": "America/Mazatlan",
    "Pacific Standard Time (Mexico)": "America/Tijuana",
    "Eastern Standard Time (Mexico)": "America/Cancun",
    "Cuba Standard Time": "America/Havana",
    "Haiti Standard Time": "America/Port-au-Prince",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns",
    "Canada Central Standard Time": "America/Regina",
}


def iana_zone(name: str | None) -> str | None:
    """An IANA zone for ``name`` (IANA already, or a Windows name VTEX uses); None when it names no known zone."""
    if not name or not isinstance(name, str):
        return None
    name = name.strip()
    mapped = WINDOWS_ZONES.get(name)
    if mapped:
        return mapped
    try:
        zone(name)
    except ValueError:
        return None
    return name


def order_time_zone(order_raw: dict[str, Any] | None) -> str | None:
    """The store's zone as VTEX gives it on an order (``storePreferencesData.timeZone``), as an IANA name."""
    prefs = (order_raw or {}).get("storePreferencesData")
    return iana_zone(prefs.get("timeZone")) if isinstance(prefs, dict) else None


def day_instant(day: date, tz: str, *, now: Instant, not_before: Instant | None = None) -> Instant:
    """The instant a refund paid on ``day`` (no time given) is recorded at, in the store zone ``tz``.

    Today means now. Another day means noon there — the middle of the day, so the day stays the same in a report
    read a few hours east or west — but never before ``not_before`` (the order's creation, when it was created that
    afternoon) and never after ``now``. The result is written with ``tz``'s offset.
    """
    z = zone(tz)
    today = now.in_zone(tz).to_datetime().date()
    if day == today:
        return now.in_zone(tz)
    at = Instant.from_datetime(datetime.combine(day, time(12, 0), tzinfo=z))
    if not_before is not None and at.ns < not_before.ns and not_before.in_zone(tz).to_datetime().date() == day:
        at = not_before
    if at.ns > now.ns:
        at = now
    return at.in_zone(tz)
