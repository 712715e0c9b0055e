"""The citizen's pages: server-rendered Chinese HTML for a kiosk or a cheap phone, usable without JavaScript.

Every page calls the same services as the JSON API (services/intake.py, services/tracking.py), so validation,
rate limits, the workflow's rules and 503 behave the same; this module only turns forms into those calls and
their answers (or Refusals) into pages. POSTs answer with a redirect and a one-time flash message
(POST-redirect-GET) on success, and re-render the page with the message next to the form on a refusal.

Pages that carry a tracking code are never cached and never leak it in a Referer header."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import receipt
from api.deps import AppContext, Ctx, client_address, public_base
from api.pages.rendering import error_page, form_text, read_flash, redirect, render, take_flash
from api.uploads import read_upload
from domain import stages
from domain.case_flow import is_low_rating
from services import codes, intake, tracking, uploads
from services.errors import Refusal
from services.schemas import (
    ADDRESS_MAX,
    INVALID_TEXT,
    CitizenIn,
    CitizenUpdateIn,
    IntakeIn,
    RatingIn,
    ReviewIn,
    TrackView,
)

router = APIRouter(include_in_schema=False)

TRACK = "/track/"  # where the citizen pages keep their flash message
NOTE_MAX = uploads.NOTE_MAX
COMMENT_MAX = 500
REASON_MAX = 1000
ACCEPT = "image/*,application/pdf"

COLOUR = {
    "green": ("绿", "正常办理中"),
    "yellow": ("黄", "已超过期限未办结，已推送乡镇和部门主要领导督促"),
    "red": ("红", "已严重超期，县领导领衔督办"),
}
CLOCK_ZH = {  # name → (label, whether the label shows the promised duration)
    "routed": ("分流", True),
    "assigned": ("交办到人", True),
    "team": ("组建调处团队", True),
    "yellow": ("办结时限（超期转黄码）", False),
    "red": ("办结时限（超期转红码）", False),
}
REVIEW_ZH = {
    "requested": "复核申请已提交，等待中心督查人员决定",
    "rehandled": "复核决定：重新办理",
    "upheld": "复核决定：维持原处理结果",
}
INTAKE_FORM = ("description", "name", "phone", "address", "township", "category", "channel")


# --- helpers ---------------------------------------------------------------------------------------------


def _track_url(code: str, suffix: str = "") -> str:
    return f"/track/{quote(code, safe='')}{suffix}"


async def _track_view(code: str, request: Request, ctx: AppContext) -> TrackView:
    """The citizen's view (rate limit, 404 for unknown or revoked codes)."""
    return await tracking.track(ctx, code, client_address(request))


# --- the tracking page's presentation --------------------------------------------------------------------


def _stages(view: TrackView) -> list[dict[str, Any]]:
    """The six rings 受理—分流—交办—调解—监督—评价, each done / current / waiting, with its time."""
    done = stages.completed(view.status)
    ended = stages.ended_early(view.status)
    last: dict[str, datetime] = {}
    first: dict[str, datetime] = {}
    for e in view.timeline:
        key = stages.ring_of(e.stage)
        first.setdefault(key, e.at)
        last[key] = e.at
    resolved_at = next((e.at for e in reversed(view.timeline) if e.stage == "resolved"), None)
    items = []
    for i, (key, zh) in enumerate(stages.STAGES):
        state = "done" if i < done else ("current" if i == done and not ended else "waiting")
        at = None
        note = ""
        if key == "received":
            at = first.get("received") or view.received_at
        elif key in ("routed", "assigned"):
            at = last.get(key) if state == "done" else None
        elif key == "mediating":
            at = resolved_at if state == "done" else last.get("mediating")
            note = "已办结" if state == "done" else ("调解中" if state == "current" else "")
        elif key == "supervision":  # runs alongside the handling, from intake until the case is resolved
            at = last.get("supervision")
            name, _ = COLOUR.get(view.supervision_color, ("绿", ""))
            if state == "waiting" and not ended:
                state = "running"
            note = "" if ended else (f"全程督办 · 督办码{name}色" if state == "running" else f"督办码{name}色")
        elif key == "rated":
            at = last.get("rated") if state == "done" else None
            if state == "current":
                note = "请您评价"
            elif view.status == "under_review":
                note = "已申请复核"
        items.append({"key": key, "zh": zh, "state": state, "at": at, "note": note})
    if done >= len(stages.STAGES):
        items[-1]["state"] = "done"
    return items


