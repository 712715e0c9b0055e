"""The read model's SQLite files (and their directory) are their owner's alone (issue 15, finding 6)."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from store.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_and_its_wal_files_are_0600_in_a_0700_directory(tmp_path):
    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'wuhuan.db'}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT x FROM t")).scalar() == 1
            files = sorted(p.name for p in (tmp_path / "data").iterdir())
            assert files == ["wuhuan.db", "wuhuan.db-shm", "wuhuan.db-wal"]
            assert {p.name: mode(p) for p in (tmp_path / "data").iterdir()} == dict.fromkeys(files, 0o600)
        engine.dispose()
    finally:
        os.umask(old)
    assert mode(tmp_path / "data") == 0o700


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert mode(path) == 0o600
