"""Serves the agent console at ``/`` and its files under ``/console/``, with strict security headers.

The bundle is built by ``make console`` (npm, esbuild) into ``static/`` beside this module, and is
never committed. Without it (a machine with no npm) ``/`` answers a small front door page instead,
so the product still serves everything else and a browser never lands on a JSON 404.

Every answer here carries a Content-Security-Policy that allows scripts, styles and connections
from this origin only (``connect-src 'self'`` covers the same-origin WebSocket), no inline script or
style, no framing. The REST API keeps its own headers: these apply to the console's files only.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import anyio
from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PASTA_ESTATICA = Path(__file__).resolve().parent / "static"

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
CABECALHOS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # The files change with each build and carry no hash in their names: always revalidate (ETag).
    (b"cache-control", b"no-cache"),
)

PORTA_DE_ENTRADA = """<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>atendimento</title>
</head>
<body>
<main>
<h1>atendimento</h1>
<p>Gateway em tempo real e API REST do atendimento omnichannel.</p>
<p>O console dos atendentes não foi construído nesta instalação
(<code>make console</code>, precisa de npm).</p>
<ul>
<li><a href="/docs">Documentação da API (/docs)</a></li>
<li><a href="/admin-ui/">Socket.IO Admin UI (/admin-ui/)</a></li>
<li><a href="/metrics">Métricas Prometheus (/metrics)</a></li>
</ul>
</main>
</body>
</html>
"""


class ComCabecalhos:
    """Adds ``CABECALHOS`` to every HTTP answer of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def enviar(mensagem: Message) -> None:
            if mensagem["type"] == "http.response.start":
                nomes = {nome for nome, _ in CABECALHOS}
                outros = [(n, v) for n, v in mensagem.get("headers", ()) if n.lower() not in nomes]
                mensagem = {**mensagem, "headers": [*outros, *CABECALHOS]}
            await send(mensagem)

        await self.app(scope, receive, enviar)


class _Arquivos(StaticFiles):
    """StaticFiles that answers 404 while the bundle is not built (rather than a RuntimeError)."""

    async def check_config(self) -> None:
        with contextlib.suppress(RuntimeError):  # "directory does not exist": lookups then find nothing
            await super().check_config()


def _inicio(pasta: Path) -> ASGIApp:
    async def inicio(scope: Scope, receive: Receive, send: Send) -> None:
        indice = anyio.Path(pasta / "index.html")
        # Looked up per request: `make console` while the server runs makes the console appear.
        resposta: Response
        if await indice.is_file():
            resposta = HTMLResponse(await indice.read_bytes())
        else:
            resposta = HTMLResponse(PORTA_DE_ENTRADA)
        await resposta(scope, receive, send)

    return inicio


def build_console(api: FastAPI, pasta: Path = PASTA_ESTATICA) -> None:
    """``/`` (the console's page, or the front door) and ``/console/*`` (its files) on ``api``.

    Only these two paths: every other unknown path keeps the API's JSON 404."""
    inicio = ComCabecalhos(_inicio(pasta))
    api.add_route("/", inicio, methods=["GET", "HEAD"], include_in_schema=False)  # type: ignore[arg-type]
    api.mount("/console", ComCabecalhos(_Arquivos(directory=pasta, check_dir=False)), name="console")
