"""Citizen pages: the real app, the real time-skipping Temporal server and a real worker (tests/conftest.py).

Fast tests talk to the app over httpx's ASGI transport. Browser tests (marked `browser`) run the same app
under uvicorn on a free port in this event loop and drive Debian's chromium with Playwright; without
/usr/bin/chromium (or without the playwright package) they are skipped and the run says so plainly."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from testkit.waiting import poll
from tests.api.conftest import Api, make_settings

CHROMIUM = Path(os.environ.get("WUHUAN_CHROMIUM", "/usr/bin/chromium"))  # Debian's; override for another
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}
_skipped: dict[str, int] = {}


def browser_skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"browser tests skipped: {CHROMIUM} not found — .ci/run installs chromium chromium-driver "
            "fonts-wqy-microhei"
        )
    if importlib.util.find_spec("playwright") is None:
        return "browser tests skipped: the playwright package is not installed — `make install` installs it"
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's chromium with Playwright (skipped without it)")


def pytest_collection_modifyitems(config, items):
    reason = browser_skip_reason()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
            _skipped[reason] = _skipped.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for reason, count in _skipped.items():
        terminalreporter.write_line(f"{reason} ({count} test{'s' if count != 1 else ''})", yellow=True, bold=True)


@pytest.fixture
def settings(tmp_path, task_queue):
    return make_settings(tmp_path, task_queue, max_upload_bytes=256 * 1024)


@pytest_asyncio.fixture
async def app(skipping_env, engine, worker, settings):
    from api.main import create_app

    return create_app(settings, client=skipping_env.client, engine=engine)


class Site(Api):
    """httpx on the app (pages and JSON API), with the JSON helpers of the API tests."""

    def __init__(self, http: httpx.AsyncClient, env, started: list, engine, settings):
        super().__init__(http, env, started)
        self.engine, self.settings = engine, settings

    def case_id(self, code: str) -> str:
        from services.codes import case_for_code
        from store.db import session

        with session(self.engine) as db:
            case_id = case_for_code(db, code)
        assert case_id is not None, "the code opens no case"
        return case_id

    def watch(self, case_id: str) -> None:
        """Terminate this case's workflow after the test (the time-skipping server's clock is shared)."""
        from workflows.dispute_case import workflow_id

        self.started.append(self.env.client.get_workflow_handle(workflow_id(case_id)))

    async def register(self, **over) -> tuple[str, str]:
        """Intake through the form → (tracking code, case id)."""
        from tests.pages.helpers import FORM, code_from

        r = await self.http.post("/intake", data={**FORM, **over})
        assert r.status_code == 303, r.text
        code = code_from(r.headers["location"])
        case_id = self.case_id(code)
        self.watch(case_id)
        return code, case_id


@pytest_asyncio.fixture
async def site(app, skipping_env, cases, engine, settings):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Site(http, skipping_env, cases, engine, settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest_asyncio.fixture
async def live_server(app):
    """The app under uvicorn on 127.0.0.1:<free port>, served from this event loop, as its public URL."""
    import uvicorn

    port = free_port()
    # The county's public URL is where citizens reach this server: links and QR codes point here.
    app.state.ctx.settings.public_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    )
    server.install_signal_handlers = lambda: None  # older uvicorn; newer ones skip outside the main thread
    task = asyncio.create_task(server.serve())
    await poll(lambda: server.started or task.done(), "uvicorn to start", timeout=10)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest_asyncio.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where the browser tests save their screenshots: WUHUAN_SCREENSHOTS_DIR (e.g. docs/screenshots, to
    refresh the README's pictures) or the test's temp dir."""
    target = os.environ.get("WUHUAN_SCREENSHOTS_DIR")
    path = Path(target) if target else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
