"""The citizen's side over HTTP: no account, the tracking code (民声码) is the credential (services/tracking.py)."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Ctx, client_address, public_base
from api.uploads import UPLOAD_FORM, read_upload
from services import codes, tracking
from services.schemas import CitizenUpdateIn, MaterialOut, RatingIn, ReviewIn, TrackView

router = APIRouter(prefix="/api/v1/track", tags=["citizen"])

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/{code}", response_model=TrackView)
async def track(code: str, request: Request, ctx: Ctx, response: Response) -> TrackView:
    response.headers.update(NO_STORE)
    return await tracking.track(ctx, code, client_address(request))


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
