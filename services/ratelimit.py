"""A small in-process sliding-window rate limiter ("10/minute" as in docs/http-api.md).

Per API process: with N replicas behind a balancer a client gets at most N times the limit, which is enough
to stop a script hammering intake or guessing tracking codes."""

from __future__ import annotations

import re
import threading
import time
from collections import deque

from services.errors import Refusal

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse(rate: str) -> tuple[int, float]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*", rate or "")
    if not m:
        raise ValueError(f"bad rate limit: {rate!r} (expected e.g. 10/minute)")
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else 1) * UNITS[m.group(3)]


class RateLimiter:
    def __init__(self, max_keys: int = 100_000):
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def check(self, key: str, rate: str) -> None:
        """Count one request; 429 when the key is over its rate."""
        limit, window = parse(rate)
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._prune(now, window)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                retry = max(1, int(hits[0] + window - now) + 1)
                raise Refusal(429, "too_many_requests", "请求过于频繁，请稍后再试", headers={"Retry-After": str(retry)})
            hits.append(now)

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - window]:
            del self._hits[key]
