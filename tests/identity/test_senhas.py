"""argon2 password hashing (atendimento/identity/passwords.py)."""

from __future__ import annotations

import time

from atendimento.identity.passwords import Senhas, senhas_padrao


def test_hash_e_verificacao() -> None:
    senhas = Senhas.rapidas()
    h = senhas.hash("demo-senha")
    assert h.startswith("$argon2id$") and "demo-senha" not in h
    assert senhas.verificar(h, "demo-senha")
    assert not senhas.verificar(h, "outra")
    assert not senhas.verificar("não é um hash", "demo-senha")
    assert senhas.hash("x") != senhas.hash("x")  # salted


def test_parametros_ficam_no_hash() -> None:
    rapido = Senhas.rapidas().hash("s")
    assert senhas_padrao().verificar(rapido, "s")  # the production instance checks a cheap hash too
    producao = senhas_padrao().hash("s")
    assert "m=65536" in producao and Senhas.rapidas().verificar(producao, "s")


async def test_sem_hash_gasta_o_tempo_de_uma_verificacao() -> None:
    senhas = Senhas()
    real = senhas.hash("s")
    senhas.hash_dummy()  # made once, like at the first failed login
    inicio = time.perf_counter()
    assert await senhas.verificar_async(real, "errada") is False
    com_hash = time.perf_counter() - inicio
    inicio = time.perf_counter()
    assert await senhas.verificar_async(None, "errada") is False
    sem_hash = time.perf_counter() - inicio
    assert sem_hash > com_hash / 3  # same order of magnitude: an unknown email is not answered faster
    assert senhas.hash_dummy() == senhas.hash_dummy()
