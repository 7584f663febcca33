"""The VTEX client against the sandbox over real loopback sockets: listing past the cap, shared timestamps, 429
storms, random 5xx, a hung request, concurrent gets, notes, and the Master Data round trip. Nothing may move money
(checked on every sandbox's way out)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest

from refundkit.errors import NetworkError, NotFound
from refundkit.sandbox import FaultRule
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import ManualClock
from refundkit.timeutil import Instant, local_day_bounds
from refundkit.vtex import RetryPolicy
from refundkit.vtex.limiter import SANDBOX_RATE

from .conftest import JUNE, fast_pacing, sandbox_client

pytestmark = pytest.mark.e2e


def store_ids(sb, start: Instant, end: Instant) -> list[str]:
    return [o.order_id for o in sb.store.orders if start.ns <= o.created.ns < end.ns]


def assert_listed_exactly(result: list, sb, start: Instant, end: Instant) -> None:
    ids = [o.order_id for o in result]
    assert not [k for k, v in Counter(ids).items() if v > 1], "an order came back twice"
    assert ids == store_ids(sb, start, end)  # same set, same order (creation time, then id)
    assert sb.money_moving_calls == []


def test_a_month_with_the_flash_sale_day_is_listed_exactly_once(june) -> None:
    sb, _srv, client = june
    flash = sb.store.flash_sale_day
    day_start, day_end = local_day_bounds(flash, flash)
    assert len(store_ids(sb, day_start, day_end)) > 3000  # more than one filter can page through
    start, end = local_day_bounds(date(2026, 6, 1), date(2026, 6, 30))
    result = client.orders.list(start, end)
    assert len(result) == len(sb.store.orders)
    assert_listed_exactly(result, sb, start, end)
    pages = [int(r.query.get("page", 1)) for r in sb.requests if r.path == "/api/oms/pvt/orders"]
    assert max(pages) <= 30 and all(r.status == 200 for r in sb.requests)
    # the money in the list is the store's, in integer cents
    by_id = {o.order_id: o for o in sb.store.orders}
    assert all(o.total.minor == by_id[o.order_id].total_cents for o in result)


def test_groups_sharing_one_instant_are_kept_whole_by_the_range_they_belong_to(june) -> None:
    sb, _srv, client = june
    midnight, shared = sb.store.midnight_instant, sb.store.shared_instant
    groups = Counter(o.created.ns for o in sb.store.orders)
    assert groups[midnight.ns] == 40 and groups[shared.ns] == 25
    day = timedelta(days=1)
    before = client.orders.list(midnight - day, midnight)
    after = client.orders.list(midnight, midnight + day)
    assert_listed_exactly(before, sb, midnight - day, midnight)
    assert_listed_exactly(after, sb, midnight, midnight + day)
    assert sum(o.created_at == midnight for o in after) == 40
    assert not any(o.created_at == midnight for o in before)
    # a bound that is not a whole millisecond: the group at .4159267 starts the second range
    left = client.orders.list(shared - timedelta(hours=1), shared)
    right = client.orders.list(shared, shared + timedelta(hours=1))
    assert_listed_exactly(left, sb, shared - timedelta(hours=1), shared)
    assert_listed_exactly(right, sb, shared, shared + timedelta(hours=1))
    assert sum(o.created_at == shared for o in right) == 25


def test_a_429_storm_slows_the_client_down_but_loses_nothing() -> None:
    # the account allows 10 calls/s; a window's pages go out 16 at a time, so the first burst is throttled
    with sandbox_client(
        orders=0, flash_sale_orders=3100, start="2026-06-14", end="2026-06-16", seed=3, rate_limit=10
    ) as (sb, _srv, client):
        start, end = local_day_bounds(date(2026, 6, 14), date(2026, 6, 16))
        # the default limiter: the sandbox's first answer gives it the fast start, far above this account's limit,
        # so the first burst is throttled and the limiter learns the limit from the 429s
        result = client.orders.list(start, end)
        assert_listed_exactly(result, sb, start, end)
        limiter = client.transport.limiter()
        throttled = [r for r in sb.requests if r.status == 429]
        assert throttled and limiter.throttled == len(throttled)
        assert limiter.rate < SANDBOX_RATE / 10


def test_random_server_errors_and_latency_lose_nothing(june) -> None:
    sb, _srv, client = june
    sb.config.error_rate = 0.2
    sb.config.latency_ms = 5
    start, end = local_day_bounds(date(2026, 6, 1), date(2026, 6, 30))
    result = client.orders.list(start, end)
    assert_listed_exactly(result, sb, start, end)
    statuses = Counter(r.status for r in sb.requests)
    assert sum(statuses[s] for s in (500, 502, 503, 504)) > 0
    ids = [o.order_id for o in sb.store.orders[::97]]
    got = client.orders.get_many(ids)
    assert set(got) == set(ids)


def test_a_hung_request_times_out_and_is_retried() -> None:
    options = {"timeout": 0.3, **fast_pacing()}
    with sandbox_client(client_options=options, **JUNE) as (sb, _srv, client):
        sb.faults.add(FaultRule("GET", r"^/api/oms/pvt/orders$", status=None, after_write=True, delay_s=3.0))
        sb.faults.add(FaultRule("GET", r"^/api/oms/pvt/orders/[^/]+$", status=None, after_write=True, delay_s=3.0))
        started = time.monotonic()
        start, end = local_day_bounds(date(2026, 6, 1), date(2026, 6, 9))
        result = client.orders.list(start, end)
        assert_listed_exactly(result, sb, start, end)
        order = client.orders.get(result[0].order_id)
        assert order.order_id == result[0].order_id
        assert time.monotonic() - started < 5.5  # waited for neither hung answer (3 s each)
        assert len(sb.faults) == 0
    # the sandbox records a request when it has answered it; the hung ones end when the server stops
    gets = [r for r in sb.requests if r.path == f"/api/oms/pvt/orders/{order.order_id}"]
    assert len(gets) == 2


def test_a_hung_note_post_is_not_repeated_and_create_once_finds_it() -> None:
    options = {"timeout": 0.3, **fast_pacing()}
    with sandbox_client(client_options=options, **JUNE) as (sb, _srv, client):
        oid = sb.store.orders[0].order_id
        sb.faults.add(FaultRule("POST", r"^/api/do/notes$", status=None, after_write=True, delay_s=3.0))
        note, created = client.notes.create_once(oid, "offline refund RF-123 of BRL 10.00", "RF-123")
        assert created is False  # the lost answer's note was found instead of posting a second one
        assert "RF-123" in note.description
        assert len(client.notes.list(oid)) == 1
    posts = [r for r in sb.requests if r.method == "POST"]
    assert len(posts) == 1


class CountingTransport(httpx.HTTPTransport):
    """The real network transport, counting requests in flight."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.in_flight = self.most = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return super().handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_get_many_fetches_concurrently_and_matches_the_store() -> None:
    counting = CountingTransport()
    with sandbox_client(client_options={"http_transport": counting, **fast_pacing()}, latency_ms=100, **JUNE) as (
        sb,
        _srv,
        client,
    ):
        picks = sb.store.orders[::40][:32]
        got = client.orders.get_many([o.order_id for o in picks])
        assert counting.most >= 8  # several gets were waiting on VTEX at once
        assert list(got) == [o.order_id for o in picks]
        sb.config.latency_ms = 0
        for summary in picks:
            order = got[summary.order_id]
            assert order.total.minor == summary.total_cents
            assert order.native_refunded.minor == summary.refunded_cents
            assert order.created_at == summary.created
            assert order.status == summary.status
        with pytest.raises(NotFound):
            client.orders.get_many([picks[0].order_id, "9999999999999-01"])
        assert set(client.orders.get_many([picks[0].order_id, "9999999999999-01"], missing="skip")) == {
            picks[0].order_id
        }


