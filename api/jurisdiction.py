"""What a staff member may see. The rule itself is domain.case_flow.can_see (over live case state); lists and
boards read the SQL read model, so this module states the same rule as a filter over `cases` rows."""
from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, false, or_

from domain import case_flow
from domain.models import Actor, CaseState, Role
from store.tables import Case

SEES_ALL = frozenset({Role.supervisor, Role.auditor, Role.county_leader, Role.clerk, Role.system})


def sees_all(actor: Actor) -> bool:
    return actor.role in SEES_ALL


def can_see_state(actor: Actor, state: CaseState) -> bool:
    return case_flow.can_see(actor, state)


def _json_has(column: Any, value: str):
    """A JSON list column contains the string `value` (portable: SQLite and PostgreSQL store text)."""
    needle = '"' + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    return cast(column, String).like(f"%{needle}%", escape="\\")


def case_filter(actor: Actor):
    """A WHERE clause limiting `cases` rows to the actor's jurisdiction; None means no limit."""
    if sees_all(actor):
        return None
    conds = [Case.handler == actor.username, _json_has(Case.team, actor.username)]
    if actor.unit:
        conds += [Case.unit == actor.unit, _json_has(Case.team_units, actor.unit)]
    if actor.township:
        conds.append(Case.township == actor.township)
    return or_(*conds) if conds else false()


def can_see_row(actor: Actor, row: Case) -> bool:
    """The same rule over a read-model row (used when the workflow does not answer)."""
    if sees_all(actor):
        return True
    if actor.username == row.handler or actor.username in (row.team or []):
        return True
    if actor.unit and (row.unit == actor.unit or actor.unit in (row.team_units or [])):
        return True
    return bool(actor.township) and actor.township == row.township