def _clock_lines(view: TrackView, now: datetime) -> list[dict[str, str]]:
    """Each service-level clock as met / due in / missed, in Chinese."""
    lines = []
    for c in view.clocks:
        if c.name not in CLOCK_ZH:  # the task force's own deadline is the county's business, not a promise
            continue
        label, timed = CLOCK_ZH[c.name]
        due = c.due_at
        if timed and due > view.received_at:
            label = f"{label}（{receipt.zh_exact(due - view.received_at)}内）"
        if c.met_at is not None:
            late = c.breached or c.met_at > due
            state, text = (
                ("late", f"超时后于 {receipt.china_time(c.met_at)} 完成")
                if late
                else ("met", f"已按时完成（{receipt.china_time(c.met_at)}）")
            )
        elif c.breached:
            state, text = "missed", f"已超时（期限 {receipt.china_time(due)}），已上报督办"
        elif c.stopped_at is not None:
            state, text = "stopped", "案件已结束，不再计时"
        elif c.paused_at is not None:
            state, text = "paused", f"等待补充材料，计时暂停（自 {receipt.china_time(c.paused_at)} 起，恢复后顺延）"
        elif due > now:
            state, text = "due", f"还剩 {receipt.zh_span(due - now)}（期限 {receipt.china_time(due)}）"
        else:
            state, text = "missed", f"已到期（期限 {receipt.china_time(due)}）"
        lines.append({"name": c.name, "label": label, "state": state, "text": text})
    return lines


def _track_context(request: Request, code: str, view: TrackView, **extra: Any) -> dict[str, Any]:
    ctx: AppContext = request.app.state.ctx
    now = datetime.now(UTC)
    colour_name, colour_text = COLOUR.get(view.supervision_color, ("绿", ""))
    review = view.review if isinstance(view.review, dict) else None
    return {
        "code": code,
        "view": view,
        "stages": _stages(view),
        "clocks": _clock_lines(view, now),
        "colour_name": colour_name,
        "colour_text": colour_text,
        "can_add": stages.citizen_may_add(view.status),
        "can_review": bool(getattr(view, "can_review", False)),
        "review": review,
        "review_zh": REVIEW_ZH.get(review.get("status"), "") if review else "",
        "flash": read_flash(request),
        "errors": {},
        "values": {},
        "max_upload_kb": ctx.settings.max_upload_bytes // 1024,
        "max_upload_label": _size_label(ctx.settings.max_upload_bytes),
        "max_upload_bytes": ctx.settings.max_upload_bytes,
        "accept": ACCEPT,
        "note_max": NOTE_MAX,
        "comment_max": COMMENT_MAX,
        "reason_max": REASON_MAX,
        "text_max": ctx.settings.max_description_chars,
        "receipt_url": _track_url(code, "/receipt"),
        "track_url": _track_url(code),
        **extra,
    }