def test_return_invoices_in_the_store_are_native_refunds(june) -> None:
    sb, _srv, client = june
    refunded = [o for o in sb.store.orders if o.input_invoices][:10]
    assert refunded
    got = client.orders.get_many([o.order_id for o in refunded])
    for o in refunded:
        assert got[o.order_id].native_refunded.minor == o.refunded_cents
        assert len(got[o.order_id].return_invoices) == len(o.input_invoices)


def test_notes_create_and_list(june) -> None:
    sb, _srv, client = june
    oid = sb.store.orders[5].order_id
    texts = [f"offline refund RF-{k} recorded" for k in range(3)]
    made = [client.notes.create(oid, t) for t in texts]
    assert all(n.order_id == oid for n in made)
    listed = client.notes.list(oid)
    assert sorted(n.description for n in listed) == sorted(texts)
    assert {n.note_id for n in listed} == {n.note_id for n in made}
    again, created = client.notes.create_once(oid, "offline refund RF-1 recorded", "RF-1")
    assert created is False and again.description == texts[1]
    assert client.notes.list(sb.store.orders[6].order_id) == []


def test_master_data_round_trip_with_search_lag() -> None:
    clock = ManualClock()  # time passes only when the test says so: the lag is exact, whatever the machine's load
    lag = 2.0
    with sandbox_client(client_options=fast_pacing(), clock=clock, **{**JUNE, "search_lag_s": lag}) as june:
        _master_data_round_trip(clock, lag, *june)


