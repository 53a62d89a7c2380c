"""Helpers for the API tests: an HTTP client on the ASGI app, tokens for demo users, shape checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from apoio_eventos import PublicadorGravador
from fastapi import FastAPI

from atendimento.api.respostas import Resposta
from atendimento.app import Aplicacao
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.gateway.portas import Atendente, OuvintePresenca
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage import Storage
from atendimento.storage.demo import ResumoDemo

SEGREDO = "segredo-de-teste-com-mais-de-32-bytes!!"
SENHA_DEMO = "demo-senha"


@dataclass
class PresencaFixa:
    """A presence registry for tests (the gateway's ``RegistroPresenca``, which the API reads as its
    ``ConsultaPresenca``): a fixed set of online ids, or an error to raise. No socket connects in the
    API tests, so the gateway's side of it does nothing."""

    ids: set[str] = field(default_factory=set)
    erro: Exception | None = None
    consultas: list[str] = field(default_factory=list)

    async def online(self, empresa_id: str) -> set[str]:
        self.consultas.append(empresa_id)
        if self.erro is not None:
            raise self.erro
        return set(self.ids)

    def ouvir(self, ouvinte: OuvintePresenca) -> None:
        pass

    async def conectou(self, atendente: Atendente, sid: str) -> None:
        pass

    async def desconectou(self, atendente: Atendente, sid: str) -> None:
        pass

    async def fechar(self) -> None:
        pass


@dataclass
class Ambiente:
    aplicacao: Aplicacao  # the product as the composition root builds it
    app: FastAPI  # its REST API (aplicacao.api); ``cliente`` goes through aplicacao.asgi
    cliente: httpx.AsyncClient
    servico: ServicoAtendimento
    tokens: ServicoTokens
    publicador: PublicadorGravador
    presenca: PresencaFixa
    usuarios: dict[str, dict[str, Any]]  # email → {id, empresa_id, role, nome}
    demo: ResumoDemo
    storage: Storage

    def token(self, email: str, ttl: int | None = None) -> str:
        u = self.usuarios[email]
        return self.tokens.emitir(u["id"], u["empresa_id"], u["role"], u["nome"], ttl_seconds=ttl)

    def auth(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email)}"}

    def id(self, email: str) -> str:
        return str(self.usuarios[email]["id"])


def assert_erro(resposta: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope, exactly: three keys, a non-empty message, the code, the status."""
    assert resposta.status_code == status, resposta.text
    assert resposta.headers["content-type"].startswith("application/json")
    corpo = resposta.json()
    assert set(corpo) == {"success", "error", "code"}, corpo
    assert corpo["success"] is False
    assert corpo["code"] == code, corpo
    assert isinstance(corpo["error"], str) and corpo["error"]
    assert "Traceback" not in resposta.text
    return corpo


def assert_ok(resposta: httpx.Response, status: int, modelo: Any) -> Any:
    """The success envelope, with ``data`` validated against the model the route documents."""
    assert resposta.status_code == status, resposta.text
    corpo = resposta.json()
    if isinstance(corpo.get("data"), list):
        # A list route answers a page: the items and the cursor of the next one (null at the end).
        assert set(corpo) == {"success", "data", "proximoCursor"}, corpo
        assert corpo["proximoCursor"] is None or isinstance(corpo["proximoCursor"], str)
        corpo = {k: v for k, v in corpo.items() if k != "proximoCursor"}
    else:
        assert set(corpo) == {"success", "data"}, corpo
    assert corpo["success"] is True
    Resposta[modelo].model_validate(corpo)  # type: ignore[valid-type]
    return corpo["data"]