def _size_label(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


async def _rerender(
    request: Request, code: str, ctx: AppContext, form: str, err: Refusal, values: dict[str, str]
) -> HTMLResponse:
    """A refused step: the tracking page again, with the message next to the form and what was typed kept."""
    if err.status_code in (404, 429):
        return error_page(request, err)
    try:
        view = await _track_view(code, request, ctx)
    except Refusal as again:
        return error_page(request, again)
    detail = err.detail if isinstance(err.detail, dict) else {"message": str(err.detail)}
    message = detail.get("message") or "操作未成功，请稍后再试"
    context = _track_context(request, code, view, errors={form: message}, values=values)
    return render(request, "track.html", context, err.status_code)


# --- pages -----------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", {"error": None})


@router.get("/track", response_class=HTMLResponse)
def lookup(request: Request, code: str = "") -> Response:
    """The landing page's look-up form: a code typed by hand (spaces ignored) or a pasted tracking URL."""
    text = "".join(code.split())
    if "/track/" in text:
        text = text.split("/track/", 1)[1].split("/")[0].split("?")[0]
    if not text:
        return render(request, "home.html", {"error": "请输入回执上的查询码"}, 422)
    if len(text) > 128:
        return render(request, "home.html", {"error": "查询码格式不正确，请核对回执"}, 422)
    return redirect(_track_url(text))


def _intake_context(
    ctx: AppContext, values: dict[str, str], errors: dict[str, str], banner: str | None = None
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "banner": banner,
        "townships": ctx.taxonomy.townships,
        "categories": ctx.taxonomy.dispute_categories,
        "description_max": ctx.settings.max_description_chars,
        "address_max": ADDRESS_MAX,
    }


@router.get("/intake", response_class=HTMLResponse)
def intake_form(request: Request, ctx: Ctx, channel: str = "web") -> HTMLResponse:
    values = dict.fromkeys(INTAKE_FORM, "") | {"channel": "kiosk" if channel == "kiosk" else "web", "sms": "yes"}
    return render(request, "intake.html", _intake_context(ctx, values, {}))


@router.post("/intake", response_class=HTMLResponse)
async def intake_submit(request: Request, ctx: Ctx) -> Response:
    try:
        intake.count_attempt(ctx, None, client_address(request))  # every attempt, valid or not
    except Refusal as err:
        return error_page(request, err)
    form = await request.form(max_files=0, max_fields=20)
    values = {k: form_text(form, k) for k in INTAKE_FORM}
    values["consent"] = "yes" if form.get("consent") else ""
    values["sms"] = "yes" if form.get("sms") else ""  # 接收短信通知, checked by default
    values["channel"] = "kiosk" if values["channel"] == "kiosk" else "web"
    try:
        body = IntakeIn(
            description=values["description"],
            citizen=CitizenIn(name=values["name"], phone=values["phone"]),
            address=values["address"] or None,
            township=values["township"] or None,
            category=values["category"] or None,
            channel=values["channel"],
            notify_by_sms=bool(values["sms"]),
        )
    except ValidationError:  # a control character (services/schemas.py: Checked); the form's fields are text
        return render(request, "intake.html", _intake_context(ctx, values, {}, INVALID_TEXT), 422)
    errors = {p.field: p.message for p in reversed(body.problems(ctx.settings, ctx.taxonomy))}
    if not values["consent"]:  # the form asks in so many words; the JSON API's callers agreed elsewhere
        errors["consent"] = "请勾选同意，我们才能受理并联系您"
    if errors:
        return render(request, "intake.html", _intake_context(ctx, values, errors), 422)
    try:
        out = await intake.take_in(ctx, body, None, client_address(request), public_base(request))
    except Refusal as err:
        if err.status_code == 422 and err.field in INTAKE_FORM:
            return render(request, "intake.html", _intake_context(ctx, values, {err.field: err.message}), 422)
        if err.status_code == 429:
            return error_page(request, err)
        banner = (
            "系统暂时无法受理，请稍后再试；您填写的内容已保留。"
            if err.status_code >= 500
            else err.message or "提交未成功，请检查后重试"
        )
        return render(request, "intake.html", _intake_context(ctx, values, {}, banner), err.status_code)
    return redirect(_track_url(out.tracking_code, "/receipt"))


async def _receipt_data(code: str, request: Request, ctx: AppContext) -> receipt.ReceiptData:
    view = await _track_view(code, request, ctx)  # rate limit, 404 for unknown or revoked codes
    return receipt.ReceiptData(
        case_no=view.case_no,
        received_at=view.received_at,
        code=code,
        tracking_url=codes.tracking_url(public_base(request), code),
    )


@router.get("/track/{code}/receipt", response_class=HTMLResponse)
async def receipt_page(code: str, request: Request, ctx: Ctx) -> HTMLResponse:
    try:
        data = await _receipt_data(code, request, ctx)
    except Refusal as err:
        return error_page(request, err)
    return render(
        request,
        "receipt.html",
        {
            "data": data,
            "code": code,
            "code_grouped": receipt.grouped_code(code),
            "qr_svg": receipt.qr_svg(data.tracking_url),
            "promises": receipt.promises(ctx.settings),
            "track_url": _track_url(code),
            "png_url": _track_url(code, "/receipt.png"),
        },
    )


@router.get("/track/{code}/receipt.png")
async def receipt_png(code: str, request: Request, ctx: Ctx) -> Response:
    """The receipt as a PNG (for a slip printer or to save on the phone); 503 font_unavailable without a CJK
    font on the server (the HTML receipt still works)."""
    data = await _receipt_data(code, request, ctx)  # Refusals answer in the contract's JSON shape
    font = receipt.find_cjk_font()
    if font is None:
        raise Refusal(503, "font_unavailable", "服务器未安装中文字体，无法生成回执图片；请使用网页版回执打印")
    png = await asyncio.to_thread(receipt.receipt_png, data, ctx.settings, font)
    return Response(
        png,
        media_type="image/png",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Disposition": f'inline; filename="receipt-{data.case_no}.png"',
        },
    )


