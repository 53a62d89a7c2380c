"""The product as ``build_app`` makes it, on a copy of the demo database (SQLite and PostgreSQL), its
REST side called in-process, its relay running on the test's loop; events recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings
from atendimento.identity.passwords import Senhas
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.demo import USUARIOS_DEMO, USUARIOS_OUTRA, ResumoDemo

from .apoio import CONFIG_RAPIDA

SEGREDO_JWT = "segredo-de-teste-com-mais-de-32-bytes!!"


@dataclass
class Produto:
    aplicacao: Aplicacao
    cliente: httpx.AsyncClient
    demo: ResumoDemo
    banco: Any  # BancoDemo

    @property
    def publicador(self) -> Any:
        return self.banco.publicador

    def auth(self, email: str) -> dict[str, str]:
        for lista, empresa in (
            (USUARIOS_DEMO, self.demo.empresa_id),
            (USUARIOS_OUTRA, self.demo.outra_empresa_id),
        ):
            for e, nome, role in lista:
                if e == email:
                    token = self.aplicacao.tokens.emitir(self.demo.id_de(email), empresa, role, nome)
                    return {"Authorization": f"Bearer {token}"}
        raise KeyError(email)

    @property
    def canal(self) -> str:
        return self.demo.canais["whatsapp"]

    async def definir_webhook(self, url: str, canal: str | None = None) -> str:
        r = await self.cliente.put(
            f"/atendimento/canais/{canal or self.canal}/webhook",
            json={"url": url},
            headers=self.auth("gestor@demo.local"),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["data"]["segredo"])

    async def ticket_do_canal(self, contato: str = "+5511999990000") -> str:
        """A ticket on the WhatsApp channel (the customer writes first)."""
        r = await self.cliente.post(
            f"/atendimento/canais/{self.canal}/mensagens",
            json={"contato": contato, "conteudo": "oi"},
            headers=self.auth("integracao@demo.local"),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["ticket"]["id"])

    async def responder(self, ticket_id: str, conteudo: str, email: str = "ana@demo.local") -> dict[str, Any]:
        r = await self.cliente.post(
            f"/atendimento/tickets/{ticket_id}/mensagens",
            json={"conteudo": conteudo},
            headers=self.auth(email),
        )
        assert r.status_code == 201, r.text
        return dict(r.json()["data"])


async def _produto(banco: Any, tmp_path: Path, senhas: Senhas, **ajustes: Any) -> AsyncIterator[Produto]:
    valores = {**CONFIG_RAPIDA, **ajustes}
    settings = Settings(data_dir=tmp_path, jwt_secret=SEGREDO_JWT, **valores)  # type: ignore[call-arg]
    aplicacao = build_app(
        settings,
        storage=banco.storage,
        senhas=senhas,
        tokens=ServicoTokens(["HS256"], SEGREDO_JWT, None, 5, 3600),
        publicador=banco.publicador,
    )
    assert aplicacao.relay is not None
    await aplicacao.relay.start()
    cliente = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=aplicacao.asgi), base_url="http://api.teste"
    )
    try:
        yield Produto(aplicacao, cliente, banco.resumo, banco)
    finally:
        await cliente.aclose()
        async with asyncio.timeout(10):  # a relay that does not stop fails the test, not the run
            await aplicacao.relay.stop()


@pytest.fixture
async def produto(banco_demo: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Produto]:
    """On SQLite and on PostgreSQL (application role, under RLS)."""
    async for p in _produto(banco_demo, tmp_path, senhas_rapidas):
        yield p


@pytest.fixture
async def produto_sqlite(demo_sqlite: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Produto]:
    async for p in _produto(demo_sqlite, tmp_path, senhas_rapidas):
        yield p


@pytest.fixture
async def produto_seguro(demo_sqlite: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Produto]:
    """Private addresses refused, as in production."""
    async for p in _produto(demo_sqlite, tmp_path, senhas_rapidas, webhook_allow_private=False):
        yield p


@pytest.fixture
async def produto_paciente(banco_demo: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Produto]:
    """Both databases, with a schedule that keeps a failing event retrying for ~10 s."""
    async for p in _produto(banco_demo, tmp_path, senhas_rapidas, webhook_retry_schedule=[0.5] * 20):
        yield p
