"""An API server started on a database that is not at the head schema revision does not touch the schema: it says
so in its log and /healthz answers 503 with the reason, until `wuhuan db upgrade` has run (no restart needed)."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import inspect

from api.main import create_app
from store.db import make_engine
from store.migrate import upgrade
from tests.api.conftest import assert_error, make_settings


async def test_healthz_names_the_schema_until_it_is_upgraded(tmp_path, caplog):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with caplog.at_level(logging.ERROR, logger="wuhuan.api"):
        app = create_app(make_settings(tmp_path, temporal_address="127.0.0.1:1"), engine=engine)
    assert "run `wuhuan db upgrade`" in caplog.text
    assert inspect(engine).get_table_names() == []  # the API never creates tables
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        detail = assert_error(await http.get("/healthz"), 503, "schema_not_current")
        assert "no tables yet: run `wuhuan db upgrade`" in detail["reason"]
        upgrade(engine)
        detail = assert_error(await http.get("/healthz"), 503, "unhealthy")  # now only Temporal is missing
        assert detail["database"] == "ok" and detail["temporal"] == "down"
    engine.dispose()
