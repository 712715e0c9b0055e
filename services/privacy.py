"""Showing a citizen's full phone number: the one place where it is not masked (domain/privacy.py masks it in every
staff view, export, message and PDF). It is an explicit action of the people who call the citizen
(domain/case_flow.py: PHONE_REVEALERS), checked against the case, and written to the access log with who and
when before the number is returned."""

from __future__ import annotations

import asyncio

from domain.case_flow import may_reveal_phone
from domain.models import Actor, Role
from services import access_log, cases
from services.context import Services
from services.errors import forbidden


async def reveal_phone(svc: Services, case_id: str, actor: Actor, client: str | None) -> str:
    found = await cases.find_for(svc, case_id, actor)  # 404 / 403 (jurisdiction) first
    allowed = may_reveal_phone(actor, found.state) if found.state is not None else actor.role == Role.clerk
    if not allowed:
        raise forbidden("may_not_reveal_phone", "只有承办人、牵头单位负责人和窗口受理员可以查看群众的完整电话")
    await asyncio.to_thread(access_log.record, svc.engine, actor, case_id, access_log.CITIZEN_PHONE, client)
    return found.state.intake.citizen_phone if found.state is not None else found.row.citizen_phone
