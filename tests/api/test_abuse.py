"""Issue 15, findings 1–3 and 6: what an anonymous client could do to the API, each as it was done (docs/security.md).

Client addresses (a new X-Forwarded-For per request), floods (sign-in guessing, parallel hashing, huge and
chunked bodies, a dry database pool), bad input (control characters, lone surrogates, huge numbers) and the
smaller ones (tracking links from the Host header, caching, /docs from a CDN, access-log rows for no case)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from api.main import create_app
from cli.commands import server_options
from store.db import make_engine
from tests.api.conftest import LABOUR, PHONE, assert_error, make_settings

AWAY = "127.0.0.1:1"  # no Temporal: these tests need none unless they say so
BODY = {"description": LABOUR, "citizen": {"name": "王小明", "phone": PHONE}, "channel": "web"}


def client_for(app, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app under a real uvicorn, configured as `wuhuan api` configures it (cli/commands.py: server_options)."""

    def __init__(self, app, settings):
        options = server_options(settings) | {"host": "127.0.0.1", "port": free_port(), "log_level": "warning"}
        self.server = uvicorn.Server(uvicorn.Config(app, lifespan="off", **options))
        self.url = f"http://127.0.0.1:{options['port']}"

    async def __aenter__(self) -> httpx.AsyncClient:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(500):
            if self.server.started:
                break
            await asyncio.sleep(0.01)  # the server's own start-up, not a wait for time to pass in the system
        self.http = httpx.AsyncClient(base_url=self.url)
        return self.http

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()
        self.server.should_exit = True
        await self.task


# --- 1. client addresses ---------------------------------------------------------------------------------


async def test_a_new_x_forwarded_for_each_time_does_not_get_round_the_tracking_limit(tmp_path, engine):
    """The attack as it was made: against `wuhuan api`'s uvicorn from loopback, 70 wrong codes, each with a new
    X-Forwarded-For. uvicorn no longer believes it (it trusted 127.0.0.1 by default) and neither does the app."""
    settings = make_settings(tmp_path, temporal_address=AWAY, rate_limit_track="60/minute")
    async with Served(create_app(settings, engine=engine), settings) as http:
        statuses = []
        for i in range(70):
            r = await http.get(f"/api/v1/track/wrong-{i}", headers={"X-Forwarded-For": f"198.51.100.{i}"})
            statuses.append(r.status_code)
        assert statuses[:60] == [404] * 60
        assert set(statuses[60:]) == {429}
        assert int(r.headers["retry-after"]) >= 1


async def test_forwarded_addresses_count_only_from_a_configured_proxy(tmp_path, engine):
    """With the proxy configured, each client behind it has its own limit; X-Real-IP too; a forwarded header
    from any other peer is ignored."""
    settings = make_settings(
        tmp_path, temporal_address=AWAY, rate_limit_track="2/minute", trusted_proxies="127.0.0.0/8, 10.0.0.0/8"
    )
    async with Served(create_app(settings, engine=engine), settings) as http:
        for i in range(6):  # six clients behind the proxy: nobody reaches their limit of 2
            r = await http.get(f"/api/v1/track/wrong-{i}", headers={"X-Forwarded-For": f"203.0.113.{i}, 10.1.1.1"})
            assert r.status_code == 404
        # One client's own header, left of what the proxy appended, proves nothing: it is 203.0.113.9 each time.
        spoofed = [
            (await http.get("/api/v1/track/x", headers={"X-Forwarded-For": f"1.1.1.{i}, 203.0.113.9"})).status_code
            for i in range(3)
        ]
        assert spoofed == [404, 404, 429]
        real_ip = [await http.get("/api/v1/track/x", headers={"X-Real-IP": "192.0.2.7"}) for _ in range(3)]
        assert [r.status_code for r in real_ip] == [404, 404, 429]


async def test_intake_limit_counts_invalid_requests_and_ignores_spoofed_addresses(tmp_path, engine):
    app = create_app(make_settings(tmp_path, temporal_address=AWAY, rate_limit_intake="3/minute"), engine=engine)
    async with client_for(app) as http:
        invalid = [
            {"description": "", "citizen": {"name": "王小明", "phone": PHONE}},  # no description (problems)
            {"citizen": {"name": "王小明"}},  # not even the shape
            {**BODY, "citizen": {"name": "王\x00小明", "phone": PHONE}},  # a control character
        ]
        for i, body in enumerate(invalid):
            r = await http.post("/api/v1/cases", json=body, headers={"X-Forwarded-For": f"198.51.100.{i}"})
            assert r.status_code == 422, r.text
        r = await http.post("/api/v1/cases", json=BODY, headers={"X-Forwarded-For": "198.51.100.99"})
        assert_error(r, 429, "too_many_requests")
        # The web form counts the same address's attempts too.
        page = await http.post("/intake", data={"description": "x"}, headers={"X-Forwarded-For": "198.51.100.98"})
        assert page.status_code == 429


