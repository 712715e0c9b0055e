"""The OpenAPI document says what the API really answers: every operation's error statuses, each with the
contract's error body `{"detail": {"code", "message", ...}}` (api/errors.py makes every one of them), not
FastAPI's own `HTTPValidationError`, which this API never sends.

One declaration for all routes, from what each route is (signed-in or not, path parameters, a body, an upload,
a rate limit) rather than a list kept by hand on every route: a new route is described the day it is added.
A route's own `responses=` text (e.g. sign-in's 429) is kept; only the body is filled in.
tests/api/test_schemathesis.py holds the document to the answers."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

ERROR_REF = "#/components/schemas/Error"

ERROR_SCHEMAS: dict[str, Any] = {
    "ErrorIssue": {
        "title": "ErrorIssue",
        "description": "One field's problem in a 422 (FastAPI's location, message and type; never the input).",
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
    },
    "ErrorDetail": {
        "title": "ErrorDetail",
        "description": "code: snake_case, stable, for programs; message: Chinese, for people. A refusal may add "
        "its own fields (e.g. a case's state).",
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorIssue"}},
        },
        "required": ["code", "message"],
        "additionalProperties": True,
    },
    "Error": {
        "title": "Error",
        "type": "object",
        "properties": {"detail": {"$ref": "#/components/schemas/ErrorDetail"}},
        "required": ["detail"],
    },
}


# Every 429 and 503 says how long to wait (api/errors.py adds it to a 503 that names no wait of its own).
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}

DESCRIPTIONS = {
    401: "no token, or a token that is invalid, expired or of an account no longer active",
    403: "the caller's role may not do this, or the case/hazard is outside the caller's jurisdiction",
    404: "no such case, hazard, file, notification or row (or not visible to the caller)",
    409: "not in this state: the step does not apply to the case or hazard as it is now",
    413: "the request body is larger than its limit (JSON and forms WUHUAN_MAX_BODY_BYTES, uploads "
    "WUHUAN_MAX_UPLOAD_BYTES)",
    415: "an upload that is not multipart/form-data, or a file of a kind not accepted or not readable",
    422: "invalid input: the schemas' own checks (their code), FastAPI's validation (invalid_input, with "
    "`errors`), control characters in the path or query (invalid_text), numbers out of range",
    429: "too many requests from this address (or wrong passwords for this account): wait Retry-After seconds",
    503: "busy (every database connection taken, too many sign-ins at once) or the case engine (Temporal) or "
    "its worker not answering: try again after Retry-After seconds",
}

# Anonymous routes counted by address (services/ratelimit.py, services/accounts.py): sign-in, intake, the
# routing preview and everything under a tracking code.
RATE_LIMITED = re.compile(
    r"^(POST /api/v1/auth/token|POST /api/v1/cases|POST /api/v1/triage/preview)$|^[A-Z]+ /api/v1/track/"
)
STEP_METHODS = {"post", "put", "patch", "delete"}


def statuses_of(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it is."""
    found = {422, 503}  # any path or query may hold a control character; any route may find the pool taken
    if operation.get("security"):
        found |= {401, 403}
    params = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
    if params:
        found.add(404)
        if method in STEP_METHODS:
            found.add(409)
    body = operation.get("requestBody")
    if body is not None:
        found.add(413)
        if "multipart/form-data" in body.get("content", {}):
            found.add(415)
    if RATE_LIMITED.match(f"{method.upper()} {path}"):
        found.add(429)
    return found


def declare_errors(doc: dict[str, Any]) -> dict[str, Any]:
    """Adds the error responses to every operation of the document (in place; running it twice changes
    nothing)."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    schemas.pop("HTTPValidationError", None)  # FastAPI's own 422 body: never sent (api/errors.py)
    schemas.pop("ValidationError", None)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in sorted(statuses_of(method, path, operation)):
                entry = responses.setdefault(str(status), {})
                if not entry.get("description") or entry.get("description") == "Validation Error":
                    entry["description"] = DESCRIPTIONS[status]
                entry["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
                if status in (429, 503):
                    entry["headers"] = RETRY_AFTER
                elif status == 401:
                    entry["headers"] = WWW_AUTHENTICATE
    return doc


def install(app: FastAPI) -> None:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
