"""The citizen's side over HTTP: no account, the tracking code (民声码) is the credential (services/tracking.py)."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.deps import Ctx, client_address, public_base
from services import codes, tracking
from services.errors import Refusal, invalid
from services.schemas import CitizenUpdateIn, MaterialOut, RatingIn, ReviewIn, TrackView

router = APIRouter(prefix="/api/v1/track", tags=["citizen"])

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or PDF"},
                        "note": {"type": "string", "maxLength": tracking.NOTE_MAX},
                    },
                }
            }
        },
    }
}
MULTIPART_SLACK = 64 * 1024  # room for the form's boundaries and headers around the file
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/{code}", response_model=TrackView)
async def track(code: str, request: Request, ctx: Ctx, response: Response) -> TrackView:
    response.headers.update(NO_STORE)
    return await tracking.track(ctx, code, client_address(request))


async def read_upload(request: Request, limit: int) -> tracking.Upload:
    """The multipart form's one file and note, read no further than the size limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        raise Refusal(413, "file_too_large", f"文件不能超过 {limit // 1024} KB")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Refusal(415, "multipart_required", "请以 multipart/form-data 上传文件")
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("file_required", "请选择要上传的文件", field="file")
        note = form.get("note")
        return tracking.Upload(
            filename=upload.filename, content=await upload.read(limit + 1), note=note if isinstance(note, str) else None
        )
    finally:
        await form.close()


@router.post("/{code}/materials", status_code=201, response_model=MaterialOut, openapi_extra=UPLOAD_FORM)
async def add_material(code: str, request: Request, ctx: Ctx) -> MaterialOut:
    """补充材料: one file (JPEG, PNG, WebP or PDF, checked by content) and an optional note."""
    case_id = await tracking.open_case(ctx, code, client_address(request))  # before the upload is read
    upload = await read_upload(request, ctx.settings.max_upload_bytes)
    return await tracking.add_material(ctx, case_id, upload)


@router.post("/{code}/updates", response_model=TrackView)
async def citizen_update(code: str, body: CitizenUpdateIn, request: Request, ctx: Ctx) -> TrackView:
    """更新诉求: add to what the citizen asked for."""
    return await tracking.citizen_update(ctx, code, client_address(request), body)


@router.post("/{code}/review", response_model=TrackView)
async def request_review(code: str, body: ReviewIn, request: Request, ctx: Ctx) -> TrackView:
    """申请复核: after a rating of 1–2, within the review window (409 otherwise)."""
    return await tracking.request_review(ctx, code, client_address(request), body)


@router.post("/{code}/rating", response_model=TrackView)
async def rate(code: str, body: RatingIn, request: Request, ctx: Ctx) -> TrackView:
    """评价: 1–5 stars once the case is resolved (409 before that)."""
    return await tracking.rate(ctx, code, client_address(request), body)


async def _qr(request: Request, ctx: Ctx, code: str) -> segno.QRCode:
    await tracking.open_case(ctx, code, client_address(request))
    return segno.make(codes.tracking_url(public_base(request), code), error="m")


@router.get("/{code}/qr.svg", response_class=Response)
async def qr_svg(code: str, request: Request, ctx: Ctx) -> Response:
    buf = io.BytesIO()
    (await _qr(request, ctx, code)).save(buf, kind="svg", scale=8, border=2, xmldecl=False)
    return Response(buf.getvalue(), media_type="image/svg+xml", headers=NO_STORE)


@router.get("/{code}/qr.png", response_class=Response)
async def qr_png(code: str, request: Request, ctx: Ctx) -> Response:
    buf = io.BytesIO()
    (await _qr(request, ctx, code)).save(buf, kind="png", scale=8, border=2)
    return Response(buf.getvalue(), media_type="image/png", headers=NO_STORE)
