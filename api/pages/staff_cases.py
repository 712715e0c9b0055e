"""The staff console's case list: every case the person's jurisdiction allows, with the list's filters (status,
colour, category, unit, township, handler, overdue, text or phone), paged, and `导出Excel` of the whole filtered
list (services/exports.py, the same file as `GET /api/v1/cases/export.xlsx`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.downloads import attachment
from api.pages.staff import _page, _refused
from api.pages.staff_auth import Me
from services import cases, exports
from services.db import run
from services.errors import Refusal
from services.schemas import CaseListQuery

router = APIRouter(include_in_schema=False)
FILTERS = ("status", "color", "category", "unit", "township", "handler")
PAGE_SIZE = 50


def _query(request: Request, page: int = 1) -> CaseListQuery:
    p = request.query_params
    try:
        return CaseListQuery(
            **{name: [v for v in p.get(name, "").split(",") if v] for name in FILTERS},
            overdue={"yes": True, "no": False}.get(p.get("overdue", "")),
            q=(p.get("q") or "").strip()[:100] or None,
            page=max(1, page),
            page_size=PAGE_SIZE,
        )
    except ValidationError:
        raise Refusal(422, "invalid_filter", "筛选条件有误") from None


def _query_string(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in request.query_params.items() if k != "page" and v)


@router.get("/staff/cases", response_class=HTMLResponse)
async def case_list(request: Request, me: Me, page: int = 1) -> Response:
    ctx = request.app.state.ctx
    try:
        query = _query(request, page)
    except Refusal as err:
        return _refused(request, me, err)
    out = await run(ctx.engine, lambda db: cases.list_cases(db, me.actor, query))
    pages = max(1, -(-out.total // PAGE_SIZE))
    return _page(
        request,
        me,
        "staff/cases.html",
        {"out": out, "q": request.query_params, "pages": pages, "query": _query_string(request)},
    )


@router.get("/staff/cases/export.xlsx")
async def case_export(request: Request, me: Me) -> Response:
    ctx = request.app.state.ctx
    try:
        query = _query(request)
        export = await run(
            ctx.engine, lambda db: exports.cases_export(db, me.actor, query, ctx.taxonomy, datetime.now(UTC))
        )
    except Refusal as err:
        return _refused(request, me, err)
    return attachment(export)