@router.get("/track/{code}", response_class=HTMLResponse)
async def track_page(code: str, request: Request, ctx: Ctx) -> HTMLResponse:
    try:
        view = await _track_view(code, request, ctx)
    except Refusal as err:
        return error_page(request, err)
    response = render(request, "track.html", _track_context(request, code, view))
    take_flash(request, response, TRACK)
    return response


@router.post("/track/{code}/materials", response_class=HTMLResponse)
async def material_submit(code: str, request: Request, ctx: Ctx) -> Response:
    try:
        case_id = await tracking.open_case(ctx, code, client_address(request))
        upload = await read_upload(request, ctx.settings.max_upload_bytes)
        out = await tracking.add_material(ctx, case_id, upload)
    except Refusal as err:
        return await _rerender(request, code, ctx, "material", err, {})
    return redirect(_track_url(code), ("ok", f"材料已上传：{out.filename}"), TRACK)


@router.post("/track/{code}/updates", response_class=HTMLResponse)
async def update_submit(code: str, request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    text = form_text(form, "text")
    try:
        await tracking.citizen_update(ctx, code, client_address(request), CitizenUpdateIn(text=text))
    except Refusal as err:
        return await _rerender(request, code, ctx, "update", err, {"text": text})
    return redirect(_track_url(code), ("ok", "已收到您更新的诉求，承办人会看到"), TRACK)


@router.post("/track/{code}/rating", response_class=HTMLResponse)
async def rating_submit(code: str, request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    score, comment = form_text(form, "score"), form_text(form, "comment")
    values = {"score": score, "comment": comment}
    try:
        try:
            body = RatingIn(score=int(score), comment=comment.strip() or None)
        except (ValueError, ValidationError):
            if len(comment.strip()) > COMMENT_MAX:
                raise Refusal(422, "comment_too_long", f"评价内容不能超过 {COMMENT_MAX} 字") from None
            raise Refusal(422, "score_required", "请选择 1 至 5 星") from None
        await tracking.rate(ctx, code, client_address(request), body)
    except Refusal as err:
        return await _rerender(request, code, ctx, "rating", err, values)
    low = is_low_rating(body.score)
    thanks = "感谢您的评价" + ("。如对处理结果不满意，可在下方申请复核" if low else "")
    return redirect(_track_url(code), ("ok", thanks), TRACK)


@router.post("/track/{code}/review", response_class=HTMLResponse)
async def review_submit(code: str, request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    reason = form_text(form, "reason")
    try:
        try:
            body = ReviewIn(reason=reason)
        except ValidationError:
            message = (
                f"复核理由不能超过 {REASON_MAX} 字" if len(reason.strip()) > REASON_MAX else "请写明申请复核的理由"
            )
            raise Refusal(422, "reason_required", message) from None
        await tracking.request_review(ctx, code, client_address(request), body)
    except Refusal as err:
        return await _rerender(request, code, ctx, "review", err, {"reason": reason})
    return redirect(_track_url(code), ("ok", "复核申请已提交，中心督查人员会尽快作出决定"), TRACK)


@router.get("/poster", response_class=HTMLResponse)
def poster(request: Request, ctx: Ctx) -> HTMLResponse:
    """The centre's A4 poster for its hall and the townships' service points: scan to register a request."""
    url = f"{public_base(request)}/intake"
    return render(
        request,
        "poster.html",
        {"qr_svg": receipt.qr_svg(url, "扫码登记诉求"), "url": url, "promises": receipt.promises(ctx.settings)},
    )
