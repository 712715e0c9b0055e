"""Notifications for the people concerned: the in-app inbox, and pending rows in the outbox of the external
channels (domain/channels.py: the installation's webhook for every message; for each person, a text for what is
urgent and an e-mail for the rest, by their preferences and quiet hours), written in the same transaction — by
the record activity, in the transaction of the events that call for them (`Notifier.queue`), or, for cases begun
before that, by `send_notifications`. Citizens' texts (`queue_citizen_text`) and e-mails queued by other
features (`queue_email`) go through the same outbox. Nothing here calls the network: the relay
(activities/delivery.py) sends the outbox with retries, so a channel that is down never holds up a case.
(key, recipient) is unique, so a retry notifies nobody twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import or_, select
from temporalio import activity

from domain.channels import EMAIL, SMS, WEBHOOK, Reach, hold_until, personal_channel
from domain.messages import KIND_ZH, render
from domain.models import Audience, NotificationRequest, Role
from domain.taxonomy import Taxonomy
from domain.times import as_utc
from store.db import session
from store.outbox import new_row
from store.tables import Notification, Staff, utcnow

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
    """The outbox channels a notification goes to besides the inbox: the webhook, texts, e-mail, as configured."""
    configured = {
        WEBHOOK: settings.notify_webhook_url,
        SMS: getattr(settings, "sms_gateway_url", None),
        EMAIL: getattr(settings, "smtp_host", None),
    }
    return tuple(name for name, value in configured.items() if value)


def reach_of(db, usernames: Sequence[str]) -> dict[str, Reach]:
    """What the outbox needs to know of these people to choose their channel."""
    if not usernames:
        return {}
    rows = db.exec(select(Staff).where(Staff.username.in_(list(usernames)))).all()
    return {
        p.username: Reach(
            phone=p.phone,
            email=p.email,
            sms=p.sms_enabled,
            email_on=p.email_enabled,
            quiet_hours=p.quiet_hours,
        )
        for p in rows
    }


def email_subject(kind: str, case_no: str) -> str:
    return f"【五环智控】{KIND_ZH.get(kind, '新消息')}：{case_no}"


class Notifier:
    def __init__(self, engine: Engine, taxonomy: Taxonomy, channels: Sequence[str] = ()):
        """`channels`: the external channels to queue for besides the inbox (`external_channels(settings)`)."""
        self.engine, self.taxonomy, self.channels = engine, taxonomy, tuple(channels)
        self.personal = frozenset(self.channels) & {SMS, EMAIL}

    def queue(self, db, req: NotificationRequest, now: datetime | None = None) -> list[str]:
        """Inbox rows (and outbox rows of the external channels) for the people `req` is for, in the caller's
        transaction; returns the recipients newly notified (none when an earlier attempt already landed). `now`
        (default: the clock) decides quiet hours."""
        text = render(req.kind, req.case_no, req.params, self.taxonomy)
        recipients = resolve_audience(db, req.audience)
        done = set(db.exec(select(Notification.recipient).where(Notification.key == req.key)).all())
        fresh = [r for r in recipients if r not in done]
        now = as_utc(now) if now is not None else utcnow()
        reach = reach_of(db, fresh) if self.personal else {}
        for r in fresh:
            db.add(Notification(key=req.key, recipient=r, case_id=req.case_id, kind=req.kind, text=text))
            # Same transaction: an inbox row never lacks its outbox rows.
            if WEBHOOK in self.channels:
                db.add(new_row(req.key, r, req.case_id, req.kind, WEBHOOK, now))
            person = reach.get(r)
            channel = personal_channel(req.kind, person, self.personal) if person else None
            if channel is not None:
                held = hold_until(req.kind, person, now)
                row = new_row(req.key, r, req.case_id, req.kind, channel, held or now)
                if channel == EMAIL:
                    row.subject = email_subject(req.kind, req.case_no)
                db.add(row)
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
