"""The read model's schema, by Alembic migrations (store/migrations/versions/).

`upgrade(engine)` is the one way a database gets its tables: `wuhuan db upgrade`, `wuhuan dev`, `wuhuan
seed-demo`, deployment's one-shot migrate service and the tests' fixtures all call it. Workers and API servers
never change the schema; they only check it (`schema_problem`, `require_current`) and refuse to work on one that
is not at the head revision, because code and tables that disagree fail in ways far from the cause.

A database made before migrations existed (by `create_all`, with tables but no `alembic_version`) is adopted: the
baseline revision runs in its adopting mode, which creates only the tables that are missing and adds the nullable
columns older releases lacked; the database is stamped with the baseline and upgraded to head like any other; then
the derived data those releases kept up at every start is filled in (the caseload table from the cases, hash
chains over the events written before the chain existed). The whole upgrade is one transaction (on SQLite too),
so an upgrade that fails or is interrupted leaves the database as it was, and an interrupted adoption is simply
done again next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
UPGRADE_HINT = "run `wuhuan db upgrade`"
# Any constant will do: it keeps two upgrades started at once on PostgreSQL (say, two deploy jobs) in turn.
PG_LOCK_KEY = 0x77756875616E

log = logging.getLogger("wuhuan.migrate")


class SchemaNotCurrent(RuntimeError):
    """The database is not at the schema this code was written for."""


@dataclass(frozen=True)
class Upgraded:
    before: str | None  # the revision found (None: no alembic_version row)
    after: str
    adopted: bool  # the database had tables from before migrations and was brought to the baseline
    sealed: int = 0  # adoption: legacy events given their hash chain
    backfilled: int = 0  # adoption: caseload rows rebuilt from the cases

    def describe(self) -> str:
        if self.adopted:
            return (
                f"adopted a database made before migrations (tables brought to {BASELINE}, {self.backfilled} "
                f"caseload rows rebuilt, {self.sealed} events chained), now at {self.after}"
            )
        if self.before == self.after:
            return f"already at {self.after}" + (" (head)" if self.after == head_revision() else "")
        return f"upgraded {self.before or 'an empty database'} → {self.after}"


def alembic_config(connection: Connection | None = None, **attributes) -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini: the migrations ship inside the
    package and the database is whatever `connection` (or else WUHUAN_DATABASE_URL) points at."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes.update(attributes)
    return cfg


@lru_cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = scripts().get_current_head()
    assert head is not None, f"no migrations under {MIGRATIONS}"
    return head


def current_revision(conn: Connection | Engine) -> str | None:
    """The revision stamped in the database (None: never stamped, whether empty or made before migrations)."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return current_revision(c)
    return MigrationContext.configure(conn).get_current_revision()


def _legacy_tables(conn: Connection) -> bool:
    """Tables but no revision: a database made by create_all before migrations existed."""
    return bool(set(inspect(conn).get_table_names()) - {VERSION_TABLE})


def upgrade(engine: Engine, revision: str = "head") -> Upgraded:
    """Bring the database to `revision` (default: head), adopting it first if it predates migrations."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite opens a transaction only at the first write, so the DDL before it would commit statement
            # by statement; an explicit one makes the upgrade all or nothing, and IMMEDIATE holds off a second
            # upgrader until this one is done.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        before = current_revision(conn)
        adopt = before is None and _legacy_tables(conn)
        if adopt and revision not in ("head", head_revision()):
            # Adoption fills in derived data with today's models, which describe the head revision only.
            raise ValueError(f"a database made before migrations can only be upgraded to head, not to {revision}")
        if adopt:
            log.info("adopting a database made before migrations: bringing it to %s", BASELINE)
            command.upgrade(alembic_config(conn, adopt=True), BASELINE)
        command.upgrade(alembic_config(conn), revision)
        sealed = backfilled = 0
        if adopt:
            # Derived data the old releases filled in at every start. Done at head, with today's code and models,
            # and before the transaction commits the stamp: if anything here fails, the database stays unstamped
            # and the next upgrade adopts it again.
            from store import chain, workload

            backfilled = workload.backfill(conn)
            sealed = chain.seal_legacy(conn)
        after = current_revision(conn)
    assert after is not None
    return Upgraded(before=before, after=after, adopted=adopt, sealed=sealed, backfilled=backfilled)


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at the head revision, else what is wrong and what to do, for an operator."""
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
        legacy = current is None and _legacy_tables(conn)
    if current == head:
        return None
    if current is None and legacy:
        return f"the database has tables from before schema migrations and no revision: {UPGRADE_HINT}"
    if current is None:
        return f"the database has no tables yet: {UPGRADE_HINT}"
    try:
        known = scripts().get_revision(current) is not None
    except Exception:
        known = False
    if not known:
        return (
            f"the database is at schema revision {current}, which this release does not know (a newer "
            f"release upgraded it; this one needs {head}): run the newer release"
        )
    return f"the database is at schema revision {current}, this release needs {head}: {UPGRADE_HINT}"


def require_current(engine: Engine) -> None:
    problem = schema_problem(engine)
    if problem is not None:
        raise SchemaNotCurrent(problem)
