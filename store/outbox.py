"""Queueing into the outbox (`notification_deliveries`) for what is not a staff notification: a citizen's texts
(from intake, services/intake.py, and from the record activity) and e-mails other features send (`queue_email`,
e.g. a daily digest). The relay (activities/delivery.py) sends them like every other row: retried with backoff,
at least once, one delivery id per row, visible on the case page. Here, in store/, because both services and
activities queue."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from domain import citizen_texts
from domain.channels import EMAIL, SMS
from domain.times import as_utc
from store.db import session
from store.tables import NotificationDelivery, utcnow

log = logging.getLogger("wuhuan.outbox")


def new_row(key: str, recipient: str, case_id: str, kind: str, channel: str, at: datetime) -> NotificationDelivery:
    """A pending delivery, first due at `at`."""
    return NotificationDelivery(
        key=key, recipient=recipient, case_id=case_id, kind=kind, channel=channel, next_attempt_at=at
    )


def queued(db, key: str, recipient: str, channel: str) -> bool:
    d = NotificationDelivery
    return db.exec(select(d.id).where(d.key == key, d.recipient == recipient, d.channel == channel)).first() is not None


def queue_citizen_text(
    db, key: str, case_id: str, kind: str, text: str, now: datetime | None = None, tail: str = ""
) -> bool:
    """A text to the citizen of `case_id`, in the caller's transaction; False when `key` was queued already.
    The phone is read from the case when sending; `tail` (a link) follows the text and is never cut. The text is
    kept on the row until it is delivered."""
    who = citizen_texts.recipient(case_id)
    if queued(db, key, who, SMS):
        return False
    row = new_row(key, who, case_id, kind, SMS, as_utc(now) if now is not None else utcnow())
    row.text = f"{text}\n{tail}" if tail else text
    db.add(row)
    log.info("queued the citizen's %s on case %s", kind, case_id)
    return True


def queue_email(
    engine_or_db,
    username: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    key: str,
    case_id: str = "",
    kind: str = "email",
    not_before: datetime | None = None,
) -> bool:
    """An e-mail to a member of staff through the outbox (retried, at least once, visible like every delivery),
    for features beyond case notifications (e.g. a daily digest). `key` makes it idempotent: queued once per
    (key, username). `html` defaults to the text rendered as paragraphs; `case_id` is empty for messages about no
    case. Pass a session to queue within your own transaction, or an engine to commit at once. Returns False
    when already queued. Sent only where e-mail is configured; the person's preferences are the caller's to
    weigh (this is for messages they asked for)."""

    def add(db) -> bool:
        if queued(db, key, username, EMAIL):
            return False
        row = new_row(key, username, case_id, kind, EMAIL, as_utc(not_before) if not_before else utcnow())
        row.subject, row.text, row.html = subject, text, html
        db.add(row)
        return True

    if isinstance(engine_or_db, Engine):
        with session(engine_or_db) as db:
            added = add(db)
            db.commit()
        return added
    return add(engine_or_db)


def receipt_key(case_id: str) -> str:
    return f"{case_id}:receipt"


def queue_receipt(engine: Engine, case_id: str, case_no: str, tracking_url: str) -> None:
    """The citizen's receipt text with the tracking link (the only text that can carry it: the code is kept
    as a hash). Queued before the case's workflow starts, so no crash between the two loses it; the relay waits
    for the case's first record before sending (the phone is read from it)."""
    with session(engine) as db:
        queue_citizen_text(
            db,
            receipt_key(case_id),
            case_id,
            citizen_texts.RECEIPT_KIND,
            citizen_texts.receipt_text(case_no),
            tail=tracking_url,
        )
        db.commit()


def drop_receipt(engine: Engine, case_id: str) -> None:
    """The receipt of a case whose workflow did not start (the intake answered 503): never sent."""
    d = NotificationDelivery
    with session(engine) as db:
        db.exec(delete(d).where(d.key == receipt_key(case_id), d.status == "pending"))
        db.commit()
