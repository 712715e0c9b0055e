"""Cases for staff: find a case for a caller (in the read model, which holds the workflow's whole state as last
recorded), show it as the caller may see it, list and filter cases within the caller's jurisdiction, hand out a
material, and send a step to a case.

No query reaches a case's workflow from here: a query answered by a worker that picked the case up after a
crash can leave its cached run ahead of its history, and the next step then writes a history that no longer
replays (docs/durability.md, "The cache and replay"). Steps still go to the live workflow, whose update
validator has the last word; the view after a step is read back from the read model, which the update waited
for, so the answer and the next view agree.

404 for an unknown case, 403 for one outside the caller's jurisdiction (domain/jurisdiction.py)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_
from sqlmodel import Session, select

from domain import clocks
from domain.jurisdiction import facts_of, scope_of, sees
from domain.models import Actor, CaseStart, CaseState
from domain.privacy import normalise_phone, valid_phone
from services import engine, uploads, views
from services.context import Services
from services.db import run
from services.errors import forbidden, not_found
from services.schemas import CaseListOut, CaseListQuery, CaseView
from store import jurisdiction as sql_jurisdiction
from store.tables import Case, MaterialRow

CASE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")

log = logging.getLogger("wuhuan.services.cases")


@dataclass
class Found:
    case_id: str
    row: Case | None  # the read model's row; None for a case received a moment ago, not recorded yet
    state: CaseState | None  # the workflow's state as last recorded (or as received); None: the row's columns only

    @property
    def stale(self) -> bool:
        """Not the recorded state: a row from before migration 0010 (its columns only), or a case received a
        moment ago (as it was received, before its first record)."""
        return self.row is None or self.state is None

    @property
    def status(self) -> str:
        return self.state.status.value if self.state else self.row.status if self.row else ""

    @property
    def township(self) -> str | None:
        return self.state.township if self.state else self.row.township if self.row else None


def state_of(row: Case) -> CaseState | None:
    """The workflow's state the row holds, if it holds one this code can read."""
    if not row.state:
        return None
    try:
        return CaseState.model_validate(row.state)
    except ValidationError as err:  # written by other code: show the row's columns rather than fail
        log.warning("case %s: recorded state unreadable (%s); serving the row's columns", row.case_id, err)
        return None


def received_state(start: CaseStart) -> CaseState:
    """The case as DisputeCase.__init__ builds it from its start input, before any step or record."""
    if start.carried is not None:
        return start.carried
    s = CaseState(
        case_id=start.case_id,
        case_no=start.case_no,
        received_at=start.received_at,
        intake=start.intake,
        intake_by=start.intake_by.username,
        levels=start.levels,
    )
    s.clocks = clocks.initial_clocks(s)
    return s


async def _just_received(svc: Services, case_id: str) -> Found:
    """No row: 404 unless Temporal has the case. A case received a moment ago is shown as it was received, from
    its start input in the first event of its history (read from the server, never a worker), until its first
    record lands — a burst of intakes must not leave citizens' receipts waiting for routing."""
    client = await svc.temporal.get()  # 503 temporal_unavailable when Temporal is away
    start = await engine.start_input(client, case_id)
    if start is None:
        raise not_found()
    row = await run(svc.engine, lambda db: db.get(Case, case_id))
    if row is not None:  # recorded meanwhile
        return Found(case_id, row, state_of(row))
    return Found(case_id, None, received_state(start))


async def find(svc: Services, case_id: str) -> Found:
    """The case from the read model (or, before its first record, as received). 404 when neither the read model
    nor Temporal knows it."""
    if not CASE_ID.fullmatch(case_id):
        raise not_found()
    row = await run(svc.engine, lambda db: db.get(Case, case_id))
    if row is None:
        return await _just_received(svc, case_id)
    return Found(case_id, row, state_of(row))


def visible(actor: Actor, found: Found) -> bool:
    if found.state is not None:
        facts = facts_of(found.state)
    else:
        assert found.row is not None
        facts = sql_jurisdiction.facts_of_row(found.row)
    return sees(scope_of(actor), facts)


async def find_for(svc: Services, case_id: str, actor: Actor) -> Found:
    found = await find(svc, case_id)
    if not visible(actor, found):
        raise forbidden()
    return found


