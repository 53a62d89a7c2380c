"""Automatic routing on real databases (SQLite and PostgreSQL): assignment at once, fewest open then
idle longest, waiting by priority then arrival, re-run when capacity or availability changes, never
above capacity, never two atendentes for one ticket (20 tickets at once, two storages on PostgreSQL
as two instances), and a bounded number of statements per routed ticket."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from atendimento.domain.entidades import agora
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.gateway.chegada import OuvinteChegada
from atendimento.gateway.portas import Atendente
from atendimento.gateway.presenca import PresencaLocal
from atendimento.identity.passwords import Senhas
from atendimento.storage import Storage

if TYPE_CHECKING:
    from conftest import BancoDemo

SENHAS = Senhas.rapidas()


class Equipe:
    """A fila ``Vendas`` (automatic), its channel, and atendentes serving it, present and online."""

    def __init__(self, banco: BancoDemo, presenca: PresencaLocal) -> None:
        self.banco = banco
        self.presenca = presenca
        self.e = banco.resumo.empresa_id
        self.servico = ServicoAtendimento(banco.storage, banco.publicador, senhas=SENHAS, presenca=presenca)
        self.fila = ""
        self.canal = ""
        self.agentes: list[str] = []

    async def montar(self, n: int, capacidade: int, nome: str = "Vendas") -> Equipe:
        s = self.servico
        self.fila = (await s.criar_fila(self.e, "admin", nome=nome, distribuicao="automatica")).id
        self.canal = (await s.criar_canal(self.e, "admin", nome="Loja", tipo="webchat", fila_id=self.fila)).id
        for i in range(n):
            cadastro, _ = await s.criar_usuario(
                self.e,
                "admin",
                nome=f"Agente {i}",
                email=f"agente{i}@demo.local",
                role="atendente",
                capacidade=capacidade,
                fila_ids=[self.fila],
                senha="senha-do-agente",
            )
            self.agentes.append(cadastro.usuario.id)
            await self.chegar(cadastro.usuario.id)
            await s.definir_status_atendente(self.e, cadastro.usuario.id, "online")
        return self

    async def chegar(self, usuario_id: str) -> None:
        await self.presenca.conectou(Atendente(self.e, usuario_id, usuario_id), f"sid-{usuario_id}")

    async def novo(self, prioridade: str = "media", servico: ServicoAtendimento | None = None) -> Any:
        s = servico or self.servico
        return await s.criar_ticket(
            self.e,
            cliente_id=self.banco.resumo.clientes["Maria Oliveira"],
            canal_id=self.canal,
            fila_id=self.fila,
            prioridade=prioridade,
        )

    async def abertos(self) -> Counter[str | None]:
        tickets = await self.servico.listar_tickets(self.e, fila_id=self.fila)
        return Counter(t.atendente_id for t in tickets if t.aberto)


async def test_atribui_na_hora_espera_e_serve_em_ordem(banco_demo: BancoDemo) -> None:
    eq = await Equipe(banco_demo, PresencaLocal(0)).montar(2, capacidade=2)
    x, y = sorted(eq.agentes)  # a tie on both counts (none open, never assigned) goes by id
    t = [await eq.novo() for _ in range(4)]
    # Fewest open first, then idle longest: x, y, x, y.
    assert [ti.atendente_id for ti in t] == [x, y, x, y]
    publicados = [
        (ev.nome, ev.args[0].id) for ev in banco_demo.publicador.eventos if ev.nome.startswith("ticket_")
    ]
    assert ("ticket_atribuido", t[0].id) in publicados and ("ticket_atualizado", t[0].id) in publicados
    historico = await eq.servico.listar_historico(eq.e, t[0].id)
    assert [(h.tipo, h.ator_id) for h in historico][-1] == ("atribuido", "sistema")  # routing's actor
    # Both full: the next ones wait.
    media, urgente, baixa = await eq.novo("media"), await eq.novo("urgente"), await eq.novo("baixa")
    assert {media.atendente_id, urgente.atendente_id, baixa.atendente_id} == {None}
    _, aguardando, desde = await eq.servico.obter_fila_com_espera(eq.e, eq.fila)
    assert aguardando == 3 and desde == media.criado_em

    # x resolves one: it takes the urgent one (priority before arrival).
    await eq.servico.mudar_status(eq.e, t[0].id, "resolvido")
    assert (await eq.servico.obter_ticket(eq.e, urgente.id)).atendente_id == x
    # y goes away (status): closing one of y's assigns nothing to y.
    await eq.servico.definir_status_atendente(eq.e, y, "ausente")
    await eq.servico.mudar_status(eq.e, t[1].id, "fechado")
    assert (await eq.servico.obter_ticket(eq.e, media.id)).atendente_id is None
    # Back online: y takes the oldest of the two left (media arrived before baixa).
    await eq.servico.definir_status_atendente(eq.e, y, "online")
    assert (await eq.servico.obter_ticket(eq.e, media.id)).atendente_id == y
    assert (await eq.servico.obter_ticket(eq.e, baixa.id)).atendente_id is None
    # Capacity raised: the last one goes.
    await eq.servico.atualizar_usuario(eq.e, "admin", x, {"capacidade": 3})
    assert (await eq.servico.obter_ticket(eq.e, baixa.id)).atendente_id == x
    assert (await eq.servico.obter_fila_com_espera(eq.e, eq.fila))[1] == 0


async def test_so_quem_esta_conectado_e_a_chegada(banco_demo: BancoDemo) -> None:
    presenca = PresencaLocal(0)
    eq = await Equipe(banco_demo, presenca).montar(1, capacidade=5)
    (x,) = eq.agentes
    await presenca.desconectou(Atendente(eq.e, x, x), f"sid-{x}")
    await asyncio.sleep(0)  # grace 0: the leave is immediate
    esperando = await eq.novo()
    assert esperando.atendente_id is None
    # Arriving routes (the gateway's presence listener calls this on the online edge).
    await eq.chegar(x)
    await eq.servico.rotear_atendente(eq.e, x)
    assert (await eq.servico.obter_ticket(eq.e, esperando.id)).atendente_id == x
    # A manual fila is never routed.
    manual = await eq.servico.criar_ticket(
        eq.e,
        cliente_id=banco_demo.resumo.clientes["Maria Oliveira"],
        canal_id=eq.canal,
        fila_id=banco_demo.resumo.filas["Suporte"],
    )
    assert manual.atendente_id is None


async def test_vinte_de_uma_vez_nunca_dois_nem_acima_da_capacidade(banco_demo: BancoDemo) -> None:
    eq = await Equipe(banco_demo, PresencaLocal(0)).montar(3, capacidade=5)
    servicos = [eq.servico]
    outro: Storage | None = None
    if banco_demo.is_postgres:
        # A second instance: its own pool of connections to the same database, the same presence.
        outro = Storage(banco_demo.banco.app_url)
        servicos.append(ServicoAtendimento(outro, banco_demo.publicador, senhas=SENHAS, presenca=eq.presenca))
    try:
        banco_demo.publicador.limpar()
        prioridades = ["baixa", "media", "alta", "urgente"]
        await asyncio.gather(*(eq.novo(prioridades[i % 4], servicos[i % len(servicos)]) for i in range(20)))
    finally:
        if outro is not None:
            await outro.close()
    abertos = await eq.abertos()
    assert abertos[None] == 5 and sum(abertos.values()) == 20
    assert all(abertos[a] == 5 for a in eq.agentes)  # exactly at capacity, never above
    atribuidos = [ev.args[0].id for ev in banco_demo.publicador.eventos if ev.nome == "ticket_atribuido"]
    assert len(atribuidos) == 15 and len(set(atribuidos)) == 15  # each ticket assigned once


async def test_rotear_um_ticket_custa_o_mesmo_numero_de_comandos(banco_demo: BancoDemo) -> None:
    """Statements per routed ticket do not grow with the atendentes or the waiting tickets."""
    contagens = []
    for n in (2, 8):
        eq = Equipe(banco_demo, PresencaLocal(0))
        eq.servico = ServicoAtendimento(
            banco_demo.storage, banco_demo.publicador, senhas=SENHAS, presenca=None
        )
        await eq.montar(0, capacidade=1, nome=f"Fila {n}")
        agentes = []
        for i in range(n):
            cadastro, _ = await eq.servico.criar_usuario(
                eq.e, "admin", nome=f"A{n}-{i}", email=f"a{n}-{i}@demo.local", role="atendente",
                capacidade=1, fila_ids=[eq.fila], senha="senha-do-agente",
            )  # fmt: skip
            agentes.append(cadastro.usuario.id)
            await eq.servico.definir_status_atendente(eq.e, cadastro.usuario.id, "online")
        for _ in range(n * 2):
            await eq.novo()  # nobody present: they wait
        await eq.presenca.conectou(Atendente(eq.e, agentes[0], "x"), "sid")
        roteando = ServicoAtendimento(
            banco_demo.storage, banco_demo.publicador, senhas=SENHAS, presenca=eq.presenca
        )
        comandos: list[str] = []

        def contar(_c: Any, _cur: Any, sql: str, *_: Any, comandos: list[str] = comandos) -> None:
            comandos.append(sql)

        motor = banco_demo.storage.engine.sync_engine
        event.listen(motor, "before_cursor_execute", contar)
        try:
            # One atendente present with room for one: one ticket routed, then the check that stops.
            await roteando.rotear_atendente(eq.e, agentes[0])
        finally:
            event.remove(motor, "before_cursor_execute", contar)
        contagens.append(len(comandos))
    assert contagens[0] == contagens[1], contagens
    assert contagens[0] <= 16, contagens


class _SemPublicar:
    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        pass

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        pass


async def test_chegadas_de_um_momento_sao_roteadas_juntas(banco_demo: BancoDemo) -> None:
    """A team arriving together (the gateway's presence listener) costs one read of their filas:
    each atendente's waiting ticket goes to it, in two filas."""
    presenca = PresencaLocal(0)
    eq = await Equipe(banco_demo, presenca).montar(0, capacidade=1)
    outra = await Equipe(banco_demo, presenca).montar(0, capacidade=1, nome="Suporte automático")
    agentes: list[str] = []
    for i, equipe in enumerate((eq, outra)):
        cadastro, _ = await eq.servico.criar_usuario(
            eq.e, "admin", nome=f"Chega {i}", email=f"chega{i}@demo.local", role="atendente",
            capacidade=1, fila_ids=[equipe.fila], senha="senha-do-agente",
        )  # fmt: skip
        agentes.append(cadastro.usuario.id)
        await eq.servico.definir_status_atendente(eq.e, cadastro.usuario.id, "online")
    esperando = [await eq.novo(), await outra.novo()]
    assert {t.atendente_id for t in esperando} == {None}  # nobody present yet
    ouvinte = OuvinteChegada(_SemPublicar(), eq.servico)
    leituras: list[str] = []

    def contar(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        if "usuario_filas" in sql and "distribuicao" in sql:
            leituras.append(sql)

    motor = banco_demo.storage.engine.sync_engine
    event.listen(motor, "before_cursor_execute", contar)
    try:
        for agente in agentes:  # the online edges of one moment
            await eq.chegar(agente)
            ouvinte.atendente_online(Atendente(eq.e, agente, agente), agora())
        for _ in range(200):
            donos = [(await eq.servico.obter_ticket(eq.e, t.id)).atendente_id for t in esperando]
            if None not in donos:
                break
            await asyncio.sleep(0.01)
    finally:
        event.remove(motor, "before_cursor_execute", contar)
    assert donos == agentes
    assert len(leituras) == 1