async def test_the_access_log_records_the_real_peer(api):
    out = await api.intake()
    await api.teamed(out["case_id"])
    auditor = await api.auth("auditor")
    r = await api.get(f"/api/v1/cases/{out['case_id']}/history", headers=auditor | {"X-Forwarded-For": "203.0.113.66"})
    assert r.status_code == 200, r.text
    log = (await api.get(f"/api/v1/audit/access-log?case_id={out['case_id']}", headers=auditor)).json()
    assert [row["client"] for row in log] == ["127.0.0.1"]  # httpx's ASGI peer, not the header


# --- 2. floods ---------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def sign(http, username: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_wrong_passwords_lock_the_account_with_a_growing_wait_even_for_the_right_one(tmp_path, engine):
    settings = make_settings(
        tmp_path, temporal_address=AWAY, login_failures_per_account=3, login_lockout="PT30S", login_lockout_max="PT2M"
    )
    app = create_app(settings, engine=engine)
    clock = app.state.ctx.logins.clock = Clock()
    async with client_for(app) as http:
        for _ in range(3):
            assert_error(await sign(http, "supervisor", "guess"), 401, "invalid_credentials")
        locked = await sign(http, "supervisor", "wuhuan-demo")  # the right password, during the wait
        assert_error(locked, 429, "too_many_failed_logins")
        assert locked.headers["retry-after"] == "30"
        assert (await sign(http, "clerk", "wuhuan-demo")).status_code == 200  # another account is not held up
        clock.now += 31
        assert_error(await sign(http, "supervisor", "guess"), 401)  # one more try, then twice the wait
        assert (await sign(http, "supervisor", "wuhuan-demo")).headers["retry-after"] == "60"
        clock.now += 61
        assert_error(await sign(http, "supervisor", "guess"), 401)
        assert (await sign(http, "supervisor", "wuhuan-demo")).headers["retry-after"] == "120"
        clock.now += 121
        assert_error(await sign(http, "supervisor", "guess"), 401)
        assert (await sign(http, "supervisor", "wuhuan-demo")).headers["retry-after"] == "120"  # the cap
        clock.now += 121
        assert (await sign(http, "supervisor", "wuhuan-demo")).status_code == 200
        assert_error(await sign(http, "supervisor", "guess"), 401)  # after a success the count starts afresh


async def test_one_address_guessing_across_accounts_is_held_up_too(tmp_path, engine):
    settings = make_settings(tmp_path, temporal_address=AWAY, login_failures_per_address=4)
    app = create_app(settings, engine=engine)
    async with client_for(app) as http:
        for name in ("supervisor", "clerk", "auditor", "nobody-at-all"):
            assert_error(await sign(http, name, "guess"), 401, "invalid_credentials")
        r = await sign(http, "county_leader", "wuhuan-demo")
        assert_error(r, 429, "too_many_failed_logins")
        assert int(r.headers["retry-after"]) >= 1
        # The console's sign-in page goes through the same guard.
        page = await http.post("/staff/login", data={"username": "county_leader", "password": "wuhuan-demo"})
        assert page.status_code == 429


async def test_password_hashes_take_turns_and_a_sign_in_that_finds_none_gets_503(tmp_path, engine):
    """At most `password_hash_concurrency` hashes at once: with every turn taken, a sign-in waits its
    `password_hash_wait_seconds`, then 503 with Retry-After — an unknown account as well, since it is checked
    against a dummy hash of the same cost (equal timing)."""
    settings = make_settings(
        tmp_path, temporal_address=AWAY, password_hash_concurrency=1, password_hash_wait_seconds=0.05
    )
    app = create_app(settings, engine=engine)
    turns = app.state.ctx.logins._hashing
    async with client_for(app) as http:
        assert turns.acquire(timeout=1)  # someone else's hash in progress
        try:
            for name in ("supervisor", "nobody-at-all"):
                r = await sign(http, name, "wuhuan-demo")
                assert_error(r, 503, "busy")
                assert r.headers["retry-after"] == "2"
        finally:
            turns.release()
        assert (await sign(http, "supervisor", "wuhuan-demo")).status_code == 200
        assert_error(await sign(http, "nobody-at-all", "wuhuan-demo"), 401, "invalid_credentials")
        # Twelve at once: each gets an answer, 200 or (having waited its turn too long) 503, never a 500.
        many = await asyncio.gather(*(sign(http, "clerk", "wuhuan-demo") for _ in range(12)))
        assert {r.status_code for r in many} <= {200, 503} and 200 in {r.status_code for r in many}


