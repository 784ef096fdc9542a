"""Server-side admission limits: a token bucket per API key, open WebSockets per client address.

:class:`RateLimiter` gives every API key a bucket of ``burst`` tokens refilled at ``rate`` per
second; a request takes one. An empty bucket means the request is refused with
``errorType: ThrottlingException`` (HTTP 200, like every GraphQL error: the Amplify JS client
does not retry it, so a throttled burst is not multiplied by automatic retries, and the app sees
a clear error). Buckets of keys idle long enough to be full again are dropped, so memory is
bounded by the keys active in the last ``burst / rate`` seconds.

:class:`ConnectionLimiter` counts open realtime WebSockets per client address.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ampbase.errors import ThrottledError

__all__ = ["ConnectionLimiter", "RateLimiter", "throttled"]

_SWEEP_EVERY = 1024


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


def throttled(rate: float) -> ThrottledError:
    return ThrottledError(
        f"Rate exceeded: this API key may send {rate:g} requests per second. Retry after a short wait."
    )


class RateLimiter:
    """Token buckets keyed by a string (the API key). ``rate == 0`` disables limiting."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate < 0 or burst < 0:
            raise ValueError("rate and burst must not be negative")
        self.rate = rate
        self.burst = max(float(burst), 1.0)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._calls = 0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; ``False`` when it is empty."""
        if self.rate <= 0:
            return True
        now = self._clock()
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def retry_after(self, key: str) -> float:
        """Seconds until ``key``'s bucket holds a token again."""
        bucket = self._buckets.get(key)
        if bucket is None or self.rate <= 0:
            return 0.0
        return max(0.0, (1.0 - bucket.tokens) / self.rate)

    def _sweep(self, now: float) -> None:
        full_after = self.burst / self.rate
        stale = [k for k, b in self._buckets.items() if now - b.updated >= full_after]
        for key in stale:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class ConnectionLimiter:
    """Open connections per client address; ``limit == 0`` disables limiting."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        self.limit = limit
        self._open: dict[str, int] = {}

    def try_open(self, address: str) -> bool:
        count = self._open.get(address, 0)
        if self.limit and count >= self.limit:
            return False
        self._open[address] = count + 1
        return True

    def close(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)
