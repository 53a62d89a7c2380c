"""Helpers of the gateway's integration tests: the running product and how to talk to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.engine import Server
from atendimento.gateway.namespace import Gateway
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.demo import USUARIOS_DEMO, USUARIOS_OUTRA, ResumoDemo

SEGREDO = "segredo-dos-testes-do-gateway-com-mais-de-32-bytes"
GRACE_TESTES = 0.6  # short, so the presence tests stay quick; the contract allows up to 5 s
PAPEIS = {email: (nome, role) for email, nome, role in USUARIOS_DEMO + USUARIOS_OUTRA}


@dataclass
class Produto:
    url: str
    gateway: Gateway
    server: Server
    tokens: ServicoTokens
    resumo: ResumoDemo
    settings: Settings
    http: httpx.AsyncClient
    servico: ServicoAtendimento | None = None  # the domain service the app was built with

    def id(self, email: str) -> str:
        return self.resumo.id_de(email)

    def empresa_de(self, email: str) -> str:
        return self.resumo.outra_empresa_id if email.endswith("@outra.local") else self.resumo.empresa_id

    def token(self, email: str, ttl: int | None = None) -> str:
        nome, role = PAPEIS[email]
        return self.tokens.emitir(self.id(email), self.empresa_de(email), role, nome, ttl_seconds=ttl)

    def token_de(self, usuario_id: str, empresa_id: str, role: str, nome: str) -> str:
        """A token for a user the database does not hold (the CRM may issue such tokens)."""
        return self.tokens.emitir(usuario_id, empresa_id, role, nome)

    def nome(self, email: str) -> str:
        return PAPEIS[email][0]

    async def rest(self, metodo: str, caminho: str, email: str, corpo: Any = None) -> Any:
        """A REST call as ``email`` (or with a token, when it is one); ``data`` of a success envelope."""
        token = self.token(email) if "@" in email else email
        resposta = await self.http.request(
            metodo, caminho, json=corpo, headers={"Authorization": f"Bearer {token}"}
        )
        assert resposta.status_code < 300, resposta.text
        return resposta.json()["data"]

    def sids_em(self, sala: str) -> set[str]:
        return {s.sid for s in self.gateway.namespace.sockets_in(sala)}
