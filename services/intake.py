"""受理: a citizen's request becomes a case — a case number, a tracking code (民声码) and a running workflow.

Anonymous requests (kiosk, web) are rate-limited per client address; a clerk or supervisor may register a
request on a citizen's behalf (window or phone). Nothing is left behind when the case engine is away: the
tracking code is dropped again and the caller gets a 503."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from domain.citizen_texts import wants_texts
from domain.models import CITIZEN, Actor, CaseStart, Role
from services import codes, engine
from services.context import Services
from services.errors import Refusal, invalid, unauthorized
from services.schemas import IntakeIn, IntakeOut
from store import outbox

log = logging.getLogger("wuhuan.services.intake")

STAFF_CHANNELS = frozenset({"clerk", "phone"})
INTAKE_ROLES = frozenset({Role.clerk, Role.supervisor})


def count_attempt(svc: Services, staff: Actor | None, client_address: str) -> None:
    """Count an anonymous intake against its address's rate (429 over it) — every attempt, valid or not, and
    before its body is even read: a flood of invalid requests must hit the limit as surely as valid ones. Every
    anonymous entry point calls it first (the JSON API as a dependency, the web form before checking)."""
    if staff is None:
        svc.limiter.check(f"intake:{client_address}", svc.settings.rate_limit_intake)


def check_caller(body: IntakeIn, staff: Actor | None) -> None:
    if staff is None:
        if body.channel in STAFF_CHANNELS:
            raise unauthorized("staff_channel_requires_login", "窗口或电话受理须由工作人员登录后提交")
    elif staff.role not in INTAKE_ROLES:
        raise Refusal(403, "forbidden_role", "只有受理员可以代群众登记诉求")


def check_request(svc: Services, body: IntakeIn) -> None:
    """422 with the first problem of the request (pages show them all: IntakeIn.problems)."""
    problems = body.problems(svc.settings, svc.taxonomy)
    if problems:
        first = problems[0]
        raise invalid(first.code, first.message, field=first.field)


async def take_in(
    svc: Services, body: IntakeIn, staff: Actor | None, client_address: str, public_base: str
) -> IntakeOut:
    """Register a citizen's request and start its case. The caller has counted the attempt (`count_attempt`)."""
    check_caller(body, staff)
    check_request(svc, body)
    intake_by = staff if staff is not None else CITIZEN

    client = await svc.temporal.get()  # 503 before anything is written when Temporal is away
    case_id = uuid.uuid4().hex
    received_at = datetime.now(UTC)
    case_no = await asyncio.to_thread(codes.allocate_case_no, svc.engine, received_at)
    code, digest = await asyncio.to_thread(codes.new_tracking_code, svc.engine, case_id)
    links = codes.tracking_links(case_id, code, public_base)
    # The receipt text is the one that can carry the link (only the code's hash is kept): queued now, with the code
    # in hand, before the workflow starts, so that no crash in between loses it (domain/citizen_texts.py).
    texted = bool(svc.settings.sms_gateway_url) and wants_texts(body.to_intake())
    if texted:
        await asyncio.to_thread(outbox.queue_receipt, svc.engine, case_id, case_no, links.tracking_url)
    start = CaseStart(
        case_id=case_id,
        case_no=case_no,
        received_at=received_at,
        intake=body.to_intake(),
        intake_by=intake_by,
        levels=svc.settings.service_levels(),
    )
    try:
        await engine.start_case(client, svc.settings, start)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(codes.drop_tracking_code, svc.engine, digest))
        if texted:
            await asyncio.shield(asyncio.to_thread(outbox.drop_receipt, svc.engine, case_id))
        raise
    log.info("case %s (%s) received via %s by %s", case_no, case_id, body.channel, intake_by.username)
    return IntakeOut(**links.model_dump(), case_no=case_no)
