"""Adaptive request pacing: as fast as the account allows, and no faster.

VTEX does not publish its limits (they vary by account, route and time of day) and answers an excess with
``429 Too Many Requests`` + ``Retry-After``. :class:`AdaptiveLimiter` paces requests with a token bucket whose rate it
learns:

* before the first 429 the rate grows by one request/second per success (it roughly doubles every second);
* on a 429 every sender pauses until ``Retry-After`` has passed (VTEX asks clients to stop, not to trickle), and the
  rate drops to what the server actually let through over the last seconds (slightly less), never below ``min_rate``;
* after that the rate creeps up by ``probe_step`` requests/second per second of successes, so a limit that rises
  is found again.

A concurrency cap bounds requests in flight. The limiter is thread-safe; ``clock`` and ``sleep`` are injectable.

Every limiter starts at VTEX's cautious 20 requests/second, whatever the host: a server on 127.0.0.1 may be a proxy
or a tunnel to a real account. Only refundkit's sandbox, which says so in every answer (``X-Refundkit-Sandbox``) from
a loopback address, gets :meth:`AdaptiveLimiter.start_fast` after its first answer: it shares no account with
anyone, and when it limits (its ``rate_limit``) it answers 429s, from which the limiter learns as it does from VTEX.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SANDBOX_RATE", "AdaptiveLimiter", "LimiterStats", "is_local_host"]

#: The rate :meth:`AdaptiveLimiter.start_fast` moves a limiter to: what the sandbox gets (VTEX's hosts start at 20).
SANDBOX_RATE = 500.0


@dataclass
class LimiterStats:
    rate: float
    in_flight: int
    throttled: int
    sent: int


class AdaptiveLimiter:
    def __init__(
        self,
        *,
        initial_rate: float = 20.0,
        min_rate: float = 0.5,
        max_rate: float = 1000.0,
        max_concurrency: int = 32,
        probe_step: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < min_rate <= initial_rate <= max_rate:
            raise ValueError("need 0 < min_rate <= initial_rate <= max_rate")
        self.rate = float(initial_rate)
        self.min_rate = float(min_rate)
        self.max_rate = float(max_rate)
        self.max_concurrency = int(max_concurrency)
        self.probe_step = float(probe_step)
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._tokens = min(self.rate, 1.0 + self.rate * 0.5)
        self._last = clock()
        self._paused_until = 0.0
        self._in_flight = 0
        self._slow_start = True
        self._successes: deque[float] = deque()
        self.throttled = 0
        self.sent = 0

    # -- pacing -------------------------------------------------------------------------------------------------
    def _refill(self, now: float) -> None:
        capacity = max(1.0, self.rate)
        self._tokens = min(capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> None:
        """Block until a request may be sent; the caller must call :meth:`release` once it has an answer."""
        with self._cond:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._in_flight >= self.max_concurrency:
                    wait = None
                else:
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        self._in_flight += 1
                        self.sent += 1
                        return
                    wait = (1.0 - self._tokens) / self.rate
                if wait is None:
                    self._cond.wait()
                else:
                    # release the lock while sleeping so other threads can report results
                    self._cond.wait(timeout=wait) if self._sleep is time.sleep else self._sleep_unlocked(wait)

    def _sleep_unlocked(self, wait: float) -> None:
        self._cond.release()
        try:
            self._sleep(wait)
        finally:
            self._cond.acquire()

    def release(self, outcome: str, retry_after: float | None = None) -> None:
        """Report how the request ended: ``"ok"``, ``"throttled"`` (429) or ``"error"`` (anything else)."""
        with self._cond:
            self._in_flight -= 1
            now = self._clock()
            if outcome == "ok":
                self._successes.append(now)
                while self._successes and self._successes[0] < now - 2.0:
                    self._successes.popleft()
                if self._slow_start:
                    self.rate = min(self.max_rate, self.rate + 1.0)
                else:
                    self.rate = min(self.max_rate, self.rate + self.probe_step / max(self.rate, 1.0))
            elif outcome == "throttled":
                self.throttled += 1
                pause = max(retry_after or 0.0, 0.0) or 1.0
                if now + pause > self._paused_until:
                    # one reduction per throttling episode: answers of requests already in flight do not compound it
                    first_of_episode = now >= self._paused_until
                    self._paused_until = now + pause
                    if first_of_episode:
                        self._reduce(now)
                self._tokens = 0.0
                self._last = max(now, self._last)
            self._cond.notify_all()

    def _reduce(self, now: float) -> None:
        while self._successes and self._successes[0] < now - 2.0:
            self._successes.popleft()
        if self._successes:
            window = max(now - self._successes[0], 0.5)
            observed = len(self._successes) / window
        else:
            observed = self.rate / 2
        self.rate = max(self.min_rate, min(self.rate * 0.9, observed * 0.95))
        self._slow_start = False
        self._successes.clear()

    def start_fast(self, rate: float = SANDBOX_RATE) -> None:
        """Continue as a limiter made with ``initial_rate=rate`` (at most ``max_rate``) would, its first burst
        included, while still in slow start; after a 429 the learned rate stands."""
        with self._cond:
            if self._slow_start and self.throttled == 0 and self.rate < rate:
                self._refill(self._clock())
                self.rate = min(float(rate), self.max_rate)
                self._tokens = max(self._tokens, min(self.rate, 1.0 + self.rate * 0.5))
                self._cond.notify_all()

    def stats(self) -> LimiterStats:
        with self._cond:
            return LimiterStats(rate=self.rate, in_flight=self._in_flight, throttled=self.throttled, sent=self.sent)


def is_local_host(host: str) -> bool:
    """Whether ``host`` (a hostname or IP address, without port) is this machine: ``localhost`` or a loopback IP."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
