"""Finding a case for a caller: the live workflow state when a worker answers, else the read model; 404 for
an unknown case, 403 for one outside the caller's jurisdiction. And sending a step to a case."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from sqlmodel import Session

from api import jurisdiction, temporal, views
from api.deps import AppContext, actor_of
from api.errors import ApiError, forbidden, not_found
from api.schemas import CaseView
from domain.case_flow import ENDED
from domain.models import Actor, CaseState
from store.tables import Case, Staff

CASE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


@dataclass
class Found:
    case_id: str
    state: CaseState | None      # live, from the workflow
    row: Case | None             # the read model's copy, when the workflow did not answer
    stale: bool = False          # the workflow exists but did not answer in time

    @property
    def status(self) -> str:
        return self.state.status.value if self.state else (self.row.status if self.row else "")


async def find(ctx: AppContext, db: Session, case_id: str) -> Found:
    """The case, live when possible. 404 when neither Temporal nor the read model knows it."""
    if not CASE_ID.fullmatch(case_id):
        raise not_found()
    failure: ApiError | None = None
    try:
        client = await ctx.temporal.get()
        state = await temporal.query_state(client, ctx.settings, case_id)
        if state is not None:
            return Found(case_id, state, None)
        answered_missing = True
    except ApiError as err:          # Temporal unreachable
        failure, answered_missing = err, False
    except temporal.NoAnswer:        # no worker answered in time
        failure = ApiError(503, "worker_unavailable", "案件处理服务暂未响应，请稍后再试")
        answered_missing = False
    row = db.get(Case, case_id)
    if row is not None:
        # Either no worker answered (stale), or Temporal no longer keeps this ended case (archived).
        return Found(case_id, None, row, stale=not (answered_missing and row.status in {s.value for s in ENDED}))
    if answered_missing:
        raise not_found()
    assert failure is not None
    raise failure


async def find_for(ctx: AppContext, db: Session, case_id: str, actor: Actor) -> Found:
    found = await find(ctx, db, case_id)
    visible = (jurisdiction.can_see_state(actor, found.state) if found.state is not None
               else jurisdiction.can_see_row(actor, found.row))
    if not visible:
        raise forbidden()
    return found


def view(found: Found, actor: Actor, db: Session | None = None) -> CaseView:
    """The case as the caller may see it; with `db`, its handler and team choices with their scores and its
    messages on external channels."""
    if found.state is not None:
        v = views.case_from_state(found.state, actor)
    else:
        v = views.case_from_row(found.row).model_copy(update={"stale": found.stale})
    if db is not None:
        views.with_read_model(v, db, found.case_id)
    return v


async def act(ctx: AppContext, db: Session, case_id: str, staff: Staff, update: Callable,
              make_action: Callable[[Found, Actor], Any]) -> CaseView:
    """Check the caller may see the case (403), build the step (422 on bad references), send it: the
    workflow's validator has the last word (403 / 409 / 422, leaving no trace when it refuses)."""
    actor = actor_of(staff)
    found = await find_for(ctx, db, case_id, actor)
    if found.state is None and not found.stale:
        raise ApiError(409, "case_closed", "案件已结束，不能再办理")
    action = make_action(found, actor)
    client = await ctx.temporal.get()
    state = await temporal.run_update(client, case_id, update, action)
    return views.with_read_model(views.case_from_state(state, actor), db, case_id)


async def citizen_step(ctx: AppContext, case_id: str, update: Callable, action: Any) -> CaseState:
    client = await ctx.temporal.get()
    return await temporal.run_update(client, case_id, update, action)
