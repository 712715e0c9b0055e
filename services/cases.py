"""Cases for staff: find a case for a caller (live from its workflow when a worker answers, else the read
model), show it as the caller may see it, list and filter cases within the caller's jurisdiction, hand out a
material, and send a step to a case.

404 for an unknown case, 403 for one outside the caller's jurisdiction (domain/jurisdiction.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from domain.case_flow import ENDED
from domain.jurisdiction import facts_of, scope_of, sees
from domain.models import Actor, CaseState
from domain.privacy import normalise_phone, valid_phone
from services import engine, uploads, views
from services.context import Services
from services.db import run
from services.errors import Refusal, case_closed, forbidden, not_found, worker_unavailable
from services.schemas import CaseListOut, CaseListQuery, CaseView
from store import jurisdiction as sql_jurisdiction
from store.tables import Case, MaterialRow

CASE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass
class Found:
    case_id: str
    state: CaseState | None  # live, from the workflow
    row: Case | None  # the read model's copy, when the workflow did not answer
    stale: bool = False  # the workflow exists but did not answer in time

    @property
    def status(self) -> str:
        return self.state.status.value if self.state else (self.row.status if self.row else "")

    @property
    def township(self) -> str | None:
        return self.state.township if self.state else (self.row.township if self.row else None)


async def find(svc: Services, case_id: str) -> Found:
    """The case, live when possible. 404 when neither Temporal nor the read model knows it."""
    if not CASE_ID.fullmatch(case_id):
        raise not_found()
    failure: Refusal | None = None
    try:
        client = await svc.temporal.get()
        state = await engine.query_state(client, svc.settings, case_id)
        if state is not None:
            return Found(case_id, state, None)
        answered_missing = True
    except Refusal as err:  # Temporal unreachable
        failure, answered_missing = err, False
    except engine.NoAnswer:  # no worker answered in time
        failure = worker_unavailable()
        answered_missing = False
    row = await run(svc.engine, lambda db: db.get(Case, case_id))
    if row is not None:
        # Either no worker answered (stale), or Temporal no longer keeps this ended case (archived).
        return Found(case_id, None, row, stale=not (answered_missing and row.status in {s.value for s in ENDED}))
    if answered_missing:
        raise not_found()
    assert failure is not None
    raise failure


def visible(actor: Actor, found: Found) -> bool:
    facts = facts_of(found.state) if found.state is not None else sql_jurisdiction.facts_of_row(found.row)  # type: ignore[arg-type]
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
        v = views.case_from_state(found.state, actor)
    else:
        assert found.row is not None
        v = views.case_from_row(found.row, svc.taxonomy).model_copy(update={"stale": found.stale})
    if db is not None:
        views.with_read_model(v, db, found.case_id)
    return v


async def get_case(svc: Services, case_id: str, actor: Actor) -> CaseView:
    found = await find_for(svc, case_id, actor)
    return await run(svc.engine, lambda db: view(svc, found, actor, db))


async def act(
    svc: Services, case_id: str, actor: Actor, update: Callable[..., Any], make_action: Callable[[Found, Actor], Any]
) -> CaseView:
    """Check the caller may see the case (403), build the step (422 on bad references), send it: the
    workflow's validator has the last word (403 / 409 / 422, leaving no trace when it refuses)."""
    found = await find_for(svc, case_id, actor)
    if found.state is None and not found.stale:
        raise case_closed()
    action = await asyncio.to_thread(make_action, found, actor)  # it may look people up in the directory
    client = await svc.temporal.get()
    state = await engine.run_update(client, case_id, update, action)
    return await run(svc.engine, lambda db: views.with_read_model(views.case_from_state(state, actor), db, case_id))


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
