"""Jurisdiction as SQL: domain.jurisdiction's scope turned into a WHERE clause over `cases` rows, and a row
turned into the facts the in-memory reading looks at. The rule itself lives in domain/jurisdiction.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String, and_, cast, false, or_
from sqlalchemy.sql.elements import ColumnElement

from domain.jurisdiction import CaseFacts, Scope
from store.tables import Case


def json_list_has(column: Any, value: str) -> ColumnElement[bool]:
    """A JSON list column holds the string `value` (portable: SQLite and PostgreSQL both compare the text)."""
    needle = json.dumps(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f"%{needle}%", escape="\\")


def case_filter(scope: Scope) -> ColumnElement[bool] | None:
    """The rows of `cases` inside the scope; None means every row."""
    if scope.everything:
        return None
    conds: list[ColumnElement[bool]] = []
    if scope.username is not None:
        conds += [Case.handler == scope.username, json_list_has(Case.team, scope.username)]
    if scope.unit is not None:
        conds += [Case.unit == scope.unit, json_list_has(Case.member_units, scope.unit)]
    if scope.township is not None:
        conds.append(and_(Case.township.is_not(None), Case.township == scope.township))
    return or_(*conds) if conds else false()


def facts_of_row(row: Case) -> CaseFacts:
    return CaseFacts(
        handler=row.handler,
        team=tuple(row.team or ()),
        unit=row.unit,
        township=row.township,
        member_units=tuple(row.member_units or ()),
    )