def _master_data_round_trip(clock: ManualClock, lag: float, sb, _srv, client) -> None:  # type: ignore[no-untyped-def]  # fixtures stay untyped in tests
    md = client.masterdata
    entity = "refundkitTest"
    schema = {
        "properties": {"orderId": {"type": "string"}, "amount": {"type": "integer"}, "source": {"type": "string"}},
        "v-indexed": ["orderId", "source"],
    }
    md.save_schema(entity, "t1", schema)  # a _where is always sent with its _schema
    docs = {f"rf-{k:03d}": {"orderId": f"{k}-01", "amount": 1000 + k, "source": "pix"} for k in range(12)}
    for doc_id, doc in docs.items():
        assert md.put(entity, doc_id, doc, schema="t1") == 204
    # by id: strongly consistent, at once
    first = md.get(entity, "rf-000")
    assert first is not None and first["amount"] == 1000 and first["id"] == "rf-000"
    assert md.get(entity, "rf-999") is None
    # search and scroll: not yet
    clock.advance(lag - 0.01)
    searched, scrolled = list(md.search(entity, where="source=pix", schema="t1")), list(md.scroll(entity))
    assert searched == [] and scrolled == []
    # an update is visible by id at once, in search only later
    clock.advance(0.02)  # the first writes are searchable now
    assert md.put(entity, "rf-001", {**docs["rf-001"], "amount": 5}, schema="t1") == 204
    assert md.get(entity, "rf-001")["amount"] == 5  # type: ignore[index]  # the document was just written
    assert md.get(entity, "rf-001")["source"] == "pix"  # type: ignore[index]  # the whole document was written
    stale = {d["id"]: d for d in md.search(entity)}
    assert stale["rf-001"]["amount"] == 1001  # search still shows the version before the update

    def caught_up() -> list[dict] | None:
        rows = list(md.search(entity, where="source=pix", sort="createdIn ASC", schema="t1"))
        amounts = {d["id"]: d["amount"] for d in rows}
        return rows if len(rows) == len(docs) and amounts.get("rf-001") == 5 else None

    assert caught_up() is None
    clock.advance(lag)
    found = caught_up()
    assert found, "search did not catch up once the lag had passed"
    assert [d["id"] for d in found] == sorted(docs)  # sorted by createdIn: the order they were written
    scrolled = list(md.scroll(entity, size=5))
    assert sorted(d["id"] for d in scrolled) == sorted(docs) and len(scrolled) == 12
    assert sb.deletes == []


