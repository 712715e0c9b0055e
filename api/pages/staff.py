"""The staff console (/staff/…): sign in, my work, the clerks' triage queue, the case page with the steps this
person may take now, red cases, messages. Server-rendered Chinese pages on the same services as the JSON API;
every form post carries the session's CSRF token and answers with a redirect and a one-time message
(POST-redirect-GET). Pages parse, authorise (the services decide), call a service and render."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.deps import Ctx, RowId, client_address, public_base
from api.pages.rendering import form_text, message_link, read_flash, redirect, render, take_flash
from api.pages.staff_auth import COOKIE, CSRF_FIELD, STAFF, Me, checked_form, safe_next, signed_in
from api.uploads import MULTIPART_SLACK
from domain import stages
from domain.case_flow import STATUS_ZH
from domain.models import Role
from domain.settings import parse_duration
from domain.taxonomy import TOWNSHIP_LED
from services import cases, console, inbox, intake, sessions, steps, tracking, triage, work
from services.db import run
from services.errors import Refusal
from services.schemas import (
    AssignIn,
    CitizenIn,
    CitizenUpdateIn,
    ExtensionDecisionIn,
    ExtensionIn,
    IntakeIn,
    MeetingIn,
    ReasonIn,
    ReissueIn,
    ResolveIn,
    ResumeIn,
    ReviewDecisionIn,
    TeamIn,
    TriageIn,
    UrgeIn,
)

router = APIRouter(include_in_schema=False)

ROLE_ZH = {
    "clerk": "受理员",
    "mediator": "调解员",
    "leader": "负责人",
    "county_leader": "县领导",
    "supervisor": "督办员",
    "auditor": "审计员",
    "inspector": "督查专员",
}
# The contract's button names for the steps (domain/case_flow.py STEPS has the steps' own names).
BUTTON = {
    "triage": "分流",
    "assign": "交办",
    "form_team": "组团",
    "accept_team": "接受组团邀请",
    "decline_team": "谢绝组团",
    "record_mediation": "记录调解",
    "resolve": "办结",
    "urge": "督办",
    "record_consultation": "会商",
    "withdraw": "撤回",
    "reject": "不予受理",
    "review_decision": "复核决定",
    "reissue_code": "补发查询码",
    "add_material": "补充材料",
    "citizen_update": "更新诉求",
    "pause": "暂停计时",
    "resume": "恢复计时",
    "request_extension": "申请延期",
    "decide_extension": "审批延期",
    "send_back": "退回",
}
DONE = {
    "triage": "已分流",
    "assign": "已交办",
    "form_team": "已组团",
    "accept_team": "已接受组团邀请",
    "decline_team": "已谢绝组团，系统正在匹配替补人员",
    "record_mediation": "调解记录已保存",
    "resolve": "已办结，等待群众评价",
    "urge": "已督办，承办人员会收到提醒",
    "record_consultation": "会商记录已保存",
    "withdraw": "案件已撤回",
    "reject": "已不予受理",
    "review_decision": "复核决定已保存",
    "citizen_update": "已记录群众更新的诉求",
    "pause": "已暂停计时，黄码、红码时限停止计算",
    "resume": "已恢复计时，时限按暂停时长顺延",
    "request_extension": "延期申请已提交，等待审批",
    "decide_extension": "延期审批意见已保存",
    "send_back": "案件已退回中心重新分流",
}
COLOUR_ZH = {"green": "绿码", "yellow": "黄码", "red": "红码"}
CLOCK_ZH = console.CLOCK_ZH
OUTCOME_ZH = {"agreement": "达成调解协议", "handled": "已依法处理", "referred": "已引导至其他途径解决"}


def _page(
    request: Request, me: sessions.Current | None, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    ctx = request.app.state.ctx
    base = {
        "me": me,
        "role_zh": ROLE_ZH,
        "csrf": me.csrf if me else "",
        "csrf_field": CSRF_FIELD,
        "flash": read_flash(request),
        "tx": ctx.taxonomy,
        "colour_zh": COLOUR_ZH,
        "status_zh": {s.value: zh for s, zh in STATUS_ZH.items()},
        "clock_zh": CLOCK_ZH,
        "now": datetime.now(UTC),
    }
    response = render(request, name, base | context, status)
    take_flash(request, response, STAFF)
    return response


def _back(url: str, message: str, kind: str = "ok") -> RedirectResponse:
    return redirect(url, (kind, message), STAFF)


def _case_url(case_id: str) -> str:
    return f"/staff/cases/{quote(case_id, safe='')}"


def _refused(request: Request, me: sessions.Current, err: Refusal) -> HTMLResponse:
    return _page(request, me, "staff/refused.html", {"detail": err.detail, "status": err.status_code}, err.status_code)


# --- signing in and out ----------------------------------------------------------------------------------


@router.get("/staff/login", response_class=HTMLResponse)
async def login_form(request: Request, ctx: Ctx, next: str | None = None) -> Response:
    if await signed_in(request, ctx) is not None:
        return redirect(safe_next(next))
    return _page(request, None, "staff/login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/staff/login", response_class=HTMLResponse)
async def login_submit(request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    username, password = form_text(form, "username").strip(), form_text(form, "password")
    target = safe_next(form_text(form, "next"))
    if not username or not password:
        context = {"next": target, "username": username, "error": "请输入用户名和密码"}
        return _page(request, None, "staff/login.html", context, 422)
    try:
        client = client_address(request)
        done = await run(
            ctx.engine, lambda db: sessions.sign_in(db, ctx.settings, ctx.logins, username, password, client)
        )
    except Refusal as err:
        context = {"next": target, "username": username, "error": err.message}
        return _page(request, None, "staff/login.html", context, err.status_code)
    response = redirect(target)
    response.set_cookie(
        COOKIE,
        done.session_id,
        max_age=int(parse_duration(ctx.settings.staff_session_ttl).total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/staff/logout")
async def logout(request: Request, ctx: Ctx, me: Me) -> Response:
    await checked_form(request, me)
    session_id = request.cookies.get(COOKIE)
    await run(ctx.engine, lambda db: sessions.sign_out(db, session_id))
    response = redirect("/staff/login", ("ok", "您已安全退出"), STAFF)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- my work -----------------------------------------------------------------------------------------------


@router.get("/staff/", response_class=HTMLResponse)
async def my_work(request: Request, ctx: Ctx, me: Me, sort: str = "due", colour: str | None = None) -> Response:
    sort_by = sort if sort in ("due", "colour", "received") else "due"
    chosen = colour if colour in COLOUR_ZH else None
    view = await run(ctx.engine, lambda db: work.my_work(db, me.actor, sort_by, chosen))  # type: ignore[arg-type]
    return _page(request, me, "staff/work.html", {"work": view, "sort": sort_by, "colour": chosen})


@router.get("/staff", include_in_schema=False)
async def staff_root() -> Response:
    return redirect(STAFF)


# --- intake at the window or on the phone ----------------------------------------------------------------

INTAKE_FIELDS = ("description", "name", "phone", "address", "township", "category", "channel")


def _intake_refused(me: sessions.Current) -> Refusal | None:
    if me.actor.role not in intake.INTAKE_ROLES:
        return Refusal(403, "forbidden_role", "只有受理员可以代群众登记诉求")
    return None


@router.get("/staff/intake", response_class=HTMLResponse)
async def intake_form(request: Request, me: Me) -> Response:
    refused = _intake_refused(me)
    if refused:
        return _refused(request, me, refused)
    values = {"channel": "clerk", "sms": "yes"}
    return _page(request, me, "staff/intake.html", {"values": values, "errors": {}, "banner": None})


@router.post("/staff/intake", response_class=HTMLResponse)
async def intake_submit(request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    refused = _intake_refused(me)
    if refused:
        return _refused(request, me, refused)
    values = {k: form_text(form, k) for k in INTAKE_FIELDS}
    values["channel"] = "phone" if values["channel"] == "phone" else "clerk"
    values["sms"] = "yes" if form.get("sms") else ""  # 接收短信通知: the citizen may say no
    body = IntakeIn(
        description=values["description"],
        citizen=CitizenIn(name=values["name"], phone=values["phone"]),
        address=values["address"] or None,
        township=values["township"] or None,
        category=values["category"] or None,
        channel=values["channel"],
        notify_by_sms=bool(values["sms"]),
    )
    errors = {p.field: p.message for p in reversed(body.problems(ctx.settings, ctx.taxonomy))}
    if errors:
        return _page(request, me, "staff/intake.html", {"values": values, "errors": errors, "banner": None}, 422)
    try:
        out = await intake.take_in(ctx, body, me.actor, client_address(request), public_base(request))
    except Refusal as err:
        context = {"values": values, "errors": {err.field: err.message} if err.field else {}, "banner": err.message}
        return _page(request, me, "staff/intake.html", context, err.status_code)
    return redirect(f"/track/{quote(out.tracking_code, safe='')}/receipt")


# --- the clerks' triage queue ---------------------------------------------------------------------------


@router.get("/staff/triage", response_class=HTMLResponse)
async def triage_queue(request: Request, ctx: Ctx, me: Me) -> Response:
    if me.actor.role not in (Role.clerk, Role.supervisor):
        return _refused(request, me, Refusal(403, "forbidden_role", "分流队列仅供受理员和督办员使用"))
    queue = await run(ctx.engine, lambda db: triage.queue(db, ctx.taxonomy))
    return _page(request, me, "staff/triage.html", {"queue": queue})


# --- the case page ---------------------------------------------------------------------------------------


@router.get("/staff/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    try:
        page = await console.case_page(ctx, case_id, me.actor)
    except Refusal as err:
        return _refused(request, me, err)
    done = stages.completed(page.view.status)
    rings = [
        {"zh": zh, "state": "done" if i < done else ("current" if i == done else "waiting")}
        for i, (_, zh) in enumerate(stages.STAGES)
    ]
    return _page(
        request,
        me,
        "staff/case.html",
        {
            "page": page,
            "v": page.view,
            "stages": rings,
            "button": BUTTON,
            "outcome_zh": OUTCOME_ZH,
            "township_led": TOWNSHIP_LED,
        },
    )


@router.get("/staff/cases/{case_id}/materials/{material_id}")
async def material(case_id: str, material_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    try:
        m = await cases.material_file(ctx, case_id, material_id, me.actor)
    except Refusal as err:
        return _refused(request, me, err)
    # Inline, so an image or a PDF opens in the browser; the type was checked by content at upload.
    return FileResponse(
        m.path,
        media_type=m.content_type,
        filename=m.filename,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def _lines(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").replace("\n", ",").split(",") if p.strip()]


def _step_body(step: str, form: FormData) -> Any:
    """The step's input model from the posted form (pydantic validates it, as for the JSON API)."""
    text = lambda name: form_text(form, name)  # noqa: E731
    match step:
        case "triage":
            return TriageIn(
                category=text("category"),
                unit=text("unit"),
                township=text("township") or None,
                reason=text("reason").strip() or None,
            )
        case "assign":
            return AssignIn(handler=text("handler"), reason=text("reason").strip() or None)
        case "form_team":
            chosen = [m for m in form.getlist("members") if isinstance(m, str) and m]
            return TeamIn(members=chosen or None, accept_suggestion=not chosen, reason=text("reason").strip() or None)
        case "record_mediation" | "record_consultation":
            return MeetingIn(
                summary=text("summary"), held_at=text("held_at"), participants=_lines(text("participants"))
            )
        case "resolve":
            return ResolveIn(outcome=text("outcome"), summary=text("summary"))  # type: ignore[arg-type]
        case "urge":
            return UrgeIn(note=text("note").strip() or None)
        case "decline_team" | "withdraw" | "reject" | "pause" | "send_back":
            return ReasonIn(reason=text("reason"))
        case "resume":
            return ResumeIn(note=text("note").strip() or None)
        case "request_extension":
            days = text("days").strip()
            if not days.isdigit() or int(days) < 1:
                raise Refusal(422, "invalid_duration", "请填写延期天数（正整数，如 3）", field="duration")
            return ExtensionIn(duration=f"P{int(days)}D", reason=text("reason"))
        case "decide_extension":
            return ExtensionDecisionIn(approve=text("approve") == "yes", reason=text("reason"))
        case "review_decision":
            return ReviewDecisionIn(rehandle=text("rehandle") == "yes", reason=text("reason"))
        case "citizen_update":
            return CitizenUpdateIn(text=text("text"))
    return None


