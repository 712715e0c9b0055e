"""Write the read model: append a case's new events, upsert its row and queue the notifications the events
call for, in one transaction — so no event is recorded without its messages, nor a message sent for an event
that was not recorded.

Idempotent: events are keyed by (case_id, seq), notifications by (key, recipient), and the row is only replaced
by a snapshot at least as new as the one it holds, so a retry after a crash writes nothing twice and never
rolls the row back."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio import activity

from activities.notifications import Notifier
from domain import audit_chain, citizen_texts
from domain.case_flow import ENDED, OPEN
from domain.channels import SMS
from domain.clocks import SERVICE_CLOCKS
from domain.jurisdiction import member_units
from domain.models import CaseRecord, CaseState, CaseStatus
from store import chain, workload
from store.db import session
from store.outbox import queue_citizen_text
from store.tables import Case, CaseEventRow, MaterialRow, Staff, TaskForceRow, utcnow


def apply_snapshot(row: Case, s: CaseState) -> None:
    row.case_no, row.status, row.colour = s.case_no, s.status.value, s.colour.value
    row.category, row.unit, row.township = s.category, s.unit, s.township
    row.handler = s.handler.username if s.handler else None
    row.team = [m.username for m in s.team]
    row.member_units = member_units(s)
    row.description, row.address, row.channel = s.intake.description, s.intake.address, s.intake.channel
    row.citizen_name, row.citizen_phone = s.intake.citizen_name, s.intake.citizen_phone
    row.clocks = [c.model_dump(mode="json") for c in s.clocks]
    for name in SERVICE_CLOCKS:  # the board counts compliance from these columns (store/board.py)
        clock = s.clock(name)
        setattr(row, f"clock_{name}", clock.state if clock is not None else None)
    row.overdue = any(c.breached for c in s.clocks)
    row.received_at = s.received_at
    routed, assigned = s.clock("routed"), s.clock("assigned")
    row.routed_at = routed.met_at if routed and routed.met_at else row.routed_at
    row.assigned_at = assigned.met_at if assigned and assigned.met_at else row.assigned_at
    row.resolved_at = s.resolution.at if s.resolution else None
    row.resolution_days = (s.resolution.at - s.received_at).total_seconds() / 86400 if s.resolution else None
    row.outcome = s.resolution.outcome if s.resolution else None
    row.closed_at = s.closed_at
    row.rating = s.rating.score if s.rating else None
    row.review_requested_at = s.review.requested_at if s.review else None
    row.needs_manual_triage = s.status == CaseStatus.received and s.routing_attempted
    row.paused = s.paused
    row.paused_seconds = int(sum(((p.resumed_at or p.at) - p.at).total_seconds() for p in s.pauses))
    row.extensions_approved = sum(1 for e in s.extensions if e.status == "approved")
    row.extensions_refused = sum(1 for e in s.extensions if e.status == "refused")
    row.sent_back = len(s.sent_back)
    row.state = s.model_dump(mode="json")  # the case views are built from it (services/cases.py)
    row.last_seq = s.next_seq - 1
    row.updated_at = utcnow()


class CaseRecorder:
    def __init__(self, engine: Engine, hash_alg: str | None = None, notifier: Notifier | None = None):
        self.engine = engine
        self.hash_alg = hash_alg  # None: WUHUAN_AUDIT_HASH (read when the first event is written)
        self.notifier = notifier  # queues the record's notices; a record with notices needs one

    @activity.defn
    def record_case_events(self, record: CaseRecord) -> int:
        """Returns how many events were new (0 on a retry that already landed)."""
        s = record.state
        if record.notices and self.notifier is None:
            raise ValueError("this recorder cannot queue notifications: construct it with a Notifier")
        with session(self.engine) as db:
            seen = dict(
                db.exec(select(CaseEventRow.seq, CaseEventRow.hash).where(CaseEventRow.case_id == s.case_id)).all()
            )
            new = [e for e in record.events if e.seq not in seen]
            alg = (self.hash_alg or chain.default_alg()) if new else ""
            for e in new:  # each new row is chained to the case's previous one (domain/audit_chain.py)
                event_row = CaseEventRow(
                    case_id=s.case_id, seq=e.seq, at=e.at, type=e.type, actor=e.actor, detail=e.detail
                )
                seen[e.seq] = audit_chain.seal(event_row, chain.prev_hash_for(db, s.case_id, seen, e.seq, alg), alg)
                db.add(event_row)
            row = db.get(Case, s.case_id)
            if row is None:
                row = Case(
                    case_id=s.case_id,
                    case_no=s.case_no,
                    status=s.status.value,
                    colour=s.colour.value,
                    description="",
                    citizen_name="",
                    citizen_phone="",
                    channel="web",
                    received_at=s.received_at,
                )
                db.add(row)
            if s.next_seq - 1 >= row.last_seq:
                apply_snapshot(row, s)
                at = record.events[-1].at if record.events else s.received_at
                workload.sync(db, s.case_id, row.handler, row.team, s.status in OPEN, at)
            self._side_records(db, s, new)
            for notice in record.notices:
                self.notifier.queue(db, notice)
            self._citizen_texts(db, s, new)
            db.commit()
        return len(new)

    def _citizen_texts(self, db, s: CaseState, new_events) -> None:
        """The citizen's texts the new events call for (domain/citizen_texts.py), once per event: keyed by case
        and seq, and only events not recorded before reach here. None when texts are not configured or the
        citizen said no at intake."""
        if self.notifier is None or SMS not in self.notifier.personal or not citizen_texts.wants_texts(s.intake):
            return
        for e in new_events:
            handler = e.detail.get("handler") if e.type in ("assigned", "reassigned") else None
            name = db.exec(select(Staff.display_name).where(Staff.username == handler)).first() if handler else None
            found = citizen_texts.event_text(e, s, name, self.notifier.taxonomy)
            if found is not None:
                kind, text = found
                queue_citizen_text(db, f"{s.case_id}:{e.seq}", s.case_id, kind, text)

    @staticmethod
    def _side_records(db, s: CaseState, new_events) -> None:
        for e in new_events:
            if e.type == "material_added" and db.get(MaterialRow, e.detail["material_id"]) is None:
                m = next(m for m in s.materials if m.material_id == e.detail["material_id"])
                db.add(
                    MaterialRow(
                        material_id=m.material_id,
                        case_id=s.case_id,
                        filename=m.filename,
                        content_type=m.content_type,
                        size=m.size,
                        stored_name=m.stored_name,
                        note=m.note,
                        uploaded_by=e.actor,
                        uploaded_at=e.at,
                    )
                )
        if s.task_force is not None:
            tf = db.get(TaskForceRow, s.case_id)
            if tf is None:
                tf = TaskForceRow(case_id=s.case_id, started_at=s.task_force.started_at)
                db.add(tf)
            tf.led_by, tf.units = s.task_force.led_by, list(s.task_force.units)
            tf.consultations = len(s.task_force.consultations)
            tf.closed_at = s.resolution.at if s.resolution else (s.closed_at if s.status in ENDED else None)
            tf.members, tf.deadline = list(s.task_force.members), s.task_force.deadline
            tf.overdue_at = s.task_force.overdue_at
