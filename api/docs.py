"""/docs: Swagger UI for trying the API, served from api/static/vendor/swagger-ui (the npm package
swagger-ui-dist, vendored: a county intranet reaches no CDN). On in the embedded default; WUHUAN_API_DOCS=false
turns it off in production, where nobody needs to try requests in a browser. The OpenAPI document itself
(/openapi.json) stays: clients and tests read it. ReDoc is not offered (it would need a CDN too)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from domain.settings import Settings

VENDOR = "/static/vendor/swagger-ui"


def install(app: FastAPI, settings: Settings) -> None:
    if not settings.api_docs:
        return

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
        )
