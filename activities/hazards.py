"""Write a hazard's read model: append its new events, upsert its row and queue the notices the events call for,
in one transaction — the same recorder pattern as cases (activities/records.py). An `overdue` event also enrols
the people responsible in the next re-training class (回炉班) and, when the unit was overdue before within the
period, records a summons (约谈) for its leader. Idempotent: events are keyed by (hazard_id, seq), notices by
(key, recipient), enrolments and summonses by (hazard, deadline missed), and the row is replaced only by a state
at least as new."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity

from activities.notifications import Notifier
from domain import inspection
from domain.hazards import PINGAN_OFFICE, HazardRecord, HazardState, leaders_of
from domain.models import Audience, CaseEvent, NotificationRequest
from domain.taxonomy import Taxonomy
from domain.times import as_utc
from store import inspection as queries
from store.db import session
from store.tables import HazardEventRow, HazardRow, InspectionPhoto, RetrainingEnrolment, Summons, utcnow


def apply_hazard(row: HazardRow, h: HazardState, tx: Taxonomy) -> None:
    r = h.report
    township = tx.township(r.township)
    row.hazard_no, row.domain, row.township = r.hazard_no, r.domain, r.township
    row.district = township.district if township else None
    row.site, row.description, row.severity, row.unit = r.site, r.description, r.severity, r.unit
    row.responsible, row.measure, row.found_by, row.found_at = r.responsible, r.measure, r.found_by, r.found_at
    row.deadline, row.status, row.overdue, row.exposed_at = h.deadline, h.status.value, h.overdue, h.exposed_at
    row.submitted_at, row.struck_off_at, row.recheck_at = h.submitted_at, h.struck_off_at, h.recheck_at
    row.struck_off_on_time = h.struck_off_on_time
    row.closed_at, row.rejections, row.reopened = h.closed_at, h.rejections, h.reopened
    row.visit_id, row.rechecked_at = r.visit_id, h.rechecked_at
    row.recheck_due_at = h.recheck_at or (row.recheck_due_at if h.struck_off_at else None)
    row.state = h.model_dump(mode="json")
    row.last_seq, row.updated_at = h.next_seq - 1, utcnow()


class HazardRecorder:
    def __init__(self, engine: Engine, taxonomy: Taxonomy, notifier: Notifier, summons_within: timedelta):
        self.engine, self.taxonomy, self.notifier = engine, taxonomy, notifier
        self.summons_within = summons_within

    @activity.defn
    def record_hazard_events(self, record: HazardRecord) -> int:
        """Returns how many events were new (0 on a retry that already landed)."""
        h = record.state
        with session(self.engine) as db:
            have = set(db.exec(select(HazardEventRow.seq).where(HazardEventRow.hazard_id == record.hazard_id)).all())
            new = [e for e in record.events if e.seq not in have]
            for e in new:
                if e.type == "overdue":
                    self._consequences(db, h, e)
            for e in new:
                db.add(
                    HazardEventRow(
                        hazard_id=record.hazard_id, seq=e.seq, at=e.at, type=e.type, actor=e.actor, detail=e.detail
                    )
                )
            row = db.get(HazardRow, record.hazard_id)
            if row is None or row.last_seq <= h.next_seq - 1:
                row = row or HazardRow(
                    hazard_id=record.hazard_id,
                    hazard_no=h.report.hazard_no,
                    domain=h.report.domain,
                    township=h.report.township,
                    site=h.report.site,
                    description=h.report.description,
                    severity=h.report.severity,
                    unit=h.report.unit,
                    measure=h.report.measure,
                    found_by=h.report.found_by,
                    found_at=h.report.found_at,
                    deadline=h.deadline,
                    status=h.status.value,
                )
                apply_hazard(row, h, self.taxonomy)
                db.add(row)
            if h.report.photos and any(e.type == "found" for e in new):
                for photo in db.exec(
                    select(InspectionPhoto).where(
                        InspectionPhoto.photo_id.in_([p.material_id for p in h.report.photos])
                    )
                ).all():
                    photo.hazard_id = record.hazard_id
                    db.add(photo)
            for notice in record.notices:
                self.notifier.queue(db, notice)
            db.commit()
        return len(new)

    def _consequences(self, db: Session, h: HazardState, e: CaseEvent) -> None:
        """回炉班 for the people responsible, and 约谈 for the leader of a unit overdue again within the period."""
        r = h.report
        key = f"{r.hazard_id}:{e.detail.get('deadline', e.seq)}"
        leader = queries.unit_leader(db, r.unit, r.township)
        at = as_utc(e.at)
        if db.exec(select(RetrainingEnrolment).where(RetrainingEnrolment.key == key)).first() is None:
            class_date = inspection.retraining_class_for(at)
            person = r.responsible or (leader.display_name if leader else self.taxonomy.unit_zh(r.unit))
            db.add(
                RetrainingEnrolment(
                    key=key,
                    class_date=class_date,
                    hazard_id=r.hazard_id,
                    hazard_no=r.hazard_no,
                    unit=r.unit,
                    township=r.township,
                    person=person,
                    enrolled_at=at,
                )
            )
            self.notifier.queue(
                db,
                NotificationRequest(
                    key=f"{r.hazard_id}:retraining:{e.seq}",
                    case_id=r.hazard_id,
                    case_no=r.hazard_no,
                    kind="hazard_retraining",
                    params={"site": r.site, "person": person, "class_date": class_date.isoformat()},
                    audience=leaders_of(h),
                ),
            )
        earlier = queries.earlier_overdue(db, r.unit, r.township, r.hazard_id, at)
        if not inspection.summons_due([as_utc(t) for _, t in earlier], at, self.summons_within):
            return
        if db.exec(select(Summons).where(Summons.key == key)).first() is not None:
            return
        unit_zh = self.taxonomy.unit_zh(r.unit) if r.unit != "township" else self.taxonomy.township_zh(r.township)
        db.add(
            Summons(
                key=key,
                unit=r.unit,
                township=r.township,
                leader=leader.username if leader else None,
                hazard_id=r.hazard_id,
                hazard_no=r.hazard_no,
                earlier_hazard_nos=sorted({no for no, _ in earlier}),
                reason=f"{unit_zh}在 {self.summons_within.days} 天内再次出现逾期未整改隐患",
                created_at=at,
            )
        )
        leaders = leaders_of(h)
        self.notifier.queue(
            db,
            NotificationRequest(
                key=f"{r.hazard_id}:summons:{e.seq}",
                case_id=r.hazard_id,
                case_no=r.hazard_no,
                kind="hazard_summons",
                params={"site": r.site, "unit_zh": unit_zh},
                audience=Audience(
                    unit_leaders=sorted({*leaders.unit_leaders, PINGAN_OFFICE}),
                    township_leaders=leaders.township_leaders,
                ),
            ),
        )