def view(svc: Services, found: Found, actor: Actor, db: Session | None = None) -> CaseView:
    """The case as the caller may see it; with `db`, its handler and team choices with their scores and its
    messages on external channels."""
    if found.state is not None:
        v = views.case_from_state(found.state, actor, source="read_model" if found.row else "workflow")
        v.stale = found.stale
    else:
        assert found.row is not None
        v = views.case_from_row(found.row, svc.taxonomy)
    if db is not None:
        views.with_read_model(v, db, found.case_id)
    return v


def view_now(svc: Services, db: Session, case_id: str, actor: Actor) -> CaseView:
    """The case as the read model holds it now (after a step: at least as new as the step's events)."""
    row = db.get(Case, case_id)
    if row is None:
        raise not_found()
    return view(svc, Found(case_id, row, state_of(row)), actor, db)


async def get_case(svc: Services, case_id: str, actor: Actor) -> CaseView:
    found = await find_for(svc, case_id, actor)
    return await run(svc.engine, lambda db: view(svc, found, actor, db))


async def act(
    svc: Services, case_id: str, actor: Actor, update: Callable[..., Any], make_action: Callable[[Found, Actor], Any]
) -> CaseView:
    """Check the caller may see the case (403), build the step (422 on bad references), send it: the
    workflow's validator has the last word (403 / 409 / 422, leaving no trace when it refuses; 409 case_closed
    when the workflow has ended). The update returns once the step's events are recorded, so the view read
    back from the read model shows the step."""
    found = await find_for(svc, case_id, actor)
    action = await asyncio.to_thread(make_action, found, actor)  # it may look people up in the directory
    client = await svc.temporal.get()
    await engine.run_update(client, case_id, update, action)
    return await run(svc.engine, lambda db: view_now(svc, db, case_id, actor))


async def citizen_step(svc: Services, case_id: str, update: Callable[..., Any], action: Any) -> CaseState:
    client = await svc.temporal.get()
    return await engine.run_update(client, case_id, update, action)


# --- lists -----------------------------------------------------------------------------------------------


def list_conditions(actor: Actor, query: CaseListQuery) -> list[Any]:
    """The WHERE clauses of a case list: the caller's jurisdiction and the list's filters."""
    conds: list[Any] = []
    scope = sql_jurisdiction.case_filter(scope_of(actor))
    if scope is not None:
        conds.append(scope)
    for column, values in (
        (Case.status, query.status),
        (Case.colour, query.color),
        (Case.category, query.category),
        (Case.unit, query.unit),
        (Case.township, query.township),
        (Case.handler, query.handler),
    ):
        if values:
            conds.append(column.in_(values))
    if query.overdue is not None:
        conds.append(Case.overdue == query.overdue)
    text = (query.q or "").strip()
    if text:
        if valid_phone(text):
            conds.append(Case.citizen_phone == normalise_phone(text))
        else:
            conds.append(
                or_(
                    Case.case_no.contains(text, autoescape=True),
                    Case.description.contains(text, autoescape=True),
                    Case.address.contains(text, autoescape=True),
                    Case.citizen_name.contains(text, autoescape=True),
                )
            )
    return conds


def list_cases(db: Session, actor: Actor, query: CaseListQuery) -> CaseListOut:
    """The cases the caller's jurisdiction allows, newest first, with citizens' names and phones masked."""
    conds = list_conditions(actor, query)
    total = db.exec(select(func.count()).select_from(Case).where(*conds)).one()
    rows = db.exec(
        select(Case)
        .where(*conds)
        .order_by(Case.received_at.desc(), Case.case_no.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    return CaseListOut(
        items=[views.list_item(r) for r in rows], total=total, page=query.page, page_size=query.page_size
    )


# --- materials -------------------------------------------------------------------------------------------


@dataclass
class MaterialFile:
    path: Path
    content_type: str
    filename: str


async def material_file(svc: Services, case_id: str, material_id: str, actor: Actor) -> MaterialFile:
    await find_for(svc, case_id, actor)
    m = await run(svc.engine, lambda db: db.get(MaterialRow, material_id))
    if m is None or m.case_id != case_id:
        raise not_found("unknown_material", "材料不存在")
    try:
        path = uploads.path_of(svc.settings.data_dir, m.stored_name)
    except ValueError:
        raise not_found("unknown_material", "材料不存在") from None
    if not path.exists():
        raise not_found("unknown_material", "材料文件已不存在")
    return MaterialFile(path=path, content_type=m.content_type, filename=m.filename)
