"""The Temporal back door (issue 15, finding 5): whoever reaches Temporal's port without the project's client can
neither take a step under a made-up name nor start a case; a refused update leaves nothing in the history."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from domain.models import CITIZEN, Actor, CaseIntake, CaseStart, Role, UrgeAction
from domain.settings import Settings
from store.db import session
from store.tables import Case
from tests.conftest import encrypting_converter, fast_levels
from tests.workflows.helpers import SUPERVISOR, start_case, until
from workflows.dispute_case import DisputeCase, workflow_id
from workflows.signatures import HEADER, MAX_AGE, args_digest, check, sign, signing_keys
from workflows.temporal_client import step_keys

FORGED = Actor(username="forged", role=Role.supervisor)


def raw_client(env, converter=pydantic_data_converter) -> Client:
    """What `temporal workflow update execute` is: a client at the port without the project's interceptor."""
    return Client(env.client.service_client, namespace=env.client.namespace, data_converter=converter)


async def history_text(handle) -> tuple[list[int], bytes]:
    hist = await handle.fetch_history()
    return [e.event_type for e in hist.events], b"".join(e.SerializeToString() for e in hist.events)


def refused_as_unsigned(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, WorkflowUpdateFailedError | WorkflowFailureError) else err
    return isinstance(cause, ApplicationError) and cause.type == "UnsignedRequest"


async def test_a_forged_update_is_refused_and_leaves_no_trace(skipping_env, worker, task_queue, cases):
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.handler))
    before, _ = await history_text(h)

    # Plaintext, as the issue's `temporal workflow update execute --name urge` sent it; and with the payload
    # converter of the installation (an attacker holding a copy of the converter but not the client).
    for converter in (pydantic_data_converter, encrypting_converter()):
        forged = raw_client(skipping_env, converter).get_workflow_handle(h.id)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await forged.execute_update(DisputeCase.urge, UrgeAction(actor=FORGED, note="伪造督办"))
        assert refused_as_unsigned(err.value)

    types, raw = await history_text(h)
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED not in types[len(before) :]
    assert b"forged" not in raw and "伪造督办".encode() not in raw
    assert (await h.query(DisputeCase.state)).urge_count == 0

    # The project's own client still takes the step.
    await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note="请尽快处理"))
    assert (await until(h, lambda s: s.urge_count == 1)).urge_count == 1


async def test_a_signature_copied_from_the_history_cannot_carry_another_step(skipping_env, worker, task_queue, cases):
    """Headers are stored in the history in clear: reusing one with other arguments, or for another update id,
    is refused, since the signature names both."""
    h = await start_case(skipping_env, task_queue, cases)
    await until(h, lambda s: bool(s.handler))
    await h.execute_update(DisputeCase.urge, UrgeAction(actor=SUPERVISOR, note="第一次"), id="u-1")
    hist = await h.fetch_history()
    accepted = next(e for e in hist.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    stolen = accepted.workflow_execution_update_accepted_event_attributes.accepted_request.input.header.fields[HEADER]

    class Replaying:
        def intercept_client(self, next):
            from temporalio.client import OutboundInterceptor

            class Out(OutboundInterceptor):
                async def start_workflow_update(self, input):
                    input.headers = {**input.headers, HEADER: stolen}
                    return await super().start_workflow_update(input)

            return Out(next)

    thief = Client(
        skipping_env.client.service_client,
        namespace=skipping_env.client.namespace,
        data_converter=encrypting_converter(),
        interceptors=[Replaying()],
    ).get_workflow_handle(h.id)
    for update_id, action in (("u-1b", UrgeAction(actor=SUPERVISOR, note="第一次")), ("u-2", UrgeAction(actor=FORGED))):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await thief.execute_update(DisputeCase.urge, action, id=update_id)
        assert refused_as_unsigned(err.value)
    assert (await h.query(DisputeCase.state)).urge_count == 1


async def test_a_forged_start_fails_before_recording_anything(skipping_env, worker, task_queue, engine):
    case_id = uuid.uuid4().hex
    start = CaseStart(
        case_id=case_id,
        case_no=f"F-{case_id[:6]}",
        received_at=await skipping_env.get_current_time(),
        intake=CaseIntake(description="伪造的案件：某村拖欠工资", citizen_name="假人", citizen_phone="13800001234"),
        intake_by=CITIZEN,
        levels=fast_levels(),
    )
    handle = await raw_client(skipping_env).start_workflow(
        DisputeCase.run, start, id=workflow_id(case_id), task_queue=task_queue
    )
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert refused_as_unsigned(err.value)
    types, _ = await history_text(handle)
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in types
    with session(engine) as db:
        assert db.get(Case, case_id) is None


def test_signature_rules():
    keys = step_keys(Settings(payload_keys="k1:" + "A" * 43 + "="))
    digest = args_digest(pydantic_data_converter.payload_converter, [UrgeAction(actor=SUPERVISOR)])
    header = sign(keys[0], "update", "case-1", "u-1", "urge", digest)
    assert check(keys, header, "update", "case-1", "u-1", "urge", digest) is None
    assert check(keys, header, "update", "case-2", "u-1", "urge", digest) == "bad signature"
    assert check(keys, header, "update", "case-1", "u-1", "resolve", digest) == "bad signature"
    other = args_digest(pydantic_data_converter.payload_converter, [UrgeAction(actor=FORGED)])
    assert check(keys, header, "update", "case-1", "u-1", "urge", other) == "bad signature"
    assert check(keys, None, "update", "case-1", "u-1", "urge", digest) == "no signature"
    import json
    import time

    at = json.loads(header.data)["at"]
    assert check(keys, header, "update", "case-1", "u-1", "urge", digest, now=at + MAX_AGE + 1) == "signature expired"
    assert abs(at - time.time()) < 5
    # Rotation: a new first key signs, the old one still verifies.
    rotated = signing_keys([("k2", b"\x01" * 32)]) + keys
    assert check(rotated, header, "update", "case-1", "u-1", "urge", digest) is None
    assert check(signing_keys([("k1", b"\x02" * 32)]), header, "update", "case-1", "u-1", "urge", digest) == (
        "bad signature"
    )


def test_every_update_has_a_validator():
    """The worker checks signatures in the validator phase, which the SDK runs only for an update that has a
    validator: an update without one would be accepted unsigned."""
    from temporalio.workflow import _Definition

    from worker import WORKFLOWS

    for cls in WORKFLOWS:
        for name, update in _Definition.must_from_class(cls).updates.items():
            assert update.validator is not None, f"{cls.__name__}.{name} has no validator"
