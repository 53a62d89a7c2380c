"""Channels out in one tenant's transaction: the endpoint, the outbox's ``ticket.status`` rows, the
deliveries list, and message status back (``domain.portas.RepositorioSaida``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import MensagemDados, TicketDados, agora
from atendimento.domain.saida import (
    TIPO_TICKET_STATUS,
    EntregaDados,
    TentativaDados,
    WebhookDados,
    gerar_id_evento,
)
from atendimento.storage.retomada import utc
from atendimento.storage.tabelas import (
    T_CANAL_WEBHOOKS,
    T_EXTERNOS,
    T_MENSAGENS,
    T_SAIDA_EVENTOS,
    T_TENTATIVAS,
    T_TICKETS,
    mensagem_dados,
    ticket_dados,
)

_COLUNAS_WEBHOOK = (
    "url",
    "segredo",
    "segredo_anterior",
    "segredo_anterior_ate",
    "ativo",
    "desativado_em",
    "desativado_motivo",
    "atualizado_em",
)


def _talvez(momento: datetime | None) -> datetime | None:
    return None if momento is None else utc(momento)


def webhook_dados(m: Row[Any]) -> WebhookDados:
    return WebhookDados(
        canal_id=m.canal_id,
        empresa_id=m.empresa_id,
        url=m.url,
        segredo=m.segredo,
        segredo_anterior=m.segredo_anterior,
        segredo_anterior_ate=_talvez(m.segredo_anterior_ate),
        ativo=m.ativo,
        desativado_em=_talvez(m.desativado_em),
        desativado_motivo=m.desativado_motivo,
        criado_em=utc(m.criado_em),
        atualizado_em=utc(m.atualizado_em),
    )


def entrega_dados(m: Row[Any], tentativas: tuple[TentativaDados, ...] = ()) -> EntregaDados:
    return EntregaDados(
        seq=m.seq,
        id=m.id,
        canal_id=m.canal_id,
        ticket_id=m.ticket_id,
        tipo=m.tipo,
        mensagem_id=m.mensagem_id,
        estado=m.estado,
        tentativas=m.tentativas,
        proxima_em=_talvez(m.proxima_em),
        ultimo_erro=m.ultimo_erro,
        criado_em=utc(m.criado_em),
        concluido_em=_talvez(m.concluido_em),
        lista_tentativas=tentativas,
    )


class RepositorioSaidaSql:
    def __init__(self, conn: AsyncConnection, empresa_id: str, *, postgres: bool) -> None:
        self.conn = conn
        self.empresa_id = empresa_id
        self._postgres = postgres

    def _do_canal(self, canal_id: str) -> Any:
        return and_(T_CANAL_WEBHOOKS.c.empresa_id == self.empresa_id, T_CANAL_WEBHOOKS.c.canal_id == canal_id)

    async def obter_webhook(self, canal_id: str) -> WebhookDados | None:
        m = (await self.conn.execute(select(T_CANAL_WEBHOOKS).where(self._do_canal(canal_id)))).first()
        return None if m is None else webhook_dados(m)

    async def salvar_webhook(self, webhook: WebhookDados) -> None:
        valores = {c: getattr(webhook, c) for c in _COLUNAS_WEBHOOK}
        valores["falhando_desde"] = None
        dialeto = postgresql if self._postgres else sqlite
        comando = dialeto.insert(T_CANAL_WEBHOOKS).values(
            canal_id=webhook.canal_id, empresa_id=self.empresa_id, criado_em=webhook.criado_em, **valores
        )
        await self.conn.execute(comando.on_conflict_do_update(index_elements=["canal_id"], set_=valores))

    async def remover_webhook(self, canal_id: str) -> bool:
        apagado = await self.conn.execute(delete(T_CANAL_WEBHOOKS).where(self._do_canal(canal_id)))
        if not apagado.rowcount:
            return False
        await self.conn.execute(
            update(T_SAIDA_EVENTOS)
            .where(
                T_SAIDA_EVENTOS.c.empresa_id == self.empresa_id,
                T_SAIDA_EVENTOS.c.canal_id == canal_id,
                T_SAIDA_EVENTOS.c.estado == "pendente",
            )
            .values(estado="falhou", ultimo_erro="webhook removido", concluido_em=agora(), lease_ate=None)
        )
        return True

    async def registrar_status_ticket(self, ticket: TicketDados, anterior: str) -> bool:
        # INSERT … SELECT from the endpoint row: no endpoint, no row, in one statement.
        origem = select(
            literal(gerar_id_evento()),
            T_CANAL_WEBHOOKS.c.empresa_id,
            T_CANAL_WEBHOOKS.c.canal_id,
            literal(ticket.id),
            literal(TIPO_TICKET_STATUS),
            literal(
                {"status": ticket.status, "statusAnterior": anterior}, type_=T_SAIDA_EVENTOS.c.dados.type
            ),
            literal(ticket.atualizado_em, type_=T_SAIDA_EVENTOS.c.criado_em.type),
        ).where(self._do_canal(ticket.canal_id))
        colunas = ["id", "empresa_id", "canal_id", "ticket_id", "tipo", "dados", "criado_em"]
        resultado = await self.conn.execute(insert(T_SAIDA_EVENTOS).from_select(colunas, origem))
        return bool(resultado.rowcount)

    async def _tentativas(self, seqs: list[int]) -> dict[int, list[TentativaDados]]:
        por_seq: dict[int, list[TentativaDados]] = {s: [] for s in seqs}
        if not seqs:
            return por_seq
        linhas = await self.conn.execute(
            select(T_TENTATIVAS)
            .where(T_TENTATIVAS.c.empresa_id == self.empresa_id, T_TENTATIVAS.c.evento_seq.in_(seqs))
            .order_by(T_TENTATIVAS.c.evento_seq, T_TENTATIVAS.c.numero)
        )
        for t in linhas:
            por_seq[t.evento_seq].append(
                TentativaDados(t.numero, utc(t.em), t.http_status, t.erro, t.duracao_ms)
            )
        return por_seq

    async def listar_entregas(
        self, canal_id: str, *, estado: str | None, antes_seq: int | None, limite: int
    ) -> list[EntregaDados]:
        consulta = select(T_SAIDA_EVENTOS).where(
            T_SAIDA_EVENTOS.c.empresa_id == self.empresa_id, T_SAIDA_EVENTOS.c.canal_id == canal_id
        )
        if estado is not None:
            consulta = consulta.where(T_SAIDA_EVENTOS.c.estado == estado)
        if antes_seq is not None:
            consulta = consulta.where(T_SAIDA_EVENTOS.c.seq < antes_seq)
        linhas = list(await self.conn.execute(consulta.order_by(T_SAIDA_EVENTOS.c.seq.desc()).limit(limite)))
        tentativas = await self._tentativas([m.seq for m in linhas])
        return [entrega_dados(m, tuple(tentativas[m.seq])) for m in linhas]

    async def obter_entrega(self, canal_id: str, entrega_id: str) -> EntregaDados | None:
        m = (
            await self.conn.execute(
                select(T_SAIDA_EVENTOS).where(
                    T_SAIDA_EVENTOS.c.empresa_id == self.empresa_id,
                    T_SAIDA_EVENTOS.c.canal_id == canal_id,
                    T_SAIDA_EVENTOS.c.id == entrega_id,
                )
            )
        ).first()
        return None if m is None else entrega_dados(m)

    async def reenviar_entrega(self, seq: int) -> None:
        await self.conn.execute(
            update(T_SAIDA_EVENTOS)
            .where(T_SAIDA_EVENTOS.c.empresa_id == self.empresa_id, T_SAIDA_EVENTOS.c.seq == seq)
            .values(
                estado="pendente",
                proxima_em=None,
                tentativas_rodada=0,
                lease_ate=None,
                lease_dono=None,
                concluido_em=None,
            )
        )

    async def mensagem_do_canal(
        self, canal_id: str, mensagem_id: str, *, bloquear: bool = False
    ) -> tuple[MensagemDados, TicketDados] | None:
        consulta = (
            select(T_MENSAGENS, T_TICKETS.c.numero.label("numero_do_ticket"))
            .where(
                T_MENSAGENS.c.empresa_id == self.empresa_id,
                T_MENSAGENS.c.id == mensagem_id,
                T_MENSAGENS.c.atendente_id.is_not(None),
            )
            .join(
                T_TICKETS,
                (T_TICKETS.c.empresa_id == T_MENSAGENS.c.empresa_id)
                & (T_TICKETS.c.id == T_MENSAGENS.c.ticket_id),
            )
            .where(T_TICKETS.c.canal_id == canal_id)
        )
        if bloquear:
            consulta = consulta.with_for_update(of=T_MENSAGENS)
        m = (await self.conn.execute(consulta)).first()
        if m is None:
            return None
        ticket = (
            await self.conn.execute(
                select(T_TICKETS).where(
                    T_TICKETS.c.empresa_id == self.empresa_id, T_TICKETS.c.id == m.ticket_id
                )
            )
        ).one()
        return mensagem_dados(m, str(m.numero_do_ticket)), ticket_dados(ticket)

    async def dono_do_externo(self, canal_id: str, externo_id: str) -> str | None:
        m = (
            await self.conn.execute(
                select(T_EXTERNOS.c.mensagem_id).where(
                    T_EXTERNOS.c.empresa_id == self.empresa_id,
                    T_EXTERNOS.c.canal_id == canal_id,
                    T_EXTERNOS.c.externo_id == externo_id,
                )
            )
        ).first()
        return None if m is None else str(m.mensagem_id)

    async def gravar_status_mensagem(
        self,
        canal_id: str,
        mensagem: MensagemDados,
        *,
        status: str,
        em: datetime,
        erro: dict[str, str] | None,
        externo_id: str | None,
    ) -> None:
        valores: dict[str, Any] = {"status": status, "status_em": em, "status_erro": erro}
        if externo_id is not None:
            # The unique key decides a race between two reports naming the same provider id.
            await self.conn.execute(
                insert(T_EXTERNOS).values(
                    empresa_id=self.empresa_id,
                    canal_id=canal_id,
                    externo_id=externo_id,
                    mensagem_id=mensagem.id,
                )
            )
            valores["externo_id"] = externo_id
        await self.conn.execute(
            update(T_MENSAGENS)
            .where(T_MENSAGENS.c.empresa_id == self.empresa_id, T_MENSAGENS.c.id == mensagem.id)
            .values(**valores)
        )
