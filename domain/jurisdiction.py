"""Jurisdiction: which cases a staff member may see. One definition, in two readings.

`scope_of(actor)` says what the actor's jurisdiction is made of; `sees(scope, facts)` applies it to one case's
facts in memory (the live workflow state or a read-model row), and store/jurisdiction.py turns the same scope
into a SQL filter for lists, boards and exports. tests/domain/test_jurisdiction.py checks with generated cases
that both readings always agree.

The centre (clerks, supervisors), the county leaders and the auditors see every case. Everyone else sees:
the cases they handle or sit on the team of; their department's cases, as lead unit or with a member on the
team; and their township's cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import Actor, CaseState, Role
from domain.taxonomy import is_department

SEES_ALL = frozenset({Role.supervisor, Role.auditor, Role.county_leader, Role.clerk, Role.system})


@dataclass(frozen=True)
class Scope:
    """An actor's jurisdiction. `everything` overrides the rest."""

    everything: bool = False
    username: str | None = None  # as handler or team member
    unit: str | None = None  # a department: lead unit, or a member of the team from it
    township: str | None = None  # the case's township


@dataclass(frozen=True)
class CaseFacts:
    """What jurisdiction looks at in a case."""

    handler: str | None
    team: tuple[str, ...]  # usernames of the team's members
    unit: str | None  # the lead unit (may be the township placeholder)
    township: str | None
    member_units: tuple[str, ...]  # departments of the team's members


def scope_of(actor: Actor) -> Scope:
    if actor.role in SEES_ALL:
        return Scope(everything=True)
    return Scope(
        username=actor.username, unit=actor.unit if is_department(actor.unit) else None, township=actor.township or None
    )


def facts_of(state: CaseState) -> CaseFacts:
    return CaseFacts(
        handler=state.handler.username if state.handler else None,
        team=tuple(m.username for m in state.team),
        unit=state.unit,
        township=state.township,
        member_units=tuple(member_units(state)),
    )


def member_units(state: CaseState) -> list[str]:
    """The departments the team's members come from, sorted."""
    return sorted({m.unit for m in state.team if is_department(m.unit)})  # type: ignore[misc]


def sees(scope: Scope, case: CaseFacts) -> bool:
    if scope.everything:
        return True
    if scope.username is not None and (case.handler == scope.username or scope.username in case.team):
        return True
    if scope.unit is not None and (case.unit == scope.unit or scope.unit in case.member_units):
        return True
    return scope.township is not None and case.township == scope.township


def can_see(actor: Actor, state: CaseState) -> bool:
    return sees(scope_of(actor), facts_of(state))
