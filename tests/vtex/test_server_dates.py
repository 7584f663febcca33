"""The transport tells what time VTEX's clock said (the Date header of its answers), for the sync to decide what it
covered by VTEX's clock rather than this computer's."""

from __future__ import annotations

from refundkit.timeutil import parse_instant

from .fakes import json_response, make_transport

LIST = "/api/oms/pvt/orders"


def test_the_earliest_readable_date_while_watched_and_none_outside() -> None:
    dates = iter(
        [
            "Thu, 03 Dec 2026 12:00:05 GMT",
            "Thu, 03 Dec 2026 12:00:01 GMT",
            "not a date",  # a proxy's garbage is passed over
            None,  # no header at all
            "Thu, 03 Dec 2026 11:00:00 GMT",  # after the watch ended
        ]
    )

    def answer(_request):
        date = next(dates)
        return json_response(200, {"list": []}, {"Date": date} if date else {})

    t = make_transport(answer)
    with t.server_dates() as watch:
        assert watch.earliest_ns is None
        for _ in range(4):
            t.json("GET", LIST)
    t.json("GET", LIST)
    assert watch.earliest_ns == parse_instant("2026-12-03T12:00:01Z").ns
