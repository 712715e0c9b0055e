"""The citizen's side: no account, the tracking code (民声码) is the credential. Shows progress with staff
names masked and no phone numbers; takes materials, updates and the rating."""
from __future__ import annotations

import asyncio
import io
import uuid
from datetime import datetime, timezone

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, select
from starlette.datastructures import UploadFile

from api import access, intake, uploads, views
from api.deps import AppContext, Ctx, Db, client_address
from api.errors import ApiError, invalid, not_found
from api.schemas import CitizenUpdateIn, MaterialOut, RatingIn, ReviewIn, TrackView
from domain.models import (
    CITIZEN, CaseState, CaseStatus, CitizenUpdateAction, Material, MaterialAction, RateAction, ReviewRequestAction,
)
from store.tables import Case, CaseEventRow, Staff
from workflows.dispute_case import DisputeCase

router = APIRouter(prefix="/api/v1/track", tags=["citizen"])

UPLOAD_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "JPEG, PNG, WebP or PDF"},
                   "note": {"type": "string", "maxLength": 500}}}}}}}
MULTIPART_SLACK = 64 * 1024   # room for the form's boundaries and headers around the file
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _open(ctx: AppContext, db: Session, request: Request, code: str) -> str:
    """Count the look-up (right or wrong code) and find the case the code opens; 404 otherwise."""
    ctx.limiter.check(f"track:{client_address(request)}", ctx.settings.rate_limit_track)
    case_id = intake.case_for_code(db, code)
    if case_id is None:
        raise not_found("unknown_tracking_code", "查询码无效或已失效")
    return case_id


def _staff_names(db: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return {s.username: s.display_name for s in db.exec(select(Staff).where(Staff.username.in_(usernames))).all()}


def _view(db: Session, ctx: AppContext, case_id: str, state: CaseState | None, row: Case | None,
          stale: bool) -> TrackView:
    events = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)).all()
    handler = state.handler.username if state and state.handler else (row.handler if row else None)
    names = _staff_names(db, {e.detail.get("handler") for e in events
                              if e.type in ("assigned", "reassigned") and e.detail.get("handler")}
                         | ({handler} if handler else set()))
    timeline = views.timeline(events, ctx.taxonomy, names)
    handler_name = names.get(handler) if handler else None
    if state is not None:
        res = state.resolution
        return views.track_view(
            case_no=state.case_no, status=state.status.value, colour=state.colour.value, category=state.category,
            unit=state.unit, township=state.township, handler_name=handler_name, received_at=state.received_at,
            clocks=[views.clock_view(c) for c in state.clocks],
            resolution=views.citizen_resolution(res.outcome, res.at, res.summary) if res else None,
            rating=state.rating.model_dump(mode="json") if state.rating else None,
            events=timeline, tx=ctx.taxonomy, stale=False,
            can_review=(state.status == CaseStatus.closed and state.review_open_until is not None
                        and state.rating is not None and state.rating.score <= 2),
            review=(state.review.model_dump(mode="json", include={"status", "reason", "decision_reason",
                                                                   "requested_at", "decided_at"})
                    if state.review else None))
    assert row is not None
    return views.track_view(
        case_no=row.case_no, status=row.status, colour=row.colour, category=row.category, unit=row.unit,
        township=row.township, handler_name=handler_name, received_at=row.received_at,
        clocks=[views.clock_view(c) for c in row.clocks or []],
        resolution=views.citizen_resolution(row.outcome, row.resolved_at, None),
        rating={"score": row.rating} if row.rating else None, events=timeline, tx=ctx.taxonomy, stale=stale)


@router.get("/{code}", response_model=TrackView)
async def track(code: str, request: Request, ctx: Ctx, db: Db, response: Response) -> TrackView:
    case_id = _open(ctx, db, request, code)
    found = await access.find(ctx, db, case_id)
    response.headers.update(NO_STORE)
    return _view(db, ctx, case_id, found.state, found.row, found.stale)


