"""Write a hazard's read model: append its new events, upsert its row and queue the notices the events call for,
in one transaction — the same recorder pattern as cases (activities/records.py). Idempotent: events are keyed by
(hazard_id, seq), notices by (key, recipient), and the row is replaced only by a state at least as new."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio import activity

from activities.notifications import Notifier
from domain.hazards import HazardRecord, HazardState
from domain.taxonomy import Taxonomy
from store.db import session
from store.tables import HazardEventRow, HazardRow, utcnow


def apply_hazard(row: HazardRow, h: HazardState, tx: Taxonomy) -> None:
    r = h.report
    township = tx.township(r.township)
    row.hazard_no, row.domain, row.township = r.hazard_no, r.domain, r.township
    row.district = township.district if township else None
    row.site, row.description, row.severity, row.unit = r.site, r.description, r.severity, r.unit
    row.responsible, row.measure, row.found_by, row.found_at = r.responsible, r.measure, r.found_by, r.found_at
    row.deadline, row.status, row.overdue, row.exposed_at = h.deadline, h.status.value, h.overdue, h.exposed_at
    row.submitted_at, row.struck_off_at, row.recheck_at = h.submitted_at, h.struck_off_at, h.recheck_at
    row.struck_off_on_time = (h.submitted_at <= h.deadline) if h.struck_off_at and h.submitted_at else None
    row.closed_at, row.rejections, row.reopened = h.closed_at, h.rejections, h.reopened
    row.last_seq, row.updated_at = h.next_seq - 1, utcnow()


class HazardRecorder:
    def __init__(self, engine: Engine, taxonomy: Taxonomy, notifier: Notifier):
        self.engine, self.taxonomy, self.notifier = engine, taxonomy, notifier

    @activity.defn
    def record_hazard_events(self, record: HazardRecord) -> int:
        """Returns how many events were new (0 on a retry that already landed)."""
        h = record.state
        with session(self.engine) as db:
            have = set(db.exec(select(HazardEventRow.seq).where(HazardEventRow.hazard_id == record.hazard_id)).all())
            new = [e for e in record.events if e.seq not in have]
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
            for notice in record.notices:
                self.notifier.queue(db, notice)
            db.commit()
        return len(new)
