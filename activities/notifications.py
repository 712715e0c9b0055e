"""Notifications for the people concerned: the in-app inbox, and, when a webhook is configured, a pending row
in the outbox of that channel, written in the same transaction — by the record activity, in the transaction of
the events that call for them (`Notifier.queue`), or, for cases begun before that, by `send_notifications`.
Nothing here calls the network: the relay (activities/delivery.py) sends the outbox with retries, so a channel
that is down never holds up a case. (key, recipient) is unique, so a retry notifies nobody twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import or_, select
from temporalio import activity

from domain.messages import render
from domain.models import Audience, NotificationRequest, Role
from domain.taxonomy import Taxonomy
from store.db import session
from store.tables import Notification, NotificationDelivery, Staff, utcnow

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
        conds.append(
            (Staff.role == Role.leader.value) & Staff.township.in_(audience.township_leaders) & Staff.unit.is_(None)
        )
    people: list[str] = []
    if conds:
        people = list(db.exec(select(Staff.username).where(Staff.active, or_(*conds))).all())
    if not people:
        people = list(db.exec(select(Staff.username).where(Staff.active, Staff.role == Role.supervisor.value)).all())
    return sorted(set(people))


def external_channels(settings) -> tuple[str, ...]:
    """The outbox channels a notification goes to besides the inbox."""
    return ("webhook",) if settings.notify_webhook_url else ()


class Notifier:
    def __init__(self, engine: Engine, taxonomy: Taxonomy, channels: Sequence[str] = ()):
        """`channels`: the external channels to queue for besides the inbox (`external_channels(settings)`)."""
        self.engine, self.taxonomy, self.channels = engine, taxonomy, tuple(channels)

    def queue(self, db, req: NotificationRequest) -> list[str]:
        """Inbox rows (and outbox rows of the external channels) for the people `req` is for, in the caller's
        transaction; returns the recipients newly notified (none when an earlier attempt already landed)."""
        text = render(req.kind, req.case_no, req.params, self.taxonomy)
        recipients = resolve_audience(db, req.audience)
        done = set(db.exec(select(Notification.recipient).where(Notification.key == req.key)).all())
        fresh = [r for r in recipients if r not in done]
        now = utcnow()
        for r in fresh:
            db.add(Notification(key=req.key, recipient=r, case_id=req.case_id, kind=req.kind, text=text))
            for channel in self.channels:  # same transaction: an inbox row never lacks its outbox rows
                db.add(
                    NotificationDelivery(
                        key=req.key,
                        recipient=r,
                        case_id=req.case_id,
                        kind=req.kind,
                        channel=channel,
                        next_attempt_at=now,
                    )
                )
        if fresh:
            log.info("queued %s for %s on case %s", req.kind, ",".join(fresh), req.case_no)
        return fresh

    @activity.defn
    def send_notifications(self, req: NotificationRequest) -> list[str]:
        """The notifications of one event on their own (cases begun before they were written with the events,
        `CaseRecord.notices`). Returns the recipients newly notified (empty on a retry that already landed)."""
        with session(self.engine) as db:
            fresh = self.queue(db, req)
            db.commit()
        return fresh
