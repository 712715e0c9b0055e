"""A staff member's inbox of notifications."""

from __future__ import annotations

from sqlmodel import Session, select

from domain.privacy import mask_text
from services.errors import Refusal
from services.schemas import NotificationOut
from store.tables import Notification


def _out(n: Notification) -> NotificationOut:
    assert n.id is not None
    # Masked again on the way out: rows written before domain/messages.render masked numbers still hold them.
    text = mask_text(n.text)
    return NotificationOut(id=n.id, case_id=n.case_id, kind=n.kind, text=text, created_at=n.created_at, read=n.read)


def inbox(db: Session, username: str, unread_only: bool, limit: int) -> list[NotificationOut]:
    q = select(Notification).where(Notification.recipient == username)
    if unread_only:
        q = q.where(Notification.read == False)  # noqa: E712
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [_out(n) for n in db.exec(q).all()]


def mark_read(db: Session, username: str, notification_id: int) -> NotificationOut:
    n = db.get(Notification, notification_id)
    if n is None or n.recipient != username:
        raise Refusal(404, "unknown_notification", "消息不存在")
    if not n.read:
        n.read = True
        db.add(n)
        db.commit()
    return _out(n)
