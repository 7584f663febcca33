"""Instant: exact to the nanosecond, VTEX's 7 fractional digits kept, offsets kept for display, ordered by ns."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundkit.timeutil import Instant, local_day_bounds, parse_instant, zone

NS = 1_000_000_000
T = parse_instant("2026-03-01T15:34:56Z").ns  # 2026-03-01T12:34:56-03:00


@pytest.mark.parametrize(
    ("text", "ns", "offset"),
    [
        ("2026-03-01T12:34:56.1234567-03:00", T + 123_456_700, -180),
        ("2026-03-01T15:34:56.1234567Z", T + 123_456_700, 0),
        ("2026-03-01T15:34:56.1234567z", T + 123_456_700, 0),
        ("2026-03-01T15:34:56.1234567+00:00", T + 123_456_700, 0),
        ("2026-03-01T21:04:56.123456789+0530", T + 123_456_789, 330),
        ("2026-03-01T15:34:56", T, 0),  # no offset: UTC
        ("2026-03-01 15:34:56Z", T, 0),
        ("2026-03-01T15:34Z", T - 56 * NS, 0),
        ("2026-03-01T15:34:56,5Z", T + 500_000_000, 0),
        ("2026-03-01T15:34:56.1Z", T + 100_000_000, 0),
        (" 2026-03-01T15:34:56.0000001Z ", T + 100, 0),
    ],
)
def test_parse_is_exact(text: str, ns: int, offset: int) -> None:
    i = parse_instant(text)
    assert (i.ns, i.offset_minutes) == (ns, offset)


def test_seven_digits_survive_where_datetime_would_drop_one() -> None:
    a = parse_instant("2026-03-01T12:34:56.1234567-03:00")
    b = parse_instant("2026-03-01T12:34:56.1234568-03:00")
    assert a != b and a < b and b.ns - a.ns == 100
    assert a.to_datetime() == b.to_datetime()  # microseconds cannot tell them apart; Instant can
    assert a.isoformat() == "2026-03-01T12:34:56.1234567-03:00"
    assert b.isoformat(7) == "2026-03-01T12:34:56.1234568-03:00"


def test_equality_and_order_ignore_the_offset() -> None:
    utc = parse_instant("2026-03-01T15:34:56.1234567Z")
    local = parse_instant("2026-03-01T12:34:56.1234567-03:00")
    assert utc == local and hash(utc) == hash(local)
    assert sorted([parse_instant("2026-03-01T12:00:00-03:00"), parse_instant("2026-03-01T14:00:00Z")]) == [
        parse_instant("2026-03-01T14:00:00Z"),
        parse_instant("2026-03-01T12:00:00-03:00"),
    ]
    assert len({utc, local}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-03-01",
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T12:34:56.1234567890Z",
        "2026-03-01T12:34:56+3",
        "2026/03/01 12:34:56",
        "2026-03-01T12:34:56.Z",
    ],
)
def test_unreadable_timestamps_are_value_errors_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_instant(text)


def test_non_text_is_refused() -> None:
    with pytest.raises(ValueError, match="expected an ISO 8601 timestamp, got None"):
        parse_instant(None)  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(ValueError, match="expected an ISO 8601 timestamp, got 1700000000"):
        parse_instant(1700000000)  # type: ignore[arg-type]  # a wrong type on purpose


def test_isoformat_digits_and_filter_format() -> None:
    i = parse_instant("2026-03-01T12:34:56.9876543-03:00")
    assert i.isoformat(0) == "2026-03-01T12:34:56-03:00"
    assert i.isoformat(3) == "2026-03-01T12:34:56.987-03:00"  # truncated, never rounded up into the next ms
    assert i.isoformat(9) == "2026-03-01T12:34:56.987654300-03:00"
    assert i.to_utc().isoformat() == "2026-03-01T15:34:56.9876543+00:00"
    assert i.filter_format() == "2026-03-01T15:34:56.987Z"
    assert parse_instant("2026-12-31T23:59:59.9999999Z").filter_format() == "2026-12-31T23:59:59.999Z"


def test_floor_and_ceil_to_the_millisecond() -> None:
    i = parse_instant("2026-03-01T15:34:56.1234567Z")
    assert i.floor_ms().isoformat() == "2026-03-01T15:34:56.1230000+00:00"
    assert i.ceil_ms().isoformat() == "2026-03-01T15:34:56.1240000+00:00"
    whole = parse_instant("2026-03-01T15:34:56.123Z")
    assert whole.floor_ms() == whole == whole.ceil_ms()


def test_datetime_conversions() -> None:
    dt = datetime(2026, 3, 1, 12, 34, 56, 123456, tzinfo=timezone(timedelta(hours=-3)))
    i = Instant.from_datetime(dt)
    assert i.offset_minutes == -180 and i.to_datetime() == dt
    assert i.to_datetime().utcoffset() == timedelta(hours=-3)
    with pytest.raises(ValueError, match="naive"):
        Instant.from_datetime(datetime(2026, 3, 1))


def test_arithmetic_with_timedelta() -> None:
    i = parse_instant("2026-03-01T00:00:00.0000001Z")
    assert (i + timedelta(days=1)).isoformat() == "2026-03-02T00:00:00.0000001+00:00"
    assert (i - timedelta(microseconds=1)).ns == i.ns - 1_000
    assert (i + timedelta(hours=1)) - i == timedelta(hours=1)


def test_in_zone_keeps_the_instant_and_writes_the_local_offset() -> None:
    i = parse_instant("2026-03-01T02:30:00.1234567Z")
    sp = i.in_zone("America/Sao_Paulo")
    assert sp == i and sp.isoformat() == "2026-02-28T23:30:00.1234567-03:00"
    assert i.in_zone("Asia/Kolkata").isoformat() == "2026-03-01T08:00:00.1234567+05:30"
    ny_summer = parse_instant("2026-07-01T12:00:00Z").in_zone("America/New_York")
    assert ny_summer.offset_minutes == -240


def test_local_day_bounds() -> None:
    start, end = local_day_bounds(date(2026, 3, 1), date(2026, 3, 1), "America/Sao_Paulo")
    assert (start.isoformat(3), end.isoformat(3)) == ("2026-03-01T03:00:00.000+00:00", "2026-03-02T03:00:00.000+00:00")
    start, end = local_day_bounds(date(2026, 3, 1), date(2026, 3, 31))
    assert end - start == timedelta(days=31)
    # a day with a daylight-saving change has 23 hours
    start, end = local_day_bounds(date(2026, 3, 8), date(2026, 3, 8), "America/New_York")
    assert end - start == timedelta(hours=23)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "America/SaoPaulo"])
def test_unknown_zones_say_what_to_use(name: str) -> None:
    with pytest.raises(ValueError, match="IANA name such as America/Sao_Paulo"):
        zone(name)


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "right/UTC", "posix/America/Sao_Paulo"])
def test_files_of_the_zone_database_that_are_not_zones_are_refused(name: str) -> None:
    # each loads as a zone, but names this machine's zone, a rules file, a placeholder or a leap-second copy
    with pytest.raises(ValueError, match="not a time zone: use an IANA name such as America/Sao_Paulo"):
        zone(name)


# -- properties -----------------------------------------------------------------------------------------------------
LO, HI = parse_instant("1900-01-01T00:00:00Z").ns, parse_instant("2200-01-01T00:00:00Z").ns
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60)


@given(st.integers(LO, HI), OFFSETS)
def test_nine_digit_format_then_parse_is_exact(ns: int, offset: int) -> None:
    i = Instant(ns, offset)
    back = parse_instant(i.isoformat(9))
    assert back.ns == ns and back.offset_minutes == offset


@given(st.integers(LO // 100, HI // 100).map(lambda k: k * 100), OFFSETS)
def test_seven_digit_vtex_format_then_parse_is_exact(ns: int, offset: int) -> None:
    text = Instant(ns, offset).isoformat(7)
    assert len(text.split(".")[1].split("+")[0].split("-")[0]) == 7
    assert parse_instant(text).ns == ns


@given(st.lists(st.tuples(st.integers(LO, HI), OFFSETS), min_size=2, max_size=20))
def test_instants_order_by_the_exact_ns_whatever_the_offset(pairs: list[tuple[int, int]]) -> None:
    instants = [Instant(ns, off) for ns, off in pairs]
    assert [i.ns for i in sorted(instants)] == sorted(ns for ns, _ in pairs)
    texts = [i.isoformat(9) for i in instants]
    assert [i.ns for i in sorted(parse_instant(t) for t in texts)] == sorted(ns for ns, _ in pairs)


@given(st.integers(LO, HI))
def test_floor_ceil_bracket_the_instant(ns: int) -> None:
    i = Instant(ns)
    assert i.floor_ms().ns <= ns <= i.ceil_ms().ns
    assert i.ceil_ms().ns - i.floor_ms().ns in (0, 1_000_000)
    assert parse_instant(i.filter_format()) == i.floor_ms()


@pytest.mark.parametrize(
    "text", ["2026-03-01T12:00:00+99:99", "2026-03-01T12:00:00+24:00", "2026-03-01T12:00:00-03:60"]
)
def test_impossible_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="impossible UTC offset"):
        parse_instant(text)
