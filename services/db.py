"""Read-model work from async services: SQL runs in a worker thread with its own session, never on the event
loop, so one slow query does not hold up every other request of the process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.db import session

T = TypeVar("T")


def run_sync(engine: Engine, work: Callable[[Session], T]) -> T:
    with session(engine) as db:
        return work(db)


async def run(engine: Engine, work: Callable[[Session], T]) -> T:
    """`work(db)` in a thread, with a session that is closed afterwards."""
    return await asyncio.to_thread(run_sync, engine, work)
