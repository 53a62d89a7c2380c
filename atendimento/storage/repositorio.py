"""``RepositorioSql``: the domain's ``Repositorio`` port on SQLAlchemy, for one tenant and one
transaction. Every statement filters on ``empresa_id`` itself; on PostgreSQL RLS filters again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from atendimento.domain.entidades import (
    STATUS_TICKET_ABERTOS,
    CanalDados,
    ClienteDados,
    FilaDados,
    MensagemDados,
    TicketDados,
    UsuarioDados,
    agora,
    novo_id,
)
from atendimento.storage.modelos import (
    Canal,
    Cliente,
    ContadorTicket,
    Fila,
    Mensagem,
    Ticket,
    Usuario,
)

# Core handles on the tables, for INSERT/UPDATE … RETURNING without the ORM's unit of work.
T_TICKETS = cast(Table, Ticket.__table__)
T_MENSAGENS = cast(Table, Mensagem.__table__)
T_CONTADORES = cast(Table, ContadorTicket.__table__)
T_CLIENTES = cast(Table, Cliente.__table__)


def utc(momento: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return momento.replace(tzinfo=UTC) if momento.tzinfo is None else momento.astimezone(UTC)


def usuario_dados(m: Usuario) -> UsuarioDados:
    return UsuarioDados(
        id=m.id,
        empresa_id=m.empresa_id,
        nome=m.nome,
        email=m.email,
        role=m.role,
        status_atendimento=m.status_atendimento,
    )


def ticket_dados(m: Ticket) -> TicketDados:
    return TicketDados(
        id=m.id,
        numero=str(m.numero),
        empresa_id=m.empresa_id,
        cliente_id=m.cliente_id,
        canal_id=m.canal_id,
        fila_id=m.fila_id,
        atendente_id=m.atendente_id,
        status=m.status,
        prioridade=m.prioridade,
        assunto=m.assunto,
        descricao=m.descricao,
        criado_em=utc(m.criado_em),
        atualizado_em=utc(m.atualizado_em),
    )


def mensagem_dados(m: Mensagem, ticket_numero: str) -> MensagemDados:
    return MensagemDados(
        id=m.id,
        ticket_id=m.ticket_id,
        ticket_numero=ticket_numero,
        remetente_id=m.remetente_id,
        atendente_id=m.atendente_id,
        tipo=m.tipo,
        conteudo=m.conteudo,
        metadados=m.metadados,
        criado_em=utc(m.criado_em),
    )


class RepositorioSql:
    def __init__(self, session: AsyncSession, empresa_id: str, *, postgres: bool) -> None:
        self.session = session
        self.empresa_id = empresa_id
        self._postgres = postgres

    def _insert_ignorando_conflito(self, tabela: Any, valores: dict[str, Any], chaves: list[str]) -> Any:
        dialeto = postgresql if self._postgres else sqlite
        return dialeto.insert(tabela).values(**valores).on_conflict_do_nothing(index_elements=chaves)

    # --- usuarios -----------------------------------------------------------------------------

    async def obter_usuario(self, usuario_id: str) -> UsuarioDados | None:
        m = await self.session.scalar(
            select(Usuario).where(Usuario.empresa_id == self.empresa_id, Usuario.id == usuario_id)
        )
        return None if m is None else usuario_dados(m)

    async def listar_usuarios(self, *, role: str | None = None) -> list[UsuarioDados]:
        consulta = select(Usuario).where(Usuario.empresa_id == self.empresa_id)
        if role is not None:
            consulta = consulta.where(Usuario.role == role)
        linhas = await self.session.scalars(consulta.order_by(Usuario.nome, Usuario.id))
        return [usuario_dados(m) for m in linhas]

    async def definir_status_atendente(self, usuario_id: str, status: str) -> None:
        await self.session.execute(
            update(Usuario)
            .where(Usuario.empresa_id == self.empresa_id, Usuario.id == usuario_id)
            .values(status_atendimento=status)
        )

    # --- filas, canais, clientes --------------------------------------------------------------

    async def obter_fila(self, fila_id: str) -> FilaDados | None:
        m = await self.session.scalar(
            select(Fila).where(Fila.empresa_id == self.empresa_id, Fila.id == fila_id)
        )
        return None if m is None else FilaDados(id=m.id, empresa_id=m.empresa_id, nome=m.nome)

    async def obter_canal(self, canal_id: str) -> CanalDados | None:
        m = await self.session.scalar(
            select(Canal).where(Canal.empresa_id == self.empresa_id, Canal.id == canal_id)
        )
        if m is None:
            return None
        return CanalDados(
            id=m.id,
            empresa_id=m.empresa_id,
            nome=m.nome,
            tipo=m.tipo,
            fila_padrao_id=m.fila_padrao_id,
            ativo=m.ativo,
        )

    async def obter_cliente(self, cliente_id: str) -> ClienteDados | None:
        m = await self.session.scalar(
            select(Cliente).where(Cliente.empresa_id == self.empresa_id, Cliente.id == cliente_id)
        )
        return None if m is None else ClienteDados(m.id, m.empresa_id, m.nome, m.contato)

    async def obter_ou_criar_cliente(self, contato: str, nome: str) -> ClienteDados:
        # INSERT … ON CONFLICT DO NOTHING, then read with FOR UPDATE: two transactions racing on a
        # new contato both end up with the one row, and the second waits for the first's ticket.
        await self.session.execute(
            self._insert_ignorando_conflito(
                T_CLIENTES,
                {
                    "id": novo_id(),
                    "empresa_id": self.empresa_id,
                    "nome": nome,
                    "contato": contato,
                    "criado_em": agora(),
                },
                ["empresa_id", "contato"],
            )
        )
        m = (
            await self.session.execute(
                select(Cliente)
                .where(Cliente.empresa_id == self.empresa_id, Cliente.contato == contato)
                .with_for_update()
            )
        ).scalar_one()
        return ClienteDados(m.id, m.empresa_id, m.nome, m.contato)

    # --- tickets ------------------------------------------------------------------------------

    async def ticket_existe(self, ticket_id: str) -> bool:
        achado = await self.session.scalar(
            select(Ticket.id).where(Ticket.empresa_id == self.empresa_id, Ticket.id == ticket_id)
        )
        return achado is not None

    async def obter_ticket(self, ticket_id: str, *, bloquear: bool = False) -> TicketDados | None:
        consulta = select(Ticket).where(Ticket.empresa_id == self.empresa_id, Ticket.id == ticket_id)
        if bloquear:
            # Serialises read-modify-write on one ticket (status checks, message order) on PostgreSQL.
            consulta = consulta.with_for_update()
        m = (await self.session.execute(consulta)).scalar_one_or_none()
        return None if m is None else ticket_dados(m)

    async def listar_tickets(
        self, *, status: str | None = None, atendente_id: str | None = None, fila_id: str | None = None
    ) -> list[TicketDados]:
        consulta = select(Ticket).where(Ticket.empresa_id == self.empresa_id)
        if status is not None:
            consulta = consulta.where(Ticket.status == status)
        if atendente_id is not None:
            consulta = consulta.where(Ticket.atendente_id == atendente_id)
        if fila_id is not None:
            consulta = consulta.where(Ticket.fila_id == fila_id)
        linhas = await self.session.scalars(consulta.order_by(Ticket.numero))
        return [ticket_dados(m) for m in linhas]

    async def ticket_aberto_do_cliente(self, cliente_id: str, canal_id: str) -> TicketDados | None:
        m = await self.session.scalar(
            select(Ticket)
            .where(
                Ticket.empresa_id == self.empresa_id,
                Ticket.cliente_id == cliente_id,
                Ticket.canal_id == canal_id,
                Ticket.status.in_(sorted(STATUS_TICKET_ABERTOS)),
            )
            .order_by(Ticket.numero.desc())
            .limit(1)
        )
        return None if m is None else ticket_dados(m)

    async def proximo_numero_ticket(self) -> int:
        incrementar = (
            update(T_CONTADORES)
            .where(T_CONTADORES.c.empresa_id == self.empresa_id)
            .values(ultimo_numero=T_CONTADORES.c.ultimo_numero + 1)
            .returning(T_CONTADORES.c.ultimo_numero)
        )
        numero = (await self.session.execute(incrementar)).scalar_one_or_none()
        if numero is None:
            # A tenant created without its counter row: make it (once, whoever wins), then count.
            await self.session.execute(
                self._insert_ignorando_conflito(
                    T_CONTADORES,
                    {"empresa_id": self.empresa_id, "ultimo_numero": 0},
                    ["empresa_id"],
                )
            )
            numero = (await self.session.execute(incrementar)).scalar_one()
        return int(numero)

    async def inserir_ticket(self, ticket: TicketDados) -> None:
        if ticket.empresa_id != self.empresa_id:
            raise ValueError("ticket de outra empresa")
        await self.session.execute(
            insert(T_TICKETS).values(
                id=ticket.id,
                empresa_id=ticket.empresa_id,
                numero=int(ticket.numero),
                cliente_id=ticket.cliente_id,
                canal_id=ticket.canal_id,
                fila_id=ticket.fila_id,
                atendente_id=ticket.atendente_id,
                status=ticket.status,
                prioridade=ticket.prioridade,
                assunto=ticket.assunto,
                descricao=ticket.descricao,
                total_mensagens=0,
                criado_em=ticket.criado_em,
                atualizado_em=ticket.atualizado_em,
            )
        )

    async def salvar_ticket(self, ticket: TicketDados) -> None:
        """Write the mutable fields (id, numero, cliente, canal and criado_em never change)."""
        await self.session.execute(
            update(T_TICKETS)
            .where(T_TICKETS.c.empresa_id == self.empresa_id, T_TICKETS.c.id == ticket.id)
            .values(
                fila_id=ticket.fila_id,
                atendente_id=ticket.atendente_id,
                status=ticket.status,
                prioridade=ticket.prioridade,
                assunto=ticket.assunto,
                descricao=ticket.descricao,
                atualizado_em=ticket.atualizado_em,
            )
        )

    # --- mensagens ----------------------------------------------------------------------------

    async def inserir_mensagem(self, mensagem: MensagemDados) -> None:
        tabela = T_TICKETS
        ordem = (
            await self.session.execute(
                update(tabela)
                .where(tabela.c.empresa_id == self.empresa_id, tabela.c.id == mensagem.ticket_id)
                .values(total_mensagens=tabela.c.total_mensagens + 1)
                .returning(tabela.c.total_mensagens)
            )
        ).scalar_one()
        await self.session.execute(
            insert(T_MENSAGENS).values(
                id=mensagem.id,
                empresa_id=self.empresa_id,
                ticket_id=mensagem.ticket_id,
                ordem=ordem,
                remetente_id=mensagem.remetente_id,
                atendente_id=mensagem.atendente_id,
                tipo=mensagem.tipo,
                conteudo=mensagem.conteudo,
                metadados=mensagem.metadados,
                criado_em=mensagem.criado_em,
            )
        )

    async def listar_mensagens(self, ticket_id: str) -> list[MensagemDados]:
        linhas = (
            await self.session.execute(
                select(Mensagem, Ticket.numero)
                .join(Ticket, (Ticket.empresa_id == Mensagem.empresa_id) & (Ticket.id == Mensagem.ticket_id))
                .where(Mensagem.empresa_id == self.empresa_id, Mensagem.ticket_id == ticket_id)
                .order_by(Mensagem.ordem)
            )
        ).all()
        return [mensagem_dados(m, str(numero)) for m, numero in linhas]
