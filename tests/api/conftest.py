"""API tests: the real app over httpx's ASGI transport, the real time-skipping Temporal server, a real worker
and a real SQLite read model (fixtures of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from domain.settings import Settings
from testkit.waiting import poll

LABOUR = "白塔镇某工地包工头拖欠工人三个月工资"
PHONE = "13800001234"


def make_settings(tmp_path, task_queue: str = "unused", **over: Any) -> Settings:
    base = dict(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'wuhuan.db'}",
        temporal_task_queue=task_queue,
        secret_key="test-secret-key-0123456789abcdef0123",
        rate_limit_intake="1000/minute",
        rate_limit_track="1000/minute",
        max_upload_bytes=4096,
        max_description_chars=500,
        query_timeout_seconds=1.0,
        public_url="http://testserver",  # where citizens reach the system: the test client's host
    )
    base.update(over)
    return Settings(**base)


class Api:
    """An httpx client on the app, plus the helpers every test needs."""

    def __init__(self, http: httpx.AsyncClient, env, started: list):
        self.http, self.env, self.started = http, env, started
        self._tokens: dict[str, str] = {}

    def __getattr__(self, name: str):  # get/post/... go to the httpx client
        return getattr(self.http, name)

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = await self.http.post("/api/v1/auth/token", data={"username": username, "password": "wuhuan-demo"})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    async def intake(self, description: str = LABOUR, phone: str = "138 0000 1234", headers=None, **extra) -> dict:
        body = {"description": description, "citizen": {"name": "王小明", "phone": phone}, "channel": "web", **extra}
        r = await self.http.post("/api/v1/cases", json=body, headers=headers or {})
        assert r.status_code == 201, r.text
        out = r.json()
        if self.env is not None:
            from workflows.dispute_case import workflow_id

            self.started.append(self.env.client.get_workflow_handle(workflow_id(out["case_id"])))
        return out

    async def case(self, case_id: str, as_user: str = "supervisor") -> dict:
        r = await self.http.get(f"/api/v1/cases/{case_id}", headers=await self.auth(as_user))
        assert r.status_code == 200, r.text
        return r.json()

    async def until(self, case_id: str, predicate: Callable[[dict], bool], as_user: str = "supervisor") -> dict:
        async def view():
            v = await self.case(case_id, as_user)
            return v if predicate(v) else None

        return await poll(view, "the case view")

    async def teamed(self, case_id: str) -> dict:
        """The case view once the team is formed and every event so far is in the read model."""
        if self.env is not None:
            await self.settled(case_id)
        return await self.until(case_id, lambda v: bool(v["team"]))

    async def settled(self, case_id: str, predicate: Callable = lambda s: bool(s.team)):
        """The live state once `predicate` holds and every event so far is in the read model (the
        workflow records events just after it applies the automatic steps)."""
        from tests.workflows.helpers import until
        from workflows.dispute_case import workflow_id

        return await until(self.env.client.get_workflow_handle(workflow_id(case_id)), predicate)


@pytest.fixture
def settings(tmp_path, task_queue):
    return make_settings(tmp_path, task_queue)


@pytest_asyncio.fixture
async def api(skipping_env, engine, worker, settings, cases):
    from api.main import create_app

    app = create_app(settings, client=skipping_env.client, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Api(http, skipping_env, cases)


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, f"{r.status_code} {r.text}"
    detail = r.json()["detail"]
    assert (
        isinstance(detail, dict) and isinstance(detail.get("code"), str) and isinstance(detail.get("message"), str)
    ), r.text
    if code is not None:
        assert detail["code"] == code, r.text
    return detail
