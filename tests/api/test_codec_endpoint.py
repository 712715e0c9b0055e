"""The Temporal UI's remote codec endpoint (api/routes/codec.py): supervisors and auditors only, the remote
codec protocol, CORS for the UI's origin only, and every decode logged with its actor but no contents."""

from __future__ import annotations

import logging

import httpx
import pytest
import pytest_asyncio
from google.protobuf.json_format import MessageToDict, ParseDict
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.models import CaseIntake
from tests.api.conftest import assert_error, make_settings
from tests.conftest import encrypting_converter

PHONE = "13800001234"
INTAKE = CaseIntake(description="白塔镇某工地拖欠工资", citizen_name="王小明", citizen_phone=PHONE, channel="web")
UI = "http://127.0.0.1:8233"


@pytest_asyncio.fixture
async def http(tmp_path, engine):
    from api.main import create_app

    app = create_app(make_settings(tmp_path), engine=engine)  # no Temporal needed: the codec is local
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def bearer(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "wuhuan-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def sealed_body() -> dict:
    payloads = await encrypting_converter().encode([INTAKE])
    return {"payloads": MessageToDict(Payloads(payloads=payloads))["payloads"]}


async def intake_of(body: dict) -> CaseIntake:
    payloads = ParseDict(body, Payloads()).payloads
    [value] = await pydantic_data_converter.decode(list(payloads), [CaseIntake])
    return value


async def test_anonymous_and_clerk_callers_are_refused(http):
    body = await sealed_body()
    assert_error(await http.post("/api/v1/codec/decode", json=body), 401)
    for user in ("clerk", "renshe.mediator", "county_leader"):
        r = await http.post("/api/v1/codec/decode", json=body, headers=await bearer(http, user))
        assert_error(r, 403, "forbidden_role")
    r = await http.post("/api/v1/codec/decode", json=body, headers={"Authorization": "Bearer forged"})
    assert_error(r, 401, "invalid_token")


async def test_auditor_and_supervisor_read_payloads_and_each_decode_is_logged(http, caplog):
    body = await sealed_body()
    assert PHONE not in str(body)
    caplog.set_level(logging.INFO, logger="wuhuan.api.codec")
    for user in ("auditor", "supervisor"):
        r = await http.post(
            "/api/v1/codec/decode", json=body, headers={**await bearer(http, user), "X-Namespace": "default"}
        )
        assert r.status_code == 200, r.text
        assert await intake_of(r.json()) == INTAKE
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "codec decode by auditor (auditor): 1 payloads, namespace default" in logged
    assert "codec decode by supervisor" in logged
    assert PHONE not in logged and "王小明" not in logged


async def test_encode_then_decode_round_trips_and_plain_payloads_pass(http):
    auth = await bearer(http, "auditor")
    plain = {
        "payloads": MessageToDict(Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([INTAKE])))[
            "payloads"
        ]
    }
    r = await http.post("/api/v1/codec/decode", json=plain, headers=auth)
    assert r.status_code == 200 and r.json() == plain  # recorded before encryption: unchanged
    r = await http.post("/api/v1/codec/encode", json=plain, headers=auth)
    assert r.status_code == 200 and PHONE not in str(r.json())
    assert r.json()["payloads"][0]["metadata"]["encoding"] == "YmluYXJ5L2VuY3J5cHRlZA=="  # binary/encrypted
    r = await http.post("/api/v1/codec/decode", json=r.json(), headers=auth)
    assert await intake_of(r.json()) == INTAKE
    r = await http.post("/api/v1/codec/decode", json={"payloads": []}, headers=auth)
    assert r.status_code == 200 and r.json() == {"payloads": []}


async def test_tampered_or_malformed_payloads_are_refused_clearly(http):
    auth = await bearer(http, "auditor")
    body = await sealed_body()
    data = body["payloads"][0]["data"]
    body["payloads"][0]["data"] = ("A" if data[0] != "A" else "B") + data[1:]
    assert_error(await http.post("/api/v1/codec/decode", json=body, headers=auth), 422, "payload_undecryptable")
    bad = {"payloads": [{"metadata": {"encoding": "not base64!"}, "data": "x"}]}
    assert_error(await http.post("/api/v1/codec/decode", json=bad, headers=auth), 422, "invalid_payloads")


@pytest.mark.parametrize(
    "origin, allowed",
    [(UI, True), ("http://localhost:8233", True), ("http://evil.example", False), ("http://127.0.0.1:9999", False)],
)
async def test_cors_answers_the_temporal_ui_only(http, origin, allowed):
    r = await http.options(
        "/api/v1/codec/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert (r.headers.get("access-control-allow-origin") == origin) is allowed, r.headers
    if allowed:
        assert r.status_code == 200 and r.headers["access-control-allow-credentials"] == "true"


async def test_cors_is_limited_to_the_codec_paths(http):
    r = await http.get("/healthz", headers={"Origin": UI})
    assert "access-control-allow-origin" not in r.headers
    r = await http.post(
        "/api/v1/codec/decode", json=await sealed_body(), headers={"Origin": UI, **await bearer(http, "auditor")}
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == UI


async def test_codec_session_cookie_for_the_dev_server_ui(http):
    assert_error(await http.post("/api/v1/codec/session", headers=await bearer(http, "clerk")), 403)
    r = await http.post("/api/v1/codec/session", headers=await bearer(http, "auditor"))
    assert r.status_code == 204
    cookie = r.headers["set-cookie"]
    assert "wuhuan_codec=" in cookie and "HttpOnly" in cookie and "Path=/api/v1/codec" in cookie
    assert "samesite=strict" in cookie.lower()
    r = await http.post("/api/v1/codec/decode", json=await sealed_body())  # the cookie alone
    assert r.status_code == 200 and await intake_of(r.json()) == INTAKE
    assert (await http.delete("/api/v1/codec/session")).status_code == 204
    http.cookies.clear()
    assert_error(await http.post("/api/v1/codec/decode", json=await sealed_body()), 401)
