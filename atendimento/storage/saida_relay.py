"""The relay's side of the outbox: claim due events across tenants, load one for delivery, record an
attempt. Used by ``atendimento/webhooks`` (the relay), never by the API.

Claiming: on PostgreSQL ``saida_reivindicar`` (migration 0007: SECURITY DEFINER, ``FOR UPDATE SKIP
LOCKED``, a lease); on SQLite the same choice in one write transaction of the one process. Everything
after the claim runs in a transaction of the event's tenant (RLS on PostgreSQL).

An event is due when it is pending, its endpoint is active, its next attempt time has come, no lease
on it is running, and no earlier event of its ticket is pending (order per ticket: only each
ticket's head is ever due, so one failing ticket holds back nothing but itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, and_, bindparam, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from atendimento.domain.entidades import ClienteDados, MensagemDados, TicketDados, agora
from atendimento.domain.saida import TIPO_MENSAGEM_CRIADA
from atendimento.storage.banco import Storage
from atendimento.storage.retomada import utc
from atendimento.storage.tabelas import (
    T_CANAL_WEBHOOKS,
    T_CLIENTES,
    T_MENSAGENS,
    T_SAIDA_EVENTOS,
    T_TENTATIVAS,
    T_TICKETS,
    cliente_dados,
    mensagem_dados,
    ticket_dados,
)

_ENDPOINTS_PG = text("SELECT empresa_id, ativo, total FROM saida_endpoints()")
_REIVINDICAR_PG = text(
    "SELECT empresa_id, seq, canal_id FROM saida_reivindicar(:dono, :lease, :limite, :excluir)"
)


@dataclass(frozen=True, slots=True)
class Reivindicado:
    empresa_id: str
    seq: int
    canal_id: str


@dataclass(frozen=True, slots=True)
class Envio:
    """What one attempt needs: the event, its endpoint (URL, secrets that sign) and what the body
    tells of (or the body already sent once)."""

    empresa_id: str
    seq: int
    id: str
    canal_id: str
    tipo: str
    mensagem_id: str | None
    url: str
    segredos: tuple[str, ...]
    ativo: bool
    tentativas: int
    tentativas_rodada: int
    corpo: str | None
    dados: dict[str, Any] | None
    criado_em: datetime
    mensagem: MensagemDados | None
    ticket: TicketDados | None
    cliente: ClienteDados | None


@dataclass(frozen=True, slots=True)
class Conclusao:
    """What recording an attempt did: the endpoint disabled now (why), the delivery given up."""

    desativado: str | None
    falhou: bool


async def _do_tenant(conn: AsyncConnection, tabela: Table, empresa_id: str, id_: str) -> Row[Any] | None:
    """The row of ``tabela`` with that id in that tenant, if any."""
    consulta = select(tabela).where(tabela.c.empresa_id == empresa_id, tabela.c.id == id_)
    return (await conn.execute(consulta)).first()


def _devidos_sqlite(limite: int, excluir: list[str], momento: datetime) -> Any:
    anterior = aliased(T_SAIDA_EVENTOS)
    return (
        select(T_SAIDA_EVENTOS.c.empresa_id, T_SAIDA_EVENTOS.c.seq, T_SAIDA_EVENTOS.c.canal_id)
        .join(
            T_CANAL_WEBHOOKS,
            and_(
                T_CANAL_WEBHOOKS.c.empresa_id == T_SAIDA_EVENTOS.c.empresa_id,
                T_CANAL_WEBHOOKS.c.canal_id == T_SAIDA_EVENTOS.c.canal_id,
            ),
        )
        .where(
            T_SAIDA_EVENTOS.c.estado == "pendente",
            T_CANAL_WEBHOOKS.c.ativo.is_(True),
            (T_SAIDA_EVENTOS.c.proxima_em.is_(None)) | (T_SAIDA_EVENTOS.c.proxima_em <= momento),
            (T_SAIDA_EVENTOS.c.lease_ate.is_(None)) | (T_SAIDA_EVENTOS.c.lease_ate <= momento),
            T_SAIDA_EVENTOS.c.canal_id.not_in(excluir),
            ~exists().where(
                anterior.c.empresa_id == T_SAIDA_EVENTOS.c.empresa_id,
                anterior.c.ticket_id == T_SAIDA_EVENTOS.c.ticket_id,
                anterior.c.seq < T_SAIDA_EVENTOS.c.seq,
                anterior.c.estado == "pendente",
            ),
        )
        .order_by(T_SAIDA_EVENTOS.c.seq)
        .limit(limite)
    )


class FilaSaida:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def reivindicar(
        self, dono: str, lease_s: float, limite: int, excluir: list[str]
    ) -> list[Reivindicado]:
        if self._storage.is_postgres:
            async with self._storage.transacao(None) as conn:
                linhas = await conn.execute(
                    _REIVINDICAR_PG, {"dono": dono, "lease": lease_s, "limite": limite, "excluir": excluir}
                )
                return [Reivindicado(m.empresa_id, m.seq, m.canal_id) for m in linhas]
        momento = agora()
        async with self._storage.transacao(None) as conn:
            achados = [
                Reivindicado(m.empresa_id, m.seq, m.canal_id)
                for m in await conn.execute(_devidos_sqlite(limite, excluir, momento))
            ]
            if achados:
                await conn.execute(
                    update(T_SAIDA_EVENTOS)
                    .where(T_SAIDA_EVENTOS.c.seq.in_([r.seq for r in achados]))
                    .values(lease_dono=dono, lease_ate=momento + timedelta(seconds=lease_s))
                )
        return achados

    async def contar_endpoints(self) -> dict[tuple[str, bool], int]:
        """(tenant, active) → endpoints, across tenants (/metrics)."""
        async with self._storage.transacao(None, escrita=False) as conn:
            if self._storage.is_postgres:
                linhas = list(await conn.execute(_ENDPOINTS_PG))
            else:
                linhas = list(
                    await conn.execute(
                        select(
                            T_CANAL_WEBHOOKS.c.empresa_id,
                            T_CANAL_WEBHOOKS.c.ativo,
                            func.count().label("total"),
                        ).group_by(T_CANAL_WEBHOOKS.c.empresa_id, T_CANAL_WEBHOOKS.c.ativo)
                    )
                )
        return {(m.empresa_id, bool(m.ativo)): int(m.total) for m in linhas}

    async def soltar(self, empresa_id: str, seq: int, dono: str) -> None:
        """Give a claimed event back without an attempt (another may take it at once)."""
        async with self._storage.transacao(empresa_id) as conn:
            await conn.execute(
                update(T_SAIDA_EVENTOS)
                .where(
                    T_SAIDA_EVENTOS.c.empresa_id == empresa_id,
                    T_SAIDA_EVENTOS.c.seq == seq,
                    T_SAIDA_EVENTOS.c.lease_dono == dono,
                )
                .values(lease_ate=None, lease_dono=None)
            )

    async def carregar(self, empresa_id: str, seq: int) -> Envio | None:
        async with self._storage.transacao(empresa_id, escrita=False) as conn:
            e = (
                await conn.execute(
                    select(
                        T_SAIDA_EVENTOS,
                        T_CANAL_WEBHOOKS.c.url,
                        T_CANAL_WEBHOOKS.c.segredo,
                        T_CANAL_WEBHOOKS.c.segredo_anterior,
                        T_CANAL_WEBHOOKS.c.segredo_anterior_ate,
                        T_CANAL_WEBHOOKS.c.ativo,
                    )
                    .join(
                        T_CANAL_WEBHOOKS,
                        and_(
                            T_CANAL_WEBHOOKS.c.empresa_id == T_SAIDA_EVENTOS.c.empresa_id,
                            T_CANAL_WEBHOOKS.c.canal_id == T_SAIDA_EVENTOS.c.canal_id,
                        ),
                    )
                    .where(T_SAIDA_EVENTOS.c.empresa_id == empresa_id, T_SAIDA_EVENTOS.c.seq == seq)
                )
            ).first()
            if e is None:
                return None
            segredos = [e.segredo]
            if e.segredo_anterior and e.segredo_anterior_ate and utc(e.segredo_anterior_ate) > agora():
                segredos.append(e.segredo_anterior)
            mensagem = ticket = cliente = None
            if e.corpo is None:
                t = await _do_tenant(conn, T_TICKETS, empresa_id, e.ticket_id)
                if t is not None:
                    ticket = ticket_dados(t)
                    c = await _do_tenant(conn, T_CLIENTES, empresa_id, t.cliente_id)
                    cliente = None if c is None else cliente_dados(c)
                if e.tipo == TIPO_MENSAGEM_CRIADA and e.mensagem_id is not None:
                    m = await _do_tenant(conn, T_MENSAGENS, empresa_id, e.mensagem_id)
                    if m is not None:
                        mensagem = mensagem_dados(m, "" if ticket is None else ticket.numero)
        return Envio(
            empresa_id=empresa_id,
            seq=seq,
            id=e.id,
            canal_id=e.canal_id,
            tipo=e.tipo,
            mensagem_id=e.mensagem_id,
            url=e.url,
            segredos=tuple(segredos),
            ativo=e.ativo,
            tentativas=e.tentativas,
            tentativas_rodada=e.tentativas_rodada,
            corpo=e.corpo,
            dados=e.dados,
            criado_em=utc(e.criado_em),
            mensagem=mensagem,
            ticket=ticket,
            cliente=cliente,
        )

    async def concluir(
        self,
        envio: Envio,
        dono: str,
        *,
        corpo: str,
        em: datetime,
        http_status: int | None,
        erro: str | None,
        duracao_ms: int,
        estado: str,
        atraso_s: float | None,
        desativar: str | None,
        desativar_apos_s: float,
    ) -> Conclusao:
        """Record one attempt and its consequences in one transaction of the tenant."""
        e, s = envio.empresa_id, envio.seq
        sucesso = estado == "entregue"
        async with self._storage.transacao(e) as conn:
            # The attempt's number from the row itself: another instance whose lease ran out may
            # have recorded one meanwhile (at least once: both attempts are listed).
            numero = (
                await conn.execute(
                    select(func.coalesce(func.max(T_TENTATIVAS.c.numero), 0) + 1).where(
                        T_TENTATIVAS.c.empresa_id == e, T_TENTATIVAS.c.evento_seq == s
                    )
                )
            ).scalar_one()
            await conn.execute(
                insert(T_TENTATIVAS).values(
                    empresa_id=e,
                    evento_seq=s,
                    numero=numero,
                    em=em,
                    http_status=http_status,
                    erro=None if erro is None else erro[:500],
                    duracao_ms=duracao_ms,
                )
            )
            valores: dict[str, Any] = {
                "tentativas": T_SAIDA_EVENTOS.c.tentativas + 1,
                "tentativas_rodada": T_SAIDA_EVENTOS.c.tentativas_rodada + 1,
                "estado": estado,
                "lease_ate": None,
                "lease_dono": None,
                "ultimo_erro": None if sucesso else (f"HTTP {http_status}" if http_status else erro),
                "corpo": corpo,
                "proxima_em": None if atraso_s is None else em + timedelta(seconds=atraso_s),
                "concluido_em": em if estado != "pendente" else None,
            }
            # Only while this instance holds the lease, and only a pending event: a re-send or an
            # instance that took over since is not overwritten.
            await conn.execute(
                update(T_SAIDA_EVENTOS)
                .where(
                    T_SAIDA_EVENTOS.c.empresa_id == e,
                    T_SAIDA_EVENTOS.c.seq == s,
                    T_SAIDA_EVENTOS.c.estado == "pendente",
                    T_SAIDA_EVENTOS.c.lease_dono == dono,
                )
                .values(**valores)
            )
            return Conclusao(
                await self._endpoint(conn, envio, em, sucesso, desativar, desativar_apos_s),
                estado == "falhou",
            )

    async def _endpoint(
        self, conn: Any, envio: Envio, em: datetime, sucesso: bool, desativar: str | None, apos_s: float
    ) -> str | None:
        """Keep ``falhando_desde``; disable the endpoint (once) on a 410 or a failure too long."""
        onde = and_(
            T_CANAL_WEBHOOKS.c.empresa_id == envio.empresa_id, T_CANAL_WEBHOOKS.c.canal_id == envio.canal_id
        )
        if sucesso:
            await conn.execute(
                update(T_CANAL_WEBHOOKS)
                .where(onde, T_CANAL_WEBHOOKS.c.falhando_desde.is_not(None))
                .values(falhando_desde=None)
            )
            return None
        desde = (
            await conn.execute(
                update(T_CANAL_WEBHOOKS)
                .where(onde)
                .values(
                    falhando_desde=func.coalesce(
                        T_CANAL_WEBHOOKS.c.falhando_desde,
                        bindparam("em", em, type_=T_CANAL_WEBHOOKS.c.falhando_desde.type),
                    )
                )
                .returning(T_CANAL_WEBHOOKS.c.falhando_desde)
            )
        ).scalar_one_or_none()
        if desde is None:
            return None  # removed meanwhile
        if desativar is None and (em - utc(desde)).total_seconds() >= apos_s:
            desativar = f"todas as entregas falharam desde {utc(desde).isoformat()}"
        if desativar is None:
            return None
        mudou = await conn.execute(
            update(T_CANAL_WEBHOOKS)
            .where(onde, T_CANAL_WEBHOOKS.c.ativo.is_(True))
            .values(ativo=False, desativado_em=em, desativado_motivo=desativar, atualizado_em=em)
        )
        return desativar if mudou.rowcount else None
