"""Which tenant an emitter's room belongs to: counts per key and tenant, kept for the recovery window
after the last socket leaves (so an emit meanwhile is kept for that socket's recovery)."""

from __future__ import annotations

import time

from atendimento.gateway.emissores_indice import _Contagem


def test_conta_por_chave_e_empresa() -> None:
    contagem = _Contagem(janela_s=0)
    contagem.mais("u1", "A")
    contagem.mais("u1", "A")
    contagem.mais("u1", "B")  # the same user id in another tenant (tokens from another issuer)
    assert contagem.empresas("u1") == {"A", "B"}
    contagem.menos("u1", "B")
    assert contagem.empresas("u1") == {"A"}
    contagem.menos("u1", "A")
    assert contagem.empresas("u1") == {"A"}
    contagem.menos("u1", "A")
    assert contagem.empresas("u1") == set()  # no window: gone with its last socket
    contagem.menos("u1", "A")  # one leave too many changes nothing
    assert contagem.empresas("u1") == set() and contagem.empresas("outro") == set()


def test_fica_pela_janela_depois_do_ultimo_socket() -> None:
    contagem = _Contagem(janela_s=0.2)
    contagem.mais("t1", "A")
    contagem.menos("t1", "A")
    assert contagem.empresas("t1") == {"A"}  # away, within the window: still resolved
    limite = time.monotonic() + 5
    while contagem.empresas("t1") and time.monotonic() < limite:
        time.sleep(0.02)
    assert contagem.empresas("t1") == set()
    contagem.mais("t2", "A")
    contagem.menos("t2", "A")  # prunes t1's expired entry
    assert "t1" not in contagem._recentes
