"""`wuhuan db upgrade | current` through the installed console script, and what a worker does on a database that
nobody has upgraded: it exits non-zero and says to run `wuhuan db upgrade`, without touching the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from store.db import make_engine
from store.migrate import head_revision
from tests.store.legacy_schema import create_legacy_tables

WUHUAN = Path(sys.executable).parent / "wuhuan"


def wuhuan(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        WUHUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}",
        WUHUAN_DATA_DIR=str(tmp_path / "data"),
        WUHUAN_TEMPORAL_ADDRESS="127.0.0.1:1",
    )  # a worker that got past the schema check would fail here
    return subprocess.run([str(WUHUAN), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def test_upgrade_and_current(tmp_path):
    head = head_revision()
    out = wuhuan(tmp_path, "db", "current", "--check")
    assert out.returncode == 1 and "revision none" in out.stdout and "no tables yet" in out.stdout
    out = wuhuan(tmp_path, "db", "upgrade")
    assert out.returncode == 0, out.stderr
    assert f"upgraded an empty database → {head}" in out.stdout
    out = wuhuan(tmp_path, "db", "current", "--check")
    assert out.returncode == 0 and f"revision {head} (head)" in out.stdout
    out = wuhuan(tmp_path, "db", "upgrade")
    assert out.returncode == 0 and f"already at {head} (head)" in out.stdout


def test_upgrade_adopts_a_database_made_before_migrations(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    create_legacy_tables(engine)
    engine.dispose()
    out = wuhuan(tmp_path, "db", "upgrade")
    assert out.returncode == 0, out.stderr
    assert "adopted a database made before migrations" in out.stdout and f"now at {head_revision()}" in out.stdout


def test_a_worker_refuses_a_database_not_at_head_and_leaves_it_alone(tmp_path):
    out = wuhuan(tmp_path, "worker")
    assert out.returncode == 1
    assert "worker not started" in out.stderr and "run `wuhuan db upgrade`" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    assert inspect(engine).get_table_names() == []
    engine.dispose()
