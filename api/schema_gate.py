"""The API's side of the schema migrations: an API server never changes the schema (that is `wuhuan db upgrade`),
it checks that the database is at the head revision. Until it is, the server says so in its log at start and
/healthz answers 503 with the reason, so a load balancer or compose keeps traffic away; the check is repeated on
each /healthz until it passes, so an upgrade run meanwhile needs no restart."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from store.migrate import schema_problem

log = logging.getLogger("wuhuan.api")


class SchemaGate:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.current = False

    def problem(self) -> str | None:
        """What is wrong with the schema, or None when it is at head (or the database cannot be reached: that is
        /healthz's own `database` check)."""
        if self.current:
            return None
        try:
            found = schema_problem(self.engine)
        except Exception:
            return None
        self.current = found is None
        return found

    def check_at_start(self) -> None:
        try:
            found = schema_problem(self.engine)
        except Exception as err:  # the database may come up later; /healthz says so meanwhile
            log.warning("could not check the database schema: %s", err)
            return
        self.current = found is None
        if found is not None:
            log.error("database schema not current: %s; /healthz answers 503 until it is", found)

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def schema_not_current(request: Request, call_next):
            if request.url.path == "/healthz" and not self.current:
                found = await asyncio.to_thread(self.problem)
                if found is not None:
                    return JSONResponse(
                        {
                            "detail": {
                                "code": "schema_not_current",
                                "message": "数据库结构不是当前版本，请运行 wuhuan db upgrade",
                                "api": "ok",
                                "database": "schema not current",
                                "reason": found,
                            }
                        },
                        status_code=503,
                        headers={"Retry-After": "30"},  # an upgrade takes a while
                    )
            return await call_next(request)
