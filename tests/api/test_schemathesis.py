"""Schemathesis over the app's own OpenAPI document (api/openapi.py), in-process: for every operation, a few
generated requests — valid ones and invalid ones — without a token and with a supervisor's, against the real
app, worker, Temporal test server and SQLite. What a client relies on: no server error other than a declared
503, every status it gets is in the document, and every body (success or error) is the declared one.

Schemathesis generates the cases and checks the answers; the requests go through the `api` fixture's httpx
client on the test's own event loop (where the worker runs), the generation in a thread beside it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from tests.api.conftest import LABOUR, Api, assert_error, make_settings

EXAMPLES = 6  # per operation, mode and caller: ~72 operations x 2 x 2 x 6 requests
BASE = "http://testserver"
# Every operation runs, uploads too (schemathesis writes the multipart bodies). None has to be left out for the
# demo accounts' sake: no route signs a staff member out or changes a password (DELETE /api/v1/codec/session only
# drops the codec cookie, which no request here carries). Operations named here would be skipped, with a reason.
SKIPPED: dict[str, str] = {}
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]


def _app(api):
    app = api.http._transport.app
    while not hasattr(app, "openapi"):
        app = app.app
    return app


def _sender(api, loop: asyncio.AbstractEventLoop):
    """Sends schemathesis' request (its `requests` arguments, serialised by requests itself, multipart included)
    through the fixture's httpx client on the test's loop; returns the httpx response."""

    def send(kwargs: dict[str, Any]):
        allowed = ("method", "url", "headers", "files", "data", "json", "params", "cookies")
        prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in allowed}).prepare()
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
        call = api.http.request(prepared.method, prepared.url, headers=headers, content=prepared.body or b"")
        return asyncio.run_coroutine_threadsafe(call, loop).result(timeout=120)

    return send


def _run(
    schema,
    send,
    headers: dict[str, str],
    label: str,
    real: dict[str, str],
    problems: list[str],
    seen: dict[int, int],
    modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    examples: int = EXAMPLES,
) -> None:
    """`real`: path parameters pinned to a real case in the positive run (its id, its tracking code), so the
    routes answer with the case itself, not only 404s for generated ids."""
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        pinned = {name: value for name, value in real.items() if f"{{{name}}}" in operation.path}
        for mode in modes:
            if mode is GenerationMode.NEGATIVE and not headers and operation.definition.raw.get("security"):
                continue  # without a token, invalid input gets the same 401 as valid input (run above)
            path = pinned if mode is GenerationMode.POSITIVE and pinned else None
            where = f"{label} {mode.value} {operation.label}"
            try:
                _examples(operation, mode, path, headers, send, where, problems, seen, examples)
            except hypothesis.errors.Unsatisfiable:  # nothing to make invalid (no parameters, or strings any)
                assert mode is GenerationMode.NEGATIVE, where
            except Exception as err:  # a case schemathesis could not generate or send
                problems.append(f"{where}: not run: {type(err).__name__}: {err}"[:800])


def _examples(
    operation, mode, path, headers, send, where: str, problems: list[str], seen: dict[int, int], examples: int
) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case) -> None:
        kwargs = case.as_transport_kwargs(base_url=BASE, headers=headers)
        response = send(kwargs)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if response.status_code >= 500 and response.status_code != 503:
            problems.append(f"{where}: {response.status_code} {response.text[:300]}")
            return
        try:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
        except (Exception, BaseExceptionGroup) as failure:  # every failure of every operation, not only the first
            problems.append(f"{where}: {str(failure)[:1200]}")

    one()


async def test_the_openapi_document_holds_with_and_without_a_token(api):
    app = _app(api)
    schema = schemathesis.openapi.from_dict(app.openapi())
    case = await api.intake()  # something to list, find and act on
    await api.teamed(case["case_id"])
    supervisor = await api.auth("supervisor")
    send = _sender(api, asyncio.get_running_loop())
    problems: list[str] = []
    seen: dict[int, int] = {}
    await asyncio.to_thread(_run, schema, send, {}, "anonymous", {"code": case["tracking_code"]}, problems, seen)
    await asyncio.to_thread(_run, schema, send, supervisor, "supervisor", {"case_id": case["case_id"]}, problems, seen)
    print("statuses seen:", dict(sorted(seen.items())))
    assert seen.get(200, 0) + seen.get(201, 0) > 20, seen  # the runs reached the routes, not only their guards
    assert not problems, f"{len(problems)} problems:\n" + "\n\n".join(problems)


async def test_the_document_holds_while_temporal_is_away(tmp_path, engine):
    """No case engine: the routes that need it answer 503 (with Retry-After), as the document says; the rest
    answer from the read model."""
    app = create_app(make_settings(tmp_path, temporal_address="127.0.0.1:1"), engine=engine)
    schema = schemathesis.openapi.from_dict(app.openapi())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        api = Api(http, None, [])
        supervisor = await api.auth("supervisor")
        send = _sender(api, asyncio.get_running_loop())
        problems: list[str] = []
        seen: dict[int, int] = {}
        await asyncio.to_thread(
            _run, schema, send, supervisor, "no Temporal", {}, problems, seen, (GenerationMode.POSITIVE,), 3
        )
    print("statuses seen:", dict(sorted(seen.items())))
    assert seen.get(503, 0) > 0 and seen.get(200, 0) > 0, seen
    assert not problems, f"{len(problems)} problems:\n" + "\n\n".join(problems)


async def test_what_schemathesis_found(tmp_path, engine):
    """Its findings, each kept: FastAPI's 422 body declared as HTTPValidationError while the API sends the
    contract's shape; statuses the routes answer but the document did not name; a 400 for a body that is not
    UTF-8 or a multipart form with too many fields; a 503 without Retry-After."""
    app = create_app(make_settings(tmp_path, temporal_address="127.0.0.1:1"), engine=engine)
    doc = app.openapi()
    assert "HTTPValidationError" not in str(doc)
    case_step = doc["paths"]["/api/v1/cases/{case_id}/resolve"]["post"]["responses"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(case_step)
    assert case_step["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Retry-After" in doc["paths"]["/api/v1/cases"]["post"]["responses"]["429"]["headers"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        api = Api(http, None, [])
        bad = b'{"description": "\xff\xfe"}'
        r = await http.post("/api/v1/triage/preview", content=bad, headers={"Content-Type": "application/json"})
        assert_error(r, 422, "unreadable_body")
        files = {f"f{i}": (None, "x") for i in range(6)}  # the upload form takes at most 4
        r = await http.post("/api/v1/inspection/photos", files=files, headers=await api.auth("inspector"))
        assert_error(r, 422, "unreadable_body")
        body = {"description": LABOUR, "citizen": {"name": "王小明", "phone": "13800001234"}, "channel": "web"}
        r = await http.post("/api/v1/cases", json=body)
        assert_error(r, 503, "temporal_unavailable")
        assert r.headers["Retry-After"].isdigit()
