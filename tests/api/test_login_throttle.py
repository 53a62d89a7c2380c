"""Login throttling as an attacker meets it: one account from many addresses, a burst of parallel
guesses, the backoff, IPv6 /64s; and as a call centre behind one NAT meets it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from atendimento.api.error_responses import ErroApi
from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin

from .apoio import SENHA_DEMO, Ambiente, assert_erro


def _de(amb: Ambiente, endereco: str) -> httpx.AsyncClient:
    """A client of the same app seen from another address."""
    transporte = httpx.ASGITransport(app=amb.app, client=(endereco, 40000))
    return httpx.AsyncClient(transport=transporte, base_url="http://api.teste")


async def _login(cliente: httpx.AsyncClient, email: str, senha: str) -> httpx.Response:
    return await cliente.post("/auth/login", json={"email": email, "senha": senha})


async def test_uma_conta_adivinhada_de_muitos_enderecos_e_bloqueada(amb: Ambiente) -> None:
    clientes = [_de(amb, f"198.51.100.{i}") for i in range(8)]
    try:
        for cliente in clientes[:5]:
            assert_erro(await _login(cliente, "bruno@demo.local", "x"), 401, "CREDENCIAIS_INVALIDAS")
        bloqueada = await _login(clientes[5], "bruno@demo.local", "y")
        assert_erro(bloqueada, 429, "LIMITE_EXCEDIDO")
        assert 1 <= int(bloqueada.headers["retry-after"]) <= 60
        # The right password waits too, from anywhere: otherwise the lock would not stop guessing.
        assert_erro(await _login(clientes[6], "Bruno@Demo.local", SENHA_DEMO), 429, "LIMITE_EXCEDIDO")
        # Other accounts, from the same addresses, are not held by bruno's lock.
        assert (await _login(clientes[5], "ana@demo.local", SENHA_DEMO)).status_code == 200
    finally:
        for cliente in clientes:
            await cliente.aclose()


async def test_bloqueio_igual_para_email_desconhecido_e_conhecido(amb: Ambiente) -> None:
    respostas = {}
    for i, email in enumerate(("bruno@demo.local", "ninguem@demo.local")):
        cliente = _de(amb, f"192.0.2.{i}")
        try:
            for _ in range(5):
                await _login(cliente, email, "x")
            respostas[email] = await _login(cliente, email, "x")
        finally:
            await cliente.aclose()
    conhecido, desconhecido = respostas.values()
    assert_erro(conhecido, 429, "LIMITE_EXCEDIDO")
    assert conhecido.json() == desconhecido.json()
    assert conhecido.headers["retry-after"] == desconhecido.headers["retry-after"]


async def test_rajada_paralela_nao_passa_do_limite(amb: Ambiente) -> None:
    clientes = [_de(amb, f"203.0.113.{i}") for i in range(30)]
    try:
        tentativas = (_login(c, "bruno@demo.local", f"g{i}") for i, c in enumerate(clientes))
        respostas = await asyncio.gather(*tentativas)
    finally:
        for cliente in clientes:
            await cliente.aclose()
    checadas = [r for r in respostas if r.status_code == 401]
    recusadas = [r for r in respostas if r.status_code == 429]
    assert len(checadas) + len(recusadas) == 30
    # The 5 free guesses, and at most one past them (checked one at a time, and then locked).
    assert 5 <= len(checadas) <= 6, len(checadas)


async def test_espera_dobra_a_cada_falha_ate_o_teto(amb_fabrica: Any) -> None:
    politica = PoliticaLogin(falhas_livres=2, espera_inicial_s=1, espera_maxima_s=2)
    amb: Ambiente = await amb_fabrica(limitador_login=LimitadorLogin(politica=politica))
    assert [politica.espera(n) for n in range(1, 7)] == [0, 1, 2, 2, 2, 2]
    for _ in range(2):
        assert_erro(await _login(amb.cliente, "bruno@demo.local", "x"), 401, "CREDENCIAIS_INVALIDAS")
    primeira = await _login(amb.cliente, "bruno@demo.local", "x")
    assert_erro(primeira, 429, "LIMITE_EXCEDIDO")
    assert primeira.headers["retry-after"] == "1"
    await asyncio.sleep(1.1)
    assert_erro(await _login(amb.cliente, "bruno@demo.local", "x"), 401, "CREDENCIAIS_INVALIDAS")
    segunda = await _login(amb.cliente, "bruno@demo.local", "x")
    assert_erro(segunda, 429, "LIMITE_EXCEDIDO")
    assert segunda.headers["retry-after"] == "2"  # doubled
    await asyncio.sleep(2.1)
    # After the wait the owner logs in, and that clears the account's failures.
    assert (await _login(amb.cliente, "bruno@demo.local", SENHA_DEMO)).status_code == 200
    assert_erro(await _login(amb.cliente, "bruno@demo.local", "x"), 401, "CREDENCIAIS_INVALIDAS")


async def test_call_center_atras_de_um_nat(amb: Ambiente) -> None:
    # Defaults. One address: many agents logging in at the start of a shift (successes give their
    # slot back), and then one address's failure budget is still whole.
    agentes = ["ana@demo.local", "bruno@demo.local", "gestor@demo.local", "admin@demo.local"]
    for i in range(40):
        resposta = await _login(amb.cliente, agentes[i % len(agentes)], SENHA_DEMO)
        assert resposta.status_code == 200, (i, resposta.text)
    for i in range(30):  # 30 failures a minute, over 30 different accounts (none locked)
        assert_erro(await _login(amb.cliente, f"erro{i}@demo.local", "x"), 401, "CREDENCIAIS_INVALIDAS")
    excedeu = await _login(amb.cliente, "ana@demo.local", SENHA_DEMO)
    assert_erro(excedeu, 429, "LIMITE_EXCEDIDO")
    assert 1 <= int(excedeu.headers["retry-after"]) <= 60
    # Another address is not held by this one.
    outro = _de(amb, "198.51.100.200")
    try:
        assert (await _login(outro, "ana@demo.local", SENHA_DEMO)).status_code == 200
    finally:
        await outro.aclose()


async def test_ipv6_conta_por_64() -> None:
    limitador = LimitadorLogin(politica=PoliticaLogin(falhas_por_endereco=2))
    for i, endereco in enumerate(("2001:db8:0:7::1", "2001:db8:0:7:ffff::2")):
        await limitador.falha(await limitador.reservar(f"c{i}@x.local", endereco))
    with pytest.raises(ErroApi) as erro:
        await limitador.reservar("c9@x.local", "2001:db8:0:7:1234::9")  # same /64
    assert erro.value.status == 429
    await limitador.reservar("c9@x.local", "2001:db8:0:8::1")  # next /64: its own budget
    # IPv4-mapped IPv6 counts as the IPv4 address.
    for i, endereco in enumerate(("192.0.2.1", "::ffff:192.0.2.1")):
        await limitador.falha(await limitador.reservar(f"d{i}@x.local", endereco))
    with pytest.raises(ErroApi):
        await limitador.reservar("d9@x.local", "192.0.2.1")


async def test_banco_fora_nao_conta_como_falha(amb_fabrica: Any) -> None:
    class ServicoQueFalha:
        async def autenticar(self, email: object, senha: object) -> None:
            raise RuntimeError("banco fora")

    politica = PoliticaLogin(falhas_livres=1, falhas_por_endereco=1)
    limitador = LimitadorLogin(politica=politica)
    amb: Ambiente = await amb_fabrica(servico=ServicoQueFalha(), limitador_login=limitador)
    for _ in range(3):
        assert (await _login(amb.cliente, "ana@demo.local", SENHA_DEMO)).status_code == 500
    reserva = await limitador.reservar("ana@demo.local", "203.0.113.7")  # nothing was counted
    assert reserva.ordem == 1


async def test_retry_after_do_limite_de_tentativas() -> None:
    limitador = LimitadorLogin(politica=PoliticaLogin(tentativas_por_endereco=2))
    for i in range(2):
        await limitador.sucesso(await limitador.reservar(f"a{i}@x.local", "10.1.1.1"))
    inicio = time.time()
    with pytest.raises(ErroApi) as erro:
        await limitador.reservar("a3@x.local", "10.1.1.1")
    assert 1 <= int(erro.value.headers["Retry-After"]) <= 60 + (time.time() - inicio)
