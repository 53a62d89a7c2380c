"""What every use case shares: the storage and publisher ports, publishing after the commit,
and the reads and the ticket insert more than one use case makes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, Literal

from atendimento.domain.cache_usuarios import TTL_PADRAO_S, CacheUsuarios
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    ROLE_ATENDENTE,
    Ator,
    HistoricoDados,
    TicketDados,
    UsuarioDados,
    novo_id,
    novo_id_ordenado,
)
from atendimento.domain.erros import Conflito, NaoEncontrado, ticket_nao_encontrado
from atendimento.domain.eventos import PublicadorEventos, PublicadorNulo
from atendimento.domain.leitura_usuarios import LeituraUsuarios
from atendimento.domain.portas import Armazenamento, ConsultaOnline, Repositorio, VerificadorSenhas
from atendimento.domain.saida import ConfigSaida
from atendimento.domain.servicos.roteamento import Roteador

log = logging.getLogger(__name__)

# One publication, run after the commit.
Evento = Callable[[], None]
# A token's user this database does not hold: refuse it, or create it from the token's claims.
UsuariosExternos = Literal["recusar", "provisionar"]
# The fields of a ticket whose changes the history records.
CAMPOS_HISTORICO = ("fila_id", "atendente_id", "status", "prioridade", "assunto", "descricao")
_NOMES_EVENTO = {"fila_id": "filaId", "atendente_id": "atendenteId"}


class ServicoBase:
    """The ports the use cases run on. ``ServicoAtendimento`` (servicos/__init__.py) is every use case
    over one instance of this."""

    def __init__(
        self,
        storage: Armazenamento,
        publicador: PublicadorEventos | None = None,
        *,
        senhas: VerificadorSenhas,
        usuarios_externos: UsuariosExternos = "recusar",
        cache_usuarios_s: float = TTL_PADRAO_S,
        saida: ConfigSaida | None = None,
        presenca: ConsultaOnline | None = None,
    ) -> None:
        """``presenca``: who is connected, for automatic routing (None: nobody is, tickets wait)."""
        self._storage = storage
        self._publicador: PublicadorEventos = publicador or PublicadorNulo()
        self._senhas = senhas
        self._usuarios_externos: UsuariosExternos = usuarios_externos
        self._cache_usuarios = CacheUsuarios(cache_usuarios_s)
        self._leitura_usuarios = LeituraUsuarios(self._ler_registros, self._cache_usuarios)
        self.saida = saida or ConfigSaida()
        self._roteador = Roteador(storage, self._publicador, presenca, registrar_historico)

    async def rotear_atendente(self, empresa_id: str, usuario_id: str) -> list[TicketDados]:
        """The atendente may take tickets now (arrived, back online, freed one): route its filas."""
        return await self._roteador.rotear_atendente(empresa_id, usuario_id)

    async def rotear_atendentes(self, empresa_id: str, usuario_ids: Collection[str]) -> list[TicketDados]:
        """Several atendentes arrived together: route the filas any of them serves, in one read."""
        return await self._roteador.rotear_atendentes(empresa_id, usuario_ids)

    async def _rotear_novo(self, ticket: TicketDados) -> TicketDados:
        """A ticket that now waits (new, moved, back to the queue): route its fila; the ticket as it
        is after (assigned, when routing gave it to someone)."""
        if ticket.atendente_id is not None:
            return ticket
        for atribuido in await self._roteador.rotear_filas(ticket.empresa_id, [ticket.fila_id]):
            if atribuido.id == ticket.id:
                return atribuido
        return ticket

    @property
    def publicador(self) -> PublicadorEventos:
        return self._publicador

    async def registro_usuario(self, empresa_id: str, usuario_id: str) -> UsuarioDados | None:
        """The user's record (``ativo``, ``canal_ids`` filled), from this instance's cache when warm:
        no database round trip then (``cache_usuarios``); a miss is read with the other misses of
        the moment (``leitura_usuarios``)."""
        achado, registro = self._cache_usuarios.obter(empresa_id, usuario_id)
        if achado:
            return registro
        return await self._leitura_usuarios.obter(empresa_id, usuario_id)

    async def _ler_registros(self, empresa_id: str, usuario_ids: Collection[str]) -> dict[str, UsuarioDados]:
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.obter_registros_usuarios(usuario_ids)

    def esquecer_usuario(self, empresa_id: str, usuario_id: str) -> None:
        """Drop what this instance cached of the user (``usuario_alterado`` reached it)."""
        self._cache_usuarios.esquecer(empresa_id, usuario_id)

    def _avisar_saida(self) -> None:
        """An outbox row was committed: wake the relay (after the commit, like an event)."""
        self.saida.avisar()

    def _publicar(self, eventos: list[Evento]) -> None:
        """Called after the commit. The write already happened, so a failing subscriber is logged
        and does not turn a committed change into an error for the caller."""
        for evento in eventos:
            try:
                evento()
            except Exception:
                log.exception("publicador falhou depois do commit")


async def registrar_historico(
    repo: Repositorio, ator: Ator, tipo: str, antes: TicketDados | None, depois: TicketDados
) -> None:
    """One history row for a change of ``depois`` (``antes`` None: it was just created), in the
    caller's transaction, so the change and its record commit or roll back together."""
    mudancas: dict[str, Any] = {}
    for campo in CAMPOS_HISTORICO:
        valor = getattr(depois, campo)
        anterior = None if antes is None else getattr(antes, campo)
        if antes is None and valor is None:
            continue
        if antes is None or anterior != valor:
            mudancas[_NOMES_EVENTO.get(campo, campo)] = {"de": anterior, "para": valor}
    await repo.inserir_historico(
        HistoricoDados(
            id=novo_id_ordenado(),
            empresa_id=depois.empresa_id,
            ticket_id=depois.id,
            ator_id=ator.usuario_id,
            tipo=tipo,
            mudancas=mudancas,
            criado_em=depois.atualizado_em,
        )
    )


async def buscar_ticket(repo: Repositorio, ticket_id: str, *, bloquear: bool = False) -> TicketDados:
    ticket = await repo.obter_ticket(ticket_id, bloquear=bloquear)
    if ticket is None:
        raise ticket_nao_encontrado()
    return ticket


async def buscar_atendente(repo: Repositorio, usuario_id: str) -> UsuarioDados:
    usuario = await repo.obter_usuario(usuario_id)
    if usuario is None:
        raise NaoEncontrado("Atendente não encontrado", Codigo.USUARIO_NAO_ENCONTRADO)
    if usuario.role != ROLE_ATENDENTE:
        raise Conflito("O usuário não é um atendente", Codigo.USUARIO_NAO_E_ATENDENTE)
    return usuario


async def novo_ticket(
    repo: Repositorio,
    *,
    cliente_id: str,
    canal_id: str,
    fila_id: str,
    prioridade: str = "media",
    assunto: str | None = None,
    descricao: str | None = None,
    atendente_id: str | None = None,
) -> TicketDados:
    numero = str(await repo.proximo_numero_ticket())
    # After the number: both come from the tenant's counter row, which this transaction now holds.
    momento = await repo.instante_de_atualizacao()
    ticket = TicketDados(
        id=novo_id(),
        numero=numero,
        empresa_id=repo.empresa_id,
        cliente_id=cliente_id,
        canal_id=canal_id,
        fila_id=fila_id,
        atendente_id=atendente_id,
        status="aberto",
        prioridade=prioridade,
        assunto=assunto,
        descricao=descricao,
        criado_em=momento,
        atualizado_em=momento,
    )
    await repo.inserir_ticket(ticket)
    return ticket
