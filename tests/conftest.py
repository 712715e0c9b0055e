"""Shared fixtures: the real Temporal test servers from PyPI packages (nothing is downloaded), a real
SQLite read model in a temp dir (its schema made by the migrations), the demo county, and a worker with the
project's real activities."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

BIN = Path(sys.executable).parent

os.environ.setdefault("WUHUAN_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("WUHUAN_PASSWORD_HASH_MEMORY_KIB", "1024")
# Every test process (and the worker processes of e2e tests) shares one trained triage model on disk.
os.environ.setdefault("WUHUAN_MODEL_DIR", str(Path(tempfile.gettempdir()) / "wuhuan-test-models"))
# Payload encryption (workflows/codec.py): one fixed test key for this process and the `wuhuan worker` / `wuhuan
# api` processes e2e tests start, so that their clients and the test's client read each other's payloads.
TEST_PAYLOAD_KEYS = "test1:" + "dGVzdC1vbmx5LXBheWxvYWQta2V5LTMyLWJ5dGVzISE="
os.environ.setdefault("WUHUAN_PAYLOAD_KEYS", TEST_PAYLOAD_KEYS)


def encrypting_converter(keys: str | None = None):
    """The project's data converter with the test key (what `wuhuan worker` and `wuhuan api` use in tests).
    The recorded replay histories pass `TEST_PAYLOAD_KEYS` itself: they must open whatever the shell sets."""
    from domain.settings import Settings
    from workflows.temporal_client import data_converter

    return data_converter(Settings(payload_keys=keys or os.environ["WUHUAN_PAYLOAD_KEYS"]))


def signing_interceptors(keys: str | None = None):
    """The signature every project client puts on updates and starts (workflows/signatures.py)."""
    from domain.settings import Settings
    from workflows.temporal_client import client_interceptors

    return client_interceptors(Settings(payload_keys=keys or os.environ["WUHUAN_PAYLOAD_KEYS"]))


def fast_levels(**over):
    from domain.models import ServiceLevels

    base = dict(
        routed_within=timedelta(minutes=3),
        assigned_within=timedelta(minutes=5),
        team_within=timedelta(hours=1),
        yellow_after=timedelta(days=7),
        red_after=timedelta(days=14),
        close_unrated_after=timedelta(days=7),
    )
    base.update(over)
    return ServiceLevels(**base)


@pytest_asyncio.fixture
async def skipping_env():
    """One time-skipping server per test: its clock is global, so cases of one test cannot hold up or
    advance another's."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=encrypting_converter(),
        interceptors=signing_interceptors(),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    from workflows.temporal_client import ensure_search_attributes

    await ensure_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture
def engine(tmp_path):
    from domain.taxonomy import get_taxonomy
    from store.db import make_engine
    from store.migrate import upgrade
    from store.seed import seed_demo

    eng = make_engine(f"sqlite:///{tmp_path / 'wuhuan.db'}")
    upgrade(eng)  # the schema as production gets it: through the migrations
    seed_demo(eng, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session (tests/postgres.py); .ci/run installs Debian's package."""
    from tests.postgres import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed here (Debian package postgresql; .ci/run installs it)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_engine(postgres):
    """A fresh PostgreSQL database with the demo county, like `engine` on SQLite."""
    from domain.taxonomy import get_taxonomy
    from store.db import make_engine
    from store.migrate import upgrade
    from store.seed import seed_demo

    eng = make_engine(postgres.new_database())
    upgrade(eng)
    seed_demo(eng, get_taxonomy(), "wuhuan-demo", time_cost=1, memory_kib=1024)
    yield eng
    eng.dispose()


@pytest.fixture
def gateway():
    """A real local HTTP server standing in for the webhook (testkit/gateway.py); accepts unless scripted."""
    from testkit.gateway import Gateway

    g = Gateway()
    yield g
    g.close()


@pytest.fixture(scope="session")
def executor():
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as ex:  # as many as the worker runs at once
        yield ex


@pytest.fixture
def task_queue():
    return f"tq-{uuid.uuid4().hex[:8]}"


def worker_for(env, engine, executor, task_queue, settings=None):
    """A worker made as `wuhuan worker` makes it (worker.build_worker: its workflow cache setting, the
    client's encrypting converter), on the test's own task queue."""
    from domain.settings import get_settings
    from domain.taxonomy import get_taxonomy
    from worker import build_worker

    return build_worker(env.client, settings or get_settings(), engine, get_taxonomy(), executor, task_queue)


@pytest_asyncio.fixture
async def worker(skipping_env, engine, executor, task_queue):
    async with worker_for(skipping_env, engine, executor, task_queue) as w:
        yield w


@pytest_asyncio.fixture
async def webhook_worker(skipping_env, engine, executor, task_queue, gateway):
    """The usual worker configured with the test gateway as its webhook: every message is queued for it too."""
    from domain.settings import Settings

    settings = Settings(notify_webhook_url=gateway.url)
    async with worker_for(skipping_env, engine, executor, task_queue, settings) as w:
        yield w


@pytest_asyncio.fixture
async def cases(skipping_env):
    """Handles of the workflows a test starts; terminated afterwards, because the time-skipping server's
    clock is shared and a left-over case with no worker would hold up the next test's time skips."""
    started = []
    yield started
    for handle in started:
        try:
            await handle.terminate("test finished")
        except Exception:
            pass
