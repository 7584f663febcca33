"""AdaptiveLimiter on a fake clock: learns the rate from 429s, recovers, pauses everyone, caps concurrency."""

from __future__ import annotations

import threading
import time

import pytest

from refundkit.vtex.limiter import SANDBOX_RATE, AdaptiveLimiter, is_local_host

from .fakes import FakeClock


def limiter(clock: FakeClock, **kw: object) -> AdaptiveLimiter:
    return AdaptiveLimiter(clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]  # the fake clock stands in for the real one


def serve(lim: AdaptiveLimiter, clock: FakeClock, rate: float, seconds: float) -> int:
    """Send at ``rate`` per second for ``seconds`` (each request answered ok at once); returns how many went."""
    n = 0
    end = clock() + seconds
    while clock() < end - 1e-9:
        lim.acquire()
        lim.release("ok")
        n += 1
        clock.advance(1.0 / rate)
    return n


def test_starts_at_the_initial_rate_and_never_exceeds_it() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=10.0, max_rate=10.0)
    for _ in range(40):
        lim.acquire()
        lim.release("ok")
    # 40 requests at 10/s with a small initial burst: at least ~3 s of waiting
    assert clock() >= 3.0
    assert clock() <= 4.1


def test_slow_start_grows_the_rate_until_the_first_429() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=5.0)
    serve(lim, clock, rate=20, seconds=1.0)
    assert lim.rate > 20.0


def test_a_429_drops_the_rate_to_about_what_got_through() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=20.0)
    sent = serve(lim, clock, rate=10, seconds=2.0)  # the server let 10/s through
    assert sent == 20 and lim.rate > 30  # slow start overshot
    lim.acquire()
    lim.release("throttled", retry_after=1.0)
    assert 9.0 <= lim.rate <= 10.5
    assert lim.throttled == 1


def test_without_history_a_429_halves_the_rate_and_respects_the_floor() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=8.0, min_rate=2.0)
    lim.acquire()
    lim.release("throttled", retry_after=0.0)
    assert 3.5 <= lim.rate <= 4.0  # about half
    for _ in range(5):
        clock.advance(5.0)  # separate episodes
        lim.acquire()
        lim.release("throttled", retry_after=0.0)
    assert lim.rate == 2.0


def test_429s_of_requests_already_in_flight_do_not_compound_the_cut() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=20.0, max_concurrency=16)
    serve(lim, clock, rate=10, seconds=2.0)
    for _ in range(8):
        lim.acquire()
    lim.release("throttled", retry_after=2.0)
    after_first = lim.rate
    for _ in range(7):
        clock.advance(0.01)
        lim.release("throttled", retry_after=2.0)
    assert lim.rate == after_first
    assert lim.throttled == 8


def test_the_rate_recovers_slowly_after_a_429() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=20.0, probe_step=2.0)
    serve(lim, clock, rate=10, seconds=2.0)
    lim.acquire()
    lim.release("throttled", retry_after=1.0)
    cut = lim.rate
    clock.advance(1.0)
    serve(lim, clock, rate=cut, seconds=5.0)
    # additive increase: about probe_step per second, not slow start's doubling
    assert cut + 5.0 <= lim.rate <= cut + 14.0
    assert lim.stats().throttled == 1


def test_retry_after_pauses_every_sender() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=100.0)
    lim.acquire()
    lim.release("throttled", retry_after=5.0)
    t0 = clock()
    starts = []
    for _ in range(3):  # three different senders asking right after the 429
        lim.acquire()
        starts.append(clock())
        lim.release("ok")
    assert all(s >= t0 + 5.0 for s in starts)
    assert sum(clock.sleeps) >= 5.0


def test_retry_after_pauses_senders_on_other_threads() -> None:
    lim = AdaptiveLimiter(initial_rate=1000.0, max_rate=1000.0)  # real clock: a short, real pause
    lim.acquire()
    lim.release("throttled", retry_after=0.3)
    started = time.monotonic()
    finished: list[float] = []

    def sender() -> None:
        lim.acquire()
        finished.append(time.monotonic() - started)
        lim.release("ok")

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(finished) == 4
    assert min(finished) >= 0.25


