"""The cache of verified tokens: it saves the full verification and changes no answer."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from atendimento.identity.tokens import ServicoTokens, TokenErro

from .apoio_tokens import OUTRO_SEGREDO, SEGREDO, b64url, claims_de, codigo_do_erro, token_hs


class _Relogio:
    """Stands in for the ``time`` module inside atendimento.identity.tokens."""

    def __init__(self, agora: float) -> None:
        self.agora = agora

    def time(self) -> float:
        return self.agora


@pytest.fixture
def relogio(monkeypatch: pytest.MonkeyPatch) -> _Relogio:
    r = _Relogio(float(int(time.time())))
    monkeypatch.setattr("atendimento.identity.tokens.time", r)
    return r


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the full verifications (PyJWT decodes)."""
    chamadas: list[str] = []
    original = jwt.decode

    def contar(token: str, *args: Any, **kwargs: Any) -> Any:
        chamadas.append(token)
        return original(token, *args, **kwargs)

    monkeypatch.setattr("atendimento.identity.tokens.jwt.decode", contar)
    return chamadas


def test_cache_evita_segunda_verificacao_completa(hs: ServicoTokens, decodes: list[str]) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    primeira = hs.verificar(token)
    assert hs.verificar(token) == primeira
    assert hs.verificar(token) is primeira
    assert len(decodes) == 1


def test_cache_expira_exatamente_como_sem_cache(relogio: _Relogio) -> None:
    """Through the cache an expiring token is accepted and refused at the very same instants as
    by a service without a cache (exp is checked against the clock on every use, with the leeway)."""
    com = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    sem = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=0)
    inicio = relogio.agora
    token = token_hs(claims_de(iat=int(inicio), exp=int(inicio) + 10))
    assert com.verificar(token).exp == int(inicio) + 10  # now cached
    for delta in (0, 9, 10, 14, 14.999, 15, 16, 100):
        relogio.agora = inicio + delta
        esperado = "ok" if delta < 15 else "TOKEN_EXPIRADO"  # exp + leeway is the first refused second
        for servico in (com, sem):
            try:
                servico.verificar(token)
                obtido = "ok"
            except TokenErro as exc:
                obtido = exc.code
            assert obtido == esperado, (delta, servico is com)
    # Once refused it stays refused, cached or not.
    assert codigo_do_erro(com, token) == "TOKEN_EXPIRADO"


def test_cache_refaz_iat_e_nbf_com_o_relogio_de_agora(relogio: _Relogio) -> None:
    hs = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    inicio = int(relogio.agora)
    token = token_hs(claims_de(iat=inicio, nbf=inicio, exp=inicio + 600))
    hs.verificar(token)
    relogio.agora = inicio - 60  # the clock steps back: issued "in the future" again
    assert codigo_do_erro(hs, token) == "TOKEN_INVALIDO"
    relogio.agora = inicio
    assert hs.verificar(token).usuario_id == "u1"


def test_cache_nao_aceita_token_adulterado(hs: ServicoTokens) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    hs.verificar(token)
    cabecalho, corpo, assinatura = token.split(".")
    trocada = assinatura[:-2] + ("AA" if not assinatura.endswith("AA") else "BB")
    assert codigo_do_erro(hs, f"{cabecalho}.{corpo}.{trocada}") == "TOKEN_INVALIDO"
    outro_corpo = b64url(json.dumps({**claims_de(), "role": "admin"}).encode())
    assert codigo_do_erro(hs, f"{cabecalho}.{outro_corpo}.{assinatura}") == "TOKEN_INVALIDO"
    assert codigo_do_erro(hs, token + " ") == "TOKEN_INVALIDO"  # the key is the exact string


def test_cache_e_de_cada_instancia(hs: ServicoTokens) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    hs.verificar(token)
    outro = ServicoTokens(["HS256"], OUTRO_SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    assert codigo_do_erro(outro, token) == "TOKEN_INVALIDO"


def test_cache_limitado_descarta_o_menos_usado(decodes: list[str]) -> None:
    hs = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=2)
    a, b, c = (hs.emitir(f"u{i}", "e1", "atendente", "Ana") for i in range(3))
    hs.verificar(a)
    hs.verificar(b)
    hs.verificar(a)  # a is now the most recently used
    hs.verificar(c)  # evicts b
    assert decodes == [a, b, c]
    hs.verificar(a)
    hs.verificar(c)
    assert decodes == [a, b, c]
    hs.verificar(b)
    assert decodes == [a, b, c, b]


def test_cache_tamanho_invalido() -> None:
    with pytest.raises(ValueError):
        ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=-1)
