"""What every use case shares: the storage and publisher ports, publishing after the commit,
and the reads and the ticket insert more than one use case makes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    ROLE_ATENDENTE,
    TicketDados,
    UsuarioDados,
    novo_id,
)
from atendimento.domain.erros import DadosInvalidos, NaoEncontrado, ticket_nao_encontrado
from atendimento.domain.eventos import PublicadorEventos, PublicadorNulo
from atendimento.domain.portas import Armazenamento, Repositorio, VerificadorSenhas

log = logging.getLogger(__name__)

# One publication, run after the commit.
Evento = Callable[[], None]


class ServicoBase:
    """The ports the use cases run on. ``ServicoAtendimento`` (servicos/__init__.py) is every use case
    over one instance of this."""

    def __init__(
        self,
        storage: Armazenamento,
        publicador: PublicadorEventos | None = None,
        *,
        senhas: VerificadorSenhas,
    ) -> None:
        self._storage = storage
        self._publicador: PublicadorEventos = publicador or PublicadorNulo()
        self._senhas = senhas

    @property
    def publicador(self) -> PublicadorEventos:
        return self._publicador

    def _publicar(self, eventos: list[Evento]) -> None:
        """Called after the commit. The write already happened, so a failing subscriber is logged
        and does not turn a committed change into an error for the caller."""
        for evento in eventos:
            try:
                evento()
            except Exception:
                log.exception("publicador falhou depois do commit")


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
        raise DadosInvalidos("O usuário não é um atendente", Codigo.USUARIO_NAO_E_ATENDENTE)
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
