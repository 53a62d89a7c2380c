"""Fixtures of the console's browser tests: the real product (``build_app``, the composition root)
on a copy of the demo database, served by uvicorn on the test's loop so a test can stop and restart
it on the same port, and Debian's Chromium driven by Playwright for Python.

The console bundle must be built (``make console``; ``make test`` does it first). A missing bundle
or a missing /usr/bin/chromium fails the tests, never skips them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from apoio_navegador import ARGS_CHROMIUM, CHROMIUM
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings
from atendimento.console import PASTA_ESTATICA

from .apoio_console import ServidorReiniciavel

SEGREDO = "segredo-dos-testes-do-console-com-mais-de-32-bytes"
SENHA = "demo-senha"


@pytest.fixture(scope="session")
def pre_requisitos() -> None:
    assert os.path.isfile(CHROMIUM), f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    assert os.path.isfile(PASTA_ESTATICA / "app.js"), "the console is not built: run `make console`"


@pytest.fixture(scope="session")
async def navegador(pre_requisitos: None) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS_CHROMIUM)
        yield browser
        await browser.close()


@dataclass
class Produto:
    """The running product and what the tests need around it."""

    app: Aplicacao
    servidor: ServidorReiniciavel
    http: httpx.AsyncClient
    resumo: Any
    tokens_: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.servidor.url

    def id(self, email: str) -> str:
        return str(self.resumo.id_de(email))

    async def token(self, email: str) -> str:
        if email not in self.tokens_:
            resposta = await self.http.post("/auth/login", json={"email": email, "senha": SENHA})
            assert resposta.status_code == 200, resposta.text
            self.tokens_[email] = resposta.json()["data"]["access_token"]
        return self.tokens_[email]

    async def rest(self, metodo: str, caminho: str, email: str, corpo: Any = None) -> Any:
        resposta = await self.http.request(
            metodo, caminho, json=corpo, headers={"Authorization": f"Bearer {await self.token(email)}"}
        )
        assert resposta.status_code < 300, resposta.text
        return resposta.json()["data"]


@pytest.fixture
async def produto(demo_sqlite: Any, tmp_path: Path) -> AsyncIterator[Produto]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=demo_sqlite.banco.app_url,
        data_dir=tmp_path,
        jwt_secret=SEGREDO,
        presence_grace_seconds=0.5,
        ping_interval_ms=2000,
        ping_timeout_ms=2000,
    )
    app = build_app(settings)
    await app.startup()
    servidor = ServidorReiniciavel(app.asgi)
    await servidor.iniciar()
    try:
        async with httpx.AsyncClient(base_url=servidor.url, timeout=10) as http:
            yield Produto(app, servidor, http, demo_sqlite.resumo)
    finally:
        await servidor.parar(app)
        await app.shutdown()


@dataclass
class Paginas:
    """Browser pages of the test (each in its own context: its own sessionStorage), with every
    uncaught page error collected; the fixture fails the test when there was any."""

    navegador: Browser
    erros: list[str] = field(default_factory=list)
    contextos: list[BrowserContext] = field(default_factory=list)

    async def nova(self, largura: int = 1366, altura: int = 768) -> Page:
        contexto = await self.navegador.new_context(
            viewport={"width": largura, "height": altura}, locale="pt-BR"
        )
        self.contextos.append(contexto)
        pagina = await contexto.new_page()
        pagina.on("pageerror", lambda erro: self.erros.append(f"{pagina.url}: {erro}"))
        return pagina

    async def fechar(self) -> None:
        for contexto in self.contextos:
            with contextlib.suppress(Exception):
                await contexto.close()


@pytest.fixture
async def paginas(navegador: Browser) -> AsyncIterator[Paginas]:
    conjunto = Paginas(navegador)
    try:
        yield conjunto
    finally:
        await conjunto.fechar()
    assert conjunto.erros == [], conjunto.erros


Entrar = Callable[..., Any]
