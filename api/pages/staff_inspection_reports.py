"""The safety-inspection reports in the staff console: the three lists (三张清单) with their filters and `导出Excel`,
the exposure list (曝光台), the re-training roster (回炉班) with the supervisor's attendance buttons, summonses
(约谈) with `已约谈`, and the figures board (督查看板) with its charts. The same service and permissions as
/api/v1/inspection (services/inspection_reports.py); every form post carries the session's CSRF token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.downloads import attachment
from api.pages.rendering import form_text
from api.pages.staff import _back, _page, _refused
from api.pages.staff_auth import Me, checked_form
from domain.hazards import STATUS_ZH
from domain.inspection import district_zh
from domain.taxonomy import TOWNSHIP_LED, is_department
from services import inspection_exports
from services import inspection_reports as reports
from services.db import run
from services.errors import Refusal
from services.exports import period_text

router = APIRouter(include_in_schema=False)
BASE = "/staff/inspection"
FILTERS = ("district", "domain", "township", "unit", "status", "from", "to")
PAGE_SIZE = 50


def _filters(request: Request) -> reports.InspectionFilters:
    p = request.query_params
    return reports.parse_filters(*(p.get(name) or None for name in FILTERS))


def _query_string(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in request.query_params.items() if k in FILTERS and v)


def _common(request: Request) -> dict[str, Any]:
    """What every report page's filter form needs."""
    tx = request.app.state.ctx.taxonomy
    return {
        "q": request.query_params,
        "query": _query_string(request),
        "districts": list(tx.districts()),
        "district_zh": district_zh,
        "township_led": TOWNSHIP_LED,
        "is_department": is_department,
        "hazard_status_zh": {s.value: zh for s, zh in STATUS_ZH.items()},
        "list_kinds": reports.LIST_KINDS,
    }


# --- the three lists ------------------------------------------------------------------------------------------


