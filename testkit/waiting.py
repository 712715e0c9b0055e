"""Waiting on a condition instead of sleeping: every test that waits for the system polls through here (directly,
or through testkit.processes.wait_for while real processes start)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def poll(
    check: Callable[[], Awaitable[T] | T],
    what: str = "the condition",
    timeout: float = 30.0,
    every: float = 0.05,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `check` (sync or async) until it returns something truthy and return that; fail after `timeout`
    seconds saying `what` and the last value seen. Exceptions of the `tolerate` kinds count as 'not yet'."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            last = result
            if result:
                return result
        except tolerate as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")
        await asyncio.sleep(every)
