"""Ports the domain needs from storage. ``atendimento.storage`` implements them; the domain never
imports SQLAlchemy.

One ``Repositorio`` lives for one transaction scoped to one tenant: every method reads and writes
only that tenant's rows (and on PostgreSQL row-level security enforces the same thing again).
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from atendimento.domain.entidades import (
    CanalDados,
    ClienteDados,
    FilaDados,
    HistoricoDados,
    MensagemDados,
    TicketDados,
    TicketDetalhe,
    UsuarioCadastro,
    UsuarioDados,
)
from atendimento.domain.saida import EntregaDados, WebhookDados


class RepositorioSaida(Protocol):
    """Channels out, in the transaction of one tenant (storage/saida.py)."""

    async def obter_webhook(self, canal_id: str) -> WebhookDados | None: ...
    async def salvar_webhook(self, webhook: WebhookDados) -> None:
        """Insert or replace the channel's endpoint (clears ``falhando_desde``)."""
        ...

    async def remover_webhook(self, canal_id: str) -> bool:
        """Remove it; its pending deliveries end as ``falhou``. False when there was none."""
        ...

    async def registrar_status_ticket(self, ticket: TicketDados, anterior: str) -> bool:
        """A ``ticket.status`` outbox row, when the ticket's channel has an endpoint (active or not):
        one statement. Whether a row was written."""
        ...

    async def listar_entregas(
        self, canal_id: str, *, estado: str | None, antes_seq: int | None, limite: int
    ) -> list[EntregaDados]:
        """Newest first, each with its attempts; ``antes_seq``: only older than that."""
        ...

    async def obter_entrega(self, canal_id: str, entrega_id: str) -> EntregaDados | None: ...
    async def reenviar_entrega(self, seq: int) -> None:
        """Pending again, due now, a new round of attempts; the same id (``webhook-id``)."""
        ...

    async def mensagem_do_canal(
        self, canal_id: str, mensagem_id: str, *, bloquear: bool = False
    ) -> tuple[MensagemDados, TicketDados] | None:
        """An agent's message on a ticket of that channel (locked for the transaction)."""
        ...

    async def dono_do_externo(self, canal_id: str, externo_id: str) -> str | None:
        """The message that holds this provider id on the channel, if any."""
        ...

    async def gravar_status_mensagem(
        self,
        canal_id: str,
        mensagem: MensagemDados,
        *,
        status: str,
        em: datetime,
        erro: dict[str, str] | None,
        externo_id: str | None,
    ) -> None: ...


