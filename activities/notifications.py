"""Deliver notifications to the people concerned: today the in-app inbox; webhook, SMS and e-mail
channels plug in here. (key, recipient) is unique, so a retried send delivers nothing twice."""
from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import or_, select
from temporalio import activity

from domain.messages import render
from domain.models import Audience, NotificationRequest, Role
from domain.taxonomy import Taxonomy
from store.db import session
from store.tables import Notification, Staff

log = logging.getLogger(__name__)


def resolve_audience(db, audience: Audience) -> list[str]:
    """People, never an empty list: with nobody found, the centre's supervisors are told instead."""
    conds = []
    if audience.usernames:
        conds.append(Staff.username.in_(audience.usernames))
    if audience.roles:
        conds.append(Staff.role.in_([r.value for r in audience.roles]))
    if audience.unit_leaders:
        conds.append((Staff.role == Role.leader.value) & Staff.unit.in_(audience.unit_leaders))
    if audience.township_leaders:
        conds.append((Staff.role == Role.leader.value) & Staff.township.in_(audience.township_leaders)
                     & Staff.unit.is_(None))
    people: list[str] = []
    if conds:
        people = list(db.exec(select(Staff.username).where(Staff.active, or_(*conds))).all())
    if not people:
        people = list(db.exec(select(Staff.username).where(Staff.active, Staff.role == Role.supervisor.value)).all())
    return sorted(set(people))


class Notifier:
    def __init__(self, engine: Engine, taxonomy: Taxonomy):
        self.engine, self.taxonomy = engine, taxonomy

    @activity.defn
    def send_notifications(self, req: NotificationRequest) -> list[str]:
        """Returns the recipients newly notified (empty on a retry that already landed)."""
        text = render(req.kind, req.case_no, req.params, self.taxonomy)
        with session(self.engine) as db:
            recipients = resolve_audience(db, req.audience)
            done = set(db.exec(select(Notification.recipient).where(Notification.key == req.key)).all())
            fresh = [r for r in recipients if r not in done]
            for r in fresh:
                db.add(Notification(key=req.key, recipient=r, case_id=req.case_id, kind=req.kind, text=text))
            db.commit()
        if fresh:
            log.info("notified %s of %s on case %s", ",".join(fresh), req.kind, req.case_no)
        return fresh