@router.post("/{code}/materials", status_code=201, response_model=MaterialOut, openapi_extra=UPLOAD_FORM)
async def add_material(code: str, request: Request, ctx: Ctx, db: Db) -> MaterialOut:
    """补充材料: one file (JPEG, PNG, WebP or PDF, checked by content) and an optional note."""
    case_id = _open(ctx, db, request, code)
    limit = ctx.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        raise ApiError(413, "file_too_large", f"文件不能超过 {limit // 1024} KB")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(415, "multipart_required", "请以 multipart/form-data 上传文件")
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("file_required", "请选择要上传的文件")
        note = form.get("note")
        note = note.strip() if isinstance(note, str) and note.strip() else None
        if note and len(note) > 500:
            raise invalid("note_too_long", "说明不能超过 500 字")
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise ApiError(413, "file_too_large", f"文件不能超过 {limit // 1024} KB")
        if not content:
            raise invalid("empty_file", "文件为空")
        content_type = uploads.sniff(content[:16])
        if content_type is None:
            raise ApiError(415, "unsupported_file_type", "只接受 JPEG、PNG、WebP 图片或 PDF 文件")
        filename = uploads.safe_filename(upload.filename, content_type)
    finally:
        await form.close()
    try:
        content = await asyncio.to_thread(uploads.strip_metadata, content, content_type)
    except uploads.UnreadableImage:
        raise ApiError(415, "unreadable_image", "图片文件已损坏或无法识别，请重新拍照上传") from None
    stored = await asyncio.to_thread(uploads.store, ctx.settings.data_dir, content)
    material = Material(material_id=uuid.uuid4().hex, filename=filename, content_type=content_type,
                        size=len(content), note=note, stored_name=stored)
    try:
        await access.citizen_step(ctx, case_id, DisputeCase.add_material,
                                  MaterialAction(actor=CITIZEN, material=material))
    except BaseException:
        await asyncio.to_thread(uploads.remove, ctx.settings.data_dir, stored)
        raise
    return MaterialOut(**material.model_dump(exclude={"stored_name"}), uploaded_at=datetime.now(timezone.utc))


@router.post("/{code}/updates", response_model=TrackView)
async def citizen_update(code: str, body: CitizenUpdateIn, request: Request, ctx: Ctx, db: Db) -> TrackView:
    """更新诉求: add to what the citizen asked for."""
    case_id = _open(ctx, db, request, code)
    text = body.text.strip()
    if not text:
        raise invalid("text_required", "请填写更新内容")
    if len(text) > ctx.settings.max_description_chars:
        raise invalid("text_too_long", f"内容不能超过 {ctx.settings.max_description_chars} 字")
    state = await access.citizen_step(ctx, case_id, DisputeCase.citizen_update,
                                      CitizenUpdateAction(actor=CITIZEN, text=text))
    return _view(db, ctx, case_id, state, None, False)


@router.post("/{code}/review", response_model=TrackView)
async def request_review(code: str, body: ReviewIn, request: Request, ctx: Ctx, db: Db) -> TrackView:
    """申请复核: after a rating of 1–2, within the review window (409 otherwise)."""
    case_id = _open(ctx, db, request, code)
    state = await access.citizen_step(ctx, case_id, DisputeCase.request_review,
                                      ReviewRequestAction(actor=CITIZEN, reason=body.reason))
    return _view(db, ctx, case_id, state, None, False)


@router.post("/{code}/rating", response_model=TrackView)
async def rate(code: str, body: RatingIn, request: Request, ctx: Ctx, db: Db) -> TrackView:
    """评价: 1–5 stars once the case is resolved (409 before that)."""
    case_id = _open(ctx, db, request, code)
    state = await access.citizen_step(ctx, case_id, DisputeCase.rate,
                                      RateAction(actor=CITIZEN, score=body.score, comment=body.comment or None))
    return _view(db, ctx, case_id, state, None, False)


def _qr(request: Request, ctx: AppContext, db: Session, code: str) -> segno.QRCode:
    _open(ctx, db, request, code)
    return segno.make(f"{str(request.base_url).rstrip('/')}/track/{code}", error="m")


@router.get("/{code}/qr.svg", response_class=Response)
def qr_svg(code: str, request: Request, ctx: Ctx, db: Db) -> Response:
    buf = io.BytesIO()
    _qr(request, ctx, db, code).save(buf, kind="svg", scale=8, border=2, xmldecl=False)
    return Response(buf.getvalue(), media_type="image/svg+xml", headers=NO_STORE)


@router.get("/{code}/qr.png", response_class=Response)
def qr_png(code: str, request: Request, ctx: Ctx, db: Db) -> Response:
    buf = io.BytesIO()
    _qr(request, ctx, db, code).save(buf, kind="png", scale=8, border=2)
    return Response(buf.getvalue(), media_type="image/png", headers=NO_STORE)
