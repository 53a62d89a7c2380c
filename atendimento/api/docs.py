"""``/docs`` without a CDN: Swagger UI's files come from the pinned ``swagger-ui-bundle-v2`` package.

FastAPI's default page loads Swagger UI from a CDN, i.e. a blank page on a machine without internet
(or behind a strict proxy). This page loads the bundle's files from ``/docs/assets/`` and starts
Swagger UI from a script file of its own (``/docs/iniciar.js``), not an inline script, so a
Content-Security-Policy of ``script-src 'self'`` does not break it. ReDoc is not offered.
"""

from __future__ import annotations

import html
import json

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"

_PAGINA = """<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<title>{titulo}</title>
<link rel="stylesheet" href="{raiz}{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{raiz}{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{raiz}{assets}/swagger-ui-bundle.js"></script>
<script src="{raiz}{caminho}/iniciar.js"></script>
</body>
</html>
"""

_INICIAR = """window.ui = SwaggerUIBundle({
  url: %s,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def _raiz(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def instalar_docs(app: FastAPI, caminho: str = "/docs") -> None:
    """``caminho`` serves Swagger UI for ``app.openapi_url``; its assets live under ``/docs/assets``."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    openapi = app.openapi_url or "/openapi.json"

    async def pagina(request: Request) -> HTMLResponse:
        titulo = html.escape(f"{app.title} - API")
        raiz = html.escape(_raiz(request))
        return HTMLResponse(_PAGINA.format(titulo=titulo, raiz=raiz, assets=ASSETS, caminho=caminho))

    async def iniciar(request: Request) -> Response:
        return Response(_INICIAR % json.dumps(_raiz(request) + openapi), media_type="text/javascript")

    app.add_api_route(caminho, pagina, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{caminho}/iniciar.js", iniciar, methods=["GET"], include_in_schema=False)
