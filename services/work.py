"""My work (工作台): what a staff member should do today — the open cases they handle or sit on the team of,
the open cases of their unit or township, team invitations waiting for an answer, and unread messages. Each
case with its supervision colour and the clock that falls due first."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, func, not_, or_
from sqlmodel import Session, select

from domain.case_flow import OPEN, WORKING
from domain.jurisdiction import scope_of
from domain.models import Actor
from domain.privacy import mask_text
from services import views
from services.schemas import CaseListItem, NotificationOut
from store import jurisdiction as sql_jurisdiction
from store.tables import Case, CaseEventRow, Notification

OPEN_VALUES = [s.value for s in OPEN]
WORKING_VALUES = [s.value for s in WORKING]
SHOWN = 200  # cases per list: a page a person can read; the case list (/staff/cases) has the rest
COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2}
Sort = Literal["due", "colour", "received"]


class Invitation(BaseModel):
    case_id: str
    case_no: str
    category: str | None
    township: str | None
    handler: str | None
    summary: str


class WorkView(BaseModel):
    mine: list[CaseListItem]
    ours: list[CaseListItem]  # the unit's or township's other open cases (everything open, for the centre)
    ours_total: int
    invitations: list[Invitation]
    unread: int
    messages: list[NotificationOut]  # the newest unread ones


def _sorted(items: list[CaseListItem], sort: Sort) -> list[CaseListItem]:
    if sort == "colour":
        return sorted(items, key=lambda i: (COLOUR_RANK.get(i.supervision_color, 3), i.received_at))
    if sort == "received":
        return sorted(items, key=lambda i: i.received_at, reverse=True)
    far = max((i.next_clock.due_at for i in items if i.next_clock), default=None)
    return sorted(items, key=lambda i: (i.next_clock is None, i.next_clock.due_at if i.next_clock else far))


def my_work(db: Session, actor: Actor, sort: Sort = "due", colour: str | None = None) -> WorkView:
    mine_where = or_(Case.handler == actor.username, sql_jurisdiction.json_list_has(Case.team, actor.username))
    conds = [Case.status.in_(OPEN_VALUES)]
    if colour:
        conds.append(Case.colour == colour)
    mine = [views.list_item(r) for r in db.exec(select(Case).where(*conds, mine_where).limit(SHOWN)).all()]
    scope = sql_jurisdiction.case_filter(scope_of(actor))
    ours_where = and_(*conds, not_(mine_where), *([scope] if scope is not None else []))
    ours_total = db.exec(select(func.count()).select_from(Case).where(ours_where)).one()
    ours_rows = db.exec(select(Case).where(ours_where).order_by(Case.received_at).limit(SHOWN)).all()

    accepted = select(CaseEventRow.case_id).where(
        CaseEventRow.type == "team_member_accepted", CaseEventRow.actor == actor.username
    )
    invited = db.exec(
        select(Case).where(
            Case.status.in_(WORKING_VALUES),
            sql_jurisdiction.json_list_has(Case.team, actor.username),
            or_(Case.handler.is_(None), Case.handler != actor.username),
            Case.case_id.not_in(accepted),
        )
    ).all()
    unread_where = and_(Notification.recipient == actor.username, Notification.read == False)  # noqa: E712
    unread = db.exec(select(func.count()).select_from(Notification).where(unread_where)).one()
    newest = db.exec(select(Notification).where(unread_where).order_by(Notification.created_at.desc()).limit(5)).all()
    return WorkView(
        mine=_sorted(mine, sort),
        ours=_sorted([views.list_item(r) for r in ours_rows], sort),
        ours_total=ours_total,
        invitations=[
            Invitation(
                case_id=r.case_id,
                case_no=r.case_no,
                category=r.category,
                township=r.township,
                handler=r.handler,
                summary=views.list_item(r).summary,
            )
            for r in invited
        ],
        unread=unread,
        messages=[
            NotificationOut(
                id=n.id or 0,
                case_id=n.case_id,
                kind=n.kind,
                text=mask_text(n.text),
                created_at=n.created_at,
                read=n.read,
            )
            for n in newest
        ],
    )