class Repositorio(Protocol):
    empresa_id: str

    @property
    def saida(self) -> RepositorioSaida: ...

    async def obter_usuario(self, usuario_id: str) -> UsuarioDados | None: ...
    async def obter_registro_usuario(self, usuario_id: str) -> UsuarioDados | None:
        """The user with ``ativo`` and ``canal_ids`` filled (active or not): what authorisation reads."""
        ...

    async def obter_registros_usuarios(self, usuario_ids: Collection[str]) -> dict[str, UsuarioDados]:
        """``obter_registro_usuario`` for many at once: the ones the tenant holds, by id."""
        ...

    async def empresa_existe(self) -> bool: ...
    async def inserir_usuario_externo(self, usuario: UsuarioDados) -> bool:
        """Insert a user issued elsewhere (no password: it cannot log in here); False, with nothing
        written, when the id or the email is already taken (in any tenant)."""
        ...

    async def alterar_usuario(
        self, usuario_id: str, *, role: str | None = None, ativo: bool | None = None
    ) -> None: ...
    async def definir_canais_usuario(self, usuario_id: str, canal_ids: frozenset[str]) -> None:
        """Replace the channels a user (an integration) is bound to."""
        ...

    async def inserir_historico(self, entrada: HistoricoDados) -> None: ...
    async def listar_historico(
        self, ticket_id: str, *, apos: str | None = None, limite: int | None = None
    ) -> list[HistoricoDados]:
        """A ticket's history, oldest first (by id, which sorts by creation); ``apos``: after that id."""
        ...

    async def listar_usuarios(
        self, *, role: str | None = None, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioDados]:
        """By (nome, id); ``apos``: only those after that (nome, id); at most ``limite``."""
        ...

    async def definir_status_atendente(self, usuario_id: str, status: str) -> None: ...

    async def obter_fila(self, fila_id: str) -> FilaDados | None: ...
    async def obter_canal(self, canal_id: str) -> CanalDados | None: ...
    async def obter_cliente(self, cliente_id: str) -> ClienteDados | None: ...
    async def obter_ou_criar_cliente(self, contato: str, nome: str) -> ClienteDados:
        """Find by contato, or insert; safe against a concurrent insert of the same contato.

        The returned cliente row is locked until the end of the transaction (on PostgreSQL), so two
        messages from one new customer cannot open two tickets."""
        ...

    async def ticket_existe(self, ticket_id: str) -> bool: ...
    async def obter_ticket(self, ticket_id: str, *, bloquear: bool = False) -> TicketDados | None: ...
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
        """By (atualizado_em, id); ``apos``: only those after that (atualizado_em, id)."""
        ...

    async def instante_de_atualizacao(self) -> datetime:
        """The ``atualizado_em`` of a ticket written in this transaction: not before now, and after
        every instant given before in the tenant, in commit order (concurrent writers wait)."""
        ...

    async def ticket_aberto_do_cliente(self, cliente_id: str, canal_id: str) -> TicketDados | None:
        """The customer's open ticket on the channel, locked for the rest of the transaction."""
        ...

    async def proximo_numero_ticket(self) -> int:
        """The tenant's next ticket number; concurrent transactions never get the same one."""
        ...

    async def inserir_ticket(self, ticket: TicketDados) -> None: ...
    async def salvar_ticket(self, ticket: TicketDados) -> None: ...

    async def acrescentar_mensagem(self, pedido: NovaMensagem) -> MensagemGravada:
        """``Armazenamento.acrescentar_mensagem`` inside this transaction (a customer's message, after
        the ticket was found or opened in it). Nothing is written when it answers without ``gravada``."""
        ...

    async def ordem_da_mensagem(self, ticket_id: str, mensagem_id: str) -> int | None: ...
    async def listar_mensagens(
        self, ticket_id: str, *, apos_ordem: int | None = None, limite: int | None = None
    ) -> list[MensagemDados]:
        """In the order stored; ``apos_ordem``: only those after that position."""
        ...

    async def reservar_chave(
        self, usuario_id: str, chave: str, impressao: str, validade_desde: datetime
    ) -> tuple[str, dict[str, Any]] | None:
        """Take an idempotency key for this transaction's write (None), or return the (impressao,
        resultado) of the write that took it (a concurrent one is waited for). Keys created before
        ``validade_desde`` count as absent."""
        ...

    async def concluir_chave(self, usuario_id: str, chave: str, resultado: dict[str, Any]) -> None: ...

    # --- who the customer is, read state (storage/leitura.py) ----------------------------------

    async def detalhar_tickets(
        self, tickets: list[TicketDados], leitor_id: str | None
    ) -> list[TicketDetalhe]:
        """The tickets (same order) with their cliente, canal and, for ``leitor_id``, how many
        messages after its last read were written by someone else. A bounded number of statements."""
        ...

    async def marcar_lida(self, leitor_id: str, ticket_id: str, ordem: int) -> int:
        """The reader's last read position on the ticket becomes at least ``ordem`` (it never goes
        back); the position now."""
        ...

    async def nao_lidas(self, leitor_id: str, ticket_id: str) -> int: ...
    async def mensagem_na_ordem(self, ticket_id: str, ordem: int) -> str:
        """The id of the ticket's message at that position (one that exists)."""
        ...

    # --- automatic routing (storage/roteamento.py) ---------------------------------------------

    async def filas_automaticas_de(self, usuario_ids: Collection[str]) -> list[str]:
        """The automatic filas any of these users serves, each once."""
        ...

    async def escolher_atendente(self, fila_id: str, presentes: set[str]) -> str | None:
        """Among ``presentes``: the fila's active atendente with status ``online`` below capacity,
        fewest open tickets first, then idle longest; its row stays locked to the end of the
        transaction (a concurrent routing to it waits, then counts this one's ticket)."""
        ...

    async def proximo_aguardando(self, fila_id: str) -> TicketDados | None:
        """The fila's next waiting ticket (by priority, then arrival), locked; one another
        transaction holds is skipped."""
        ...

    async def registrar_atribuicao(self, usuario_id: str, momento: datetime) -> None: ...

    # --- provisioning (storage/cadastro.py) ---------------------------------------------------

    async def inserir_empresa(self, nome: str) -> None:
        """The tenant ``empresa_id`` itself, with its ticket counter."""
        ...

    async def obter_cadastro(self, usuario_id: str) -> UsuarioCadastro | None:
        """Active or not (``obter_usuario`` sees active users only)."""
        ...

    async def listar_cadastros(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioCadastro]:
        """Every user of the tenant, active or not, by (nome, id)."""
        ...

    async def inserir_usuario(self, usuario: UsuarioDados, senha_hash: str, capacidade: int) -> bool:
        """False, with nothing written, when the e-mail is in use (in any tenant)."""
        ...

    async def atualizar_usuario(self, usuario_id: str, mudancas: dict[str, Any]) -> None:
        """Columns by name: nome, role, ativo, capacidade, status_atendimento."""
        ...

    async def definir_filas_usuario(self, usuario_id: str, fila_ids: tuple[str, ...]) -> None: ...
    async def filas_existentes(self, fila_ids: tuple[str, ...]) -> set[str]: ...

    async def listar_filas(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[FilaDados]: ...
    async def salvar_fila(self, fila: FilaDados, *, nova: bool) -> bool:
        """Insert or update; False, with nothing written, when another fila has that name."""
        ...

    async def espera_da_fila(self, fila_id: str) -> tuple[int, datetime | None]:
        """Open tickets of the fila with no atendente, and the oldest one's ``criado_em``."""
        ...

    async def listar_canais(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[CanalDados]: ...
    async def salvar_canal(self, canal: CanalDados, *, novo: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class ChaveMensagem:
    """An ``Idempotency-Key`` sent with a message: the sender's, taken by the write itself."""

    chave: str
    impressao: str  # what was asked (``idempotencia.impressao``): the same key for another request is a 409
    validade_desde: datetime  # keys of the sender taken before this count as absent (and go)


@dataclass(frozen=True, slots=True)
class NovaMensagem:
    """A message to append to a ticket: the one request of ``acrescentar_mensagem``, whoever writes it."""

    id: str
    ticket_id: str
    remetente_id: str
    # The role the sender's token claims: the write checks that the sender is an active user of the
    # tenant with exactly that role (the database is the authority). None: a customer's message
    # (``remetente_id`` is a cliente, found by the caller in the same transaction).
    role: str | None
    tipo: str
    conteudo: str
    metadados: dict[str, Any] | None
    criado_em: datetime
    interna: bool = False
    chave: ChaveMensagem | None = None


@dataclass(frozen=True, slots=True)
class MensagemGravada:
    """What ``acrescentar_mensagem`` found and did. Nothing was written unless ``gravada``.

    ``autorizado``: the sender is an active user of the tenant with the role claimed (always, for a
    customer's message); when not, nothing else was looked at. ``impressao_anterior``: the key was
    taken before, by the request with this ``impressao``, and ``mensagem`` is that request's message.
    Otherwise ``ticket`` is the ticket as it is now (None: the tenant has no such ticket) and
    ``mensagem`` the message as stored, when ``gravada``."""

    autorizado: bool
    gravada: bool
    ticket: TicketDados | None
    mensagem: MensagemDados | None
    impressao_anterior: str | None = None


class Armazenamento(Protocol):
    def unidade(self, empresa_id: str, *, escrita: bool = True) -> AbstractAsyncContextManager[Repositorio]:
        """One transaction for one tenant: commits on normal exit, rolls back on an exception.

        ``escrita=False`` is a hint that the block only reads (SQLite then does not take the write lock)."""
        ...

    async def acrescentar_mensagem(self, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
        """Append a message to a ticket, in a transaction of its own (one round trip on PostgreSQL):
        every message is written by this one operation (``Repositorio.acrescentar_mensagem`` is the
        same inside a transaction). With a role: refuse (``autorizado`` false) unless the sender is
        an active user of the tenant with that role. With a key: take it, or answer the first
        request's message (``impressao_anterior``). Then number the message in its ticket (taking
        the ticket's lock) and store it unless the ticket is ``fechado``; ``atendente_id`` is the
        sender when the role is internal. In the same transaction, when the role is internal, the
        message is not ``interna`` and the ticket's channel has an outbound endpoint, queue its
        ``mensagem.criada`` event for the channel (the outbox). A refused write takes no key.

        Repeating a call with the same ``pedido.id`` answers as written and writes nothing again."""
        ...

    async def buscar_login(self, email: str) -> tuple[UsuarioDados, str] | None:
        """Cross-tenant lookup of an active user by (normalised) email: (user, argon2 hash)."""
        ...


class VerificadorSenhas(Protocol):
    """Checks a password against its stored hash; ``atendimento.identity.passwords.Senhas`` is one.

    The check is slow on purpose (argon2), so it is async: it must not stall the event loop. With no
    hash (an unknown email) it spends the same time and answers False, so login does not reveal which
    emails exist."""

    async def verificar_async(self, senha_hash: str | None, senha: str) -> bool: ...

    async def hash_async(self, senha: str) -> str:
        """A new hash (provisioning), off the event loop like the check."""
        ...


class ConsultaOnline(Protocol):
    """Who is connected (presence, across instances): routing gives tickets only to those."""

    async def online(self, empresa_id: str) -> set[str]: ...
