"""GET /healthz: 200 only when the API, Temporal and the database all answer."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import AppContext, Ctx
from store.db import session

router = APIRouter(tags=["health"])


def _database_ok(ctx: AppContext) -> bool:
    try:
        with session(ctx.engine) as db:
            db.exec(text("SELECT 1")).one()
        return True
    except Exception:
        return False


@router.get("/healthz")
async def healthz(ctx: Ctx) -> JSONResponse:
    temporal_ok, database_ok = await asyncio.gather(ctx.temporal.healthy(), asyncio.to_thread(_database_ok, ctx))
    body = {"api": "ok", "temporal": "ok" if temporal_ok else "down", "database": "ok" if database_ok else "down"}
    if temporal_ok and database_ok:
        return JSONResponse(body)
    down = "、".join(name for name, ok in (("Temporal", temporal_ok), ("数据库", database_ok)) if not ok)
    return JSONResponse(
        {"detail": {"code": "unhealthy", "message": f"{down} 暂不可用", **body}},
        status_code=503,
        headers={"Retry-After": "5"},
    )
