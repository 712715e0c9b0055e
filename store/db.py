"""Engine and sessions for the read model (SQLite by default, PostgreSQL in production). The schema comes from
the migrations (store/migrate.py), never from the models here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from store import tables  # noqa: F401  (registers the tables)
from store.files import make_private, private_dir


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30.0) -> Engine:
    """The engine with a bounded pool: a burst of requests waits up to `pool_timeout` for a connection, then gets
    sqlalchemy's TimeoutError, which the API answers 503 with Retry-After (api/errors.py)."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        memory = path in ("", ":memory:") or "mode=memory" in url  # one shared connection: no pool sizes
        if not memory:
            private_dir(Path(path).parent)
        args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=args, **({} if memory else pool))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never block the worker's writes
            if not memory:  # before the WAL files exist: SQLite gives them the database file's mode
                for suffix in ("", "-wal", "-shm"):
                    make_private(Path(path + suffix))
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
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)


@lru_cache
def engine_for(url: str, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30.0) -> Engine:
    return make_engine(url, pool_size, max_overflow, pool_timeout)


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
