"""Triage for people (分流): what routing would do with a text while someone types it, and the clerks' queue of
cases the classifier left to a person."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from domain import routing
from domain.case_flow import SEND_BACKS_TO_SUPERVISOR
from domain.models import CaseIntake, CaseStatus, CategorySuggestion
from domain.privacy import mask_text
from domain.taxonomy import Taxonomy, is_department
from domain.times import as_utc
from services.context import Services
from services.errors import invalid
from services.schemas import (
    QueueItemOut,
    QueueOut,
    SentBackOut,
    SuggestionOut,
    TriagePreviewIn,
    TriagePreviewOut,
)
from store.tables import Case, CaseEventRow


def _suggestion(tx: Taxonomy, s: CategorySuggestion | dict[str, Any]) -> SuggestionOut:
    s = s if isinstance(s, CategorySuggestion) else CategorySuggestion.model_validate(s)
    cat = tx.category(s.category)
    unit = cat.lead_unit if cat else ""
    return SuggestionOut(
        category=s.category,
        category_zh=tx.category_zh(s.category),
        confidence=s.confidence,
        unit=unit,
        unit_zh=tx.unit_zh(unit),
    )


async def preview(svc: Services, body: TriagePreviewIn, client_address: str) -> TriagePreviewOut:
    svc.limiter.check(f"preview:{client_address}", svc.settings.rate_limit_track)
    if body.category and svc.taxonomy.category(body.category) is None:
        raise invalid("unknown_category", f"未知的纠纷类别代码：{body.category}", field="category")
    intake = CaseIntake(
        description=body.text, citizen_name="-", citizen_phone="-", address=body.address, category_hint=body.category
    )
    model = await asyncio.to_thread(svc.models.get)
    # off the event loop: the first text naming two places trains the place-role model (about a second)
    d = await asyncio.to_thread(routing.decide, svc.taxonomy, model, intake, svc.settings.triage_threshold)
    tx = svc.taxonomy
    return TriagePreviewOut(
        suggestions=[_suggestion(tx, s) for s in d.suggestions],
        township=d.township,
        township_zh=tx.township_zh(d.township) if d.township else None,
        auto=d.auto,
        threshold=svc.settings.triage_threshold,
        reason=d.reason,
    )


def _sent_back(tx: Taxonomy, e: CaseEventRow) -> SentBackOut:
    d = e.detail or {}
    unit, township = d.get("unit"), d.get("township")
    if is_department(unit):
        unit_zh = tx.unit_zh(unit)
    else:  # township-led: the township's office returned it
        unit_zh = f"{tx.township_zh(township)}（属地）" if township else None
    return SentBackOut(
        unit=unit,
        unit_zh=unit_zh,
        township=township,
        township_zh=tx.township_zh(township) if township else None,
        reason=mask_text(str(d.get("reason", ""))),
        at=as_utc(e.at),
    )


def queue(db: Session, tx: Taxonomy) -> QueueOut:
    """Cases the classifier left to a person, oldest first (their 3-minute clock is running or missed)."""
    cases = db.exec(
        select(Case)
        .where(Case.needs_manual_triage, Case.status == CaseStatus.received.value)
        .order_by(Case.received_at)
    ).all()
    ids = [c.case_id for c in cases]
    pending: dict[str, dict[str, Any]] = {}
    repeats: dict[str, list[str]] = {}
    returned: dict[str, list[SentBackOut]] = {}
    if ids:
        for e in db.exec(
            select(CaseEventRow)
            .where(
                CaseEventRow.case_id.in_(ids),
                CaseEventRow.type.in_(["routing_pending", "repeat_detected", "sent_back"]),
            )
            .order_by(CaseEventRow.seq)
        ):
            if e.type == "routing_pending":
                pending[e.case_id] = e.detail
            elif e.type == "sent_back":
                returned.setdefault(e.case_id, []).append(_sent_back(tx, e))
            else:
                repeats[e.case_id] = list(e.detail.get("earlier", []))
    now = datetime.now(UTC)
    items = []
    for c in cases:
        detail = pending.get(c.case_id, {})
        received = as_utc(c.received_at)
        assert received is not None
        routed = next((k for k in c.clocks if k.get("name") == "routed"), {})
        items.append(
            QueueItemOut(
                case_id=c.case_id,
                case_no=c.case_no,
                received_at=received,
                waiting_minutes=round((now - received).total_seconds() / 60, 1),
                description=mask_text(c.description),
                township=detail.get("township") or c.township,
                suggestions=[_suggestion(tx, s) for s in detail.get("suggestions", [])],
                reason=detail.get("reason", ""),
                routed_clock_breached=bool(routed.get("breached")),
                repeat_of=repeats.get(c.case_id, []),
                sent_back=returned.get(c.case_id, []),
                supervisor_decides=len(returned.get(c.case_id, [])) >= SEND_BACKS_TO_SUPERVISOR,
            )
        )
    return QueueOut(items=items, total=len(items))
