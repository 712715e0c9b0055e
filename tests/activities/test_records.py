"""The record activity writes a step's events and the notifications they call for in one transaction: both or
neither, and a retry of a write that already landed adds nothing — no event twice, nobody told twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from activities.notifications import Notifier
from activities.records import CaseRecorder
from domain.models import Audience, CaseEvent, CaseIntake, CaseRecord, CaseState, NotificationRequest
from domain.taxonomy import get_taxonomy
from store.db import session
from store.tables import CaseEventRow, Notification, NotificationDelivery
from tests.conftest import fast_levels
from tests.workflows.helpers import start_case, until


def counts(engine, case_id: str) -> tuple[int, int, int]:
    with session(engine) as db:
        return tuple(
            db.exec(select(func.count()).select_from(table).where(table.case_id == case_id)).one()
            for table in (CaseEventRow, Notification, NotificationDelivery)
        )


async def an_urge(skipping_env, task_queue, cases) -> CaseRecord:
    """A supervisor's urge on a teamed case, as the workflow would hand it to the record activity."""
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    seq = st.next_seq
    event = CaseEvent(seq=seq, at=datetime.now(UTC), type="urged", actor="supervisor", detail={"note": "请加快"})
    notice = NotificationRequest(
        key=f"{st.case_id}:{seq}:0",
        case_id=st.case_id,
        case_no=st.case_no,
        kind="urged",
        params={"note": "请加快", "count": 1},
        audience=Audience(usernames=[st.handler.username]),
    )
    return CaseRecord(
        case_id=st.case_id, events=[event], state=st.model_copy(update={"next_seq": seq + 1}), notices=[notice]
    )


async def test_events_and_their_notifications_land_together_once(skipping_env, worker, task_queue, engine, cases):
    record = await an_urge(skipping_env, task_queue, cases)
    events, inbox, outbox = counts(engine, record.case_id)
    recorder = CaseRecorder(engine, notifier=Notifier(engine, get_taxonomy(), channels=("webhook",)))
    assert recorder.record_case_events(record) == 1
    assert counts(engine, record.case_id) == (events + 1, inbox + 1, outbox + 1)
    with session(engine) as db:
        note = db.exec(select(Notification).where(Notification.key == record.notices[0].key)).one()
    assert note.recipient == "renshe.mediator" and "催办" in note.text and "请加快" in note.text

    # The activity retried after its first attempt committed (a worker killed before it could report).
    assert recorder.record_case_events(record) == 0
    assert counts(engine, record.case_id) == (events + 1, inbox + 1, outbox + 1)


async def test_a_failed_notification_leaves_the_event_unrecorded_for_the_retry(
    skipping_env, worker, task_queue, engine, cases, monkeypatch
):
    record = await an_urge(skipping_env, task_queue, cases)
    before = counts(engine, record.case_id)
    notifier = Notifier(engine, get_taxonomy())

    def broken(db, req):
        raise RuntimeError("the database went away mid-write")

    monkeypatch.setattr(notifier, "queue", broken)
    with pytest.raises(RuntimeError):
        CaseRecorder(engine, notifier=notifier).record_case_events(record)
    assert counts(engine, record.case_id) == before

    monkeypatch.undo()
    assert CaseRecorder(engine, notifier=notifier).record_case_events(record) == 1
    assert counts(engine, record.case_id)[:2] == (before[0] + 1, before[1] + 1)


def test_a_recorder_without_a_notifier_refuses_a_record_with_notices(engine):
    state = CaseState(
        case_id="c1",
        case_no="T-1",
        received_at=datetime.now(UTC),
        intake_by="citizen",
        intake=CaseIntake(
            description="邻居占道堆放杂物", citizen_name="张三", citizen_phone="13900000000", channel="web"
        ),
        levels=fast_levels(),
    )
    notice = NotificationRequest(key="c1:1:0", case_id="c1", case_no="T-1", kind="urged", audience=Audience())
    with pytest.raises(ValueError, match="Notifier"):
        CaseRecorder(engine).record_case_events(CaseRecord(case_id="c1", events=[], state=state, notices=[notice]))