def test_search_pages_through_more_than_one_page(june) -> None:
    sb, _srv, client = june
    md = client.masterdata
    for k in range(230):
        md.put("refundkitPaging", f"d{k:04d}", {"n": k})
    rows = list(md.search("refundkitPaging", sort="n ASC"))
    assert [r["n"] for r in rows] == list(range(230))
    ranges = [r for r in sb.requests if r.path.endswith("/search")]
    assert len(ranges) == 3


def test_scrolls_that_find_nothing_give_their_slot_back(june) -> None:
    """An account has about 10 live scrolls; a report that scrolls an empty range must not use one up for 20 min."""
    sb, _srv, client = june
    md = client.masterdata
    md.save_schema("refundkitScrollEmpty", "v1", {"properties": {"n": {"type": "integer"}}, "v-indexed": ["n"]})
    md.put("refundkitScrollEmpty", "d1", {"n": 1})
    for _ in range(3 * sb.config.max_scrolls):  # without giving slots back, the 11th would answer 429
        assert list(md.scroll("refundkitScrollEmpty", where="n=2", fields=["n"], schema="v1")) == []
    assert [d["n"] for d in md.scroll("refundkitScrollEmpty", fields=["n"])] == [1]
    assert sb.masterdata.scrolls == {}


def test_the_token_stays_out_of_logs_on_the_wire(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "refundkit"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        with sandbox_client(**JUNE) as (sb, _srv, client):
            sb.faults.add(FaultRule("GET", r"^/api/oms/pvt/orders/", status=500, times=2))
            client.orders.get(sb.store.orders[0].order_id)
            token = sb.config.app_token
    finally:
        for name in ("httpx", "httpcore", "refundkit"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert token not in caplog.text


def test_a_wrong_token_is_an_authentication_error_without_the_token() -> None:
    from refundkit.config import Secret
    from refundkit.errors import AuthenticationError
    from refundkit.vtex import VtexClient

    with sandbox_client(**JUNE) as (sb, _srv, client):
        bad = client.settings.with_(app_token=Secret("WRONG-TOKEN-abcdef123456"))
        with VtexClient(bad, retry=RetryPolicy.fast()) as other, pytest.raises(AuthenticationError) as err:
            other.orders.get(sb.store.orders[0].order_id)
    assert "VTEX_APP_TOKEN" in str(err.value) and "WRONG-TOKEN" not in str(err.value)


def test_an_unreachable_host_is_a_network_error() -> None:
    import socket

    from refundkit.vtex import VtexClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with sandbox_client(**JUNE) as (_sb, _srv, client):
        settings = client.settings.with_(base_url=f"http://127.0.0.1:{port}")
    with (
        VtexClient(settings, retry=RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01)) as other,
        pytest.raises(NetworkError, match="could not reach"),
    ):
        other.orders.get("1-01")


def test_list_can_keep_only_orders_with_return_invoices(tmp_path) -> None:
    from refundkit.config import load_settings
    from refundkit.sandbox import Sandbox, SandboxConfig
    from refundkit.timeutil import parse_instant
    from refundkit.vtex import RetryPolicy, VtexClient

    sb = Sandbox(SandboxConfig(orders=800, flash_sale_orders=0, start="2026-01-01", end="2026-03-31"))
    with sb.serve(port=0) as srv:
        cfg = sb.config
        env = {
            **sandbox_variables(srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(tmp_path),
        }
        with VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast()) as client:
            got = client.orders.list(
                parse_instant("2026-01-01T00:00:00Z"), parse_instant("2026-04-01T00:00:00Z"), has_return_invoice=True
            )
    want = {o.order_id for o in sb.store.orders if o.has_input_invoice}
    assert want and {o.order_id for o in got} == want
    assert sb.money_moving_calls == []
