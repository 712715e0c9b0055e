"""Personal data in Temporal: a case run by the real worker on the time-skipping server with the project's
encrypting data converter leaves no citizen name, phone or text in clear anywhere in its history, while the
API (which has the keys) still shows its business events and replays it, and the recorded plain histories
still replay through the same converter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.models import MediationAction
from tests.api.conftest import make_settings
from tests.conftest import BIN, encrypting_converter, signing_interceptors, worker_for
from tests.workflows.helpers import BAITA_LABOUR, RENSHE_MEDIATOR, start_case, until
from workflows.dispute_case import DisputeCase

NAME, PHONE = "王小明", "13800001234"
PARTICIPANT = "包工头李大发"
HISTORIES = sorted((Path(__file__).parents[1] / "replay" / "histories").glob("*.json"))


@pytest_asyncio.fixture
async def encrypted_env():
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=encrypting_converter(),
        interceptors=signing_interceptors(),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    from workflows.temporal_client import ensure_search_attributes

    await ensure_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def encrypted_worker(encrypted_env, engine, executor, task_queue):
    async with worker_for(encrypted_env, engine, executor, task_queue) as w:
        yield w


def history_bytes(history: WorkflowHistory) -> bytes:
    """Every event as Temporal stores it (payload data raw, not base64 as in JSON)."""
    return b"".join(e.SerializeToString() for e in history.events)


async def test_case_history_holds_no_personal_data_in_clear(
    encrypted_env, encrypted_worker, engine, task_queue, tmp_path
):
    cases: list = []
    try:
        handle = await start_case(encrypted_env, task_queue, cases)
        await until(handle, lambda s: bool(s.team))
        st = await handle.execute_update(
            DisputeCase.record_mediation,
            MediationAction(
                actor=RENSHE_MEDIATOR,
                summary=f"组织{NAME}与{PARTICIPANT}调解",
                held_at=datetime.now(UTC),
                participants=[NAME, PARTICIPANT],
            ),
        )
        assert st.status == "mediating"
        await until(handle, lambda s: s.status == "mediating")

        # Read the history as someone with access to Temporal but without the keys would.
        keyless = Client(
            encrypted_env.client.service_client,
            namespace=encrypted_env.client.namespace,
            data_converter=pydantic_data_converter,
        )
        raw = await keyless.get_workflow_handle(handle.id).fetch_history()
        blob = history_bytes(raw) + raw.to_json().encode()
        for secret in (PHONE, NAME, PARTICIPANT, BAITA_LABOUR[:12], BAITA_LABOUR[-12:]):
            assert secret.encode() not in blob, f"{secret} is in clear in the history"
        # Nor its masked form or its tail (a bare "1234" would turn up by chance in timestamps and ciphertext).
        for part in (PHONE[:3] + "****" + PHONE[-4:], "****" + PHONE[-4:], PHONE[-8:]):
            assert part.encode() not in blob, f"{part} is in clear in the history"
        assert b"binary/encrypted" in blob

        # The API holds the keys: the auditor sees the business events, and the case replays.
        from api.main import create_app

        settings = make_settings(tmp_path, task_queue)
        app = create_app(settings, client=encrypted_env.client, engine=engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            r = await http.post("/api/v1/auth/token", data={"username": "auditor", "password": "wuhuan-demo"})
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            case_id = handle.id.removeprefix("case-")
            r = await http.get(f"/api/v1/cases/{case_id}/history", headers=auth)
            assert r.status_code == 200, r.text
            types = [e["type"] for e in r.json()["events"]]
            assert {"assigned", "team_formed", "mediation_recorded"} <= set(types), types
            mediation = next(e for e in r.json()["events"] if e["type"] == "mediation_recorded")
            assert PARTICIPANT in str(mediation["detail"])  # decrypted for the auditor
            r = await http.post(f"/api/v1/cases/{case_id}/replay", headers=auth)
            assert r.status_code == 200 and r.json()["deterministic"] is True, r.text
    finally:
        for h in cases:
            try:
                await h.terminate("test finished")
            except Exception:
                pass


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_histories_recorded_before_encryption_still_replay(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    from worker import WORKFLOWS

    result = await Replayer(workflows=WORKFLOWS, data_converter=encrypting_converter()).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure
