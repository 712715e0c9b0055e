"""Engine and sessions for the read model (SQLite by default, PostgreSQL in production)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

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


def create_tables(engine: Engine) -> None:
    """Create missing tables, add missing nullable columns to existing ones, and fill derived tables.

    There are no schema migrations yet (create_all never alters a table): `add_missing_columns` is the one
    explicit upgrade step, enough for columns that may be NULL in old rows (issue 3's staff profile)."""
    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine)
    from store import workload
    workload.backfill(engine)
    from store import chain
    chain.seal_legacy(engine)  # issue 5: chain the case events written before the hash columns existed


def add_missing_columns(engine: Engine) -> list[str]:
    """ALTER TABLE … ADD COLUMN for every nullable model column an existing table lacks (SQLite and
    PostgreSQL). A missing NOT NULL column is an error: it needs a real migration. Returns what was added."""
    added: list[str] = []
    existing = set(inspect(engine).get_table_names())
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing:
                continue
            have = {c["name"] for c in inspect(conn).get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"{table.name}.{column.name} is NOT NULL and missing: it needs a migration")
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}"))
                added.append(f"{table.name}.{column.name}")
    return added


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
