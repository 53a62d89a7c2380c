"""``RepositorioSql``: the domain's ``Repositorio`` port on SQLAlchemy, for one tenant and one
transaction. Every statement filters on ``empresa_id`` itself; on PostgreSQL RLS filters again.

SQLAlchemy Core on an ``AsyncConnection``, not the ORM session: the ORM's identity map and unit of
work bought nothing here (every row becomes a frozen dataclass at once) and cost ~2 ms of CPU per
message write (docs/benchmarks.md, issue 5). Statements run often are built once at import with
``bindparam``s, so SQLAlchemy memoises their cache key and reuses the compiled form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

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
from atendimento.domain.portas import MensagemGravada, NovaMensagem
from atendimento.storage.cadastro import CadastroSql
from atendimento.storage.escrita_mensagem import acrescentar
from atendimento.storage.historico import HistoricoSql
from atendimento.storage.leitura import LeituraSql
from atendimento.storage.registro_usuarios import RegistroUsuariosSql
from atendimento.storage.retomada import RetomadaSql, depois_de, utc
from atendimento.storage.roteamento import RoteamentoSql
from atendimento.storage.saida import RepositorioSaidaSql
from atendimento.storage.tabelas import (
    T_CANAIS,
    T_CLIENTES,
    T_CONTADORES,
    T_FILAS,
    T_MENSAGENS,
    T_TICKETS,
    canal_dados,
    cliente_dados,
    fila_dados,
    mensagem_dados,
    ticket_dados,
)

# banco.py knows these two by this module.
from atendimento.storage.tabelas import T_USUARIOS as T_USUARIOS
from atendimento.storage.tabelas import usuario_dados as usuario_dados

# The columns UsuarioDados needs (never senha_hash).
_COLUNAS_USUARIO = tuple(
    T_USUARIOS.c[n] for n in ("id", "empresa_id", "nome", "email", "role", "status_atendimento")
)
# Active users only: a deactivated one cannot write, be assigned, renew its token or set a status
# (provisioning reads every user through ``obter_cadastro``).
_OBTER_USUARIO = select(*_COLUNAS_USUARIO).where(
    T_USUARIOS.c.empresa_id == bindparam("empresa_id"),
    T_USUARIOS.c.id == bindparam("usuario_id"),
    T_USUARIOS.c.ativo.is_(True),
)


class RepositorioSql(RetomadaSql, RegistroUsuariosSql, HistoricoSql, CadastroSql, LeituraSql, RoteamentoSql):
    def __init__(self, conn: AsyncConnection, empresa_id: str, *, postgres: bool) -> None:
        self.conn = conn
        self.empresa_id = empresa_id
        self._postgres = postgres
        self.saida = RepositorioSaidaSql(conn, empresa_id, postgres=postgres)

    def _insert_ignorando_conflito(self, tabela: Any, valores: dict[str, Any], chaves: list[str]) -> Any:
        dialeto = postgresql if self._postgres else sqlite
        return dialeto.insert(tabela).values(**valores).on_conflict_do_nothing(index_elements=chaves)

    async def _uma(self, consulta: Any, parametros: dict[str, Any] | None = None) -> Row[Any] | None:
        return (await self.conn.execute(consulta, parametros)).first()

    async def _todas(self, consulta: Any) -> list[Row[Any]]:
        return list((await self.conn.execute(consulta)).all())

    # --- usuarios -----------------------------------------------------------------------------

    async def obter_usuario(self, usuario_id: str) -> UsuarioDados | None:
        m = await self._uma(_OBTER_USUARIO, {"empresa_id": self.empresa_id, "usuario_id": usuario_id})
        return None if m is None else usuario_dados(m)

    async def listar_usuarios(
        self, *, role: str | None = None, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioDados]:
        consulta = select(*_COLUNAS_USUARIO).where(
            T_USUARIOS.c.empresa_id == self.empresa_id, T_USUARIOS.c.ativo.is_(True)
        )
        if role is not None:
            consulta = consulta.where(T_USUARIOS.c.role == role)
        if apos is not None:
            consulta = consulta.where(depois_de(T_USUARIOS.c.nome, T_USUARIOS.c.id, *apos))
        consulta = consulta.order_by(T_USUARIOS.c.nome, T_USUARIOS.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [usuario_dados(m) for m in await self._todas(consulta)]

    async def definir_status_atendente(self, usuario_id: str, status: str) -> None:
        await self.conn.execute(
            update(T_USUARIOS)
            .where(T_USUARIOS.c.empresa_id == self.empresa_id, T_USUARIOS.c.id == usuario_id)
            .values(status_atendimento=status)
        )

    # --- filas, canais, clientes --------------------------------------------------------------

    async def obter_fila(self, fila_id: str) -> FilaDados | None:
        m = await self._uma(
            select(T_FILAS).where(T_FILAS.c.empresa_id == self.empresa_id, T_FILAS.c.id == fila_id)
        )
        return None if m is None else fila_dados(m)

    async def obter_canal(self, canal_id: str) -> CanalDados | None:
        m = await self._uma(
            select(T_CANAIS).where(T_CANAIS.c.empresa_id == self.empresa_id, T_CANAIS.c.id == canal_id)
        )
        return None if m is None else canal_dados(m)

    async def obter_cliente(self, cliente_id: str) -> ClienteDados | None:
        m = await self._uma(
            select(T_CLIENTES).where(
                T_CLIENTES.c.empresa_id == self.empresa_id, T_CLIENTES.c.id == cliente_id
            )
        )
        return None if m is None else cliente_dados(m)

    async def obter_ou_criar_cliente(self, contato: str, nome: str) -> ClienteDados:
        # INSERT … ON CONFLICT DO NOTHING, then read with FOR UPDATE: two transactions racing on a
        # new contato both end up with the one row, and the second waits for the first's ticket.
        await self.conn.execute(
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
            await self.conn.execute(
                select(T_CLIENTES)
                .where(T_CLIENTES.c.empresa_id == self.empresa_id, T_CLIENTES.c.contato == contato)
                .with_for_update()
            )
        ).one()
        return cliente_dados(m)

    # --- tickets ------------------------------------------------------------------------------

    async def ticket_existe(self, ticket_id: str) -> bool:
        achado = await self._uma(
            select(T_TICKETS.c.id).where(
                T_TICKETS.c.empresa_id == self.empresa_id, T_TICKETS.c.id == ticket_id
            )
        )
        return achado is not None

    async def obter_ticket(self, ticket_id: str, *, bloquear: bool = False) -> TicketDados | None:
        consulta = select(T_TICKETS).where(
            T_TICKETS.c.empresa_id == self.empresa_id, T_TICKETS.c.id == ticket_id
        )
        if bloquear:
            # Serialises read-modify-write on one ticket (status checks, message order) on PostgreSQL.
            consulta = consulta.with_for_update()
        m = await self._uma(consulta)
        return None if m is None else ticket_dados(m)

    async def listar_tickets(
        self,
        *,
        status: str | None = None,
        atendente_id: str | None = None,
        fila_id: str | None = None,
        atualizado_desde: datetime | None = None,
        apos: tuple[datetime, str] | None = None,
        limite: int | None = None,
    ) -> list[TicketDados]:
        consulta = select(T_TICKETS).where(T_TICKETS.c.empresa_id == self.empresa_id)
        if status is not None:
            consulta = consulta.where(T_TICKETS.c.status == status)
        if atendente_id is not None:
            consulta = consulta.where(T_TICKETS.c.atendente_id == atendente_id)
        if fila_id is not None:
            consulta = consulta.where(T_TICKETS.c.fila_id == fila_id)
        # Datetimes are bound in UTC: SQLite stores the wall-clock fields as text, so only UTC
        # values compare right (everything stored is UTC).
        if atualizado_desde is not None:
            consulta = consulta.where(T_TICKETS.c.atualizado_em >= utc(atualizado_desde))
        if apos is not None:
            consulta = consulta.where(
                depois_de(T_TICKETS.c.atualizado_em, T_TICKETS.c.id, utc(apos[0]), apos[1])
            )
        consulta = consulta.order_by(T_TICKETS.c.atualizado_em, T_TICKETS.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [ticket_dados(m) for m in await self._todas(consulta)]

    async def ticket_aberto_do_cliente(self, cliente_id: str, canal_id: str) -> TicketDados | None:
        """The customer's open ticket on the channel, locked until the transaction ends: the caller
        decides on its status (and may write it back), so an assignment or a close committed in
        between must wait, not be overwritten by a stale copy."""
        m = await self._uma(
            select(T_TICKETS)
            .where(
                T_TICKETS.c.empresa_id == self.empresa_id,
                T_TICKETS.c.cliente_id == cliente_id,
                T_TICKETS.c.canal_id == canal_id,
                T_TICKETS.c.status.in_(sorted(STATUS_TICKET_ABERTOS)),
            )
            .order_by(T_TICKETS.c.numero.desc())
            .limit(1)
            .with_for_update()
        )
        return None if m is None else ticket_dados(m)

    async def proximo_numero_ticket(self) -> int:
        incrementar = (
            update(T_CONTADORES)
            .where(T_CONTADORES.c.empresa_id == self.empresa_id)
            .values(ultimo_numero=T_CONTADORES.c.ultimo_numero + 1)
            .returning(T_CONTADORES.c.ultimo_numero)
        )
        numero = (await self.conn.execute(incrementar)).scalar_one_or_none()
        if numero is None:
            await self._criar_contador()
            numero = (await self.conn.execute(incrementar)).scalar_one()
        return int(numero)

    async def inserir_ticket(self, ticket: TicketDados) -> None:
        if ticket.empresa_id != self.empresa_id:
            raise ValueError("ticket de outra empresa")
        await self.conn.execute(
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
        await self.conn.execute(
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

    async def acrescentar_mensagem(self, pedido: NovaMensagem) -> MensagemGravada:
        """The one message write (``escrita_mensagem``), as a statement of this transaction."""
        return await acrescentar(self.conn, self.empresa_id, pedido)

    async def listar_mensagens(
        self, ticket_id: str, *, apos_ordem: int | None = None, limite: int | None = None
    ) -> list[MensagemDados]:
        consulta = (
            select(T_MENSAGENS, T_TICKETS.c.numero.label("numero_do_ticket"))
            .join(
                T_TICKETS,
                (T_TICKETS.c.empresa_id == T_MENSAGENS.c.empresa_id)
                & (T_TICKETS.c.id == T_MENSAGENS.c.ticket_id),
            )
            .where(T_MENSAGENS.c.empresa_id == self.empresa_id, T_MENSAGENS.c.ticket_id == ticket_id)
        )
        if apos_ordem is not None:
            consulta = consulta.where(T_MENSAGENS.c.ordem > apos_ordem)
        consulta = consulta.order_by(T_MENSAGENS.c.ordem)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [mensagem_dados(m, str(m.numero_do_ticket)) for m in await self._todas(consulta)]