@router.get(BASE + "/lists/{kind}.xlsx")
async def list_xlsx(kind: str, request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    try:
        f = _filters(request)
        export = await run(
            ctx.engine,
            lambda db: inspection_exports.list_export(db, me.actor, kind, ctx.taxonomy, datetime.now(UTC), f),
        )
    except Refusal as err:
        return _refused(request, me, err)
    return attachment(export)


@router.get(BASE + "/lists/{kind}", response_class=HTMLResponse)
async def list_page(kind: str, request: Request, me: Me, page: int = 1) -> Response:
    ctx = request.app.state.ctx
    page = max(1, page)
    try:
        f = _filters(request)
        out = await run(
            ctx.engine,
            lambda db: reports.inspection_list(db, me.actor, kind, ctx.taxonomy, datetime.now(UTC), f, page, PAGE_SIZE),
        )
    except Refusal as err:
        return _refused(request, me, err)
    pages = max(1, -(-out.total // PAGE_SIZE))
    return _page(
        request, me, "staff/inspection/lists.html", {"out": out, "kind": kind, "pages": pages, **_common(request)}
    )


# --- the exposure list, the roster, summonses ----------------------------------------------------------------


@router.get(BASE + "/exposure", response_class=HTMLResponse)
async def exposure_page(request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    try:
        f = _filters(request)
        items = await run(ctx.engine, lambda db: reports.exposure(db, me.actor, ctx.taxonomy, datetime.now(UTC), f))
    except Refusal as err:
        return _refused(request, me, err)
    return _page(request, me, "staff/inspection/exposure.html", {"items": items, **_common(request)})


@router.get(BASE + "/retraining", response_class=HTMLResponse)
async def retraining_page(request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    try:
        f = _filters(request)
        classes = await run(ctx.engine, lambda db: reports.roster(db, me.actor, ctx.taxonomy, f))
    except Refusal as err:
        return _refused(request, me, err)
    may_mark = me.actor.role in reports.ATTENDANCE_TAKERS
    return _page(
        request,
        me,
        "staff/inspection/retraining.html",
        {"classes": classes, "may_mark": may_mark, **_common(request)},
    )


@router.post(BASE + "/retraining/{enrolment_id}/attendance")
async def attendance(enrolment_id: int, request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    form = await checked_form(request, me)
    choice = form_text(form, "attended")
    back = BASE + "/retraining"
    if choice not in ("yes", "no"):
        return _back(back, "请选择“到场”或“缺席”", "error")
    try:
        e = await run(
            ctx.engine,
            lambda db: reports.mark_attendance(
                db, me.actor, ctx.taxonomy, enrolment_id, choice == "yes", datetime.now(UTC)
            ),
        )
    except Refusal as err:
        return _refused(request, me, err)
    return _back(back, f"已登记：{e.person}（{e.class_date}）{'到场' if e.attended else '缺席'}")


@router.get(BASE + "/summonses", response_class=HTMLResponse)
async def summonses_page(request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    try:
        f = _filters(request)
        items = await run(ctx.engine, lambda db: reports.summonses(db, me.actor, ctx.taxonomy, f))
    except Refusal as err:
        return _refused(request, me, err)
    may_hold = me.actor.role in reports.SUMMONS_HOLDERS
    return _page(
        request, me, "staff/inspection/summonses.html", {"items": items, "may_hold": may_hold, **_common(request)}
    )


@router.post(BASE + "/summonses/{summons_id}/held")
async def summons_held(summons_id: int, request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    form = await checked_form(request, me)
    note = form_text(form, "note").strip()[:500] or None
    back = BASE + "/summonses"
    try:
        s = await run(
            ctx.engine,
            lambda db: reports.mark_held(db, me.actor, ctx.taxonomy, summons_id, note, datetime.now(UTC)),
        )
    except Refusal as err:
        if err.status_code == 409:
            return _back(back, err.message, "error")
        return _refused(request, me, err)
    return _back(back, f"已登记约谈：{s.unit_zh}")


# --- the figures board ----------------------------------------------------------------------------------------


def charts(f: reports.InspectionFigures) -> dict[str, Any]:
    """What the charts draw, as plain data (every figure is in the tables too). Rates as percentages; a rate with
    nothing due is drawn as no bar (null), never as 100 %."""

    def pct(x: float | None) -> float | None:
        return round(x * 100, 1) if x is not None else None

    units = f.overdue_by_unit[:15]
    return {
        "districts": [g.district_zh for g in f.by_district],
        "district_rect": [pct(g.rectification_rate) for g in f.by_district],
        "district_recheck": [pct(g.recheck_rate) for g in f.by_district],
        "domains": [g.domain_zh for g in f.by_domain],
        "domain_rect": [pct(g.rectification_rate) for g in f.by_domain],
        "domain_recheck": [pct(g.recheck_rate) for g in f.by_domain],
        "units": [u.unit_zh for u in units],
        "unit_overdue_now": [u.overdue_now for u in units],
        "unit_overdue_ever": [u.overdue_ever for u in units],
    }


async def _figures(request: Request, me: Any) -> reports.InspectionFigures:
    ctx = request.app.state.ctx
    f = _filters(request)
    return await run(ctx.engine, lambda db: reports.figures(db, me.actor, ctx.taxonomy, datetime.now(UTC), f))


@router.get(BASE + "/board", response_class=HTMLResponse)
async def board_page(request: Request, me: Me) -> Response:
    try:
        f = await _figures(request, me)
    except Refusal as err:
        return _refused(request, me, err)
    return _page(
        request,
        me,
        "staff/inspection/figures.html",
        {
            "f": f,
            "period_zh": period_text(f.period),
            # Inside a <script> element: "</" must not close it.
            "charts": json.dumps(charts(f), ensure_ascii=False).replace("</", "<\\/"),
            **_common(request),
        },
    )


@router.get(BASE + "/board.xlsx")
async def board_xlsx(request: Request, me: Me) -> Response:
    try:
        f = await _figures(request, me)
    except Refusal as err:
        return _refused(request, me, err)
    return attachment(inspection_exports.figures_export(f))
