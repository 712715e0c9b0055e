"""Auth, health, Temporal being away, rate limits, stale reads and logs."""

from __future__ import annotations

import logging
import os
import stat

import httpx
from sqlmodel import func, select

from api.main import create_app
from domain.logs import scrub
from store.db import session
from store.tables import TrackingCode
from tests.api.conftest import LABOUR, PHONE, Api, assert_error, make_settings
from tests.conftest import worker_for


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_temporal_unreachable_intake_503_and_no_tracking_code(tmp_path, engine):
    app = create_app(make_settings(tmp_path, temporal_address="127.0.0.1:1"), engine=engine)
    async with client_for(app) as http:
        body = {"description": LABOUR, "citizen": {"name": "王小明", "phone": PHONE}, "channel": "web"}
        assert_error(await http.post("/api/v1/cases", json=body), 503, "temporal_unavailable")
        r = await http.get("/healthz")
        detail = assert_error(r, 503, "unhealthy")
        assert detail["temporal"] == "down" and detail["database"] == "ok"
        # Sign-in and the read model still work without Temporal.
        r = await http.post("/api/v1/auth/token", data={"username": "supervisor", "password": "wuhuan-demo"})
        assert r.status_code == 200
    with session(engine) as db:
        assert db.exec(select(func.count()).select_from(TrackingCode)).one() == 0


async def test_healthz_ok_when_all_up(api):
    r = await api.get("/healthz")
    assert r.status_code == 200 and r.json() == {"api": "ok", "temporal": "ok", "database": "ok"}


async def test_sign_in_errors_and_generated_secret_survives_restart(tmp_path, engine):
    settings = make_settings(tmp_path, temporal_address="127.0.0.1:1", secret_key=None)
    async with client_for(create_app(settings, engine=engine)) as http:
        bad = await http.post("/api/v1/auth/token", data={"username": "supervisor", "password": "wrong"})
        assert_error(bad, 401, "invalid_credentials")
        assert_error(await http.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"}), 401)
        assert_error(await http.post("/api/v1/auth/token", data={}), 422, "invalid_input")
        token = (
            await http.post("/api/v1/auth/token", data={"username": "renshe.mediator", "password": "wuhuan-demo"})
        ).json()["access_token"]
    key = tmp_path / "secret.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    async with client_for(create_app(settings, engine=engine)) as http:  # a restarted API
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["unit"] == "renshe"
        assert_error(await http.get("/api/v1/nowhere"), 404, "not_found")


async def test_tracking_lookups_are_rate_limited(tmp_path, engine):
    app = create_app(
        make_settings(
            tmp_path, temporal_address="127.0.0.1:1", rate_limit_track="2/minute", rate_limit_intake="1/minute"
        ),
        engine=engine,
    )
    async with client_for(app) as http:
        assert_error(await http.get("/api/v1/track/wrong-1"), 404, "unknown_tracking_code")
        assert_error(await http.get("/api/v1/track/wrong-2"), 404)
        r = await http.get("/api/v1/track/wrong-3")
        assert_error(r, 429, "too_many_requests")
        assert int(r.headers["retry-after"]) >= 1
        body = {"description": LABOUR, "citizen": {"name": "王小明", "phone": PHONE}, "channel": "web"}
        assert_error(await http.post("/api/v1/cases", json=body), 503)  # counted, Temporal is away
        assert_error(await http.post("/api/v1/cases", json=body), 429)


async def test_case_view_falls_back_to_read_model_when_no_worker_answers(
    tmp_path, skipping_env, engine, executor, task_queue, cases
):
    settings = make_settings(tmp_path, task_queue, query_timeout_seconds=0.3)
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with client_for(app) as http:
        api = Api(http, skipping_env, cases)
        async with worker_for(skipping_env, engine, executor, task_queue):
            out = await api.intake()
            await api.settled(out["case_id"])
            live = await api.case(out["case_id"])
        stale = await api.case(out["case_id"])
        assert stale["source"] == "read_model" and stale["stale"] is True
        assert (stale["status"], stale["handler"], stale["team"]) == (live["status"], live["handler"], live["team"])
        assert stale["intake"]["citizen_phone"] == "138****1234"
        t = await http.get(f"/api/v1/track/{out['tracking_code']}")
        assert t.status_code == 200 and t.json()["stale"] is True and t.json()["status"] == "team_formed"


async def test_logs_never_show_a_phone_or_a_tracking_code(api, caplog):
    assert scrub("GET /api/v1/track/AbC-123_x?x=1 from 13800001234") == "GET /api/v1/track/***?x=1 from 138****1234"
    with caplog.at_level(logging.DEBUG):
        out = await api.intake()
        await api.get(f"/api/v1/track/{out['tracking_code']}")
        logging.getLogger("wuhuan.api").info("citizen phone %s", PHONE)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert out["case_no"] in text
    assert PHONE not in text and out["tracking_code"] not in text
