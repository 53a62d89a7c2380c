"""Per-event rate limits (issue 10): a default for any registered event, per user and per tenant,
tenant-qualified keys, and the settings that override them; the typing limit per user and ticket."""

from __future__ import annotations

import pytest

from atendimento.config import SettingsError, load_settings
from atendimento.gateway.rate_limits import DESCONHECIDO, LimiteDigitando, LimitesEventos


async def test_um_evento_novo_tem_o_limite_padrao() -> None:
    limites = LimitesEventos(por_usuario={"*": "2/minute"})
    assert await limites.consumir("auth:renovar", "e1", "u1") is None
    assert await limites.consumir("auth:renovar", "e1", "u1") is None
    espera = await limites.consumir("auth:renovar", "e1", "u1")
    assert espera is not None and 0 < espera <= 60_000
    # Each event and each user has a budget of its own.
    assert await limites.consumir("ticket:visualizando", "e1", "u1") is None
    assert await limites.consumir("auth:renovar", "e1", "u2") is None


async def test_limite_por_empresa_nao_toca_outra_empresa() -> None:
    limites = LimitesEventos(por_empresa={"atendente:status": "3/minute"})
    for usuario in ("u1", "u2", "u3"):
        assert await limites.consumir("atendente:status", "e1", usuario) is None
    assert await limites.consumir("atendente:status", "e1", "u4") is not None
    assert await limites.consumir("atendente:status", "e2", "u1") is None


async def test_chaves_nao_se_confundem_entre_tenants() -> None:
    limites = LimitesEventos(por_usuario={DESCONHECIDO: "1/minute"})
    assert await limites.consumir(DESCONHECIDO, "a/b", "c") is None
    assert await limites.consumir(DESCONHECIDO, "a", "b/c") is None  # not the same user as above
    assert await limites.consumir(DESCONHECIDO, "a/b", "c") is not None


def test_configuracao_dos_limites() -> None:
    settings = load_settings(event_rate_limits="ticket:entrar=5/minute; ?=1/second", data_dir="/tmp")
    assert settings.event_rate_limits == {"ticket:entrar": "5/minute", "?": "1/second"}
    for ruim in ("ticket:entrar", "ticket:entrar=muitos", "=5/minute"):
        with pytest.raises(SettingsError):
            load_settings(event_rate_limits=ruim)


async def test_limite_de_digitando_por_usuario_e_ticket() -> None:
    limite = LimiteDigitando()
    respostas = [await limite.consumir("e1", "ana", "t1") for _ in range(11)]
    assert respostas[:10] == [None] * 10
    assert respostas[10] is not None and 0 < respostas[10] <= 60_000
    # Other ticket, other user, other tenant: separate budgets.
    assert await limite.consumir("e1", "ana", "t2") is None
    assert await limite.consumir("e1", "bruno", "t1") is None
    assert await limite.consumir("e2", "ana", "t1") is None