class Counted:
    """A request body sent in chunks without a length (chunked), counting how much of it was taken."""

    def __init__(self, chunk: bytes, chunks: int, head: bytes = b""):
        self.chunk, self.chunks, self.head, self.sent = chunk, chunks, head, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            self.sent += len(self.head)
            yield self.head
        for _ in range(self.chunks):
            self.sent += len(self.chunk)
            yield self.chunk


async def test_bodies_are_cut_off_at_their_limit_while_read_declared_or_chunked(tmp_path, engine):
    settings = make_settings(tmp_path, temporal_address=AWAY, max_body_bytes=64 * 1024, max_upload_bytes=4096)
    app = create_app(settings, engine=engine)
    async with client_for(app) as http:
        big = json.dumps({**BODY, "description": "长" * 200_000})
        r = await http.post("/api/v1/cases", content=big, headers={"Content-Type": "application/json"})
        assert_error(r, 413, "payload_too_large")
        # Chunked JSON: refused once 64 KiB have come in, not after the 10 MiB.
        stream = Counted(b" " * 8192, 1280, head=b'{"description": "')
        r = await http.post("/api/v1/cases", content=stream, headers={"Content-Type": "application/json"})
        assert_error(r, 413, "payload_too_large")
        assert stream.sent <= 64 * 1024 + 2 * 8192
        # A chunked upload: refused at the upload limit plus the form's overhead, not read to its end.
        code = "whatever-code"
        boundary = "b0undary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ).encode()
        upload = Counted(b"0" * 65536, 3200, head=head)  # 200 MiB if read in full
        r = await http.post(
            f"/api/v1/track/{code}/materials",
            content=upload,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code in (404, 413), r.text  # the unknown code may be refused first; never read in full
        assert upload.sent <= 4096 + 64 * 1024 + 2 * 65536
        # Below the limits everything still works.
        ok = await http.post("/api/v1/cases", json={**BODY, "description": "长" * 400})
        assert_error(ok, 503)  # counted, checked, and only then: Temporal is away


async def test_a_dry_database_pool_is_503_with_retry_after_never_500(tmp_path, engine):
    settings = make_settings(tmp_path, temporal_address=AWAY)
    small = make_engine(str(engine.url), pool_size=1, max_overflow=0, pool_timeout=0.2)
    app = create_app(settings, engine=small)
    async with client_for(app) as http:
        held = small.connect()  # every connection of the pool taken
        try:
            r = await http.get("/api/v1/track/some-code")
            assert_error(r, 503, "busy")
            assert r.headers["retry-after"] == "2"
        finally:
            held.close()
        assert_error(await http.get("/api/v1/track/some-code"), 404, "unknown_tracking_code")
    small.dispose()


# --- 3. input ----------------------------------------------------------------------------------------------


def raw_json(body: str) -> dict:
    return {"content": body.encode("utf-8", "surrogatepass"), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    "body",
    [
        '{"description": "拖欠工资\\ud800", "citizen": {"name": "王小明", "phone": "13800001234"}}',
        '{"description": "拖欠工资", "citizen": {"name": "王\\udfff", "phone": "13800001234"}}',
        '{"description": "拖欠工资\\u0007", "citizen": {"name": "王小明", "phone": "13800001234"}}',
        '{"description": "拖欠工资", "citizen": {"name": "王小明\\n", "phone": "13800001234\\u001b"}}',
    ],
)
async def test_control_characters_and_lone_surrogates_are_422_before_a_number_is_taken(api, body):
    before = await api.intake()
    r = await api.post("/api/v1/cases", **raw_json(body))
    assert_error(r, 422, "invalid_text")
    after = await api.intake(description=LABOUR + "（第二次）")
    # Case numbers are consecutive: the refused request took none.
    assert int(after["case_no"][-4:]) == int(before["case_no"][-4:]) + 1


async def test_the_same_rule_holds_for_hazards_and_preferences(api):
    inspector = await api.auth("inspector")
    hazard = (
        '{"domain": "residential_fire", "township": "baita", "site": "白塔镇幸福小区\\ud800", "description": "堵塞",'
        ' "severity": "major", "unit": "xiaofang", "measure": "清理"}'
    )
    body = raw_json(hazard)
    r = await api.post("/api/v1/inspection/hazards", content=body["content"], headers=inspector | body["headers"])
    assert assert_error(r, 422)["code"] in ("invalid_text", "invalid_input")  # pydantic may see it first
    hazard = hazard.replace("\\ud800", "\\u001b")
    body = raw_json(hazard)
    r = await api.post("/api/v1/inspection/hazards", content=body["content"], headers=inspector | body["headers"])
    assert_error(r, 422, "invalid_text")
    r = await api.put("/api/v1/me/preferences", json={"quiet_hours": "22:00\x00-07:00"}, headers=inspector)
    assert_error(r, 422)


async def test_line_breaks_and_tabs_in_a_text_are_fine(api):
    out = await api.intake(description="拖欠工资三个月\n包工头电话打不通\t请帮忙\r\n")
    assert out["case_no"]


async def test_malformed_bodies_and_surrogate_keys_are_422_never_500(tmp_path, engine):
    app = create_app(make_settings(tmp_path, temporal_address=AWAY), engine=engine)
    async with client_for(app) as http:
        for body in (
            '{"description": "\\ud800',  # malformed, with a lone surrogate escape
            '{"description": "x", "\\ud800": 1, "citizen": {"name": "a", "phone": "13800001234"}}',  # a key
            '{"description": "\\ud800", "citizen": ',
        ):
            r = await http.post("/api/v1/cases", **raw_json(body))
            assert_error(r, 422)
        r = await http.post("/api/v1/track/x/updates", **raw_json('{"text": "补充\\ud83d"}'))
        assert_error(r, 422, "invalid_text")


async def test_huge_numbers_and_control_characters_in_paths_and_queries_are_422(api):
    supervisor = await api.auth("supervisor")
    for url in (
        "/api/v1/cases?page=100000000000000000000000000000",
        "/api/v1/cases?page=100001",
        "/api/v1/notifications/99999999999999999999999/read",
        "/api/v1/notifications/0/read",
        "/api/v1/cases?q=%00abc",
        "/api/v1/cases?q=%ED%A0%80",  # the UTF-8 of a lone surrogate
        "/api/v1/track/abc%07def",
    ):
        method = api.post if url.endswith("/read") else api.get
        r = await method(url, headers=supervisor)
        assert r.status_code == 422, f"{url}: {r.status_code} {r.text}"
        assert_error(r, 422)
    assert (await api.get("/api/v1/cases?page=100000", headers=supervisor)).status_code == 200


# --- 6. the smaller ones -----------------------------------------------------------------------------------


async def test_tracking_links_come_from_the_public_url_never_the_host_header(tmp_path, engine, skipping_env):
    configured = make_settings(tmp_path, temporal_address=AWAY, public_url="https://tiaojie.example.gov.cn/")
    async with client_for(create_app(configured, engine=engine), "http://evil.example") as http:
        poster = await http.get("/poster")
        assert "https://tiaojie.example.gov.cn/intake" in poster.text and "evil.example" not in poster.text
    unset = make_settings(tmp_path, temporal_address=AWAY, public_url=None)
    async with client_for(create_app(unset, engine=engine), "http://evil.example") as http:
        poster = await http.get("/poster")
        assert "http://127.0.0.1:8000/intake" in poster.text and "evil.example" not in poster.text
    async with client_for(create_app(unset, engine=engine), "http://localhost:8000") as http:
        assert "http://localhost:8000/intake" in (await http.get("/poster")).text  # the embedded default


async def test_tracking_url_of_an_intake_is_the_configured_one(api):
    out = await api.post("/api/v1/cases", json=BODY, headers={"Host": "evil.example"})
    assert out.status_code == 201, out.text
    api.started.append(api.env.client.get_workflow_handle(f"case-{out.json()['case_id']}"))
    assert out.json()["tracking_url"].startswith("http://testserver/track/")


async def test_staff_json_is_not_stored_by_caches(api):
    supervisor = await api.auth("supervisor")
    for url in ("/api/v1/cases", "/api/v1/auth/me", "/api/v1/notifications", "/api/v1/supervision/board"):
        r = await api.get(url, headers=supervisor)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", url
    denied = await api.get("/api/v1/cases")
    assert denied.status_code == 401 and denied.headers["cache-control"] == "no-store"


async def test_docs_load_nothing_from_another_site_and_are_off_in_production(tmp_path, engine):
    on = create_app(make_settings(tmp_path, temporal_address=AWAY), engine=engine)
    async with client_for(on) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
        assert "cdn." not in page.text and "https://" not in page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
            assert (await http.get(f"/static/vendor/swagger-ui/{asset}")).status_code == 200
        assert (await http.get("/redoc")).status_code == 404
    off = create_app(make_settings(tmp_path, temporal_address=AWAY, api_docs=False), engine=engine)
    async with client_for(off) as http:
        assert (await http.get("/docs")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 200


async def test_replaying_a_case_that_does_not_exist_leaves_no_access_log_row(api):
    auditor = await api.auth("auditor")
    for what in ("replay", "history", "dossier.pdf"):
        method = api.post if what == "replay" else api.get
        r = await method(f"/api/v1/cases/{'0' * 32}/{what}", headers=auditor)
        assert_error(r, 404)
    assert (await api.get("/api/v1/audit/access-log", headers=auditor)).json() == []
