"""The citizen's side: no account, the tracking code (民声码) is the credential. Shows progress with staff names
masked and no phone numbers; takes materials, updates, the rating and a request for review.

Every look-up, right code or wrong, counts against the client address's rate, so codes cannot be guessed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select

from domain.case_flow import can_request_review
from domain.models import (
    CITIZEN,
    Actor,
    CaseState,
    CitizenUpdateAction,
    Material,
    MaterialAction,
    RateAction,
    ReviewRequestAction,
)
from services import cases, codes, uploads, views
from services.context import Services
from services.db import run
from services.errors import invalid, not_found
from services.schemas import CitizenUpdateIn, MaterialOut, RatingIn, ReviewIn, TrackView
from services.uploads import Upload
from store import directory
from store.tables import Case, CaseEventRow
from workflows.dispute_case import DisputeCase


async def open_case(svc: Services, code: str, client_address: str) -> str:
    """Count the look-up (right or wrong code) and find the case the code opens; 404 otherwise."""
    svc.limiter.check(f"track:{client_address}", svc.settings.rate_limit_track)
    case_id = await run(svc.engine, lambda db: codes.case_for_code(db, code))
    if case_id is None:
        raise not_found("unknown_tracking_code", "查询码无效或已失效")
    return case_id


def _view(
    db: Session, svc: Services, case_id: str, state: CaseState | None, row: Case | None, stale: bool
) -> TrackView:
    events = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)).all()
    handler = state.handler.username if state and state.handler else (row.handler if row else None)
    names = directory.display_names(
        db,
        {e.detail.get("handler") for e in events if e.type in ("assigned", "reassigned") and e.detail.get("handler")}
        | ({handler} if handler else set()),
    )
    timeline = views.timeline(events, svc.taxonomy, names)
    handler_name = names.get(handler) if handler else None
    if state is not None:
        res = state.resolution
        return views.track_view(
            case_no=state.case_no,
            status=state.status.value,
            colour=state.colour.value,
            category=state.category,
            unit=state.unit,
            township=state.township,
            handler_name=handler_name,
            received_at=state.received_at,
            clocks=[views.clock_view(c) for c in state.clocks],
            resolution=views.citizen_resolution(res.outcome, res.at, res.summary) if res else None,
            rating=state.rating.model_dump(mode="json") if state.rating else None,
            events=timeline,
            tx=svc.taxonomy,
            stale=stale,
            pause=views.pause_of_state(state),
            can_review=can_request_review(state),
            review=(
                state.review.model_dump(
                    mode="json", include={"status", "reason", "decision_reason", "requested_at", "decided_at"}
                )
                if state.review
                else None
            ),
        )
    assert row is not None
    return views.track_view(
        case_no=row.case_no,
        status=row.status,
        colour=row.colour,
        category=row.category,
        unit=row.unit,
        township=row.township,
        handler_name=handler_name,
        received_at=row.received_at,
        clocks=[views.clock_view(c) for c in row.clocks or []],
        resolution=views.citizen_resolution(row.outcome, row.resolved_at, None),
        rating={"score": row.rating} if row.rating else None,
        events=timeline,
        tx=svc.taxonomy,
        stale=stale,
        events_rows=events,
    )


async def _answer(svc: Services, case_id: str, found: cases.Found | None = None) -> TrackView:
    """The tracking view from the read model as it stands now: after a citizen's step, at least as new as the
    step's events (the update waited for them to be recorded); before the first record, the case as received
    (`found`, marked stale). No query reaches the workflow."""

    def build(db: Session) -> TrackView:
        row = db.get(Case, case_id)
        if row is not None:
            state = cases.state_of(row)
            return _view(db, svc, case_id, state, row, stale=state is None)
        if found is None or found.state is None:
            raise not_found("unknown_tracking_code", "查询码无效或已失效")
        return _view(db, svc, case_id, found.state, None, stale=True)

    return await run(svc.engine, build)


async def track(svc: Services, code: str, client_address: str) -> TrackView:
    case_id = await open_case(svc, code, client_address)
    return await _answer(svc, case_id, await cases.find(svc, case_id))


async def add_material(svc: Services, case_id: str, upload: Upload, by: Actor = CITIZEN) -> MaterialOut:
    """补充材料 to a case (the one a code opened, or by staff: a clerk at the window, the handler's agreement):
    one file (JPEG, PNG, WebP or PDF, checked by content), images stripped of their metadata."""
    f = await uploads.accept(upload, svc.settings.data_dir, svc.settings.max_upload_bytes)
    material = Material(
        material_id=uuid.uuid4().hex,
        filename=f.filename,
        content_type=f.content_type,
        size=f.size,
        note=f.note,
        stored_name=f.stored_name,
    )
    try:
        await cases.citizen_step(svc, case_id, DisputeCase.add_material, MaterialAction(actor=by, material=material))
    except BaseException:
        await asyncio.to_thread(uploads.remove, svc.settings.data_dir, f.stored_name)
        raise
    return MaterialOut(**material.model_dump(exclude={"stored_name"}), uploaded_at=datetime.now(UTC))


def update_text(svc: Services, body: CitizenUpdateIn) -> str:
    """The text of an update to the request, whoever takes it down (the citizen, or a clerk for them)."""
    text = body.text.strip()
    if not text:
        raise invalid("text_required", "请填写更新内容", field="text")
    if len(text) > svc.settings.max_description_chars:
        raise invalid("text_too_long", f"内容不能超过 {svc.settings.max_description_chars} 字", field="text")
    return text


async def citizen_update(svc: Services, code: str, client_address: str, body: CitizenUpdateIn) -> TrackView:
    """更新诉求: add to what the citizen asked for."""
    case_id = await open_case(svc, code, client_address)
    text = update_text(svc, body)
    await cases.citizen_step(svc, case_id, DisputeCase.citizen_update, CitizenUpdateAction(actor=CITIZEN, text=text))
    return await _answer(svc, case_id)


async def request_review(svc: Services, code: str, client_address: str, body: ReviewIn) -> TrackView:
    """申请复核: after a rating of 1–2, within the review window (409 otherwise)."""
    case_id = await open_case(svc, code, client_address)
    await cases.citizen_step(
        svc, case_id, DisputeCase.request_review, ReviewRequestAction(actor=CITIZEN, reason=body.reason)
    )
    return await _answer(svc, case_id)


async def rate(svc: Services, code: str, client_address: str, body: RatingIn) -> TrackView:
    """评价: 1–5 stars once the case is resolved (409 before that)."""
    case_id = await open_case(svc, code, client_address)
    await cases.citizen_step(
        svc, case_id, DisputeCase.rate, RateAction(actor=CITIZEN, score=body.score, comment=body.comment or None)
    )
    return await _answer(svc, case_id)
