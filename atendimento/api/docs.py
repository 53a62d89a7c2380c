"""``/docs`` without a CDN: Swagger UI's files come from the pinned ``swagger-ui-bundle-v2`` package.

FastAPI's default page loads Swagger UI from a CDN, i.e. a blank page on a machine without internet
(or behind a strict proxy). The same page is built here with FastAPI's own ``get_swagger_ui_html``,
pointed at ``/docs/assets/``, which serves the bundle's folder. ReDoc is not offered.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"


def instalar_docs(app: FastAPI, caminho: str = "/docs") -> None:
    """``caminho`` serves Swagger UI for ``app.openapi_url``; its assets live under ``/docs/assets``."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        raiz = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=raiz + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - API",
            swagger_js_url=f"{raiz}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{raiz}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{raiz}{ASSETS}/favicon-32x32.png",
        )

    app.add_api_route(caminho, docs, methods=["GET"], include_in_schema=False)
