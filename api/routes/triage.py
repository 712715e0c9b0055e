"""Triage for people: a preview for the intake form, and the clerks' manual triage queue (人工分流)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlmodel import select

from api.deps import Ctx, Db, client_address, require_roles
from api.errors import invalid
from api.schemas import QueueItemOut, QueueOut, SuggestionOut, TriagePreviewIn, TriagePreviewOut
from domain import routing
from domain.models import CaseIntake, CategorySuggestion, CaseStatus, Role
from domain.privacy import mask_text
from domain.taxonomy import Taxonomy
from store.tables import Case, CaseEventRow, Staff

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])
QueueReader = Annotated[Staff, Depends(require_roles(Role.clerk, Role.supervisor))]


def _suggestion(tx: Taxonomy, s: CategorySuggestion | dict) -> SuggestionOut:
    s = s if isinstance(s, CategorySuggestion) else CategorySuggestion.model_validate(s)
    cat = tx.category(s.category)
    unit = cat.lead_unit if cat else ""
    return SuggestionOut(category=s.category, category_zh=tx.category_zh(s.category), confidence=s.confidence,
                         unit=unit, unit_zh=tx.unit_zh(unit))


@router.post("/preview", response_model=TriagePreviewOut)
async def preview(body: TriagePreviewIn, request: Request, ctx: Ctx) -> TriagePreviewOut:
    """What routing would do with this text: the intake form shows it while a person types."""
    ctx.limiter.check(f"preview:{client_address(request)}", ctx.settings.rate_limit_track)
    if body.category and ctx.taxonomy.category(body.category) is None:
        raise invalid("unknown_category", f"未知的纠纷类别代码：{body.category}")
    intake = CaseIntake(description=body.text, citizen_name="-", citizen_phone="-", address=body.address,
                        category_hint=body.category)
    model = await asyncio.to_thread(ctx.models.get)
    d = routing.decide(ctx.taxonomy, model, intake, ctx.settings.triage_threshold)
    return TriagePreviewOut(suggestions=[_suggestion(ctx.taxonomy, s) for s in d.suggestions], township=d.township,
                            township_zh=ctx.taxonomy.township_zh(d.township) if d.township else None, auto=d.auto,
                            threshold=ctx.settings.triage_threshold, reason=d.reason)


@router.get("/queue", response_model=QueueOut)
def queue(staff: QueueReader, ctx: Ctx, db: Db) -> QueueOut:
    """Cases the classifier left to a person, oldest first (their 3-minute clock is running or missed)."""
    cases = db.exec(select(Case).where(Case.needs_manual_triage, Case.status == CaseStatus.received.value)
                    .order_by(Case.received_at)).all()
    ids = [c.case_id for c in cases]
    events: dict[str, dict] = {}
    repeats: dict[str, list[str]] = {}
    if ids:
        for e in db.exec(select(CaseEventRow).where(CaseEventRow.case_id.in_(ids),
                                                    CaseEventRow.type.in_(["routing_pending", "repeat_detected"]))
                         .order_by(CaseEventRow.seq)):
            if e.type == "routing_pending":
                events[e.case_id] = e.detail
            else:
                repeats[e.case_id] = list(e.detail.get("earlier", []))
    now = datetime.now(timezone.utc)
    items = []
    for c in cases:
        detail = events.get(c.case_id, {})
        received = c.received_at if c.received_at.tzinfo else c.received_at.replace(tzinfo=timezone.utc)
        routed = next((k for k in c.clocks if k.get("name") == "routed"), {})
        items.append(QueueItemOut(
            case_id=c.case_id, case_no=c.case_no, received_at=received,
            waiting_minutes=round((now - received).total_seconds() / 60, 1),
            description=mask_text(c.description), township=detail.get("township") or c.township,
            suggestions=[_suggestion(ctx.taxonomy, s) for s in detail.get("suggestions", [])],
            reason=detail.get("reason", ""), routed_clock_breached=bool(routed.get("breached")),
            repeat_of=repeats.get(c.case_id, [])))
    return QueueOut(items=items, total=len(items))
