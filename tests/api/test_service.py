"""Auth, health, Temporal being away, rate limits, views from the read model and logs."""

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


async def test_case_view_is_the_read_model_whole_and_needs_no_worker(
    tmp_path, skipping_env, engine, executor, task_queue, cases
):
    """The case view never queries the workflow (a query can run a case ahead of its history after a crash):
    with no worker at all it still answers with the whole recorded state, not a reduced copy."""
    settings = make_settings(tmp_path, task_queue, query_timeout_seconds=0.3)
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with client_for(app) as http:
        api = Api(http, skipping_env, cases)
        async with worker_for(skipping_env, engine, executor, task_queue):
            out = await api.intake()
            await api.settled(out["case_id"])
            live = await api.case(out["case_id"])
        without_worker = await api.case(out["case_id"])
        assert without_worker == live
        assert live["source"] == "read_model" and live["stale"] is False
        assert (live["status"], live["handler"], len(live["team"])) == ("team_formed", "renshe.mediator", 2)
        assert live["team_members"] and live["actions"] and live["matching"] and live["intake"]["description"]
        assert live["intake"]["citizen_phone"] == "138****1234"
        t = await http.get(f"/api/v1/track/{out['tracking_code']}")
        assert t.status_code == 200 and t.json()["stale"] is False and t.json()["status"] == "team_formed"
        assert t.json()["handler"] and [e["stage"] for e in t.json()["timeline"]][:2] == ["received", "routed"]
        # A step still needs the live workflow (its validator decides): no worker, no step.
        handler = await api.auth("renshe.mediator")
        r = await http.post(f"/api/v1/cases/{out['case_id']}/urge", json={"note": "请加快"}, headers=handler)
        assert r.status_code == 503


async def test_a_step_answers_with_the_view_that_follows_it(api):
    """The answer to a step is read back from the read model once the step's events are recorded: the next
    view shows the same case."""
    out = await api.intake()
    await api.settled(out["case_id"])
    handler = await api.auth("renshe.mediator")
    base = f"/api/v1/cases/{out['case_id']}"
    r = await api.post(
        f"{base}/mediations",
        headers=handler,
        json={"summary": "组织劳资双方调解", "held_at": "2026-01-05T10:00:00+08:00", "participants": ["王小明"]},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "mediating" and len(answer["mediations"]) == 1 and answer["source"] == "read_model"
    assert await api.case(out["case_id"], "renshe.mediator") == answer
    t = (await api.get(f"/api/v1/track/{out['tracking_code']}")).json()
    assert t["status"] == "mediating" and t["timeline"][-1]["stage"] == "mediating"


async def test_a_case_not_yet_recorded_shows_as_received_and_an_unknown_one_is_404(
    tmp_path, skipping_env, engine, executor, task_queue, cases
):
    """Before its first record (here: no worker yet) a case is shown as it was received, from its start input
    in Temporal's history — no query, no wait — marked stale; once recorded, the whole view."""
    settings = make_settings(tmp_path, task_queue)
    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with client_for(app) as http:
        api = Api(http, skipping_env, cases)
        assert_error(await http.get("/api/v1/cases/nosuchcase", headers=await api.auth("supervisor")), 404)
        out = await api.intake()
        received = await api.case(out["case_id"])
        assert (received["case_no"], received["status"], received["stale"]) == (out["case_no"], "received", True)
        assert received["source"] == "workflow" and received["intake"]["citizen_phone"] == "138****1234"
        assert {c["name"] for c in received["clocks"]} >= {"routed", "yellow", "red"}
        t = await http.get(f"/api/v1/track/{out['tracking_code']}")
        assert t.status_code == 200 and (t.json()["case_no"], t.json()["stale"]) == (out["case_no"], True)
        async with worker_for(skipping_env, engine, executor, task_queue):
            await api.settled(out["case_id"])
            recorded = await api.case(out["case_id"])
        assert (recorded["status"], recorded["source"], recorded["stale"]) == ("team_formed", "read_model", False)
        assert recorded["received_at"] == received["received_at"]


async def test_logs_never_show_a_phone_or_a_tracking_code(api, caplog):
    assert scrub("GET /api/v1/track/AbC-123_x?x=1 from 13800001234") == "GET /api/v1/track/***?x=1 from 138****1234"
    with caplog.at_level(logging.DEBUG):
        out = await api.intake()
        await api.get(f"/api/v1/track/{out['tracking_code']}")
        logging.getLogger("wuhuan.api").info("citizen phone %s", PHONE)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert out["case_no"] in text
    assert PHONE not in text and out["tracking_code"] not in text