FIELD_ZH = {
    "summary": "摘要",
    "held_at": "时间",
    "participants": "参加人员",
    "reason": "理由",
    "outcome": "结果",
    "handler": "承办人",
    "category": "类别",
    "unit": "承办单位",
    "township": "乡镇",
    "members": "成员",
    "note": "说明",
    "duration": "延期天数",
    "approve": "审批意见",
}


def _invalid(err: ValidationError) -> str:
    first = err.errors()[0]
    if first.get("type") == "held_at_in_future":
        return str(first.get("msg"))
    field = ".".join(str(p) for p in first.get("loc", ()) if isinstance(p, str))
    return f"请检查“{FIELD_ZH.get(field, field or '输入')}”：必填或格式不正确"


@router.post("/staff/cases/{case_id}/steps/{step}")
async def take_step(case_id: str, step: str, request: Request, ctx: Ctx, me: Me) -> Response:
    if step == "add_material":
        return await _material(case_id, request, ctx, me)
    form = await checked_form(request, me)
    # Back to the page the form was on (the work page's invitations), else the case.
    back = safe_next(form_text(form, "back")) if form_text(form, "back") else _case_url(case_id)
    if step not in BUTTON:
        return _back(back, "未知的办理操作", "error")
    if step == "reissue_code":
        return await _reissue(case_id, request, ctx, me, form)
    try:
        body = _step_body(step, form)
    except ValidationError as err:
        return _back(back, _invalid(err), "error")
    except Refusal as err:
        return _back(back, err.message, "error")
    service = getattr(steps, step)
    try:
        await (service(ctx, case_id, me.actor) if body is None else service(ctx, case_id, me.actor, body))
    except Refusal as err:
        if err.status_code in (401, 403, 404):
            return _refused(request, me, err)
        return _back(back, err.message, "error")
    return _back(back, DONE.get(step, "已保存"))


