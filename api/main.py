"""The HTTP API: `create_app(settings, client)`.

Runs apart from the worker (`wuhuan api` / `wuhuan worker`). The Temporal client may be injected (tests); else
it is connected in the background at startup and on demand, so the API can start before Temporal — /healthz
answers 503 until it is connected."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api import docs as api_docs
from api import errors, middleware
from api import openapi as api_openapi
from api.auth import load_secret
from api.deps import AppContext
from api.pages import citizen as citizen_pages
from api.pages import staff as staff_pages
from api.pages import staff_audit as staff_audit_pages
from api.pages import staff_board as staff_board_pages
from api.pages import staff_cases as staff_cases_pages
from api.pages import staff_inspection as staff_inspection_pages
from api.pages import staff_inspection_reports as staff_inspection_report_pages
from api.pages import staff_preferences as staff_preference_pages
from api.pages.rendering import STATIC_DIR
from api.pages.staff_auth import LoginRequired, login_url
from api.routes import access_log as access_log_routes
from api.routes import audit, auth, cases, citizen, codec, health, inspection, notifications, supervision, triage
from api.routes import calendar as calendar_routes
from api.routes import inspection_reports as inspection_report_routes
from api.routes import inspection_visits as inspection_visit_routes
from api.routes import preferences as preference_routes
from api.schema_gate import SchemaGate
from domain import logs as logmask
from domain.settings import Settings, get_settings, proxy_networks
from domain.taxonomy import get_taxonomy
from domain.triage.service import model_holder
from services.engine import TemporalLink
from services.ratelimit import RateLimiter, parse
from store.db import engine_for

log = logging.getLogger("wuhuan.api")


def create_app(
    settings: Settings | None = None, client: Client | None = None, *, engine: Engine | None = None
) -> FastAPI:
    settings = settings or get_settings()
    parse(settings.rate_limit_intake), parse(settings.rate_limit_track)  # fail at start on a bad rate
    engine = engine or engine_for(
        settings.database, settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout
    )
    schema = SchemaGate(engine)  # the schema is `wuhuan db upgrade`'s job: here it is only checked
    schema.check_at_start()
    ctx = AppContext(
        settings=settings,
        engine=engine,
        taxonomy=get_taxonomy(),
        temporal=TemporalLink(settings, client),
        secret=load_secret(settings),
        limiter=RateLimiter(),
        models=model_holder(settings.models, get_taxonomy()),
    )
    logmask.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        logmask.install()  # the server has configured its log handlers by now
        # What is loaded by now lives as long as the process: kept out of the garbage collector's way, a full
        # collection walks only what requests create (over every module's objects it took ~0.1 s, landing on
        # whichever request set it off: the supervision board's p99).
        gc.freeze()
        task = None if ctx.temporal.connected else asyncio.create_task(ctx.temporal.keep_connecting())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="Wuhuan 五环智控",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves Swagger UI from api/static/vendor, or nothing (WUHUAN_API_DOCS)
        redoc_url=None,
        description="County dispute-mediation centre: intake, routing, assignment, team mediation, "
        "supervision and evaluation, each case a Temporal workflow.",
    )
    app.state.ctx = ctx
    errors.install(app)
    # Outermost last: the client's real address first, then the request line's characters, no-store on the JSON
    # API, and the body limit.
    app.add_middleware(middleware.BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    app.add_middleware(middleware.NoStore)
    app.add_middleware(middleware.PlainRequestLine)
    app.add_middleware(middleware.ClientAddress, proxies=proxy_networks(settings.trusted_proxies))
    api_docs.install(app, settings)
    schema.install(app)  # /healthz: 503 while the schema is not at head
    for module in (health, auth, triage, cases, audit, citizen, supervision, notifications, inspection):
        app.include_router(module.router)
    app.include_router(access_log_routes.router)  # GET /api/v1/audit/access-log
    app.include_router(inspection_report_routes.router)  # /api/v1/inspection: lists, figures, exposure, roster
    app.include_router(inspection_visit_routes.router)  # /api/v1/inspection/visits
    app.include_router(calendar_routes.router)  # GET /api/v1/calendar/due
    app.include_router(preference_routes.router)  # GET|PUT /api/v1/me/preferences
    codec.install(app, settings)  # the Temporal UI's codec endpoint, with CORS for the UI only
    app.include_router(citizen_pages.router)  # the citizen's pages (HTML), after the API
    app.include_router(staff_cases_pages.router)  # before the console's /staff/cases/{case_id}
    app.include_router(staff_pages.router)  # the staff console
    app.include_router(staff_audit_pages.router)
    app.include_router(staff_board_pages.router)
    app.include_router(staff_inspection_pages.router)  # 平安督查
    app.include_router(staff_inspection_report_pages.router)  # 平安督查: lists, exposure, roster, board
    app.include_router(staff_preference_pages.router)  # 消息设置
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api_openapi.install(app)  # every operation's real error statuses and bodies
    return app


async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(login_url(exc.next_url), status_code=303, headers={"Cache-Control": "no-store"})


def app_from_env() -> FastAPI:
    """For `uvicorn --factory api.main:app_from_env`."""
    return create_app()