def test_a_longer_retry_after_extends_the_pause_a_shorter_one_does_not_shorten_it() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=100.0, max_concurrency=4)
    lim.acquire()
    lim.acquire()
    lim.release("throttled", retry_after=3.0)
    lim.release("throttled", retry_after=1.0)
    lim.acquire()
    assert clock() >= 3.0
    lim.release("ok")
    lim.acquire()
    lim.release("throttled", retry_after=2.0)
    t1 = clock()
    lim.acquire()
    assert clock() >= t1 + 2.0


def test_concurrency_is_capped() -> None:
    lim = AdaptiveLimiter(initial_rate=1000.0, max_rate=1000.0, max_concurrency=2)
    lim.acquire()
    lim.acquire()
    got_in = threading.Event()

    def third() -> None:
        lim.acquire()
        got_in.set()

    t = threading.Thread(target=third)
    t.start()
    try:
        assert not got_in.wait(0.2), "a third request went out with two in flight"
        assert lim.stats().in_flight == 2
        lim.release("ok")
        assert got_in.wait(2.0)
        assert lim.stats().in_flight == 2
    finally:
        t.join(2)
        lim.release("ok")
        lim.release("ok")
    assert lim.stats().in_flight == 0


def test_errors_neither_raise_nor_cut_the_rate_but_free_the_slot() -> None:
    clock = FakeClock()
    lim = limiter(clock, initial_rate=10.0, max_concurrency=1)
    lim.acquire()
    lim.release("error")
    assert lim.rate == 10.0
    lim.acquire()  # would block forever if the slot were not freed
    lim.release("ok")
    assert lim.sent == 2


@pytest.mark.parametrize(
    "kw", [{"min_rate": 0}, {"initial_rate": 0.1, "min_rate": 0.5}, {"initial_rate": 2000.0, "max_rate": 1000.0}]
)
def test_bad_settings_are_refused(kw: dict) -> None:
    with pytest.raises(ValueError, match="need 0 < min_rate <= initial_rate <= max_rate"):
        AdaptiveLimiter(**kw)


def test_many_threads_respect_the_rate() -> None:
    lim = AdaptiveLimiter(initial_rate=200.0, max_rate=200.0, max_concurrency=8)
    n = 162
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for _ in range(k):
            lim.acquire()
            with lock:
                stamps.append(time.monotonic())
            lim.release("ok")

    threads = [threading.Thread(target=worker, args=(n // 6,)) for _ in range(6)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(stamps) == n
    # a burst of 101 (half a second's worth plus one), then 200/s: the other 61 need about 0.3 s
    assert max(stamps) - t0 >= 0.25
    assert lim.stats().in_flight == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_hosts_are_this_machine(host: str) -> None:
    assert is_local_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "mystore.vtexcommercestable.com.br",
        "localhost.example.com",  # a name that merely starts with localhost is somebody else's server
        "10.0.0.5",
        "",
    ],
)
def test_other_hosts_are_not(host: str) -> None:
    assert not is_local_host(host)


def test_start_fast_moves_a_new_limiter_to_the_sandbox_rate_but_never_overrides_a_learned_rate() -> None:
    clock = FakeClock()
    fresh = limiter(clock)
    assert fresh.rate == 20.0  # VTEX's cautious start, for every host
    fresh.start_fast()
    assert fresh.rate == SANDBOX_RATE
    began = clock()
    for _ in range(200):  # within the first burst of a limiter made at that rate: no wait
        fresh.acquire()
        fresh.release("ok")
    assert clock() - began < 0.05

    throttled = limiter(clock)
    throttled.acquire()
    throttled.release("throttled", retry_after=1.0)
    learned = throttled.rate
    throttled.start_fast()
    assert throttled.rate == learned < 20.0
