"""Engine and sessions for the read model (SQLite by default, PostgreSQL in production). The schema comes from
the migrations (store/migrate.py), never from the models here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from store import tables  # noqa: F401  (registers the tables)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never block the worker's writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # Times are stored without a zone, in UTC (as on SQLite). The ORM's typed columns keep them so whatever the
    # server's zone, but a zone-aware value in hand-written SQL is converted to the session's zone: make that
    # UTC too (a county's server runs at +08:00).
    connect_args = {"options": "-c timezone=UTC"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
