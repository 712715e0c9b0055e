"""The safety-inspection pages of the staff console (平安督查), phone first: an inspector's week (planned visits,
hazards to verify or re-check), recording a visit and the hazards found with photos taken on the spot, the
responsible unit's hazards with their deadlines and its evidence, and the hazard page with only the steps the
person may take now. Same session, CSRF check and POST-redirect-GET as the rest of the console; the services
(services/inspection.py, services/inspection_visits.py) decide everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.deps import Ctx
from api.pages.rendering import form_text
from api.pages.staff import _back, _page, _refused
from api.pages.staff_auth import Me, checked_form
from api.uploads import MULTIPART_SLACK
from domain.hazards import OPEN, SEVERITY_ZH, STATUS_ZH
from domain.inspection import VISIT_KIND_ZH, VisitKind, district_zh, week_of
from domain.models import Role
from domain.taxonomy import TOWNSHIP_LED, is_department
from domain.times import china_local
from services import inspection, inspection_visits, sessions, tracking
from services.db import run
from services.errors import Refusal
from services.inspection_schemas import HazardIn, HazardListQuery, RecheckIn, VerifyIn
from services.inspection_visits import VisitIn, VisitListQuery
from store.directory import display_names

router = APIRouter(include_in_schema=False)

BASE = "/staff/inspection"
INSPECTORS = frozenset({Role.inspector, Role.supervisor})
OVERSEERS = frozenset({Role.supervisor, Role.county_leader, Role.auditor})
UNITS = frozenset({Role.leader, Role.mediator})
MAX_PHOTOS = 9
HAZARD_FIELDS = ("domain", "township", "site", "description", "severity", "unit", "responsible", "measure", "deadline")
VISIT_FIELDS = ("kind", "township", "domain", "site", "note")
EVENT_ZH = {
    "found": "发现隐患，交责任单位整改",
    "evidence_submitted": "整改材料已提交",
    "verification_rejected": "验收不通过",
    "struck_off": "验收通过，销号",
    "recheck_due": "回头看到期",
    "rechecked": "回头看：整改保持",
    "reopened": "回头看：问题复发，重新整改",
    "reminded": "整改期限临近提醒",
    "overdue": "逾期未整改，列入曝光台",
}
DONE = {
    "verify_yes": "验收通过，隐患已销号",
    "verify_no": "已退回责任单位重新整改",
    "recheck_yes": "回头看：整改保持，隐患已关闭",
    "recheck_no": "回头看：问题复发，已重新交办整改",
}


def _hazard_url(hazard_id: str) -> str:
    return f"{BASE}/hazards/{quote(hazard_id, safe='')}"


def _visit_url(visit_id: str) -> str:
    return f"{BASE}/visits/{quote(visit_id, safe='')}"


def _common() -> dict[str, Any]:
    return {
        "visit_kind_zh": {k.value: zh for k, zh in VISIT_KIND_ZH.items()},
        "unplanned": [(k.value, VISIT_KIND_ZH[k]) for k in inspection_visits.UNPLANNED],
        "severity_zh": SEVERITY_ZH,
        "hazard_status_zh": {s.value: zh for s, zh in STATUS_ZH.items()},
        "event_zh": EVENT_ZH,
        "district_zh": district_zh,
        "township_led": TOWNSHIP_LED,
        "is_department": is_department,
        "max_photos": MAX_PHOTOS,
    }


def _ipage(request: Request, me: sessions.Current, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return _page(request, me, f"staff/inspection/{name}", _common() | context, status)


def _fail(request: Request, me: sessions.Current, err: Refusal, back: str) -> Response:
    """Not yours or unknown: the refusal page; anything else: back to the form with the message."""
    if err.status_code in (401, 403, 404):
        return _refused(request, me, err)
    return _back(back, err.message, "error")


# --- the hub --------------------------------------------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
async def hub(request: Request, ctx: Ctx, me: Me) -> Response:
    actor = me.actor
    if actor.role not in INSPECTORS | OVERSEERS | UNITS:
        return _refused(request, me, Refusal(403, "forbidden_role", "平安督查仅供督查专员、责任单位和督查负责人使用"))
    now = datetime.now(UTC)
    this_monday = week_of(now)

    def gather(db: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        hazards = lambda **q: inspection.list_hazards(  # noqa: E731
            db, actor, HazardListQuery(page_size=100, **q), ctx.taxonomy, now
        )
        if actor.role in INSPECTORS:
            planned = inspection_visits.list_visits(db, actor, VisitListQuery(status="planned"), ctx.taxonomy, now)
            out["this_week"] = sorted(
                (v for v in planned.items if v.week is None or v.week <= this_monday), key=lambda v: not v.mine
            )
            out["next_week"] = [v for v in planned.items if v.week is not None and v.week > this_monday]
            done = inspection_visits.list_visits(
                db, actor, VisitListQuery(week=this_monday, status="done", mine=True), ctx.taxonomy, now
            )
            out["done"] = done.items
            out["to_verify"] = hazards(status=["submitted"]).items
            out["to_recheck"] = hazards(status=["struck_off"]).items
        if actor.role in UNITS:
            out["unit_hazards"] = hazards(status=[s.value for s in OPEN]).items
        return out

    lists = await run(ctx.engine, gather)
    return _ipage(request, me, "hub.html", {"lists": lists, "now": now})


# --- visits -------------------------------------------------------------------------------------------------


def _visit_values(form: FormData | None, defaults: dict[str, str]) -> dict[str, str]:
    if form is None:
        return defaults
    return {k: form_text(form, k).strip() for k in VISIT_FIELDS}


def _visit_body(values: dict[str, str]) -> VisitIn:
    kind = values.get("kind") or None
    return VisitIn(
        kind=kind if kind in VisitKind.__members__ else None,  # type: ignore[arg-type]
        township=values.get("township") or None,
        domain=values.get("domain") or None,
        site=values.get("site", "")[:200],
        note=(values.get("note") or "")[:2000] or None,
    )


def _hazard_defaults(visit: inspection_visits.VisitItem | None) -> dict[str, str]:
    if visit is None:
        return {"severity": "general"}
    return {
        "domain": visit.domain or "",
        "township": visit.township or "",
        "site": visit.site or "",
        "severity": "general",
    }


async def _visit_page(
    request: Request,
    ctx: Ctx,
    me: sessions.Current,
    visit_id: str | None,
    kind: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    hazard: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    now = datetime.now(UTC)
    visit, found = None, []
    if visit_id is not None:
        try:

            def read(db: Any) -> tuple[Any, Any]:
                v = inspection_visits.get_visit(db, me.actor, visit_id, ctx.taxonomy)
                return v, inspection_visits.hazards_found(db, me.actor, visit_id, ctx.taxonomy, now)

            visit, found = await run(ctx.engine, read)
        except Refusal as err:
            return _refused(request, me, err)
    elif me.actor.role not in INSPECTORS:
        return _refused(request, me, Refusal(403, "forbidden_role", "只有督查专员可以记录督查走访"))
    if values is None:
        values = (
            {"kind": kind if kind in inspection_visits.UNPLANNED else "daily"}
            if visit is None
            else {"township": visit.township or "", "domain": visit.domain or "", "site": visit.site or ""}
        )
    context = {
        "visit": visit,
        "found": found,
        "values": values,
        "errors": errors or {},
        "may_record": me.actor.role in INSPECTORS,
        "hazard": hazard or {"values": _hazard_defaults(visit), "errors": {}, "photos": [], "banner": None},
    }
    return _ipage(request, me, "visit.html", context, status)


@router.get(f"{BASE}/visits/new", response_class=HTMLResponse)
async def new_visit(request: Request, ctx: Ctx, me: Me, kind: str = "daily") -> Response:
    return await _visit_page(request, ctx, me, None, kind=kind)


@router.post(f"{BASE}/visits/new", response_class=HTMLResponse)
async def record_new_visit(request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    return await _record(request, ctx, me, None, form)


@router.get(f"{BASE}/visits/{{visit_id}}", response_class=HTMLResponse)
async def visit_page(visit_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    return await _visit_page(request, ctx, me, visit_id)


@router.post(f"{BASE}/visits/{{visit_id}}", response_class=HTMLResponse)
async def record_visit(visit_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    return await _record(request, ctx, me, visit_id, form)


async def _record(request: Request, ctx: Ctx, me: sessions.Current, visit_id: str | None, form: FormData) -> Response:
    values = _visit_values(form, {})
    if visit_id is not None:
        values.pop("kind", None)
    try:
        body = _visit_body(values)
    except ValidationError:
        return await _visit_page(request, ctx, me, visit_id, values=values, errors={"site": "输入过长"}, status=422)
    if me.actor.role in INSPECTORS:  # every problem at once; a refusal of the role comes from the service
        problems = body.problems(ctx.taxonomy, planned=visit_id is not None)
        if problems:
            errors = {p.field: p.message for p in reversed(problems)}
            return await _visit_page(request, ctx, me, visit_id, values=values, errors=errors, status=422)
    try:
        out = await inspection_visits.record_visit(ctx, me.actor, visit_id, body)
    except Refusal as err:
        if err.status_code == 422:
            errors = {err.field or "site": err.message}
            return await _visit_page(request, ctx, me, visit_id, values=values, errors=errors, status=422)
        return _fail(request, me, err, _visit_url(visit_id) if visit_id else f"{BASE}/visits/new")
    return _back(_visit_url(out.visit_id), "走访已记录，发现隐患请在下方上报")


# --- reporting a hazard -----------------------------------------------------------------------------------


@router.get(f"{BASE}/hazards/new", response_class=HTMLResponse)
async def new_hazard(request: Request, me: Me) -> Response:
    if me.actor.role not in INSPECTORS:
        return _refused(request, me, Refusal(403, "forbidden_role", "只有督查专员可以上报隐患"))
    hazard = {"values": _hazard_defaults(None), "errors": {}, "photos": [], "banner": None}
    return _ipage(request, me, "hazard_new.html", {"hazard": hazard})


@router.post(f"{BASE}/hazards/new", response_class=HTMLResponse)
async def report_hazard(request: Request, ctx: Ctx, me: Me) -> Response:
    return await _report(request, ctx, me, None)


@router.post(f"{BASE}/visits/{{visit_id}}/hazards", response_class=HTMLResponse)
async def report_on_visit(visit_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    return await _report(request, ctx, me, visit_id)


async def _report(request: Request, ctx: Ctx, me: sessions.Current, visit_id: str | None) -> Response:
    """上报隐患: the photos are kept first (a phone on a site should not have to take them again when a field is
    missing), then every problem of the form is shown at once with what was typed; else the hazard starts."""
    back = _visit_url(visit_id) if visit_id else f"{BASE}/hazards/new"
    limit = ctx.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_PHOTOS * limit + MULTIPART_SLACK:
        return _back(back, f"照片太大：每张不超过 {limit // 1024} KB，最多 {MAX_PHOTOS} 张", "error")
    form = await checked_form(request, me, max_files=MAX_PHOTOS, max_fields=40)
    values = {k: form_text(form, k).strip() for k in HAZARD_FIELDS}
    kept = [p for p in form.getlist("photo") if isinstance(p, str) and p][:MAX_PHOTOS]
    errors: dict[str, str] = {}
    banner: str | None = None
    try:
        files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
        for f in files[: MAX_PHOTOS - len(kept)]:
            upload = tracking.Upload(filename=f.filename, content=await f.read(limit + 1), note=None)
            try:
                photo = await inspection.upload_photo(ctx, me.actor, upload)
            except Refusal as err:
                if err.status_code in (401, 403):
                    return _refused(request, me, err)
                errors["photos"] = f"{f.filename}：{err.message}"
                continue
            kept.append(photo.photo_id)
    finally:
        await form.close()

    async def again(status: int) -> Response:
        hazard = {"values": values, "errors": errors, "photos": kept, "banner": banner}
        if visit_id is not None:
            return await _visit_page(request, ctx, me, visit_id, hazard=hazard, status=status)
        return _ipage(request, me, "hazard_new.html", {"hazard": hazard}, status)

    try:
        body = HazardIn(
            domain=values["domain"],
            township=values["township"],
            site=values["site"],
            description=values["description"],
            severity=values["severity"] or "general",  # type: ignore[arg-type]
            unit=values["unit"],
            responsible=values["responsible"] or None,
            measure=values["measure"],
            deadline=datetime.fromisoformat(values["deadline"]) if values["deadline"] else None,
            visit_id=visit_id,
            photos=kept,
        )
    except (ValidationError, ValueError) as err:
        field = _invalid_field(err)
        errors[field] = "请检查输入：必填或格式不正确" if field != "deadline" else "整改期限的格式不正确"
        return await again(422)
    for p in reversed(inspection.report_problems(ctx, body)):
        errors[p.field] = p.message
    if errors:
        return await again(422)
    try:
        created = await inspection.report_hazard(ctx, me.actor, body)
    except Refusal as err:
        if err.status_code in (401, 403, 404):
            return _refused(request, me, err)
        if err.field and err.field != "photos":
            errors[err.field] = err.message
        else:
            banner = err.message
            if err.field == "photos":
                kept.clear()  # they are no longer the caller's to use
        return await again(err.status_code if err.status_code >= 400 else 422)
    deadline = created.deadline
    return _back(
        _hazard_url(created.hazard_id),
        f"隐患 {created.hazard_no} 已上报，已交责任单位限时整改（期限 {_china(deadline)}）",
    )


def _china(at: datetime) -> str:
    return china_local(at).strftime("%Y-%m-%d %H:%M")


def _invalid_field(err: Exception) -> str:
    if isinstance(err, ValidationError):
        loc = err.errors()[0].get("loc", ())
        return str(loc[0]) if loc else "description"
    return "deadline"


# --- the hazard list and page -----------------------------------------------------------------------------

LIST_FILTERS = ("status", "domain", "township", "unit", "district")
PAGE_SIZE = 50


@router.get(f"{BASE}/hazards", response_class=HTMLResponse)
async def hazard_list(request: Request, ctx: Ctx, me: Me, page: int = 1) -> Response:
    p = request.query_params
    try:
        query = HazardListQuery(
            status=[v for v in p.get("status", "").split(",") if v],
            domain=[v for v in p.get("domain", "").split(",") if v],
            township=[v for v in p.get("township", "").split(",") if v],
            unit=[v for v in p.get("unit", "").split(",") if v],
            district=[int(v) for v in p.get("district", "").split(",") if v],
            overdue={"yes": True, "no": False}.get(p.get("overdue", "")),
            page=max(1, page),
            page_size=PAGE_SIZE,
        )
    except (ValidationError, ValueError):
        return _refused(request, me, Refusal(422, "invalid_filter", "筛选条件有误"))
    now = datetime.now(UTC)
    try:
        out = await run(ctx.engine, lambda db: inspection.list_hazards(db, me.actor, query, ctx.taxonomy, now))
    except Refusal as err:
        return _refused(request, me, err)
    kept = {k: v for k, v in p.items() if k != "page" and v}
    context = {
        "out": out,
        "q": p,
        "pages": max(1, -(-out.total // PAGE_SIZE)),
        "query": urlencode(kept),
        "now": now,
        "districts": sorted(ctx.taxonomy.districts()),
    }
    return _ipage(request, me, "hazards.html", context)


@router.get(f"{BASE}/hazards/{{hazard_id}}", response_class=HTMLResponse)
async def hazard_page(hazard_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    try:
        v = await inspection.get_hazard(ctx, hazard_id, me.actor)
    except Refusal as err:
        return _refused(request, me, err)
    names = await run(
        ctx.engine,
        lambda db: display_names(db, {v.found_by, *(e.actor for e in v.events), *(f.by or "" for f in v.evidence)}),
    )
    now = datetime.now(UTC)
    left = v.deadline - now
    context = {
        "v": v,
        "names": names,
        "now": now,
        "left": left,
        "soon": timedelta(0) <= left < timedelta(days=1),
        "open": v.status in {s.value for s in OPEN},
    }
    return _ipage(request, me, "hazard.html", context)


@router.get(f"{BASE}/hazards/{{hazard_id}}/files/{{file_id}}")
async def hazard_file(hazard_id: str, file_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    try:
        f = await inspection.hazard_file(ctx, hazard_id, file_id, me.actor)
    except Refusal as err:
        return _refused(request, me, err)
    # Inline, so a photo opens in the browser; the type was checked by content at upload.
    return FileResponse(
        f.path,
        media_type=f.content_type,
        filename=f.filename,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


@router.post(f"{BASE}/hazards/{{hazard_id}}/evidence")
async def hazard_evidence(hazard_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    back = _hazard_url(hazard_id)
    limit = ctx.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        return _back(back, f"文件不能超过 {limit // 1024} KB", "error")
    form = await checked_form(request, me, max_files=1, max_fields=5)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _back(back, "请选择整改后的照片或材料文件", "error")
        material = tracking.Upload(
            filename=upload.filename, content=await upload.read(limit + 1), note=form_text(form, "note").strip() or None
        )
    finally:
        await form.close()
    try:
        await inspection.submit_evidence(ctx, hazard_id, me.actor, material)
    except Refusal as err:
        return _fail(request, me, err, back)
    return _back(back, "整改材料已提交，等待督查专员验收")


@router.post(f"{BASE}/hazards/{{hazard_id}}/verify")
async def hazard_verify(hazard_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    back = _hazard_url(hazard_id)
    accept = form_text(form, "accept") == "yes"
    reason = form_text(form, "reason").strip()[:2000] or None
    if not accept and not reason:
        return _back(back, "验收不通过须写明理由", "error")
    try:
        await inspection.verify(ctx, hazard_id, me.actor, VerifyIn(accept=accept, reason=reason))
    except Refusal as err:
        return _fail(request, me, err, back)
    return _back(back, DONE["verify_yes" if accept else "verify_no"])


@router.post(f"{BASE}/hazards/{{hazard_id}}/recheck")
async def hazard_recheck(hazard_id: str, request: Request, ctx: Ctx, me: Me) -> Response:
    form = await checked_form(request, me)
    back = _hazard_url(hazard_id)
    holds = form_text(form, "holds") == "yes"
    note = form_text(form, "note").strip()[:2000] or None
    try:
        await inspection.recheck(ctx, hazard_id, me.actor, RecheckIn(holds=holds, note=note))
    except Refusal as err:
        return _fail(request, me, err, back)
    return _back(back, DONE["recheck_yes" if holds else "recheck_no"])
