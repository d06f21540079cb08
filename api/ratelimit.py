"""Rate limits: a fixed one-minute window per bucket (a key; a client address for requests
with a public key), counted in memory or, for several API processes, in Postgres. Over
the limit a request is answered 429 `rate_limited` with `Retry-After` (seconds to the next
window) before any work."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache

from api.errors import ApiError
from models import rate_counters
from models.db import Database
from models.settings import Settings

WINDOW_SECONDS = 60


class RateLimited(ApiError):
    def __init__(self, per: str, limit: int, retry_after: int) -> None:
        super().__init__(429, "rate_limited",
                         f"more than {limit} requests a minute from this {per}; retry in "
                         f"{retry_after} s",
                         {"per": per, "limit": limit, "window_seconds": WINDOW_SECONDS},
                         headers={"Retry-After": str(retry_after)})


class Counter(Protocol):
    shared: bool

    def hit(self, bucket: str, window: int) -> int:
        """Count one request in the bucket's window; the window's count so far."""
        ...


class MemoryCounter:
    """Counts of this process only (the embedded profile has one serving process)."""

    shared = False

    def __init__(self, buckets: int = 100_000) -> None:
        self._counts: TTLCache[tuple[str, int], int] = TTLCache(
            maxsize=buckets, ttl=2 * WINDOW_SECONDS)
        self._lock = threading.Lock()

    def hit(self, bucket: str, window: int) -> int:
        with self._lock:
            count = self._counts.get((bucket, window), 0) + 1
            self._counts[(bucket, window)] = count
        return count


class PostgresCounter:
    """Counts shared by every process on one Postgres (an UNLOGGED table); ended windows
    are dropped now and then by whichever process sees a new window first."""

    shared = True

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database
        self._swept = 0
        self._lock = threading.Lock()

    def hit(self, bucket: str, window: int) -> int:
        database = self._database()
        with self._lock:
            sweep, self._swept = self._swept < window, max(self._swept, window)
        if sweep:
            rate_counters.forget_before(database, window - 1)
        return rate_counters.hit(database, bucket, window)


class RateLimiter:
    def __init__(self, settings: Settings, counter: Counter,
                 clock: Callable[[], float] = time.time) -> None:
        self.per_address = settings.access.rate_limit_per_address
        self.per_key = settings.access.rate_limit_per_key
        self.counter = counter
        self._clock = clock

    @property
    def active(self) -> bool:
        return bool(self.per_address or self.per_key)

    def check(self, key_id: str, scope: str, address: str | None) -> None:
        """Count a request; RateLimited if it goes over a limit."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        by_address = bool(self.per_address and scope == "public" and address)
        if by_address and self.counter.hit(f"address:{address}", window) > self.per_address:
            raise RateLimited("client address", self.per_address, retry_after)
        if self.per_key and self.counter.hit(f"key:{key_id}", window) > self.per_key:
            raise RateLimited("key", self.per_key, retry_after)


def limiter_for(settings: Settings, database: Callable[[], Database]) -> RateLimiter:
    counter: Counter = (PostgresCounter(database) if settings.shared_rate_limits()
                        else MemoryCounter())
    return RateLimiter(settings, counter)