async def _material(case_id: str, request: Request, ctx: Ctx, me: sessions.Current) -> Response:
    back = _case_url(case_id)
    limit = ctx.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        return _back(back, f"文件不能超过 {limit // 1024} KB", "error")
    form = await checked_form(request, me, max_files=1, max_fields=5)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _back(back, "请选择要上传的文件", "error")
        material = tracking.Upload(
            filename=upload.filename, content=await upload.read(limit + 1), note=form_text(form, "note") or None
        )
    finally:
        await form.close()
    try:
        out = await steps.add_material(ctx, case_id, me.actor, material)
    except Refusal as err:
        if err.status_code in (401, 403, 404):
            return _refused(request, me, err)
        return _back(back, err.message, "error")
    return _back(back, f"材料已上传：{out.filename}")


async def _reissue(case_id: str, request: Request, ctx: Ctx, me: sessions.Current, form: FormData) -> Response:
    """The new code is shown once, on this page, never in a redirect or a cookie."""
    body = ReissueIn(reason=form_text(form, "reason").strip() or None)
    try:
        links = await steps.reissue_code(ctx, case_id, me.actor, body, public_base(request))
    except Refusal as err:
        if err.status_code in (401, 403, 404):
            return _refused(request, me, err)
        return _back(_case_url(case_id), err.message, "error")
    return _page(request, me, "staff/reissued.html", {"links": links, "case_url": _case_url(case_id)})


# --- red cases and messages ------------------------------------------------------------------------------


@router.get("/staff/red", response_class=HTMLResponse)
async def red_cases(request: Request, ctx: Ctx, me: Me) -> Response:
    now = datetime.now(UTC)
    red = await run(ctx.engine, lambda db: console.red_cases(db, me.actor, now))
    return _page(request, me, "staff/red.html", {"red": red})


@router.get("/staff/messages", response_class=HTMLResponse)
async def messages(request: Request, ctx: Ctx, me: Me, unread: bool = False) -> Response:
    items = await run(ctx.engine, lambda db: inbox.inbox(db, me.actor.username, unread, 200))
    return _page(request, me, "staff/messages.html", {"items": items, "unread_only": unread})


@router.post("/staff/messages/{notification_id}/read")
async def message_read(notification_id: RowId, request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    try:
        note = await run(ctx.engine, lambda db: inbox.mark_read(db, me.actor.username, notification_id))
    except Refusal as err:
        return _refused(request, me, err)
    target = form_text(form, "go")
    if target == "case":
        return redirect(message_link(note.kind, note.case_id)[1])
    return redirect("/staff/messages")
